"""Staff login and logout."""
from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.htmx import render
from ..core.permissions import authenticated, public
from ..extensions import db, limiter
from . import services
from .forms import LoginForm, LogoutForm, PasswordChangeForm

bp = Blueprint("accounts", __name__)
# A blueprint limit is checked before CSRF validation (see create_app), so that even
# attempts refused for a bad token count against the login budget.
limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    methods=["POST"],
    exempt_when=lambda: request.endpoint != "accounts.login",
)(bp)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
            if services.record_failed_login(form.email.data):
                db.session.commit()
        else:
            services.start_session(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render("accounts/login.html", form=form, status=200 if not form.errors else 422)


@bp.post("/logout")
@authenticated
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        services.end_session()
        db.session.commit()
        flash(_("You are logged out."), "info")
        response = redirect(url_for("core.home"))
        # A shared tablet keeps nothing of the shift: field mode's outbox (IndexedDB), the pages
        # taken offline (Cache API, service worker) and questionnaire drafts (localStorage).
        # Only when outbox.js asks for it (`wipe`), after it has checked that nothing waits or the
        # mediator chose to drop it: a form posted before the script ran must not wipe unsent entries.
        if request.form.get("wipe") == "1":
            response.headers["Clear-Site-Data"] = '"cache", "storage"'
        return response
    return redirect(url_for("core.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@authenticated
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("This is not your current password."))
        else:
            services.change_password(current_user, form.new.data)
            db.session.commit()
            flash(_("Your password is changed. Your other sessions have ended."), "success")
            return redirect(url_for("admin.dashboard"))
    return render("accounts/password.html", form=form, status=422 if form.errors else 200)
