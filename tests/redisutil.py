"""Redis helpers shared by the tests that run real RQ jobs (tests/core/test_jobs.py and the
browser journey of the job progress page)."""
from __future__ import annotations

from collections.abc import Iterable


def forget_queue(conn, queue: str, job_ids: Iterable[str] = ()) -> None:
    """Delete every key of a test's queue and of the jobs it made, and unregister its workers."""
    doomed = set()
    for needle in [queue, *job_ids]:
        doomed.update(conn.scan_iter(match=f"*{needle}*", count=1000))
    if doomed:
        conn.delete(*doomed)
    conn.srem("rq:queues", f"rq:queue:{queue}")
    for worker in conn.smembers("rq:workers"):
        if queue.encode() in worker:
            conn.srem("rq:workers", worker)


def redis_or_skip(url: str, what: str):
    """A connection to the Redis at `url`, or a skip that says `what` is not tested. With
    REQUIRE_REDIS=1 (CI, which starts Redis) a Redis that does not answer fails instead."""
    import os

    import pytest
    from redis import Redis
    from redis.exceptions import RedisError

    conn = Redis.from_url(url, socket_connect_timeout=1)
    try:
        conn.ping()
    except (RedisError, OSError) as exc:
        message = f"no Redis answers at {url} ({exc}): {what} not tested"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but {message}", pytrace=False)
        pytest.skip(message)
    return conn
