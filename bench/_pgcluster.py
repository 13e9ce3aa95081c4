"""A throwaway PostgreSQL cluster for the resilience benches, and the app on it.

The resilience benches restart, fill and turn read-only the database server itself: never the
shared one on 5432 that other work uses. This module makes a cluster of its own (initdb as the
`postgres` user, trust authentication, 127.0.0.1 on its own port, data under /tmp, optionally
on a small tmpfs mounted for it), runs the migrations and the demo on it, draws voter codes,
starts gunicorn as in production, and removes everything afterwards (stop, unmount, rm).

Needs root (runuser, mount) and the PostgreSQL server binaries (/usr/lib/postgresql/*/bin)."""
from __future__ import annotations

import atexit
import contextlib
import glob
import http.client
import itertools
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SECRET = "resilience-bench-secret-0123456789abcdef0123456789"
#: Redis database for the production rate limiter's counters (never flushed by these benches).
REDIS_URL = os.environ.get("RESILIENCE_REDIS_URL", "redis://127.0.0.1:6379/11")


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise SystemExit(f"PostgreSQL server binaries not found ({name}): apt-get install postgresql")
    return found[-1]


def as_postgres(*cmd: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=check, capture_output=True, text=True,
                          **kw)


class Cluster:
    """A PostgreSQL cluster of its own. `tmpfs_mb`: put the data directory on a tmpfs of that size
    (the "disk" that fills up); `tablespace_mb`: keep the cluster on /tmp but the app's database
    in a tablespace on such a tmpfs (the data disk fills, the WAL disk does not)."""

    def __init__(self, port: int = 54329, tmpfs_mb: int | None = None, tablespace_mb: int | None = None):
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="participation-pgcluster-"))
        self.mounts: list[Path] = []
        self.tablespace: Path | None = None
        if tmpfs_mb:
            self.data = self._mount(self.root / "disk", tmpfs_mb) / "data"
        else:
            self.data = self.root / "data"
        if tablespace_mb:
            self.tablespace = self._mount(self.root / "tsdisk", tablespace_mb) / "ts"
        self.log = self.root / "postgres.log"
        self.socket_dir = self.root / "socket"

    def _mount(self, point: Path, size_mb: int) -> Path:
        point.mkdir(parents=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(point)], check=True)
        self.mounts.append(point)
        return point

    @property
    def disk(self) -> Path:
        """The tmpfs that fills up (the data directory's or the tablespace's)."""
        return self.mounts[-1]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self.socket_dir.mkdir()
        shutil.chown(self.root, "postgres")
        for path in (self.socket_dir, *self.mounts):
            shutil.chown(path, "postgres")
        as_postgres(pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                    "--locale=C.UTF-8", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"""
# participation resilience bench
port = {self.port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{self.socket_dir}'
max_connections = 60
shared_buffers = 32MB
fsync = on
log_min_messages = warning
log_line_prefix = '%m [%p] '
""")
        if self.tablespace is not None:
            self.tablespace.mkdir()
            shutil.chown(self.tablespace, "postgres")
        self.start()

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return as_postgres(pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *args,
                           check=check)

    def start(self) -> None:
        self.pg_ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-m", mode, check=False)

    def restart(self, mode: str = "fast") -> float:
        """Seconds pg_ctl took to have the server back."""
        t = time.perf_counter()
        self.pg_ctl("restart", "-m", mode)
        return time.perf_counter() - t

    def running(self) -> bool:
        return self.pg_ctl("status", check=False).returncode == 0

    def psql(self, sql: str, database: str = "postgres", check: bool = True) -> str:
        # Writable whatever the server's default (the benches turn it read-only for the app).
        env = dict(os.environ, PGOPTIONS="-c default_transaction_read_only=off")
        result = as_postgres(pg_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d",
                             database, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, check=False, env=env)
        if check and result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def fill(self) -> int:
        """Fill the tmpfs up to ENOSPC with a filler file beside the cluster's files: bytes written."""
        written = 0
        with open(self.disk / "filler", "wb", buffering=0) as f:
            for chunk in (1 << 20, 64 << 10, 4 << 10, 512):
                block = b"\0" * chunk
                while True:
                    try:
                        n = f.write(block)
                    except OSError:  # ENOSPC: go on with smaller blocks, to the last one
                        break
                    written += n or 0
                    if not n or n < chunk:
                        break
        return written

    def free(self) -> None:
        (self.disk / "filler").unlink(missing_ok=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def cleanup(self) -> None:
        if self.data.exists():
            self.stop("immediate")
        for point in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(point)], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def cluster(**kw):
    c = Cluster(**kw)
    try:
        c.init()
        yield c
    finally:
        c.cleanup()


#: The demo's photos, for this run only (removed when the bench ends).
UPLOADS = Path(tempfile.mkdtemp(prefix="participation-resilience-uploads-"))
atexit.register(shutil.rmtree, UPLOADS, True)


def app_env(url: str, **overrides) -> dict:
    """The environment of the app as in production (APP_ENV=production), on `url`."""
    env = dict(os.environ, DATABASE_URL=url, FLASK_APP="wsgi.py", APP_ENV="production", SECRET_KEY=SECRET,
               REDIS_URL=REDIS_URL, TRUSTED_PROXY_COUNT="0", LOG_LEVEL="WARNING",
               UPLOAD_DIR=str(UPLOADS / "public"), PRIVATE_UPLOAD_DIR=str(UPLOADS / "private"))
    env.update(overrides)
    return env


def create_app_database(c: Cluster, name: str = "participation") -> str:
    """The app's database on the cluster (in the tmpfs tablespace when there is one), migrated,
    with the demo. Returns its URL."""
    where = " TABLESPACE small" if c.tablespace is not None else ""
    if c.tablespace is not None:
        c.psql(f"CREATE TABLESPACE small LOCATION '{c.tablespace}'")
    c.psql(f'CREATE DATABASE "{name}"{where}')
    url = c.url(name)
    env = app_env(url)
    flask = str(ROOT / ".venv/bin/flask")
    for cmd in (["db", "upgrade"], ["demo-data"]):
        done = subprocess.run([flask, *cmd], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"flask {' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return url


def draw_codes(url: str, n: int, open_vote: bool = False) -> tuple[int, list[str]]:
    """(id of the demo vote, `n` fresh voter codes for it). `open_vote`: the vote is switched to
    the open mode instead (no code; a browser cookie tells a voter's ballot), and no code is drawn."""
    os.environ.update(app_env(url))
    sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa

    from config import ProductionConfig
    from participation import create_app
    from participation.budgets import services
    from participation.budgets.demo import VOTE_TITLE
    from participation.budgets.models import Process
    from participation.core.users import User
    from participation.extensions import db

    class Config(ProductionConfig):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = SECRET

    app = create_app(Config)
    with app.app_context():
        process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
        admin = db.session.scalar(sa.select(User).filter_by(email="admin@amp.demo"))
        codes: list[str] = []
        if open_vote:
            from participation.budgets.models import VoteMode

            process.vote_mode = VoteMode.open
            n = 0
        while len(codes) < n:
            codes += services.generate_codes(process, min(2000, n - len(codes)), None, admin)
        db.session.commit()
        process_id = process.id
        db.engine.dispose()
    return process_id, codes


def amcheck(c: Cluster, database: str) -> tuple[int, str]:
    """(B-tree indexes checked, error or "") with PostgreSQL's amcheck, over the app's tables: a
    torn page or an index out of step with its table is reported, never silently kept."""
    c.psql("CREATE EXTENSION IF NOT EXISTS amcheck", database)
    sql = ("SELECT count(bt_index_check(i.indexrelid, true)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
           "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
           "WHERE a.amname = 'btree' AND n.nspname = 'public'")
    try:
        return int(c.psql(sql, database)), ""
    except RuntimeError as e:
        return 0, str(e)


def ballot_box(c: Cluster, database: str, process_id: int) -> dict:
    """What the database holds for the vote: counts and the receipts."""
    q = lambda sql: c.psql(sql, database)  # noqa: E731
    receipts = q(f"SELECT receipt FROM budget_ballots WHERE process_id = {process_id}").split()
    return {
        "ballots": int(q(f"SELECT count(*) FROM budget_ballots WHERE process_id = {process_id}")),
        "records": int(q(f"SELECT count(*) FROM budget_vote_records WHERE process_id = {process_id}")),
        "records_web": int(q(f"SELECT count(*) FROM budget_vote_records WHERE process_id = {process_id} "
                             "AND channel = 'web'")),
        "ballots_without_choices": int(q(
            f"SELECT count(*) FROM budget_ballots b WHERE process_id = {process_id} AND NOT EXISTS "
            "(SELECT 1 FROM budget_ballot_choices c WHERE c.ballot_id = b.id)")),
        "receipts": receipts,
    }


# --- gunicorn ----------------------------------------------------------------------------


def wait_until_up(port: int, seconds: float = 30) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


class Gunicorn:
    """gunicorn as deployed: gthread workers, the repository's gunicorn.conf.py when there is one
    (the command line wins for the address and the number of workers)."""

    def __init__(self, env: dict, port: int, workers: int = 3, threads: int = 4, log: Path | None = None):
        self.env, self.port, self.workers, self.threads = env, port, workers, threads
        self.log = log or Path(tempfile.mkstemp(prefix="resilience-gunicorn-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        conf = ROOT / "gunicorn.conf.py"
        cmd = [str(ROOT / ".venv/bin/gunicorn"), *(["-c", str(conf)] if conf.exists() else []),
               "-w", str(self.workers), "--threads", str(self.threads), "-k", "gthread",
               "-b", f"127.0.0.1:{self.port}", "--timeout", "30", "--graceful-timeout", "5", "wsgi:app"]
        self.logfile = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.logfile, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        if not wait_until_up(self.port, 60):
            self.stop()
            raise SystemExit(f"gunicorn did not start; its log: {self.log}\n{self.log_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        return [int(p) for p in out]

    def wait_for_workers(self, seconds: float = 30, gone: int | None = None) -> bool:
        """Whether all the workers are up within `seconds` (and `gone`, a killed one, replaced)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pids = self.worker_pids()
            if len(pids) >= self.workers and gone not in pids:
                return True
            time.sleep(0.02)
        return False

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "logfile", None):
            self.logfile.close()


# --- clients -------------------------------------------------------------------------------


_ADDRESSES = itertools.count()


class Browser:
    """Cookies kept like a browser's, one connection at a time, answers read in full. Each
    browser has an address of its own in 127.0.0.0/8, as each phone has its own: the app's
    per-address rate limits then count per person, not for the whole load at once."""

    def __init__(self, port: int, timeout: float = 30):
        self.port, self.timeout, self.cookies = port, timeout, {}
        n = next(_ADDRESSES)
        self.source = (f"127.1.{n // 250 % 250}.{n % 250 + 1}", 0)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str | None, str, dict]:
        """(status, Location, body, headers); raises OSError / http.client.HTTPException when the
        connection fails (refused, reset, answer cut short)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout, source_address=self.source)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Accept-Language": "fr"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return resp.status, resp.getheader("Location"), data, dict(resp.getheaders())


TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NONCE_RE = re.compile(r'name="nonce"[^>]*value="([^"]+)"')
CHOICE_RE = re.compile(r'type="checkbox" id="(p\d+)"')
RECEIPT_RE = re.compile(r'receipt code">([A-Z0-9]+)<')


def ballot_form(browser: Browser, process_id: int, code: str | None) -> str:
    """Open the slip's URL (`code`; None: an open vote, no code) and the ballot; the filled
    form's body (its nonce is the retry key)."""
    if code is not None:
        status, _loc, _b, _h = browser.request("GET", f"/v/{code}")
        if status != 302:
            raise RuntimeError(f"slip answered {status}")
    status, _loc, html, _h = browser.request("GET", f"/b/{process_id}/vote")
    token, nonce, ids = TOKEN_RE.search(html), NONCE_RE.search(html), CHOICE_RE.findall(html)
    if status != 200 or not (token and nonce and ids):
        raise RuntimeError(f"ballot page answered {status}")
    picks = secrets.SystemRandom().sample(ids, 2)
    return urlencode({"csrf_token": token.group(1), "nonce": nonce.group(1), "e-age_ok": "y", "e-resident": "y",
                      **{p: "1" for p in picks}})


class Tally:
    """Answers counted per second since `start` (status → count), thread-safe."""

    def __init__(self):
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self.per_second: dict[int, dict[str, int]] = {}

    def add(self, outcome: str) -> None:
        second = int(time.monotonic() - self.start)
        with self.lock:
            row = self.per_second.setdefault(second, {})
            row[outcome] = row.get(outcome, 0) + 1

    def total(self, outcome: str) -> int:
        with self.lock:
            return sum(row.get(outcome, 0) for row in self.per_second.values())

    def table(self, marks: dict[int, str] | None = None) -> str:
        marks = marks or {}
        keys = ["ok", "503", "500", "other", "conn"]
        lines = ["  s  " + " ".join(f"{k:>5}" for k in keys)]
        with self.lock:
            for second in sorted(self.per_second):
                row = self.per_second[second]
                lines.append(f"{second:3d}  " + " ".join(f"{row.get(k, 0):5d}" for k in keys)
                             + (f"   <- {marks[second]}" if second in marks else ""))
        return "\n".join(lines)


def verdict(checks: dict[str, bool], server: "Gunicorn", server_log: str = "") -> int:
    """Print each check, the first traceback of gunicorn's log if any, PASS or FAIL; keep the
    log only when something failed. Returns the script's exit status."""
    ok = all(checks.values())
    for label, passed in checks.items():
        print(f"  [{'ok' if passed else 'FAIL'}] {label}")
    if "Traceback" in server_log:
        print(server_log[server_log.index("Traceback"):][:3000])
    if ok:
        server.log.unlink(missing_ok=True)
    else:
        print(f"gunicorn's log: {server.log}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def classify(status: int) -> str:
    if status in (200, 302, 303):
        return "ok"
    if status == 503:
        return "503"
    if status >= 500:
        return "500"
    return "other"


PUBLIC_PATHS = ["/", "/c/aix-marseille-provence", "/b/{pid}", "/q/QN01322M", "/healthz"]


class MixedLoad:
    """C client threads until `stop()`: public GETs and, one time in `vote_every`, a voter who
    opens the slip and the ballot and sends it, sending the same form again after a failure
    (as a browser's retry would) until it is confirmed. Every answer is counted per second in
    `tally` and kept in `events` as (seconds, "read" or "write", outcome); `voters` gets each
    voter's receipt."""

    def __init__(self, port: int, process_id: int, codes: list[str], clients: int = 12, vote_every: int = 3):
        self.port, self.process_id, self.clients, self.vote_every = port, process_id, clients, vote_every
        self.codes = iter(codes)
        self.tally = Tally()
        self.events: list[tuple[float, str, str]] = []
        self.voters: list[dict] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def now(self) -> float:
        return time.monotonic() - self.tally.start

    def _count(self, kind: str, outcome: str) -> str:
        self.tally.add(outcome)
        with self.lock:
            self.events.append((self.now(), kind, outcome))
        return outcome

    def _call(self, browser: Browser, method: str, path: str, body: str | None = None):
        kind = "write" if method == "POST" else "read"
        try:
            status, location, page, _h = browser.request(method, path, body)
        except (OSError, http.client.HTTPException):
            self._count(kind, "conn")
            return None
        self._count(kind, classify(status))
        return status, location, page

    def _until(self, deadline: float, fn):
        """Call fn() until it returns something, the deadline passes; a short pause between."""
        while time.monotonic() < deadline:
            result = fn()
            if result is not None:
                return result
            time.sleep(0.5)  # a browser's retry, or a person sending again
        return None

    def _voter(self, code: str) -> None:
        browser = Browser(self.port, timeout=15)
        deadline = time.monotonic() + 90  # a voter keeps trying through an outage, not for ever
        pid = self.process_id

        def slip():
            r = self._call(browser, "GET", f"/v/{code}")
            return r if r and r[0] == 302 else None

        def form():
            r = self._call(browser, "GET", f"/b/{pid}/vote")
            if not r or r[0] != 200:
                return None
            token, nonce, ids = TOKEN_RE.search(r[2]), NONCE_RE.search(r[2]), CHOICE_RE.findall(r[2])
            return urlencode({"csrf_token": token.group(1), "nonce": nonce.group(1), "e-age_ok": "y",
                              "e-resident": "y", **{p: "1" for p in secrets.SystemRandom().sample(ids, 2)}})

        record = {"code": code, "receipt": None, "sent": False}
        with self.lock:
            self.voters.append(record)
        if self._until(deadline, slip) is None:
            return
        body = self._until(deadline, form)
        if body is None:
            return
        record["sent"] = True

        def send():
            r = self._call(browser, "POST", f"/b/{pid}/vote", body)
            if r and r[0] == 302 and (r[1] or "").endswith("/voted"):
                return True
            if r and r[0] < 500 and r[0] != 302:
                errors = re.findall(r'error-summary[^>]*>\s*<p>([^<]+)<', r[2])
                record["refused"] = (r[0], errors[:2] or r[2][:200])
                return False
            return None

        if self._until(deadline, send) is not True:
            return

        def receipt():
            r = self._call(browser, "GET", f"/b/{pid}/voted?lang=en")
            found = RECEIPT_RE.search(r[2]) if r and r[0] == 200 else None
            return found.group(1) if found else None

        record["receipt"] = self._until(deadline, receipt)

    def _client(self, n: int) -> None:
        rng = random.Random(n)
        browser = Browser(self.port, timeout=15)
        i = 0
        while not self.stopping.is_set():
            i += 1
            if i % self.vote_every == 0:
                with self.lock:
                    code = next(self.codes, None)
                if code is not None:
                    self._voter(code)
                    continue
            self._call(browser, "GET", rng.choice(PUBLIC_PATHS).format(pid=self.process_id))
            time.sleep(0.02)

    def start(self) -> None:
        self.tally.start = time.monotonic()
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(self.clients)]
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        """No new request; the voters under way finish (their retries are bounded)."""
        self.stopping.set()
        for t in self.threads:
            t.join(120)

    def failures_between(self, start: float, end: float) -> list[tuple[float, str]]:
        with self.lock:
            return [(t, o) for t, _k, o in self.events if start <= t < end and o in ("503", "500", "conn")]

    def outcomes(self, start: float, end: float, kind: str) -> dict[str, int]:
        """{outcome: count} of the `kind` answers between two moments."""
        found: dict[str, int] = {}
        with self.lock:
            for t, k, o in self.events:
                if start <= t < end and k == kind:
                    found[o] = found.get(o, 0) + 1
        return found

    def first(self, start: float, kind: str, outcome: str = "ok") -> float | None:
        with self.lock:
            return next((t for t, k, o in self.events if t >= start and k == kind and o == outcome), None)


def worker_pg_connections(server: Gunicorn, pg_port: int) -> dict[int, int]:
    """Established TCP connections from each gunicorn worker to the cluster (ss -tnp)."""
    out = subprocess.run(["ss", "-Htnp", "state", "established", f"( dport = :{pg_port} )"], capture_output=True,
                         text=True).stdout
    pids = server.worker_pids()
    counts = {pid: 0 for pid in pids}
    for pid in pids:
        counts[pid] = out.count(f"pid={pid},")
    return counts
