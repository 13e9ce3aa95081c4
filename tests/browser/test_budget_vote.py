"""A resident votes in a participatory budget from a QR slip, on a phone, in French and in
Arabic, with and without JavaScript. axe-core checks every page reached."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from participation.budgets.demo import _codes
from participation.budgets.services import format_code

pytestmark = pytest.mark.browser

CODE_INDEX = {"fr": 0, "ar": 1}


def _process_id_from(url: str) -> int:
    return int(re.search(r"/b/(\d+)", url).group(1))


def test_vote_from_the_neighbourhood_page_with_a_typed_code(web, lang):
    page = web.page
    web.visit(f"/q/QN01322M?lang={lang}")
    with page.expect_navigation():
        page.locator("main .card a", has_text="Marseille Nord").click()
    web.check()
    process_id = _process_id_from(page.url)
    with page.expect_navigation():
        page.locator("main .actions a[href$='/vote']").click()
    web.check()
    code = format_code(_codes(process_id, 10)[CODE_INDEX[lang]])
    page.fill("#code", code.lower())  # typed as read, in lower case: accepted
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    web.check()
    boxes = page.locator("fieldset.choices input[type=checkbox]")
    assert boxes.count() == 5
    boxes.nth(0).check()
    boxes.nth(2).check()
    # htmx updates the running total as the voter ticks.
    expect(page.locator("#ballot-summary")).to_contain_text("2")
    web.check()
    page.locator("#e-age_ok").check()
    page.locator("#e-resident").check()
    with page.expect_navigation():
        page.locator("form.ballot button[type=submit]").click()
    assert page.url.endswith("/voted"), page.url
    receipt = page.locator(".receipt").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{8}", receipt)
    web.check()


def test_vote_from_a_qr_slip_without_javascript(open_browsing, lang):
    web = open_browsing(lang, js=False)
    page = web.page
    web.visit(f"/q/QN01322M?lang={lang}")
    href = page.locator("main .card a", has_text="Marseille Nord").get_attribute("href")
    process_id = _process_id_from(href)
    code = format_code(_codes(process_id, 10)[2 + CODE_INDEX[lang]])
    web.visit(f"/v/{code}")  # what the slip's QR opens
    assert page.url.endswith(f"/b/{process_id}/vote"), page.url
    boxes = page.locator("fieldset.choices input[type=checkbox]")
    for i in range(4):  # one too many: the server says so, in the page's language
        boxes.nth(i).check()
    page.locator("#e-age_ok").check()
    page.locator("#e-resident").check()
    with page.expect_navigation():
        page.locator("form.ballot button[type=submit]").click()
    web.check(expect_errors=True)  # 422 on purpose
    assert page.locator(".error-summary").is_visible()
    boxes.nth(3).uncheck()
    page.locator("#e-age_ok").check()
    page.locator("#e-resident").check()
    with page.expect_navigation():
        page.locator("form.ballot button[type=submit]").click()
    assert page.url.endswith("/voted"), page.url
    assert re.fullmatch(r"[A-Z0-9]{8}", page.locator(".receipt").inner_text())
    web.check()
