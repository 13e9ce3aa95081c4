"""SVG bar charts: accessible, CSP-safe, mirrored for right-to-left pages, suppressed bars empty."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from participation.core.charts import WIDTH, Bar, bar_chart

NS = {"svg": "http://www.w3.org/2000/svg"}
BARS = [Bar("Oui", 12, "12 · 80 %"), Bar("Non", None, "s"), Bar("Je ne sais pas", 3, "3 · 20 %")]


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def rows(svg: ET.Element) -> list[ET.Element]:
    return svg.findall("svg:g", NS)


def test_the_chart_is_an_image_named_by_its_title():
    svg = parse(bar_chart(BARS, title="Q4 · answers", chart_id="chart-q4"))
    assert svg.get("role") == "img"
    title = svg.find("svg:title", NS)
    assert title is not None and title.text == "Q4 · answers"
    assert svg.get("aria-labelledby") == title.get("id") == "chart-q4-title"


def test_every_bar_has_its_label_and_value():
    svg = parse(bar_chart(BARS, title="t", chart_id="c"))
    texts = [[t.text for t in g.findall("svg:text", NS)] for g in rows(svg)]
    assert texts == [["Oui", "12 · 80 %"], ["Non", "s"], ["Je ne sais pas", "3 · 20 %"]]


def test_bars_are_proportional_to_the_largest_value():
    svg = parse(bar_chart([Bar("a", 10, "10"), Bar("b", 5, "5")], title="t", chart_id="c"))
    widths = [float(g.find("svg:rect", NS).get("width")) for g in rows(svg)]
    assert widths[0] == 2 * widths[1] > 0


def test_a_maximum_sets_the_full_length():
    svg = parse(bar_chart([Bar("a", 50, "50 %")], title="t", chart_id="c", maximum=100))
    full = parse(bar_chart([Bar("a", 100, "100 %")], title="t", chart_id="c", maximum=100))
    assert float(svg.find(".//svg:rect", NS).get("width")) * 2 == float(full.find(".//svg:rect", NS).get("width"))


def test_a_suppressed_bar_is_an_empty_outline_labelled_s():
    svg = parse(bar_chart(BARS, title="t", chart_id="c"))
    rect = rows(svg)[1].find("svg:rect", NS)
    assert rect.get("class") == "bar-suppressed" and rect.get("fill") == "none" and rect.get("stroke")
    assert rows(svg)[1].findall("svg:text", NS)[1].text == "s"


def test_no_style_attribute_anywhere():
    markup = str(bar_chart(BARS, title="t", chart_id="c", rtl=True))
    assert "style=" not in markup and "<script" not in markup


def test_labels_and_titles_are_escaped():
    svg = str(bar_chart([Bar("<b>&", 1, "1")], title='"><script>', chart_id="c"))
    assert "<b>" not in svg and "<script>" not in svg and "&lt;b&gt;&amp;" in svg


def test_long_labels_are_shortened_in_the_chart():
    svg = parse(bar_chart([Bar("x" * 200, 1, "1")], title="t", chart_id="c"))
    label = rows(svg)[0].find("svg:text", NS).text
    assert len(label) <= 48 and label.endswith("…")


def test_left_to_right_bars_grow_from_the_left():
    svg = parse(bar_chart(BARS, title="t", chart_id="c"))
    assert svg.get("direction") == "ltr"
    label, value = rows(svg)[0].findall("svg:text", NS)
    rect = rows(svg)[0].find("svg:rect", NS)
    assert float(label.get("x")) == 0 and float(rect.get("x")) == 0
    assert float(value.get("x")) > float(rect.get("width"))


def test_right_to_left_bars_grow_from_the_right_with_text_running_leftwards():
    svg = parse(bar_chart(BARS, title="t", chart_id="c", rtl=True))
    assert svg.get("direction") == "rtl"  # "start" is then the right-hand end of a text
    label, value = rows(svg)[0].findall("svg:text", NS)
    rect = rows(svg)[0].find("svg:rect", NS)
    assert float(label.get("x")) == WIDTH
    assert float(rect.get("x")) + float(rect.get("width")) == WIDTH
    assert float(value.get("x")) < float(rect.get("x"))
    assert label.get("text-anchor") == value.get("text-anchor") == "start"


def test_an_empty_chart_still_renders():
    svg = parse(bar_chart([Bar("a", 0, "0")], title="t", chart_id="c"))
    assert float(svg.find(".//svg:rect", NS).get("width")) == 0
