"""The retention purge (participation/privacy/retention.py) on data built at fixed dates on both
sides of each cut-off: exactly the old rows are purged, the recent ones kept, the anonymised
aggregates (every governance figure, the tables' unique-participant estimate) unchanged, ballots
untouched, and a second run changes nothing."""
from __future__ import annotations

import os
import time
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from participation.budgets.models import Ballot, BallotChoice, Phase, Process, ProcessPhase, Proposal, VoteRecord
from participation.core.audit import AuditEvent
from participation.core.channels import Channel
from participation.core.territories import Commune, Contract, Neighbourhood
from participation.core.users import StaffSession, User
from participation.extensions import db
from participation.fph.models import Application, CommitteeMember, CommitteeSession, Fund
from participation.governance.report import Selection, build_report, report_rows
from participation.privacy import retention
from participation.questionnaires.models import (AnswerCode, AnswerCodeBatch, AnswerCodeUse, Questionnaire,
                                                 QuestionnaireVersion, Response, Status as QStatus)
from participation.tables import figures as table_figures
from participation.tables.models import CheckIn, Meeting, MeetingStatus, NeighbourhoodTable

#: The day the purge runs. In the past of the real clock, so that the audit events the purge itself
#: writes (stamped now) are always recent.
TODAY = date(2026, 9, 1)


def months(n):
    return retention.months_before(TODAY, n)


# --- a small world -------------------------------------------------------------------------------


def _contract(slug, start, end, code):
    contract = Contract(slug=slug, name=f"Contrat {slug}", period_start=start, period_end=end)
    commune = Commune(contract=contract, insee_code="99001", name="Alpha")
    n1 = Neighbourhood(commune=commune, qpv_code=f"QR{code}1", name="Nord", population=5000)
    n2 = Neighbourhood(commune=commune, qpv_code=f"QR{code}2", name="Sud", population=3000)
    db.session.add_all([contract, commune, n1, n2])
    db.session.flush()
    return contract, commune, n1, n2


def _process(contract, commune, phase, title):
    p = Process(contract_id=contract.id, commune_id=commune.id, title=title, envelope=10000, phase=phase,
                original_locale="fr")
    db.session.add(p)
    db.session.flush()
    return p


def _votes(process, n, on, hood, prefix="code"):
    rows = [VoteRecord(process_id=process.id, voter_key=f"{prefix}:{process.id}-{i}", channel=Channel.web,
                       neighbourhood_id=hood.id, voted_on=on) for i in range(n)]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def _proposal(process, number, **contact):
    p = Proposal(process_id=process.id, number=number, title=f"Idée {number}", description="…",
                 submitted_on=date(2024, 1, 10), original_locale="fr", **contact)
    db.session.add(p)
    db.session.flush()
    return p


def _ballots(process, proposal, n):
    for i in range(n):
        b = Ballot(process_id=process.id, locator=f"loc-{process.id}-{i}", receipt=f"R{process.id}-{i}",
                   channel=Channel.web)
        b.choices = [BallotChoice(proposal_id=proposal.id, value=1)]
        db.session.add(b)
    db.session.flush()


CONTACT = {"contact_name": "Élodie Martin", "contact": "elodie@example.org", "contact_consent": True}
FPH_CONTACT = {"contact_name": "Moussa Ba", "contact_phone": "06 11 22 33 44", "contact_email": "moussa@example.org"}


def _fund(contract, commune, year):
    fund = Fund(contract_id=contract.id, commune_id=commune.id, name=f"FPH {year}", year=year, envelope=5000,
                original_locale="fr")
    db.session.add(fund)
    db.session.flush()
    return fund


def _application(fund, n):
    a = Application(fund=fund, reference=f"FPH-{fund.year}-{n:03d}", title=f"Projet {n}", amount_requested=500,
                    submitted_on=date(fund.year, 2, 1), original_locale="fr", **FPH_CONTACT)
    db.session.add(a)
    db.session.flush()
    return a


def _member(fund, name):
    m = CommitteeMember(fund_id=fund.id, name=name)
    db.session.add(m)
    db.session.flush()
    return m


def _table(contract, hood):
    table = NeighbourhoodTable(contract_id=contract.id, commune_id=hood.commune_id, neighbourhood_id=hood.id,
                               name="Table", original_locale="fr")
    table.neighbourhoods = [hood]
    db.session.add(table)
    db.session.flush()
    return table


def _meeting(table, day, keys, anonymous=0):
    meeting = Meeting(table=table, starts_at=datetime.combine(day, datetime.min.time()).replace(hour=18),
                      status=MeetingStatus.held, title="Réunion", original_locale="fr")
    db.session.add(meeting)
    db.session.flush()
    db.session.add_all([CheckIn(meeting_id=meeting.id, attendee_key=k) for k in keys])
    db.session.add_all([CheckIn(meeting_id=meeting.id) for _ in range(anonymous)])
    db.session.flush()
    return meeting


def _questionnaire(contract, status, closes_on, codes, used):
    q = Questionnaire(contract_id=contract.id, title="Enquête", original_locale="fr", status=status,
                      closes_on=closes_on)
    db.session.add(q)
    db.session.flush()
    version = QuestionnaireVersion(questionnaire=q, number=1)
    batch = AnswerCodeBatch(questionnaire_id=q.id, size=codes)
    db.session.add_all([version, batch])
    db.session.flush()
    rows = [AnswerCode(questionnaire_id=q.id, batch_id=batch.id, code_hash=f"{q.id:04d}{i:060d}") for i in range(codes)]
    db.session.add_all(rows)
    db.session.flush()
    db.session.add_all([AnswerCodeUse(code_id=c.id) for c in rows[:used]])
    db.session.add_all([Response(questionnaire_id=q.id, version_id=version.id, locale="fr", submitted_on=date(2024, 5, 1))
                        for _ in range(used)])
    db.session.flush()
    return q


@pytest.fixture
def world(app):
    w = {}
    contract, commune, n1, n2 = _contract("ret-old", 2020, 2024, "A")
    other, other_commune, o1, _o2 = _contract("ret-new", 2024, 2030, "B")
    w.update(contract=contract, other=other)

    # Budgets. Vote records: cut-off 3 months (2026-06-01); contacts: 12 months (2025-09-01).
    older = _process(contract, commune, Phase.implementation, "Vote de mars 2024")
    _votes(older, 12, date(2024, 3, 10), n1)
    old = _process(contract, commune, Phase.results, "Vote de novembre 2025")
    _votes(old, 15, date(2025, 11, 15), n2)
    recent = _process(contract, commune, Phase.results, "Vote de juillet 2026")
    _votes(recent, 11, date(2026, 7, 1), n1)
    voting = _process(contract, commune, Phase.vote, "Vote en cours")
    _votes(voting, 13, date(2024, 2, 1), n1)
    closed = _process(contract, commune, Phase.closed, "Vote clos en août 2026")
    _votes(closed, 12, date(2026, 8, 1), n2)
    # No vote recorded: the planned end of the vote counts (2024-04-30).
    planned = _process(contract, commune, Phase.results, "Vote sans votants")
    db.session.add(ProcessPhase(process_id=planned.id, phase=Phase.vote, position=2, ends_on=date(2024, 4, 30)))
    w.update(older=older, old=old, recent=recent, voting=voting, closed=closed, planned=planned)
    w["p_older"] = _proposal(older, 1, **CONTACT)
    w["p_old"] = _proposal(old, 1, **CONTACT)
    w["p_voting"] = _proposal(voting, 1, **CONTACT)
    w["p_closed"] = _proposal(closed, 1, **CONTACT)
    w["p_planned"] = _proposal(planned, 1, **CONTACT)
    _ballots(older, w["p_older"], 12)
    _ballots(old, w["p_old"], 15)

    # FPH. Contacts: the fund's year ended 24 months ago (2023 and before); members: 60 (2020).
    f2023, f2024 = _fund(contract, commune, 2023), _fund(contract, commune, 2024)
    w["a2023"], w["a2024"] = _application(f2023, 1), _application(f2024, 1)
    f2020 = _fund(contract, commune, 2020)
    w["m2020"] = _member(f2020, "Ali Ben")
    w["m2020b"] = _member(f2020, "Alice Roy")
    w["m2023"] = _member(f2023, "Ali Ben")
    w["minutes"] = CommitteeSession(fund_id=f2020.id, held_on=date(2020, 5, 1),
                                    minutes="Présents : Ali Ben (habitant), Alice Roy (présidente). Récusation : Ali Ben.")
    db.session.add(w["minutes"])

    # Tables: the old contract ended on 31 December 2024, more than 12 months ago; the other runs.
    t = _table(contract, n1)
    _meeting(t, date(2023, 3, 1), ["a", "b", "c"], anonymous=2)
    _meeting(t, date(2024, 3, 1), ["a", "b", "d"])
    w["table"] = t
    ot = _table(other, o1)
    _meeting(ot, date(2025, 3, 1), ["x", "y"])
    w["other_table"] = ot

    # Questionnaire codes: 3 months after closing (2026-06-01).
    w["q_closed_old"] = _questionnaire(contract, QStatus.closed, date(2026, 5, 1), 5, 2)
    w["q_closed_recent"] = _questionnaire(contract, QStatus.closed, date(2026, 7, 15), 4, 1)
    w["q_open"] = _questionnaire(contract, QStatus.open, date(2025, 1, 1), 3, 1)

    # Staff sessions: 6 months after their end (2026-03-01); the log: 12 months (2025-09-01).
    staff = User(email="staff@ret.test", name="Staff", password_hash="x")
    db.session.add(staff)
    db.session.flush()
    w["s_revoked_old"] = StaffSession(user_id=staff.id, created_at=datetime(2026, 2, 1, 9), revoked_at=datetime(2026, 2, 1, 17))
    w["s_never_revoked_old"] = StaffSession(user_id=staff.id, created_at=datetime(2025, 12, 1, 9))
    w["s_recent"] = StaffSession(user_id=staff.id, created_at=datetime(2026, 4, 1, 9))
    w["e_old"] = AuditEvent(at=datetime(2025, 6, 1), action="update", entity="x", contract_id=contract.id)
    w["e_recent"] = AuditEvent(at=datetime(2025, 10, 1), action="update", entity="x", contract_id=contract.id)
    db.session.add_all([w[k] for k in ("s_revoked_old", "s_never_revoked_old", "s_recent", "e_old", "e_recent")])
    db.session.commit()
    return w


# --- what is compared before and after -----------------------------------------------------------


def governance_rows(contract):
    return report_rows(build_report(Selection(contract, None, None, contract.period_start, contract.period_end)))


def ballots():
    return sorted(db.session.execute(
        sa.select(Ballot.id, Ballot.process_id, Ballot.locator, Ballot.receipt, BallotChoice.proposal_id,
                  BallotChoice.value).join(BallotChoice)).all())


def vote_aggregates():
    return sorted(db.session.execute(
        sa.select(VoteRecord.process_id, VoteRecord.channel, VoteRecord.neighbourhood_id, VoteRecord.polling_point_id,
                  VoteRecord.voted_on, sa.func.count()).group_by(
            VoteRecord.process_id, VoteRecord.channel, VoteRecord.neighbourhood_id, VoteRecord.polling_point_id,
            VoteRecord.voted_on)).all())


def keys_of(process):
    return set(db.session.scalars(sa.select(VoteRecord.voter_key).where(VoteRecord.process_id == process.id)))


def run(dry_run=False):
    outcomes = retention.purge(TODAY, dry_run=dry_run)
    db.session.commit()
    return {o.data_class.key: o.counts for o in outcomes}


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


# --- the tests -------------------------------------------------------------------------------------


def test_who_voted_is_anonymised_after_the_appeal_period_and_kept_before(world):
    counts = run()
    c = world["contract"].id
    assert counts["budget_vote_records"] == {c: 12 + 15}
    for key in ("older", "old"):
        process = world[key]
        assert keys_of(process) == {f"purged:{i}" for i in db.session.scalars(
            sa.select(VoteRecord.id).where(VoteRecord.process_id == process.id))}
    for key in ("recent", "voting", "closed"):
        assert all(k.startswith("code:") for k in keys_of(world[key])), key


def test_a_vote_whose_voters_were_forgotten_cannot_be_reopened(world):
    """Reopening a vote after the purge would let a previous voter vote again unseen (their new
    ballot replaces nothing, and turnout counts them twice): the move is refused with a reason."""
    from participation.budgets import messages, services
    from participation.budgets.models import Feasibility

    for key in ("old", "recent"):
        _proposal(world[key], 90, feasibility=Feasibility.feasible, revised_cost=500)
    db.session.commit()
    run()
    with pytest.raises(services.RuleError) as refused:
        services.move_phase(fresh(world["old"]), Phase.vote)
    assert refused.value.code == "who_voted_purged"
    with force_locale("en"):
        assert "cannot be reopened" in " ".join(str(m) for m in messages.rule_error(refused.value))
    db.session.rollback()
    assert fresh(world["old"]).phase == Phase.results
    services.move_phase(fresh(world["recent"]), Phase.vote)  # its voters are still known: it may reopen
    assert fresh(world["recent"]).phase == Phase.vote


def test_governance_figures_and_ballots_are_the_same_after_the_purge(world):
    contract = world["contract"]
    figures, box, aggregates = governance_rows(contract), ballots(), vote_aggregates()
    unique = table_figures.attendance(world["table"]).unique
    assert any(r["code"] == "budgets.voters" and isinstance(r["value"], int) and r["value"] > 0 for r in figures), \
        "a figure compared is shown"
    assert unique.distinct_tokens == 4
    run()
    db.session.expire_all()
    assert governance_rows(fresh(contract)) == figures
    assert ballots() == box
    assert vote_aggregates() == aggregates
    assert table_figures.attendance(fresh(world["table"])).unique == unique


def test_contacts_of_ideas_are_blanked_a_year_after_the_vote_or_when_the_process_closes(world):
    counts = run()
    assert counts["budget_contacts"] == {world["contract"].id: 3}
    for key in ("p_older", "p_closed", "p_planned"):
        p = fresh(world[key])
        assert (p.contact, p.contact_name, p.contact_consent) == ("", "", False), key
        assert p.title == "Idée 1"
    for key in ("p_old", "p_voting"):
        p = fresh(world[key])
        assert (p.contact, p.contact_name, p.contact_consent) == (CONTACT["contact"], CONTACT["contact_name"], True)


def test_fph_contacts_go_two_years_after_the_funds_year(world):
    counts = run()
    assert counts["fph_contacts"] == {world["contract"].id: 1}
    old, recent = fresh(world["a2023"]), fresh(world["a2024"])
    assert (old.contact_name, old.contact_phone, old.contact_email) == ("", "", "")
    assert old.title == "Projet 1" and old.amount_requested == 500
    assert recent.contact_email == FPH_CONTACT["contact_email"]


def test_committee_names_are_replaced_in_the_list_and_the_minutes(world):
    counts = run()
    assert counts["fph_members"] == {world["contract"].id: 2}
    m, mb, kept = fresh(world["m2020"]), fresh(world["m2020b"]), fresh(world["m2023"])
    assert m.name == retention.member_label(m.id, "fr") and mb.name == retention.member_label(mb.id, "fr")
    assert kept.name == "Ali Ben"
    minutes = fresh(world["minutes"]).minutes
    # Whole names only: "Ali Ben" inside nothing else; "Alice Roy" is her own label.
    assert "Ali Ben" not in minutes and "Alice Roy" not in minutes
    assert minutes.count(m.name) == 2 and minutes.count(mb.name) == 1


def test_attendee_keys_are_replaced_consistently_once_the_contract_has_ended(world):
    before_other = set(db.session.scalars(sa.select(CheckIn.attendee_key).join(Meeting)
                                          .where(Meeting.table_id == world["other_table"].id)))
    counts = run()
    assert counts["table_attendee_keys"] == {world["contract"].id: 6}
    keys = list(db.session.scalars(sa.select(CheckIn.attendee_key).join(Meeting)
                                   .where(Meeting.table_id == world["table"].id, CheckIn.attendee_key.is_not(None))))
    assert len(keys) == 6 and all(k.startswith("purged:") for k in keys)
    assert len(set(keys)) == 4  # a, b came twice: still the same (new) marker both times
    assert set(db.session.scalars(sa.select(CheckIn.attendee_key).join(Meeting)
                                  .where(Meeting.table_id == world["other_table"].id))) == before_other


def test_answer_codes_of_a_long_closed_questionnaire_are_deleted_answers_stay(world):
    q = world["q_closed_old"]
    counts = run()
    assert counts["questionnaire_answer_codes"] == {world["contract"].id: 5}
    codes = lambda q: db.session.scalar(sa.select(sa.func.count()).select_from(AnswerCode).filter_by(questionnaire_id=q.id))  # noqa: E731
    assert codes(q) == 0
    assert codes(world["q_closed_recent"]) == 4 and codes(world["q_open"]) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnswerCodeUse)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response).filter_by(questionnaire_id=q.id)) == 2


def test_old_staff_sessions_and_log_events_are_deleted(world):
    ids = {k: world[k].id for k in ("s_revoked_old", "s_never_revoked_old", "s_recent", "e_old", "e_recent")}
    counts = run()
    assert counts["staff_sessions"] == {None: 2}
    assert counts["audit_events"] == {world["contract"].id: 1}
    assert set(db.session.scalars(sa.select(StaffSession.id))) == {ids["s_recent"]}
    assert db.session.get(AuditEvent, ids["e_old"]) is None
    assert db.session.get(AuditEvent, ids["e_recent"]) is not None


def test_a_second_run_changes_nothing(world):
    run()
    state = (keys_of(world["old"]), ballots(), vote_aggregates(),
             sorted(db.session.scalars(sa.select(CheckIn.attendee_key).where(CheckIn.attendee_key.is_not(None)))),
             sorted(db.session.scalars(sa.select(CommitteeMember.name))))
    counts = run()
    assert all(not c for c in counts.values()), counts
    assert state == (keys_of(world["old"]), ballots(), vote_aggregates(),
                     sorted(db.session.scalars(sa.select(CheckIn.attendee_key).where(CheckIn.attendee_key.is_not(None)))),
                     sorted(db.session.scalars(sa.select(CommitteeMember.name))))


def test_a_dry_run_counts_the_same_rows_and_changes_nothing(world):
    due = run(dry_run=True)
    assert all(k.startswith("code:") for k in keys_of(world["old"]))
    assert fresh(world["p_older"]).contact == CONTACT["contact"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "purge")) == 0
    assert run() == due


def test_one_audit_event_per_class_and_contract_purged(world):
    run()
    events = db.session.execute(sa.select(AuditEvent.contract_id, AuditEvent.changes)
                                .where(AuditEvent.action == "purge")).all()
    c = world["contract"].id
    by_class = {(e.changes["class"], e.contract_id): e.changes["rows"] for e in events}
    assert by_class == {("budget_vote_records", c): 27, ("budget_contacts", c): 3, ("fph_contacts", c): 1,
                        ("fph_members", c): 2, ("table_attendee_keys", c): 6, ("questionnaire_answer_codes", c): 5,
                        ("staff_sessions", None): 2, ("audit_events", c): 1}
    assert all(e.changes["cutoff"] for e in events)


def test_a_configured_period_changes_the_cut_off(world, app, monkeypatch):
    # Four years of contacts instead of one: the 2024 votes' authors are kept; a closed process still purges.
    monkeypatch.setitem(app.config, "RETENTION_BUDGET_CONTACTS", 48)
    assert run()["budget_contacts"] == {world["contract"].id: 1}
    assert fresh(world["p_older"]).contact == CONTACT["contact"]
    assert fresh(world["p_closed"]).contact == ""


def test_a_bad_configured_period_falls_back_to_the_default(app, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_BUDGET_VOTE_RECORDS", "three")
    assert retention.BY_KEY["budget_vote_records"].period() == 3
    monkeypatch.delitem(app.config, "RETENTION_BUDGET_VOTE_RECORDS")
    monkeypatch.setenv("RETENTION_BUDGET_VOTE_RECORDS", "5")
    assert retention.BY_KEY["budget_vote_records"].period() == 5


@pytest.mark.parametrize("day,n,expected", [
    (date(2026, 9, 1), 3, date(2026, 6, 1)),
    (date(2026, 3, 31), 1, date(2026, 2, 28)),
    (date(2024, 3, 31), 1, date(2024, 2, 29)),
    (date(2026, 1, 15), 24, date(2024, 1, 15)),
])
def test_months_before(day, n, expected):
    assert retention.months_before(day, n) == expected


def test_unsent_questionnaire_photos_are_purged_after_their_hours(app):
    from participation.questionnaires.services import photo_store

    import secrets

    store = photo_store()
    # Names of their own, and deleted at the end: the store is the session app's, and other
    # tests rely on a made-up hash such as "b" * 64 not being stored.
    path = store.path(secrets.token_hex(32))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"jpeg")
    stamp = time.time() - 72 * 3600
    os.utime(path, (stamp, stamp))
    recent = store.path(secrets.token_hex(32))
    recent.parent.mkdir(parents=True, exist_ok=True)
    recent.write_bytes(b"jpeg")
    try:
        assert retention.purge(date.today(), dry_run=True, only=["questionnaire_unsent_photos"])[0].total == 1
        assert path.exists()
        assert retention.purge(date.today(), only=["questionnaire_unsent_photos"])[0].total == 1
        assert not path.exists() and recent.exists()
    finally:
        path.unlink(missing_ok=True)
        recent.unlink(missing_ok=True)


def test_the_cli_prints_each_class(world, runner):
    result = runner.invoke(args=["privacy", "purge", "--dry-run", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "budget_vote_records" in result.output and "27 due" in result.output
    assert all(k.startswith("code:") for k in keys_of(world["old"]))
    result = runner.invoke(args=["privacy", "purge", "--today", TODAY.isoformat()])
    assert result.exit_code == 0 and "27 purged" in result.output
    db.session.expire_all()
    assert not any(k.startswith("code:") for k in keys_of(world["old"]))
    assert runner.invoke(args=["privacy", "purge", "--only", "nope"]).exit_code != 0
