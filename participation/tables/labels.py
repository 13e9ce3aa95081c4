"""Translated labels of tables de quartier, for templates, forms and messages."""
from flask_babel import gettext as _, lazy_gettext as _l

from .models import MeetingStatus, MinutesStatus

MEETING_STATUSES = {
    MeetingStatus.planned: _l("Planned"),
    MeetingStatus.held: _l("Held"),
    MeetingStatus.cancelled: _l("Cancelled"),
}
MINUTES_STATUSES = {
    MinutesStatus.draft: _l("Draft, not public"),
    MinutesStatus.published: _l("Published"),
}

_ERRORS = {
    "no_neighbourhood": _l("Tick at least one neighbourhood."),
    "two_contracts": _l("The neighbourhoods of a table must belong to one contrat de ville."),
    "neighbourhood_not_managed": _l("You cannot add a neighbourhood where you do not run participation."),
    "facilitator_elsewhere": _l("A facilitator must work in this contrat de ville."),
    "no_name": _l("Give the table a name."),
    "no_title": _l("Give the agenda item a title."),
    "end_before_start": _l("The end time must come after the start time."),
    "unknown_language": _l("Choose languages from the list."),
    "minutes_empty": _l("Write the minutes of at least one agenda item before publishing them."),
    "meeting_cancelled": _l("A cancelled meeting has no minutes to publish."),
    "already_published": _l("These minutes are already published."),
    "not_published": _l("These minutes are not published."),
}


def error_message(error) -> str:
    text = _ERRORS.get(getattr(error, "code", ""))
    return str(text) if text is not None else _("This change could not be made.")
