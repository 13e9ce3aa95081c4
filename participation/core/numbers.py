"""Reading whole numbers typed or posted by anyone. `str.isdigit()` accepts "²" or "٣", which
`int()` then refuses (a 500): only ASCII digits are read here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField


def is_ascii_digits(text: str) -> bool:
    return bool(text) and text.isascii() and text.isdigit()


#: Longer runs of digits are no id, count or amount (and int() refuses more than 4,300).
MAX_DIGITS = 18
#: The largest value of an INTEGER column on PostgreSQL, which every integer column here is: a
#: larger id or count in a query fails there (NumericValueOutOfRange, a 500) instead of finding
#: nothing, while SQLite takes it.
MAX_INT = 2**31 - 1


def parse_int(value) -> int | None:
    """The whole number in `value` (ASCII digits only, surrounding spaces allowed, at most
    MAX_INT), else None."""
    text = str(value if value is not None else "").strip()
    if not (is_ascii_digits(text) and len(text) <= MAX_DIGITS):
        return None
    number = int(text)
    return number if number <= MAX_INT else None



class WholeNumberField(IntegerField):
    """IntegerField for anything posted: ASCII digits only, at most MAX_DIGITS. WTForms' own
    reads a number of any length ("9" × 400), on which NumberRange then fails with an
    OverflowError (a 500) instead of putting an error next to the field."""

    def process_formdata(self, valuelist):
        if not valuelist or str(valuelist[0]).strip() == "":
            self.data = None
            return
        self.data = parse_int(valuelist[0])
        if self.data is None:
            raise ValueError(str(_l("Write a whole number, with digits only, e.g. 150.")))
