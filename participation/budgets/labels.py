"""Translated labels of the budget's states, and money formatting, for templates."""
from flask_babel import format_decimal, lazy_gettext as _l

from ..core.channels import Assistance
from .models import Channel, Feasibility, MilestoneStatus, OutcomeRule, Phase

PHASES = {
    Phase.proposals: _l("Ideas"),
    Phase.feasibility: _l("Study"),
    Phase.vote: _l("Vote"),
    Phase.results: _l("Results"),
    Phase.implementation: _l("Carrying out"),
    Phase.closed: _l("Closed"),
}
FEASIBILITY = {
    Feasibility.pending: _l("Being studied"),
    Feasibility.feasible: _l("Feasible"),
    Feasibility.unfeasible: _l("Not feasible"),
}
MILESTONES = {
    MilestoneStatus.planned: _l("Planned"),
    MilestoneStatus.in_progress: _l("In progress"),
    MilestoneStatus.done: _l("Done"),
    MilestoneStatus.delayed: _l("Delayed"),
    MilestoneStatus.cancelled: _l("Cancelled"),
}
OUTCOMES = {
    OutcomeRule.greedy: _l("most votes first, within the budget"),
    OutcomeRule.equal_shares: _l("method of equal shares"),
}
CHANNELS = {Channel.web: _l("online"), Channel.assisted: _l("assisted"), Channel.paper: _l("paper")}
ASSISTANCE = {Assistance.read_aloud: _l("read aloud"), Assistance.translated: _l("translated"),
              Assistance.written_for: _l("written for the person")}


def money(amount) -> str:
    if amount is None:
        return "—"
    return f"{format_decimal(amount, format='#,##0')}\u00a0€"


def feasibility_label(proposal) -> str:
    if proposal.is_hidden:
        return str(_l("Hidden"))
    if proposal.merged_into_id:
        return str(_l("Merged"))
    return str(FEASIBILITY[proposal.feasibility])


def register(state) -> None:
    state.app.jinja_env.globals.update(
        money=money,
        feasibility_label=feasibility_label,
        phase_label=lambda p: str(PHASES[p]),
        milestone_label=lambda s: str(MILESTONES[s]),
        outcome_label=lambda o: str(OUTCOMES[o]),
        channel_label=lambda c: str(CHANNELS[c]),
        assistance_label=lambda a: str(ASSISTANCE[a]),
    )
