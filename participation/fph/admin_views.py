"""Back office of FPH funds: funds (settings, sources, committee members), applications
(assisted entry, eligibility, withdrawal, payments, bilans keyed from paper, photo checks,
closing).

Who may do what (`access.py`): managers edit; committee members, mediators and evaluators of
the fund's scope read (committee members never see the applicants' contacts); mediators enter
applications and paper bilans. Each view loads, checks, parses, calls a service, commits once;
a refused rule rolls back and answers 422 with the message on the page.
"""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError
from wtforms.fields.choices import SelectChoice

from ..core import permissions as perm
from ..core.channels import Assistance, Channel
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.permissions import staff_required
from ..core.photos import PhotoError
from ..core.territories import Commune, Contract, Neighbourhood
from ..core.users import RoleGrant, User
from ..extensions import db
from . import access, labels, services
from .forms import (
    AssistedApplicationForm,
    CloseForm,
    EligibilityForm,
    FundForm,
    MemberForm,
    PaymentForm,
    PhotoPublishForm,
    SourceForm,
    StaffBilanForm,
    WithdrawForm,
)
from .models import Application, AppStatus, BilanPhoto, CommitteeMember, DecisionMode, Fund, FundingSource, MemberRole, SourceKind
from .public import application_data, budget_total, check_budget, neighbourhood_choices
from .views import admin_bp

#: Every role that reads a fund of its scope (managers, committee, mediators, evaluators).
READ_ROLES = access.MANAGERS | access.ENTRY_ROLES | access.COMMITTEE_ROLES | access.FIGURE_READERS


def visible_clause(user: User):
    """Funds of the user's scopes, and, for field roles, wider funds covering their area."""
    if user.is_superadmin:
        return sa.true()
    clauses = [perm.scope_clause(user, READ_ROLES, Fund.contract_id, Fund.commune_id, Fund.neighbourhood_id)]
    for s in perm.managed_scopes(user, access.ENTRY_ROLES):
        clauses.append(sa.and_(
            Fund.contract_id == s.contract_id,
            sa.or_(Fund.commune_id.is_(None), Fund.commune_id == s.commune_id),
            sa.or_(Fund.neighbourhood_id.is_(None), Fund.neighbourhood_id == s.neighbourhood_id),
        ))
    return sa.or_(*clauses)


def _fund(fund_id: int, check) -> Fund:
    fund = db.get_or_404(Fund, fund_id)
    perm.ensure(check(current_user, fund))
    return fund


def _application(application_id: int, check) -> Application:
    application = db.get_or_404(Application, application_id)
    perm.ensure(check(current_user, application.fund))
    return application


# --- choices -------------------------------------------------------------------------------


def _creatable_neighbourhoods(user: User) -> list[Neighbourhood]:
    hoods = db.session.scalars(
        sa.select(Neighbourhood).join(Commune).join(Contract)
        .options(sa.orm.joinedload(Neighbourhood.commune).joinedload(Commune.contract))
        .order_by(Contract.name, Commune.name, Neighbourhood.name))
    return [n for n in hoods if access.can_create_in(user, n.scope)]


def _fund_form(fund: Fund | None = None, **kwargs) -> FundForm:
    form = FundForm(**kwargs)
    hoods = _creatable_neighbourhoods(current_user)
    if fund is not None:
        hoods += [n for n in fund.neighbourhoods if n not in hoods]
    form.neighbourhoods.choices = [
        SelectChoice(str(n.id), f"{n.commune.contract.name} › {n.commune.name} › {n.name}") for n in hoods]
    form.decision_mode.choices = [SelectChoice(m.value, str(labels.DECISION_MODES[m])) for m in DecisionMode]
    return form


def _picked_neighbourhoods(form: FundForm) -> list[Neighbourhood]:
    allowed = {c.value for c in form.neighbourhoods.choices}
    ids = [parse_int(v) for v in (form.neighbourhoods.data or []) if v in allowed]
    ids = [i for i in ids if i is not None]
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Neighbourhood).where(Neighbourhood.id.in_(ids))))


def _settings(form: FundForm) -> services.FundSettings:
    return services.FundSettings(
        name=form.name.data or "", year=form.year.data, ceiling=form.ceiling.data, rules=form.rules.data or "",
        decision_mode=DecisionMode(form.decision_mode.data), quorum=form.quorum.data, bilan_days=form.bilan_days.data,
        accepting=bool(form.accepting.data))


def _source_form(**kwargs) -> SourceForm:
    form = SourceForm(prefix="source", **kwargs)
    form.kind.choices = [SelectChoice(k.value, str(labels.SOURCE_KINDS[k])) for k in SourceKind]
    return form


def _member_form(fund: Fund, **kwargs) -> MemberForm:
    form = MemberForm(prefix="member", **kwargs)
    form.role.choices = [SelectChoice(r.value, str(labels.MEMBER_ROLES[r])) for r in MemberRole]
    staff = db.session.scalars(
        sa.select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(RoleGrant.contract_id == fund.contract_id).distinct().order_by(User.name))
    form.user.choices = [SelectChoice("", _("(none)"))] + [SelectChoice(str(u.id), u.name) for u in staff]
    return form


def _sessions_url(fund: Fund) -> str | None:
    """The committee sessions page (its own module); absent until that module is there."""
    try:
        return url_for("fph_admin.sessions", fund_id=fund.id)
    except BuildError:
        return None


# --- funds ---------------------------------------------------------------------------------


@admin_bp.get("/")
@staff_required
def index():
    perm.ensure(current_user.is_superadmin or bool(perm.managed_scopes(current_user, READ_ROLES)))
    funds = list(db.session.scalars(
        sa.select(Fund).where(visible_clause(current_user)).order_by(Fund.year.desc(), Fund.name)))
    preload(funds, current_locale())
    may_create = current_user.is_superadmin or bool(perm.managed_scopes(current_user, access.MANAGERS))
    return render("fph/admin_index.html", funds=funds, overdue=services.overdue_counts([f.id for f in funds]),
                  may_create=may_create, can_manage=lambda f: access.can_manage(current_user, f))


@admin_bp.route("/new", methods=["GET", "POST"])
@staff_required
def fund_new():
    form = _fund_form(data={"year": _this_year(), "ceiling": 1500, "quorum": 3, "bilan_days": 60, "accepting": True,
                            "decision_mode": DecisionMode.vote.value} if request.method == "GET" else None)
    perm.ensure(bool(form.neighbourhoods.choices))
    errors: list[str] = []
    if form.validate_on_submit():
        hoods = _picked_neighbourhoods(form)
        if not hoods:
            form.neighbourhoods.errors.append(services.ServiceError("no_neighbourhood").message)
        else:
            try:
                scope = services.narrowest_scope(hoods)
                if not access.can_create_in(current_user, scope):
                    form.neighbourhoods.errors.append(
                        _("You may not create a fund for these neighbourhoods together: choose them within your area."))
                else:
                    fund = services.create_fund(hoods, _settings(form), original_locale=current_locale())
                    db.session.commit()
                    flash(_("Fund created. Add its funding sources and committee members."), "success")
                    return redirect(url_for("fph_admin.fund", fund_id=fund.id))
            except services.ServiceError as e:
                db.session.rollback()
                errors.append(e.message)
    return render("fph/admin_fund_new.html", form=form, errors=errors,
                  status=422 if request.method == "POST" else 200)


def _this_year() -> int:
    from datetime import date

    return date.today().year


def _fund_page(fund: Fund, *, status: int = 200, errors=(), settings_form=None, source_form=None, member_form=None):
    manage = access.can_manage(current_user, fund)
    applications = list(db.session.scalars(
        sa.select(Application).where(Application.fund_id == fund.id).order_by(Application.id)))
    preload([fund, *applications], current_locale())
    if settings_form is None and manage:
        settings_form = _fund_form(fund, formdata=None, data={
            "name": fund.name, "year": fund.year, "ceiling": fund.ceiling, "rules": fund.rules, "quorum": fund.quorum,
            "bilan_days": fund.bilan_days, "accepting": fund.accepting, "decision_mode": fund.decision_mode.value,
            "neighbourhoods": [str(n.id) for n in fund.neighbourhoods]})
    return render(
        "fph/admin_fund.html", fund=fund, manage=manage, enter=access.can_enter(current_user, fund),
        applications=applications, counts=_ordered(services.status_counts(fund)), paid=services.paid_sum(fund),
        is_overdue=services.is_overdue, sessions_url=_sessions_url(fund), errors=list(errors),
        settings_form=settings_form, source_form=source_form or (_source_form(formdata=None) if manage else None),
        member_form=member_form or (_member_form(fund, formdata=None) if manage else None),
        action_form=CloseForm(formdata=None), status=status)


def _ordered(counts: dict) -> list:
    return [(status, counts[status]) for status in AppStatus if counts.get(status)]


@admin_bp.get("/<int:fund_id>")
@staff_required
def fund(fund_id):
    return _fund_page(_fund(fund_id, access.can_read))


@admin_bp.post("/<int:fund_id>/settings")
@staff_required
def settings(fund_id):
    fund = _fund(fund_id, access.can_manage)
    form = _fund_form(fund)
    if form.validate_on_submit():
        hoods = _picked_neighbourhoods(form)
        try:
            scope = services.narrowest_scope(hoods, fund) if hoods else None
        except services.ServiceError as exc:
            scope = None
            form.neighbourhoods.errors.append(exc.message)
        if not hoods:
            form.neighbourhoods.errors.append(services.ServiceError("no_neighbourhood").message)
        elif scope is None:
            pass
        elif not access.can_create_in(current_user, scope):
            form.neighbourhoods.errors.append(
                _("You may not create a fund for these neighbourhoods together: choose them within your area."))
        else:
            services.update_fund(fund, _settings(form))
            services.set_neighbourhoods(fund, hoods)
            db.session.commit()
            flash(_("Settings saved."), "success")
            return redirect(url_for("fph_admin.fund", fund_id=fund.id))
    db.session.rollback()
    return _fund_page(fund, status=422, settings_form=form)


@admin_bp.post("/<int:fund_id>/sources")
@staff_required
def sources(fund_id):
    fund = _fund(fund_id, access.can_manage)
    removing = request.form.get("action") == "remove"
    form = _source_form()
    if not (CloseForm().validate_on_submit() if removing else form.validate_on_submit()):
        return _fund_page(fund, status=422, source_form=form)
    try:
        if removing:
            source = db.session.get(FundingSource, parse_int(request.form.get("source_id")) or 0)
            if source is None or source.fund_id != fund.id:
                return _fund_page(fund, status=422, errors=[_("This source does not exist.")])
            services.remove_source(fund, source)
            message = _("Source removed. The envelope is now %(amount)s.", amount=labels.money(fund.envelope))
        else:
            if form.amount.data is None:
                form.amount.errors.append(_("Write the amount."))
                return _fund_page(fund, status=422, source_form=form)
            services.add_source(fund, SourceKind(form.kind.data), form.label.data or "", form.amount.data)
            message = _("Source added. The envelope is now %(amount)s.", amount=labels.money(fund.envelope))
    except services.ServiceError as e:
        db.session.rollback()
        db.session.refresh(fund)
        return _fund_page(fund, status=422, errors=[e.message], source_form=form)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("fph_admin.fund", fund_id=fund.id, _anchor="sources"))


@admin_bp.post("/<int:fund_id>/members")
@staff_required
def members(fund_id):
    fund = _fund(fund_id, access.can_manage)
    toggling = request.form.get("action") == "toggle"
    form = _member_form(fund)
    if not (CloseForm().validate_on_submit() if toggling else form.validate_on_submit()):
        return _fund_page(fund, status=422, member_form=form)
    if toggling:
        member = db.session.get(CommitteeMember, parse_int(request.form.get("member_id")) or 0)
        if member is None or member.fund_id != fund.id:
            return _fund_page(fund, status=422, errors=[_("This member does not exist.")])
        services.set_member_active(member, not member.active)
    else:
        if not (form.name.data or "").strip():
            form.name.errors.append(_("Write the member's name."))
            return _fund_page(fund, status=422, member_form=form)
        user = db.session.get(User, parse_int(form.user.data) or 0) if form.user.data else None
        services.add_member(fund, form.name.data, MemberRole(form.role.data), user)
    db.session.commit()
    flash(_("Committee members saved."), "success")
    return redirect(url_for("fph_admin.fund", fund_id=fund.id, _anchor="members"))


# --- applications ----------------------------------------------------------------------------


def _assisted_form(fund: Fund, **kwargs) -> AssistedApplicationForm:
    form = AssistedApplicationForm(**kwargs)
    neighbourhood_choices(fund, form)
    form.assistance.choices = [SelectChoice(a.value, str(labels.ASSISTANCE[a])) for a in Assistance]
    form.channel.choices = [SelectChoice(Channel.assisted.value, _("With the residents, now")),
                            SelectChoice(Channel.paper.value, _("From a paper form"))]
    form.budget_errors = []
    return form


@admin_bp.route("/<int:fund_id>/applications/new", methods=["GET", "POST"])
@staff_required
def apply_assisted(fund_id):
    fund = _fund(fund_id, access.can_enter)
    form = _assisted_form(fund)
    if request.method == "POST":
        valid = form.validate_on_submit()
        if check_budget(fund, form) and valid:
            try:
                application, secret, _new = services.submit_application(
                    fund, application_data(fund, form), nonce=form.nonce.data or "",
                    channel=Channel(form.channel.data),
                    assistance=[Assistance(v) for v in form.assistance.data or []],
                    entered_by=current_user, original_locale=current_locale())
            except services.ServiceError as e:
                db.session.rollback()
                form.budget_errors.append(e.message)
            else:
                db.session.commit()
                return render("fph/applied.html", fund=fund, application=application, secret=secret, assisted=True)
    if not form.nonce.data or len(form.nonce.data) < services.NONCE_MIN_LENGTH:
        form.nonce.data = secrets.token_urlsafe(18)
    preload([fund], current_locale())
    return render("fph/apply.html", fund=fund, form=form, total=budget_total(form), assisted=True,
                  status=422 if request.method == "POST" else 200)


def _application_page(application: Application, *, status: int = 200, errors=(), eligibility_form=None,
                      payment_form=None, bilan_form=None, withdraw_form=None):
    fund = application.fund
    manage = access.can_manage(current_user, fund)
    preload([application, fund, *([application.bilan] if application.bilan else [])], current_locale())
    bilan_form = bilan_form or StaffBilanForm(formdata=None, data=services.bilan_data(application))
    _bilan_channels(bilan_form)
    return render(
        "fph/admin_application.html", application=application, fund=fund, manage=manage,
        enter=access.can_enter(current_user, fund), contacts=access.can_see_contacts(current_user, fund),
        history=services.history(application), overdue=services.is_overdue(application), errors=list(errors),
        allowed=lambda target: services.transition_allowed(application, target),
        bilan_open=application.status in services.BILAN_OPEN,
        eligibility_form=eligibility_form or EligibilityForm(formdata=None),
        payment_form=payment_form or PaymentForm(formdata=None),
        withdraw_form=withdraw_form or WithdrawForm(formdata=None),
        bilan_form=bilan_form, action_form=CloseForm(formdata=None), S=AppStatus, status=status)


def _bilan_channels(form: StaffBilanForm) -> None:
    form.channel.choices = [SelectChoice(Channel.paper.value, _("On paper")),
                            SelectChoice(Channel.assisted.value, _("Told to a mediator"))]


@admin_bp.get("/applications/<int:application_id>")
@staff_required
def application(application_id):
    return _application_page(_application(application_id, access.can_read))


def _done(application: Application, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("fph_admin.application", application_id=application.id))


def _refused(application: Application, e: services.ServiceError, **forms):
    db.session.rollback()
    db.session.refresh(application)
    return _application_page(application, status=422, errors=[e.message], **forms)


@admin_bp.post("/applications/<int:application_id>/eligibility")
@staff_required
def eligibility(application_id):
    application = _application(application_id, access.can_manage)
    form = EligibilityForm()
    if not form.validate_on_submit():
        return _application_page(application, status=422, eligibility_form=form)
    eligible = form.decision.data == "eligible"
    if not eligible and not (form.reason.data or "").strip():
        form.reason.errors.append(services.ServiceError("reason_required").message)
        return _application_page(application, status=422, eligibility_form=form)
    try:
        services.set_eligibility(application, eligible, form.reason.data or "", user=current_user)
    except services.ServiceError as e:
        return _refused(application, e, eligibility_form=form)
    return _done(application, _("Marked eligible.") if eligible else _("Marked not eligible."))


@admin_bp.post("/applications/<int:application_id>/withdraw")
@staff_required
def withdraw(application_id):
    application = _application(application_id, access.can_manage)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _application_page(application, status=422, withdraw_form=form)
    try:
        services.withdraw(application, form.reason.data or "", user=current_user)
    except services.ServiceError as e:
        return _refused(application, e, withdraw_form=form)
    return _done(application, _("Application withdrawn."))


@admin_bp.post("/applications/<int:application_id>/payments")
@staff_required
def payment(application_id):
    application = _application(application_id, access.can_manage)
    form = PaymentForm()
    if not form.validate_on_submit():
        return _application_page(application, status=422, payment_form=form)
    try:
        services.add_payment(application, form.paid_on.data, form.amount.data, form.note.data or "")
    except services.ServiceError as e:
        db.session.rollback()
        db.session.refresh(application)
        form.amount.errors.append(e.message)
        return _application_page(application, status=422, payment_form=form)
    return _done(application, _("Payment recorded."))


@admin_bp.post("/applications/<int:application_id>/bilan")
@staff_required
def bilan_staff(application_id):
    application = _application(application_id, access.can_enter)
    form = StaffBilanForm()
    _bilan_channels(form)
    if not form.validate_on_submit():
        return _application_page(application, status=422, bilan_form=form)
    try:
        photos = services.process_photos([f for f, _caption in form.uploads()])
    except PhotoError as e:
        return _application_page(application, status=422, errors=[e.message], bilan_form=form)
    try:
        services.record_bilan(application, summary=form.summary.data, participants=form.participants.data,
                              spent=form.spent.data, photos=list(zip(photos, [c for _f, c in form.uploads()])),
                              channel=Channel(form.channel.data))
    except services.ServiceError as e:
        return _refused(application, e, bilan_form=form)
    return _done(application, _("Bilan recorded. Check its photos before publishing them."))


@admin_bp.post("/applications/<int:application_id>/photos")
@staff_required
def photo_publish(application_id):
    application = _application(application_id, access.can_manage)
    form = PhotoPublishForm()
    photo = db.session.get(BilanPhoto, parse_int(form.photo_id.data) or 0) if form.validate_on_submit() else None
    if photo is None or application.bilan is None or photo.bilan_id != application.bilan.id:
        return _application_page(application, status=422, errors=[_("This photo does not exist.")])
    services.set_photo_published(photo, form.publish.data == "1")
    return _done(application, _("Photo published.") if photo.published else _("Photo hidden from the public page."))


@admin_bp.post("/applications/<int:application_id>/close")
@staff_required
def close(application_id):
    application = _application(application_id, access.can_manage)
    if not CloseForm().validate_on_submit():
        abort(400)
    try:
        services.close(application, user=current_user)
    except services.ServiceError as e:
        return _refused(application, e)
    return _done(application, _("Project closed."))
