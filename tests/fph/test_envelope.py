"""Envelope integrity: concurrent grants can never commit more than the envelope (issue 8).

Five managers' browsers post five grants of 1,000 € at the same moment on a 2,000 € envelope:
exactly two are granted, three are refused with the amount left, and the fund's committed sum
is 2,000 €, never more. The same race at the service level, each thread with its own database
session; and the database itself refuses `committed > envelope`, even in raw SQL.
"""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from participation.extensions import db
from participation.fph import committee
from participation.fph.committee import CommitteeError, Ruling
from participation.fph.models import AppStatus, Application, Decision, Fund, Outcome

from ..conftest import Auth, csrf_from
from .access_cases_committee import add_members, make_application, make_fund, make_session

MANAGER = "animatrice@amp.demo"
N = 5


@pytest.fixture
def race(app, demo):
    fund = make_fund(envelope=2000, ceiling=1500)
    members = add_members(fund)
    apps = [make_application(fund, f"Projet {i}", 1000) for i in range(N)]
    session = make_session(fund, apps, present=members[:4])
    db.session.commit()
    return fund.id, session.id, [a.id for a in apps]


def _run(targets) -> list:
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return threads


def test_concurrent_grant_requests_never_over_commit(app, race):
    fund_id, session_id, app_ids = race
    barrier = threading.Barrier(N)
    results, errors = {}, []
    clients = []
    for _ in range(N):
        client = app.test_client()
        client.get("/?lang=en")
        assert Auth(client).login(MANAGER).status_code == 302
        token = csrf_from(client.get(f"/admin/fph/sessions/{session_id}").get_data(as_text=True))
        clients.append((client, token))

    def post(i):
        client, token = clients[i]
        data = {"outcome": "granted", "votes_for": "3", "votes_against": "0", "abstentions": "1", "amount": "1000",
                "csrf_token": token}
        try:
            barrier.wait(timeout=30)
            resp = client.post(f"/admin/fph/sessions/{session_id}/decide/{app_ids[i]}", data=data)
            results[i] = (resp.status_code, resp.get_data(as_text=True))
        except Exception as e:  # reported below: the test must see any failure
            errors.append(repr(e))

    _run([lambda i=i: post(i) for i in range(N)])
    assert not errors, errors
    statuses = sorted(code for code, _html in results.values())
    assert statuses == [302, 302, 422, 422, 422], statuses
    refused = [html for code, html in results.values() if code == 422]
    assert all("only 0 € left in the envelope" in html for html in refused)
    db.session.expire_all()
    fund = db.session.get(Fund, fund_id)
    assert fund.committed == 2000 and fund.envelope == 2000
    granted = db.session.scalars(sa.select(Application).where(Application.fund_id == fund_id,
                                                              Application.status == AppStatus.granted)).all()
    assert len(granted) == 2 and sum(a.granted_amount for a in granted) == 2000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision).filter_by(session_id=session_id)) == 2
    still = db.session.scalar(sa.select(sa.func.count()).select_from(Application)
                              .where(Application.fund_id == fund_id, Application.status == AppStatus.scheduled))
    assert still == 3


def test_concurrent_service_calls_in_separate_sessions_never_over_commit(app, race):
    fund_id, session_id, app_ids = race
    barrier = threading.Barrier(N)
    outcomes, errors = [], []

    def grant(app_id):
        with app.app_context():
            try:
                session = db.session.get(committee.CommitteeSession, session_id)
                application = db.session.get(Application, app_id)
                barrier.wait(timeout=30)
                try:
                    committee.decide(session, application, Ruling(Outcome.granted, 3, 0, 0, amount=1000))
                    db.session.commit()
                    outcomes.append("granted")
                except CommitteeError as e:
                    db.session.rollback()
                    outcomes.append(e.code)
            except Exception as e:  # reported below
                db.session.rollback()
                errors.append(repr(e))
            finally:
                db.session.remove()

    _run([lambda a=a: grant(a) for a in app_ids])
    assert not errors, errors
    assert sorted(outcomes) == ["envelope"] * 3 + ["granted"] * 2
    db.session.expire_all()
    assert db.session.get(Fund, fund_id).committed == 2000


def test_a_double_click_decides_once(app, race):
    fund_id, session_id, app_ids = race
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def grant():
        with app.app_context():
            try:
                session = db.session.get(committee.CommitteeSession, session_id)
                application = db.session.get(Application, app_ids[0])
                barrier.wait(timeout=30)
                try:
                    committee.decide(session, application, Ruling(Outcome.granted, 3, 0, 0, amount=1000))
                    db.session.commit()
                    outcomes.append("granted")
                except CommitteeError as e:
                    db.session.rollback()
                    outcomes.append(e.code)
            except Exception as e:  # reported below
                db.session.rollback()
                errors.append(repr(e))
            finally:
                db.session.remove()

    _run([grant, grant])
    assert not errors, errors
    assert sorted(outcomes) == ["decided", "granted"]
    db.session.expire_all()
    assert db.session.get(Fund, fund_id).committed == 1000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision).filter_by(session_id=session_id)) == 1


def test_the_database_refuses_committed_above_envelope_in_raw_sql(app, race):
    fund_id, _session_id, _app_ids = race
    with pytest.raises(IntegrityError):
        db.session.execute(sa.text("UPDATE fph_funds SET committed = envelope + 1 WHERE id = :id"), {"id": fund_id})
        db.session.flush()
    db.session.rollback()
    assert db.session.get(Fund, fund_id).committed == 0
