"""The field-mode entry page: the whole questionnaire on one page, one person per form, for a
mediator with a tablet. Marked for the outbox, it works offline with JavaScript (see
`field.py`, the adapter the sync calls); without JavaScript it posts here, online, with the
same checks and messages."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..core import permissions as perm
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.permissions import staff_required
from ..extensions import db
from . import access, labels, logic, services
from .answer_forms import new_nonce, pick, pictogram_url, profile_questions
from .answering import closed_page, preload_version, questionnaire_or_404
from .field import (
    FORM_VERSION, KIND, MODES, EntryProblems, Incompatible, accepts, carry_to_current, changed_message,
    form_languages, read_entry, record, recorded_message, with_photos,
)
from .models import Kind, Questionnaire, QuestionnaireVersion, ScaleStyle
from .views import admin_bp

#: Fields kept from one form to the next (the same pile of paper forms, the same place).
STICKY = ("mode", "paper_date", "form_locale", "picked")


class FieldState:
    """The answers shown in the page's inputs (the `state` of questionnaires/_question.html)."""

    easy = False

    def __init__(self, raw: MultiDict, values: dict | None = None):
        self.raw = raw
        #: photos kept from a refused POST (only their hashes travel), by question code
        self.values = values or {}

    def get(self, name: str) -> str:
        return self.raw.get(name, "")

    def getlist(self, name: str) -> list[str]:
        return self.raw.getlist(name)

    def chosen(self, question, option) -> bool:
        codes = {c.strip().casefold() for c in self.raw.getlist(logic.field_name(question))}
        return option.code.casefold() in codes


class _Flow:
    """What the question macros need of the answering flow (the photo preview's URL)."""

    def __init__(self, questionnaire: Questionnaire):
        self.questionnaire = questionnaire


def _entered(qid: int) -> Questionnaire:
    questionnaire = questionnaire_or_404(qid)
    perm.ensure(access.can_enter(current_user, questionnaire))
    return questionnaire


def _kept_photos(questionnaire: Questionnaire, raw: MultiDict) -> dict:
    out = {}
    for question in questionnaire.current_version.questions:
        if question.kind == Kind.photo:
            value, problem = logic.parse(question, raw)
            if value is not None and problem is None and services.photo_exists(value.sha256):
                out[question.code] = value
    return out


def _page(questionnaire: Questionnaire, raw: MultiDict, problems=None, errors=(), status: int = 200):
    preload_version(questionnaire)
    version = questionnaire.current_version
    neighbourhoods = services.scope_neighbourhoods(questionnaire)
    problems = problems or {}
    first_error = next((q for q in version.questions if q.code in problems), None)
    return render(
        "questionnaires/admin/field.html",
        questionnaire=questionnaire, version=version, flow=_Flow(questionnaire),
        state=FieldState(raw, _kept_photos(questionnaire, raw)), problems=problems, errors=list(errors),
        first_error=first_error, nonce=new_nonce(), neighbourhoods=neighbourhoods,
        by_code={q.code: q for q in version.questions},
        profile_questions=profile_questions(questionnaire, neighbourhoods), assistance=labels.ASSISTANCE,
        languages_of_forms=form_languages(), kind=KIND, form_version=FORM_VERSION,
        target={"questionnaire_id": questionnaire.id, "version_id": version.id},
        today=date.today().isoformat(), Kind=Kind, ScaleStyle=ScaleStyle, pick=pick, pictogram_url=pictogram_url,
        field_name=logic.field_name, rank_field=logic.rank_field,
        # Every condition is shown in words by this page and evaluated by its own script.
        depends_on_same_section=lambda question: False,
        format_number=format_decimal, status=status,
    )


def _shown_version(questionnaire: Questionnaire, form) -> QuestionnaireVersion:
    version = db.session.get(QuestionnaireVersion, parse_int(form.get("version")) or 0)
    if version is None or version.questionnaire_id != questionnaire.id:
        return questionnaire.current_version
    return version


def _uploads(questionnaire: Questionnaire, shown: QuestionnaireVersion) -> tuple[dict[str, str], dict[str, str]]:
    """Photos chosen in the page: ({file input name: stored hash}, {question code: problem})."""
    photos, problems = {}, {}
    by_input = {logic.field_name(q, "file"): q for q in shown.questions if q.kind == Kind.photo}
    for name, upload in request.files.items():
        question = by_input.get(name)
        if question is None or not upload.filename:
            continue
        try:
            photos[name] = services.store_photo(upload)
        except services.PhotoRejected as e:
            problems[question.code] = str(e.message)
    return photos, problems


@admin_bp.route("/<int:qid>/field", methods=["GET", "POST"])
@staff_required
def field_form(qid):
    """Collect one person's answers on one page, online or offline (field mode)."""
    questionnaire = _entered(qid)
    if request.method == "GET":
        if not logic.is_open(questionnaire, date.today()) or not questionnaire.versions:
            return closed_page(questionnaire)
        return _page(questionnaire, MultiDict({k: v for k, v in request.args.items() if k in STICKY}))
    form = request.form
    if not questionnaire.versions or not accepts(questionnaire, MODES.get(form.get("mode", ""))):
        return closed_page(questionnaire)
    shown = _shown_version(questionnaire, form)
    photos, photo_problems = _uploads(questionnaire, shown)
    raw = with_photos(MultiDict(form), photos)
    try:
        raw, removed = carry_to_current(questionnaire, shown, raw)
    except Incompatible as e:
        return _page(questionnaire, MultiDict(), errors=[changed_message(e.code)], status=422)
    try:
        entry = read_entry(questionnaire, raw, locale=current_locale(), removed=removed)
        if photo_problems:
            raise EntryProblems(photo_problems)
        submitted = record(entry, form.get("nonce", ""))
    except EntryProblems as e:
        db.session.rollback()
        problems = {**e.problems, **photo_problems}
        return _page(questionnaire, raw, problems, e.errors, status=422)
    db.session.commit()
    if submitted.already:
        flash(_("These answers had already been saved: they were not recorded twice."), "success")
    else:
        flash(recorded_message(entry), "success")
    return redirect(url_for("questionnaires_admin.field_form", qid=questionnaire.id,
                            **{k: form.get(k) for k in STICKY if form.get(k)}))
