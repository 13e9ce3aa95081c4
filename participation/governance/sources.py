"""The metrics: one SQL `GROUP BY` each, over a whole contract and a span of years.

Each query returns rows `(neighbourhood id, commune id, year, value, extra)` (see
`metrics.Row`); `metrics.grid` turns them into protected figures. Keep every aggregate in SQL:
the full-contract export runs these over millions of rows (bench/governance_export.py).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..questionnaires.models import Answer, Option, Question, Questionnaire, Response
from ..tables.models import CheckIn, Meeting, MeetingStatus, NeighbourhoodTable, PaperTally, TallyDimension
from .metrics import COUNT, MEAN, PEOPLE, RATE, metric, year_of


def _between(year_column, year_from: int, year_to: int):
    return year_column.between(year_from, year_to)


# --- tables de quartier -------------------------------------------------------------------------


def _held_meetings(contract_id: int, year_from: int, year_to: int):
    """Meetings that took place: marked held, or planned and already started (see tables.figures)."""
    year = year_of(Meeting.starts_at)
    return (
        sa.select(Meeting.id, NeighbourhoodTable.neighbourhood_id, NeighbourhoodTable.commune_id, year.label("year"))
        .join(NeighbourhoodTable, NeighbourhoodTable.id == Meeting.table_id)
        .where(NeighbourhoodTable.contract_id == contract_id, _between(year, year_from, year_to),
               sa.or_(Meeting.status == MeetingStatus.held,
                      sa.and_(Meeting.status == MeetingStatus.planned, Meeting.starts_at <= sa.func.current_timestamp())))
    ).subquery()


@metric("tables.meetings", "tables", COUNT, _l("Table meetings held"), _l("meetings"),
        _l("Meetings of the tables de quartier that took place (cancelled ones are not counted)."))
def tables_meetings(contract_id, year_from, year_to):
    held = _held_meetings(contract_id, year_from, year_to)
    return db.session.execute(
        sa.select(held.c.neighbourhood_id, held.c.commune_id, held.c.year, sa.func.count(), sa.null())
        .group_by(held.c.neighbourhood_id, held.c.commune_id, held.c.year)
    ).all()


@metric("tables.participations", "tables", PEOPLE, _l("Participations in table meetings"), _l("participations"),
        _l("Check-ins by QR code or by a mediator, and people counted on paper sign-in sheets, at the meetings "
           "held. A resident who came to three meetings counts three times."))
def tables_participations(contract_id, year_from, year_to):
    held = _held_meetings(contract_id, year_from, year_to)
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
        .where(Questionnaire.contract_id == contract_id, _between(year, year_from, year_to))
        .group_by(nid, Questionnaire.commune_id, year)
    ).all()


def _tagged_answers(contract_id, year_from, year_to, indicator):
    """Answers to the questions tagged with the indicator, with their respondent's place and year."""
    year = year_of(Answer.submitted_on)
    questions = sa.select(Question.id).where(Question.indicator_id == indicator.id)
    return (
        sa.select(Answer.response_id, Answer.option_id, Answer.number, Answer.neighbourhood_id.label("nid"),
                  Questionnaire.commune_id.label("cid"), Questionnaire.neighbourhood_id.label("qnid"),
                  year.label("year"))
        .join(Response, Response.id == Answer.response_id)
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(Answer.question_id.in_(questions), Questionnaire.contract_id == contract_id,
               _between(year, year_from, year_to))
    )


@metric("questionnaires.share", "questionnaires", RATE, _l("Share of respondents (tagged questions)"), _l("%"),
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
        sa.select(base.c.response_id, sa.func.coalesce(base.c.nid, base.c.qnid).label("nid"), base.c.cid, base.c.year,
                  sa.func.max(sa.case((base.c.option_id.in_(chosen), 1), else_=0)).label("yes"))
        .where(base.c.option_id.in_(known))
        .group_by(base.c.response_id, sa.func.coalesce(base.c.nid, base.c.qnid), base.c.cid, base.c.year)
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
        .group_by(base.c.response_id, nid, base.c.cid, base.c.year)
    ).subquery()
    return db.session.execute(
        sa.select(per_person.c.nid, per_person.c.cid, per_person.c.year, sa.func.sum(per_person.c.score),
                  sa.func.count())
        .group_by(per_person.c.nid, per_person.c.cid, per_person.c.year)
    ).all()
