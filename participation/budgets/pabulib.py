"""Export of a participatory budget in the pabulib ``.pb`` format.

pabulib (pabulib.org) is the open library of participatory-budgeting elections that
researchers and tools such as pabutools or equalshares.net read. A ``.pb`` file has three
';'-separated sections: META (key;value), PROJECTS (one row per project, first column
``project_id``) and VOTES (one row per ballot, first column ``voter_id``; ``vote`` lists
project ids separated by ',', ``points`` the matching points).

We write it with the csv module (standard quoting) so a name containing ';' or '"'
survives. Two things cannot survive any pabulib reader, pabutools included, because they
read the file line by line and strip every cell: line breaks inside a cell, and spaces
at either end. :func:`write_pb` therefore turns each run of line breaks into one space
and strips cells, so what is written is exactly what is read back. (A cell reading
"none", in any case, is taken by pabutools for a missing value; we leave it.)

Pure standard library: services and the CLI call it, pabutools only reads it in tests.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

from participation.budgets.rules import BallotRules, Method, Outcome

__all__ = ["VOTE_TYPES", "pb_meta", "pb_vote", "write_pb"]

VOTE_TYPES = ("approval", "choose-1", "cumulative", "ordinal", "scoring")
_SECTIONS = ("meta", "projects", "votes")

# Every character str.splitlines() breaks on, which is how pabutools reads a file.
_LINE_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(_cell(v) for v in value)
    if isinstance(value, Fraction):
        if value.denominator != 1:
            raise ValueError(f"{value} is not a whole number; pabulib expects plain numbers")
        value = value.numerator
    elif isinstance(value, float):
        raise ValueError("floats are not exact; give an int, a Decimal or a string")
    elif isinstance(value, Decimal):
        value = format(value, "f")
    return _LINE_BREAKS.sub(" ", str(value)).strip()


def _columns(rows: Iterable[Mapping[str, object]], first: Sequence[str]) -> list[str]:
    columns = list(first)
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns


def write_pb(
    meta: Mapping[str, object],
    projects: Sequence[Mapping[str, object]],
    votes: Sequence[Mapping[str, object]],
) -> str:
    """The text of a ``.pb`` file.

    ``meta``: key → value, in the order to write; must contain ``budget`` and
    ``vote_type`` (one of :data:`VOTE_TYPES`); ``num_projects`` and ``num_votes`` are
    filled in when absent. ``projects``: dicts with at least ``project_id`` and
    ``cost``, plus any other column (``name``, ``category``…). ``votes``: dicts with
    ``voter_id`` and ``vote`` (a sequence of project ids, in rank order for ordinal
    ballots), ``points`` (matching sequence) for cumulative and scoring ballots, plus any
    other column. Lists are written comma-separated. Missing cells are left empty.

    Raises ValueError on what would make an unreadable or misleading file: a missing
    key, a project id that is empty, repeated or contains ',', a vote naming an unknown
    project, or points that do not match the vote.
    """
    meta = dict(meta)
    for key in ("budget", "vote_type"):
        if key not in meta:
            raise ValueError(f"meta needs {key!r}")
    if meta["vote_type"] not in VOTE_TYPES:
        raise ValueError(f"vote_type must be one of {', '.join(VOTE_TYPES)}")
    meta.setdefault("num_projects", len(projects))
    meta.setdefault("num_votes", len(votes))
    with_points = meta["vote_type"] in ("cumulative", "scoring")

    # pabutools starts a new section on any row whose first cell is one of these.
    for key in meta:
        if _cell(key).lower() in _SECTIONS:
            raise ValueError(f"meta key {key!r} would read as a section title")
    ids: set[str] = set()
    for project in projects:
        for key in ("project_id", "cost"):
            if key not in project:
                raise ValueError(f"project {project!r} has no {key!r}")
        pid = _cell(project["project_id"])
        if not pid or "," in pid or pid in ids or pid.lower() in _SECTIONS:
            raise ValueError(f"project_id {pid!r} is empty, repeated, contains ',' or is a section title")
        ids.add(pid)
    for vote in votes:
        if "voter_id" not in vote or "vote" not in vote:
            raise ValueError(f"vote {vote!r} needs 'voter_id' and 'vote'")
        if _cell(vote["voter_id"]).lower() in _SECTIONS:
            raise ValueError(f"voter_id {vote['voter_id']!r} would read as a section title")
        named = [_cell(p) for p in vote["vote"]]
        unknown = [p for p in named if p not in ids]
        if unknown:
            raise ValueError(f"vote {_cell(vote['voter_id'])!r} names unknown projects {unknown}")
        if with_points and len(vote.get("points", ())) != len(named):
            raise ValueError(f"vote {_cell(vote['voter_id'])!r} needs one point value per project")

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    for key, value in meta.items():
        writer.writerow([_cell(key), _cell(value)])
    for section, rows, first in (
        ("PROJECTS", projects, ["project_id", "cost"]),
        ("VOTES", votes, ["voter_id", "vote", "points"] if with_points else ["voter_id", "vote"]),
    ):
        columns = _columns(rows, first)
        writer.writerow([section])
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


#: pabulib's names of our outcome rules
_RULE_NAMES = {Outcome.greedy: "greedy", Outcome.equal_shares: "equalshares"}


def pb_meta(rules: BallotRules, outcome: Outcome | None = None) -> dict[str, object]:
    """META entries that say how the ballots were constrained (knapsack is stored as
    approval with ``max_sum_cost``, as pabulib has no knapsack type; ranked as ordinal).
    Add description, country, unit, instance… before writing."""
    rules.check()
    meta: dict[str, object] = {"budget": rules.envelope}
    if rules.method is Method.approval:
        meta["vote_type"] = "approval"
        if rules.min_picks is not None:
            meta["min_length"] = rules.min_picks
        if rules.max_picks is not None:
            meta["max_length"] = rules.max_picks
    elif rules.method is Method.knapsack:
        meta["vote_type"] = "approval"
        meta["max_sum_cost"] = rules.envelope
        if rules.min_spend is not None:
            meta["min_sum_cost"] = rules.min_spend
    elif rules.method is Method.cumulative:
        meta["vote_type"] = "cumulative"
        meta["max_sum_points"] = rules.points
        if rules.max_points_per_project is not None:
            meta["max_points"] = rules.max_points_per_project
    else:
        meta["vote_type"] = "ordinal"
        meta["max_length"] = rules.top_k
    if outcome is not None:
        meta["rule"] = _RULE_NAMES[outcome]
    return meta


def pb_vote(rules: BallotRules, choices: Mapping[int, int]) -> dict[str, list[int]]:
    """``vote`` (and ``points``) cells of one ballot; add a pseudonymous ``voter_id``."""
    if rules.method is Method.cumulative:
        order = sorted(choices, key=lambda p: (-choices[p], p))
        return {"vote": order, "points": [choices[p] for p in order]}
    if rules.method is Method.ranked:
        return {"vote": sorted(choices, key=choices.__getitem__)}
    return {"vote": sorted(choices)}
