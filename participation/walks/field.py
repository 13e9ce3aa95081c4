"""Field mode for walks: observations queued on a tablet with no connection (kind
"walk_observation"), sent later through `field.services.receive`.

The offline form is the staff recording page itself (`walks_admin.record`), marked for the
outbox: it already carries a client id, and `services.record_observation` is idempotent by it."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core.users import User
from ..extensions import db
from ..field.registry import Applied, FieldForbidden, FieldRejected, OfflineForm, Submission
from . import access, labels, record_forms, services
from .models import Walk, WalkStatus

KIND = "walk_observation"
FORM_VERSION = 1


class WalkObservations:
    kind = KIND
    label = _l("Walk observations")
    form_version = FORM_VERSION
    versions = frozenset({FORM_VERSION})

    def apply(self, submission: Submission, user: User) -> Applied:
        walk = submission.target_row("walk_id", Walk)
        if walk is None or not access.can_record(user, walk):
            raise FieldForbidden(_("You may not record observations on this walk."))
        if walk.status is WalkStatus.published:
            raise FieldRejected(labels.error_message(services.WalkError("walk_published")))
        fields = submission.fields.copy()
        fields["client_id"] = submission.client_id
        answers = record_forms.parse_observation(fields, walk, submission.locale)
        if answers.problems:
            raise FieldRejected(next(iter(answers.problems.values())), fields=answers.problems)
        captions = [str(c).strip()[:record_forms.MAX_CAPTION] for c in fields.getlist("caption")]
        photos = [(photo, captions[slot] if slot < len(captions) else "")
                  for slot, photo in submission.photos.get("photo", [])]
        try:
            obs, _created = services.record_observation(walk, answers.data, photos, user=user)
        except services.WalkError as e:
            raise FieldRejected(labels.error_message(e)) from None
        return Applied(_("%(walk)s: observation no. %(number)s recorded.", walk=walk.title, number=obs.number),
                       ref=f"{KIND}:{obs.id}")

    def offline_forms(self, user: User) -> list[OfflineForm]:
        walks = db.session.scalars(
            sa.select(Walk).where(Walk.status != WalkStatus.published).order_by(Walk.walked_on, Walk.id))
        return [
            OfflineForm(kind=KIND, title=walk.title,
                        detail=f"{walk.neighbourhood.name} · {format_date(walk.walked_on, 'medium')}",
                        url=url_for("walks_admin.record", walk_id=walk.id))
            for walk in walks if access.can_record(user, walk)
        ]


ADAPTER = WalkObservations()
