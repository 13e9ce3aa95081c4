"""Back office of a walk after it was walked: moderating its observations and their photos (what
the public may see), editing an observation, writing recommendations (each a `followup.FollowUp`
moved through the shared workflow on the follow-up pages), planning a follow-up walk, and
recording what that walk found at each point of the walk it follows.

Every page needs `access.can_manage` on the walk. Views load and check, parse, call `services`,
commit once and render; a refused change rolls everything back and answers 422 with the reason
next to its field, an unknown id answers 404.
"""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.routing import BuildError
from wtforms.fields.choices import SelectChoice

from ..core import permissions as perm
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.permissions import staff_required
from ..core.photos import PhotoError
from ..core.templating import tr
from ..core.territories import top_categories
from ..extensions import db
from ..followup import access as followup_access
from ..followup import services as followups
from ..followup.models import Institution
from . import access, labels, maps, services
from .models import (
    LocationSource, Moderation, Observation, ObservationPhoto, PointOutcome, Recommendation, Walk, WalkStatus,
)
from .review_forms import (
    BulkPublishForm, ConfirmForm, FollowUpWalkForm, LinksForm, ModerateForm, ObservationForm, PhotoForm, PointForm,
    RecommendationForm,
)
from .views import admin_bp

#: Which field of the observation form a refused change is about.
OBSERVATION_ERROR_FIELDS = {
    "unknown_theme": "theme",
    "bad_rating": "rating",
    "empty_observation": "seen",
    "half_position": "lat",
    "bad_position": "lat",
    "unknown_waypoint": "waypoint",
    "too_many_photos": "photos",
}


@admin_bp.app_template_global()
def walk_review_url(endpoint: str, **values) -> str | None:
    """A link to a page another part of the app provides, or None while it does not exist."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


# --- loading and checking ------------------------------------------------------------------


def _managed_walk(walk_id: int) -> Walk:
    walk = db.get_or_404(Walk, walk_id)
    perm.ensure(access.can_manage(current_user, walk))
    return walk


def _managed_observation(obs_id: int) -> Observation:
    obs = db.get_or_404(Observation, obs_id)
    perm.ensure(access.can_manage(current_user, obs.walk))
    return obs


def _managed_recommendation(followup_id: int) -> Recommendation:
    link = db.get_or_404(Recommendation, followup_id)
    perm.ensure(access.can_manage(current_user, link.walk))
    return link


def _overview(walk: Walk) -> str:
    """The walk's back-office overview (part of the back office written elsewhere)."""
    return walk_review_url("walks_admin.walk", walk_id=walk.id) or url_for("walks_admin.observations", walk_id=walk.id)


def _preload(walk: Walk, *more) -> None:
    preload([walk, *walk.themes, *walk.waypoints, *walk.observations, *more], current_locale())


def _obs_label(obs: Observation) -> str:
    """"No. 3 · Lighting · The lamp is broken…" for choices."""
    parts = [_("No. %(number)s", number=obs.number)]
    if obs.theme is not None:
        parts.append(str(tr(obs.theme, "name")))
    seen = str(tr(obs, "seen")).strip()
    if seen:
        parts.append(seen if len(seen) <= 50 else seen[:49] + "…")
    return " · ".join(parts)


def _obs_choices(walk: Walk) -> list[SelectChoice]:
    return [SelectChoice(str(o.id), _obs_label(o)) for o in walk.observations]


def _ids(values) -> list[int]:
    """Posted ids; anything that is not a whole number becomes -1, which no row has (the service
    then refuses the choice with a message instead of ignoring it)."""
    return [n if (n := parse_int(v)) is not None else -1 for v in values or ()]


# --- moderation ----------------------------------------------------------------------------


def _to_check(obs: Observation) -> bool:
    return obs.moderation is Moderation.pending or any(p.moderation is Moderation.pending for p in obs.photos)


def _moderation_page(walk: Walk, *, failed: dict | None = None, errors: list[str] = (), status: int = 200):
    show = "pending" if request.values.get("show") == "pending" else "all"
    _preload(walk)
    shown = [o for o in walk.observations if show == "all" or _to_check(o)]
    failed = failed or {}
    photo_forms = {
        p.id: failed.get(("photo", p.id)) or PhotoForm(prefix=f"p{p.id}", formdata=None, data={"caption": p.caption})
        for o in shown for p in o.photos
    }
    return render(
        "walks/admin/observations.html",
        walk=walk,
        observations=shown,
        show=show,
        total=len(walk.observations),
        to_check=sum(1 for o in walk.observations if _to_check(o)),
        map_data=maps.build(walk, shown, public=False),
        photo_forms=photo_forms,
        bulk_form=failed.get("bulk") or BulkPublishForm(formdata=None),
        errors=list(errors),
        labels=labels,
        recommendations={o.id: services.recommendations_for(o) for o in shown},
        overview_url=_overview(walk),
        status=status,
    )


def _back_to_list(walk: Walk, obs: Observation | None = None):
    show = "pending" if request.form.get("show") == "pending" else None
    anchor = f"o{obs.number}" if obs is not None else None
    return redirect(url_for("walks_admin.observations", walk_id=walk.id, show=show, _anchor=anchor))


@admin_bp.route("/<int:walk_id>/observations", methods=["GET", "POST"], endpoint="observations")
@staff_required
def observations_view(walk_id):
    """The walk's observations by number, each with its photos; POST publishes every ticked one."""
    walk = _managed_walk(walk_id)
    if request.method == "GET":
        return _moderation_page(walk)
    form = BulkPublishForm()
    form.observations.choices = _obs_choices(walk)
    if form.validate_on_submit():
        ids = set(_ids(form.observations.data))
        chosen = [o for o in walk.observations if o.id in ids]
        if not ids:
            form.observations.errors = [_("Tick at least one observation.")]
        elif len(chosen) != len(ids):
            form.observations.errors = [labels.error_message(services.WalkError("observation_elsewhere"))]
        else:
            for obs in chosen:
                services.moderate_observation(obs, Moderation.published)
            db.session.commit()
            flash(ngettext("%(num)d observation published.", "%(num)d observations published.", len(chosen)),
                  "success")
            return _back_to_list(walk)
    return _moderation_page(walk, failed={"bulk": form}, status=422)


@admin_bp.post("/observations/<int:obs_id>/moderate")
@staff_required
def observation_moderate(obs_id):
    obs = _managed_observation(obs_id)
    form = ModerateForm()
    if not form.validate_on_submit():
        return _moderation_page(obs.walk, errors=[_("Choose: publish, keep private, or check later.")], status=422)
    decision = Moderation(form.decision.data)
    services.moderate_observation(obs, decision)
    db.session.commit()
    flash(_("Observation %(number)s: %(status)s.", number=obs.number, status=labels.MODERATIONS[decision]), "success")
    return _back_to_list(obs.walk, obs)


@admin_bp.post("/photos/<int:photo_id>/moderate")
@staff_required
def photo_moderate(photo_id):
    photo = db.get_or_404(ObservationPhoto, photo_id)
    obs = photo.observation
    perm.ensure(access.can_manage(current_user, obs.walk))
    form = PhotoForm(prefix=f"p{photo.id}")
    if not form.validate_on_submit():
        if form.decision.errors:
            form.decision.errors = [_("Choose: publish, keep private, or save the caption.")]
        return _moderation_page(obs.walk, failed={("photo", photo.id): form}, status=422)
    decision = photo.moderation if form.decision.data == "caption" else Moderation(form.decision.data)
    services.moderate_photo(photo, decision, caption=form.caption.data or "")
    db.session.commit()
    if form.decision.data == "caption":
        flash(_("Caption saved (photo of observation %(number)s).", number=obs.number), "success")
    else:
        flash(_("Photo of observation %(number)s: %(status)s.", number=obs.number,
                status=labels.MODERATIONS[decision]), "success")
    return _back_to_list(obs.walk, obs)


@admin_bp.post("/observations/<int:obs_id>/delete")
@staff_required
def observation_delete(obs_id):
    """First POST: the confirmation page; second POST (confirm=yes): the observation is deleted.
    The other observations keep their numbers."""
    obs = _managed_observation(obs_id)
    walk = obs.walk
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if request.form.get("confirm") != "yes":
        _preload(walk)
        return render("walks/admin/observation_delete.html", walk=walk, obs=obs, labels=labels,
                      recommendations=services.recommendations_for(obs), show=request.form.get("show", ""))
    number = obs.number
    services.remove_observation(obs)
    db.session.commit()
    flash(_("Observation %(number)s deleted. The other observations keep their numbers.", number=number), "success")
    return _back_to_list(walk)


# --- editing an observation ----------------------------------------------------------------


def _observation_choices(form: ObservationForm, walk: Walk) -> None:
    form.theme.choices = [SelectChoice("", _("(no theme)"))] + [
        SelectChoice(str(t.id), str(tr(t, "name"))) for t in walk.themes
    ]
    form.waypoint.choices = [SelectChoice("", _("(choose a stop)"))] + [
        SelectChoice(str(w.id), _("Stop %(number)s: %(label)s", number=w.position + 1, label=tr(w, "label"))
                     + ("" if w.lat is not None else " " + _("(no coordinates)")))
        for w in walk.waypoints
    ]


def _observation_form(obs: Observation) -> ObservationForm:
    form = ObservationForm(formdata=None, data={
        "theme": str(obs.theme_id or ""), "rating": str(obs.rating or ""), "seen": obs.seen, "quote": obs.quote,
        "address": obs.address, "where": "keep", "waypoint": str(obs.waypoint_id or ""),
        "lat": "" if obs.lat is None else repr(obs.lat), "lon": "" if obs.lon is None else repr(obs.lon),
    })
    _observation_choices(form, obs.walk)
    return form


def _observation_page(obs: Observation, form: ObservationForm | None = None, errors=(), status: int = 200):
    walk = obs.walk
    _preload(walk)
    return render(
        "walks/admin/observation.html", walk=walk, obs=obs, form=form or _observation_form(obs), errors=list(errors),
        labels=labels, map_data=maps.build(walk, [obs], public=False), max_photos=services.MAX_PHOTOS,
        status=status,
    )


def _apply_location(obs: Observation, form: ObservationForm) -> None:
    where = form.where.data
    if where == "keep":
        return
    if where == "waypoint":
        point = next((w for w in obs.walk.waypoints if w.id == parse_int(form.waypoint.data)), None)
        if point is None:
            raise services.WalkError("unknown_waypoint")
        services.set_location(obs, point.lat, point.lon, LocationSource.waypoint)
        # The stop is part of the location (set_location only takes coordinates).
        obs.waypoint_id = point.id
    elif where == "coordinates":
        lat, lon = services.parse_position(form.lat.data, form.lon.data)
        if lat is None:
            raise services.WalkError("half_position")
        services.set_location(obs, lat, lon, LocationSource.map)
        obs.waypoint_id = None
    else:
        services.set_location(obs, None, None, LocationSource.none)
        obs.waypoint_id = None
    db.session.flush()


@admin_bp.route("/observations/<int:obs_id>", methods=["GET", "POST"], endpoint="observation")
@staff_required
def observation_view(obs_id):
    obs = _managed_observation(obs_id)
    if request.method == "GET":
        return _observation_page(obs)
    form = ObservationForm()
    _observation_choices(form, obs.walk)
    if not form.validate_on_submit():
        return _observation_page(obs, form, status=422)
    files = [f for f in form.photos.data or () if getattr(f, "filename", "")]
    try:
        photos = services.process_photos(files)  # before any write: a refused photo changes nothing
    except PhotoError as e:
        form.photos.errors = [*(form.photos.errors or []), e.message]
        return _observation_page(obs, form, status=422)
    try:
        if photos:  # first, so that text may be cleared from an observation that now has a photo
            services.add_photos(obs, [(p, form.caption.data or "") for p in photos])
        # a posted theme that is not a whole number becomes -1, which the service refuses
        theme_id = (parse_int(form.theme.data) or -1) if form.theme.data else None
        services.edit_observation(
            obs, theme_id=theme_id, rating=parse_int(form.rating.data), seen=form.seen.data or "",
            quote=form.quote.data or "", address=form.address.data or "",
        )
        _apply_location(obs, form)
    except services.WalkError as e:
        db.session.rollback()
        obs = db.session.get(Observation, obs_id)
        field = getattr(form, OBSERVATION_ERROR_FIELDS.get(e.code, ""), None)
        if field is None:
            return _observation_page(obs, form, errors=[labels.error_message(e)], status=422)
        field.errors = [*(field.errors or []), labels.error_message(e)]
        return _observation_page(obs, form, status=422)
    db.session.commit()
    flash(_("Observation %(number)s saved.", number=obs.number), "success")
    if photos:
        flash(_("Check the new photos before they are published."), "success")
    return redirect(url_for("walks_admin.observation", obs_id=obs.id))


# --- recommendations -----------------------------------------------------------------------


def _categories(walk: Walk) -> list:
    flat = [c for top in top_categories(walk.contract) for c in (top, *top.children)]
    preload(flat, current_locale())
    return flat


def _recommendation_form(walk: Walk, formdata=None) -> RecommendationForm:
    form = RecommendationForm(prefix="rec", formdata=formdata)
    institutions = followups.active_institutions(walk.contract_id)
    preload(institutions, current_locale())
    form.institution.choices = [SelectChoice("", _("(choose)"))] + [
        SelectChoice(str(i.id), str(tr(i, "name"))) for i in institutions
    ]
    form.category.choices = [SelectChoice("", _("(none)"))] + [
        SelectChoice(str(c.id), f"{c.code} {tr(c, 'name')}") for c in _categories(walk)
    ]
    form.observations.choices = _obs_choices(walk)
    return form


def _follow_up_form(walk: Walk, formdata=None) -> FollowUpWalkForm:
    return FollowUpWalkForm(prefix="follow", formdata=formdata)


def _recommendations_page(walk: Walk, *, form=None, follow_form=None, status: int = 200):
    items = [link.followup for link in walk.recommendations]
    form = form or _recommendation_form(walk)
    _preload(walk, *items, *(i.institution for i in items), *walk.follow_ups)
    return render(
        "walks/admin/recommendations.html",
        walk=walk,
        links=walk.recommendations,
        form=form,
        follow_form=follow_form or _follow_up_form(walk),
        can_follow_up=walk.status is not WalkStatus.planned,
        has_institutions=len(form.institution.choices) > 1,
        can_manage_institutions=followup_access.can_manage_institutions(current_user, walk.contract),
        defaults_form=ConfirmForm(formdata=None),
        overview_url=_overview(walk),
        today=date.today(),
        status=status,
    )


@admin_bp.route("/<int:walk_id>/recommendations", methods=["GET", "POST"], endpoint="recommendations")
@staff_required
def recommendations_view(walk_id):
    walk = _managed_walk(walk_id)
    if request.method == "GET":
        return _recommendations_page(walk)
    if request.form.get("action") == "defaults":
        # The contract has no institution yet: add the usual ones (city halls, métropole, State, CAF, bailleur).
        perm.ensure(followup_access.can_manage_institutions(current_user, walk.contract))
        if not ConfirmForm().validate_on_submit():
            abort(400)
        added = followups.ensure_default_institutions(walk.contract)
        db.session.commit()
        flash(ngettext("%(num)d institution added.", "%(num)d institutions added.", len(added)) if added
              else _("The usual institutions were already on the list."), "success")
        return redirect(url_for("walks_admin.recommendations", walk_id=walk.id, _anchor="new-recommendation"))
    form = _recommendation_form(walk, request.form)
    if not form.validate_on_submit():
        return _recommendations_page(walk, form=form, status=422)
    if form.due_on.data < date.today():
        form.due_on.errors = [_("Choose today or a later date.")]
        return _recommendations_page(walk, form=form, status=422)
    institution = db.session.get(Institution, parse_int(form.institution.data))
    if institution is None or institution.contract_id != walk.contract_id or not institution.active:
        form.institution.errors = [_("Choose an institution of the list.")]
        return _recommendations_page(walk, form=form, status=422)
    category_id = parse_int(form.category.data)
    if form.category.data and category_id not in {c.id for c in _categories(walk)}:
        form.category.errors = [_("Choose a défi or an orientation from the list.")]
        return _recommendations_page(walk, form=form, status=422)
    try:
        link = services.add_recommendation(
            walk, form.title.data, body=form.body.data or "", institution=institution, due_on=form.due_on.data,
            observation_ids=_ids(form.observations.data), category_id=category_id, user=current_user,
        )
    except services.WalkError as e:
        db.session.rollback()
        target = form.observations if e.code == "observation_elsewhere" else form.title
        target.errors = [*(target.errors or []), labels.error_message(e)]
        return _recommendations_page(db.session.get(Walk, walk_id), form=form, status=422)
    db.session.commit()
    flash(_("Recommendation saved as a draft. Send it to the institution from its follow-up page."), "success")
    return redirect(url_for("walks_admin.recommendation", followup_id=link.followup_id))


def _recommendation_page(link: Recommendation, form: LinksForm | None = None, status: int = 200):
    walk = link.walk
    item = link.followup
    if form is None:
        form = LinksForm(formdata=None, data={"observations": [str(o.id) for o in link.observations]})
        form.observations.choices = _obs_choices(walk)
    _preload(walk, item, item.institution)
    return render(
        "walks/admin/recommendation.html", walk=walk, link=link, item=item, form=form, labels=labels,
        overview_url=_overview(walk), today=date.today(), status=status,
    )


@admin_bp.route("/recommendations/<int:followup_id>", methods=["GET", "POST"], endpoint="recommendation")
@staff_required
def recommendation_view(followup_id):
    """A recommendation of the walk: the observations it answers (editable) and where its
    follow-up stands; the steps themselves are recorded on the shared follow-up page."""
    link = _managed_recommendation(followup_id)
    if request.method == "GET":
        return _recommendation_page(link)
    form = LinksForm()
    form.observations.choices = _obs_choices(link.walk)
    if form.validate_on_submit():
        try:
            services.link_observations(link, _ids(form.observations.data))
        except services.WalkError as e:
            db.session.rollback()
            form.observations.errors = [labels.error_message(e)]
        else:
            db.session.commit()
            flash(_("The observations of this recommendation are saved."), "success")
            return redirect(url_for("walks_admin.recommendation", followup_id=followup_id))
    return _recommendation_page(db.session.get(Recommendation, followup_id), form, status=422)


# --- follow-up walks -----------------------------------------------------------------------


@admin_bp.post("/<int:walk_id>/follow-up")
@staff_required
def follow_up(walk_id):
    """Plan a follow-up walk: the same route and grid, to check each point of this one."""
    walk = _managed_walk(walk_id)
    form = _follow_up_form(walk, request.form)
    if form.validate_on_submit():
        if walk.status is WalkStatus.planned:
            form.walked_on.errors = [labels.error_message(services.WalkError("not_walked"))]
        elif form.walked_on.data < walk.walked_on:
            form.walked_on.errors = [_("A follow-up walk takes place after the walk it follows.")]
        else:
            new = services.create_follow_up(walk, form.walked_on.data, form.title.data, user=current_user)
            db.session.commit()
            flash(_("Follow-up walk planned. Prepare it, then record at each point what has changed."), "success")
            return redirect(walk_review_url("walks_admin.walk", walk_id=new.id)
                            or url_for("walks_admin.points", walk_id=new.id))
    return _recommendations_page(walk, follow_form=form, status=422)


def _point_form(review, walk: Walk) -> PointForm:
    check = review.check
    data = {} if check is None else {
        "outcome": check.outcome.value, "note": check.note,
        "new_observation": str(check.new_observation_id or ""),
    }
    form = PointForm(prefix=f"p{review.observation.id}", formdata=None, data=data)
    form.new_observation.choices = [SelectChoice("", _("(none)"))] + _obs_choices(walk)
    return form


def _points_page(walk: Walk, *, failed: tuple[int, PointForm] | None = None, errors=(), status: int = 200):
    if walk.follows is None:
        # A walk that follows no other has no points to check: say so (and answer 404).
        _preload(walk)
        return render("walks/admin/points.html", walk=walk, original=None, reviews=[], forms={}, errors=[],
                      overview_url=_overview(walk), status=404)
    original = walk.follows
    # Someone who runs only the follow-up walk sees the original's public points, not its
    # unchecked quotes and photos.
    full = access.can_manage(current_user, original)
    reviews = services.point_reviews(walk, public_only=not full)
    _preload(original, *(f for r in reviews for f in r.recommendations))
    _preload(walk)
    forms = {r.observation.id: _point_form(r, walk) for r in reviews}
    if failed is not None and failed[0] in forms:
        forms[failed[0]] = failed[1]
    checked = sum(1 for r in reviews if r.check is not None and r.check.outcome is not PointOutcome.not_checked)
    return render(
        "walks/admin/points.html", walk=walk, original=original, reviews=reviews, forms=forms, errors=list(errors),
        checked=checked, labels=labels, map_data=maps.build(original, [r.observation for r in reviews], public=not full),
        overview_url=_overview(walk), original_url=_overview(original), today=date.today(), status=status,
    )


@admin_bp.get("/<int:walk_id>/points")
@staff_required
def points(walk_id):
    """Each point of the walk this one follows up, with what the group found there."""
    return _points_page(_managed_walk(walk_id))


@admin_bp.post("/<int:walk_id>/points/<int:obs_id>")
@staff_required
def point(walk_id, obs_id):
    walk = _managed_walk(walk_id)
    if walk.follows is None:
        return _points_page(walk)
    observation = db.get_or_404(Observation, obs_id)
    review = next((r for r in services.point_reviews(walk) if r.observation.id == obs_id), None)
    form = PointForm(prefix=f"p{obs_id}")
    form.new_observation.choices = [SelectChoice("", _("(none)"))] + _obs_choices(walk)
    if not form.validate_on_submit():
        return _points_page(walk, failed=(obs_id, form), status=422)
    new_observation = None
    if form.new_observation.data:
        new_observation = db.session.get(Observation, parse_int(form.new_observation.data) or -1)
        if new_observation is None:
            form.new_observation.errors = [labels.error_message(services.WalkError("observation_elsewhere"))]
            return _points_page(walk, failed=(obs_id, form), status=422)
    try:
        services.check_point(walk, observation, PointOutcome(form.outcome.data), form.note.data or "",
                             new_observation)
    except services.WalkError as e:
        db.session.rollback()
        walk = db.session.get(Walk, walk_id)
        if review is None:  # a point that is not one of this walk's: nothing on the page to attach it to
            return _points_page(walk, errors=[labels.error_message(e)], status=422)
        form.new_observation.errors = [labels.error_message(e)]
        return _points_page(walk, failed=(obs_id, form), status=422)
    db.session.commit()
    flash(_("Point %(number)s: %(outcome)s.", number=observation.number,
            outcome=labels.POINT_OUTCOMES[PointOutcome(form.outcome.data)]), "success")
    return redirect(url_for("walks_admin.points", walk_id=walk.id, _anchor=f"p{observation.number}"))
