"""Access-matrix cases for this feature, merged from its two parts (see the part modules)."""
from __future__ import annotations

from . import access_cases_meetings as _a, access_cases_attendance as _b


def fixtures(amp, nar) -> dict:
    return {**_a.fixtures(amp, nar), **_b.fixtures(amp, nar)}


assert not set(_a.EXPECTED) & set(_b.EXPECTED)
EXPECTED: dict = {**_a.EXPECTED, **_b.EXPECTED}
