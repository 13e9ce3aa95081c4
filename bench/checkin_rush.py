"""Check-in rush: N residents scan the meeting's QR within a minute, against gunicorn + PostgreSQL.

Creates a fresh PostgreSQL database with the demo, plans a meeting of the demo table starting
now, starts gunicorn on 127.0.0.1, then runs N phone journeys (open the check-in page, answer the
optional profile, tick "remember this phone", press "I'm here"; one phone in five sends its form
twice, as a phone does after a lost answer) from C client threads spread over P processes.
Prints the request rate, latency percentiles of the check-in post, and checks the count: every
phone counted exactly once (check-ins stored = phones, distinct attendee keys = phones). Only
127.0.0.1 is contacted. Usage:
    .venv/bin/python bench/checkin_rush.py [phones=600] [workers=2] [processes=4] [threads=8]
"""
from __future__ import annotations

import functools
import http.client
import os
import random
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _harness import demo_database, gunicorn, percentile, request, run_clients  # noqa: E402

PORT = 8823
AGES = ["", "18_24", "25_39", "40_59", "60_74"]
GENDERS = ["", "woman", "man"]


def phone_journey(phone: int, path: str) -> tuple[str, float, int]:
    """Returns (outcome, check-in latency ms, requests made)."""
    rnd = random.Random(phone)
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    cookies: dict[str, str] = {}
    status, _, html = request(conn, "GET", path, cookies)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    nonce = re.search(r'name="nonce" value="([^"]+)"', html)
    if status != 200 or not (token and nonce):
        return f"page {status}", 0.0, 1
    body = urlencode({"csrf_token": token.group(1), "nonce": nonce.group(1), "age_band": rnd.choice(AGES),
                      "gender": rnd.choice(GENDERS), "residence": "", "first_time": rnd.choice(["", "yes", "no"]),
                      "remember": "1"})
    sends = 2 if phone % 5 == 0 else 1
    outcome, latency, made = "no answer", 0.0, 1
    for _ in range(sends):
        t = time.perf_counter()
        status, location, _ = request(conn, "POST", path, cookies, body)
        latency = latency or (time.perf_counter() - t) * 1000
        made += 1
        if status != 302 or not location:
            return f"post {status}", latency, made
        outcome = "counted" if outcome == "no answer" and "done=1" in location else (
            outcome if "done=again" in location else f"unexpected {location[-12:]}")
    return outcome, latency, made


def main(phones: int, workers: int, processes: int, threads: int) -> None:
    import sqlalchemy as sa

    with demo_database(CHECKIN_POST_LIMIT="1000000 per minute") as (url, env):
        os.environ.update(DATABASE_URL=url, SECRET_KEY=env["SECRET_KEY"])
        from config import DevelopmentConfig
        from participation import create_app
        from participation.extensions import db
        from participation.tables.attendance import local_now
        from participation.tables.models import CheckIn, Meeting, NeighbourhoodTable

        DevelopmentConfig.SQLALCHEMY_DATABASE_URI = url
        DevelopmentConfig.SECRET_KEY = env["SECRET_KEY"]
        app = create_app(DevelopmentConfig)
        with app.app_context():
            table = db.session.scalar(sa.select(NeighbourhoodTable).order_by(NeighbourhoodTable.id))
            meeting = Meeting(table_id=table.id, title="Bench", starts_at=local_now().replace(tzinfo=None, microsecond=0))
            db.session.add(meeting)
            db.session.commit()
            meeting_id, path = meeting.id, f"/t/m/{meeting.id}/checkin/{meeting.checkin_key}"
        with gunicorn(env, PORT, workers):
            results, elapsed = run_clients(functools.partial(phone_journey, path=path), list(range(phones)),
                                           processes, threads)
        with app.app_context():
            stored = db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn).where(CheckIn.meeting_id == meeting_id))
            keys = db.session.scalar(sa.select(sa.func.count(sa.distinct(CheckIn.attendee_key)))
                                     .where(CheckIn.meeting_id == meeting_id))
            db.engine.dispose()
    counted = sum(1 for r, _, _ in results if r == "counted")
    failures = sorted({r for r, _, _ in results if r != "counted"})
    latencies = [lat for _, lat, _ in results if lat]
    requests = sum(n for _, _, n in results)
    pct = functools.partial(percentile, latencies)
    print(f"Check-in rush: {phones} phones (1 in 5 sends twice), gunicorn {workers} workers x 4 threads, PostgreSQL; "
          f"clients {processes} processes x {threads} threads")
    print(f"elapsed {elapsed:.1f} s, {requests} requests, {requests / elapsed:.0f} req/s, {counted / elapsed:.0f} check-ins/s")
    print(f"check-in post latency ms: p50 {pct(50):.0f}  p95 {pct(95):.0f}  p99 {pct(99):.0f}  max {max(latencies):.0f}")
    print(f"phones told 'counted' {counted}, failures {phones - counted} {failures[:5]}")
    print(f"check-ins stored {stored}, distinct attendee keys {keys}; lost {max(0, counted - stored)}, "
          f"duplicates {max(0, stored - phones)}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [600, 2, 4, 8][len(args):]))
