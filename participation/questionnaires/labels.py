"""Translated labels of questionnaire states and kinds, for templates and exports."""
from flask_babel import lazy_gettext as _l

from ..core.channels import Assistance, Channel
from ..core.profiles import AGE_BANDS, GENDERS  # noqa: F401 (re-exported)
from .models import Access, Kind, Moderation, Purpose, ScaleStyle, Status

STATUSES = {Status.draft: _l("Draft"), Status.open: _l("Open for answers"), Status.closed: _l("Closed")}
PURPOSES = {Purpose.consultation: _l("Consultation"), Purpose.evaluation: _l("Evaluation of the contract")}
ACCESS = {Access.open: _l("Anyone with the link or QR code"), Access.codes: _l("Single-use answer codes")}
KINDS = {
    Kind.single: _l("Single choice"),
    Kind.multiple: _l("Multiple choice"),
    Kind.scale: _l("Scale"),
    Kind.yes_no: _l("Yes / no"),
    Kind.ranking: _l("Ranking"),
    Kind.number: _l("Number"),
    Kind.short_text: _l("Short text"),
    Kind.long_text: _l("Long text"),
    Kind.date: _l("Date"),
    Kind.photo: _l("Photo"),
    Kind.location: _l("Location"),
}
SCALE_STYLES = {ScaleStyle.likert: _l("Agreement / satisfaction (5 points)"), ScaleStyle.smileys: _l("Smileys (5 points)")}
MODERATION = {Moderation.pending: _l("Waiting for moderation"), Moderation.published: _l("Published"),
              Moderation.rejected: _l("Not published")}
CHANNELS = {Channel.web: _l("online"), Channel.assisted: _l("assisted"), Channel.paper: _l("paper")}
ASSISTANCE = {Assistance.read_aloud: _l("read aloud"), Assistance.translated: _l("translated"),
              Assistance.written_for: _l("written for the person")}
