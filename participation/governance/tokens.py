"""Evaluators' API tokens: one per tool, per person and per contract, read-only (the API is
governance_api). The token is shown once when made; only its SHA-256 is kept, so a copy of
the database gives no working token. Services flush; the view (or the API's request) commits."""
from __future__ import annotations

import hashlib
import secrets
from datetime import date

import sqlalchemy as sa

from ..core import permissions as perm
from ..core.territories import Contract
from ..core.users import User
from ..extensions import db
from . import access
from .models import ApiToken

#: Tokens start with this, so that they are recognised in a leaked file or a log.
PREFIX = "pgov_"
#: Longer "tokens" are not ours: not even hashed.
MAX_LENGTH = 200


class TokenError(ValueError):
    """Refused: the user may not hold a token on this contract."""


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue(user: User, contract: Contract, label: str) -> tuple[ApiToken, str]:
    """A new token for `user` on `contract`: the row, and the token itself (to show once)."""
    if not access.can_hold_token(user, contract):
        raise TokenError("holder")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, contract_id=contract.id, label=label.strip()[:100], token_hash=digest(raw),
                     created_on=date.today())
    db.session.add(token)
    db.session.flush()
    return token, raw


def verify(raw: str) -> ApiToken | None:
    """The active token whose holder may still hold it, or None. Records the day it was used
    (the day only). The caller commits.

    The token is found by the SHA-256 of what was sent, through the unique index: a timing
    difference could at most tell how a guessed hash compares with stored hashes, which says
    nothing about any token, so no constant-time comparison is needed here."""
    if not raw or not isinstance(raw, str) or len(raw) > MAX_LENGTH:
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest(raw)))
    if token is None or token.revoked_on is not None:
        return None
    user, contract = token.user, token.contract
    if not user.is_enabled or not access.can_hold_token(user, contract):
        return None
    today = date.today()
    if token.last_used_on != today:
        token.last_used_on = today
        db.session.flush()
    return token


def revoke(token: ApiToken) -> None:
    if token.revoked_on is None:
        token.revoked_on = date.today()
        db.session.flush()


def can_revoke(user: User, token: ApiToken) -> bool:
    """Holders revoke their own tokens (even after losing their role); the contract's admins
    revoke anyone's in their contract."""
    return token.user_id == user.id or perm.can_administer(user, token.contract.scope)


def tokens_of(user: User, contract: Contract) -> list[ApiToken]:
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.contract_id == contract.id)
        .order_by(ApiToken.revoked_on.is_not(None), ApiToken.created_on.desc(), ApiToken.id.desc())))


def others_tokens(user: User, contract: Contract) -> list[ApiToken]:
    """The other holders' tokens of the contract, for its admins (to revoke one); else none."""
    if not perm.can_administer(user, contract.scope):
        return []
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.contract_id == contract.id, ApiToken.user_id != user.id)
        .order_by(ApiToken.revoked_on.is_not(None), ApiToken.created_on.desc(), ApiToken.id.desc())))
