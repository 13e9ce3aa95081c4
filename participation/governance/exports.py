"""Governance downloads, all made from one `report.Report` (so they show exactly what the
dashboard shows, protected the same way): CSV (`report_rows`), XLSX (a read-me sheet with the
selection, the disclosure rules and every definition, then one sheet per section) and an
open-data Frictionless *Data Package* (zip: `datapackage.json`, one CSV per section, README.md).

Nothing here counts anything: every figure comes from the report, already protected ("s").
Free text is limited to published verbatims; no resident, staff member or address appears.
"""
from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone

from flask_babel import gettext as _

from ..core import disclosure
from ..core.content_i18n import translate
from ..core.exports import safe_cell, to_csv
from ..core.i18n import current_locale
from ..core.territories import IndicatorSource
from . import metrics as m
from .models import VerbatimStatus
from .report import COLUMNS, Report, Selection, report_rows

#: The French government's open licence, compatible with CC-BY and ODC-BY.
LICENSE = {
    "name": "etalab-2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
    "title": "Licence Ouverte / Open Licence 2.0",
}
#: What a reader of the data package treats as "no value": empty, or suppressed.
MISSING_VALUES = ["", disclosure.SUPPRESSED]
#: How every CSV of the data package is written (Python's csv defaults).
DIALECT = {"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": '"', "doubleQuote": True, "header": True}
SECTIONS = ("figures", "comparison", "indicators")
KINDS = (m.PEOPLE, m.COUNT, m.AMOUNT, m.RATE, m.MEAN, m.DAYS, "entered")
LEVELS = ("neighbourhood", "commune", "contract")
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
    "pdf": "application/pdf",
}


# --- words ---------------------------------------------------------------------------------------


def kind_label(kind: str) -> str:
    return {
        m.PEOPLE: _("number of people"),
        m.COUNT: _("count"),
        m.AMOUNT: _("amount"),
        m.RATE: _("rate, in per cent"),
        m.MEAN: _("mean"),
        m.DAYS: _("median delay (days)"),
        "entered": _("entered by hand"),
    }.get(kind, kind)


def level_label(level: str) -> str:
    return {"neighbourhood": _("neighbourhood"), "commune": _("commune"), "contract": _("contract")}.get(level, level)


def mechanism_label(mechanism: str) -> str:
    return {
        "tables": _("tables de quartier"),
        "questionnaires": _("questionnaires"),
        "budgets": _("participatory budgets"),
        "walks": _("exploratory walks"),
        "fph": _("FPH (residents' participation fund)"),
        "followup": _("follow-up of demands to institutions"),
    }.get(mechanism, mechanism)


def disclosure_rules() -> list[str]:
    """The rules every figure that leaves the app follows, in the UI language (the same words
    as the annual report's, so they are translated once)."""
    return [
        _("“s”: a count of fewer than %(n)s people, or a figure that would let a reader work one out (secondary "
          "suppression: a total minus the other shown figures never gives a hidden one). Zeros are shown.",
          n=disclosure.MIN_CELL),
        _("An amount of money is shown only when at least %(n)s recipients share it.", n=m.MIN_RECIPIENTS),
        _("A rate or an average is shown only when the counts of people behind it are."),
        _("A total over a commune, a neighbourhood or a few years is shown only when every figure it adds up is: "
          "this is why a commune's figure may be “s” while the contract's is not."),
        _("An empty cell: no value (nothing to count, or not entered yet)."),
        _("Residents' words are published only after a moderator has checked that they name or point to nobody; "
          "they carry no link to the answer, meeting or walk they came from."),
        _("No name, e-mail address, telephone number or address of a resident or of a member of staff appears in "
          "this report."),
    ]


def disclosure_json() -> dict:
    return {"suppressed": disclosure.SUPPRESSED, "min_people": disclosure.MIN_CELL,
            "min_recipients": m.MIN_RECIPIENTS, "rules": disclosure_rules()}


def selection_text(selection: Selection) -> str:
    parts = [selection.area_label,
             _("%(first)s to %(last)s", first=selection.year_from, last=selection.year_to)]
    if selection.category is not None:
        parts.append(f"{selection.category.code} {translate(selection.category, 'name', current_locale())}")
    return " · ".join(parts)


def title_of(selection: Selection) -> str:
    return _("Governance figures: %(contract)s", contract=selection.contract.name)


# --- file names ----------------------------------------------------------------------------------


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def basename(selection: Selection) -> str:
    """`gouvernance-<contract>-<area code>-<from>-<to>[-<défi code>]`, ASCII, lower case (also
    the data package's `name`)."""
    if selection.neighbourhood is not None:
        area = selection.neighbourhood.qpv_code
    elif selection.commune is not None:
        area = selection.commune.insee_code
    else:
        area = "contrat"
    parts = ["gouvernance", selection.contract.slug, area, str(selection.year_from), str(selection.year_to)]
    if selection.category is not None:
        parts.append(selection.category.code)
    return "-".join(p for p in (_slug(x) for x in parts) if p)


# --- rows shared by the formats --------------------------------------------------------------------


@dataclass
class Table:
    """One section: machine column names (CSV, data package), the UI's headers (XLSX) and rows."""

    name: str
    title: str
    description: str
    fields: list[dict]
    rows: list[list]

    @property
    def columns(self) -> list[str]:
        return [f["name"] for f in self.fields]

    @property
    def headers(self) -> list[str]:
        return [f["title"] for f in self.fields]


def _field(name: str, type_: str, title: str, description: str, **extra) -> dict:
    return {"name": name, "type": type_, "title": title, "description": description, **extra}


def figure_fields() -> list[dict]:
    """The schema of `report.COLUMNS` (figures, comparison, indicators)."""
    fields = [
        _field("section", "string", _("Section"),
               _("figures: the selection over its years; comparison: each area inside it; indicators: the "
                 "référentiel's indicators."), constraints={"enum": list(SECTIONS)}),
        _field("code", "string", _("Code"), _("The metric's key or the indicator's code (see definitions).")),
        _field("label", "string", _("Name"), _("What is counted or measured.")),
        _field("unit", "string", _("Unit"), _("Unit of the value.")),
        _field("kind", "string", _("Kind"),
               _("people, count, amount, rate, mean, days (median delay) or entered (an indicator entered by hand)."),
               constraints={"enum": list(KINDS)}),
        _field("level", "string", _("Level"), _("neighbourhood (QPV), commune or contract."),
               constraints={"enum": list(LEVELS)}),
        _field("area_code", "string", _("Area code"),
               _("QPV code of the neighbourhood, INSEE code of the commune, or the contract's identifier.")),
        _field("area", "string", _("Area"), _("Name of the area.")),
        _field("year", "integer", _("Year"), _("Year; empty for the total over the selected years.")),
        _field("value", "number", _("Value"),
               _("The figure; “%(s)s” when suppressed to protect people, empty when there is no value.",
                 s=disclosure.SUPPRESSED)),
    ]
    assert [f["name"] for f in fields] == list(COLUMNS)
    return fields


def figure_tables(report: Report) -> list[Table]:
    rows = report_rows(report)
    fields = figure_fields()
    titles = {"figures": (_("Figures"), _("Headline figures of the selection, in total and per year.")),
              "comparison": (_("Comparison"), _("Each area of the selection over the selected years.")),
              "indicators": (_("Indicators"), _("The référentiel's indicators, per year."))}
    return [Table(section, titles[section][0], titles[section][1], fields,
                  [[r[c] for c in COLUMNS] for r in rows if r["section"] == section]) for section in SECTIONS]


def _number(x):
    return "" if x is None else (int(x) if float(x).is_integer() else x)


def definition_table(report: Report) -> Table:
    """One line per metric and indicator of the report: definition, unit, source, baseline, target."""
    locale = current_locale()
    fields = [
        _field("code", "string", _("Code"), _("The metric's key or the indicator's code.")),
        _field("type", "string", _("Type"), _("metric: computed by the app for every report; indicator: an "
                                                "indicator of the contract's référentiel."),
               constraints={"enum": ["metric", "indicator"]}),
        _field("name", "string", _("Name"), _("Name.")),
        _field("definition", "string", _("Definition"), _("What exactly is counted or measured.")),
        _field("unit", "string", _("Unit"), _("Unit.")),
        _field("kind", "string", _("Kind"), _("See the figures' kind."), constraints={"enum": list(KINDS)}),
        _field("source", "string", _("Source"), _("Computed from the app's data, or entered by hand.")),
        _field("category_code", "string", _("Défi or orientation"), _("Code of the défi or orientation.")),
        _field("scale", "string", _("Scale"), _("Scale of the values.")),
        _field("direction", "string", _("Direction"), _("up: higher is better; down: lower is better."),
               constraints={"enum": ["up", "down"]}),
        _field("baseline", "number", _("Baseline"), _("Value at the start.")),
        _field("baseline_year", "integer", _("Baseline year"), _("Year of the baseline.")),
        _field("target", "number", _("Target"), _("Value aimed at.")),
        _field("target_year", "integer", _("Target year"), _("Year of the target.")),
    ]
    rows = []
    for f in report.metrics:
        mt = f.metric
        rows.append([mt.key, "metric", str(mt.label), str(mt.definition), str(mt.unit), mt.kind,
                     _("Computed from %(mechanism)s", mechanism=mechanism_label(mt.mechanism)), "", "", "",
                     "", "", "", ""])
    for f in report.indicators:
        ind = f.indicator
        if f.computed and f.metric is not None:
            source = _("Computed from %(mechanism)s: %(metric)s", mechanism=mechanism_label(f.metric.mechanism),
                       metric=f.metric.label)
        elif ind.source is IndicatorSource.computed:
            source = _("Computed (metric “%(metric)s” not available)", metric=ind.metric or "")
        elif f.source_notes:
            source = _("Entered by hand: %(notes)s", notes="; ".join(f.source_notes))
        else:
            source = _("Entered by hand")
        rows.append([ind.code, "indicator", str(translate(ind, "name", locale)),
                     str(translate(ind, "description", locale)), ind.unit, f.metric.kind if f.metric else "entered",
                     source, ind.category.code if ind.category is not None else "", ind.scale,
                     ind.direction.value if ind.direction else "", _number(ind.baseline), _number(ind.baseline_year),
                     _number(ind.target), _number(ind.target_year)])
    return Table("definitions", _("Definitions"), _("Every metric and indicator of the report."), fields, rows)


def published_verbatims(report: Report) -> list:
    """The report's verbatims (published only: the report keeps no other), each once."""
    seen, out = set(), []
    for items in report.verbatims.values():
        for v in items:
            if v.id not in seen and v.status is VerbatimStatus.published:
                seen.add(v.id)
                out.append(v)
    out.sort(key=lambda v: (-v.year, v.id))
    return out


def verbatim_table(report: Report) -> Table:
    locale = current_locale()
    fields = [
        _field("text", "string", _("Words"), _("A resident's words, published after moderation.")),
        _field("language", "string", _("Language"), _("Language the words were said in (code).")),
        _field("year", "integer", _("Year"), _("Year.")),
        _field("commune_code", "string", _("INSEE code"), _("INSEE code of the commune.")),
        _field("neighbourhood_code", "string", _("QPV code"), _("QPV code of the neighbourhood.")),
        _field("neighbourhood", "string", _("Neighbourhood"), _("Neighbourhood or commune.")),
        _field("category_code", "string", _("Défi or orientation"), _("Code of the défi or orientation.")),
        _field("category", "string", _("Défi or orientation (name)"), _("Name of the défi or orientation.")),
        _field("indicator_code", "string", _("Indicator"), _("Code of the indicator.")),
        _field("indicator", "string", _("Indicator (name)"), _("Name of the indicator.")),
    ]
    rows = []
    for v in published_verbatims(report):
        category = v.category if v.category is not None else (v.indicator.category if v.indicator is not None else None)
        if v.neighbourhood is not None:
            place = v.neighbourhood.label
        else:
            place = v.commune.name if v.commune is not None else ""
        rows.append([v.text, v.locale, v.year, v.commune.insee_code if v.commune is not None else "",
                     v.neighbourhood.qpv_code if v.neighbourhood is not None else "", place,
                     category.code if category is not None else "",
                     str(translate(category, "name", locale)) if category is not None else "",
                     v.indicator.code if v.indicator is not None else "",
                     str(translate(v.indicator, "name", locale)) if v.indicator is not None else ""])
    return Table("verbatims", _("Verbatims"), _("Residents' words, published after moderation."), fields, rows)


PROFILE_MEASURES = ("participations", "unique_estimate", "unique_low", "unique_high")


def profile_table(report: Report) -> Table | None:
    """The participation profile (governance/profile.py) as one long table: each cell of each
    dimension's table (category × mechanism, and the category's total over the mechanisms), the
    participations per mechanism, and the estimated unique participants (None: no profile)."""
    if report.profile is None:
        return None
    fields = [
        _field("dimension", "string", _("Dimension"), _("age_band, gender, residence, language or channel; empty "
                                                          "for the totals per mechanism and the unique participants."),
               constraints={"enum": [d.key for d in report.profile.dimensions]}),
        _field("dimension_label", "string", _("Dimension (name)"), _("Name of the dimension.")),
        _field("category", "string", _("Category"), _("Age band, gender, neighbourhood, language or channel; "
                                                        "“not stated” counts those who did not say.")),
        _field("mechanism", "string", _("Mechanism"), _("Key of the mechanism; “all” for the total of a line."),
               constraints={"enum": [mech.key for mech in report.profile.mechanisms] + ["all"]}),
        _field("mechanism_label", "string", _("Mechanism (name)"), _("Name of the mechanism.")),
        _field("measure", "string", _("Measure"),
               _("participations (each participation counts, people are not matched across mechanisms); "
                 "unique_estimate, unique_low, unique_high: estimated unique participants and its bounds."),
               constraints={"enum": list(PROFILE_MEASURES)}),
        _field("value", "number", _("Value"), _("The figure; “%(s)s” when suppressed to protect people, empty when "
                                                  "there is no value.", s=disclosure.SUPPRESSED)),
    ]
    return Table("profile", _("Profile"), _("Who takes part: participations by age band, gender, neighbourhood of "
                                            "residence, language and channel, per mechanism."),
                 fields, _profile_rows(report.profile))


def _count(cell) -> object:
    """A profile cell ("s" when suppressed, empty when there is none)."""
    if cell is None:
        return ""
    return disclosure.SUPPRESSED if cell.suppressed else cell.value


def _profile_rows(profile) -> list[list]:
    rows = []
    mechanisms = list(profile.mechanisms)
    everything = _("All mechanisms")
    for d in profile.dimensions:
        for category, line in zip(d.categories, d.table.rows):
            for mech, cell in zip(mechanisms, line.cells):
                rows.append([d.key, str(d.label), str(category.label), mech.key, str(mech.label), "participations",
                             _count(cell)])
            rows.append([d.key, str(d.label), str(category.label), "all", everything, "participations",
                         _count(line.total)])
    for mech, cell in zip(mechanisms, profile.participations.cells):
        rows.append(["", "", "", mech.key, str(mech.label), "participations", _count(cell)])
    rows.append(["", "", "", "all", everything, "participations", _count(profile.participations.total)])
    for u in profile.unique:
        for measure, cell in (("unique_estimate", u.estimate), ("unique_low", u.low), ("unique_high", u.high)):
            rows.append(["", "", "", u.mechanism.key, str(u.mechanism.label), measure, _count(cell)])
    return rows


# --- CSV -------------------------------------------------------------------------------------------


def csv_export(report: Report) -> str:
    rows = report_rows(report)
    return to_csv(COLUMNS, ([r[c] for c in COLUMNS] for r in rows))


# --- XLSX ------------------------------------------------------------------------------------------


def _sections(report: Report) -> list[Table]:
    tables = figure_tables(report)
    profile = profile_table(report)
    if profile is not None:
        tables.append(profile)
    tables.append(verbatim_table(report))
    return tables


def xlsx_export(report: Report, today: date | None = None) -> bytes:
    """A read-me sheet first (title, selection, date, disclosure rules, definitions), then one
    sheet per section with the UI language's headers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    sel = report.selection
    bold = Font(bold=True)
    wb = Workbook()
    readme = wb.active
    readme.title = _sheet_title(_("Read me"), [])
    lines: list[tuple[list, bool]] = [
        ([title_of(sel)], True),
        ([_("Selection"), selection_text(sel)], False),
        ([_("Extracted on"), (today or date.today()).isoformat()], False),
        ([_("Licence"), f"{LICENSE['title']} ({LICENSE['path']})"], False),
        ([], False),
        ([_("Disclosure rules")], True),
        *(([rule], False) for rule in disclosure_rules()),
        ([], False),
        ([_("Sheets")], True),
    ]
    sections = _sections(report)
    lines += [([t.title, t.description], False) for t in sections]
    definitions = definition_table(report)
    lines += [([], False), ([_("Definitions")], True), (definitions.headers, True)]
    lines += [(row, False) for row in definitions.rows]
    for values, strong in lines:
        readme.append([safe_cell(v) for v in values])
        if strong:
            for cell in readme[readme.max_row]:
                cell.font = bold
    readme.column_dimensions["A"].width = 28
    readme.column_dimensions["B"].width = 60
    readme.column_dimensions["D"].width = 60
    for row in readme.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    period = f"{sel.year_from}–{sel.year_to}"
    words = _xlsx_words()
    for table in sections:
        ws = wb.create_sheet(title=_sheet_title(table.title, wb.sheetnames))
        ws.append(table.headers)
        for cell in ws[1]:
            cell.font = bold
        ws.freeze_panes = "A2"
        columns = table.columns
        for row in table.rows:
            ws.append([safe_cell(_xlsx_cell(words, columns[i], v, period)) for i, v in enumerate(row)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_words() -> dict[str, dict]:
    """The words a code column's values read as in the UI language, looked up once per export
    (a gettext per cell made a large workbook's writing several times slower)."""
    return {
        "kind": {k: kind_label(k) for k in KINDS},
        "level": {k: level_label(k) for k in ("neighbourhood", "commune", "contract")},
        "measure": {"participations": _("participations"), "unique_estimate": _("estimated unique participants"),
                    "unique_low": _("lower bound"), "unique_high": _("upper bound")},
        "section": {"figures": _("Figures"), "comparison": _("Comparison"), "indicators": _("Indicators")},
    }


def _xlsx_cell(words: dict[str, dict], column: str, value, period: str):
    if column == "year" and value == "":
        return period  # a total over the selected years
    known = words.get(column)
    if known is None:
        return value
    return known.get(value, value) if isinstance(value, str) else value


def _sheet_title(title: str, taken: Sequence[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "sheet"
    name, n = clean, 2
    while name in taken:
        name = f"{clean[:28]} {n}"
        n += 1
    return name


# --- Frictionless data package -----------------------------------------------------------------------


def _plain_csv(table: Table) -> str:
    """UTF-8 without a BOM (a BOM would end up in the first column's name), formula-safe."""
    return to_csv(table.columns, table.rows).lstrip("\ufeff")


def _schema(table: Table) -> dict:
    fields = [{k: v for k, v in f.items()} for f in table.fields]
    return {"fields": fields, "missingValues": list(MISSING_VALUES)}


def datapackage(report: Report, now: datetime | None = None) -> tuple[dict, dict[str, str]]:
    """The descriptor and the CSV files (path → text) of the data package."""
    sel = report.selection
    now = now or datetime.now(timezone.utc)
    tables = [*figure_tables(report), definition_table(report)]
    profile = profile_table(report)
    if profile is not None:
        tables.append(profile)
    tables.append(verbatim_table(report))
    files, resources = {}, []
    for table in tables:
        path = f"data/{table.name}.csv"
        files[path] = _plain_csv(table)
        resources.append({
            "name": table.name,
            "path": path,
            "profile": "tabular-data-resource",
            "title": table.title,
            "description": table.description,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": dict(DIALECT),
            "schema": _schema(table),
        })
    descriptor = {
        "profile": "tabular-data-package",
        "name": basename(sel),
        "title": title_of(sel),
        "description": selection_text(sel),
        "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "licenses": [dict(LICENSE)],
        "keywords": ["politique de la ville", "contrat de ville", "QPV", "participation"],
        "resources": resources,
    }
    return descriptor, files


def readme(report: Report, descriptor: dict) -> str:
    sel = report.selection
    out = [f"# {title_of(sel)}", "",
           f"- {_('Selection')}: {selection_text(sel)}",
           f"- {_('Extracted on')}: {descriptor['created']}",
           f"- {_('Licence')}: [{LICENSE['title']}]({LICENSE['path']})", "",
           f"## {_('Disclosure rules')}", ""]
    out += [f"- {rule}" for rule in disclosure_rules()]
    out += ["", f"## {_('Files')}", "",
            f"- `datapackage.json`: {_('the description of every file and column (Frictionless Data Package).')}"]
    out += [f"- `{r['path']}`: {r['description']}" for r in descriptor["resources"]]
    for r in descriptor["resources"]:
        out += ["", f"### `{r['path']}`", ""]
        out += [f"- `{f['name']}` ({f['type']}): {f['description']}" for f in r["schema"]["fields"]]
    return "\n".join(out) + "\n"


def zip_export(report: Report, now: datetime | None = None) -> bytes:
    descriptor, files = datapackage(report, now)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2))
        for path, text in files.items():
            z.writestr(path, text)
        z.writestr("README.md", readme(report, descriptor))
    return buf.getvalue()
