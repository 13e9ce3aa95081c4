"""Public FPH pages: what a fund is and how to apply, the easy-read application form, the
applicants' private follow page (status, payments, the bilan form), and funded projects.

Nothing here shows a resident's name or contact: the follow page is reached only through
the private link given once (its secret is stored as a keyed hash)."""
from __future__ import annotations

import secrets

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..core.channels import Channel
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.permissions import public
from ..core.photos import PhotoError
from ..extensions import db, limiter
from . import labels, services
from .forms import ApplicationForm, BilanForm
from .models import Fund
from .views import bp

bp.record_once(labels.register)


def fund_or_404(fund_id: int) -> Fund:
    return db.get_or_404(Fund, fund_id)


def neighbourhood_choices(fund: Fund, form) -> None:
    hoods = fund.neighbourhoods
    form.neighbourhood.choices = ([SelectChoice("", _("(choose)"))] if len(hoods) != 1 else []) + [
        SelectChoice(str(n.id), n.name) for n in hoods]


def application_data(fund: Fund, form: ApplicationForm) -> services.ApplicationData:
    picked = parse_int(form.neighbourhood.data)
    hood_ids = {n.id for n in fund.neighbourhoods}
    return services.ApplicationData(
        title=form.title.data or "", audience=form.audience.data or "", description=form.description.data or "",
        place=form.place.data or "", starts_on=form.starts_on.data, ends_on=form.ends_on.data,
        neighbourhood_id=picked if picked in hood_ids else (fund.neighbourhoods[0].id if len(hood_ids) == 1 else None),
        lines=form.budget_lines(), collective=form.collective.data or "", contact_name=form.contact_name.data or "",
        contact_phone=form.contact_phone.data or "", contact_email=form.contact_email.data or "",
    )


def check_budget(fund: Fund, form: ApplicationForm) -> bool:
    """The total of the lines: at least one line, at most the ceiling (errors under the table)."""
    total = sum(amount for _label, amount in form.budget_lines())
    form.budget_errors = []
    if not form.budget_lines() or total <= 0:
        form.budget_errors.append(services.ServiceError("no_budget").message)
    elif total > fund.ceiling:
        form.budget_errors.append(services.ServiceError("over_ceiling", amount=total, ceiling=fund.ceiling).message)
    return not form.budget_errors


def budget_total(form: ApplicationForm) -> int:
    return sum(amount for _label, amount in form.budget_lines())


@bp.get("/fph/<int:fund_id>")
@public
def fund(fund_id):
    fund = fund_or_404(fund_id)
    projects = services.funded_projects(fund)
    preload([fund, *projects], current_locale())
    return render("fph/fund.html", fund=fund, projects=projects, next_session=services.next_session(fund))


@bp.get("/fph/<int:fund_id>/projects")
@public
def projects(fund_id):
    fund = fund_or_404(fund_id)
    hood = parse_int(request.args.get("neighbourhood"))
    hood = hood if hood in {n.id for n in fund.neighbourhoods} else None
    projects = services.funded_projects(fund, hood)
    preload([fund, *projects], current_locale())
    return render("fph/projects.html", fragment="fph/_projects.html", fund=fund, projects=projects, neighbourhood_id=hood, project_heading="h2")


@bp.route("/fph/<int:fund_id>/apply", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
@public
def apply(fund_id):
    fund = fund_or_404(fund_id)
    if not fund.accepting:
        preload([fund], current_locale())
        return render("fph/closed.html", fund=fund, status=409)
    form = ApplicationForm()
    neighbourhood_choices(fund, form)
    form.budget_errors = []
    if request.method == "POST":
        valid = form.validate_on_submit()
        if check_budget(fund, form) and valid:
            try:
                application, secret, _new = services.submit_application(
                    fund, application_data(fund, form), nonce=form.nonce.data or "", channel=Channel.web,
                    original_locale=current_locale())
            except services.ServiceError as e:
                db.session.rollback()
                form.budget_errors.append(e.message)
            else:
                db.session.commit()
                return render("fph/applied.html", fund=fund, application=application, secret=secret, assisted=False)
    if not form.nonce.data or len(form.nonce.data) < services.NONCE_MIN_LENGTH:
        form.nonce.data = secrets.token_urlsafe(18)
    preload([fund], current_locale())
    failed = request.method == "POST"
    return render("fph/apply.html", fund=fund, form=form, total=budget_total(form), assisted=False,
                  status=422 if failed else 200)


def _by_secret_or_404(secret: str):
    application = services.by_secret(secret)
    if application is None:
        abort(404)
    return application


def _follow_page(application, form: BilanForm, status: int = 200, errors=()):
    preload([application, application.fund, *([application.bilan] if application.bilan else [])], current_locale())
    return render("fph/follow.html", application=application, fund=application.fund, bilan_form=form, status=status,
                  errors=list(errors), bilan_open=application.status in services.BILAN_OPEN,
                  secret=request.view_args["secret"])


@bp.get("/fph/a/<secret>")
@limiter.limit("60 per minute")
@public
def follow(secret):
    application = _by_secret_or_404(secret)
    return _follow_page(application, BilanForm(formdata=None, data=services.bilan_data(application)))


@bp.post("/fph/a/<secret>/bilan")
@limiter.limit("30 per hour")
@public
def bilan(secret):
    application = _by_secret_or_404(secret)
    form = BilanForm()
    if application.status not in services.BILAN_OPEN:
        return _follow_page(application, form, 409, [services.ServiceError("bilan_not_expected").message])
    if not form.validate_on_submit():
        return _follow_page(application, form, 422)
    try:
        photos = services.process_photos([f for f, _caption in form.uploads()])
    except PhotoError as e:
        return _follow_page(application, form, 422, [e.message])
    try:
        services.record_bilan(application, summary=form.summary.data, participants=form.participants.data,
                              spent=form.spent.data, photos=list(zip(photos, [c for _f, c in form.uploads()])),
                              channel=Channel.web)
    except services.ServiceError as e:
        db.session.rollback()
        return _follow_page(application, form, 422, [e.message])
    db.session.commit()
    flash(_("Thank you! Your bilan has been received. Photos appear on the public page once the team has checked them."),
          "success")
    return redirect(url_for("fph.follow", secret=secret))
