"""The atomic money moves of an FPH fund (`fph/money.py`): refused moves change nothing."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from participation.core.territories import Contract
from participation.extensions import db
from participation.fph import money
from participation.fph.models import Application, Fund


@pytest.fixture
def fund(demo):
    amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    fund = Fund(contract_id=amp.id, name="FPH test", year=2026, envelope=2000)
    db.session.add(fund)
    db.session.flush()
    return fund


@pytest.fixture
def application(fund):
    app_ = Application(fund=fund, reference="FPH-T-1", title="Fête", amount_requested=800, submitted_on=date.today())
    db.session.add(app_)
    db.session.flush()
    return app_


def test_a_grant_within_the_envelope_is_committed(fund):
    assert money.commit_grant(fund, 1500)
    assert (fund.committed, fund.available) == (1500, 500)


def test_a_grant_beyond_what_is_left_is_refused_and_changes_nothing(fund):
    assert money.commit_grant(fund, 1500)
    assert not money.commit_grant(fund, 501)
    assert fund.committed == 1500
    assert money.commit_grant(fund, 500)
    assert fund.committed == 2000


@pytest.mark.parametrize("amount", [0, -10])
def test_a_grant_of_nothing_or_less_is_refused(fund, amount):
    assert not money.commit_grant(fund, amount)
    assert fund.committed == 0


def test_released_money_goes_back_to_the_envelope_but_never_below_zero(fund):
    money.commit_grant(fund, 700)
    assert not money.release_grant(fund, 701)
    assert money.release_grant(fund, 700)
    assert fund.committed == 0


def test_the_envelope_cannot_be_lowered_below_what_is_granted(fund):
    money.commit_grant(fund, 1200)
    assert not money.set_envelope(fund, 1199)
    assert fund.envelope == 2000
    assert money.set_envelope(fund, 1200)
    assert fund.envelope == 1200


def test_payments_stop_at_the_grant(application):
    assert not money.add_payment(application, 100)  # not granted yet
    application.granted_amount = 800
    db.session.flush()
    assert money.add_payment(application, 500)
    assert not money.add_payment(application, 301)
    assert money.add_payment(application, 300)
    assert application.paid_total == 800


def test_the_database_itself_refuses_an_over_committed_envelope(fund):
    with pytest.raises(sa.exc.IntegrityError):
        with db.session.begin_nested():
            db.session.execute(sa.text("UPDATE fph_funds SET committed = envelope + 1 WHERE id = :id"), {"id": fund.id})


def test_the_database_itself_refuses_payments_above_the_grant(application):
    application.granted_amount = 800
    db.session.flush()
    with pytest.raises(sa.exc.IntegrityError):
        with db.session.begin_nested():
            db.session.execute(sa.text("UPDATE fph_applications SET paid_total = 801 WHERE id = :id"),
                               {"id": application.id})
