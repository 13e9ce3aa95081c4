"""The page that follows a background job (`/jobs/<id>`) and its finished file.

Only the staff member who asked sees either (the job keeps their id; anyone else gets the 404
of an unknown job), and only while they still hold the permission the download itself needs
(the kind's `allowed`, asked again on every view). The page polls with htmx every 2 s (a 204
when nothing changed, so a screen reader does not hear the same status again) and, without
JavaScript, refreshes itself every 2 s; once the job is over it stops."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from redis.exceptions import RedisError
from rq.job import JobStatus

from . import jobs
from .errors import render_error
from .htmx import render
from .permissions import ensure, staff_required

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

POLL_SECONDS = 2

#: Why a job failed, as the page says it (in the reader's language).
REASONS = {
    "error": _l("The file could not be made because of an error on our side. Ask for it again; if it fails again, tell the platform's administrators."),
    "timeout": _l("The file took too long to make. Choose a smaller selection (fewer years, one commune) and ask again."),
}


def _job_or_404(job_id: str):
    job = jobs.find(job_id)
    # Someone else's job is as unknown as a wrong id: its existence is not revealed.
    if job is None or job.meta.get("user_id") != current_user.id:
        abort(404)
    ensure(jobs.KINDS[job.meta["kind"]].allowed(current_user, job.args[1]))
    return job


def _view(job) -> dict:
    kind = jobs.KINDS[job.meta["kind"]]
    status = job.get_status(refresh=False)
    steps = list(kind.steps)
    step = job.meta.get("step")
    done = status == JobStatus.FINISHED and jobs.file_path(job).is_file()
    failed = status in jobs.TERMINAL and not done
    total = len(steps) + 1
    if done:
        value, label = total, _l("Ready")
    elif failed:
        value, label = None, _l("Failed")
    elif status == JobStatus.STARTED and step in kind.steps:
        value, label = steps.index(step) + 1, kind.steps[step]
    elif status == JobStatus.STARTED:
        value, label = 0, _l("Starting")
    else:
        value, label = 0, _l("Waiting for its turn")
    reason = None
    if failed:
        result = job.latest_result()
        timed_out = result is not None and "JobTimeoutException" in (result.exc_string or "")
        reason = REASONS["timeout" if timed_out else "error"]
    state = f"{status.value}:{step}:{int(done)}"
    return {
        "job": job, "done": done, "failed": failed, "over": done or failed, "state": state,
        "value": value, "total": total, "label": label, "reason": reason,
        "number": value if value and not done else None, "steps": len(steps),
        "filename": job.meta.get("filename"), "size": job.meta.get("size"),
        "back_url": job.meta.get("back_url"), "poll": POLL_SECONDS,
    }


@bp.get("/<job_id>")
@staff_required
def status(job_id: str):
    job = _job_or_404(job_id)
    view = _view(job)
    # htmx polls with the state it shows: nothing new, nothing to swap.
    if request.headers.get("HX-Request") and request.args.get("seen") == view["state"]:
        response = current_app.response_class(status=204)
        response.headers["Cache-Control"] = "no-store"
        return response
    response = render("core/job.html", "core/_job_status.html", **view)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<job_id>/file")
@staff_required
def download(job_id: str):
    job = _job_or_404(job_id)
    path = jobs.file_path(job)
    if job.get_status(refresh=False) != JobStatus.FINISHED or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=job.meta.get("mimetype") or "application/octet-stream",
                         as_attachment=True, download_name=job.meta.get("filename") or job.id,
                         max_age=0, conditional=False, etag=False)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.app_template_global()
def job_poll_url(job, state: str) -> str:
    return url_for("jobs.status", job_id=job.id, seen=state)


@bp.errorhandler(RedisError)
def queue_unreachable(exc):
    current_app.logger.error("Job queue unreachable: %s", exc)
    return render_error(503, _l("The queue of background work cannot be reached for now. Try again in a moment."))
