"""A resident opens the demo exploratory walk on a phone, in French and in Arabic: the walks of
the contract, the walk's page (the app's own map with numbered points, and the list with the
same numbers), its follow-up walk point by point, the report, and downloads the PDF. axe-core
checks every page reached."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from participation.walks import demo as walk_demo

pytestmark = pytest.mark.browser

SLUG = "aix-marseille-provence"
TITLE = {"fr": walk_demo.WALK_TITLE, "ar": walk_demo.WALK_TITLE_AR}
#: Any non-empty alternative text (a photo's caption).
ANY_TEXT = re.compile(r"\S")


def test_a_resident_reads_the_demo_walk_its_report_and_downloads_the_pdf(web, lang):
    page = web.page
    web.visit(f"/c/{SLUG}/walks?lang={lang}")
    report_link = page.locator("h2#reports + ul.cards a[href$='/report']").filter(has_text=TITLE[lang])
    expect(report_link).to_have_count(1)
    walk_path = report_link.get_attribute("href").removesuffix("/report")

    # The walk's page: numbered points on the map, the same numbers in the list.
    web.visit(walk_path)
    main = page.locator("main")
    expect(page.locator("h1")).to_have_text(TITLE[lang])
    expect(main.locator("svg#walk-map")).to_be_visible()
    points = main.locator("svg#walk-map .walk-map-point")
    assert points.count() >= 8
    items = main.locator("ol.walk-obs-list > li.walk-obs")
    assert items.count() >= 10
    first_number = points.first.locator("text").text_content().strip()
    expect(main.locator(f"li#obs-{first_number}")).to_have_count(1)
    expect(main.locator("ol.walk-obs-list img[loading=lazy]").first).to_have_attribute("alt", ANY_TEXT)
    expect(main.locator(".walk-recs .followup-status--done")).to_have_count(1)

    # Its follow-up walk, point by point.
    follow = main.locator("#follow-ups ~ ul a[href^='/w/']").first
    with page.expect_navigation():
        follow.click()
    web.check()
    expect(page.locator("main ol.walk-reviews > li").first).to_be_visible()
    expect(page.locator("main .walk-outcome--improved").first).to_be_visible()
    web.visit(walk_path)

    # The report: the same map and list, the summary by theme.
    with page.expect_navigation():
        main.locator(f"a[href='{walk_path}/report']").first.click()
    web.check()
    web.assert_language(lang)
    expect(main.locator("svg#walk-map")).to_be_visible()
    expect(main.locator("table.walk-themes tbody tr").first).to_be_visible()
    assert main.locator("ol.walk-obs-list > li.walk-obs").count() >= 10
    expect(main.locator(".walk-preview")).to_have_count(0)

    # The PDF, in the page's language.
    with page.expect_download() as info:
        main.locator("a[href*='/report.pdf']").first.click()
    download = info.value
    assert download.suggested_filename.endswith(f"-{lang}.pdf")
    with open(download.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"

