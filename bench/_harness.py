"""What the HTTP benchmarks share: a fresh PostgreSQL database with the demo, gunicorn on
127.0.0.1 waiting until /healthz answers, a cookie-keeping request helper, and a pool of
client processes × threads running one journey function."""
from __future__ import annotations

import contextlib
import http.client
import multiprocessing as mp
import os
import secrets
import signal
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "bench-secret-0123456789abcdef0123456789"


def request(conn, method, path, cookies, body=None):
    """(status, Location, body text); keeps the cookies the server sets, like a browser."""
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


def wait_until_up(port: int) -> None:
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)


@contextlib.contextmanager
def demo_database(**env_overrides):
    """(database URL, environment for flask/gunicorn) of a fresh PostgreSQL database with the
    migrations and the demo data; dropped afterwards."""
    import sqlalchemy as sa

    name = f"participation_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG).set(database=name).render_as_string(hide_password=False)
    env = dict(os.environ, DATABASE_URL=url, FLASK_APP="wsgi.py", APP_ENV="development", SECRET_KEY=SECRET,
               **env_overrides)
    try:
        flask = str(ROOT / ".venv/bin/flask")
        subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([flask, "demo-data"], cwd=ROOT, env=env, check=True, capture_output=True)
        yield url, env
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def gunicorn(env: dict, port: int, workers: int, threads: int = 4):
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    try:
        wait_until_up(port)
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


def _worker(journey, items, threads, queue):
    results = []
    lock = threading.Lock()
    todo = iter(items)

    def run():
        for item in todo:
            r = journey(item)
            with lock:
                results.append(r)

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    queue.put(results)


def run_clients(journey, items: list, processes: int, threads: int) -> tuple[list, float]:
    """Run `journey(item)` for every item from processes × threads clients: (results, seconds)."""
    queue: mp.Queue = mp.Queue()
    chunks = [items[i::processes] for i in range(processes)]
    start = time.perf_counter()
    procs = [mp.Process(target=_worker, args=(journey, chunk, threads, queue)) for chunk in chunks]
    for p in procs:
        p.start()
    results = [r for _ in procs for r in queue.get()]
    for p in procs:
        p.join()
    return results, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))] if values else float("nan")
