"""Questionnaire rush: N residents answer the demo barometer at once, against gunicorn + PostgreSQL.

Creates a fresh PostgreSQL database (migrations + demo data), starts gunicorn on 127.0.0.1
and runs N resident journeys from C client threads spread over P processes. A journey is
what a phone does without JavaScript: open the QR link, start, post every screen (the first
option of each choice question, a number, nothing in free text), then send; about 7 requests.
Prints the request rate, the submissions per second, latency percentiles of the final "send"
and of every screen, and checks the database: each journey that reached the thanks page
left exactly one response (lost 0, duplicates 0). Only 127.0.0.1 is contacted. Usage:
    .venv/bin/python bench/questionnaire_rush.py [residents=1000] [workers=2] [processes=2] [threads=8]
"""
from __future__ import annotations

import http.client
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import demo_database, gunicorn, percentile, request, run_clients  # noqa: E402

PORT = 8823


class FormReader(HTMLParser):
    """The fields of the first form whose class contains `css_class`, filled as a hurried
    resident would: hidden fields kept, the first option of each radio group and checkbox
    list, "2" in number fields; buttons named `go` collected."""

    def __init__(self, css_class: str):
        super().__init__()
        self.css_class, self.inside, self.done = css_class, False, False
        self.action, self.fields, self.buttons, self.chosen = "", [], [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and self.css_class in (a.get("class") or "").split():
            self.inside, self.action = True, a.get("action", "")
        if not self.inside:
            return
        name, kind = a.get("name"), (a.get("type") or "text")
        if tag == "button" and name == "go":
            self.buttons.append(a.get("value", ""))
        if tag != "input" or not name or "disabled" in a:
            return
        if kind == "hidden":
            self.fields.append((name, a.get("value", "")))
        elif kind in ("radio", "checkbox") and name not in self.chosen and not name.endswith("_other"):
            self.chosen.add(name)
            self.fields.append((name, a.get("value", "")))
        elif kind == "number":
            self.fields.append((name, "2"))

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside, self.done = False, True


def _read(html: str, css_class: str) -> FormReader:
    reader = FormReader(css_class)
    reader.feed(html)
    return reader


def resident_journey(qid: int, _item=None) -> tuple[str, float, list[float], int]:
    """Returns (outcome, send latency ms, screen latencies ms, requests made)."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    cookies: dict[str, str] = {}
    path = f"/q/{qid}"
    status, _, html = request(conn, "GET", path, cookies)
    if status != 200:
        return f"start page {status}", 0.0, [], 1
    form = _read(html, "q-start")
    body = urlencode(form.fields + [("go", "start")])
    screens: list[float] = []
    for n in range(2, 20):
        t = time.perf_counter()
        status, location, html = request(conn, "POST", path, cookies, body)
        screens.append((time.perf_counter() - t) * 1000)
        if status == 302 and location and "/thanks" in location:
            return "sent", screens[-1], screens[:-1], n
        if status != 200:
            return f"screen {status}", 0.0, screens, n
        form = _read(html, "q-form")
        go = "send" if "send" in form.buttons else "next"
        body = urlencode(form.fields + [("go", go)])
    return "never finished", 0.0, screens, 20


def main(residents: int, workers: int, processes: int, threads: int) -> None:
    import functools

    import sqlalchemy as sa

    # Every simulated resident comes from 127.0.0.1: the per-IP limit is lifted for the bench.
    with demo_database(QUESTIONNAIRE_POST_LIMIT="1000000 per minute") as (url, env):
        engine = sa.create_engine(url)
        count = sa.text("SELECT count(*) FROM questionnaire_responses WHERE questionnaire_id = :q")
        with engine.connect() as c:
            qid = c.execute(sa.text("SELECT id FROM questionnaires WHERE title = 'Baromètre du cadre de vie 2026'")).scalar()
            before = c.execute(count, {"q": qid}).scalar()
        with gunicorn(env, PORT, workers):
            results, elapsed = run_clients(functools.partial(resident_journey, qid), list(range(residents)),
                                           processes, threads)
        with engine.connect() as c:
            stored = c.execute(count, {"q": qid}).scalar() - before
        engine.dispose()
    sent = [r for r in results if r[0] == "sent"]
    failures = sorted({r[0] for r in results if r[0] != "sent"})
    sends = [r[1] for r in sent]
    screens = [x for r in results for x in r[2]]
    requests = sum(r[3] for r in results)
    print(f"Questionnaire rush: {residents} residents, gunicorn {workers} workers x 4 threads, PostgreSQL; "
          f"clients {processes} processes x {threads} threads")
    print(f"elapsed {elapsed:.1f} s, {requests} requests, {requests / elapsed:.0f} req/s, "
          f"{len(sent) / elapsed:.1f} questionnaires sent/s")
    print(f"send latency ms:   p50 {percentile(sends, 50):.0f}  p95 {percentile(sends, 95):.0f}  "
          f"p99 {percentile(sends, 99):.0f}  max {max(sends, default=float('nan')):.0f}")
    print(f"screen latency ms: p50 {percentile(screens, 50):.0f}  p95 {percentile(screens, 95):.0f}  "
          f"p99 {percentile(screens, 99):.0f}")
    print(f"sent {len(sent)}, failures {len(results) - len(sent)} {failures[:5]}")
    print(f"responses stored {stored}; lost {max(0, len(sent) - stored)}, duplicates {max(0, stored - len(sent))}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [1000, 2, 2, 8][len(args):]))
