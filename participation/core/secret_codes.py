"""Single-use secret codes printed on QR slips (voter codes, answer codes): generated at
random, shown once, stored only as a keyed hash (HMAC under BALLOT_KEY or SECRET_KEY)."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app

from ..links.models import ALPHABET

CODE_LENGTH = 10  # 31**10 ≈ 8e14: not guessable at any rate a server allows


def _key() -> bytes:
    return (current_app.config.get("BALLOT_KEY") or current_app.config["SECRET_KEY"]).encode()


def keyed_hash(purpose: str, value: str) -> str:
    return hmac.new(_key(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Upper case, separators and look-alike-free alphabet only (what a person may type)."""
    return "".join(ch for ch in code.upper() if ch in ALPHABET)


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"
