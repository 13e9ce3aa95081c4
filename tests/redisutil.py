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
