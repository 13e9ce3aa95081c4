"""Indicators of a contract's référentiel: created, edited, translated and deleted by the
contract's admins from the référentiel page; questions are tagged with them."""
from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from participation.core.content_i18n import translate
from participation.core.territories import Category, Contract, Indicator
from participation.extensions import db
from participation.questionnaires.models import Question

from ..conftest import Auth, csrf_from

AMP_ADMIN = "admin@amp.demo"
FAC = "animatrice@amp.demo"
NAR_ADMIN = "admin@narbonne.demo"


@pytest.fixture
def staff(app, demo):
    def login(email):
        client = app.test_client()
        assert Auth(client).login(email).status_code == 302
        client.get("/admin/?lang=en")
        return client

    return login


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def post(client, path: str, data: dict):
    return client.post(path, data={**data, "csrf_token": csrf_from(client.get("/admin/").get_data(as_text=True))})


def contract(slug: str) -> Contract:
    return db.session.scalar(sa.select(Contract).filter_by(slug=slug))


def category(slug: str, code: str) -> Category:
    return db.session.scalar(sa.select(Category).filter_by(contract_id=contract(slug).id, code=code))


def indicator(code: str) -> Indicator | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Indicator).filter_by(contract_id=contract("aix-marseille-provence").id, code=code))


def new_indicator(client, **fields):
    amp = contract("aix-marseille-provence")
    data = {"code": "I-EMPLOI", "name": "Taux d'emploi des 16-25 ans", "unit": "%",
            "category": str(category("aix-marseille-provence", "O3").id), **fields}
    return post(client, f"/admin/contracts/{amp.id}/indicators/new", data)


def test_an_admin_adds_an_indicator_attached_to_an_orientation_and_it_is_listed(staff):
    client = staff(AMP_ADMIN)
    resp = new_indicator(client, description="Source : France Travail.")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#indicators")
    created = indicator("I-EMPLOI")
    assert (created.name, created.unit, created.category.code, created.description) == (
        "Taux d'emploi des 16-25 ans", "%", "O3", "Source : France Travail.")
    page = text(client.get(resp.headers["Location"].split("#")[0]))
    assert "I-EMPLOI" in page and "Taux d'emploi des 16-25 ans" in page
    assert f"/admin/indicators/{created.id}/edit" in page


def test_an_indicator_code_is_unique_in_its_contract(staff):
    resp = new_indicator(staff(AMP_ADMIN), code="I-SECU")  # the demo's
    assert resp.status_code == 422 and "This code is already used in this contract." in text(resp)
    assert indicator("I-SECU").name == "Part des habitants qui se sentent en sécurité le soir"


@pytest.mark.parametrize("value", ["abc", "999999", "narbonne", "subtheme"])
def test_an_indicator_hangs_on_a_challenge_or_orientation_of_its_own_contract(staff, value):
    choice = {"narbonne": lambda: str(db.session.scalar(sa.select(Category.id).where(
        Category.contract_id == contract("grand-narbonne").id))),
              "subtheme": lambda: str(db.session.scalar(sa.select(Category.id).where(
                  Category.contract_id == contract("aix-marseille-provence").id, Category.parent_id.is_not(None))))}
    resp = new_indicator(staff(AMP_ADMIN), category=choice.get(value, lambda: value)())
    assert resp.status_code == 422
    assert indicator("I-EMPLOI") is None


@pytest.mark.parametrize("fields", [{"code": ""}, {"code": "I 1"}, {"code": "I" * 17}, {"name": ""}, {"name": "n" * 301},
                                    {"unit": "u" * 33}])
def test_garbage_in_the_indicator_form_is_refused(staff, fields):
    assert new_indicator(staff(AMP_ADMIN), **fields).status_code == 422
    assert indicator(fields.get("code") or "I-EMPLOI") is None


def test_an_admin_edits_an_indicator(staff):
    target = indicator("I-CADRE")
    resp = post(staff(AMP_ADMIN), f"/admin/indicators/{target.id}/edit",
                {"code": "I-CADRE", "name": "Satisfaction du cadre de vie", "unit": "% des habitants", "category": ""})
    assert resp.status_code == 302
    edited = indicator("I-CADRE")
    assert (edited.name, edited.unit, edited.category_id) == ("Satisfaction du cadre de vie", "% des habitants", None)


def test_deleting_an_indicator_untags_its_questions(staff):
    target = indicator("I-SECU")
    tagged = db.session.scalar(sa.select(Question).filter_by(indicator_id=target.id))
    page = text(staff(AMP_ADMIN).get(f"/admin/indicators/{target.id}/edit"))
    assert "1 question is tagged with this indicator" in page
    assert post(staff(AMP_ADMIN), f"/admin/indicators/{target.id}/delete", {}).status_code == 302
    assert indicator("I-SECU") is None
    assert db.session.get(Question, tagged.id).indicator_id is None


def test_an_indicator_is_translated(staff):
    target = indicator("I-SECU")
    resp = post(staff(AMP_ADMIN), f"/admin/translations/indicators/{target.id}", {"name__ar": "نسبة السكان الآمنين"})
    assert resp.status_code == 302
    assert translate(indicator("I-SECU"), "name", "ar").text == "نسبة السكان الآمنين"


def test_only_the_contracts_admins_change_its_indicators(staff):
    target = indicator("I-SECU")
    amp = contract("aix-marseille-provence")
    for email in (FAC, NAR_ADMIN):
        client = staff(email)
        assert client.get(f"/admin/contracts/{amp.id}/indicators/new").status_code == 403
        assert post(client, f"/admin/indicators/{target.id}/edit", {"code": "X", "name": "X"}).status_code == 403
        assert post(client, f"/admin/indicators/{target.id}/delete", {}).status_code == 403
        assert client.get(f"/admin/translations/indicators/{target.id}").status_code == 403
    assert indicator("I-SECU").name == "Part des habitants qui se sentent en sécurité le soir"
    page = text(staff(FAC).get(f"/admin/contracts/{amp.id}/referentiel"))
    assert "I-SECU" in page and f"/admin/indicators/{target.id}/edit" not in page


def test_unknown_indicators_are_404(staff):
    assert staff(AMP_ADMIN).get("/admin/indicators/999999/edit").status_code == 404
    assert staff(AMP_ADMIN).get("/admin/contracts/999999/indicators/new").status_code == 404
