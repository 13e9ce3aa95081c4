"""Attendance of a table's meetings: the public QR check-in (on `bp`), and for staff the
printable check-in sheet, the key renewal, the attendance page (live counts, assisted check-in,
paper sign-in counts, the counts sent from the field), the field count form (offline-capable)
and the attendance figures of a table (on `admin_bp`)."""
from __future__ import annotations

import base64
import hmac
import uuid
from datetime import date

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from ..core import charts, disclosure
from ..core import permissions as perm
from ..core.channels import Channel
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale, text_direction
from ..core.profiles import AGE_BANDS, GENDERS, AgeBand, Gender
from ..core.qr import qr_svg
from ..extensions import db, limiter
from . import access, attendance, figures
from ..field.services import CLIENT_ID_RE
from .attendance_forms import (
    CLIENT_ID, CheckInAnswers, TallyAnswers, issue_nonce, nonce_state, parse_checkin, parse_sheet, parse_tallies,
    profile_questions, sheet_error_message, spend_nonce, tally_field,
)
from .field import FIELD_FORM_VERSION, FIELD_KIND
from .models import AttendanceSheet, Meeting, NeighbourhoodTable, TallyDimension
from .views import admin_bp, bp

#: The phone's anonymous attendee token (see attendance.py): long-lived, only under /t/.
ATTENDEE_COOKIE = "attendee"
ATTENDEE_COOKIE_PATH = "/t/"
ATTENDEE_COOKIE_AGE = 60 * 60 * 24 * 400


def safe_url(endpoint: str, **values) -> str | None:
    """A link to a page another part of the app provides, or None while it does not exist."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


# --- public: the QR check-in ---------------------------------------------------------------


def _public_meeting(meeting_id: int, key: str) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not meeting.table.active or not hmac.compare_digest(
        meeting.checkin_key.encode(), str(key).encode()
    ):
        abort(404)
    return meeting


def _checkin_page(meeting: Meeting, key: str, answers: CheckInAnswers | None = None, error: str | None = None,
                  status: int = 200):
    preload([meeting, meeting.table], current_locale())
    answers = answers or CheckInAnswers(remember=attendance.valid_token(request.cookies.get(ATTENDEE_COOKIE)))
    return render(
        "tables/checkin.html", meeting=meeting, table=meeting.table, key=key, answers=answers, error=error,
        questions=profile_questions(meeting.table), nonce=issue_nonce(),
        meeting_url=safe_url("tables.meeting", meeting_id=meeting.id), status=status,
    )


def _closed_page(meeting: Meeting, state: str):
    preload([meeting, meeting.table], current_locale())
    opens, closes = attendance.checkin_window(meeting)
    return render("tables/checkin_closed.html", meeting=meeting, table=meeting.table, state=state, opens=opens,
                  closes=closes, meeting_url=safe_url("tables.meeting", meeting_id=meeting.id), status=409)


@bp.route("/t/m/<int:meeting_id>/checkin/<key>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CHECKIN_POST_LIMIT"], methods=["POST"])
@perm.public
def checkin(meeting_id, key):
    """The QR code on the wall of the meeting room: "I'm here", with an optional anonymous profile."""
    meeting = _public_meeting(meeting_id, key)
    if request.method == "GET" and request.args.get("done") in ("1", "again"):
        preload([meeting, meeting.table], current_locale())
        return render("tables/checkin_thanks.html", meeting=meeting, table=meeting.table,
                      again=request.args.get("done") == "again",
                      meeting_url=safe_url("tables.meeting", meeting_id=meeting.id))
    state = attendance.checkin_state(meeting)
    if state != "open":
        return _closed_page(meeting, state)
    if request.method == "GET":
        return _checkin_page(meeting, key)
    answers = parse_checkin(request.form, meeting.table)
    if answers.problems:
        return _checkin_page(meeting, key, answers, status=422)
    nonce = request.form.get("nonce", "")
    seen = nonce_state(nonce)
    if seen == "used":
        return redirect(url_for("tables.checkin", meeting_id=meeting.id, key=key, done="again"))
    if seen == "unknown":
        return _checkin_page(meeting, key, answers, status=422,
                             error=_("This page was open for too long. Press “I'm here” again."))
    token = request.cookies.get(ATTENDEE_COOKIE) if answers.remember else None
    new_token = None
    if answers.remember and not attendance.valid_token(token):
        token = new_token = attendance.new_attendee_token()
    counted = attendance.record_checkin(
        meeting, age_band=answers.age_band, gender=answers.gender, residence_id=answers.residence_id,
        residence_elsewhere=answers.residence_elsewhere, first_time=answers.first_time, token=token,
        channel=Channel.web, nonce=nonce,
    )
    db.session.commit()
    spend_nonce(nonce)
    response = redirect(url_for("tables.checkin", meeting_id=meeting.id, key=key,
                                done="1" if counted is not None else "again"))
    if new_token:
        response.set_cookie(ATTENDEE_COOKIE, new_token, max_age=ATTENDEE_COOKIE_AGE, path=ATTENDEE_COOKIE_PATH,
                            httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    elif not answers.remember and request.cookies.get(ATTENDEE_COOKIE):
        # The resident no longer wants this phone recognised: forget the token.
        response.delete_cookie(ATTENDEE_COOKIE, path=ATTENDEE_COOKIE_PATH, httponly=True, samesite="Lax",
                               secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


# --- staff: check-in sheet and key ----------------------------------------------------------


def checkin_url(meeting: Meeting) -> str:
    """The absolute check-in address printed in the room's QR code."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.url_root
    path = url_for("tables.checkin", meeting_id=meeting.id, key=meeting.checkin_key)
    return base.rstrip("/") + path


def _sheet_languages(meeting: Meeting) -> list[str]:
    """French (or the page's language) first, then the languages interpreted at the meeting
    that the interface speaks."""
    shipped = current_app.config["LANGUAGES"]
    out = [current_locale()]
    for code in ["fr", *(meeting.interpreted or [])]:
        if isinstance(code, str) and code in shipped and code not in out:
            out.append(code)
    return out


@admin_bp.get("/meetings/<int:meeting_id>/checkin-sheet")
@perm.staff_required
def checkin_sheet(meeting_id):
    """A printable A4 sheet to put up in the room: the check-in QR code and how to use it."""
    meeting = _meeting_or_404(meeting_id)
    perm.ensure(access.can_take_attendance(current_user, meeting.table))
    preload([meeting, meeting.table], current_locale())
    url = checkin_url(meeting)
    lines = []
    for lang in _sheet_languages(meeting):
        with force_locale(lang):
            lines.append({
                "lang": lang, "dir": text_direction(lang),
                "title": _("Say you are here"),
                "scan": _("Scan this code with your phone's camera and press “I'm here”."),
                "anonymous": _("No name, no account: we only count how many of us came."),
                "paper": _("No phone? Sign the paper sheet or ask the facilitator."),
            })
    svg = "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url)).decode("ascii")
    return render("tables/checkin_sheet.html", meeting=meeting, table=meeting.table, url=url, qr=svg, lines=lines,
                  can_renew=access.can_manage(current_user, meeting.table))


@admin_bp.post("/meetings/<int:meeting_id>/checkin-key")
@perm.staff_required
def checkin_key(meeting_id):
    """A new check-in QR code (e.g. a photo of the sheet went round): the old one stops working."""
    meeting = _meeting_or_404(meeting_id)
    perm.ensure(access.can_manage(current_user, meeting.table))
    attendance.renew_checkin_key(meeting)
    db.session.commit()
    flash(_("New check-in QR code: print the sheet again, the old code no longer works."), "success")
    return redirect(url_for("tables_admin.checkin_sheet", meeting_id=meeting.id))


# --- staff: attendance page (live counts, assisted check-in, paper sign-in sheet) -------------


def _tally_rows(table: NeighbourhoodTable) -> list[tuple[TallyDimension, str, list[tuple[str, str, str]]]]:
    """(dimension, legend, [(field name, value, label)]) of the paper breakdowns."""
    residences = {str(n.id): n.name for n in table.neighbourhoods}
    labels = {
        TallyDimension.age_band: {a.value: str(AGE_BANDS[a]) for a in AgeBand},
        TallyDimension.gender: {g.value: str(GENDERS[g]) for g in Gender},
        TallyDimension.residence: {**residences, attendance.ELSEWHERE: _("Another neighbourhood")},
        TallyDimension.first_time: {attendance.FIRST_TIME_YES: _("First table de quartier meeting")},
    }
    legends = {
        TallyDimension.age_band: _("By age"),
        TallyDimension.gender: _("By gender"),
        TallyDimension.residence: _("By neighbourhood of residence"),
        TallyDimension.first_time: _("First-timers"),
    }
    out = []
    for dimension, values in attendance.tally_categories(table).items():
        if dimension is TallyDimension.total:
            continue
        out.append((dimension, legends[dimension],
                    [(tally_field(dimension, v), v, labels[dimension][v]) for v in values]))
    return out


def _attendance_page(meeting: Meeting, tallies: TallyAnswers | None = None, checkin: CheckInAnswers | None = None,
                     status: int = 200):
    table = meeting.table
    if tallies is None:
        saved = attendance.paper_tallies(meeting)
        tallies = TallyAnswers()
        for dimension, values in saved.items():
            for value, count in values.items():
                tallies.raw[tally_field(dimension, value)] = str(count)
    preload([meeting, table], current_locale())
    return render(
        "tables/attendance.html", fragment="tables/_attendance_counts.html", meeting=meeting, table=table,
        counts=attendance.counts(meeting), tallies=tallies, tally_rows=_tally_rows(table),
        checkin=checkin or CheckInAnswers(), questions=profile_questions(table), nonce=issue_nonce(),
        sheets=attendance.sheets(meeting),
        state=attendance.checkin_state(meeting), can_manage=access.can_manage(current_user, table),
        can_figures=access.can_view_figures(current_user, table), status=status,
    )


@admin_bp.route("/meetings/<int:meeting_id>/attendance", methods=["GET", "POST"], endpoint="attendance")
@perm.staff_required
def attendance_view(meeting_id):
    """Live counts of the meeting, and the counts keyed from its paper sign-in sheet."""
    meeting = _meeting_or_404(meeting_id)
    perm.ensure(access.can_take_attendance(current_user, meeting.table))
    if request.method == "GET":
        return _attendance_page(meeting)
    tallies = parse_tallies(request.form, meeting.table)
    if tallies.problems:
        return _attendance_page(meeting, tallies=tallies, status=422)
    try:
        attendance.save_paper_tallies(meeting, tallies.total, tallies.breakdowns)
    except attendance.AttendanceError:
        db.session.rollback()
        tallies.problems["total"] = _("These counts could not be saved: check them.")
        return _attendance_page(meeting, tallies=tallies, status=422)
    db.session.commit()
    flash(_("Paper sign-in sheet saved: %(count)s people.", count=tallies.total), "success")
    return redirect(url_for("tables_admin.attendance", meeting_id=meeting.id, _anchor="paper"))


@admin_bp.post("/meetings/<int:meeting_id>/attendance/assisted")
@perm.staff_required
def assisted_checkin(meeting_id):
    """"+1" on the facilitator's tablet, for someone without a phone (same optional profile)."""
    meeting = _meeting_or_404(meeting_id)
    perm.ensure(access.can_take_attendance(current_user, meeting.table))
    answers = parse_checkin(request.form, meeting.table)
    if answers.problems:
        return _attendance_page(meeting, checkin=answers, status=422)
    if attendance.checkin_state(meeting) == "cancelled":
        flash(_("This meeting was cancelled: nobody can check in."), "error")
        return redirect(url_for("tables_admin.attendance", meeting_id=meeting.id))
    nonce = request.form.get("nonce", "")
    if nonce_state(nonce) == "fresh":
        attendance.record_checkin(meeting, age_band=answers.age_band, gender=answers.gender,
                                  residence_id=answers.residence_id,
                                  residence_elsewhere=answers.residence_elsewhere,
                                  first_time=answers.first_time, channel=Channel.assisted, nonce=nonce)
        db.session.commit()
        spend_nonce(nonce)
        flash(_("Counted. Thank you!"), "success")
    elif nonce_state(nonce) == "used":
        flash(_("This person was already counted."), "success")
    else:
        flash(_("This page was open for too long: nothing was counted. Try again."), "error")
    return redirect(url_for("tables_admin.attendance", meeting_id=meeting.id, _anchor="assisted"))


# --- staff: counts sent from the field (works offline: see field.py) -------------------------


def new_client_id() -> str:
    """The id of one field count, put in the form: the same form posted twice counts once (the
    outbox replaces it with its own when it queues the form)."""
    return str(uuid.uuid4())


def _field_count_page(meeting: Meeting, tallies: TallyAnswers | None = None, client_id: str | None = None,
                      status: int = 200):
    table = meeting.table
    preload([meeting, table], current_locale())
    return render(
        "tables/field_count.html", meeting=meeting, table=table, tallies=tallies or TallyAnswers(),
        tally_rows=_tally_rows(table), client_id=client_id or new_client_id(),
        state=attendance.checkin_state(meeting), kind=FIELD_KIND, form_version=FIELD_FORM_VERSION, status=status,
    )


@admin_bp.route("/meetings/<int:meeting_id>/field-count", methods=["GET", "POST"])
@perm.staff_required
def field_count(meeting_id):
    """One sign-in sheet or one head count, *added* to the meeting's attendance. Made for a
    mediator's tablet: offline, the outbox keeps it and sends it later (kind "attendance_count");
    online without JavaScript, this view records it. The same form sent twice counts once."""
    meeting = _meeting_or_404(meeting_id)
    perm.ensure(access.can_take_attendance(current_user, meeting.table))
    if request.method == "GET":
        return _field_count_page(meeting)
    client_id = request.form.get(CLIENT_ID, "")
    if not CLIENT_ID_RE.match(client_id):
        client_id = new_client_id()
    tallies = parse_sheet(request.form, meeting.table)
    if tallies.problems:
        return _field_count_page(meeting, tallies, client_id, status=422)
    try:
        sheet, created = attendance.add_sheet(meeting, client_id=client_id, total=tallies.total,
                                              breakdowns=tallies.breakdowns, note=tallies.note,
                                              entered_by=current_user)
    except attendance.AttendanceError as e:
        db.session.rollback()
        tallies.problems["form"] = sheet_error_message(e)
        return _field_count_page(meeting, tallies, client_id, status=422)
    db.session.commit()
    if created:
        flash(_("Count added to the attendance: %(count)s people.", count=tallies.total), "success")
    else:
        flash(_("This count was already received: nothing was added."), "success")
    return redirect(url_for("tables_admin.field_count", meeting_id=meeting.id))


@admin_bp.post("/meetings/<int:meeting_id>/field-sheets/<int:sheet_id>/remove")
@perm.staff_required
def field_sheet_remove(meeting_id, sheet_id):
    """Take a wrong field count out of the attendance (e.g. two mediators counted the same people)."""
    meeting = _meeting_or_404(meeting_id)
    perm.ensure(access.can_manage(current_user, meeting.table))
    sheet = db.session.get(AttendanceSheet, sheet_id)
    if sheet is None or sheet.meeting_id != meeting.id:
        abort(404)
    attendance.remove_sheet(sheet)
    db.session.commit()
    flash(_("This count no longer counts in the attendance."), "success")
    return redirect(url_for("tables_admin.attendance", meeting_id=meeting.id, _anchor="field-sheets"))


# --- staff: figures of a table ----------------------------------------------------------------


def _period() -> tuple[date | None, date | None, dict[str, str]]:
    errors: dict[str, str] = {}
    values: list[date | None] = []
    for name in ("from", "to"):
        raw = request.args.get(name, "").strip()[:20]
        if not raw:
            values.append(None)
            continue
        try:
            values.append(date.fromisoformat(raw))
        except ValueError:
            errors[name] = _("Type a date as YYYY-MM-DD, or leave it empty.")
            values.append(None)
    date_from, date_to = values
    if date_from and date_to and date_to < date_from:
        errors["to"] = _("The end of the period comes before its start.")
        date_to = None
    return date_from, date_to, errors


@admin_bp.get("/<int:table_id>/figures", endpoint="figures")
@perm.staff_required
def figures_view(table_id):
    """Attendance figures of the table over a period (small counts of people shown as "s")."""
    table = db.get_or_404(NeighbourhoodTable, table_id)
    perm.ensure(access.can_view_figures(current_user, table))
    date_from, date_to, errors = _period()
    shown = figures.protected(figures.attendance(table, date_from, date_to))
    meetings = {m.id: m for m in table.meetings}
    preload([table, *meetings.values()], current_locale())
    bars = [
        charts.Bar(label=m.starts_at.strftime("%Y-%m-%d"), value=cell.value, text=str(cell))
        for m, cell in zip(shown.raw.per_meeting, shown.per_meeting.cells)
    ]
    chart = charts.bar_chart(bars, title=_("Participations per meeting"), chart_id="participations-chart",
                             rtl=text_direction() == "rtl") if bars else None
    return render("tables/attendance_figures.html", table=table, shown=shown, chart=chart, errors=errors,
                  date_from=request.args.get("from", "")[:20], date_to=request.args.get("to", "")[:20],
                  meetings=meetings, profile_labels=_profile_labels(table), min_cell=disclosure.MIN_CELL, zip=zip,
                  status=422 if errors else 200)


def _profile_labels(table: NeighbourhoodTable) -> dict[str, tuple[str, dict[str, str]]]:
    """dimension -> (caption, {category: label}) of the figures' profile."""
    not_stated = _("Not stated")
    return {
        TallyDimension.age_band.value: (_("Age"), {**{a.value: str(AGE_BANDS[a]) for a in AgeBand},
                                                   figures.NOT_STATED: not_stated}),
        TallyDimension.gender.value: (_("Gender"), {**{g.value: str(GENDERS[g]) for g in Gender},
                                                    figures.NOT_STATED: not_stated}),
        TallyDimension.residence.value: (_("Neighbourhood of residence"), {
            **{str(n.id): n.name for n in table.neighbourhoods},
            attendance.ELSEWHERE: _("Another neighbourhood"), figures.NOT_STATED: not_stated}),
        TallyDimension.first_time.value: (_("First table de quartier meeting"), {
            attendance.FIRST_TIME_YES: _("Yes, the first time"), "no": _("No, came before"),
            figures.NOT_STATED: not_stated}),
    }
