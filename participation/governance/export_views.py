"""Governance downloads for staff: `/admin/governance/<contract>/export.<csv|xlsx|zip|pdf>` with
the dashboard's query arguments (commune, neighbourhood, from, to, category) and its checks: the
caller reads the selected area (a facilitator of one commune lands on that commune)."""
from __future__ import annotations

from flask import Response, abort, current_app, request
from flask_login import current_user

from ..core import permissions as perm
from ..core.errors import render_error
from ..core.permissions import staff_required
from ..core.territories import Contract
from ..extensions import db, limiter
from . import access, exports
from .report import BadSelection, build_report, selection_from_args
from .views import bp

#: Ids are 32-bit integers in PostgreSQL: a larger one in a URL is simply not found.
MAX_ID = 2**31 - 1
FORMATS = ("csv", "xlsx", "zip", "pdf")
SELECTION_ARGS = ("commune", "neighbourhood", "from", "to", "category")


def _default_area(contract: Contract) -> dict:
    """As the dashboard: the whole contract if the caller reads it, else the first commune or
    neighbourhood they read; nothing they read in this contract: 403."""
    if access.can_view(current_user, contract.scope):
        return {}
    grants = sorted((g for g in current_user.grants if g.contract_id == contract.id and g.role in access.READERS),
                    key=lambda g: (g.neighbourhood_id is not None, g.id))
    if not grants:
        abort(403)
    g = grants[0]
    if g.neighbourhood_id is not None:
        return {"neighbourhood": str(g.neighbourhood_id)}
    return {"commune": str(g.commune_id)}


def download(body: str | bytes, fmt: str, filename: str) -> Response:
    response = Response(body, mimetype=exports.MIMETYPES[fmt])
    if isinstance(body, str):
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get(f"/<int:contract_id>/export.<any({', '.join(FORMATS)}):fmt>")
@staff_required
# Every download computes the whole report (the PDF also draws it): cheap once, not in a loop.
@limiter.limit(lambda: current_app.config.get("GOVERNANCE_EXPORT_LIMIT", "30 per minute"))
def export(contract_id: int, fmt: str):
    if not 0 < contract_id <= MAX_ID:
        abort(404)
    contract = db.session.get(Contract, contract_id)
    if contract is None:
        abort(404)
    args = {k: v for k, v in request.args.items() if k in SELECTION_ARGS}
    if not (args.get("commune") or "").strip() and not (args.get("neighbourhood") or "").strip():
        args.update(_default_area(contract))
    try:
        selection = selection_from_args(contract, args)
    except BadSelection as exc:
        return render_error(400, str(exc))
    perm.ensure(access.can_view(current_user, selection.scope))
    report = build_report(selection, with_profile=fmt != "csv")
    name = f"{exports.basename(selection)}.{fmt}"
    if fmt == "csv":
        body = exports.csv_export(report)
    elif fmt == "xlsx":
        body = exports.xlsx_export(report)
    elif fmt == "zip":
        body = exports.zip_export(report)
    else:
        from .annual_report import annual_report_pdf

        body = annual_report_pdf(report)
    return download(body, fmt, name)
