"""Results exports of a participatory budget: CSV, XLSX and pabulib .pb. No personal data:
projects, costs, votes per channel, selection, and anonymous ballots (numbered, no receipt)."""
from __future__ import annotations

from flask_babel import gettext as _

from ..core.exports import to_csv, to_xlsx
from . import pabulib, services
from .labels import CHANNELS
from .models import Channel, Process


def _project_rows(process: Process) -> tuple[list[str], list[list]]:
    data = services.results_table(process)
    headers = [_("Number"), _("Project"), _("Cost (€)"), _("Online"), _("Assisted"), _("Paper"), _("Total votes"),
               _("Score"), _("Selected"), _("Selection order")]
    rows = [
        [r["proposal"].number, r["proposal"].title, r["cost"], r["web"], r["assisted"], r["paper"], r["votes"], r["score"],
         _("yes") if r["selected"] else _("no"), r["rank"] or ""]
        for r in data["rows"]
    ]
    return headers, rows


def results_csv(process: Process) -> str:
    return to_csv(*_project_rows(process))


def results_xlsx(process: Process) -> bytes:
    headers, rows = _project_rows(process)
    data = services.results_table(process)
    turnout_headers = [_("Neighbourhood"), str(CHANNELS[Channel.web]), str(CHANNELS[Channel.assisted]),
                       str(CHANNELS[Channel.paper]), _("Total")]
    turnout = [[t["name"] or _("Not known"), t["web"], t["assisted"], t["paper"], t["total"]] for t in data["turnout"]]
    summary = [
        [_("Process"), process.title],
        [_("Budget"), process.envelope],
        [_("Spent"), data["spent"]],
        [_("Valid ballots"), data["ballots"]],
        [_("Invalid paper ballots"), data["invalid"]],
    ]
    return to_xlsx([
        (_("Summary"), [_("Item"), _("Value")], summary),
        (_("Projects"), headers, rows),
        (_("Turnout"), turnout_headers, turnout),
    ])


def results_pb(process: Process) -> str:
    ballot_rules = services.rules_of(process)
    proposals = services.ballot_proposals(process)
    result = services.compute_results(process)
    selected = set(result.selected)
    meta = pabulib.pb_meta(ballot_rules, process.outcome_rule)
    meta.update({"description": process.title, "country": "France", "unit": process.scope_label,
                 "instance": str(process.id), "currency": "EUR"})
    projects = [
        {"project_id": p.id, "cost": p.cost, "name": p.title, "votes": result.votes.get(p.id, 0),
         "selected": int(p.id in selected)}
        for p in proposals
    ]
    known = {p.id for p in proposals}
    votes = []
    for i, choices in enumerate(services.ballots_for_tally(process), 1):
        choices = {k: v for k, v in choices.items() if k in known}
        if choices:
            votes.append({"voter_id": i, **pabulib.pb_vote(ballot_rules, choices)})
    return pabulib.write_pb(meta, projects, votes)
