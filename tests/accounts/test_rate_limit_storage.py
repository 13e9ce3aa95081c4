"""With RATELIMIT_STORAGE_URI=redis://…, login attempts are counted in Redis, so every
worker process shares one count (memory:// counts per process)."""
from flask_migrate import upgrade

from participation.extensions import limiter

from ..conftest import make_app
from ..redisutil import redis_or_skip
from ..dbutil import fresh_database

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_login_attempts_are_counted_in_redis(app):
    server = redis_or_skip(REDIS_URL, "shared rate-limit storage")
    server.flushdb()
    try:
        with fresh_database("ratelimit") as url:
            redis_app = make_app(url, RATELIMIT_STORAGE_URI=REDIS_URL)
            with redis_app.app_context():
                upgrade()
            # Two clients stand for two workers: only Redis can carry the count from one to the other.
            first, second = redis_app.test_client(), redis_app.test_client()
            statuses = [first.post("/login", data={}).status_code for _ in range(6)]
            statuses += [second.post("/login", data={}).status_code for _ in range(6)]
            assert statuses[:10] == [400] * 10  # no CSRF token: refused, but counted
            assert statuses[10:] == [429, 429]
            assert any(b"login" in key for key in server.keys("*")), "no rate-limit key in Redis"
            with redis_app.app_context():
                from participation.extensions import db

                db.engine.dispose()
    finally:
        server.flushdb()
        limiter.init_app(app)  # the limiter is a module singleton: give the test app its storage back
