"""Back office: results (with filters), neighbourhood comparisons, moderation of free text and
photos, and downloads of a questionnaire.

Results and the aggregated downloads are for result readers (`access.can_view_results`:
admins, facilitators, evaluators); the response-level download and moderation for the people
who run the questionnaire (`access.can_manage`, `access.can_moderate`). Filters come from the
query string and never fail the page: a value that makes no sense is reported beside its
field and left out.
"""
from __future__ import annotations

from datetime import date

from flask import Response as HttpResponse
from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user

from ..core import permissions as perm
from ..core.channels import Channel
from ..core.charts import Bar, bar_chart
from ..core.content_i18n import preload
from ..core.disclosure import MIN_CELL, SUPPRESSED, Line
from ..core.htmx import render
from ..core.i18n import current_locale, text_direction
from ..core.permissions import staff_required
from ..core.templating import tr
from ..core.territories import neighbourhoods_in
from ..extensions import db
from . import access
from . import exports as downloads
from . import moderation as moderating
from . import results as res
from .builder_views import tools_for
from .labels import AGE_BANDS, ASSISTANCE, CHANNELS, GENDERS, KINDS, MODERATION
from .models import Answer, Kind, Moderation, Questionnaire, QuestionnaireVersion
from .views import admin_bp
from ..core.numbers import parse_int

PAGE_SIZE = 50


# --- loading and parsing --------------------------------------------------------------------


def _questionnaire(qid: int, allowed) -> Questionnaire:
    questionnaire = db.get_or_404(Questionnaire, qid)
    perm.ensure(allowed(current_user, questionnaire))
    return questionnaire


def _version(questionnaire: Questionnaire, errors: dict) -> QuestionnaireVersion:
    asked = request.args.get("version", "")
    if asked:
        found = next((v for v in questionnaire.versions if str(v.number) == asked), None)
        if found:
            return found
        errors["version"] = _("There is no version %(number)s: the current version is shown.", number=asked[:8])
    return questionnaire.current_version


def _day(name: str, errors: dict) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Enter a date such as 2026-03-31.")
        return None


def parse_filters(questionnaire: Questionnaire, errors: dict) -> res.Filters:
    """Filters from the query string; what makes no sense goes to `errors` and is ignored."""
    allowed = {n.id for n in neighbourhoods_in(questionnaire.scope)}
    ids = []
    for raw in request.args.getlist("nb"):
        if parse_int(raw) in allowed:
            ids.append(int(raw))
        elif raw:
            errors["nb"] = _("Choose neighbourhoods from the list.")
    date_from, date_to = _day("from", errors), _day("to", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = _("The end of the period is before its start.")
        date_to = None
    channel = None
    if request.args.get("channel"):
        try:
            channel = Channel(request.args["channel"])
        except ValueError:
            errors["channel"] = _("Choose a channel from the list.")
    locale = request.args.get("language") or None
    if locale and locale not in current_app.config["LANGUAGES"]:
        errors["language"] = _("Choose a language from the list.")
        locale = None
    return res.Filters(tuple(sorted(set(ids))), date_from, date_to, channel, locale)


def _filter_args(version: QuestionnaireVersion, filters: res.Filters) -> dict:
    """The query string that gives these results again (for links and downloads)."""
    args = {"version": version.number, "nb": list(filters.neighbourhood_ids)}
    if filters.date_from:
        args["from"] = filters.date_from.isoformat()
    if filters.date_to:
        args["to"] = filters.date_to.isoformat()
    if filters.channel:
        args["channel"] = filters.channel.value
    if filters.locale:
        args["language"] = filters.locale
    return args


def describe_filters(filters: res.Filters, names: dict[int, str]) -> str:
    parts = []
    if filters.neighbourhood_ids:
        parts.append(", ".join(names.get(i, "?") for i in filters.neighbourhood_ids))
    if filters.date_from:
        parts.append(_("from %(day)s", day=filters.date_from.isoformat()))
    if filters.date_to:
        parts.append(_("to %(day)s", day=filters.date_to.isoformat()))
    if filters.channel:
        parts.append(str(CHANNELS[filters.channel]))
    if filters.locale:
        parts.append(current_app.config["LANGUAGES"].get(filters.locale, filters.locale))
    return " · ".join(parts)


# --- formatting -----------------------------------------------------------------------------


def pct(cell) -> str:
    if cell.suppressed:
        return SUPPRESSED
    return "" if cell.percent is None else format_percent(cell.percent / 100, "#,##0.#%")


def num(x, digits: int = 1) -> str:
    return SUPPRESSED if x is None else format_decimal(round(x, digits))


def _bar_text(cell) -> str:
    if cell.suppressed:
        return SUPPRESSED
    return f"{format_decimal(cell.value)} · {pct(cell)}" if cell.percent is not None else format_decimal(cell.value)


def line_chart(chart_id: str, title: str, labels, line, percent: bool = True):
    if line.total.suppressed and all(c.suppressed for c in line.cells):
        return None
    bars = [Bar(str(label), None if c.suppressed else (c.percent if percent else c.value), _bar_text(c))
            for label, c in zip(labels, line.cells, strict=True)]
    # Scaled to the longest bar (not to 100 %), so that differences show on a phone.
    return bar_chart(bars, title=title, chart_id=chart_id, rtl=text_direction() == "rtl")


def group_label(key: str, group, names: dict[int, str]) -> str:
    if group is None:
        return _("Not stated")
    if key == "channel":
        return str(CHANNELS[group])
    if key == "help":
        return str(ASSISTANCE[group])
    if key == "age_band":
        return str(AGE_BANDS[group])
    if key == "gender":
        return str(GENDERS[group])
    if key == "neighbourhood":
        return names.get(group, "?")
    return current_app.config["LANGUAGES"].get(group, group)


def _names(questionnaire: Questionnaire, extra=()) -> dict[int, str]:
    names = {n.id: n.name for n in neighbourhoods_in(questionnaire.scope)}
    missing = [i for i in extra if i is not None and i not in names]
    names.update(res.neighbourhood_names(missing))
    return names


def _common(questionnaire: Questionnaire, version: QuestionnaireVersion) -> dict:
    preload([questionnaire, *version.sections, *version.questions, *(o for q in version.questions for o in q.options)],
            current_locale())
    return {"questionnaire": questionnaire, "version": version, "tools": tools_for(current_user, questionnaire),
            "pct": pct, "num": num, "zip": zip, "MIN_CELL": MIN_CELL, "KINDS": KINDS, "Kind": Kind}


# --- results --------------------------------------------------------------------------------


@admin_bp.get("/<int:qid>/results")
@staff_required
def results(qid):
    questionnaire = _questionnaire(qid, access.can_view_results)
    errors: dict[str, str] = {}
    version = _version(questionnaire, errors)
    filters = parse_filters(questionnaire, errors)
    context = _common(questionnaire, version)
    data = res.results(version, filters)
    breakdowns = {b.key: b for b in data.respondents.breakdowns}
    names = _names(questionnaire, breakdowns["neighbourhood"].groups)
    titles = downloads.breakdown_titles()
    charts = {}
    for r in data.questions:
        q = r.question
        title = _("%(code)s: answers", code=q.code)
        if r.line is not None:
            labels = [str(tr(o, "label")) for o in q.options]
            charts[q.id] = line_chart(f"chart-{q.code}", title, labels, r.line)
        elif r.months_line is not None:
            charts[q.id] = line_chart(f"chart-{q.code}", title, [m.strftime("%Y-%m") for m, _c in r.months],
                                      r.months_line, percent=False)
    channel = breakdowns["channel"]
    channel_chart = line_chart("chart-channel", titles["channel"], [CHANNELS[c] for c in channel.groups], channel.line)
    return render(
        "questionnaires/admin/results.html", fragment="questionnaires/admin/_results.html",
        data=data, breakdowns=breakdowns, charts=charts, channel_chart=channel_chart, titles=titles,
        group_label=lambda key, g: group_label(key, g, names), errors=errors,
        neighbourhoods=neighbourhoods_in(questionnaire.scope), filters=filters, channels=list(Channel),
        languages=current_app.config["LANGUAGES"], filter_args=_filter_args(version, filters),
        filter_text=describe_filters(filters, names), **context,
    )


@admin_bp.get("/<int:qid>/compare")
@staff_required
def compare(qid):
    questionnaire = _questionnaire(qid, access.can_view_results)
    errors: dict[str, str] = {}
    version = _version(questionnaire, errors)
    filters = parse_filters(questionnaire, errors)
    context = _common(questionnaire, version)
    choices = [q for q in version.questions if q.is_choice and q.options]
    code = request.args.get("question", "")
    question = next((q for q in choices if q.code == code), None)
    if code and question is None:
        errors["question"] = _("Choose a question from the list.")
    by = request.args.get("by", "neighbourhood")
    if by not in res.GROUPINGS:
        errors["by"] = _("Choose a breakdown from the list.")
        by = "neighbourhood"
    comparison = chart = option = None
    names: dict[int, str] = {}
    if question is not None:
        comparison = res.compare(question, filters, by=by)
        names = _names(questionnaire, comparison.groups if by == "neighbourhood" else ())
        option = next((o for o in question.options if o.code == request.args.get("option")), question.options[0])
        column = question.options.index(option)
        if comparison.table.rows:
            line = Line(tuple(row.cells[column] for row in comparison.table.rows), comparison.table.columns.cells[column])
            chart = line_chart("chart-compare", _("%(code)s: share choosing “%(option)s”", code=question.code,
                                                  option=str(tr(option, "label"))),
                               [group_label(by, g, names) for g in comparison.groups], line)
    titles = downloads.breakdown_titles()
    return render(
        "questionnaires/admin/compare.html", fragment="questionnaires/admin/_results_compare.html",
        choices=choices, question=question, comparison=comparison, by=by, option=option, chart=chart,
        group_label=lambda key, g: group_label(key, g, names), titles=titles, groupings=res.GROUPINGS,
        errors=errors, neighbourhoods=neighbourhoods_in(questionnaire.scope), filters=filters, channels=list(Channel),
        languages=current_app.config["LANGUAGES"], filter_args=_filter_args(version, filters),
        filter_text=describe_filters(filters, _names(questionnaire)), **context,
    )


# --- moderation -----------------------------------------------------------------------------


def _moderation_page(questionnaire: Questionnaire, state: str, errors=(), failed: int | None = None, status: int = 200):
    page = request.args.get("page", "1")
    page = parse_int(page) or 1
    base = moderating.moderated_answers(questionnaire).where(moderating.state_clause(state))
    answers = list(db.session.scalars(base.order_by(Answer.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    more = len(answers) > PAGE_SIZE
    answers = answers[:PAGE_SIZE]
    questions = {a.question_id: a.question for a in answers}
    preload([questionnaire, *questions.values()], current_locale())
    return render(
        "questionnaires/admin/moderation.html", questionnaire=questionnaire, answers=answers, state=state, page=page,
        more=more, counts=moderating.counts(questionnaire), states=moderating.STATES, MODERATION=MODERATION,
        Moderation=Moderation, errors=errors, failed=failed, tools=tools_for(current_user, questionnaire),
        status=status,
    )


def _state() -> str:
    state = request.values.get("state", "pending")
    return state if state in moderating.STATES else "pending"


@admin_bp.get("/<int:qid>/moderation")
@staff_required
def moderation(qid):
    return _moderation_page(_questionnaire(qid, access.can_moderate), _state())


@admin_bp.post("/<int:qid>/moderation/<int:answer_id>")
@staff_required
def moderate(qid, answer_id):
    questionnaire = _questionnaire(qid, access.can_moderate)
    answer = moderating.find_answer(questionnaire, answer_id)
    if answer is None:
        abort(404)
    action = request.form.get("action", "")
    text = request.form.get("text") if "text" in request.form else None
    try:
        moderating.moderate(answer, action, text)
    except moderating.ModerationError as e:
        db.session.rollback()
        return _moderation_page(questionnaire, _state(), errors=[str(e.message)], failed=answer_id, status=422)
    db.session.commit()
    flash({"publish": _("Published."), "reject": _("Not published."), "feature": _("Shown with the results."),
           "unfeature": _("No longer shown with the results.")}[action], "success")
    return redirect(url_for("questionnaires_admin.moderation", qid=qid, state=_state()))


@admin_bp.get("/<int:qid>/photos/<int:answer_id>.jpg")
@staff_required
def photo(qid, answer_id):
    """A photo answer, for staff only: moderators see every photo, result readers the
    published ones. The file is never cached by shared caches."""
    questionnaire = _questionnaire(qid, lambda u, q: access.can_moderate(u, q) or access.can_view_results(u, q))
    answer = moderating.find_answer(questionnaire, answer_id)
    if answer is None or answer.photo_sha256 is None:
        abort(404)
    if answer.moderation != Moderation.published:
        perm.ensure(access.can_moderate(current_user, questionnaire))
    from .services import photo_store

    try:
        path = photo_store().path(answer.photo_sha256)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- downloads ------------------------------------------------------------------------------


@admin_bp.get("/<int:qid>/exports")
@staff_required
def exports(qid):
    questionnaire = _questionnaire(qid, access.can_view_results)
    errors: dict[str, str] = {}
    version = _version(questionnaire, errors)
    context = _common(questionnaire, version)
    return render("questionnaires/admin/exports.html", can_manage=access.can_manage(current_user, questionnaire),
                  errors=errors, **context)


@admin_bp.get("/<int:qid>/export/<what>.<fmt>")
@staff_required
def export(qid, what, fmt):
    questionnaire = _questionnaire(qid, access.can_view_results)
    if what not in downloads.WHATS or fmt not in downloads.FORMATS:
        abort(404)
    if what == "responses":
        perm.ensure(access.can_manage(current_user, questionnaire))
    errors: dict[str, str] = {}
    version = _version(questionnaire, errors)
    opts = downloads.Options(values="labels" if request.args.get("values") == "labels" else "codes",
                           delimiter=";" if request.args.get("sep") == "semicolon" else ",")
    if what == "codebook":
        body = downloads.codebook_export(version, opts, fmt)
    else:
        filters = parse_filters(questionnaire, errors)
        if what == "results":
            body = downloads.results_export(version, filters, opts, fmt,
                                            describe_filters(filters, _names(questionnaire)))
        else:
            body = downloads.responses_export(version, filters, opts, fmt)
    response = HttpResponse(body, mimetype=downloads.FORMATS[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="questionnaire-{questionnaire.id}-v{version.number}-{what}.{fmt}"')
    response.headers["Cache-Control"] = "private, no-store"
    return response
