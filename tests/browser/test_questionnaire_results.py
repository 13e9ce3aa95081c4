"""The evaluator reads the barometer's results on a phone, in French and in Arabic: charts with
their tables, "s" for small numbers, filters applied by htmx, the neighbourhood comparison,
the downloads page. axe-core checks every page reached."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

#: The barometer's title as listed in each language (it is translated into Arabic).
BAROMETER = {"fr": "Baromètre du cadre de vie 2026", "ar": "مقياس إطار العيش 2026"}


def open_results(web, lang) -> str:
    """From the back office to the barometer's results; returns the results path."""
    page = web.page
    login(web, "evaluation@amp.demo", lang)
    web.visit(f"/admin/questionnaires/?lang={lang}")
    card = page.locator("main .card", has_text=BAROMETER[lang])
    link = card.locator("a[href$='/results']").first
    href = link.get_attribute("href")
    assert re.fullmatch(r"/admin/questionnaires/\d+/results", href), href
    with page.expect_navigation():
        link.click()
    web.check()
    return href


def test_evaluator_reads_the_barometer_results(web, lang):
    page = web.page
    path = open_results(web, lang)
    web.assert_language(lang)

    # Every choice question has its chart (an image with a name) and the table next to it.
    q1 = page.locator("#q-Q1")
    chart = q1.locator("svg.chart")
    expect(chart).to_be_visible()
    assert chart.get_attribute("role") == "img"
    assert page.locator(f"#{chart.get_attribute('aria-labelledby')}").count() == 1
    expect(q1.locator("table")).to_be_visible()
    assert page.locator("#channel-breakdown table").count() == 1

    # The chart runs the page's way: bars start at the right-hand edge in Arabic.
    box = chart.bounding_box()
    bar = q1.locator("svg.chart rect.bar").first.bounding_box()
    if lang == "ar":
        assert abs((bar["x"] + bar["width"]) - (box["x"] + box["width"])) < 2
    else:
        assert abs(bar["x"] - box["x"]) < 2

    # Malpassé Corot has only a few respondents: filtered on it, every figure is "s" (htmx swap).
    page.locator("details.qr-filter-box > summary").click()
    page.locator("#f-nb-" + page.locator("label", has_text="Malpassé Corot").get_attribute("for").split("-")[-1]).check()
    with page.expect_response(lambda r: "/results?" in r.url and "nb=" in r.url):
        page.locator("form.qr-filters button[type=submit]").click()
    expect(page.locator("#results .qr-applied")).to_contain_text("Malpassé Corot")
    expect(page.locator("#results dl.figures dd").first).to_have_text("s")
    assert "nb=" in page.url  # the filtered view can be bookmarked
    web.check()

    # The comparison of neighbourhoods for Q1: the small neighbourhood's row is all "s".
    web.visit(path.replace("/results", "/compare") + f"?question=Q1&lang={lang}")
    row = page.locator("#compare tbody tr", has_text="Malpassé Corot")
    cells = row.locator("td")
    assert cells.count() >= 3 and all(t.strip() == "s" for t in cells.all_inner_texts())
    expect(page.locator("#compare svg.chart rect.bar-suppressed").first).to_be_attached()
    web.check()

    # The downloads page: results and codebook, no response-level data for an evaluator.
    web.visit(path.replace("/results", "/exports") + f"?lang={lang}")
    assert page.locator("a[href*='/export/results.csv']").count() >= 1
    assert page.locator("a[href*='/export/responses']").count() == 0


def test_results_without_javascript(open_browsing, lang):
    web = open_browsing(lang, js=False)
    page = web.page
    path = open_results(web, lang)
    page.locator("details.qr-filter-box > summary").click()
    page.select_option("#f-channel", value="paper")
    with page.expect_navigation():
        page.locator("form.qr-filters button[type=submit]").click()
    assert "channel=paper" in page.url
    web.check()
    expect(page.locator("#results svg.chart").first).to_be_visible()
    assert path in page.url


def test_facilitator_publishes_a_text_after_masking_a_name(web, lang):
    page = web.page
    login(web, "animatrice@amp.demo", lang)
    web.visit(f"/admin/questionnaires/?lang={lang}")
    card = page.locator("main .card", has_text=BAROMETER[lang])
    with page.expect_navigation():
        card.locator("a[href$='/moderation']").first.click()
    web.check()
    item = page.locator(".qr-item").first
    item_id = item.get_attribute("id")
    item.locator("textarea").fill(f"Texte relu ({lang}), nom masqué : [nom], tél. 06 12 34 56 78")
    with page.expect_navigation():
        item.locator("button[value=publish]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    assert page.locator(f"#{item_id}").count() == 0  # no longer waiting
    web.check()
    # Published: it is on the "published" tab, screened again, ready to be selected.
    with page.expect_navigation():
        page.locator(".qr-states a[href*='state=published']").click()
    published = page.locator(f"#{item_id}")
    expect(published.locator("textarea")).to_have_value(re.compile(r"\[t[ée]l[ée]phone\]"))
    expect(published.locator("button[value=feature]")).to_be_visible()
    web.check()
