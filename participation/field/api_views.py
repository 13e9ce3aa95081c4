"""The sync endpoint the outbox talks to, in JSON: its settings, photos, submissions.

Every answer is JSON with a `status` and, when something is refused, a translated `message`
the outbox shows as it is. 401 means "log in again" (the items wait), 409 a conflict and 422 a
refusal (the items wait for a person to decide), 5xx or no answer "try again later"."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import current_app, jsonify, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf

from ..accounts.services import SESSION_KEY
from ..core.users import StaffSession
from ..extensions import db
from . import registry, services
from .services import FieldError
from .views import bp


def _refusal(status: int, code: str, message: str, **extra):
    response = jsonify({"status": code, "message": message, **extra})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def field_staff(view):
    """Staff only, answered in JSON: 401 tells the outbox to ask for a login, never a redirect."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return _refusal(401, "login", _("Your session has ended. Log in again: what is waiting stays on "
                                            "this device and will be sent then."))
        if not (current_user.is_superadmin or current_user.grants):
            return _refusal(403, "forbidden", _("This account may not send field entries."))
        return view(*args, **kwargs)

    wrapper.access = "staff"
    return wrapper


@bp.errorhandler(CSRFError)
def _csrf(e):
    if request.path.startswith("/field/api/"):
        return _refusal(400, "csrf", _("The security token expired. It will be renewed and the entry sent again."))
    from ..core.errors import render_error

    return render_error(400, _("Your form expired or was sent from elsewhere. Reload the page and try again."))


@bp.errorhandler(413)
def _too_large(e):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.path.startswith("/field/api/"):
        return _refusal(413, "too_large", _("This entry is too large for the server."), max_bytes=limit)
    from ..core.errors import render_error

    return render_error(413)


def shift_ends_at():
    """When this login ends by itself (the end of the shift), in UTC."""
    token = session.get(SESSION_KEY)
    started = db.session.scalar(sa.select(StaffSession.created_at).where(StaffSession.token == token))
    if started is None:
        return None
    return started + timedelta(hours=current_app.config["STAFF_SESSION_HOURS"])


@bp.get("/field/api/config")
@field_staff
def api_config():
    """What the outbox needs before it sends: a fresh CSRF token, the limits, the form versions."""
    ends = shift_ends_at()
    response = jsonify({
        "status": "ok",
        "csrf_token": generate_csrf(),
        "user": {"id": current_user.id, "name": current_user.name},
        "shift_ends_at": ends.isoformat() + "Z" if ends else None,
        "max_request_bytes": current_app.config["MAX_CONTENT_LENGTH"],
        "max_photo_bytes": current_app.config["MAX_PHOTO_BYTES"],
        "max_photos": services.MAX_PHOTOS,
        "photo_max_side": services.DEVICE_PHOTO_SIDE,
        "forms": {a.kind: a.form_version for a in registry.adapters()},
    })
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.put("/field/api/photos/<client_id>/<int:slot>")
@field_staff
def api_photo(client_id, slot):
    """One photo of a queued submission, its SHA-256 in `X-Photo-SHA256`."""
    try:
        status = services.stage_photo(client_id, slot, request.headers.get("X-Photo-SHA256", "").lower(),
                                      request.get_data(cache=False))
    except FieldError as e:
        db.session.rollback()
        return _refusal(e.status, e.code, e.message, **e.extra)
    db.session.commit()
    response = jsonify({"status": status})
    response.status_code = 201 if status == "created" else 200
    return response


@bp.post("/field/api/submissions")
@field_staff
def api_submit():
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # thousands of nested brackets: not something a device sends
        data = None
    try:
        sub, refs = services.parse_submission(data)
        outcome = services.receive(sub, refs, current_user)
    except FieldError as e:
        db.session.rollback()
        return _refusal(e.status, e.code, e.message, **e.extra)
    db.session.commit()
    response = jsonify({"status": outcome.status, "message": outcome.message, "ref": outcome.ref})
    response.status_code = 201 if outcome.status == "created" else 200
    response.headers["Cache-Control"] = "no-store"
    return response
