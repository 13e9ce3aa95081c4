"""Receiving queued submissions exactly once: receipts, staged photos, outbox files.

The rules (tested in tests/field): a submission is known by (kind, client id). The same
content again is answered "already received" and changes nothing; the same id with other
content is a conflict (409), never merged. A photo is known by (client id, slot) and the hash
of its bytes, with the same rule. What the adapter creates and the receipt are written in one
transaction, so a sync cut at any point leaves either both or neither.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ..core.photos import PhotoError, PhotoStore, ProcessedPhoto, process_photo
from ..core.users import User
from ..extensions import db
from . import registry
from .models import Receipt, StagedPhoto
from .registry import FieldRejected, Submission

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
NAME_RE = re.compile(r"^[A-Za-z0-9_.\[\]-]{1,60}$")
#: Photos per submission; slot numbers below MAX_SLOT (an empty file input of the form takes a
#: slot too, so a questionnaire with many photo questions numbers past MAX_PHOTOS); fields per
#: submission, characters per value.
MAX_PHOTOS = 8
MAX_SLOT = 64
MAX_FIELDS = 400
MAX_VALUE = 20_000
#: Longest side of a photo as the device should send it (it resizes before queueing).
DEVICE_PHOTO_SIDE = 1600
#: Exported outbox files.
FILE_FORMAT = "participation-outbox"
FILE_VERSION = 1


class FieldError(Exception):
    """A refusal the outbox understands: an HTTP status, a code, a translated message."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def as_json(self) -> dict:
        return {"status": self.code, "message": self.message, **self.extra}


def conflict_message() -> str:
    return _("Something different was already received under this submission's number. Nothing "
             "was replaced: export it to a file and show it to the person who runs the form.")


def bad_request(detail: str) -> FieldError:
    """`detail` names the part for whoever debugs a device; the person reads the message."""
    return FieldError(400, "bad_request", _("The device sent something this server cannot read."), detail=detail)


@dataclass
class Outcome:
    status: str  # "created" or "duplicate"
    message: str
    ref: str | None = None


# --- reading what a device sends --------------------------------------------------------


def _clean(value, limit: int = MAX_VALUE) -> str:
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise bad_request("field")
    return value


def parse_submission(data) -> tuple[Submission, list[dict]]:
    """The JSON body → (submission without its photos, photo references). FieldError if malformed."""
    if not isinstance(data, dict):
        raise bad_request("body")
    client_id, kind = data.get("client_id"), data.get("kind")
    if not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
        raise bad_request("client_id")
    if not isinstance(kind, str) or registry.get(kind) is None:
        raise FieldError(422, "unknown_kind", _("This server does not take this kind of form any more."))
    version = data.get("form_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 0 < version < 10_000:
        raise bad_request("form_version")
    target = data.get("target", {})
    if not isinstance(target, dict) or len(target) > 10 or not all(
            isinstance(k, str) and len(k) <= 40 and (isinstance(v, (int, str)) and not isinstance(v, bool))
            for k, v in target.items()):
        raise bad_request("target")
    target = {k: (_clean(v, 200) if isinstance(v, str) else v) for k, v in target.items()}
    pairs = data.get("fields", [])
    if not isinstance(pairs, list) or len(pairs) > MAX_FIELDS:
        raise bad_request("fields")
    fields = MultiDict()
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise bad_request("fields")
        fields.add(_clean(pair[0], 100), _clean(pair[1]))
    photos = data.get("photos", [])
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS:
        raise bad_request("photos")
    refs, slots = [], set()
    for ref in photos:
        if not isinstance(ref, dict):
            raise bad_request("photos")
        slot, name, sha = ref.get("slot"), ref.get("name"), ref.get("sha")
        if (not isinstance(slot, int) or isinstance(slot, bool) or not 0 <= slot < MAX_SLOT or slot in slots
                or not isinstance(name, str) or not NAME_RE.match(name)
                or not isinstance(sha, str) or not SHA_RE.match(sha)):
            raise bad_request("photos")
        slots.add(slot)
        refs.append({"slot": slot, "name": name, "sha": sha})
    locale = data.get("locale") if isinstance(data.get("locale"), str) else "fr"
    if locale not in current_app.config["LANGUAGES"]:
        locale = "fr"
    created_at = None
    if isinstance(data.get("created_at"), str):
        try:
            created_at = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
        except ValueError:
            created_at = None
    return Submission(kind=kind, client_id=client_id, form_version=version, target=target, fields=fields,
                      locale=locale, created_at=created_at), sorted(refs, key=lambda r: r["slot"])


def content_sha(sub: Submission, refs: list[dict]) -> str:
    """The hash a retry must match: everything the adapter reads, never the device's clock."""
    canonical = {
        "kind": sub.kind, "form_version": sub.form_version, "target": sub.target,
        "fields": sorted(([k, v] for k, v in sub.fields.items(multi=True)), key=lambda p: p[0]),
        "photos": [[r["slot"], r["name"], r["sha"]] for r in refs],
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# --- photos -----------------------------------------------------------------------------


def staging_store() -> PhotoStore:
    """Photos waiting for their submission: private, like every store of unchecked photos."""
    config = current_app.config
    private = config.get("PRIVATE_UPLOAD_DIR") or f"{config['UPLOAD_DIR'].rstrip('/')}-private"
    return PhotoStore(f"{private.rstrip('/')}-field")


def _staged(client_id: str, slot: int) -> StagedPhoto | None:
    return db.session.scalar(sa.select(StagedPhoto).filter_by(client_id=client_id, slot=slot))


def stage_photo(client_id: str, slot: int, declared_sha: str, data: bytes) -> str:
    """Keep one photo of a queued submission; "created" or "duplicate". FieldError otherwise."""
    if not CLIENT_ID_RE.match(client_id or "") or not 0 <= slot < MAX_SLOT:
        raise bad_request("photo")
    if not SHA_RE.match(declared_sha or ""):
        raise bad_request("sha")
    existing = _staged(client_id, slot)
    if existing is not None:
        if existing.sha != declared_sha:
            raise FieldError(409, "conflict", conflict_message())
        if staging_store().exists(existing.photo_sha) or hashlib.sha256(data).hexdigest() != declared_sha:
            return "duplicate"
        # Its file went with a transaction that was then rolled back: keep it again.
    if hashlib.sha256(data).hexdigest() != declared_sha:
        # Damaged on the way: the device still has the photo and sends it again.
        raise FieldError(422, "corrupt", _("A photo arrived damaged. It will be sent again."))
    try:
        photo = process_photo(data, max_bytes=current_app.config["MAX_PHOTO_BYTES"], max_side=DEVICE_PHOTO_SIDE)
    except PhotoError as e:
        raise FieldError(422, "rejected", e.message) from None
    staging_store().save(photo)
    if existing is not None:
        existing.photo_sha = photo.sha256
        return "duplicate"
    row = StagedPhoto(client_id=client_id, slot=slot, sha=declared_sha, photo_sha=photo.sha256, width=photo.width,
                      height=photo.height, received_on=date.today())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except sa.exc.IntegrityError:
        existing = _staged(client_id, slot)
        if existing is not None and existing.sha == declared_sha:
            return "duplicate"
        raise FieldError(409, "conflict", conflict_message()) from None
    return "created"


def _load_photos(client_id: str, refs: list[dict]) -> dict[str, list[tuple[int, ProcessedPhoto]]]:
    rows = {p.slot: p for p in db.session.scalars(sa.select(StagedPhoto).filter_by(client_id=client_id))}
    missing = [r["slot"] for r in refs if r["slot"] not in rows]
    if missing:
        raise FieldError(422, "photos_missing", _("Some photos have not arrived yet. They will be sent again."),
                         missing=missing)
    if any(rows[r["slot"]].sha != r["sha"] for r in refs):
        raise FieldError(409, "conflict", conflict_message())
    store, out = staging_store(), {}
    for ref in refs:
        row = rows[ref["slot"]]
        try:
            data = store.open(row.photo_sha)
        except FileNotFoundError:
            raise FieldError(422, "photos_missing", _("Some photos have not arrived yet. They will be sent again."),
                             missing=[ref["slot"]]) from None
        out.setdefault(ref["name"], []).append(
            (ref["slot"], ProcessedPhoto(data=data, width=row.width, height=row.height, sha256=row.photo_sha)))
    return out


# --- submissions ------------------------------------------------------------------------


def _receipt(kind: str, client_id: str) -> Receipt | None:
    return db.session.scalar(sa.select(Receipt).filter_by(kind=kind, client_id=client_id))


def _duplicate(receipt: Receipt, sha: str) -> Outcome:
    if receipt.content_sha != sha:
        raise FieldError(409, "conflict", conflict_message())
    return Outcome("duplicate", _("Already received on %(day)s: nothing was added.",
                                  day=format_date(receipt.received_on, "medium")), receipt.ref)


def receive(sub: Submission, refs: list[dict], user: User) -> Outcome:
    """Record a queued submission once. Flushes; the caller commits. FieldError on refusal."""
    adapter = registry.get(sub.kind)
    if adapter is None:
        raise FieldError(422, "unknown_kind", _("This server does not take this kind of form any more."))
    sha = content_sha(sub, refs)
    receipt = _receipt(sub.kind, sub.client_id)
    if receipt is not None:
        return _duplicate(receipt, sha)
    if sub.form_version not in adapter.versions:
        raise FieldError(422, "old_form", _("This form has changed since it was taken offline. Export it to a "
                                            "file and enter it again on the new form."))
    sub.photos = _load_photos(sub.client_id, refs)
    try:
        with db.session.begin_nested():
            applied = adapter.apply(sub, user)
            db.session.add(Receipt(kind=sub.kind, client_id=sub.client_id, content_sha=sha,
                                   form_version=sub.form_version, received_on=date.today(), ref=applied.ref))
            db.session.flush()
    except FieldRejected as e:
        raise FieldError(e.status, e.code, e.message, fields=e.fields) from None
    except sa.exc.IntegrityError:
        # The same submission arrived twice at once (two tabs, a retry racing the first try).
        receipt = _receipt(sub.kind, sub.client_id)
        if receipt is None:
            raise FieldError(503, "busy", _("The server is busy. It will be sent again.")) from None
        return _duplicate(receipt, sha)
    _unstage(sub.client_id)
    return Outcome("created", applied.message, applied.ref)


def _unstage(client_id: str) -> None:
    """The adapter has its own copy now: drop the staged rows (in this transaction) and files.

    Kept, a staged row would tie a submission's id to a photo hash that an anonymous answer also
    holds. A file shared with another staged photo (the same picture twice) stays for it."""
    _drop(list(db.session.scalars(sa.select(StagedPhoto).filter_by(client_id=client_id))))


def _drop(rows: list[StagedPhoto]) -> None:
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    store = staging_store()
    for sha in {row.photo_sha for row in rows}:
        if not db.session.scalar(sa.select(sa.func.count()).select_from(StagedPhoto).filter_by(photo_sha=sha)):
            store.delete(sha)


def purge_staged(older_than_days: int) -> int:
    """Photos uploaded for submissions that never came (or came again after they were recorded)."""
    from datetime import timedelta

    limit = date.today() - timedelta(days=older_than_days)
    rows = list(db.session.scalars(sa.select(StagedPhoto).where(StagedPhoto.received_on < limit)))
    _drop(rows)
    return len(rows)


# --- outbox files -----------------------------------------------------------------------


@dataclass
class ImportedItem:
    client_id: str
    kind: str
    title: str
    outcome: str  # created, duplicate, conflict, rejected...
    message: str
    fields: dict = field(default_factory=dict)


def read_file(raw: bytes) -> list[dict]:
    """An exported outbox file → its items. FieldError if it is not one."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        data = None
    if not isinstance(data, dict) or data.get("format") != FILE_FORMAT or not isinstance(data.get("items"), list):
        raise FieldError(400, "not_an_outbox", _("This file is not a file exported from the field-mode outbox."))
    if data.get("version") != FILE_VERSION:
        raise FieldError(400, "not_an_outbox", _("This outbox file comes from another version of the app."))
    return data["items"]


def import_item(item, user: User) -> ImportedItem:
    """One item of an outbox file: its photos staged, then received like a sync. Flushes."""
    title = item.get("title") if isinstance(item, dict) and isinstance(item.get("title"), str) else ""
    client_id = item.get("client_id") if isinstance(item, dict) and isinstance(item.get("client_id"), str) else "?"
    kind = item.get("kind") if isinstance(item, dict) and isinstance(item.get("kind"), str) else "?"
    try:
        sub, refs = parse_submission(item)
        blobs = {p.get("slot"): p.get("data") for p in item.get("photos") or [] if isinstance(p, dict)}
        for ref in refs:
            encoded = blobs.get(ref["slot"])
            if not isinstance(encoded, str):
                raise FieldError(422, "photos_missing", _("A photo is missing from the file."))
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise bad_request("photo") from None
            stage_photo(sub.client_id, ref["slot"], ref["sha"], data)
        outcome = receive(sub, refs, user)
    except FieldError as e:
        return ImportedItem(client_id, kind, title[:200], e.code, e.message, e.extra.get("fields") or {})
    return ImportedItem(client_id, kind, title[:200], outcome.status, outcome.message)
