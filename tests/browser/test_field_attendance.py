"""Attendance counted offline, in French and Arabic: a mediator takes a meeting's field count
form offline from /field/, loses the connection during the meeting, counts two parts of the
room (kept in the outbox), gets the connection back and finds both counts added once to the
meeting's attendance; the same items sent again add nothing. The facilitator sees the counts
received, with who sent them. Without JavaScript the form posts as usual. axe-core on each page."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .conftest import login
from .test_field_outbox import OUTBOX_ITEMS, REPLAY, SYNC_TIMEOUT, badge, count_text, live_app, strings, take_offline

pytestmark = pytest.mark.browser

MEDIATOR = "mediateur@amp.demo"
FACILITATOR = "animatrice@amp.demo"


def seed(lang: str, suffix: str) -> int:
    """A table of the mediator's neighbourhoods with a meeting that started ten minutes ago."""
    from participation.core.territories import Contract
    from participation.extensions import db
    from tests.tables.access_cases_attendance import make_meeting, make_table

    with live_app().app_context():
        amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
        table = make_table(amp, name=f"Table hors connexion {suffix} ({lang})")
        meeting_id = make_meeting(table).id
        db.session.commit()
        db.session.remove()
    return meeting_id


def field_counts(meeting_id: int) -> tuple[int, int]:
    """(counts sent from the field, their people) of the meeting."""
    from participation.extensions import db
    from participation.tables import attendance
    from participation.tables.models import AttendanceSheet, Meeting

    with live_app().app_context():
        meeting = db.session.get(Meeting, meeting_id)
        sheets = db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceSheet)
                                   .where(AttendanceSheet.meeting_id == meeting_id))
        people = attendance.counts(meeting).field
        db.session.remove()
    return sheets, people


def fill_count(page, total: int, note: str, women: int | None = None) -> None:
    page.fill("#total", str(total))
    page.fill("#note", note)
    if women is not None:
        details = page.locator("details.checkin-more")
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        page.fill("#gender-woman", str(women))


def test_attendance_counted_offline_arrives_once(open_browsing, lang):
    meeting_id = seed(lang, "A")
    web = open_browsing(lang)
    page, context = web.page, web.page.context
    login(web, MEDIATOR, lang)
    form_url = f"/admin/tables/meetings/{meeting_id}/field-count"

    web.visit("/field/")
    take_offline(web, form_url)
    web.check()

    # During the meeting, no connection: the form comes from the service worker.
    context.set_offline(True)
    response = page.goto(web.url(form_url))
    assert response is not None and response.from_service_worker
    assert page.locator("form[data-outbox=attendance_count]").count() == 1
    queued = strings(page)["queued"]
    for i, (total, note, women) in enumerate(((12, "Côté fenêtres", 5), (9, "Côté porte", None))):
        fill_count(page, total, note, women)
        page.locator("form[data-outbox] button[type=submit]").click()
        expect(page.locator("[data-outbox-status-text]")).to_have_text(queued)
        expect(badge(page)).to_have_text(count_text(page, i + 1))
        # Ready for the next count.
        assert page.locator("#total").input_value() == "" and page.locator("#note").input_value() == ""
    web.check()
    items = page.evaluate(OUTBOX_ITEMS)
    assert len(items) == 2 and all(i["kind"] == "attendance_count" for i in items)
    assert all(i["target"] == {"meeting_id": meeting_id} for i in items)
    assert len({i["client_id"] for i in items}) == 2
    assert field_counts(meeting_id) == (0, 0)

    # The field page, still offline, lists both; then the connection comes back: both counts
    # are added, once.
    page.goto(web.url("/field/"))
    expect(page.locator("[data-field-items] > li")).to_have_count(2)
    web.check()
    page.evaluate(f"async () => {{ window.kept = await ({OUTBOX_ITEMS})(); }}")
    context.set_offline(False)
    expect(badge(page)).to_have_text(count_text(page, 0), timeout=SYNC_TIMEOUT)
    assert field_counts(meeting_id) == (2, 21)

    # The same items again (a device restoring a backup): "already received", nothing added.
    assert page.evaluate(f"() => ({REPLAY})(window.kept)") == 2
    page.evaluate("() => window.fieldOutbox.sendAll()")
    expect(badge(page)).to_have_text(count_text(page, 0), timeout=SYNC_TIMEOUT)
    assert field_counts(meeting_id) == (2, 21)
    web.check()

    # The facilitator sees what came from the field, with who sent it.
    staff = open_browsing(lang)
    login(staff, FACILITATOR, lang)
    staff.visit(f"/admin/tables/meetings/{meeting_id}/attendance")
    expect(staff.page.locator("#count-field")).to_have_text("21")
    rows = staff.page.locator("#field-sheets tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Karim Haddad")
    expect(rows.first).to_contain_text("Côté fenêtres")


def test_the_field_count_form_works_without_javascript(open_browsing, lang):
    meeting_id = seed(lang, "B")
    web = open_browsing(lang, js=False)
    login(web, MEDIATOR, lang)
    form_url = f"/admin/tables/meetings/{meeting_id}/field-count"
    web.visit(form_url)
    page = web.page
    client_id = page.locator("input[name=client_id]").input_value()
    assert re.fullmatch(r"[0-9a-f-]{36}", client_id)
    page.fill("#total", "14")
    page.fill("#note", "Feuille de l'entrée")
    with page.expect_navigation():
        page.locator("form[data-outbox] button[type=submit]").click()
    assert page.url.endswith(form_url)
    assert page.locator(".flash").count() == 1
    web.check()
    assert field_counts(meeting_id) == (1, 14)
    # A refused count says why, next to the field, and records nothing.
    page.fill("#total", "deux")
    with page.expect_navigation():
        page.locator("form[data-outbox] button[type=submit]").click()
    assert page.locator("#total-error").count() == 1
    web.check(expect_errors=True)  # answered 422 on purpose
    assert field_counts(meeting_id) == (1, 14)


def test_the_proposal_page_for_staff_entering_ideas_passes_axe(open_browsing, lang):
    """The budget proposal page, as a mediator sees it (entry mode, kinds of help, outbox)."""
    from participation.budgets.demo import IDEAS_TITLE
    from participation.budgets.models import Process
    from participation.extensions import db

    with live_app().app_context():
        process_id = db.session.scalar(sa.select(Process.id).filter_by(title=IDEAS_TITLE))
        db.session.remove()
    web = open_browsing(lang)
    login(web, MEDIATOR, lang)
    web.visit(f"/b/{process_id}/propose")
    page = web.page
    assert page.locator("form[data-outbox=budget_proposal] input[name=help]").count() == 3
    assert page.locator("input[name=entry][value=assisted]").is_checked()
