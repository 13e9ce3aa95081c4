"""User content translated per field, with a visible fallback to its original language."""
import sqlalchemy as sa

from participation.core.content_i18n import ContentTranslation, preload, set_translation, translate
from participation.core.territories import Category
from participation.extensions import db


def _category(code="D9"):
    return db.session.scalar(sa.select(Category).filter_by(code=code))


def test_translation_is_used_when_it_exists(app, demo):
    t = translate(_category(), "name", "ar")
    assert (t.text, t.locale, t.is_fallback) == ("تحدي المشاركة المواطنية", "ar", False)


def test_missing_translation_falls_back_to_the_original_and_says_so(app, demo):
    t = translate(_category(), "name", "tr")
    assert t.text == "Le défi de la participation citoyenne"
    assert t.locale == "fr" and t.is_original and t.is_fallback


def test_original_language_is_not_a_fallback(app, demo):
    t = translate(_category(), "name", "fr")
    assert t.is_original and not t.is_fallback


def test_empty_text_removes_a_translation(app, demo):
    category = _category()
    set_translation(category, "name", "ar", "  ")
    db.session.commit()
    assert translate(_category(), "name", "ar").is_fallback


def test_only_declared_fields_are_translatable(app, demo):
    import pytest

    with pytest.raises(ValueError):
        set_translation(_category(), "code", "ar", "x")


def test_preload_fetches_translations_of_many_objects_at_once(app, demo):
    categories = list(db.session.scalars(sa.select(Category)))
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        preload(categories, "ar")
        texts = [translate(c, "name", "ar").text for c in categories]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert "تحدي السكن" in texts
    assert len([s for s in statements if "content_translations" in s]) == 1


def test_deleting_an_object_deletes_its_translations(app, demo):
    category = _category()
    cid = category.id
    db.session.delete(category)
    db.session.commit()
    left = db.session.scalar(
        sa.select(sa.func.count()).where(ContentTranslation.entity_type == "categories", ContentTranslation.entity_id == cid)
    )
    assert left == 0


def test_public_page_marks_untranslated_content_with_its_language(client, demo):
    html = client.get("/c/aix-marseille-provence?lang=en").get_data(as_text=True)
    assert "The housing challenge" in html  # translated
    assert '<span lang="fr" dir="ltr">Le défi de la jeunesse</span>' in html
    assert "original language: Français" in html
