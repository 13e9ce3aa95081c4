"""Figures of exploratory walks for governance (COPIL, Assises, the annual report): walks held,
walkers and their anonymous profile, observations by theme, photos published, and where the
recommendations stand. Every aggregate is computed in SQL.

What is counted, for a scope (a scope covers what lies inside it, as grants do) and a period:

- walks **held**: status walked or published, walked on a day of the period (a planned walk
  has not been held, even if its day has passed);
- walkers: the sum of the held walks' participant counts (walks without a count add nothing,
  and are counted apart); the profile sums the sign-in sheets' counts, "not stated" making up
  the rest of the walkers;
- observations, their themes (by the grid's stable code, so that walks compare) and ratings,
  photos: those of the held walks, whatever their moderation (staff figures), with the number
  made public alongside;
- recommendations: `followup.figures.figures(…, kind=recommendation)` (sent in the period).

Counts of people go through `core.disclosure` before they are shown (`protected()`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..core import disclosure
from ..core.profiles import AgeBand, Gender
from ..core.territories import Scope
from ..extensions import db
from ..followup import figures as followup_figures
from ..followup.models import Kind
from ..followup.services import Figures as FollowUpFigures
from .models import (
    GroupType, Moderation, Observation, ObservationPhoto, TimeOfDay, Walk, WalkProfileCount, WalkStatus, WalkTheme,
)

HELD = (WalkStatus.walked, WalkStatus.published)
#: The profile category of walkers who did not say (or were not counted by that criterion).
NOT_STATED = ""
#: Theme "code" of observations filed under a theme a group added to its grid.
OWN_THEME = ""
#: Theme "code" of observations filed under no theme.
NO_THEME = "-"
PROFILE_DIMENSIONS = {"age_band": [a.value for a in AgeBand], "gender": [g.value for g in Gender]}


@dataclass(frozen=True)
class ThemeFigure:
    #: A default theme's code, OWN_THEME or NO_THEME.
    code: str
    observations: int
    #: Observations with a rating, and their average on the 1–5 smiley scale (None if none).
    rated: int
    average_rating: float | None


@dataclass(frozen=True)
class WalkFigures:
    date_from: date | None
    date_to: date | None
    walks_held: int
    #: Held walks that follow up an earlier walk.
    follow_up_walks: int
    by_time_of_day: dict[TimeOfDay, int]
    by_group_type: dict[GroupType, int]
    participants: int
    #: Held walks whose walkers were not counted.
    walks_without_count: int
    #: dimension ("age_band", "gender") -> {value: walkers}, NOT_STATED included; adds up to
    #: `participants`.
    profile: dict[str, dict[str, int]]
    observations: int
    observations_published: int
    themes: tuple[ThemeFigure, ...]
    photos: int
    #: Photos the public may see (the photo and its observation published).
    photos_published: int
    recommendations: FollowUpFigures


def _scope_clauses(scope: Scope) -> list:
    clauses = [Walk.contract_id == scope.contract_id]
    if scope.commune_id is not None:
        clauses.append(Walk.commune_id == scope.commune_id)
    if scope.neighbourhood_id is not None:
        clauses.append(Walk.neighbourhood_id == scope.neighbourhood_id)
    return clauses


def held_walks(scope: Scope, date_from: date | None = None, date_to: date | None = None):
    """SELECT of the ids of walks held inside the scope in the period."""
    where = [*_scope_clauses(scope), Walk.status.in_(HELD)]
    if date_from is not None:
        where.append(Walk.walked_on >= date_from)
    if date_to is not None:
        where.append(Walk.walked_on <= date_to)
    return sa.select(Walk.id).where(*where)


def figures(scope: Scope, date_from: date | None = None, date_to: date | None = None,
            today: date | None = None) -> WalkFigures:
    held = held_walks(scope, date_from, date_to)
    in_held = Walk.id.in_(held)
    walks_held, follow_ups, participants, uncounted = db.session.execute(
        sa.select(
            sa.func.count(Walk.id),
            sa.func.count(Walk.follows_id),
            sa.func.coalesce(sa.func.sum(Walk.participants), 0),
            sa.func.sum(sa.case((Walk.participants.is_(None), 1), else_=0)),
        ).where(in_held)
    ).one()
    by_time = dict(db.session.execute(
        sa.select(Walk.time_of_day, sa.func.count(Walk.id)).where(in_held).group_by(Walk.time_of_day)).all())
    by_group = dict(db.session.execute(
        sa.select(Walk.group_type, sa.func.count(Walk.id)).where(in_held).group_by(Walk.group_type)).all())
    participants = int(participants or 0)
    return WalkFigures(
        date_from=date_from, date_to=date_to, walks_held=int(walks_held or 0), follow_up_walks=int(follow_ups or 0),
        by_time_of_day={t: int(by_time.get(t, 0)) for t in TimeOfDay},
        by_group_type={g: int(by_group.get(g, 0)) for g in GroupType},
        participants=participants, walks_without_count=int(uncounted or 0),
        profile=_profile(held, participants),
        **_observations(held),
        recommendations=followup_figures.figures(scope, kind=Kind.recommendation, date_from=date_from,
                                                 date_to=date_to, today=today),
    )


def _profile(held, participants: int) -> dict[str, dict[str, int]]:
    rows = db.session.execute(
        sa.select(WalkProfileCount.dimension, WalkProfileCount.value, sa.func.sum(WalkProfileCount.count))
        .where(WalkProfileCount.walk_id.in_(held))
        .group_by(WalkProfileCount.dimension, WalkProfileCount.value)
    ).all()
    out = {}
    for dimension, values in PROFILE_DIMENSIONS.items():
        counts = {v: 0 for v in values}
        for dim, value, n in rows:
            if dim == dimension and value in counts:
                counts[value] += int(n or 0)
        counts[NOT_STATED] = max(participants - sum(counts.values()), 0)
        out[dimension] = counts
    return out


def _observations(held) -> dict:
    in_held = Observation.walk_id.in_(held)
    total, published = db.session.execute(
        sa.select(sa.func.count(Observation.id),
                  sa.func.sum(sa.case((Observation.moderation == Moderation.published, 1), else_=0)))
        .where(in_held)
    ).one()
    code = sa.case((Observation.theme_id.is_(None), sa.literal(NO_THEME)),
                   else_=sa.func.coalesce(WalkTheme.code, sa.literal(OWN_THEME)))
    themes = db.session.execute(
        sa.select(code.label("code"), sa.func.count(Observation.id), sa.func.count(Observation.rating),
                  sa.func.avg(Observation.rating))
        .select_from(Observation).outerjoin(WalkTheme, WalkTheme.id == Observation.theme_id)
        .where(in_held).group_by(code)
    ).all()
    photos, photos_public = db.session.execute(
        sa.select(sa.func.count(ObservationPhoto.id),
                  sa.func.sum(sa.case((sa.and_(ObservationPhoto.moderation == Moderation.published,
                                               Observation.moderation == Moderation.published), 1), else_=0)))
        .select_from(ObservationPhoto).join(Observation, Observation.id == ObservationPhoto.observation_id)
        .where(in_held)
    ).one()
    by_code = {c: ThemeFigure(c, int(n), int(rated), round(float(avg), 2) if avg is not None else None)
               for c, n, rated, avg in themes}
    return {
        "observations": int(total or 0), "observations_published": int(published or 0),
        "themes": tuple(sorted(by_code.values(), key=_theme_order)),
        "photos": int(photos or 0), "photos_published": int(photos_public or 0),
    }


def _theme_order(theme: ThemeFigure) -> tuple[int, str]:
    from .labels import DEFAULT_THEMES

    codes = [c for c, _n, _p in DEFAULT_THEMES]
    if theme.code in codes:
        return codes.index(theme.code), ""
    return len(codes) + (theme.code == NO_THEME), theme.code


# --- what readers see -------------------------------------------------------------------


@dataclass(frozen=True)
class ProtectedFigures:
    """The figures as shown: counts of people below `disclosure.MIN_CELL` suppressed (and the
    cells that would let them be worked out). Walks, observations, photos and demands are not
    people: they are shown as they are."""

    raw: WalkFigures
    participants: disclosure.Cell
    #: dimension -> (categories, line)
    profile: dict[str, tuple[list[str], disclosure.Line]]


def protected(figures: WalkFigures) -> ProtectedFigures:
    total = figures.participants
    participants = disclosure.Cell(None) if 0 < total < disclosure.MIN_CELL else disclosure.Cell(total)
    profile = {}
    for name, counts in figures.profile.items():
        categories = list(counts)
        profile[name] = (categories, disclosure.protect_line([counts[c] for c in categories], total))
    return ProtectedFigures(raw=figures, participants=participants, profile=profile)
