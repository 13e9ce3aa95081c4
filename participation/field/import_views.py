"""Outbox files: a device that could not sync for days exports its outbox to a file; a staff
member imports it here. Each item goes through the same idempotent path as a sync, so a file
imported twice, or imported after the device finally synced, adds nothing."""
from __future__ import annotations

from flask import current_app, request
from flask_babel import gettext as _

from ..core.htmx import render
from ..core.permissions import staff_required
from flask_login import current_user

from ..extensions import db
from . import registry, services
from .services import FieldError
from .views import bp


@bp.url_value_preprocessor
def _import_limit(endpoint, values):
    """An outbox file carries its photos: it may be much larger than one form. Set before any
    before_request hook (CSRF, the NUL guard) reads the body under the app's smaller limit."""
    if endpoint == "field.import_file":
        request.max_content_length = current_app.config["FIELD_IMPORT_MAX_BYTES"]


@bp.route("/field/import", methods=["GET", "POST"])
@staff_required
def import_file():
    if request.method == "GET":
        return render("field/import.html", results=None, error=None)
    upload = request.files.get("outbox")
    if upload is None or not upload.filename:
        return render("field/import.html", results=None, error=_("Choose the file exported from the tablet."),
                      status=422)
    try:
        items = services.read_file(upload.read())
    except FieldError as e:
        return render("field/import.html", results=None, error=e.message, status=422)
    results = []
    for item in items:
        # One transaction per item: a refused item never takes the others with it.
        result = services.import_item(item, current_user)
        if result.outcome in ("created", "duplicate"):
            db.session.commit()
        else:
            db.session.rollback()
        results.append(result)
    labels = {a.kind: str(a.label) for a in registry.adapters()}
    return render("field/import.html", results=results, labels=labels, error=None)
