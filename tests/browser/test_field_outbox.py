"""Field mode on a tablet, in French and Arabic: a mediator takes a walk's recording form offline,
loses the connection, records three observations with photos (kept in the outbox, counted in
the header), reloads (still three), gets the connection back and finds each observation exactly
once on the server; the same items sent again, or their exported file imported, add nothing.
Logging out warns while something waits and, once the outbox is empty, leaves nothing on the
device (IndexedDB, caches, service worker, localStorage). axe-core on /field/ and the offline page."""
from __future__ import annotations

import gc
import json
import re
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

MEDIATOR = "mediateur@amp.demo"
FACILITATOR = "animatrice@amp.demo"  # Marseille: may record on the mediator's walks too
SYNC_TIMEOUT = 30_000


def live_app() -> Flask:
    # The shared live server's app (as in test_walk_follow_up.py).
    shared = re.compile(r"(/browser\.sqlite|participation_test_browser_[0-9a-f]{8})$")
    apps = [o for o in gc.get_objects()
            if type(o) is Flask and shared.search(o.config["SQLALCHEMY_DATABASE_URI"])]
    assert len(apps) == 1, apps
    return apps[0]


def seed(lang: str, suffix: str) -> int:
    """A walk of its own in the mediator's neighbourhood, planned yesterday: neither "held" (the
    demo journeys count held walks) nor listed as coming up on the neighbourhood's page."""
    from participation.core.territories import Neighbourhood
    from participation.extensions import db
    from participation.walks import services

    with live_app().app_context():
        hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
        walk = services.create_walk(hood, f"Marche hors connexion {suffix} ({lang})", date.today() - timedelta(days=1))
        db.session.commit()
        walk_id = walk.id
        db.session.remove()
    return walk_id


def recorded(walk_id: int) -> list[tuple[str, int]]:
    """(what was seen, number of photos) of each observation of the walk."""
    from participation.extensions import db
    from participation.walks.models import Observation

    with live_app().app_context():
        rows = db.session.scalars(sa.select(Observation).filter_by(walk_id=walk_id).order_by(Observation.number))
        out = [(o.seen, len(o.photos)) for o in rows]
        db.session.remove()
    return out


def receipts(client_ids: list[str]) -> int:
    from participation.extensions import db
    from participation.field.models import Receipt

    with live_app().app_context():
        n = db.session.scalar(sa.select(sa.func.count()).select_from(Receipt).where(Receipt.client_id.in_(client_ids)))
        db.session.remove()
    return n


def _photo(tmp_path: Path, name: str, color, size=(900, 600)) -> str:
    path = tmp_path / name
    Image.new("RGB", size, color).save(path, "PNG")
    return str(path)


def strings(page) -> dict:
    return page.evaluate("JSON.parse(document.getElementById('field-config').textContent).strings")


def count_text(page, n: int) -> str:
    return strings(page)["count"].replace("{count}", str(n))


def badge(page):
    """The header's count, as screen readers hear it (the screen shows the number alone)."""
    return page.locator("[data-outbox-badge] [data-outbox-badge-text]")


OUTBOX_ITEMS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("participation-field");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const get = open.result.transaction("outbox").objectStore("outbox").getAll();
    get.onsuccess = () => { open.result.close(); resolve(get.result); };
  };
})"""

# Put items back into the outbox as they were before being sent (a device restoring a backup,
# a second tab that missed the deletion...).
REPLAY = """items => new Promise((resolve, reject) => {
  const open = indexedDB.open("participation-field");
  open.onsuccess = () => {
    const tx = open.result.transaction("outbox", "readwrite");
    for (const item of items) { item.status = "waiting"; tx.objectStore("outbox").put(item); }
    tx.oncomplete = () => { open.result.close(); resolve(items.length); };
    tx.onerror = () => reject(tx.error);
  };
})"""

ACTIVE_WORKER = "async () => !!((await navigator.serviceWorker.getRegistration()) || {}).active"

DEVICE_STATE = """async () => ({
  databases: (await indexedDB.databases()).map(d => d.name),
  caches: await caches.keys(),
  workers: (await navigator.serviceWorker.getRegistrations()).length,
  local: localStorage.length,
})"""


def wait_until(page, script: str, timeout: float = 15) -> None:
    """Poll `script` (a function, awaited) until it answers true. (page.wait_for_function evaluates
    a string in the page, which the app's CSP forbids; page.evaluate goes through DevTools.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {script}"
        page.wait_for_timeout(100)


def take_offline(web, url: str) -> None:
    """On /field/: wait for the service worker, then keep `url` on the device."""
    page = web.page
    # (The worker may take over after this page was loaded: it then serves the next navigations,
    # not this page, so "active" is what counts.)
    wait_until(page, ACTIVE_WORKER)
    # The field page keeps itself (the outbox must be reachable offline).
    wait_until(page, "async () => !!(await caches.match(location.pathname))")
    toggle = page.locator(f"[data-offline-form='{url}'] [data-take-offline]")
    expect(toggle).to_be_visible()
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true", timeout=SYNC_TIMEOUT)
    assert page.evaluate("async url => !!(await caches.match(url))", url)


def fill_observation(page, tmp_path: Path, lang: str, i: int, photos: int, size=(900, 600)) -> str:
    seen = f"Hors connexion {lang} {i}: un trottoir défoncé."
    themes = page.locator(".record-themes input[type=radio]")
    themes.nth(i).check()
    page.locator(f"label[for=rating-{i + 1}]").click()
    page.fill("#seen", seen)
    page.fill("#address", f"{i + 10} rue des Lilas")
    files = [_photo(tmp_path, f"{lang}-{i}-{j}.png", (40 * i, 100 + 50 * j, 160), size) for j in range(photos)]
    page.set_input_files("#photo-picker", files)
    shown = page.locator("[data-photo-row]:not([hidden])")
    expect(shown).to_have_count(photos)
    for j in range(photos):
        shown.nth(j).locator("img[data-photo-preview]").wait_for()
        shown.nth(j).locator("input[name=caption]").fill(f"Photo {j + 1} du point {i + 1}")
    return seen


def test_observations_recorded_offline_arrive_once(open_browsing, lang, tmp_path):
    walk_id = seed(lang, "A")
    web = open_browsing(lang)
    page, context = web.page, web.page.context
    login(web, MEDIATOR, lang)
    form_url = f"/admin/walks/{walk_id}/record"

    web.visit("/field/")
    take_offline(web, form_url)
    expect(badge(page)).to_have_text(count_text(page, 0))
    web.check()

    # No connection from here on: the pages come from the service worker.
    context.set_offline(True)
    response = page.reload()
    assert response is not None and response.from_service_worker
    assert page.locator("[data-offline-form]").count() >= 1
    # A page that was not kept: the offline page.
    response = page.goto(web.url("/admin/"))
    assert response is not None and response.from_service_worker
    expect(page.locator("#offline-title")).to_have_count(1)
    expect(page.locator("main a[href='/field/']")).to_have_count(1)
    web.check()
    response = page.goto(web.url(form_url))
    assert response is not None and response.from_service_worker
    assert page.locator("form[data-outbox=walk_observation]").count() == 1
    queued = strings(page)["queued"]
    seen = []
    for i, photos in enumerate((1, 2, 1)):
        # The last one is a camera-sized photo: kept shrunk to 1600 px.
        seen.append(fill_observation(page, tmp_path, lang, i, photos, size=(3200, 1800) if i == 2 else (900, 600)))
        page.locator("button.record-send").click()
        expect(page.locator("[data-outbox-status-text]")).to_have_text(queued)
        expect(badge(page)).to_have_text(count_text(page, i + 1))
        # The form is empty again, ready for the next observation.
        expect(page.locator("[data-photo-row]:not([hidden])")).to_have_count(0)
        assert page.locator("#seen").input_value() == ""
    web.check()

    # A reload without a connection loses nothing.
    page.reload()
    expect(badge(page)).to_have_text(count_text(page, 3))
    expect(page.locator("[data-outbox-badge-number]")).to_have_text("3")
    items = page.evaluate(OUTBOX_ITEMS)
    assert len(items) == 3 and len({i["client_id"] for i in items}) == 3
    assert sorted(len(i["photos"]) for i in items) == [1, 1, 2]
    assert all(i["status"] == "waiting" and i["kind"] == "walk_observation" for i in items)
    assert all(p["type"] == "image/jpeg" and len(p["sha"]) == 64 for i in items for p in i["photos"])
    sides = page.evaluate(f"""async () => Promise.all((await ({OUTBOX_ITEMS})()).flatMap(i => i.photos)
        .map(p => createImageBitmap(p.blob).then(b => Math.max(b.width, b.height))))""")
    assert sorted(sides) == [900, 900, 900, 1600], sides
    client_ids = [i["client_id"] for i in items]

    # The field page, offline: the three items, and an export to a file.
    page.goto(web.url("/field/"))
    expect(page.locator("[data-field-items] > li")).to_have_count(3)
    web.check()
    with page.expect_download() as download:
        page.locator("[data-field-export]").click()
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert exported["format"] == "participation-outbox" and exported["version"] == 1
    assert sorted(i["client_id"] for i in exported["items"]) == sorted(client_ids)
    assert all(p["data"] for i in exported["items"] for p in i["photos"])
    export_path = tmp_path / "outbox.json"
    export_path.write_text(json.dumps(exported), encoding="utf-8")
    page.evaluate(f"async () => {{ window.kept = await ({OUTBOX_ITEMS})(); }}")
    assert recorded(walk_id) == []

    # The connection comes back: everything is sent, once.
    page.evaluate("() => { window.cameOnline = false; addEventListener('online', () => { window.cameOnline = true; }); }")
    context.set_offline(False)
    expect(badge(page)).to_have_text(count_text(page, 0), timeout=SYNC_TIMEOUT)
    assert page.evaluate("window.cameOnline")  # what started the sending
    expect(page.locator("[data-field-sent]")).not_to_be_empty()
    assert sorted(recorded(walk_id)) == sorted(zip(seen, (1, 2, 1)))
    assert receipts(client_ids) == 3

    # The same items again (restored into IndexedDB): answered "already received", nothing added.
    assert page.evaluate(f"() => ({REPLAY})(window.kept)") == 3
    page.evaluate("() => window.fieldOutbox.sendAll()")
    expect(badge(page)).to_have_text(count_text(page, 0), timeout=SYNC_TIMEOUT)
    assert len(recorded(walk_id)) == 3 and receipts(client_ids) == 3

    # The exported file, imported from another computer: nothing added either.
    web.visit("/field/import")
    page.set_input_files("#outbox", str(export_path))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    expect(page.locator(".import-duplicate")).to_have_count(3)
    assert len(recorded(walk_id)) == 3 and receipts(client_ids) == 3

    # Logging out with an entry waiting: a warning instead.
    web.visit(form_url)
    context.set_offline(True)
    fill_observation(page, tmp_path, lang, 3, 1)
    page.locator("button.record-send").click()
    expect(badge(page)).to_have_text(count_text(page, 1))
    page.locator("form[data-logout] button").click()
    warning = page.locator("[data-logout-warning]")
    expect(warning).to_be_visible()
    expect(warning.locator("[data-logout-warning-count]")).to_have_text(count_text(page, 1))
    warning.locator("[data-logout-cancel]").click()
    expect(warning).to_be_hidden()

    # Back online it is sent; logging out then wipes the device.
    context.set_offline(False)
    expect(badge(page)).to_have_text(count_text(page, 0), timeout=SYNC_TIMEOUT)
    assert len(recorded(walk_id)) == 4
    with page.expect_navigation():
        page.locator("form[data-logout] button").click()
    page.wait_for_load_state()
    assert page.locator(".flash").count() == 1
    assert page.locator("form[data-logout]").count() == 0
    state = page.evaluate(DEVICE_STATE)
    assert state == {"databases": [], "caches": [], "workers": 0, "local": 0}, state
    web.check()


def test_entries_of_another_account_wait_for_it_and_logout_can_delete_them(open_browsing, lang, tmp_path):
    """The mediator's login ends with an entry waiting; a facilitator then logs in on the same
    tablet. The entry is never sent under her account (it waits for its owner), the pages kept
    for him are dropped; logging out warns, and "log out and delete them" leaves nothing."""
    walk_id = seed(lang, "B")
    form_url = f"/admin/walks/{walk_id}/record"
    web = open_browsing(lang)
    page = web.page
    login(web, MEDIATOR, lang)
    web.visit("/field/")
    take_offline(web, form_url)
    page.context.set_offline(True)
    page.goto(web.url(form_url))
    fill_observation(page, tmp_path, lang, 0, 1)
    page.locator("button.record-send").click()
    expect(badge(page)).to_have_text(count_text(page, 1))
    revoke(MEDIATOR)
    page.context.set_offline(False)
    expect(page.locator("[data-outbox-status-text]")).to_have_text(strings(page)["login"], timeout=SYNC_TIMEOUT)
    forget_login_answers(web)

    login(web, FACILITATOR, lang)  # she may record on this walk too: sending it would succeed
    page.evaluate("() => window.fieldOutbox.sendAll()")
    expect(badge(page)).to_have_text(count_text(page, 1))
    assert recorded(walk_id) == []
    wait_until(page, f"async () => !(await caches.match({json.dumps(form_url)}))")
    web.visit("/field/")
    item = page.locator("[data-field-items] > li")
    expect(item).to_have_count(1)
    expect(item.locator(".field-item-status")).to_have_text(strings(page)["status_other_user"])
    expect(item.locator("button")).to_have_count(0)  # neither sent nor deleted by someone else
    expect(page.locator(f"[data-offline-form='{form_url}'] [data-take-offline]")).to_have_attribute(
        "aria-pressed", "false")
    web.check()

    page.locator("form[data-logout] button").click()
    warning = page.locator("[data-logout-warning]")
    expect(warning).to_be_visible()
    with page.expect_navigation():
        warning.locator("[data-logout-anyway]").click()
    page.wait_for_load_state()
    assert page.locator("form[data-logout]").count() == 0
    state = page.evaluate(DEVICE_STATE)
    assert state == {"databases": [], "caches": [], "workers": 0, "local": 0}, state
    assert recorded(walk_id) == []


def revoke(email: str) -> None:
    from participation.accounts import services
    from participation.core.users import User
    from participation.extensions import db

    with live_app().app_context():
        services.revoke_all_sessions(db.session.scalar(sa.select(User).filter_by(email=email)))
        db.session.commit()
        db.session.remove()


def forget_login_answers(web) -> None:
    """The API's 401 (log in again) is the answer a step waits for, not a failure of the page."""
    web.failed_loads[:] = [e for e in web.failed_loads if not re.match(r"HTTP 401 \S+/field/api/", e)]


SET_SHIFT_END = """ends => new Promise(resolve => {
  const open = indexedDB.open("participation-field");
  open.onsuccess = () => {
    const tx = open.result.transaction("meta", "readwrite");
    tx.objectStore("meta").put(ends, "shift_ends_at");
    tx.oncomplete = () => { open.result.close(); resolve(); };
  };
})"""


def test_a_revoked_login_keeps_the_entries_and_kept_forms_close_after_the_shift(open_browsing, lang, tmp_path):
    walk_id = seed(lang, "C")
    web = open_browsing(lang)
    page, context = web.page, web.page.context
    login(web, MEDIATOR, lang)
    form_url = f"/admin/walks/{walk_id}/record"
    web.visit("/field/")
    take_offline(web, form_url)
    context.set_offline(True)
    page.goto(web.url(form_url))
    fill_observation(page, tmp_path, lang, 0, 1)
    page.locator("button.record-send").click()
    expect(badge(page)).to_have_text(count_text(page, 1))

    # Meanwhile the login is revoked (an administrator, a lost tablet): the entry waits, and the
    # mediator is asked to log in again.
    revoke(MEDIATOR)
    context.set_offline(False)
    expect(page.locator("[data-outbox-status-text]")).to_have_text(strings(page)["login"], timeout=SYNC_TIMEOUT)
    assert len(page.evaluate(OUTBOX_ITEMS)) == 1 and recorded(walk_id) == []
    forget_login_answers(web)

    # Offline after the end of the shift, a kept form no longer opens; the field page still does
    # (to export what waits).
    context.set_offline(True)
    page.evaluate(f"() => ({SET_SHIFT_END})('2000-01-01T00:00:00Z')")
    response = page.goto(web.url(form_url))
    assert response is not None and response.from_service_worker
    expect(page.locator("#offline-title")).to_have_count(1)
    expect(page.locator("main a[href^='/login']")).to_have_count(1)  # only after the shift
    assert page.locator("form[data-outbox]").count() == 0
    web.check()
    page.goto(web.url("/field/"))
    expect(page.locator("[data-field-items] > li")).to_have_count(1)

    # Back online, the field page asks for a login too; logged in again (same account), the
    # entry is sent.
    context.set_offline(False)
    expect(page.locator("[data-field-state]")).to_have_text(strings(page)["login"], timeout=SYNC_TIMEOUT)
    expect(page.locator("[data-field-login]")).to_be_visible()
    forget_login_answers(web)
    login(web, MEDIATOR, lang)
    expect(badge(page)).to_have_text(count_text(page, 0), timeout=SYNC_TIMEOUT)
    assert len(recorded(walk_id)) == 1


def test_the_offline_pages_pass_axe(web, lang):
    web.visit(f"/field/offline?lang={lang}")
    assert web.page.locator("h1").count() == 1
    web.visit(f"/field/offline?reason=shift&lang={lang}")
    assert web.page.locator("a[href^='/login']").count() >= 1
