"""Downloads of a questionnaire version: aggregated results, response-level data, codebook.

- *results*: every question × option (and the respondents' breakdowns), with the same
  suppression as the results page ("s"); for result readers (evaluators included);
- *responses*: one row per response, for the people who run the questionnaire only. No
  response id (nothing to link a row back to a stored response), dates of answers rounded to
  the month, points to about 100 m, and a free text only once published;
- *codebook*: every question and option code with its wording, in the questionnaire's
  language and the reader's.

Headers are translated; option values are codes or labels, as asked. CSV is UTF-8 with a BOM,
"," or ";" separated, cells that a spreadsheet would run as a formula neutralised
(`core.exports`). XLSX has one sheet per table.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from ..core.channels import Assistance, Channel
from ..core.content_i18n import preload, translate
from ..core.disclosure import SUPPRESSED, Cell
from ..core.exports import to_csv, to_xlsx
from ..core.i18n import current_locale
from ..core.territories import Neighbourhood
from ..extensions import db
from . import results as res
from .labels import AGE_BANDS, ASSISTANCE, CHANNELS, GENDERS, KINDS
from .models import Answer, Kind, Moderation, QuestionnaireVersion, Response

WHATS = ("results", "responses", "codebook")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
VALUES = ("codes", "labels")


@dataclass(frozen=True)
class Options:
    values: str = "codes"
    delimiter: str = ","

    @property
    def labels(self) -> bool:
        return self.values == "labels"


def _t(obj, field: str) -> str:
    return str(translate(obj, field, current_locale()))


def _number(x, opts: Options, digits: int = 1):
    """A rounded figure; with ";" separators, the French decimal comma."""
    if x is None:
        return ""
    x = round(float(x), digits)
    if x == int(x):
        return int(x)
    return str(x).replace(".", ",") if opts.delimiter == ";" else x


def _cell(cell: Cell) -> object:
    return SUPPRESSED if cell.suppressed else cell.value


def _percent(cell: Cell, opts: Options) -> object:
    if cell.suppressed:
        return SUPPRESSED
    return _number(cell.percent, opts) if cell.percent is not None else ""


def _stat(x, opts: Options) -> object:
    return SUPPRESSED if x is None else _number(x, opts, 2)


def _preload(version: QuestionnaireVersion) -> None:
    questions = version.questions
    preload([*version.sections, *questions, *(o for q in questions for o in q.options)], current_locale())


def _group_value(key: str, group, opts: Options, names: dict) -> str:
    if group is None:
        return "" if not opts.labels else _("Not stated")
    if key == "channel":
        return str(CHANNELS[group]) if opts.labels else group.value
    if key == "help":
        return str(ASSISTANCE[group]) if opts.labels else group.value
    if key == "age_band":
        return str(AGE_BANDS[group]) if opts.labels else group.value
    if key == "gender":
        return str(GENDERS[group]) if opts.labels else group.value
    if key == "neighbourhood":
        return names.get(group, ("", ""))[1 if opts.labels else 0]
    return group  # a language code


def breakdown_titles() -> dict[str, str]:
    return {"channel": _("Channel"), "locale": _("Language"), "neighbourhood": _("Neighbourhood"),
            "age_band": _("Age band"), "gender": _("Gender"), "help": _("Help given (assisted)")}


def _names(ids: Iterable) -> dict[int, tuple[str, str]]:
    ids = [i for i in set(ids) if i is not None]
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Neighbourhood.id, Neighbourhood.qpv_code, Neighbourhood.name)
                              .where(Neighbourhood.id.in_(ids)))
    return {i: (code, name) for i, code, name in rows}


# --- (1) aggregated results -----------------------------------------------------------------


def _result_headers() -> list[str]:
    return [_("Question"), _("Text"), _("Type"), _("Value"), _("Respondents"), _("Percent"), _("Answered"),
            _("Statistic")]


def _question_rows(r: res.QuestionResult, opts: Options) -> list[list]:
    q = r.question
    head = [q.code, _t(q, "text"), str(KINDS[q.kind])]
    answered = _cell(r.answered)
    out = []
    if r.line is not None:
        for i, (option, cell) in enumerate(zip(q.options, r.line.cells, strict=True)):
            stat = _stat(r.average_ranks[i], opts) if r.average_ranks else ""
            value = _t(option, "label") if opts.labels else option.code
            out.append([*head, value, _cell(cell), _percent(cell, opts), answered, stat])
        if q.kind == Kind.scale:
            out.append([*head, _("Average") if opts.labels else "mean", "", "", answered, _stat(r.mean, opts)])
    elif r.months_line is not None:
        for month, cell in r.months:
            out.append([*head, month.strftime("%Y-%m"), _cell(cell), _percent(cell, opts), answered, ""])
    elif r.stats:
        names = {"mean": _("Average"), "median": _("Median"), "min": _("Minimum"), "max": _("Maximum")}
        for name, value in r.stats:
            out.append([*head, str(names[name]) if opts.labels else name, "", "", answered, _stat(value, opts)])
    if not out:
        out.append([*head, "", "", "", answered, ""])
    return out


def _respondent_rows(data: res.Results, opts: Options) -> list[list]:
    titles = breakdown_titles()
    names = _names(g for b in data.respondents.breakdowns if b.key == "neighbourhood" for g in b.groups)
    rows = []
    for b in data.respondents.breakdowns:
        for group, cell in zip(b.groups, b.line.cells, strict=True):
            rows.append([b.key, titles[b.key], _("Respondents"), _group_value(b.key, group, opts, names),
                         _cell(cell), _percent(cell, opts), _cell(b.line.total), ""])
    return rows


def results_export(version: QuestionnaireVersion, filters: res.Filters, opts: Options, fmt: str, filter_text: str):
    _preload(version)
    data = res.results(version, filters)
    question_rows = [row for r in data.questions for row in _question_rows(r, opts)]
    respondent_rows = _respondent_rows(data, opts)
    if fmt == "csv":
        return to_csv(_result_headers(), [*question_rows, *respondent_rows], delimiter=opts.delimiter)
    notes = [[_("Questionnaire"), _t(version.questionnaire, "title")], [_("Version"), version.number],
             [_("Filters"), filter_text or _("none")],
             [_("Suppression"), _("\"s\": fewer than 11 people, or hidden so that a total cannot reveal such a cell.")]]
    return to_xlsx([
        (_("Results"), _result_headers(), question_rows),
        (_("Respondents"), _result_headers(), respondent_rows),
        (_("About"), [_("Item"), _("Value")], notes),
    ])


# --- (2) response-level data ------------------------------------------------------------------


def _columns(version: QuestionnaireVersion) -> list[tuple[str, object, object]]:
    """(header, question, option or part) for every per-question column."""
    cols = []
    for q in version.questions:
        regular = [o for o in q.options if not o.is_other]
        if q.kind in (Kind.multiple, Kind.ranking):
            cols += [(f"{q.code}_{o.code}", q, o) for o in regular]
        elif q.kind == Kind.location:
            cols += [(f"{q.code}_lat", q, "lat"), (f"{q.code}_lon", q, "lon")]
        else:
            cols.append((q.code, q, None))
        if any(o.is_other for o in q.options):
            cols.append((f"{q.code}_other", q, "other"))
    return cols


def _answer_values(version: QuestionnaireVersion, filters: res.Filters, opts: Options) -> dict:
    """{response id: {(question id, part): value}} from one query over the version's answers."""
    options = {o.id: o for q in version.questions for o in q.options}
    kinds = {q.id: q.kind for q in version.questions}
    rows = db.session.execute(
        sa.select(Answer.response_id, Answer.question_id, Answer.option_id, Answer.rank, Answer.number, Answer.text,
                  Answer.moderation, Answer.day, Answer.photo_sha256, Answer.latitude, Answer.longitude)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.version_id == version.id, *filters.clauses(Response))
    )
    out: dict = {}
    for rid, qid, oid, rank, number, text, moderation, day, photo, lat, lon in rows:
        values = out.setdefault(rid, {})
        kind = kinds.get(qid)
        published = text if moderation == Moderation.published and text else ""
        if oid is not None:
            option = options[oid]
            if option.is_other:
                values[(qid, "other")] = published
            if kind == Kind.multiple:
                values[(qid, oid)] = 1
            elif kind == Kind.ranking:
                values[(qid, oid)] = rank
            if kind != Kind.multiple and kind != Kind.ranking:
                values[(qid, None)] = _t(option, "label") if opts.labels else option.code
        elif kind in (Kind.short_text, Kind.long_text):
            values[(qid, None)] = published
        elif kind == Kind.number:
            values[(qid, None)] = _number(number, opts, 2)
        elif kind == Kind.date and day is not None:
            values[(qid, None)] = day.strftime("%Y-%m")
        elif kind == Kind.photo:
            values[(qid, None)] = 1 if photo else 0
        elif kind == Kind.location and lat is not None:
            values[(qid, "lat")] = _number(lat, opts, 3)
            values[(qid, "lon")] = _number(lon, opts, 3)
    return out


def _response_headers(columns) -> list[str]:
    return [_("Version"), _("Month"), _("Channel"), _("Help given"), _("Language"), _("Neighbourhood"), _("Age band"),
            _("Gender"), *(c[0] for c in columns)]


def responses_export(version: QuestionnaireVersion, filters: res.Filters, opts: Options, fmt: str):
    _preload(version)
    columns = _columns(version)
    answers = _answer_values(version, filters, opts)
    responses = db.session.execute(
        sa.select(Response).where(Response.version_id == version.id, *filters.clauses(Response))
        # The id is random: the rows' order tells nothing about who answered when.
        .order_by(Response.id)
    ).scalars().all()
    names = _names(r.neighbourhood_id for r in responses)
    rows = []
    for r in responses:
        values = answers.get(r.id, {})
        answered_questions = {qid for qid, _part in values}
        helped = [a for a, flag in ((Assistance.read_aloud, r.helped_read_aloud),
                                    (Assistance.translated, r.helped_translated),
                                    (Assistance.written_for, r.helped_written_for)) if flag]
        row = [
            # The month, not the day: with the profile, a day could single a person out.
            version.number, r.submitted_on.strftime("%Y-%m"), _group_value("channel", r.channel, opts, names),
            " | ".join(_group_value("help", a, opts, names) for a in helped), r.locale,
            _group_value("neighbourhood", r.neighbourhood_id, opts, names),
            _group_value("age_band", r.age_band, opts, names), _group_value("gender", r.gender, opts, names),
        ]
        for _header, q, part in columns:
            key = (q.id, part.id if hasattr(part, "id") else part)
            if q.kind == Kind.multiple and hasattr(part, "id"):
                row.append(values.get(key, 0) if q.id in answered_questions else "")
            else:
                row.append(values.get(key, ""))
        rows.append(row)
    headers = _response_headers(columns)
    if fmt == "csv":
        return to_csv(headers, rows, delimiter=opts.delimiter)
    return to_xlsx([(_("Responses"), headers, rows)])


# --- (3) codebook -----------------------------------------------------------------------------


def _condition(code, values) -> str:
    return f"{code} = {' | '.join(values or [])}" if code else ""


def codebook_export(version: QuestionnaireVersion, opts: Options, fmt: str):
    _preload(version)
    here = current_locale()
    original = version.questionnaire.original_locale
    text_original = _("Text (%(language)s, original)", language=original)
    text_here = _("Text (%(language)s)", language=here)
    q_headers = [_("Question"), _("Section"), _("Type"), _("Required"), _("Condition"), _("Category"), _("Indicator"),
                 text_original, text_here]
    o_headers = [_("Question"), _("Value"), text_original, text_here]
    questions, options = [], []
    for section in version.sections:
        section_condition = _condition(section.condition_code, section.condition_values)
        for q in section.questions:
            condition = " ; ".join(c for c in (section_condition, _condition(q.condition_code, q.condition_values)) if c)
            questions.append([q.code, _t(section, "title"), str(KINDS[q.kind]), _("yes") if q.required else _("no"),
                              condition, q.category.code if q.category else "", q.indicator.code if q.indicator else "",
                              q.text, _t(q, "text")])
            options += [[q.code, o.code, o.label, _t(o, "label")] for o in q.options]
    variables = [["channel", c.value, "", str(CHANNELS[c])] for c in Channel]
    variables += [["help", a.value, "", str(ASSISTANCE[a])] for a in Assistance]
    variables += [["age_band", a.value, "", str(AGE_BANDS[a])] for a in AGE_BANDS]
    variables += [["gender", g.value, "", str(GENDERS[g])] for g in GENDERS]
    if fmt == "xlsx":
        return to_xlsx([
            (_("Questions"), q_headers, questions),
            (_("Options"), o_headers, options),
            (_("Response variables"), o_headers, variables),
        ])
    # CSV: one table, each question followed by its options (in the value column).
    by_question: dict[str, list] = {}
    for row in options:
        by_question.setdefault(row[0], []).append(row)
    headers = [*q_headers[:7], _("Value"), text_original, text_here]
    rows = []
    for q_row in questions:
        rows.append([*q_row[:7], "", q_row[7], q_row[8]])
        rows += [[code, "", "", "", "", "", "", value, label, label_here]
                 for code, value, label, label_here in by_question.get(q_row[0], [])]
    rows += [[name, "", _("Response variable"), "", "", "", "", value, label, label_here]
             for name, value, label, label_here in variables]
    return to_csv(headers, rows, delimiter=opts.delimiter)
