"""Pictograms that can illustrate an option (static/pictograms/<name>.svg).

Single-colour, simple shapes that read on a cheap phone's screen and on paper. A pictogram
only ever comes with the option's text: it helps those who read little, it never replaces
the words, so its alternative text here is short and the option's label does the talking.
"""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

#: name → what it shows (the alternative text, and the label in the picker).
PICTOGRAMS = {
    "smiley-1": _l("Very sad face"),
    "smiley-2": _l("Sad face"),
    "smiley-3": _l("Neutral face"),
    "smiley-4": _l("Happy face"),
    "smiley-5": _l("Very happy face"),
    "yes": _l("Tick (yes)"),
    "no": _l("Cross (no)"),
    "home": _l("Home"),
    "building": _l("Public building"),
    "school": _l("School, book"),
    "shop": _l("Shop"),
    "work": _l("Work"),
    "health": _l("Health"),
    "shield": _l("Safety"),
    "light": _l("Street light"),
    "broom": _l("Cleanliness"),
    "tree": _l("Tree, green space"),
    "water": _l("Water"),
    "bench": _l("Bench"),
    "ball": _l("Sport, leisure"),
    "people": _l("People"),
    "family": _l("Family"),
    "child": _l("Child"),
    "elderly": _l("Elderly person"),
    "wheelchair": _l("Disability, accessibility"),
    "bus": _l("Bus, public transport"),
    "car": _l("Car"),
    "bike": _l("Bicycle"),
}

#: The faces of a smiley scale, from "very bad" (1) to "very good" (5).
SMILEY_SCALE = ("smiley-1", "smiley-2", "smiley-3", "smiley-4", "smiley-5")


def is_known(name: str) -> bool:
    return name in PICTOGRAMS


def static_path(name: str) -> str:
    return f"pictograms/{name}.svg"


def url(name: str) -> str:
    return url_for("static", filename=static_path(name))


def label(name: str) -> str:
    return str(PICTOGRAMS.get(name, ""))
