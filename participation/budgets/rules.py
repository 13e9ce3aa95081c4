"""Voting rules of a participatory budget: what a ballot may contain, and who wins.

Pure Python on purpose (standard library only, no Flask, no database): services pass
plain dicts in and get plain values back, so the same code serves the ballot page, the
results page, a recount from the command line and ``bench/tally.py``.

Ballots
-------
A ballot is a dict ``{project_id: value}``:

* approval and knapsack: ``1`` for each chosen project;
* cumulative: the points given to the project (at least 1);
* ranked: the rank, 1 being the favourite; the ranks used are 1, 2, … m with no gap and
  no repeat, m ≤ ``top_k``.

Scores
------
Each ballot gives each project it names a *score*:

* approval, knapsack: 1;
* cumulative: the points given;
* ranked: ``top_k - rank + 1`` (Borda within the top k: with ``top_k = 3`` the first
  choice scores 3, the second 2, the third 1, whatever the length of the ballot).

A project's *score* is the sum over ballots; its *votes* is the number of ballots that
name it (the two coincide for approval and knapsack).

Outcome rules
-------------
Ties are always broken the same way: **the cheaper project first, then the smaller id**
(the older project). Cheaper first leaves more money for the others; the id keeps the
result independent of names, which are translated and edited.

``greedy``
    Projects by decreasing score; each is selected if it fits in what is left of the
    envelope, otherwise skipped, and the following ones are still tried. A project that
    no ballot names (score 0) is never selected, even if money is left.

``equal_shares``
    The Method of Equal Shares (Peters & Skowron), then greedy completion. The envelope
    is split equally between the n ballots cast. A project can be bought only by its
    supporters, each paying ``min(own money, rho * u)`` where u is the supporter's
    utility for it; each round buys the project with the smallest rho (ties as above)
    and stops when no remaining project can be paid for by its supporters. Utilities:

    * approval and knapsack: ``u = cost`` (*cost utilities*: the supporters of a
      project pay equal shares of it). This is what equalshares.net recommends for
      approval ballots and what pabutools computes with ``sat_class=Cost_Sat``;
    * cumulative and ranked: ``u = score`` (supporters pay in proportion to the points
      they gave), pabutools' ``Additive_Cardinal_Sat``.

    MES alone often leaves money unspent, so the projects it did not buy are then taken
    in the greedy order above while they fit (score-0 projects still excluded).

All money is exact: integers, inside MES counted in a unit fine enough to stay whole
(see ``_equal_shares``), prices compared as ``fractions.Fraction``; no float anywhere. The outcome equals pabutools' ::

    completion_by_rule_combination(
        instance, profile, [method_of_equal_shares, greedy_utilitarian_welfare],
        [{"sat_class": S, "tie_breaking": T}, {"sat_class": G, "tie_breaking": T}])

with exact fractions, ``T`` ordering by (cost, id), and: approval/knapsack ``S = G =
Cost_Sat``; cumulative/ranked (ranked given as cardinal ballots of Borda scores)
``S = Additive_Cardinal_Sat``, ``G`` = score × cost (pabutools' greedy orders by
satisfaction per euro, so that is what "highest score first" means there). Projects
pabutools adds with score 0 at the very end are the only difference;
``tests/budgets/test_rules.py`` checks all of this on random instances.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

__all__ = [
    "BallotRules",
    "BallotSummary",
    "Method",
    "Outcome",
    "Result",
    "Violation",
    "ViolationCode",
    "ballot_summary",
    "score",
    "tally",
    "validate_ballot",
]


class Method(enum.Enum):
    approval = "approval"
    knapsack = "knapsack"
    cumulative = "cumulative"
    ranked = "ranked"


class Outcome(enum.Enum):
    greedy = "greedy"
    equal_shares = "equal_shares"


class ViolationCode(enum.StrEnum):
    too_few = "too_few"  # min, count
    too_many = "too_many"  # max, count
    over_envelope = "over_envelope"  # envelope, total
    under_min_share = "under_min_share"  # minimum, total
    too_many_points = "too_many_points"  # points, used
    over_max_per_project = "over_max_per_project"  # project, max, value
    duplicate_rank = "duplicate_rank"  # rank
    rank_out_of_range = "rank_out_of_range"  # project, rank, max
    rank_gap = "rank_gap"  # rank (the smallest rank missing below a used one)
    unknown_project = "unknown_project"  # project
    bad_value = "bad_value"  # project


@dataclass(frozen=True)
class Violation:
    """One broken rule of a ballot. ``params`` are numbers for the translated message."""

    code: ViolationCode
    params: dict[str, int] = field(default_factory=dict)


_METHOD_FIELDS = {
    Method.approval: {"min_picks", "max_picks"},
    Method.knapsack: {"min_share"},
    Method.cumulative: {"points", "max_points_per_project"},
    Method.ranked: {"top_k"},
}
_OPTIONAL_FIELDS = ("min_picks", "max_picks", "min_share", "points", "max_points_per_project", "top_k")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class BallotRules:
    """What a ballot of one process may contain. Call :meth:`check` before trusting it."""

    method: Method
    #: euros to share between the winning projects
    envelope: int
    #: approval: at least / at most this many projects (None: at least 1 / no maximum)
    min_picks: int | None = None
    max_picks: int | None = None
    #: knapsack: share of the envelope a ballot must spend at least (e.g. Fraction(1, 2))
    min_share: Fraction | None = None
    #: cumulative: points each voter distributes (at most), and the cap per project
    #: (None: no cap beyond ``points``)
    points: int | None = None
    max_points_per_project: int | None = None
    #: ranked: how many projects a voter may rank
    top_k: int | None = None

    def __post_init__(self):
        # Forms and the database hand over Decimal or str; floats are refused by check().
        share = self.min_share
        if isinstance(share, (Decimal, int, str)) and not isinstance(share, bool):
            try:
                object.__setattr__(self, "min_share", Fraction(share))
            except (ValueError, ArithmeticError):
                pass

    def check(self) -> None:
        """Raise ValueError, with a message for the admin, if these rules make no sense."""
        if not isinstance(self.method, Method):
            raise ValueError(f"method must be one of {', '.join(m.value for m in Method)}")
        if not _is_int(self.envelope) or self.envelope < 1:
            raise ValueError("envelope must be a whole number of euros, at least 1")
        allowed = _METHOD_FIELDS[self.method]
        for name in _OPTIONAL_FIELDS:
            if name not in allowed and getattr(self, name) is not None:
                raise ValueError(f"{name} does not apply to {self.method.value} ballots")
        for name in ("min_picks", "max_picks", "points", "max_points_per_project", "top_k"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 1):
                raise ValueError(f"{name} must be a whole number, at least 1")
        if self.method is Method.approval:
            if self.min_picks is not None and self.max_picks is not None and self.max_picks < self.min_picks:
                raise ValueError(f"max_picks ({self.max_picks}) must be at least min_picks ({self.min_picks})")
        elif self.method is Method.knapsack:
            share = self.min_share
            if share is not None:
                if not isinstance(share, Fraction):
                    raise ValueError("min_share must be an exact number (Fraction, Decimal or string), not a float")
                if not 0 < share <= 1:
                    raise ValueError("min_share must be more than 0 and at most 1 (a share of the envelope)")
        elif self.method is Method.cumulative:
            if self.points is None:
                raise ValueError("cumulative ballots need points (how many each voter distributes)")
            if self.max_points_per_project is not None and self.max_points_per_project > self.points:
                raise ValueError(
                    f"max_points_per_project ({self.max_points_per_project}) cannot exceed points ({self.points})"
                )
        elif self.method is Method.ranked:
            if self.top_k is None:
                raise ValueError("ranked ballots need top_k (how many projects a voter may rank)")

    @property
    def min_spend(self) -> int | None:
        """Knapsack: the least a ballot must spend, in whole euros (None: no minimum)."""
        if self.min_share is None:
            return None
        return math.ceil(self.min_share * self.envelope)


def score(rules: BallotRules, value: int) -> int:
    """The score a valid ballot gives a project it names with ``value`` (see module doc)."""
    if rules.method is Method.cumulative:
        return value
    if rules.method is Method.ranked:
        return rules.top_k - value + 1
    return 1


def validate_ballot(rules: BallotRules, costs: Mapping[int, int], choices: Mapping[int, int]) -> list[Violation]:
    """Every rule the ballot breaks, in a stable order; an empty list means valid.

    ``costs`` maps each project on the ballot paper to its cost; ``choices`` is the
    ballot (see module doc).
    """
    rules.check()
    return _violations(rules, costs, choices)


def _violations(rules: BallotRules, costs: Mapping[int, int], choices: Mapping[int, int]) -> list[Violation]:
    found: list[Violation] = []
    known: dict[int, int] = {}
    for project, value in choices.items():
        if project not in costs:
            found.append(Violation(ViolationCode.unknown_project, {"project": project}))
        elif not _is_int(value):
            found.append(Violation(ViolationCode.bad_value, {"project": project}))
        else:
            known[project] = value
    count = len(choices)
    method = rules.method

    if method in (Method.approval, Method.knapsack):
        for project, value in known.items():
            if value != 1:
                found.append(Violation(ViolationCode.bad_value, {"project": project}))
    elif method is Method.cumulative:
        cap = rules.max_points_per_project
        for project, value in known.items():
            if value < 1:
                found.append(Violation(ViolationCode.bad_value, {"project": project}))
            elif cap is not None and value > cap:
                found.append(
                    Violation(ViolationCode.over_max_per_project, {"project": project, "max": cap, "value": value})
                )
    elif method is Method.ranked:
        seen: Counter[int] = Counter()
        for project, rank in known.items():
            if not 1 <= rank <= rules.top_k:
                found.append(
                    Violation(ViolationCode.rank_out_of_range, {"project": project, "rank": rank, "max": rules.top_k})
                )
            else:
                seen[rank] += 1
        for rank in sorted(r for r, n in seen.items() if n > 1):
            found.append(Violation(ViolationCode.duplicate_rank, {"rank": rank}))
        if seen:
            missing = [r for r in range(1, max(seen)) if r not in seen]
            if missing:
                found.append(Violation(ViolationCode.rank_gap, {"rank": missing[0]}))

    minimum, maximum = _pick_bounds(rules)
    if count < minimum:
        found.append(Violation(ViolationCode.too_few, {"min": minimum, "count": count}))
    if maximum is not None and count > maximum:
        found.append(Violation(ViolationCode.too_many, {"max": maximum, "count": count}))

    if method is Method.knapsack:
        total = sum(costs[p] for p in known)
        if total > rules.envelope:
            found.append(Violation(ViolationCode.over_envelope, {"envelope": rules.envelope, "total": total}))
        min_spend = rules.min_spend
        if min_spend is not None and total < min_spend:
            found.append(Violation(ViolationCode.under_min_share, {"minimum": min_spend, "total": total}))
    elif method is Method.cumulative:
        used = sum(v for v in known.values() if v >= 1)
        if used > rules.points:
            found.append(Violation(ViolationCode.too_many_points, {"points": rules.points, "used": used}))
    return found


def _pick_bounds(rules: BallotRules) -> tuple[int, int | None]:
    # Every method needs at least one choice: an empty ballot is an abstention, not a vote.
    if rules.method is Method.approval:
        return (rules.min_picks or 1), rules.max_picks
    if rules.method is Method.ranked:
        return 1, rules.top_k
    return 1, None


@dataclass(frozen=True)
class BallotSummary:
    """What the ballot page shows beside the choices."""

    envelope: int
    #: cost of the chosen projects (unknown ids count for nothing)
    total_cost: int
    #: envelope - total_cost; negative when over the envelope
    remaining: int
    picks: int
    min_picks: int
    #: None when there is no maximum
    max_picks: int | None
    picks_left: int | None
    #: cumulative only (None otherwise)
    points: int | None
    points_used: int | None
    points_left: int | None
    max_points_per_project: int | None
    #: knapsack only: least a ballot must spend, in euros
    min_spend: int | None
    violations: tuple[Violation, ...]

    @property
    def valid(self) -> bool:
        return not self.violations


def ballot_summary(rules: BallotRules, costs: Mapping[int, int], choices: Mapping[int, int]) -> BallotSummary:
    violations = tuple(validate_ballot(rules, costs, choices))
    total = sum(costs[p] for p in choices if p in costs)
    minimum, maximum = _pick_bounds(rules)
    picks = len(choices)
    points_used = points_left = None
    if rules.method is Method.cumulative:
        points_used = sum(v for v in choices.values() if _is_int(v) and v > 0)
        points_left = rules.points - points_used
    return BallotSummary(
        envelope=rules.envelope,
        total_cost=total,
        remaining=rules.envelope - total,
        picks=picks,
        min_picks=minimum,
        max_picks=maximum,
        picks_left=None if maximum is None else maximum - picks,
        points=rules.points,
        points_used=points_used,
        points_left=points_left,
        max_points_per_project=(
            (rules.max_points_per_project or rules.points) if rules.method is Method.cumulative else None
        ),
        min_spend=rules.min_spend,
        violations=violations,
    )


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    envelope: int
    #: number of ballots counted
    ballots: int
    #: every project id → number of ballots naming it
    votes: dict[int, int]
    #: every project id → sum of the scores the ballots gave it
    scores: dict[int, int]
    #: winning project ids, in the order the rule selected them
    selected: tuple[int, ...]
    #: equal_shares: how many of ``selected`` (a prefix) MES bought before greedy completion
    by_equal_shares: int
    total_cost: int

    @property
    def remaining(self) -> int:
        return self.envelope - self.total_cost


def tally(
    projects: Mapping[int, int],
    ballots: Iterable[Mapping[int, int]],
    rules: BallotRules,
    outcome: Outcome,
) -> Result:
    """Count ``ballots`` (each must be valid under ``rules``) over ``projects`` (id → cost).

    Raises ValueError on a cost that is not a positive whole number of euros, or on an
    invalid ballot: ballots are validated when cast, so one failing here means the
    rules changed under them, and dropping it silently would falsify the result.
    """
    rules.check()
    if not isinstance(outcome, Outcome):
        raise ValueError(f"outcome must be one of {', '.join(o.value for o in Outcome)}")
    for project, cost in projects.items():
        if not _is_int(cost) or cost < 1:
            raise ValueError(f"project {project} has cost {cost!r}; costs must be whole euros, at least 1")

    # Identical ballots are counted once with a multiplicity: far less work for MES.
    groups = Counter(tuple(sorted(ballot.items())) for ballot in ballots)
    votes = dict.fromkeys(projects, 0)
    scores = dict.fromkeys(projects, 0)
    weighted: list[tuple[tuple[tuple[int, int], ...], int]] = []
    for items, multiplicity in groups.items():
        problems = _violations(rules, projects, dict(items))
        if problems:
            codes = ", ".join(sorted({v.code.value for v in problems}))
            raise ValueError(f"invalid ballot {dict(items)!r} ({multiplicity}×): {codes}")
        scored = tuple((p, score(rules, v)) for p, v in items)
        for p, s in scored:
            votes[p] += multiplicity
            scores[p] += s * multiplicity
        weighted.append((scored, multiplicity))
    n_ballots = sum(groups.values())

    bought: list[int] = []
    if outcome is Outcome.equal_shares:
        cost_utilities = rules.method in (Method.approval, Method.knapsack)
        bought = _equal_shares(projects, weighted, n_ballots, rules.envelope, cost_utilities)
    selected = _greedy(projects, scores, rules.envelope, bought)
    return Result(
        outcome=outcome,
        envelope=rules.envelope,
        ballots=n_ballots,
        votes=votes,
        scores=scores,
        selected=tuple(selected),
        by_equal_shares=len(bought),
        total_cost=sum(projects[p] for p in selected),
    )


def _greedy(projects: Mapping[int, int], scores: Mapping[int, int], envelope: int, already: list[int]) -> list[int]:
    """Complete ``already`` by decreasing score, skipping what no longer fits."""
    selected = list(already)
    taken = set(already)
    left = envelope - sum(projects[p] for p in already)
    order = sorted(
        (p for p in projects if scores[p] > 0 and p not in taken),
        key=lambda p: (-scores[p], projects[p], p),
    )
    for p in order:
        if projects[p] <= left:
            selected.append(p)
            left -= projects[p]
    return selected


def _equal_shares(
    projects: Mapping[int, int],
    groups: list[tuple[tuple[tuple[int, int], ...], int]],
    n_ballots: int,
    envelope: int,
    cost_utilities: bool,
) -> list[int]:
    """Method of Equal Shares, exact; returns the projects bought, in order.

    Two devices keep it fast without giving up exactness:

    * money is counted in integer *units* of 1/scale euro. Each purchase divides
      supporters' money by some integer, so before charging we multiply every budget
      (and the scale) by just enough to keep them whole: integer sums and comparisons
      instead of Fraction arithmetic in the inner loops;
    * voters with the same money left are interchangeable, so budgets live in *money
      classes*, and each project keeps ``class * span + utility → supporters``. Pricing
      a project walks its classes, not its voters, and only the supporters of the
      project just bought change class.
    """
    if n_ballots == 0:
        return []
    # Per group: {project: utility}, and its multiplicity.
    utilities: list[dict[int, int]] = []
    mult: list[int] = []
    span = 1
    for items, m in groups:
        row = {p: (s * projects[p] if cost_utilities else s) for p, s in items}
        utilities.append(row)
        mult.append(m)
        span = max(span, max(row.values(), default=0) + 1)

    scale = n_ballots  # one unit = 1/scale euro, so each ballot starts with `envelope` units
    money: list[int] = [envelope]
    class_of_money: dict[int, int] = {envelope: 0}
    class_of = [0] * len(groups)
    support: dict[int, dict[int, int]] = {}  # project → {class * span + utility: supporters}
    members: dict[int, list[int]] = {}  # project → supporting groups
    for g, row in enumerate(utilities):
        for p, u in row.items():
            entries = support.setdefault(p, {})
            entries[u] = entries.get(u, 0) + mult[g]
            members.setdefault(p, []).append(g)

    # A lower bound of each project's price factor rho, in euros per utility: budgets
    # only shrink, so a price computed in an earlier round never overestimates. Projects
    # are examined by this bound and the scan stops once it exceeds the best price found.
    # (Every supporter is still in class 0, so each key is just the utility.)
    bound: dict[int, Fraction] = {
        p: Fraction(projects[p], sum(u * n for u, n in entries.items())) for p, entries in support.items()
    }
    remaining = set(bound)
    bought: list[int] = []
    while remaining:
        best: int | None = None
        best_rho: Fraction | None = None
        best_units: tuple[int, int] = (0, 1)
        for p in sorted(remaining, key=lambda q: (bound[q], projects[q], q)):
            if best_rho is not None and bound[p] > best_rho:
                break
            price = _price_factor(projects[p] * scale, support[p], money, span, cost_utilities)
            if price is None:
                remaining.discard(p)
                continue
            rho = bound[p] = Fraction(price[0], price[1] * scale)
            if best_rho is None or (rho, projects[p], p) < (best_rho, projects[best], best):
                best, best_rho, best_units = p, rho, price
        if best is None:
            break
        bought.append(best)
        remaining.discard(best)
        # rho = need/weight units per utility: rescale so that every payment u*rho is whole.
        need, weight = best_units
        common = math.gcd(need, weight)
        need, factor = need // common, weight // common
        if factor > 1:
            scale *= factor
            money = [m * factor for m in money]
            class_of_money = {m: c for c, m in enumerate(money)}
        _pay(best, need, members[best], utilities, mult, class_of, money, class_of_money, support, remaining, span)
    return bought


def _price_factor(
    cost: int, entries: dict[int, int], money: list[int], span: int, uniform: bool
) -> tuple[int, int] | None:
    """rho = need/weight (units per utility), the smallest with sum(min(b, rho*u)) == cost.

    None when the supporters together hold less than ``cost`` units.
    """
    rows = []
    total = weight = 0
    for key, n in entries.items():
        c, u = divmod(key, span)
        b = money[c]
        if b:
            rows.append((b, u, n))
            total += b * n
            weight += u * n
    if total < cost:
        return None
    # Poorest first relative to utility: each supporter either pays rho*u or is emptied.
    if uniform:
        rows.sort()  # every supporter's utility is the project's cost: order by money
    else:
        lcm = math.lcm(*{u for _, u, _ in rows})
        rows.sort(key=lambda r: r[0] * (lcm // r[1]))
    paid = 0
    for b, u, n in rows:
        need = cost - paid
        if need * u <= b * weight:
            return need, weight
        paid += b * n
        weight -= u * n
    raise AssertionError("affordable project without a price")  # pragma: no cover


def _pay(
    bought: int,
    need: int,
    supporters: list[int],
    utilities: list[dict[int, int]],
    mult: list[int],
    class_of: list[int],
    money: list[int],
    class_of_money: dict[int, int],
    support: dict[int, dict[int, int]],
    remaining: set[int],
    span: int,
) -> None:
    """Charge each supporter of ``bought`` u*need units (or all it has); move it to its new class."""
    moved: dict[int, int] = {}
    for g in supporters:
        c = class_of[g]
        if not money[c]:
            continue  # already broke: pays nothing and is no longer counted anywhere
        row = utilities[g]
        u = row[bought]
        target = moved.get(c * span + u)
        if target is None:
            left = max(money[c] - u * need, 0)
            target = class_of_money.get(left)
            if target is None:
                target = len(money)
                money.append(left)
                class_of_money[left] = target
            moved[c * span + u] = target
        class_of[g] = target
        m = mult[g]
        old, new = c * span, target * span
        alive = money[target] > 0
        for q, uq in row.items():
            if q in remaining:
                entries = support[q]
                n = entries[old + uq] - m
                if n:
                    entries[old + uq] = n
                else:
                    del entries[old + uq]
                if alive:
                    entries[new + uq] = entries.get(new + uq, 0) + m
