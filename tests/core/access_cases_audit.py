"""Access-matrix cases of the audit log (merged into tests/core/test_access_matrix.py).

The log has no per-object URL: the page and its CSV list only the events the reader may see
(tests/core/test_audit.py checks the scoping). Platform administrators and the administrators of
a whole contract open it; every other role, and an account without a role, is refused."""
from __future__ import annotations

AUDIT_READERS = {"root", "amp_admin", "nar_admin"}


def fixtures(amp, nar) -> dict:
    return {}


EXPECTED: dict = {
    "audit.index": [
        ("-", "GET", lambda f: "/admin/audit", AUDIT_READERS),
        # Filtered on the AMP contract: refused to Narbonne's admin (not one of their contracts).
        ("amp-filter", "GET", lambda f: f"/admin/audit?contract={f['amp']}", {"root", "amp_admin"}),
    ],
    "audit.export": [
        ("-", "GET", lambda f: "/admin/audit/events.csv", AUDIT_READERS),
        ("amp-filter", "GET", lambda f: f"/admin/audit/events.csv?contract={f['amp']}", {"root", "amp_admin"}),
    ],
}
