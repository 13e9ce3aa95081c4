"""Versions of a questionnaire: whether one has answers, and the copy a structural change is
made on when it has (see `builder`). The copy keeps everything a later analysis follows a
question by: section order, question and option codes, conditions (by code), référentiel tags,
and the content translations of every copied object."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..core.content_i18n import ContentTranslation
from ..extensions import db
from .models import Questionnaire, QuestionnaireVersion, Response


def has_answers(version: QuestionnaireVersion) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(Response.version_id == version.id)))


def response_counts(questionnaire: Questionnaire) -> dict[int, int]:
    """{version id: number of responses}."""
    return dict(db.session.execute(
        sa.select(Response.version_id, sa.func.count()).where(Response.questionnaire_id == questionnaire.id)
        .group_by(Response.version_id)).all())


@dataclass
class Workspace:
    """The version a structural change is applied to, and the copies of the objects it was
    asked on (identity when the version had no answers)."""

    version: QuestionnaireVersion
    copies: dict = field(default_factory=dict)
    created: bool = False

    def __call__(self, obj):
        return self.copies.get((obj.__tablename__, obj.id), obj)


def _clone(obj, **links):
    skip = {"id", "version_id", "section_id", "question_id"}
    values = {a.key: getattr(obj, a.key) for a in type(obj).__mapper__.column_attrs if a.key not in skip}
    if values.get("condition_values") is not None:
        values["condition_values"] = list(values["condition_values"])
    return type(obj)(**values, **links)


def copy_version(source: QuestionnaireVersion, note: str) -> Workspace:
    """Version number + 1: the same sections, questions, options (codes, conditions, tags)
    and their content translations."""
    questionnaire = source.questionnaire
    number = max(v.number for v in questionnaire.versions) + 1
    new = QuestionnaireVersion(questionnaire=questionnaire, number=number, note=note[:300])
    db.session.add(new)
    db.session.flush()
    pairs = []
    with db.session.no_autoflush:
        for section in source.sections:
            new_section = _clone(section, version=new)
            pairs.append((section, new_section))
            for question in section.questions:
                new_question = _clone(question, section=new_section, version_id=new.id)
                pairs.append((question, new_question))
                pairs += [(o, _clone(o, question=new_question)) for o in question.options]
        db.session.add_all(copy for _old, copy in pairs)
    db.session.flush()
    ids: dict[str, dict[int, int]] = defaultdict(dict)
    for old, copy in pairs:
        ids[old.__tablename__][old.id] = copy.id
    for table, mapping in ids.items():
        rows = db.session.execute(sa.select(
            ContentTranslation.entity_id, ContentTranslation.field, ContentTranslation.locale, ContentTranslation.text,
        ).where(ContentTranslation.entity_type == table, ContentTranslation.entity_id.in_(mapping))).all()
        if rows:
            db.session.execute(sa.insert(ContentTranslation), [
                {"entity_type": table, "entity_id": mapping[r.entity_id], "field": r.field, "locale": r.locale,
                 "text": r.text} for r in rows])
    return Workspace(new, {(old.__tablename__, old.id): copy for old, copy in pairs}, True)
