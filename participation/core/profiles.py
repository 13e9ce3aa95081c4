"""The optional, anonymous profile a resident may give (every mechanism counts by it)."""
import enum

from flask_babel import lazy_gettext as _l


class AgeBand(enum.Enum):
    under_18 = "under_18"
    a18_24 = "18_24"
    a25_39 = "25_39"
    a40_59 = "40_59"
    a60_74 = "60_74"
    a75_plus = "75_plus"


class Gender(enum.Enum):
    woman = "woman"
    man = "man"
    other = "other"


AGE_BANDS = {
    AgeBand.under_18: _l("under 18"),
    AgeBand.a18_24: _l("18 to 24"),
    AgeBand.a25_39: _l("25 to 39"),
    AgeBand.a40_59: _l("40 to 59"),
    AgeBand.a60_74: _l("60 to 74"),
    AgeBand.a75_plus: _l("75 or over"),
}
GENDERS = {Gender.woman: _l("woman"), Gender.man: _l("man"), Gender.other: _l("other / non-binary")}
