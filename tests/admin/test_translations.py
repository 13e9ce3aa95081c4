"""Translations of staff-written content (référentiel entries, short-link titles), saved
from the back office and shown to residents in their language, or in the original
language with a visible note."""
from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from participation.core.content_i18n import ContentTranslation
from participation.core.territories import Category, Contract
from participation.extensions import db
from participation.links.models import ShortLink

from ..conftest import count

AMP_ADMIN = "admin@amp.demo"
AMP_PUBLIC = "/c/aix-marseille-provence"
D1_NAME = "Le défi de la transition écologique"
D1_ARABIC = "تحدي التحول البيئي"


# --- helpers ------------------------------------------------------------------------


def translated(app, locale: str, msgid: str, **variables) -> str:
    with app.test_request_context(), force_locale(locale):
        return gettext(msgid, **variables)


def text_of(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def amp_category(code: str) -> Category:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Category).join(Contract).where(Contract.slug == "aix-marseille-provence", Category.code == code)
    )


def link(code: str) -> ShortLink:
    db.session.expire_all()
    return db.session.scalar(sa.select(ShortLink).where(ShortLink.code == code))


def stored(entity_type: str, entity_id: int) -> dict[tuple[str, str], str]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(ContentTranslation.field, ContentTranslation.locale, ContentTranslation.text).where(
            ContentTranslation.entity_type == entity_type, ContentTranslation.entity_id == entity_id
        )
    )
    return {(f, lo): t for f, lo, t in rows}


def referentiel_item(body: str, code: str) -> str:
    """The <li> of the public page that shows the entry `code`."""
    match = re.search(rf'<li>\s*<span class="code">{re.escape(code)}</span>(.*?)</li>', body, re.S)
    assert match, f"{code} is not on the page"
    return match.group(1)


@pytest.fixture
def amp_admin(auth, demo):
    assert auth.login(AMP_ADMIN).status_code == 302
    return auth


def save(auth, entity: str, entity_id: int, boxes: dict):
    path = f"/admin/translations/{entity}/{entity_id}"
    return auth.post(path, boxes, form_page=path)


# --- référentiel entries ----------------------------------------------------------------


def test_saved_translation_is_stored(amp_admin):
    d1 = amp_category("D1")

    resp = save(amp_admin, "categories", d1.id, {"name__ar": D1_ARABIC})

    assert resp.status_code == 302
    assert stored("categories", d1.id) == {("name", "ar"): D1_ARABIC}


def test_translated_name_shows_on_the_public_contract_page_in_that_language(amp_admin, client):
    d1 = amp_category("D1")
    save(amp_admin, "categories", d1.id, {"name__ar": D1_ARABIC})

    item = referentiel_item(text_of(client.get(AMP_PUBLIC, query_string={"lang": "ar"})), "D1")

    assert D1_ARABIC in item
    assert D1_NAME not in item


def test_translated_name_carries_no_original_language_note(amp_admin, client, app):
    d1 = amp_category("D1")
    save(amp_admin, "categories", d1.id, {"name__ar": D1_ARABIC})

    item = referentiel_item(text_of(client.get(AMP_PUBLIC, query_string={"lang": "ar"})), "D1")

    assert translated(app, "ar", "original language: %(language)s", language="Français") not in item


def test_language_without_translation_shows_the_original_with_a_note(amp_admin, client, app):
    d1 = amp_category("D1")
    save(amp_admin, "categories", d1.id, {"name__ar": D1_ARABIC})

    item = referentiel_item(text_of(client.get(AMP_PUBLIC, query_string={"lang": "es"})), "D1")

    assert D1_NAME in item
    assert D1_ARABIC not in item
    note = translated(app, "es", "original language: %(language)s", language="Français")
    assert note in item
    assert 'lang="fr"' in item


def test_original_language_page_shows_the_original_without_note(amp_admin, client, app):
    d1 = amp_category("D1")
    save(amp_admin, "categories", d1.id, {"name__ar": D1_ARABIC})

    item = referentiel_item(text_of(client.get(AMP_PUBLIC, query_string={"lang": "fr"})), "D1")

    assert D1_NAME in item
    assert translated(app, "fr", "original language: %(language)s", language="Français") not in item


def test_translation_page_shows_the_stored_translations(amp_admin):
    d2 = amp_category("D2")  # translated into ar and en by the demo

    body = text_of(amp_admin.client.get(f"/admin/translations/categories/{d2.id}"))

    assert "تحدي السكن" in body and "The housing challenge" in body


def test_empty_box_removes_a_translation(amp_admin):
    d2 = amp_category("D2")
    assert ("name", "ar") in stored("categories", d2.id)

    resp = save(amp_admin, "categories", d2.id, {"name__ar": "", "name__en": "The housing challenge"})

    assert resp.status_code == 302
    assert stored("categories", d2.id) == {("name", "en"): "The housing challenge"}


def test_removed_translation_falls_back_to_the_original_on_the_public_page(amp_admin, client):
    d2 = amp_category("D2")
    save(amp_admin, "categories", d2.id, {"name__ar": "   "})

    item = referentiel_item(text_of(client.get(AMP_PUBLIC, query_string={"lang": "ar"})), "D2")

    assert "Le défi du logement" in item
    assert "تحدي السكن" not in item


def test_saving_again_replaces_a_translation(amp_admin):
    d2 = amp_category("D2")

    save(amp_admin, "categories", d2.id, {"name__en": "Housing", "name__ar": "تحدي السكن"})

    assert stored("categories", d2.id) == {("name", "en"): "Housing", ("name", "ar"): "تحدي السكن"}


def test_too_long_translation_gives_an_error(amp_admin, app):
    d1 = amp_category("D1")

    resp = save(amp_admin, "categories", d1.id, {"name__ar": "ت" * 301})

    assert resp.status_code == 422
    assert translated(app, "fr", "A translation is too long: shorten it and send again.") in text_of(resp)


def test_too_long_translation_writes_nothing(amp_admin):
    d2 = amp_category("D2")
    before_rows = count(ContentTranslation)
    before_d2 = stored("categories", d2.id)

    # One box is fine, the other too long: neither is saved, and nothing is removed.
    save(amp_admin, "categories", d2.id, {"name__es": "El reto de la vivienda", "name__en": "x" * 301})

    db.session.expire_all()
    assert count(ContentTranslation) == before_rows
    assert stored("categories", d2.id) == before_d2


def test_too_long_translation_keeps_what_was_typed_in_the_form(amp_admin):
    d1 = amp_category("D1")

    body = text_of(save(amp_admin, "categories", d1.id, {"name__es": "El reto ecológico", "name__en": "x" * 301}))

    assert "El reto ecológico" in body


def test_translation_at_the_length_limit_is_accepted(amp_admin):
    d1 = amp_category("D1")

    resp = save(amp_admin, "categories", d1.id, {"name__en": "x" * 300})

    assert resp.status_code == 302
    assert stored("categories", d1.id) == {("name", "en"): "x" * 300}


def test_nul_byte_in_a_translation_is_not_a_server_error(amp_admin):
    d1 = amp_category("D1")

    resp = save(amp_admin, "categories", d1.id, {"name__en": "The ecological\x00challenge"})

    assert resp.status_code < 500


def test_translation_into_the_original_language_is_not_stored(amp_admin):
    d1 = amp_category("D1")

    save(amp_admin, "categories", d1.id, {"name__fr": "Autre nom", "name__en": "The ecological challenge"})

    assert stored("categories", d1.id) == {("name", "en"): "The ecological challenge"}
    assert amp_category("D1").name == D1_NAME


def test_translated_text_is_escaped_on_the_public_page(amp_admin, client):
    d1 = amp_category("D1")
    save(amp_admin, "categories", d1.id, {"name__en": "<script>alert(1)</script>"})

    body = client.get(AMP_PUBLIC, query_string={"lang": "en"}).get_data(as_text=True)

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_unknown_translatable_entity_is_a_404(amp_admin):
    assert amp_admin.client.get("/admin/translations/users/1").status_code == 404


def test_narbonne_admin_cannot_translate_an_amp_entry(auth, demo):
    auth.login("admin@narbonne.demo")
    d1 = amp_category("D1")

    # The form page itself is forbidden, so the token comes from the back office home.
    resp = auth.post(f"/admin/translations/categories/{d1.id}", {"name__en": "Taken over"})

    assert resp.status_code == 403
    assert stored("categories", d1.id) == {}


# --- short links -------------------------------------------------------------------------


def test_translated_short_link_title_shows_on_its_poster(amp_admin, client):
    frvax = link("FRVAX26")

    resp = save(amp_admin, "short_links", frvax.id, {"title__es": "Frais Vallon: ¡participa!"})
    poster = text_of(client.get("/p/FRVAX26/poster", query_string={"lang1": "es"}))

    assert resp.status_code == 302
    assert "Frais Vallon: ¡participa!" in poster
    assert "Frais Vallon : participez !" not in poster


def test_poster_in_several_languages_shows_each_translated_title(amp_admin, client):
    ampcv = link("AMPCV26")
    save(amp_admin, "short_links", ampcv.id, {"title__en": "Aix-Marseille-Provence city contract"})

    poster = text_of(client.get("/p/AMPCV26/poster", query_string={"lang1": "fr", "lang2": "en"}))

    assert "Contrat de ville Aix-Marseille-Provence" in poster
    assert "Aix-Marseille-Provence city contract" in poster


def test_short_link_title_longer_than_its_limit_is_refused(amp_admin):
    ampcv = link("AMPCV26")

    resp = save(amp_admin, "short_links", ampcv.id, {"title__en": "x" * 201})

    assert resp.status_code == 422
    assert stored("short_links", ampcv.id) == {}


def test_poster_without_translation_shows_the_original_title(amp_admin, client):
    poster = text_of(client.get("/p/AMPCV26/poster", query_string={"lang1": "tr"}))

    assert "Contrat de ville Aix-Marseille-Provence" in poster


def test_every_translatable_model_can_be_translated_from_the_back_office():
    from participation.admin.translations import FIELD_LABELS, TRANSLATABLE
    from participation.core.content_i18n import Translatable
    from participation.extensions import db

    models = {m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, Translatable)}
    registered = {spec.model for spec in TRANSLATABLE.values()}
    assert sorted(m.__name__ for m in models - registered) == []
    fields = {f for m in models for f in m.__translatable__}
    assert sorted(fields - set(FIELD_LABELS)) == []
