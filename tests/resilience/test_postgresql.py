"""PostgreSQL that cannot write or drops the app's connections: a 503 (never a 500), then the
same request succeeds once the server can serve again, with no one restarting the app.

On a database of this module's own (tests/dbutil.py's fresh_database), never the shared test
database: read-only mode and terminated connections would break the other tests running."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from participation.extensions import db

from ..conftest import make_app
from ..dbutil import PG_ENV, backend, fresh_database
from .conftest import (assert_unavailable_page, ballot_form, ballots_and_records, build_demo, listen_to,
                       unavailable_text)

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL's own failure modes")


@pytest.fixture(scope="module")
def pg():
    """(app, demo, admin engine, database name)."""
    import os

    with fresh_database("resilience") as url:
        demo = build_demo(url)
        name = sa.engine.make_url(url).database
        admin = sa.create_engine(os.environ[PG_ENV], isolation_level="AUTOCOMMIT")
        app = make_app(url)
        try:
            yield app, demo, admin, name
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            admin.dispose()


def _terminate_app_connections(admin, name: str) -> int:
    """What a PostgreSQL restart or a network cut does to the pool: every connection dropped."""
    with admin.connect() as conn:
        return len(conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
            {"name": name}).all())


def _counts(app) -> tuple[int, int]:
    with app.app_context(), db.engine.connect() as conn:
        return ballots_and_records(conn)


def test_a_read_only_database_is_a_503_then_the_same_vote_goes_through(pg, caplog, monkeypatch):
    app, demo, admin, name = pg
    listen_to(app, monkeypatch)
    client = app.test_client()
    form = ballot_form(client, demo.process_id, demo.codes[0])
    before = _counts(app)
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    try:
        _terminate_app_connections(admin, name)  # the setting applies to new sessions
        with caplog.at_level(logging.ERROR):
            response = client.post(f"/b/{demo.process_id}/vote?lang=fr", data=form)
        assert_unavailable_page(app, response, "fr")
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "ReadOnlySqlTransaction" in errors[0], errors
        assert client.get(f"/b/{demo.process_id}/vote").status_code == 200  # reading still works
        response = client.post(f"/b/{demo.process_id}/vote?lang=ar", data=form)
        assert_unavailable_page(app, response, "ar")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        _terminate_app_connections(admin, name)
    assert _counts(app) == before
    response = client.post(f"/b/{demo.process_id}/vote", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/voted")
    assert _counts(app) == (before[0] + 1, before[1] + 1)


def test_the_governance_api_answers_503_in_json_on_a_read_only_database(pg):
    app, demo, admin, name = pg
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    try:
        _terminate_app_connections(admin, name)
        response = app.test_client().get("/api/v1/contracts/aix-marseille-provence?lang=ar",
                                         headers={"Authorization": f"Bearer {demo.api_token}"})
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        _terminate_app_connections(admin, name)
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json() == {"error": unavailable_text(app, "ar")[1], "status": 503}


def test_connections_dropped_between_requests_are_replaced_without_an_error(pg):
    """pool_pre_ping: the next request finds the dead connections and opens new ones."""
    app, demo, admin, name = pg
    client = app.test_client()
    form = ballot_form(client, demo.process_id, demo.codes[1])
    before = _counts(app)
    assert _terminate_app_connections(admin, name) >= 1
    assert client.get(f"/b/{demo.process_id}").status_code == 200
    _terminate_app_connections(admin, name)
    response = client.post(f"/b/{demo.process_id}/vote", data=form)
    assert response.status_code == 302
    assert _counts(app) == (before[0] + 1, before[1] + 1)


@pytest.fixture(scope="module")
def cut_app(pg):
    """A second app on the same database whose connection is cut in the middle of a request
    when `cut_app.config["CUT"]` is set: after the request's first query, before its writes."""
    _app, demo, admin, _name = pg
    app = make_app(demo.url)

    @app.before_request
    def _cut():
        if not app.config.pop("CUT", False):
            return
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_connection_cut_during_a_vote_is_a_503_then_the_retry_counts_once(pg, cut_app):
    app, demo, _admin, _name = pg
    client = cut_app.test_client()
    form = ballot_form(client, demo.process_id, demo.codes[2])
    before = _counts(app)
    cut_app.config["CUT"] = True
    response = client.post(f"/b/{demo.process_id}/vote?lang=fr", data=form)
    assert_unavailable_page(cut_app, response, "fr")
    assert _counts(app) == before
    response = client.post(f"/b/{demo.process_id}/vote", data=form)
    assert response.status_code == 302
    assert client.post(f"/b/{demo.process_id}/vote", data=form).status_code == 302  # a double send
    assert _counts(app) == (before[0] + 1, before[1] + 1)


def test_an_unreachable_server_is_a_503(pg):
    """Nothing listens (the server is down): the connection is refused, the page says so."""
    _app, demo, _admin, _name = pg
    url = sa.engine.make_url(demo.url).set(port=1).render_as_string(hide_password=False)
    app = make_app(url, SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "connect_args": {"connect_timeout": 2}})
    response = app.test_client().get(f"/b/{demo.process_id}?lang=fr")
    assert_unavailable_page(app, response, "fr")
    with app.app_context():
        db.engine.dispose()
