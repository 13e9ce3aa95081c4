"""Governance downloads for staff: `/admin/governance/<contract>/export.<csv|xlsx|zip|pdf>` with
the dashboard's query arguments (commune, neighbourhood, from, to, category) and its checks: the
caller reads the selected area (a facilitator of one commune lands on that commune).

The spreadsheet, the data package and the PDF take seconds on a full contract (docs/performance.md):
with a job queue configured they are made by a background job (core/jobs.py) and the caller
follows its page; without one (development, demo, tests) they are made here, as the CSV always is."""
from __future__ import annotations

from typing import Callable

from flask import Response, abort, current_app, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from redis.exceptions import RedisError

from ..core import jobs
from ..core import permissions as perm
from ..core.errors import render_error
from ..core.permissions import staff_required
from ..core.territories import Contract
from ..extensions import db, limiter
from . import access, exports
from .report import BadSelection, Selection, build_report, selection_from_args
from .views import bp

#: Ids are 32-bit integers in PostgreSQL: a larger one in a URL is simply not found.
MAX_ID = 2**31 - 1
FORMATS = ("csv", "xlsx", "zip", "pdf")
SELECTION_ARGS = ("commune", "neighbourhood", "from", "to", "category")
#: Made by a background job when there is a queue (the CSV holds no profile: 1-2 s, it stays here).
BACKGROUND = ("xlsx", "zip", "pdf")
JOB_KIND = "governance_export"
#: What the job page shows, in order (the keys are the `progress` calls of `make_file`).
STEPS = {"figures": _l("Computing the figures"), "file": _l("Writing the file")}


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
    name = f"{exports.basename(selection)}.{fmt}"
    if fmt in BACKGROUND and jobs.enabled():
        params = {"contract_id": contract.id, "fmt": fmt, "filename": name,
                  "args": {k: str(v) for k, v in selection.args().items()}}
        back = url_for("governance.dashboard", contract_id=contract.id, **selection.args())
        try:
            job_id = jobs.enqueue(JOB_KIND, params, user=current_user, back_url=back)
        except RedisError:
            # Better a slow download than none: the file is made here, as without a queue.
            current_app.logger.exception("Job queue unreachable: %s made in the request", fmt)
        else:
            return redirect(url_for("jobs.status", job_id=job_id), 303)
    return download(make_file(selection, fmt), fmt, name)


def make_file(selection: Selection, fmt: str, progress: Callable[[str], None] = lambda step: None) -> str | bytes:
    """The file's body, in the current language; `progress` hears each of STEPS as it starts."""
    progress("figures")
    report = build_report(selection, with_profile=fmt != "csv")
    progress("file")
    if fmt == "csv":
        return exports.csv_export(report)
    if fmt == "xlsx":
        return exports.xlsx_export(report)
    if fmt == "zip":
        return exports.zip_export(report)
    from .annual_report import annual_report_pdf

    return annual_report_pdf(report)


def _job_selection(params: dict) -> Selection:
    """The selection the job was asked for, checked again (raises BadSelection or LookupError
    if the contract or a part of the selection was removed since)."""
    contract = db.session.get(Contract, params["contract_id"])
    if contract is None:
        raise LookupError("contract removed")
    return selection_from_args(contract, params["args"])


def _run_job(params: dict, progress: Callable[[str], None]) -> jobs.Output:
    fmt = params["fmt"]
    if fmt not in BACKGROUND:
        raise ValueError(fmt)
    body = make_file(_job_selection(params), fmt, progress)
    return jobs.Output(body, params["filename"], exports.MIMETYPES[fmt])


def _job_allowed(user, params: dict) -> bool:
    """The download's own check on the job's selection: a grant removed since, or a selection
    that no longer exists, closes the page and the file."""
    try:
        selection = _job_selection(params)
    except (BadSelection, LookupError):
        return False
    return access.can_view(user, selection.scope)


jobs.register(jobs.Kind(JOB_KIND, run=_run_job, allowed=_job_allowed, steps=STEPS))
