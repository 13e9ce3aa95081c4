"""Committee sessions in the back office: the list of a fund's sessions, and the session page
used on a tablet during the meeting (agenda, attendance, recusals, decisions), closing and the
minutes.

Who may do what: a fund manager (`access.can_manage`) creates sessions, prepares the agenda,
closes the session and edits the minutes; the committee (`access.can_sit`: managers, and
committee members with an account) records attendance, recusals and decisions. Nobody on
the session page sees the applicants' contacts. Every view loads the session, checks one
named rule, parses, calls `committee`, commits once and renders; a broken rule rolls back
and answers 422 with the message next to the field.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from ..core import permissions as perm
from ..core.charts import Bar, bar_chart
from ..core.i18n import text_direction
from ..core.htmx import render
from ..core.numbers import parse_int
from ..core.permissions import staff_required
from ..extensions import db
from . import access, committee
from . import figures as fund_figures
from .committee import CommitteeError, Ruling
from .labels import money
from .committee_forms import MinutesForm, SessionForm
from .models import (
    Application,
    CommitteeSession,
    DecisionMode,
    Fund,
    MemberRole,
    Outcome,
    SessionStatus,
    SourceKind,
)
from .views import admin_bp

TEXT_MAX = 2000

ROLES = {
    MemberRole.chair: _l("Chair"),
    MemberRole.resident: _l("Resident"),
    MemberRole.partner: _l("Local partner"),
    MemberRole.secretary: _l("Secretary"),
    MemberRole.observer: _l("Observer (does not vote)"),
}
OUTCOMES = {
    Outcome.granted: _l("Granted"),
    Outcome.refused: _l("Refused"),
    Outcome.deferred: _l("Deferred to a later session"),
}
STATUSES = {
    SessionStatus.planned: _l("Planned"),
    SessionStatus.open: _l("In progress"),
    SessionStatus.closed: _l("Closed"),
}
MODES = {
    DecisionMode.vote: _l("Vote: simple majority of the votes cast (a tie refuses)"),
    DecisionMode.consensus: _l("Consensus"),
}


def _labels() -> dict:
    return {"role_label": lambda r: str(ROLES[r]), "outcome_label": lambda o: str(OUTCOMES[o]),
            "session_status_label": lambda s: str(STATUSES[s]), "mode_label": lambda m: str(MODES[m])}


def _fund_url(fund: Fund) -> str | None:
    """The fund's back-office page (applications module), when it exists."""
    try:
        return url_for("fph_admin.fund", fund_id=fund.id)
    except BuildError:
        return None


def _sitting(session_id: int) -> CommitteeSession:
    session = db.get_or_404(CommitteeSession, session_id)
    perm.ensure(access.can_sit(current_user, session.fund))
    return session


def _managed(session_id: int) -> CommitteeSession:
    session = db.get_or_404(CommitteeSession, session_id)
    perm.ensure(access.can_manage(current_user, session.fund))
    return session


# --- the fund's sessions -------------------------------------------------------------------


@admin_bp.route("/<int:fund_id>/sessions", methods=["GET", "POST"])
@staff_required
def sessions(fund_id: int):
    fund = db.get_or_404(Fund, fund_id)
    perm.ensure(access.can_sit(current_user, fund))
    form = SessionForm()
    status = 200
    if request.method == "POST":
        perm.ensure(access.can_manage(current_user, fund))
        if form.validate():
            session = committee.create_session(fund, form.held_on.data, form.place.data or "")
            db.session.commit()
            flash(_("Session created. Put eligible applications on its agenda."), "success")
            return redirect(url_for("fph_admin.session", session_id=session.id))
        status = 422
    return render("fph/committee_sessions.html", status=status, fund=fund, sessions=committee.sessions_of(fund),
                  form=form, can_manage=access.can_manage(current_user, fund), fund_url=_fund_url(fund), **_labels())


# --- the session page --------------------------------------------------------------------


def _page(session: CommitteeSession, *, errors: dict | None = None, posted: dict | None = None, status: int = 200):
    fund = session.fund
    decisions = {d.application_id: d for d in session.decisions}
    entries = sorted(session.agenda, key=lambda e: (e.position, e.id))
    quorums = {e.application_id: committee.quorum_for(session, e.application) for e in entries}
    return render(
        "fph/session.html",
        status=status,
        session=session,
        fund=fund,
        entries=entries,
        decisions=decisions,
        quorums=quorums,
        members=committee.active_members(fund),
        present={a.member_id for a in session.attendance},
        eligible=committee.eligible_applications(session) if session.status != SessionStatus.closed else [],
        can_manage=access.can_manage(current_user, fund),
        closed=session.status == SessionStatus.closed,
        vote_mode=fund.decision_mode == DecisionMode.vote,
        errors=errors or {},
        posted=posted or {},
        fund_url=_fund_url(fund),
        Outcome=Outcome,
        **_labels(),
    )


@admin_bp.get("/sessions/<int:session_id>")
@staff_required
def session(session_id: int):
    return _page(_sitting(session_id))


def _failed(session: CommitteeSession, form_key: str, e: CommitteeError, posted: dict | None = None):
    """A broken rule: nothing written, the page again with the message next to the field."""
    db.session.rollback()
    session = db.session.get(CommitteeSession, session.id)
    errors = {form_key: {(e.field or "form"): committee.message(e)}}
    return _page(session, errors=errors, posted={form_key: posted or {}}, status=422)


MAX_ID = 2**31 - 1


def _id(value) -> int | None:
    """A posted id: ASCII digits within the database's integer range, else None."""
    number = parse_int(value)
    return number if number is not None and number <= MAX_ID else None


def _application(session: CommitteeSession, value) -> Application | None:
    app_id = _id(value)
    app = db.session.get(Application, app_id) if app_id is not None else None
    return app if app is not None and app.fund_id == session.fund_id else None


@admin_bp.post("/sessions/<int:session_id>/agenda")
@staff_required
def session_agenda(session_id: int):
    session = _managed(session_id)
    action = request.form.get("action", "")
    app = _application(session, request.form.get("application_id"))
    try:
        if app is None or action not in ("add", "remove", "up", "down"):
            raise CommitteeError("not_eligible" if action == "add" else "not_on_agenda", "application")
        if action == "add":
            committee.add_to_agenda(session, app, user=current_user)
        elif action == "remove":
            committee.remove_from_agenda(session, app, user=current_user)
        else:
            committee.move_on_agenda(session, app, -1 if action == "up" else 1)
    except CommitteeError as e:
        return _failed(session, "agenda", e)
    db.session.commit()
    return redirect(url_for("fph_admin.session", session_id=session.id, _anchor="agenda"))


@admin_bp.post("/sessions/<int:session_id>/attendance")
@staff_required
def session_attendance(session_id: int):
    session = _sitting(session_id)
    ids = [i for i in (_id(v) for v in request.form.getlist("present")) if i is not None]
    try:
        committee.set_attendance(session, ids)
    except CommitteeError as e:
        return _failed(session, "attendance", e)
    db.session.commit()
    flash(_("Attendance saved."), "success")
    return redirect(url_for("fph_admin.session", session_id=session.id, _anchor="attendance"))


@admin_bp.post("/sessions/<int:session_id>/recusals")
@staff_required
def session_recusal(session_id: int):
    session = _sitting(session_id)
    form_key = "recusal-" + str(_id(request.form.get("application_id")) or "")
    posted = {"member": request.form.get("member_id", ""), "reason": request.form.get("reason", "")}
    try:
        if request.form.get("action") == "remove":
            committee.remove_recusal(session, _id(request.form.get("recusal_id")))
        else:
            app = _application(session, request.form.get("application_id"))
            if app is None:
                raise CommitteeError("not_on_agenda", "application")
            committee.add_recusal(session, _id(request.form.get("member_id")), app,
                                  request.form.get("reason", ""))
    except CommitteeError as e:
        return _failed(session, form_key, e, posted)
    db.session.commit()
    flash(_("Recusal saved."), "success")
    return redirect(url_for("fph_admin.session", session_id=session.id, _anchor=form_key))


def _ruling(form) -> tuple[Ruling, CommitteeError | None]:
    outcome = {o.value: o for o in Outcome}.get(form.get("outcome", ""))
    ruling = Ruling(
        outcome=outcome,
        votes_for=parse_int(form.get("votes_for")),
        votes_against=parse_int(form.get("votes_against")),
        abstentions=parse_int(form.get("abstentions")),
        amount=parse_int(form.get("amount")),
        conditions=form.get("conditions", ""),
        reason=form.get("reason", ""),
    )
    for name in ("conditions", "reason"):
        if len(getattr(ruling, name)) > TEXT_MAX:
            return ruling, CommitteeError("too_long", name, max=TEXT_MAX)
    return ruling, None


@admin_bp.post("/sessions/<int:session_id>/decide/<int:application_id>")
@staff_required
def session_decide(session_id: int, application_id: int):
    session = _sitting(session_id)
    app = db.get_or_404(Application, application_id)
    if app.fund_id != session.fund_id or not any(e.application_id == app.id for e in session.agenda):
        abort(404)
    form_key = f"decide-{app.id}"
    posted = {k: request.form.get(k, "") for k in
              ("outcome", "votes_for", "votes_against", "abstentions", "amount", "conditions", "reason")}
    ruling, error = _ruling(request.form)
    try:
        if error:
            raise error
        decision = committee.decide(session, app, ruling, user=current_user)
    except CommitteeError as e:
        return _failed(session, form_key, e, posted)
    outcome = decision.outcome
    db.session.commit()
    flash(_("Decision recorded for %(reference)s: %(outcome)s.", reference=app.reference,
            outcome=OUTCOMES[outcome]), "success")
    return redirect(url_for("fph_admin.session", session_id=session.id, _anchor=f"entry-{app.id}"))


@admin_bp.post("/sessions/<int:session_id>/close")
@staff_required
def session_close(session_id: int):
    session = _managed(session_id)
    try:
        committee.close_session(session, user=current_user)
    except CommitteeError as e:
        return _failed(session, "close", e)
    db.session.commit()
    flash(_("Session closed. The minutes have been written from the decisions: check and complete them."), "success")
    return redirect(url_for("fph_admin.session_minutes", session_id=session.id))


@admin_bp.route("/sessions/<int:session_id>/minutes", methods=["GET", "POST"])
@staff_required
def session_minutes(session_id: int):
    session = _sitting(session_id)
    can_manage = access.can_manage(current_user, session.fund)
    form = MinutesForm(data={"minutes": session.minutes})
    status = 200
    if request.method == "POST":
        perm.ensure(can_manage)
        if session.status != SessionStatus.closed:
            return _page(session, errors={"close": {"form": _("Minutes can be edited once the session is closed.")}},
                         status=422)
        if form.validate():
            committee.update_minutes(session, form.minutes.data)
            db.session.commit()
            flash(_("Minutes saved."), "success")
            return redirect(url_for("fph_admin.session_minutes", session_id=session.id))
        status = 422
    if session.status != SessionStatus.closed and request.method == "GET":
        # Minutes exist once the session is closed; before, the session page is the record.
        return redirect(url_for("fph_admin.session", session_id=session.id))
    return render("fph/session_minutes.html", status=status, session=session, fund=session.fund, form=form,
                  can_manage=can_manage, fund_url=_fund_url(session.fund), **_labels())


# --- figures -------------------------------------------------------------------------------

SOURCE_KINDS = {
    SourceKind.state: _l("State (BOP 147)"),
    SourceKind.commune: _l("Commune"),
    SourceKind.tfpb: _l("TFPB abatement (bailleur)"),
    SourceKind.other: _l("Other"),
}


@admin_bp.get("/<int:fund_id>/figures")
@staff_required
def figures(fund_id: int):
    fund = db.get_or_404(Fund, fund_id)
    perm.ensure(access.can_view_figures(current_user, fund))
    raw = fund_figures.compute(fund.scope, None, fund_ids=[fund.id])
    # Fund managers see the raw figures; anyone else (evaluators) the protected ones.
    shown = raw if access.can_manage(current_user, fund) else fund_figures.for_evaluators(raw)
    rows = [(r.name or _("Not classified"), r) for r in shown.by_category]
    chart = bar_chart(
        [Bar(label, r.amount, money_text(r.amount)) for label, r in rows],
        title=_("Money granted by défi or orientation"), chart_id="fph-by-category", rtl=text_direction() == "rtl",
    ) if rows else None
    return render("fph/committee_figures.html", fund=fund, f=shown, rows=rows, chart=chart,
                  source_kinds=SOURCE_KINDS, fund_url=_fund_url(fund), min_recipients=fund_figures.MIN_RECIPIENTS)


def money_text(amount) -> str:
    """A suppressed amount (None) reads "s", as every suppressed figure does."""
    return "s" if amount is None else money(amount)
