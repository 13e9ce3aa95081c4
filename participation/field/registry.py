"""The kinds of submission a device may queue, each handled by its mechanism's adapter.

A mechanism registers one adapter per kind (`register(adapter)`, from its views module). The
adapter turns a queued submission into what the mechanism records, through its own services,
and lists the forms a staff member may take offline. It flushes, never commits, and refuses
with `FieldRejected` (a translated message, per field when it can say which)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from werkzeug.datastructures import MultiDict

from ..core.photos import ProcessedPhoto
from ..core.users import User


@dataclass
class Submission:
    """One queued submission, as the device sent it (already checked for shape)."""

    kind: str
    client_id: str
    form_version: int
    #: what the form is about, e.g. {"walk_id": 3}: scalars only
    target: dict
    #: the form's fields (never its files), as the form would have posted them
    fields: MultiDict
    #: file input name → [(slot, photo)] in slot order, re-encoded and EXIF-free
    photos: dict[str, list[tuple[int, ProcessedPhoto]]] = field(default_factory=dict)
    #: the interface language on the device when it was queued
    locale: str = "fr"
    #: the device's clock when it was queued (informational: device clocks are often wrong)
    created_at: datetime | None = None

    def target_row(self, key: str, model):
        """The row whose id the target gives under `key`, or None (missing, not an id, unknown)."""
        from ..extensions import db

        ident = self.target.get(key)
        if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident < 2**31:
            return None
        return db.session.get(model, ident)


@dataclass
class Applied:
    """What the adapter recorded: a message for the outbox's list, a reference for staff."""

    message: str
    #: e.g. "walk_observation:12"; None when nothing may point at it (anonymous answers)
    ref: str | None = None


@dataclass
class OfflineForm:
    """A form a staff member may take offline, listed on the field-mode page."""

    kind: str
    title: str
    detail: str
    url: str


class FieldRejected(Exception):
    """The submission cannot be recorded as it is; sending it again will not help."""

    status = 422
    code = "rejected"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class FieldForbidden(FieldRejected):
    """This account may not record this (another scope, a closed form, a revoked role)."""

    status = 403
    code = "forbidden"


class Adapter(Protocol):
    kind: str
    #: a lazy string naming the kind, e.g. _l("Walk observations")
    label: object
    #: the version of the offline form; a device may hold a form taken offline earlier
    form_version: int
    #: versions still accepted (an old form queued before an update)
    versions: frozenset[int]

    def apply(self, submission: Submission, user: User) -> Applied: ...

    def offline_forms(self, user: User) -> list[OfflineForm]: ...


_ADAPTERS: dict[str, Adapter] = {}


def register(adapter: Adapter) -> None:
    _ADAPTERS[adapter.kind] = adapter


def get(kind: str) -> Adapter | None:
    return _ADAPTERS.get(kind)


def adapters() -> list[Adapter]:
    return list(_ADAPTERS.values())
