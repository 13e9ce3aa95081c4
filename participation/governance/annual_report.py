"""The annual report for the steering committee (COPIL) and the Assises, as a PDF.

It is drawn from one `report.Report`, the same object the dashboard, the spreadsheets and the
API read, so it shows exactly their figures, already protected: a suppressed figure is printed
"s" and has no bar, and nothing here ever sees a raw count. The document, in the interface's
language (right to left in Arabic), holds:

1. a cover (contract, area, years, défi or orientation chosen, date);
2. the headline figures over the selected years, then year by year with bars;
3. per défi / orientation, each indicator (baseline → values by year → target, with bars) with
   the residents' words attached to it (published verbatims only: `report.verbatims` holds
   nothing else), then the défi's other verbatims;
4. the comparison of the area's neighbourhoods (tables, a few figures per table);
5. the participation profile, when the report has one;
6. how to read it: the disclosure rules and every figure's definition.

Bars are PDF rectangles drawn next to their numbers (no picture, no chart library): their
length is the number's share of the longest bar of the same chart.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date

from flask_babel import format_date, format_decimal, gettext as _
from fpdf.enums import MethodReturnValue

from ..core import disclosure
from ..core.content_i18n import preload
from ..core.i18n import current_locale, text_direction
from ..core.pdf import FAMILY, INK, MUTED, RULE, Document, safe_text
from ..core.templating import tr
from . import metrics as m
from .report import IndicatorFigures, MetricFigures, Report

#: Fill of the bars (a blue that prints well in grey too).
BAR = (107, 143, 191)
#: How many figures share one comparison table (A4 portrait, area names on the reading side).
COMPARISON_COLUMNS = 3
#: Height of one bar row (mm), width of its label and of its number.
BAR_ROW = 5.6
BAR_LABEL = 62
BAR_NUMBER = 24
NO_VALUE = "—"


def annual_report_pdf(report: Report) -> bytes:
    """The report as PDF bytes, in the current interface language."""
    locale = current_locale()
    rtl = text_direction(locale) == "rtl"
    sel = report.selection
    contract = sel.contract
    preload([f.indicator for f in report.indicators] + report.categories()
            + ([sel.category] if sel.category is not None else []), locale)
    years = _years(sel.year_from, sel.year_to)
    title = _("Annual report on participation: %(contract)s", contract=contract.name)
    doc = AnnualDocument(title=title, lang=locale, rtl=rtl, author=contract.name,
                         footer_text=f"{_('Annual report on participation')} · {sel.area_label} · {years}")
    doc.add_page()
    _cover(doc, report, years)
    _headlines(doc, report)
    _trends(doc, report)
    _categories(doc, report)
    _comparison(doc, report)
    if report.profile is not None:
        _profile(doc, report.profile)
    _reading_guide(doc, report)
    return doc.to_bytes()


# --- numbers ---------------------------------------------------------------------------------


def _years(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"


def number(value: float | None) -> str:
    """A shown number in the document's language (up to two decimals)."""
    if value is None:
        return NO_VALUE
    if float(value).is_integer():
        return format_decimal(int(value), format="#,##0")
    return format_decimal(value, format="#,##0.##")


def cell(value: m.Value) -> str:
    """What a figure prints: "s" when suppressed, "—" when there is none."""
    if value.suppressed:
        return disclosure.SUPPRESSED
    return number(value.number)


def _with_unit(label, unit) -> str:
    unit = str(unit or "").strip()
    return f"{label} ({unit})" if unit else str(label)


# --- drawing ----------------------------------------------------------------------------------


def _needs_shaping(text: str) -> bool:
    """Text in a script that HarfBuzz must shape and the bidi algorithm order (Arabic, Hebrew,
    Indic…, or with combining marks). Latin, digits and punctuation are written as they are:
    shaping them changes nothing on the page and costs most of the drawing time."""
    for char in text:
        code = ord(char)
        if 0x0590 <= code <= 0x0DFF or 0xFB1D <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFF:
            return True
        if code >= 0x0300 and unicodedata.combining(char):
            return True
    return False


class AnnualDocument(Document):
    """`core.pdf.Document` that draws text needing no shaping (see `_needs_shaping`) itself: a
    full contract's report has thousands of table cells and hundreds of paragraphs, and fpdf2's
    general line breaking and text shaping made it take seconds. Such text is wrapped between
    words measured once each and written with `text()`; Arabic and other shaped text still goes
    through fpdf2's `cell` / `multi_cell` with HarfBuzz."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._widths: dict[tuple, float] = {}

    def _shape_for(self, text: str) -> None:
        if _needs_shaping(text):
            super()._shape_for(text)
        else:
            self.text_shaping = None

    def add_page(self, *args, orientation: str = "", **kwargs) -> None:
        """A new page keeps the current page's orientation unless told otherwise (tables of
        the landscape section run over several pages)."""
        if not orientation and self.page and not kwargs.get("same"):
            orientation = self.cur_orientation
        super().add_page(*args, orientation=orientation, **kwargs)

    def measure(self, text: str) -> float:
        """Width of `text` (safe) in the current font, in mm."""
        if not _needs_shaping(text):
            key = (self.font_family, self.font_style, self.font_size_pt, text)
            width = self._widths.get(key)
            if width is None:
                shaping, self.text_shaping = self.text_shaping, None
                width = self._widths[key] = self.get_string_width(text)
                self.text_shaping = shaping
            return width
        self._shape_for(text)
        width = self.get_string_width(text)
        self._restore_shaping()
        return width

    def wrap(self, text: str, width: float) -> list[str]:
        """`text` (safe) broken into lines that fit a cell `width` mm wide."""
        room = width - 2 * self.c_margin
        if _needs_shaping(text):
            self._shape_for(text)
            lines = self.multi_cell(width, 4, text, dry_run=True, output=MethodReturnValue.LINES)
            self._restore_shaping()
            return [str(x) for x in lines] or [""]
        out: list[str] = []
        space = self.measure(" ")
        for paragraph in text.split("\n"):
            line, used = "", 0.0
            for word in paragraph.split():
                w = self.measure(word)
                while w > room and len(word) > 1:  # a word longer than the line: cut it
                    cut = len(word) - 1
                    while cut > 1 and self.measure(word[:cut]) > room:
                        cut -= 1
                    if line:
                        out.append(line)
                    out.append(word[:cut])
                    line, used, word = "", 0.0, word[cut:]
                    w = self.measure(word)
                if line and used + space + w > room:
                    out.append(line)
                    line, used = word, w
                else:
                    line, used = (f"{line} {word}", used + space + w) if line else (word, w)
            out.append(line)
        return out

    def line_at(self, x: float, y: float, width: float, height: float, text: str, align: str) -> None:
        """One line of `text` in the box (x, y, width, height), vertically centred."""
        if not text:
            return
        if _needs_shaping(text):
            self._shape_for(text)
            self.set_xy(x, y)
            self.cell(width, height, text, align=align)
            self._restore_shaping()
            return
        w = self.measure(text)
        if align == "R":
            left = x + width - self.c_margin - w
        elif align == "C":
            left = x + (width - w) / 2
        else:
            left = x + self.c_margin
        self.text(left, y + height / 2 + 0.3 * self.font_size, text)

    def paragraph(self, text, *, size: float = 10, bold: bool = False, muted: bool = False,
                  line_height: float | None = None, indent: float = 0, after: float = 1.5) -> None:
        text = safe_text(text).strip()
        if not text:
            return
        if _needs_shaping(text):
            super().paragraph(text, size=size, bold=bold, muted=muted, line_height=line_height, indent=indent,
                              after=after)
            return
        self.set_font(FAMILY, "B" if bold else "", size)
        self.set_text_color(*(MUTED if muted else INK))
        height = line_height or size * 0.5
        width = self.content_width - indent
        x = self.l_margin + (0 if self.rtl else indent)
        for line in self.wrap(text, width):
            if self.get_y() + height > self.page_break_trigger:
                self.add_page()
            self.line_at(x, self.get_y(), width, height, line, self.align)
            self.set_xy(self.l_margin, self.get_y() + height)
        self.set_text_color(*INK)
        self.set_font(FAMILY, "", 10)
        if after:
            self.ln(after)


def _fit(doc: AnnualDocument, text: str, width: float) -> str:
    """`text` (safe) cut with "…" to fit a cell `width` mm wide in the current font."""
    width -= 2 * doc.c_margin
    text = " ".join(safe_text(text).split())
    if doc.measure(text) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with its "…"
        mid = (low + high + 1) // 2
        if doc.measure(text[:mid].rstrip() + "…") <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + "…"


def _lines(doc: AnnualDocument, text: str, width: float, most: int) -> list[str]:
    """`text` wrapped on at most `most` lines of a cell `width` mm wide (the last one cut with "…")."""
    text = " ".join(safe_text(text).split())
    lines = doc.wrap(text, width)
    if len(lines) <= most:
        return lines
    return lines[:most - 1] + [_fit(doc, " ".join(lines[most - 1:]), width)]


def _x(doc: AnnualDocument, offset: float, width: float) -> float:
    """Left edge of a box `offset` mm from the reading side."""
    return doc.w - doc.r_margin - offset - width if doc.rtl else doc.l_margin + offset


def _text_cell(doc: AnnualDocument, x: float, y: float, width: float, height: float, text: str, align: str) -> None:
    doc.line_at(x, y, width, height, text, align)


def _wrapped(doc: AnnualDocument, x: float, y: float, width: float, line: float, text: str, align: str,
             *, dry: bool = False) -> float:
    """A block of wrapped text at (x, y): its height (only measured when `dry`)."""
    lines = doc.wrap(safe_text(text), width)
    if not dry:
        for i, part in enumerate(lines):
            doc.line_at(x, y + i * line, width, line, part, align)
    return max(1, len(lines)) * line


def grid(doc: AnnualDocument, headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float], *,
         size: float = 8.5, bold_first: bool = False) -> None:
    """A table of one-line cells (long text cut with "…"), headers wrapped and repeated on each
    page, the first column on the reading side and the others (numbers) aligned to its far side.
    Drawn cell by cell, which is much faster than fpdf2's general tables."""
    pad = 1.2
    line = size * 0.45
    row_h = size * 0.45 + 2.2
    offsets = [sum(widths[:i]) for i in range(len(widths))]
    first_align, other_align = ("R", "L") if doc.rtl else ("L", "R")
    headers = [safe_text(h) for h in headers]

    # Headers wrap between words only: a word too long for its column makes them smaller.
    head_size = size
    doc.set_font(FAMILY, "B", head_size)

    def too_long() -> bool:
        return any(doc.measure(word) > w - 2 * pad - 2 * doc.c_margin
                   for h, w in zip(headers, widths) for word in h.split())

    while head_size > 6 and too_long():
        head_size -= 0.5
        doc.set_font(FAMILY, "B", head_size)
    head_line = head_size * 0.45

    def header_row() -> None:
        doc.set_font(FAMILY, "B", head_size)
        y = doc.get_y()
        height = max(_wrapped(doc, 0, y, w - 2 * pad, head_line, h, "L", dry=True)
                     for h, w in zip(headers, widths)) + 2
        doc.set_fill_color(238, 238, 238)
        doc.rect(doc.l_margin, y, doc.content_width, height, style="F")
        for i, (h, w) in enumerate(zip(headers, widths)):
            _wrapped(doc, _x(doc, offsets[i], w) + pad, y + 1, w - 2 * pad, head_line, h,
                     first_align if i == 0 else other_align)
        doc.set_y(y + height)
        doc.set_font(FAMILY, "", size)

    doc.ensure_space(2 * row_h + 12)
    header_row()
    doc.set_draw_color(*RULE)
    doc.set_line_width(0.2)
    for values in rows:
        doc.set_font(FAMILY, "B" if bold_first else "", size)
        label = _lines(doc, values[0], widths[0] - 2 * pad, 2)
        height = row_h + (len(label) - 1) * line
        if doc.get_y() + height > doc.page_break_trigger:
            doc.add_page()
            header_row()
        y = doc.get_y()
        for i, (value, w) in enumerate(zip(values, widths)):
            x = _x(doc, offsets[i], w) + pad
            if i == 0:
                if len(label) == 1:
                    _text_cell(doc, x, y, w - 2 * pad, row_h, label[0], first_align)
                else:
                    _wrapped(doc, x, y + 1.1, w - 2 * pad, line, "\n".join(label), first_align)
                doc.set_font(FAMILY, "", size)
            else:
                _text_cell(doc, x, y, w - 2 * pad, height, _fit(doc, value, w - 2 * pad), other_align)
        doc.line(doc.l_margin, y + height, doc.w - doc.r_margin, y + height)
        doc.set_y(y + height)
    doc.set_draw_color(*INK)
    doc.set_font(FAMILY, "", 10)
    doc.ln(3)


def fact_lines(doc: AnnualDocument, pairs: Iterable[tuple[str, str]], *, label_width: float = 50,
          size: float = 9.5) -> None:
    """Label / value lines, labels in bold on the reading side, values wrapped."""
    line = size * 0.5
    value_width = doc.content_width - label_width
    for label, value in pairs:
        label, value = safe_text(label), safe_text(value).strip()
        if not value:
            continue
        doc.set_font(FAMILY, "", size)
        height = _wrapped(doc, 0, doc.get_y(), value_width - 2, line, value, "L", dry=True)
        doc.ensure_space(height + 1)
        y = doc.get_y()
        doc.set_font(FAMILY, "B", size)
        _wrapped(doc, _x(doc, 0, label_width), y, label_width - 2, line, label, doc.align)
        doc.set_font(FAMILY, "", size)
        _wrapped(doc, _x(doc, label_width, value_width), y, value_width - 2, line, value, doc.align)
        doc.set_y(y + height + 1)
    doc.set_font(FAMILY, "", 10)
    doc.ln(1)


def bar_chart(doc: AnnualDocument, rows: Sequence[tuple[str, m.Value]], *, caption: str = "",
              maximum: float | None = None) -> None:
    """Horizontal bars, one row each: label, number ("s" when suppressed), bar. In a right-to-
    left document the label is on the right and the bars grow towards the left."""
    if not rows:
        return
    shown = [v.number for _label, v in rows if v.number is not None]
    top = maximum or max((abs(x) for x in shown), default=0)
    span = doc.content_width - BAR_LABEL - BAR_NUMBER - 4
    doc.ensure_space(min(len(rows), 4) * BAR_ROW + (6 if caption else 0))
    if caption:
        doc.paragraph(caption, size=9, bold=True, after=0.5)
    doc.set_font(FAMILY, "", 8.5)
    for label, value in rows:
        doc.ensure_space(BAR_ROW)
        y = doc.get_y()
        text = _fit(doc, str(label), BAR_LABEL - 2)
        figure = cell(value)
        length = (abs(value.number) / top * span) if (value.number is not None and top) else 0.0
        _text_cell(doc, _x(doc, 0, BAR_LABEL), y, BAR_LABEL, BAR_ROW, text, doc.align)
        # the number sits against its bar
        _text_cell(doc, _x(doc, BAR_LABEL, BAR_NUMBER - 2), y, BAR_NUMBER - 2, BAR_ROW, figure,
                   "L" if doc.rtl else "R")
        bar_x = _x(doc, BAR_LABEL + BAR_NUMBER, length)
        if length > 0.05:
            doc.set_fill_color(*BAR)
            doc.rect(bar_x, y + 1.1, length, BAR_ROW - 2.2, style="F")
        doc.set_y(y + BAR_ROW)
    doc.set_fill_color(255, 255, 255)
    doc.set_font(FAMILY, "", 10)
    doc.ln(2)


def _note(doc: AnnualDocument, text: str) -> None:
    doc.paragraph(text, size=8, muted=True)


# --- sections ---------------------------------------------------------------------------------


def _cover(doc: AnnualDocument, report: Report, years: str) -> None:
    sel = report.selection
    contract = sel.contract
    doc.ln(30)
    doc.paragraph(_("Contrat de ville"), size=12, muted=True)
    doc.heading(_("Annual report on participation"), 1)
    doc.paragraph(contract.name, size=16, bold=True, line_height=8)
    doc.ln(6)
    facts = [
        (_("Contract"), f"{contract.name} ({contract.period_start}–{contract.period_end})"),
        (_("Area"), sel.area_label),
        (_("Years"), years),
    ]
    if sel.category is not None:
        facts.append((_("Défi or orientation"), f"{sel.category.code} · {tr(sel.category, 'name')}"))
    facts.append((_("Produced on"), format_date(date.today(), "long")))
    fact_lines(doc, facts, label_width=50)
    doc.ln(6)
    doc.paragraph(_("For the steering committee (COPIL) of the contract and the Assises of the contrat de ville."))
    doc.paragraph(_("Every figure counts what residents did through the participation platform: meetings of the "
                    "tables de quartier, questionnaires, participatory budgets, exploratory walks, the fund for "
                    "residents' projects (FPH) and the follow-up of their demands. Indicators entered by hand "
                    "name their source."))
    _note(doc, _("To protect residents, a count of fewer than %(n)s people is shown as “s”, and so is any figure "
                 "that would let a reader work it out. The last page explains how to read the figures.",
                 n=disclosure.MIN_CELL))


def _headlines(doc: AnnualDocument, report: Report) -> None:
    sel = report.selection
    doc.add_page()
    doc.heading(_("Headline figures"), 1)
    doc.paragraph(_("%(area)s, %(years)s.", area=sel.area_label, years=_years(sel.year_from, sel.year_to)),
                  muted=True)
    rows = []
    for f in report.metrics:
        label = _with_unit(f.metric.label, f.metric.unit) + ("" if f.filtered else " *")
        rows.append((label, cell(f.total)))
    if not rows:
        doc.paragraph(_("No figure yet."), muted=True)
        return
    grid(doc, (_("Figure"), _("Total")), rows, (doc.content_width - 40, 40), size=9.5)
    if any(not f.filtered for f in report.metrics):
        _note(doc, _("* This mechanism's items are not attached to a défi or orientation: the figure covers all "
                     "of them."))


def _trends(doc: AnnualDocument, report: Report) -> None:
    figures = [f for f in report.metrics if any(v.shown or v.suppressed for _y, v in f.by_year)]
    if len(report.selection.years) < 2 or not figures:
        return
    doc.heading(_("Year by year"), 2)
    for f in figures:
        bar_chart(doc, [(str(year), value) for year, value in f.by_year],
                  caption=_with_unit(f.metric.label, f.metric.unit))


def _category_order(report: Report) -> list:
    """Défis first, then orientations, each followed by its sub-themes."""
    kinds = {"challenge": 0, "orientation": 1, "subtheme": 2}

    def key(category):
        root, depth = category, 0
        while root.parent is not None:
            root, depth = root.parent, depth + 1
        return (kinds.get(root.kind.value, 3), root.position, root.code, depth, category.position, category.code)

    return sorted(report.categories(), key=key)


def _categories(doc: AnnualDocument, report: Report) -> None:
    by_category: dict = {}
    for f in report.indicators:
        by_category.setdefault(f.indicator.category_id, []).append(f)
    categories = _category_order(report)
    if not categories and not report.indicators and not report.verbatims:
        return
    doc.add_page()
    doc.heading(_("Indicators and residents' words, by défi and orientation"), 1)
    # Words attached to an indicator of the report are shown with it, not again with a défi.
    shown_verbatims = {v.id for f in report.indicators for v in f.verbatims}
    for category in categories:
        doc.heading(f"{category.code} · {tr(category, 'name')}", 2)
        description = str(tr(category, "description") or "")
        if description.strip():
            doc.paragraph(description, muted=True, size=9)
        for f in by_category.get(category.id, []):
            _indicator(doc, report, f)
        others = [v for v in report.verbatims.get(category.id, []) if v.id not in shown_verbatims]
        if others:
            doc.paragraph(_("Residents' words"), size=10, bold=True)
            for v in others:
                _verbatim(doc, report, v)
        if not by_category.get(category.id) and not others:
            _note(doc, _("Nothing to show for this défi or orientation over the selection."))
    loose = by_category.get(None, [])
    loose_words = [v for v in report.verbatims.get(None, []) if v.id not in shown_verbatims]
    if loose or loose_words:
        doc.heading(_("Other indicators and residents' words"), 2)
        for f in loose:
            _indicator(doc, report, f)
        for v in loose_words:
            _verbatim(doc, report, v)


def _indicator(doc: AnnualDocument, report: Report, f: IndicatorFigures) -> None:
    ind = f.indicator
    doc.ensure_space(40)
    doc.heading(f"{ind.code} · {tr(ind, 'name')}", 3)
    description = str(tr(ind, "description") or "")
    if description.strip():
        doc.paragraph(description, size=9)
    facts = [(_("Unit"), ind.unit), (_("Scale"), ind.scale),
             (_("Direction"), _("Higher is better") if ind.direction.value == "up" else _("Lower is better"))]
    if f.computed and f.metric is not None:
        facts.append((_("Computed"), str(f.metric.definition)))
    else:
        facts.append((_("Source"), "; ".join(f.source_notes) if f.source_notes else _("Entered by hand")))
    fact_lines(doc, facts, label_width=32, size=9)
    rows: list[tuple[str, m.Value]] = []
    if ind.baseline is not None:
        rows.append((_("Baseline (%(year)s)", year=ind.baseline_year) if ind.baseline_year else _("Baseline"),
                     m.Value(ind.baseline)))
    rows.extend((str(year), value) for year, value in f.by_year)
    if ind.target is not None:
        rows.append((_("Target (%(year)s)", year=ind.target_year) if ind.target_year else _("Target"),
                     m.Value(ind.target)))
    bar_chart(doc, rows, caption=_with_unit(_("Baseline, values and target"), ind.unit))
    if f.verbatims:
        doc.paragraph(_("Residents' words"), size=9.5, bold=True, after=0.5)
        for v in f.verbatims:
            _verbatim(doc, report, v)


def _verbatim(doc: AnnualDocument, report: Report, v) -> None:
    text = " ".join(str(v.text).split())
    if not text:
        return
    doc.ensure_space(14)
    quoted = f"« {text} »" if (v.locale or "").startswith("fr") else f"“{text}”"
    doc.paragraph(quoted, indent=6, size=9.5, after=0.3)
    if v.neighbourhood is not None:
        place = v.neighbourhood.label
    elif v.commune is not None:
        place = v.commune.name
    else:
        place = report.selection.contract.name
    doc.paragraph(f"— {place}, {v.year}", indent=6, size=8, muted=True, after=1.5)


def _comparison(doc: AnnualDocument, report: Report) -> None:
    units = report.units
    figures = [f for f in report.metrics if any(v.shown or v.suppressed for _u, v in f.by_unit)]
    if len(units) < 2 or not figures:
        return
    sel = report.selection
    doc.add_page()
    doc.heading(_("Neighbourhoods compared"), 1)
    doc.paragraph(_("Each figure over %(years)s, per neighbourhood; then what belongs to several neighbourhoods or "
                    "to a whole commune, and to the whole contract.", years=_years(sel.year_from, sel.year_to)),
                  muted=True, size=9)
    area_width = 70
    for start in range(0, len(figures), COMPARISON_COLUMNS):
        group: list[MetricFigures] = figures[start:start + COMPARISON_COLUMNS]
        width = (doc.content_width - area_width) / len(group)
        headers = [_("Area")] + [_with_unit(f.metric.label, f.metric.unit) for f in group]
        rows = []
        for i, unit in enumerate(units):
            rows.append([unit.label] + [cell(f.by_unit[i][1]) for f in group])
        doc.ensure_space(30)
        grid(doc, headers, rows, [area_width] + [width] * len(group), size=8)


def _profile(doc: AnnualDocument, profile) -> None:
    """The participation profile (governance/profile.py): participations and estimated unique
    participants per mechanism, then one table per dimension (age band, gender, neighbourhood
    of residence, language, channel), every count as protected by the profile itself."""
    mechanisms = list(profile.mechanisms)
    # Landscape: a column per mechanism, and the total, next to the category's name.
    doc.add_page(orientation="L")
    doc.heading(_("Who takes part"), 1)
    doc.paragraph(str(profile.definition), size=9, muted=True)
    doc.heading(_("Participations and participants"), 2)
    unique = {u.mechanism.key: u for u in profile.unique}
    rows = []
    for j, mech in enumerate(mechanisms):
        rows.append([str(mech.label), _count(profile.participations.cells[j]), _estimate(unique.get(mech.key))])
    rows.append([_("Total"), _count(profile.participations.total), ""])
    grid(doc, (_("Mechanism"), _("Participations"), _("Estimated participants")), rows,
         (doc.content_width - 110, 50, 60), size=8.5)
    for mech in mechanisms:
        u = unique.get(mech.key)
        method = str(u.method) if u is not None and u.method else ""
        if method:
            doc.paragraph(f"{mech.label}: {method}", size=8, muted=True, after=0.8)
    label_width = 62
    width = (doc.content_width - label_width) / (len(mechanisms) + 1)
    for dim in profile.dimensions:
        doc.ensure_space(50)  # the heading goes with the start of its table
        doc.heading(str(dim.label), 2)
        headers = [str(dim.label)] + [str(mech.label) for mech in mechanisms] + [_("Total")]
        rows = []
        for category, line in zip(dim.categories, dim.table.rows):
            label = _("Not stated") if category.key is None else str(category.label)
            rows.append([label] + [_count(c) for c in line.cells] + [_count(line.total)])
        rows.append([_("Total")] + [_count(c) for c in dim.table.columns.cells] + [_count(dim.table.columns.total)])
        grid(doc, headers, rows, [label_width] + [width] * (len(mechanisms) + 1), size=8)
        silent = [str(mech.label) for mech, recorded in zip(mechanisms, dim.recorded) if not recorded]
        if silent:
            _note(doc, _("Not asked by: %(mechanisms)s (all their participations are “not stated”).",
                         mechanisms=", ".join(silent)))


def _count(c) -> str:
    """A protected count of people (`disclosure.Cell`)."""
    if c is None:
        return NO_VALUE
    return disclosure.SUPPRESSED if c.suppressed else number(c.value)


def _estimate(u) -> str:
    if u is None:
        return NO_VALUE
    if u.estimate is None and u.low is None and u.high is None:
        return _("not estimated")
    text = _count(u.estimate) if u.estimate is not None else ""
    if u.low is not None and u.high is not None and _count(u.low) != _count(u.high):
        bounds = f"{_count(u.low)}–{_count(u.high)}"
        text = f"{text} ({bounds})" if text else bounds
    return text


def _reading_guide(doc: AnnualDocument, report: Report) -> None:
    doc.add_page(orientation="P")
    doc.heading(_("How to read this report"), 1)
    doc.heading(_("Protecting residents"), 2)
    for text in _disclosure_rules():
        doc.paragraph(f"• {text}", size=9.5)
    doc.heading(_("Where and when a participation is counted"), 2)
    doc.paragraph(_("In the neighbourhood the resident gave when the mechanism asks for it (questionnaires, budget "
                    "votes), otherwise in the neighbourhood of the table, walk, process or fund; a participation that "
                    "belongs to several neighbourhoods or to a whole commune is counted in the commune; in the year "
                    "of the day it happened (meeting, answer, vote, walk) or of the fund."), size=9.5)
    doc.heading(_("Definitions"), 2)
    for metric in _definitions(report):
        doc.ensure_space(12)
        doc.paragraph(_with_unit(metric.label, metric.unit), size=9.5, bold=True, after=0.3)
        doc.paragraph(str(metric.definition), size=9)


def _disclosure_rules() -> Iterable[str]:
    return (
        _("“s”: a count of fewer than %(n)s people, or a figure that would let a reader work one out (secondary "
          "suppression: a total minus the other shown figures never gives a hidden one). Zeros are shown.",
          n=disclosure.MIN_CELL),
        _("An amount of money is shown only when at least %(n)s recipients share it.", n=m.MIN_RECIPIENTS),
        _("A rate or an average is shown only when the counts of people behind it are."),
        _("A total over a commune, a neighbourhood or a few years is shown only when every figure it adds up is: "
          "this is why a commune's figure may be “s” while the contract's is not."),
        _("“—”: no value (nothing to count, or not entered yet)."),
        _("Residents' words are published only after a moderator has checked that they name or point to nobody; "
          "they carry no link to the answer, meeting or walk they came from."),
        _("No name, e-mail address, telephone number or address of a resident or of a member of staff appears in "
          "this report."),
    )


def _definitions(report: Report) -> list[m.Metric]:
    seen, out = set(), []
    for metric in [f.metric for f in report.metrics] + [f.metric for f in report.indicators if f.metric]:
        if metric.key not in seen:
            seen.add(metric.key)
            out.append(metric)
    return out


