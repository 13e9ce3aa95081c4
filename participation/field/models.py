"""What the sync endpoint remembers: one receipt per submission, staged photos.

A receipt holds no account, no time of day and, for anonymous kinds (questionnaire answers),
no reference to what was created: it only lets the same submission, sent again, be recognised.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Receipt(db.Model):
    """A submission received from a device's outbox (or an imported outbox file)."""

    __tablename__ = "field_receipts"
    __table_args__ = (sa.UniqueConstraint("kind", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the adapter's kind, e.g. "walk_observation"
    kind: Mapped[str] = mapped_column(sa.String(40))
    #: the UUID the device gave the submission when it was queued
    client_id: Mapped[str] = mapped_column(sa.String(64))
    #: SHA-256 of the submission's canonical content (fields, target, photo hashes)
    content_sha: Mapped[str] = mapped_column(sa.String(64))
    form_version: Mapped[int]
    #: the day only: a time would help relate an anonymous answer to a mediator's round
    received_on: Mapped[date]
    #: what the adapter created, for staff ("walk_observation:12"); None for anonymous kinds
    ref: Mapped[str | None] = mapped_column(sa.String(80))


class StagedPhoto(db.Model):
    """A photo of a queued submission, uploaded before it, checked and re-encoded on arrival.

    (client_id, slot) is unique: the same bytes again are skipped, other bytes are a conflict."""

    __tablename__ = "field_photos"
    __table_args__ = (sa.UniqueConstraint("client_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(64))
    slot: Mapped[int]
    #: SHA-256 of the bytes the device sent (its hash, checked on arrival)
    sha: Mapped[str] = mapped_column(sa.String(64))
    #: SHA-256 of the re-encoded JPEG in the staging store
    photo_sha: Mapped[str] = mapped_column(sa.String(64))
    width: Mapped[int]
    height: Mapped[int]
    received_on: Mapped[date]
