"""Exports of exploratory walks: observations and actions (recommendations sent to an
institution), as CSV (`core.exports`: formula-safe, BOM, translated headers) and GeoJSON
(RFC 7946: a FeatureCollection, positions as [longitude, latitude]).

Public exports hold what the public pages show: published observations only, positions
coarsened (`geo.coarsen`, about 100 m), no form id, no staff account, no address typed in the
field. The staff export of one walk (`public=False`) gives exact positions and every
observation with its moderation state.

The filters of the public list of observations (theme, neighbourhood, walk) are parsed here
from a query string, so that the page and its downloads always agree.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from ..core.content_i18n import preload
from ..core.exports import to_csv
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.templating import tr
from ..core.territories import Commune, Contract, Neighbourhood
from ..extensions import db
from ..followup import services as followups
from ..followup.labels import STATUSES
from ..followup.models import FollowUp, Status
from . import labels
from .geo import coarsen
from .models import Moderation, Observation, Recommendation, Walk, WalkTheme

WHATS = ("observations", "actions")
FORMATS = ("csv", "geojson")
MIMETYPES = {"csv": "text/csv", "geojson": "application/geo+json"}
#: Default themes: the codes a filter can use across walks (each walk has its own grid).
THEME_CODES = tuple(code for code, _name, _prompts in labels.DEFAULT_THEMES)


# --- filters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    theme: str | None = None
    neighbourhood_id: int | None = None
    walk_id: int | None = None

    def args(self) -> dict:
        """The query string giving these filters again."""
        out = {}
        if self.theme:
            out["theme"] = self.theme
        if self.neighbourhood_id:
            out["neighbourhood"] = self.neighbourhood_id
        if self.walk_id:
            out["walk"] = self.walk_id
        return out


@dataclass
class Choices:
    themes: list[tuple[str, str]]
    neighbourhoods: list[Neighbourhood]
    walks: list[Walk]


def filter_choices(contract: Contract) -> Choices:
    """What the filters offer: the default themes, the contract's neighbourhoods, its walks."""
    hoods = list(db.session.scalars(
        sa.select(Neighbourhood).join(Commune).where(Commune.contract_id == contract.id)
        .options(sa.orm.contains_eager(Neighbourhood.commune)).order_by(Commune.name, Neighbourhood.name)))
    walks = list(db.session.scalars(
        sa.select(Walk).where(Walk.contract_id == contract.id).order_by(Walk.walked_on.desc(), Walk.id.desc())))
    preload(walks, current_locale())
    themes = [(code, str(name)) for code, name, _prompts in labels.DEFAULT_THEMES]
    return Choices(themes, hoods, walks)


def parse_filters(args: Mapping, choices: Choices) -> tuple[Filters, dict[str, str]]:
    """Filters from a query string; a value that is not offered goes to the errors (by field)
    and is left out, never failing the page."""
    errors: dict[str, str] = {}
    theme = (args.get("theme") or "").strip() or None
    if theme is not None and theme not in {code for code, _label in choices.themes}:
        errors["theme"] = _("Choose a theme from the list.")
        theme = None
    hood = _id(args, "neighbourhood", {n.id for n in choices.neighbourhoods}, errors,
               _("Choose a neighbourhood from the list."))
    walk = _id(args, "walk", {w.id for w in choices.walks}, errors, _("Choose a walk from the list."))
    return Filters(theme, hood, walk), errors


def _id(args: Mapping, name: str, allowed: set[int], errors: dict, message: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    value = parse_int(raw)
    if value not in allowed:
        errors[name] = message
        return None
    return value


# --- queries -----------------------------------------------------------------------------


def _observation_clauses(filters: Filters) -> list:
    clauses = []
    if filters.walk_id:
        clauses.append(Walk.id == filters.walk_id)
    if filters.neighbourhood_id:
        clauses.append(Walk.neighbourhood_id == filters.neighbourhood_id)
    if filters.theme:
        clauses.append(Observation.theme.has(WalkTheme.code == filters.theme))
    return clauses


def observations_of(contract: Contract, filters: Filters = Filters(), *, public: bool = True,
                    walk: Walk | None = None, limit: int | None = None, offset: int = 0) -> list[Observation]:
    """Observations of a contract (or of one walk), newest walk first, in number order."""
    query = sa.select(Observation).join(Walk, Observation.walk_id == Walk.id).where(
        Walk.contract_id == contract.id, *_observation_clauses(filters))
    if walk is not None:
        query = query.where(Walk.id == walk.id)
    if public:
        query = query.where(Observation.moderation == Moderation.published)
    query = query.options(sa.orm.contains_eager(Observation.walk), sa.orm.selectinload(Observation.theme),
                          sa.orm.selectinload(Observation.photos))
    query = query.order_by(Walk.walked_on.desc(), Walk.id.desc(), Observation.number).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    items = list(db.session.scalars(query).unique())
    preload([*items, *{o.walk for o in items}, *{o.theme for o in items if o.theme}], current_locale())
    return items


def count_observations(contract: Contract, filters: Filters = Filters()) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Observation).join(Walk, Observation.walk_id == Walk.id).where(
            Walk.contract_id == contract.id, Observation.moderation == Moderation.published,
            *_observation_clauses(filters)))


def actions_of(contract: Contract, filters: Filters = Filters(), *, walk: Walk | None = None) -> list[Recommendation]:
    """Recommendations that have been sent (never drafts), with the walk filters: a theme keeps
    the recommendations answering at least one observation of that theme."""
    query = (sa.select(Recommendation).join(Walk, Recommendation.walk_id == Walk.id)
             .join(FollowUp, Recommendation.followup_id == FollowUp.id)
             .where(Walk.contract_id == contract.id, FollowUp.status != Status.draft))
    if walk is not None:
        query = query.where(Walk.id == walk.id)
    if filters.walk_id:
        query = query.where(Walk.id == filters.walk_id)
    if filters.neighbourhood_id:
        query = query.where(Walk.neighbourhood_id == filters.neighbourhood_id)
    if filters.theme:
        query = query.where(Recommendation.observations.any(Observation.theme.has(WalkTheme.code == filters.theme)))
    query = query.options(sa.orm.contains_eager(Recommendation.walk), sa.orm.contains_eager(Recommendation.followup),
                          sa.orm.selectinload(Recommendation.observations))
    items = list(db.session.scalars(query.order_by(Walk.walked_on.desc(), FollowUp.id)).unique())
    preload([*(r.followup for r in items), *{r.walk for r in items},
             *{r.followup.institution for r in items if r.followup.institution}], current_locale())
    return items


# --- rows --------------------------------------------------------------------------------


def _position(obs: Observation, public: bool) -> tuple[float | None, float | None]:
    if obs.lat is None:
        return None, None
    return coarsen(obs.lat, obs.lon) if public else (obs.lat, obs.lon)


def _walk_fields(walk: Walk) -> dict:
    return {"walk_id": walk.id, "walk": str(tr(walk, "title")), "date": walk.walked_on.isoformat(),
            "neighbourhood": walk.neighbourhood.label}


def observation_record(obs: Observation, *, public: bool) -> dict:
    """One observation as plain values (keys are the GeoJSON property names)."""
    lat, lon = _position(obs, public)
    record = {
        "number": obs.number,
        **_walk_fields(obs.walk),
        "theme_code": obs.theme.code if obs.theme else "",
        "theme": str(tr(obs.theme, "name")) if obs.theme else "",
        "rating": obs.rating,
        "rating_words": labels.rating_words(obs.rating) if obs.rating else "",
        "seen": str(tr(obs, "seen")),
        "quote": str(tr(obs, "quote")),
        "lat": lat,
        "lon": lon,
        "location_source": obs.location_source.value,
        "location": str(labels.LOCATION_SOURCES[obs.location_source]),
    }
    if public:
        record["photos"] = sum(1 for p in obs.photos if p.moderation is Moderation.published)
    else:
        record["photos"] = len(obs.photos)
        record["accuracy_m"] = obs.accuracy_m
        record["address"] = obs.address
        record["moderation"] = obs.moderation.value
        record["moderation_label"] = str(labels.MODERATIONS[obs.moderation])
    return record


def _observation_columns(public: bool) -> list[tuple[str, str]]:
    columns = [
        ("number", _("Number")), ("walk", _("Walk")), ("date", _("Date of the walk")),
        ("neighbourhood", _("Neighbourhood")), ("theme_code", _("Theme code")), ("theme", _("Theme")),
        ("rating", _("Rating (1 to 5)")), ("rating_words", _("Rating")), ("seen", _("What was seen")),
        ("quote", _("Quote")), ("lat", _("Latitude")), ("lon", _("Longitude")),
        ("location_source", _("Location source")), ("photos", _("Photos")),
    ]
    if not public:
        columns += [("accuracy_m", _("GPS accuracy (m)")), ("address", _("Address given")),
                    ("moderation_label", _("Moderation"))]
    return columns


def _is_public(obs: Observation) -> bool:
    return obs.moderation is Moderation.published


def action_record(rec: Recommendation, *, public: bool, today: date) -> dict:
    item = rec.followup
    observations = [o for o in rec.observations if _is_public(o) or not public]
    return {
        "id": item.id,
        **_walk_fields(rec.walk),
        "title": str(tr(item, "title")),
        "institution": str(tr(item.institution, "name")) if item.institution else "",
        "status": item.status.value,
        "status_label": str(STATUSES[item.status]),
        "sent_on": _iso(item.sent_on),
        "due_on": _iso(item.action_due_on),
        "answered_on": _iso(item.answered_on),
        "closed_on": _iso(item.closed_on),
        "overdue": followups.is_overdue(item, today),
        "observations": [o.number for o in observations],
        "_centroid": _centroid(observations, public),
    }


def _centroid(observations: list[Observation], public: bool) -> tuple[float, float] | None:
    """The mean position of the located observations (coarsened for the public)."""
    located = [(o.lat, o.lon) for o in observations if o.lat is not None]
    if not located:
        return None
    lat = sum(p[0] for p in located) / len(located)
    lon = sum(p[1] for p in located) / len(located)
    return coarsen(lat, lon) if public else (round(lat, 6), round(lon, 6))


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _action_columns() -> list[tuple[str, str]]:
    return [
        ("id", _("Number")), ("walk", _("Walk")), ("date", _("Date of the walk")),
        ("neighbourhood", _("Neighbourhood")), ("title", _("Recommendation")), ("institution", _("Addressed to")),
        ("status_label", _("Status")), ("sent_on", _("Sent on")), ("due_on", _("Due by")),
        ("answered_on", _("Answered on")), ("closed_on", _("Closed on")), ("overdue", _("Overdue")),
        ("observations", _("Observations")),
    ]


# --- files -------------------------------------------------------------------------------


def _cell(key: str, value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value


def observations_csv(observations: list[Observation], *, public: bool = True) -> str:
    columns = _observation_columns(public)
    records = [observation_record(o, public=public) for o in observations]
    return to_csv([label for _key, label in columns], ([_cell(k, r[k]) for k, _label in columns] for r in records))


def actions_csv(recommendations: list[Recommendation], *, public: bool = True, today: date | None = None) -> str:
    today = today or date.today()
    columns = _action_columns()
    records = [action_record(r, public=public, today=today) for r in recommendations]
    return to_csv([label for _key, label in columns], ([_cell(k, r[k]) for k, _label in columns] for r in records))


def _point(position) -> dict | None:
    if position is None or position[0] is None:
        return None
    lat, lon = position
    return {"type": "Point", "coordinates": [lon, lat]}  # RFC 7946: longitude first


def observations_geojson(observations: list[Observation], *, public: bool = True) -> dict:
    features = []
    for obs in observations:
        record = observation_record(obs, public=public)
        lat, lon = record.pop("lat"), record.pop("lon")
        features.append({"type": "Feature", "id": f"walk-{obs.walk_id}-observation-{obs.number}",
                         "geometry": _point((lat, lon)), "properties": record})
    return {"type": "FeatureCollection", "features": features}


def actions_geojson(recommendations: list[Recommendation], *, public: bool = True, today: date | None = None) -> dict:
    today = today or date.today()
    features = []
    for rec in recommendations:
        record = action_record(rec, public=public, today=today)
        centroid = record.pop("_centroid")
        features.append({"type": "Feature", "id": f"recommendation-{rec.followup_id}",
                         "geometry": _point(centroid), "properties": record})
    return {"type": "FeatureCollection", "features": features}


def render(what: str, fmt: str, items: list, *, public: bool) -> str:
    """The file's text: `what` in WHATS, `fmt` in FORMATS."""
    if what == "observations":
        if fmt == "csv":
            return observations_csv(items, public=public)
        return json.dumps(observations_geojson(items, public=public), ensure_ascii=False, indent=1)
    if fmt == "csv":
        return actions_csv(items, public=public)
    return json.dumps(actions_geojson(items, public=public), ensure_ascii=False, indent=1)
