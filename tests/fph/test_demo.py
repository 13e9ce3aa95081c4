"""The FPH demo: a committee that decided three applications with a recusal and a refusal."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.core.channels import Channel
from participation.core.territories import Contract
from participation.extensions import db
from participation.fph import demo as fph_demo
from participation.fph.models import (
    Application,
    AppStatus,
    CommitteeMember,
    CommitteeSession,
    Decision,
    DecisionMode,
    Fund,
    MemberRole,
    Outcome,
    Payment,
    Recusal,
    SessionStatus,
    SourceKind,
)

from ..conftest import count


def _contracts():
    by_slug = {c.slug: c for c in db.session.scalars(sa.select(Contract))}
    return {"amp": by_slug["aix-marseille-provence"], "narbonne": by_slug["grand-narbonne"]}


@pytest.fixture
def fund(app, demo):
    fph_demo.load(_contracts())
    db.session.commit()
    return db.session.scalar(sa.select(Fund).filter_by(name=fph_demo.FUND_NAME))


def test_fund_has_the_three_sources_and_the_rules(fund):
    assert {(s.kind, s.amount) for s in fund.sources} == {(SourceKind.state, 6000), (SourceKind.commune, 3000),
                                                        (SourceKind.tfpb, 1000)}
    assert fund.envelope == 10000 and fund.ceiling == 1500 and fund.quorum == 3
    assert fund.decision_mode == DecisionMode.vote and fund.neighbourhood.qpv_code == "QN01323M"


def test_committee_has_the_chair_linked_to_the_staff_account(fund):
    chair = db.session.scalar(sa.select(CommitteeMember).filter_by(fund_id=fund.id, role=MemberRole.chair))
    assert chair.name == "Fatou Diallo" and chair.user.email == "comite@amp.demo"
    roles = [m.role for m in fund.members]
    assert roles.count(MemberRole.resident) == 4 and roles.count(MemberRole.partner) == 1
    assert roles.count(MemberRole.observer) == 1


def test_closed_session_decided_three_with_a_recusal_and_a_refusal(fund):
    session = db.session.scalar(sa.select(CommitteeSession).filter_by(fund_id=fund.id, status=SessionStatus.closed))
    outcomes = sorted(d.outcome.value for d in session.decisions)
    assert outcomes == ["granted", "granted", "refused"]
    refusal = next(d for d in session.decisions if d.outcome == Outcome.refused)
    assert refusal.reason and refusal.application.status_reason == refusal.reason
    recusal = db.session.scalar(sa.select(Recusal).filter_by(session_id=session.id))
    assert recusal.member.name == "Aïcha Mansouri" and "collectif" in recusal.reason
    assert "Aïcha Mansouri" in session.minutes and fund.committed == 2000


def test_one_grant_was_paid_in_two_instalments_with_a_bilan(fund):
    fete = db.session.scalar(sa.select(Application).filter_by(fund_id=fund.id, title="Fête de quartier de l'été"))
    assert [p.amount for p in fete.payments] == [600, 600] and fete.paid_total == 1200
    assert fete.status == AppStatus.bilan_received and fete.bilan.participants == 180


def test_one_application_was_entered_with_the_mediator(fund):
    assisted = db.session.scalars(sa.select(Application).filter_by(fund_id=fund.id, channel=Channel.assisted)).all()
    assert len(assisted) == 1 and assisted[0].entered_by.email == "mediateur@amp.demo"


def test_next_session_is_planned_and_applications_wait(fund):
    planned = db.session.scalar(sa.select(CommitteeSession).filter_by(fund_id=fund.id, status=SessionStatus.planned))
    assert planned is not None and planned.held_on == fph_demo.next_session_day()
    statuses = sorted(a.status.value for a in fund.applications)
    assert statuses == ["bilan_received", "eligible", "granted", "refused", "submitted"]


def test_loading_twice_adds_nothing(fund):
    before = [count(m) for m in (Fund, Application, Decision, Payment, CommitteeSession, CommitteeMember)]
    fph_demo.load(_contracts())
    db.session.commit()
    assert [count(m) for m in (Fund, Application, Decision, Payment, CommitteeSession, CommitteeMember)] == before


def test_notes_point_at_the_sessions(fund):
    text = "\n".join(fph_demo.notes())
    assert f"/admin/fph/{fund.id}/sessions" in text and "/minutes" in text
