"""Exploratory walks: preparing a walk (grid, route, walkers' profile), recording observations
(idempotent: the same form sent twice is one observation), moderating them, writing
recommendations (followed in `followup`), publishing the report, and follow-up walks.

Services take domain objects, enforce the rules, flush and never commit (the request commits
once). A broken rule raises `WalkError`, whose `code` names a translated message
(`labels.error_message`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from ..core.channels import Channel
from ..core.content_i18n import ContentTranslation, set_translation
from ..core.profiles import AgeBand, Gender
from ..core.users import User
from ..extensions import db
from ..followup import services as followups
from ..followup.models import FollowUp, Institution, Kind
from .models import (
    LocationSource,
    Moderation,
    Observation,
    ObservationPhoto,
    PointCheck,
    PointOutcome,
    Recommendation,
    Walk,
    WalkProfileCount,
    WalkStatus,
    WalkTheme,
    Waypoint,
)

#: Photos per observation.
MAX_PHOTOS = 4
#: Longest side of a stored photo (pixels): enough for a report, light on a phone's data plan.
PHOTO_SIDE = 1600
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class WalkError(ValueError):
    """A request that breaks a rule; `code` names it for a translated message."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


# --- photos ----------------------------------------------------------------------------


def photo_store():
    """Walk photos live in a private store of their own (never under UPLOAD_DIR, which a front
    server may serve as static files): the public sees a photo only through `public.photo`,
    once it has been checked."""
    from ..core.photos import PhotoStore

    config = current_app.config
    private = config.get("PRIVATE_UPLOAD_DIR") or f"{config['UPLOAD_DIR'].rstrip('/')}-private"
    return PhotoStore(f"{private.rstrip('/')}-walks")


def process_photos(files) -> list:
    """Check and re-encode uploads (EXIF stripped, resized); PhotoError on a bad one."""
    from ..core.photos import process_photo

    return [process_photo(f, max_bytes=current_app.config["MAX_PHOTO_BYTES"], max_side=PHOTO_SIDE) for f in files]


# --- walks -----------------------------------------------------------------------------


def create_walk(neighbourhood, title: str, walked_on: date, *, locale: str = "fr", user: User | None = None,
                **fields) -> Walk:
    """A planned walk in one neighbourhood, with the default observation grid."""
    if not title.strip():
        raise WalkError("no_title")
    walk = Walk(
        contract_id=neighbourhood.commune.contract_id, commune_id=neighbourhood.commune_id,
        neighbourhood_id=neighbourhood.id, title=title.strip(), walked_on=walked_on, original_locale=locale,
    )
    for key, value in fields.items():
        setattr(walk, key, value.strip() if isinstance(value, str) else value)
    db.session.add(walk)
    if user is not None and user.is_authenticated and not user.is_superadmin:
        walk.facilitators.append(user)
    db.session.flush()
    add_default_themes(walk)
    return walk


def add_default_themes(walk: Walk) -> list[WalkTheme]:
    """The default grid, in the walk's language, translated into every shipped language."""
    from .labels import DEFAULT_THEMES

    present = {t.code for t in walk.themes}
    names = {t.name.casefold() for t in walk.themes}
    added = []
    for code, name, prompts in DEFAULT_THEMES:
        if code in present:
            continue
        with force_locale(walk.original_locale):
            if str(name).casefold() in names:  # the group has its own theme of that name
                continue
            theme = WalkTheme(code=code, name=str(name), prompts=str(prompts), position=len(walk.themes),
                              original_locale=walk.original_locale)
        walk.themes.append(theme)
        added.append((theme, name, prompts))
    db.session.flush()
    # New themes have no translation yet: insert them in one go (not a lookup per text).
    rows = []
    for locale in current_app.config["LANGUAGES"]:
        if locale == walk.original_locale:
            continue
        with force_locale(locale):
            for theme, name, prompts in added:
                rows += [{"entity_type": WalkTheme.__tablename__, "entity_id": theme.id, "field": field,
                          "locale": locale, "text": str(text)} for field, text in (("name", name), ("prompts", prompts))]
    if rows:
        db.session.execute(sa.insert(ContentTranslation), rows)
    return [t for t, _n, _p in added]


def update_walk(walk: Walk, **fields) -> None:
    if "title" in fields and not (fields["title"] or "").strip():
        raise WalkError("no_title")
    for key, value in fields.items():
        setattr(walk, key, value.strip() if isinstance(value, str) else value)
    db.session.flush()


def set_facilitators(walk: Walk, users: list[User]) -> None:
    for u in users:
        if not u.is_superadmin and not any(g.contract_id == walk.contract_id for g in u.grants):
            raise WalkError("facilitator_elsewhere")
    walk.facilitators = list(users)
    db.session.flush()


def set_profile(walk: Walk, participants: int | None, counts: dict[tuple[str, str], int]) -> None:
    """The walkers' count and anonymous profile (per age band, per gender). A breakdown that
    adds up to more than the total is refused."""
    valid = {("age_band", a.value) for a in AgeBand} | {("gender", g.value) for g in Gender}
    if participants is not None and participants < 0:
        raise WalkError("negative")
    for key, n in counts.items():
        if key not in valid:
            raise ValueError(f"unknown profile value {key}")
        if n is not None and n < 0:
            raise WalkError("negative")
    for dimension in ("age_band", "gender"):
        total = sum(n or 0 for (d, _v), n in counts.items() if d == dimension)
        if participants is not None and total > participants:
            raise WalkError("too_many_participants")
    walk.participants = participants
    walk.profile_counts = [
        WalkProfileCount(walk_id=walk.id, dimension=d, value=v, count=n) for (d, v), n in sorted(counts.items()) if n
    ]
    db.session.flush()


def set_status(walk: Walk, status: WalkStatus, today: date | None = None) -> None:
    """planned ⇄ walked → published (needs at least one public observation) → back to walked."""
    if walk.status is WalkStatus.published and status is WalkStatus.planned:
        raise WalkError("report_published")
    if status is WalkStatus.published:
        if walk.status is WalkStatus.planned:
            raise WalkError("not_walked")
        if not any(o.moderation is Moderation.published for o in walk.observations):
            raise WalkError("nothing_to_publish")
        walk.published_on = walk.published_on or today or date.today()
    walk.status = status
    db.session.flush()


# --- grid ------------------------------------------------------------------------------


def add_theme(walk: Walk, name: str, prompts: str = "") -> WalkTheme:
    name = name.strip()
    if not name:
        raise WalkError("no_theme_name")
    if any(t.name.casefold() == name.casefold() for t in walk.themes):
        raise WalkError("theme_exists")
    theme = WalkTheme(name=name, prompts=prompts.strip(), position=len(walk.themes),
                      original_locale=walk.original_locale)
    walk.themes.append(theme)
    db.session.flush()
    return theme


def update_theme(theme: WalkTheme, name: str, prompts: str) -> None:
    name = name.strip()
    if not name:
        raise WalkError("no_theme_name")
    if any(t.id != theme.id and t.name.casefold() == name.casefold() for t in theme.walk.themes):
        raise WalkError("theme_exists")
    # A renamed theme is the group's own: the default grid's translations and code no longer
    # describe it (they would show "Lighting" in Arabic for a theme now called "Bruit").
    changed = [f for f, new in (("name", name), ("prompts", prompts.strip())) if getattr(theme, f) != new]
    if "name" in changed:
        theme.code = ""
    for field in changed:
        for locale in current_app.config["LANGUAGES"]:
            set_translation(theme, field, locale, "")
    theme.name, theme.prompts = name, prompts.strip()
    db.session.flush()


def remove_theme(theme: WalkTheme) -> None:
    used = db.session.scalar(sa.select(sa.func.count()).select_from(Observation).where(Observation.theme_id == theme.id))
    if used:
        raise WalkError("theme_in_use")
    walk = theme.walk
    walk.themes.remove(theme)
    _renumber(walk.themes)
    db.session.flush()


def _renumber(items) -> None:
    for i, item in enumerate(items):
        item.position = i


def move(items: list, item, delta: int) -> None:
    """Move a theme or a waypoint up (-1) or down (+1) in its list."""
    ordered = sorted(items, key=lambda x: x.position)
    i = ordered.index(item)
    j = max(0, min(len(ordered) - 1, i + delta))
    ordered.insert(j, ordered.pop(i))
    _renumber(ordered)
    db.session.flush()


# --- route -----------------------------------------------------------------------------


def parse_position(lat, lon) -> tuple[float, float] | tuple[None, None]:
    """Two form fields (decimal point or comma) → (lat, lon), or (None, None) when both are
    empty. WalkError when only one is given or they are not on Earth."""
    lat_s, lon_s = (str(x if x is not None else "").strip().replace(",", ".") for x in (lat, lon))
    if not lat_s and not lon_s:
        return None, None
    if not lat_s or not lon_s:
        raise WalkError("half_position")
    try:
        la, lo = float(lat_s), float(lon_s)
    except ValueError:
        raise WalkError("bad_position") from None
    if not (-90 <= la <= 90 and -180 <= lo <= 180) or la != la or lo != lo:
        raise WalkError("bad_position")
    return round(la, 6), round(lo, 6)


def add_waypoint(walk: Walk, label: str, lat: float | None = None, lon: float | None = None) -> Waypoint:
    if not label.strip():
        raise WalkError("no_label")
    point = Waypoint(label=label.strip(), lat=lat, lon=lon, position=len(walk.waypoints),
                     original_locale=walk.original_locale)
    walk.waypoints.append(point)
    db.session.flush()
    return point


def update_waypoint(point: Waypoint, label: str, lat: float | None, lon: float | None) -> None:
    if not label.strip():
        raise WalkError("no_label")
    point.label, point.lat, point.lon = label.strip(), lat, lon
    db.session.flush()


def remove_waypoint(point: Waypoint) -> None:
    """Remove a stop; observations made there keep its name as their address."""
    for obs in point.walk.observations:
        if obs.waypoint_id == point.id:
            obs.waypoint_id = None
            obs.address = obs.address or point.label[:300]
            if obs.lat is None:
                obs.location_source = LocationSource.address
    walk = point.walk
    walk.waypoints.remove(point)
    _renumber(walk.waypoints)
    db.session.flush()


# --- observations ----------------------------------------------------------------------


@dataclass
class ObservationInput:
    """What a recording form sends (already parsed)."""

    client_id: str
    theme_id: int | None = None
    rating: int | None = None
    seen: str = ""
    quote: str = ""
    lat: float | None = None
    lon: float | None = None
    accuracy_m: int | None = None
    location_source: LocationSource = LocationSource.none
    address: str = ""
    waypoint_id: int | None = None
    channel: Channel = Channel.web
    locale: str = "fr"


def _check(walk: Walk, data: ObservationInput) -> None:
    if not CLIENT_ID_RE.match(data.client_id or ""):
        raise WalkError("bad_client_id")
    if data.theme_id is not None and data.theme_id not in {t.id for t in walk.themes}:
        raise WalkError("unknown_theme")
    if data.waypoint_id is not None and data.waypoint_id not in {w.id for w in walk.waypoints}:
        raise WalkError("unknown_waypoint")
    if data.rating is not None and data.rating not in range(1, 6):
        raise WalkError("bad_rating")
    if (data.lat is None) != (data.lon is None):
        raise WalkError("half_position")
    if data.lat is not None and not (-90 <= data.lat <= 90 and -180 <= data.lon <= 180):
        raise WalkError("bad_position")


def _same(obs: Observation, data: ObservationInput, shas: list[str]) -> bool:
    """Is a stored observation what this submission says (a retry), or something else?"""
    if data.lat is None and data.waypoint_id is not None and obs.location_source is not LocationSource.gps:
        # Placed at a stop: the stored position is the stop's, copied when it was recorded.
        data = ObservationInput(**{**data.__dict__, "lat": obs.lat, "lon": obs.lon})
    return (
        obs.theme_id == data.theme_id and obs.rating == data.rating and obs.seen == data.seen.strip()
        and obs.quote == data.quote.strip() and obs.address == data.address.strip()
        and obs.waypoint_id == data.waypoint_id
        and _close(obs.lat, data.lat) and _close(obs.lon, data.lon)
        and sorted(p.sha for p in obs.photos) == sorted(set(shas))
    )


def _close(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-6)


def record_observation(walk: Walk, data: ObservationInput, photos: list = (), *, user: User | None = None,
                       with_key: bool = False) -> tuple[Observation, bool]:
    """Record one observation; returns (observation, created).

    The form's `client_id` makes it idempotent: the same submission again returns the
    observation already recorded (created False); the same id with other content is refused
    (`client_id_reused`), never merged. Photos are processed already (`process_photos`)."""
    if walk.status is WalkStatus.published:
        raise WalkError("walk_published")
    if with_key and not walk.recording_open:
        raise WalkError("recording_closed")
    _check(walk, data)
    if len(photos) > MAX_PHOTOS:
        raise WalkError("too_many_photos", max=MAX_PHOTOS)
    pairs = [(p, (c or "").strip()[:300]) for p, c in photos]
    shas = [p.sha256 for p, _c in pairs]
    existing = _by_client_id(walk, data.client_id)
    if existing is not None:
        if _same(existing, data, shas):
            return existing, False
        raise WalkError("client_id_reused")
    if not data.seen.strip() and not pairs:
        raise WalkError("empty_observation")
    if data.lat is not None:
        lat, lon = round(data.lat, 6), round(data.lon, 6)
    elif data.waypoint_id is not None:
        point = next(w for w in walk.waypoints if w.id == data.waypoint_id)
        lat, lon = point.lat, point.lon
    else:
        lat = lon = None
    store = photo_store()
    for photo, _c in pairs:
        store.save(photo)
    obs = Observation(
        walk_id=walk.id, theme_id=data.theme_id, rating=data.rating, seen=data.seen.strip(),
        quote=data.quote.strip(), lat=lat, lon=lon, accuracy_m=data.accuracy_m if data.lat is not None else None,
        location_source=data.location_source, address=data.address.strip()[:300], waypoint_id=data.waypoint_id,
        channel=data.channel, client_id=data.client_id, original_locale=data.locale,
        recorded_by_id=user.id if user is not None and user.is_authenticated else None,
        moderation=Moderation.pending,
    )
    seen_shas = set()
    for photo, caption in pairs:
        if photo.sha256 not in seen_shas:
            seen_shas.add(photo.sha256)
            obs.photos.append(ObservationPhoto(sha=photo.sha256, caption=caption, width=photo.width,
                                               height=photo.height))
    try:
        with db.session.begin_nested():
            # The walk's counter gives the number: one UPDATE, so two phones at once get two
            # numbers (the second waits for the first), and a deleted number is never reused.
            obs.number = db.session.execute(
                sa.update(Walk).where(Walk.id == walk.id).values(last_number=Walk.last_number + 1)
                .returning(Walk.last_number)
            ).scalar_one()
            db.session.add(obs)
            db.session.flush()
    except sa.exc.IntegrityError:
        # The same form, sent twice at once: the first one won.
        existing = _by_client_id(walk, data.client_id)
        if existing is not None and _same(existing, data, shas):
            return existing, False
        raise WalkError("client_id_reused" if existing is not None else "busy") from None
    return obs, True


def _by_client_id(walk: Walk, client_id: str) -> Observation | None:
    return db.session.scalar(sa.select(Observation).where(Observation.walk_id == walk.id,
                                                          Observation.client_id == client_id))


def edit_observation(obs: Observation, *, theme_id: int | None, rating: int | None, seen: str, quote: str,
                     address: str) -> None:
    data = ObservationInput(client_id=obs.client_id, theme_id=theme_id, rating=rating, seen=seen, quote=quote,
                            lat=obs.lat, lon=obs.lon, waypoint_id=obs.waypoint_id)
    _check(obs.walk, data)
    if not seen.strip() and not obs.photos:
        raise WalkError("empty_observation")
    obs.theme_id, obs.rating, obs.seen, obs.quote = theme_id, rating, seen.strip(), quote.strip()
    obs.address = address.strip()[:300]
    db.session.flush()


def set_location(obs: Observation, lat: float | None, lon: float | None, source: LocationSource) -> None:
    if (lat is None) != (lon is None):
        raise WalkError("half_position")
    obs.lat, obs.lon = lat, lon
    obs.location_source = source if lat is not None else LocationSource.none
    obs.accuracy_m = None
    db.session.flush()


def add_photos(obs: Observation, photos: list) -> list[ObservationPhoto]:
    if len(obs.photos) + len(photos) > MAX_PHOTOS:
        raise WalkError("too_many_photos", max=MAX_PHOTOS)
    store = photo_store()
    added = []
    present = {p.sha for p in obs.photos}
    for photo, caption in photos:
        if photo.sha256 in present:
            continue
        store.save(photo)
        present.add(photo.sha256)
        row = ObservationPhoto(sha=photo.sha256, caption=(caption or "").strip()[:300], width=photo.width,
                               height=photo.height)
        obs.photos.append(row)
        added.append(row)
    db.session.flush()
    return added


def moderate_observation(obs: Observation, moderation: Moderation) -> None:
    obs.moderation = moderation
    db.session.flush()


def moderate_photo(photo: ObservationPhoto, moderation: Moderation, caption: str | None = None) -> None:
    photo.moderation = moderation
    if caption is not None:
        photo.caption = caption.strip()[:300]
    db.session.flush()


def remove_observation(obs: Observation) -> None:
    """Delete an observation (spam, a duplicate typed twice); its number is not reused."""
    db.session.delete(obs)
    db.session.flush()


def is_public(obs: Observation) -> bool:
    return obs.moderation is Moderation.published


def public_photos(obs: Observation) -> list[ObservationPhoto]:
    return [p for p in obs.photos if p.moderation is Moderation.published]


# --- recommendations -------------------------------------------------------------------


def add_recommendation(walk: Walk, title: str, *, body: str = "", institution: Institution | None = None,
                       due_on: date | None = None, observation_ids: list[int] = (), category_id: int | None = None,
                       user: User | None = None) -> Recommendation:
    """A recommendation of the walk, addressed to a responsible body with a due date: a draft
    `FollowUp` of kind recommendation, linked to the observations it answers."""
    if not title.strip():
        raise WalkError("no_recommendation_title")
    observations = _observations_of(walk, observation_ids)
    item = followups.create(Kind.recommendation, walk.scope, title, body=body, institution=institution,
                            category_id=category_id, original_locale=walk.original_locale, user=user)
    item.action_due_on = due_on
    link = Recommendation(followup_id=item.id, walk_id=walk.id)
    link.followup = item
    link.observations = observations
    walk.recommendations.append(link)
    db.session.flush()
    return link


def link_observations(link: Recommendation, observation_ids: list[int]) -> None:
    link.observations = _observations_of(link.walk, observation_ids)
    db.session.flush()


def _observations_of(walk: Walk, ids) -> list[Observation]:
    ids = {int(i) for i in ids}
    found = [o for o in walk.observations if o.id in ids]
    if len(found) != len(ids):
        raise WalkError("observation_elsewhere")
    return found


def recommendations_for(observation: Observation) -> list[FollowUp]:
    from .models import recommendation_observations as ro

    return list(db.session.scalars(
        sa.select(FollowUp).join(ro, ro.c.followup_id == FollowUp.id).where(ro.c.observation_id == observation.id)
        .order_by(FollowUp.id)
    ))


# --- follow-up walks -------------------------------------------------------------------


def create_follow_up(original: Walk, walked_on: date, title: str | None = None, *, user: User | None = None) -> Walk:
    """A new walk on the same route and grid, linked to `original`, to check each point."""
    walk = Walk(
        contract_id=original.contract_id, commune_id=original.commune_id, neighbourhood_id=original.neighbourhood_id,
        title=(title or "").strip() or original.title, walked_on=walked_on, time_of_day=original.time_of_day,
        group_type=original.group_type, meeting_point=original.meeting_point, follows_id=original.id,
        route_line=list(original.route_line or []), original_locale=original.original_locale,
    )
    db.session.add(walk)
    walk.facilitators = list(original.facilitators)
    if user is not None and user.is_authenticated and not user.is_superadmin and user not in walk.facilitators:
        walk.facilitators.append(user)
    for theme in original.themes:
        walk.themes.append(WalkTheme(code=theme.code, name=theme.name, prompts=theme.prompts, position=theme.position,
                                     original_locale=theme.original_locale))
    for point in original.waypoints:
        walk.waypoints.append(Waypoint(label=point.label, lat=point.lat, lon=point.lon, position=point.position,
                                       original_locale=point.original_locale))
    db.session.flush()
    from ..core.content_i18n import translations_of

    for source, copy in [*zip(original.themes, walk.themes), *zip(original.waypoints, walk.waypoints)]:
        for (field, locale), text in translations_of(source).items():
            set_translation(copy, field, locale, text)
    return walk


def check_point(walk: Walk, observation: Observation, outcome: PointOutcome, note: str = "",
                new_observation: Observation | None = None) -> PointCheck:
    """What the follow-up walk found at a point of the walk it follows (one per point)."""
    if walk.follows_id is None:
        raise WalkError("not_a_follow_up")
    if observation.walk_id != walk.follows_id:
        raise WalkError("observation_elsewhere")
    if new_observation is not None and new_observation.walk_id != walk.id:
        raise WalkError("observation_elsewhere")
    check = db.session.get(PointCheck, (walk.id, observation.id))
    if check is None:
        check = PointCheck(walk_id=walk.id, observation_id=observation.id, outcome=outcome)
        walk.point_checks.append(check)
    check.outcome, check.note = outcome, note.strip()
    check.new_observation_id = new_observation.id if new_observation is not None else None
    db.session.flush()
    return check


@dataclass
class PointReview:
    """One point of the original walk, seen from its follow-up walk."""

    observation: Observation
    recommendations: list[FollowUp]
    check: PointCheck | None


def point_reviews(walk: Walk, *, public_only: bool = False) -> list[PointReview]:
    """Point by point, what the follow-up walk found (and where each recommendation stands)."""
    if walk.follows is None:
        return []
    checks = {c.observation_id: c for c in walk.point_checks}
    points = [o for o in walk.follows.observations if not public_only or is_public(o)]
    return [PointReview(o, recommendations_for(o), checks.get(o.id)) for o in points]
