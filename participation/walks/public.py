"""Public pages of exploratory walks: the walks of a contract, one walk (an invitation while it
is planned; then its published observations on the app's own map and as a numbered list, its
recommendations and, for a follow-up walk, point by point what was done), the report (HTML and
PDF), the public map and list of observations with filters, and photos.

What is public: a walk's page always; its report once published (a manager sees it earlier,
marked as a preview); observations once a facilitator published them; a photo once it and its
observation are published (staff who may record or manage the walk see any, never cached by
shared caches). Positions are coarsened to about 100 m everywhere here.
"""
from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from flask import abort, current_app, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale, text_direction
from ..core.numbers import parse_int
from ..core.permissions import public
from ..core.territories import Contract
from ..extensions import db, limiter
from . import access, exports, labels, maps, services
from .export_views import ascii_slug, download
from .models import Moderation, ObservationPhoto, Walk, WalkStatus
from .report import public_walk
from .views import bp

#: Ids are 32-bit integers in PostgreSQL: a larger one in a URL is simply not found.
MAX_ID = 2**31 - 1
#: Longest side of a thumbnail on list pages, and of a photo in the PDF report (pixels).
THUMB_SIDE = 400
PDF_PHOTO_SIDE = 900
PAGE_SIZE = 100


def get_or_404(model, ident: int):
    if not 0 < ident <= MAX_ID:
        abort(404)
    return db.get_or_404(model, ident)


def _contract_or_404(slug: str) -> Contract:
    contract = db.session.scalar(sa.select(Contract).where(Contract.slug == slug))
    if contract is None:
        abort(404)
    return contract


def labels_context() -> dict:
    return {"walk_labels": labels, "WalkStatus": WalkStatus}


# --- photos ------------------------------------------------------------------------------


def sized_photo(sha: str, side: int) -> Path:
    """A copy of a stored photo no larger than `side` pixels, made once and kept beside the
    private store (never under a directory a front server serves)."""
    from ..core.photos import thumbnail

    store = services.photo_store()
    source = store.path(sha)  # ValueError on a malformed id
    target = Path(f"{store.directory}-{side}") / sha[:2] / f"{sha}.jpg"
    if not source.is_file():
        # A copy never outlives its original (a photo deleted from the store).
        raise FileNotFoundError(source)
    if target.is_file():
        return target
    small = thumbnail(source.read_bytes(), max_side=side)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(small.data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def photo_is_public(photo: ObservationPhoto) -> bool:
    return photo.moderation is Moderation.published and photo.observation.moderation is Moderation.published


@bp.get("/w/photos/<int:photo_id>.jpg")
@public
def photo(photo_id):
    item = get_or_404(ObservationPhoto, photo_id)
    is_public = photo_is_public(item)
    if not is_public and not access.can_record(current_user, item.observation.walk):
        abort(404)  # not "forbidden": whether an unchecked photo exists is not public either
    size = request.args.get("size", "")
    try:
        if size == "thumb":
            path = sized_photo(item.sha, THUMB_SIDE)
        elif size == "":
            path = services.photo_store().path(item.sha)
        else:
            abort(404)
        if not path.is_file():
            abort(404)
    except (ValueError, FileNotFoundError):
        abort(404)
    response = send_file(path, mimetype="image/jpeg", conditional=True, etag=True)
    # A photo withdrawn from publication must stop being served soon: short public caching.
    response.headers["Cache-Control"] = "public, max-age=300" if is_public else "private, no-store"
    return response


# --- the walks of a contract -------------------------------------------------------------


@bp.get("/c/<slug>/walks")
@public
def index(slug):
    contract = _contract_or_404(slug)
    today = date.today()
    walks = list(db.session.scalars(
        sa.select(Walk).where(Walk.contract_id == contract.id).order_by(Walk.walked_on.desc(), Walk.id.desc())))
    preload(walks, current_locale())
    coming = sorted((w for w in walks if w.status is WalkStatus.planned and w.walked_on >= today),
                    key=lambda w: (w.walked_on, w.starts_at or "", w.id))
    reports = [w for w in walks if w.status is WalkStatus.published]
    past = [w for w in walks if w not in coming and w not in reports]
    return render("walks/public/index.html", contract=contract, coming=coming, reports=reports, past=past,
                  **labels_context())


# --- one walk ----------------------------------------------------------------------------


@bp.get("/w/<int:walk_id>")
@public
def walk(walk_id):
    item = get_or_404(Walk, walk_id)
    data = public_walk(item)
    walk_map = maps.build(item, data.observations, public=True)
    return render("walks/public/walk.html", walk=item, data=data, walk_map=walk_map,
                  can_preview=not data.report_public and access.can_manage(current_user, item),
                  **labels_context())


def _report_walk(walk_id: int) -> tuple[Walk, bool]:
    """The walk and whether this is a manager's preview of a report not yet public."""
    item = get_or_404(Walk, walk_id)
    preview = item.status is not WalkStatus.published
    if preview and not access.can_manage(current_user, item):
        abort(404)
    return item, preview


@bp.get("/w/<int:walk_id>/report")
@public
def report(walk_id):
    item, preview = _report_walk(walk_id)
    data = public_walk(item, full=True)
    walk_map = maps.build(item, data.observations, public=True)
    response = render("walks/public/report.html", walk=item, data=data, walk_map=walk_map, preview=preview,
                      original_locale=item.original_locale, **labels_context())
    if preview:
        response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/w/<int:walk_id>/report.pdf")
@public
# Each PDF is shaped and drawn on demand (photos included): cheap for a reader, not for a loop.
@limiter.limit(lambda: current_app.config["REPORT_PDF_LIMIT"])
def report_pdf(walk_id):
    from .report_pdf import render_pdf

    item, preview = _report_walk(walk_id)
    locale = current_locale()
    data = public_walk(item, full=True)
    body = render_pdf(data, locale=locale, rtl=text_direction(locale) == "rtl", preview=preview)
    base = ascii_slug(item.title, f"walk-{item.id}")
    name = f"{_file_prefix()}-{base}-{item.walked_on.isoformat()}-{locale}.pdf"
    return download(body, "pdf", name, cache="private, no-store" if preview else "public, max-age=300")


def _file_prefix() -> str:
    # "rapport-marche" in French, "walk-report" otherwise (file names stay ASCII).
    return "rapport-marche" if current_locale() == "fr" else "walk-report"


# --- the public map and list of observations ---------------------------------------------


@bp.get("/c/<slug>/walks/observations")
@public
def observations(slug):
    contract = _contract_or_404(slug)
    choices = exports.filter_choices(contract)
    filters, errors = exports.parse_filters(request.args, choices)
    page = parse_int(request.args.get("page", "1")) or 0
    if not 1 <= page <= 100_000:
        errors["page"] = _("There is no such page: the first page is shown.")
        page = 1
    total = exports.count_observations(contract, filters)
    items = exports.observations_of(contract, filters, public=True, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    chosen_walk = next((w for w in choices.walks if w.id == filters.walk_id), None)
    if chosen_walk is not None:
        # One walk: its route and its own observation numbers.
        walk_map = maps.build(chosen_walk, items, public=True)
        numbered = [(o.number, o) for o in items]
    else:
        # Several walks: their numbers overlap, so the map and the list number them afresh.
        numbered = list(enumerate(items, start=(page - 1) * PAGE_SIZE + 1))
        proxies = [SimpleNamespace(number=n, lat=o.lat, lon=o.lon, rating=o.rating, id=o.id) for n, o in numbered]
        walk_map = maps.build(SimpleNamespace(route_line=[], waypoints=[]), proxies, public=True)
    photos = {o.id: services.public_photos(o) for o in items}
    return render(
        "walks/public/observations.html", fragment="walks/public/_observations_results.html",
        contract=contract, choices=choices, filters=filters, errors=errors, numbered=numbered, photos=photos,
        walk_map=walk_map, chosen_walk=chosen_walk, total=total, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), **labels_context(),
    )
