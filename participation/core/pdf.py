"""PDF documents the app writes itself (fpdf2): walk reports, the annual governance report.

One font family (DejaVu Sans, vendored in `core/fonts/` with its licence: Latin, Greek,
Cyrillic, Arabic…) with HarfBuzz shaping, so Arabic letters join and each paragraph is ordered
by the Unicode bidi algorithm; a right-to-left document is aligned to the right and its tables
read from the right. Every piece of text goes through `safe_text()`: control characters and
bidi overrides are removed (a resident's quote must not turn the page around) and characters
the font lacks are dropped, so odd input never breaks the file (emoji: say it in words).
"""
from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

FONT_DIR = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
FONTS = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}

#: Text colour, muted colour and rule colour (RGB).
INK = (27, 27, 27)
MUTED = (85, 85, 85)
RULE = (190, 190, 190)

HEADING_SIZES = {1: 18, 2: 14, 3: 11.5}
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


@lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    """Code points both fonts can draw."""
    from fontTools.ttLib import TTFont

    sets = [set(TTFont(str(path), lazy=True).getBestCmap()) for path in FONTS.values()]
    return frozenset(set.intersection(*sets))


def safe_text(text) -> str:
    """`text` as something the fonts can print: line breaks kept (\\r\\n → \\n), tabs as spaces,
    other control characters, bidi overrides and characters without a glyph removed."""
    glyphs = _glyphs()
    text = unicodedata.normalize("NFC", str(text if text is not None else ""))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    out = []
    for char in text:
        if char == "\n":
            out.append(char)
        elif char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
            continue
        elif ord(char) in glyphs:
            out.append(char)
    return "".join(out)


def direction_of(text: str, default: str = "ltr") -> str:
    """"rtl" or "ltr" from the first strong character (as HTML's dir="auto" does)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return default


class Document(FPDF):
    """An A4 document in one language: `rtl` aligns it to the right. The footer carries
    `footer_text` (e.g. the document's title) and "page / pages"."""

    def __init__(self, *, title: str, lang: str, rtl: bool = False, footer_text: str = "",
                 author: str = "", orientation: str = "P"):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.rtl = rtl
        self.footer_text = safe_text(footer_text)
        for style, path in FONTS.items():
            self.add_font(FAMILY, style, str(path))
        self.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr")
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=18)
        self.set_title(safe_text(title))
        self.set_lang(lang)
        self.set_creator("participation")
        if author:
            self.set_author(safe_text(author))
        self.alias_nb_pages()
        self.set_font(FAMILY, size=10)
        self.set_text_color(*INK)

    # --- layout helpers ------------------------------------------------------------------

    @property
    def align(self) -> str:
        """The document's reading side: "R" for right-to-left."""
        return "R" if self.rtl else "L"

    @property
    def content_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def _shape_for(self, text: str) -> None:
        """Paragraph direction from the text itself (a French quote in an Arabic report keeps
        its full stop at its end), alignment from the document."""
        self.set_text_shaping(use_shaping_engine=True,
                              direction=direction_of(text, "rtl" if self.rtl else "ltr"))

    def _restore_shaping(self) -> None:
        self.set_text_shaping(use_shaping_engine=True, direction="rtl" if self.rtl else "ltr")

    def ensure_space(self, height: float) -> None:
        """Start a new page unless `height` mm fit on this one."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()

    def heading(self, text, level: int = 1) -> None:
        size = HEADING_SIZES.get(level, 11)
        # A heading never ends a page alone: it needs room for itself and a few lines.
        self.ensure_space(size * 0.5 + 18)
        if self.get_y() > self.t_margin + 1:
            self.ln(4 if level > 1 else 6)
        self.paragraph(text, size=size, bold=True, line_height=size * 0.5)
        if level == 1:
            self.rule()
        self.ln(1.5)

    def paragraph(self, text, *, size: float = 10, bold: bool = False, muted: bool = False,
                  line_height: float | None = None, indent: float = 0, after: float = 1.5) -> None:
        """A block of text in the document's direction; `indent` mm on the reading side."""
        text = safe_text(text).strip()
        if not text:
            return
        self.set_font(FAMILY, "B" if bold else "", size)
        self.set_text_color(*(MUTED if muted else INK))
        self._shape_for(text)
        x = self.l_margin + (0 if self.rtl else indent)
        self.set_x(x)
        self.multi_cell(self.content_width - indent, line_height or size * 0.5, text, align=self.align,
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._restore_shaping()
        self.set_text_color(*INK)
        self.set_font(FAMILY, "", 10)
        if after:
            self.ln(after)

    def facts(self, pairs: Iterable[tuple[str, str]], *, label_width: float = 55) -> None:
        """Label / value lines (a definition list), labels in bold on the reading side."""
        rows = [(safe_text(k), safe_text(v)) for k, v in pairs if safe_text(v).strip()]
        if not rows:
            return
        self.table_rows(None, rows, col_widths=(label_width, self.content_width - label_width),
                        bold_first_column=True, borders=False)

    def table_rows(self, headers: Sequence[str] | None, rows: Iterable[Sequence], *,
                   col_widths: Sequence[float] | None = None, bold_first_column: bool = False,
                   borders: bool = True, size: float = 9) -> None:
        """A table; in a right-to-left document its first column is on the right."""
        rows = [[safe_text(c) for c in row] for row in rows]
        if not rows:
            return
        widths = list(col_widths) if col_widths else None
        order = (lambda seq: list(reversed(seq))) if self.rtl else list
        self.set_font(FAMILY, "", size)
        self.ensure_space(size * 1.6)
        layout = TableBordersLayout.HORIZONTAL_LINES if borders else TableBordersLayout.NONE
        self.set_draw_color(*RULE)
        with self.table(
            col_widths=order(widths) if widths else None,
            width=self.content_width,
            text_align=self.align,
            borders_layout=layout,
            first_row_as_headings=headers is not None,
            headings_style=_headings_style(),
            line_height=size * 0.55,
            padding=(1.2, 1.5),
        ) as table:
            if headers is not None:
                row = table.row()
                for cell in order([safe_text(h) for h in headers]):
                    row.cell(cell)
            for values in rows:
                row = table.row()
                for i, cell in order(list(enumerate(values))):
                    if bold_first_column and i == 0:
                        row.cell(cell, style=FontFace(emphasis="BOLD"))
                    else:
                        row.cell(cell)
        self.set_draw_color(*INK)
        self.set_font(FAMILY, "", 10)
        self.ln(2)

    def rule(self) -> None:
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        y = self.get_y() + 1
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_y(y + 1)
        self.set_draw_color(*INK)

    def centred_text(self, x: float, y: float, text, *, size: float = 8, bold: bool = False) -> None:
        """One short line centred on (x, y) (labels of a drawing: numbers, letters)."""
        text = safe_text(text)
        self.set_font(FAMILY, "B" if bold else "", size)
        width = self.get_string_width(text)
        height = size * 0.3528  # points → mm
        self.text(x - width / 2, y + height * 0.35, text)
        self.set_font(FAMILY, "", 10)

    def jpeg(self, data: bytes, x: float, y: float, w: float, h: float) -> None:
        """A JPEG from memory (photos are JPEG already: embedded as they are)."""
        self.image(io.BytesIO(data), x=x, y=y, w=w, h=h)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*MUTED)
        # The page total is written in when the file is closed: that works on plain text only,
        # and "3 / 8" reads the same in every language.
        shaping = self.text_shaping
        self.text_shaping = None
        self.cell(0, 8, f"{self.page_no()} / {self.str_alias_nb_pages}", align="R" if not self.rtl else "L")
        self.text_shaping = shaping
        if self.footer_text:
            width = self.content_width - 20
            text = self.footer_text
            while len(text) > 1 and self.get_string_width(text) > width:
                text = text[: max(1, int(len(text) * 0.9))].rstrip() + "…"
                if self.get_string_width(text) <= width:
                    break
                text = text[:-1]
            self.set_x(self.l_margin + (20 if self.rtl else 0))
            self._shape_for(text)
            self.cell(width, 8, text, align=self.align)
            self._restore_shaping()
        self.set_text_color(*INK)

    def to_bytes(self) -> bytes:
        return bytes(self.output())


def _headings_style() -> FontFace:
    return FontFace(emphasis="BOLD", fill_color=(238, 238, 238))


def rtl_x(doc: Document, x: float, width: float) -> float:
    """Where a box of `width` placed `x` mm from the reading side starts (from the left)."""
    return doc.w - doc.r_margin - x - width if doc.rtl else doc.l_margin + x
