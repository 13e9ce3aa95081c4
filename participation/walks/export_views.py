"""Downloads of walks' observations and actions (CSV, GeoJSON): the public ones of a contract
(what the public pages show, coarsened, with the filters of the public list), and the staff
export of one walk (exact positions, every observation and its moderation state)."""
from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from flask import Response, abort, request
from flask_login import current_user

from ..core import permissions as perm
from ..core.permissions import public, staff_required
from ..core.territories import Contract
from ..extensions import db
from . import access, exports
from .models import Walk
from .views import admin_bp, bp

#: Ids are 32-bit integers in PostgreSQL: a larger one in a URL is simply not found.
MAX_ID = 2**31 - 1
_WHAT = "any(observations, actions)"
_FMT = "any(csv, geojson)"


def ascii_slug(text: str, fallback: str = "") -> str:
    """A file-name-safe slug ("Marche de Frais Vallon" → "marche-de-frais-vallon")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:60].strip("-")
    return slug or fallback


def download(body: str | bytes, fmt: str, filename: str, *, cache: str = "private, no-store") -> Response:
    mimetype = exports.MIMETYPES.get(fmt, "application/pdf" if fmt == "pdf" else "application/octet-stream")
    response = Response(body, mimetype=mimetype)
    if isinstance(body, str):
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = cache
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get(f"/c/<slug>/walks/<{_WHAT}:what>.<{_FMT}:fmt>")
@public
def export(slug, what, fmt):
    contract = db.session.scalar(sa.select(Contract).where(Contract.slug == slug))
    if contract is None:
        abort(404)
    choices = exports.filter_choices(contract)
    filters, errors = exports.parse_filters(request.args, choices)
    if errors:
        # A download link made by the page never has a wrong filter: refuse rather than hand
        # over a file that silently ignores one.
        abort(400)
    if what == "observations":
        items = exports.observations_of(contract, filters, public=True)
    else:
        items = exports.actions_of(contract, filters)
    name = "-".join(p for p in ("walks", what, contract.slug, *(f"{k}-{v}" for k, v in filters.args().items())) if p)
    return download(exports.render(what, fmt, items, public=True), fmt, f"{ascii_slug(name, 'walks')}.{fmt}",
                    cache="public, max-age=300")


@admin_bp.get(f"/<int:walk_id>/<{_WHAT}:what>.<{_FMT}:fmt>", endpoint="export")
@staff_required
def export_staff(walk_id, what, fmt):
    if not 0 < walk_id <= MAX_ID:
        abort(404)
    walk = db.get_or_404(Walk, walk_id)
    perm.ensure(access.can_view_figures(current_user, walk) or access.can_manage(current_user, walk))
    if what == "observations":
        items = exports.observations_of(walk.contract, public=False, walk=walk)
    else:
        items = exports.actions_of(walk.contract, walk=walk)
    return download(exports.render(what, fmt, items, public=False), fmt, f"walk-{walk.id}-{what}-exact.{fmt}")
