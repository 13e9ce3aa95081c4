"""Staff journeys on a phone, in French and in Arabic: a facilitator makes a short link and its
poster; an administrator grants a role and translates the référentiel. axe-core checks every
page reached, htmx-updated states included."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import OTHER_LANG, login

pytestmark = pytest.mark.browser

#: A Marseille neighbourhood per journey language, so the two runs do not see each other's work.
LINK_TARGET = {"fr": ("/q/QN01306M", "La Cayolle"), "ar": ("/q/QN01340M", "La Castellane La Bricarde")}
GRANT_SCOPE = {"fr": "Air Bel", "ar": "La Cayolle"}
#: (référentiel code, language of the translation, text). French is the categories' original
#: language, so the French journey translates into English.
TRANSLATION = {
    "fr": ("D5", "en", "The local services challenge (browser test)"),
    "ar": ("D6", "ar", "تحدي الجاذبية (اختبار المتصفح)"),
}


def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def test_facilitator_makes_a_short_link_and_its_poster(web, lang):
    page = web.page
    login(web, "animatrice@amp.demo", lang)
    web.assert_language(lang)
    assert "Claire Martin" in page.locator("main").inner_text()

    # Back office → short links.
    click_and_wait(page, page.locator('main .card a[href="/admin/links"]'))
    web.check()
    listed = page.locator("#link-list").inner_text()
    assert "/p/FRVAX26" in listed  # Frais Vallon is in Marseille
    assert "/p/AMPCV26" not in listed  # the whole contract's link is outside her scope

    # Filtering the list (htmx).
    with page.expect_response(lambda r: "/admin/links?" in r.url and "q=FRVAX26" in r.url):
        page.locator("#q").press_sequentially("FRVAX26", delay=20)
    expect(page.locator("#link-list .card")).to_have_count(1)
    web.check()

    # A new link to a Marseille neighbourhood.
    click_and_wait(page, page.locator('main a[href="/admin/links/new"]'))
    web.check()
    path, name = LINK_TARGET[lang]
    title = f"{name} — browser test {lang}"
    page.select_option("#target", value=path)
    page.fill("#title", title)
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert "/admin/links/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit(), page.url
    web.check()
    assert page.locator("main h1").inner_text() == title
    assert page.locator(".flash-success").is_visible()
    assert path in page.locator(".details").inner_text()

    # Its QR code is shown (an image the CSP lets through, actually decoded by the browser).
    qr = page.locator("img.qr-preview")
    expect(qr).to_be_visible()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", qr.element_handle()), "QR image not loaded"
    short_url = page.locator(".details dd a").first.inner_text()
    code = short_url.rsplit("/", 1)[-1]
    assert len(code) == 7

    # Its printable poster, in the journey's language then the other one.
    other = OTHER_LANG[lang]
    assert page.locator("#lang1").input_value() == lang
    page.select_option("#lang2", value=other)
    click_and_wait(page, page.locator("main form[action$='/poster'] button[type=submit]"))
    assert f"/p/{code}/poster?" in page.url
    web.check()
    titles = page.locator(".poster .poster-title")
    expect(titles).to_have_count(2)
    assert titles.nth(0).inner_text() == title  # no translation yet: the original title
    poster_qr = page.locator(".poster img.poster-qr")
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", poster_qr.element_handle())

    # The short link works for residents.
    response = page.request.get(f"{web.base}/p/{code}", max_redirects=0)
    assert response.status == 302 and response.headers["location"] == path

    # Log out from the header.
    click_and_wait(page, page.locator(".staff-nav button[type=submit]"))
    assert page.url == web.base + "/"
    web.check()
    web.assert_language(lang)
    assert page.locator(".flashes").is_visible()
    assert page.locator(".staff-nav").count() == 0
    web.visit("/admin/")  # the back office now asks to log in again
    assert "/login" in page.url


def test_admin_grants_a_role_and_translates_the_referentiel(web, lang):
    page = web.page
    login(web, "admin@amp.demo", lang)

    # Back office → staff list → a staff member.
    click_and_wait(page, page.locator('main .card a[href="/admin/staff"]'))
    web.check()

    # A form sent incomplete: the error state is checked too (summary, messages tied to fields).
    click_and_wait(page, page.locator('main a[href="/admin/staff/new"]'))
    web.check()
    with page.expect_navigation() as sent:
        page.locator("main form button[type=submit]").click()
    assert sent.value.status == 422
    assert page.locator(".error-summary").is_visible()
    assert page.locator("#email").get_attribute("aria-invalid") == "true"
    assert "email-error" in page.locator("#email").get_attribute("aria-describedby")
    web.check(expect_errors=True)  # the page's own 422 is expected
    click_and_wait(page, page.locator(".staff-nav a[href='/admin/']"))
    click_and_wait(page, page.locator('main .card a[href="/admin/staff"]'))

    click_and_wait(page, page.locator("main .card a", has_text="Karim Haddad"))
    web.check()
    assert page.locator("main h1").inner_text() == "Karim Haddad"
    grants = page.locator("#grants li.grant")
    before = grants.count()

    # Grant a role: htmx swaps the roles block in place, no page load.
    scope = GRANT_SCOPE[lang]
    page.evaluate("window.__sameDocument = true")
    page.select_option("#role", value="committee_member")
    page.select_option("#scope", label=f"Contrat de ville Aix-Marseille-Provence › Marseille › {scope}")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/grants")) as answer:
        page.locator("#grants form[hx-post] button[type=submit]").click()
    assert answer.value.status == 200
    assert answer.value.request.headers.get("hx-request") == "true"
    expect(grants).to_have_count(before + 1)
    assert page.evaluate("window.__sameDocument") is True, "granting reloaded the page"
    expect(page.locator("#grants li.grant", has_text=scope)).to_have_count(1)
    assert page.locator("#grants .error").count() == 0
    web.check()
    # It was saved: a full reload shows it too.
    web.visit(page.url)
    expect(page.locator("#grants li.grant", has_text=scope)).to_have_count(1)

    # Back office → référentiel → translations of one entry.
    click_and_wait(page, page.locator(".staff-nav a[href='/admin/']"))
    web.check()
    click_and_wait(page, page.locator("main .card a[href$='/referentiel']").first)
    web.check()
    code, target_lang, text = TRANSLATION[lang]
    exact_code = page.locator(".code", has_text=re.compile(rf"^\s*{re.escape(code)}\s*$"))
    row = page.locator(".tree-row").filter(has=exact_code)
    expect(row).to_have_count(1)
    click_and_wait(page, row.locator("a[href*='/admin/translations/categories/']"))
    web.check()
    box = page.locator(f"#name__{target_lang}")
    assert box.get_attribute("lang") == target_lang
    assert box.get_attribute("dir") == ("rtl" if target_lang == "ar" else "ltr")
    box.fill(text)
    click_and_wait(page, page.locator("main form button[type=submit]"))
    web.check()
    assert page.locator(".flash-success").is_visible()
    assert page.locator(f"#name__{target_lang}").input_value() == text

    # Residents see it on the contract page in that language, with no "original language" note.
    web.visit(f"/c/aix-marseille-provence?lang={target_lang}")
    web.assert_language(target_lang)
    item = page.locator("main li").filter(has=exact_code)
    expect(item).to_contain_text(text)
    expect(item).to_have_count(1)
    assert item.locator(".original-note").count() == 0
