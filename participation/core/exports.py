"""Tabular exports (CSV, XLSX) shared by every mechanism.

Cells that a spreadsheet would run as a formula (starting with = + - @, or a tab or carriage
return) are prefixed with an apostrophe, as Indico does: an export must never execute.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence], delimiter: str = ",") -> str:
    """UTF-8 with BOM so that spreadsheet programs open accents and Arabic correctly.
    `delimiter=";"` for spreadsheets set up for French (where "," is the decimal mark)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow([safe_cell(str(h)) for h in headers])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def to_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    """One sheet per (title, headers, rows); header row bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        ws.append([str(h) for h in headers])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for row in rows:
            ws.append([safe_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
