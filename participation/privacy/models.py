"""The privacy notice a contract publishes to residents (RGPD articles 13 and 14)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.content_i18n import Translatable
from ..core.territories import Contract
from ..core.users import User, utcnow
from ..extensions import db


class PrivacyNotice(Translatable, db.Model):
    """One per contract. What the law requires the controller to tell the people concerned; the
    retention periods are not typed here but shown from the schedule the purge applies."""

    __tablename__ = "privacy_notices"
    __translatable__ = ("purposes", "legal_basis", "other_information")

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), unique=True)
    #: The data controller (responsable de traitement), e.g. the intercommunality.
    controller: Mapped[str] = mapped_column(sa.String(200), default="")
    controller_address: Mapped[str] = mapped_column(sa.Text, default="")
    #: How to reach the data protection officer (e-mail or postal address).
    dpo_contact: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Where residents send requests to exercise their rights (defaults to the DPO when empty).
    rights_contact: Mapped[str] = mapped_column(sa.String(300), default="")
    purposes: Mapped[str] = mapped_column(sa.Text, default="")
    legal_basis: Mapped[str] = mapped_column(sa.Text, default="")
    other_information: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    contract: Mapped[Contract] = relationship()
    updated_by: Mapped[User | None] = relationship()
