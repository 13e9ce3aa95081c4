"""A contract's privacy notice: reading it (or knowing it is still to be written) and saving it."""
from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from flask import url_for

from ..core.territories import Contract
from ..core.users import User, utcnow
from ..extensions import db
from .models import PrivacyNotice

FIELDS = ("controller", "controller_address", "dpo_contact", "rights_contact", "purposes", "legal_basis",
          "other_information")
#: Without these the notice does not say who is responsible nor how to reach them.
REQUIRED = ("controller", "dpo_contact")


def notice_of(contract: Contract) -> PrivacyNotice | None:
    return db.session.scalar(sa.select(PrivacyNotice).where(PrivacyNotice.contract_id == contract.id))


def is_complete(notice: PrivacyNotice | None) -> bool:
    return notice is not None and all((getattr(notice, f) or "").strip() for f in REQUIRED)


def save(contract: Contract, values: dict, user: User) -> PrivacyNotice:
    """Create or update; flushes. A new notice is written in the contract's language."""
    notice = notice_of(contract)
    if notice is None:
        notice = PrivacyNotice(contract_id=contract.id, original_locale=contract.default_locale)
        db.session.add(notice)
    for name in FIELDS:
        setattr(notice, name, (values.get(name) or "").strip())
    notice.updated_by_id = user.id
    notice.updated_at = utcnow()
    db.session.flush()
    return notice


def slug_of(contract_id: int) -> str | None:
    # Through the identity map: the page's objects have usually loaded their contract already.
    contract = db.session.get(Contract, contract_id)
    return contract.slug if contract is not None else None


def translations_url(contract: Contract) -> str | None:
    """The shared translation page, once the notice is registered there (admin/translations.py)."""
    notice = notice_of(contract)
    if notice is None or not _translatable_registered():
        return None
    return url_for("admin.translations", entity=PrivacyNotice.__tablename__, entity_id=notice.id)


@lru_cache(maxsize=1)
def _translatable_registered() -> bool:
    from ..admin.translations import TRANSLATABLE

    return PrivacyNotice.__tablename__ in TRANSLATABLE
