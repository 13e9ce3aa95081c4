"""Helpers: a database of the module's own with the demo (the shared test app's database is never
made read-only or cut off), a voter's ballot form, and the 503's expected text."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import force_locale
from flask_migrate import upgrade

from participation.extensions import db

from ..conftest import csrf_from, make_app

NONCE_RE = re.compile(r'name="nonce"[^>]*value="([^"]+)"')
CHOICE_RE = re.compile(r'type="checkbox" id="(p\d+)"')


@dataclass
class Demo:
    url: str
    process_id: int
    codes: list[str]
    api_token: str


def build_demo(url: str) -> Demo:
    """Migrate `url`, load the demo, and note what the tests need (then let the app go)."""
    from participation.budgets.demo import VOTE_TITLE, demo_codes
    from participation.budgets.models import Process
    from participation.core import demo as demo_data
    from participation.core.territories import Contract
    from participation.core.users import User
    from participation.governance import tokens

    app = make_app(url)
    with app.app_context():
        upgrade()
        demo_data.load()
        process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
        evaluator = db.session.scalar(sa.select(User).filter_by(email="evaluation@amp.demo"))
        amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
        _token, raw = tokens.issue(evaluator, amp, "resilience")
        db.session.commit()
        found = Demo(url=url, process_id=process.id, codes=demo_codes(process), api_token=raw)
        db.session.remove()
        db.engine.dispose()
    return found


def ballot_form(client, process_id: int, code: str) -> dict:
    """A voter opens the slip's URL and the ballot, and ticks one proposal: the form to send."""
    assert client.get(f"/v/{code}").status_code == 302
    page = client.get(f"/b/{process_id}/vote").get_data(as_text=True)
    return {"csrf_token": csrf_from(page), "nonce": NONCE_RE.search(page).group(1), "e-age_ok": "y",
            "e-resident": "y", CHOICE_RE.findall(page)[0]: "1"}


def unavailable_text(app, lang: str) -> tuple[str, str]:
    """(title, message) of the 503 in `lang`, from the catalogs."""
    from participation.core.errors import MESSAGES

    with app.test_request_context(), force_locale(lang):
        title, message = MESSAGES[503]
        return str(title), str(message)


def assert_unavailable_page(app, response, lang: str) -> None:
    """A 503 page in `lang`: translated title and message, Retry-After, never stored."""
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    assert "no-store" in response.headers["Cache-Control"]
    page = html.unescape(response.get_data(as_text=True))
    title, message = unavailable_text(app, lang)
    english = unavailable_text(app, "en")
    assert (title, message) != english, f"the 503 is not translated into {lang}"
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in page
    assert title in page and message in page


def listen_to(app, monkeypatch) -> None:
    """Let caplog see the app's log: alembic's migrations/env.py calls logging's fileConfig,
    which disables every logger that existed then (the app's, if a test in this process had
    used it before another test ran the migrations)."""
    monkeypatch.setattr(app.logger, "disabled", False)


def ballots_and_records(conn) -> tuple[int, int]:
    """Counts through a DB-API or SQLAlchemy connection of the test's own."""
    q = "SELECT (SELECT count(*) FROM budget_ballots), (SELECT count(*) FROM budget_vote_records)"
    row = conn.execute(sa.text(q) if hasattr(conn, "dialect") else q).fetchone()
    return int(row[0]), int(row[1])
