"""Rate limits on what residents submit: every route a resident (anonymous) may post to has a
limit, or a stated reason not to; and with RATELIMIT_STORAGE_URI=redis://… the count is shared by
every worker: two separate processes, each with its own app, post to the same routes and the
second one is refused (429) as soon as the two together cross the limit. The same two processes
with memory:// storage are not refused, which shows the test depends on the shared storage."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from participation.extensions import limiter

from ..redisutil import redis_or_skip

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_RATELIMIT_REDIS", "redis://127.0.0.1:6379/12")

#: Resident routes that may be posted to without a limit of their own, and why.
UNLIMITED = {
    # Checks a ballot while it is filled in (htmx); it reads, never writes.
    "budgets.vote_check": "reads only",
    # Every method answers 404 in JSON without touching the database; the API's real routes
    # (GET, bearer token) have their own limit.
    "governance_api.no_route": "answers 404 only",
    # Its limit is set on the blueprint (participation/accounts/views.py), not on the view.
    "accounts.login": "blueprint limit",
}

#: The resident submissions, their limit setting (None: fixed in the view) and what the test uses.
SUBMISSIONS = {
    "questionnaires.step": ("QUESTIONNAIRE_POST_LIMIT", "/q/{missing}"),
    "budgets.vote": ("VOTE_POST_LIMIT", "/b/{missing}/vote"),
    "tables.checkin": ("CHECKIN_POST_LIMIT", "/t/m/{missing}/checkin/nokey"),
    "walks.record": ("WALK_RECORD_POST_LIMIT", "/w/{missing}/record/nokey"),
    "fph.apply": (None, "/fph/{missing}/apply"),
    "fph.bilan": (None, "/fph/a/nosecret{missing}/bilan"),
}
FIXED_LIMIT = 30  # fph.apply and fph.bilan: "30 per hour"; the others are set to 5 by the worker


def _resident_write_endpoints(app) -> list[str]:
    """Public views (no login) that take a POST, PUT, PATCH or DELETE."""
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()
                   if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
                   and getattr(app.view_functions[rule.endpoint], "access", None) == "public"})


def _has_limit(app, endpoint: str) -> bool:
    view = app.view_functions[endpoint]
    manager = limiter.limit_manager
    prefix = f"{view.__module__}.{view.__name__}."
    decorated = any(name.startswith(prefix) and limits for name, limits in manager._decorated_limits.items())
    blueprint = endpoint.split(".")[0]
    return decorated or bool(manager._blueprint_limits.get(blueprint))


def test_every_resident_submission_route_has_a_rate_limit(app):
    endpoints = _resident_write_endpoints(app)
    assert set(SUBMISSIONS) <= set(endpoints)
    missing = [e for e in endpoints if e not in UNLIMITED and not _has_limit(app, e)]
    assert not missing, f"resident routes that take a POST without a rate limit: {missing}"
    assert _has_limit(app, "accounts.login")
    assert not [e for e in UNLIMITED if e not in endpoints], "stale entries in UNLIMITED"


def test_a_route_without_a_limit_is_found(app, monkeypatch):
    """The check above fails for a resident route that has no limit."""
    monkeypatch.delitem(UNLIMITED, "budgets.vote_check")
    with pytest.raises(AssertionError, match="budgets.vote_check"):
        test_every_resident_submission_route_has_a_rate_limit(app)


def _worker(database: str, storage: str, prefix: str, counts: dict[str, int]) -> dict[str, list[int]]:
    """One worker process posting `counts[path]` times to each path; the status codes."""
    args = [sys.executable, "-m", "tests.security.ratelimit_worker", database, storage, prefix,
            *[f"{path}={n}" for path, n in counts.items()]]
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _redis():
    return redis_or_skip(REDIS_URL, "shared rate limits")


def _paths() -> dict[str, int]:
    """Each route, and the limit it has in the workers."""
    missing = 900_000_000 + secrets.randbelow(1_000_000)  # no such object: 404, counted, nothing written
    return {path.format(missing=missing): (5 if setting else FIXED_LIMIT) for setting, path in SUBMISSIONS.values()}


def test_two_workers_share_one_count_in_redis(app):
    server = _redis()
    prefix = f"h4-security-{secrets.token_hex(6)}"
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    paths = _paths()
    try:
        first = _worker(database, REDIS_URL, prefix, {p: limit - 2 for p, limit in paths.items()})
        second = _worker(database, REDIS_URL, prefix, {p: 3 for p in paths})
        for path, limit in paths.items():
            assert first[path] == [404] * (limit - 2), path
            # The second worker is refused once both together pass the limit.
            assert second[path] == [404, 404, 429], path
        assert list(server.scan_iter(f"*{prefix}*")), "no rate-limit key in Redis"
    finally:
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)


def test_with_memory_storage_each_worker_counts_alone(app):
    """The control: without shared storage the same requests are never refused."""
    prefix = f"h4-security-{secrets.token_hex(6)}"
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    paths = _paths()
    _worker(database, "memory://", prefix, {p: limit - 2 for p, limit in paths.items()})
    second = _worker(database, "memory://", prefix, {p: 3 for p in paths})
    assert all(second[p] == [404, 404, 404] for p in paths), second
