"""Screening of residents' free text before it is stored: e-mail addresses and phone numbers
are masked (a resident who writes "call me on 06…" in an anonymous questionnaire must not be
identifiable in the results). The text then waits for a moderator before it is shown."""
from __future__ import annotations

import re

EMAIL_MASK = "[e-mail]"
PHONE_MASK = "[téléphone]"

_EMAIL = re.compile(r"[\w.+-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\s*\.\s*[\w-]+)+", re.IGNORECASE)
# Phone numbers: 8+ digits, possibly with spaces, dots, dashes, parentheses and a leading +
# or 00 (French 06 12 34 56 78, +33 6 12 34 56 78, 0033-6…, +212 6…, (04) 91…). Eastern
# Arabic digits count too.
_DIGIT = r"[0-9٠-٩۰-۹]"
_PHONE = re.compile(rf"(?<![\w])(?:\+|00)?\(?{_DIGIT}(?:[\s.\-()/]{{0,2}}{_DIGIT}){{7,14}}(?![\w])")


def mask_personal_data(text: str) -> str:
    text = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(PHONE_MASK, text)
