"""Translations of user content (titles, descriptions, questions, options…).

One generic table holds per-field translations of any model that mixes in `Translatable`.
Reading falls back to the text in its original language, and says so, so that a page
can show a visible "original language" note.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ..extensions import db


class ContentTranslation(db.Model):
    __tablename__ = "content_translations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Table name of the translated object.
    entity_type: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[int]
    field: Mapped[str] = mapped_column(sa.String(64))
    locale: Mapped[str] = mapped_column(sa.String(8))
    text: Mapped[str] = mapped_column(sa.Text)

    __table_args__ = (
        sa.UniqueConstraint("entity_type", "entity_id", "field", "locale"),
        sa.Index("ix_content_translations_entity", "entity_type", "entity_id"),
    )


class Translatable:
    """Mixin: `__translatable__` names the fields that can be translated."""

    __translatable__: tuple[str, ...] = ()

    @declared_attr
    def original_locale(cls) -> Mapped[str]:
        #: Language the content was written in; the fallback for every other language.
        return mapped_column(sa.String(8), default="fr", server_default="fr")


@dataclass(frozen=True)
class TranslatedText:
    text: str
    locale: str
    is_original: bool
    #: False when the requested language had no translation and we fell back.
    is_fallback: bool

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(self.text))


def _cache(obj) -> dict:
    return obj.__dict__.setdefault("_content_translations", {})


def preload(objects, locale: str) -> None:
    """Load the translations of many objects in one query (lists, tables)."""
    objects = [o for o in objects if o is not None and o.id is not None]
    if not objects:
        return
    by_type: dict[str, dict[int, object]] = {}
    for obj in objects:
        by_type.setdefault(obj.__tablename__, {})[obj.id] = obj
        _cache(obj)[locale] = {}
    for entity_type, objs in by_type.items():
        rows = db.session.execute(
            sa.select(ContentTranslation.entity_id, ContentTranslation.field, ContentTranslation.text).where(
                ContentTranslation.entity_type == entity_type,
                ContentTranslation.entity_id.in_(objs.keys()),
                ContentTranslation.locale == locale,
            )
        )
        for entity_id, field, text in rows:
            _cache(objs[entity_id])[locale][field] = text


def _translations_for(obj, locale: str) -> dict[str, str]:
    cache = _cache(obj)
    if locale not in cache:
        preload([obj], locale)
    return cache.get(locale, {})


def translate(obj, field: str, locale: str) -> TranslatedText:
    original = getattr(obj, field) or ""
    source = obj.original_locale
    if locale == source:
        return TranslatedText(original, source, True, False)
    text = _translations_for(obj, locale).get(field) if obj.id is not None else None
    if text:
        return TranslatedText(text, locale, False, False)
    return TranslatedText(original, source, True, True)


def translations_of(obj) -> dict[tuple[str, str], str]:
    """All stored translations of an object, keyed by (field, locale)."""
    rows = db.session.execute(
        sa.select(ContentTranslation.field, ContentTranslation.locale, ContentTranslation.text).where(
            ContentTranslation.entity_type == obj.__tablename__, ContentTranslation.entity_id == obj.id
        )
    )
    return {(f, lo): t for f, lo, t in rows}


def set_translation(obj, field: str, locale: str, text: str) -> None:
    """Create, update or (with empty text) remove one translation. Flushes, never commits."""
    if field not in obj.__translatable__:
        raise ValueError(f"{field} is not translatable on {obj.__tablename__}")
    text = (text or "").strip()
    existing = db.session.scalar(
        sa.select(ContentTranslation).where(
            ContentTranslation.entity_type == obj.__tablename__,
            ContentTranslation.entity_id == obj.id,
            ContentTranslation.field == field,
            ContentTranslation.locale == locale,
        )
    )
    if locale == obj.original_locale or not text:
        if existing:
            db.session.delete(existing)
    elif existing:
        existing.text = text
    else:
        db.session.add(
            ContentTranslation(entity_type=obj.__tablename__, entity_id=obj.id, field=field, locale=locale, text=text)
        )
    _cache(obj).pop(locale, None)
    db.session.flush()


@event.listens_for(Translatable, "after_delete", propagate=True)
def _delete_translations(mapper, connection, target) -> None:
    # The generic table has no foreign key to the translated object, so clean up here.
    connection.execute(
        sa.delete(ContentTranslation.__table__).where(
            ContentTranslation.entity_type == target.__tablename__,
            ContentTranslation.entity_id == target.id,
        )
    )
