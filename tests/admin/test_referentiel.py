"""Each contract's référentiel (challenges, orientations, sub-themes), edited as data by
the contract's admins and shown on the public contract page."""
from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from participation.core.content_i18n import ContentTranslation, set_translation
from participation.core.territories import Category, CategoryKind, Contract
from participation.extensions import db

from ..conftest import count

AMP_ADMIN = "admin@amp.demo"
FACILITATOR = "animatrice@amp.demo"
AMP_PUBLIC = "/c/aix-marseille-provence"


# --- helpers ------------------------------------------------------------------------


def translated(app, locale: str, msgid: str, **variables) -> str:
    with app.test_request_context(), force_locale(locale):
        return gettext(msgid, **variables)


def text_of(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def contract(slug: str) -> Contract:
    return db.session.scalar(sa.select(Contract).where(Contract.slug == slug))


def category(slug: str, code: str) -> Category | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Category).join(Contract).where(Contract.slug == slug, Category.code == code)
    )


def categories_of(slug: str) -> set[tuple]:
    """Everything that describes a référentiel, to compare before and after."""
    db.session.expire_all()
    parent = sa.orm.aliased(Category)
    rows = db.session.execute(
        sa.select(Category.code, Category.kind, Category.name, Category.description, Category.position, parent.code)
        .join(Contract, Category.contract_id == Contract.id)
        .outerjoin(parent, Category.parent_id == parent.id)
        .where(Contract.slug == slug)
    )
    return set(rows)


def entry(kind="challenge", parent="", code="D11", name="Le défi du numérique", description="", position="11"):
    return {"kind": kind, "parent": parent, "code": code, "name": name, "description": description, "position": position}


@pytest.fixture
def amp(demo) -> Contract:
    return contract("aix-marseille-provence")


@pytest.fixture
def amp_admin(auth, demo):
    assert auth.login(AMP_ADMIN).status_code == 302
    return auth


def new_entry(auth, amp, **fields):
    return auth.post(
        f"/admin/contracts/{amp.id}/referentiel/new",
        entry(**fields),
        form_page=f"/admin/contracts/{amp.id}/referentiel/new",
    )


# --- adding ---------------------------------------------------------------------------


def test_admin_adds_a_challenge(amp_admin, amp):
    amp_id = amp.id

    resp = new_entry(amp_admin, amp)

    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/admin/contracts/{amp_id}/referentiel")
    added = category("aix-marseille-provence", "D11")
    assert added is not None
    assert (added.kind, added.name, added.parent_id, added.position) == (
        CategoryKind.challenge,
        "Le défi du numérique",
        None,
        11,
    )


def test_new_entry_is_written_in_the_contracts_language(amp_admin, amp):
    new_entry(amp_admin, amp)

    assert category("aix-marseille-provence", "D11").original_locale == "fr"


def test_new_entry_appears_in_the_back_office_referentiel(amp_admin, amp):
    new_entry(amp_admin, amp)

    body = text_of(amp_admin.client.get(f"/admin/contracts/{amp.id}/referentiel"))

    assert "Le défi du numérique" in body


def test_admin_adds_a_sub_theme_under_an_orientation(amp_admin, amp):
    o1 = category("aix-marseille-provence", "O1")

    resp = new_entry(amp_admin, amp, kind="subtheme", parent=str(o1.id), code="O1.5", name="Numérique éducatif")

    assert resp.status_code == 302
    added = category("aix-marseille-provence", "O1.5")
    assert added.kind == CategoryKind.subtheme
    assert added.parent_id == o1.id


def test_sub_theme_without_parent_is_refused(amp_admin, app, amp):
    before = count(Category)

    resp = new_entry(amp_admin, amp, kind="subtheme", parent="", code="X1", name="Orphan")

    assert resp.status_code == 422
    assert translated(app, "fr", "A sub-theme needs a parent, and only a sub-theme can have one.") in text_of(resp)
    db.session.expire_all()
    assert count(Category) == before
    assert category("aix-marseille-provence", "X1") is None


def test_challenge_with_a_parent_is_refused(amp_admin, amp):
    o1 = category("aix-marseille-provence", "O1")
    before = count(Category)

    resp = new_entry(amp_admin, amp, kind="challenge", parent=str(o1.id), code="X1")

    assert resp.status_code == 422
    db.session.expire_all()
    assert count(Category) == before


def test_parent_from_another_contract_is_refused(amp_admin, amp):
    narbonne_axis = category("grand-narbonne", "A1")
    before = count(Category)

    resp = new_entry(amp_admin, amp, kind="subtheme", parent=str(narbonne_axis.id), code="X1", name="Intrus")

    assert resp.status_code == 422
    db.session.expire_all()
    assert count(Category) == before
    assert category("aix-marseille-provence", "X1") is None
    assert [c.code for c in category("grand-narbonne", "A1").children] == ["A1.1", "A1.2"]


def test_sub_theme_cannot_be_the_parent_of_another_sub_theme(amp_admin, amp):
    sub = category("aix-marseille-provence", "O1.1")
    before = count(Category)

    resp = new_entry(amp_admin, amp, kind="subtheme", parent=str(sub.id), code="O1.1.1", name="Trop profond")

    assert resp.status_code == 422
    db.session.expire_all()
    assert count(Category) == before


def test_duplicate_code_within_a_contract_is_refused(amp_admin, app, amp):
    before = count(Category)

    resp = new_entry(amp_admin, amp, code="D1", name="Another first challenge")

    assert resp.status_code == 422
    assert translated(app, "fr", "This code is already used in this contract.") in text_of(resp)
    db.session.expire_all()
    assert count(Category) == before
    assert category("aix-marseille-provence", "D1").name == "Le défi de la transition écologique"


def test_same_code_in_another_contract_is_accepted(amp_admin, amp):
    # A1 is a Narbonne axis; AMP may use the same code for its own entry.
    resp = new_entry(amp_admin, amp, code="A1", name="Axe AMP")

    assert resp.status_code == 302
    assert category("aix-marseille-provence", "A1").name == "Axe AMP"
    assert category("grand-narbonne", "A1").name == "Emploi et développement économique"


@pytest.mark.parametrize("code", ["", "D 12", "D12;--", "<b>", "x" * 17])
def test_invalid_code_is_refused(amp_admin, amp, code):
    before = count(Category)

    resp = new_entry(amp_admin, amp, code=code)

    assert resp.status_code == 422
    db.session.expire_all()
    assert count(Category) == before


def test_nul_byte_in_an_entry_name_is_not_a_server_error(amp_admin, amp):
    resp = new_entry(amp_admin, amp, name="Le défi\x00 du numérique")

    assert resp.status_code < 500


# --- editing ----------------------------------------------------------------------------


def test_admin_edits_an_entry(amp_admin):
    d1 = category("aix-marseille-provence", "D1")

    resp = amp_admin.post(
        f"/admin/categories/{d1.id}/edit",
        entry(code="D1", name="Le défi écologique", description="Climat, énergie, nature en ville.", position="1"),
        form_page=f"/admin/categories/{d1.id}/edit",
    )

    assert resp.status_code == 302
    edited = category("aix-marseille-provence", "D1")
    assert edited.id == d1.id
    assert (edited.name, edited.description) == ("Le défi écologique", "Climat, énergie, nature en ville.")


def test_edit_form_is_filled_with_the_current_values(amp_admin):
    d2 = category("aix-marseille-provence", "D2")

    body = text_of(amp_admin.client.get(f"/admin/categories/{d2.id}/edit"))

    assert 'value="D2"' in body
    assert 'value="Le défi du logement"' in body


def test_editing_an_entry_to_the_code_of_another_is_refused(amp_admin):
    d1 = category("aix-marseille-provence", "D1")

    resp = amp_admin.post(
        f"/admin/categories/{d1.id}/edit", entry(code="D2", name="Renamed"), form_page=f"/admin/categories/{d1.id}/edit"
    )

    assert resp.status_code == 422
    unchanged = category("aix-marseille-provence", "D1")
    assert unchanged is not None and unchanged.name == "Le défi de la transition écologique"


def test_entry_with_sub_themes_cannot_become_a_sub_theme(amp_admin):
    o1, o2 = category("aix-marseille-provence", "O1"), category("aix-marseille-provence", "O2")

    resp = amp_admin.post(
        f"/admin/categories/{o1.id}/edit",
        entry(kind="subtheme", parent=str(o2.id), code="O1", name=o1.name),
        form_page=f"/admin/categories/{o1.id}/edit",
    )

    assert resp.status_code == 422
    assert category("aix-marseille-provence", "O1").parent_id is None


def test_entry_cannot_be_its_own_parent(amp_admin):
    o1 = category("aix-marseille-provence", "O1")
    o1_id = o1.id
    # Give O1 no children, so only the self-parent rule can refuse it.
    for child in list(o1.children):
        db.session.delete(child)
    db.session.commit()

    resp = amp_admin.post(
        f"/admin/categories/{o1_id}/edit",
        entry(kind="subtheme", parent=str(o1_id), code="O1", name="Self"),
        form_page=f"/admin/categories/{o1_id}/edit",
    )

    assert resp.status_code == 422
    assert category("aix-marseille-provence", "O1").parent_id is None


# --- deleting ----------------------------------------------------------------------------


def _translation_ids(category_ids) -> list[int]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(ContentTranslation.id).where(
                ContentTranslation.entity_type == "categories", ContentTranslation.entity_id.in_(category_ids)
            )
        )
    )


def test_deleting_an_entry_removes_its_sub_themes(amp_admin):
    o1 = category("aix-marseille-provence", "O1")
    ids = [o1.id, *(c.id for c in o1.children)]
    assert len(ids) == 5

    resp = amp_admin.post(f"/admin/categories/{o1.id}/delete", form_page=f"/admin/categories/{o1.id}/edit")

    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(Category.id.in_(ids))) == 0
    assert category("aix-marseille-provence", "O2") is not None


def test_deleting_an_entry_removes_the_translations_of_it_and_its_sub_themes(amp_admin):
    o1 = category("aix-marseille-provence", "O1")
    sub = o1.children[0]
    set_translation(sub, "name", "en", "Schooling and learning")
    db.session.commit()
    ids = [o1.id, *(c.id for c in o1.children)]
    assert len(_translation_ids(ids)) == 3  # O1 in ar and en (demo), O1.1 in en
    kept = _translation_ids([category("aix-marseille-provence", "D9").id])

    amp_admin.post(f"/admin/categories/{ids[0]}/delete", form_page=f"/admin/categories/{ids[0]}/edit")

    assert _translation_ids(ids) == []
    assert _translation_ids([category("aix-marseille-provence", "D9").id]) == kept != []


def test_deleting_a_sub_theme_keeps_its_parent_and_siblings(amp_admin):
    sub = category("aix-marseille-provence", "O1.2")

    amp_admin.post(f"/admin/categories/{sub.id}/delete", form_page=f"/admin/categories/{sub.id}/edit")

    assert category("aix-marseille-provence", "O1.2") is None
    assert [c.code for c in category("aix-marseille-provence", "O1").children] == ["O1.1", "O1.3", "O1.4"]


# --- what the public and the other contract see ----------------------------------------


def test_public_contract_page_shows_the_referentiel(client, demo):
    body = text_of(client.get(AMP_PUBLIC))

    assert "Le défi du logement" in body
    assert "Grandir et s'épanouir" in body


def test_public_contract_page_shows_a_newly_added_challenge(amp_admin, amp):
    new_entry(amp_admin, amp)

    body = text_of(amp_admin.client.get(AMP_PUBLIC))

    assert "Le défi du numérique" in body


def test_public_contract_page_no_longer_shows_a_deleted_entry(amp_admin):
    d2 = category("aix-marseille-provence", "D2")
    amp_admin.post(f"/admin/categories/{d2.id}/delete", form_page=f"/admin/categories/{d2.id}/edit")

    body = text_of(amp_admin.client.get(AMP_PUBLIC))

    assert "Le défi du logement" not in body


def test_public_page_of_one_contract_does_not_show_the_others_referentiel(client, demo):
    body = text_of(client.get("/c/grand-narbonne"))

    assert "Cohésion sociale" in body
    assert "Le défi du logement" not in body


def test_narbonne_referentiel_is_untouched_by_amp_edits(amp_admin, amp):
    narbonne_before = categories_of("grand-narbonne")
    d1 = category("aix-marseille-provence", "D1")
    o1 = category("aix-marseille-provence", "O1")

    new_entry(amp_admin, amp, code="A1", name="Axe AMP")
    amp_admin.post(
        f"/admin/categories/{d1.id}/edit", entry(code="D1", name="Renommé"), form_page=f"/admin/categories/{d1.id}/edit"
    )
    amp_admin.post(f"/admin/categories/{o1.id}/delete", form_page=f"/admin/categories/{o1.id}/edit")

    assert categories_of("grand-narbonne") == narbonne_before
    assert len(narbonne_before) == 13


def test_amp_admin_cannot_edit_a_narbonne_entry(amp_admin):
    a1 = category("grand-narbonne", "A1")

    resp = amp_admin.post(
        f"/admin/categories/{a1.id}/edit", entry(code="A1", name="Pris"), form_page="/admin/"
    )

    assert resp.status_code == 403
    assert category("grand-narbonne", "A1").name == "Emploi et développement économique"


def test_amp_admin_cannot_delete_a_narbonne_entry(amp_admin):
    a1 = category("grand-narbonne", "A1")

    resp = amp_admin.post(f"/admin/categories/{a1.id}/delete")

    assert resp.status_code == 403
    assert category("grand-narbonne", "A1") is not None


def test_amp_admin_cannot_view_the_narbonne_referentiel(amp_admin):
    narbonne = contract("grand-narbonne")

    assert amp_admin.client.get(f"/admin/contracts/{narbonne.id}/referentiel").status_code == 403


# --- facilitators read, admins write ------------------------------------------------------


@pytest.fixture
def facilitator(auth, demo):
    assert auth.login(FACILITATOR).status_code == 302
    return auth


def test_facilitator_can_view_the_referentiel(facilitator, amp):
    resp = facilitator.client.get(f"/admin/contracts/{amp.id}/referentiel")

    body = text_of(resp)
    assert resp.status_code == 200
    assert "Le défi du logement" in body
    assert f"/admin/contracts/{amp.id}/referentiel/new" not in body
    assert "/edit" not in body


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/admin/contracts/{amp}/referentiel/new"),
        ("POST", "/admin/contracts/{amp}/referentiel/new"),
        ("GET", "/admin/categories/{d1}/edit"),
        ("POST", "/admin/categories/{d1}/edit"),
        ("POST", "/admin/categories/{d1}/delete"),
        ("GET", "/admin/translations/categories/{d1}"),
        ("POST", "/admin/translations/categories/{d1}"),
    ],
)
def test_facilitator_cannot_change_the_referentiel(facilitator, amp, method, path):
    d1 = category("aix-marseille-provence", "D1")
    url = path.format(amp=amp.id, d1=d1.id)
    before = categories_of("aix-marseille-provence")

    if method == "GET":
        resp = facilitator.client.get(url)
    else:
        resp = facilitator.post(url, entry(code="D1", name="Changed by a facilitator") | {"name__en": "Changed"})

    assert resp.status_code == 403
    assert categories_of("aix-marseille-provence") == before
