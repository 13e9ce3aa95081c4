"""Access-matrix cases for this feature's routes, merged into tests/core/test_access_matrix.py.

`fixtures(amp, nar)` creates the objects the URLs point at (in the demo contract Aix-Marseille
and in the other contract, Grand Narbonne) and returns their ids; `EXPECTED` maps each
endpoint to [(label, method, url builder(fixtures), users allowed)]."""
from __future__ import annotations

from datetime import date, timedelta

from ..core.matrix_users import AMP_STAFF, EVERYONE, STAFF  # noqa: F401

#: Who moves a demand of Frais Vallon: contract admins and the Marseille facilitator.
FU_OWN = {"root", "amp_admin", "fac"}
FU_FOREIGN = {"root", "nar_admin"}
#: The list of institutions belongs to the whole contract.
INST_OWN = {"root", "amp_admin"}
#: The back-office list: anyone who manages demands somewhere.
FU_INDEX = {"root", "amp_admin", "fac", "nar_admin"}


def fixtures(amp, nar) -> dict:
    """A demand sent from Frais Vallon (Marseille) and one from Razimbaud (Narbonne), each to an
    institution of its contract."""
    import sqlalchemy as sa

    from participation.core.territories import Neighbourhood
    from participation.extensions import db
    from participation.followup import services
    from participation.followup.models import Institution, Kind, Status

    out = {}
    for key, contract, qpv in (("own", amp, "QN01322M"), ("nar", nar, "QN01101M")):
        services.ensure_default_institutions(contract)
        caf = db.session.scalar(sa.select(Institution).filter_by(contract_id=contract.id, name="CAF"))
        hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=qpv))
        item = services.create(Kind.interpellation, hood.scope, "Demande de la table", institution=caf)
        services.move(item, Status.sent, on=date.today() - timedelta(days=10))
        out.update({f"fu_{key}": item.id, f"fu_{key}_inst": caf.id, f"fu_{key}_contract": contract.id})
    return out


def _on_demand(path_tpl: str, method: str = "GET"):
    return [
        ("own", method, lambda f: path_tpl.format(f["fu_own"]), FU_OWN),
        ("foreign", method, lambda f: path_tpl.format(f["fu_nar"]), FU_FOREIGN),
    ]


def _on_institutions(path_tpl: str, method: str = "GET"):
    return [
        ("own", method, lambda f: path_tpl.format(contract=f["fu_own_contract"], inst=f["fu_own_inst"]), INST_OWN),
        ("foreign", method, lambda f: path_tpl.format(contract=f["fu_nar_contract"], inst=f["fu_nar_inst"]),
         {"root", "nar_admin"}),
    ]


EXPECTED: dict = {
    "followup.register": [("-", "GET", lambda f: "/c/aix-marseille-provence/follow-up", EVERYONE)],
    "followup.detail": [
        ("own", "GET", lambda f: f"/follow-up/{f['fu_own']}", EVERYONE),
        ("foreign", "GET", lambda f: f"/follow-up/{f['fu_nar']}", EVERYONE),
    ],
    "followup_admin.index": [("-", "GET", lambda f: "/admin/followup/", FU_INDEX)],
    "followup_admin.detail": _on_demand("/admin/followup/{}"),
    "followup_admin.edit": _on_demand("/admin/followup/{}/edit", "POST"),
    "followup_admin.move": _on_demand("/admin/followup/{}/move", "POST"),
    "followup_admin.note": _on_demand("/admin/followup/{}/note", "POST"),
    "followup_admin.institutions": [
        *_on_institutions("/admin/followup/institutions/{contract}"),
        *[(f"{label}-add", m, b, who) for label, m, b, who in
          _on_institutions("/admin/followup/institutions/{contract}", "POST")],
    ],
    "followup_admin.institution_edit": _on_institutions("/admin/followup/institutions/{contract}/{inst}", "POST"),
}
