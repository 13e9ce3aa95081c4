"""/healthz for the load balancer: 200 when the database answers `SELECT 1` and every configured
Redis answers PING, 503 naming what failed; only dependency names and "ok"/"unreachable" (no
personal data, no versions); never rate limited. Redis cases use TEST_REDIS_URL (default
127.0.0.1:6379/11) and are skipped when none answers."""
from __future__ import annotations

import os

import pytest

from participation.extensions import limiter

from ..conftest import make_app
from ..redisutil import redis_or_skip

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
NOWHERE = "redis://127.0.0.1:1/0"
UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:1/none"


@pytest.fixture(scope="module")
def redis_url():
    redis_or_skip(REDIS_URL, "the health check's Redis probe")
    return REDIS_URL


def health(app):
    resp = app.test_client().get("/healthz")
    return resp.status_code, resp.get_json()


def test_without_redis_only_the_database_is_checked(app):
    assert health(app) == (200, {"status": "ok", "database": "ok"})


def test_a_configured_redis_is_pinged(app, redis_url):
    app = make_app(app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url)
    assert health(app) == (200, {"status": "ok", "database": "ok", "redis": "ok"})


def test_an_unreachable_redis_makes_the_server_unhealthy(app):
    app = make_app(app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=NOWHERE)
    assert health(app) == (503, {"status": "error", "database": "ok", "redis": "unreachable"})


def test_each_distinct_redis_is_checked_by_what_it_is_for(app, redis_url):
    app = make_app(app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url, JOBS_REDIS_URL=NOWHERE)
    assert health(app) == (503, {"status": "error", "database": "ok", "redis": "ok", "jobs_redis": "unreachable"})


def test_an_unreachable_database_and_redis_are_both_reported():
    app = make_app(UNREACHABLE_DB, REDIS_URL=NOWHERE)
    assert health(app) == (503, {"status": "error", "database": "unreachable", "redis": "unreachable"})


def test_the_health_check_is_never_rate_limited(app):
    # A default limit on every route: the accessibility page gets 429, /healthz never does.
    limited = make_app(app.config["SQLALCHEMY_DATABASE_URI"], RATELIMIT_DEFAULT="3 per minute")
    client = limited.test_client()
    with limited.app_context():
        limiter.reset()
    assert [client.get("/accessibilite").status_code for _ in range(4)][-1] == 429
    assert {client.get("/healthz").status_code for _ in range(10)} == {200}
