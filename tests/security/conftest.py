"""The access matrix's data set (the demo, both contracts, the matrix's own objects), built once
per module and restored per test, as the matrix does."""
from __future__ import annotations

import pytest

from participation.extensions import db

from ..conftest import _wipe
from ..core import test_access_matrix as matrix
from ..dbsnapshot import restore, snapshot


@pytest.fixture(scope="module")
def matrix_rows(app):
    with app.app_context():
        _wipe()
        built = matrix._fixtures()
        saved = snapshot()
        db.session.remove()
    return built, saved


@pytest.fixture
def world(app, matrix_rows):
    built, saved = matrix_rows
    restore(saved)
    return built
