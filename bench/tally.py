"""Time of the budget tally (greedy, equal shares + completion) beside pabutools.

Draws one seeded election of B ballots over P projects (approval, then cumulative),
times our ``participation.budgets.rules.tally`` for each outcome rule, then pabutools on
the same instance (exact gmpy2 fractions, then floats), and says whether the selections
agree. Our figure includes validating and grouping the raw ballot dicts; pabutools' only
the rule itself (building its profile is timed apart). pabutools is a test dependency:
``.venv/bin/pip install -e '.[test]'``. Usage:
    .venv/bin/python bench/tally.py [ballots=20000] [projects=50] [seed=2024]
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from participation.budgets.rules import BallotRules, Method, Outcome, tally


#: (label, method, uneven popularity?, most choices per ballot)
SCENARIOS = [
    ("approval", Method.approval, True, 8),
    ("cumulative", Method.cumulative, True, 10),
    # Worst case for our MES: every ballot different, many choices, so nearly every
    # voter ends up with a budget of their own.
    ("approval, dense uniform ballots", Method.approval, False, 25),
]


def election(rng: random.Random, method: Method, n_ballots: int, n_projects: int, uneven: bool, most: int):
    projects = {pid: rng.randrange(5_000, 150_001, 500) for pid in range(1, n_projects + 1)}
    envelope = sum(projects.values()) // 4
    # Uneven popularity, as in real votes: a few favourites, a long tail.
    weights = [rng.paretovariate(1.2) if uneven else 1 for _ in projects]
    ids = list(projects)
    if method is Method.approval:
        rules = BallotRules(method, envelope)
        ballots = []
        for _ in range(n_ballots):
            size = rng.randint(1, most)
            if uneven:
                ballots.append(dict.fromkeys(set(rng.choices(ids, weights, k=size)), 1))
            else:
                ballots.append(dict.fromkeys(rng.sample(ids, size), 1))
    else:
        rules = BallotRules(method, envelope, points=10, max_points_per_project=5)
        ballots = []
        for _ in range(n_ballots):
            ballot: dict[int, int] = {}
            for pid in rng.choices(ids, weights, k=rng.randint(1, most)):
                if ballot.get(pid, 0) < 5:
                    ballot[pid] = ballot.get(pid, 0) + 1
            ballots.append(ballot)
    return projects, ballots, rules


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def pabutools_runs(projects, ballots, rules):
    """Yield (label, seconds, selected ids) for pabutools on this election."""
    from pabutools import fractions as pabu_fractions
    from pabutools.election import (
        Additive_Cardinal_Sat,
        ApprovalBallot,
        ApprovalProfile,
        Cost_Sat,
        CumulativeBallot,
        CumulativeProfile,
        Instance,
        Project,
    )
    from pabutools.election.satisfaction import AdditiveSatisfaction
    from pabutools.rules import completion_by_rule_combination, greedy_utilitarian_welfare, method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    class ScoreTimesCost_Sat(AdditiveSatisfaction):
        def __init__(self, instance, profile, ballot):
            super().__init__(instance, profile, ballot, lambda i, pr, b, p, pre: b.get(p, 0) * p.cost)

    tie = TieBreakingRule(lambda instance, profile, project: (project.cost, int(project.name)))
    pabu = {pid: Project(str(pid), cost) for pid, cost in projects.items()}
    instance = Instance(pabu.values(), budget_limit=rules.envelope)

    def profile():
        if rules.method is Method.approval:
            return ApprovalProfile([ApprovalBallot({pabu[p] for p in b}) for b in ballots])
        return CumulativeProfile([CumulativeBallot({pabu[p]: v for p, v in b.items()}) for b in ballots])

    prof, seconds = timed(profile)
    yield "pabutools profile construction", seconds, None
    mes_sat, greedy_sat = (
        (Cost_Sat, Cost_Sat) if rules.method is Method.approval else (Additive_Cardinal_Sat, ScoreTimesCost_Sat)
    )
    previous = pabu_fractions.FRACTION
    try:
        for mode in (pabu_fractions.GMPY_FRAC, pabu_fractions.FLOAT_FRAC):
            pabu_fractions.FRACTION = mode
            # Its code reads FRACTION at call time; a fresh profile avoids cached satisfactions.
            prof = profile()
            greedy = {"sat_class": greedy_sat, "tie_breaking": tie}
            allocation, seconds = timed(
                lambda prof=prof, greedy=greedy: greedy_utilitarian_welfare(instance, prof, **greedy)
            )
            yield f"pabutools greedy ({mode})", seconds, [int(p.name) for p in allocation]
            allocation, seconds = timed(
                lambda prof=prof, greedy=greedy: completion_by_rule_combination(
                    instance,
                    prof,
                    [method_of_equal_shares, greedy_utilitarian_welfare],
                    [{"sat_class": mes_sat, "tie_breaking": tie}, greedy],
                )
            )
            yield f"pabutools MES + completion ({mode})", seconds, [int(p.name) for p in allocation]
    finally:
        pabu_fractions.FRACTION = previous


def main(n_ballots: int, n_projects: int, seed: int) -> None:
    print(f"{n_ballots} ballots x {n_projects} projects, seed {seed}, Python {sys.version.split()[0]}")
    for label, method, uneven, most in SCENARIOS:
        rng = random.Random(f"{seed}-{label}")
        projects, ballots, rules = election(rng, method, n_ballots, n_projects, uneven, most)
        print(f"\n{label}: envelope {rules.envelope} EUR, {sum(map(len, ballots))} choices")
        ours = {}
        for outcome in Outcome:
            result, seconds = timed(lambda o=outcome, p=projects, b=ballots, r=rules: tally(p, b, r, o))
            ours[outcome] = result
            extra = f", {result.by_equal_shares} by MES" if outcome is Outcome.equal_shares else ""
            print(
                f"  ours {outcome.value:<13} {seconds:7.3f} s  {len(result.selected)} projects, "
                f"{result.total_cost} EUR{extra}"
            )
        try:
            runs = list(pabutools_runs(projects, ballots, rules))
        except ImportError:
            print("  pabutools not installed: pip install -e '.[test]'")
            continue
        for label, seconds, selected in runs:
            if selected is None:
                print(f"  {label:<38} {seconds:7.3f} s")
                continue
            mine = ours[Outcome.greedy if "greedy (" in label else Outcome.equal_shares]
            # pabutools also funds unvoted projects last; ours never does.
            theirs = [p for p in selected if mine.scores[p] > 0]
            verdict = "agrees" if tuple(theirs) == mine.selected else f"DIFFERS: {theirs} vs {list(mine.selected)}"
            print(f"  {label:<38} {seconds:7.3f} s  {verdict}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [20_000, 50, 2024][len(args) :]))
