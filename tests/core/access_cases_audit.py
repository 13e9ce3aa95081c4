"""Access-matrix cases (merged into tests/core/test_access_matrix.py); filled as routes land."""
from __future__ import annotations


def fixtures(amp, nar) -> dict:
    return {}


EXPECTED: dict = {}
