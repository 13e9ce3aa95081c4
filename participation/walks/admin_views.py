"""Back office of exploratory walks: the list, preparing a walk, and the walk's own page, which
holds everything about it on one phone-sized page: its status and the next step, links to the
pages that record, check and report, its details and facilitators, the walkers' count and
anonymous profile, the participants' recording QR (open, close, renew, print), the observation
grid (themes and prompts) and the route (stops, with the staff map).

Who may do what: the list and a walk's page are for those who may manage, record on, or read
the figures of the walk (`can_view`); the printable recording sheet for those who may record;
every change for those who may manage it. Each view loads the object, checks, parses, calls a
service, commits once and renders; a broken rule rolls everything back and answers 422 with the
reason at the top of the page and next to the form.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..core import permissions as perm
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale, text_direction
from ..core.numbers import parse_int
from ..core.permissions import staff_required
from ..core.qr import qr_svg
from ..core.territories import Commune, Neighbourhood
from ..core.users import RoleGrant, User
from ..extensions import db
from . import access, maps, services
from .admin_forms import (
    ConfirmForm, EditWalkForm, MoveForm, NewWalkForm, ProfileForm, RecordingForm, SheetLanguagesForm, StatusForm,
    ThemeForm, WaypointForm, profile_data,
)
from .labels import (
    DEFAULT_THEMES, GROUP_TYPES, MODERATIONS, RATINGS, TIMES_OF_DAY, WALK_STATUSES, error_message, rating_words,
)
from .models import (
    Moderation, Observation, ObservationPhoto, Walk, WalkStatus, WalkTheme, Waypoint, new_record_key,
    walk_facilitators,
)
from .views import admin_bp

#: Roles that see walks in the back office (what each may do there is checked per page).
VIEWERS = access.MANAGERS | access.RECORDERS | access.FIGURE_READERS


def can_view(user: User, walk: Walk) -> bool:
    return access.can_manage(user, walk) or access.can_record(user, walk) or access.can_view_figures(user, walk)


def _get_or_404(model, ident: int):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _managed_walk(walk_id: int) -> Walk:
    walk = _get_or_404(Walk, walk_id)
    perm.ensure(access.can_manage(current_user, walk))
    return walk


def _managed_theme(theme_id: int) -> WalkTheme:
    theme = _get_or_404(WalkTheme, theme_id)
    perm.ensure(access.can_manage(current_user, theme.walk))
    return theme


def _managed_point(point_id: int) -> Waypoint:
    point = _get_or_404(Waypoint, point_id)
    perm.ensure(access.can_manage(current_user, point.walk))
    return point


#: The field a refusal is about: its message also shows next to it (and opens its form).
ERROR_FIELDS = {
    "no_title": "title", "facilitator_elsewhere": "facilitators", "no_theme_name": "name", "theme_exists": "name",
    "no_label": "label", "bad_position": "lat", "half_position": "lat", "too_many_participants": "participants",
    "negative": "participants",
}


def _refused(e: services.WalkError, form=None) -> list[str]:
    """Roll the request back; the message for the top of the page (and next to its field)."""
    db.session.rollback()
    message = error_message(e)
    name = ERROR_FIELDS.get(e.code)
    if form is not None and name in form:
        form[name].errors.append(message)
    return [message]


# --- queries ---------------------------------------------------------------------------------


def _visible_clause(user: User):
    """Walks in the user's scopes for VIEWERS, and walks naming the user as a facilitator in a
    contract where the user still works (refined by `can_view`)."""
    if user.is_superadmin:
        return sa.true()
    clauses = [perm.scope_clause(user, VIEWERS, Walk.contract_id, Walk.commune_id, Walk.neighbourhood_id)]
    contracts = {g.contract_id for g in user.grants}
    if contracts:
        clauses.append(sa.and_(Walk.contract_id.in_(contracts), Walk.id.in_(
            sa.select(walk_facilitators.c.walk_id).where(walk_facilitators.c.user_id == user.id))))
    return sa.or_(*clauses)


@dataclass(frozen=True)
class Counts:
    total: int = 0
    #: observations to check: the observation itself or one of its photos
    to_check: int = 0
    published: int = 0


def observation_counts(walk_ids) -> dict[int, Counts]:
    walk_ids = list(walk_ids)
    if not walk_ids:
        return {}
    O, P = Observation, ObservationPhoto
    pending_photo = sa.exists().where(P.observation_id == O.id, P.moderation == Moderation.pending)
    to_check = sa.func.sum(sa.case((sa.or_(O.moderation == Moderation.pending, pending_photo), 1), else_=0))
    published = sa.func.sum(sa.case((O.moderation == Moderation.published, 1), else_=0))
    rows = db.session.execute(
        sa.select(O.walk_id, sa.func.count(O.id), to_check, published).where(O.walk_id.in_(walk_ids))
        .group_by(O.walk_id))
    return {wid: Counts(int(total), int(check or 0), int(pub or 0)) for wid, total, check, pub in rows}


def creatable_neighbourhoods(user: User) -> list[Neighbourhood]:
    """Neighbourhoods where the user may prepare a walk, by contract and commune."""
    query = sa.select(Neighbourhood).join(Commune).order_by(Commune.contract_id, Commune.name, Neighbourhood.name)
    if not user.is_superadmin:
        contracts = {g.contract_id for g in user.grants if g.role in access.MANAGERS}
        if not contracts:
            return []
        query = query.where(Commune.contract_id.in_(contracts))
    return [n for n in db.session.scalars(query) if access.can_create_in(user, n)]


def _neighbourhood_choices(hoods: list[Neighbourhood]) -> list[SelectChoice]:
    several_contracts = len({n.commune.contract_id for n in hoods}) > 1
    return [SelectChoice(str(n.id), f"{n.commune.contract.name} › {n.commune.name} › {n.name}" if several_contracts
                         else f"{n.commune.name} › {n.name}") for n in hoods]


def _facilitator_choices(walk: Walk) -> list[SelectChoice]:
    """Enabled staff working in the walk's contract as admin, facilitator or mediator, and
    whoever is named already (an account that lost its role can still be taken off)."""
    users = list(db.session.scalars(
        sa.select(User).where(User.is_enabled, User.id.in_(sa.select(RoleGrant.user_id).where(
            RoleGrant.contract_id == walk.contract_id, RoleGrant.role.in_(access.RECORDERS))))
        .order_by(User.name, User.id)))
    users += [u for u in walk.facilitators if u.id not in {x.id for x in users}]
    return [SelectChoice(str(u.id), u.name) for u in users]


# --- list and creation -----------------------------------------------------------------------


@admin_bp.get("/")
@staff_required
def index():
    listed = db.session.scalar(sa.select(sa.func.count()).select_from(walk_facilitators)
                               .where(walk_facilitators.c.user_id == current_user.id))
    perm.ensure(current_user.is_superadmin or bool(perm.managed_scopes(current_user, VIEWERS)) or bool(listed))
    walks = [w for w in db.session.scalars(
        sa.select(Walk).options(selectinload(Walk.neighbourhood)).where(_visible_clause(current_user))
        .order_by(Walk.walked_on, Walk.id)
    ) if can_view(current_user, w)]
    preload(walks, current_locale())
    today = date.today()
    coming = [w for w in walks if w.status is WalkStatus.planned and w.walked_on >= today]
    past = [w for w in reversed(walks) if not (w.status is WalkStatus.planned and w.walked_on >= today)]
    figures = None
    if current_user.is_superadmin or perm.managed_scopes(current_user, access.FIGURE_READERS):
        figures = url_for("walks_admin.figures")
    return render("walks/admin/index.html", coming=coming, past=past, counts=observation_counts(w.id for w in walks),
                  empty=Counts(), can_create=bool(creatable_neighbourhoods(current_user)), figures_url=figures,
                  **_label_context())


def _label_context() -> dict:
    return {"WALK_STATUSES": WALK_STATUSES, "TIMES_OF_DAY": TIMES_OF_DAY, "GROUP_TYPES": GROUP_TYPES}


@admin_bp.route("/new", methods=["GET", "POST"])
@staff_required
def create():
    hoods = creatable_neighbourhoods(current_user)
    perm.ensure(bool(hoods))
    if request.method == "GET":
        form = NewWalkForm(formdata=None, data={
            "original_locale": current_locale(), "neighbourhood": str(hoods[0].id) if len(hoods) == 1 else ""})
    else:
        form = NewWalkForm()
    form.neighbourhood.choices = [SelectChoice("", _("Choose the neighbourhood")), *_neighbourhood_choices(hoods)]
    errors = []
    if request.method == "GET":
        return render("walks/admin/new.html", form=form, errors=errors)
    if form.validate_on_submit():
        hood = next((n for n in hoods if str(n.id) == form.neighbourhood.data), None)
        if hood is None:
            form.neighbourhood.errors.append(error_message(services.WalkError("neighbourhood_not_managed")))
        else:
            fields = form.walk_data()
            walked_on = fields.pop("walked_on")
            try:
                walk = services.create_walk(hood, form.title.data, walked_on, locale=form.original_locale.data,
                                            user=current_user, **fields)
            except services.WalkError as e:
                errors = _refused(e, form)
            else:
                db.session.commit()
                flash(_("Walk prepared with the default observation grid. Check the route and the grid, then "
                        "print the recording sheet."), "success")
                return redirect(url_for("walks_admin.walk", walk_id=walk.id))
    if not errors:
        errors = [_("Please correct the highlighted fields.")]
    return render("walks/admin/new.html", form=form, errors=errors, status=422)


# --- the walk's page -------------------------------------------------------------------------


def record_url(walk: Walk) -> str:
    """The absolute address in the participants' QR code (it carries the walk's key)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return url_for("walks.record", walk_id=walk.id, key=walk.record_key, _external=True)
    return base.rstrip("/") + url_for("walks.record", walk_id=walk.id, key=walk.record_key)


@dataclass(frozen=True)
class NextStep:
    text: str
    url: str | None
    hint: str = ""


def next_step(walk: Walk, counts: Counts, manager: bool) -> NextStep | None:
    """What the team should do now, from the walk's state (None when nothing is left)."""
    today = date.today()
    observations = url_for("walks_admin.observations", walk_id=walk.id)
    recommendations = url_for("walks_admin.recommendations", walk_id=walk.id)
    record = url_for("walks_admin.record", walk_id=walk.id)
    if walk.status is WalkStatus.planned:
        if not counts.total and walk.walked_on > today:
            return NextStep(_("Prepare the route and the grid, then print the recording sheet"),
                            url_for("walks_admin.record_sheet", walk_id=walk.id),
                            _("Participants scan the sheet's QR code to record from their own phones."))
        return NextStep(_("Record observations"), record,
                        _("When the group is back, mark the walk as walked.") if manager else "")
    if not manager:
        return None
    if walk.status is WalkStatus.walked:
        if walk.follows_id is not None:
            checked = {c.observation_id for c in walk.point_checks}
            unchecked = [o for o in walk.follows.observations if o.id not in checked]
            if unchecked:
                return NextStep(ngettext("%(num)d point of the first walk to check",
                                         "%(num)d points of the first walk to check", len(unchecked)),
                                url_for("walks_admin.points", walk_id=walk.id))
        if not counts.total:
            return NextStep(_("Record observations"), record, _("No observation has been recorded yet."))
        if counts.to_check:
            return NextStep(ngettext("%(num)d observation to check", "%(num)d observations to check", counts.to_check),
                            observations, _("Only checked observations and photos can be made public."))
        if not counts.published:
            return NextStep(_("Publish at least one observation"), observations)
        if not walk.recommendations:
            return NextStep(_("Write recommendations"), recommendations,
                            _("Each one addressed to a responsible body, with a due date."))
        return NextStep(_("Publish the report"), "#status")
    return NextStep(_("Follow the recommendations to the end"), recommendations,
                    _("When the work is done, plan a follow-up walk to check each point."))


def _links(walk: Walk, manager: bool, recorder: bool, figures: bool) -> list[tuple[str, str]]:
    """(label, url) of the pages of this walk the user may open."""
    links = []
    if recorder:
        links.append((_("Record observations"), url_for("walks_admin.record", walk_id=walk.id)))
    if manager:
        links += [(_("Check observations"), url_for("walks_admin.observations", walk_id=walk.id)),
                  (_("Recommendations"), url_for("walks_admin.recommendations", walk_id=walk.id))]
        if walk.follows_id is not None:
            links.append((_("Points of the first walk"), url_for("walks_admin.points", walk_id=walk.id)))
    links.append((_("Public page"), url_for("walks.walk", walk_id=walk.id)))
    if walk.status is WalkStatus.published:
        links += [(_("Report"), url_for("walks.report", walk_id=walk.id)),
                  (_("Report (PDF)"), url_for("walks.report_pdf", walk_id=walk.id))]
    elif manager:
        links += [(_("Report preview"), url_for("walks.report", walk_id=walk.id)),
                  (_("Report preview (PDF)"), url_for("walks.report_pdf", walk_id=walk.id))]
    if figures:
        links += [
            (_("Observations (CSV)"), url_for("walks_admin.export", walk_id=walk.id, what="observations", fmt="csv")),
            (_("Observations (GeoJSON)"),
             url_for("walks_admin.export", walk_id=walk.id, what="observations", fmt="geojson")),
            (_("Actions (CSV)"), url_for("walks_admin.export", walk_id=walk.id, what="actions", fmt="csv")),
        ]
    if manager:
        links.append((_("Translate the title, description and conclusion"),
                      url_for("admin.translations", entity="walks", entity_id=walk.id)))
    return links


def _coordinate(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}".rstrip("0").rstrip(".")


def _start_time(text: str):
    try:
        return datetime.strptime(text, "%H:%M").time() if text else None
    except ValueError:
        return None


def _details_form(walk: Walk) -> EditWalkForm:
    form = EditWalkForm(formdata=None, prefix="walk", data={
        "title": walk.title, "walked_on": walk.walked_on, "starts_at": _start_time(walk.starts_at),
        "time_of_day": walk.time_of_day.value, "group_type": walk.group_type.value,
        "meeting_point": walk.meeting_point, "description": walk.description, "guides": walk.guides,
        "summary": walk.summary, "facilitators": [str(u.id) for u in walk.facilitators]})
    form.facilitators.choices = _facilitator_choices(walk)
    return form


def _theme_form(theme: WalkTheme) -> ThemeForm:
    return ThemeForm(formdata=None, prefix=f"theme{theme.id}", data={"name": theme.name, "prompts": theme.prompts})


def _point_form(point: Waypoint) -> WaypointForm:
    return WaypointForm(formdata=None, prefix=f"point{point.id}",
                        data={"label": point.label, "lat": _coordinate(point.lat), "lon": _coordinate(point.lon)})


def _walk_page(walk: Walk, *, status: int = 200, errors=(), section: str | None = None, details_form=None,
               profile_form=None, theme_form=None, point_form=None, theme_forms=None, point_forms=None):
    """The walk's page; after a refused change, the posted form (with its errors) replaces the
    blank one and `section` names where it is."""
    manager = access.can_manage(current_user, walk)
    recorder = access.can_record(current_user, walk)
    figures = access.can_view_figures(current_user, walk)
    observations = walk.observations
    preload([walk, *walk.themes, *walk.waypoints, *observations], current_locale())
    counts = observation_counts([walk.id]).get(walk.id, Counts())
    theme_use = dict(db.session.execute(
        sa.select(Observation.theme_id, sa.func.count()).where(Observation.walk_id == walk.id)
        .group_by(Observation.theme_id)).all())
    forms = {}
    if manager:
        forms = {
            "details_form": details_form or _details_form(walk),
            "profile_form": profile_form or ProfileForm(formdata=None, prefix="profile", data=profile_data(walk)),
            "theme_form": theme_form or ThemeForm(formdata=None, prefix="theme"),
            "point_form": point_form or WaypointForm(formdata=None, prefix="point"),
            "theme_forms": {t.id: (theme_forms or {}).get(t.id) or _theme_form(t) for t in walk.themes},
            "point_forms": {p.id: (point_forms or {}).get(p.id) or _point_form(p) for p in walk.waypoints},
        }
    if status >= 400 and not errors:
        errors = [_("Please correct the highlighted fields.")]
    profile = {(row.dimension, row.value): row.count for row in walk.profile_counts}
    present_codes = {t.code for t in walk.themes}
    return render(
        "walks/admin/walk.html", status=status, walk=walk, manager=manager, recorder=recorder, errors=errors,
        section=section, counts=counts, theme_use=theme_use, profile=profile,
        missing_defaults=[c for c, _n, _p in DEFAULT_THEMES if c not in present_codes],
        step=next_step(walk, counts, manager), links=_links(walk, manager, recorder, figures),
        route_map=maps.build(walk, observations, public=False), observations=observations,
        record_link=record_url(walk) if recorder else None, today=date.today(), coordinate=_coordinate,
        observation_url=(lambda o: url_for("walks_admin.observation", obs_id=o.id)) if manager else (lambda o: None),
        RATINGS=RATINGS, MODERATIONS=MODERATIONS, rating_words=rating_words, **_label_context(), **forms)


@admin_bp.get("/<int:walk_id>")
@staff_required
def walk(walk_id):
    item = _get_or_404(Walk, walk_id)
    perm.ensure(can_view(current_user, item))
    return _walk_page(item)


def _back(walk: Walk, anchor: str | None = None):
    return redirect(url_for("walks_admin.walk", walk_id=walk.id, _anchor=anchor))


@admin_bp.post("/<int:walk_id>/edit")
@staff_required
def edit(walk_id):
    item = _managed_walk(walk_id)
    form = EditWalkForm(prefix="walk")
    form.facilitators.choices = _facilitator_choices(item)
    errors = []
    if form.validate_on_submit():
        offered = {c.value for c in form.facilitators.choices}
        chosen = list(form.facilitators.data or ())
        if any(v not in offered for v in chosen):
            form.facilitators.errors.append(error_message(services.WalkError("facilitator_elsewhere")))
        else:
            ids = [i for i in map(parse_int, chosen) if i is not None]
            users = list(db.session.scalars(sa.select(User).where(User.id.in_(ids)))) if ids else []
            try:
                services.update_walk(item, title=form.title.data, summary=form.summary.data or "", **form.walk_data())
                services.set_facilitators(item, users)
            except services.WalkError as e:
                errors = _refused(e, form)
                item = db.session.get(Walk, walk_id)
            else:
                db.session.commit()
                flash(_("Walk saved."), "success")
                if not can_view(current_user, item):  # took oneself off the facilitators
                    return redirect(url_for("walks_admin.index"))
                return _back(item, "details")
    return _walk_page(item, details_form=form, errors=errors, section="details", status=422)


@admin_bp.post("/<int:walk_id>/profile")
@staff_required
def profile(walk_id):
    item = _managed_walk(walk_id)
    form = ProfileForm(prefix="profile")
    errors = []
    if form.validate_on_submit():
        try:
            services.set_profile(item, form.total(), form.counts())
        except services.WalkError as e:
            errors = _refused(e, form)
            item = db.session.get(Walk, walk_id)
        else:
            db.session.commit()
            flash(_("Walkers saved."), "success")
            return _back(item, "walkers")
    return _walk_page(item, profile_form=form, errors=errors, section="walkers", status=422)


@admin_bp.post("/<int:walk_id>/status")
@staff_required
def status(walk_id):
    item = _managed_walk(walk_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return _walk_page(item, errors=[_("This change could not be made.")], section="status", status=422)
    target = WalkStatus(form.status.data)
    was_published = item.status is WalkStatus.published
    try:
        services.set_status(item, target)
    except services.WalkError as e:
        errors = _refused(e)
        return _walk_page(db.session.get(Walk, walk_id), errors=errors, section="status", status=422)
    db.session.commit()
    if was_published and target is not WalkStatus.published:
        flash(_("The report is withdrawn: it is no longer public."), "success")
    elif target is WalkStatus.planned:
        flash(_("The walk is planned again."), "success")
    elif target is WalkStatus.walked:
        flash(_("The walk is marked as walked. Check the observations, then write the recommendations."), "success")
    else:
        flash(_("The report is published on the walk's public page."), "success")
    return _back(item, "status")


@admin_bp.post("/<int:walk_id>/recording")
@staff_required
def recording(walk_id):
    item = _managed_walk(walk_id)
    form = RecordingForm()
    if not form.validate_on_submit():
        return _walk_page(item, errors=[_("This change could not be made.")], section="recording", status=422)
    action = form.action.data
    if action == "renew":
        services.update_walk(item, record_key=new_record_key())
        message = _("New QR code: print the sheet again, the old code no longer works.")
    elif action == "open":
        services.update_walk(item, recording_open=True)
        message = _("Participants can record observations with the QR code.")
    else:
        services.update_walk(item, recording_open=False)
        message = _("Recording with the QR code is closed. Staff can still record.")
    db.session.commit()
    flash(message, "success")
    if form.back.data == "sheet":
        return redirect(url_for("walks_admin.record_sheet", walk_id=item.id))
    return _back(item, "recording")


def sheet_languages(walk: Walk, wanted=()) -> list[str]:
    """The walk's language first, then up to two more: those asked for, else the page's
    language, French, and the next shipped languages."""
    shipped = list(current_app.config["LANGUAGES"])
    first = walk.original_locale if walk.original_locale in shipped else current_app.config["BABEL_DEFAULT_LOCALE"]
    out = [first]
    for code in [*wanted, current_locale(), "fr", *shipped]:
        if len(out) == 3:
            break
        if code in shipped and code not in out:
            out.append(code)
    return out


@admin_bp.get("/<int:walk_id>/record-sheet")
@staff_required
def record_sheet(walk_id):
    """A printable A4 sheet for the walkers: the recording QR code and how to use it, in the
    walk's language and two more."""
    item = _get_or_404(Walk, walk_id)
    perm.ensure(access.can_record(current_user, item))
    preload([item], current_locale())
    languages = sheet_languages(item, [request.args.get("second", ""), request.args.get("third", "")])
    url = record_url(item)
    lines = []
    for lang in languages:
        with force_locale(lang):
            lines.append({
                "lang": lang, "dir": text_direction(lang),
                "title": _("Note what you see"),
                "scan": _("Scan this code with your phone's camera to add an observation: a photo, a few words, "
                          "a face on the scale."),
                "anonymous": _("No name, no account. The facilitators check words and photos before anything is "
                               "made public: please leave out faces and number plates."),
                "help": _("No phone? Tell a facilitator: they will note it for you."),
                "date": format_date(item.walked_on, "full"),
            })
    form = SheetLanguagesForm(formdata=None, data={"second": languages[1] if len(languages) > 1 else "",
                                                   "third": languages[2] if len(languages) > 2 else ""})
    svg = "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url)).decode("ascii")
    return render("walks/admin/record_sheet.html", walk=item, url=url, qr=svg, lines=lines, form=form,
                  manager=access.can_manage(current_user, item))


# --- observation grid ------------------------------------------------------------------------


@admin_bp.post("/<int:walk_id>/themes")
@staff_required
def theme_add(walk_id):
    item = _managed_walk(walk_id)
    if "defaults" in request.form:  # "add the default themes back"
        if not ConfirmForm().validate_on_submit():
            return _walk_page(item, errors=[_("This change could not be made.")], section="themes", status=422)
        added = services.add_default_themes(item)
        db.session.commit()
        if added:
            flash(ngettext("%(num)d default theme added to the grid.", "%(num)d default themes added to the grid.",
                           len(added)), "success")
        else:
            flash(_("The grid already has every default theme."), "success")
        return _back(item, "themes")
    form = ThemeForm(prefix="theme")
    errors = []
    if form.validate_on_submit():
        try:
            theme = services.add_theme(item, form.name.data, form.prompts.data or "")
        except services.WalkError as e:
            errors = _refused(e, form)
            item = db.session.get(Walk, walk_id)
        else:
            db.session.commit()
            flash(_("Theme added to the grid."), "success")
            return _back(item, f"theme-{theme.id}")
    return _walk_page(item, theme_form=form, errors=errors, section="add-theme", status=422)


@admin_bp.post("/themes/<int:theme_id>")
@staff_required
def theme(theme_id):
    item = _managed_theme(theme_id)
    form = ThemeForm(prefix=f"theme{item.id}")
    errors = []
    if form.validate_on_submit():
        try:
            services.update_theme(item, form.name.data, form.prompts.data or "")
        except services.WalkError as e:
            errors = _refused(e, form)
            item = db.session.get(WalkTheme, theme_id)
        else:
            db.session.commit()
            flash(_("Theme saved."), "success")
            return _back(item.walk, f"theme-{item.id}")
    return _walk_page(item.walk, theme_forms={item.id: form}, errors=errors, section=f"theme-{item.id}", status=422)


def _direction(form: MoveForm) -> int | None:
    return {"up": -1, "down": 1}.get(form.direction.data) if form.validate_on_submit() else None


def _moved(item, siblings: list, section: str, anchor: str):
    """Move a theme or a stop up or down its list (the MoveForm says which way)."""
    delta = _direction(MoveForm())
    if delta is None:
        return _walk_page(item.walk, errors=[_("This change could not be made.")], section=section, status=422)
    services.move(siblings, item, delta)
    db.session.commit()
    return _back(item.walk, anchor)


@admin_bp.post("/themes/<int:theme_id>/move")
@staff_required
def theme_move(theme_id):
    item = _managed_theme(theme_id)
    return _moved(item, item.walk.themes, "themes", f"theme-{item.id}")


@admin_bp.post("/themes/<int:theme_id>/delete")
@staff_required
def theme_delete(theme_id):
    item = _managed_theme(theme_id)
    walk = item.walk
    if not ConfirmForm().validate_on_submit():
        return _walk_page(walk, errors=[_("This change could not be made.")], section="themes", status=422)
    try:
        services.remove_theme(item)
    except services.WalkError as e:
        errors = _refused(e)
        return _walk_page(db.session.get(WalkTheme, theme_id).walk, errors=errors, section=f"theme-{theme_id}",
                          status=422)
    db.session.commit()
    flash(_("Theme removed from the grid."), "success")
    return _back(walk, "themes")


# --- route -----------------------------------------------------------------------------------


def _save_point(form: WaypointForm, save) -> list[str]:
    """Parse the position, call `save(label, lat, lon)`; the messages of a refusal."""
    try:
        lat, lon = services.parse_position(form.lat.data, form.lon.data)
        save(form.label.data, lat, lon)
    except services.WalkError as e:
        return _refused(e, form)
    return []


@admin_bp.post("/<int:walk_id>/waypoints")
@staff_required
def waypoint_add(walk_id):
    item = _managed_walk(walk_id)
    form = WaypointForm(prefix="point")
    errors = []
    if form.validate_on_submit():
        added = []
        errors = _save_point(form, lambda label, lat, lon: added.append(services.add_waypoint(item, label, lat, lon)))
        if not errors:
            db.session.commit()
            flash(_("Stop added to the route."), "success")
            return _back(item, f"point-{added[0].id}")
        item = db.session.get(Walk, walk_id)
    return _walk_page(item, point_form=form, errors=errors, section="add-point", status=422)


@admin_bp.post("/waypoints/<int:point_id>")
@staff_required
def waypoint(point_id):
    item = _managed_point(point_id)
    form = WaypointForm(prefix=f"point{item.id}")
    errors = []
    if form.validate_on_submit():
        errors = _save_point(form, lambda label, lat, lon: services.update_waypoint(item, label, lat, lon))
        if not errors:
            db.session.commit()
            flash(_("Stop saved."), "success")
            return _back(item.walk, f"point-{item.id}")
        item = db.session.get(Waypoint, point_id)
    return _walk_page(item.walk, point_forms={item.id: form}, errors=errors, section=f"point-{item.id}", status=422)


@admin_bp.post("/waypoints/<int:point_id>/move")
@staff_required
def waypoint_move(point_id):
    item = _managed_point(point_id)
    return _moved(item, item.walk.waypoints, "route", f"point-{item.id}")


@admin_bp.post("/waypoints/<int:point_id>/delete")
@staff_required
def waypoint_delete(point_id):
    item = _managed_point(point_id)
    walk = item.walk
    if not ConfirmForm().validate_on_submit():
        return _walk_page(walk, errors=[_("This change could not be made.")], section="route", status=422)
    services.remove_waypoint(item)
    db.session.commit()
    flash(_("Stop removed from the route."), "success")
    return _back(walk, "route")
