"""An FPH committee session on a phone: the chair marks attendance, records a recusal, grants
one application and refuses another; the facilitator closes the session and both read the
minutes. axe-core checks every page reached, in French and in Arabic."""
from __future__ import annotations

import gc
from datetime import date

import pytest
from flask import Flask
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

CHAIR = "comite@amp.demo"  # Fatou Diallo, committee member on Malpassé Corot
FACILITATOR = "animatrice@amp.demo"


def live_app() -> Flask:
    apps = [o for o in gc.get_objects() if type(o) is Flask and "browser" in o.config["SQLALCHEMY_DATABASE_URI"]]
    assert len(apps) == 1, apps
    return apps[0]


def prepare(lang: str) -> dict:
    """A fund of Malpassé Corot (one per language), its committee (the chair linked to the
    demo account), two applications on the agenda of a session."""
    from participation.extensions import db
    from tests.fph.access_cases_committee import add_members, make_application, make_fund, make_session

    with live_app().app_context():
        fund = make_fund(name=f"FPH navigateur {lang}", envelope=5000)
        members = add_members(fund, voting=4, observers=1, user_email=CHAIR)
        grant = make_application(fund, "Fête des voisins", 700)
        refuse = make_application(fund, "Sortie à la plage", 1200)
        session = make_session(fund, [grant, refuse], held_on=date(2026, 12, 3))
        db.session.commit()
        out = {"fund": fund.id, "session": session.id, "members": [m.id for m in members], "grant": grant.id,
               "refuse": refuse.id}
        db.session.remove()
    return out


def stored(session_id: int):
    from participation.extensions import db
    from participation.fph.models import CommitteeSession

    with live_app().app_context():
        s = db.session.get(CommitteeSession, session_id)
        found = (s.status.value, sorted(d.outcome.value for d in s.decisions), len(s.recusals), s.fund.committed)
        db.session.remove()
    return found


def submit(web, form_locator):
    with web.page.expect_navigation():
        form_locator.locator("button[type=submit]").click()


def test_committee_session_from_attendance_to_minutes(open_browsing, lang):
    s = prepare(lang)
    chair = open_browsing(lang)
    page = chair.page
    login(chair, CHAIR, lang)
    chair.visit(f"/admin/fph/sessions/{s['session']}")

    # Attendance: the four voting members and the observer.
    for member_id in s["members"]:
        page.locator(f"#present-{member_id}").check()
    submit(chair, page.locator("#attendance form"))
    chair.check()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(f"#present-{s['members'][4]}")).to_be_checked()

    # A recusal on the second application: a relative is in the collective.
    entry = page.locator(f"#entry-{s['refuse']}")
    entry.locator("details:has(form[action$='/recusals']) > summary").click()
    entry.locator(f"#recusal-{s['refuse']}-member").select_option(str(s["members"][3]))
    entry.locator(f"#recusal-{s['refuse']}-reason").fill("Sa fille fait partie du groupe")
    submit(chair, entry.locator("details form[action$='/recusals']"))
    chair.check()
    expect(page.locator(f"#entry-{s['refuse']}")).to_contain_text("Sa fille fait partie du groupe")

    # Grant the first one: 4 for.
    entry = page.locator(f"#entry-{s['grant']}")
    entry.locator(f"#decide-{s['grant']}-granted").check()
    entry.locator(f"#decide-{s['grant']}-votes_for").fill("4")
    entry.locator(f"#decide-{s['grant']}-votes_against").fill("0")
    entry.locator(f"#decide-{s['grant']}-abstentions").fill("0")
    entry.locator(f"#decide-{s['grant']}-amount").fill("700")
    submit(chair, entry.locator("form[action*='/decide/']"))
    chair.check()
    expect(page.locator(f"#entry-{s['grant']} .decision-granted")).to_be_visible()

    # Refuse the second one, first forgetting the reason: the message is next to the field.
    entry = page.locator(f"#entry-{s['refuse']}")
    entry.locator(f"#decide-{s['refuse']}-refused").check()
    entry.locator(f"#decide-{s['refuse']}-votes_for").fill("0")
    entry.locator(f"#decide-{s['refuse']}-votes_against").fill("2")
    entry.locator(f"#decide-{s['refuse']}-abstentions").fill("1")
    submit(chair, entry.locator("form[action*='/decide/']"))
    chair.check(expect_errors=True)
    expect(page.locator(f"#decide-{s['refuse']}-reason-error")).to_be_visible()
    page.locator(f"#decide-{s['refuse']}-reason").fill("Une sortie hors du quartier n'entre pas dans les règles du fonds.")
    submit(chair, page.locator(f"#entry-{s['refuse']} form[action*='/decide/']"))
    chair.check()
    expect(page.locator(f"#entry-{s['refuse']} .decision-refused")).to_be_visible()
    assert stored(s["session"]) == ("open", ["granted", "refused"], 1, 700)

    # The facilitator closes the session; the minutes are written from the decisions.
    facilitator = open_browsing(lang)
    login(facilitator, FACILITATOR, lang)
    facilitator.visit(f"/admin/fph/sessions/{s['session']}")
    with facilitator.page.expect_navigation():
        facilitator.page.locator("form[action$='/close'] button").click()
    facilitator.check()
    minutes = facilitator.page.locator(".minutes")
    expect(minutes).to_contain_text("Fête des voisins")
    expect(minutes).to_contain_text("Une sortie hors du quartier")
    expect(minutes).to_contain_text("Membre 4")
    assert stored(s["session"])[0] == "closed"
    facilitator.visit(f"/admin/fph/sessions/{s['session']}")
    expect(facilitator.page.locator("form[action*='/decide/']")).to_have_count(0)
    facilitator.visit(f"/admin/fph/{s['fund']}/figures")
    expect(facilitator.page.locator("svg.chart")).to_have_count(1)

    # The chair reads them too (without the editing form).
    chair.visit(f"/admin/fph/sessions/{s['session']}/minutes")
    expect(page.locator(".minutes")).to_contain_text("Fête des voisins")
    expect(page.locator("textarea[name=minutes]")).to_have_count(0)
    chair.visit(f"/admin/fph/{s['fund']}/sessions")
