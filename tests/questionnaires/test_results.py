"""Results of a questionnaire: exact figures on a small hand-built dataset, filters, small-count
suppression (primary and secondary) on the page and in the comparison, who may see what, and
no 500 on nonsense in the query string. The demo barometer checks realistic volumes."""
from __future__ import annotations

import random
from datetime import date
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from participation.core.channels import Channel
from participation.core.territories import Commune, Neighbourhood
from participation.extensions import db
from participation.questionnaires import results as res
from participation.questionnaires.demo import BAROMETER_TITLE
from participation.questionnaires.models import (
    AgeBand, Answer, Gender, Kind, Moderation, Option, Question, Questionnaire, QuestionnaireVersion, Response, Section,
    Status,
)

from ..conftest import Auth

EVALUATOR = "evaluation@amp.demo"
FACILITATOR = "animatrice@amp.demo"
MEDIATOR = "mediateur@amp.demo"
OTHER_ADMIN = "admin@narbonne.demo"
PENDING_TEXT = "PENDING-SECRET-TEXT"
PENDING_OTHER = "OTHER-PENDING-TEXT"
REJECTED_TEXT = "REJECTED-TEXT"
FEATURED_TEXT = "Published and featured text"
PUBLISHED_TEXT = "Published only text"

# --- a small questionnaire whose every figure is known ------------------------------------------
#
# 35 responses, i = 0..34: Frais Vallon for i < 25, La Cayolle after; paper for 20 ≤ i < 30, web
# otherwise; Arabic when i % 7 == 0, French otherwise; March 2026 for i < 20, April after.
#   S  (single):   a for i < 20, b for 20 ≤ i < 32, c ("other", with a pending text) after → 20 / 12 / 3
#   YN (yes/no):   only i < 15: yes for i < 12, no after → 12 / 3
#   M  (multiple): x for i < 30, y for 10 ≤ i < 24, z for i ≥ 33 → 30 / 14 / 2 of 32 people
#   SC (scale):    "2" for i < 11, "3" for i < 23, "4" after → 11 / 12 / 12, mean 106 / 35
#   R  (ranking):  r1 > r2 > r3 for i < 20, r2 > r1 > r3 after
#   N  (number):   i % 5 → mean 2, median 2; min 0 and max 4 given by 7 people each: hidden
#   D  (date):     i < 12: January for i < 6, February after → 6 / 6
#   T  (text):     i < 13: featured, published, pending, rejected, then pending fillers

QUESTIONS = [
    ("S", Kind.single, [("a", "Option A"), ("b", "Option B"), ("c", "Autre")]),
    ("YN", Kind.yes_no, [("yes", "Oui"), ("no", "Non")]),
    ("M", Kind.multiple, [("x", "Choix X"), ("y", "Choix Y"), ("z", "Choix Z")]),
    ("SC", Kind.scale, [("1", "Un"), ("2", "Deux"), ("3", "Trois"), ("4", "Quatre"), ("5", "Cinq"), ("dk", "NSP")]),
    ("R", Kind.ranking, [("r1", "Rang un"), ("r2", "Rang deux"), ("r3", "Rang trois")]),
    ("N", Kind.number, []),
    ("D", Kind.date, []),
    ("T", Kind.long_text, []),
]


def build_questionnaire(commune: Commune, title: str = "Petit questionnaire") -> Questionnaire:
    q = Questionnaire(contract_id=commune.contract_id, commune_id=commune.id, title=title, status=Status.open,
                      original_locale="fr", ask_age_band=True, ask_gender=True, ask_residence=True)
    db.session.add(q)
    version = QuestionnaireVersion(questionnaire=q, number=1)
    db.session.add(version)
    db.session.flush()
    section = Section(version_id=version.id, position=0, title="Tout")
    db.session.add(section)
    db.session.flush()
    for pos, (code, kind, options) in enumerate(QUESTIONS):
        question = Question(version_id=version.id, section_id=section.id, position=pos, code=code, kind=kind,
                            text=f"Question {code} ?", allow_dont_know=code == "SC", allow_other=code == "S")
        db.session.add(question)
        db.session.flush()
        for o_pos, (o_code, label) in enumerate(options):
            db.session.add(Option(question_id=question.id, position=o_pos, code=o_code, label=label,
                                  is_other=(code == "S" and o_code == "c"), is_dont_know=o_code == "dk"))
    db.session.flush()
    db.session.refresh(q)
    return q


def add_response(version, neighbourhood_id, channel, locale, day, answers, age_band=None, gender=None) -> Response:
    """`answers`: (question, dict of Answer fields) pairs."""
    response = Response(questionnaire_id=version.questionnaire_id, version_id=version.id, channel=channel,
                        locale=locale, submitted_on=day, neighbourhood_id=neighbourhood_id, age_band=age_band,
                        gender=gender)
    db.session.add(response)
    for question, fields in answers:
        response.answers.append(Answer(question_id=question.id, neighbourhood_id=neighbourhood_id, channel=channel,
                                       locale=locale, submitted_on=day, **fields))
    return response


def fill_known_answers(q: Questionnaire, fv: Neighbourhood, lc: Neighbourhood) -> None:
    version = q.current_version
    qs = {question.code: question for question in version.questions}
    opt = {(question.code, o.code): o.id for question in version.questions for o in question.options}
    texts = [(FEATURED_TEXT, Moderation.published, True), (PUBLISHED_TEXT, Moderation.published, False),
             (PENDING_TEXT, Moderation.pending, False), (REJECTED_TEXT, Moderation.rejected, False)]
    texts += [(f"filler {k}", Moderation.pending, False) for k in range(9)]
    for i in range(35):
        answers = []
        s = "a" if i < 20 else "b" if i < 32 else "c"
        answers.append((qs["S"], {"option_id": opt[("S", s)], **({"text": PENDING_OTHER, "moderation": Moderation.pending}
                                                                 if s == "c" else {})}))
        if i < 15:
            answers.append((qs["YN"], {"option_id": opt[("YN", "yes" if i < 12 else "no")]}))
        for code, chosen in (("x", i < 30), ("y", 10 <= i < 24), ("z", i >= 33)):
            if chosen:
                answers.append((qs["M"], {"option_id": opt[("M", code)]}))
        answers.append((qs["SC"], {"option_id": opt[("SC", "2" if i < 11 else "3" if i < 23 else "4")]}))
        order = ["r1", "r2", "r3"] if i < 20 else ["r2", "r1", "r3"]
        answers += [(qs["R"], {"option_id": opt[("R", code)], "rank": rank}) for rank, code in enumerate(order, 1)]
        answers.append((qs["N"], {"number": float(i % 5)}))
        if i < 12:
            answers.append((qs["D"], {"day": date(2026, 1 if i < 6 else 2, 10)}))
        if i < 13:
            text, state, featured = texts[i]
            answers.append((qs["T"], {"text": text, "moderation": state, "featured": featured}))
        add_response(
            version, fv.id if i < 25 else lc.id, Channel.paper if 20 <= i < 30 else Channel.web,
            "ar" if i % 7 == 0 else "fr", date(2026, 3, i + 1) if i < 20 else date(2026, 4, i - 19), answers,
            age_band=AgeBand.a25_39 if i < 15 else None, gender=Gender.woman if i % 2 == 0 else Gender.man,
        )
    db.session.flush()


def marseille_places() -> tuple[Commune, Neighbourhood, Neighbourhood]:
    """Marseille, Frais Vallon and La Cayolle (demo territories)."""
    marseille = db.session.scalar(sa.select(Commune).filter_by(insee_code="13055"))
    fv = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    lc = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01306M"))
    return marseille, fv, lc


def small_questionnaire() -> Questionnaire:
    """The questionnaire above, with its 35 known responses, committed."""
    marseille, fv, lc = marseille_places()
    q = build_questionnaire(marseille)
    fill_known_answers(q, fv, lc)
    db.session.commit()
    return q


def the_barometer() -> Questionnaire:
    return db.session.scalar(sa.select(Questionnaire).filter_by(title=BAROMETER_TITLE))


def logged_in(app, email):
    client = app.test_client()
    assert Auth(client).login(email).status_code == 302
    return client


@pytest.fixture
def places(demo):
    return marseille_places()


@pytest.fixture
def small(demo):
    return small_questionnaire()


@pytest.fixture
def barometer(demo):
    return the_barometer()


@pytest.fixture
def login(app):
    return lambda email: logged_in(app, email)


def question(q: Questionnaire, code: str) -> Question:
    return next(x for x in q.current_version.questions if x.code == code)


# --- reading the page's tables ------------------------------------------------------------------


class Tables(HTMLParser):
    """Rows of every <table> inside the element with id `within` (cell texts, stripped)."""

    def __init__(self, within: str):
        super().__init__()
        self.within, self.depth, self.rows, self.row, self.cell = within, 0, [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth:
            self.depth += 1
        elif attrs.get("id") == self.within:
            self.depth = 1
        if not self.depth:
            return
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if not self.depth:
            return
        self.depth -= 1
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.depth and self.cell is not None:
            self.cell.append(data)


def table_rows(html: str, within: str) -> list[list[str]]:
    parser = Tables(within)
    parser.feed(html)
    return parser.rows


def page(client, q, query="", path="results") -> str:
    sep = "&" if query else ""
    response = client.get(f"/admin/questionnaires/{q.id}/{path}?lang=en{sep}{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def figures(html: str, code: str) -> dict[str, tuple[str, str]]:
    """{answer label: (respondents, percent)} of one question's table, plus the total row."""
    return {row[0]: tuple(row[1:3]) for row in table_rows(html, f"q-{code}") if row and row[0] != "Answer"}


# --- exact figures (service) ----------------------------------------------------------------------


def test_single_choice_counts_respondents_per_option(small):
    counts = res.option_counts(question(small, "S"))
    s = question(small, "S")
    assert counts.row(None) == [20, 12, 3]
    assert counts.answered[None] == 35
    assert [o.code for o in s.options] == ["a", "b", "c"]


def test_single_choice_line_hides_the_small_cell_and_its_companion(small):
    line = res.question_result(question(small, "S")).line
    assert [str(c) for c in line.cells] == ["20", "s", "s"]
    assert line.cells[0].percent == pytest.approx(100 * 20 / 35)
    assert line.total.value == 35


def test_yes_no_twelve_to_three_hides_both_since_the_total_is_shown(small):
    # 15 answered and "yes 12" would give "no 3": both are hidden, the total stays.
    line = res.question_result(question(small, "YN")).line
    assert [str(c) for c in line.cells] == ["s", "s"]
    assert line.total.value == 15


def test_multiple_choice_counts_distinct_respondents_and_needs_no_secondary(small):
    r = res.question_result(question(small, "M"))
    assert r.answered.value == 32
    assert [str(c) for c in r.line.cells] == ["30", "14", "s"]
    assert r.line.cells[1].percent == pytest.approx(100 * 14 / 32)


def test_scale_mean_leaves_dont_know_out(small):
    r = res.question_result(question(small, "SC"))
    assert [str(c) for c in r.line.cells] == ["0", "11", "12", "12", "0", "0"]
    assert r.mean == pytest.approx(106 / 35)


def test_ranking_gives_first_places_and_average_ranks(small):
    r = res.question_result(question(small, "R"))
    assert [str(c) for c in r.line.cells] == ["20", "15", "0"]
    assert r.average_ranks == [pytest.approx(50 / 35), pytest.approx(55 / 35), pytest.approx(3.0)]


def test_number_statistics(small):
    r = res.question_result(question(small, "N"))
    assert r.answered.value == 35
    assert dict(r.stats) == {"mean": pytest.approx(2.0), "median": 2.0, "min": None, "max": None}


def test_number_extremes_shown_when_many_people_gave_them(barometer):
    # Demo Q7: 240 answers drawn from 0, 0, 1, 2, 2, 3, 4, 8 — dozens answered 0 and 8.
    stats = dict(res.question_result(question(barometer, "Q7")).stats)
    assert (stats["min"], stats["max"]) == (0.0, 8.0)


def test_median_of_an_even_count_is_the_middle_of_the_two_middle_values():
    assert res._median([(1.0, 1), (2.0, 1), (10.0, 2)], 4) == 6.0
    assert res._median([(1.0, 2), (3.0, 1)], 3) == 1.0


def test_number_statistics_are_hidden_under_eleven_answers(small):
    r = res.question_result(question(small, "N"), res.Filters(channel=Channel.paper))
    assert r.answered.suppressed
    assert dict(r.stats) == {"mean": None, "median": None, "min": None, "max": None}


def test_dates_are_counted_per_month_and_small_months_hidden(small):
    r = res.question_result(question(small, "D"))
    assert [m for m, _c in r.months] == [date(2026, 1, 1), date(2026, 2, 1)]
    assert [str(c) for _m, c in r.months] == ["s", "s"]
    assert r.answered.value == 12


def test_text_results_show_only_published_featured_texts(small):
    r = res.question_result(question(small, "T"))
    assert r.answered.value == 13
    assert r.verbatims == [FEATURED_TEXT]


def test_respondents_by_channel_always_list_the_three_channels(small):
    channel = res.respondents(small.current_version).breakdowns[0]
    assert channel.key == "channel" and channel.groups == [Channel.web, Channel.assisted, Channel.paper]
    # Paper (10) is small; with the total shown, web (25) goes too, else 35 − 25 would give it.
    assert [str(c) for c in channel.line.cells] == ["s", "0", "s"]
    assert channel.line.total.value == 35


# --- filters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("filters, expected, total", [
    (res.Filters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31)), ["20", "0", "0"], 20),
    (res.Filters(channel=Channel.web), ["20", "s", "s"], 25),
    (res.Filters(locale="fr"), ["17", "s", "s"], 30),
    (res.Filters(date_from=date(2026, 4, 1)), ["0", "s", "s"], 15),
])
def test_filters_narrow_the_answers(small, filters, expected, total):
    line = res.question_result(question(small, "S"), filters).line
    assert [str(c) for c in line.cells] == expected
    assert line.total.value == total


def test_neighbourhood_filter_narrows_the_answers(small, places):
    _marseille, fv, lc = places
    assert res.option_counts(question(small, "S"), res.Filters(neighbourhood_ids=(fv.id,))).row(None) == [20, 5, 0]
    assert res.option_counts(question(small, "S"), res.Filters(neighbourhood_ids=(lc.id,))).row(None) == [0, 7, 3]
    both = res.Filters(neighbourhood_ids=(fv.id, lc.id))
    assert res.option_counts(question(small, "S"), both).row(None) == [20, 12, 3]


def test_a_filtered_population_under_eleven_is_entirely_suppressed(small, places):
    _marseille, _fv, lc = places
    data = res.results(small.current_version, res.Filters(neighbourhood_ids=(lc.id,)))
    assert data.respondents.total.suppressed
    line = next(r for r in data.questions if r.question.code == "S").line
    assert all(c.suppressed for c in line.cells)  # zeros too: "0" would tell what the others said


def test_option_counts_groups_by_neighbourhood_in_one_table(small, places):
    _marseille, fv, lc = places
    counts = res.option_counts(question(small, "S"), by="neighbourhood")
    assert counts.groups == [fv.id, lc.id]  # by name
    assert counts.row(fv.id) == [20, 5, 0] and counts.answered[fv.id] == 25


# --- the comparison -------------------------------------------------------------------------------


def test_comparison_hides_small_cells_and_what_would_reveal_them(small, places):
    from tests.core.test_disclosure import recomputable, table_equations, table_view, whole_rows

    _marseille, fv, lc = places
    comparison = res.compare(question(small, "S"))
    rows = {g: [str(c) for c in row.cells] for g, row in zip(comparison.groups, comparison.table.rows, strict=True)}
    assert rows[lc.id] == ["s", "s", "s"]  # 10 people: the whole row, its zero too
    assert rows[fv.id][1] == "s"
    assert [str(c) for c in comparison.table.columns.cells][1:] == ["s", "s"]  # as on the results page
    counts = [[20, 5, 0], [0, 7, 3]] if comparison.groups == [fv.id, lc.id] else [[0, 7, 3], [20, 5, 0]]
    totals = [sum(r) for r in counts]
    truth, view = table_view(counts, totals, comparison.table)
    assert not recomputable(truth, view, table_equations(2, 3), 35, whole_rows(counts, totals))


def test_comparison_by_channel_and_by_gender(small):
    by_channel = res.compare(question(small, "S"), by="channel")
    assert by_channel.groups == [Channel.web, Channel.paper]
    by_gender = res.compare(question(small, "S"), by="gender")
    assert by_gender.groups == [Gender.woman, Gender.man]
    # Women (even i): 10 / 6 / 2, men: 10 / 6 / 1: every cell is under 11.
    assert [[c.suppressed for c in row.cells] for row in by_gender.table.rows] == [[True] * 3] * 2
    assert [str(c) for c in by_gender.table.columns.cells] == ["20", "s", "s"]


# --- the page ---------------------------------------------------------------------------------------


def test_results_page_shows_exact_figures_and_s(small, login):
    html = page(login(EVALUATOR), small)
    s = figures(html, "S")
    assert s["Option A"] == ("20", "57.1%")
    assert s["Option B"] == ("s", "s") and s["Autre"] == ("s", "s")
    assert s["People who answered"][0] == "35"
    yn = figures(html, "YN")
    assert yn["Oui"] == ("s", "s") and yn["Non"] == ("s", "s")
    assert 'id="s-note"' in html and "fewer than 11 people" in html


def test_results_page_has_a_chart_and_its_table(small, login):
    html = page(login(EVALUATOR), small)
    section = html[html.index('id="q-S"'):html.index('id="q-YN"')]
    assert '<svg' in section and 'role="img"' in section and 'aria-labelledby="chart-S-title"' in section
    assert 'class="bar-suppressed"' in section
    assert "<table" in section


def test_results_page_always_shows_the_channels(small, login):
    rows = {r[0]: r[1] for r in table_rows(page(login(EVALUATOR), small), "channel-breakdown") if r}
    assert rows == {"Channel": "Respondents", "online": "s", "assisted": "0", "paper": "s", "Total": "35"}


def test_results_page_filters_by_query_string(small, login, places):
    _marseille, fv, _lc = places
    client = login(EVALUATOR)
    assert figures(page(client, small, "from=2026-03-01&to=2026-03-31"), "S")["Option A"] == ("20", "100%")
    assert figures(page(client, small, "channel=web"), "S")["People who answered"][0] == "25"
    assert figures(page(client, small, "language=fr"), "S")["Option A"][0] == "17"
    html = page(client, small, f"nb={fv.id}")
    assert figures(html, "S")["People who answered"][0] == "25"


def test_results_page_htmx_returns_the_fragment(small, login):
    response = login(EVALUATOR).get(f"/admin/questionnaires/{small.id}/results?channel=web",
                                     headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="results"')
    assert "<html" not in html and "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("query", [
    "from=notadate&channel=xyz&question=zzz",
    "to=2026-13-45&nb=abc&nb=999999&language=xx&version=zz",
    "version=99",
])
def test_nonsense_filters_are_reported_not_fatal(small, login, query):
    response = login(EVALUATOR).get(f"/admin/questionnaires/{small.id}/results?lang=en&{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html
    assert figures(html, "S")["People who answered"][0] == "35"  # the bad filter is left out


def test_a_period_ending_before_it_starts_is_reported_and_its_end_left_out(small, login):
    html = page(login(EVALUATOR), small, "from=2026-04-01&to=2026-01-01")
    assert "The end of the period is before its start." in html
    assert figures(html, "S")["People who answered"][0] == "15"  # from April on


def test_comparison_page_with_nonsense_is_not_fatal(small, login):
    response = login(EVALUATOR).get(f"/admin/questionnaires/{small.id}/compare?from=notadate&channel=xyz"
                                    "&question=zzz&by=zz&option=qq")
    assert response.status_code == 200


def test_comparison_page_shows_s(small, login, places):
    _marseille, fv, lc = places
    html = page(login(EVALUATOR), small, "question=S", path="compare")
    rows = {r[0]: r[1:] for r in table_rows(html, "compare") if r}
    assert rows["La Cayolle"] == ["s", "s", "s", "s"]
    assert rows["Frais Vallon"][1] == "s"
    assert rows["Total"][0].startswith("20") and rows["Total"][1:3] == ["s", "s"]


def test_pending_and_rejected_texts_appear_nowhere_in_results(small, login):
    client = login(EVALUATOR)
    for path in ("results", "compare?question=S&by=neighbourhood", "compare?question=S&by=channel"):
        html = client.get(f"/admin/questionnaires/{small.id}/{path}").get_data(as_text=True)
        for secret in (PENDING_TEXT, PENDING_OTHER, REJECTED_TEXT, PUBLISHED_TEXT):
            assert secret not in html, (path, secret)
    assert FEATURED_TEXT in client.get(f"/admin/questionnaires/{small.id}/results").get_data(as_text=True)


# --- who may see results -----------------------------------------------------------------------------


@pytest.mark.parametrize("email, status", [
    (EVALUATOR, 200), (FACILITATOR, 200), ("admin@amp.demo", 200), (MEDIATOR, 403), (OTHER_ADMIN, 403),
])
def test_who_may_see_results(small, login, email, status):
    client = login(email)
    assert client.get(f"/admin/questionnaires/{small.id}/results").status_code == status
    assert client.get(f"/admin/questionnaires/{small.id}/compare?question=S").status_code == status


def test_results_need_a_login(small, client):
    assert client.get(f"/admin/questionnaires/{small.id}/results").status_code in (302, 401)


def test_unknown_questionnaire_is_404(demo, login):
    assert login(EVALUATOR).get("/admin/questionnaires/999999/results").status_code == 404


# --- the demo barometer -----------------------------------------------------------------------------


def test_demo_barometer_figures_add_up_and_small_neighbourhood_is_suppressed(barometer, login):
    version = barometer.current_version
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(Response.version_id == version.id))
    data = res.results(version)
    assert data.respondents.total.value == total == 240
    q1 = next(r for r in data.questions if r.question.code == "Q1")
    assert sum(c.value for c in q1.line.cells) == q1.answered.value == 240
    malpasse = db.session.scalar(sa.select(Neighbourhood).filter_by(name="Malpassé Corot"))
    comparison = res.compare(q1.question)
    row = comparison.table.rows[comparison.groups.index(malpasse.id)]
    assert all(c.suppressed for c in row.cells) and row.total.suppressed
    html = page(login(EVALUATOR), barometer, "question=Q1", path="compare")
    assert "Malpassé Corot" in html


def test_demo_results_page_renders_in_arabic(barometer, login):
    response = login(EVALUATOR).get(f"/admin/questionnaires/{barometer.id}/results?lang=ar")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'dir="rtl"' in html and 'direction="rtl"' in html


def test_results_grouped_by_neighbourhood_over_many_answers_match_a_python_count(small, places):
    # Random extra answers: the GROUP BY must agree with counting them one by one.
    _marseille, fv, lc = places
    rng = random.Random(4)
    version = small.current_version
    s = question(small, "S")
    expected: dict = {}
    for _ in range(200):
        nb = rng.choice([fv.id, lc.id, None])
        option = rng.choice(s.options)
        add_response(version, nb, Channel.web, "fr", date(2026, 5, 1), [(s, {"option_id": option.id})])
        expected[(nb, option.id)] = expected.get((nb, option.id), 0) + 1
    db.session.flush()
    counts = res.option_counts(s, res.Filters(date_from=date(2026, 5, 1)), by="neighbourhood")
    assert counts.counts == expected
    assert sum(counts.answered.values()) == 200
