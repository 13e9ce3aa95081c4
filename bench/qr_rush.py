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

import http.client
import multiprocessing as mp
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PORT = 8822
PG = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _request(conn, method, path, cookies, body=None):
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    for header, value in resp.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            cookies[name] = rest.split(";", 1)[0]
    return resp.status, resp.getheader("Location"), data.decode("utf-8", "replace")


def voter_journey(code: str, process_id: int) -> tuple[str, float, int]:
    """Returns (receipt or error, submit latency ms, requests made)."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    cookies: dict[str, str] = {}
    status, location, _ = _request(conn, "GET", f"/v/{code}", cookies)
    if status != 302:
        return f"slip {status}", 0.0, 1
    status, _, html = _request(conn, "GET", f"/b/{process_id}/vote", cookies)
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
            status, location, _ = _request(conn, "POST", f"/b/{process_id}/vote", cookies, body)
        except OSError:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
            continue
        latency = (time.perf_counter() - t) * 1000
        if status == 302 and location and location.endswith("/voted"):
            _, _, page = _request(conn, "GET", f"/b/{process_id}/voted", cookies)
            receipt = re.search(r'receipt code">([A-Z0-9]+)<', page)
            return (receipt.group(1) if receipt else "no receipt"), latency, 5 + attempt
        return f"vote {status}", latency, 3 + attempt
    return "vote failed", 0.0, 6


def _worker(codes, process_id, threads, queue):
    results = []
    lock = threading.Lock()
    it = iter(codes)

    def run():
        for code in it:
            r = voter_journey(code, process_id)
            with lock:
                results.append(r)

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    queue.put(results)


def main(voters: int, workers: int, processes: int, threads: int) -> None:
    import sqlalchemy as sa

    name = f"participation_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG).set(database=name).render_as_string(hide_password=False)
    env = dict(os.environ, DATABASE_URL=url, FLASK_APP="wsgi.py", APP_ENV="development",
               SECRET_KEY="bench-secret-0123456789abcdef0123456789", LOGIN_RATE_LIMIT="100000 per minute")
    server = None
    try:
        subprocess.run([str(ROOT / ".venv/bin/flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([str(ROOT / ".venv/bin/flask"), "demo-data"], cwd=ROOT, env=env, check=True, capture_output=True)
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
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "--threads", "4", "-b", f"127.0.0.1:{PORT}",
             "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        queue: mp.Queue = mp.Queue()
        chunks = [codes[i::processes] for i in range(processes)]
        start = time.perf_counter()
        procs = [mp.Process(target=_worker, args=(chunk, process_id, threads, queue)) for chunk in chunks]
        for p in procs:
            p.start()
        results = [r for _ in procs for r in queue.get()]
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - start
        receipts = [r for r, _, _ in results if re.fullmatch(r"[A-Z0-9]{8}", r)]
        failures = [r for r, _, _ in results if not re.fullmatch(r"[A-Z0-9]{8}", r)]
        latencies = sorted(lat for _, lat, _ in results if lat)
        requests = sum(n for _, _, n in results)
        pct = lambda q: latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))]  # noqa: E731
        with app.app_context():
            stored = set(db.session.scalars(sa.select(Ballot.receipt).where(Ballot.process_id == process_id)))
            ballots = db.session.scalar(sa.select(sa.func.count()).select_from(Ballot).where(Ballot.process_id == process_id))
            records = db.session.scalar(sa.select(sa.func.count()).select_from(VoteRecord).where(VoteRecord.process_id == process_id))
            db.engine.dispose()
        lost = len([r for r in receipts if r not in stored])
        print(f"QR rush: {voters} voters, gunicorn {workers} workers x 4 threads, PostgreSQL; clients {processes} processes x {threads} threads")
        print(f"elapsed {elapsed:.1f} s, {requests} requests, {requests / elapsed:.0f} req/s, {len(receipts) / elapsed:.0f} votes/s")
        print(f"vote submission latency ms: p50 {pct(50):.0f}  p95 {pct(95):.0f}  p99 {pct(99):.0f}  max {latencies[-1]:.0f}")
        print(f"receipts {len(receipts)}, failures {len(failures)} {sorted(set(failures))[:5]}")
        print(f"ballots stored {ballots}, who-voted rows {records}; lost {lost}, duplicates {max(0, ballots - len(receipts)) + max(0, records - voters)}")
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=10)
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [2000, 2, 4, 8][len(args):]))
