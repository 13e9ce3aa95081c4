"""Privacy notice pages and the rights back office.

Public: /privacy (the general notice) and /c/<slug>/privacy (a contract's). Back office, for the
admins of a whole contract (platform admins everywhere): the notice's text, the retention
schedule, resident contacts (search, access report, erasure). Staff accounts: access report and
erasure from the staff page, for whoever may manage the account (`can_manage_account`).
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import pass_context

from ..core import permissions as perm
from ..core.htmx import render
from ..core.permissions import public, staff_required
from ..core.territories import Contract, Scope
from ..core.users import User
from ..extensions import db
from . import notice as notices, retention, rights
from .forms import ErasureForm, NoticeForm

bp = Blueprint("privacy", __name__)

RIGHTS_MESSAGES = {
    "query": lambda: _("Enter a full e-mail address, a phone number (at least 6 digits) or a full name."),
    "self": lambda: _("You cannot erase your own account: ask another administrator."),
    "last_admin": lambda: _("This account is the last administrator of a contract: give the role to someone else first."),
    "last_superadmin": lambda: _("This account is the last platform administrator: make another one first."),
    "nothing": lambda: _("Choose at least one record."),
}


def routes() -> list:
    from . import models  # noqa: F401  (the tables exist for migrations)

    return [bp]


# --- the footer link -----------------------------------------------------------------------------

#: Template variables that name, or belong to, a contract: the footer links to its notice.
_CONTEXT_OBJECTS = ("contract", "process", "proposal", "fund", "application", "questionnaire", "table", "meeting",
                    "walk", "neighbourhood", "item", "followup")


def _contract_id_of(obj) -> int | None:
    if isinstance(obj, Contract):
        return obj.id
    cid = getattr(obj, "contract_id", None)
    if isinstance(cid, int):
        return cid
    scope = getattr(obj, "scope", None)
    return scope.contract_id if isinstance(scope, Scope) else None


@bp.app_template_global("privacy_notice_url")
@pass_context
def privacy_notice_url(context) -> str:
    """The notice of the contract the page is about, else the general one."""
    for name in _CONTEXT_OBJECTS:
        obj = context.get(name)
        if obj is None:
            continue
        # An error page may hold a half-built or detached object, or a failed session: the
        # footer then falls back to the general notice rather than breaking the page.
        try:
            contract_id = _contract_id_of(obj)
            slug = None
            if contract_id is not None:
                slug = obj.slug if isinstance(obj, Contract) else notices.slug_of(contract_id)
        except Exception:
            return url_for("privacy.general")
        if slug:
            return url_for("privacy.notice", slug=slug)
    return url_for("privacy.general")


# --- public pages ------------------------------------------------------------------------------


@bp.get("/privacy")
@public
def general():
    contracts = list(db.session.scalars(sa.select(Contract).order_by(Contract.name)))
    return render("privacy/notice.html", contract=None, notice=None, contracts=contracts,
                  schedule=retention.schedule_rows())


@bp.get("/c/<slug>/privacy")
@public
def notice(slug):
    contract = db.session.scalar(sa.select(Contract).where(Contract.slug == slug))
    if contract is None:
        abort(404)
    return render("privacy/notice.html", contract=contract, notice=notices.notice_of(contract), contracts=[],
                  schedule=retention.schedule_rows())


# --- back office: the contract's notice and schedule -----------------------------------------------


def _admin_contract(contract_id: int) -> Contract:
    contract = db.get_or_404(Contract, contract_id)
    perm.ensure(perm.can_administer(current_user, Scope(contract.id)))
    return contract


@bp.get("/admin/contracts/<int:contract_id>/privacy")
@staff_required
def overview(contract_id):
    contract = _admin_contract(contract_id)
    return render("privacy/admin.html", contract=contract, notice=notices.notice_of(contract),
                  schedule=retention.schedule_rows(), translations_url=notices.translations_url(contract))


@bp.route("/admin/contracts/<int:contract_id>/privacy/notice", methods=["GET", "POST"])
@staff_required
def notice_edit(contract_id):
    contract = _admin_contract(contract_id)
    existing = notices.notice_of(contract)
    form = NoticeForm(obj=existing)
    if form.validate_on_submit():
        notices.save(contract, {name: form[name].data for name in notices.FIELDS}, current_user)
        db.session.commit()
        flash(_("Privacy notice saved."), "success")
        return redirect(url_for("privacy.overview", contract_id=contract.id))
    return render("privacy/notice_form.html", contract=contract, form=form, status=422 if form.errors else 200)


# --- back office: resident contacts ------------------------------------------------------------------


def _search(contract: Contract, raw: str):
    """(query, found, error message)."""
    try:
        query = rights.parse_query(raw)
    except rights.RightsError as e:
        return None, [], RIGHTS_MESSAGES[str(e)]()
    return query, rights.find_contacts(contract, query), None


@bp.get("/admin/contracts/<int:contract_id>/privacy/people")
@staff_required
def people(contract_id):
    contract = _admin_contract(contract_id)
    raw = (request.args.get("q") or "").strip()[:254]
    query, found, error = _search(contract, raw) if raw else (None, [], None)
    return render("privacy/people.html", contract=contract, q=raw, query=query, found=found, error=error,
                  form=ErasureForm(formdata=None), status=422 if error else 200)


@bp.get("/admin/contracts/<int:contract_id>/privacy/people/report.json")
@staff_required
def people_report(contract_id):
    contract = _admin_contract(contract_id)
    raw = (request.args.get("q") or "").strip()[:254]
    query, found, error = _search(contract, raw)
    if error:
        return render("privacy/people.html", contract=contract, q=raw, query=None, found=[], error=error,
                      form=ErasureForm(formdata=None), status=422)
    from ..core.audit import record

    # The search term is personal data: the log says a report was made, not about whom.
    record("access_report", entity="residents", changes={"records": len(found), "by": query.kind},
           contract_id=contract.id)
    db.session.commit()
    return _json_download(rights.resident_report(contract, query, found), f"access-report-{contract.slug}.json")


@bp.post("/admin/contracts/<int:contract_id>/privacy/people/erase")
@staff_required
def people_erase(contract_id):
    contract = _admin_contract(contract_id)
    raw = (request.form.get("q") or "").strip()[:254]
    form = ErasureForm()
    query, found, error = _search(contract, raw)
    chosen = set(request.form.getlist("records"))
    selected = [f for f in found if f.key in chosen]
    if not error and not form.validate_on_submit():
        error = " ".join(str(e) for errs in form.errors.values() for e in errs) or RIGHTS_MESSAGES["query"]()
    if not error and not selected:
        error = RIGHTS_MESSAGES["nothing"]()
    if error:
        return render("privacy/people.html", contract=contract, q=raw, query=query, found=found, error=error,
                      form=form, status=422)
    n = rights.erase_contacts(contract, selected)
    db.session.commit()
    flash(_("Contact details erased from %(count)s records; the records themselves are kept.", count=n), "success")
    return redirect(url_for("privacy.people", contract_id=contract.id, q=raw))


# --- back office: staff accounts ------------------------------------------------------------------


def _manageable(user_id: int) -> User:
    staff = db.get_or_404(User, user_id)
    perm.ensure(perm.can_view_staff(current_user, staff) and perm.can_manage_account(current_user, staff))
    return staff


@bp.get("/admin/staff/<int:user_id>/privacy/report.json")
@staff_required
def staff_report(user_id):
    staff = _manageable(user_id)
    from ..core.audit import record

    contracts = sorted({g.contract_id for g in staff.grants})
    for contract_id in contracts or [None]:
        record("access_report", entity="users", entity_id=staff.id, contract_id=contract_id)
    report = rights.staff_report(staff)
    db.session.commit()
    return _json_download(report, f"access-report-staff-{staff.id}.json")


@bp.post("/admin/staff/<int:user_id>/privacy/erase")
@staff_required
def staff_erase(user_id):
    staff = _manageable(user_id)
    form = ErasureForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "error")
        return redirect(url_for("admin.staff_detail", user_id=staff.id))
    try:
        rights.erase_staff(current_user, staff)
    except rights.RightsError as e:
        db.session.rollback()
        flash(RIGHTS_MESSAGES[str(e)](), "error")
        return redirect(url_for("admin.staff_detail", user_id=staff.id))
    db.session.commit()
    flash(_("The account is erased: it is anonymised, disabled, and its roles and sessions are gone."), "success")
    return redirect(url_for("admin.staff_list"))


def _json_download(data: dict, filename: str) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
