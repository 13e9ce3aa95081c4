"""Background jobs on a real Redis (TEST_REDIS_URL, default 127.0.0.1:6379/11; skipped when none
answers): a governance download is queued from its link, an RQ worker runs it, the requester
follows the progress page to the file, which is the file the synchronous download gives. Nobody
else sees the page or the file; a failure is said in the reader's language; htmx gets the
fragment (204 while nothing changes), a browser without JavaScript a page that refreshes itself.

Each run uses its own queue name and deletes every key it made (see `_cleanup`)."""
from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from redis import Redis
from rq.job import JobStatus

from flask_babel import force_locale

from participation.core import jobs
from participation.core.job_views import REASONS
from participation.core.territories import Commune, Contract
from participation.core.users import Role, RoleGrant, User
from participation.extensions import db
from participation.governance import export_views

from ..conftest import Auth, make_app
from ..dbutil import fresh_database
from ..redisutil import forget_queue, redis_or_skip

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
QUEUE = f"test-jobs-{secrets.token_hex(6)}"
EVA = "evaluation@amp.demo"
AMP_ADMIN = "admin@amp.demo"
FAC = "animatrice@amp.demo"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _redis_or_skip() -> Redis:
    return redis_or_skip(REDIS_URL, "background jobs")


#: Job ids this run created, so that their keys are deleted at the end.
CREATED: set[str] = set()


@pytest.fixture(scope="module")
def app():
    """An app with a job queue (this module only: the session's app has none)."""
    conn = _redis_or_skip()
    exports_dir = tempfile.mkdtemp(prefix="participation-exports-")
    with fresh_database("jobs") as url:
        app = make_app(url, REDIS_URL=REDIS_URL, JOBS_QUEUE=QUEUE, EXPORT_DIR=exports_dir)
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    forget_queue(conn, QUEUE, CREATED)
    assert not list(conn.scan_iter(match=f"*{QUEUE}*")), "keys left in Redis"
    shutil.rmtree(exports_dir, ignore_errors=True)


@pytest.fixture
def login(app, demo):
    def as_(email: str):
        client = app.test_client()
        assert Auth(client).login(email).status_code == 302
        return client

    return as_


def amp() -> Contract:
    return db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))


def export_url(fmt: str, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"lang": "en", **args}.items())
    return f"/admin/governance/{amp().id}/export.{fmt}?{query}"


def start(client, fmt: str, **args) -> str:
    """Ask for a download; it must be queued: the job's page address."""
    resp = client.get(export_url(fmt, **args))
    assert resp.status_code == 303, resp.status_code
    location = resp.headers["Location"]
    match = re.fullmatch(r"/jobs/([A-Za-z0-9_-]{32})", location)
    assert match, location
    CREATED.add(match.group(1))
    return location


def run_worker(app) -> None:
    """Every queued job, in this process (RQ's SimpleWorker, burst mode)."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker = jobs.make_worker(app, simple=True, name=f"{QUEUE}-{secrets.token_hex(3)}")
        worker.work(burst=True, with_scheduler=False)
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def synchronous(app, client, fmt: str, **args) -> bytes:
    """The same download with no queue configured (as in development)."""
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None
    try:
        resp = client.get(export_url(fmt, **args))
    finally:
        app.config["REDIS_URL"] = saved
    assert resp.status_code == 200
    return resp.data


def follow(client, page: str) -> bytes:
    html = client.get(page).get_data(as_text=True)
    link = re.search(r'href="(/jobs/[A-Za-z0-9_-]{32}/file)"', html)
    assert link, html
    resp = client.get(link.group(1))
    assert resp.status_code == 200
    return resp


def workbook_values(body: bytes) -> dict:
    wb = openpyxl.load_workbook(io.BytesIO(body))
    return {name: [row for row in wb[name].iter_rows(values_only=True)] for name in wb.sheetnames}


# --- the journey ---------------------------------------------------------------------------------


def test_a_spreadsheet_is_queued_followed_and_is_the_synchronous_file(app, login):
    eva = login(EVA)
    page = start(eva, "xlsx", **{"from": 2024, "to": 2026})
    waiting = eva.get(page + "?lang=en")
    html = waiting.get_data(as_text=True)
    assert waiting.status_code == 200 and waiting.headers["Cache-Control"] == "no-store"
    assert "Waiting for its turn" in html
    assert re.search(r'<progress max="3" value="0"', html)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert 'hx-trigger="every 2s"' in html and "/file" not in html

    run_worker(app)

    ready = eva.get(page + "?lang=en").get_data(as_text=True)
    assert "Ready" in ready and re.search(r'<progress max="3" value="3"', ready)
    assert "http-equiv" not in ready and "hx-trigger" not in ready  # nothing to wait for
    resp = follow(eva, page + "?lang=en")
    assert resp.mimetype == XLSX
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename=gouvernance-aix-marseille-provence-contrat-2024-2026.xlsx")
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    queued = workbook_values(resp.data)
    direct = workbook_values(synchronous(app, eva, "xlsx", **{"from": 2024, "to": 2026}))
    # "Extracted on" is today's date in both; everything else, cell by cell.
    assert queued == direct
    assert queued["Read me"][0][0] == "Governance figures: Contrat de ville Aix-Marseille-Provence"


def test_the_data_package_holds_the_same_files_as_the_synchronous_one(app, login, monkeypatch):
    from datetime import datetime, timezone

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)

    # The package records when it was made: the same instant for both, then every file must match.
    monkeypatch.setattr(export_views.exports, "datetime", Frozen)
    eva = login(EVA)
    page = start(eva, "zip")
    run_worker(app)
    queued = zipfile.ZipFile(io.BytesIO(follow(eva, page).data))
    direct = zipfile.ZipFile(io.BytesIO(synchronous(app, eva, "zip")))
    assert sorted(queued.namelist()) == sorted(direct.namelist()) and "README.md" in direct.namelist()
    for name in direct.namelist():
        assert queued.read(name) == direct.read(name), name
    assert b"2026-11-24" in queued.read("README.md")


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils' pdftotext is not installed")
def test_the_annual_report_reads_as_the_synchronous_one_in_the_language_asked(app, login, tmp_path):
    eva = login(EVA)
    page = start(eva, "pdf")  # in English; the worker's default would be French
    run_worker(app)
    resp = follow(eva, page)
    assert resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")

    def text(body: bytes) -> str:
        path = tmp_path / f"{secrets.token_hex(4)}.pdf"
        path.write_bytes(body)
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout

    queued = text(resp.data)
    assert queued == text(synchronous(app, eva, "pdf"))
    assert "Annual report on participation" in queued and "Aix-Marseille-Provence" in queued


def test_the_page_shows_each_step_while_the_worker_reaches_it(app, login, monkeypatch):
    eva = login(EVA)
    page = start(eva, "xlsx")
    seen = []
    build, write = export_views.build_report, export_views.exports.xlsx_export

    def look():
        html = eva.get(page + "?lang=en").get_data(as_text=True)
        seen.append((re.search(r"<strong>(.*?)</strong>", html).group(1),
                     re.search(r'<progress max="3" value="(\d)"', html).group(1)))

    def spying_build(*a, **kw):
        look()
        return build(*a, **kw)

    def spying_write(*a, **kw):
        look()
        return write(*a, **kw)

    monkeypatch.setattr(export_views, "build_report", spying_build)
    monkeypatch.setattr(export_views.exports, "xlsx_export", spying_write)
    run_worker(app)
    assert seen == [("Step 1 of 2: Computing the figures", "1"), ("Step 2 of 2: Writing the file", "2")]


def test_csv_stays_a_direct_download(app, login):
    resp = login(EVA).get(export_url("csv"))
    assert resp.status_code == 200 and resp.mimetype == "text/csv"


def test_a_second_click_while_the_job_waits_follows_the_same_job(app, login):
    eva = login(EVA)
    first = start(eva, "xlsx")
    assert start(eva, "xlsx") == first
    other = start(eva, "xlsx", lang="fr")  # another language is another file
    assert other != first
    for page in (first, other):  # never run: the next test's worker must not find them
        jobs.find(page.rsplit("/", 1)[1]).delete()


# --- who sees what -------------------------------------------------------------------------------


def test_only_the_requester_sees_the_page_and_the_file(app, login):
    eva = login(EVA)
    page = start(eva, "xlsx")
    run_worker(app)
    assert follow(eva, page).status_code == 200
    # An admin of the same contract reads the same figures, but this job is not hers.
    other = login(AMP_ADMIN)
    assert other.get(page).status_code == 404
    assert other.get(page + "/file").status_code == 404
    anonymous = app.test_client()
    assert "/login" in anonymous.get(page).headers.get("Location", "")
    assert "/login" in anonymous.get(page + "/file").headers.get("Location", "")


def test_the_requester_loses_the_file_with_the_permission(app, login):
    fac = login(FAC)
    marseille = db.session.scalar(sa.select(Commune.id).filter_by(contract_id=amp().id, insee_code="13055"))
    page = start(fac, "xlsx", commune=marseille)
    run_worker(app)
    assert follow(fac, page).status_code == 200
    user = db.session.scalar(sa.select(User).filter_by(email=FAC))
    # She becomes a mediator: the figures of her commune are no longer hers to read.
    for grant in db.session.scalars(sa.select(RoleGrant).filter_by(user_id=user.id)):
        grant.role = Role.mediator
    db.session.commit()
    assert fac.get(page).status_code == 403
    assert fac.get(page + "/file").status_code == 403


def test_unknown_and_malformed_ids_are_not_found(app, login):
    eva = login(EVA)
    assert eva.get("/jobs/" + "A" * 32).status_code == 404
    assert eva.get("/jobs/not-an-id").status_code == 404
    assert eva.get("/jobs/" + "A" * 32 + "/file").status_code == 404


# --- failures, fragments, expiry -----------------------------------------------------------------


def test_a_failed_job_says_so_in_the_readers_language(app, login, monkeypatch):
    eva = login(EVA)
    page = start(eva, "zip")

    def broken(*a, **kw):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(export_views, "make_file", broken)
    run_worker(app)
    job = jobs.find(page.rsplit("/", 1)[1])
    assert job.get_status() == JobStatus.FAILED
    english = eva.get(page + "?lang=en").get_data(as_text=True)
    assert "Failed" in english and "could not be made because of an error on our side" in english
    assert "disk on fire" not in english and "<progress" not in english and "hx-trigger" not in english
    french = eva.get(page + "?lang=fr").get_data(as_text=True)
    with force_locale("fr"):
        expected = str(REASONS["error"])
    assert 'lang="fr"' in french and expected in french
    assert eva.get(page + "/file").status_code == 404


def test_a_job_over_its_time_limit_is_stopped_and_says_why(app, login, monkeypatch):
    eva = login(EVA)
    monkeypatch.setitem(app.config, "JOB_TIMEOUT_SECONDS", 1)
    page = start(eva, "pdf")
    monkeypatch.setattr(export_views, "make_file", lambda *a, **kw: time.sleep(30))
    began = time.monotonic()
    run_worker(app)
    assert time.monotonic() - began < 25  # stopped, not waited for
    html = eva.get(page + "?lang=en").get_data(as_text=True)
    assert "Failed" in html and "took too long to make" in html


def test_htmx_gets_the_fragment_and_204_while_nothing_changes(app, login):
    eva = login(EVA)
    page = start(eva, "xlsx")
    hx = {"HX-Request": "true"}
    fragment = eva.get(page + "?lang=en", headers=hx)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and "HX-Request" in fragment.headers["Vary"]
    assert html.lstrip().startswith('<div id="job-status"')
    poll = re.search(r'hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "seen=queued" in poll
    unchanged = eva.get(poll, headers=hx)
    assert unchanged.status_code == 204 and unchanged.data == b""
    run_worker(app)
    done = eva.get(poll + "&lang=en", headers=hx)
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and "<html" not in body
    assert "Download the file" in body and "hx-get" not in body
    # The same address without htmx (a reload) is the whole page.
    assert "<html" in eva.get(poll).get_data(as_text=True)


def test_files_expire_and_the_purge_deletes_them(app, login):
    eva = login(EVA)
    page = start(eva, "xlsx")
    run_worker(app)
    job = jobs.find(page.rsplit("/", 1)[1])
    path = jobs.file_path(job)
    assert path.is_file()
    assert jobs.purge_expired(app) == 0  # fresh
    old = time.time() - jobs.ttl_seconds(app) - 60
    os.utime(path, (old, old))
    result = app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert result.exit_code == 0 and "1 expired files deleted" in result.output
    assert not path.exists()
    assert eva.get(page + "/file").status_code == 404
    assert "Download the file" not in eva.get(page + "?lang=en").get_data(as_text=True)


def test_the_download_is_made_in_the_request_when_the_queue_is_unreachable(app, login):
    eva = login(EVA)
    saved = app.config["REDIS_URL"], app.extensions.get("jobs")
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions["jobs"] = {}
    try:
        resp = eva.get(export_url("xlsx"))
    finally:
        app.config["REDIS_URL"], app.extensions["jobs"] = saved
    assert resp.status_code == 200 and resp.mimetype == XLSX


def test_the_worker_command_runs_jobs_in_a_forked_child(app, login):
    """`flask jobs worker --burst`: RQ's forking worker, as in production."""
    eva = login(EVA)
    page = start(eva, "xlsx")
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = app.test_cli_runner().invoke(args=["jobs", "worker", "--burst", "--name", f"{QUEUE}-cli"])
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    assert result.exit_code == 0, result.output
    assert f"on queue {QUEUE}" in result.output
    assert workbook_values(follow(eva, page).data)["Read me"][0][0].startswith("Governance figures")


def test_the_worker_command_needs_a_redis(app):
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None
    try:
        result = app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    finally:
        app.config["REDIS_URL"] = saved
    assert result.exit_code != 0 and "No Redis configured" in result.output


def test_without_a_queue_the_dashboard_does_not_announce_background_work(app, login):
    eva = login(EVA)
    url = f"/admin/governance/{amp().id}?lang=en"
    assert "made in the background" in eva.get(url).get_data(as_text=True)
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None
    try:
        assert "made in the background" not in eva.get(url).get_data(as_text=True)
    finally:
        app.config["REDIS_URL"] = saved
