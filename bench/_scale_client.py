"""The load generator of bench/scale.py: closed-loop simulated users (no think time), each a
thread in one of several client processes, picking actions from a realistic mix until a
deadline. Each action is what a phone without JavaScript does (cookies, CSRF tokens, the
ballot's nonce); every request is one sample (kind, end time, latency ms, ok).

Every journey sends its own X-Forwarded-For address (gunicorn runs with TRUSTED_PROXY_COUNT=1,
as behind nginx), so the per-address rate limits, counted in Redis, see distinct residents
as they would in production instead of one address at 127.0.0.1."""
from __future__ import annotations

import http.client
import itertools
import os
import random
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from questionnaire_rush import FormReader  # noqa: E402

#: Relative weights of the actions a simulated user picks (per action, not per request:
#: a vote is 4 requests, a questionnaire about 7, a dashboard visit 1).
MIX = {
    "home": 30,        # a contract's public home (QR poster, link shared on WhatsApp)
    "process": 10,     # the participatory budget's public page
    "q_page": 15,      # a questionnaire's start page
    "vote": 20,        # slip URL -> ballot -> POST ballot -> receipt
    "questionnaire": 15,  # start -> 5 screens POSTed -> thanks
    "dashboard": 10,   # a staff member (evaluation commission) reading a dashboard
}


class Client:
    def __init__(self, port: int, address: str):
        self.port, self.address = port, address
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def new_resident(self, address: str) -> None:
        """A different phone: no cookies, another address, a new connection."""
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.cookies, self.address = {}, address

    def request(self, method, path, body=None):
        headers = {"X-Forwarded-For": self.address, "Accept-Encoding": "identity",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (OSError, http.client.HTTPException) as exc:
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                # A kept-alive connection the server had closed: a browser sends a GET again.
                stale = isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))
                if not (stale and method == "GET" and attempt == 1):
                    raise
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return resp.status, resp.getheader("Location"), data.decode("utf-8", "replace")


class User:
    def __init__(self, cfg: dict, codes, samples: list, lock, rng: random.Random, ident: int):
        self.cfg, self.codes, self.samples, self.lock, self.rng = cfg, codes, samples, lock, rng
        self.ident, self.journeys = ident, itertools.count()
        self.client = Client(cfg["port"], self._address())
        self.staff: Client | None = None

    def _address(self) -> str:
        n = (self.ident << 20) + next(self.journeys)
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def _timed(self, client: Client, kind: str, method: str, path: str, body=None, expect=(200,)):
        t = time.perf_counter()
        try:
            status, location, html = client.request(method, path, body)
            ok = status in expect
        except (OSError, http.client.HTTPException) as exc:  # the error's name says what happened
            status, location, html, ok = type(exc).__name__, None, "", False
        end = time.perf_counter()
        with self.lock:
            self.samples.append((kind, end, (end - t) * 1000, ok, status))
        return status, location, html, ok

    # --- actions -------------------------------------------------------------------------
    def home(self):
        self.client.new_resident(self._address())
        self._timed(self.client, "GET public page", "GET", f"/c/{self.cfg['contract_slug']}")

    def process(self):
        self.client.new_resident(self._address())
        self._timed(self.client, "GET public page", "GET", f"/b/{self.cfg['process_id']}")

    def q_page(self):
        self.client.new_resident(self._address())
        self._timed(self.client, "GET public page", "GET", f"/q/{self.cfg['qid']}")

    def vote(self):
        try:
            code = next(self.codes)
        except StopIteration:
            return self.process()  # codes used up: the voter only looks
        c = self.client
        c.new_resident(self._address())
        pid = self.cfg["process_id"]
        _s, _l, _h, ok = self._timed(c, "vote flow GET", "GET", f"/v/{code}", expect=(302,))
        if not ok:
            return
        _s, _l, html, ok = self._timed(c, "vote flow GET", "GET", f"/b/{pid}/vote")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', html)
        ids = re.findall(r'type="checkbox" id="(p\d+)"', html)
        if not (ok and token and nonce and len(ids) >= 2):
            return
        body = urlencode({"csrf_token": token.group(1), "nonce": nonce.group(1), "e-age_ok": "y",
                          "e-resident": "y", **{p: "1" for p in self.rng.sample(ids, 2)}})
        _s, location, _h, ok = self._timed(c, "vote POST", "POST", f"/b/{pid}/vote", body, expect=(302,))
        if ok and location and location.endswith("/voted"):
            self._timed(c, "vote flow GET", "GET", f"/b/{pid}/voted")
        elif ok:
            with self.lock:
                self.samples.append(("vote POST", time.perf_counter(), 0.0, False, -1))

    def questionnaire(self):
        c = self.client
        c.new_resident(self._address())
        path = f"/q/{self.cfg['qid']}"
        _s, _l, html, ok = self._timed(c, "questionnaire GET", "GET", path)
        if not ok:
            return
        form = FormReader("q-start")
        form.feed(html)
        body = urlencode(form.fields + [("go", "start")])
        for _ in range(18):
            status, location, html, ok = self._timed(c, "questionnaire POST", "POST", path, body, expect=(200, 302))
            if not ok or status == 302:
                if status == 302 and not (location and "/thanks" in location):
                    with self.lock:
                        self.samples.append(("questionnaire POST", time.perf_counter(), 0.0, False, -2))
                return
            form = FormReader("q-form")
            form.feed(html)
            body = urlencode(form.fields + [("go", "send" if "send" in form.buttons else "next")])

    def _login(self) -> bool:
        self.staff = Client(self.cfg["port"], f"192.168.{self.ident & 255}.{(self.ident >> 8) & 255 or 1}")
        _s, _l, html, ok = self._timed(self.staff, "staff login", "GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        if not (ok and token):
            return False
        body = urlencode({"email": self.cfg["staff_email"], "password": self.cfg["staff_password"],
                          "csrf_token": token.group(1)})
        _s, _l, _h, ok = self._timed(self.staff, "staff login", "POST", "/login", body, expect=(302, 303))
        return ok

    def dashboard(self):
        if self.staff is None and not self._login():
            self.staff = None
            return
        path = self.rng.choice(self.cfg["dashboards"])
        self._timed(self.staff, "staff dashboard GET", "GET", path)

    def run(self, deadline: float):
        actions = list(MIX)
        weights = [MIX[a] for a in actions]
        while time.perf_counter() < deadline:
            getattr(self, self.rng.choices(actions, weights)[0])()


def client_process(cfg: dict, codes: list[str], proc_index: int, threads: int, barrier, seconds: float,
                   queue) -> None:
    """One client process: `threads` users, staff logged in beforehand (a staff member logs in
    once a shift: the scrypt hash would otherwise weigh on a short window), then all start at
    the barrier and run for `seconds`; puts (samples, CPU seconds this process used) on the queue."""
    samples: list = []
    lock = threading.Lock()
    code_iter = iter(codes)
    code_lock = threading.Lock()

    class SafeCodes:
        def __next__(self):
            with code_lock:
                return next(code_iter)

    users = [User(cfg, SafeCodes(), samples, lock, random.Random(proc_index * 1000 + i), proc_index * 1000 + i)
             for i in range(threads)]
    for u in users:
        if not u._login():
            u.staff = None
    samples.clear()
    barrier.wait()
    deadline = time.perf_counter() + seconds
    cpu0 = sum(os.times()[:2])
    ts = [threading.Thread(target=u.run, args=(deadline,)) for u in users]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    queue.put((samples, sum(os.times()[:2]) - cpu0))


def run_action(cfg: dict, codes: list[str], action: str, times: int) -> tuple[int, int]:
    """`action` `times` in a row from one user, in this process: (requests made, failed)."""
    samples: list = []
    user = User(cfg, iter(codes), samples, threading.Lock(), random.Random(7), 4000)
    if action == "dashboard":
        user._login()
        samples.clear()  # the login (scrypt) is counted apart
    for _ in range(times):
        getattr(user, action)()
    return len(samples), sum(1 for s in samples if not s[3])
