"""Reading whole numbers typed or posted by anyone. `str.isdigit()` accepts "²" or "٣", which
`int()` then refuses (a 500): only ASCII digits are read here."""
from __future__ import annotations


def is_ascii_digits(text: str) -> bool:
    return bool(text) and text.isascii() and text.isdigit()


#: Longer runs of digits are no id, count or amount (and int() refuses more than 4,300).
MAX_DIGITS = 18


def parse_int(value) -> int | None:
    """The whole number in `value` (ASCII digits only, surrounding spaces allowed, at most
    MAX_DIGITS), else None."""
    text = str(value if value is not None else "").strip()
    return int(text) if is_ascii_digits(text) and len(text) <= MAX_DIGITS else None
