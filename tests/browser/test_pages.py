"""Error pages, pages without JavaScript, and a check that the accessibility check itself bites."""
from __future__ import annotations

import pytest

from .conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_not_found_page(web, lang):
    page = web.page
    web.visit(f"/cette-page-n-existe-pas?lang={lang}", status=404)  # checked with axe like any page
    web.assert_language(lang)
    assert page.locator("main h1").is_visible()
    assert "404" in page.locator("main .muted").inner_text()
    # Unknown neighbourhoods, contracts and short links get the same page.
    for path in ("/q/QN00000X", "/c/nulle-part", "/p/ZZZZZZZ"):
        response = page.request.get(f"{web.base}{path}?lang={lang}")
        assert response.status == 404, path
        assert 'class="error-message"' in response.text() and f'lang="{lang}"' in response.text(), path

    # The way out: the home page, then the accessibility statement from the footer.
    with page.expect_navigation():
        page.locator("main a.button[href='/']").click()
    web.check()
    web.assert_language(lang)
    with page.expect_navigation():
        page.locator(".site-footer a[href='/accessibilite']").click()
    web.check()
    web.assert_language(lang)


def test_without_javascript(open_browsing, lang):
    """Search and login are plain HTML forms: they work with JavaScript turned off."""
    web = open_browsing(lang, js=False)
    page = web.page

    web.visit("/c/aix-marseille-provence")
    web.assert_language(lang)
    assert page.locator("#neighbourhood-list .card").count() == 14
    page.fill("#q", "Marseille")
    with page.expect_navigation():
        page.locator("form[role=search] button[type=submit]").click()
    assert "q=Marseille" in page.url
    web.check()
    names = page.locator("#neighbourhood-list .card > a").all_inner_texts()
    assert len(names) == 5 and "Frais Vallon" in names
    with page.expect_navigation():
        page.locator("#neighbourhood-list .card > a", has_text="Frais Vallon").click()
    assert page.url.endswith("/q/QN01322M")
    web.check()

    web.visit("/login")
    page.fill("#email", "mediateur@amp.demo")
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.url.endswith("/admin/"), page.url
    web.check()
    web.assert_language(lang)
    assert "Karim Haddad" in page.locator("main").inner_text()
    with page.expect_navigation():
        page.locator(".staff-nav button[type=submit]").click()
    assert page.url.endswith("/")
    web.check()
    assert page.locator(".staff-nav").count() == 0


def test_axe_check_fails_on_a_violation(open_browsing):
    """The checker does not pass silently: break a label on purpose and expect a readable failure."""
    web = open_browsing("fr")
    web.visit("/c/aix-marseille-provence")
    web.page.evaluate("document.querySelector('label[for=q]').remove()")
    with pytest.raises(AssertionError) as failure:
        web.axe()
    report = str(failure.value)
    assert "label" in report and "#q" in report and "critical" in report, report
