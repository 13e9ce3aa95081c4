"""Back office of the follow-up: each contract's list of institutions, the demands a staff member
manages, and one demand's page where it is corrected, moved through the workflow and annotated.

Institutions are kept by whoever may manage them for the whole contract
(`access.can_manage_institutions`); a demand is handled by its scope's managers or by whoever the
mechanism that raised it names (`access.can_manage_followup`: e.g. a table's own facilitators).
Every step is an event (`services.move` / `services.add_note`); a refused step rolls everything
back and answers 422 with the message next to its field.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..core import permissions as perm
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.permissions import staff_required
from ..core.templating import tr
from ..core.territories import Contract, top_categories
from ..extensions import db
from . import access, services, workflow
from .forms import DefaultsForm, EditForm, InstitutionForm, MoveForm, NoteForm
from .labels import ERROR_FIELDS, KINDS, STATUSES, error_message
from .models import FollowUp, Institution, InstitutionKind, Status
from .public import PAGE_SIZE, filter_args, filter_choices, page_items, parse_filters, parse_page
from .views import admin_bp

# --- helpers ------------------------------------------------------------------------------------


def _managed(followup_id: int) -> FollowUp:
    item = db.get_or_404(FollowUp, followup_id)
    perm.ensure(access.can_manage_followup(current_user, item))
    return item


def _field_error(form, e: services.FollowUpError, default: str) -> None:
    """Put the message of a refused step next to the field it is about (else next to `default`)."""
    db.session.rollback()
    name = ERROR_FIELDS.get(e.code, default)
    field = getattr(form, name, None) or getattr(form, default)
    field.errors = [*(field.errors or []), error_message(e.code)]


def _categories(contract) -> list:
    tops = top_categories(contract)
    flat = [c for top in tops for c in (top, *top.children)]
    preload(flat, current_locale())
    return flat


def _edit_choices(form: EditForm, item: FollowUp) -> None:
    offered = services.active_institutions(item.contract_id)
    if item.institution and not item.institution.active:
        offered.append(item.institution)
    preload(offered, current_locale())
    form.institution.choices = [SelectChoice("", _("(not chosen yet)"))] + [
        SelectChoice(str(i.id), str(tr(i, "name")) + ("" if i.active else " " + _("(retired)"))) for i in offered
    ]
    form.category.choices = [SelectChoice("", _("(none)"))] + [
        SelectChoice(str(c.id), f"{c.code} {tr(c, 'name')}") for c in _categories(item.contract)
    ]


def _move_choices(form: MoveForm, item: FollowUp) -> None:
    targets = [s for s in Status if s in workflow.TRANSITIONS[item.status]]
    form.target.choices = [SelectChoice(s.value, str(STATUSES[s])) for s in targets]


def _edit_form(item: FollowUp) -> EditForm:
    form = EditForm(prefix="edit", formdata=None, data={
        "title": item.title, "body": item.body,
        "institution": str(item.institution_id) if item.institution_id else "",
        "category": str(item.category_id) if item.category_id else "",
        "answer_due_on": item.answer_due_on, "action_due_on": item.action_due_on,
    })
    _edit_choices(form, item)
    return form


def _move_form(item: FollowUp) -> MoveForm:
    form = MoveForm(prefix="move", formdata=None, data={"on": date.today(), "answer": item.answer,
                                                          "action_due_on": item.action_due_on})
    _move_choices(form, item)
    return form


def _detail_page(item: FollowUp, *, edit_form=None, move_form=None, note_form=None, status: int = 200):
    preload([item, *([item.institution] if item.institution else [])], current_locale())
    return render(
        "followup/admin/detail.html",
        item=item,
        today=date.today(),
        edit_form=edit_form or _edit_form(item),
        move_form=move_form or _move_form(item),
        note_form=note_form or NoteForm(prefix="note", formdata=None, data={"on": date.today()}),
        can_manage_institutions=access.can_manage_institutions(current_user, item.contract),
        status=status,
    )


def _back(item: FollowUp, message: str):
    flash(message, "success")
    return redirect(url_for("followup_admin.detail", followup_id=item.id))


# --- the demands -------------------------------------------------------------------------------


def _managed_contracts() -> list[Contract]:
    query = sa.select(Contract).order_by(Contract.name)
    if not current_user.is_superadmin:
        ids = {s.contract_id for s in perm.managed_scopes(current_user, access.MANAGERS)}
        query = query.where(Contract.id.in_(ids))
    return list(db.session.scalars(query))


@admin_bp.get("/")
@staff_required
def index():
    contracts = _managed_contracts()
    perm.ensure(bool(contracts))
    errors: dict[str, str] = {}
    asked = request.args.get("contract", "").strip()
    contract = contracts[0]
    if asked:
        found = next((c for c in contracts if c.id == parse_int(asked)), None)
        if found is None:
            errors["contract"] = _("Choose a contract from the list.")
        else:
            contract = found
    today = date.today()
    choices = filter_choices(contract)
    filters = parse_filters(contract, choices, errors, statuses=list(Status))
    page = parse_page(errors)
    where = sa.and_(
        FollowUp.contract_id == contract.id,
        perm.scope_clause(current_user, access.MANAGERS, FollowUp.contract_id, FollowUp.commune_id,
                          FollowUp.neighbourhood_id),
    )
    items, total = page_items(where, filters, page, today)
    chosen_category = filters.category_ids[0] if filters.category_ids else None
    args = filter_args(filters, chosen_category)
    return render(
        "followup/admin/index.html",
        fragment="followup/admin/_results.html",
        contracts=contracts,
        contract=contract,
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        today=today,
        filters=filters,
        chosen_category=chosen_category,
        args=args,
        errors=errors,
        statuses=list(Status),
        status_labels=STATUSES,
        kind_labels=KINDS,
        can_manage_institutions=access.can_manage_institutions(current_user, contract),
        **choices,
    )


@admin_bp.get("/<int:followup_id>")
@staff_required
def detail(followup_id):
    return _detail_page(_managed(followup_id))


@admin_bp.post("/<int:followup_id>/edit")
@staff_required
def edit(followup_id):
    item = _managed(followup_id)
    form = EditForm(prefix="edit")
    _edit_choices(form, item)
    if form.validate_on_submit():
        institution = db.session.get(Institution, int(form.institution.data)) if form.institution.data else None
        try:
            services.edit(item, title=form.title.data, body=form.body.data or "", institution=institution,
                          category_id=int(form.category.data) if form.category.data else None,
                          answer_due_on=form.answer_due_on.data, action_due_on=form.action_due_on.data)
        except services.FollowUpError as e:
            _field_error(form, e, "title")
        else:
            db.session.commit()
            return _back(item, _("The demand is saved."))
    return _detail_page(item, edit_form=form, status=422)


@admin_bp.post("/<int:followup_id>/move")
@staff_required
def move(followup_id):
    item = _managed(followup_id)
    form = MoveForm(prefix="move")
    _move_choices(form, item)
    if form.validate_on_submit():
        target = Status(form.target.data)
        answer = (form.answer.data or "").strip()
        try:
            services.check_step_date(item, form.on.data, date.today())
            if target in (Status.answered, Status.refused) and not answer:
                raise services.FollowUpError("answer_required")
            due = form.action_due_on.data
            if due is not None and due < (item.sent_on or form.on.data):
                raise services.FollowUpError("due_before_sent")
            services.move(item, target, on=form.on.data, note=form.note.data or "",
                          answer=answer if target in (Status.answered, Status.refused) else None,
                          action_due_on=due, user=current_user)
        except services.FollowUpError as e:
            if e.code == "due_before_sent":
                db.session.rollback()
                form.action_due_on.errors = [*(form.action_due_on.errors or []), error_message(e.code)]
            else:
                _field_error(form, e, "target")
        else:
            db.session.commit()
            return _back(item, _("Step recorded: %(status)s.", status=STATUSES[target]))
    db.session.rollback()
    db.session.refresh(item)
    return _detail_page(item, move_form=form, status=422)


@admin_bp.post("/<int:followup_id>/note")
@staff_required
def note(followup_id):
    item = _managed(followup_id)
    form = NoteForm(prefix="note")
    if form.validate_on_submit():
        try:
            services.check_step_date(item, form.on.data, date.today())
            services.add_note(item, form.note.data, on=form.on.data, user=current_user)
        except services.FollowUpError as e:
            _field_error(form, e, "note")
        else:
            db.session.commit()
            return _back(item, _("Note added."))
    return _detail_page(item, note_form=form, status=422)


# --- institutions -------------------------------------------------------------------------------


def _contract_managed(contract_id: int) -> Contract:
    contract = db.get_or_404(Contract, contract_id)
    perm.ensure(access.can_manage_institutions(current_user, contract))
    return contract


def _row_form(institution: Institution) -> InstitutionForm:
    return InstitutionForm(prefix=f"i{institution.id}", formdata=None, data={
        "name": institution.name, "kind": institution.kind.value, "answer_days": institution.answer_days})


def _institutions_page(contract: Contract, *, new_form=None, failed: dict | None = None, status: int = 200):
    institutions = services.institutions_of(contract.id)
    preload(institutions, current_locale())
    failed = failed or {}
    return render(
        "followup/admin/institutions.html",
        contract=contract,
        institutions=institutions,
        forms={i.id: failed.get(i.id) or _row_form(i) for i in institutions},
        new_form=new_form or InstitutionForm(prefix="new", formdata=None),
        button_form=DefaultsForm(),
        usual=services.default_institutions(contract),
        status=status,
    )


@admin_bp.route("/institutions/<int:contract_id>", methods=["GET", "POST"])
@staff_required
def institutions(contract_id):
    contract = _contract_managed(contract_id)
    if request.method == "GET":
        return _institutions_page(contract)
    if request.form.get("action") == "defaults":
        if DefaultsForm().validate_on_submit():
            added = services.ensure_default_institutions(contract)
            db.session.commit()
            flash(ngettext_added(len(added)), "success")
            return redirect(url_for("followup_admin.institutions", contract_id=contract.id))
        return _institutions_page(contract, status=422)
    form = InstitutionForm(prefix="new")
    if form.validate_on_submit():
        try:
            services.add_institution(contract, form.name.data, InstitutionKind(form.kind.data), form.answer_days.data,
                                     original_locale=current_locale())
        except services.FollowUpError as e:
            _field_error(form, e, "name")
        else:
            db.session.commit()
            flash(_("Institution added: %(name)s.", name=form.name.data.strip()), "success")
            return redirect(url_for("followup_admin.institutions", contract_id=contract.id))
    return _institutions_page(contract, new_form=form, status=422)


def ngettext_added(n: int) -> str:
    from flask_babel import ngettext

    if n == 0:
        return _("The usual institutions were already on the list.")
    return ngettext("%(num)d institution added.", "%(num)d institutions added.", n)


@admin_bp.post("/institutions/<int:contract_id>/<int:institution_id>")
@staff_required
def institution_edit(contract_id, institution_id):
    contract = _contract_managed(contract_id)
    institution = db.get_or_404(Institution, institution_id)
    if institution.contract_id != contract.id:
        abort(404)
    action = request.form.get("action", "save")
    if action in ("retire", "reactivate"):
        if DefaultsForm().validate_on_submit():
            services.update_institution(institution, active=action == "reactivate")
            db.session.commit()
            flash(_("Institution reactivated: %(name)s.", name=institution.name) if institution.active
                  else _("Institution retired: %(name)s. It stays on the demands already sent to it.",
                         name=institution.name), "success")
            return redirect(url_for("followup_admin.institutions", contract_id=contract.id))
        return _institutions_page(contract, status=422)
    form = InstitutionForm(prefix=f"i{institution.id}")
    if form.validate_on_submit():
        try:
            services.update_institution(institution, name=form.name.data, kind=InstitutionKind(form.kind.data),
                                        answer_days=form.answer_days.data)
        except services.FollowUpError as e:
            _field_error(form, e, "name")
        else:
            db.session.commit()
            flash(_("Institution saved: %(name)s.", name=institution.name), "success")
            return redirect(url_for("followup_admin.institutions", contract_id=contract.id))
    return _institutions_page(contract, failed={institution.id: form}, status=422)
