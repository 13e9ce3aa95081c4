"""Reading the observation form of a walk (the phone in the street, the facilitator's tablet).
Pure parsing: posted strings in, an `ObservationInput` and translated problems out; the rules
that need the database are in services.py (which checks everything again).

The form is meant to be sent again as it is (a retry on a poor connection, later the field-mode
outbox): its `client_id` names the submission, so the same form twice is one observation."""
from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..core.numbers import parse_int
from . import labels, services
from .models import LocationSource, Walk

#: Longest texts accepted (a paragraph typed on a phone is far shorter).
MAX_SEEN = 5000
MAX_QUOTE = 2000
MAX_ADDRESS = 300
MAX_CAPTION = 300
#: Location sources the page's script may set; without script, a stop or an address.
SCRIPT_SOURCES = {LocationSource.gps.value, LocationSource.map.value}
#: Text fields shown again as they were typed when the form comes back with a problem.
TEXT_FIELDS = ("client_id", "theme", "rating", "seen", "quote", "lat", "lon", "accuracy", "location_source",
               "waypoint", "address")


def new_client_id() -> str:
    """A fresh id for a form the server serves (the page's script may replace it with a UUID)."""
    return secrets.token_urlsafe(16)


@dataclass
class RecordAnswers:
    data: services.ObservationInput | None = None
    #: what was posted, to show the form again as it was
    raw: dict[str, str] = field(default_factory=dict)
    #: field name → translated message
    problems: dict[str, str] = field(default_factory=dict)


def blank(client_id: str | None = None) -> RecordAnswers:
    return RecordAnswers(raw={"client_id": client_id or new_client_id()})


def _float(text: str) -> float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_observation(form, walk: Walk, locale: str) -> RecordAnswers:
    """The posted observation; a value that is not one of the walk's options is a problem (a
    tampered or stale form), never a 500."""
    raw = {name: str(form.get(name, "")) for name in TEXT_FIELDS}
    out = RecordAnswers(raw=raw)
    problems = out.problems

    client_id = raw["client_id"].strip()
    if not services.CLIENT_ID_RE.match(client_id):
        problems["client_id"] = labels.error_message(services.WalkError("bad_client_id"))
        raw["client_id"] = new_client_id()

    theme_id = None
    if raw["theme"]:
        theme_id = parse_int(raw["theme"])
        if theme_id not in {t.id for t in walk.themes}:
            problems["theme"] = labels.error_message(services.WalkError("unknown_theme"))

    rating = None
    if raw["rating"]:
        rating = parse_int(raw["rating"])
        if rating not in labels.RATINGS:
            problems["rating"] = labels.error_message(services.WalkError("bad_rating"))

    seen, quote, address = raw["seen"].strip(), raw["quote"].strip(), raw["address"].strip()
    if len(seen) > MAX_SEEN:
        problems["seen"] = _("This text is too long: %(max)s characters at most.", max=MAX_SEEN)
    if len(quote) > MAX_QUOTE:
        problems["quote"] = _("This text is too long: %(max)s characters at most.", max=MAX_QUOTE)
    if len(address) > MAX_ADDRESS:
        problems["address"] = _("This text is too long: %(max)s characters at most.", max=MAX_ADDRESS)

    waypoint_id = None
    if raw["waypoint"]:
        waypoint_id = parse_int(raw["waypoint"])
        if waypoint_id not in {w.id for w in walk.waypoints}:
            problems["waypoint"] = labels.error_message(services.WalkError("unknown_waypoint"))

    lat = lon = None
    try:
        lat, lon = services.parse_position(raw["lat"], raw["lon"])
    except services.WalkError as e:
        problems["location"] = labels.error_message(e)
    accuracy = _float(raw["accuracy"].strip()) if raw["accuracy"].strip() else None
    accuracy_m = int(round(accuracy)) if accuracy is not None and 0 <= accuracy < 1_000_000 else None

    if lat is not None:
        source = LocationSource(raw["location_source"]) if raw["location_source"] in SCRIPT_SOURCES \
            else LocationSource.map
    elif waypoint_id is not None:
        source = LocationSource.waypoint
    elif address:
        source = LocationSource.address
    else:
        source = LocationSource.none

    if problems:
        return out
    out.data = services.ObservationInput(
        client_id=client_id, theme_id=theme_id, rating=rating, seen=seen, quote=quote, lat=lat, lon=lon,
        accuracy_m=accuracy_m if source is LocationSource.gps else None, location_source=source, address=address,
        waypoint_id=waypoint_id, locale=locale,
    )
    return out


def photo_pairs(files, form) -> list[tuple[object, str]]:
    """(file, caption) of each chosen photo. The form has rows of one file input and one caption
    (both lists posted in the same order, an empty file part for a row left empty)."""
    uploads = files.getlist("photo")
    captions = [str(c) for c in form.getlist("caption")]
    pairs = []
    for i, upload in enumerate(uploads):
        if upload is None or not upload.filename:
            continue
        caption = captions[i].strip()[:MAX_CAPTION] if i < len(captions) else ""
        pairs.append((upload, caption))
    return pairs
