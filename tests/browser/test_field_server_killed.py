"""The server killed (kill -9) while a tablet's outbox is emptying, twice: the real outbox.js
keeps what was not acknowledged, backs off, resumes on its own when the server is back, and the
server ends with each observation exactly once (an item whose answer was lost with the server
is answered "already received" the next time).

The server here is a gunicorn process of its own (tests/field/server.py), not the shared live
server: it has to die."""
from __future__ import annotations

import sqlite3
import time

import pytest
from playwright.sync_api import expect

from ..field.server import Server
from .conftest import PHONE  # the same phone as every journey
from .test_field_outbox import OUTBOX_ITEMS, badge, count_text, take_offline

pytestmark = pytest.mark.browser

N = 12
KILLS = 2


class Web:
    """What take_offline() needs of a Browsing: a page."""

    def __init__(self, page):
        self.page = page


def _receipts(db) -> int:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT count(*) FROM field_receipts").fetchone()[0]


def test_the_outbox_resumes_after_the_server_was_killed_and_nothing_is_lost_or_doubled(browser, tmp_path):
    server = Server(tmp_path)
    server.setup()
    with sqlite3.connect(server.db) as c:
        walk_id = c.execute(
            "SELECT w.id FROM walks w JOIN neighbourhoods n ON n.id = w.neighbourhood_id "
            "WHERE w.status != 'published' AND n.qpv_code = 'QN01322M' ORDER BY w.id LIMIT 1").fetchone()[0]
        before = c.execute("SELECT count(*) FROM walk_observations WHERE walk_id = ?", (walk_id,)).fetchone()[0]
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    context = browser.new_context(viewport=PHONE, screen=PHONE, is_mobile=True, has_touch=True, locale="fr",
                                  timezone_id="Europe/Paris", base_url=base)
    page = context.new_page()
    try:
        page.goto("/login?lang=fr")
        page.fill("#email", "mediateur@amp.demo")
        page.fill("#password", "demo-participation-2026")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        form_url = f"/admin/walks/{walk_id}/record"
        page.goto("/field/")
        take_offline(Web(page), form_url)

        context.set_offline(True)
        page.goto(form_url)
        for i in range(N):
            page.locator(".record-themes input[type=radio]").nth(i % 5).check()
            page.fill("#seen", f"Point {i} relevé sans connexion")
            page.locator("button.record-send").click()
            expect(badge(page)).to_have_text(count_text(page, i + 1))
        items = page.evaluate(OUTBOX_ITEMS)
        assert len({i["client_id"] for i in items}) == N

        # The connection comes back; the server dies twice while the outbox empties.
        context.set_offline(False)
        kills = 0
        for threshold in (2, 6):
            deadline = time.monotonic() + 60
            while _receipts(server.db) < threshold:
                assert time.monotonic() < deadline, "the outbox did not start sending"
                time.sleep(0.01)
            server.kill()
            kills += 1
            time.sleep(1)  # requests in flight fail; the outbox backs off
            server.start()
        assert kills == KILLS
        # No "send now": the outbox's own timer must pick it up again.
        expect(badge(page)).to_have_text(count_text(page, 0), timeout=120_000)
        assert page.evaluate(OUTBOX_ITEMS) == []
    finally:
        context.close()
        server.kill()
    with sqlite3.connect(server.db) as c:
        rows = c.execute("SELECT client_id, count(*) FROM walk_observations WHERE walk_id = ? GROUP BY client_id",
                         (walk_id,)).fetchall()
        receipts = c.execute("SELECT count(*) FROM field_receipts").fetchone()[0]
    counts = dict(rows)
    assert all(counts.get(item["client_id"]) == 1 for item in items)
    assert sum(counts.values()) == before + N and receipts == N
