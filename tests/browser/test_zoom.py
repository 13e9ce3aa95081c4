"""Text enlarged to 200 % on a 320 px wide screen (WCAG 1.4.4 and 1.4.10): nothing needs
horizontal scrolling and every control stays at least 44 px high."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/c/aix-marseille-provence",
    "/q/QN01322M",
    "/p/FRVAX26/poster?lang1=ar&lang2=fr",
    "/login",
    "/accessibilite",
]


@pytest.mark.parametrize("lang", ["fr", "ar", "en", "pt"])
def test_pages_reflow_with_text_at_200_percent(browser, live_server, lang):
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True, locale=lang)
    page = context.new_page()
    try:
        for path in PAGES:
            sep = "&" if "?" in path else "?"
            page.goto(f"{live_server}{path}{sep}lang={lang}")
            # Browser text zoom: the root font size doubles (CSSOM, allowed by the CSP).
            page.evaluate("document.documentElement.style.fontSize = '200%'")
            width = page.evaluate("document.documentElement.scrollWidth")
            wide = page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > 320.5 || e.getBoundingClientRect().left < -0.5)
                    .slice(0, 5).map(e => e.outerHTML.slice(0, 100))"""
            )
            assert width <= 320, f"{path} ({lang}): {width} px wide at 320 px with 200 % text: {wide}"
            small = page.evaluate(
                """() => [...document.querySelectorAll('main a.button, main button, main input, main select, header a')]
                    .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
                    .map(e => e.outerHTML.slice(0, 80))"""
            )
            assert not small, f"{path} ({lang}): touch targets under 44 px: {small}"
    finally:
        context.close()
