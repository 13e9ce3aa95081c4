"""Payments: instalments never exceed the grant, also when requests race on PostgreSQL."""
from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from participation.extensions import db
from participation.fph import services
from participation.fph.models import AppStatus, Application, Payment

from ..dbutil import backend
from .test_funds_support import FAC, count_where, grant, login, make_application, make_fund


def _payments(app) -> int:
    """Payments of the test's application (the demo fund has its own)."""
    return count_where(Payment, Payment.application_id == app.id)


def _granted(amount=1000):
    fund = make_fund(envelope=5000)
    app, secret = make_application(fund)
    grant(app, amount)
    return app, secret


def test_a_payment_within_the_grant_is_recorded_and_marks_the_project_paid(client, auth, demo):
    app, _secret = _granted(1000)
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/applications/{app.id}/payments", {"paid_on": "2026-05-02", "amount": "600"})
    assert resp.status_code == 302
    db.session.refresh(app)
    assert app.paid_total == 600 and app.status == AppStatus.paid
    assert db.session.scalar(sa.select(Payment.amount).filter_by(application_id=app.id)) == 600


def test_a_payment_beyond_the_grant_is_refused_with_a_clear_message(client, auth, demo):
    app, _secret = _granted(1000)
    services.add_payment(app, date(2026, 5, 1), 700)
    db.session.commit()
    login(auth, FAC)
    client.get("/admin/?lang=en")
    resp = auth.post(f"/admin/fph/applications/{app.id}/payments", {"paid_on": "2026-05-02", "amount": "301"})
    assert resp.status_code == 422
    assert "more than what remains of the grant (300" in resp.get_data(as_text=True)
    db.session.refresh(app)
    assert app.paid_total == 700 and _payments(app) == 1


def test_the_last_instalment_may_reach_the_grant_exactly(demo):
    app, _secret = _granted(1000)
    services.add_payment(app, date(2026, 5, 1), 400)
    services.add_payment(app, date(2026, 6, 1), 600)
    db.session.commit()
    assert app.paid_total == 1000 and _payments(app) == 2


def test_a_project_not_granted_cannot_be_paid(client, auth, demo):
    fund = make_fund()
    app, _secret = make_application(fund)
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/applications/{app.id}/payments", {"paid_on": "2026-05-02", "amount": "10"})
    assert resp.status_code == 422
    db.session.refresh(app)
    assert app.paid_total == 0 and _payments(app) == 0


@pytest.mark.parametrize("amount", ["", "0", "-10", "abc", "1.5", "٥٠", "99999999999999999999"])
def test_junk_payment_amounts_are_422_never_500(client, auth, demo, amount):
    app, _secret = _granted(1000)
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/applications/{app.id}/payments", {"paid_on": "2026-05-02", "amount": amount})
    assert resp.status_code == 422 and _payments(app) == 0


@pytest.mark.parametrize("day", ["", "yesterday", "2026-02-30", "1900-01-01"])
def test_junk_payment_dates_are_422(client, auth, demo, day):
    app, _secret = _granted(1000)
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/applications/{app.id}/payments", {"paid_on": day, "amount": "10"})
    assert resp.status_code == 422 and _payments(app) == 0


def test_a_paid_project_cannot_be_withdrawn(client, auth, demo):
    app, _secret = _granted(1000)
    services.add_payment(app, date(2026, 5, 1), 100)
    db.session.commit()
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/applications/{app.id}/withdraw", {"reason": "x"})
    assert resp.status_code == 422
    db.session.refresh(app)
    assert app.status == AppStatus.paid and app.fund.committed == 1000


def test_payments_are_shown_on_the_follow_page(client, demo):
    app, secret = _granted(1000)
    services.add_payment(app, date(2026, 5, 1), 250)
    db.session.commit()
    html = client.get(f"/fph/a/{secret}").get_data(as_text=True)
    assert "2026-05-01" in html and "250" in html


@pytest.mark.skipif(backend() != "postgresql", reason="real concurrency needs PostgreSQL")
def test_concurrent_payments_never_exceed_the_grant(app, demo):
    application, _secret = _granted(1000)
    app_id = application.id
    db.session.remove()
    barrier = threading.Barrier(6)
    results = []

    def pay():
        with app.app_context():
            target = db.session.get(Application, app_id)
            barrier.wait()
            try:
                services.add_payment(target, date(2026, 5, 1), 300)
                db.session.commit()
                results.append(True)
            except services.ServiceError:
                db.session.rollback()
                results.append(False)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pay) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count(True) == 3 and results.count(False) == 3
    final = db.session.get(Application, app_id)
    assert final.paid_total == 900
    assert db.session.scalar(sa.select(sa.func.sum(Payment.amount)).filter_by(application_id=app_id)) == 900
