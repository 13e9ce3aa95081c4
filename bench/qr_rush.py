"""QR rush: N voters with codes vote within about a minute, against gunicorn + PostgreSQL.

Creates a fresh PostgreSQL database, migrates it, loads the demo, draws N voter codes for
the demo vote, starts gunicorn on 127.0.0.1, then runs N voter journeys (open the slip's
URL, load the ballot, send it) from C client threads spread over P processes. Prints the
request rate, latency percentiles of the vote submission, and checks the ballot box:
lost ballots (a receipt was given but no ballot stored) and duplicates (more ballots or
who-voted rows than voters) must both be 0. Only 127.0.0.1 is contacted. Usage:
    .venv/bin/python bench/qr_rush.py [voters=2000] [workers=2] [processes=4] [threads=8]
"""
from __future__ import annotations

import functools
import http.client
import os
import re
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _harness import demo_database, gunicorn, percentile, request, run_clients  # noqa: E402

PORT = 8822


def voter_journey(code: str, process_id: int) -> tuple[str, float, int]:
    """Returns (receipt or error, submit latency ms, requests made)."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    cookies: dict[str, str] = {}
    status, location, _ = request(conn, "GET", f"/v/{code}", cookies)
    if status != 302:
        return f"slip {status}", 0.0, 1
    status, _, html = request(conn, "GET", f"/b/{process_id}/vote", cookies)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', html)
    ids = re.findall(r'type="checkbox" id="(p\d+)"', html)
    if status != 200 or not (token and nonce and ids):
        return f"ballot {status}", 0.0, 2
    picks = secrets.SystemRandom().sample(ids, 2)
    body = urlencode({"csrf_token": token.group(1), "nonce": nonce.group(1), "e-age_ok": "y", "e-resident": "y",
                      **{p: "1" for p in picks}})
    for attempt in range(3):  # a phone retries after a lost answer: the same form, the same nonce
        t = time.perf_counter()
        try:
            status, location, _ = request(conn, "POST", f"/b/{process_id}/vote", cookies, body)
        except OSError:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
            continue
        latency = (time.perf_counter() - t) * 1000
        if status == 302 and location and location.endswith("/voted"):
            _, _, page = request(conn, "GET", f"/b/{process_id}/voted", cookies)
            receipt = re.search(r'receipt code">([A-Z0-9]+)<', page)
            return (receipt.group(1) if receipt else "no receipt"), latency, 5 + attempt
        return f"vote {status}", latency, 3 + attempt
    return "vote failed", 0.0, 6


def main(voters: int, workers: int, processes: int, threads: int) -> None:
    import sqlalchemy as sa

    with demo_database(LOGIN_RATE_LIMIT="100000 per minute") as (url, env):
        os.environ.update(DATABASE_URL=url, SECRET_KEY=env["SECRET_KEY"])
        from config import DevelopmentConfig
        from participation import create_app
        from participation.budgets import services
        from participation.budgets.demo import VOTE_TITLE
        from participation.budgets.models import Ballot, Process, VoteRecord
        from participation.core.users import User
        from participation.extensions import db

        DevelopmentConfig.SQLALCHEMY_DATABASE_URI = url
        DevelopmentConfig.SECRET_KEY = env["SECRET_KEY"]
        app = create_app(DevelopmentConfig)
        with app.app_context():
            process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
            admin_user = db.session.scalar(sa.select(User).filter_by(email="admin@amp.demo"))
            codes = services.generate_codes(process, voters, None, admin_user) if voters <= 2000 else []
            db.session.commit()
            process_id = process.id
        with gunicorn(env, PORT, workers):
            results, elapsed = run_clients(functools.partial(voter_journey, process_id=process_id), codes,
                                           processes, threads)
        receipts = [r for r, _, _ in results if re.fullmatch(r"[A-Z0-9]{8}", r)]
        failures = [r for r, _, _ in results if not re.fullmatch(r"[A-Z0-9]{8}", r)]
        latencies = [lat for _, lat, _ in results if lat]
        requests = sum(n for _, _, n in results)
        with app.app_context():
            stored = set(db.session.scalars(sa.select(Ballot.receipt).where(Ballot.process_id == process_id)))
            ballots = db.session.scalar(sa.select(sa.func.count()).select_from(Ballot).where(Ballot.process_id == process_id))
            records = db.session.scalar(sa.select(sa.func.count()).select_from(VoteRecord).where(VoteRecord.process_id == process_id))
            db.engine.dispose()
    lost = len([r for r in receipts if r not in stored])
    pct = functools.partial(percentile, latencies)
    print(f"QR rush: {voters} voters, gunicorn {workers} workers x 4 threads, PostgreSQL; clients {processes} processes x {threads} threads")
    print(f"elapsed {elapsed:.1f} s, {requests} requests, {requests / elapsed:.0f} req/s, {len(receipts) / elapsed:.0f} votes/s")
    print(f"vote submission latency ms: p50 {pct(50):.0f}  p95 {pct(95):.0f}  p99 {pct(99):.0f}  max {max(latencies):.0f}")
    print(f"receipts {len(receipts)}, failures {len(failures)} {sorted(set(failures))[:5]}")
    print(f"ballots stored {ballots}, who-voted rows {records}; lost {lost}, duplicates {max(0, ballots - len(receipts)) + max(0, records - voters)}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [2000, 2, 4, 8][len(args):]))
