"""Plain-language, translated messages for the rules a ballot or a request may break."""
from flask_babel import gettext as _


def violation(v) -> str:
    p = v.params
    texts = {
        "too_few": lambda: _("Choose at least %(min)s projects.", min=p.get("min")),
        "too_many": lambda: _("Choose at most %(max)s projects.", max=p.get("max")),
        "over_envelope": lambda: _("Your choices cost %(total)s €, more than the %(envelope)s € available.", total=p.get("total"), envelope=p.get("envelope")),
        "under_min_share": lambda: _("Your choices must use at least %(min)s € of the budget.", min=p.get("minimum")),
        "too_many_points": lambda: _("You gave %(used)s points; you have %(points)s.", used=p.get("used"), points=p.get("points")),
        "over_max_per_project": lambda: _("At most %(max)s points per project.", max=p.get("max")),
        "duplicate_rank": lambda: _("Each rank can be used only once."),
        "rank_out_of_range": lambda: _("Use ranks from 1 to %(max)s.", max=p.get("max")),
        "rank_gap": lambda: _("Use the ranks in order: rank %(rank)s is missing.", rank=p.get("rank")),
    }
    return texts.get(v.code, lambda: _("This ballot does not follow the rules of the vote."))()


def violations(items) -> list[str]:
    return [violation(v) for v in items]


def rule_error(e) -> list[str]:
    if e.code == "invalid_ballot":
        return violations(e.params["violations"])
    texts = {
        "vote_closed": lambda: _("The vote is not open."),
        "comments_closed": lambda: _("Comments are not open in this phase."),
        "date_order": lambda: _("A phase cannot end before it starts."),
        "not_selected": lambda: _("Only projects selected by the vote have a follow-up."),
        "form_expired": lambda: _("Your form expired. Check your choices and send again."),
        "unknown_code": lambda: _("This code is not valid for this vote. Check the letters and digits on your slip."),
        "voted_on_paper": lambda: _("This code was already used to vote on paper. A person votes only once."),
        "already_voted": lambda: _("This code has already been used to vote."),
        "busy": lambda: _("Your vote could not be recorded because another one with the same code arrived at the same moment. Reload the page to see which one counts."),
        "rules_frozen": lambda: _("The vote has opened: its rules can no longer change."),
        "bad_rules": lambda: _("These voting rules do not fit together: %(detail)s", detail=e.params.get("detail", "")),
        "not_open": lambda: _("This phase does not accept new ideas."),
        "contact_consent": lambda: _("Tick the box to leave your contact details, or leave them empty."),
        "reason_required": lambda: _("Give a reason: it is shown publicly."),
        "cost_required": lambda: _("A feasible project needs a cost."),
        "phase_jump": lambda: _("Phases move one step at a time."),
        "no_feasible_proposal": lambda: _("The vote needs at least one feasible proposal."),
        "missing_cost": lambda: _("Every feasible proposal needs a cost before the vote opens."),
        "who_voted_purged": lambda: _("The vote cannot be reopened: the list of who voted was deleted at the end "
                                      "of its retention period, so a second ballot from the same person could not be stopped."),
        "bad_merge": lambda: _("These two proposals cannot be merged."),
        "batch_size": lambda: _("Generate between 1 and %(max)s codes at a time.", max=e.params.get("max")),
        "unknown_token": lambda: _("No paper ballot has this number."),
        "already_keyed": lambda: _("You have already keyed this ballot: a second official must key it."),
    }
    return [texts.get(e.code, lambda: _("This action is not possible now."))()]
