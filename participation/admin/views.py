"""Staff back office: dashboard, staff and their roles, référentiel, content translations."""
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts import services as accounts
from ..core import permissions as perm
from ..core.content_i18n import preload, set_translation, translations_of
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.permissions import staff_required
from ..core.territories import Category, Contract, Indicator, top_categories
from ..core.users import Role, RoleGrant, User
from ..extensions import db
from . import indicators as indicator_services, services
from .forms import CategoryForm, ConfirmForm, GrantForm, IndicatorForm, StaffForm
from .translations import FIELD_LABELS, TRANSLATABLE

bp = Blueprint("admin", __name__, url_prefix="/admin")

RULE_MESSAGES = {
    "password": lambda: _("A new account needs a temporary password."),
    "parent": lambda: _("Choose a challenge or orientation of this contract."),
    "subtheme": lambda: _("A sub-theme needs a parent, and only a sub-theme can have one."),
    "code": lambda: _("This code is already used in this contract."),
    "nesting": lambda: _("This entry has sub-themes, so it cannot become a sub-theme itself."),
}


@bp.get("/")
@staff_required
def dashboard():
    contracts = list(db.session.scalars(sa.select(Contract).order_by(Contract.name)))
    visible = [c for c in contracts if perm.works_in_contract(current_user, c)]
    return render("admin/dashboard.html", contracts=visible, logout_form=ConfirmForm())


# --- staff and roles -------------------------------------------------------


@bp.get("/staff")
@staff_required
def staff_list():
    perm.ensure(current_user.is_superadmin or bool(perm.managed_scopes(current_user)))
    staff = list(db.session.scalars(services.visible_staff(current_user)))
    return render("admin/staff_list.html", staff=staff)


@bp.route("/staff/new", methods=["GET", "POST"])
@staff_required
def staff_new():
    choices = services.scope_choices(current_user)
    perm.ensure(bool(choices))
    form = StaffForm()
    form.scope.choices = choices
    if form.validate_on_submit():
        target = services.parse_scope(form.scope.data)
        perm.ensure(target is not None and perm.can_grant(current_user, Role(form.role.data), target))
        try:
            user, created = services.create_staff(form.email.data, form.name.data, form.password.data)
        except services.RuleError as e:
            form.password.errors.append(RULE_MESSAGES[str(e)]())
        else:
            services.grant_role(current_user, user, Role(form.role.data), target)
            db.session.commit()
            flash(_("Account created.") if created else _("This person already had an account: the role was added to it."), "success")
            return redirect(url_for("admin.staff_detail", user_id=user.id))
    return render("admin/staff_new.html", form=form, status=422 if form.errors else 200)


def _visible_user(user_id: int) -> User:
    staff = db.get_or_404(User, user_id)
    perm.ensure(perm.can_view_staff(current_user, staff))
    return staff


def _staff_page(staff: User, grant_form: GrantForm, status: int = 200):
    grants = [g for g in staff.grants if perm.can_administer(current_user, g.scope)]
    return render(
        "admin/staff_detail.html",
        fragment="admin/_grants.html",
        staff=staff,
        grants=grants,
        hidden_grants=len(staff.grants) - len(grants),
        grant_form=grant_form,
        confirm_form=ConfirmForm(),
        can_manage_account=perm.can_manage_account(current_user, staff),
        session_count=accounts.active_session_count(staff),
        status=status,
    )


@bp.get("/staff/<int:user_id>")
@staff_required
def staff_detail(user_id):
    staff = _visible_user(user_id)
    form = GrantForm()
    form.scope.choices = services.scope_choices(current_user)
    return _staff_page(staff, form)


@bp.post("/staff/<int:user_id>/grants")
@staff_required
def grant_add(user_id):
    staff = _visible_user(user_id)
    form = GrantForm()
    form.scope.choices = services.scope_choices(current_user)
    if form.validate_on_submit():
        target = services.parse_scope(form.scope.data)
        perm.ensure(target is not None and perm.can_grant(current_user, Role(form.role.data), target))
        services.grant_role(current_user, staff, Role(form.role.data), target)
        db.session.commit()
        if not request.headers.get("HX-Request"):
            flash(_("Role granted."), "success")
            return redirect(url_for("admin.staff_detail", user_id=staff.id))
        form = GrantForm(formdata=None)
        form.scope.choices = services.scope_choices(current_user)
    # htmx 2 swaps only 2xx answers: validation errors come back as 200 for htmx.
    return _staff_page(staff, form, status=200 if request.headers.get("HX-Request") or not form.errors else 422)


@bp.post("/staff/<int:user_id>/grants/<int:grant_id>/revoke")
@staff_required
def grant_revoke(user_id, grant_id):
    staff = _visible_user(user_id)
    grant = db.get_or_404(RoleGrant, grant_id)
    if grant.user_id != staff.id:
        abort(404)
    perm.ensure(perm.can_administer(current_user, grant.scope))
    if ConfirmForm().validate_on_submit():
        if grant.user_id == current_user.id and grant.role == Role.admin and not current_user.is_superadmin:
            flash(_("You cannot remove your own administrator role."), "error")
        else:
            db.session.delete(grant)
            db.session.commit()
            flash(_("Role removed."), "success")
    return redirect(url_for("admin.staff_detail", user_id=staff.id))


@bp.post("/staff/<int:user_id>/enabled")
@staff_required
def staff_toggle(user_id):
    staff = _visible_user(user_id)
    perm.ensure(perm.can_manage_account(current_user, staff) and staff.id != current_user.id)
    if ConfirmForm().validate_on_submit():
        accounts.set_enabled(staff, not staff.is_enabled)
        db.session.commit()
        flash(_("Account enabled.") if staff.is_enabled else _("Account disabled: all its sessions have ended."), "success")
    return redirect(url_for("admin.staff_detail", user_id=staff.id))


@bp.post("/staff/<int:user_id>/sessions/revoke")
@staff_required
def staff_sessions_revoke(user_id):
    staff = _visible_user(user_id)
    perm.ensure(perm.can_manage_account(current_user, staff))
    if ConfirmForm().validate_on_submit():
        count = accounts.revoke_all_sessions(staff)
        db.session.commit()
        flash(_("Sessions ended: %(count)s.", count=count), "success")
    return redirect(url_for("admin.staff_detail", user_id=staff.id))


# --- référentiel ------------------------------------------------------------


def _contract_for_staff(contract_id: int) -> Contract:
    contract = db.get_or_404(Contract, contract_id)
    perm.ensure(perm.works_in_contract(current_user, contract))
    return contract


@bp.get("/contracts/<int:contract_id>/referentiel")
@staff_required
def referentiel(contract_id):
    contract = _contract_for_staff(contract_id)
    tops = top_categories(contract)
    indicators = indicator_services.contract_indicators(contract)
    preload([c for t in tops for c in (t, *t.children)] + indicators, current_locale())
    return render(
        "admin/referentiel.html",
        contract=contract,
        tops=tops,
        indicators=indicators,
        can_edit=perm.can_edit_referentiel(current_user, contract),
        confirm_form=ConfirmForm(),
    )


def _category_form(contract: Contract, category: Category | None = None) -> CategoryForm:
    form = CategoryForm(obj=None)
    if category is not None and request.method == "GET":
        form = CategoryForm(
            data={
                "kind": category.kind.value,
                "parent": str(category.parent_id or ""),
                "code": category.code,
                "name": category.name,
                "description": category.description,
                "position": category.position,
            }
        )
    form.parent.choices = services.category_parent_choices(contract)
    return form


def _save_category_view(contract: Contract, category: Category | None):
    perm.ensure(perm.can_edit_referentiel(current_user, contract))
    form = _category_form(contract, category)
    if form.validate_on_submit():
        try:
            target = category or Category(original_locale=contract.default_locale)
            services.save_category(target, contract, form.data)
        except services.RuleError as e:
            db.session.rollback()
            field = form.code if str(e) == "code" else form.parent
            field.errors.append(RULE_MESSAGES[str(e)]())
        else:
            db.session.commit()
            flash(_("Référentiel saved."), "success")
            return redirect(url_for("admin.referentiel", contract_id=contract.id))
    return render(
        "admin/category_form.html", form=form, contract=contract, category=category, status=422 if form.errors else 200
    )


@bp.route("/contracts/<int:contract_id>/referentiel/new", methods=["GET", "POST"])
@staff_required
def category_new(contract_id):
    return _save_category_view(db.get_or_404(Contract, contract_id), None)


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@staff_required
def category_edit(category_id):
    category = db.get_or_404(Category, category_id)
    return _save_category_view(category.contract, category)


@bp.post("/categories/<int:category_id>/delete")
@staff_required
def category_delete(category_id):
    category = db.get_or_404(Category, category_id)
    contract = category.contract
    perm.ensure(perm.can_edit_referentiel(current_user, contract))
    if ConfirmForm().validate_on_submit():
        db.session.delete(category)
        db.session.commit()
        flash(_("Entry deleted."), "success")
    return redirect(url_for("admin.referentiel", contract_id=contract.id))


# --- indicators of the référentiel ---------------------------------------------


def _indicator_form(contract: Contract, indicator: Indicator | None = None) -> IndicatorForm:
    # An existing indicator's values fill the form, and stay as they are for any field a POST
    # lacks (a client written before the field existed).
    form = IndicatorForm(data=indicator_services.form_data(indicator)) if indicator is not None else IndicatorForm()
    form.category.choices = services.category_parent_choices(contract)
    return form


def _save_indicator_view(contract: Contract, indicator: Indicator | None):
    perm.ensure(perm.can_edit_referentiel(current_user, contract))
    form = _indicator_form(contract, indicator)
    if form.validate_on_submit():
        try:
            target = indicator or Indicator(original_locale=contract.default_locale)
            indicator_services.save_indicator(target, contract, {**form.data, "option_codes_list": form.codes,
                                                                 "period": form.period})
        except services.RuleError as e:
            db.session.rollback()
            field = form.code if str(e) == "code" else form.category
            field.errors.append(RULE_MESSAGES[str(e)]())
        else:
            db.session.commit()
            flash(_("Indicator saved."), "success")
            return redirect(url_for("admin.referentiel", contract_id=contract.id, _anchor="indicators"))
    return render(
        "admin/indicator_form.html", form=form, contract=contract, indicator=indicator,
        tagged=indicator_services.tagged_questions(indicator) if indicator else 0,
        values=indicator_services.entered_values(indicator) if indicator else 0,
        verbatims=indicator_services.attached_verbatims(indicator) if indicator else 0,
        confirm_form=ConfirmForm(), status=422 if form.errors else 200,
    )


@bp.route("/contracts/<int:contract_id>/indicators/new", methods=["GET", "POST"])
@staff_required
def indicator_new(contract_id):
    return _save_indicator_view(db.get_or_404(Contract, contract_id), None)


@bp.route("/indicators/<int:indicator_id>/edit", methods=["GET", "POST"])
@staff_required
def indicator_edit(indicator_id):
    indicator = db.get_or_404(Indicator, indicator_id)
    return _save_indicator_view(indicator.contract, indicator)


@bp.post("/indicators/<int:indicator_id>/delete")
@staff_required
def indicator_delete(indicator_id):
    indicator = db.get_or_404(Indicator, indicator_id)
    contract = indicator.contract
    perm.ensure(perm.can_edit_referentiel(current_user, contract))
    if ConfirmForm().validate_on_submit():
        indicator_services.delete_indicator(indicator)
        db.session.commit()
        flash(_("Indicator deleted."), "success")
    return redirect(url_for("admin.referentiel", contract_id=contract.id, _anchor="indicators"))


# --- content translations ---------------------------------------------------


@bp.route("/translations/<entity>/<int:entity_id>", methods=["GET", "POST"])
@staff_required
def translations(entity, entity_id):
    spec = TRANSLATABLE.get(entity)
    if spec is None:
        abort(404)
    obj = db.get_or_404(spec.model, entity_id)
    perm.ensure(spec.can_edit(current_user, obj))
    target_languages = [code for code in current_app.config["LANGUAGES"] if code != obj.original_locale]
    form = ConfirmForm()
    existing = translations_of(obj)
    errors = []
    if form.validate_on_submit():
        values = {(f, lang): request.form.get(f"{f}__{lang}", "") for f in obj.__translatable__ for lang in target_languages}
        if any(len(v) > spec.max_length.get(f, 5000) for (f, _lang), v in values.items()):
            errors.append(_("A translation is too long: shorten it and send again."))
            existing = values
        else:
            for (f, lang), value in values.items():
                set_translation(obj, f, lang, value)
            db.session.commit()
            flash(_("Translations saved."), "success")
            return redirect(request.path)
    return render(
        "admin/translations.html",
        obj=obj,
        target_languages=target_languages,
        field_labels={**FIELD_LABELS, **spec.labels},
        existing=existing,
        form=form,
        errors=errors,
        back_url=spec.back_url(obj),
        status=422 if errors else 200,
    )
