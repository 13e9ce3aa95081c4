"""Resident journeys on a phone, in French and in Arabic: find one's neighbourhood, follow a
short link, scan a poster's QR code. axe-core checks every page reached."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from .conftest import OTHER_LANG, PHONE

pytestmark = pytest.mark.browser

CONTRACT = "/c/aix-marseille-provence"
FRAIS_VALLON = "/q/QN01322M"

#: Marseille's QPV in the demo data.
MARSEILLE = {"La Cayolle", "Air Bel", "Frais Vallon", "Malpassé Corot", "La Castellane La Bricarde"}


def card_names(page) -> list[str]:
    return [t.strip() for t in page.locator("#neighbourhood-list .card > a").all_inner_texts()]


def assert_mirrored(web) -> None:
    """In Arabic the header starts on the right: the brand link hugs the right edge and the
    language list runs leftwards; in French the opposite."""
    brand = web.page.locator(".site-header .brand").bounding_box()
    switcher = web.page.locator(".site-header .lang-switcher li").first.bounding_box()
    assert brand and switcher
    if web.lang == "ar":
        assert brand["x"] + brand["width"] > PHONE["width"] - 40, brand
        assert brand["x"] > PHONE["width"] / 2, brand
    else:
        assert brand["x"] < 40, brand
        assert brand["x"] < PHONE["width"] / 2, brand
    # The switcher list runs in the reading direction too.
    second = web.page.locator(".site-header .lang-switcher li").nth(1).bounding_box()
    if web.lang == "ar":
        assert second["x"] < switcher["x"], (switcher, second)
    else:
        assert second["x"] > switcher["x"], (switcher, second)


def test_find_neighbourhood_and_follow_short_link(web, lang):
    page = web.page

    # Home: the language comes from the phone's settings (Accept-Language).
    web.visit("/")
    web.assert_language(lang)
    assert_mirrored(web)

    # The language switcher: to the other language and back, then the choice is remembered.
    other = OTHER_LANG[lang]
    with page.expect_navigation():
        page.locator(f".lang-switcher a[hreflang={other}]").click()
    web.check()
    web.assert_language(other)
    with page.expect_navigation():
        page.locator(f".lang-switcher a[hreflang={lang}]").click()
    web.check()
    web.assert_language(lang)
    assert page.locator(f".lang-switcher a[hreflang={lang}]").get_attribute("aria-current") == "true"

    # Home → the contract page (a tap: this is a phone).
    with page.expect_navigation():
        page.locator(f'main .card a[href="{CONTRACT}"]').tap()
    assert page.url.startswith(web.base + CONTRACT)
    web.check()
    web.assert_language(lang)
    assert_mirrored(web)
    everything = card_names(page)
    assert len(everything) == 14 and "Frais Vallon" in everything and "Beisson" in everything

    # Typing filters the list through htmx, without reloading the page.
    # (wait_for_function() would need eval(), which the CSP forbids: expect() polls instead.)
    cards = page.locator("#neighbourhood-list .card")
    page.evaluate("window.__sameDocument = true")
    with page.expect_response(lambda r: CONTRACT in r.url and "q=Marseille" in r.url and r.request.headers.get("hx-request") == "true"):
        page.locator("#q").press_sequentially("Marseille", delay=20)
    expect(cards).to_have_count(5)
    assert set(card_names(page)) == MARSEILLE
    assert page.evaluate("window.__sameDocument") is True, "the search reloaded the page"
    page.wait_for_url(re.compile(r"[?&]q=Marseille"))  # hx-push-url: the result can be shared
    web.check()

    page.locator("#q").fill("")
    with page.expect_response(lambda r: CONTRACT in r.url and "q=Frais" in r.url):
        page.locator("#q").press_sequentially("Frais", delay=20)
    expect(cards).to_have_count(1)
    assert card_names(page) == ["Frais Vallon"]
    web.check()

    page.locator("#q").fill("")
    with page.expect_response(lambda r: CONTRACT in r.url and "q=zzz" in r.url):
        page.locator("#q").press_sequentially("zzz", delay=20)
    expect(cards).to_have_count(0)
    assert "zzz" in page.locator("#neighbourhood-list").inner_text()
    web.check()

    # Partial words match anywhere ("air" is also in La Carraire), then the neighbourhood page.
    page.locator("#q").fill("")
    with page.expect_response(lambda r: CONTRACT in r.url and "q=air" in r.url):
        page.locator("#q").press_sequentially("air", delay=20)
    expect(cards).to_have_count(2)
    assert sorted(card_names(page)) == ["Air Bel", "La Carraire"]
    with page.expect_navigation():
        page.locator("#neighbourhood-list .card a", has_text="Air Bel").tap()
    assert page.url == web.base + "/q/QN01319M"
    web.check()
    web.assert_language(lang)  # remembered (cookie), no ?lang= in this address
    assert page.locator("h1").inner_text() == "Air Bel"
    assert_mirrored(web)

    # The short link printed on posters lands on Frais Vallon.
    web.visit("/p/FRVAX26")
    assert page.url == web.base + FRAIS_VALLON
    assert page.locator("h1").inner_text() == "Frais Vallon"
    web.assert_language(lang)
    assert_mirrored(web)
    assert "QN01322M" in page.locator("main").inner_text()


def test_scan_poster_qr_code(web, lang):
    page = web.page
    png = page.request.get(f"{web.base}/p/FRVAX26/qr.png?lang={lang}")
    assert png.ok and png.headers["content-type"] == "image/png"
    import zxingcpp

    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.body())))
    assert codes, "no QR code found in the PNG"
    decoded = codes[0].text
    assert decoded == f"{web.base}/p/FRVAX26?lang={lang}"

    # The phone opens what the camera read.
    web.visit(decoded)
    assert page.url == f"{web.base}{FRAIS_VALLON}?lang={lang}"
    assert page.locator("h1").inner_text() == "Frais Vallon"
    web.assert_language(lang)

    # The printable poster, first in the journey's language then in the other one.
    other = OTHER_LANG[lang]
    web.visit(f"/p/FRVAX26/poster?lang1={lang}&lang2={other}")
    titles = page.locator(".poster .poster-title")
    assert titles.count() == 2
    assert titles.nth(0).get_attribute("lang") == lang and titles.nth(1).get_attribute("lang") == other
    assert "فري فالون" in page.locator(".poster").inner_text()
    qr = page.locator(".poster img.poster-qr")
    assert f"lang={lang}" in qr.get_attribute("src")
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", qr.element_handle()), "QR image not loaded"
