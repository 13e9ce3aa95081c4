"""Server-rendered SVG charts: horizontal bars with their labels and values.

A chart is an image (`role="img"`, named by its `<title>`), always printed next to the table of
the same figures, which is what screen readers and spreadsheets use. Nothing here needs
JavaScript or a `style` attribute (the CSP forbids them): colours come from classes, with
presentation attributes as a fallback for printing. Each bar sits under its label, so long
labels and narrow phones get along; in a right-to-left page the chart is mirrored (bars grow
from the right) and its text runs right to left (the SVG's `direction` follows the page, and
with it what `text-anchor="start"` means).

A suppressed figure (see `disclosure.py`) is drawn as an empty outline labelled "s".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 320
LABEL_HEIGHT = 16
BAR_HEIGHT = 14
GAP = 8
ROW = LABEL_HEIGHT + BAR_HEIGHT + GAP
#: Room kept after the longest bar for its value ("1 234 · 100 %").
VALUE_ROOM = 96
SUPPRESSED_WIDTH = 10
MAX_LABEL = 48


@dataclass(frozen=True)
class Bar:
    label: str
    #: None when the figure is suppressed.
    value: float | None
    #: What is printed after the bar ("12 · 40 %"; "s" when suppressed).
    text: str


def _short(label: str) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    chart_id: str,
    rtl: bool = False,
    maximum: float | None = None,
) -> Markup:
    """An accessible horizontal bar chart. `maximum`: the value of a full-length bar (say 100
    for percentages); by default the largest shown value."""
    shown = [b.value for b in bars if b.value is not None]
    top = maximum if maximum else max(shown, default=0)
    span = WIDTH - VALUE_ROOM
    height = max(len(bars) * ROW, ROW)
    title_id = f"{chart_id}-title"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(title_id)}" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'preserveAspectRatio="{"xMaxYMin" if rtl else "xMinYMin"} meet" direction="{"rtl" if rtl else "ltr"}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
    ]
    for i, bar in enumerate(bars):
        y = i * ROW
        label_x = WIDTH if rtl else 0
        bar_y = y + LABEL_HEIGHT + 2
        if bar.value is None:
            width, cls, paint = SUPPRESSED_WIDTH, "bar-suppressed", 'fill="none" stroke="#4d4d4d" stroke-dasharray="2 2"'
        else:
            width = (bar.value / top * span) if top else 0.0
            cls, paint = "bar", 'fill="#6b8fbf"'
        bar_x = WIDTH - width if rtl else 0
        value_x = bar_x - 4 if rtl else width + 4
        parts.append(
            f'<g class="chart-row">'
            f'<text x="{label_x}" y="{y + LABEL_HEIGHT - 3}" text-anchor="start" class="chart-label" '
            f'fill="currentColor">{escape(_short(bar.label))}</text>'
            f'<rect x="{_num(bar_x)}" y="{bar_y}" width="{_num(width)}" height="{BAR_HEIGHT}" class="{cls}" '
            f"{paint}></rect>"
            f'<text x="{_num(value_x)}" y="{bar_y + BAR_HEIGHT - 3}" text-anchor="start" class="chart-value" '
            f'fill="currentColor">{escape(bar.text)}</text>'
            f"</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
