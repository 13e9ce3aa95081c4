"""Pure rules of answering: conditions on questions and sections, and the parsing and
validation of every kind of question (no database, no request)."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from participation.questionnaires import logic
from participation.questionnaires.models import Kind, Status

_ids = iter(range(1, 10_000))


def option(code, **kw):
    return SimpleNamespace(id=next(_ids), code=code, is_other=kw.get("is_other", False),
                           is_dont_know=kw.get("is_dont_know", False))


def question(code, kind, options=(), **kw):
    q = SimpleNamespace(id=next(_ids), code=code, kind=kind, options=[option(c) if isinstance(c, str) else c for c in options],
                        required=False, max_choices=None, min_value=None, max_value=None, condition_code=None,
                        condition_values=None, section=None)
    for k, v in kw.items():
        setattr(q, k, v)
    return q


def section(*questions, condition=None):
    s = SimpleNamespace(id=next(_ids), questions=list(questions), condition_code=None, condition_values=None)
    if condition:
        s.condition_code, s.condition_values = condition
    for q in questions:
        q.section = s
    return s


def raw(q, value="", part=""):
    return {logic.field_name(q, part): value if isinstance(value, list) else [value]}


# --- conditions -------------------------------------------------------------------------


@pytest.fixture
def barometer_like():
    q4 = question("Q4", Kind.yes_no, ["yes", "no"])
    q5 = question("Q5", Kind.single, ["fs", "assoc"], condition_code="Q4", condition_values=["yes"])
    q6 = question("Q6", Kind.short_text)
    return [section(q4, q5, q6)], q4, q5, q6


def test_question_with_condition_is_shown_when_the_answer_matches(barometer_like):
    sections, _q4, q5, _q6 = barometer_like
    shown = logic.plan(sections, {"Q4": logic.Choice(("yes",)), "Q5": logic.Choice(("fs",))})
    assert q5 in shown.questions
    assert shown.answers["Q5"] == logic.Choice(("fs",))


def test_question_with_condition_is_hidden_and_its_answer_dropped_when_the_answer_differs(barometer_like):
    sections, q4, q5, q6 = barometer_like
    shown = logic.plan(sections, {"Q4": logic.Choice(("no",)), "Q5": logic.Choice(("fs",)), "Q6": "ok"})
    assert shown.questions == [q4, q6]
    assert "Q5" not in shown.answers


def test_question_with_condition_is_hidden_when_the_earlier_question_is_unanswered(barometer_like):
    sections, _q4, q5, _q6 = barometer_like
    assert q5 not in logic.plan(sections, {}).questions


def test_section_with_condition_is_skipped_when_the_answer_differs():
    q1 = question("Q1", Kind.yes_no, ["yes", "no"])
    q2 = question("Q2", Kind.short_text)
    first, second = section(q1), section(q2, condition=("Q1", ["yes"]))
    shown = logic.plan([first, second], {"Q1": logic.Choice(("no",)), "Q2": "kept?"})
    assert [s for s, _qs in shown.sections] == [first]
    assert "Q2" not in shown.answers


def test_section_with_condition_is_shown_when_one_of_several_values_matches():
    q1 = question("Q1", Kind.multiple, ["a", "b", "c"])
    q2 = question("Q2", Kind.short_text)
    first, second = section(q1), section(q2, condition=("Q1", ["c", "x"]))
    shown = logic.plan([first, second], {"Q1": logic.Choice(("a", "c"))})
    assert [s for s, _qs in shown.sections] == [first, second]


def test_conditions_cascade_through_a_hidden_question():
    q1 = question("Q1", Kind.yes_no, ["yes", "no"])
    q2 = question("Q2", Kind.yes_no, ["yes", "no"], condition_code="Q1", condition_values=["yes"])
    q3 = question("Q3", Kind.short_text, condition_code="Q2", condition_values=["yes"])
    sections = [section(q1), section(q2), section(q3)]
    # Q2 was answered "yes" before Q1 changed to "no": Q2 is hidden, so Q3 is too.
    shown = logic.plan(sections, {"Q1": logic.Choice(("no",)), "Q2": logic.Choice(("yes",)), "Q3": "x"})
    assert shown.questions == [q1]


def test_section_whose_questions_are_all_hidden_is_skipped():
    q1 = question("Q1", Kind.yes_no, ["yes", "no"])
    q2 = question("Q2", Kind.short_text, condition_code="Q1", condition_values=["yes"])
    first, second = section(q1), section(q2)
    assert [s for s, _qs in logic.plan([first, second], {}).sections] == [first]


def test_condition_on_a_later_question_never_shows():
    q1 = question("Q1", Kind.short_text, condition_code="Q2", condition_values=["yes"])
    q2 = question("Q2", Kind.yes_no, ["yes", "no"])
    shown = logic.plan([section(q1, q2)], {"Q2": logic.Choice(("yes",))})
    assert shown.questions == [q2]


def test_check_ignores_problems_of_hidden_questions(barometer_like):
    sections, q4, q5, _q6 = barometer_like
    q5.required = True
    _shown, problems = logic.check(sections, {**raw(q4, "no")})
    assert problems == {}
    _shown, problems = logic.check(sections, {**raw(q4, "yes")})
    assert problems == {"Q5": logic.Problem("required")}


def test_depends_on_same_section(barometer_like):
    _sections, q4, q5, _q6 = barometer_like
    assert logic.depends_on_same_section(q5)
    assert not logic.depends_on_same_section(q4)


def test_not_applicable_lists_answers_to_hidden_questions(barometer_like):
    sections, *_ = barometer_like
    values = {"Q4": logic.Choice(("no",)), "Q5": logic.Choice(("fs",))}
    assert logic.not_applicable(sections, values, logic.plan(sections, values)) == ["Q5"]


# --- choices ----------------------------------------------------------------------------


def test_single_choice_gives_the_option_code():
    q = question("Q", Kind.single, ["a", "b"])
    assert logic.parse(q, raw(q, "b")) == (logic.Choice(("b",)), None)


def test_single_choice_refuses_two_answers():
    q = question("Q", Kind.single, ["a", "b"])
    assert logic.parse(q, raw(q, ["a", "b"]))[1] == logic.Problem("one_choice")


def test_choice_refuses_an_unknown_code():
    q = question("Q", Kind.scale, ["1", "2"])
    assert logic.parse(q, raw(q, "9"))[1].code == "invalid_choice"


def test_choice_codes_match_whatever_the_case():
    q = question("Q", Kind.yes_no, ["yes", "no"])
    assert logic.parse(q, raw(q, "YES"))[0] == logic.Choice(("yes",))


def test_required_choice_left_empty_is_a_problem():
    q = question("Q", Kind.single, ["a"], required=True)
    assert logic.parse(q, {}) == (None, logic.Problem("required"))


def test_optional_question_left_empty_is_no_answer():
    q = question("Q", Kind.single, ["a"])
    assert logic.parse(q, {}) == (None, None)


def test_multiple_choice_keeps_every_code_once():
    q = question("Q", Kind.multiple, ["a", "b", "c"])
    assert logic.parse(q, raw(q, ["c", "a", "c"]))[0] == logic.Choice(("c", "a"))


def test_multiple_choice_refuses_more_than_max_choices():
    q = question("Q", Kind.multiple, ["a", "b", "c"], max_choices=2)
    assert logic.parse(q, raw(q, ["a", "b", "c"]))[1] == logic.Problem("too_many", {"max": 2})


def test_dont_know_cannot_be_combined():
    q = question("Q", Kind.multiple, ["a", option("dk", is_dont_know=True)])
    assert logic.parse(q, raw(q, ["a", "dk"]))[1].code == "dont_know_alone"


def test_other_needs_its_text():
    q = question("Q", Kind.single, ["a", option("other", is_other=True)])
    assert logic.parse(q, raw(q, "other"))[1] == logic.Problem("other_missing")


def test_other_keeps_its_text():
    q = question("Q", Kind.multiple, ["a", option("other", is_other=True)])
    value, problem = logic.parse(q, {**raw(q, ["a", "other"]), **raw(q, " a bakery ", "other")})
    assert problem is None
    assert value == logic.Choice(("a", "other"), "a bakery")


def test_other_text_without_other_chosen_is_ignored():
    q = question("Q", Kind.single, ["a", option("other", is_other=True)])
    assert logic.parse(q, {**raw(q, "a"), **raw(q, "stray", "other")})[0] == logic.Choice(("a",))


# --- ranking ----------------------------------------------------------------------------


def test_ranking_orders_codes_by_rank():
    q = question("Q", Kind.ranking, ["clean", "safety", "jobs"])
    clean, safety, jobs = q.options
    form = {logic.rank_field(q, clean): ["2"], logic.rank_field(q, safety): ["1"], logic.rank_field(q, jobs): [""]}
    assert logic.parse(q, form)[0] == logic.Ranking(("safety", "clean"))


def test_ranking_refuses_a_rank_given_twice():
    q = question("Q", Kind.ranking, ["a", "b"])
    form = {logic.rank_field(q, o): ["1"] for o in q.options}
    assert logic.parse(q, form)[1] == logic.Problem("rank_duplicate", {"rank": 1})


@pytest.mark.parametrize("typed", ["0", "3", "x", "-1"])
def test_ranking_refuses_a_rank_out_of_range(typed):
    q = question("Q", Kind.ranking, ["a", "b"])
    assert logic.parse(q, {logic.rank_field(q, q.options[0]): [typed]})[1].code == "rank_format"


def test_ranking_from_typed_codes_in_order():
    q = question("Q", Kind.ranking, ["clean", "safety", "jobs"])
    form, problem = logic.raw_from_typed(q, "jobs clean")
    assert problem is None
    assert logic.parse(q, form)[0] == logic.Ranking(("jobs", "clean"))


def test_ranking_from_typed_codes_refuses_an_unknown_code():
    q = question("Q", Kind.ranking, ["clean", "safety"])
    assert logic.raw_from_typed(q, "clean bogus")[1].code == "invalid_choice"


def test_typed_codes_accept_spaces_commas_and_semicolons():
    assert logic.typed_codes(" shops, green;youth  health ") == ["shops", "green", "youth", "health"]


# --- numbers, texts, dates --------------------------------------------------------------


@pytest.mark.parametrize("typed, expected", [("3", 3.0), ("2,5", 2.5), ("1 200", 1200.0), ("٣", 3.0), ("-4", -4.0)])
def test_number_reads_what_people_type(typed, expected):
    q = question("Q", Kind.number)
    assert logic.parse(q, raw(q, typed))[0] == expected


@pytest.mark.parametrize("typed", ["three", "1e400", "nan", "inf", "1_000", "9" * 40])
def test_number_refuses_what_is_not_a_number(typed):
    q = question("Q", Kind.number)
    assert logic.parse(q, raw(q, typed))[1] == logic.Problem("number_format")


def test_number_below_the_minimum_is_refused():
    q = question("Q", Kind.number, min_value=0, max_value=60)
    assert logic.parse(q, raw(q, "-1"))[1] == logic.Problem("too_small", {"min": 0})


def test_number_above_the_maximum_is_refused():
    q = question("Q", Kind.number, min_value=0, max_value=60)
    assert logic.parse(q, raw(q, "61"))[1] == logic.Problem("too_large", {"max": 60})


def test_number_on_the_bounds_is_accepted():
    q = question("Q", Kind.number, min_value=0, max_value=60)
    assert logic.parse(q, raw(q, "60"))[0] == 60.0


def test_short_text_is_trimmed():
    q = question("Q", Kind.short_text)
    assert logic.parse(q, raw(q, "  calme  "))[0] == "calme"


def test_short_text_too_long_is_refused():
    q = question("Q", Kind.short_text)
    assert logic.parse(q, raw(q, "x" * (logic.SHORT_TEXT_MAX + 1)))[1].code == "too_long"


def test_long_text_allows_more():
    q = question("Q", Kind.long_text)
    assert logic.parse(q, raw(q, "x" * 2000))[0] == "x" * 2000


def test_text_loses_nul_bytes():
    q = question("Q", Kind.short_text)
    assert logic.parse(q, raw(q, "a\x00b"))[0] == "ab"


@pytest.mark.parametrize("typed", ["2026-03-25", "25/03/2026", "25.3.2026", "25-03-2026"])
def test_date_reads_iso_and_day_first(typed):
    q = question("Q", Kind.date)
    assert logic.parse(q, raw(q, typed))[0] == date(2026, 3, 25)


@pytest.mark.parametrize("typed", ["2026-02-30", "32/01/2026", "03/25", "tomorrow", "01/01/1800"])
def test_date_refuses_what_is_not_a_date(typed):
    q = question("Q", Kind.date)
    assert logic.parse(q, raw(q, typed))[1] == logic.Problem("date_format")


# --- photo and location ------------------------------------------------------------------


def test_photo_is_its_hash_and_caption():
    q = question("Q", Kind.photo)
    sha = "a" * 64
    value, problem = logic.parse(q, {**raw(q, sha, "photo"), **raw(q, "the bench", "caption")})
    assert problem is None and value == logic.Photo(sha, "the bench")


def test_photo_with_a_malformed_hash_is_refused():
    q = question("Q", Kind.photo)
    assert logic.parse(q, raw(q, "../../etc/passwd", "photo"))[1] == logic.Problem("photo_invalid")


def test_caption_without_photo_is_no_answer():
    q = question("Q", Kind.photo)
    assert logic.parse(q, raw(q, "a caption", "caption")) == (None, None)


def test_location_is_rounded_to_about_100_m():
    q = question("Q", Kind.location)
    value, _ = logic.parse(q, {**raw(q, "43.3312345", "lat"), **raw(q, "5.4198765", "lng")})
    assert (value.latitude, value.longitude) == (43.331, 5.42)


def test_location_may_be_a_place_description_only():
    q = question("Q", Kind.location)
    assert logic.parse(q, raw(q, "near the school", "place"))[0] == logic.Point(None, None, "near the school")


def test_location_with_half_a_position_is_refused():
    q = question("Q", Kind.location)
    assert logic.parse(q, raw(q, "43.3", "lat"))[1] == logic.Problem("location_incomplete")


def test_location_out_of_range_is_refused():
    q = question("Q", Kind.location)
    assert logic.parse(q, {**raw(q, "95", "lat"), **raw(q, "5", "lng")})[1] == logic.Problem("location_range")


# --- profile and opening -----------------------------------------------------------------


def test_profile_reads_the_questions_asked():
    form = {"p_age": ["25_39"], "p_gender": ["woman"], "p_residence": ["7"]}
    profile, problems = logic.parse_profile(form, age_bands=["25_39"], genders=["woman"], residence_ids=[7])
    assert problems == {}
    assert profile == logic.Profile("25_39", "woman", 7)


def test_profile_prefer_not_to_say_and_elsewhere_are_no_answer():
    form = {"p_age": [""], "p_residence": ["elsewhere"]}
    profile, problems = logic.parse_profile(form, age_bands=["25_39"], residence_ids=[7])
    assert problems == {} and profile == logic.Profile()


def test_profile_refuses_a_neighbourhood_outside_the_list():
    profile, problems = logic.parse_profile({"p_residence": ["99"]}, residence_ids=[7])
    assert profile.residence_id is None and problems["p_residence"].code == "invalid_choice"


def test_profile_ignores_questions_not_asked():
    profile, problems = logic.parse_profile({"p_age": ["25_39"]})
    assert profile == logic.Profile() and problems == {}


@pytest.mark.parametrize("status, opens, closes, expected", [
    (Status.open, None, None, True),
    (Status.draft, None, None, False),
    (Status.closed, None, None, False),
    (Status.open, date(2026, 5, 2), None, False),
    (Status.open, date(2026, 5, 1), date(2026, 5, 1), True),
    (Status.open, None, date(2026, 4, 30), False),
])
def test_is_open(status, opens, closes, expected):
    q = SimpleNamespace(status=status, opens_on=opens, closes_on=closes)
    assert logic.is_open(q, date(2026, 5, 1)) is expected
