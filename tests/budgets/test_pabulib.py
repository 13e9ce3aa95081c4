"""The .pb export parses back with pabutools, whatever the names contain."""

from fractions import Fraction

import pytest
from pabutools.election.pabulib import parse_pabulib_from_string as parse

from participation.budgets.pabulib import pb_meta, pb_vote, write_pb
from participation.budgets.rules import BallotRules, Method, Outcome

NASTY_NAMES = {
    1: "Jardin partagé; bancs et ombre",
    2: 'Le "grand" terrain de foot',
    3: "حديقة الحي",
    4: "Fête\nde quartier",
    5: 'Tout; à "la" fois,\r\net l’Unicode ✓',
    6: "  espaces autour  ",
    7: '"',
    8: "a,b,c",
}
#: what a pabulib reader can give back: line breaks become one space, ends are stripped
READ_BACK = {
    **NASTY_NAMES,
    4: "Fête de quartier",
    5: 'Tout; à "la" fois, et l’Unicode ✓',
    6: "espaces autour",
}
COSTS = {1: 12000, 2: 30000, 3: 4500, 4: 800, 5: 25000, 6: 9999, 7: 1, 8: 7000}


def projects_rows():
    return [
        {"project_id": pid, "cost": COSTS[pid], "name": name, "category": "sport,culture" if pid == 2 else None}
        for pid, name in NASTY_NAMES.items()
    ]


def meta(rules, outcome=Outcome.greedy):
    return {
        "description": 'Budget participatif; quartier "Les Tilleuls"\nédition 2026',
        "country": "France",
        "unit": "Ville; test",
        "instance": "2026",
        **pb_meta(rules, outcome),
    }


def parsed_projects(instance):
    return {int(p.name): (p.cost, instance.project_meta[p].get("name")) for p in instance}


def write_and_parse(rules, ballots, outcome=Outcome.greedy):
    votes = [{"voter_id": i, **pb_vote(rules, b)} for i, b in enumerate(ballots, start=1)]
    text = write_pb(meta(rules, outcome), projects_rows(), votes)
    return text, *parse(text)


def test_nasty_names_and_costs_parse_back():
    rules = BallotRules(Method.approval, 50000)
    _, instance, _ = write_and_parse(rules, [{1: 1}])
    assert parsed_projects(instance) == {pid: (COSTS[pid], READ_BACK[pid]) for pid in COSTS}


def test_names_with_semicolons_and_quotes_are_quoted_not_split():
    text, _, _ = write_and_parse(BallotRules(Method.approval, 50000), [{1: 1}])
    assert "1;12000;Jardin partagé; bancs et ombre" not in text
    assert '"Jardin partagé; bancs et ombre"' in text
    assert '"Le ""grand"" terrain de foot"' in text


def test_meta_survives_semicolons_and_line_breaks():
    _, instance, _ = write_and_parse(BallotRules(Method.approval, 50000), [{1: 1}])
    assert instance.meta["description"] == 'Budget participatif; quartier "Les Tilleuls" édition 2026'
    assert instance.meta["unit"] == "Ville; test"
    assert instance.budget_limit == 50000
    assert (instance.meta["num_projects"], instance.meta["num_votes"]) == ("8", "1")


def test_categories_are_read_as_a_set():
    _, instance, _ = write_and_parse(BallotRules(Method.approval, 50000), [{1: 1}])
    assert instance.get_project("2").categories == {"sport", "culture"}


def test_approval_ballots_parse_back():
    rules = BallotRules(Method.approval, 50000, min_picks=2, max_picks=3)
    ballots = [{1: 1, 5: 1}, {3: 1, 4: 1, 8: 1}, {6: 1, 7: 1}]
    _, instance, profile = write_and_parse(rules, ballots)
    assert instance.meta["vote_type"] == "approval"
    assert [{int(p.name) for p in b} for b in profile] == [set(b) for b in ballots]
    assert (profile.legal_min_length, profile.legal_max_length) == (2, 3)


def test_knapsack_ballots_are_approval_with_max_sum_cost():
    rules = BallotRules(Method.knapsack, 50000, min_share=Fraction(1, 2))
    ballots = [{2: 1, 1: 1}, {5: 1, 4: 1}]
    _, instance, profile = write_and_parse(rules, ballots, Outcome.equal_shares)
    assert instance.meta["vote_type"] == "approval"
    assert instance.meta["max_sum_cost"] == "50000"
    assert instance.meta["rule"] == "equalshares"
    assert profile.legal_min_cost == 25000
    assert [{int(p.name) for p in b} for b in profile] == [set(b) for b in ballots]


def test_cumulative_ballots_parse_back_with_points():
    rules = BallotRules(Method.cumulative, 50000, points=10, max_points_per_project=6)
    ballots = [{1: 6, 3: 4}, {8: 1}, {2: 3, 4: 3, 5: 3, 7: 1}]
    _, instance, profile = write_and_parse(rules, ballots)
    assert instance.meta["vote_type"] == "cumulative"
    assert [{int(p.name): int(v) for p, v in b.items()} for b in profile] == ballots
    # (pabutools 1.2.3 reads max_points but drops it from the profile: check the meta.)
    assert (instance.meta["max_sum_points"], instance.meta["max_points"]) == ("10", "6")
    assert profile.legal_max_total_score == 10


def test_ranked_ballots_parse_back_as_ordinal_in_rank_order():
    rules = BallotRules(Method.ranked, 50000, top_k=3)
    ballots = [{5: 1, 1: 2, 3: 3}, {8: 2, 2: 1}]
    _, instance, profile = write_and_parse(rules, ballots)
    assert instance.meta["vote_type"] == "ordinal"
    assert [[int(p.name) for p in b] for b in profile] == [[5, 1, 3], [2, 8]]
    assert profile.legal_max_length == 3


def test_scoring_ballots_parse_back():
    votes = [{"voter_id": "v1", "vote": [3, 1], "points": [5, 2]}]
    text = write_pb({"budget": 100, "vote_type": "scoring"}, projects_rows(), votes)
    _, profile = parse(text)
    assert [{int(p.name): int(v) for p, v in b.items()} for b in profile] == [{3: 5, 1: 2}]


def test_extra_vote_columns_are_kept():
    votes = [{"voter_id": 1, "vote": [1], "age": 34, "neighbourhood": "Les Tilleuls; nord"}]
    text = write_pb({"budget": 100, "vote_type": "approval"}, projects_rows(), votes)
    _, profile = parse(text)
    assert profile[0].meta == {"voter_id": "1", "age": "34", "neighbourhood": "Les Tilleuls; nord"}


@pytest.mark.parametrize(
    "meta_, projects, votes, message",
    [
        ({"vote_type": "approval"}, [], [], "budget"),
        ({"budget": 1, "vote_type": "knapsack"}, [], [], "vote_type must be one of"),
        ({"budget": 1, "vote_type": "approval"}, [{"project_id": 1}], [], "no 'cost'"),
        ({"budget": 1, "vote_type": "approval"}, [{"project_id": "1,2", "cost": 1}], [], "contains ','"),
        ({"budget": 1, "vote_type": "approval"}, [{"project_id": 1, "cost": 1}] * 2, [], "repeated"),
        ({"budget": 1, "vote_type": "approval"}, [{"project_id": "Votes", "cost": 1}], [], "section title"),
        (
            {"budget": 1, "vote_type": "approval"},
            [{"project_id": 1, "cost": 1}],
            [{"voter_id": 1, "vote": [2]}],
            "unknown",
        ),
        (
            {"budget": 1, "vote_type": "cumulative"},
            [{"project_id": 1, "cost": 1}],
            [{"voter_id": 1, "vote": [1]}],
            "one point value per project",
        ),
        ({"budget": 0.5, "vote_type": "approval"}, [], [], "floats"),
    ],
)
def test_unwritable_input_is_refused(meta_, projects, votes, message):
    with pytest.raises(ValueError, match=message):
        write_pb(meta_, projects, votes)


def test_pb_meta_refuses_nonsensical_rules():
    with pytest.raises(ValueError):
        pb_meta(BallotRules(Method.ranked, 100))
