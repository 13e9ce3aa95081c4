"""Background jobs (RQ on Redis) for long work: PDF reports and big exports.

A feature registers a *kind* of job (`register`): the work, who may see its result, and its
steps. With a Redis configured (JOBS_REDIS_URL or REDIS_URL), `enqueue()` puts the work on the
queue and the user follows `/jobs/<id>` (core/job_views.py) until the file is ready; without
one (`enabled()` is False: the development and demo run, the tests by default), the feature
runs the same code during the request, as before.

The finished file goes to EXPORT_DIR, a directory every app server shares, under the job's id;
the job (in Redis) and the file are deleted after EXPORT_TTL_HOURS. Only the staff member who
asked may see either, and only while they still hold the permission the download needs.
`flask jobs worker` runs the worker, `flask jobs purge` deletes expired files.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import click
import sqlalchemy as sa
from flask import current_app, jsonify
from flask.cli import AppGroup
from flask_babel import force_locale, get_locale
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from ..extensions import db

log = logging.getLogger(__name__)

#: 32 random URL-safe characters: the id is the file's name and the page's address, so it
#: must not be guessable (a wrong id is a 404 like an expired one).
JOB_ID_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
#: Statuses after which nothing changes any more.
TERMINAL = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
#: A second click on the same download while the first is still queued or running follows it.
DEDUPE_SECONDS = 15 * 60


@dataclass(frozen=True)
class Output:
    body: bytes | str
    filename: str
    mimetype: str


@dataclass(frozen=True)
class Kind:
    """A kind of job. `run(params, progress)` does the work inside an app context, in the
    requester's language, and returns the file; `progress(step)` tells the user which of
    `steps` (key -> translated label, in order) it reached. `allowed(user, params)` is asked
    again on every view of the page and of the file."""

    name: str
    run: Callable[[dict, Callable[[str], None]], Output]
    allowed: Callable[[object, dict], bool]
    steps: dict = field(default_factory=dict)


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    KINDS[kind.name] = kind


# --- connections ------------------------------------------------------------------------------


def _state(app=None) -> dict:
    app = app or current_app
    return app.extensions.setdefault("jobs", {})


def redis_url(app=None) -> str | None:
    config = (app or current_app).config
    return config.get("JOBS_REDIS_URL") or config.get("REDIS_URL")


def enabled(app=None) -> bool:
    return bool(redis_url(app))


def connection(app=None) -> Redis:
    """The web side's client: short timeouts, so that a Redis outage costs a page seconds, not
    a worker's whole timeout."""
    state = _state(app)
    if "redis" not in state:
        state["redis"] = Redis.from_url(redis_url(app), socket_connect_timeout=2, socket_timeout=5,
                                        health_check_interval=30)
    return state["redis"]


def queue(app=None, conn: Redis | None = None) -> Queue:
    app = app or current_app
    return Queue(app.config["JOBS_QUEUE"], connection=conn or connection(app), serializer=JSONSerializer)


def export_dir(app=None) -> Path:
    config = (app or current_app).config
    return Path(config.get("EXPORT_DIR") or config["UPLOAD_DIR"] + "-exports")


def ttl_seconds(app=None) -> int:
    return int((app or current_app).config["EXPORT_TTL_HOURS"]) * 3600


# --- the web side -----------------------------------------------------------------------------


def enqueue(kind: str, params: dict, *, user, back_url: str | None = None) -> str:
    """Queue `kind` with `params` (JSON) for `user`; the id of the job to follow. A repeated
    request (double click, reload) while the same job waits or runs gets that job back.
    Raises RedisError when the queue cannot be reached."""
    if kind not in KINDS:
        raise KeyError(kind)
    lang = str(get_locale())
    conn = connection()
    q = queue(conn=conn)
    fingerprint = hashlib.sha256(json.dumps([user.id, kind, params, lang], sort_keys=True).encode()).hexdigest()
    dedupe_key = f"{q.name}:participation-dedupe:{fingerprint}"
    previous = conn.get(dedupe_key)
    if previous:
        job = _fetch(previous.decode(), conn)
        if job is not None and job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.STARTED):
            return job.id
    ttl = ttl_seconds()
    job_id = secrets.token_urlsafe(24)
    meta = {"kind": kind, "user_id": user.id, "lang": lang, "step": None, "back_url": back_url}
    q.enqueue_call(
        "participation.core.jobs.perform", args=(kind, params), job_id=job_id, meta=meta,
        # The description is what the worker logs: the kind only.
        description=kind, timeout=current_app.config["JOB_TIMEOUT_SECONDS"],
        result_ttl=ttl, failure_ttl=ttl, ttl=ttl,
    )
    conn.set(dedupe_key, job_id, ex=DEDUPE_SECONDS)
    return job_id


def _fetch(job_id: str, conn: Redis) -> Job | None:
    try:
        return Job.fetch(job_id, connection=conn, serializer=JSONSerializer)
    except NoSuchJobError:
        return None


def find(job_id: str) -> Job | None:
    """The job, or None for an id that is malformed, unknown or expired."""
    if not enabled() or not JOB_ID_RE.match(job_id or ""):
        return None
    job = _fetch(job_id, connection())
    if job is None or job.meta.get("kind") not in KINDS:
        return None
    return job


def file_path(job: Job) -> Path:
    return export_dir() / job.id


# --- the worker side --------------------------------------------------------------------------


def perform(kind: str, params: dict) -> dict:
    """The job function (run by the worker): the registered work, in a fresh app context and in
    the requester's language; the file is written under a temporary name, then renamed, so that
    a reader never sees half a file."""
    job = get_current_job()
    app = current_app._get_current_object()
    with app.app_context(), force_locale(job.meta.get("lang") or app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            purge_expired()

            def progress(step: str) -> None:
                job.meta["step"] = step
                job.save_meta()

            output = KINDS[kind].run(params, progress)
            body = output.body.encode("utf-8") if isinstance(output.body, str) else output.body
            folder = export_dir()
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(body)
                os.replace(tmp, folder / job.id)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            job.meta.update(step="done", filename=output.filename, mimetype=output.mimetype, size=len(body))
            job.save_meta()
            return {"size": len(body)}
        finally:
            db.session.remove()


def purge_expired(app=None, now: float | None = None) -> int:
    """Delete finished files older than EXPORT_TTL_HOURS (and temporary files left by a killed
    job); the number deleted. Called before every job and by `flask jobs purge`."""
    folder = export_dir(app)
    if not folder.is_dir():
        return 0
    limit = (now or time.time()) - ttl_seconds(app)
    deleted = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                deleted += 1
        except FileNotFoundError:  # another worker purged it first
            continue
    return deleted


class AppWorker(Worker):
    """RQ's forking worker: each job runs in a child process, so a leak or a crash in one
    export dies with it. The child inherits the app context pushed by `flask jobs worker`."""

    def main_work_horse(self, job, queue):
        # Pooled database connections of the parent must not be shared with the child.
        db.engine.dispose(close=False)
        super().main_work_horse(job, queue)


def make_worker(app=None, *, simple: bool = False, name: str | None = None):
    """A worker on the app's queue (a SimpleWorker runs jobs in this process: tests)."""
    app = app or current_app
    # The worker's own connection: no read timeout, its blocking wait for jobs is long.
    conn = Redis.from_url(redis_url(app), socket_connect_timeout=5)
    cls = SimpleWorker if simple else AppWorker
    return cls([queue(app, conn)], connection=conn, serializer=JSONSerializer, name=name)


# --- health -----------------------------------------------------------------------------------


def _redis_checks(app) -> dict[str, str]:
    """Each distinct Redis the app uses, by what it is for."""
    urls = {}
    if app.config.get("REDIS_URL"):
        urls[app.config["REDIS_URL"]] = "redis"
    if app.config.get("JOBS_REDIS_URL") and app.config["JOBS_REDIS_URL"] not in urls:
        urls[app.config["JOBS_REDIS_URL"]] = "jobs_redis"
    storage = app.config.get("RATELIMIT_STORAGE_URI") or ""
    if storage.startswith(("redis://", "rediss://")) and storage not in urls:
        urls[storage] = "ratelimit_redis"
    return urls


def health():
    """For the load balancer: the database answers `SELECT 1` and every Redis answers PING.
    200 when all do, 503 otherwise; names of dependencies and "ok"/"unreachable" only."""
    app = current_app._get_current_object()
    body, ok = {}, True
    try:
        db.session.execute(sa.text("SELECT 1"))
        body["database"] = "ok"
    except Exception:
        db.session.rollback()
        body["database"], ok = "unreachable", False
    clients = _state(app).setdefault("health_clients", {})
    for url, name in _redis_checks(app).items():
        client = clients.get(url)
        if client is None:
            client = clients[url] = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
            body[name] = "ok"
        except (RedisError, OSError):
            body[name], ok = "unreachable", False
    return jsonify(status="ok" if ok else "error", **body), 200 if ok else 503


# --- wiring -----------------------------------------------------------------------------------


jobs_cli = AppGroup("jobs", help="Background jobs: the worker and the purge of expired files.")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (default: wait for jobs).")
@click.option("--name", default=None, help="Worker name (default: host and process id).")
def worker_command(burst, name):
    """Run an RQ worker for this app (SIGTERM: finish the current job, then stop)."""
    app = current_app._get_current_object()
    if not enabled(app):
        raise click.ClickException("No Redis configured: set REDIS_URL (or JOBS_REDIS_URL).")
    export_dir(app).mkdir(parents=True, exist_ok=True)
    purge_expired(app)
    w = make_worker(app, name=name)
    click.echo(f"Worker {w.name} on queue {app.config['JOBS_QUEUE']}, files in {export_dir(app)}")
    w.work(burst=burst, logging_level=app.config.get("JOBS_LOG_LEVEL", "INFO"), with_scheduler=False)


@jobs_cli.command("purge")
def purge_command():
    """Delete files of background jobs older than EXPORT_TTL_HOURS."""
    click.echo(f"{purge_expired()} expired files deleted from {export_dir()}.")


def init_app(app) -> None:
    app.cli.add_command(jobs_cli)
    app.add_template_global(lambda: enabled(app), "background_jobs")


def routes() -> list:
    from .job_views import bp

    return [bp]
