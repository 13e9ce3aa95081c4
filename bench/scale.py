"""Scale: gunicorn with 1, 2 and 4 workers against ONE PostgreSQL, driven by a realistic mix at
rising concurrency until the ceiling (throughput flat, p95 blowing up), with the CPU split.

Production-like: APP_ENV=production (so SECRET_KEY, a PostgreSQL DATABASE_URL and REDIS_URL
are all set; rate limits counted in Redis database 13 by default, whose counters are deleted
at the end: give the bench a database number nothing else uses), logs to a file. A fresh PostgreSQL database with the migrations,
the demo (the Marseille participatory budget open for voting, the barometer questionnaire)
and a stock of voter codes; dropped at the end.

The load generator (bench/_scale_client.py) runs in its own processes: closed-loop users with
no think time, each picking an action from a mix of resident pages, vote journeys (slip ->
ballot -> POST -> receipt), questionnaire journeys (start -> screens POSTed -> thanks) and
staff dashboard reads. Per level it prints requests/s, latency p50/p95/p99, the error rate,
the CPU used by gunicorn, by the PostgreSQL backends of this database and by the load
generator (and what the rest of the machine used: other work shares it), RSS per worker,
PostgreSQL connections and the load average. Only 127.0.0.1 is contacted. Usage:

    .venv/bin/python bench/scale.py [--workers 1,2,4] [--levels 2,4,8,16,32] [--seconds 15]
                                    [--gthread 4] [--client-processes 2]
"""
from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _harness import SECRET, demo_database, percentile, wait_until_up  # noqa: E402
from _scale_client import MIX, client_process, run_action  # noqa: E402

PORT = 8836
TICK = os.sysconf("SC_CLK_TCK")
REDIS = os.environ.get("SCALE_REDIS_URL", "redis://127.0.0.1:6379/13")


# --- /proc readings -----------------------------------------------------------------------

def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def tree_cpu_seconds(master: int) -> float:
    """CPU of a gunicorn master and all its workers, including the workers it has recycled
    (max_requests) and reaped since: their CPU moves into the master's cutime/cstime."""
    try:
        fields = Path(f"/proc/{master}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own_and_reaped = sum(int(f) for f in fields[11:15]) / TICK  # utime, stime, cutime, cstime
    return own_and_reaped + sum(cpu_seconds(pid) or 0.0 for pid in children(master))


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class Monitor(threading.Thread):
    """Samples, every 0.5 s, the backends connected to the bench database (their CPU is read
    at the start and end of the window) and how many connections it has."""

    def __init__(self, engine, database: str):
        super().__init__(daemon=True)
        self.engine, self.database = engine, database
        self.pg_start: dict[int, float] = {}
        self.pg_last: dict[int, float] = {}
        self.max_connections = 0
        self.stop = threading.Event()

    def backends(self) -> list[int]:
        import sqlalchemy as sa

        with self.engine.connect() as c:
            return [r[0] for r in c.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": self.database})]

    def run(self):
        while not self.stop.is_set():
            pids = self.backends()
            self.max_connections = max(self.max_connections, len(pids))
            for pid in pids:
                if pid not in self.pg_start:
                    self.pg_start[pid] = 0.0  # appeared during the window: all its CPU counts
                # The last reading of each backend: one that ends before the window does (its
                # gunicorn worker was recycled) still counts up to its last sample.
                self.pg_last[pid] = cpu_seconds(pid) or self.pg_last.get(pid, 0.0)
            self.stop.wait(0.5)

    def begin(self):
        self.pg_start = {pid: cpu_seconds(pid) or 0.0 for pid in self.backends()}
        self.start()

    def pg_cpu(self) -> float:
        self.stop.set()
        self.join()
        return sum(max(0.0, (cpu_seconds(pid) or self.pg_last.get(pid, start)) - start)
                   for pid, start in self.pg_start.items())


# --- setup --------------------------------------------------------------------------------

def prepare(url: str, codes_needed: int) -> dict:
    """Ids the journeys need, and voter codes drawn for the demo vote (batches of 2,000)."""
    import sqlalchemy as sa

    os.environ.update(DATABASE_URL=url, SECRET_KEY=SECRET)
    from config import DevelopmentConfig
    from participation import create_app
    from participation.budgets import services
    from participation.budgets.demo import VOTE_TITLE
    from participation.budgets.models import Process
    from participation.core.demo import DEMO_PASSWORD
    from participation.core.territories import Contract, Neighbourhood
    from participation.core.users import User
    from participation.extensions import db
    from participation.questionnaires.demo import BAROMETER_TITLE
    from participation.questionnaires.models import Questionnaire

    class Config(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = SECRET

    app = create_app(Config)
    with app.app_context():
        process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
        admin = db.session.scalar(sa.select(User).filter_by(email="admin@amp.demo"))
        codes: list[str] = []
        while len(codes) < codes_needed:
            codes += services.generate_codes(process, min(2000, codes_needed - len(codes)), None, admin)
        db.session.commit()
        amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
        qid = db.session.scalar(sa.select(Questionnaire.id).filter_by(title=BAROMETER_TITLE))
        frais_vallon = db.session.scalar(sa.select(Neighbourhood.id).filter_by(qpv_code="QN01322M"))
        cfg = {
            "port": PORT, "process_id": process.id, "qid": qid, "contract_slug": amp.slug,
            "staff_email": "evaluation@amp.demo", "staff_password": DEMO_PASSWORD,
            # What the evaluation commission reads: the contract's dashboard, one neighbourhood's,
            # the barometer's results.
            "dashboards": [f"/admin/governance/{amp.id}", f"/admin/governance/{amp.id}?neighbourhood={frais_vallon}",
                           f"/admin/questionnaires/{qid}/results"],
        }
        db.engine.dispose()
    return cfg, codes


def production_env(url: str, prefix: str) -> dict:
    env = dict(os.environ, APP_ENV="production", DATABASE_URL=url, SECRET_KEY=SECRET, REDIS_URL=REDIS,
               RATELIMIT_STORAGE_URI=REDIS, TRUSTED_PROXY_COUNT="1",
               JOBS_QUEUE=prefix, FLASK_APP="wsgi.py")
    env.pop("BALLOT_KEY", None)
    return env


@contextlib.contextmanager
def gunicorn(env: dict, workers: int, worker_class: str, threads: int, log: Path):
    # The production settings file (max_requests and its jitter included), then what each run
    # varies. --threads 1 for sync: with threads > 1 gunicorn silently runs gthread instead.
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(workers),
           "-k", worker_class, "--threads", str(threads if worker_class == "gthread" else 1),
           "-b", f"127.0.0.1:{PORT}", "--log-level", "warning", "--timeout", "60"]
    with log.open("ab") as out:
        server = subprocess.Popen(cmd + ["wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        wait_until_up(PORT)
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn did not start: see {log}")
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def run_level(cfg, codes, server, monitor_engine, database, concurrency, processes, seconds):
    procs_n = min(processes, concurrency)
    per = [concurrency // procs_n + (1 if i < concurrency % procs_n else 0) for i in range(procs_n)]
    queue: mp.Queue = mp.Queue()
    barrier = mp.Barrier(procs_n + 1)  # the window opens when every client is ready
    chunks = [codes[i::procs_n] for i in range(procs_n)]
    clients = [mp.Process(target=client_process, args=(cfg, chunks[i], i, per[i], barrier, seconds, queue),
                          daemon=True) for i in range(procs_n)]
    for p in clients:
        p.start()
    barrier.wait()
    start_at = time.perf_counter()
    deadline = start_at + seconds
    # Every CPU figure is read from /proc at the window's start and at its deadline (the
    # journeys still running then finish after it and are not counted).
    # gunicorn as a process tree: a worker recycled in the window (max_requests) is still counted.
    watched = {"client": [p.pid for p in clients]}
    before = {k: {pid: cpu_seconds(pid) or 0.0 for pid in pids} for k, pids in watched.items()}
    gunicorn0 = tree_cpu_seconds(server.pid)
    busy0, total0 = machine_busy()
    load0 = os.getloadavg()[0]
    monitor = Monitor(monitor_engine, database)
    monitor.begin()
    while time.perf_counter() < deadline:
        time.sleep(0.005)
    busy1, total1 = machine_busy()
    used = {k: sum(max(0.0, (cpu_seconds(pid) or s) - s) for pid, s in v.items()) for k, v in before.items()}
    used["gunicorn"] = tree_cpu_seconds(server.pid) - gunicorn0
    pg_cpu = monitor.pg_cpu()
    load1 = os.getloadavg()[0]
    rss = [round(rss_mib(pid)) for pid in children(server.pid)]
    results = [queue.get() for _ in clients]
    for p in clients:
        p.join()
    elapsed = max(seconds, 1e-9)
    samples = [s for r in results for s in r[0] if start_at <= s[1] <= deadline]
    gun_cpu, client_cpu = used["gunicorn"], used["client"]
    latencies = [s[2] for s in samples if s[2] > 0]
    by_kind: dict[str, list] = defaultdict(list)
    for s in samples:
        by_kind[s[0]].append(s)
    errors = [s for s in samples if not s[3]]
    machine = busy1 - busy0
    return {
        "concurrency": concurrency, "requests": len(samples), "rps": len(samples) / elapsed,
        "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
        "errors": len(errors), "error_rate": len(errors) / max(1, len(samples)),
        "error_kinds": sorted({(s[0], s[4]) for s in errors})[:5],
        "kinds": {k: (len(v), percentile([x[2] for x in v if x[2] > 0], 50), percentile([x[2] for x in v if x[2] > 0], 95))
                  for k, v in sorted(by_kind.items())},
        "cpu_gunicorn": gun_cpu / elapsed, "cpu_pg": pg_cpu / elapsed, "cpu_client": client_cpu / elapsed,
        "cpu_machine": machine / elapsed, "cpu_capacity": (total1 - total0) / elapsed,
        "rss": rss, "pg_connections": monitor.max_connections, "load": (load0, load1),
        "votes": len([s for s in samples if s[0] == "vote POST" and s[3]]),
        "questionnaire_posts": len([s for s in samples if s[0] == "questionnaire POST" and s[3]]),
    }


def action_costs(cfg, codes, server, monitor_engine, database, times: int) -> list[str]:
    """CPU per action and per request, one action at a time against ONE sync worker, read from
    /proc: other work on the machine slows a request down but barely changes the CPU it
    takes, so these are the figures to size with."""
    monitor = Monitor(monitor_engine, database)
    lines = []
    for action in MIX:
        pids = monitor.backends()
        app0, pg0 = tree_cpu_seconds(server.pid), {pid: cpu_seconds(pid) or 0.0 for pid in pids}
        t = time.perf_counter()
        slips = codes[-times:] if action == "vote" else []  # from the end: the levels use the start
        requests, failed = run_action(cfg, slips, action, times)
        wall = time.perf_counter() - t
        if action == "vote":
            del codes[-times:]
        app = tree_cpu_seconds(server.pid) - app0
        pg = sum(max(0.0, (cpu_seconds(pid) or s) - s) for pid, s in pg0.items())
        lines.append(f"  {action:14} {requests / times:4.1f} req/action  app {1000 * app / times:6.1f} ms  "
                     f"pg {1000 * pg / times:5.1f} ms CPU per action  ({1000 * app / max(requests, 1):5.1f} ms app "
                     f"per request; wall {1000 * wall / times:6.0f} ms per action; failed {failed})")
    return lines


def show(label: str, r: dict) -> None:
    print(f"  c={r['concurrency']:>3}  {r['rps']:6.1f} req/s  p50 {r['p50']:6.0f}  p95 {r['p95']:6.0f}  "
          f"p99 {r['p99']:6.0f} ms  err {100 * r['error_rate']:4.1f}%  "
          f"CPU ms/req app {1000 * r['cpu_gunicorn'] / max(r['rps'], 1e-9):.1f} pg {1000 * r['cpu_pg'] / max(r['rps'], 1e-9):.1f}  "
          f"cores gunicorn {r['cpu_gunicorn']:.2f} pg {r['cpu_pg']:.2f} client {r['cpu_client']:.2f} "
          f"other {max(0.0, r['cpu_machine'] - r['cpu_gunicorn'] - r['cpu_pg'] - r['cpu_client']):.2f} "
          f"/ {r['cpu_capacity']:.1f} cores  RSS/worker {r['rss']} MiB  pg conns {r['pg_connections']}  "
          f"load {r['load'][0]:.1f}->{r['load'][1]:.1f}", flush=True)
    if r["errors"]:
        print(f"        errors: {r['error_kinds']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--levels", default="2,4,8,16,32")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--gthread", type=int, default=0, help="also run N workers x 4 threads (gthread)")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--costs", type=int, default=20, help="measure CPU per action N times each (0: skip)")
    args = parser.parse_args()
    workers_list = [int(w) for w in args.workers.split(",")]
    levels = [int(c) for c in args.levels.split(",")]
    configs = [(w, "sync", 1) for w in workers_list] + ([(args.gthread, "gthread", 4)] if args.gthread else [])

    import redis
    import sqlalchemy as sa

    prefix = f"scalebench-{secrets.token_hex(4)}"
    log = Path(f"/tmp/scale-bench-{prefix}.log")
    # Enough slips for every vote the runs can make (a vote is ~1/5 of the actions).
    codes_needed = int(min(40000, 60 * args.seconds * len(levels) * len(configs))) + 20 * len(configs)
    started = time.strftime("%Y-%m-%d %H:%M")
    with demo_database() as (url, _env):
        database = sa.engine.make_url(url).database
        cfg, codes = prepare(url, codes_needed)
        env = production_env(url, prefix)
        engine = sa.create_engine(url, pool_size=1)
        print(f"Scale bench {started}: {os.cpu_count()} CPUs, PostgreSQL database {database}, Redis {REDIS} "
              f"(prefix {prefix}), APP_ENV=production; mix per action {MIX}; {args.seconds:.0f} s per level, "
              f"load generator {args.client_processes} processes; {len(codes)} voter codes", flush=True)
        summary = []
        used = 0
        try:
            for workers, kind, threads in configs:
                label = f"{workers} {kind} worker{'s' if workers > 1 else ''}" + (f" x {threads} threads" if kind == "gthread" else "")
                print(f"\n{label}", flush=True)
                with gunicorn(env, workers, kind, threads, log) as server:
                    # Warm-up, not recorded: each worker imports, compiles its templates and
                    # opens its connections on its first requests.
                    run_level(cfg, codes[used:used + 20], server, engine, database, 2 * workers, 1, 4)
                    used += 20
                    if workers == 1 and kind == "sync" and args.costs:
                        print(f"CPU per action ({args.costs} of each in a row, one user, one sync worker):", flush=True)
                        for line in action_costs(cfg, codes, server, engine, database, args.costs):
                            print(line, flush=True)
                    for level in levels:
                        # each level gets fresh slips: a code votes once
                        share = max(1, (len(codes) - 20 * len(configs)) // (len(configs) * len(levels)))
                        r = run_level(cfg, codes[used:used + share], server, engine, database, level,
                                      args.client_processes, args.seconds)
                        used += share
                        show(label, r)
                        summary.append((label, r))
            print("\nPer request kind at the highest level of each configuration (count, p50 ms, p95 ms):")
            seen = {}
            for label, r in summary:
                seen[label] = r
            for label, r in seen.items():
                print(f"  {label} c={r['concurrency']}: " + "; ".join(
                    f"{k} {n} {p50:.0f}/{p95:.0f}" for k, (n, p50, p95) in r["kinds"].items()))
            with engine.connect() as c:
                ballots = c.execute(sa.text("SELECT count(*) FROM budget_ballots")).scalar()
                responses = c.execute(sa.text("SELECT count(*) FROM questionnaire_responses")).scalar()
            print(f"\nStored during the runs (plus the demo's): ballots {ballots}, questionnaire responses {responses}; "
                  f"vote POSTs accepted {sum(r['votes'] for _, r in summary)}")
        finally:
            engine.dispose()
            client = redis.Redis.from_url(REDIS)
            # Redis database 13 is this bench's own (SCALE_REDIS_URL): its rate-limit counters
            # and anything named after this run's queue go; nothing else is touched.
            keys = list(client.scan_iter("LIMITS:LIMITER/*")) + list(client.scan_iter(f"*{prefix}*"))
            if keys:
                client.delete(*set(keys))
    print(f"gunicorn log: {log}")


if __name__ == "__main__":
    main()
