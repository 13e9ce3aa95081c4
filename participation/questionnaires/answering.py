"""Answering a questionnaire: residents from a QR code or a short link, with no account, and
staff previewing it. One section per screen; the screens and the hidden state that makes the
flow work without JavaScript and without a server-side session are in answer_forms.py.
`run_flow` is shared with the mediator-assisted entry (entry_views.py)."""
from __future__ import annotations

from datetime import date
from typing import Callable

from flask import abort, current_app, redirect, request, url_for
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from ..core import permissions as perm
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.permissions import public, staff_required
from ..extensions import db, limiter
from . import access, codes, labels, logic, services
from .answer_forms import (
    PROFILE, REVIEW, SECTION, Flow, Screen, State, new_nonce, pick, pictogram_url, problem_message,
    profile_questions, progress, response_error_message,
)
from .models import Kind, Questionnaire, ScaleStyle, Status
from .views import bp

#: Failed look-ups of answer codes (10 characters from 31: not guessable at this rate).
CODE_LOOKUP_LIMIT = "30 per minute"


def questionnaire_or_404(qid: int) -> Questionnaire:
    return db.get_or_404(Questionnaire, qid)


def _public(qid: int) -> Questionnaire:
    questionnaire = questionnaire_or_404(qid)
    if questionnaire.status == Status.draft:
        abort(404)
    return questionnaire


def flow_for(questionnaire: Questionnaire, mode: str) -> Flow:
    if not questionnaire.versions:
        abort(404)
    action = {
        "web": lambda: url_for("questionnaires.step", qid=questionnaire.id),
        "preview": lambda: url_for("questionnaires.preview", qid=questionnaire.id),
        "assisted": lambda: url_for("questionnaires_admin.assisted", qid=questionnaire.id),
    }[mode]()
    return Flow(questionnaire, mode, action, services.scope_neighbourhoods(questionnaire))


def preload_version(questionnaire: Questionnaire) -> None:
    version = questionnaire.current_version
    objects = [questionnaire, *version.sections, *version.questions,
               *(o for q in version.questions for o in q.options)]
    preload(objects, current_locale())


def closed_page(questionnaire: Questionnaire):
    preload([questionnaire], current_locale())
    return render("questionnaires/closed.html", questionnaire=questionnaire, today=date.today(), Status=Status,
                  format_day=format_date, status=409)


def code_error(questionnaire: Questionnaire, code: str) -> str | None:
    """Why a code cannot answer (checked again, for good, when the answers are sent)."""
    if not code:
        return response_error_message(services.ResponseError("code_missing"))
    found = codes.find_code(questionnaire, code)
    if found is None:
        return response_error_message(services.ResponseError("code_invalid"))
    if codes.is_used(found):
        return response_error_message(services.ResponseError("code_used"))
    return None


def show(flow: Flow, state: State, screen: Screen, problems=None, errors=(), status: int = 200):
    """Render one screen of the flow with the whole state carried in the form."""
    preload_version(flow.questionnaire)
    number, total = progress(state, screen)
    messages = {code: problem_message(p) for code, p in (problems or {}).items()}
    return render(
        "questionnaires/flow.html",
        flow=flow, questionnaire=flow.questionnaire, state=state, screen=screen, problems=messages,
        errors=list(errors), number=number, total=total, hidden=state.hidden_fields(screen), nonce=new_nonce(),
        pick=pick, pictogram_url=pictogram_url, labels=labels, Kind=Kind, ScaleStyle=ScaleStyle,
        SECTION=SECTION, PROFILE=PROFILE, REVIEW=REVIEW, field_name=logic.field_name, rank_field=logic.rank_field,
        depends_on_same_section=logic.depends_on_same_section,
        profile_questions=profile_questions(flow.questionnaire, flow.neighbourhoods),
        format_number=format_decimal, format_day=format_date, status=status,
    )


def run_flow(flow: Flow, start_page: Callable, done: Callable):
    """One POST of the flow. `start_page(state, code_error)` renders the start again;
    `done(already)` answers once the response is recorded (or recognised as recorded)."""
    state = State(flow, request.form)
    if state.carried_over and state.go != "start":
        return show(flow, state, state.screens()[0], errors=[
            _("This questionnaire was updated while you were answering. Your answers are kept: please check them.")])
    state.take_uploads(request.files, state.screen(state.step))
    current = state.screen(state.step)
    go = state.go
    if go == "start":
        error = code_error(flow.questionnaire, state.code) if flow.needs_code else None
        if error:
            return start_page(state, error)
        return show(flow, state, state.screens()[0])
    if current is None:
        return show(flow, state, state.screens()[0])
    if go == "next":
        problems = state.problems_for(current)
        if problems:
            return show(flow, state, current, problems, status=422)
        return show(flow, state, state.neighbour(current, 1))
    if go == "back":
        return show(flow, state, state.neighbour(current, -1))
    if go.startswith("goto:"):
        return show(flow, state, state.screen(go[5:]) or current)
    if go == "easy":
        state.easy = not state.easy
    if go == "send":
        screen, problems = state.all_problems()
        if problems:
            return show(flow, state, screen, problems, errors=[_("Some answers need your attention before sending.")],
                        status=422)
        if flow.mode == "preview":
            return done(False)
        return _send(flow, state, done)
    # "resume" (a draft kept on the device), "stay" (another language), "easy": same screen.
    return show(flow, state, current)


def _send(flow: Flow, state: State, done: Callable):
    questionnaire = flow.questionnaire
    try:
        submitted = services.submit_response(
            questionnaire, flow.version, state.plan.answers, channel=flow.channel, locale=current_locale(),
            nonce=state.nonce, profile=state.profile, assistance=state.help, picked_neighbourhood_id=state.picked,
            code=state.code or None,
        )
    except services.ResponseError as e:
        db.session.rollback()
        if services.already_recorded(questionnaire, state.nonce):
            return done(True)
        state.refresh()
        return show(flow, state, state.screen(REVIEW), errors=[response_error_message(e)], status=422)
    db.session.commit()
    return done(submitted.already)


# --- routes ----------------------------------------------------------------------------


def start_page(flow: Flow, code: str = "", easy: bool = False, error: str | None = None, status: int = 200):
    preload([flow.questionnaire], current_locale())
    return render("questionnaires/start.html", flow=flow, questionnaire=flow.questionnaire, code=code, easy=easy,
                  code_error=error, pick=pick, status=422 if error else status)


@bp.get("/q/<int:qid>")
@limiter.limit(CODE_LOOKUP_LIMIT, deduct_when=lambda r: r.status_code == 422)
@public
def start(qid):
    """The QR code or short link: introduction, language, easy-read, answer code."""
    questionnaire = _public(qid)
    if not logic.is_open(questionnaire, date.today()):
        return closed_page(questionnaire)
    flow = flow_for(questionnaire, "web")
    code = (request.args.get("code") or "").strip()[:40]
    error = code_error(questionnaire, code) if code and flow.needs_code else None
    return start_page(flow, code, request.args.get("easy") == "1", error)


@bp.post("/q/<int:qid>")
@limiter.limit(lambda: current_app.config["QUESTIONNAIRE_POST_LIMIT"])
@public
def step(qid):
    questionnaire = _public(qid)
    if not logic.is_open(questionnaire, date.today()):
        return closed_page(questionnaire)
    flow = flow_for(questionnaire, "web")
    return run_flow(
        flow,
        start_page=lambda state, error: start_page(flow, state.code, state.easy, error),
        done=lambda already: redirect(url_for("questionnaires.thanks", qid=questionnaire.id)),
    )


@bp.get("/q/<int:qid>/thanks")
@public
def thanks(qid):
    questionnaire = _public(qid)
    preload([questionnaire], current_locale())
    return render("questionnaires/thanks.html", questionnaire=questionnaire, flow=flow_for(questionnaire, "web"))


@bp.route("/q/<int:qid>/preview", methods=["GET", "POST"])
@staff_required
def preview(qid):
    """The resident's flow on the current version, even a draft; nothing is saved."""
    questionnaire = questionnaire_or_404(qid)
    perm.ensure(access.can_manage(current_user, questionnaire))
    flow = flow_for(questionnaire, "preview")
    if request.method == "GET":
        return start_page(flow, easy=request.args.get("easy") == "1")
    return run_flow(
        flow,
        start_page=lambda state, error: start_page(flow, state.code, state.easy, error),
        done=lambda already: render("questionnaires/thanks.html", questionnaire=questionnaire, flow=flow),
    )


@bp.get("/q/<int:qid>/photo/<sha>.jpg")
@public
def photo(qid, sha):
    """The resident's own photo, shown back on the screen where it was given and in the review.

    Its content hash is known only to the one who uploaded it (it travels in their form), so
    it works as a capability; never cached by shared caches. Photos already attached to a
    response are shown only in the back office, once moderated."""
    from flask import send_file

    questionnaire_or_404(qid)
    store = services.photo_store()
    try:
        if not store.exists(sha):
            abort(404)
        path = store.path(sha)
    except ValueError:
        abort(404)
    response = send_file(path, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response
