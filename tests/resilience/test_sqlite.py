"""SQLite that cannot write (a read-only file, another process holding the lock, a full disk):
a translated 503, nothing written, the file intact, and the same form goes through once the
database can write again. These run on every backend: the database is a file of their own."""
from __future__ import annotations

import html
import logging
import sqlite3
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from participation.core.errors import database_unavailable

from ..conftest import csrf_from, make_app
from .conftest import (assert_unavailable_page, ballot_form, ballots_and_records, build_demo, listen_to,
                       unavailable_text)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("resilience") / "demo.sqlite"
    return path, build_demo(f"sqlite:///{path}")


@pytest.fixture(scope="module")
def read_only(demo_file):
    """The app on the same file, opened read-only (as on a read-only mount: chmod is no test when
    the tests run as root, who writes anyway)."""
    path, demo = demo_file
    app = make_app(demo.url, SQLALCHEMY_ENGINE_OPTIONS={
        "creator": lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)})
    return app, demo


def _counts(path) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        return ballots_and_records(conn)


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_vote_on_a_read_only_database_is_a_translated_503_and_writes_nothing(read_only, demo_file, lang):
    app, demo = read_only
    path, _demo = demo_file
    client = app.test_client()
    form = ballot_form(client, demo.process_id, demo.codes[0 if lang == "fr" else 1])
    before = _counts(path)
    response = client.post(f"/b/{demo.process_id}/vote?lang={lang}", data=form)
    assert_unavailable_page(app, response, lang)
    assert _counts(path) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_reading_still_works_on_a_read_only_database(read_only):
    app, demo = read_only
    assert app.test_client().get(f"/b/{demo.process_id}/vote").status_code == 200


def test_the_503_is_logged_once_without_a_traceback(read_only, caplog, monkeypatch):
    app, demo = read_only
    listen_to(app, monkeypatch)
    client = app.test_client()
    form = ballot_form(client, demo.process_id, demo.codes[2])
    with caplog.at_level(logging.ERROR):
        assert client.post(f"/b/{demo.process_id}/vote", data=form).status_code == 503
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(records) == 1, [r.getMessage() for r in records]
    assert "Database unavailable" in records[0].getMessage() and "readonly" in records[0].getMessage()
    assert records[0].exc_info is None


def test_an_htmx_request_gets_the_message_it_shows(read_only):
    """app.js shows the `.error-message` of an error answer: the 503 page has one."""
    app, demo = read_only
    client = app.test_client()
    form = ballot_form(client, demo.process_id, demo.codes[3])
    response = client.post(f"/b/{demo.process_id}/vote?lang=fr", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 503
    _title, message = unavailable_text(app, "fr")
    assert f'<p class="error-message">{message}</p>' in html.unescape(response.get_data(as_text=True))


def test_the_field_api_answers_503_in_json_for_the_outbox_to_retry(read_only, demo_file):
    """Logged in on the writable file (a login writes its session row), then the outbox sends
    to the read-only one: JSON 503, which outbox.js keeps in the queue and retries."""
    app, demo = read_only
    writable = make_app(demo.url)
    login_client = writable.test_client()
    page = login_client.get("/login").get_data(as_text=True)
    assert login_client.post("/login", data={"email": "mediateur@amp.demo", "password": "demo-participation-2026",
                                             "csrf_token": csrf_from(page)}).status_code == 302
    client = app.test_client()
    client.set_cookie("session", login_client.get_cookie("session").value)
    config = client.get("/field/api/config")
    assert config.status_code == 200
    path, _demo = demo_file
    with sqlite3.connect(path) as conn:  # a walk the mediator may record on (as in tests/field)
        walk, theme = conn.execute(
            "SELECT w.id, t.id FROM walks w JOIN walk_themes t ON t.walk_id = w.id JOIN neighbourhoods n "
            "ON n.id = w.neighbourhood_id WHERE w.status != 'published' AND n.qpv_code = 'QN01322M' "
            "ORDER BY w.id, t.position LIMIT 1").fetchone()
    item = {"client_id": "0b0c6a55-3b4e-4a43-9d0e-5b3a1f0e7c11", "kind": "walk_observation", "form_version": 1,
            "target": {"walk_id": walk}, "locale": "fr", "fields": [["theme", str(theme)], ["seen", "Un banc cassé"]],
            "photos": []}
    response = client.post("/field/api/submissions?lang=fr", json=item,
                           headers={"X-CSRFToken": config.get_json()["csrf_token"]})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    body = response.get_json()
    assert body["status"] == "unavailable" and body["message"] == unavailable_text(app, "fr")[1]


def test_the_governance_api_answers_503_in_json(read_only):
    """A token's first use of the day is written down: on a read-only database that write fails."""
    app, demo = read_only
    response = app.test_client().get("/api/v1/contracts/aix-marseille-provence?lang=fr",
                                     headers={"Authorization": f"Bearer {demo.api_token}"})
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json() == {"error": unavailable_text(app, "fr")[1], "status": 503}
    assert response.headers["Retry-After"]


def test_a_locked_database_is_a_503_then_the_same_form_goes_through_once(demo_file):
    """Another process holds the write lock (a backup, a long migration): 503 while it does; the
    voter sends the same form again (same nonce) and gets one ballot."""
    path, demo = demo_file
    app = make_app(demo.url, SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 0.2}})
    client = app.test_client()
    form = ballot_form(client, demo.process_id, demo.codes[4])
    before = _counts(path)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        response = client.post(f"/b/{demo.process_id}/vote?lang=ar", data=form)
        assert_unavailable_page(app, response, "ar")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _counts(path) == before
    response = client.post(f"/b/{demo.process_id}/vote", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/voted")
    again = client.post(f"/b/{demo.process_id}/vote", data=form)  # the same form once more: a retry
    assert again.status_code == 302
    assert _counts(path) == (before[0] + 1, before[1] + 1)
    with app.app_context():
        from participation.extensions import db

        db.engine.dispose()


def _full_database_error(tmp_path):
    """A real "database or disk is full" from SQLite (its page limit reached), through SQLAlchemy."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'full.sqlite'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x BLOB)"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("PRAGMA max_page_count = 3"))
            conn.execute(sa.text("INSERT INTO t VALUES (randomblob(100000))"))
    except sa_exc.DBAPIError as e:
        return e
    finally:
        engine.dispose()
    raise AssertionError("the page limit did not stop the write")


def test_a_full_sqlite_disk_counts_as_unavailable_but_a_missing_table_is_a_bug(tmp_path):
    full = _full_database_error(tmp_path)
    assert "full" in str(full.orig) and database_unavailable(full)
    engine = sa.create_engine("sqlite://")
    with pytest.raises(sa_exc.OperationalError) as missing, engine.connect() as conn:
        conn.execute(sa.text("SELECT * FROM no_such_table"))
    assert not database_unavailable(missing.value)  # a schema out of step stays a 500: it is a bug


def test_a_bug_is_still_a_500(read_only, monkeypatch):
    from participation.budgets import views

    app, demo = read_only

    def broken(*a, **k):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "process_or_404", broken)
    response = app.test_client().get(f"/b/{demo.process_id}/vote")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


def test_unavailable_while_another_thread_writes_nothing_half_written(demo_file):
    """One transaction per request: a vote cut off by the lock leaves neither its who-voted row
    nor its ballot (both rows or none)."""
    path, demo = demo_file
    app = make_app(demo.url, SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 0.05}})
    forms = []
    for code in demo.codes[5:9]:
        client = app.test_client()
        forms.append((client, ballot_form(client, demo.process_id, code)))
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # readers may read, nobody else may write
    results = []
    try:
        threads = [threading.Thread(target=lambda c=c, f=f: results.append(
            c.post(f"/b/{demo.process_id}/vote", data=f).status_code)) for c, f in forms]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert results == [503] * len(forms)
    with sqlite3.connect(path) as conn:
        orphans = conn.execute("SELECT count(*) FROM budget_ballots b WHERE NOT EXISTS (SELECT 1 FROM "
                               "budget_ballot_choices c WHERE c.ballot_id = b.id)").fetchone()[0]
        ballots, records = ballots_and_records(conn)
    assert orphans == 0 and ballots == records
    with app.app_context():
        from participation.extensions import db

        db.engine.dispose()
