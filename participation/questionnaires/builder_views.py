"""Back office of questionnaires: the list, creation and settings, the builder (sections,
questions, options, conditions, versions), opening and closing, and answer-code slips.

Every builder route needs `access.can_manage` on the questionnaire; the list shows what the
caller's grants cover, with what each role may do there. Objects are addressed by id and
must belong to the questionnaire's current version: a page left open on an older version
leads back to the current one. A refused change rolls the request back and says why (422).
"""
from __future__ import annotations

import base64

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..admin import services as admin_services
from ..core import permissions as perm
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.permissions import staff_required
from ..core.qr import qr_png
from ..core.users import User
from ..extensions import db
from ..links.models import ShortLink
from ..links.services import base_url
from . import access, builder, builder_versions, codes as answer_codes, pictograms
from .builder import BuildError
from .builder_forms import (
    CodesForm, ConfirmForm, MoveForm, NewQuestionForm, NewQuestionnaireForm, QuestionForm, SectionAddForm,
    SectionForm, SettingsForm, StatusForm, condition_choices, condition_data, error_message, new_option_form,
    question_initial_data, tag_choices,
)
from .labels import ACCESS, KINDS, PURPOSES, STATUSES
from .models import Access, AnswerCodeBatch, Option, Question, Questionnaire, Response, Section, Status
from .views import admin_bp

#: Everyone who sees a questionnaire in the back office.
VIEWERS = access.MANAGERS | access.ENTRY_ROLES | access.RESULT_READERS
#: (endpoint, label, who may use it) of the pages about one questionnaire.
TOOLS = [
    ("questionnaires_admin.detail", _l("Build"), access.can_manage),
    ("questionnaires.preview", _l("Preview as a resident"), access.can_manage),
    ("questionnaires_admin.assisted", _l("Answer with a resident"), access.can_enter),
    ("questionnaires_admin.paper", _l("Type in paper forms"), access.can_enter),
    ("questionnaires_admin.field_form", _l("Collect answers in the field"), access.can_enter),
    ("questionnaires_admin.results", _l("Results"), access.can_view_results),
    ("questionnaires_admin.moderation", _l("Moderate free text"), access.can_moderate),
    ("questionnaires_admin.exports", _l("Exports"), access.can_view_results),
    ("questionnaires_admin.codes", _l("Answer codes"), access.can_manage),
]
SLIPS_PER_PAGE = 10


def tools_for(user: User, questionnaire: Questionnaire, skip: str = "") -> list[tuple[str, str]]:
    return [(url_for(endpoint, qid=questionnaire.id), str(label)) for endpoint, label, allowed in TOOLS
            if endpoint != skip and allowed(user, questionnaire)]


def _managed(qid: int) -> Questionnaire:
    questionnaire = db.get_or_404(Questionnaire, qid)
    perm.ensure(access.can_manage(current_user, questionnaire))
    return questionnaire


def _current(questionnaire: Questionnaire, version) -> None:
    """404 for another questionnaire's object; back to the builder for an older version's."""
    if version.questionnaire_id != questionnaire.id:
        abort(404)
    if version.id != questionnaire.current_version.id:
        flash(error_message(BuildError("old_version")), "error")
        abort(redirect(url_for("questionnaires_admin.detail", qid=questionnaire.id)))


def _section(questionnaire: Questionnaire, sid: int) -> Section:
    section = db.get_or_404(Section, sid)
    _current(questionnaire, section.version)
    return section


def _question(questionnaire: Questionnaire, question_id: int) -> Question:
    question = db.get_or_404(Question, question_id)
    _current(questionnaire, question.section.version)
    return question


def _option(questionnaire: Questionnaire, oid: int) -> Option:
    option = db.get_or_404(Option, oid)
    _current(questionnaire, option.question.section.version)
    return option


def _refused(e: BuildError) -> list[str]:
    db.session.rollback()
    return [error_message(e)]


def _saved(questionnaire: Questionnaire, before: int, text: str) -> None:
    """Commit, and say so, and whether the change made a new version."""
    db.session.commit()
    flash(text, "success")
    number = questionnaire.current_version.number
    if number != before:
        flash(_("This version already had answers, so the change was made on a new version (%(number)s); the answers "
                "already given stay with version %(old)s.", number=number, old=before), "success")


def _to_builder(questionnaire: Questionnaire, anchor: str | None = None):
    return redirect(url_for("questionnaires_admin.detail", qid=questionnaire.id, _anchor=anchor))


# --- list, creation, settings -------------------------------------------------------------


@admin_bp.get("/")
@staff_required
def index():
    perm.ensure(current_user.is_superadmin or bool(perm.managed_scopes(current_user, VIEWERS)))
    found = list(db.session.scalars(
        sa.select(Questionnaire)
        .where(sa.or_(perm.scope_clause(current_user, VIEWERS, Questionnaire.contract_id, Questionnaire.commune_id,
                                        Questionnaire.neighbourhood_id), _covering_entry_grants(current_user)))
        .order_by(Questionnaire.created_at.desc(), Questionnaire.id.desc())
    ))
    counts = dict(db.session.execute(
        sa.select(Response.questionnaire_id, sa.func.count()).where(Response.questionnaire_id.in_([q.id for q in found]))
        .group_by(Response.questionnaire_id)).all()) if found else {}
    preload(found, current_locale())
    return render("questionnaires/admin/index.html", questionnaires=found, counts=counts, STATUSES=STATUSES,
                  PURPOSES=PURPOSES, tools={q.id: tools_for(current_user, q) for q in found},
                  can_create=bool(admin_services.scope_choices(current_user, access.can_manage)))


def _covering_entry_grants(user: User):
    """Questionnaires (not drafts) of a wider scope that covers a mediator's area: the mediator
    collects answers for them (access.can_enter), so the list shows them too."""
    covering = [
        sa.and_(Questionnaire.contract_id == g.contract_id,
                sa.or_(Questionnaire.commune_id.is_(None), Questionnaire.commune_id == g.commune_id),
                sa.or_(Questionnaire.neighbourhood_id.is_(None), Questionnaire.neighbourhood_id == g.neighbourhood_id))
        for g in user.grants if g.role in access.ENTRY_ROLES
    ]
    return sa.and_(Questionnaire.status != Status.draft, sa.or_(*covering)) if covering else sa.false()


def _languages() -> list[SelectChoice]:
    return [SelectChoice(code, name, render_kw={"lang": code}) for code, name in current_app.config["LANGUAGES"].items()]


@admin_bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    choices = admin_services.scope_choices(current_user, access.can_manage)
    perm.ensure(bool(choices))
    form = NewQuestionnaireForm()
    form.scope.choices = choices
    form.original_locale.choices = _languages()
    if not form.is_submitted():
        form.original_locale.data = current_locale()
    errors = []
    if form.validate_on_submit():
        target = admin_services.parse_scope(form.scope.data)
        perm.ensure(target is not None and access.can_manage(current_user, target))
        try:
            settings = form.settings()
            questionnaire = builder.create_questionnaire(target, settings.pop("title"), form.original_locale.data,
                                                         **settings)
        except BuildError as e:
            errors = _refused(e)
        else:
            db.session.commit()
            flash(_("Questionnaire created as a draft. Add its questions, then open it."), "success")
            return _to_builder(questionnaire)
    return render("questionnaires/admin/new.html", form=form, errors=errors,
                  status=422 if errors or form.errors else 200)


@admin_bp.route("/<int:qid>/settings", methods=["GET", "POST"])
@staff_required
def settings(qid):
    questionnaire = _managed(qid)
    form = SettingsForm(obj=None if request.method == "POST" else questionnaire)
    if request.method == "GET":
        form.purpose.data, form.access.data = questionnaire.purpose.value, questionnaire.access.value
    errors = []
    if form.validate_on_submit():
        try:
            builder.update_settings(questionnaire, **form.settings())
        except BuildError as e:
            errors = _refused(e)
        else:
            db.session.commit()
            flash(_("Settings saved."), "success")
            return _to_builder(questionnaire)
    preload([questionnaire], current_locale())
    return render("questionnaires/admin/settings.html", questionnaire=questionnaire, form=form, errors=errors,
                  status=422 if errors or form.errors else 200)


@admin_bp.post("/<int:qid>/status")
@staff_required
def status(qid):
    questionnaire = _managed(qid)
    form = StatusForm()
    if not form.validate_on_submit():
        return _builder_page(questionnaire, errors=[error_message(BuildError("status"))], status=422)
    try:
        builder.set_status(questionnaire, Status(form.status.data))
    except BuildError as e:
        return _builder_page(questionnaire, errors=_refused(e), status=422)
    db.session.commit()
    flash(_("The questionnaire is open: residents can answer it.") if questionnaire.status == Status.open
          else _("The questionnaire is closed: it no longer accepts answers."), "success")
    return _to_builder(questionnaire)


# --- the builder page -------------------------------------------------------------------


def _conditions(version) -> dict:
    """{section or question: (source question, [its options that show it])}, for the summaries."""
    by_code = {q.code: q for q in version.questions}
    out = {}
    for obj in (*version.sections, *version.questions):
        source = by_code.get(obj.condition_code or "")
        if source is not None:
            out[obj] = (source, [o for o in source.options if o.code in (obj.condition_values or ())])
    return out


def _builder_page(questionnaire: Questionnaire, errors=(), add_form=None, status: int = 200):
    version = questionnaire.current_version
    counts = builder_versions.response_counts(questionnaire)
    links = list(db.session.scalars(sa.select(ShortLink).where(
        ShortLink.target_path == f"/q/{questionnaire.id}",
        perm.scope_clause(current_user, perm.LINK_MANAGERS, ShortLink.contract_id, ShortLink.commune_id,
                          ShortLink.neighbourhood_id)).order_by(ShortLink.created_at)))
    objects = [questionnaire, *version.sections]
    for question in version.questions:
        objects += [question, *question.options]
    preload(objects, current_locale())
    return render(
        "questionnaires/admin/detail.html", questionnaire=questionnaire, version=version, counts=counts,
        answers=counts.get(version.id, 0), conditions=_conditions(version), links=links,
        can_link=perm.can_manage_links(current_user, questionnaire), tools=tools_for(current_user, questionnaire,
                                                                                    skip="questionnaires_admin.detail"),
        add_form=add_form or SectionAddForm(formdata=None), confirm_form=ConfirmForm(), errors=errors,
        STATUSES=STATUSES, PURPOSES=PURPOSES, ACCESS=ACCESS, KINDS=KINDS, Status=Status, pictograms=pictograms,
        status=status,
    )


@admin_bp.get("/<int:qid>")
@staff_required
def detail(qid):
    return _builder_page(_managed(qid))


# --- sections ---------------------------------------------------------------------------


@admin_bp.post("/<int:qid>/sections")
@staff_required
def section_add(qid):
    questionnaire = _managed(qid)
    form = SectionAddForm()
    if not form.validate_on_submit():
        return _builder_page(questionnaire, add_form=form, status=422)
    before = questionnaire.current_version.number
    try:
        section = builder.add_section(questionnaire, form.title.data)
    except BuildError as e:
        return _builder_page(questionnaire, errors=_refused(e), status=422)
    _saved(questionnaire, before, _("Section added."))
    return _to_builder(questionnaire, f"s{section.id}")


@admin_bp.route("/<int:qid>/sections/<int:sid>", methods=["GET", "POST"])
@staff_required
def section_edit(qid, sid):
    questionnaire = _managed(qid)
    section = _section(questionnaire, sid)
    form = SectionForm(data=None if request.method == "POST" else {
        "title": section.title, "intro": section.intro, "intro_easy": section.intro_easy, **condition_data(section)})
    sources = condition_choices(form, builder.earlier_questions(section.version, section))
    errors = []
    if form.validate_on_submit():
        before = questionnaire.current_version.number
        code, values = form.condition()
        try:
            section = builder.update_section(section, form.title.data, form.intro.data, form.intro_easy.data, code, values)
        except BuildError as e:
            errors = _refused(e)
        else:
            _saved(questionnaire, before, _("Section saved."))
            return _to_builder(questionnaire, f"s{section.id}")
    preload([questionnaire, section], current_locale())
    return render("questionnaires/admin/section_form.html", questionnaire=questionnaire, section=section, form=form,
                  sources=sources, errors=errors, confirm_form=ConfirmForm(), status=422 if errors or form.errors else 200)


def _structural_post(questionnaire: Questionnaire, action, done: str, anchor=None):
    """A move or delete button: run `action()`, or show the builder with the reason it was refused."""
    before = questionnaire.current_version.number
    try:
        result = action()
    except BuildError as e:
        return _builder_page(questionnaire, errors=_refused(e), status=422)
    _saved(questionnaire, before, done)
    return _to_builder(questionnaire, anchor(result) if anchor else None)


def _direction() -> str:
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    return form.direction.data


@admin_bp.post("/<int:qid>/sections/<int:sid>/move")
@staff_required
def section_move(qid, sid):
    questionnaire = _managed(qid)
    section = _section(questionnaire, sid)
    direction = _direction()
    return _structural_post(questionnaire, lambda: builder.move_section(section, direction), _("Section moved."),
                            lambda s: f"s{s.id}")


@admin_bp.post("/<int:qid>/sections/<int:sid>/delete")
@staff_required
def section_delete(qid, sid):
    questionnaire = _managed(qid)
    section = _section(questionnaire, sid)
    perm.ensure(ConfirmForm().validate_on_submit())
    return _structural_post(questionnaire, lambda: builder.delete_section(section), _("Section deleted."))


# --- questions --------------------------------------------------------------------------


def _question_form(questionnaire: Questionnaire, question: Question, **kwargs) -> tuple[QuestionForm, list]:
    form = QuestionForm(**kwargs)
    tag_choices(form, questionnaire)
    return form, condition_choices(form, builder.earlier_questions(question.section.version, question))


def _question_page(questionnaire, form=None, question=None, sources=(), errors=(), option_form=None, status=200):
    """The page of a new question (`form` given) or of an existing one (its form made here if not given)."""
    if form is None:
        form, sources = _question_form(questionnaire, question, formdata=None, data=question_initial_data(question))
    objects = [questionnaire] + ([question, *question.options] if question else [])
    preload(objects, current_locale())
    return render("questionnaires/admin/question_form.html", questionnaire=questionnaire, question=question, form=form,
                  sources=sources, errors=errors, option_form=option_form or new_option_form(formdata=None),
                  move_form=MoveForm(formdata=None), confirm_form=ConfirmForm(), pictograms=pictograms,
                  generated=question is not None and question.kind in builder.GENERATED_KINDS,
                  with_options=question is not None and question.kind in builder.OPTION_KINDS | builder.GENERATED_KINDS,
                  status=status)


@admin_bp.route("/<int:qid>/questions/new", methods=["GET", "POST"])
@staff_required
def question_new(qid):
    questionnaire = _managed(qid)
    version = questionnaire.current_version
    form = NewQuestionForm()
    form.section.choices = [SelectChoice(str(s.id), s.title or _("Section %(number)s", number=s.position + 1))
                            for s in version.sections]
    if not form.is_submitted():
        wanted = request.args.get("section", "")
        form.section.data = wanted if wanted in [c.value for c in form.section.choices] else form.section.choices[-1].value
    section = next((s for s in version.sections if str(s.id) == form.section.data), version.sections[-1])
    tag_choices(form, questionnaire)
    sources = condition_choices(form, builder.earlier_questions(version, ("end", section)))
    errors = []
    if form.validate_on_submit():
        before = version.number
        try:
            question = builder.add_question(section, form.question_data(), form.option_labels())
        except BuildError as e:
            errors = _refused(e)
        else:
            _saved(questionnaire, before, _("Question %(code)s added.", code=question.code))
            return _to_builder(questionnaire, f"q{question.id}")
    return _question_page(questionnaire, form, sources=sources, errors=errors,
                          status=422 if errors or form.errors else 200)


@admin_bp.route("/<int:qid>/questions/<int:question_id>", methods=["GET", "POST"])
@staff_required
def question_edit(qid, question_id):
    questionnaire = _managed(qid)
    question = _question(questionnaire, question_id)
    form, sources = _question_form(questionnaire, question,
                                   data=None if request.method == "POST" else question_initial_data(question))
    errors = []
    if form.validate_on_submit():
        before = questionnaire.current_version.number
        try:
            question = builder.update_question(question, form.question_data())
        except BuildError as e:
            errors = _refused(e)
        else:
            _saved(questionnaire, before, _("Question %(code)s saved.", code=question.code))
            return redirect(url_for("questionnaires_admin.question_edit", qid=qid, question_id=question.id))
    return _question_page(questionnaire, form, question, sources, errors, status=422 if errors or form.errors else 200)


@admin_bp.post("/<int:qid>/questions/<int:question_id>/move")
@staff_required
def question_move(qid, question_id):
    questionnaire = _managed(qid)
    question = _question(questionnaire, question_id)
    direction = _direction()
    return _structural_post(questionnaire, lambda: builder.move_question(question, direction),
                            _("Question %(code)s moved.", code=question.code), lambda q: f"q{q.id}")


@admin_bp.post("/<int:qid>/questions/<int:question_id>/delete")
@staff_required
def question_delete(qid, question_id):
    questionnaire = _managed(qid)
    question = _question(questionnaire, question_id)
    perm.ensure(ConfirmForm().validate_on_submit())
    return _structural_post(questionnaire, lambda: builder.delete_question(question),
                            _("Question %(code)s deleted.", code=question.code))


# --- options -----------------------------------------------------------------------------


@admin_bp.post("/<int:qid>/questions/<int:question_id>/options")
@staff_required
def option_add(qid, question_id):
    questionnaire = _managed(qid)
    question = _question(questionnaire, question_id)
    form = new_option_form()
    errors = []
    if form.validate_on_submit():
        before = questionnaire.current_version.number
        try:
            option = builder.add_option(question, form.code.data, form.label.data, form.label_easy.data,
                                        form.pictogram.data)
        except BuildError as e:
            errors = _refused(e)
        else:
            _saved(questionnaire, before, _("Answer added."))
            return redirect(url_for("questionnaires_admin.question_edit", qid=qid, question_id=option.question.id,
                                    _anchor="options"))
    return _question_page(questionnaire, question=question, errors=errors, option_form=form, status=422)


@admin_bp.route("/<int:qid>/options/<int:oid>", methods=["GET", "POST"])
@staff_required
def option_edit(qid, oid):
    questionnaire = _managed(qid)
    option = _option(questionnaire, oid)
    form = new_option_form(data=None if request.method == "POST" else {
        "code": option.code, "label": option.label, "label_easy": option.label_easy, "pictogram": option.pictogram})
    errors = []
    if form.validate_on_submit():
        before = questionnaire.current_version.number
        try:
            option = builder.update_option(option, form.code.data, form.label.data, form.label_easy.data,
                                           form.pictogram.data)
        except BuildError as e:
            errors = _refused(e)
        else:
            _saved(questionnaire, before, _("Answer saved."))
            return redirect(url_for("questionnaires_admin.question_edit", qid=qid, question_id=option.question.id,
                                    _anchor="options"))
    preload([questionnaire, option.question, option], current_locale())
    return render("questionnaires/admin/option_form.html", questionnaire=questionnaire, option=option, form=form,
                  errors=errors, pictograms=pictograms, confirm_form=ConfirmForm(),
                  fixed_code=option.question.kind in builder.GENERATED_KINDS or option.is_other or option.is_dont_know,
                  status=422 if errors or form.errors else 200)


def _option_post(questionnaire: Questionnaire, option: Option, action, done: str):
    question_id, code = option.question.id, option.question.code
    before = questionnaire.current_version.number
    try:
        action()
    except BuildError as e:
        errors = _refused(e)
        return _question_page(questionnaire, question=db.session.get(Question, question_id), errors=errors, status=422)
    _saved(questionnaire, before, done)
    # A new version has its own copy of the question: go on with that one.
    target = next(q for q in questionnaire.current_version.questions if q.code == code)
    return redirect(url_for("questionnaires_admin.question_edit", qid=questionnaire.id, question_id=target.id,
                            _anchor="options"))


@admin_bp.post("/<int:qid>/options/<int:oid>/move")
@staff_required
def option_move(qid, oid):
    questionnaire = _managed(qid)
    option = _option(questionnaire, oid)
    direction = _direction()
    return _option_post(questionnaire, option, lambda: builder.move_option(option, direction), _("Answer moved."))


@admin_bp.post("/<int:qid>/options/<int:oid>/delete")
@staff_required
def option_delete(qid, oid):
    questionnaire = _managed(qid)
    option = _option(questionnaire, oid)
    perm.ensure(ConfirmForm().validate_on_submit())
    return _option_post(questionnaire, option, lambda: builder.delete_option(option), _("Answer deleted."))


# --- answer codes -----------------------------------------------------------------------


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@admin_bp.route("/<int:qid>/codes", methods=["GET", "POST"])
@staff_required
def codes(qid):
    """Draw codes and answer the printable slips at once: the codes exist in clear only here."""
    questionnaire = _managed(qid)
    form = CodesForm()
    preload([questionnaire], current_locale())
    if form.validate_on_submit():
        _batch, drawn = answer_codes.create_batch(questionnaire, form.size.data, (form.label.data or "").strip(),
                                                  current_user)
        db.session.commit()
        root = base_url()
        slips = []
        for code in drawn:
            url = root + url_for("questionnaires.start", qid=questionnaire.id, code=code)
            slips.append({"code": answer_codes.format_code(code), "url": url, "qr": _data_uri(qr_png(url, box_size=5))})
        response = render("questionnaires/admin/slips.html", questionnaire=questionnaire, slips=slips,
                          pages=[slips[i:i + SLIPS_PER_PAGE] for i in range(0, len(slips), SLIPS_PER_PAGE)],
                          display_address=(root + url_for("questionnaires.start", qid=questionnaire.id)).split("://", 1)[-1])
        response.headers["Cache-Control"] = "no-store"
        return response
    batches = db.session.execute(
        sa.select(AnswerCodeBatch, User.name).outerjoin(User, User.id == AnswerCodeBatch.created_by_id)
        .where(AnswerCodeBatch.questionnaire_id == questionnaire.id).order_by(AnswerCodeBatch.created_at.desc())).all()
    return render("questionnaires/admin/codes.html", questionnaire=questionnaire, form=form, batches=batches,
                  Access=Access, status=422 if form.errors else 200)
