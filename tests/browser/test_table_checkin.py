"""A table de quartier meeting, on phones: a resident scans the QR code in the room and checks in
with an age band; the facilitator sees the count, keys the paper sign-in sheet, and prints the
check-in sheet whose QR code opens the check-in page. axe on every page, in French and Arabic."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _require_chromium, login, serve_demo

pytestmark = pytest.mark.browser

FAC = "animatrice@amp.demo"
#: ids of the meetings made for this module, one per language (so the counts do not mix).
MEETINGS: dict[str, dict] = {}


@pytest.fixture(scope="module")
def live_server():
    """The conftest's live server, plus a table of Marseille with a meeting under way per
    language (the demo data may have none whose check-in is open now)."""
    _require_chromium()
    import sqlalchemy as sa

    from participation.core.territories import Contract
    from participation.extensions import db

    from ..tables.access_cases_attendance import make_meeting, make_table

    def meetings(_app):
        amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
        table = make_table(amp, name="Table de quartier de Frais Vallon et La Cayolle")
        for lang in ("fr", "ar"):
            m = make_meeting(table, title=f"Réunion ({lang})", place="Centre social", interpreted=["ar", "tr"])
            MEETINGS[lang] = {"id": m.id, "key": m.checkin_key, "table": table.id}

    with serve_demo("browser_tables", prepare=meetings) as (_app, url):
        yield url


def _decode_qr(png: bytes) -> str:
    import io

    import zxingcpp
    from PIL import Image

    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return barcode.text


def test_a_resident_checks_in_and_the_facilitator_counts_the_room(open_browsing, live_server, lang):
    meeting = MEETINGS[lang]
    checkin_path = f"/t/m/{meeting['id']}/checkin/{meeting['key']}"

    # The resident's phone, from the QR code on the wall.
    phone = open_browsing(lang)
    phone.visit(f"{checkin_path}?lang={lang}")
    phone.assert_language(lang)
    phone.page.locator("details.checkin-more > summary").click()
    phone.page.locator("label[for='age_band-25_39']").click()
    phone.check()
    with phone.page.expect_navigation():
        phone.page.locator("details.checkin-more button[type=submit]").click()
    assert "done=1" in phone.page.url
    expect(phone.page.locator("h1")).to_be_visible()
    phone.check()

    # The facilitator's phone: the count, the paper sheet.
    staff = open_browsing(lang)
    login(staff, FAC, lang)
    staff.visit(f"/admin/tables/meetings/{meeting['id']}/attendance")
    expect(staff.page.locator("#count-web")).to_have_text("1")
    staff.page.fill("#total", "12")
    staff.page.fill("#age_band-25_39", "4")
    with staff.page.expect_navigation():
        staff.page.locator("#paper button[type=submit]").click()
    staff.check()
    expect(staff.page.locator("#count-paper")).to_have_text("12")
    expect(staff.page.locator("#count-total")).to_have_text("13")

    # A breakdown over the total: the message sits next to it (and the page stays accessible).
    staff.page.fill("#gender-woman", "40")
    with staff.page.expect_navigation():
        staff.page.locator("#paper button[type=submit]").click()
    staff.check(expect_errors=True)
    expect(staff.page.locator("#gender-error")).to_be_visible()

    # The sheet to print: its QR code opens the check-in page.
    staff.visit(f"/admin/tables/meetings/{meeting['id']}/checkin-sheet")
    png = staff.page.locator("#checkin-qr").screenshot()
    assert _decode_qr(png) == f"{live_server}{checkin_path}"

    # The table's figures and interpellations pages.
    staff.visit(f"/admin/tables/{meeting['table']}/figures")
    staff.visit(f"/admin/tables/{meeting['table']}/interpellations")
    staff.visit(f"/admin/tables/{meeting['table']}/interpellations/new")
    assert re.search(r"/interpellations/new", staff.page.url)


def test_the_checkin_sheet_prints_on_one_a4_page(open_browsing):
    """French plus the two interpreted languages (Arabic, Turkish) still fit one A4 page."""
    staff = open_browsing("fr")
    login(staff, FAC, "fr")
    staff.visit(f"/admin/tables/meetings/{MEETINGS['fr']['id']}/checkin-sheet")
    pdf = staff.page.pdf(prefer_css_page_size=True)
    pages = re.findall(rb"/Type\s*/Page(?!s)", pdf)
    assert len(pages) == 1, f"the check-in sheet prints on {len(pages)} pages"
    # …and nothing is cut off by the one-page box: the last language's text ends inside it.
    staff.page.emulate_media(media="print")
    sheet = staff.page.locator(".checkin-sheet").bounding_box()
    last = staff.page.locator(".checkin-sheet-text").last.bounding_box()
    assert last["y"] + last["height"] <= sheet["y"] + sheet["height"]
