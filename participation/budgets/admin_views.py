"""Back office of participatory budgets (processes, phases, review, codes, paper ballots, follow-up).

Who may do what: *managing* a process (settings, phases, review, codes, polling points,
follow-up) needs a process-manager role on a scope covering it; *field work* (handing out
paper ballots, keying them, seeing the review table) needs a field role there. Every view
loads the process, checks one of these two named rules, parses, calls a service, commits
once and renders; a broken rule rolls everything back and answers 422.
"""
from __future__ import annotations

import base64

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..admin import services as admin_services
from ..core import permissions as perm
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.permissions import staff_required
from ..core.qr import qr_png
from ..core.territories import Neighbourhood
from ..core.users import User
from ..extensions import db
from ..links.services import base_url
from . import messages, services
from .admin_forms import (
    ALL_PARAMETERS,
    ELIGIBILITY,
    METHOD_PARAMETERS,
    METHODS,
    PHASE_ACTIONS,
    RULE_FIELDS,
    VOTE_MODES,
    CodesForm,
    MergeForm,
    MilestoneForm,
    ModerateForm,
    MoveForm,
    NewProcessForm,
    PhaseActionsForm,
    PhaseDatesForm,
    ReviewForm,
    SettingsForm,
    TextSettingsForm,
)
from .labels import OUTCOMES, PHASES, money
from .models import (
    PHASE_ORDER,
    Channel,
    Feasibility,
    MilestoneStatus,
    Phase,
    Process,
    Proposal,
    ProposalComment,
    VoteMode,
    VoterCodeBatch,
    VotingMethod,
)
from .views import scope_neighbourhoods

bp = Blueprint("budgets_admin", __name__, url_prefix="/admin/budgets")

SLIPS_PER_PAGE = 10


# --- who may do what ---------------------------------------------------------------


def can_manage_process(user: User, process) -> bool:
    """Settings, phases, review and moderation, codes, polling points, follow-up."""
    return perm.has_role(user, perm.PROCESS_MANAGERS, process)


def can_do_field_work(user: User, process) -> bool:
    """Hand out and key paper ballots; read the review table (without residents' contacts)."""
    return perm.has_role(user, perm.FIELD_ROLES, process)


def _managed(process_id: int) -> Process:
    process = db.get_or_404(Process, process_id)
    perm.ensure(can_manage_process(current_user, process))
    return process


def _fielded(process_id: int) -> Process:
    process = db.get_or_404(Process, process_id)
    perm.ensure(can_do_field_work(current_user, process))
    return process


def _proposal(process: Process, number: int) -> Proposal:
    proposal = db.session.scalar(sa.select(Proposal).where(Proposal.process_id == process.id, Proposal.number == number))
    if proposal is None:
        abort(404)
    return proposal


def _neighbourhood_choices(process: Process) -> list[SelectChoice]:
    return [SelectChoice("", _("(not given)"))] + [SelectChoice(str(n.id), n.name) for n in scope_neighbourhoods(process)]


def _chosen_neighbourhood(process: Process, value: str | None) -> Neighbourhood | None:
    """The neighbourhood picked in a form, if it lies in the process's area (else none)."""
    chosen = parse_int(value)  # not isdigit() and int(): "²" passes the one and fails the other
    if chosen is None:
        return None
    return next((n for n in scope_neighbourhoods(process) if n.id == chosen), None)


def _rule_errors(e: services.RuleError) -> list[str]:
    db.session.rollback()
    return messages.rule_error(e)


# --- processes -----------------------------------------------------------------------


@bp.get("/")
@staff_required
def index():
    return _index_page(_new_process_form(formdata=None))


def _new_process_form(**kwargs) -> NewProcessForm:
    form = NewProcessForm(**kwargs)
    form.scope.choices = admin_services.scope_choices(current_user, can_manage_process)
    return form


def _index_page(form: NewProcessForm, errors=(), status: int = 200):
    perm.ensure(current_user.is_superadmin or bool(perm.managed_scopes(current_user, perm.FIELD_ROLES)))
    processes = list(db.session.scalars(
        sa.select(Process)
        .where(perm.scope_clause(current_user, perm.FIELD_ROLES, Process.contract_id, Process.commune_id,
                                 Process.neighbourhood_id))
        .order_by(Process.created_at.desc(), Process.id.desc())
    ))
    counts = dict(db.session.execute(
        sa.select(Proposal.process_id, sa.func.count())
        .where(Proposal.process_id.in_([p.id for p in processes]))
        .group_by(Proposal.process_id)
    ).all()) if processes else {}
    preload(processes, current_locale())
    return render(
        "budgets/admin/index.html",
        processes=processes,
        counts=counts,
        form=form if form.scope.choices else None,
        errors=errors,
        can_manage=lambda p: can_manage_process(current_user, p),
        status=status,
    )


@bp.post("/new")
@staff_required
def create():
    form = _new_process_form()
    perm.ensure(bool(form.scope.choices))
    errors = []
    if form.validate_on_submit():
        target = admin_services.parse_scope(form.scope.data)
        perm.ensure(target is not None and can_manage_process(current_user, target))
        settings = form.rule_values()
        envelope = settings.pop("envelope")
        try:
            process = services.create_process(target, form.title.data, envelope, current_locale(),
                                              description=(form.description.data or "").strip(), **settings)
        except services.RuleError as e:
            errors = _rule_errors(e)
        except ValueError as e:  # create_process checks the rules with a bare ValueError
            errors = _rule_errors(services.RuleError("bad_rules", detail=str(e)))
        else:
            db.session.commit()
            flash(_("Participatory budget created. Its first phase is open to ideas."), "success")
            return redirect(url_for("budgets_admin.process", process_id=process.id))
    return _index_page(form, errors=errors, status=422)


def _settings_data(process: Process) -> dict:
    data = {name: getattr(process, name) for name in ("title", "description", *RULE_FIELDS)}
    for name in ("method", "outcome_rule", "vote_mode", "eligibility"):
        data[name] = data[name].value
    return data


def _process_page(process: Process, settings_form=None, dates_form=None, actions_form=None, errors=(),
                  status: int = 200):
    frozen = process.rules_frozen_at is not None
    if settings_form is None:
        form_class = TextSettingsForm if frozen else SettingsForm
        settings_form = form_class(formdata=None, data=_settings_data(process))
    if dates_form is None:
        dates_form = PhaseDatesForm(formdata=None, data={
            "phases": [{"starts_on": ph.starts_on, "ends_on": ph.ends_on} for ph in process.phases]
        })
    if actions_form is None:
        actions_form = PhaseActionsForm(formdata=None, data={
            action: [ph.phase.value for ph in process.phases if action in ph.actions] for action in PHASE_ACTIONS
        })
    here = PHASE_ORDER.index(process.phase)
    preload([process], current_locale())
    return render(
        "budgets/admin/process.html",
        process=process,
        settings_form=settings_form,
        dates_form=dates_form,
        actions_form=actions_form,
        action_labels=_action_labels(),
        move_form=MoveForm(formdata=None),
        frozen=frozen,
        next_phase=PHASE_ORDER[here + 1] if here + 1 < len(PHASE_ORDER) else None,
        previous_phase=PHASE_ORDER[here - 1] if here > 0 else None,
        rules=_rules_summary(process),
        errors=errors,
        Phase=Phase,
        VotingMethod=VotingMethod,
        METHOD_PARAMETERS=METHOD_PARAMETERS,
        ALL_PARAMETERS=ALL_PARAMETERS,
        status=status,
    )


def _rules_summary(process: Process) -> list[tuple[str, str]]:
    """The voting rules as (label, value) lines, for the read-only view once they are frozen."""
    form = SettingsForm(formdata=None)  # only for its translated labels
    rows = [(form.envelope.label.text, money(process.envelope)), (form.method.label.text, METHODS[process.method])]
    for name in METHOD_PARAMETERS[process.method]:
        value = getattr(process, name)
        rows.append((form[name].label.text, value if value is not None else "—"))
    rows += [
        (form.outcome_rule.label.text, OUTCOMES[process.outcome_rule]),
        (form.vote_mode.label.text, VOTE_MODES[process.vote_mode]),
        (form.eligibility.label.text, ELIGIBILITY[process.eligibility]),
        (form.min_age.label.text, process.min_age),
        (form.residence_required.label.text, _("yes") if process.residence_required else _("no")),
    ]
    return rows


@bp.get("/<int:process_id>")
@staff_required
def process(process_id):
    return _process_page(_managed(process_id))


@bp.post("/<int:process_id>/settings")
@staff_required
def settings(process_id):
    process = _managed(process_id)
    # A form showing the rules says so; once frozen the page only offers title and description
    # (a form left open since before the vote still sends its rules, and is refused if they changed).
    with_rules = request.form.get("with_rules") == "1" or process.rules_frozen_at is None
    form = SettingsForm() if with_rules else TextSettingsForm()
    errors = []
    if form.validate_on_submit():
        values = {"title": form.title.data.strip(), "description": (form.description.data or "").strip()}
        if with_rules:
            values.update(form.rule_values())
        try:
            services.update_settings(process, **values)
        except services.RuleError as e:
            errors = _rule_errors(e)
        else:
            db.session.commit()
            flash(_("Settings saved."), "success")
            return redirect(url_for("budgets_admin.process", process_id=process.id))
    return _process_page(process, settings_form=form, errors=errors, status=422)


@bp.post("/<int:process_id>/phases/dates")
@staff_required
def phase_dates(process_id):
    process = _managed(process_id)
    form = PhaseDatesForm()
    if form.validate_on_submit() and len(form.phases.entries) == len(process.phases):
        services.set_phase_dates(process, [(d["starts_on"], d["ends_on"]) for d in form.phases.data])
        db.session.commit()
        flash(_("Dates saved."), "success")
        return redirect(url_for("budgets_admin.process", process_id=process.id, _anchor="phases"))
    if not form.errors:
        form = None  # an incomplete form: show the saved dates again
    return _process_page(process, dates_form=form, errors=[_("The dates could not be saved: check them.")], status=422)


def _action_labels() -> dict[str, str]:
    return {"submit": _("Submit ideas"), "comment": _("Comment on proposals"), "vote": _("Vote")}


def _set_phase_actions(process: Process, allowed: dict[Phase, set[str]]) -> None:
    for ph in process.phases:
        actions = allowed.get(ph.phase, set())
        ph.allows_submit, ph.allows_comment, ph.allows_vote = ("submit" in actions, "comment" in actions,
                                                               "vote" in actions)
    db.session.flush()


@bp.post("/<int:process_id>/phases/actions")
@staff_required
def phase_actions(process_id):
    """What residents may do in each phase: submit ideas, comment, vote (the latter only in the vote phase)."""
    process = _managed(process_id)
    form = PhaseActionsForm()
    if form.validate_on_submit():
        _set_phase_actions(process, form.allowed())
        db.session.commit()
        flash(_("The actions allowed in each phase are saved."), "success")
        return redirect(url_for("budgets_admin.process", process_id=process.id, _anchor="actions"))
    errors = [e for name in PHASE_ACTIONS for e in form[name].errors] or [_("Your form expired. Check your choices and send again.")]
    return _process_page(process, actions_form=form, errors=[str(e) for e in errors], status=422)


@bp.post("/<int:process_id>/phases/move")
@staff_required
def move_phase(process_id):
    process = _managed(process_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _process_page(process, errors=[_("Choose the next or the previous phase.")], status=422)
    here = PHASE_ORDER.index(process.phase)
    there = here + (1 if form.direction.data == "next" else -1)
    if not 0 <= there < len(PHASE_ORDER):
        return _process_page(process, errors=messages.rule_error(services.RuleError("phase_jump")), status=422)
    try:
        services.move_phase(process, PHASE_ORDER[there])
    except services.RuleError as e:
        return _process_page(process, errors=_rule_errors(e), status=422)
    db.session.commit()
    flash(_("The budget is now in the phase “%(phase)s”.", phase=_phase_name(process.phase)), "success")
    return redirect(url_for("budgets_admin.process", process_id=process.id, _anchor="phases"))


def _phase_name(phase: Phase) -> str:
    return str(PHASES[phase])


# --- proposals: review, moderation, merge ----------------------------------------------

STATUS_FILTERS = ("pending", "feasible", "unfeasible", "hidden", "merged", "selected")


def _status_filter() -> str:
    status = request.args.get("status", "")
    return status if status in STATUS_FILTERS else ""


def _proposals_query(process: Process, status: str):
    query = sa.select(Proposal).where(Proposal.process_id == process.id)
    if status in ("pending", "feasible", "unfeasible"):
        query = query.where(Proposal.feasibility == Feasibility(status), Proposal.is_hidden.is_(False),
                            Proposal.merged_into_id.is_(None))
    elif status == "hidden":
        query = query.where(Proposal.is_hidden.is_(True))
    elif status == "merged":
        query = query.where(Proposal.merged_into_id.is_not(None))
    elif status == "selected":
        query = query.where(Proposal.is_selected.is_(True))
    return query.order_by(Proposal.number)


def _row_forms(process: Process, proposal: Proposal, merge_targets: list[Proposal]) -> dict:
    n = proposal.number
    review = ReviewForm(formdata=None, prefix=f"r{n}", data={
        "feasible": {Feasibility.feasible: "yes", Feasibility.unfeasible: "no"}.get(proposal.feasibility),
        "reason": proposal.feasibility_reason,
        "revised_cost": proposal.revised_cost,
    })
    moderate = ModerateForm(formdata=None, prefix=f"h{n}", data={"hide": "0" if proposal.is_hidden else "1"})
    merge = MergeForm(formdata=None, prefix=f"m{n}")
    merge.into.choices = _merge_choices(proposal, merge_targets)
    return {"review": review, "moderate": moderate, "merge": merge}


def _merge_choices(proposal: Proposal, targets: list[Proposal]) -> list[SelectChoice]:
    return [SelectChoice(str(t.number), f"#{t.number} {t.title}") for t in targets if t.id != proposal.id]


def _merge_targets(process: Process) -> list[Proposal]:
    return list(db.session.scalars(
        sa.select(Proposal).where(Proposal.process_id == process.id, Proposal.merged_into_id.is_(None))
        .order_by(Proposal.number)
    ))


def _comments_of(proposals: list[Proposal]) -> dict[int, list[ProposalComment]]:
    """{proposal id: its comments, oldest first}, hidden ones included."""
    by_proposal: dict[int, list[ProposalComment]] = {}
    if proposals:
        for c in db.session.scalars(
            sa.select(ProposalComment).where(ProposalComment.proposal_id.in_([p.id for p in proposals]))
            .order_by(ProposalComment.posted_on, ProposalComment.id)
        ):
            by_proposal.setdefault(c.proposal_id, []).append(c)
    return by_proposal


def _comment_form(comment: ProposalComment, **kwargs) -> ModerateForm:
    return ModerateForm(prefix=f"c{comment.id}", **kwargs)


def _proposals_page(process: Process, failed: dict | None = None, failed_comment: tuple[int, ModerateForm] | None = None,
                    errors=(), status: int = 200):
    """`failed`: {number: {form name: form}} for the row whose POST was refused;
    `failed_comment`: (comment id, its refused moderation form)."""
    status_filter = _status_filter()
    proposals = list(db.session.scalars(_proposals_query(process, status_filter)))
    manager = can_manage_process(current_user, process)
    comments = _comments_of(proposals)
    forms = {}
    comment_forms = {}
    if manager:
        targets = _merge_targets(process)
        for p in proposals:
            forms[p.number] = _row_forms(process, p, targets) | (failed or {}).get(p.number, {})
            for c in comments.get(p.id, []):
                comment_forms[c.id] = _comment_form(c, formdata=None, data={"hide": "0" if c.is_hidden else "1"})
        if failed_comment is not None:
            comment_forms[failed_comment[0]] = failed_comment[1]
    preload([process, *proposals], current_locale())
    return render(
        "budgets/admin/proposals.html",
        fragment="budgets/admin/_proposals.html",
        process=process,
        proposals=proposals,
        forms=forms,
        comments=comments,
        comment_forms=comment_forms,
        manager=manager,
        frozen=process.rules_frozen_at is not None,
        status_filter=status_filter,
        errors=errors,
        Channel=Channel,
        channels=services.proposal_channels(process) if manager else None,
        status=status,
    )


def _back_to_proposals(process: Process, number: int):
    return redirect(url_for("budgets_admin.proposals", process_id=process.id, status=_status_filter() or None,
                            _anchor=f"p{number}"))


@bp.get("/<int:process_id>/proposals")
@staff_required
def proposals(process_id):
    return _proposals_page(_fielded(process_id))


@bp.post("/<int:process_id>/proposals/<int:number>/review")
@staff_required
def review(process_id, number):
    process = _managed(process_id)
    proposal = _proposal(process, number)
    form = ReviewForm(prefix=f"r{number}")
    errors = []
    if form.validate_on_submit():
        try:
            services.review(proposal, form.feasible.data == "yes", form.reason.data, form.revised_cost.data)
        except services.RuleError as e:
            errors = _rule_errors(e)
        else:
            db.session.commit()
            flash(_("Study of #%(number)s saved.", number=number), "success")
            return _back_to_proposals(process, number)
    return _proposals_page(process, failed={number: {"review": form}}, errors=errors, status=422)


@bp.post("/<int:process_id>/proposals/<int:number>/moderate")
@staff_required
def moderate(process_id, number):
    process = _managed(process_id)
    proposal = _proposal(process, number)
    form = ModerateForm(prefix=f"h{number}")
    errors = []
    if form.validate_on_submit():
        hide = form.hide.data == "1"
        try:
            services.moderate(proposal, hide, form.reason.data or "")
        except services.RuleError as e:
            errors = _rule_errors(e)
        else:
            db.session.commit()
            flash(_("#%(number)s is hidden.", number=number) if hide else _("#%(number)s is shown again.", number=number),
                  "success")
            return _back_to_proposals(process, number)
    return _proposals_page(process, failed={number: {"moderate": form}}, errors=errors, status=422)


@bp.post("/<int:process_id>/proposals/<int:number>/merge")
@staff_required
def merge(process_id, number):
    process = _managed(process_id)
    proposal = _proposal(process, number)
    form = MergeForm(prefix=f"m{number}")
    form.into.choices = _merge_choices(proposal, _merge_targets(process))
    errors = []
    if form.validate_on_submit():
        try:
            services.merge(proposal, _proposal(process, int(form.into.data)))
        except services.RuleError as e:
            errors = _rule_errors(e)
        else:
            db.session.commit()
            flash(_("#%(number)s is merged into #%(into)s.", number=number, into=form.into.data), "success")
            return _back_to_proposals(process, number)
    return _proposals_page(process, failed={number: {"merge": form}}, errors=errors, status=422)


@bp.post("/<int:process_id>/comments/<int:comment_id>/moderate")
@staff_required
def comment_moderate(process_id, comment_id):
    """Hide a comment with a public reason, or show it again. Mediators only read comments."""
    process = _managed(process_id)
    comment = db.session.get(ProposalComment, comment_id)
    if comment is None or comment.proposal.process_id != process.id:
        abort(404)
    form = _comment_form(comment)
    errors = []
    if form.validate_on_submit():
        hide = form.hide.data == "1"
        try:
            services.moderate_comment(comment, hide, form.reason.data or "")
        except services.RuleError as e:
            errors = _rule_errors(e)
            form.reason.errors = [*form.reason.errors, *errors]  # opens this comment's form on the page
        else:
            number = comment.proposal.number
            db.session.commit()
            flash(_("The comment on #%(number)s is hidden.", number=number) if hide
                  else _("The comment on #%(number)s is shown again.", number=number), "success")
            return redirect(url_for("budgets_admin.proposals", process_id=process.id, status=_status_filter() or None,
                                    _anchor=f"c{comment_id}"))
    return _proposals_page(process, failed_comment=(comment_id, form), errors=errors, status=422)


# --- voter codes -----------------------------------------------------------------------


def _codes_page(process: Process, form: CodesForm, errors=(), status: int = 200):
    batches = db.session.execute(
        sa.select(VoterCodeBatch, User.name)
        .outerjoin(User, User.id == VoterCodeBatch.created_by_id)
        .where(VoterCodeBatch.process_id == process.id)
        .order_by(VoterCodeBatch.created_at.desc())
    ).all()
    preload([process], current_locale())
    return render("budgets/admin/codes.html", process=process, form=form, batches=batches, errors=errors,
                  VoteMode=VoteMode, status=status)


@bp.get("/<int:process_id>/codes")
@staff_required
def codes(process_id):
    process = _managed(process_id)
    form = CodesForm(formdata=None)
    form.neighbourhood.choices = _neighbourhood_choices(process)
    return _codes_page(process, form)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@bp.post("/<int:process_id>/codes")
@staff_required
def codes_generate(process_id):
    """Draw codes and answer the printable slips at once: the codes exist in clear only here."""
    process = _managed(process_id)
    form = CodesForm()
    form.neighbourhood.choices = _neighbourhood_choices(process)
    errors = []
    if form.validate_on_submit():
        try:
            drawn = services.generate_codes(process, form.size.data,
                                            _chosen_neighbourhood(process, form.neighbourhood.data), current_user)
        except services.RuleError as e:
            errors = _rule_errors(e)
        else:
            db.session.commit()
            root = base_url()
            slips = []
            for code in drawn:
                url = root + url_for("budgets.slip", code=code)
                # PNG: a few hundred bytes per slip, crisp when printed pixelated.
                slips.append({"code": services.format_code(code), "url": url, "qr": _data_uri(qr_png(url, box_size=5))})
            preload([process], current_locale())
            response = render("budgets/admin/slips.html", process=process, slips=slips,
                              pages=[slips[i:i + SLIPS_PER_PAGE] for i in range(0, len(slips), SLIPS_PER_PAGE)],
                              display_root=root.split("://", 1)[-1])
            response.headers["Cache-Control"] = "no-store"
            return response
    return _codes_page(process, form, errors=errors, status=422)


# --- follow-up -------------------------------------------------------------------------


def _follow_up_page(process: Process, failed: dict | None = None, errors=(), status: int = 200):
    selected = list(db.session.scalars(
        sa.select(Proposal).where(Proposal.process_id == process.id, Proposal.is_selected.is_(True)).order_by(Proposal.number)
    ))
    forms = {p.number: MilestoneForm(formdata=None, prefix=f"ms{p.number}") for p in selected}
    forms.update(failed or {})
    preload([process, *selected], current_locale())
    return render("budgets/admin/follow_up.html", process=process, proposals=selected, forms=forms, errors=errors,
                  Phase=Phase, status=status)


@bp.get("/<int:process_id>/follow-up")
@staff_required
def follow_up(process_id):
    return _follow_up_page(_managed(process_id))


@bp.post("/<int:process_id>/proposals/<int:number>/milestones")
@staff_required
def milestone_add(process_id, number):
    process = _managed(process_id)
    proposal = _proposal(process, number)
    form = MilestoneForm(prefix=f"ms{number}")
    errors = []
    if form.validate_on_submit():
        try:
            photos = services.process_photos([form.photo.data] if form.photo.data else [])
            services.add_milestone(proposal, form.happened_on.data, MilestoneStatus(form.status.data), form.text.data,
                                   photos[0] if photos else None)
        except services.PhotoRejected as e:
            form.photo.errors.append(e.message)
        except services.RuleError as e:
            errors.extend(_rule_errors(e))
        else:
            db.session.commit()
            flash(_("Step added to the follow-up of #%(number)s.", number=number), "success")
            return redirect(url_for("budgets_admin.follow_up", process_id=process.id, _anchor=f"p{number}"))
    return _follow_up_page(process, failed={number: form}, errors=errors, status=422)


# The paper-ballot pages live in their own module, on this same blueprint.
from . import admin_paper  # noqa: E402,F401
