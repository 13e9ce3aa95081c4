"""Access-matrix cases for the governance downloads and the JSON API (merged into
tests/core/test_access_matrix.py through tests/governance/access_cases.py or FEATURE_CASES)."""
from __future__ import annotations

import sqlalchemy as sa

from ..core.matrix_users import EVERYONE

#: Readers of the whole demo contract. The Marseille facilitator (`fac`) reads her commune: a
#: download without a commune lands on it, as the dashboard does.
AMP_READERS = {"root", "amp_admin", "eva"}
NAR_READERS = {"root", "nar_admin"}
FORMATS = ("csv", "xlsx", "zip", "pdf")


def fixtures(amp, nar) -> dict:
    from participation.core.territories import Commune
    from participation.extensions import db

    def commune(insee):
        return db.session.scalar(sa.select(Commune.id).filter_by(contract_id=amp.id, insee_code=insee))

    return {"gov_marseille": commune("13055"), "gov_aix": commune("13001")}


def _export(fmt: str) -> list:
    path = "/admin/governance/{}/export." + fmt
    return [
        (f"own-{fmt}", "GET", lambda f: path.format(f["amp"]), AMP_READERS | {"fac"}),
        (f"foreign-{fmt}", "GET", lambda f: path.format(f["nar"]), NAR_READERS),
    ]


def _api(path: str) -> list:
    # The API opens with a bearer token only: the matrix logs in with cookies, and a cookie
    # session must never open it, so every user (staff or not) gets 401. Tokens: test_api.py.
    return [("own", "GET", lambda f: path.format("aix-marseille-provence"), set()),
            ("foreign", "GET", lambda f: path.format("grand-narbonne"), set())]


EXPECTED: dict = {
    "governance.export": [
        *[case for fmt in FORMATS for case in _export(fmt)],
        ("own-commune", "GET", lambda f: f"/admin/governance/{f['amp']}/export.csv?commune={f['gov_marseille']}",
         AMP_READERS | {"fac"}),
        ("other-commune", "GET", lambda f: f"/admin/governance/{f['amp']}/export.xlsx?commune={f['gov_aix']}",
         AMP_READERS),
    ],
    "governance_api.contract": _api("/api/v1/contracts/{}"),
    "governance_api.figures": _api("/api/v1/contracts/{}/figures"),
    "governance_api.verbatims": _api("/api/v1/contracts/{}/verbatims"),
    # The API's description holds no data.
    "governance_api.openapi": [("-", "GET", lambda f: "/api/v1/openapi.json", EVERYONE)],
    # Any other address under /api/v1 answers a JSON 404 (wrong methods: test_api.py), whoever asks.
    "governance_api.no_route": [("unknown", "GET", lambda f: "/api/v1/nothing-here", set()),
                                ("under-contract", "GET",
                                 lambda f: "/api/v1/contracts/aix-marseille-provence/nothing-here", set())],
}
