"""Ballot rules, ballot validation and the tally of participatory budgets.

The last tests compare our exact implementation with pabutools (test-only dependency)
on many random instances.
"""

import random
from decimal import Decimal
from fractions import Fraction

import pytest

from participation.budgets.rules import (
    BallotRules,
    Method,
    Outcome,
    Violation,
    ViolationCode as C,
    ballot_summary,
    score,
    tally,
    validate_ballot,
)

APPROVAL = BallotRules(Method.approval, 100, min_picks=2, max_picks=3)
KNAPSACK = BallotRules(Method.knapsack, 100, min_share=Fraction(1, 2))
CUMULATIVE = BallotRules(Method.cumulative, 100, points=10, max_points_per_project=4)
RANKED = BallotRules(Method.ranked, 100, top_k=3)
COSTS = {1: 60, 2: 30, 3: 20, 4: 10, 5: 45}


def codes(rules, choices, costs=COSTS):
    return [v.code for v in validate_ballot(rules, costs, choices)]


# --- rules.check() -------------------------------------------------------------------


@pytest.mark.parametrize("rules", [APPROVAL, KNAPSACK, CUMULATIVE, RANKED, BallotRules(Method.approval, 1)])
def test_sensible_rules_pass_check(rules):
    assert rules.check() is None  # raises on rules that make no sense


@pytest.mark.parametrize(
    "rules, message",
    [
        (BallotRules(Method.approval, 0), "envelope"),
        (BallotRules(Method.approval, 10.5), "envelope"),
        (BallotRules("approval", 10), "method"),
        (BallotRules(Method.approval, 10, min_picks=3, max_picks=2), "max_picks (2) must be at least min_picks (3)"),
        (BallotRules(Method.approval, 10, min_picks=0), "min_picks must be a whole number, at least 1"),
        (BallotRules(Method.approval, 10, points=3), "points does not apply to approval ballots"),
        (BallotRules(Method.knapsack, 10, min_share=Fraction(0)), "min_share must be more than 0"),
        (BallotRules(Method.knapsack, 10, min_share=Fraction(3, 2)), "at most 1"),
        (BallotRules(Method.knapsack, 10, min_share=0.5), "not a float"),
        (BallotRules(Method.knapsack, 10, max_picks=2), "max_picks does not apply to knapsack"),
        (BallotRules(Method.cumulative, 10), "need points"),
        (BallotRules(Method.cumulative, 10, points=0), "points must be a whole number, at least 1"),
        (BallotRules(Method.cumulative, 10, points=3, max_points_per_project=4), "cannot exceed points"),
        (BallotRules(Method.ranked, 10), "need top_k"),
        (BallotRules(Method.ranked, 10, top_k=0), "top_k must be a whole number"),
        (BallotRules(Method.ranked, 10, top_k=2, min_share=Fraction(1, 2)), "min_share does not apply"),
    ],
)
def test_nonsensical_rules_are_refused_with_a_clear_message(rules, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        rules.check()


@pytest.mark.parametrize("share", [Decimal("0.25"), "1/4", "0.25"])
def test_min_share_accepts_exact_numbers_from_forms(share):
    rules = BallotRules(Method.knapsack, 100, min_share=share)
    assert rules.check() is None  # raises on rules that make no sense
    assert rules.min_share == Fraction(1, 4)
    assert rules.min_spend == 25


def test_min_spend_rounds_up_to_whole_euros():
    assert BallotRules(Method.knapsack, 10, min_share=Fraction(1, 3)).min_spend == 4


def test_validation_refuses_nonsensical_rules():
    with pytest.raises(ValueError):
        validate_ballot(BallotRules(Method.ranked, 10), COSTS, {1: 1})


# --- validate_ballot ------------------------------------------------------------------


def test_valid_ballots_have_no_violation():
    assert validate_ballot(APPROVAL, COSTS, {1: 1, 2: 1}) == []
    assert validate_ballot(KNAPSACK, COSTS, {1: 1, 2: 1, 4: 1}) == []
    assert validate_ballot(CUMULATIVE, COSTS, {1: 4, 2: 4, 3: 2}) == []
    assert validate_ballot(RANKED, COSTS, {5: 1, 2: 2, 3: 3}) == []


def test_unknown_project_is_reported_with_its_id():
    assert validate_ballot(APPROVAL, COSTS, {1: 1, 2: 1, 99: 1}) == [Violation(C.unknown_project, {"project": 99})]


@pytest.mark.parametrize("value", [0, 2, True, "1", 1.0, None])
def test_approval_value_other_than_1_is_a_bad_value(value):
    assert codes(APPROVAL, {1: 1, 2: value}) == [C.bad_value]


def test_approval_too_few_picks_reports_minimum_and_count():
    assert validate_ballot(APPROVAL, COSTS, {1: 1}) == [Violation(C.too_few, {"min": 2, "count": 1})]


def test_approval_too_many_picks_reports_maximum_and_count():
    assert validate_ballot(APPROVAL, COSTS, dict.fromkeys([1, 2, 3, 4], 1)) == [
        Violation(C.too_many, {"max": 3, "count": 4})
    ]


def test_approval_without_limits_still_refuses_an_empty_ballot():
    rules = BallotRules(Method.approval, 100)
    assert codes(rules, {}) == [C.too_few]
    assert codes(rules, dict.fromkeys(COSTS, 1)) == []


def test_approval_may_exceed_the_envelope():
    assert codes(BallotRules(Method.approval, 10), {1: 1, 2: 1}) == []


def test_knapsack_over_envelope_reports_envelope_and_total():
    assert validate_ballot(KNAPSACK, COSTS, {1: 1, 2: 1, 3: 1}) == [
        Violation(C.over_envelope, {"envelope": 100, "total": 110})
    ]


def test_knapsack_exactly_the_envelope_is_allowed():
    assert codes(KNAPSACK, {1: 1, 2: 1, 4: 1}) == []


def test_knapsack_under_min_share_reports_minimum_in_euros():
    assert validate_ballot(KNAPSACK, COSTS, {2: 1, 4: 1}) == [
        Violation(C.under_min_share, {"minimum": 50, "total": 40})
    ]


def test_knapsack_exactly_the_min_share_is_allowed():
    assert codes(KNAPSACK, {2: 1, 3: 1}) == []


def test_knapsack_without_min_share_refuses_only_an_empty_ballot():
    rules = BallotRules(Method.knapsack, 100)
    assert codes(rules, {4: 1}) == []
    assert codes(rules, {}) == [C.too_few]


def test_knapsack_value_must_be_1():
    assert codes(KNAPSACK, {1: 2}) == [C.bad_value]


def test_cumulative_too_many_points_reports_allowance_and_use():
    assert validate_ballot(CUMULATIVE, COSTS, {1: 4, 2: 4, 3: 3}) == [
        Violation(C.too_many_points, {"points": 10, "used": 11})
    ]


def test_cumulative_fewer_points_than_allowed_is_valid():
    assert codes(CUMULATIVE, {1: 1}) == []


def test_cumulative_over_max_per_project_names_the_project():
    assert validate_ballot(CUMULATIVE, COSTS, {1: 5}) == [
        Violation(C.over_max_per_project, {"project": 1, "max": 4, "value": 5})
    ]


def test_cumulative_without_cap_allows_all_points_on_one_project():
    assert codes(BallotRules(Method.cumulative, 100, points=10), {1: 10}) == []


@pytest.mark.parametrize("points", [0, -1, True])
def test_cumulative_points_must_be_positive_whole_numbers(points):
    assert codes(CUMULATIVE, {1: 2, 2: points}) == [C.bad_value]


def test_cumulative_empty_ballot_is_too_few():
    assert codes(CUMULATIVE, {}) == [C.too_few]


def test_ranked_duplicate_rank_reports_the_rank():
    assert validate_ballot(RANKED, COSTS, {1: 1, 2: 1}) == [Violation(C.duplicate_rank, {"rank": 1})]


@pytest.mark.parametrize("rank", [0, 4, -2])
def test_ranked_rank_out_of_range_reports_it(rank):
    assert Violation(C.rank_out_of_range, {"project": 2, "rank": rank, "max": 3}) in validate_ballot(
        RANKED, COSTS, {1: 1, 2: rank}
    )


def test_ranked_gap_reports_the_missing_rank():
    assert validate_ballot(RANKED, COSTS, {1: 1, 2: 3}) == [Violation(C.rank_gap, {"rank": 2})]


def test_ranked_more_projects_than_top_k_is_too_many():
    assert C.too_many in codes(RANKED, {1: 1, 2: 2, 3: 3, 4: 3})


def test_ranked_partial_ranking_from_1_is_valid():
    assert codes(RANKED, {4: 1}) == []


def test_ranked_rank_must_be_an_int():
    assert codes(RANKED, {4: "1"}) == [C.bad_value]


def test_violation_codes_compare_equal_to_plain_strings():
    assert codes(APPROVAL, {1: 1}) == ["too_few"]


# --- ballot_summary -------------------------------------------------------------------


def test_summary_of_knapsack_ballot_shows_money_left_and_minimum():
    summary = ballot_summary(KNAPSACK, COSTS, {2: 1, 3: 1, 4: 1})
    assert (summary.total_cost, summary.remaining, summary.min_spend, summary.valid) == (60, 40, 50, True)


def test_summary_remaining_goes_negative_over_the_envelope():
    summary = ballot_summary(KNAPSACK, COSTS, {1: 1, 5: 1})
    assert (summary.remaining, summary.valid) == (-5, False)
    assert summary.violations[0].code == C.over_envelope


def test_summary_of_approval_ballot_shows_picks_left():
    summary = ballot_summary(APPROVAL, COSTS, {1: 1})
    assert (summary.picks, summary.min_picks, summary.max_picks, summary.picks_left) == (1, 2, 3, 2)
    assert summary.points_used is None


def test_summary_of_cumulative_ballot_shows_points_left():
    summary = ballot_summary(CUMULATIVE, COSTS, {1: 3, 2: 4})
    assert (summary.points_used, summary.points_left, summary.max_points_per_project) == (7, 3, 4)


def test_summary_of_ranked_ballot_shows_ranks_left():
    summary = ballot_summary(RANKED, COSTS, {1: 1})
    assert (summary.picks, summary.max_picks, summary.picks_left) == (1, 3, 2)


def test_summary_ignores_unknown_projects_in_the_total():
    assert ballot_summary(APPROVAL, COSTS, {1: 1, 99: 1}).total_cost == 60


# --- scores ---------------------------------------------------------------------------


def test_scores_per_method():
    assert score(APPROVAL, 1) == 1
    assert score(KNAPSACK, 1) == 1
    assert score(CUMULATIVE, 4) == 4
    assert [score(RANKED, r) for r in (1, 2, 3)] == [3, 2, 1]


def test_tally_counts_votes_and_scores_for_every_project():
    result = tally({1: 10, 2: 10, 3: 10}, [{1: 1, 2: 2}, {2: 1}], RANKED, Outcome.greedy)
    assert result.votes == {1: 1, 2: 2, 3: 0}
    assert result.scores == {1: 3, 2: 5, 3: 0}
    assert result.ballots == 2


# --- greedy ---------------------------------------------------------------------------


def approval(envelope):
    return BallotRules(Method.approval, envelope)


def test_greedy_takes_most_votes_first_and_skips_what_no_longer_fits():
    projects = {1: 50, 2: 60, 3: 40, 4: 30}
    ballots = [{1: 1, 2: 1}, {1: 1, 2: 1}, {1: 1, 2: 1}, {2: 1, 3: 1}, {3: 1}, {4: 1}]
    result = tally(projects, ballots, approval(100), Outcome.greedy)
    # 2 (4 votes, 60) then 1 (3 votes, 50: does not fit, skipped) then 3 (2 votes, 40).
    assert result.selected == (2, 3)
    assert result.total_cost == 100
    assert result.remaining == 0


def test_greedy_keeps_trying_cheaper_projects_after_a_skip():
    result = tally({1: 90, 2: 20, 3: 5}, [{1: 1, 2: 1, 3: 1}, {1: 1, 2: 1}, {1: 1}], approval(100), Outcome.greedy)
    assert result.selected == (1, 3)


def test_greedy_tie_goes_to_the_cheaper_project():
    result = tally({1: 60, 2: 50}, [{1: 1}, {2: 1}], approval(100), Outcome.greedy)
    assert result.selected == (2,)


def test_greedy_tie_at_equal_cost_goes_to_the_smaller_id():
    result = tally({7: 60, 3: 60}, [{7: 1}, {3: 1}], approval(100), Outcome.greedy)
    assert result.selected == (3,)


def test_greedy_never_selects_a_project_without_votes():
    result = tally({1: 10, 2: 10}, [{1: 1}], approval(100), Outcome.greedy)
    assert result.selected == (1,)


def test_greedy_skips_a_project_dearer_than_the_envelope():
    result = tally({1: 101, 2: 10}, [{1: 1}, {1: 1}, {2: 1}], approval(100), Outcome.greedy)
    assert result.selected == (2,)


def test_greedy_on_cumulative_ballots_follows_points_not_voters():
    rules = BallotRules(Method.cumulative, 100, points=5)
    ballots = [{1: 5}, {2: 1, 3: 4}, {2: 1, 3: 4}]
    result = tally({1: 60, 2: 60, 3: 60}, ballots, rules, Outcome.greedy)
    assert result.votes == {1: 1, 2: 2, 3: 2}
    assert result.selected == (3,)  # 8 points, then 1 (5 points) no longer fits


def test_greedy_on_ranked_ballots_uses_borda_within_top_k():
    rules = BallotRules(Method.ranked, 100, top_k=2)
    ballots = [{1: 1, 2: 2}, {2: 1}, {3: 1, 2: 2}]
    result = tally({1: 50, 2: 50, 3: 50}, ballots, rules, Outcome.greedy)
    assert result.scores == {1: 2, 2: 4, 3: 2}
    assert result.selected == (2, 1)


def test_tally_without_ballots_selects_nothing():
    for outcome in Outcome:
        result = tally({1: 10}, [], approval(100), outcome)
        assert (result.selected, result.ballots, result.total_cost) == ((), 0, 0)


def test_tally_refuses_an_invalid_ballot():
    with pytest.raises(ValueError, match="too_many"):
        tally({1: 10, 2: 10}, [{1: 1, 2: 1}], BallotRules(Method.approval, 100, max_picks=1), Outcome.greedy)


@pytest.mark.parametrize("cost", [0, -5, 2.5, True])
def test_tally_refuses_a_cost_that_is_not_positive_whole_euros(cost):
    with pytest.raises(ValueError, match="costs must be whole euros"):
        tally({1: cost}, [{1: 1}], approval(100), Outcome.greedy)


def test_tally_accepts_any_iterable_of_ballots():
    result = tally({1: 10}, ({1: 1} for _ in range(3)), approval(100), Outcome.equal_shares)
    assert (result.votes[1], result.selected) == (3, (1,))


# --- Method of Equal Shares -----------------------------------------------------------


def test_equal_shares_funds_a_minority_that_greedy_ignores():
    # 6 voters want 1 and 2 (50 each), 4 voters want 3 (40). Envelope 100: 10 each.
    projects = {1: 50, 2: 50, 3: 40}
    ballots = [{1: 1, 2: 1}] * 6 + [{3: 1}] * 4
    assert tally(projects, ballots, approval(100), Outcome.greedy).selected == (1, 2)
    result = tally(projects, ballots, approval(100), Outcome.equal_shares)
    # The 6 pay 50/6 each for 1 and cannot afford 2; the 4 pay 10 each for 3.
    assert result.selected == (1, 3)
    assert result.by_equal_shares == 2


def test_equal_shares_gives_the_minority_its_share_then_completes():
    # 3 of 5 voters like 1, 2, 3 (30 each); 2 like 4 (30). Envelope 90: 18 each.
    projects = {1: 30, 2: 30, 3: 30, 4: 30}
    ballots = [{1: 1, 2: 1, 3: 1}] * 3 + [{4: 1}] * 2
    assert tally(projects, ballots, approval(90), Outcome.greedy).selected == (1, 2, 3)
    result = tally(projects, ballots, approval(90), Outcome.equal_shares)
    # MES: the 3 buy 1 (10 each), the 2 buy 4 (15 each); the 3 then hold 24 < 30.
    # Completion spends the last 30 on 2 (3 votes, smaller id than 3).
    assert result.selected == (1, 4, 2)
    assert result.by_equal_shares == 2


def test_equal_shares_completion_stops_at_what_no_longer_fits():
    # 4 voters hold 25 each. 1 (80) is wanted by 2 voters holding 50: unaffordable.
    projects = {1: 80, 2: 20, 3: 10}
    ballots = [{1: 1, 2: 1}, {1: 1, 2: 1}, {2: 1}, {3: 1}]
    result = tally(projects, ballots, approval(100), Outcome.equal_shares)
    assert result.selected == (2, 3)  # bought by MES; 1 does not fit in the 70 left
    assert result.by_equal_shares == 2


def test_equal_shares_completion_adds_what_mes_could_not_afford():
    projects = {1: 80, 2: 20}
    ballots = [{1: 1}, {1: 1}, {2: 1}, {2: 1}]  # 25 each: 1 needs 80 from 50
    result = tally(projects, ballots, approval(100), Outcome.equal_shares)
    assert result.by_equal_shares == 1
    assert result.selected == (2, 1)
    assert result.total_cost == 100


def test_equal_shares_tie_goes_to_the_cheaper_project():
    # Each project has one supporter paying it in full: the same rho, 1.
    result = tally({1: 40, 2: 30}, [{1: 1}, {2: 1}], approval(100), Outcome.equal_shares)
    assert result.selected == (2, 1)
    assert result.by_equal_shares == 2


def test_equal_shares_tie_at_equal_cost_goes_to_the_smaller_id():
    result = tally({7: 40, 3: 40}, [{7: 1}, {3: 1}], approval(100), Outcome.equal_shares)
    assert result.selected == (3, 7)


def test_equal_shares_on_cumulative_ballots_charges_in_proportion_to_points():
    rules = BallotRules(Method.cumulative, 100, points=3)
    # Four voters hold 25 each. Project 1 (60): A gave 3 points, B and C 1 each. At
    # rho = 60/5 = 12, A would owe 36 > 25, so A pays 25 and B, C pay 17.50 each: rho is
    # 17.5. Project 2 (15) is paid by D alone: rho = 15, cheaper per point, so first.
    ballots = [{1: 3}, {1: 1}, {1: 1}, {2: 1}]
    result = tally({1: 60, 2: 15}, ballots, rules, Outcome.equal_shares)
    assert result.selected == (2, 1)
    assert result.by_equal_shares == 2


# --- cross-check with pabutools -------------------------------------------------------

# pabutools is a pinned test dependency: a missing install must fail, not skip.
from pabutools import fractions as pabu_fractions
from pabutools.election import (
    Additive_Cardinal_Sat,
    ApprovalBallot,
    ApprovalProfile,
    CardinalBallot,
    CardinalProfile,
    Cost_Sat,
    CumulativeBallot,
    CumulativeProfile,
    Instance,
    Project,
)
from pabutools.election.satisfaction import AdditiveSatisfaction
from pabutools.rules import (
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)
from pabutools.tiebreaking import TieBreakingRule

#: our tie-breaking: cheaper first, then smaller id (names are str(id))
CHEAPER_THEN_ID = TieBreakingRule(lambda instance, profile, project: (project.cost, int(project.name)))


class ScoreTimesCost_Sat(AdditiveSatisfaction):
    """Score × cost: pabutools' greedy divides by cost, so this orders by score."""

    def __init__(self, instance, profile, ballot):
        super().__init__(instance, profile, ballot, lambda inst, prof, b, p, pre: b.get(p, 0) * p.cost)


@pytest.fixture(autouse=True, scope="module")
def exact_pabutools():
    previous = pabu_fractions.FRACTION
    pabu_fractions.FRACTION = pabu_fractions.GMPY_FRAC
    yield
    pabu_fractions.FRACTION = previous


def pabutools_selection(projects, ballots, rules, outcome):
    """pabutools' outcome for our election, as a list of project ids in selection order."""
    pabu = {pid: Project(str(pid), cost) for pid, cost in projects.items()}
    instance = Instance(pabu.values(), budget_limit=rules.envelope)
    if rules.method in (Method.approval, Method.knapsack):
        profile = ApprovalProfile([ApprovalBallot({pabu[p] for p in b}) for b in ballots])
        mes_sat = greedy_sat = Cost_Sat
    elif rules.method is Method.cumulative:
        profile = CumulativeProfile([CumulativeBallot({pabu[p]: v for p, v in b.items()}) for b in ballots])
        mes_sat, greedy_sat = Additive_Cardinal_Sat, ScoreTimesCost_Sat
    else:  # ranked, given to pabutools as cardinal ballots of our Borda scores
        profile = CardinalProfile([CardinalBallot({pabu[p]: score(rules, r) for p, r in b.items()}) for b in ballots])
        mes_sat, greedy_sat = Additive_Cardinal_Sat, ScoreTimesCost_Sat
    greedy_params = {"sat_class": greedy_sat, "tie_breaking": CHEAPER_THEN_ID}
    if outcome is Outcome.greedy:
        allocation = greedy_utilitarian_welfare(instance, profile, **greedy_params)
    else:
        allocation = completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": mes_sat, "tie_breaking": CHEAPER_THEN_ID}, greedy_params],
        )
    return [int(p.name) for p in allocation]


def random_election(rng, method):
    envelope = rng.choice([rng.randint(1, 20), rng.randint(20, 200), 1000])
    n_projects = rng.randint(1, 12)
    # Few distinct costs (ties on cost), some at or just around the envelope, most a
    # fraction of it so that several projects win.
    palette = [max(1, envelope // d) for d in rng.sample(range(2, 9), 3)]
    palette += [rng.randint(1, envelope) for _ in range(rng.randint(1, 3))]
    palette += [envelope, max(1, envelope - 1), envelope + 1]
    ids = rng.sample(range(1, 60), n_projects)
    projects = {pid: rng.choice(palette) for pid in ids}
    if method is Method.approval:
        rules = BallotRules(method, envelope)
    elif method is Method.knapsack:
        rules = BallotRules(method, envelope)
        if min(projects.values()) > envelope:
            projects[ids[0]] = rng.randint(1, envelope)
    elif method is Method.cumulative:
        rules = BallotRules(method, envelope, points=rng.randint(1, 6))
    else:
        rules = BallotRules(method, envelope, top_k=rng.randint(1, min(4, n_projects)))
    # Ballots drawn from a small pool repeat (multiplicities, ties between projects).
    pool = [random_ballot(rng, rules, projects) for _ in range(rng.randint(1, 8))]
    ballots = [rng.choice(pool) for _ in range(rng.randint(1, 25))]
    return projects, ballots, rules


def random_ballot(rng, rules, projects):
    ids = list(projects)
    popular = ids[: max(1, len(ids) // 2)]
    if rules.method is Method.approval:
        size = rng.randint(1, len(ids))
        chosen = set(rng.sample(ids, size)) | ({rng.choice(popular)} if rng.random() < 0.5 else set())
        return dict.fromkeys(chosen, 1)
    if rules.method is Method.knapsack:
        ballot, total = {}, 0
        for pid in rng.sample(ids, len(ids)):
            if total + projects[pid] <= rules.envelope and (not ballot or rng.random() < 0.7):
                ballot[pid] = 1
                total += projects[pid]
        return ballot
    if rules.method is Method.cumulative:
        ballot = {}
        for _ in range(rng.randint(1, rules.points)):
            pid = rng.choice(popular if rng.random() < 0.4 else ids)
            ballot[pid] = ballot.get(pid, 0) + 1
        return ballot
    ranked = rng.sample(ids, rng.randint(1, rules.top_k))
    return {pid: rank for rank, pid in enumerate(ranked, start=1)}


def assert_agrees_with_pabutools(projects, ballots, rules, outcome, context):
    ours = tally(projects, ballots, rules, outcome)
    theirs = pabutools_selection(projects, ballots, rules, outcome)
    # pabutools' greedy also funds projects nobody voted for, last; we never do.
    head, tail = theirs[: len(ours.selected)], theirs[len(ours.selected) :]
    assert (tuple(head), [ours.scores[p] for p in tail]) == (ours.selected, [0] * len(tail)), context


INSTANCES = 500


@pytest.mark.parametrize("outcome", list(Outcome), ids=lambda o: o.value)
@pytest.mark.parametrize("method", list(Method), ids=lambda m: m.value)
def test_tally_agrees_with_pabutools_on_random_elections(method, outcome):
    rng = random.Random(f"{method.value}-{outcome.value}")
    for i in range(INSTANCES):
        projects, ballots, rules = random_election(rng, method)
        assert_agrees_with_pabutools(projects, ballots, rules, outcome, f"instance {i}: {projects} {ballots} {rules}")


@pytest.mark.parametrize("method", [Method.approval, Method.cumulative], ids=lambda m: m.value)
def test_equal_shares_agrees_with_pabutools_on_larger_elections(method):
    # More voters and projects: many money classes, many MES rounds.
    rng = random.Random(f"large-{method.value}")
    for i in range(10):
        envelope = rng.randint(500, 5000)
        projects = {pid: rng.randint(envelope // 40, envelope // 3) for pid in range(1, 21)}
        rules = (
            BallotRules(method, envelope)
            if method is Method.approval
            else BallotRules(method, envelope, points=rng.randint(3, 10))
        )
        ballots = [random_ballot(rng, rules, projects) for _ in range(rng.randint(100, 300))]
        for outcome in Outcome:
            assert_agrees_with_pabutools(projects, ballots, rules, outcome, f"large instance {i}")


def test_random_elections_do_exercise_ties_completion_and_skips():
    """Guards the cross-check itself: the random instances must contain the hard cases."""
    seen = {"mes_then_completion": 0, "greedy_skip": 0, "tied_scores": 0}
    rng = random.Random("coverage")
    for _ in range(200):
        projects, ballots, rules = random_election(rng, Method.approval)
        mes = tally(projects, ballots, rules, Outcome.equal_shares)
        greedy = tally(projects, ballots, rules, Outcome.greedy)
        seen["mes_then_completion"] += 0 < mes.by_equal_shares < len(mes.selected)
        voted = [p for p in projects if greedy.scores[p]]
        seen["greedy_skip"] += any(p not in greedy.selected for p in voted)
        seen["tied_scores"] += len({greedy.scores[p] for p in voted}) < len(voted)
    assert all(count >= 20 for count in seen.values()), seen
