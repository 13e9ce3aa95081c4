"""Answers entered by staff: with a resident (mediator-assisted, the resident's flow with the
kind of help given) and from paper forms (one compact keyboard-only page per form).

Nothing records who entered a response: the answers carry the channel and the help flags,
never an account. The count of paper forms shown to the clerk lives in their own session.
"""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, request, session, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from ..core import permissions as perm
from ..core.channels import Channel
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.permissions import staff_required
from ..extensions import db
from . import access, labels, logic, services
from .answer_forms import State, new_nonce, problem_message, profile_questions, response_error_message
from .answering import closed_page, flow_for, preload_version, questionnaire_or_404, run_flow
from .models import Kind, Questionnaire, Status
from .views import admin_bp
from ..core.numbers import parse_int

PAPER_COUNTS = "questionnaire_paper_counts"
#: Paper forms hold no photo: those questions are left out of the entry page.
PAPER_SKIPPED_KINDS = frozenset({Kind.photo})


def _entered(qid: int) -> Questionnaire:
    questionnaire = questionnaire_or_404(qid)
    perm.ensure(access.can_enter(current_user, questionnaire))
    return questionnaire


# --- assisted ----------------------------------------------------------------------------


def own_neighbourhood(neighbourhoods) -> int | None:
    """The neighbourhood of the staff member's own grant, when there is exactly one among
    these: the likely place of collection, offered as the default (never forced)."""
    ids = {n.id for n in neighbourhoods}
    mine = {g.neighbourhood_id for g in current_user.grants if g.neighbourhood_id in ids}
    return mine.pop() if len(mine) == 1 else None


def _assisted_start(flow, state: State | None = None, error: str | None = None):
    preload([flow.questionnaire], current_locale())
    return render(
        "questionnaires/admin/assisted.html", flow=flow, questionnaire=flow.questionnaire,
        help=state.help if state else frozenset(),
        picked=state.picked if state else own_neighbourhood(flow.neighbourhoods),
        code=state.code if state else "", code_error=error, assistance=labels.ASSISTANCE,
        status=422 if error else 200,
    )


def _assisted_done(flow, already: bool):
    flash(_("The answers are recorded (assisted entry). You can start again with the next person."), "success")
    return redirect(url_for("questionnaires_admin.assisted", qid=flow.questionnaire.id))


@admin_bp.route("/<int:qid>/assisted", methods=["GET", "POST"])
@staff_required
def assisted(qid):
    """A mediator answers with a resident: the resident's flow, channel "assisted"."""
    questionnaire = _entered(qid)
    if not logic.is_open(questionnaire, date.today()):
        return closed_page(questionnaire)
    flow = flow_for(questionnaire, "assisted")
    if request.method == "GET":
        return _assisted_start(flow)
    return run_flow(flow, start_page=lambda state, error: _assisted_start(flow, state, error),
                    done=lambda already: _assisted_done(flow, already))


# --- paper -------------------------------------------------------------------------------


def paper_questions(questionnaire: Questionnaire) -> list:
    return [q for q in questionnaire.current_version.questions if q.kind not in PAPER_SKIPPED_KINDS]


def read_paper_form(questionnaire: Questionnaire, form, neighbourhoods) -> tuple[dict, dict, logic.Profile]:
    """The typed form → (visible answers, problems by question code or field, profile).

    Choices are typed as option codes ("4", "shops green"); a ranking as codes from first to
    last. Conditions are checked: an answer to a question the form should have skipped is
    a problem, so that the clerk looks at the paper again rather than losing it silently."""
    version = questionnaire.current_version
    raw: dict[str, list[str]] = {}
    problems: dict[str, logic.Problem] = {}
    for question in paper_questions(questionnaire):
        name = logic.field_name(question)
        if question.is_choice:
            part, problem = logic.raw_from_typed(question, form.get(name, ""))
            raw.update(part)
            if problem:
                problems[question.code] = problem
            raw[logic.field_name(question, "other")] = [form.get(logic.field_name(question, "other"), "")]
        elif question.kind == Kind.location:
            raw[logic.field_name(question, "place")] = [form.get(logic.field_name(question, "place"), "")]
        else:
            raw[name] = [form.get(name, "")]
    for name in ("p_age", "p_gender", "p_residence"):
        raw[name] = [form.get(name, "")]
    values, parsed = logic.parse_all(version.questions, raw)
    shown = logic.plan(version.sections, values)
    # Paper cannot insist: an unanswered "required" question is recorded as unanswered.
    for code, problem in parsed.items():
        if problem.code != "required":
            problems.setdefault(code, problem)
    by_code = {q.code: q for q in version.questions}
    for code in logic.not_applicable(version.sections, values, shown):
        question = by_code[code]
        on = question.condition_code or question.section.condition_code or ""
        problems.setdefault(code, logic.Problem("not_applicable", {"question": on}))
    profile, profile_problems = logic.parse_profile(
        raw,
        age_bands=[a.value for a in labels.AGE_BANDS] if questionnaire.ask_age_band else (),
        genders=[g.value for g in labels.GENDERS] if questionnaire.ask_gender else (),
        residence_ids=[n.id for n in neighbourhoods] if questionnaire.ask_residence else (),
    )
    problems.update(profile_problems)
    return shown.answers, problems, profile


def _paper_count(qid: int) -> int:
    entry = session.get(PAPER_COUNTS, {}).get(str(qid))
    return entry[1] if entry and entry[0] == date.today().isoformat() else 0


def _count_paper_form(qid: int) -> int:
    counts = dict(session.get(PAPER_COUNTS, {}))
    n = _paper_count(qid) + 1
    counts[str(qid)] = [date.today().isoformat(), n]
    session[PAPER_COUNTS] = counts
    return n


def _paper_page(questionnaire, neighbourhoods, form, problems=None, errors=(), status=200):
    preload_version(questionnaire)
    first_error = next((q for q in paper_questions(questionnaire) if q.code in (problems or {})), None)
    return render(
        "questionnaires/admin/paper.html", questionnaire=questionnaire, questions=paper_questions(questionnaire),
        skipped=[q for q in questionnaire.current_version.questions if q.kind in PAPER_SKIPPED_KINDS],
        neighbourhoods=neighbourhoods, form=form, problems={k: problem_message(p) for k, p in (problems or {}).items()},
        errors=list(errors), first_error=first_error, count=_paper_count(questionnaire.id), nonce=new_nonce(),
        profile_questions=profile_questions(questionnaire, neighbourhoods), languages_of_forms=_form_languages(),
        Kind=Kind,
        field_name=logic.field_name, today=format_date(date.today(), "dd/MM/yyyy"), status=status,
    )


def _form_languages() -> dict[str, str]:
    from flask import current_app

    return current_app.config["LANGUAGES"]


@admin_bp.route("/<int:qid>/paper", methods=["GET", "POST"])
@staff_required
def paper(qid):
    """Type in paper forms, one after the other, with the keyboard only."""
    questionnaire = _entered(qid)
    if questionnaire.status == Status.draft:
        return closed_page(questionnaire)
    neighbourhoods = services.scope_neighbourhoods(questionnaire)
    if request.method == "GET":
        args = request.args.to_dict()
        if "picked" not in args and own_neighbourhood(neighbourhoods):
            args["picked"] = str(own_neighbourhood(neighbourhoods))
        return _paper_page(questionnaire, neighbourhoods, args)
    form = request.form
    answers, problems, profile = read_paper_form(questionnaire, form, neighbourhoods)
    errors = []
    day = logic.parse_date(form.get("paper_date", ""))
    if day is None:
        problems["paper_date"] = logic.Problem("date_format")
    locale = form.get("form_locale", "")
    if locale not in _form_languages():
        errors.append(_("Choose the language of the form."))
    picked = form.get("picked", "")
    picked_id = parse_int(picked)
    if problems or errors:
        return _paper_page(questionnaire, neighbourhoods, form, problems, errors, status=422)
    nonce = form.get("nonce", "")
    try:
        submitted = services.submit_response(
            questionnaire, questionnaire.current_version, answers, channel=Channel.paper, locale=locale,
            nonce=nonce, profile=profile, submitted_on=day, picked_neighbourhood_id=picked_id,
            code=form.get("code") or None,
        )
    except services.ResponseError as e:
        db.session.rollback()
        if not services.already_recorded(questionnaire, nonce):
            return _paper_page(questionnaire, neighbourhoods, form, errors=[response_error_message(e)], status=422)
        submitted = services.Submitted(None, already=True)
    db.session.commit()
    if submitted.already:
        flash(_("This form had already been saved: it was not recorded twice."), "success")
    else:
        n = _count_paper_form(questionnaire.id)
        flash(_("Paper form saved (%(count)s this session). The page is ready for the next one.", count=n), "success")
    return redirect(url_for("questionnaires_admin.paper", qid=questionnaire.id, paper_date=form.get("paper_date"),
                            form_locale=locale, picked=picked or None))

