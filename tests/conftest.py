"""Shared fixtures: an app on a fresh database built by the migrations, a client, logins."""
from __future__ import annotations

import contextvars
import re
import tempfile

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from config import TestConfig
from participation import create_app
from participation.extensions import db, limiter

from .dbutil import backend, fresh_database


def pytest_report_header(config):
    return f"database backend: {backend()}"


def pytest_sessionstart(session):
    from .catalogs import compile_stale_catalogs

    compile_stale_catalogs()


class IsolatedClient(FlaskClient):
    """Each request runs in its own context, as in production: nothing cached on `g`
    (current user, CSRF token) or in the test's database session leaks into it."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(url: str, **overrides):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        UPLOAD_DIR = tempfile.mkdtemp(prefix="participation-uploads-")

    for key, value in overrides.items():
        setattr(Config, key, value)
    app = create_app(Config)
    app.test_client_class = IsolatedClient
    return app


def _limiter_state() -> tuple:
    """The limiter is a module singleton: every `make_app` replaces its storage, and a default or
    application limit set once (RATELIMIT_DEFAULT) stays for every later app of the process."""
    manager = limiter.limit_manager
    return (limiter._storage, limiter._limiter, list(manager._default_limits), list(manager._application_limits))


def _restore_limiter(state: tuple) -> None:
    limiter._storage, limiter._limiter, default_limits, application_limits = state
    limiter.limit_manager.set_default_limits(list(default_limits))
    limiter.limit_manager.set_application_limits(list(application_limits))


#: Each test app's limiter state, given back before each of its tests (a test that built its own
#: app with a default limit or Redis storage would otherwise leave it to every later test).
_LIMITER_STATES: dict = {}


@pytest.fixture(scope="session")
def app():
    with fresh_database("unit") as url:
        app = make_app(url)
        _LIMITER_STATES[app] = _limiter_state()
        with app.app_context():
            upgrade()  # the schema comes from the migrations, never from create_all
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _wipe() -> None:
    from .dbsnapshot import skip_foreign_key_checks

    tables = [t for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        skip_foreign_key_checks(conn)
        for table in tables:
            conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean(request):
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    # A module's own `app` fixture is recorded at its first test, right after it was built.
    _restore_limiter(_LIMITER_STATES.setdefault(app, _limiter_state()))
    with app.app_context():
        limiter.reset()
        yield
        db.session.rollback()
        db.session.remove()
        _wipe()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


#: The demo's rows per app and day (the demo's dates are relative to today; see
#: tests/dbsnapshot.py), built by the first test that needs it.
_DEMO_ROWS: dict[tuple, list] = {}


@pytest.fixture
def demo(app):
    """The demo contracts, territories, référentiels, staff, links and every mechanism's demo.

    Built once per app and restored per test from a snapshot of its rows (loading it again for
    each test took most of the suite's time). Only when the test starts from an empty database:
    a fixture that wrote rows before this one gets a real load on top of them."""
    from participation.core import demo as demo_data

    from .dbsnapshot import is_empty, restore, snapshot

    from datetime import date

    key = (id(app), date.today())
    saved = _DEMO_ROWS.get(key)
    if saved is not None and is_empty():
        restore(saved)
        return demo_data
    empty = saved is None and is_empty()
    demo_data.load()
    db.session.commit()
    if empty:
        _DEMO_ROWS.clear()
        _DEMO_ROWS[key] = snapshot()
    return demo_data


CSRF_INPUT_RE = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE_RE = re.compile(r'value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_INPUT_RE.search(html)
    assert match, "no CSRF token in the page"
    return VALUE_RE.search(match.group(0)).group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        return csrf_from(self.client.get(path).get_data(as_text=True))

    def login(self, email: str, password: str | None = None):
        from participation.core.demo import DEMO_PASSWORD

        return self.client.post(
            "/login",
            data={"email": email, "password": password or DEMO_PASSWORD, "csrf_token": self.csrf()},
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf("/admin/")})

    def post(self, path: str, data: dict | None = None, form_page: str | None = None, **kw):
        """POST with a CSRF token taken from `form_page` (default: the back office home)."""
        payload = dict(data or {})
        payload["csrf_token"] = self.csrf(form_page or "/admin/")
        return self.client.post(path, data=payload, **kw)


@pytest.fixture
def auth(client):
    return Auth(client)


def one(stmt):
    return db.session.scalar(stmt)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))
