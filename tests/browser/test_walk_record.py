"""A group records a walk on phones: the facilitator reads the participants' recording link on the
demo planned walk's page; a walker opens it on a phone (360 × 740) and records 10 observations
with photos, a theme, the smiley scale, and a place given by the device's position, a tap on the
map or a stop of the route; the page then counts 10 more. axe on every page, in French and
Arabic. Without JavaScript, the same form still records (a stop and a photo row)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from participation.walks import demo as walk_demo
from tests.browser.conftest import login

pytestmark = pytest.mark.browser

FAC = "animatrice@amp.demo"
N = 10
#: Near the demo route in Malpassé Corot (the device's position given to the browser).
HERE = {"latitude": 43.33110, "longitude": 5.41400, "accuracy": 15}


def _photo(tmp_path: Path, name: str, color, size=(640, 480), fmt="PNG") -> str:
    path = tmp_path / name
    Image.new("RGB", size, color).save(path, fmt)
    return str(path)


def _big_photo(tmp_path: Path) -> str:
    """A camera-sized JPEG (over 1 MB), which the page shrinks before sending."""
    path = tmp_path / "camera.jpg"
    size = (2400, 1600)
    noise = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    noise.save(path, "JPEG", quality=92)
    assert path.stat().st_size > 1024 * 1024
    return str(path)


def _recording_link(web, lang: str) -> str:
    """The facilitator's view of the planned walk shows the link of its QR code."""
    page = web.page
    login(web, FAC, lang)
    web.visit(f"/admin/walks/?lang={lang}")
    titles = [walk_demo.PLANNED_TITLE, getattr(walk_demo, "PLANNED_TITLE_AR", walk_demo.PLANNED_TITLE)]
    link = page.locator("main a").filter(has_text=re.compile("|".join(re.escape(t) for t in titles))).first
    with page.expect_navigation():
        link.click()
    web.check()
    url = page.locator(".walk-record-link").inner_text().strip()
    assert re.search(r"/w/\d+/record/[A-Za-z0-9_-]+$", url), url
    return url


def _count(page) -> int:
    return int(re.search(r"\d+", page.locator("#record-count").inner_text()).group(0))


def _send(web) -> None:
    page = web.page
    with page.expect_navigation():
        page.locator("button.record-send").click()
    assert page.locator(".flash-success").count() == 1, page.locator("main").inner_text()[:500]
    web.check()


def test_a_walker_records_ten_observations_with_photos_on_a_phone(open_browsing, lang, tmp_path):
    staff = open_browsing(lang)
    url = _recording_link(staff, lang)

    walker = open_browsing(lang)
    context = walker.page.context
    context.grant_permissions(["geolocation"], origin=walker.base)
    context.set_geolocation(HERE)
    page = walker.page
    walker.visit(f"{url}?lang={lang}")
    before = _count(page)
    themes = page.locator(".record-themes input[type=radio]")
    stops = page.locator("#waypoint option")
    assert themes.count() >= 9 and stops.count() == 5
    assert page.locator("[data-record-map]").is_visible() and page.locator("[data-gps-button]").is_visible()
    assert page.locator(".record-photo-file").first.is_hidden()  # the picker replaces the rows
    photos = [_photo(tmp_path, f"p{i}.png", (20 * i, 120, 200 - 15 * i)) for i in range(N)]
    markers = 0

    for i in range(N):
        themes.nth(i % (themes.count() - 1)).check()
        page.locator(f"label[for=rating-{i % 5 + 1}]").click()
        page.fill("#seen", f"Observation {i + 1} : un point noté pendant la marche.")
        if i % 3 == 0:
            page.fill("#quote", "On ne passe jamais ici le soir.")
        # Photos: one each, two for the second, a camera-sized one for the fourth.
        files = [photos[i]] + ([photos[(i + 1) % N]] if i == 1 else [])
        if i == 3:
            files = [_big_photo(tmp_path)]
        page.set_input_files("#photo-picker", files)
        shown = page.locator("[data-photo-row]:not([hidden])")
        shown.nth(len(files) - 1).locator("img[data-photo-preview]").wait_for()
        assert shown.count() == len(files)
        if i == 3:  # shrunk on the phone before sending
            sent = page.evaluate(
                "document.querySelector('[data-photo-row]:not([hidden]) input[type=file]').files[0].size")
            assert sent < os.path.getsize(files[0]), sent
        for j in range(len(files)):
            shown.nth(j).locator("input[name=caption]").fill(f"Photo {j + 1} du point {i + 1}")
        if i == 0:
            walker.check()  # the form with photos chosen, their previews and captions
        # Where: the device's position once, a tap on the map for some, a stop for others.
        if i == 0:
            page.locator("[data-gps-button]").click()
            # (not wait_for_function: when its first check fails it polls with eval(), which
            # the CSP forbids; a busy machine made that happen. expect() polls from outside.)
            expect(page.locator("[data-lat]")).not_to_have_value("")
            assert page.locator("[data-source]").input_value() == "gps"
            assert "15" in page.locator("[data-position-status]").inner_text()
            markers += 1
        elif i % 2 == 1:
            page.locator("#record-map").scroll_into_view_if_needed()
            box = page.locator("#record-map").bounding_box()
            page.mouse.click(box["x"] + box["width"] * (0.3 + 0.04 * i), box["y"] + box["height"] * 0.5)
            assert page.locator("[data-source]").input_value() == "map"
            assert page.locator("#record-map .walk-map-point.is-new").count() == 1
            lat, lon = float(page.locator("[data-lat]").input_value()), float(page.locator("[data-lon]").input_value())
            assert 43.30 < lat < 43.36 and 5.38 < lon < 5.45, (lat, lon)
            markers += 1
        else:
            page.select_option("#waypoint", index=1 + i % 4)
            markers += 1  # the demo's stops all have coordinates
        _send(walker)

    assert _count(page) == before + N
    mine = page.locator(".record-observations li")
    assert mine.count() == N
    assert page.locator("#record-map .walk-map-point").count() == markers
    text = page.locator(".record-observations").inner_text()
    assert text.count("Observation ") == N

    # The facilitator sees them too, on the staff form of the same walk.
    staff.page.locator("a[href$='/record']").first.click()
    staff.page.wait_for_load_state()
    staff.check()
    assert _count(staff.page) == before + N


def test_without_javascript_the_form_records_with_a_stop_and_a_photo(open_browsing, lang, tmp_path):
    staff = open_browsing(lang)
    url = _recording_link(staff, lang)
    walker = open_browsing(lang, js=False)
    page = walker.page
    walker.visit(f"{url}?lang={lang}")
    before = _count(page)
    assert page.locator("[data-record-map]").is_hidden() and page.locator("[data-gps]").is_hidden()
    page.locator("label[for=rating-1]").click()
    page.fill("#seen", "Sans JavaScript : trottoir encombré.")
    page.select_option("#waypoint", index=2)
    page.set_input_files("#photo-2", _photo(tmp_path, "nojs.jpg", "purple", fmt="JPEG"))
    page.fill("#caption-2", "Un trottoir encombré")
    with page.expect_navigation():
        page.locator("button.record-send").click()
    walker.check()
    assert page.locator(".flash-success").count() == 1
    assert _count(page) == before + 1
    assert "Sans JavaScript" in page.locator(".record-observations").inner_text()


def test_a_refused_position_and_an_empty_form_are_explained_in_words(open_browsing, lang):
    staff = open_browsing(lang)
    url = _recording_link(staff, lang)
    walker = open_browsing(lang)  # no geolocation permission granted: the browser refuses
    page = walker.page
    walker.visit(f"{url}?lang={lang}")
    page.locator("[data-gps-button]").click()
    denied = page.locator("#record-form").get_attribute("data-msg-denied")
    expect(page.locator("[data-position-status]")).not_to_be_empty()
    expect(page.locator("[data-gps-button]")).to_be_enabled()
    assert page.locator("[data-position-status]").inner_text() == denied
    assert page.locator("[data-lat]").input_value() == ""
    walker.check()
    # Sent empty: the form comes back with the problem at the field (and passes axe too).
    with page.expect_navigation():
        page.locator("button.record-send").click()
    assert page.locator("#seen-error").is_visible() and page.locator("#seen[aria-invalid=true]").count() == 1
    walker.check(expect_errors=True)
