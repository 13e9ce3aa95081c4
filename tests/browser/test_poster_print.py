"""The poster prints on exactly one A4 page, in one, two or three languages."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("langs", ["lang1=fr", "lang1=ar&lang2=fr", "lang1=ar&lang2=fr&lang3=tr"])
def test_poster_prints_on_one_a4_page(browser, live_server, langs):
    page = browser.new_page()
    try:
        page.goto(f"{live_server}/p/FRVAX26/poster?{langs}")
        pdf = page.pdf(prefer_css_page_size=True)
    finally:
        page.close()
    pages = re.findall(rb"/Type\s*/Page(?!s)", pdf)
    assert len(pages) == 1, f"the poster ({langs}) prints on {len(pages)} pages"
    size = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    width, height = float(size.group(1)), float(size.group(2))
    assert abs(width - 595) < 2 and abs(height - 842) < 2, f"not A4: {width} x {height} pt"
