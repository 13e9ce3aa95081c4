"""Browser tests: a live server on its own demo database, Debian's Chromium driven by Playwright
on a phone-sized screen, and axe-core run on every page a journey reaches.

Chromium is /usr/bin/chromium (Debian's package; `playwright install` is never used). When it is
missing the tests are skipped with a message, or fail when REQUIRE_BROWSER=1 (CI).
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from participation.core.demo import DEMO_PASSWORD
from tests.conftest import make_app
from tests.dbutil import fresh_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
LANGS = ["fr", "ar"]
OTHER_LANG = {"fr": "ar", "ar": "fr"}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ROOT = Path(__file__).resolve().parents[2]


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but Chromium is missing: {message}", pytrace=False)
    pytest.skip(message)


# --- live server ---------------------------------------------------------------


#: What every live server needs: QR codes pointing at it, cookies over plain http, and per-IP
#: limits (tested on their own) wide enough for every journey coming from 127.0.0.1.
LIVE_SETTINGS = dict(PUBLIC_BASE_URL=None, SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False,
                     LOGIN_RATE_LIMIT="1000 per minute", QUESTIONNAIRE_POST_LIMIT="10000 per minute")


@contextlib.contextmanager
def serve_demo(name: str, prepare=None, **overrides):
    """The app on a fresh database `name` with the demo data (and what `prepare(app)` adds, in
    the app context), served by Werkzeug on a free loopback port in a daemon thread. Yields
    (app, base URL)."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from participation.core import demo
    from participation.extensions import db

    with fresh_database(name) as url:
        app = make_app(url, **{**LIVE_SETTINGS, **overrides})
        with app.app_context():
            upgrade()
            demo.load()
            if prepare is not None:
                prepare(app)
            db.session.commit()
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name=f"live-server-{name}", daemon=True)
        thread.start()
        try:
            yield app, f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(scope="session")
def live_server():
    """The app on its own fresh database (SQLite, or PostgreSQL with TEST_POSTGRES_URL), with
    the demo data, shared by every journey of the session."""
    _require_chromium()  # no point building a server nobody will browse
    with serve_demo("browser") as (_app, url):
        yield url


def translated(app, lang: str, msgid: str, **values) -> str:
    """`msgid` as the app's catalog says it in `lang`; it must be translated (a French or Arabic
    page that shows the English text fails)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context():
        with force_locale(lang):
            text = gettext(msgid, **values)
        with force_locale("en"):
            english = gettext(msgid, **values)
    assert text != english, f"{msgid!r} is not translated into {lang}"
    return text


# --- browser ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core pinned by package.json (npm), else the copy bundled with axe-playwright-python."""
    npm_copy = ROOT / "node_modules" / "axe-core" / "axe.min.js"
    if npm_copy.is_file():
        return npm_copy.read_text(encoding="utf-8")
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(params=LANGS)
def lang(request) -> str:
    return request.param


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe-core found {len(violations)} violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- {v['id']} [{v.get('impact')}] {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", [])[:10]:
            target = " ".join(json.dumps(t) if not isinstance(t, str) else t for t in node.get("target", []))
            lines.append(f"    at {target}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            if summary:
                lines.append(f"       {summary}")
        if len(v.get("nodes", [])) > 10:
            lines.append(f"    … and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


@dataclass
class Browsing:
    """One browser context (a resident's or a staff member's phone) and the checks run on
    every page it reaches."""

    base: str
    page: object
    axe_source: str
    lang: str
    js: bool = True
    console_errors: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def visit(self, path: str, status: int = 200):
        """Go to `path`, expect `status` (after redirects), then check the page."""
        response = self.page.goto(self.url(path))
        assert response is not None, f"no response for {path}"
        assert response.status == status, f"{path}: HTTP {response.status}, expected {status}"
        self.check(expect_errors=status >= 400)
        return response

    def check(self, expect_errors: bool = False) -> None:
        """Check the current page: language attributes, no horizontal scroll at 360 px, no
        console error (CSP violations included) nor failed load, and axe-core.
        `expect_errors`: the page itself answered with an error status on purpose."""
        page = self.page
        url = page.url
        html_lang = page.get_attribute("html", "lang")
        html_dir = page.get_attribute("html", "dir")
        assert html_dir == ("rtl" if html_lang == "ar" else "ltr"), f"{url}: lang={html_lang} dir={html_dir}"
        if html_lang != "en":
            # The interface really is translated (a missing .mo would silently serve English).
            skip = page.locator(".skip-link").inner_text()
            assert skip != "Skip to content", f"{url}: lang={html_lang} but the interface is in English"
        self.assert_no_horizontal_scroll()
        # Failed loads are reported with their URL by the response listener (open_browsing);
        # the console's copy of them carries no URL.
        errors = [e for e in self.console_errors if not e.startswith("Failed to load resource")]
        errors += [e for e in self.failed_loads if not (expect_errors and e.endswith(" " + page.url))]
        self.failed_loads.clear()
        self.console_errors.clear()
        assert not errors, f"{url}: browser console errors:\n" + "\n".join(errors)
        self.axe()

    def assert_no_horizontal_scroll(self) -> None:
        # (evaluate() of a plain expression works even with JavaScript disabled.)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{self.page.url}: horizontal scroll ({width} px wide at {PHONE['width']} px)"

    def axe(self) -> None:
        if not self.js:
            # With JavaScript disabled axe.run() never settles (the page runs no timers): the
            # same pages are checked by the JavaScript journeys.
            return
        page = self.page
        # The app sends `script-src 'self'`: page.add_script_tag(content=...) adds an inline
        # <script> that this CSP blocks. page.evaluate() goes through the DevTools protocol,
        # which the CSP does not govern, so axe is injected that way and the context keeps the
        # real CSP (no bypass_csp): a page that needs an inline script or style still fails.
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(self.axe_source)
        violations = page.evaluate(AXE_RUN, {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
        assert not violations, format_violations(page.url, violations)

    def finish(self) -> None:
        """After the journey: nothing went wrong after the last check either."""
        errors = [e for e in self.console_errors if not e.startswith("Failed to load resource")]
        assert not (errors or self.failed_loads), "browser errors after the last check:\n" + "\n".join(
            errors + self.failed_loads
        )

    # --- small helpers used by the journeys
    def html_lang(self) -> tuple[str | None, str | None]:
        return self.page.get_attribute("html", "lang"), self.page.get_attribute("html", "dir")

    def assert_language(self, lang: str) -> None:
        assert self.html_lang() == (lang, "rtl" if lang == "ar" else "ltr"), f"{self.page.url}: {self.html_lang()}"


#: axe.run(), its answer reduced to what the report prints; it gives up after 60 s rather than
#: hang the suite.
AXE_RUN = """options => Promise.race([
  axe.run(document, options),
  new Promise((_, reject) => setTimeout(() => reject(new Error("axe.run() did not finish in 60 s")), 60000)),
]).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
  nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary})),
})))"""


def _new_context(browser, lang: str, js: bool):
    return browser.new_context(
        viewport=PHONE,
        screen=PHONE,
        is_mobile=True,
        has_touch=True,
        locale=lang,
        java_script_enabled=js,
        timezone_id="Europe/Paris",
    )


def _record_failure(b: Browsing, response) -> None:
    # Chromium asks for /favicon.ico on its own; the app ships no favicon (not a page's fault).
    if response.status >= 400 and not response.url.endswith("/favicon.ico"):
        b.failed_loads.append(f"HTTP {response.status} {response.url}")


@pytest.fixture
def open_browsing(browser, live_server, axe_source):
    """Factory: open_browsing(lang, js=True) -> Browsing on a fresh context (closed afterwards)."""
    opened: list[tuple[object, Browsing]] = []

    def factory(lang: str, js: bool = True) -> Browsing:
        context = _new_context(browser, lang, js)
        context.set_default_timeout(10_000)
        page = context.new_page()
        b = Browsing(base=live_server, page=page, axe_source=axe_source, lang=lang, js=js)
        opened.append((context, b))
        page.on("console", lambda msg: b.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: b.console_errors.append(f"uncaught: {exc}"))
        page.on("response", lambda r: _record_failure(b, r))
        return b

    yield factory
    try:
        for _context, b in opened:
            b.finish()
    finally:
        for context, _b in opened:
            context.close()


@pytest.fixture
def web(open_browsing, lang) -> Browsing:
    """A phone with JavaScript, its browser locale set to the journey's language."""
    return open_browsing(lang)


def login(web: Browsing, email: str, lang: str) -> None:
    """Log in through the login page (checked), landing on the back office (checked)."""
    page = web.page
    web.visit(f"/login?lang={lang}")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.url.endswith("/admin/"), page.url
    web.check()
