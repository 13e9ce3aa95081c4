"""Access-matrix cases for field mode, merged into tests/core/test_access_matrix.py: the sync API
and the outbox-file import (this module) and the pages (access_cases_pages.py)."""
from __future__ import annotations

from ..core.matrix_users import STAFF
from . import access_cases_pages as _pages


def fixtures(amp, nar) -> dict:
    return {}


EXPECTED: dict = {
    # Any staff member may talk to the API; what a submission may do is the adapter's check.
    "field.api_config": [("-", "GET", lambda f: "/field/api/config", STAFF)],
    "field.api_photo": [("-", "PUT", lambda f: "/field/api/photos/matrix-0000-0001/0", STAFF)],
    "field.api_submit": [("-", "POST", lambda f: "/field/api/submissions", STAFF)],
    "field.import_file": [("-", "GET", lambda f: "/field/import", STAFF),
                          ("-", "POST", lambda f: "/field/import", STAFF)],
}
assert not set(_pages.EXPECTED) & set(EXPECTED)
EXPECTED.update(_pages.EXPECTED)
