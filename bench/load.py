"""Requests per second, latency percentiles and memory per worker of gunicorn on loopback.

Starts gunicorn (W workers, sync) on a demo SQLite database copied to a temp dir, sends a
bounded number of GET requests from C client threads to a mix of public pages, prints the
figures, and stops everything. Only 127.0.0.1 is contacted. Usage:
    .venv/bin/python bench/load.py [workers=2] [clients=8] [requests=2000]
"""
from __future__ import annotations

import http.client
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _harness import wait_until_up  # noqa: E402

PATHS = ["/", "/c/aix-marseille-provence", "/q/QN01322M", "/p/FRVAX26/qr.svg", "/healthz"]
PORT = 8811


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main(workers: int, clients: int, total: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite", FLASK_APP="wsgi.py",
                   SECRET_KEY="bench-secret-0123456789abcdef0123456789")
        flask = str(ROOT / ".venv/bin/flask")
        subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([flask, "demo-data"], cwd=ROOT, env=env, check=True, capture_output=True)
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{PORT}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env,
        )
        try:
            wait_until_up(PORT)
            latencies: list[float] = []
            errors = 0
            lock = threading.Lock()
            counter = iter(range(total))

            def worker():
                nonlocal errors
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
                for i in counter:
                    t = time.perf_counter()
                    try:
                        conn.request("GET", PATHS[i % len(PATHS)])
                        resp = conn.getresponse()
                        resp.read()
                        ok = resp.status < 400
                    except OSError:
                        ok = False
                        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
                    with lock:
                        latencies.append((time.perf_counter() - t) * 1000)
                        errors += not ok

            start = time.perf_counter()
            threads = [threading.Thread(target=worker) for _ in range(clients)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - start
            latencies.sort()
            pct = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]  # noqa: E731
            children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
            mem = [rss_kb(int(pid)) // 1024 for pid in children]
            print(f"gunicorn sync workers={workers} clients={clients} requests={len(latencies)} errors={errors}")
            print(f"throughput: {len(latencies) / elapsed:.0f} req/s")
            print(f"latency ms: p50 {pct(50):.1f}  p90 {pct(90):.1f}  p99 {pct(99):.1f}  max {latencies[-1]:.1f}  mean {statistics.mean(latencies):.1f}")
            print(f"memory per worker (RSS MiB): {mem}")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=10)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [2, 8, 2000][len(args):]))
