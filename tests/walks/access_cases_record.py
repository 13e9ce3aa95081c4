"""Access-matrix cases of the recording routes (part C), merged through access_cases.py.

The participants' form needs no account, only the walk's key (the QR code); the key of another
walk opens nothing. The staff form follows `access.can_record`."""
from __future__ import annotations

from .access_cases import EVERYONE, W_RECORD, on

EXPECTED: dict = {
    "walks.record": [
        *on("/w/{walk}/record/{key}", EVERYONE, foreign=EVERYONE),
        # The walk's public id alone does not let anyone record from home.
        ("wrong-key", "GET", lambda f: f"/w/{f['w_own']}/record/{f['w_nar_key']}", set()),
        *on("/w/{walk}/record/{key}", EVERYONE, "POST", foreign=EVERYONE),
        ("wrong-key", "POST", lambda f: f"/w/{f['w_own']}/record/{f['w_nar_key']}", set()),
    ],
    "walks_admin.record": [
        *on("/admin/walks/{walk}/record", W_RECORD),
        *on("/admin/walks/{walk}/record", W_RECORD, "POST"),
    ],
}
