"""The metrics: one SQL `GROUP BY` each, over a whole contract and a span of years.

Each query returns rows `(neighbourhood id, commune id, year, value, extra)` (see
`metrics.Row`); `metrics.grid` turns them into protected figures. Keep every aggregate in SQL:
the full-contract export runs these over millions of rows (bench/governance_export.py).

Years are filtered with `metrics.in_years` (a range of days, which an index can serve and the
planner estimates well) and extracted only to group by them.

Which year and place, where the general rule (metrics module doc) needs saying:

- budgets: a voter in the year they voted; an idea in the year it was submitted, in the
  neighbourhood it is for; money allocated in the year the vote ended (the process's last vote,
  else its vote phase's planned end); turnout: the populations covered in the year the vote
  ended, over the voters figure's own cells (see `budget_turnout`);
- FPH: everything in the year of the fund, in the project's neighbourhood, else the fund's;
- demands to institutions: in the year they were sent, wherever they stand today (answered,
  done, overdue), so that "answered" and "raised" of one year describe the same demands, as the
  follow-up figures page does;
- walks: the walk's day and neighbourhood; observations with their walk.

Definitions follow the mechanisms' own figures pages (tables/figures.py, fph/figures.py,
followup/figures.py, walks/figures.py, budgets/services.py).
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..budgets.models import Phase, Process, ProcessPhase, Proposal, VoteRecord
from ..core.territories import Commune, Neighbourhood
from ..extensions import db
from ..followup import workflow
from ..followup.models import FollowUp, Status
from ..followup.services import overdue_clause
from ..fph.models import HOLDS_MONEY, Application, Bilan, Fund, FundingSource, SourceKind
from ..questionnaires.models import Answer, Option, Question, Questionnaire, QuestionnaireVersion, Response
from ..tables import attendance as tables_attendance
from ..tables.models import CheckIn, Meeting, MeetingStatus, NeighbourhoodTable, PaperTally, TallyDimension
from ..walks.figures import HELD as WALK_HELD
from ..walks.models import Observation, Walk
from .metrics import AMOUNT, COUNT, DAYS, MEAN, PEOPLE, RATE, Unit, in_years, metric, year_of


def _between(year_column, year_from: int, year_to: int):
    return year_column.between(year_from, year_to)


def _in_categories(column, category_ids):
    """The défi / orientation filter (ids already expanded to their sub-themes); None: all."""
    return sa.true() if category_ids is None else column.in_(list(category_ids))


def days_between(later, earlier):
    """Whole days from `earlier` to `later` (two DATE columns), as one SQL expression: SQLite has
    no date subtraction (julianday numbers are), PostgreSQL's `date - date` is already days."""
    if db.engine.dialect.name == "sqlite":
        return sa.cast(sa.func.julianday(later) - sa.func.julianday(earlier), sa.Integer)
    return later - earlier


def in_units(contract_id: int, units: list[Unit], unit_ids, neighbourhood_id, commune_id):
    """SQL condition: the row, placed by (neighbourhood id, commune id) columns, falls in one of the
    units `unit_ids` (indexes into `units`; None: every unit). Same rule as `metrics.grid`: a
    neighbourhood of the contract first, else a commune of the contract, else the whole contract."""
    if unit_ids is None:
        return sa.true()
    chosen = [units[i] for i in unit_ids]
    hoods = [u.neighbourhood_id for u in chosen if u.level == "neighbourhood"]
    communes = [u.commune_id for u in chosen if u.level == "commune"]
    contract_hoods = (sa.select(Neighbourhood.id).join(Commune, Commune.id == Neighbourhood.commune_id)
                      .where(Commune.contract_id == contract_id))
    not_a_hood = sa.or_(neighbourhood_id.is_(None), neighbourhood_id.not_in(contract_hoods))
    clauses = []
    if hoods:
        clauses.append(neighbourhood_id.in_(hoods))
    if communes:
        clauses.append(sa.and_(not_a_hood, commune_id.in_(communes)))
    if any(u.level == "contract" for u in chosen):
        contract_communes = sa.select(Commune.id).where(Commune.contract_id == contract_id)
        clauses.append(sa.and_(not_a_hood, sa.or_(commune_id.is_(None), commune_id.not_in(contract_communes))))
    return sa.or_(*clauses) if clauses else sa.false()


# --- tables de quartier -------------------------------------------------------------------------


def held_meetings(contract_id: int, year_from: int, year_to: int, now: datetime | None = None):
    """Meetings that took place: marked held, or planned and already started (see tables.figures).

    `Meeting.starts_at` is a local wall-clock time, so "already started" compares it with the
    local time now (as tables.figures does), not with the database's clock (UTC)."""
    year = year_of(Meeting.starts_at)
    now = now or tables_attendance.local_now()
    return (
        sa.select(Meeting.id, NeighbourhoodTable.neighbourhood_id, NeighbourhoodTable.commune_id, year.label("year"))
        .join(NeighbourhoodTable, NeighbourhoodTable.id == Meeting.table_id)
        .where(NeighbourhoodTable.contract_id == contract_id, in_years(Meeting.starts_at, year_from, year_to),
               sa.or_(Meeting.status == MeetingStatus.held,
                      sa.and_(Meeting.status == MeetingStatus.planned, Meeting.starts_at <= now)))
    ).subquery()


@metric("tables.meetings", "tables", COUNT, _l("Table meetings held"), _l("meetings"),
        _l("Meetings of the tables de quartier that took place (cancelled ones are not counted)."))
def tables_meetings(contract_id, year_from, year_to):
    held = held_meetings(contract_id, year_from, year_to)
    return db.session.execute(
        sa.select(held.c.neighbourhood_id, held.c.commune_id, held.c.year, sa.func.count(), sa.null())
        .group_by(held.c.neighbourhood_id, held.c.commune_id, held.c.year)
    ).all()


@metric("tables.participations", "tables", PEOPLE, _l("Participations in table meetings"), _l("participations"),
        _l("Check-ins by QR code or by a mediator, and people counted on paper sign-in sheets, at the meetings "
           "held. A resident who came to three meetings counts three times."))
def tables_participations(contract_id, year_from, year_to):
    held = held_meetings(contract_id, year_from, year_to)
    checkins = (sa.select(CheckIn.meeting_id.label("meeting_id"), sa.literal(1).label("n"))
                .where(CheckIn.meeting_id.in_(sa.select(held.c.id))))
    paper = (sa.select(PaperTally.meeting_id.label("meeting_id"), PaperTally.count.label("n"))
             .where(PaperTally.dimension == TallyDimension.total, PaperTally.meeting_id.in_(sa.select(held.c.id))))
    people = sa.union_all(checkins, paper).subquery()
    return db.session.execute(
        sa.select(held.c.neighbourhood_id, held.c.commune_id, held.c.year, sa.func.sum(people.c.n), sa.null())
        .join(people, people.c.meeting_id == held.c.id)
        .group_by(held.c.neighbourhood_id, held.c.commune_id, held.c.year)
    ).all()


# --- questionnaires -------------------------------------------------------------------------------


@metric("questionnaires.responses", "questionnaires", PEOPLE, _l("Questionnaire responses"), _l("responses"),
        _l("Responses to the contract's questionnaires, online, assisted by a mediator or keyed from paper, "
           "counted in the neighbourhood the respondent gave (otherwise the questionnaire's)."))
def questionnaire_responses(contract_id, year_from, year_to):
    year = year_of(Response.submitted_on)
    nid = sa.func.coalesce(Response.neighbourhood_id, Questionnaire.neighbourhood_id)
    return db.session.execute(
        sa.select(nid, Questionnaire.commune_id, year, sa.func.count(), sa.null())
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(Questionnaire.contract_id == contract_id, in_years(Response.submitted_on, year_from, year_to))
        .group_by(nid, Questionnaire.commune_id, year)
    ).all()


def _tagged_answers(contract_id, year_from, year_to, indicator):
    """Answers to the questions tagged with the indicator, with their respondent's place and year.

    The answer carries its respondent's day and neighbourhood, and its question's version gives
    the questionnaire: no join with the responses. The days are filtered on a range (index
    `ix_questionnaire_answers_question_submitted`), the year extracted only to group by it."""
    return (
        sa.select(Answer.response_id, Answer.option_id, Answer.number, Answer.neighbourhood_id.label("nid"),
                  Questionnaire.commune_id.label("cid"), Questionnaire.neighbourhood_id.label("qnid"),
                  year_of(Answer.submitted_on).label("year"))
        .select_from(Answer)
        .join(Question, Question.id == Answer.question_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Question.version_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(Question.indicator_id == indicator.id, Questionnaire.contract_id == contract_id,
               in_years(Answer.submitted_on, year_from, year_to))
    )


def _respondent(response_id):
    """A respondent's response id, to group by: on PostgreSQL compared byte by byte (collation "C").
    The ids are random hex, so the groups are the same, but sorting or hashing 100,000 of them
    is much faster than with the database's language collation."""
    return sa.collate(response_id, "C") if db.engine.dialect.name == "postgresql" else response_id


@metric("questionnaires.share", "questionnaires", RATE, _l("Share of respondents (tagged questions)"), "%",
        _l("Among the respondents to the questions tagged with the indicator (\"don't know\" left out), the share "
           "who chose one of the indicator's options."), per_indicator=True)
def questionnaire_share(contract_id, year_from, year_to, indicator=None):
    if indicator is None:
        return []
    codes = [str(c) for c in (indicator.option_codes or [])]
    base = _tagged_answers(contract_id, year_from, year_to, indicator).where(Answer.option_id.is_not(None)).subquery()
    chosen = sa.select(Option.id).where(Option.code.in_(codes), Option.is_dont_know.is_(False))
    known = sa.select(Option.id).where(Option.is_dont_know.is_(False))
    # One line per respondent: did they choose a counted option?
    per_person = (
        sa.select(sa.func.coalesce(base.c.nid, base.c.qnid).label("nid"), base.c.cid, base.c.year,
                  sa.func.max(sa.case((base.c.option_id.in_(chosen), 1), else_=0)).label("yes"))
        .where(base.c.option_id.in_(known))
        .group_by(_respondent(base.c.response_id), sa.func.coalesce(base.c.nid, base.c.qnid), base.c.cid, base.c.year)
    ).subquery()
    return db.session.execute(
        sa.select(per_person.c.nid, per_person.c.cid, per_person.c.year, sa.func.sum(per_person.c.yes),
                  sa.func.count())
        .group_by(per_person.c.nid, per_person.c.cid, per_person.c.year)
    ).all()


@metric("questionnaires.mean", "questionnaires", MEAN, _l("Average answer (tagged questions)"), _l("average"),
        _l("The average of the answers to the questions tagged with the indicator: the scale's value (\"don't "
           "know\" left out) or the number given."), per_indicator=True)
def questionnaire_mean(contract_id, year_from, year_to, indicator=None):
    if indicator is None:
        return []
    base = _tagged_answers(contract_id, year_from, year_to, indicator).subquery()
    option = sa.orm.aliased(Option)
    # A scale's options are coded "0".."10": their code is the value; other codes are not numbers.
    numeric_codes = [str(i) for i in range(0, 11)]
    score = sa.case((base.c.number.is_not(None), base.c.number),
                    else_=sa.cast(sa.case((option.code.in_(numeric_codes), option.code), else_=None), sa.Float))
    nid = sa.func.coalesce(base.c.nid, base.c.qnid)
    # Each respondent's own average first, so that one who answered two tagged questions counts once.
    per_person = (
        sa.select(nid.label("nid"), base.c.cid, base.c.year, sa.func.avg(score).label("score"))
        .select_from(base).outerjoin(option, option.id == base.c.option_id)
        .where(sa.or_(base.c.number.is_not(None), sa.and_(option.code.in_(numeric_codes), option.is_dont_know.is_(False))))
        .group_by(_respondent(base.c.response_id), nid, base.c.cid, base.c.year)
    ).subquery()
    return db.session.execute(
        sa.select(per_person.c.nid, per_person.c.cid, per_person.c.year, sa.func.sum(per_person.c.score),
                  sa.func.count())
        .group_by(per_person.c.nid, per_person.c.cid, per_person.c.year)
    ).all()


# --- budgets participatifs ------------------------------------------------------------------------


@metric("budgets.voters", "budgets", PEOPLE, _l("Participatory budget voters"), _l("voters"),
        _l("People who voted in a participatory budget (online, with a mediator or on paper), one per voter and "
           "process, counted in the neighbourhood of their voter code or the one they gave (otherwise the "
           "process's), in the year they voted."))
def budget_voters(contract_id, year_from, year_to):
    year = year_of(VoteRecord.voted_on)
    nid = sa.func.coalesce(VoteRecord.neighbourhood_id, Process.neighbourhood_id)
    return db.session.execute(
        sa.select(nid, Process.commune_id, year, sa.func.count(), sa.null())
        .join(Process, Process.id == VoteRecord.process_id)
        .where(Process.contract_id == contract_id, in_years(VoteRecord.voted_on, year_from, year_to))
        .group_by(nid, Process.commune_id, year)
    ).all()


@metric("budgets.proposals", "budgets", COUNT, _l("Participatory budget ideas"), _l("ideas"),
        _l("Ideas submitted to the participatory budgets (online, with a mediator or on paper), including those "
           "later merged, found unfeasible or hidden by moderation, in the year they were submitted, counted in "
           "the neighbourhood the idea is for (otherwise the process's)."), by_category=True)
def budget_proposals(contract_id, year_from, year_to, category_ids=None):
    year = year_of(Proposal.submitted_on)
    nid = sa.func.coalesce(Proposal.neighbourhood_id, Process.neighbourhood_id)
    return db.session.execute(
        sa.select(nid, Process.commune_id, year, sa.func.count(), sa.null())
        .join(Process, Process.id == Proposal.process_id)
        .where(Process.contract_id == contract_id, in_years(Proposal.submitted_on, year_from, year_to),
               _in_categories(Proposal.category_id, category_ids))
        .group_by(nid, Process.commune_id, year)
    ).all()


def _vote_closing():
    """Per process, the day its vote ended: its last vote recorded, else the vote phase's planned end."""
    last_vote = (sa.select(VoteRecord.process_id.label("pid"), sa.func.max(VoteRecord.voted_on).label("on"))
                 .group_by(VoteRecord.process_id).subquery())
    vote_end = (sa.select(ProcessPhase.process_id.label("pid"), ProcessPhase.ends_on.label("on"))
                .where(ProcessPhase.phase == Phase.vote).subquery())
    return (
        sa.select(Process.id.label("pid"), sa.func.coalesce(last_vote.c.on, vote_end.c.on).label("on"))
        .outerjoin(last_vote, last_vote.c.pid == Process.id)
        .outerjoin(vote_end, vote_end.c.pid == Process.id)
    ).subquery()


@metric("budgets.funded_amount", "budgets", COUNT, _l("Participatory budget money allocated"), _l("euros"),
        _l("Cost of the projects selected by the residents' vote (the cost revised by the services, otherwise the "
           "estimate), in the year the vote ended, counted in the neighbourhood of the project (otherwise the "
           "process's). These are the published results of a public vote, not money paid to anyone."),
        by_category=True)
def budget_funded_amount(contract_id, year_from, year_to, category_ids=None):
    closing = _vote_closing()
    year = year_of(closing.c.on)
    nid = sa.func.coalesce(Proposal.neighbourhood_id, Process.neighbourhood_id)
    cost = sa.func.coalesce(Proposal.revised_cost, Proposal.estimated_cost)
    return db.session.execute(
        sa.select(nid, Process.commune_id, year, sa.func.sum(cost), sa.null())
        .select_from(Proposal)
        .join(Process, Process.id == Proposal.process_id)
        .join(closing, closing.c.pid == Process.id)
        .where(Process.contract_id == contract_id, Proposal.is_selected.is_(True), cost.is_not(None),
               in_years(closing.c.on, year_from, year_to), _in_categories(Proposal.category_id, category_ids))
        .group_by(nid, Process.commune_id, year)
    ).all()


@metric("budgets.turnout", "budgets", RATE, _l("Participatory budget turnout"), "%",
        _l("For each neighbourhood whose population is known: the voters living there (by their voter code or what "
           "they declared; in a neighbourhood's own budget, every voter), counted as in the voters figure, as a "
           "percentage of its population once for each participatory budget covering it whose vote ended that year. "
           "Over several budgets or years the populations add up, so the figure is an average turnout per vote. "
           "Voters who gave no neighbourhood in a wider budget are left out: it is a lower bound. It is shown only "
           "where the number of voters it is computed from is shown."),
        numerator="budgets.voters")
def budget_turnout(contract_id, year_from, year_to):
    """The denominators only: the populations of the neighbourhoods each process covers (its own,
    its commune's, or the contract's), in the year its vote ended (its last vote). The numerators
    are the cells of `budgets.voters`, taken from that metric's protected grid (`metrics.grid`),
    so that a turnout never shows a number of voters that the voters figure hides."""
    covered = (
        sa.select(Process.id.label("pid"), Neighbourhood.id.label("nid"), Neighbourhood.commune_id.label("cid"),
                  Neighbourhood.population.label("population"))
        .select_from(Process)
        .join(Commune, Commune.contract_id == Process.contract_id)
        .join(Neighbourhood, Neighbourhood.commune_id == Commune.id)
        .where(Process.contract_id == contract_id, Neighbourhood.population > 0,
               sa.or_(Process.neighbourhood_id == Neighbourhood.id,
                      sa.and_(Process.neighbourhood_id.is_(None), Process.commune_id == Commune.id),
                      Process.commune_id.is_(None)))
    ).subquery()
    # Only processes that had a vote (a last vote recorded): a process without votes has no turnout.
    contract_processes = sa.select(Process.id).where(Process.contract_id == contract_id)
    last_vote = (sa.select(VoteRecord.process_id.label("pid"), year_of(sa.func.max(VoteRecord.voted_on)).label("year"))
                 .where(VoteRecord.process_id.in_(contract_processes))
                 .group_by(VoteRecord.process_id)
                 .having(in_years(sa.func.max(VoteRecord.voted_on), year_from, year_to)).subquery())
    return db.session.execute(
        sa.select(covered.c.nid, covered.c.cid, last_vote.c.year, sa.null(), sa.func.sum(covered.c.population))
        .select_from(covered)
        .join(last_vote, last_vote.c.pid == covered.c.pid)
        .group_by(covered.c.nid, covered.c.cid, last_vote.c.year)
    ).all()


# --- FPH (fonds de participation des habitants) ---------------------------------------------------


def _funded(contract_id, year_from, year_to, category_ids, *columns):
    """Funded applications (holding money: granted, paid, bilan received, closed) of the contract's
    funds of those years, placed in the project's neighbourhood, otherwise the fund's."""
    nid = sa.func.coalesce(Application.neighbourhood_id, Fund.neighbourhood_id)
    return (
        sa.select(nid, Fund.commune_id, Fund.year, *columns)
        .select_from(Application).join(Fund, Fund.id == Application.fund_id)
        .where(Fund.contract_id == contract_id, _between(Fund.year, year_from, year_to),
               Application.status.in_(HOLDS_MONEY), _in_categories(Application.category_id, category_ids))
        .group_by(nid, Fund.commune_id, Fund.year)
    )


@metric("fph.projects_funded", "fph", COUNT, _l("FPH projects funded"), _l("projects"),
        _l("Residents' micro-projects granted money by an FPH committee (granted, paid, bilan received or closed; "
           "withdrawn grants are not counted), in the year of the fund, counted in the neighbourhood of the "
           "project (otherwise the fund's)."), by_category=True)
def fph_projects_funded(contract_id, year_from, year_to, category_ids=None):
    return db.session.execute(
        _funded(contract_id, year_from, year_to, category_ids, sa.func.count(Application.id), sa.null())
    ).all()


@metric("fph.granted", "fph", AMOUNT, _l("FPH money granted"), _l("euros"),
        _l("Money granted by the FPH committees to the funded projects, in the year of the fund, counted in the "
           "neighbourhood of the project (otherwise the fund's). An amount shared by fewer than 3 projects is "
           "not shown."), by_category=True)
def fph_granted(contract_id, year_from, year_to, category_ids=None):
    return db.session.execute(
        _funded(contract_id, year_from, year_to, category_ids, sa.func.sum(Application.granted_amount),
                sa.func.count(Application.id))
    ).all()


@metric("fph.residents_involved", "fph", PEOPLE, _l("Residents involved in FPH projects"), _l("residents"),
        _l("People who took part in the FPH projects, as each project's team wrote in its bilan (one person may "
           "take part in several projects), in the year of the fund, counted in the neighbourhood of the project "
           "(otherwise the fund's)."), by_category=True)
def fph_residents_involved(contract_id, year_from, year_to, category_ids=None):
    nid = sa.func.coalesce(Application.neighbourhood_id, Fund.neighbourhood_id)
    return db.session.execute(
        sa.select(nid, Fund.commune_id, Fund.year, sa.func.sum(Bilan.participants), sa.null())
        .select_from(Bilan)
        .join(Application, Application.id == Bilan.application_id)
        .join(Fund, Fund.id == Application.fund_id)
        .where(Fund.contract_id == contract_id, _between(Fund.year, year_from, year_to),
               Bilan.participants.is_not(None), _in_categories(Application.category_id, category_ids))
        .group_by(nid, Fund.commune_id, Fund.year)
    ).all()


def _fund_units(contract_id, units, unit_ids, nid_column):
    if unit_ids is None:
        return sa.true()
    return in_units(contract_id, units, unit_ids, nid_column, Fund.commune_id)


def fph_money_by_source(contract_id: int, year_from: int, year_to: int, *, units: list[Unit] | None = None,
                        unit_ids=None) -> list[tuple[SourceKind, int]]:
    """The FPH envelopes by kind of funding source (State, commune, TFPB abatement, other), for the
    contract's funds of those years: [(SourceKind, euros)], in the order of `SourceKind`.

    Institutional money, so nothing is suppressed. `units`/`unit_ids`: only the funds placed in
    those units (a fund shared by several neighbourhoods is placed in its commune)."""
    rows = dict(db.session.execute(
        sa.select(FundingSource.kind, sa.func.sum(FundingSource.amount))
        .join(Fund, Fund.id == FundingSource.fund_id)
        .where(Fund.contract_id == contract_id, _between(Fund.year, year_from, year_to),
               _fund_units(contract_id, units, unit_ids, Fund.neighbourhood_id))
        .group_by(FundingSource.kind)
    ).all())
    return [(kind, int(rows[kind])) for kind in SourceKind if kind in rows]


def fph_granted_by_category(contract_id: int, year_from: int, year_to: int, *, units: list[Unit] | None = None,
                            unit_ids=None) -> list[tuple[int | None, int, int]]:
    """Money granted to the funded projects of the contract's funds of those years, by the défi /
    orientation of the application: [(category id or None, euros, projects)], largest first.

    Not protected: the caller hides an amount shared by fewer than `metrics.MIN_RECIPIENTS`
    projects (and what would give it away). `units`/`unit_ids`: as `fph_money_by_source`, the
    project placed in its neighbourhood, otherwise the fund's."""
    nid = sa.func.coalesce(Application.neighbourhood_id, Fund.neighbourhood_id)
    amount = sa.func.sum(Application.granted_amount)
    rows = db.session.execute(
        sa.select(Application.category_id, amount, sa.func.count(Application.id))
        .join(Fund, Fund.id == Application.fund_id)
        .where(Fund.contract_id == contract_id, _between(Fund.year, year_from, year_to),
               Application.status.in_(HOLDS_MONEY), _fund_units(contract_id, units, unit_ids, nid))
        .group_by(Application.category_id)
        .order_by(amount.desc(), Application.category_id)
    ).all()
    return [(category_id, int(total or 0), int(n)) for category_id, total, n in rows]


# --- follow-up of demands (tables' interpellations, walks' recommendations) --------------------------


def _demands(contract_id, year_from, year_to, category_ids, value, *where):
    """Demands sent to an institution (not drafts), by their place and the year they were sent."""
    year = year_of(FollowUp.sent_on)
    return db.session.execute(
        sa.select(FollowUp.neighbourhood_id, FollowUp.commune_id, year, value, sa.null())
        .where(FollowUp.contract_id == contract_id, FollowUp.status != Status.draft, FollowUp.sent_on.is_not(None),
               in_years(FollowUp.sent_on, year_from, year_to), _in_categories(FollowUp.category_id, category_ids),
               *where)
        .group_by(FollowUp.neighbourhood_id, FollowUp.commune_id, year)
    ).all()


@metric("followup.raised", "followup", COUNT, _l("Demands sent to institutions"), _l("demands"),
        _l("Demands sent to an institution (the tables' interpellations and the walks' recommendations), in the "
           "year they were sent, counted in the neighbourhood they concern (otherwise their commune or the "
           "contract)."), by_category=True)
def followup_raised(contract_id, year_from, year_to, category_ids=None):
    return _demands(contract_id, year_from, year_to, category_ids, sa.func.count(FollowUp.id))


@metric("followup.answered", "followup", COUNT, _l("Demands answered"), _l("demands"),
        _l("Of the demands sent that year, those the institution has answered so far (answered, in progress, done "
           "or refused)."), by_category=True)
def followup_answered(contract_id, year_from, year_to, category_ids=None):
    return _demands(contract_id, year_from, year_to, category_ids, sa.func.count(FollowUp.id),
                    FollowUp.status.in_(workflow.ANSWERED))


@metric("followup.done", "followup", COUNT, _l("Demands done"), _l("demands"),
        _l("Of the demands sent that year, those the institution has now carried out (done)."), by_category=True)
def followup_done(contract_id, year_from, year_to, category_ids=None):
    return _demands(contract_id, year_from, year_to, category_ids, sa.func.count(FollowUp.id),
                    FollowUp.status == Status.done)


@metric("followup.overdue", "followup", COUNT, _l("Demands overdue"), _l("demands"),
        _l("Of the demands sent that year, those overdue today: no answer by the day it was expected, or answered "
           "but not carried out by the day the institution promised."), by_category=True)
def followup_overdue(contract_id, year_from, year_to, category_ids=None, today: date | None = None):
    return _demands(contract_id, year_from, year_to, category_ids, sa.func.count(FollowUp.id),
                    overdue_clause(today))


@metric("followup.answer_days", "followup", DAYS, _l("Days to an answer"), _l("days (median)"),
        _l("The median number of days between sending a demand and the institution's answer, over the demands "
           "sent that year that have been answered."), by_category=True)
def followup_answer_days(contract_id, year_from, year_to, category_ids=None):
    year = year_of(FollowUp.sent_on)
    # One row per answered demand: the median is taken over them (a median does not add up).
    return db.session.execute(
        sa.select(FollowUp.neighbourhood_id, FollowUp.commune_id, year,
                  days_between(FollowUp.answered_on, FollowUp.sent_on), sa.null())
        .where(FollowUp.contract_id == contract_id, FollowUp.status != Status.draft, FollowUp.sent_on.is_not(None),
               FollowUp.answered_on.is_not(None), in_years(FollowUp.sent_on, year_from, year_to),
               _in_categories(FollowUp.category_id, category_ids))
    ).all()


# --- marches exploratoires ------------------------------------------------------------------------


def held_walks(contract_id: int, year_from: int, year_to: int):
    """Walks held (walked or published; a planned walk whose day has passed was not held)."""
    year = year_of(Walk.walked_on)
    return (
        sa.select(Walk.id, Walk.neighbourhood_id, Walk.commune_id, Walk.participants, year.label("year"))
        .where(Walk.contract_id == contract_id, Walk.status.in_(WALK_HELD), in_years(Walk.walked_on, year_from, year_to))
    ).subquery()


@metric("walks.held", "walks", COUNT, _l("Exploratory walks held"), _l("walks"),
        _l("Exploratory walks that took place (walked or published; a planned walk is not counted even once its "
           "day has passed), in the year walked, counted in their neighbourhood."))
def walks_held(contract_id, year_from, year_to):
    held = held_walks(contract_id, year_from, year_to)
    return db.session.execute(
        sa.select(held.c.neighbourhood_id, held.c.commune_id, held.c.year, sa.func.count(), sa.null())
        .group_by(held.c.neighbourhood_id, held.c.commune_id, held.c.year)
    ).all()


@metric("walks.participants", "walks", PEOPLE, _l("Walkers"), _l("walkers"),
        _l("People who took part in the exploratory walks held, as counted by their facilitators (a walk without "
           "a count adds nothing). A resident who walked twice counts twice."))
def walks_participants(contract_id, year_from, year_to):
    held = held_walks(contract_id, year_from, year_to)
    return db.session.execute(
        sa.select(held.c.neighbourhood_id, held.c.commune_id, held.c.year, sa.func.sum(held.c.participants), sa.null())
        .where(held.c.participants.is_not(None))
        .group_by(held.c.neighbourhood_id, held.c.commune_id, held.c.year)
    ).all()


@metric("walks.observations", "walks", COUNT, _l("Walk observations"), _l("observations"),
        _l("Observations recorded during the exploratory walks held (whatever their moderation), in the year of "
           "the walk, counted in its neighbourhood."))
def walks_observations(contract_id, year_from, year_to):
    held = held_walks(contract_id, year_from, year_to)
    return db.session.execute(
        sa.select(held.c.neighbourhood_id, held.c.commune_id, held.c.year, sa.func.count(Observation.id), sa.null())
        .select_from(held).join(Observation, Observation.walk_id == held.c.id)
        .group_by(held.c.neighbourhood_id, held.c.commune_id, held.c.year)
    ).all()
