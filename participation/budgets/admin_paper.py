"""Back office of paper ballots: polling points, printable ballots, hand-outs, double entry,
mismatches and reconciliation. Routes on the `budgets_admin` blueprint."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.permissions import staff_required
from ..core.users import User
from ..extensions import db
from . import messages, services
from . import paper as paper_service
from .admin_forms import HandOutForm, KeyingForm, PollingPointForm
from .admin_views import (
    _chosen_neighbourhood,
    _fielded,
    _managed,
    _neighbourhood_choices,
    _rule_errors,
    bp,
    can_manage_process,
)
from .models import Channel, PaperEntry, PaperToken, Phase, PollingPoint, Process, Proposal, VoteRecord, VotingMethod
from .views import parse_choices



def _point(process: Process, point_id: int) -> PollingPoint:
    point = db.session.get(PollingPoint, point_id)
    if point is None or point.process_id != process.id:
        abort(404)
    return point


def _point_choices(process: Process) -> list[SelectChoice]:
    """The polling points; with several, the official must pick theirs (no silent default)."""
    points = db.session.scalars(sa.select(PollingPoint).where(PollingPoint.process_id == process.id).order_by(PollingPoint.name))
    choices = [SelectChoice(str(p.id), p.name) for p in points]
    if len(choices) > 1:
        choices.insert(0, SelectChoice("", _("Choose your polling point")))
    return choices


def _paper_page(process: Process, point_form=None, hand_out_form=None, errors=(), status: int = 200):
    if point_form is None:
        point_form = PollingPointForm(formdata=None)
        point_form.neighbourhood.choices = _neighbourhood_choices(process)
    if hand_out_form is None:
        # After a hand-out the official's point stays chosen for the next voter.
        hand_out_form = HandOutForm(formdata=None, data={"point": request.args.get("point", "")})
        hand_out_form.point.choices = _point_choices(process)
    rows = paper_service.reconciliation(process)
    totals = {k: sum(r[k] for r in rows) for k in ("printed", "handed_out", "keyed", "counted", "valid")}
    # Codes exchanged before the polling point was recorded with them: counted apart, so the totals still add up.
    unassigned = db.session.scalar(
        sa.select(sa.func.count()).select_from(VoteRecord)
        .where(VoteRecord.process_id == process.id, VoteRecord.channel == Channel.paper,
               VoteRecord.polling_point_id.is_(None))
    )
    preload([process], current_locale())
    return render(
        "budgets/admin/paper.html",
        process=process,
        rows=rows,
        totals=totals,
        unassigned=unassigned,
        mismatch_count=len(paper_service.paper_mismatches(process)),
        point_form=point_form,
        hand_out_form=hand_out_form,
        manager=can_manage_process(current_user, process),
        errors=errors,
        Phase=Phase,
        status=status,
    )


@bp.get("/<int:process_id>/paper")
@staff_required
def paper(process_id):
    return _paper_page(_fielded(process_id))


@bp.post("/<int:process_id>/paper/points")
@staff_required
def point_add(process_id):
    process = _managed(process_id)
    form = PollingPointForm()
    form.neighbourhood.choices = _neighbourhood_choices(process)
    if form.validate_on_submit():
        point = paper_service.add_polling_point(process, form.name.data, _chosen_neighbourhood(process, form.neighbourhood.data),
                                           form.tokens.data)
        db.session.commit()
        flash(_("Polling point added with %(count)s paper ballots to print.", count=form.tokens.data), "success")
        return redirect(url_for("budgets_admin.paper", process_id=process.id, _anchor=f"point-{point.id}"))
    return _paper_page(process, point_form=form, status=422)


@bp.get("/<int:process_id>/paper/points/<int:point_id>/ballots")
@staff_required
def paper_ballots(process_id, point_id):
    """Printable paper ballots of a polling point, one per token."""
    process = _managed(process_id)
    point = _point(process, point_id)
    tokens = list(db.session.scalars(sa.select(PaperToken).where(PaperToken.polling_point_id == point.id).order_by(PaperToken.id)))
    proposals = services.ballot_proposals(process)
    preload([process, *proposals], current_locale())
    return render("budgets/admin/paper_ballots.html", process=process, point=point, tokens=tokens, proposals=proposals,
                  frozen=process.rules_frozen_at is not None, VotingMethod=VotingMethod)


@bp.post("/<int:process_id>/paper/hand-out")
@staff_required
def hand_out(process_id):
    """A voter shows their code slip at a polling point and receives a paper ballot."""
    process = _fielded(process_id)
    form = HandOutForm()
    form.point.choices = _point_choices(process)
    errors = []
    if form.validate_on_submit():
        try:
            paper_service.hand_out_paper_ballot(process, form.code.data, _point(process, int(form.point.data)))
        except services.RuleError as e:
            errors = _rule_errors(e)
        else:
            db.session.commit()
            flash(_("Code accepted: give the voter one paper ballot. This code can no longer vote online."), "success")
            return redirect(url_for("budgets_admin.paper", process_id=process.id, point=form.point.data,
                                    _anchor="hand-out"))
    return _paper_page(process, hand_out_form=form, errors=errors, status=422)


def _keying_messages() -> dict:
    return {
        "first": _("Entry recorded. A second official must now key the same ballot."),
        "counted": _("Both entries match: the ballot is counted."),
        "invalid": _("Both entries agree that the ballot is invalid: it is kept and shown as invalid, not counted."),
        "mismatch": _("The entries differ: the ballot is not counted. Another official must key it again from the paper."),
    }


@bp.route("/<int:process_id>/paper/key", methods=["GET", "POST"])
@staff_required
def key(process_id):
    """One official keys one paper ballot; it counts when two officials keyed the same."""
    process = _fielded(process_id)
    proposals = services.ballot_proposals(process)
    form = KeyingForm()
    errors = []
    choices: dict[int, int] = {}
    if form.validate_on_submit():
        well_formed = True
        if not form.invalid.data:
            choices, well_formed = parse_choices(process, proposals, request.form)
        if not well_formed:
            errors.append(_("Some numbers could not be read. Use whole numbers only."))
        else:
            keyed = None if form.invalid.data else choices
            broken = messages.violations(services.check_choices(process, keyed)) if keyed else []
            try:
                result = paper_service.key_paper_ballot(process, form.token.data, current_user, keyed)
            except services.RuleError as e:
                errors = _rule_errors(e)
            else:
                db.session.commit()
                if broken:
                    flash(_("This ballot breaks the rules of the vote, so it was keyed as invalid: %(reasons)s",
                            reasons=" ".join(broken)), "error")
                flash(_keying_messages()[result.state], "error" if result.state == "mismatch" else "success")
                return redirect(url_for("budgets_admin.key", process_id=process.id))
    preload([process, *proposals], current_locale())
    return render(
        "budgets/admin/key.html",
        process=process,
        proposals=proposals,
        form=form,
        choices=choices,
        errors=errors,
        open_for_keying=process.phase in (Phase.vote, Phase.results) and process.rules_frozen_at is not None,
        VotingMethod=VotingMethod,
        status=422 if errors or form.errors else 200,
    )


def _entry_choices(content: str) -> dict[int, int] | None:
    return None if content == "invalid" else {int(k): v for k, v in json.loads(content).items()}


@bp.get("/<int:process_id>/paper/mismatches")
@staff_required
def mismatches(process_id):
    """Ballots whose entries disagree, with each official's keying side by side."""
    process = _fielded(process_id)
    tokens = paper_service.paper_mismatches(process)
    entries = db.session.execute(
        sa.select(PaperEntry, User.name).join(User, User.id == PaperEntry.official_id)
        .where(PaperEntry.token_id.in_([t.id for t in tokens]))
        .order_by(PaperEntry.entered_at, PaperEntry.id)
    ).all() if tokens else []
    by_token: dict[int, list] = {}
    for entry, name in entries:
        by_token.setdefault(entry.token_id, []).append({"official": name, "choices": _entry_choices(entry.content)})
    proposals = {p.id: p for p in db.session.scalars(sa.select(Proposal).where(Proposal.process_id == process.id))}
    listing = []
    for token in tokens:
        keyed = by_token.get(token.id, [])
        named = sorted({pid for e in keyed if e["choices"] for pid in e["choices"]},
                       key=lambda pid: proposals[pid].number if pid in proposals else pid)
        listing.append({"token": token, "entries": keyed, "rows": [(proposals.get(pid), pid) for pid in named]})
    preload([process], current_locale())
    return render("budgets/admin/mismatches.html", process=process, listing=listing)
