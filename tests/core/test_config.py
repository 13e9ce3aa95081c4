"""Production configuration: from the environment only; `APP_ENV=production` refuses to start
(one error listing every problem) on a default or short SECRET_KEY, without PostgreSQL, without
Redis, or with per-worker rate limits; a valid environment builds an app with secure cookies, rate
limits in Redis and the client address taken from the proxy's X-Forwarded-For."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

import wsgi
from config import DEV_SECRET, DevelopmentConfig, ProductionConfig
from participation.core.permissions import public
from participation.extensions import limiter

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "SECRET_KEY": "k" * 48,
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://participation@db.internal/participation",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "RATELIMIT_STORAGE_URI": "redis://redis.internal:6379/0",
}


def production(**settings):
    return type("Production", (ProductionConfig,), {**GOOD, **settings})


def refusal(config) -> str:
    with pytest.raises(RuntimeError) as info:
        config.check()
    return str(info.value)


def test_a_complete_environment_passes_the_check():
    assert production().problems() == []


@pytest.mark.parametrize("secret", [DEV_SECRET, "", "short-but-not-empty", "x" * 31])
def test_a_default_or_short_secret_key_is_refused(secret):
    assert "SECRET_KEY must be set" in refusal(production(SECRET_KEY=secret))


def test_a_short_ballot_key_is_refused_but_none_falls_back_to_the_secret_key():
    assert "BALLOT_KEY" in refusal(production(BALLOT_KEY="too-short"))
    assert production(BALLOT_KEY=None).problems() == []


@pytest.mark.parametrize("url", [DevelopmentConfig.SQLALCHEMY_DATABASE_URI, "sqlite:////srv/participation.sqlite"])
def test_no_database_url_or_sqlite_is_refused(url):
    assert "DATABASE_URL must be set to a PostgreSQL database" in refusal(production(SQLALCHEMY_DATABASE_URI=url))


def test_no_redis_is_refused():
    assert "REDIS_URL must be set" in refusal(production(REDIS_URL=None))


def test_per_worker_rate_limits_are_refused():
    assert "RATELIMIT_STORAGE_URI must not be memory://" in refusal(production(RATELIMIT_STORAGE_URI="memory://"))


def test_a_malformed_number_is_refused_with_its_name_in_every_environment():
    assert "TRUSTED_PROXY_COUNT must be a whole number (got 'one')" in refusal(production(TRUSTED_PROXY_COUNT="one"))
    bad_dev = type("Dev", (DevelopmentConfig,), {"EXPORT_TTL_HOURS": "a day"})
    assert "EXPORT_TTL_HOURS must be a whole number" in refusal(bad_dev)


def _run(env: dict, code: str) -> subprocess.CompletedProcess:
    """Python in a clean environment (only PATH and what the test gives): the real env path."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": os.environ.get("PATH", ""), **env})


def test_production_with_nothing_set_lists_every_problem_and_does_not_start():
    result = _run({"APP_ENV": "production"}, "import wsgi")
    assert result.returncode != 0
    assert "RuntimeError: Refusing to start (ProductionConfig):" in result.stderr
    for problem in ("SECRET_KEY must be set", "DATABASE_URL must be set", "REDIS_URL must be set",
                    "RATELIMIT_STORAGE_URI must not be memory://"):
        assert problem in result.stderr, problem


def test_production_from_a_valid_environment_builds_the_app():
    env = {"APP_ENV": "production", "SECRET_KEY": "s" * 40,
           "DATABASE_URL": "postgresql+psycopg://participation@127.0.0.1:1/none",
           "REDIS_URL": "redis://127.0.0.1:1/3", "UPLOAD_DIR": "/srv/participation/uploads"}
    code = ("import wsgi; c = wsgi.app.config; "
            "print(c['SESSION_COOKIE_SECURE'], c['REMEMBER_COOKIE_SECURE'], c['RATELIMIT_STORAGE_URI'], "
            "c['TRUSTED_PROXY_COUNT'], type(wsgi.app.wsgi_app).__name__, c['EXPORT_DIR'] or c['UPLOAD_DIR'] + '-exports')")
    result = _run(env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "redis://127.0.0.1:1/3", "1", "ProxyFix",
                                     "/srv/participation/uploads-exports"]


# --- the client address behind the proxy -------------------------------------------------------


def _app_with_a_limited_route(proxies: int):
    config = type("Dev", (DevelopmentConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://", "TRUSTED_PROXY_COUNT": proxies,
                                               "RATELIMIT_STORAGE_URI": "memory://"})
    app = wsgi.make_app(config)

    @app.get("/limited")
    @public
    @limiter.limit("2 per minute")
    def limited():
        return "ok"

    return app


def _statuses(client, forwarded: list[str]) -> list[int]:
    return [client.get("/limited", headers={"X-Forwarded-For": f}).status_code for f in forwarded]


def test_behind_one_proxy_each_resident_has_their_own_rate_limit():
    app = _app_with_a_limited_route(1)
    assert isinstance(app.wsgi_app, ProxyFix)
    client = app.test_client()
    with app.app_context():
        limiter.reset()
    # nginx appends the address it saw; what the client wrote before it is not believed.
    assert _statuses(client, ["203.0.113.5", "203.0.113.5", "203.0.113.5"]) == [200, 200, 429]
    assert _statuses(client, ["203.0.113.6", "forged, 203.0.113.6"]) == [200, 200]
    assert _statuses(client, ["203.0.113.5, 203.0.113.6"]) == [429]


def test_without_a_trusted_proxy_the_header_is_ignored():
    app = _app_with_a_limited_route(0)
    assert not isinstance(app.wsgi_app, ProxyFix)
    client = app.test_client()
    with app.app_context():
        limiter.reset()
    assert _statuses(client, ["203.0.113.5", "203.0.113.6", "203.0.113.7"]) == [200, 200, 429]


def test_production_logs_to_stdout(capsys):
    config = production(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
                        REDIS_URL="redis://127.0.0.1:1/3", RATELIMIT_STORAGE_URI="memory://")
    config.problems = classmethod(lambda cls: [])  # memory:// here: nothing to reach in this test
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        app = wsgi.make_app(config)
        app.logger.warning("a line for the journal")
        out = capsys.readouterr().out
        assert "WARNING" in out and "participation: a line for the journal" in out
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])


# --- gunicorn.conf.py ---------------------------------------------------------------------------


def _gunicorn(monkeypatch, **env) -> dict:
    import runpy

    for name in [n for n in os.environ if n.startswith("GUNICORN_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_defaults_suit_a_small_server(monkeypatch):
    import multiprocessing

    conf = _gunicorn(monkeypatch)
    assert conf["bind"] == "127.0.0.1:8000"
    # What bench/scale.py measured best (docs/performance.md): CPU + 1 sync workers, workers kept
    # long enough that starting new ones costs nothing noticeable.
    assert conf["workers"] == multiprocessing.cpu_count() + 1
    assert (conf["threads"], conf["worker_class"]) == (1, "sync")
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (20000, 2000)
    assert conf["preload_app"] is False and conf["accesslog"] == "-"
    assert conf.get("worker_tmp_dir") == ("/dev/shm" if os.path.isdir("/dev/shm") else None)


def test_gunicorn_reads_the_environment(monkeypatch):
    conf = _gunicorn(monkeypatch, GUNICORN_BIND="unix:/run/participation/gunicorn.sock", GUNICORN_WORKERS="3",
                     GUNICORN_THREADS="4", GUNICORN_TIMEOUT="90", GUNICORN_MAX_REQUESTS="0")
    assert (conf["bind"], conf["workers"], conf["worker_class"], conf["timeout"], conf["max_requests"]) == (
        "unix:/run/participation/gunicorn.sock", 3, "gthread", 90, 0)
    with pytest.raises(SystemExit, match="GUNICORN_WORKERS must be a whole number"):
        _gunicorn(monkeypatch, GUNICORN_WORKERS="many")
