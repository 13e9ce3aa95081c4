"""Committee rules (services): agenda, attendance, quorum with recusals, votes, consensus,
amounts, refusals, deferrals, closing and the minutes."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import refresh

from participation.extensions import db
from participation.fph import committee
from participation.fph.committee import CommitteeError, Ruling
from participation.fph.models import AppStatus, Decision, DecisionMode, Outcome, SessionStatus

from .access_cases_committee import add_members, make_application, make_fund, make_session


@pytest.fixture
def setup(app, demo):
    """A fund (quorum 3, ceiling 1,500, envelope 10,000) with 4 voting members and 1 observer,
    and a session with two applications on its agenda and everybody present."""
    fund = make_fund()
    members = add_members(fund)
    a1 = make_application(fund, "Fête de quartier", 1000)
    a2 = make_application(fund, "Tricot", 300)
    session = make_session(fund, [a1, a2], present=members)
    return fund, members, session, a1, a2


@contextmanager
def in_english(app):
    """A request in English. The test's app context may already hold the locale Flask-Babel
    cached earlier (French, the default), so it is dropped on the way in and on the way out."""
    with app.test_request_context("/?lang=en"):
        refresh()
        try:
            yield
        finally:
            refresh()


def grant(amount=800, yes=3, no=0, abstain=0, **kw):
    return Ruling(Outcome.granted, votes_for=yes, votes_against=no, abstentions=abstain, amount=amount, **kw)


def error_code(fn, *args, **kw) -> str:
    with pytest.raises(CommitteeError) as e:
        fn(*args, **kw)
    return e.value.code


# --- quorum --------------------------------------------------------------------------------


def test_observer_does_not_count_for_the_quorum(setup):
    fund, members, session, a1, _a2 = setup
    voting, observer = members[:4], members[4]
    committee.set_attendance(session, [voting[0].id, voting[1].id, observer.id])
    q = committee.quorum_for(session, a1)
    assert len(q.present) == 3 and len(q.voting) == 2 and not q.reached


def test_quorum_reached_with_three_voting_members_present(setup):
    _fund, members, session, a1, _a2 = setup
    committee.set_attendance(session, [m.id for m in members[:3]])
    assert committee.quorum_for(session, a1).reached


def test_a_recusal_can_break_the_quorum_of_one_application_only(setup):
    _fund, members, session, a1, a2 = setup
    committee.set_attendance(session, [m.id for m in members[:3]])
    committee.add_recusal(session, members[2].id, a1, "Sa fille fait partie du collectif")
    assert not committee.quorum_for(session, a1).reached
    assert committee.quorum_for(session, a2).reached
    assert error_code(committee.decide, session, a1, grant(yes=2)) == "quorum"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision).filter_by(session_id=session.id)) == 0
    assert a1.status == AppStatus.scheduled


def test_the_recused_member_is_not_among_the_members_voting(setup):
    _fund, members, session, a1, _a2 = setup
    committee.add_recusal(session, members[1].id, a1, "")
    voting = committee.quorum_for(session, a1).voting
    assert members[1] not in voting and len(voting) == 3


def test_quorum_message_says_how_many_are_there(app, setup):
    _fund, members, session, a1, _a2 = setup
    committee.set_attendance(session, [members[0].id])
    with in_english(app):
        with pytest.raises(CommitteeError) as e:
            committee.decide(session, a1, grant())
        assert "Quorum not reached for this application" in committee.message(e.value)


def test_a_member_cannot_be_recused_twice_on_the_same_application(setup):
    _fund, members, session, a1, _a2 = setup
    committee.add_recusal(session, members[1].id, a1, "")
    assert error_code(committee.add_recusal, session, members[1].id, a1, "") == "recused"


def test_recusal_of_a_member_of_another_fund_is_refused(setup):
    other = make_fund(name="Autre")
    stranger = add_members(other, voting=1, observers=0)[0]
    _fund, _members, session, a1, _a2 = setup
    assert error_code(committee.add_recusal, session, stranger.id, a1, "") == "not_member"


def test_attendance_ignores_members_of_other_funds(setup):
    other = make_fund(name="Autre")
    stranger = add_members(other, voting=1, observers=0)[0]
    _fund, members, session, _a1, _a2 = setup
    committee.set_attendance(session, [members[0].id, stranger.id, 999999])
    assert {a.member_id for a in session.attendance} == {members[0].id}


# --- votes ----------------------------------------------------------------------------------


def test_a_majority_for_grants_the_application(setup):
    fund, _members, session, a1, _a2 = setup
    decision = committee.decide(session, a1, grant(900, yes=3, no=1), today=date(2026, 4, 10))
    assert decision.outcome == Outcome.granted and (decision.votes_for, decision.votes_against) == (3, 1)
    assert a1.status == AppStatus.granted and a1.granted_amount == 900 and a1.decided_on == date(2026, 4, 10)
    assert a1.bilan_due_on == date(2026, 6, 30).replace(month=8, day=29)  # ends_on + 60 days
    assert fund.committed == 900


def test_votes_cannot_exceed_the_members_voting(setup):
    _fund, members, session, a1, _a2 = setup
    committee.add_recusal(session, members[0].id, a1, "")
    # 4 voting present, 1 recused: 3 may vote.
    assert error_code(committee.decide, session, a1, grant(yes=3, no=1)) == "votes_exceed"


def test_a_tie_refuses(setup):
    _fund, _members, session, a1, _a2 = setup
    assert error_code(committee.decide, session, a1, grant(yes=2, no=2)) == "votes_refuse"
    decision = committee.decide(session, a1, Ruling(Outcome.refused, 2, 2, 0, reason="Pas de majorité"))
    assert decision.outcome == Outcome.refused and a1.status == AppStatus.refused


def test_refusing_against_a_majority_for_is_refused(setup):
    _fund, _members, session, a1, _a2 = setup
    assert error_code(committee.decide, session, a1, Ruling(Outcome.refused, 3, 1, 0, reason="x")) == "votes_grant"


def test_vote_mode_needs_the_votes(setup):
    _fund, _members, session, a1, _a2 = setup
    assert error_code(committee.decide, session, a1, Ruling(Outcome.granted, amount=500)) == "votes_missing"


def test_consensus_mode_records_no_votes(setup):
    fund, _members, session, a1, _a2 = setup
    fund.decision_mode = DecisionMode.consensus
    decision = committee.decide(session, a1, Ruling(Outcome.granted, votes_for=9, amount=700))
    assert decision.votes_for is None and decision.votes_against is None and a1.status == AppStatus.granted


def test_consensus_mode_still_needs_the_quorum(setup):
    fund, members, session, a1, _a2 = setup
    fund.decision_mode = DecisionMode.consensus
    committee.set_attendance(session, [members[0].id, members[1].id, members[4].id])
    assert error_code(committee.decide, session, a1, Ruling(Outcome.granted, amount=700)) == "quorum"


# --- outcomes ---------------------------------------------------------------------------------


def test_a_refusal_needs_a_reason(setup):
    _fund, _members, session, a1, _a2 = setup
    assert error_code(committee.decide, session, a1, Ruling(Outcome.refused, 0, 3, 0, reason="  ")) == "reason_missing"


def test_a_refusal_keeps_its_reason_for_the_applicants(setup):
    fund, _members, session, a1, _a2 = setup
    committee.decide(session, a1, Ruling(Outcome.refused, 0, 3, 1, reason="Projet déjà financé par la Ville"))
    assert a1.status == AppStatus.refused and a1.status_reason == "Projet déjà financé par la Ville"
    assert fund.committed == 0


def test_an_amount_above_the_ceiling_is_refused(setup):
    fund, _members, session, a1, _a2 = setup
    fund.ceiling = 900
    assert error_code(committee.decide, session, a1, grant(950)) == "amount_ceiling"


def test_an_amount_above_the_request_is_refused(setup):
    _fund, _members, session, _a1, a2 = setup
    assert error_code(committee.decide, session, a2, grant(301)) == "amount_requested"


def test_a_grant_needs_an_amount(setup):
    _fund, _members, session, a1, _a2 = setup
    assert error_code(committee.decide, session, a1, grant(None)) == "amount_missing"


def test_a_deferred_application_goes_back_to_eligible(setup):
    fund, _members, session, a1, _a2 = setup
    decision = committee.decide(session, a1, Ruling(Outcome.deferred, reason="Devis manquant"))
    assert decision.outcome == Outcome.deferred and a1.status == AppStatus.eligible and fund.committed == 0
    later = committee.create_session(fund, date(2026, 5, 15), "Centre social")
    committee.add_to_agenda(later, a1)
    assert a1.status == AppStatus.scheduled


def test_an_application_is_decided_once_per_session(setup):
    _fund, _members, session, a1, _a2 = setup
    committee.decide(session, a1, grant(500))
    assert error_code(committee.decide, session, a1, grant(500)) == "decided"


def test_a_grant_beyond_the_envelope_writes_nothing(setup):
    fund, _members, session, a1, a2 = setup
    from participation.fph import money

    assert money.set_envelope(fund, 1000)
    committee.decide(session, a1, grant(800))
    with pytest.raises(CommitteeError) as e:
        committee.decide(session, a2, grant(300))
    assert e.value.code == "envelope" and e.value.params["left"] == 200
    assert a2.status == AppStatus.scheduled and a2.granted_amount is None
    assert fund.committed == 800
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision).filter_by(session_id=session.id)) == 1


def test_envelope_message_says_how_much_is_left(app, setup):
    with in_english(app):
        text = committee.message(CommitteeError("envelope", "amount", left=200))
    assert text == "Not granted: only 200 € left in the envelope."


# --- agenda -------------------------------------------------------------------------------------


def test_only_eligible_applications_go_on_the_agenda(setup):
    fund, _members, session, _a1, _a2 = setup
    submitted = make_application(fund, "Pas encore étudié", 200, status=AppStatus.submitted)
    assert error_code(committee.add_to_agenda, session, submitted) == "not_eligible"
    eligible = make_application(fund, "Tournoi", 600)
    committee.add_to_agenda(session, eligible)
    assert eligible.status == AppStatus.scheduled
    assert [e.application for e in sorted(session.agenda, key=lambda e: e.position)][-1] is eligible


def test_an_application_of_another_fund_cannot_go_on_the_agenda(setup):
    _fund, _members, session, _a1, _a2 = setup
    other = make_application(make_fund(name="Autre"), "Ailleurs", 200)
    assert error_code(committee.add_to_agenda, session, other) == "not_eligible"


def test_removing_from_the_agenda_makes_it_eligible_again(setup):
    _fund, _members, session, a1, _a2 = setup
    committee.remove_from_agenda(session, a1)
    assert a1.status == AppStatus.eligible and all(e.application_id != a1.id for e in session.agenda)


def test_a_decided_application_cannot_be_removed(setup):
    _fund, _members, session, a1, _a2 = setup
    committee.decide(session, a1, grant(500))
    assert error_code(committee.remove_from_agenda, session, a1) == "decided"


def test_moving_changes_the_order(setup):
    _fund, _members, session, a1, a2 = setup
    committee.move_on_agenda(session, a2, -1)
    assert [e.application for e in sorted(session.agenda, key=lambda e: e.position)] == [a2, a1]


# --- closing and minutes -------------------------------------------------------------------------


def test_decisions_after_closing_are_refused(setup):
    _fund, _members, session, a1, _a2 = setup
    committee.close_session(session)
    assert session.status == SessionStatus.closed
    assert error_code(committee.decide, session, a1, grant(500)) == "closed"
    assert error_code(committee.set_attendance, session, []) == "closed"


def test_closing_sends_undecided_applications_back(setup):
    _fund, _members, session, a1, a2 = setup
    committee.decide(session, a1, grant(500))
    committee.close_session(session)
    assert a1.status == AppStatus.granted and a2.status == AppStatus.eligible


def test_minutes_tell_the_decisions(app, setup):
    fund, members, session, a1, a2 = setup
    committee.add_recusal(session, members[3].id, a1, "Son neveu fait partie du collectif")
    committee.decide(session, a1, grant(900, yes=2, no=1, conditions="Fournir les factures"))
    committee.decide(session, a2, Ruling(Outcome.refused, 0, 3, 1, reason="Hors du quartier"))
    with in_english(app):
        committee.close_session(session)
    text = session.minutes
    for expected in ("Centre social", "Members present (5):", "Membre 1", "Observateur 1", "Quorum: 3",
                     a1.reference, "Fête de quartier", "Recusal: Membre 4", "Son neveu", "Votes: 2 for, 1 against, 0 abstaining.",
                     "Decision: granted", "900", "Conditions: Fournir les factures", a2.reference,
                     "Decision: refused.", "Reason: Hors du quartier"):
        assert expected in text, expected
    assert "Nadia" not in text and "06 12" not in text  # applicants' contacts never in the minutes


def test_minutes_can_be_edited_but_not_emptied(setup):
    _fund, _members, session, _a1, _a2 = setup
    committee.close_session(session)
    committee.update_minutes(session, "Procès-verbal relu et signé.")
    assert session.minutes == "Procès-verbal relu et signé."
    assert error_code(committee.update_minutes, session, "   ") == "minutes_empty"
