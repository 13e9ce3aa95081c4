"""The facilitator's questionnaire builder: creating questionnaires, every kind of question,
generated options, codes, conditions, moves and deletions, status, answer-code slips, who
may build, and no server error on garbage input."""
from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
import zxingcpp
from flask import url_for
from flask_babel import force_locale
from PIL import Image

from participation.core.content_i18n import translate
from participation.core.territories import Category, Commune, Indicator
from participation.extensions import db
from participation.questionnaires import builder, codes as answer_codes, demo as questionnaire_demo, pictograms
from participation.questionnaires.builder_views import TOOLS
from participation.questionnaires.models import (
    AnswerCode, AnswerCodeBatch, Kind, Option, Question, Questionnaire, Status,
)

from ..conftest import Auth, count, csrf_from

FAC = "animatrice@amp.demo"  # facilitator, Marseille
AMP_ADMIN = "admin@amp.demo"
MED = "mediateur@amp.demo"  # mediator, Frais Vallon
EVA = "evaluation@amp.demo"  # evaluator, whole contract
COM = "comite@amp.demo"  # committee member, Malpassé Corot
NAR_ADMIN = "admin@narbonne.demo"
ROOT = Path(__file__).resolve().parents[2]
#: Questions of the demo questionnaires (the barometer's 10 and the codes consultation's 1).
DEMO_QUESTIONS = 11


# --- helpers -----------------------------------------------------------------------


@pytest.fixture
def staff(app, demo):
    """staff(email) → a client logged in as that demo account, pages in English."""

    def login(email):
        client = app.test_client()
        assert Auth(client).login(email).status_code == 302
        client.get("/admin/?lang=en")
        return client

    return login


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def post(client, path: str, data: dict):
    payload = dict(data)
    payload["csrf_token"] = csrf_from(client.get("/admin/").get_data(as_text=True))
    return client.post(path, data=payload)


def marseille() -> Commune:
    return db.session.scalar(sa.select(Commune).filter_by(insee_code="13055"))


@pytest.fixture
def draft(demo) -> Questionnaire:
    """A draft questionnaire of Marseille, written in French, with one empty section."""
    q = builder.create_questionnaire(marseille(), "Test du constructeur", "fr")
    db.session.commit()
    return q


def reload(q: Questionnaire) -> Questionnaire:
    db.session.expire_all()
    return db.session.get(Questionnaire, q.id)


def add(client, q: Questionnaire, kind: str, question_text: str = "Une question ?", **fields):
    data = {"section": str(q.current_version.sections[-1].id), "kind": kind, "text": question_text, **fields}
    return post(client, f"/admin/questionnaires/{q.id}/questions/new", data)


def question(q: Questionnaire, code: str) -> Question:
    return next(x for x in reload(q).current_version.questions if x.code == code)


def options(q: Questionnaire, code: str) -> list[tuple[str, str, bool, bool]]:
    return [(o.code, o.pictogram, o.is_other, o.is_dont_know) for o in question(q, code).options]


def with_yes_no_and_choice(client, q: Questionnaire) -> None:
    """Q1 yes / no, Q2 single choice shown if Q1 is yes."""
    assert add(client, q, "yes_no", "Avez-vous un jardin ?").status_code == 302
    resp = add(client, q, "single", "Qu'y faites-vous ?", options="Potager\nFleurs",
               condition_code="Q1", condition_values=["Q1:yes"])
    assert resp.status_code == 302, text(resp)


# --- creating a questionnaire ---------------------------------------------------------


def test_a_facilitator_creates_a_draft_questionnaire_with_version_1_and_a_first_section(staff):
    client = staff(FAC)
    resp = post(client, "/admin/questionnaires/new", {
        "scope": f"m{marseille().id}", "original_locale": "fr", "title": "Propreté des halls", "purpose": "evaluation",
        "access": "open", "intro": "Cinq minutes.", "ask_age_band": "y", "opens_on": "2026-01-10", "closes_on": "2026-03-01",
    })
    assert resp.status_code == 302
    q = db.session.scalar(sa.select(Questionnaire).filter_by(title="Propreté des halls"))
    assert resp.headers["Location"].endswith(f"/admin/questionnaires/{q.id}")
    assert (q.status, q.commune_id, q.original_locale, q.ask_age_band, q.ask_gender) == (
        Status.draft, marseille().id, "fr", True, False)
    assert [v.number for v in q.versions] == [1] and len(q.current_version.sections) == 1


def test_the_new_questionnaire_form_offers_only_the_places_the_user_manages(staff):
    page = text(staff(FAC).get("/admin/questionnaires/new"))
    assert "Marseille" in page and "Frais Vallon" in page
    assert "Aix-en-Provence" not in page and "Narbonne" not in page


def test_a_closing_date_before_the_opening_date_is_refused(staff):
    resp = post(staff(FAC), "/admin/questionnaires/new", {
        "scope": f"m{marseille().id}", "original_locale": "fr", "title": "Dates à l'envers", "purpose": "consultation",
        "access": "open", "opens_on": "2026-03-01", "closes_on": "2026-01-01"})
    assert resp.status_code == 422
    assert "The closing date comes before the opening date." in text(resp)
    assert count(Questionnaire) == 2  # the demo's two


def test_settings_are_saved_in_place(staff, draft):
    resp = post(staff(FAC), f"/admin/questionnaires/{draft.id}/settings", {
        "title": "Nouveau titre", "purpose": "consultation", "access": "codes", "thanks": "Merci !"})
    assert resp.status_code == 302
    q = reload(draft)
    assert (q.title, q.access.value, q.thanks, len(q.versions)) == ("Nouveau titre", "codes", "Merci !", 1)


# --- questions of every kind -----------------------------------------------------------


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_every_kind_of_question_can_be_added(staff, draft, kind):
    resp = add(staff(FAC), draft, kind, options="Un\nDeux")
    assert resp.status_code == 302, text(resp)
    added = question(draft, "Q1")
    assert (added.kind.value, added.text, added.position) == (kind, "Une question ?", 0)
    expected_options = {"single": 2, "multiple": 2, "ranking": 2, "scale": 5, "yes_no": 2}.get(kind, 0)
    assert len(added.options) == expected_options


def test_a_likert_scale_gets_five_options_coded_1_to_5_and_dont_know(staff, draft):
    add(staff(FAC), draft, "scale", scale_style="likert", allow_dont_know="y")
    assert options(draft, "Q1") == [(c, "", False, False) for c in "12345"] + [("dk", "", False, True)]
    first = question(draft, "Q1").options[0]
    assert translate(first, "label", "en").text == "Strongly disagree"


def test_a_smiley_scale_gets_the_five_faces(staff, draft):
    add(staff(FAC), draft, "scale", scale_style="smileys")
    assert [(c, p) for c, p, *_ in options(draft, "Q1")] == [(str(i), f"smiley-{i}") for i in range(1, 6)]


def test_a_yes_no_question_gets_yes_and_no(staff, draft):
    add(staff(FAC), draft, "yes_no")
    assert options(draft, "Q1") == [("yes", "yes", False, False), ("no", "no", False, False)]
    assert translate(question(draft, "Q1").options[0], "label", "en").text == "Yes"


def test_choices_get_codes_1_2_3_and_other_closes_the_list(staff, draft):
    add(staff(FAC), draft, "multiple", options="Bancs\n\nArbres\nJeux", allow_other="y", max_choices="2")
    q1 = question(draft, "Q1")
    assert [(o.code, o.label) for o in q1.options][:3] == [("1", "Bancs"), ("2", "Arbres"), ("3", "Jeux")]
    assert (q1.options[-1].code, q1.options[-1].is_other, q1.max_choices) == ("other", True, 2)


def test_number_bounds_are_kept_and_other_kinds_fields_dropped(staff, draft):
    add(staff(FAC), draft, "number", min_value="0", max_value="12", max_choices="3", allow_other="y")
    q1 = question(draft, "Q1")
    assert (q1.min_value, q1.max_value, q1.max_choices, q1.allow_other) == (0, 12, None, False)


def test_number_bounds_in_the_wrong_order_are_refused(staff, draft):
    resp = add(staff(FAC), draft, "number", min_value="10", max_value="2")
    assert resp.status_code == 422 and "The maximum cannot be below the minimum." in text(resp)
    assert count(Question) == DEMO_QUESTIONS


def test_a_question_is_tagged_with_a_category_and_an_indicator_of_the_contract(staff, draft):
    category = db.session.scalar(sa.select(Category).filter_by(contract_id=draft.contract_id, code="D3"))
    indicator = db.session.scalar(sa.select(Indicator).filter_by(contract_id=draft.contract_id, code="I-SECU"))
    add(staff(FAC), draft, "yes_no", category=str(category.id), indicator=str(indicator.id))
    q1 = question(draft, "Q1")
    assert (q1.category_id, q1.indicator_id) == (category.id, indicator.id)


def test_a_category_of_another_contract_is_refused(staff, draft):
    foreign = db.session.scalar(sa.select(Category).where(Category.contract_id != draft.contract_id))
    resp = add(staff(FAC), draft, "yes_no", category=str(foreign.id))
    assert resp.status_code == 422 and "Choose an entry of this contract's référentiel." in text(resp)


# --- codes ---------------------------------------------------------------------------------


def test_question_codes_follow_q1_q2_and_are_unique_in_a_version(staff, draft):
    client = staff(FAC)
    add(client, draft, "yes_no")
    add(client, draft, "short_text")
    assert [x.code for x in reload(draft).current_version.questions] == ["Q1", "Q2"]
    q2 = question(draft, "Q2")
    resp = post(client, f"/admin/questionnaires/{draft.id}/questions/{q2.id}", {"kind": "short_text", "text": "x",
                                                                                 "code": "Q1"})
    assert resp.status_code == 422 and "The code Q1 is already used by another question." in text(resp)
    assert question(draft, "Q2").text == "Une question ?"


def test_option_codes_are_unique_within_a_question(staff, draft):
    client = staff(FAC)
    add(client, draft, "single", options="Oui\nNon")
    q1 = question(draft, "Q1")
    resp = post(client, f"/admin/questionnaires/{draft.id}/questions/{q1.id}/options", {"label": "Peut-être", "code": "2"})
    assert resp.status_code == 422 and "The code 2 is already used by another option" in text(resp)
    assert post(client, f"/admin/questionnaires/{draft.id}/questions/{q1.id}/options",
                {"label": "Peut-être", "pictogram": "light"}).status_code == 302
    assert [(o.code, o.pictogram) for o in question(draft, "Q1").options] == [("1", ""), ("2", ""), ("3", "light")]


def test_an_unknown_pictogram_is_refused(staff, draft):
    client = staff(FAC)
    add(client, draft, "single", options="Oui")
    option = question(draft, "Q1").options[0]
    resp = post(client, f"/admin/questionnaires/{draft.id}/options/{option.id}", {"label": "Oui", "pictogram": "../x"})
    assert resp.status_code == 422 and "Choose a pictogram from the list." in text(resp)


# --- conditions ----------------------------------------------------------------------------


def test_a_question_can_be_shown_only_after_an_earlier_answer(staff, draft):
    with_yes_no_and_choice(staff(FAC), draft)
    q2 = question(draft, "Q2")
    assert (q2.condition_code, q2.condition_values) == ("Q1", ["yes"])
    page = text(staff(FAC).get(f"/admin/questionnaires/{draft.id}"))
    assert "Shown only if the answer to Q1 is:" in page


@pytest.mark.parametrize("target, condition, message", [
    ("Q1", {"condition_code": "Q2", "condition_values": ["Q2:1"]},
     "A condition can only use a question asked before: Q2 comes later."),
    ("Q2", {"condition_code": "Q9", "condition_values": ["Q9:yes"]}, "No question has the code Q9."),
    ("Q2", {"condition_code": "Q1", "condition_values": ["Q1:maybe"]}, "Q1 has no answer coded maybe."),
    ("Q2", {"condition_code": "Q1"}, "Tick at least one answer of Q1 that shows this."),
    ("Q2", {"condition_code": "Q1", "condition_values": ["Q2:1"]}, "Tick at least one answer of Q1 that shows this."),
])
def test_a_bad_condition_is_refused_with_a_message_and_nothing_is_written(staff, draft, target, condition, message):
    client = staff(FAC)
    with_yes_no_and_choice(client, draft)
    before = [(x.code, x.text, x.condition_code, x.condition_values) for x in reload(draft).current_version.questions]
    edited = question(draft, target)
    resp = post(client, f"/admin/questionnaires/{draft.id}/questions/{edited.id}", {
        "kind": edited.kind.value, "text": "Texte changé", **condition})
    assert resp.status_code == 422
    assert message in text(resp)
    assert [(x.code, x.text, x.condition_code, x.condition_values) for x in reload(draft).current_version.questions] == before


def test_a_condition_on_a_text_question_is_refused(staff, draft):
    client = staff(FAC)
    add(client, draft, "short_text", "Votre prénom ?")
    resp = add(client, draft, "yes_no", condition_code="Q1", condition_values=["Q1:x"])
    assert resp.status_code == 422
    assert "A condition needs a question with answers to choose from" in text(resp)
    assert [x.code for x in reload(draft).current_version.questions] == ["Q1"]


def test_a_section_condition_must_use_a_question_of_an_earlier_section(staff, draft):
    client = staff(FAC)
    with_yes_no_and_choice(client, draft)
    first = reload(draft).current_version.sections[0]
    resp = post(client, f"/admin/questionnaires/{draft.id}/sections/{first.id}", {
        "title": "Début", "condition_code": "Q1", "condition_values": ["Q1:yes"]})
    assert resp.status_code == 422 and "Q1 comes later" in text(resp)
    assert post(client, f"/admin/questionnaires/{draft.id}/sections", {"title": "Le jardin"}).status_code == 302
    second = reload(draft).current_version.sections[1]
    resp = post(client, f"/admin/questionnaires/{draft.id}/sections/{second.id}", {
        "title": "Le jardin", "condition_code": "Q1", "condition_values": ["Q1:yes"]})
    assert resp.status_code == 302
    assert (reload(draft).current_version.sections[1].condition_values, reload(draft).current_version.sections[0].title) == (
        ["yes"], "")


def test_moving_a_question_above_the_one_its_condition_uses_is_refused(staff, draft):
    client = staff(FAC)
    with_yes_no_and_choice(client, draft)
    q2 = question(draft, "Q2")
    resp = post(client, f"/admin/questionnaires/{draft.id}/questions/{q2.id}/move", {"direction": "up"})
    assert resp.status_code == 422
    assert "This change would break the condition of Q2" in text(resp)
    assert [x.code for x in reload(draft).current_version.questions] == ["Q1", "Q2"]


def test_deleting_a_question_a_condition_uses_is_refused(staff, draft):
    client = staff(FAC)
    with_yes_no_and_choice(client, draft)
    resp = post(client, f"/admin/questionnaires/{draft.id}/questions/{question(draft, 'Q1').id}/delete", {})
    assert resp.status_code == 422
    assert "Q2 is shown only after an answer to Q1" in text(resp)
    assert count(Question) == DEMO_QUESTIONS + 2


def test_changing_the_kind_of_a_condition_source_to_text_is_refused(staff, draft):
    client = staff(FAC)
    with_yes_no_and_choice(client, draft)
    resp = post(client, f"/admin/questionnaires/{draft.id}/questions/{question(draft, 'Q1').id}",
                {"kind": "long_text", "text": "Avez-vous un jardin ?"})
    assert resp.status_code == 422 and "Q2 is shown only after an answer to Q1" in text(resp)
    assert question(draft, "Q1").kind == Kind.yes_no


def test_deleting_an_answer_a_condition_uses_is_refused(staff, draft):
    client = staff(FAC)
    add(client, draft, "single", options="Oui\nNon")
    add(client, draft, "short_text", condition_code="Q1", condition_values=["Q1:1"])
    used = question(draft, "Q1").options[0]
    resp = post(client, f"/admin/questionnaires/{draft.id}/options/{used.id}/delete", {})
    assert resp.status_code == 422 and "Q2 is shown only after an answer to Q1 = 1" in text(resp)
    assert len(question(draft, "Q1").options) == 2


def test_recoding_a_question_or_an_answer_carries_the_conditions_along(staff, draft):
    client = staff(FAC)
    add(client, draft, "single", options="Oui\nNon")
    add(client, draft, "short_text", condition_code="Q1", condition_values=["Q1:1"])
    assert post(client, f"/admin/questionnaires/{draft.id}/questions/{question(draft, 'Q1').id}",
                {"kind": "single", "text": "Jardin ?", "code": "JARDIN"}).status_code == 302
    option = question(draft, "JARDIN").options[0]
    assert post(client, f"/admin/questionnaires/{draft.id}/options/{option.id}",
                {"label": "Oui", "code": "oui"}).status_code == 302
    assert (question(draft, "Q2").condition_code, question(draft, "Q2").condition_values) == ("JARDIN", ["oui"])


# --- order, deletion, status ---------------------------------------------------------------


def test_questions_move_within_and_across_sections(staff, draft):
    client = staff(FAC)
    for kind in ("yes_no", "short_text", "number"):
        add(client, draft, kind)
    post(client, f"/admin/questionnaires/{draft.id}/sections", {"title": "Deux"})
    q3 = question(draft, "Q3")
    assert post(client, f"/admin/questionnaires/{draft.id}/questions/{q3.id}/move", {"direction": "up"}).status_code == 302
    assert [x.code for x in reload(draft).current_version.sections[0].questions] == ["Q1", "Q3", "Q2"]
    q2 = question(draft, "Q2")
    post(client, f"/admin/questionnaires/{draft.id}/questions/{q2.id}/move", {"direction": "down"})
    sections = reload(draft).current_version.sections
    assert ([x.code for x in sections[0].questions], [x.code for x in sections[1].questions]) == (["Q1", "Q3"], ["Q2"])
    assert [x.position for x in sections[0].questions] == [0, 1]


def test_the_first_question_cannot_move_up(staff, draft):
    client = staff(FAC)
    add(client, draft, "yes_no")
    resp = post(client, f"/admin/questionnaires/{draft.id}/questions/{question(draft, 'Q1').id}/move", {"direction": "up"})
    assert resp.status_code == 422 and "It cannot move further in that direction." in text(resp)


def test_deleting_a_question_renumbers_the_others(staff, draft):
    client = staff(FAC)
    add(client, draft, "yes_no")
    add(client, draft, "short_text")
    assert post(client, f"/admin/questionnaires/{draft.id}/questions/{question(draft, 'Q1').id}/delete", {}).status_code == 302
    assert [(x.code, x.position) for x in reload(draft).current_version.questions] == [("Q2", 0)]


def test_a_section_is_deleted_but_never_the_last_one(staff, draft):
    client = staff(FAC)
    post(client, f"/admin/questionnaires/{draft.id}/sections", {"title": "Deux"})
    second = reload(draft).current_version.sections[1]
    assert post(client, f"/admin/questionnaires/{draft.id}/sections/{second.id}/delete", {}).status_code == 302
    first = reload(draft).current_version.sections[0]
    resp = post(client, f"/admin/questionnaires/{draft.id}/sections/{first.id}/delete", {})
    assert resp.status_code == 422 and "A questionnaire keeps at least one section." in text(resp)
    assert len(reload(draft).current_version.sections) == 1


def test_opening_needs_a_question_and_a_closed_questionnaire_can_reopen(staff, draft):
    client = staff(FAC)
    resp = post(client, f"/admin/questionnaires/{draft.id}/status", {"status": "open"})
    assert resp.status_code == 422 and "Add at least one question before opening" in text(resp)
    add(client, draft, "yes_no")
    for status in ("open", "closed", "open"):
        assert post(client, f"/admin/questionnaires/{draft.id}/status", {"status": status}).status_code == 302
        assert reload(draft).status.value == status


# --- answer codes ---------------------------------------------------------------------------

SLIP_CODE = re.compile(r'class="slip-code"[^>]*>([A-Z0-9]{5}-[A-Z0-9]{5})<')


def test_a_batch_of_codes_is_stored_hashed_and_shown_once_on_slips_with_their_qr_code(staff, draft):
    resp = post(staff(FAC), f"/admin/questionnaires/{draft.id}/codes", {"size": "12", "label": "Marché du samedi"})
    assert resp.status_code == 200 and "no-store" in resp.headers["Cache-Control"]
    page = text(resp)
    shown = SLIP_CODE.findall(page)
    assert len(shown) == 12 and page.count('class="slip-qr"') == 12 and page.count('class="slip-page"') == 2
    batch = db.session.scalar(sa.select(AnswerCodeBatch).filter_by(questionnaire_id=draft.id))
    assert (batch.size, batch.label) == (12, "Marché du samedi")
    stored = db.session.scalars(sa.select(AnswerCode.code_hash).filter_by(batch_id=batch.id)).all()
    assert len(stored) == 12 and not any(c.replace("-", "") in h for c in shown for h in stored)
    assert answer_codes.find_code(reload(draft), shown[0]) is not None

    uri = re.search(r'class="slip-qr" src="data:image/png;base64,([^"]+)"', page).group(1)
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(uri))))
    url = urlsplit(barcode.text)
    assert url.path == f"/q/{draft.id}"
    assert parse_qs(url.query)["code"] == [shown[0].replace("-", "")]


@pytest.mark.parametrize("size", ["0", "2001", "abc", ""])
def test_a_wrong_number_of_codes_is_refused(staff, draft, size):
    resp = post(staff(FAC), f"/admin/questionnaires/{draft.id}/codes", {"size": size})
    assert resp.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnswerCodeBatch).filter_by(questionnaire_id=draft.id)) == 0


# --- who may do what ------------------------------------------------------------------------


def test_a_mediator_cannot_build(staff, draft):
    client = staff(MED)
    assert client.get("/admin/questionnaires/new").status_code == 403
    assert client.get(f"/admin/questionnaires/{draft.id}").status_code == 403
    assert add(client, draft, "yes_no").status_code == 403
    assert count(Question) == DEMO_QUESTIONS


def test_the_facilitator_of_marseille_builds_marseilles_questionnaires(staff, draft):
    client = staff(FAC)
    assert client.get(f"/admin/questionnaires/{draft.id}").status_code == 200
    assert add(client, draft, "yes_no").status_code == 302


def test_an_administrator_of_another_contract_gets_403(staff, draft):
    client = staff(NAR_ADMIN)
    assert client.get(f"/admin/questionnaires/{draft.id}").status_code == 403
    assert post(client, f"/admin/questionnaires/{draft.id}/codes", {"size": "5"}).status_code == 403
    assert client.get(f"/admin/translations/questionnaires/{draft.id}").status_code == 403


def test_unknown_ids_and_objects_of_another_questionnaire_are_404(staff, draft):
    client = staff(FAC)
    barometer = db.session.scalar(sa.select(Questionnaire).filter_by(title=questionnaire_demo.BAROMETER_TITLE))
    foreign_question = barometer.current_version.questions[0]
    assert client.get("/admin/questionnaires/999999").status_code == 404
    assert client.get(f"/admin/questionnaires/{draft.id}/questions/{foreign_question.id}").status_code == 404
    assert client.get(f"/admin/questionnaires/{draft.id}/options/999999").status_code == 404


def test_the_list_shows_what_each_role_may_see_and_do(staff, draft):
    fac = text(staff(FAC).get("/admin/questionnaires/"))
    assert questionnaire_demo.BAROMETER_TITLE in fac and "Test du constructeur" in fac
    assert f'href="/admin/questionnaires/{draft.id}"' in fac
    med = staff(MED).get("/admin/questionnaires/")
    assert med.status_code == 200
    # Frais Vallon's consultation, and the Marseille-wide barometer she collects answers for; not
    # Marseille's draft, and no builder link.
    assert questionnaire_demo.CODES_TITLE in text(med) and questionnaire_demo.BAROMETER_TITLE in text(med)
    assert "Test du constructeur" not in text(med)
    assert f'href="/admin/questionnaires/{draft.id}"' not in text(med)
    barometer_id = db.session.scalar(sa.select(Questionnaire.id).filter_by(title=questionnaire_demo.BAROMETER_TITLE))
    assert f'/admin/questionnaires/{barometer_id}/paper' in text(med)
    eva = text(staff(EVA).get("/admin/questionnaires/"))
    assert questionnaire_demo.BAROMETER_TITLE in eva and "New questionnaire" not in eva
    assert questionnaire_demo.BAROMETER_TITLE not in text(staff(NAR_ADMIN).get("/admin/questionnaires/"))
    assert staff(COM).get("/admin/questionnaires/").status_code == 403


def test_the_back_office_links_to_questionnaires_for_those_who_see_them(staff):
    assert 'href="/admin/questionnaires/"' in text(staff(MED).get("/admin/"))
    assert 'href="/admin/questionnaires/"' in text(staff(EVA).get("/admin/"))
    assert 'href="/admin/questionnaires/"' not in text(staff(COM).get("/admin/"))


def test_a_question_is_translated_from_the_back_office(staff, draft):
    client = staff(FAC)
    add(client, draft, "yes_no", "Avez-vous un jardin ?")
    q1 = question(draft, "Q1")
    resp = post(client, f"/admin/translations/questionnaire_questions/{q1.id}", {"text__ar": "هل لديكم حديقة؟"})
    assert resp.status_code == 302
    assert translate(question(draft, "Q1"), "text", "ar").text == "هل لديكم حديقة؟"
    assert staff(MED).get(f"/admin/translations/questionnaire_questions/{q1.id}").status_code == 403


# --- no server error on garbage ---------------------------------------------------------------


@pytest.mark.parametrize("fields", [
    {"section": "abc"}, {"section": "999999"}, {"kind": "poll"}, {"text": ""}, {"text": "x" * 501},
    {"max_choices": "many"}, {"max_choices": "-3"}, {"min_value": "nan"}, {"min_value": "1e400"},
    {"category": "abc"}, {"indicator": "99999999"}, {"code": "Q 1"}, {"code": "x" * 40},
    {"condition_code": "'; DROP TABLE x"}, {"options": "x" * 400},
])
def test_garbage_in_the_question_form_is_refused_without_a_server_error(staff, draft, fields):
    data = {"section": str(draft.current_version.sections[0].id), "kind": "single", "text": "Q?", **fields}
    resp = post(staff(FAC), f"/admin/questionnaires/{draft.id}/questions/new", data)
    assert resp.status_code == 422, text(resp)
    assert count(Question) == DEMO_QUESTIONS


@pytest.mark.parametrize("path_suffix, data", [
    ("/settings", {"title": "", "purpose": "consultation", "access": "open"}),
    ("/settings", {"title": "t" * 201, "purpose": "consultation", "access": "open"}),
    ("/settings", {"title": "T", "purpose": "secret", "access": "open"}),
    ("/settings", {"title": "T", "purpose": "consultation", "access": "open", "opens_on": "tomorrow"}),
    ("/sections", {"title": "s" * 201}),
    ("/status", {"status": "archived"}),
])
def test_garbage_in_other_forms_is_refused_without_a_server_error(staff, draft, path_suffix, data):
    resp = post(staff(FAC), f"/admin/questionnaires/{draft.id}{path_suffix}", data)
    assert resp.status_code == 422
    assert reload(draft).title == "Test du constructeur" and len(reload(draft).current_version.sections) == 1


def test_a_move_without_a_direction_is_a_bad_request(staff, draft):
    add(staff(FAC), draft, "yes_no")
    resp = post(staff(FAC), f"/admin/questionnaires/{draft.id}/questions/{question(draft, 'Q1').id}/move", {"direction": "left"})
    assert resp.status_code == 400


# --- pictograms and tools ---------------------------------------------------------------------


def test_every_pictogram_has_its_file_and_the_demo_uses_only_known_ones(demo):
    for name in pictograms.PICTOGRAMS:
        svg = (ROOT / "static" / pictograms.static_path(name)).read_text()
        assert svg.startswith("<svg") and "<script" not in svg
    used = set(db.session.scalars(sa.select(Option.pictogram).where(Option.pictogram != "")))
    assert used and used <= set(pictograms.PICTOGRAMS)


def test_the_builder_links_only_to_tools_that_exist(staff, draft, app):
    page = text(staff(FAC).get(f"/admin/questionnaires/{draft.id}"))
    for endpoint, label, _allowed in TOOLS[1:]:
        with app.test_request_context(), force_locale("en"):
            link = f">{label}</a>"
            if endpoint in app.view_functions:
                link = f'href="{url_for(endpoint, qid=draft.id)}">{label}</a>'
        assert (link in page) == (endpoint in app.view_functions), endpoint
