"""The progress page of a background job, on a phone, in French and in Arabic, with a real Redis
and an RQ worker: the evaluator asks for a governance download (the spreadsheet in French, the
annual report in Arabic), lands on the page that follows the job, sees it wait for its turn, then
each step as the worker reaches it, the page updating itself (htmx, no reload) until the file is
ready, and downloads it: a real XLSX or PDF. axe-core checks the page in every state.

Its own live server (the shared one has no queue), on its own database, Redis queue name and
export folder; Redis is TEST_REDIS_URL's server, database 12 by default (tests/core/test_jobs.py
uses 11). Without a Redis the module is skipped, saying so. Every key it made is deleted."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile

import openpyxl
import pytest
from playwright.sync_api import expect

from participation.core.demo import register_loader
from participation.governance import demo as governance_demo
from participation.questionnaires import views as _questionnaires  # noqa: F401  (its demo loader runs first)
from tests.browser.conftest import _require_chromium, login, serve_demo, translated
from tests.redisutil import forget_queue, redis_or_skip

pytestmark = pytest.mark.browser

# The dashboard of the demo contract needs the governance demo (as in test_governance_downloads.py).
register_loader(governance_demo.load)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
QUEUE = f"test-browser-jobs-{secrets.token_hex(6)}"
EVA = "evaluation@amp.demo"
SLUG = "aix-marseille-provence"
#: The file each language's journey asks for: both kinds of background download are followed.
FORMAT = {"fr": "xlsx", "ar": "pdf"}
#: This module's app (the worker runs in its context).
APPS: list = []
#: Job ids this module made, so that their keys are deleted at the end.
CREATED: set[str] = set()


def _redis_or_skip():
    return redis_or_skip(REDIS_URL, "the job progress journey (TEST_REDIS_URL)")


@pytest.fixture(scope="module")
def live_server():
    """The app with a job queue (REDIS_URL, JOBS_QUEUE, EXPORT_DIR of its own) on a fresh demo
    database, served as the conftest's live server is."""
    _require_chromium()  # first: with REQUIRE_BROWSER=1 a missing Chromium fails, whatever Redis says
    conn = _redis_or_skip()
    exports_dir = tempfile.mkdtemp(prefix="participation-browser-exports-")
    # (not "browser" in the database's name: other modules find the shared server's app by it)
    try:
        with serve_demo("live_jobs", REDIS_URL=REDIS_URL, JOBS_QUEUE=QUEUE, EXPORT_DIR=exports_dir) as (app, url):
            APPS.append(app)
            try:
                yield url
            finally:
                APPS.remove(app)
    finally:
        forget_queue(conn, QUEUE, CREATED)
        shutil.rmtree(exports_dir, ignore_errors=True)
    assert not list(conn.scan_iter(match=f"*{QUEUE}*")), "keys left in Redis"


def t(lang: str, msgid: str, **values) -> str:
    """`msgid` as the app's catalog says it in `lang`; it must be translated."""
    return translated(APPS[0], lang, msgid, **values)


def run_worker(name: str) -> None:
    """Every queued job, by RQ's SimpleWorker in this thread (burst mode), as the tests of
    core/jobs.py do; the browser meanwhile polls the live server from its own process."""
    from participation.core import jobs

    app = APPS[0]
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with app.app_context():
            worker = jobs.make_worker(app, simple=True, name=f"{QUEUE}-{name}")
            worker.work(burst=True, with_scheduler=False)
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def test_the_evaluator_follows_the_progress_page_to_the_file(web, lang, tmp_path, monkeypatch):
    from participation.governance import annual_report, export_views

    page = web.page
    fmt = FORMAT[lang]
    login(web, EVA, lang)

    # The dashboard says the big files are made in the background.
    with page.expect_navigation():
        page.locator("main a[href^='/admin/governance/']").first.click()
    web.check()
    exports = page.locator(".gv-exports")
    expect(exports.locator(".hint")).to_have_text(t(lang, "The spreadsheet, the data package and the report are "
                                                          "made in the background: a page shows the progress, "
                                                          "then the link to the file."))
    dashboard = page.url

    # She asks for the file: the progress page, waiting for a worker.
    with page.expect_navigation():
        exports.locator(f"a[href*='export.{fmt}']").click()
    match = re.search(r"/jobs/([A-Za-z0-9_-]{32})$", page.url)
    assert match, page.url
    CREATED.add(match.group(1))
    web.check()
    web.assert_language(lang)
    expect(page.locator("main h1")).to_have_text(t(lang, "Preparing your file"))
    status = page.locator("#job-status")
    label = page.locator("#job-status-label")
    progress = status.locator("progress")
    expect(label).to_have_text(t(lang, "Waiting for its turn"))
    assert (progress.get_attribute("max"), progress.get_attribute("value")) == ("3", "0")
    expect(status.locator("a[href$='/file']")).to_have_count(0)
    # The label names the progress bar, and changes are announced politely.
    assert progress.get_attribute("aria-labelledby") == "job-status-label"
    expect(page.locator("main [aria-live=polite] #job-status")).to_have_count(1)

    # htmx asks again with the state shown: nothing new is a 204, nothing swapped.
    page.evaluate("window.__sameDocument = true")
    with page.expect_response(lambda r: "/jobs/" in r.url and "seen=queued" in r.url, timeout=10_000) as polled:
        pass
    assert polled.value.status == 204
    expect(label).to_have_text(t(lang, "Waiting for its turn"))

    # The worker runs the job; at each step the page (polling on its own) shows where it is.
    steps = {"figures": (1, "Computing the figures"), "file": (2, "Writing the file")}
    seen, failures = [], []

    def expect_step(key: str) -> None:
        number, step = steps[key]
        try:
            expect(label).to_have_text(t(lang, "Step %(number)s of %(total)s: %(step)s", number=number, total=2,
                                         step=t(lang, step)), timeout=15_000)
            assert progress.get_attribute("value") == str(number)
            web.check()  # axe on the page in this state too
            seen.append(key)
        except BaseException as exc:  # the worker would swallow it as the job's failure
            failures.append(exc)
            raise

    build, write_xlsx = export_views.build_report, export_views.exports.xlsx_export
    write_pdf = annual_report.annual_report_pdf

    def spying_build(*a, **kw):
        expect_step("figures")
        return build(*a, **kw)

    def spying_xlsx(*a, **kw):
        expect_step("file")
        return write_xlsx(*a, **kw)

    def spying_pdf(*a, **kw):
        expect_step("file")
        return write_pdf(*a, **kw)

    monkeypatch.setattr(export_views, "build_report", spying_build)
    monkeypatch.setattr(export_views.exports, "xlsx_export", spying_xlsx)
    monkeypatch.setattr(annual_report, "annual_report_pdf", spying_pdf)
    run_worker(lang)
    if failures:
        raise failures[0]
    assert seen == ["figures", "file"]

    # Ready: the page updated itself (no reload) and stopped asking.
    expect(label).to_have_text(t(lang, "Ready"), timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating itself"
    assert progress.get_attribute("value") == "3"
    expect(status).not_to_have_attribute("hx-get", re.compile(".*"))
    link = status.locator("a[href$='/file']")
    expect(link).to_have_text(t(lang, "Download the file"))
    filename = status.locator(".code").inner_text().strip()
    assert filename.endswith(f".{fmt}") and SLUG in filename, filename
    web.check()

    # The file: a real spreadsheet or PDF, of the demo contract.
    with page.expect_download(timeout=60_000) as info:
        link.click()
    download = info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename == filename
    path = tmp_path / filename
    download.save_as(path)
    body = path.read_bytes()
    if fmt == "xlsx":
        assert body[:4] == b"PK\x03\x04", body[:16]
        wb = openpyxl.load_workbook(path, read_only=True)
        assert len(wb.sheetnames) > 1, wb.sheetnames
        title = next(wb.worksheets[0].iter_rows(values_only=True))[0]
        assert "Aix-Marseille-Provence" in title, title
    else:
        assert body[:5] == b"%PDF-" and body.rstrip().endswith(b"%%EOF"), body[:16]
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
            assert "Aix-Marseille-Provence" in text
    web.check()  # still the progress page, nothing went wrong

    # Back to the dashboard she came from.
    with page.expect_navigation():
        page.locator("main a", has_text=t(lang, "Back to the page you came from")).click()
    assert page.url.split("?")[0] == dashboard.split("?")[0], page.url
    web.check()
