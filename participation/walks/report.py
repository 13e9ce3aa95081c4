"""What the public sees of a walk, gathered once for the walk page, the HTML report and the PDF.

Only what the rules let out: observations a facilitator published, their published photos,
recommendations that have been sent (drafts never), positions coarsened by `maps.build(...,
public=True)`, and the walkers' profile through `core.disclosure` (fewer than 11 → "s").
No staff names, no `recorded_by`, no address typed in the field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from ..core import disclosure
from ..core.content_i18n import preload
from ..core.i18n import current_locale
from ..core.profiles import AGE_BANDS, GENDERS, AgeBand, Gender
from ..extensions import db
from ..followup import services as followups
from ..followup.models import FollowUp, Status
from . import services
from .models import Moderation, Observation, ObservationPhoto, Walk, WalkStatus, WalkTheme


@dataclass
class ThemeLine:
    """One line of the per-theme summary."""

    theme: WalkTheme | None
    count: int
    #: mean rating of the rated observations (1–5), None when none was rated
    average: float | None
    numbers: list[int]

    @property
    def average_step(self) -> int | None:
        """The smiley closest to the average (2.5 → 3)."""
        return None if self.average is None else int(self.average + 0.5)


@dataclass
class RecommendationItem:
    followup: FollowUp
    overdue: bool
    #: numbers of the (public) observations it answers
    numbers: list[int]


@dataclass
class ProfileLine:
    """The walkers by age band or by gender, small counts suppressed."""

    dimension: str
    labels: list[str]
    line: disclosure.Line

    @property
    def shown(self) -> bool:
        return not all(c.suppressed for c in self.line.cells)


@dataclass
class PublicReview:
    """One point of the walk a follow-up walk checked (public parts only)."""

    observation: Observation
    photos: list[ObservationPhoto]
    recommendations: list[FollowUp]
    check: object | None
    new_observation: Observation | None
    new_photos: list[ObservationPhoto] = field(default_factory=list)


@dataclass
class PublicWalk:
    walk: Walk
    observations: list[Observation]
    photos: dict[int, list[ObservationPhoto]]
    recommendations: list[RecommendationItem]
    reviews: list[PublicReview]
    follow_ups: list[Walk]
    themes: list[ThemeLine] = field(default_factory=list)
    profile: list[ProfileLine] = field(default_factory=list)
    today: date = field(default_factory=date.today)

    @property
    def report_public(self) -> bool:
        return self.walk.status is WalkStatus.published

    @property
    def profile_shown(self) -> bool:
        return any(p.shown for p in self.profile)


def public_observations(walk: Walk) -> list[Observation]:
    """The walk's published observations in number order, their themes and photos loaded."""
    return list(db.session.scalars(
        sa.select(Observation).where(Observation.walk_id == walk.id, Observation.moderation == Moderation.published)
        .options(sa.orm.selectinload(Observation.photos), sa.orm.selectinload(Observation.theme))
        .order_by(Observation.number)))


def public_recommendations(walk: Walk, observations: list[Observation], today: date) -> list[RecommendationItem]:
    public_ids = {o.id for o in observations}
    items = []
    for link in walk.recommendations:
        item = link.followup
        if item.status is Status.draft:
            continue
        numbers = [o.number for o in link.observations if o.id in public_ids]
        items.append(RecommendationItem(item, followups.is_overdue(item, today), numbers))
    return items


def _reviews(walk: Walk) -> list[PublicReview]:
    out = []
    for review in services.point_reviews(walk, public_only=True):
        check = review.check
        new = check.new_observation if check is not None else None
        if new is not None and not services.is_public(new):
            new = None
        out.append(PublicReview(
            observation=review.observation,
            photos=services.public_photos(review.observation),
            recommendations=[f for f in review.recommendations if f.status is not Status.draft],
            check=check,
            new_observation=new,
            new_photos=services.public_photos(new) if new is not None else [],
        ))
    return out


def theme_lines(walk: Walk, observations: list[Observation]) -> list[ThemeLine]:
    """Per theme of the grid: how many public observations, their mean rating, their numbers
    (counts and means by SQL; themes in the grid's order, observations without a theme last)."""
    rows = db.session.execute(
        sa.select(Observation.theme_id, sa.func.count(), sa.func.avg(Observation.rating))
        .where(Observation.walk_id == walk.id, Observation.moderation == Moderation.published)
        .group_by(Observation.theme_id)
    ).all()
    by_theme = {theme_id: (n, avg) for theme_id, n, avg in rows}
    lines = []
    for theme in [*walk.themes, None]:
        key = theme.id if theme is not None else None
        if key not in by_theme:
            continue
        n, avg = by_theme[key]
        numbers = [o.number for o in observations if o.theme_id == key]
        lines.append(ThemeLine(theme, int(n), float(avg) if avg is not None else None, numbers))
    return lines


def profile_lines(walk: Walk) -> list[ProfileLine]:
    """Age bands and genders of the walkers, as the sign-in sheet counted them; the rest of
    the walkers is "not stated", so that each line adds up to the number of walkers."""
    from flask_babel import gettext as _

    counts = {(p.dimension, p.value): p.count for p in walk.profile_counts}
    if not counts:
        return []
    out = []
    for dimension, enum_cls, names in (("age_band", AgeBand, AGE_BANDS), ("gender", Gender, GENDERS)):
        values = [counts.get((dimension, member.value), 0) for member in enum_cls]
        if not any(values):
            continue
        total = walk.participants if walk.participants is not None else sum(values)
        total = max(total, sum(values))
        labels = [str(names[member]) for member in enum_cls]
        if total > sum(values):
            values.append(total - sum(values))
            labels.append(_("not stated"))
        out.append(ProfileLine(dimension, labels, disclosure.protect_line(values, total)))
    return out


def public_walk(walk: Walk, *, full: bool = False, today: date | None = None) -> PublicWalk:
    """The public side of a walk; `full` adds the report's per-theme summary and profile."""
    today = today or date.today()
    observations = public_observations(walk)
    photos = {o.id: services.public_photos(o) for o in observations}
    recommendations = public_recommendations(walk, observations, today)
    reviews = _reviews(walk)
    result = PublicWalk(walk, observations, photos, recommendations, reviews, list(walk.follow_ups), today=today)
    if full:
        result.themes = theme_lines(walk, observations)
        result.profile = profile_lines(walk)
    preload([
        walk, *walk.themes, *walk.waypoints, *observations, *walk.follow_ups,
        *([walk.follows] if walk.follows else []),
        *(r.followup for r in recommendations),
        *{r.followup.institution for r in recommendations if r.followup.institution},
        *(r.observation for r in reviews), *(r.new_observation for r in reviews if r.new_observation),
        *(f for r in reviews for f in r.recommendations),
        *(r.observation.theme for r in reviews if r.observation.theme),
    ], current_locale())
    return result
