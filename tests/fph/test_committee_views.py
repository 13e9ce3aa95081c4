"""Committee session pages: who records what, messages next to the fields, junk input."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.extensions import db
from participation.fph.models import AppStatus, CommitteeSession, Decision, Recusal, SessionAttendance, SessionStatus

from ..conftest import csrf_from
from .access_cases_committee import add_members, make_application, make_fund, make_session

MANAGER = "animatrice@amp.demo"  # facilitator, Marseille
CHAIR = "comite@amp.demo"  # committee member, Malpassé Corot


@pytest.fixture
def sitting(app, demo):
    fund = make_fund(envelope=2000)
    members = add_members(fund, user_email=CHAIR)
    a1 = make_application(fund, "Fête de quartier", 1000)
    a2 = make_application(fund, "Atelier cuisine des enfants", 400)
    waiting = make_application(fund, "Tournoi de foot", 600)
    session = make_session(fund, [a1, a2], present=members)
    db.session.commit()
    return {"fund": fund.id, "members": [m.id for m in members], "a1": a1.id, "a2": a2.id, "waiting": waiting.id,
            "session": session.id}


def login(client, auth, email):
    client.get("/?lang=en")
    assert auth.login(email).status_code == 302


def page(client, s) -> str:
    return client.get(f"/admin/fph/sessions/{s['session']}").get_data(as_text=True)


def decisions(s) -> int:
    """Decisions of the test's session (the demo's closed session has its own)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Decision).filter_by(session_id=s["session"]))


def post(client, s, path, data):
    html = page(client, s)
    return client.post(f"/admin/fph/sessions/{s['session']}{path}", data={**data, "csrf_token": csrf_from(html)})


def test_committee_member_sees_the_session_without_contacts(client, auth, sitting):
    login(client, auth, CHAIR)
    html = page(client, sitting)
    assert "Fête de quartier" in html and "Collectif des voisins" in html
    assert "Nadia" not in html and "06 12 34 56 78" not in html and "nadia@example.org" not in html


def test_committee_member_records_attendance(client, auth, sitting):
    login(client, auth, CHAIR)
    resp = post(client, sitting, "/attendance", {"present": [str(i) for i in sitting["members"][:3]]})
    assert resp.status_code == 302
    present = set(db.session.scalars(sa.select(SessionAttendance.member_id).filter_by(session_id=sitting["session"])))
    assert present == set(sitting["members"][:3])


def test_committee_member_records_a_recusal_and_a_grant(client, auth, sitting):
    login(client, auth, CHAIR)
    resp = post(client, sitting, "/recusals", {"application_id": sitting["a1"], "member_id": sitting["members"][3],
                                                 "reason": "Sa sœur est dans le collectif"})
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(Recusal.reason).filter_by(session_id=sitting["session"])) == "Sa sœur est dans le collectif"
    resp = post(client, sitting, f"/decide/{sitting['a1']}", {"outcome": "granted", "votes_for": "3", "votes_against": "0",
                                                              "abstentions": "0", "amount": "1000"})
    assert resp.status_code == 302
    decision = db.session.scalar(sa.select(Decision).filter_by(session_id=sitting["session"]))
    assert decision.amount == 1000 and decision.application.status == AppStatus.granted


def test_committee_member_may_not_close_or_prepare_the_agenda(client, auth, sitting):
    login(client, auth, CHAIR)
    assert post(client, sitting, "/close", {}).status_code == 403
    assert post(client, sitting, "/agenda", {"action": "add", "application_id": sitting["waiting"]}).status_code == 403


def test_refusal_without_reason_answers_422_next_to_the_field(client, auth, sitting):
    login(client, auth, CHAIR)
    resp = post(client, sitting, f"/decide/{sitting['a2']}", {"outcome": "refused", "votes_for": "0",
                                                              "votes_against": "3", "abstentions": "0", "reason": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f'id="decide-{sitting["a2"]}-reason-error"' in html and "Give the reason of the refusal" in html
    assert decisions(sitting) == 0


def test_a_second_identical_post_does_not_decide_twice(client, auth, sitting):
    login(client, auth, CHAIR)
    data = {"outcome": "granted", "votes_for": "4", "votes_against": "0", "abstentions": "0", "amount": "400"}
    assert post(client, sitting, f"/decide/{sitting['a2']}", data).status_code == 302
    resp = post(client, sitting, f"/decide/{sitting['a2']}", data)
    assert resp.status_code == 422 and "already been decided" in resp.get_data(as_text=True)
    fund = db.session.get(CommitteeSession, sitting["session"]).fund
    assert fund.committed == 400


def test_grant_beyond_the_envelope_says_what_is_left(client, auth, sitting):
    login(client, auth, MANAGER)
    data = {"outcome": "granted", "votes_for": "4", "votes_against": "0", "abstentions": "0", "amount": "1000"}
    assert post(client, sitting, f"/decide/{sitting['a1']}", data).status_code == 302
    post(client, sitting, "/agenda", {"action": "add", "application_id": sitting["waiting"]})
    db.session.execute(sa.text("UPDATE fph_funds SET envelope = 1500 WHERE id = :id"), {"id": sitting["fund"]})
    db.session.commit()
    resp = post(client, sitting, f"/decide/{sitting['waiting']}", {**data, "amount": "600"})
    assert resp.status_code == 422
    assert "only 500 € left in the envelope" in resp.get_data(as_text=True)


def test_manager_creates_a_session(client, auth, sitting):
    login(client, auth, MANAGER)
    html = client.get(f"/admin/fph/{sitting['fund']}/sessions").get_data(as_text=True)
    resp = client.post(f"/admin/fph/{sitting['fund']}/sessions",
                       data={"held_on": "2026-05-20", "place": "Maison pour tous", "csrf_token": csrf_from(html)})
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(CommitteeSession).filter_by(fund_id=sitting["fund"], place="Maison pour tous")).status == SessionStatus.planned


@pytest.mark.parametrize("held_on", ["", "demain", "2026-13-45", "٢٠٢٦-٠٥-٢٠"])
def test_session_with_a_bad_date_answers_422(client, auth, sitting, held_on):
    login(client, auth, MANAGER)
    html = client.get(f"/admin/fph/{sitting['fund']}/sessions").get_data(as_text=True)
    resp = client.post(f"/admin/fph/{sitting['fund']}/sessions",
                       data={"held_on": held_on, "place": "x", "csrf_token": csrf_from(html)})
    assert resp.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommitteeSession).filter_by(fund_id=sitting["fund"])) == 1


def test_manager_adds_removes_and_orders_the_agenda(client, auth, sitting):
    login(client, auth, MANAGER)
    assert post(client, sitting, "/agenda", {"action": "add", "application_id": sitting["waiting"]}).status_code == 302
    assert post(client, sitting, "/agenda", {"action": "up", "application_id": sitting["waiting"]}).status_code == 302
    session = db.session.get(CommitteeSession, sitting["session"])
    assert [e.application_id for e in session.agenda] == [sitting["a1"], sitting["waiting"], sitting["a2"]]
    assert post(client, sitting, "/agenda", {"action": "remove", "application_id": sitting["a1"]}).status_code == 302
    db.session.expire_all()
    assert [e.application_id for e in session.agenda] == [sitting["waiting"], sitting["a2"]]


def test_close_then_minutes_then_no_more_decisions(client, auth, sitting):
    login(client, auth, MANAGER)
    post(client, sitting, f"/decide/{sitting['a2']}", {"outcome": "refused", "votes_for": "1", "votes_against": "3",
                                                       "abstentions": "0", "reason": "Déjà financé"})
    resp = post(client, sitting, "/close", {})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/minutes")
    html = client.get(f"/admin/fph/sessions/{sitting['session']}/minutes").get_data(as_text=True)
    assert "Decision: refused." in html and "Déjà financé" in html
    resp = post(client, sitting, f"/decide/{sitting['a1']}", {"outcome": "granted", "votes_for": "4",
                                                              "votes_against": "0", "abstentions": "0", "amount": "500"})
    assert resp.status_code == 422 and "This session is closed" in resp.get_data(as_text=True)
    resp = client.post(f"/admin/fph/sessions/{sitting['session']}/minutes",
                       data={"minutes": "PV relu.", "csrf_token": csrf_from(html)})
    assert resp.status_code == 302
    assert db.session.get(CommitteeSession, sitting["session"]).minutes == "PV relu."


def test_committee_member_reads_the_minutes_but_does_not_edit_them(client, auth, sitting):
    session = db.session.get(CommitteeSession, sitting["session"])
    session.status, session.minutes = SessionStatus.closed, "Procès-verbal"
    db.session.commit()
    login(client, auth, CHAIR)
    resp = client.get(f"/admin/fph/sessions/{sitting['session']}/minutes")
    assert resp.status_code == 200 and "Procès-verbal" in resp.get_data(as_text=True)
    assert 'name="minutes"' not in resp.get_data(as_text=True)
    html = page(client, sitting)
    resp = client.post(f"/admin/fph/sessions/{sitting['session']}/minutes", data={"minutes": "x", "csrf_token": csrf_from(html)})
    assert resp.status_code == 403


JUNK = ["", "abc", "-1", "1e3", "²", "٣", "9" * 40, "0x10", " 12 ; DROP TABLE"]


@pytest.mark.parametrize("junk", JUNK)
def test_junk_decision_input_answers_422(client, auth, sitting, junk):
    login(client, auth, MANAGER)
    resp = post(client, sitting, f"/decide/{sitting['a1']}", {"outcome": junk or "granted", "votes_for": junk,
                                                              "votes_against": junk, "abstentions": junk, "amount": junk})
    assert resp.status_code == 422
    assert decisions(sitting) == 0


@pytest.mark.parametrize("junk", JUNK)
def test_junk_ids_never_give_a_500(client, auth, sitting, junk):
    login(client, auth, MANAGER)
    for path, data in (("/agenda", {"action": "add", "application_id": junk}),
                       ("/agenda", {"action": junk, "application_id": sitting["a1"]}),
                       ("/attendance", {"present": [junk, junk]}),
                       ("/recusals", {"application_id": junk, "member_id": junk}),
                       ("/recusals", {"application_id": sitting["a1"], "member_id": junk}),
                       ("/recusals", {"action": "remove", "recusal_id": junk})):
        resp = post(client, sitting, path, data)
        assert resp.status_code in (302, 422), (path, data, resp.status_code)


def test_unknown_ids_answer_404(client, auth, sitting):
    login(client, auth, MANAGER)
    assert client.get("/admin/fph/sessions/999999").status_code == 404
    assert post(client, sitting, f"/decide/{sitting['waiting']}", {"outcome": "granted"}).status_code == 404
    assert post(client, sitting, "/decide/999999", {"outcome": "granted"}).status_code == 404
    assert client.get("/admin/fph/999999/sessions").status_code == 404


def test_a_committee_member_of_another_neighbourhood_cannot_sit(client, auth, sitting):
    other = make_fund("QN01322M", name="FPH Frais Vallon")
    session = make_session(other)
    db.session.commit()
    login(client, auth, CHAIR)
    assert client.get(f"/admin/fph/sessions/{session.id}").status_code == 403


def test_figures_page_shows_sources_and_grants(client, auth, sitting):
    login(client, auth, MANAGER)
    post(client, sitting, f"/decide/{sitting['a1']}", {"outcome": "granted", "votes_for": "4", "votes_against": "0",
                                                       "abstentions": "0", "amount": "1000"})
    html = client.get(f"/admin/fph/{sitting['fund']}/figures").get_data(as_text=True)
    assert "State (BOP 147)" in html and "Not classified" in html and "<svg" in html
