"""Single-use answer codes: one response per code, and no way back from a response to its code.

Using a code writes an `AnswerCodeUse` marker (the code's id only) in the same transaction as
the response; the marker's primary key makes a second use impossible.
"""
from __future__ import annotations

import sqlalchemy as sa

from ..core.secret_codes import CODE_LENGTH, format_code, keyed_hash as _keyed_hash, new_code, normalise_code  # noqa: F401
from ..extensions import db
from .models import AnswerCode, AnswerCodeBatch, AnswerCodeUse, Questionnaire

PURPOSE = "answer-code"


def keyed_hash(code: str) -> str:
    return _keyed_hash(PURPOSE, normalise_code(code))


def create_batch(questionnaire: Questionnaire, size: int, label: str = "", created_by=None) -> tuple[AnswerCodeBatch, list[str]]:
    """Make `size` codes; the clear codes are returned once (to print) and never stored."""
    batch = AnswerCodeBatch(questionnaire_id=questionnaire.id, size=size, label=label,
                            created_by_id=created_by.id if created_by else None)
    db.session.add(batch)
    db.session.flush()
    codes = [new_code() for _ in range(size)]
    db.session.execute(sa.insert(AnswerCode), [
        {"questionnaire_id": questionnaire.id, "batch_id": batch.id, "code_hash": keyed_hash(c)} for c in codes
    ])
    return batch, codes


def find_code(questionnaire: Questionnaire, code: str) -> AnswerCode | None:
    if len(normalise_code(code)) != CODE_LENGTH:
        return None
    return db.session.scalar(sa.select(AnswerCode).where(
        AnswerCode.questionnaire_id == questionnaire.id, AnswerCode.code_hash == keyed_hash(code)))


def is_used(code: AnswerCode) -> bool:
    return db.session.get(AnswerCodeUse, code.id) is not None


def mark_used(code: AnswerCode) -> None:
    """Flushes: an IntegrityError here means the code was used meanwhile (the caller rolls back)."""
    db.session.add(AnswerCodeUse(code_id=code.id))
    db.session.flush()
