"""Field mode: how long a tablet takes to empty an outbox of 500 queued submissions.

A fresh PostgreSQL database with the demo, gunicorn (2 workers × 4 threads) on 127.0.0.1; the
demo mediator logs in, then sends 500 walk observations one at a time exactly as outbox.js does
(GET /field/api/config for the token, PUT each photo with its hash, POST the submission); one in
five carries a 1600 px photo. Then the same 500 again (a device replaying its outbox: all must
come back "duplicate"). Prints totals, items/s and per-item p50 / p95 / max latency. Usage:
    .venv/bin/python bench/field_sync.py [N]
"""
from __future__ import annotations

import hashlib
import http.client
import io
import json
import random
import re
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import demo_database, gunicorn, percentile, request  # noqa: E402

PORT = 8771


def photo(seed: int) -> bytes:
    """A 1600 × 1200 JPEG with some texture (a flat colour would compress to nothing)."""
    from PIL import Image

    rnd = random.Random(seed)
    im = Image.effect_noise((400, 300), 40 + seed % 20).convert("RGB").resize((1600, 1200))
    im = Image.blend(im, Image.new("RGB", im.size, (rnd.randrange(256), 120, 80)), 0.5)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def call(conn, method, path, cookies, body=None, headers=None):
    h = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), **(headers or {})}
    conn.request(method, path, body=body, headers=h)
    resp = conn.getresponse()
    data = resp.read()
    for header, value in resp.getheaders():  # the token lives in the session cookie
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            cookies[name] = rest.split(";", 1)[0]
    return resp.status, data


def main(n: int) -> None:
    with demo_database() as (url, env), gunicorn(env, PORT, workers=2):
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.connect() as c:
            walk_id, theme_id = c.execute(sa.text(
                "SELECT w.id, t.id FROM walks w JOIN walk_themes t ON t.walk_id = w.id "
                "JOIN neighbourhoods n ON n.id = w.neighbourhood_id "  # the mediator's own QPV
                "WHERE w.status != 'published' AND n.qpv_code = 'QN01322M' ORDER BY w.id, t.position LIMIT 1")).one()
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        cookies: dict = {}
        _s, _l, page = request(conn, "GET", "/login", cookies)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        status, _l, _p = request(conn, "POST", "/login", cookies, urlencode(
            {"csrf_token": token, "email": "mediateur@amp.demo", "password": "demo-participation-2026"}))
        assert status == 302, status
        photos = [photo(i) for i in range(5)]
        items = []
        for i in range(n):
            data = photos[i % 5] if i % 5 == 0 else None
            items.append((data, {
                "client_id": str(uuid.uuid4()), "kind": "walk_observation", "form_version": 1,
                "target": {"walk_id": walk_id}, "locale": "fr",
                "fields": [["theme", str(theme_id)], ["rating", str(1 + i % 5)],
                           ["seen", f"Observation {i} : trottoir encombré"], ["caption", "Le trottoir"],
                           ["lat", "43.3301"], ["lon", "5.4102"], ["location_source", "gps"]],
                "photos": [{"slot": 0, "name": "photo", "sha": hashlib.sha256(data).hexdigest()}] if data else [],
            }))

        def sync(expected: set[int]) -> tuple[float, list[float]]:
            times = []
            start = time.perf_counter()
            status, body = call(conn, "GET", "/field/api/config", cookies)
            csrf = json.loads(body)["csrf_token"]
            for data, item in items:
                t = time.perf_counter()
                if data:
                    status, body = call(conn, "PUT", f"/field/api/photos/{item['client_id']}/0", cookies, data,
                                        {"X-Photo-SHA256": hashlib.sha256(data).hexdigest(), "X-CSRFToken": csrf,
                                         "Content-Type": "image/jpeg"})
                    assert status in (200, 201), (status, body)
                status, body = call(conn, "POST", "/field/api/submissions", cookies, json.dumps(item),
                                    {"Content-Type": "application/json", "X-CSRFToken": csrf})
                assert status in expected, (status, body)
                times.append((time.perf_counter() - t) * 1000)
            return time.perf_counter() - start, times

        total, times = sync({201})
        print(f"first sync: {n} submissions ({n // 5} with a photo) in {total:.1f} s = {n / total:.0f}/s; "
              f"per item p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms, "
              f"max {max(times):.0f} ms")
        total, times = sync({200})
        print(f"replay of the same outbox: {n} duplicates in {total:.1f} s = {n / total:.0f}/s; "
              f"per item p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms")
        with engine.connect() as c:
            count = c.execute(sa.text("SELECT count(*) FROM walk_observations WHERE walk_id = :w"),
                              {"w": walk_id}).scalar_one()
        print(f"observations on the walk afterwards: {count} (expected {n} + the demo's own)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
