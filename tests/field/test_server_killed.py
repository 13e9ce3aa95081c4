"""The server killed (kill -9) in the middle of a sync, several times: a client that sends its
queue the way outbox.js does (one item at a time, an item leaves the queue only when the server
has answered created or duplicate, anything else is retried later) ends with every submission
recorded exactly once. A kill can land after the commit but before the answer: the retry is then
answered "duplicate". The browser version of this, with the real outbox, is in
tests/browser/test_field_server_killed.py.

The server is a real gunicorn process on a SQLite file of its own with the demo data."""
from __future__ import annotations

import hashlib
import http.client
import io
import json
import re
import sqlite3
import sys
import threading
import time
import uuid
from urllib.parse import urlencode

import pytest
from PIL import Image

from .server import Server

N = 90
KILLS = 3


class Client:
    """outbox.js's send loop, in Python."""

    def __init__(self, port: int):
        self.port, self.cookies, self.csrf = port, {}, None

    def call(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return resp.status, data

    def login(self) -> None:
        _s, page = self.call("GET", "/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        status, _b = self.call("POST", "/login", urlencode({"csrf_token": token, "email": "mediateur@amp.demo",
                                                           "password": "demo-participation-2026"}),
                               {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302

    def send(self, item: dict, photo: bytes | None) -> bool:
        """True once the server has the item (created or duplicate); False: try again later."""
        try:
            if self.csrf is None:
                status, body = self.call("GET", "/field/api/config")
                if status != 200:
                    return False
                self.csrf = json.loads(body)["csrf_token"]
            if photo is not None:
                status, body = self.call("PUT", f"/field/api/photos/{item['client_id']}/0", photo,
                                         {"X-Photo-SHA256": hashlib.sha256(photo).hexdigest(),
                                          "X-CSRFToken": self.csrf, "Content-Type": "image/jpeg"})
                assert status in (200, 201) or status >= 500, (status, body)
                if status >= 500:
                    return False
            status, body = self.call("POST", "/field/api/submissions", json.dumps(item),
                                     {"Content-Type": "application/json", "X-CSRFToken": self.csrf})
        except (OSError, http.client.HTTPException):  # refused, reset, answer cut short (IncompleteRead)
            return False
        assert status in (200, 201) or status >= 500, (status, body)
        return status in (200, 201)


def _photo(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (i % 256, 90, 140)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.skipif(sys.platform != "linux", reason="kills gunicorn processes")
def test_a_sync_cut_by_kills_ends_with_each_item_exactly_once(tmp_path):
    server = Server(tmp_path)
    server.setup()
    with sqlite3.connect(server.db) as c:
        walk_id, theme_id = c.execute(
            "SELECT w.id, t.id FROM walks w JOIN walk_themes t ON t.walk_id = w.id JOIN neighbourhoods n "
            "ON n.id = w.neighbourhood_id WHERE w.status != 'published' AND n.qpv_code = 'QN01322M' "
            "ORDER BY w.id, t.position LIMIT 1").fetchone()
        before = c.execute("SELECT count(*) FROM walk_observations WHERE walk_id = ?", (walk_id,)).fetchone()[0]
    queue = []
    for i in range(N):
        photo = _photo(i) if i % 3 == 0 else None
        queue.append(({"client_id": str(uuid.uuid4()), "kind": "walk_observation", "form_version": 1,
                       "target": {"walk_id": walk_id}, "locale": "fr",
                       "fields": [["theme", str(theme_id)], ["seen", f"Point {i}"], ["caption", f"Photo {i}"]],
                       "photos": [{"slot": 0, "name": "photo", "sha": hashlib.sha256(photo).hexdigest()}]
                       if photo else []}, photo))
    server.start()
    client = Client(server.port)
    client.login()
    done = threading.Event()
    acked = []

    errors = []

    def outbox():
        pending = list(queue)
        try:
            while pending:
                item, photo = pending[0]
                if client.send(item, photo):
                    acked.append(item["client_id"])
                    pending.pop(0)
                else:
                    time.sleep(0.05)  # outbox.js backs off; the test need not wait long
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        done.set()

    thread = threading.Thread(target=outbox, daemon=True)
    thread.start()
    kills = 0
    try:
        while kills < KILLS and not done.is_set():
            # Kill at a moment when a request is in flight: as soon as more items have gone through.
            target = len(acked) + 8
            while len(acked) < target and not done.is_set():
                time.sleep(0.005)
            if done.is_set():
                break
            server.kill()
            kills += 1
            time.sleep(0.2)
            server.start()
        assert done.wait(120), f"the queue did not empty: {len(acked)} of {N}"
    finally:
        server.kill()
    assert not errors, f"the sender stopped on {errors[0]!r}"
    assert kills == KILLS, "the sync finished before every kill: raise N"
    assert sorted(acked) == sorted(item["client_id"] for item, _p in queue)
    with sqlite3.connect(server.db) as c:
        rows = c.execute("SELECT client_id, count(*) FROM walk_observations WHERE walk_id = ? GROUP BY client_id",
                         (walk_id,)).fetchall()
        receipts = c.execute("SELECT count(*) FROM field_receipts").fetchone()[0]
        with_photo = dict(c.execute(
            "SELECT o.client_id, count(p.sha) FROM walk_observations o LEFT JOIN walk_observation_photos p "
            "ON p.observation_id = o.id WHERE o.walk_id = ? GROUP BY o.client_id", (walk_id,)).fetchall())
    mine = {cid: n for cid, n in rows if cid in set(acked)}
    assert len(mine) == N and set(mine.values()) == {1}
    assert sum(n for _cid, n in rows) == before + N
    assert receipts == N
    assert all(with_photo[item["client_id"]] == (1 if photo else 0) for item, photo in queue)
