"""Reading whole numbers typed or posted by anyone. `str.isdigit()` accepts "²" or "٣", which
`int()` then refuses (a 500): only ASCII digits are read here."""
from __future__ import annotations


def is_ascii_digits(text: str) -> bool:
    return bool(text) and text.isascii() and text.isdigit()


def parse_int(value) -> int | None:
    """The whole number in `value` (ASCII digits only, surrounding spaces allowed), else None."""
    text = str(value if value is not None else "").strip()
    return int(text) if is_ascii_digits(text) else None
