"""Marches exploratoires: a group walks a route in its neighbourhood, notes what helps or hurts
daily life (geolocated observations with photos, by theme of an observation grid), turns it into
recommendations followed in `followup`, and a later walk checks, point by point, what changed.

Participants are never named: a walk keeps a participant count and an anonymous profile
(`WalkProfileCount`, like a paper sign-in sheet). An observation may carry a resident's quote,
shown only once a facilitator has checked the observation (`Moderation`); its photos are kept in
a private store and shown only once checked one by one (no faces, no number plates). Public
coordinates are coarsened to about 100 m (`geo.coarsen`).
"""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.channels import Channel
from ..core.content_i18n import Translatable
from ..core.territories import Commune, Contract, Neighbourhood, Scope
from ..core.users import User, utcnow
from ..extensions import db
from ..followup.models import FollowUp


def _enum(cls, name):
    return sa.Enum(cls, name=name, native_enum=False, create_constraint=True, length=24)


def new_record_key() -> str:
    return secrets.token_urlsafe(12)


class WalkStatus(enum.Enum):
    #: prepared: route and grid set, observations may already be recorded
    planned = "planned"
    #: walked: the group has been out; the report is being written
    walked = "walked"
    #: the report is public
    published = "published"


class TimeOfDay(enum.Enum):
    day = "day"
    night = "night"


class GroupType(enum.Enum):
    women = "women"
    seniors = "seniors"
    youth = "youth"
    parents = "parents"
    disabled = "disabled"
    mixed = "mixed"
    other = "other"


class LocationSource(enum.Enum):
    #: the device's GPS (with its accuracy)
    gps = "gps"
    #: a tap on the app's own map
    map = "map"
    #: a waypoint of the route chosen from the list
    waypoint = "waypoint"
    #: an address typed in (no coordinates unless a waypoint gives them)
    address = "address"
    none = "none"


class Moderation(enum.Enum):
    pending = "pending"
    published = "published"
    #: kept for the group's report, never public
    hidden = "hidden"


class PointOutcome(enum.Enum):
    """What a follow-up walk found at a point of the original walk."""

    improved = "improved"
    partly = "partly"
    unchanged = "unchanged"
    worse = "worse"
    not_checked = "not_checked"


walk_facilitators = sa.Table(
    "walk_facilitators",
    db.metadata,
    sa.Column("walk_id", sa.ForeignKey("walks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

recommendation_observations = sa.Table(
    "walk_recommendation_observations",
    db.metadata,
    sa.Column(
        "followup_id", sa.ForeignKey("walk_recommendations.followup_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("observation_id", sa.ForeignKey("walk_observations.id", ondelete="CASCADE"), primary_key=True),
)


class Walk(Translatable, db.Model):
    """One exploratory walk in one neighbourhood."""

    __tablename__ = "walks"
    __translatable__ = ("title", "description", "summary")

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    commune_id: Mapped[int] = mapped_column(sa.ForeignKey("communes.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    walked_on: Mapped[date]
    #: Local wall-clock start time ("18:30"), optional.
    starts_at: Mapped[str] = mapped_column(sa.String(5), default="")
    time_of_day: Mapped[TimeOfDay] = mapped_column(_enum(TimeOfDay, "walk_time_of_day"), default=TimeOfDay.day)
    group_type: Mapped[GroupType] = mapped_column(_enum(GroupType, "walk_group_type"), default=GroupType.mixed)
    #: Where the group meets (free text, shown on the public page).
    meeting_point: Mapped[str] = mapped_column(sa.String(300), default="")
    #: People who walked (a count, never names).
    participants: Mapped[int | None]
    #: Associations or services who guided the walk, as free text.
    guides: Mapped[str] = mapped_column(sa.String(300), default="")
    status: Mapped[WalkStatus] = mapped_column(_enum(WalkStatus, "walk_status"), default=WalkStatus.planned)
    #: The group's own conclusion, written into the report.
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    #: Secret in the QR that lets participants record observations from their own phones.
    record_key: Mapped[str] = mapped_column(sa.String(32), default=new_record_key, unique=True)
    #: Participants may record with the key only while this is true.
    recording_open: Mapped[bool] = mapped_column(default=True)
    #: The walk this one follows up (checks what changed at each of its points).
    follows_id: Mapped[int | None] = mapped_column(sa.ForeignKey("walks.id", ondelete="SET NULL"), index=True)
    #: A drawn route line: [[lat, lon], …] (optional; waypoints are drawn anyway).
    route_line: Mapped[list] = mapped_column(sa.JSON, default=list)
    published_on: Mapped[date | None]
    #: The last observation number given: numbers are never given twice, even after a delete.
    last_number: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contract: Mapped[Contract] = relationship()
    commune: Mapped[Commune] = relationship()
    neighbourhood: Mapped[Neighbourhood] = relationship()
    facilitators: Mapped[list[User]] = relationship(secondary=walk_facilitators, order_by="User.name")
    follows: Mapped[Walk | None] = relationship(remote_side=[id], back_populates="follow_ups")
    follow_ups: Mapped[list[Walk]] = relationship(back_populates="follows", order_by="Walk.walked_on")
    themes: Mapped[list[WalkTheme]] = relationship(
        back_populates="walk", order_by="WalkTheme.position", cascade="all, delete-orphan"
    )
    waypoints: Mapped[list[Waypoint]] = relationship(
        back_populates="walk", order_by="Waypoint.position", cascade="all, delete-orphan"
    )
    observations: Mapped[list[Observation]] = relationship(
        back_populates="walk", order_by="Observation.number", cascade="all, delete-orphan"
    )
    profile_counts: Mapped[list[WalkProfileCount]] = relationship(cascade="all, delete-orphan")
    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="walk", order_by="Recommendation.followup_id", cascade="all, delete-orphan"
    )
    point_checks: Mapped[list[PointCheck]] = relationship(
        back_populates="walk", cascade="all, delete-orphan", foreign_keys="PointCheck.walk_id"
    )

    __table_args__ = (
        sa.CheckConstraint("participants IS NULL OR participants >= 0", name="participants_positive"),
        sa.CheckConstraint("follows_id IS NULL OR follows_id <> id", name="not_own_follow_up"),
    )

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id, self.commune_id, self.neighbourhood_id)

    @property
    def scope_label(self) -> str:
        return self.neighbourhood.label


class WalkTheme(Translatable, db.Model):
    """A theme of the walk's observation grid (lighting, cleanliness…), with prompts."""

    __tablename__ = "walk_themes"
    __translatable__ = ("name", "prompts")

    id: Mapped[int] = mapped_column(primary_key=True)
    walk_id: Mapped[int] = mapped_column(sa.ForeignKey("walks.id", ondelete="CASCADE"), index=True)
    #: Stable code of a default theme ("lighting"…), "" for a theme the group added; used to
    #: compare themes across walks in the figures.
    code: Mapped[str] = mapped_column(sa.String(32), default="")
    name: Mapped[str] = mapped_column(sa.String(120))
    #: Questions to ask oneself on this theme, one per line.
    prompts: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    walk: Mapped[Walk] = relationship(back_populates="themes")

    __table_args__ = (sa.UniqueConstraint("walk_id", "name"),)


class Waypoint(Translatable, db.Model):
    """A stop on the route, in order; coordinates optional (a place name is enough)."""

    __tablename__ = "walk_waypoints"
    __translatable__ = ("label",)

    id: Mapped[int] = mapped_column(primary_key=True)
    walk_id: Mapped[int] = mapped_column(sa.ForeignKey("walks.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(sa.String(200))
    lat: Mapped[float | None]
    lon: Mapped[float | None]

    walk: Mapped[Walk] = relationship(back_populates="waypoints")

    __table_args__ = (
        sa.CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="both_coordinates"),
        sa.CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180)", name="on_earth"),
    )


class WalkProfileCount(db.Model):
    """How many walkers per age band or gender (from the sign-in sheet; never names)."""

    __tablename__ = "walk_profile_counts"

    walk_id: Mapped[int] = mapped_column(sa.ForeignKey("walks.id", ondelete="CASCADE"), primary_key=True)
    #: "age_band" or "gender"
    dimension: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    #: an AgeBand / Gender value
    value: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    count: Mapped[int]

    __table_args__ = (sa.CheckConstraint("count >= 0", name="count_positive"),)


class Observation(Translatable, db.Model):
    """What the group saw at one point: theme, rating, description, a quote, photos."""

    __tablename__ = "walk_observations"
    __translatable__ = ("seen", "quote")

    id: Mapped[int] = mapped_column(primary_key=True)
    walk_id: Mapped[int] = mapped_column(sa.ForeignKey("walks.id", ondelete="CASCADE"), index=True)
    #: Its number on the map and in the report (1, 2, 3… per walk, never reused).
    number: Mapped[int]
    theme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("walk_themes.id", ondelete="SET NULL"), index=True)
    #: 1 (very bad) … 5 (very good): the smiley scale.
    rating: Mapped[int | None]
    seen: Mapped[str] = mapped_column(sa.Text, default="")
    #: A walker's words, as said (no name).
    quote: Mapped[str] = mapped_column(sa.Text, default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    #: GPS accuracy in metres, when the device gave one.
    accuracy_m: Mapped[int | None]
    location_source: Mapped[LocationSource] = mapped_column(
        _enum(LocationSource, "walk_location_source"), default=LocationSource.none
    )
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    waypoint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("walk_waypoints.id", ondelete="SET NULL"))
    moderation: Mapped[Moderation] = mapped_column(_enum(Moderation, "walk_moderation"), default=Moderation.pending)
    channel: Mapped[Channel] = mapped_column(
        sa.Enum(Channel, name="walk_observation_channel", native_enum=False, create_constraint=True, length=16),
        default=Channel.web,
    )
    #: Id made by the form (or the field-mode outbox) that sent it: the same submission twice is
    #: one observation.
    client_id: Mapped[str] = mapped_column(sa.String(64))
    #: Staff account that keyed it in (none when a participant used the walk's QR).
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    walk: Mapped[Walk] = relationship(back_populates="observations")
    theme: Mapped[WalkTheme | None] = relationship()
    waypoint: Mapped[Waypoint | None] = relationship()
    photos: Mapped[list[ObservationPhoto]] = relationship(
        back_populates="observation", order_by="ObservationPhoto.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("walk_id", "number"),
        sa.UniqueConstraint("walk_id", "client_id"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_scale"),
        sa.CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="both_coordinates"),
        sa.CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180)", name="on_earth"),
    )

    @property
    def located(self) -> bool:
        return self.lat is not None


class ObservationPhoto(db.Model):
    """A photo of an observation: re-encoded without EXIF, resized, in the private store; public
    only once checked (no faces, no number plates)."""

    __tablename__ = "walk_observation_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(sa.ForeignKey("walk_observations.id", ondelete="CASCADE"), index=True)
    sha: Mapped[str] = mapped_column(sa.String(64))
    #: Alternative text, written by whoever took it.
    caption: Mapped[str] = mapped_column(sa.String(300), default="")
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    moderation: Mapped[Moderation] = mapped_column(
        _enum(Moderation, "walk_photo_moderation"), default=Moderation.pending
    )

    observation: Mapped[Observation] = relationship(back_populates="photos")

    __table_args__ = (sa.UniqueConstraint("observation_id", "sha"),)


class Recommendation(db.Model):
    """A walk's recommendation: the walk side of a `FollowUp` of kind recommendation, with the
    observations it answers."""

    __tablename__ = "walk_recommendations"

    followup_id: Mapped[int] = mapped_column(sa.ForeignKey("followups.id", ondelete="CASCADE"), primary_key=True)
    walk_id: Mapped[int] = mapped_column(sa.ForeignKey("walks.id", ondelete="CASCADE"), index=True)

    followup: Mapped[FollowUp] = relationship()
    walk: Mapped[Walk] = relationship(back_populates="recommendations")
    observations: Mapped[list[Observation]] = relationship(
        secondary=recommendation_observations, order_by="Observation.number"
    )


class PointCheck(db.Model):
    """What a follow-up walk found at one observation point of the walk it follows."""

    __tablename__ = "walk_point_checks"

    walk_id: Mapped[int] = mapped_column(sa.ForeignKey("walks.id", ondelete="CASCADE"), primary_key=True)
    observation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("walk_observations.id", ondelete="CASCADE"), primary_key=True
    )
    outcome: Mapped[PointOutcome] = mapped_column(_enum(PointOutcome, "walk_point_outcome"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    #: An observation of the follow-up walk taken at that point (a new photo, say).
    new_observation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("walk_observations.id", ondelete="SET NULL")
    )

    walk: Mapped[Walk] = relationship(back_populates="point_checks", foreign_keys=[walk_id])
    observation: Mapped[Observation] = relationship(foreign_keys=[observation_id])
    new_observation: Mapped[Observation | None] = relationship(foreign_keys=[new_observation_id])
