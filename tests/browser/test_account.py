"""A staff member changes a temporary password: the page, its errors and its success, checked with axe."""
from __future__ import annotations

import pytest

from .conftest import DEMO_PASSWORD, login

pytestmark = pytest.mark.browser


def test_change_password_page(web, lang):
    login(web, "evaluation@amp.demo", lang)
    page = web.page
    with page.expect_navigation():
        page.locator("main a[href='/account/password']").click()
    web.check()
    # Mismatched confirmation: the error is announced and tied to the field.
    page.fill("#current", DEMO_PASSWORD)
    page.fill("#new", "a brand new long password")
    page.fill("#confirm", "something else entirely")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    web.check(expect_errors=True)  # the form comes back with 422 on purpose
    assert page.get_attribute("#confirm", "aria-invalid") == "true"
    assert page.locator(".error-summary").is_visible()
    # Going back to the demo password keeps the shared demo account usable by other tests.
    page.fill("#current", DEMO_PASSWORD)
    page.fill("#new", DEMO_PASSWORD)
    page.fill("#confirm", DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.url.endswith("/admin/")
    assert page.locator(".flash-success").is_visible()
    web.check()
