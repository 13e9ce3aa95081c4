"""Access-matrix cases for the figures of exploratory walks (part D), merged into
tests/core/test_access_matrix.py through access_cases.py.

The page reads a place (?scope=c<contract> / m<commune> / n<neighbourhood>): by default the
first place the reader may read figures of, so anyone holding a figure-reading role anywhere
(admin, facilitator, evaluator) reaches it; a whole contract only those who read figures of
the whole contract."""
from __future__ import annotations

from ..core.matrix_users import AMP_STAFF, EVERYONE, STAFF  # noqa: F401

#: A figure-reading role somewhere (admin, facilitator, evaluator).
ANY_READER = {"root", "amp_admin", "fac", "eva", "nar_admin"}

EXPECTED: dict = {
    "walks_admin.figures": [
        ("-", "GET", lambda f: "/admin/walks/figures", ANY_READER),
        ("own", "GET", lambda f: f"/admin/walks/figures?scope=c{f['amp']}", {"root", "amp_admin", "eva"}),
        ("foreign", "GET", lambda f: f"/admin/walks/figures?scope=c{f['nar']}", {"root", "nar_admin"}),
    ],
}
