"""Access-matrix cases for the table, meeting, agenda and minutes routes of tables de quartier,
merged into tests/core/test_access_matrix.py (through access_cases.py).

`fixtures(amp, nar)` creates a table of Marseille (Frais Vallon + Malpassé Corot: its scope is
the commune) with one meeting and one agenda item, and the same in Grand Narbonne; ids are
returned under keys prefixed `t_`."""
from __future__ import annotations

from datetime import date, time, timedelta

from ..core.matrix_users import AMP_STAFF, EVERYONE, STAFF  # noqa: F401

#: Managers of a Marseille table: contract admins and the Marseille facilitator.
T_MANAGE = {"root", "amp_admin", "fac"}
#: Who sees the table's back-office page: managers, the Frais Vallon mediator (takes
#: attendance there) and the contract's evaluator (reads its figures).
T_VIEW = T_MANAGE | {"med", "eva"}
T_FOREIGN = {"root", "nar_admin"}


def fixtures(amp, nar) -> dict:
    import sqlalchemy as sa

    from participation.core.territories import Neighbourhood
    from participation.extensions import db
    from participation.tables import services

    out = {}
    for key, codes in (("own", ("QN01322M", "QN01323M")), ("nar", ("QN01101M", "QN01102M"))):
        hoods = list(db.session.scalars(sa.select(Neighbourhood).where(Neighbourhood.qpv_code.in_(codes))))
        table = services.create_table(f"Table matrice {key}", hoods, usual_place="Centre social")
        meeting = services.create_meeting(table, day=date.today() + timedelta(days=20), starts=time(18, 0),
                                          ends=time(20, 0))
        item = services.add_item(meeting, "Propreté")
        out.update({f"t_{key}": table.id, f"t_{key}_meeting": meeting.id, f"t_{key}_item": item.id})
    return out


def _on(path_tpl: str, own, method: str = "GET", foreign=T_FOREIGN):
    """`path_tpl` with {table}, {meeting}, {item} of Marseille's table, then of Narbonne's."""
    def build(key):
        return lambda f: path_tpl.format(table=f[f"t_{key}"], meeting=f[f"t_{key}_meeting"], item=f[f"t_{key}_item"])
    return [("own", method, build("own"), own), ("foreign", method, build("nar"), foreign)]


EXPECTED: dict = {
    "tables.table": _on("/t/{table}", EVERYONE, foreign=EVERYONE),
    "tables.meeting": _on("/t/m/{meeting}", EVERYONE, foreign=EVERYONE),
    "tables.meeting_ics": _on("/t/m/{meeting}.ics", EVERYONE, foreign=EVERYONE),
    "tables_admin.index": [("-", "GET", lambda f: "/admin/tables/", T_VIEW | {"nar_admin"})],
    "tables_admin.create": [
        ("-", "GET", lambda f: "/admin/tables/new", T_MANAGE | {"nar_admin"}),
        ("-post", "POST", lambda f: "/admin/tables/new", T_MANAGE | {"nar_admin"}),
    ],
    "tables_admin.table": _on("/admin/tables/{table}", T_VIEW),
    "tables_admin.table_edit": _on("/admin/tables/{table}/edit", T_MANAGE, "POST"),
    "tables_admin.meeting_new": [*_on("/admin/tables/{table}/meetings/new", T_MANAGE),
                                 *_on("/admin/tables/{table}/meetings/new", T_MANAGE, "POST")],
    "tables_admin.meeting": [*_on("/admin/tables/meetings/{meeting}", T_MANAGE),
                             *_on("/admin/tables/meetings/{meeting}", T_MANAGE, "POST")],
    "tables_admin.item_add": _on("/admin/tables/meetings/{meeting}/items", T_MANAGE, "POST"),
    "tables_admin.item": [*_on("/admin/tables/items/{item}", T_MANAGE),
                          *_on("/admin/tables/items/{item}", T_MANAGE, "POST")],
    "tables_admin.item_move": _on("/admin/tables/items/{item}/move", T_MANAGE, "POST"),
    "tables_admin.item_delete": _on("/admin/tables/items/{item}/delete", T_MANAGE, "POST"),
    "tables_admin.minutes": [*_on("/admin/tables/meetings/{meeting}/minutes", T_MANAGE),
                             *_on("/admin/tables/meetings/{meeting}/minutes", T_MANAGE, "POST")],
    "tables_admin.minutes_publish": _on("/admin/tables/meetings/{meeting}/minutes/publish", T_MANAGE, "POST"),
    "tables_admin.minutes_withdraw": _on("/admin/tables/meetings/{meeting}/minutes/withdraw", T_MANAGE, "POST"),
}
