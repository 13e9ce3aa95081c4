"""Public pages of a participatory budget: the process, proposals, the vote, the results."""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..core import permissions as perm
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.permissions import public
from ..core.territories import Neighbourhood, neighbourhoods_in, top_categories
from ..extensions import db, limiter
from ..core.demo import register_loader as register_demo_loader
from ..links.services import register_targets
from . import demo, labels, messages, services
from ..territories.views import register_openings
from .links import openings, public_targets
from ..field import registry as field_registry
from .field import ADAPTER as FIELD_ADAPTER, FIELD_FORM_VERSION, FIELD_KIND
from .forms import ENTRY_PAPER, BallotForm, CodeForm, CommentForm, EligibilityForm, ProposalForm
from .models import Channel, Eligibility, Phase, Process, Proposal, VoteMode, VotingMethod

bp = Blueprint("budgets", __name__)
bp.record_once(labels.register)
register_demo_loader(demo.load, demo.notes)
register_targets(public_targets)
register_openings(openings)
field_registry.register(FIELD_ADAPTER)

SESSION_VOTERS = "budget_voters"
BROWSER_COOKIE = "bv"


def process_or_404(process_id: int) -> Process:
    return db.get_or_404(Process, process_id)


def proposal_or_404(process: Process, number: int) -> Proposal:
    proposal = db.session.scalar(sa.select(Proposal).where(Proposal.process_id == process.id, Proposal.number == number))
    if proposal is None:
        abort(404)
    return proposal


def scope_neighbourhoods(process: Process) -> list[Neighbourhood]:
    return neighbourhoods_in(process.scope)


@bp.get("/b/<int:process_id>")
@public
def process(process_id):
    process = process_or_404(process_id)
    query = sa.select(Proposal).where(Proposal.process_id == process.id, Proposal.merged_into_id.is_(None))
    category = parse_int(request.args.get("category"))  # type=int reads "9" × 400, which no database takes
    status = request.args.get("status", "")
    if category:
        query = query.where(Proposal.category_id == category)
    if status in ("pending", "feasible", "unfeasible"):
        query = query.where(Proposal.feasibility == status)
    if status == "selected":
        query = query.where(Proposal.is_selected.is_(True))
    proposals = list(db.session.scalars(query.order_by(Proposal.number)))
    preload([process, *proposals], current_locale())
    categories = [c for top in top_categories(process.contract) for c in (top, *top.children)]
    preload(categories, current_locale())
    return render(
        "budgets/process.html",
        fragment="budgets/_proposal_list.html",
        process=process,
        proposals=proposals,
        categories=categories,
        category=category,
        status_filter=status,
        Phase=Phase,
    )


def _proposal_choices(form: ProposalForm, process: Process) -> None:
    categories = [c for top in top_categories(process.contract) for c in (top, *top.children)]
    preload(categories, current_locale())
    from ..core.templating import tr

    form.category.choices = [SelectChoice("", _("(no theme)"))] + [
        SelectChoice(str(c.id), f"{c.code} {tr(c, 'name')}") for c in categories
    ]
    hoods = scope_neighbourhoods(process)
    form.neighbourhood.choices = [SelectChoice("", _("(not sure)"))] + [SelectChoice(str(n.id), n.name) for n in hoods]


def can_enter_for_residents(user, process: Process) -> bool:
    """Staff with a field role here enter ideas on residents' behalf (assisted or paper), on
    this page online and on its offline copy (field mode, `field.py`)."""
    return user.is_authenticated and perm.has_role(user, perm.FIELD_ROLES, process)


def proposal_form(process: Process, formdata=None, *, staff: bool = True) -> ProposalForm:
    """The proposal form with the process's themes and neighbourhoods; without the entry mode
    and the kinds of help for a resident (`staff` False). `formdata` for a submission that did
    not come from this request (field mode: no CSRF, the sync checked the session)."""
    form = ProposalForm() if formdata is None else ProposalForm(formdata=formdata, meta={"csrf": False})
    if not staff:
        del form.entry
        del form.help
    _proposal_choices(form, process)
    return form


def proposal_values(form: ProposalForm) -> dict:
    """What `services.submit_proposal` records from a validated form (contact only with consent)."""
    valid_ids = {c.value for c in form.neighbourhood.choices}
    consent = bool(form.contact_consent.data)
    return dict(
        title=form.title.data.strip(),
        description=form.description.data.strip(),
        category_id=int(form.category.data) if form.category.data else None,
        neighbourhood_id=int(form.neighbourhood.data) if form.neighbourhood.data in valid_ids and form.neighbourhood.data else None,
        address=(form.address.data or "").strip(),
        latitude=float(form.latitude.data) if form.latitude.data is not None else None,
        longitude=float(form.longitude.data) if form.longitude.data is not None else None,
        estimated_cost=form.estimated_cost.data,
        contact_name=(form.contact_name.data or "").strip() if consent else "",
        contact=(form.contact.data or "").strip() if consent else "",
        contact_consent=consent,
    )


def entry_mode(form: ProposalForm) -> tuple[Channel, frozenset]:
    """Staff entry: (assisted, the kinds of help given) or (paper, none)."""
    if form.entry.data == ENTRY_PAPER:
        return Channel.paper, frozenset()
    return Channel.assisted, form.assistance


@bp.route("/b/<int:process_id>/propose", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"], deduct_when=lambda r: r.status_code == 302)
@public
def propose(process_id):
    process = process_or_404(process_id)
    if not process.allows("submit"):
        return render("budgets/closed.html", process=process, status=409)
    assisted = can_enter_for_residents(current_user, process)
    form = proposal_form(process, staff=assisted)
    if form.validate_on_submit():
        try:
            photos = services.process_photos(form.photos.data)
        except services.PhotoRejected as e:
            form.photos.errors.append(e.message)
        else:
            channel, helped = entry_mode(form) if assisted else (Channel.web, frozenset())
            try:
                proposal = services.submit_proposal(
                    process, channel=channel, entered_by=current_user if assisted else None, assistance=helped,
                    original_locale=current_locale(), nonce=form.nonce.data, **proposal_values(form),
                )
            except services.AlreadyReceived as again:
                db.session.rollback()
                flash(_("We had already received this idea: it is number %(number)s.", number=again.record.number), "info")
                return redirect(url_for("budgets.proposal", process_id=process.id, number=again.record.number))
            services.attach_photos(proposal, photos)
            db.session.commit()
            flash(_("Thank you! Your idea is published as number %(number)s.", number=proposal.number), "success")
            return redirect(url_for("budgets.proposal", process_id=process.id, number=proposal.number))
    if not form.nonce.data:
        form.nonce.data = secrets.token_urlsafe(18)
    return render("budgets/propose.html", process=process, form=form, assisted=assisted,
                  field_kind=FIELD_KIND, field_version=FIELD_FORM_VERSION, status=422 if form.errors else 200)


def _proposal_page(process: Process, item: Proposal, form: CommentForm | None = None, status: int = 200):
    from .models import ProposalComment

    preload([process, item], current_locale())
    comments = list(db.session.scalars(
        sa.select(ProposalComment).where(ProposalComment.proposal_id == item.id, ProposalComment.is_hidden.is_(False))
        .order_by(ProposalComment.id)
    ))
    hidden = db.session.scalar(sa.select(sa.func.count()).where(
        ProposalComment.proposal_id == item.id, ProposalComment.is_hidden.is_(True)))
    form = form or CommentForm()
    if not form.nonce.data:
        form.nonce.data = secrets.token_urlsafe(18)
    return render("budgets/proposal.html", process=process, proposal=item, Phase=Phase, comments=comments,
                  hidden_comments=hidden, comment_form=form, status=status)


@bp.get("/b/<int:process_id>/p/<int:number>")
@public
def proposal(process_id, number):
    process = process_or_404(process_id)
    return _proposal_page(process, proposal_or_404(process, number))


@bp.post("/b/<int:process_id>/p/<int:number>/comments")
@limiter.limit("10 per hour", deduct_when=lambda r: r.status_code == 302)
@public
def comment(process_id, number):
    process = process_or_404(process_id)
    item = proposal_or_404(process, number)
    form = CommentForm()
    if form.validate_on_submit():
        assisted = current_user.is_authenticated and perm.has_role(current_user, perm.FIELD_ROLES, process)
        try:
            services.add_comment(item, form.body.data, form.author_name.data or "", current_locale(),
                                 Channel.assisted if assisted else Channel.web, nonce=form.nonce.data)
        except services.AlreadyReceived:
            db.session.rollback()
            flash(_("We had already received this comment."), "info")
            return redirect(url_for("budgets.proposal", process_id=process.id, number=item.number, _anchor="comments"))
        except services.RuleError as e:
            db.session.rollback()
            form.body.errors.extend(messages.rule_error(e))
        else:
            db.session.commit()
            flash(_("Thank you: your comment is published."), "success")
            return redirect(url_for("budgets.proposal", process_id=process.id, number=item.number, _anchor="comments"))
    return _proposal_page(process, item, form, status=422)


# --- voting ---------------------------------------------------------------------------


def _voter(process: Process) -> str | None:
    if process.vote_mode == VoteMode.open:
        token = request.cookies.get(BROWSER_COOKIE)
        return f"browser:{token}" if token else None
    code = session.get(SESSION_VOTERS, {}).get(str(process.id))
    return f"code:{code}" if code else None


def _remember_code(process: Process, code: str) -> None:
    voters = dict(session.get(SESSION_VOTERS, {}))
    voters[str(process.id)] = code
    session[SESSION_VOTERS] = voters


def parse_choices(process: Process, proposals: list[Proposal], form) -> tuple[dict[int, int], bool]:
    """Read `p<id>` fields. Returns (choices, well_formed)."""
    choices: dict[int, int] = {}
    ok = True
    for p in proposals:
        raw = (form.get(f"p{p.id}") or "").strip()
        if not raw or raw == "0":
            continue
        if not raw.isdigit() or len(raw) > 4:
            ok = False
            continue
        value = int(raw)
        if process.method in (VotingMethod.approval, VotingMethod.knapsack):
            value = 1
        choices[p.id] = value
    return choices, ok


def _ballot_context(process: Process, proposals: list[Proposal], choices: dict[int, int]):
    costs = {p.id: p.cost for p in proposals}
    return {
        "summary": services.summary(process, costs, choices),
        "violations": messages.violations(services.check_choices(process, choices)) if choices else [],
    }


@bp.get("/v/<code>")
@limiter.limit("30 per minute", deduct_when=lambda r: r.status_code == 404)
@public
def slip(code):
    """The QR on a voting slip: remember the code in this browser, open the ballot."""
    voter_code = services.find_code_anywhere(code)
    if voter_code is None:
        abort(404)
    process = db.session.get(Process, voter_code.process_id)
    _remember_code(process, services.normalise_code(code))
    lang = request.args.get("lang")
    return redirect(url_for("budgets.vote", process_id=process.id, lang=lang) if lang else url_for("budgets.vote", process_id=process.id))


@bp.route("/b/<int:process_id>/code", methods=["POST"])
@limiter.limit("20 per minute", deduct_when=lambda r: r.status_code == 422)
@public
def enter_code(process_id):
    process = process_or_404(process_id)
    form = CodeForm()
    if form.validate_on_submit():
        code = services.normalise_code(form.code.data)
        if services.find_code(process, code) is not None:
            _remember_code(process, code)
            return redirect(url_for("budgets.vote", process_id=process.id))
        form.code.errors.append(_("This code is not valid for this vote. Check the letters and digits on your slip."))
    return render("budgets/code.html", process=process, form=form, status=422)


def _vote_limit() -> str:
    return current_app.config.get("VOTE_POST_LIMIT", "120 per minute")


# A generous limit on sending a ballot: a polling event puts hundreds of voters behind one
# Wi-Fi address, and a valid code can only replace its own ballot; but an open vote (no code)
# takes a new ballot from every new browser, and a script posting in a loop is one. Guessing
# codes is throttled harder (the slip and code-entry routes count failed look-ups).
@bp.route("/b/<int:process_id>/vote", methods=["GET", "POST"])
@limiter.limit(_vote_limit, methods=["POST"])
@public
def vote(process_id):
    process = process_or_404(process_id)
    if process.phase != Phase.vote:
        return render("budgets/closed.html", process=process, status=409)
    voter = _voter(process)
    new_browser_token = None
    if voter is None:
        if process.vote_mode == VoteMode.codes:
            return render("budgets/code.html", process=process, form=CodeForm())
        new_browser_token = secrets.token_urlsafe(24)
        voter = f"browser:{new_browser_token}"
    proposals = services.ballot_proposals(process)
    preload([process, *proposals], current_locale())
    form = BallotForm()
    eligibility = EligibilityForm(prefix="e")
    choices: dict[int, int] = {}
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        choices, well_formed = parse_choices(process, proposals, request.form)
        if not form.validate_on_submit():
            errors.append(_("Your form expired. Check your choices and send again."))
        elif not well_formed:
            errors.append(_("Some numbers could not be read. Use whole numbers only."))
        elif process.eligibility == Eligibility.self_declared and not (eligibility.age_ok.data and (eligibility.resident.data or not process.residence_required)):
            errors.append(_("Please confirm that you may vote (age and residence)."))
        else:
            try:
                receipt = services.cast_vote(process, voter=voter, choices=choices, nonce=form.nonce.data or "",
                                             channel=Channel.web)
            except services.RuleError as e:
                db.session.rollback()
                errors.extend(messages.rule_error(e))
            else:
                db.session.commit()
                session["budget_receipt"] = {"process": process.id, "receipt": receipt.receipt,
                                             "again": receipt.already_recorded, "replaced": receipt.replaced}
                response = redirect(url_for("budgets.voted", process_id=process.id))
                if new_browser_token:
                    _set_browser_cookie(response, new_browser_token)
                return response
        status = 422
    form.nonce.data = secrets.token_urlsafe(18)
    already = services.has_voted(process, voter)
    response = render(
        "budgets/vote.html",
        fragment=None,
        process=process,
        proposals=proposals,
        form=form,
        eligibility=eligibility,
        choices=choices,
        errors=errors,
        already=already,
        VotingMethod=VotingMethod,
        Eligibility=Eligibility,
        status=status,
        **_ballot_context(process, proposals, choices),
    )
    if new_browser_token:
        # With the form, not only with the confirmation: a form sent again after a lost answer
        # (the confirmation and its cookie never arrived) then comes from the same voter, and
        # its nonce finds the ballot already recorded instead of casting a second one.
        _set_browser_cookie(response, new_browser_token)
    return response


def _set_browser_cookie(response, token: str) -> None:
    response.set_cookie(BROWSER_COOKIE, token, max_age=60 * 60 * 24 * 365, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])


@bp.post("/b/<int:process_id>/vote/check")
@public
def vote_check(process_id):
    """htmx: the running total and what is still allowed, as the voter ticks."""
    process = process_or_404(process_id)
    if process.phase != Phase.vote:
        abort(409)
    proposals = services.ballot_proposals(process)
    choices, _well_formed = parse_choices(process, proposals, request.form)
    return render("budgets/_ballot_summary.html", process=process, VotingMethod=VotingMethod,
                  **_ballot_context(process, proposals, choices))


@bp.get("/b/<int:process_id>/voted")
@public
def voted(process_id):
    process = process_or_404(process_id)
    info = session.get("budget_receipt")
    if not info or info.get("process") != process.id:
        return redirect(url_for("budgets.vote", process_id=process.id))
    return render("budgets/voted.html", process=process, info=info)


# --- results ------------------------------------------------------------------------


def _results_visible(process: Process) -> bool:
    return process.phase in (Phase.results, Phase.implementation, Phase.closed)


@bp.get("/b/<int:process_id>/results")
@public
def results(process_id):
    process = process_or_404(process_id)
    if not _results_visible(process):
        return render("budgets/closed.html", process=process, status=409)
    data = services.results_table(process)
    preload([process, *[row["proposal"] for row in data["rows"]]], current_locale())
    return render("budgets/results.html", process=process, data=data)


@bp.get("/b/<int:process_id>/ballots")
@public
def ballots(process_id):
    """The anonymised ballots, so that each voter can find their receipt."""
    process = process_or_404(process_id)
    if not _results_visible(process):
        return render("budgets/closed.html", process=process, status=409)
    receipt = (request.args.get("receipt") or "").strip().upper()[:16]
    listing = services.published_ballots(process)
    found = next((b for b in listing if b["receipt"] == receipt), None) if receipt else None
    return render("budgets/ballots.html", process=process, listing=listing, receipt=receipt, found=found)


EXPORTS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pb": ("text/plain; charset=utf-8", "pb"),
}


@bp.get("/b/<int:process_id>/results.<fmt>")
@public
def results_export(process_id, fmt):
    from flask import Response

    from . import exports

    process = process_or_404(process_id)
    if fmt not in EXPORTS:
        abort(404)
    if not _results_visible(process):
        return render("budgets/closed.html", process=process, status=409)
    body = {"csv": exports.results_csv, "xlsx": exports.results_xlsx, "pb": exports.results_pb}[fmt](process)
    mimetype, ext = EXPORTS[fmt]
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="budget-{process.id}-results.{ext}"'
    return response
