"""Access-matrix cases for the governance dashboard (to be merged into
tests/core/test_access_matrix.py through FEATURE_CASES, or the governance access_cases module).

The dashboard reads a contract, optionally narrowed to a commune or a neighbourhood: admins,
evaluators and facilitators of the selected area read it. A facilitator of one commune who
chooses nothing lands on her commune (so she reaches the page); she is refused another
commune. Mediators and committee members read no governance figures."""
from __future__ import annotations

import sqlalchemy as sa

from ..core.matrix_users import AMP_STAFF, EVERYONE, STAFF  # noqa: F401

#: Read the whole AMP contract, or land on their own commune.
AMP_READERS = {"root", "amp_admin", "eva", "fac"}
NAR_READERS = {"root", "nar_admin"}


def fixtures(amp, nar) -> dict:
    from participation.core.territories import Commune, Neighbourhood
    from participation.extensions import db

    aix = db.session.scalar(sa.select(Commune).filter_by(contract_id=amp.id, insee_code="13001"))
    frais_vallon = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    return {"gv_aix": aix.id, "gv_frais_vallon": frais_vallon.id}


EXPECTED: dict = {
    "governance.dashboard": [
        ("own", "GET", lambda f: f"/admin/governance/{f['amp']}", AMP_READERS),
        ("own-neighbourhood", "GET", lambda f: f"/admin/governance/{f['amp']}?neighbourhood={f['gv_frais_vallon']}",
         AMP_READERS),
        ("other-commune", "GET", lambda f: f"/admin/governance/{f['amp']}?commune={f['gv_aix']}",
         {"root", "amp_admin", "eva"}),
        ("foreign", "GET", lambda f: f"/admin/governance/{f['nar']}", NAR_READERS),
    ],
}
