"""The evaluator reads the governance dashboard on a phone, in French and in Arabic: from the back
office to the demo contract's headline figures, charts with their tables, then filtered to one
neighbourhood and one défi, where an indicator's baseline, latest value and target come with a
resident's own words. axe-core checks every page reached; the filters also work without
JavaScript. Nothing is written: the demo is only read."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from participation.core.demo import register_loader
from participation.governance import demo as governance_demo
from participation.questionnaires import views as _questionnaires  # noqa: F401  (its demo loader runs first)

from .conftest import login

pytestmark = pytest.mark.browser

# The live server's demo must hold the governance demo (a no-op once the référentiel's views
# register its loader).
register_loader(governance_demo.load)

EVA = "evaluation@amp.demo"
#: A published verbatim of Frais Vallon (2025), attached to I-SECU under the défi D3.
WORDS = "Le soir, on rentre vite : il n'y a plus de lumière après le parking."
#: Pending and rejected words of the demo: never shown.
HIDDEN = ["Les fins de mois, on choisit entre la cantine", "Le gardien du bâtiment C ne fait rien"]


def option_value(select, text: str) -> str:
    """The value of the option of `select` whose label contains `text`."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    assert value, text
    return value


def number(text: str) -> int:
    """A whole number as the page shows it (thousands separated by spaces of any kind)."""
    digits = re.sub(r"[\s\u202f\u00a0]", "", text)
    assert digits.isdigit(), text
    return int(digits)


def choose(page, neighbourhood: str, category_code: str) -> None:
    page.select_option("#gv-neighbourhood", option_value(page.locator("#gv-neighbourhood"), neighbourhood))
    page.select_option("#gv-category", option_value(page.locator("#gv-category"), f"{category_code} ·"))
    with page.expect_navigation():
        page.locator("form.gv-filters button[type=submit]").click()


def test_the_evaluator_reads_figures_with_residents_words(web, lang):
    page = web.page
    login(web, EVA, lang)
    link = page.locator("main a[href^='/admin/governance/']").first
    path = link.get_attribute("href")
    assert re.fullmatch(r"/admin/governance/\d+", path), path
    with page.expect_navigation():
        link.click()
    web.check()
    web.assert_language(lang)

    # Headline figures, then each one year by year: a chart (an image with a name) and its table.
    # The live server is shared with journeys that answer questionnaires: the count is at least
    # the demo's 240, and the card, the table's total and the sum of its years agree.
    headline = number(page.locator("#gv-card-questionnaires-responses .gv-value").inner_text())
    assert headline >= 240, headline
    table = page.locator("#gv-chart-questionnaires-responses-table")
    years = [number(text) for text in table.locator("tbody td").all_inner_texts()]
    assert len(years) >= 2 and sum(years) == headline, (years, headline)
    assert number(table.locator("tfoot td").inner_text()) == headline
    chart = page.locator("#gv-chart-questionnaires-responses")
    expect(chart).to_be_visible()
    assert chart.get_attribute("role") == "img"
    assert page.locator(f"#{chart.get_attribute('aria-labelledby')}").count() == 1
    expect(page.locator("#gv-chart-questionnaires-responses-table caption")).to_be_visible()
    # In Arabic the chart runs right to left: its bars start at the right-hand edge.
    box = chart.bounding_box()
    bar = chart.locator("rect.bar").last.bounding_box()
    if lang == "ar":
        assert abs((bar["x"] + bar["width"]) - (box["x"] + box["width"])) < 2
    else:
        assert abs(bar["x"] - box["x"]) < 2
    # The neighbourhoods compared scroll inside their own region, not the page.
    region = page.locator("[role=region]:has(#gv-compare)")
    assert region.get_attribute("tabindex") == "0"
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")
    # "s" is explained once.
    assert page.locator("#gv-s-note").count() == 1

    # One neighbourhood, one défi: its indicator with baseline → latest → target, and words.
    choose(page, "Frais Vallon", "D3")
    web.check()
    assert "neighbourhood=" in page.url and "category=" in page.url
    expect(page.locator("#gv-area")).to_contain_text("Frais Vallon")
    indicator = page.locator("article.gv-indicator", has_text="I-SECU")
    expect(indicator).to_be_visible()
    steps = indicator.locator(".gv-steps dd")
    expect(steps).to_have_count(3)
    expect(steps.first).to_contain_text("31")
    expect(steps.last).to_contain_text("45")
    quote = indicator.locator("blockquote", has_text=WORDS)
    expect(quote).to_be_visible()
    assert quote.get_attribute("lang") == "fr" and quote.get_attribute("dir") == "ltr"
    expect(indicator.locator("figcaption").first).to_contain_text("Frais Vallon")
    # Another défi's indicator is not there; unpublished words never are.
    assert page.locator("article.gv-indicator", has_text="I-CADRE").count() == 0
    body = page.locator("main").inner_text()
    assert not any(text in body for text in HIDDEN)
    # The downloads carry the same selection.
    for fmt in ("csv", "xlsx", "zip", "pdf"):
        href = page.locator(f".gv-exports a[href*='export.{fmt}']").get_attribute("href")
        assert "neighbourhood=" in href and "category=" in href, href

    # A bad selection: a 400 page with its message and the form, still accessible.
    web.visit(f"{path}?from=2026&to=2025&lang={lang}", status=400)
    expect(page.locator("#gv-error")).to_be_visible()
    expect(page.locator("form.gv-filters")).to_be_visible()


def test_the_filters_work_without_javascript(open_browsing):
    web = open_browsing("fr", js=False)
    page = web.page
    login(web, EVA, "fr")
    web.visit(page.locator("main a[href^='/admin/governance/']").first.get_attribute("href"))
    choose(page, "Frais Vallon", "D3")
    web.check()
    expect(page.locator("#gv-area")).to_contain_text("Frais Vallon")
    indicator = page.locator("article.gv-indicator", has_text="I-SECU")
    expect(indicator.locator("blockquote", has_text=WORDS)).to_be_visible()
