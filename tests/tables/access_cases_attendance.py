"""Access-matrix cases for the attendance and interpellation routes of tables de quartier, merged
into tests/core/test_access_matrix.py (through access_cases.py).

`fixtures(amp, nar)` creates a table of Marseille (Frais Vallon + La Cayolle: its scope is the
commune) with a meeting under way and an interpellation, and the same in Grand Narbonne; ids are
returned under keys prefixed `ta_`. The helpers `make_table` / `make_meeting` are shared with the
attendance tests."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from participation.core.territories import Commune, Neighbourhood
from participation.extensions import db
from participation.tables.attendance import local_now
from participation.tables.models import Meeting, NeighbourhoodTable

from ..core.matrix_users import AMP_STAFF, EVERYONE, STAFF  # noqa: F401

#: Frais Vallon and La Cayolle, in Marseille.
OWN_QPV = ("QN01322M", "QN01306M")
FOREIGN_QPV = ("QN01101M",)


def make_table(contract, qpv_codes=OWN_QPV, name="Table de quartier du 13e", facilitators=()) -> NeighbourhoodTable:
    """A table of the given neighbourhoods (one commune), its scope filled as the services would."""
    hoods = [db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code)) for code in qpv_codes]
    commune = db.session.get(Commune, hoods[0].commune_id)
    assert commune.contract_id == contract.id
    table = NeighbourhoodTable(contract_id=contract.id, commune_id=commune.id,
                               neighbourhood_id=hoods[0].id if len(hoods) == 1 else None,
                               name=name, original_locale="fr")
    table.neighbourhoods = hoods
    table.facilitators = list(facilitators)
    db.session.add(table)
    db.session.flush()
    return table


def make_meeting(table, starts_at: datetime | None = None, **values) -> Meeting:
    """A meeting of the table, by default started ten minutes ago (check-in open)."""
    meeting = Meeting(table=table, starts_at=starts_at or (local_now() - timedelta(minutes=10)).replace(microsecond=0),
                      title=values.pop("title", "Réunion mensuelle"), original_locale="fr", **values)
    db.session.add(meeting)
    db.session.flush()
    return meeting


def fixtures(amp, nar) -> dict:
    from participation.tables import attendance, interpellations

    own = make_table(amp)
    own_meeting = make_meeting(own)
    foreign = make_table(nar, FOREIGN_QPV, name="Table de Razimbaud")
    foreign_meeting = make_meeting(foreign)
    own_item = interpellations.raise_interpellation(own, "Réparer l'ascenseur", body="Bâtiment B.", meeting=own_meeting)
    foreign_item = interpellations.raise_interpellation(foreign, "Un abribus", body="Arrêt Razimbaud.")
    own_sheet, _new = attendance.add_sheet(own_meeting, client_id="matrix-own-sheet", total=3, breakdowns={})
    foreign_sheet, _new = attendance.add_sheet(foreign_meeting, client_id="matrix-nar-sheet", total=2, breakdowns={})
    return {
        "ta_own": own.id, "ta_own_meeting": own_meeting.id, "ta_own_key": own_meeting.checkin_key,
        "ta_own_item": own_item.id, "ta_own_sheet": own_sheet.id,
        "ta_nar": foreign.id, "ta_nar_meeting": foreign_meeting.id, "ta_nar_key": foreign_meeting.checkin_key,
        "ta_nar_item": foreign_item.id, "ta_nar_sheet": foreign_sheet.id,
    }


#: Who runs the Marseille table (admin of the contract, facilitator of Marseille).
MANAGERS = {"root", "amp_admin", "fac"}
#: Who takes attendance: managers and the Frais Vallon mediator (one of the table's neighbourhoods).
ATTENDANCE = MANAGERS | {"med"}
FIGURES = MANAGERS | {"eva"}
NAR = {"root", "nar_admin"}


def _on_meeting(path: str, own: set, method: str = "GET"):
    return [
        ("own", method, lambda f: path.format(meeting=f["ta_own_meeting"], sheet=f["ta_own_sheet"]), own),
        ("foreign", method, lambda f: path.format(meeting=f["ta_nar_meeting"], sheet=f["ta_nar_sheet"]), NAR),
    ]


def _on_table(path: str, own: set, method: str = "GET"):
    return [
        ("own", method, lambda f: path.format(table=f["ta_own"], item=f["ta_own_item"]), own),
        ("foreign", method, lambda f: path.format(table=f["ta_nar"], item=f["ta_nar_item"]), NAR),
    ]


EXPECTED: dict = {
    "tables.checkin": [
        ("own", "GET", lambda f: f"/t/m/{f['ta_own_meeting']}/checkin/{f['ta_own_key']}", EVERYONE),
        ("foreign", "GET", lambda f: f"/t/m/{f['ta_nar_meeting']}/checkin/{f['ta_nar_key']}", EVERYONE),
        # The public meeting id alone does not let anyone check in from home.
        ("wrong-key", "GET", lambda f: f"/t/m/{f['ta_own_meeting']}/checkin/{f['ta_nar_key']}", set()),
        ("own", "POST", lambda f: f"/t/m/{f['ta_own_meeting']}/checkin/{f['ta_own_key']}", EVERYONE),
    ],
    "tables_admin.checkin_sheet": _on_meeting("/admin/tables/meetings/{meeting}/checkin-sheet", ATTENDANCE),
    "tables_admin.checkin_key": _on_meeting("/admin/tables/meetings/{meeting}/checkin-key", MANAGERS, "POST"),
    "tables_admin.attendance": [
        *_on_meeting("/admin/tables/meetings/{meeting}/attendance", ATTENDANCE),
        *_on_meeting("/admin/tables/meetings/{meeting}/attendance", ATTENDANCE, "POST"),
    ],
    "tables_admin.assisted_checkin": _on_meeting("/admin/tables/meetings/{meeting}/attendance/assisted", ATTENDANCE,
                                                 "POST"),
    # A count of one sheet or part of the room, made to work offline (field mode).
    "tables_admin.field_count": [
        *_on_meeting("/admin/tables/meetings/{meeting}/field-count", ATTENDANCE),
        *_on_meeting("/admin/tables/meetings/{meeting}/field-count", ATTENDANCE, "POST"),
    ],
    # Taking a wrong field count out: those who run the table, not the mediators who send them.
    "tables_admin.field_sheet_remove": [
        *_on_meeting("/admin/tables/meetings/{meeting}/field-sheets/{sheet}/remove", MANAGERS, "POST"),
        # a sheet of another meeting through this meeting's address
        ("mismatch", "POST", lambda f: f"/admin/tables/meetings/{f['ta_own_meeting']}/field-sheets/"
                                       f"{f['ta_nar_sheet']}/remove", set()),
    ],
    "tables_admin.figures": _on_table("/admin/tables/{table}/figures", FIGURES),
    "tables_admin.interpellations": _on_table("/admin/tables/{table}/interpellations", MANAGERS),
    "tables_admin.interpellation_new": [
        *_on_table("/admin/tables/{table}/interpellations/new", MANAGERS),
        *_on_table("/admin/tables/{table}/interpellations/new", MANAGERS, "POST"),
    ],
    "tables_admin.interpellation_report": _on_table("/admin/tables/{table}/interpellations/{item}/report", MANAGERS,
                                                    "POST"),
}
