"""Translated labels of exploratory walks, the default observation grid, and error messages."""
from flask_babel import gettext as _, lazy_gettext as _l

from .models import GroupType, LocationSource, Moderation, PointOutcome, TimeOfDay, WalkStatus

WALK_STATUSES = {
    WalkStatus.planned: _l("Planned"),
    WalkStatus.walked: _l("Walked, report in progress"),
    WalkStatus.published: _l("Report published"),
}
TIMES_OF_DAY = {TimeOfDay.day: _l("By day"), TimeOfDay.night: _l("After dark")}
GROUP_TYPES = {
    GroupType.women: _l("Women"),
    GroupType.seniors: _l("Older people"),
    GroupType.youth: _l("Young people"),
    GroupType.parents: _l("Parents with children"),
    GroupType.disabled: _l("People with disabilities"),
    GroupType.mixed: _l("Open to all"),
    GroupType.other: _l("Other group"),
}
LOCATION_SOURCES = {
    LocationSource.gps: _l("Position of the device"),
    LocationSource.map: _l("Placed on the map"),
    LocationSource.waypoint: _l("At a stop of the route"),
    LocationSource.address: _l("Address given"),
    LocationSource.none: _l("No location"),
}
MODERATIONS = {
    Moderation.pending: _l("To check"),
    Moderation.published: _l("Public"),
    Moderation.hidden: _l("Kept private"),
}
POINT_OUTCOMES = {
    PointOutcome.improved: _l("Done: it has improved"),
    PointOutcome.partly: _l("Partly done"),
    PointOutcome.unchanged: _l("Nothing has changed"),
    PointOutcome.worse: _l("It has got worse"),
    PointOutcome.not_checked: _l("Not checked"),
}
#: The smiley scale: value → (emoji, words). Words are always shown: never the picture alone.
RATINGS = {
    1: ("😠", _l("Very bad")),
    2: ("🙁", _l("Bad")),
    3: ("😐", _l("So-so")),
    4: ("🙂", _l("Good")),
    5: ("😀", _l("Very good")),
}

#: The default observation grid: (code, name, prompts). Names and prompts are copied into each
#: new walk (in its language, with translations into every shipped language), then editable.
DEFAULT_THEMES = (
    ("lighting", _l("Lighting"),
     _l("Is the street lit everywhere, including paths and entrances?\nAre lamps broken or hidden by trees?")),
    ("cleanliness", _l("Cleanliness"),
     _l("Are there rubbish, bulky items, dog mess or tags?\nAre bins emptied and in good repair?")),
    ("accessibility", _l("Accessibility and getting around"),
     _l("Can a wheelchair or a pushchair pass?\nAre pavements wide, crossings safe, kerbs lowered?")),
    ("signage", _l("Signage"),
     _l("Can you find your way: street names, directions, building numbers?")),
    ("visibility", _l("Visibility and isolation"),
     _l("Can you see and be seen?\nAre there dead ends, hidden corners, places where nobody would hear you?")),
    ("greenery", _l("Greenery"),
     _l("Are there trees, shade, green spaces?\nAre they looked after?")),
    ("amenities", _l("Amenities and services"),
     _l("Benches, toilets, shops, bus stops, play areas: what is there, what is missing, what is broken?")),
    ("safety", _l("Feeling of safety"),
     _l("Do you feel safe here, by day and after dark?\nWhat would make you feel safer?")),
    ("uses", _l("Uses of the space"),
     _l("Who uses this place, and who avoids it?\nIs it shared between women and men, young and old?")),
)

_ERRORS = {
    "no_title": _l("Give the walk a title."),
    "no_neighbourhood": _l("Choose the neighbourhood of the walk."),
    "neighbourhood_not_managed": _l("You cannot prepare a walk in a neighbourhood where you do not run participation."),
    "facilitator_elsewhere": _l("A facilitator must work in this contrat de ville."),
    "no_theme_name": _l("Give the theme a name."),
    "theme_exists": _l("The grid already has a theme with this name."),
    "theme_in_use": _l("Observations use this theme: it cannot be removed."),
    "no_label": _l("Give the stop a name."),
    "bad_position": _l("This position is not valid. Enter a latitude between -90 and 90 and a longitude between -180 and 180."),
    "half_position": _l("Give both the latitude and the longitude, or neither."),
    "bad_rating": _l("Choose a face on the scale, or none."),
    "empty_observation": _l("Say what you saw, or add a photo."),
    "unknown_theme": _l("Choose a theme of this walk's grid."),
    "unknown_waypoint": _l("Choose a stop of this walk's route."),
    "recording_closed": _l("Recording is closed for this walk. Ask the facilitator."),
    "walk_published": _l("The report of this walk is published: observations can no longer be added."),
    "too_many_photos": _l("An observation can have at most %(max)s photos."),
    "client_id_reused": _l("This observation was already sent with different content. Reload the page and send it again."),
    "bad_client_id": _l("This form is out of date. Reload the page and try again."),
    "no_observation": _l("Choose at least one observation."),
    "observation_elsewhere": _l("Choose observations of this walk."),
    "not_walked": _l("The walk has not taken place yet."),
    "nothing_to_publish": _l("Publish at least one observation before publishing the report."),
    "follows_elsewhere": _l("A follow-up walk must be in the same neighbourhood as the walk it follows."),
    "not_a_follow_up": _l("This walk does not follow up another walk."),
    "no_recommendation_title": _l("Give the recommendation a title."),
    "too_many_participants": _l("The profile counts more walkers than the total."),
    "negative": _l("Counts cannot be negative."),
    "report_published": _l("The report is published: withdraw it before changing the walk back to planned."),
    "busy": _l("Many observations arrived at once. Send this one again."),
}


def error_message(error) -> str:
    code = getattr(error, "code", "")
    text = _ERRORS.get(code)
    if text is None:
        return _("This change could not be made.")
    return str(text) % getattr(error, "params", {}) if getattr(error, "params", None) else str(text)


def rating_words(value: int | None) -> str:
    return str(RATINGS[value][1]) if value in RATINGS else _("Not rated")
