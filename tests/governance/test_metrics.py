"""The computed metrics of the référentiel (governance/sources.py): exact figures per unit and
year on small data built here, where each participation is counted (attribution), the défi filter,
and the protection of counts of people and amounts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from participation.budgets.models import Phase, Process, ProcessPhase, Proposal, VoteRecord
from participation.core.channels import Channel
from participation.core.territories import (Category, CategoryKind, Commune, Contract, Indicator, IndicatorSource,
                                            Neighbourhood, Scope)
from participation.extensions import db
from participation.followup import services as followup
from participation.followup.models import Institution, Kind, Status
from participation.fph.models import AppStatus, Application, Bilan, Fund, FundingSource, SourceKind
from participation.governance import metrics, sources
from participation.governance.metrics import METRICS, contract_units, grid
from participation.questionnaires.models import (Answer, Kind as QuestionKind, Option, Question, Questionnaire,
                                                 QuestionnaireVersion, Response, Section)
from participation.tables.attendance import local_now
from participation.tables.models import CheckIn, Meeting, MeetingStatus, NeighbourhoodTable, PaperTally, TallyDimension
from participation.walks.models import Observation, Walk, WalkProfileCount, WalkStatus

TODAY = date.today()


# --- a small contract of our own ------------------------------------------------------------------


@dataclass
class World:
    contract: Contract
    alpha: Commune
    beta: Commune
    n1: Neighbourhood  # Alpha / Nord, 5,000 inhabitants
    n2: Neighbourhood  # Alpha / Sud, 3,000 inhabitants
    n3: Neighbourhood  # Beta / Centre, population unknown
    d1: Category
    o11: Category  # an orientation under D1
    d2: Category

    @property
    def units(self):
        return contract_units(self.contract)

    def unit(self, place=None) -> int:
        """The index of a neighbourhood's, a commune's (commune-wide) or the contract's unit."""
        for i, u in enumerate(self.units):
            if isinstance(place, Neighbourhood) and u.neighbourhood_id == place.id:
                return i
            if isinstance(place, Commune) and u.level == "commune" and u.commune_id == place.id:
                return i
            if place is None and u.level == "contract":
                return i
        raise LookupError(place)

    def grid(self, key, **kw):
        return grid(self.contract, METRICS[key], **kw)

    def rows(self, key, **kw):
        """The metric's raw rows, as {(neighbourhood id, commune id, year): (value, extra)}."""
        return {(n, c, int(y)): (_num(v), _num(e)) for n, c, y, v, e in METRICS[key].compute(self.contract.id, 2024, 2030, **kw)}


def _num(x):
    return None if x is None else (int(x) if float(x).is_integer() else float(x))


def build_world() -> World:
    contract = Contract(slug="gov-test", name="Contrat test", period_start=2024, period_end=2030)
    alpha = Commune(contract=contract, insee_code="99001", name="Alpha")
    beta = Commune(contract=contract, insee_code="99002", name="Beta")
    n1 = Neighbourhood(commune=alpha, qpv_code="QNT0001", name="Nord", population=5000)
    n2 = Neighbourhood(commune=alpha, qpv_code="QNT0002", name="Sud", population=3000)
    n3 = Neighbourhood(commune=beta, qpv_code="QNT0003", name="Centre", population=None)
    d1 = Category(contract=contract, kind=CategoryKind.challenge, code="D1", name="Cadre de vie")
    o11 = Category(contract=contract, kind=CategoryKind.orientation, code="O1.1", name="Espaces publics", parent=d1)
    d2 = Category(contract=contract, kind=CategoryKind.challenge, code="D2", name="Emploi")
    db.session.add_all([contract, alpha, beta, n1, n2, n3, d1, o11, d2])
    db.session.flush()
    return World(contract, alpha, beta, n1, n2, n3, d1, o11, d2)


@pytest.fixture
def world(app):
    return build_world()


# --- builders (models, as the services leave them) -----------------------------------------------


def make_table(w: World, place) -> NeighbourhoodTable:
    s = place.scope
    table = NeighbourhoodTable(contract_id=s.contract_id, commune_id=s.commune_id, neighbourhood_id=s.neighbourhood_id,
                               name="Table", original_locale="fr")
    table.neighbourhoods = [place] if isinstance(place, Neighbourhood) else list(place.neighbourhoods)
    db.session.add(table)
    db.session.flush()
    return table


def make_meeting(table, starts_at: datetime, status=MeetingStatus.held) -> Meeting:
    meeting = Meeting(table=table, starts_at=starts_at, status=status, title="Réunion", original_locale="fr")
    db.session.add(meeting)
    db.session.flush()
    return meeting


def checkins(meeting, n, **values):
    db.session.add_all([CheckIn(meeting_id=meeting.id, **values) for _ in range(n)])
    db.session.flush()


def paper(meeting, total, **breakdown):
    db.session.add(PaperTally(meeting_id=meeting.id, dimension=TallyDimension.total, value="", count=total))
    for key, n in breakdown.items():
        dimension, value = key.split("__")
        db.session.add(PaperTally(meeting_id=meeting.id, dimension=TallyDimension(dimension), value=value, count=n))
    db.session.flush()


def make_questionnaire(w: World, place) -> Questionnaire:
    s = place.scope
    q = Questionnaire(contract_id=s.contract_id, commune_id=s.commune_id, neighbourhood_id=s.neighbourhood_id,
                      title="Questionnaire", original_locale="fr")
    db.session.add(q)
    db.session.flush()
    version = QuestionnaireVersion(questionnaire=q, number=1)
    db.session.add(version)
    db.session.flush()
    return q


def responses(q: Questionnaire, n, on: date, **values):
    values.setdefault("locale", "fr")
    db.session.add_all([Response(questionnaire_id=q.id, version_id=q.versions[0].id, submitted_on=on, **values)
                        for _ in range(n)])
    db.session.flush()


def make_process(w: World, place, title="Budget") -> Process:
    s = place.scope
    process = Process(contract_id=s.contract_id, commune_id=s.commune_id, neighbourhood_id=s.neighbourhood_id,
                      title=title, envelope=100000, original_locale="fr")
    db.session.add(process)
    db.session.flush()
    return process


def votes(process, n, on: date, neighbourhood=None, channel=Channel.web):
    start = db.session.scalar(sa.select(sa.func.count()).where(VoteRecord.process_id == process.id))
    db.session.add_all([
        VoteRecord(process_id=process.id, voter_key=f"code:{start + i}", channel=channel,
                   neighbourhood_id=neighbourhood.id if neighbourhood else None, voted_on=on)
        for i in range(n)
    ])
    db.session.flush()


def proposal(process, on: date, **values) -> Proposal:
    number = (db.session.scalar(sa.select(sa.func.max(Proposal.number)).where(Proposal.process_id == process.id)) or 0) + 1
    values.setdefault("original_locale", "fr")
    p = Proposal(process_id=process.id, number=number, title=f"Idée {number}", description="…", submitted_on=on,
                 **values)
    db.session.add(p)
    db.session.flush()
    return p


def make_fund(w: World, place, year: int, **sources) -> Fund:
    s = place.scope
    fund = Fund(contract_id=s.contract_id, commune_id=s.commune_id, neighbourhood_id=s.neighbourhood_id,
                name=f"FPH {year}", year=year, envelope=sum(sources.values()) or 50000, original_locale="fr")
    fund.sources = [FundingSource(kind=SourceKind(k), amount=v) for k, v in sources.items()]
    db.session.add(fund)
    db.session.flush()
    return fund


def application(fund, status=AppStatus.submitted, granted=None, neighbourhood=None, category=None, participants=None,
                **values) -> Application:
    n = len(fund.applications) + 1
    values.setdefault("original_locale", "fr")
    app_ = Application(fund=fund, reference=f"FPH-{fund.year}-{n:03d}", title=f"Projet {n}", amount_requested=2000,
                       submitted_on=date(fund.year, 2, 1), status=status, granted_amount=granted,
                       neighbourhood_id=neighbourhood.id if neighbourhood else None,
                       category_id=category.id if category else None, **values)
    db.session.add(app_)
    db.session.flush()
    if participants is not None:
        db.session.add(Bilan(application_id=app_.id, participants=participants, received_on=date(fund.year, 11, 1)))
        db.session.flush()
    return app_


def make_walk(w: World, place: Neighbourhood, on: date, participants=None, status=WalkStatus.walked,
              observations=0, **profile) -> Walk:
    walk = Walk(contract_id=w.contract.id, commune_id=place.commune_id, neighbourhood_id=place.id, title="Marche",
                walked_on=on, status=status, participants=participants, original_locale="fr")
    db.session.add(walk)
    db.session.flush()
    for i in range(observations):
        db.session.add(Observation(walk_id=walk.id, number=i + 1, client_id=f"obs-{walk.id}-{i}", original_locale="fr"))
    for key, n in profile.items():
        dimension, value = key.split("__")
        db.session.add(WalkProfileCount(walk_id=walk.id, dimension=dimension, value=value, count=n))
    db.session.flush()
    return walk


def institution(w: World) -> Institution:
    inst = db.session.scalar(sa.select(Institution).filter_by(contract_id=w.contract.id))
    if inst is None:
        inst = Institution(contract_id=w.contract.id, name="Bailleur", answer_days=30, original_locale="fr")
        db.session.add(inst)
        db.session.flush()
    return inst


def demand(w: World, place, *, sent=None, answered=None, done=None, kind=Kind.interpellation, category=None,
           answer_due=None, action_due=None):
    item = followup.create(kind, place.scope if place is not None else Scope(w.contract.id), "Une demande",
                           institution=institution(w), category_id=category.id if category else None,
                           on=sent or TODAY)
    if sent:
        followup.move(item, Status.sent, on=sent, answer_due_on=answer_due)
    if answered:
        followup.move(item, Status.answered, on=answered, action_due_on=action_due)
    if done:
        followup.move(item, Status.done, on=done)
    return item


# --- every metric ----------------------------------------------------------------------------------


def test_every_metric_has_a_definition_and_computes_over_the_demo_contract(demo):
    amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    d1 = db.session.scalar(sa.select(Category).filter_by(contract_id=amp.id, code="D1"))
    expanded = [d1.id, *db.session.scalars(sa.select(Category.id).where(Category.parent_id == d1.id))]
    for key, m in METRICS.items():
        assert str(m.definition).endswith(".") and len(str(m.definition)) > 40, key
        if m.per_indicator:
            continue
        g = grid(amp, m, category_ids=expanded if m.by_category else None)
        assert len(g.years) == 7, key
        g.value()  # the grand figure can always be read
    assert {k for k in METRICS} >= {
        "budgets.voters", "budgets.proposals", "budgets.funded_amount", "budgets.turnout", "fph.projects_funded",
        "fph.granted", "fph.residents_involved", "followup.raised", "followup.answered", "followup.done",
        "followup.overdue", "followup.answer_days", "walks.held", "walks.participants", "walks.observations"}


def test_kinds_and_category_filters_are_declared():
    kinds = {k: (m.kind, m.by_category) for k, m in METRICS.items()}
    assert kinds["budgets.voters"] == (metrics.PEOPLE, False)
    assert kinds["budgets.turnout"] == (metrics.RATE, False)
    assert kinds["budgets.funded_amount"] == (metrics.COUNT, True)
    assert kinds["fph.granted"] == (metrics.AMOUNT, True)
    assert kinds["fph.projects_funded"] == (metrics.COUNT, True)
    assert kinds["followup.answer_days"] == (metrics.DAYS, True)
    assert kinds["walks.participants"] == (metrics.PEOPLE, False)


# --- tables (the lead's metrics: the "already started" clock) -------------------------------------


def test_a_planned_meeting_that_started_minutes_ago_local_time_was_held(world):
    table = make_table(world, world.n1)
    now = local_now()
    started = make_meeting(table, now - timedelta(minutes=20), status=MeetingStatus.planned)
    make_meeting(table, now + timedelta(hours=3), status=MeetingStatus.planned)  # not yet
    make_meeting(table, now - timedelta(days=3), status=MeetingStatus.cancelled)
    checkins(started, 12)
    # Meeting times are local wall-clock times: the database's clock (UTC) would still call it future.
    assert world.rows("tables.meetings") == {(world.n1.id, world.alpha.id, now.year): (1, None)}
    assert world.grid("tables.participations").value([world.unit(world.n1)], [now.year]).number == 12


# --- questionnaires: the questions tagged with an indicator ---------------------------------------


def tagged_question(version, indicator, code, kind=QuestionKind.scale) -> Question:
    section = Section(version_id=version.id, position=0, original_locale="fr")
    db.session.add(section)
    db.session.flush()
    question = Question(version_id=version.id, section_id=section.id, code=code, kind=kind, text="Satisfait ?",
                        indicator_id=indicator.id if indicator else None, original_locale="fr")
    db.session.add(question)
    db.session.flush()
    if kind == QuestionKind.scale:
        db.session.add_all([Option(question_id=question.id, position=i, code=str(i), label=str(i), original_locale="fr")
                            for i in range(1, 6)])
        db.session.add(Option(question_id=question.id, position=6, code="dk", label="Ne sait pas", is_dont_know=True,
                              original_locale="fr"))
        db.session.flush()
    return question


def respondent(version, on: date, neighbourhood=None, **answers) -> Response:
    """One response; `answers`: question → option code (a str) or number, as {"q": (question, value)}."""
    r = Response(questionnaire_id=version.questionnaire_id, version_id=version.id, submitted_on=on, locale="fr",
                 neighbourhood_id=neighbourhood.id if neighbourhood else None)
    db.session.add(r)
    db.session.flush()
    for question, value in answers.values():
        option = (db.session.scalar(sa.select(Option).filter_by(question_id=question.id, code=value))
                  if isinstance(value, str) else None)
        db.session.add(Answer(response_id=r.id, question_id=question.id, option_id=option.id if option else None,
                              number=None if isinstance(value, str) else value, neighbourhood_id=r.neighbourhood_id,
                              channel=Channel.web, locale="fr", submitted_on=on))
    db.session.flush()
    return r


def test_tagged_questions_share_and_mean_by_respondent_place_and_the_year_answered(world):
    indicator = Indicator(contract=world.contract, code="I-SAT", name="Satisfaction", source=IndicatorSource.computed,
                          metric="questionnaires.share", option_codes=["4", "5"], original_locale="fr")
    db.session.add(indicator)
    db.session.flush()
    nord = make_questionnaire(world, world.n1)
    q1 = tagged_question(nord.versions[0], indicator, "Q1")
    untagged = tagged_question(nord.versions[0], None, "Q2")
    v1 = nord.versions[0]
    respondent(v1, date(2024, 12, 31), world.n2, a=(q1, "5"), b=(untagged, "1"))  # declared Sud, the last day of 2024
    respondent(v1, date(2025, 1, 1), a=(q1, "2"), b=(untagged, "5"))  # no place given: the questionnaire's
    respondent(v1, date(2025, 6, 1), world.n1, a=(q1, "dk"))  # "don't know": left out of both
    respondent(v1, date(2023, 12, 31), a=(q1, "5"))  # before the years asked for
    respondent(v1, date(2031, 1, 1), a=(q1, "4"))  # after them
    # A commune-wide questionnaire whose tagged questions are on its second version.
    alpha = make_questionnaire(world, world.alpha)
    v2 = QuestionnaireVersion(questionnaire=alpha, number=2)
    db.session.add(v2)
    db.session.flush()
    q3 = tagged_question(v2, indicator, "Q1")
    q4 = tagged_question(v2, indicator, "Q9", kind=QuestionKind.number)
    respondent(v2, date(2025, 3, 1), a=(q3, "4"), b=(q4, 3.0))  # counted once: their own average, 3.5
    respondent(v2, date(2025, 3, 2), b=(q4, 7.5))  # a number only: not in the share
    a, n1, n2 = world.alpha.id, world.n1.id, world.n2.id
    assert world.rows("questionnaires.share", indicator=indicator) == {
        (n2, a, 2024): (1, 1), (n1, a, 2025): (0, 1), (None, a, 2025): (1, 1)}
    assert world.rows("questionnaires.mean", indicator=indicator) == {
        (n2, a, 2024): (5, 1), (n1, a, 2025): (2, 1), (None, a, 2025): (11, 2)}
    assert {(n, int(y)) for n, _c, y, _v, _e in METRICS["questionnaires.share"].compute(
        world.contract.id, 2025, 2025, indicator=indicator)} == {(n1, 2025), (None, 2025)}


# --- budgets ------------------------------------------------------------------------------------------


def test_voters_counted_where_they_live_else_in_the_process_scope_in_the_year_they_voted(world):
    commune_wide = make_process(world, world.alpha)
    votes(commune_wide, 7, date(2025, 5, 3), world.n1)
    votes(commune_wide, 30, date(2025, 5, 4), world.n2)
    votes(commune_wide, 12, date(2025, 5, 4))  # no neighbourhood: the commune-wide unit
    votes(commune_wide, 20, date(2026, 1, 2), world.n1)
    votes(commune_wide, 25, date(2026, 1, 2), world.n2)
    own = make_process(world, world.n3, "Budget du Centre")
    votes(own, 15, date(2025, 6, 1))  # a neighbourhood's own budget
    a, n1, n2, n3 = world.alpha.id, world.n1.id, world.n2.id, world.n3.id
    assert world.rows("budgets.voters") == {
        (n1, a, 2025): (7, None), (n2, a, 2025): (30, None), (None, a, 2025): (12, None),
        (n1, a, 2026): (20, None), (n2, a, 2026): (25, None), (n3, world.beta.id, 2025): (15, None),
    }
    g = world.grid("budgets.voters")
    u1, u2, u3 = world.unit(world.n1), world.unit(world.n2), world.unit(world.n3)
    assert g.cells[(u1, 2025)].text == "s"  # 7 voters
    # …and a second cell goes too, or "2025 total − the others" would give it back.
    others_2025 = [g.cells[(u, 2025)] for u in range(len(g.units)) if u != u1]
    assert any(c.suppressed for c in others_2025)
    assert (g.unit_totals[u1].number, g.unit_totals[u2].number) == (27, 55)
    assert (g.year_totals[2025].number, g.year_totals[2026].number, g.grand.number) == (64, 45, 109)
    assert g.cells[(u3, 2024)].number == 0
    alpha = metrics.unit_ids_in(g.units, world.alpha.id, None)
    assert g.value(alpha, [2025]).text == "s"  # adds up a hidden cell


def test_proposals_by_submission_year_the_ideas_place_and_the_defi(world):
    process = make_process(world, world.alpha)
    proposal(process, date(2025, 3, 1), neighbourhood_id=world.n1.id, category_id=world.o11.id)
    proposal(process, date(2025, 3, 2), neighbourhood_id=world.n1.id, category_id=world.d2.id, is_hidden=True,
             hidden_reason="doublon")
    proposal(process, date(2025, 3, 3), category_id=world.d1.id)  # no place: the process's (the commune)
    proposal(process, date(2026, 1, 5), neighbourhood_id=world.n2.id)
    a = world.alpha.id
    assert world.rows("budgets.proposals") == {
        (world.n1.id, a, 2025): (2, None), (None, a, 2025): (1, None), (world.n2.id, a, 2026): (1, None)}
    d1 = [world.d1.id, world.o11.id]
    assert world.rows("budgets.proposals", category_ids=d1) == {(world.n1.id, a, 2025): (1, None),
                                                                 (None, a, 2025): (1, None)}
    g = world.grid("budgets.proposals", category_ids=d1)
    assert g.value(metrics.unit_ids_in(g.units, world.alpha.id, None)).number == 2


def test_money_allocated_is_the_selected_projects_cost_in_the_year_the_vote_ended(world):
    voted = make_process(world, world.alpha)
    proposal(voted, date(2024, 10, 1), neighbourhood_id=world.n1.id, estimated_cost=20000, revised_cost=24000,
             is_selected=True, category_id=world.d1.id)
    proposal(voted, date(2024, 10, 2), neighbourhood_id=world.n1.id, estimated_cost=9000, is_selected=True)
    proposal(voted, date(2024, 10, 3), neighbourhood_id=world.n2.id, estimated_cost=50000)  # not selected
    votes(voted, 3, date(2024, 12, 30))
    votes(voted, 2, date(2025, 1, 10))  # the last vote: the vote ended in 2025
    planned = make_process(world, world.n3, "Sans votes enregistrés")
    db.session.add(ProcessPhase(process_id=planned.id, phase=Phase.vote, position=2, starts_on=date(2026, 5, 1),
                                ends_on=date(2026, 5, 31)))
    proposal(planned, date(2026, 2, 1), estimated_cost=7000, is_selected=True)
    assert world.rows("budgets.funded_amount") == {
        (world.n1.id, world.alpha.id, 2025): (33000, None), (world.n3.id, world.beta.id, 2026): (7000, None)}
    assert world.rows("budgets.funded_amount", category_ids=[world.d1.id, world.o11.id]) == {
        (world.n1.id, world.alpha.id, 2025): (24000, None)}
    assert world.grid("budgets.funded_amount").value(years=[2025]).number == 33000  # public results: never "s"


def test_turnout_is_the_voters_living_in_a_covered_neighbourhood_over_its_population(world):
    commune_wide = make_process(world, world.alpha)
    votes(commune_wide, 600, date(2025, 5, 3), world.n1)
    votes(commune_wide, 150, date(2025, 5, 3), world.n2)
    votes(commune_wide, 40, date(2025, 5, 3))  # gave no neighbourhood: left out of the turnout
    centre = make_process(world, world.n3, "Centre")  # population unknown: no turnout
    votes(centre, 50, date(2025, 5, 3))
    # The query gives the populations; the numerators are the voters figure's cells.
    rows = world.rows("budgets.turnout")
    assert rows == {(world.n1.id, world.alpha.id, 2025): (None, 5000), (world.n2.id, world.alpha.id, 2025): (None, 3000)}
    g = world.grid("budgets.turnout")
    u1, u2 = world.unit(world.n1), world.unit(world.n2)
    assert g.value([u1], [2025]).number == 12.0
    assert g.value([u2], [2025]).number == 5.0
    assert g.value(metrics.unit_ids_in(g.units, world.alpha.id, None), [2025]).number == round(100 * 750 / 8000, 1)
    assert not g.value([world.unit(world.n3)]).shown  # no population, no rate
    assert not g.value([u1], [2026]).shown  # no vote that year: not a 0 %


def test_turnout_counts_a_covered_neighbourhood_where_nobody_voted_as_zero_and_hides_small_numerators(world):
    commune_wide = make_process(world, world.alpha)
    votes(commune_wide, 600, date(2025, 5, 3), world.n1)
    votes(commune_wide, 4, date(2025, 5, 3), world.n2)
    rows = world.rows("budgets.turnout")
    assert rows[(world.n2.id, world.alpha.id, 2025)] == (None, 3000)
    g = world.grid("budgets.turnout")
    assert g.value([world.unit(world.n2)], [2025]).text == "s"  # 4 voters of 3,000 residents
    votes(commune_wide, 40, date(2025, 5, 3), world.n2)
    again = make_process(world, world.alpha, "Budget 2026")
    votes(again, 300, date(2026, 4, 1), world.n1)
    rows = world.rows("budgets.turnout")
    assert rows[(world.n2.id, world.alpha.id, 2026)] == (None, 3000)  # covered, nobody from there voted
    g = world.grid("budgets.turnout")
    assert g.value([world.unit(world.n2)], [2026]).number == 0.0
    # Two votes: the populations add up, the rate is an average per vote.
    assert g.value([world.unit(world.n1)]).number == round(100 * 900 / 10000, 1)
    assert g.value([world.unit(world.n2)]).number == round(100 * 44 / 6000, 1)


def test_turnout_is_shown_only_where_the_voters_it_is_computed_from_are(world):
    """Populations are public: a turnout shown where the voters figure is "s" gives the voters back
    (turnout × population), and with them the small count that cell was hiding."""
    world.n3.population = 4000
    alpha_wide = make_process(world, world.alpha)
    votes(alpha_wide, 7, date(2025, 5, 3), world.n1)
    votes(alpha_wide, 30, date(2025, 5, 3), world.n2)
    centre = make_process(world, world.n3, "Centre 2025")
    votes(centre, 12, date(2025, 6, 1))
    later = make_process(world, world.n3, "Centre 2026")  # its vote ran over the new year
    votes(later, 20, date(2025, 12, 20))
    votes(later, 11, date(2026, 1, 3))
    voters, turnout = world.grid("budgets.voters"), world.grid("budgets.turnout")
    u1, u2 = world.unit(world.n1), world.unit(world.n2)
    assert voters.cells[(u1, 2025)].suppressed  # 7 voters
    assert voters.cells[(u2, 2025)].suppressed  # the second cell that keeps "total − the others" from giving the 7
    assert not turnout.cells[(u2, 2025)].shown  # 30 of 3,000: 1.0 would give the 30, then the 7
    hoods = [i for i, u in enumerate(voters.units) if u.level == "neighbourhood"]
    for u in hoods:
        for y in voters.years:
            if voters.cells[(u, y)].suppressed:
                assert not turnout.cells[(u, y)].shown, (voters.units[u].name, y)
    # Where the voters are shown, the turnout is those voters over the population.
    for u, y in [(u, y) for u in hoods for y in voters.years if turnout.cells[(u, y)].shown]:
        population = {world.n1.id: 5000, world.n2.id: 3000, world.n3.id: 4000}[voters.units[u].neighbourhood_id]
        assert turnout.cells[(u, y)].number == round(100 * voters.cells[(u, y)].number / population, 1)
    # A total of the turnout is read from the voters figure's shown figures only.
    assert turnout.value(metrics.unit_ids_in(turnout.units, world.alpha.id, None), [2025]).text == "s"
    # A report that already has the voters' grid passes it; any other grid is refused.
    assert world.grid("budgets.turnout", numerator=voters).cells == turnout.cells
    with pytest.raises(ValueError):
        world.grid("budgets.turnout", numerator=world.grid("walks.participants"))


# --- FPH ------------------------------------------------------------------------------------------------


def _fph_world(w: World):
    fund = make_fund(w, w.alpha, 2025, state=6000, commune=3000, tfpb=1000)
    application(fund, AppStatus.granted, 1000, w.n1, w.o11, participants=40)
    application(fund, AppStatus.paid, 500, w.n1, w.d1, participants=12)
    application(fund, AppStatus.closed, 700, w.n1, w.d2, participants=None)
    application(fund, AppStatus.granted, 800, w.n2, w.d1, participants=6)
    application(fund, AppStatus.bilan_received, 400, w.n2, participants=9)
    application(fund, AppStatus.granted, 300, None, w.d2)  # no place: the fund's (the commune)
    application(fund, AppStatus.refused, None, w.n1, w.d1)
    application(fund, AppStatus.withdrawn, None, w.n1, w.d1)
    application(fund, AppStatus.submitted, None, w.n2)
    old = make_fund(w, w.n3, 2023, state=9999)  # before the contract's period
    application(old, AppStatus.granted, 900, w.n3)
    return fund


def test_projects_funded_and_money_granted_by_fund_year_and_project_place(world):
    _fph_world(world)
    a, n1, n2 = world.alpha.id, world.n1.id, world.n2.id
    assert world.rows("fph.projects_funded") == {(n1, a, 2025): (3, None), (n2, a, 2025): (2, None),
                                                 (None, a, 2025): (1, None)}
    assert world.rows("fph.granted") == {(n1, a, 2025): (2200, 3), (n2, a, 2025): (1200, 2), (None, a, 2025): (300, 1)}
    d1 = [world.d1.id, world.o11.id]
    assert world.rows("fph.projects_funded", category_ids=d1) == {(n1, a, 2025): (2, None), (n2, a, 2025): (1, None)}
    assert world.rows("fph.granted", category_ids=d1) == {(n1, a, 2025): (1500, 2), (n2, a, 2025): (800, 1)}


def test_an_amount_shared_by_fewer_than_three_projects_is_hidden(world):
    _fph_world(world)
    g = world.grid("fph.granted")
    u1, u2, ua = world.unit(world.n1), world.unit(world.n2), world.unit(world.alpha)
    assert g.cells[(u1, 2025)].number == 2200  # 3 projects
    assert g.cells[(u2, 2025)].text == "s"  # 2 projects
    assert g.cells[(ua, 2025)].text == "s"  # 1 project
    assert g.grand.number == 3700  # 6 projects: "total − the others" covers two hidden amounts
    by_defi = world.grid("fph.granted", category_ids=[world.d1.id, world.o11.id])
    assert by_defi.cells[(u1, 2025)].text == "s" and by_defi.cells[(u2, 2025)].text == "s"  # 2 and 1 projects
    assert by_defi.grand.number == 2300  # 3 projects together
    assert world.grid("fph.projects_funded").cells[(u2, 2025)].number == 2  # a count of projects is shown


def test_residents_involved_are_the_participants_written_in_the_bilans(world):
    _fph_world(world)
    a = world.alpha.id
    assert world.rows("fph.residents_involved") == {(world.n1.id, a, 2025): (52, None), (world.n2.id, a, 2025): (15, None)}
    g = world.grid("fph.residents_involved")
    assert g.cells[(world.unit(world.n1), 2025)].number == 52
    assert g.cells[(world.unit(world.n2), 2025)].number == 15
    assert world.rows("fph.residents_involved", category_ids=[world.d1.id, world.o11.id]) == {
        (world.n1.id, a, 2025): (52, None), (world.n2.id, a, 2025): (6, None)}


def test_fph_money_by_source_kind_and_granted_by_category(world):
    _fph_world(world)
    other = make_fund(world, world.n2, 2026, state=2000, other=500)
    application(other, AppStatus.granted, 250, world.n2, world.d1)
    cid = world.contract.id
    assert sources.fph_money_by_source(cid, 2024, 2030) == [
        (SourceKind.state, 8000), (SourceKind.commune, 3000), (SourceKind.tfpb, 1000), (SourceKind.other, 500)]
    assert sources.fph_money_by_source(cid, 2025, 2025) == [
        (SourceKind.state, 6000), (SourceKind.commune, 3000), (SourceKind.tfpb, 1000)]
    units = world.units
    only_sud = metrics.unit_ids_in(units, None, world.n2.id)
    assert sources.fph_money_by_source(cid, 2024, 2030, units=units, unit_ids=only_sud) == [
        (SourceKind.state, 2000), (SourceKind.other, 500)]
    assert sorted(sources.fph_granted_by_category(cid, 2025, 2025), key=str) == sorted([
        (world.d1.id, 1300, 2), (world.o11.id, 1000, 1), (world.d2.id, 1000, 2), (None, 400, 1)], key=str)
    assert sources.fph_granted_by_category(cid, 2024, 2030, units=units, unit_ids=only_sud) == [
        (world.d1.id, 1050, 2), (None, 400, 1)]


# --- follow-up of demands ---------------------------------------------------------------------------


def test_demands_raised_answered_done_and_overdue_by_the_year_sent(world):
    demand(world, world.n1, sent=date(2025, 3, 1), answered=date(2025, 3, 11), done=date(2025, 6, 1),
           category=world.o11)
    demand(world, world.n1, sent=date(2025, 5, 1), answer_due=date(2025, 6, 1), category=world.d2)  # overdue
    demand(world, world.n1, sent=date(2025, 5, 1), answered=date(2025, 5, 31), action_due=date(2025, 9, 1),
           kind=Kind.recommendation, category=world.d1)  # answered, the promised day passed: overdue
    demand(world, world.n2, sent=date(2025, 12, 30), answered=date(2026, 1, 9))
    demand(world, world.alpha, sent=date(2026, 2, 1), answer_due=TODAY + timedelta(days=30))
    demand(world, world.n1)  # a draft: never counted
    a, n1, n2 = world.alpha.id, world.n1.id, world.n2.id
    assert world.rows("followup.raised") == {(n1, a, 2025): (3, None), (n2, a, 2025): (1, None),
                                             (None, a, 2026): (1, None)}
    assert world.rows("followup.answered") == {(n1, a, 2025): (2, None), (n2, a, 2025): (1, None)}
    assert world.rows("followup.done") == {(n1, a, 2025): (1, None)}
    assert world.rows("followup.overdue") == {(n1, a, 2025): (2, None)}
    assert world.rows("followup.overdue", today=date(2025, 5, 15)) == {}
    d1 = [world.d1.id, world.o11.id]
    assert world.rows("followup.raised", category_ids=d1) == {(n1, a, 2025): (2, None)}
    assert world.rows("followup.overdue", category_ids=d1) == {(n1, a, 2025): (1, None)}
    g = world.grid("followup.raised")
    assert g.cells[(world.unit(world.alpha), 2026)].number == 1 and g.grand.number == 5


def test_answer_delays_are_one_row_per_answered_demand_and_their_median_is_shown(world):
    demand(world, world.n1, sent=date(2025, 3, 1), answered=date(2025, 3, 11))  # 10 days
    demand(world, world.n1, sent=date(2025, 2, 1), answered=date(2025, 3, 3))  # 30 days (over February's end)
    demand(world, world.n2, sent=date(2025, 12, 30), answered=date(2026, 1, 9))  # 10 days, over the new year
    demand(world, world.n2, sent=date(2024, 2, 28), answered=date(2024, 3, 1))  # 2 days (29 February)
    demand(world, world.n2, sent=date(2025, 4, 1))  # not answered: no delay
    rows = METRICS["followup.answer_days"].compute(world.contract.id, 2024, 2030)
    assert sorted((n, y, int(d)) for n, _c, y, d, _e in rows) == [
        (world.n1.id, 2025, 10), (world.n1.id, 2025, 30), (world.n2.id, 2024, 2), (world.n2.id, 2025, 10)]
    g = world.grid("followup.answer_days")
    assert g.value().number == 10.0
    assert g.value([world.unit(world.n1)]).number == 20.0
    assert g.value(years=[2024]).number == 2.0
    assert not g.value(years=[2026]).shown


def test_a_range_of_days_selects_the_same_rows_as_the_extracted_year(app):
    values = [(sa.Date, date(2024, 12, 31)), (sa.Date, date(2025, 1, 1)), (sa.Date, date(2025, 12, 31)),
              (sa.Date, date(2026, 1, 1)), (sa.DateTime, datetime(2024, 12, 31, 23, 59, 59, 999999)),
              (sa.DateTime, datetime(2025, 1, 1, 0, 0)), (sa.DateTime, datetime(2025, 12, 31, 23, 59, 59)),
              (sa.DateTime, datetime(2026, 1, 1, 0, 0))]
    for type_, value in values:
        column = sa.literal(value, type_)
        for span in [(2025, 2025), (2024, 2025), (2026, 2030)]:
            by_range = db.session.scalar(sa.select(metrics.in_years(column, *span)))
            by_year = db.session.scalar(sa.select(metrics.year_of(column).between(*span)))
            assert bool(by_range) == bool(by_year), (value, span)


def test_days_between_is_the_same_on_sqlite_and_postgresql(app):
    later, earlier = sa.literal(date(2024, 3, 1), sa.Date), sa.literal(date(2023, 12, 31), sa.Date)
    assert db.session.scalar(sa.select(sources.days_between(later, earlier))) == 61
    assert db.session.scalar(sa.select(sources.days_between(earlier, earlier))) == 0


# --- walks ----------------------------------------------------------------------------------------------


def test_walks_held_walkers_and_observations(world):
    make_walk(world, world.n1, date(2025, 4, 2), participants=18, observations=5)
    make_walk(world, world.n1, date(2025, 10, 2), participants=None, status=WalkStatus.published, observations=2)
    make_walk(world, world.n1, date(2025, 6, 2), participants=40, status=WalkStatus.planned, observations=1)  # not held
    make_walk(world, world.n3, date(2026, 3, 1), participants=12, observations=0)
    a, b, n1, n3 = world.alpha.id, world.beta.id, world.n1.id, world.n3.id
    assert world.rows("walks.held") == {(n1, a, 2025): (2, None), (n3, b, 2026): (1, None)}
    assert world.rows("walks.participants") == {(n1, a, 2025): (18, None), (n3, b, 2026): (12, None)}
    assert world.rows("walks.observations") == {(n1, a, 2025): (7, None)}
    assert world.grid("walks.participants").grand.number == 30


def test_a_neighbourhood_of_seven_walkers_is_s_and_a_second_cell_hides_it(world):
    make_walk(world, world.n1, date(2025, 4, 2), participants=7)
    make_walk(world, world.n2, date(2025, 5, 2), participants=30)
    make_walk(world, world.n3, date(2025, 6, 2), participants=25)
    make_walk(world, world.n2, date(2026, 5, 2), participants=20)
    g = world.grid("walks.participants")
    u1 = world.unit(world.n1)
    assert g.cells[(u1, 2025)].text == "s" and g.unit_totals[u1].text == "s"
    assert g.year_totals[2025].shown and g.year_totals[2025].number == 62
    hidden_2025 = [u for u in range(len(g.units)) if g.cells[(u, 2025)].suppressed]
    assert len(hidden_2025) >= 2  # the secondary cell: 62 − the shown ones would give the 7 back
    assert g.value(metrics.unit_ids_in(g.units, world.alpha.id, None), [2025]).text == "s"
    shown = sum(g.cells[(u, 2025)].number for u in range(len(g.units)) if g.cells[(u, 2025)].shown)
    assert 62 - shown > 7  # the shown cells leave more than the 7 unexplained


# --- where a participation is counted ---------------------------------------------------------------


def test_in_units_places_rows_as_the_grid_does(world):
    other = Contract(slug="ailleurs", name="Ailleurs", period_start=2024, period_end=2030)
    elsewhere_commune = Commune(contract=other, insee_code="99999", name="Loin")
    far = Neighbourhood(commune=elsewhere_commune, qpv_code="QNT9999", name="Loin", population=10)
    db.session.add_all([other, elsewhere_commune, far])
    db.session.flush()
    q = make_questionnaire(world, world.alpha)
    responses(q, 2, date(2025, 1, 1), neighbourhood_id=world.n1.id)
    responses(q, 3, date(2025, 1, 1), neighbourhood_id=far.id)  # another contract's: the questionnaire's commune
    responses(q, 4, date(2025, 1, 1))
    units = world.units
    place = sa.func.coalesce(Response.neighbourhood_id, Questionnaire.neighbourhood_id)

    def counted(unit_ids):
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Response).join(Questionnaire)
            .where(sources.in_units(world.contract.id, units, unit_ids, place, Questionnaire.commune_id)))

    assert counted(None) == 9
    assert counted(metrics.unit_ids_in(units, None, world.n1.id)) == 2
    assert counted([world.unit(world.alpha)]) == 7  # commune-wide: undeclared and foreign neighbourhoods
    assert counted(metrics.unit_ids_in(units, world.alpha.id, None)) == 9
    assert counted([world.unit(None)]) == 0
    assert counted(metrics.unit_ids_in(units, world.beta.id, None)) == 0
    g = world.grid("questionnaires.responses")
    assert g.unit_totals[world.unit(world.alpha)].text == "s"  # 7, computed the same way by the grid
