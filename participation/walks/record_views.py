"""Recording observations during a walk: the same one-screen form for participants' phones
(walks.record, with the key of the walk's QR code, no account) and for staff on a tablet
(walks_admin.record, access.can_record).

The form is built to be sent again unchanged (a retry on a poor connection, later the
field-mode outbox): the server puts a fresh random `client_id` in every form it serves, and
`services.record_observation` turns the same submission twice into one observation."""
from __future__ import annotations

import hmac

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from ..core import permissions as perm
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.photos import PhotoError
from ..extensions import db, limiter
from . import access, labels, maps, record_forms, services
from .models import Observation, Walk, WalkStatus
from .views import admin_bp, bp

#: Observations recorded from this browser, per walk, kept in the signed session cookie: a
#: participant sees the ones they sent, never other walkers' words (the QR is shared).
SESSION_KEY = "walk_recorded"
KEPT_PER_WALK = 30
KEPT_WALKS = 3
#: Text of an observation shown in the list under the form.
EXCERPT = 80


def safe_url(endpoint: str, **values) -> str | None:
    """A link to a page another part provides, or None while it does not exist."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


# --- this browser's observations ---------------------------------------------------------


def _mine(walk: Walk) -> list[int]:
    kept = session.get(SESSION_KEY)
    ids = kept.get(str(walk.id), []) if isinstance(kept, dict) else []
    return [i for i in ids if isinstance(i, int)]


def _remember(walk: Walk, obs: Observation) -> None:
    kept = session.get(SESSION_KEY)
    kept = dict(kept) if isinstance(kept, dict) else {}
    ids = [i for i in kept.pop(str(walk.id), []) if isinstance(i, int) and i != obs.id]
    kept[str(walk.id)] = [*ids, obs.id][-KEPT_PER_WALK:]
    # The walk just used goes last; the oldest walks are forgotten.
    session[SESSION_KEY] = dict(list(kept.items())[-KEPT_WALKS:])


# --- the page ------------------------------------------------------------------------------


def _count(walk: Walk) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Observation).where(Observation.walk_id == walk.id)
    )


def _page(walk: Walk, *, staff: bool, key: str | None = None, answers: record_forms.RecordAnswers | None = None,
          error: str | None = None, photos_lost: bool = False, status: int = 200):
    fresh = answers is None
    answers = answers or record_forms.blank()
    if staff:
        listed = list(reversed(walk.observations))
    else:
        mine = set(_mine(walk))
        listed = [o for o in reversed(walk.observations) if o.id in mine]
    # The map shows only the points listed under it (the list is its text alternative), and its
    # frame is built from them, the route and its stops: its bounds say nothing of the others.
    walk_map = maps.build(walk, listed, public=False)
    preload([walk, *walk.themes, *walk.waypoints, *listed], current_locale())
    action = (url_for("walks_admin.record", walk_id=walk.id) if staff
              else url_for("walks.record", walk_id=walk.id, key=key))
    return render(
        "walks/record/record.html", walk=walk, staff=staff, action=action, answers=answers, fresh=fresh,
        error=error, photos_lost=photos_lost, record_map=walk_map, listed=listed, total=_count(walk),
        ratings=labels.RATINGS, max_photos=services.MAX_PHOTOS, photo_side=services.PHOTO_SIDE,
        max_seen=record_forms.MAX_SEEN, max_quote=record_forms.MAX_QUOTE,
        # The page's script warns before sending photos heavier than the server accepts.
        max_request=current_app.config.get("MAX_CONTENT_LENGTH"),
        back_url=safe_url("walks_admin.walk", walk_id=walk.id) if staff else None,
        observation_url=(lambda o: safe_url("walks_admin.observation", obs_id=o.id)) if staff else (lambda o: None),
        status=status,
    )


def _closed(walk: Walk, *, staff: bool, code: str):
    preload([walk], current_locale())
    return render("walks/record/closed.html", walk=walk, staff=staff,
                  message=labels.error_message(services.WalkError(code)),
                  back_url=safe_url("walks_admin.walk", walk_id=walk.id) if staff else None,
                  walk_url=safe_url("walks.walk", walk_id=walk.id), status=409)


def _refusal(walk: Walk, *, with_key: bool) -> str | None:
    """Why nobody may record on this walk now (None: recording is possible)."""
    if walk.status is WalkStatus.published:
        return "walk_published"
    if with_key and not walk.recording_open:
        return "recording_closed"
    return None


def _record(walk: Walk, *, staff: bool, key: str | None = None):
    """GET: the form. POST: record, then back to an empty form (post/redirect/get)."""
    refusal = _refusal(walk, with_key=not staff)
    if refusal:
        return _closed(walk, staff=staff, code=refusal)
    if request.method == "GET":
        return _page(walk, staff=staff, key=key)
    answers = record_forms.parse_observation(request.form, walk, current_locale())
    pairs = record_forms.photo_pairs(request.files, request.form)
    if answers.problems:
        return _page(walk, staff=staff, key=key, answers=answers, photos_lost=bool(pairs), status=422)
    if len(pairs) > services.MAX_PHOTOS:
        return _page(walk, staff=staff, key=key, answers=answers, photos_lost=True, status=422,
                     error=labels.error_message(services.WalkError("too_many_photos", max=services.MAX_PHOTOS)))
    photos = []
    for number, (upload, caption) in enumerate(pairs, start=1):
        try:
            photos.append((services.process_photos([upload])[0], caption))
        except PhotoError as e:
            return _page(walk, staff=staff, key=key, answers=answers, photos_lost=True, status=422,
                         error=_("Photo %(number)s: %(problem)s", number=number, problem=e.message))
    try:
        obs, _created = services.record_observation(
            walk, answers.data, photos, user=current_user if staff else None, with_key=not staff)
    except services.WalkError as e:
        db.session.rollback()
        if e.code in ("walk_published", "recording_closed"):
            return _closed(walk, staff=staff, code=e.code)
        if e.code == "client_id_reused":
            # A fresh id in the form shown again: pressing "Send" records it as a new observation.
            answers.raw["client_id"] = record_forms.new_client_id()
            return _page(walk, staff=staff, key=key, answers=answers, photos_lost=bool(pairs), status=409,
                         error=labels.error_message(e))
        if e.code == "empty_observation":  # shown at the field to fill
            answers.problems["seen"] = labels.error_message(e)
            return _page(walk, staff=staff, key=key, answers=answers, status=422)
        return _page(walk, staff=staff, key=key, answers=answers, photos_lost=bool(pairs), status=422,
                     error=labels.error_message(e))
    number = obs.number
    db.session.commit()
    if not staff:
        _remember(walk, obs)
    # A retry of a submission already recorded gets the same answer: nothing was lost, nothing doubled.
    flash(_("Observation no. %(number)s recorded.", number=number), "success")
    target = (url_for("walks_admin.record", walk_id=walk.id) if staff
              else url_for("walks.record", walk_id=walk.id, key=key))
    return redirect(target, code=303)


@bp.route("/w/<int:walk_id>/record/<key>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["WALK_RECORD_POST_LIMIT"], methods=["POST"])
@perm.public
def record(walk_id, key):
    """The walk's QR code: walkers record what they see from their own phones, no account."""
    walk = db.session.get(Walk, walk_id)
    if walk is None or not hmac.compare_digest(walk.record_key.encode(), str(key).encode()):
        abort(404)
    return _record(walk, staff=False, key=key)


@admin_bp.route("/<int:walk_id>/record", methods=["GET", "POST"], endpoint="record")
@perm.staff_required
def record_staff(walk_id):
    """The facilitator's tablet: the same form; the observation remembers who keyed it in."""
    walk = db.get_or_404(Walk, walk_id)
    perm.ensure(access.can_record(current_user, walk))
    return _record(walk, staff=True)
