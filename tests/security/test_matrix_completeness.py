"""The access matrix's completeness checks really fail: a route added to the app without a
matrix entry, an entry left for a route that is gone, and a view that does not declare who may
call it each make the matrix's own test functions fail (run here on an app with the extra route,
not on a copy of their logic). And the matrix reads the same url_map as production."""
from __future__ import annotations

import pytest

from config import ProductionConfig, TestConfig
from participation import create_app
from participation.core.permissions import staff_required

from ..core import test_access_matrix as matrix


def _app_with_extra_route(declared: bool = True):
    def extra_view():
        return "extra"

    def build(config=TestConfig):
        app = create_app(config)
        view = staff_required(extra_view) if declared else extra_view
        app.add_url_rule("/admin/h4-extra/<int:item_id>/delete", "h4_extra.delete", view, methods=["POST"])
        return app

    return build


def test_a_route_without_a_matrix_entry_fails_the_matrix(monkeypatch):
    monkeypatch.setattr(matrix, "create_app", _app_with_extra_route())
    endpoints = matrix._endpoints()
    assert "h4_extra.delete" in endpoints
    monkeypatch.setattr(matrix, "ENDPOINTS", endpoints)
    with pytest.raises(AssertionError, match=r"routes without an access expectation: \[[^]]*'h4_extra.delete'"):
        matrix.test_every_route_has_an_entry_in_the_matrix()


def test_the_matrix_passes_once_the_route_has_an_entry(monkeypatch):
    """The failure above is about the missing entry, nothing else."""
    monkeypatch.setattr(matrix, "create_app", _app_with_extra_route())
    monkeypatch.setattr(matrix, "ENDPOINTS", matrix._endpoints())
    monkeypatch.setitem(matrix.EXPECTED, "h4_extra.delete",
                        [("-", "POST", lambda f: "/admin/h4-extra/1/delete", {"root"})])
    try:
        matrix.test_every_route_has_an_entry_in_the_matrix()
    except AssertionError as e:  # only while another route of the app lacks its entry
        assert "h4_extra" not in str(e)


def test_an_entry_for_a_removed_route_fails_the_matrix(monkeypatch):
    monkeypatch.setitem(matrix.EXPECTED, "h4_gone.view", [("-", "GET", lambda f: "/gone", {"root"})])
    # The app's routes as if every one had its entry, so that only the stale entry is reported.
    monkeypatch.setattr(matrix, "ENDPOINTS", sorted(set(matrix.EXPECTED) - {"h4_gone.view"}))
    with pytest.raises(AssertionError, match=r"expectations for routes that no longer exist: \['h4_gone.view'\]"):
        matrix.test_every_route_has_an_entry_in_the_matrix()


def test_a_view_without_an_access_declaration_fails_the_matrix(monkeypatch):
    monkeypatch.setattr(matrix, "create_app", _app_with_extra_route(declared=False))
    with pytest.raises(AssertionError, match=r"views without @public, @authenticated or @staff_required: "
                                             r"\[[^]]*'h4_extra.delete'"):
        matrix.test_every_view_declares_who_may_call_it()


def test_an_extra_route_gets_a_write_case_per_user():
    """What the matrix parametrizes from: every non-GET case is run for every user."""
    ids = {p.id for p in matrix.WRITE_CASES}
    for endpoint in matrix.ENDPOINTS:
        for label, method, _b, _who in matrix.EXPECTED[endpoint]:
            if method != "GET":
                assert {f"{endpoint}-{label}-{u}" for u in matrix.USERS} <= ids


def test_the_matrix_sees_the_production_routes():
    """Routes are read from the test configuration: production must not register others."""
    class Production(ProductionConfig):
        # Its start-up checks want PostgreSQL and Redis: the routes do not depend on them.
        SQLALCHEMY_DATABASE_URI = "sqlite://"
        RATELIMIT_STORAGE_URI = "memory://"

        @classmethod
        def check(cls):
            pass

    production = create_app(Production)
    endpoints = sorted({r.endpoint for r in production.url_map.iter_rules() if r.endpoint != "static"})
    assert endpoints == matrix.ENDPOINTS
