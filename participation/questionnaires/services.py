"""Recording answers: one `Response` and its `Answer` rows, whatever the channel (a resident
on the web, a mediator helping, a clerk typing a paper form). Services flush; the view commits.

What is never stored, by construction: an IP, a user agent, an account (not even the
mediator's), a time of day. The day is today, or the day written on a paper form.
Free text (answers, "other" texts, photo captions, place descriptions) is screened
(`screening.mask_personal_data`) and waits for moderation. A point is rounded to about 100 m.

A retried submission (double tap, network retry) carries the same one-time nonce: its keyed
hash is unique in `Response.nonce_hash`, so it is recognised and never recorded twice.
Single-use codes: the code's marker (`AnswerCodeUse`, its id only) is written in the same
transaction; its primary key refuses a second use even when two sessions race.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Mapping

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..core.channels import Assistance, Channel
from ..core.secret_codes import keyed_hash
from ..core.territories import Neighbourhood, neighbourhoods_in
from ..extensions import db
from . import codes, logic
from .models import (
    Access, AgeBand, Answer, CHOICE_KINDS, Gender, Kind, Moderation, Questionnaire, QuestionnaireVersion, Response,
    Status, TEXT_KINDS,
)
from .screening import mask_personal_data

NONCE_MIN_LENGTH = 16


class ResponseError(ValueError):
    """A submission refused as a whole; `code` names the reason for a translated message."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


class PhotoRejected(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class Submitted:
    response: Response | None
    #: The same form had already been recorded (retried POST): nothing new was written.
    already: bool = False


def scope_neighbourhoods(questionnaire: Questionnaire) -> list[Neighbourhood]:
    """The contract's neighbourhoods inside the questionnaire's scope, by name."""
    return neighbourhoods_in(questionnaire.scope)


def nonce_hash(questionnaire: Questionnaire, nonce: str) -> str:
    return keyed_hash("questionnaire-nonce", f"{questionnaire.id}:{nonce}")


def already_recorded(questionnaire: Questionnaire, nonce: str) -> bool:
    if len(nonce or "") < NONCE_MIN_LENGTH:
        return False
    found = db.session.scalar(sa.select(Response.id).where(Response.nonce_hash == nonce_hash(questionnaire, nonce)))
    return found is not None


#: How long after collecting an answer offline (assisted, field mode) a tablet may still send it.
FIELD_SYNC_DAYS = timedelta(days=14)


def accepts(questionnaire: Questionnaire, channel: Channel, today: date) -> bool:
    """Residents and mediators answer while it is open; paper forms collected while it was
    open can still be typed in after it closed (never into a draft)."""
    if channel == Channel.paper:
        return questionnaire.status != Status.draft
    return logic.is_open(questionnaire, today)


# --- photos ----------------------------------------------------------------------------


def photo_store():
    """Residents' questionnaire photos live apart from the public /media store, outside
    UPLOAD_DIR (a front server may serve that directory as static files): staff see them
    (moderators; result readers once published), never the public."""
    from ..core.photos import PhotoStore

    config = current_app.config
    return PhotoStore(config.get("PRIVATE_UPLOAD_DIR") or f"{config['UPLOAD_DIR'].rstrip('/')}-private")


def store_photo(upload) -> str:
    """Check, re-encode (EXIF stripped) and store an uploaded photo; its sha256.

    Called when the photo's section is sent, so that the answering flow stays stateless: only
    the hash travels in the form. The store is content-addressed and knows no person."""
    from ..core.photos import PhotoError, process_photo

    try:
        photo = process_photo(upload, max_bytes=current_app.config["MAX_PHOTO_BYTES"])
    except PhotoError as e:
        raise PhotoRejected(e.message) from e
    return photo_store().save(photo)


def purge_unsent_photos(older_than: timedelta) -> int:
    """Delete the photos of questionnaires that were never sent: stored when their screen was
    posted, attached to no answer, and older than `older_than` (an unfinished questionnaire
    keeps its photo that long). Returns how many were removed."""
    import time

    store = photo_store()
    cutoff = time.time() - older_than.total_seconds()
    on_disk = {p.stem: p for p in store.directory.glob("??/*.jpg") if p.stat().st_mtime < cutoff}
    if not on_disk:
        return 0
    kept = set(db.session.scalars(sa.select(Answer.photo_sha256).where(Answer.photo_sha256.in_(list(on_disk)))))
    return sum(store.delete(sha) for sha in on_disk if sha not in kept)


def photo_exists(sha: str) -> bool:
    try:
        return photo_store().exists(sha)
    except ValueError:
        return False


# --- submitting ------------------------------------------------------------------------


def submit_response(
    questionnaire: Questionnaire,
    version: QuestionnaireVersion,
    answers: Mapping[str, logic.Value],
    *,
    channel: Channel,
    locale: str,
    nonce: str,
    profile: logic.Profile | None = None,
    assistance: Iterable[Assistance] = (),
    submitted_on: date | None = None,
    collected_on: date | None = None,
    picked_neighbourhood_id: int | None = None,
    code: str | None = None,
) -> Submitted:
    """Record one response. `answers` are the visible questions' values (see logic.check).

    Raises ResponseError; after one, the caller rolls the transaction back (a refused code
    may have left a failed flush behind)."""
    if len(nonce or "") < NONCE_MIN_LENGTH:
        raise ResponseError("nonce")
    if already_recorded(questionnaire, nonce):
        return Submitted(None, already=True)
    today = date.today()
    if version.questionnaire_id != questionnaire.id or version.id != questionnaire.current_version.id:
        raise ResponseError("version")
    field_day = collected_on if channel == Channel.assisted else None
    if field_day is not None:
        # Collected with a person on a tablet with no connection, sent days later: it counts on
        # the day it was collected, if the questionnaire was open then.
        if not today - FIELD_SYNC_DAYS <= field_day <= today:
            raise ResponseError("date")
        if not logic.was_open_on(questionnaire, field_day, today):
            raise ResponseError("closed")
    elif not accepts(questionnaire, channel, today):
        raise ResponseError("closed")
    assistance = frozenset(assistance)
    if assistance and channel != Channel.assisted:
        raise ResponseError("assistance")
    day = field_day or submitted_on or today
    if channel != Channel.paper and day != (field_day or today):
        raise ResponseError("date")
    if day > today:
        raise ResponseError("date_future")
    profile = profile or logic.Profile()
    neighbourhood_id = _neighbourhood(questionnaire, profile, picked_neighbourhood_id, channel)
    questions = {q.code: q for q in version.questions}
    unknown = set(answers) - set(questions)
    if unknown:
        raise ResponseError("unknown_question", question=sorted(unknown)[0])
    # The rules hold whoever calls: answers to hidden questions are dropped, and every
    # visible required question has an answer.
    shown = logic.plan(version.sections, answers)
    answers = shown.answers
    missing = [q.code for q in shown.questions if q.required and q.code not in answers]
    # A paper form is what it is: nobody could insist on an answer when it was filled in.
    if missing and channel != Channel.paper:
        raise ResponseError("required", question=missing[0])
    for code_, value in answers.items():
        if isinstance(value, logic.Photo) and not photo_exists(value.sha256):
            raise ResponseError("photo_missing", question=code_)

    # Shared lock on the questionnaire: the builder cannot change this version's structure in
    # place while the response is written, and a version made meanwhile is seen here.
    db.session.execute(sa.select(Questionnaire.id).where(Questionnaire.id == questionnaire.id).with_for_update(read=True))
    latest = db.session.scalar(
        sa.select(sa.func.max(QuestionnaireVersion.number)).where(QuestionnaireVersion.questionnaire_id == questionnaire.id))
    if latest != version.number:
        raise ResponseError("version")
    _use_code(questionnaire, code)
    response = Response(
        questionnaire_id=questionnaire.id, version_id=version.id, channel=channel, locale=locale[:8],
        submitted_on=day, neighbourhood_id=neighbourhood_id,
        age_band=AgeBand(profile.age_band) if profile.age_band else None,
        gender=Gender(profile.gender) if profile.gender else None,
        helped_read_aloud=Assistance.read_aloud in assistance,
        helped_translated=Assistance.translated in assistance,
        helped_written_for=Assistance.written_for in assistance,
        nonce_hash=nonce_hash(questionnaire, nonce),
    )
    common = {"neighbourhood_id": neighbourhood_id, "channel": channel, "locale": response.locale, "submitted_on": day}
    for question in version.questions:
        value = answers.get(question.code)
        if value is not None:
            for row in _rows(question, value):
                response.answers.append(Answer(question_id=question.id, **common, **row))
    db.session.add(response)
    try:
        db.session.flush()
    except IntegrityError as e:
        # The same nonce recorded meanwhile by a concurrent request (the view looks again).
        raise ResponseError("conflict") from e
    return Submitted(response)


def _neighbourhood(questionnaire, profile: logic.Profile, picked_id: int | None, channel: Channel) -> int | None:
    """Declared residence first; else the questionnaire's own neighbourhood; else the one the
    mediator picked (assisted and paper only)."""
    allowed = {n.id for n in scope_neighbourhoods(questionnaire)}
    if profile.residence_id is not None:
        if not questionnaire.ask_residence or profile.residence_id not in allowed:
            raise ResponseError("neighbourhood")
        return profile.residence_id
    if questionnaire.neighbourhood_id:
        return questionnaire.neighbourhood_id
    if picked_id is not None:
        if channel == Channel.web or picked_id not in allowed:
            raise ResponseError("neighbourhood")
        return picked_id
    return None


def _use_code(questionnaire: Questionnaire, code: str | None) -> None:
    if questionnaire.access != Access.codes:
        return
    if not code:
        raise ResponseError("code_missing")
    found = codes.find_code(questionnaire, code)
    if found is None:
        raise ResponseError("code_invalid")
    if codes.is_used(found):
        raise ResponseError("code_used")
    try:
        codes.mark_used(found)
    except IntegrityError as e:
        raise ResponseError("code_used") from e


def _screened(text: str) -> dict:
    return {"text": mask_personal_data(text), "moderation": Moderation.pending}


def _rows(question, value) -> list[dict]:
    by_code = {o.code: o for o in question.options}
    kind = question.kind
    if kind == Kind.ranking:
        return [{"option_id": by_code[c].id, "rank": rank} for rank, c in enumerate(value.codes, 1)]
    if kind in CHOICE_KINDS:
        rows = []
        for c in value.codes:
            option = by_code[c]
            row = {"option_id": option.id}
            if option.is_other:
                row.update(_screened(value.other))
            rows.append(row)
        return rows
    if kind == Kind.number:
        return [{"number": float(value)}]
    if kind in TEXT_KINDS:
        return [_screened(value)]
    if kind == Kind.date:
        return [{"day": value}]
    if kind == Kind.photo:
        # The caption may be empty: the photo itself waits for moderation all the same.
        return [{"photo_sha256": value.sha256, **_screened(value.caption)}]
    if kind == Kind.location:
        row = {
            "latitude": round(value.latitude, 3) if value.latitude is not None else None,
            "longitude": round(value.longitude, 3) if value.longitude is not None else None,
        }
        if value.place:
            row.update(_screened(value.place))
        return [row]
    raise ValueError(f"unknown kind {kind}")
