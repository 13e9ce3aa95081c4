"""The access matrix's data set (the demo, both contracts, the matrix's own objects), built once
per module and restored per test: the matrix's own fixtures, under the name the fuzz uses."""
from __future__ import annotations

import pytest

from ..core.test_access_matrix import fixtures, matrix_data  # noqa: F401  (pytest fixtures)


@pytest.fixture
def world(fixtures):  # noqa: F811
    return fixtures
