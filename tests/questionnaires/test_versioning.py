"""Versions of a questionnaire: once answers exist, a structural change is made on a copy
(version + 1, with its structure, conditions, tags and translations) and the answered version
stays as it was; wording is corrected in place."""
from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from participation.core.content_i18n import ContentTranslation, translate
from participation.core.territories import Commune
from participation.extensions import db
from participation.questionnaires import builder
from participation.questionnaires.demo import BAROMETER_TITLE
from participation.questionnaires.models import Answer, Option, Question, Questionnaire, Response

from ..conftest import Auth, csrf_from

FAC = "animatrice@amp.demo"  # facilitator, Marseille
ANSWERS = 240  # synthetic responses of the demo barometer, all on its version 1


@pytest.fixture
def fac(app, demo):
    client = app.test_client()
    assert Auth(client).login(FAC).status_code == 302
    client.get("/admin/?lang=en")
    return client


@pytest.fixture
def barometer(demo) -> Questionnaire:
    return db.session.scalar(sa.select(Questionnaire).filter_by(title=BAROMETER_TITLE))


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def post(client, path: str, data: dict):
    return client.post(path, data={**data, "csrf_token": csrf_from(client.get("/admin/").get_data(as_text=True))})


def reload(q: Questionnaire) -> Questionnaire:
    db.session.expire_all()
    return db.session.get(Questionnaire, q.id)


def in_version(q: Questionnaire, number: int, code: str) -> Question:
    version = next(v for v in reload(q).versions if v.number == number)
    return next(x for x in version.questions if x.code == code)


def form_of(question: Question, **changes) -> dict:
    """The question's edit form as the page sends it, with `changes`."""
    data = {"kind": question.kind.value, "text": question.text, "code": question.code, "help": question.help,
            "text_easy": question.text_easy, "scale_style": question.scale_style.value if question.scale_style else "",
            "max_choices": question.max_choices or "", "min_value": "" if question.min_value is None else question.min_value,
            "max_value": "" if question.max_value is None else question.max_value,
            "category": question.category_id or "", "indicator": question.indicator_id or "",
            "condition_code": question.condition_code or "",
            "condition_values": [f"{question.condition_code}:{v}" for v in question.condition_values or ()]}
    for flag in ("required", "allow_other", "allow_dont_know"):
        if getattr(question, flag):
            data[flag] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def shape(version) -> list:
    """Everything a copy must keep: sections, questions, options, conditions, tags."""
    return [(s.position, s.title, s.condition_code, [
        (q.code, q.kind, q.position, q.required, q.scale_style, q.allow_other, q.allow_dont_know, q.max_choices,
         q.min_value, q.max_value, q.category_id, q.indicator_id, q.condition_code, q.condition_values,
         [(o.code, o.label, o.pictogram, o.is_other, o.is_dont_know) for o in q.options])
        for q in s.questions]) for s in version.sections]


def answers_on(version) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Answer).join(Question)
                             .where(Question.version_id == version.id))


# --- in place -----------------------------------------------------------------------------


def test_correcting_a_question_text_on_an_answered_version_is_made_in_place(fac, barometer):
    q1 = in_version(barometer, 1, "Q1")
    resp = post(fac, f"/admin/questionnaires/{barometer.id}/questions/{q1.id}",
                form_of(q1, text="Êtes-vous satisfait·e de votre quartier ?", help="Pensez à cette année."))
    assert resp.status_code == 302
    assert [v.number for v in reload(barometer).versions] == [1]
    assert (in_version(barometer, 1, "Q1").text, in_version(barometer, 1, "Q1").help) == (
        "Êtes-vous satisfait·e de votre quartier ?", "Pensez à cette année.")


def test_option_labels_pictograms_and_section_texts_are_edited_in_place(fac, barometer):
    option = in_version(barometer, 1, "Q3").options[0]
    assert post(fac, f"/admin/questionnaires/{barometer.id}/options/{option.id}",
                {"code": option.code, "label": "Des magasins", "label_easy": "Des boutiques", "pictogram": "home"}
                ).status_code == 302
    section = reload(barometer).current_version.sections[0]
    assert post(fac, f"/admin/questionnaires/{barometer.id}/sections/{section.id}",
                {"title": "Le quartier", "intro": "Trois questions."}).status_code == 302
    q = reload(barometer)
    assert [v.number for v in q.versions] == [1]
    edited = db.session.get(Option, option.id)
    assert (edited.label, edited.label_easy, edited.pictogram) == ("Des magasins", "Des boutiques", "home")
    assert (q.versions[0].sections[0].title, q.versions[0].sections[0].intro) == ("Le quartier", "Trois questions.")


def test_a_structural_change_on_a_version_without_answers_stays_on_it(fac, demo):
    marseille = db.session.scalar(sa.select(Commune).filter_by(insee_code="13055"))
    q = builder.create_questionnaire(marseille, "Sans réponse", "fr")
    db.session.commit()
    section = q.current_version.sections[0]
    for kind in ("yes_no", "number"):
        assert post(fac, f"/admin/questionnaires/{q.id}/questions/new",
                    {"section": str(section.id), "kind": kind, "text": "?"}).status_code == 302
    assert [v.number for v in reload(q).versions] == [1]
    assert [x.code for x in reload(q).current_version.questions] == ["Q1", "Q2"]


# --- a new version --------------------------------------------------------------------------


def test_a_structural_change_on_an_answered_version_is_made_on_version_2_a_copy_of_it(fac, barometer):
    before = shape(barometer.versions[0])
    section = barometer.current_version.sections[2]
    resp = post(fac, f"/admin/questionnaires/{barometer.id}/questions/new",
                {"section": str(section.id), "kind": "yes_no", "text": "Recommanderiez-vous le quartier ?"})
    assert resp.status_code == 302
    assert "the change was made on a new version (2)" in text(fac.get(resp.headers["Location"]))
    q = reload(barometer)
    v1, v2 = q.versions
    assert (v2.number, q.current_version.id) == (2, v2.id)
    assert "Q11" in v2.note
    assert shape(v1) == before
    copied = shape(v2)
    assert copied[:2] == before[:2] and copied[2][:3] == before[2][:3]  # all of version 1 …
    assert copied[2][3][:4] == before[2][3]
    assert [x.code for x in v2.questions][-1] == "Q11"  # … and the new question at the end
    assert {x.id for x in v1.questions}.isdisjoint({x.id for x in v2.questions})
    q5 = in_version(q, 2, "Q5")
    assert (q5.condition_code, q5.condition_values) == ("Q4", ["yes"])


def test_the_new_version_carries_the_content_translations(fac, barometer):
    v1_q1 = in_version(barometer, 1, "Q1")
    post(fac, f"/admin/questionnaires/{barometer.id}/questions/{v1_q1.id}", form_of(v1_q1, required=None))
    q = reload(barometer)
    v1, v2 = q.versions
    assert translate(v2.questions[0], "text", "ar").text == translate(v1.questions[0], "text", "ar").text == (
        "هل أنتم راضون عن الحياة في حيّكم؟")
    assert translate(v2.sections[1], "title", "ar").text == "الخدمات العامة"
    assert [translate(o, "label", "ar").text for o in v2.questions[3].options] == ["نعم", "لا"]

    def rows(version):
        ids = {"questionnaire_sections": [s.id for s in version.sections],
               "questionnaire_questions": [x.id for x in version.questions],
               "questionnaire_options": [o.id for x in version.questions for o in x.options]}
        return db.session.scalar(sa.select(sa.func.count()).select_from(ContentTranslation).where(sa.or_(*[
            sa.and_(ContentTranslation.entity_type == t, ContentTranslation.entity_id.in_(i)) for t, i in ids.items()])))

    assert rows(v2) == rows(v1) > 0


def test_version_1_and_its_answers_stay_as_they_were(fac, barometer):
    v1 = barometer.versions[0]
    before = (shape(v1), answers_on(v1))
    q4 = in_version(barometer, 1, "Q4")
    post(fac, f"/admin/questionnaires/{barometer.id}/questions/{q4.id}", form_of(q4, allow_dont_know="y"))
    q = reload(barometer)
    assert len(q.versions) == 2
    assert (shape(q.versions[0]), answers_on(q.versions[0])) == before
    assert answers_on(q.versions[1]) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
        Response.version_id == q.versions[0].id)) == ANSWERS
    assert [o.code for o in in_version(q, 2, "Q4").options] == ["yes", "no", "dk"]
    assert [o.code for o in in_version(q, 1, "Q4").options] == ["yes", "no"]


def test_a_second_structural_change_on_the_unanswered_version_2_stays_on_version_2(fac, barometer):
    q10 = in_version(barometer, 1, "Q10")
    post(fac, f"/admin/questionnaires/{barometer.id}/questions/{q10.id}", form_of(q10, required="y"))
    q9 = in_version(barometer, 2, "Q9")
    resp = post(fac, f"/admin/questionnaires/{barometer.id}/questions/{q9.id}/delete", {})
    assert resp.status_code == 302
    q = reload(barometer)
    assert [v.number for v in q.versions] == [1, 2]
    assert [x.code for x in q.versions[1].questions] == [f"Q{i}" for i in range(1, 9)] + ["Q10"]
    assert in_version(q, 2, "Q10").required and not in_version(q, 1, "Q10").required
    assert len(q.versions[0].questions) == 10


STRUCTURAL_CHANGES = {
    "add a section": lambda q: builder.add_section(q, "Encore"),
    "move a section": lambda q: builder.move_section(q.current_version.sections[2], "up"),
    "delete a section": lambda q: builder.delete_section(q.current_version.sections[2]),
    "move a question": lambda q: builder.move_question(q.current_version.questions[0], "down"),
    "delete a question": lambda q: builder.delete_question(q.current_version.questions[9]),
    "change a kind": lambda q: builder.update_question(q.current_version.questions[6], {
        "kind": "short_text", "text": "Combien ?", "code": "Q7"}),
    "add an option": lambda q: builder.add_option(q.current_version.questions[2], "", "Une piscine"),
    "recode an option": lambda q: builder.update_option(q.current_version.questions[2].options[0], "commerces",
                                                        "Des commerces", "", "shop"),
    "delete an option": lambda q: builder.delete_option(q.current_version.questions[2].options[0]),
    "change a condition": lambda q: builder.update_question(q.current_version.questions[4], {
        "kind": "single", "text": "Où ?", "code": "Q5", "allow_other": True, "condition_code": "Q4",
        "condition_values": ["no"]}),
    "condition a section": lambda q: builder.update_section(q.current_version.sections[2], "Votre avis", "", "",
                                                            "Q4", ["yes"]),
}


@pytest.mark.parametrize("change", STRUCTURAL_CHANGES)
def test_each_structural_change_on_an_answered_version_makes_a_new_version(barometer, change):
    before = shape(barometer.versions[0])
    STRUCTURAL_CHANGES[change](barometer)
    db.session.commit()
    q = reload(barometer)
    assert [v.number for v in q.versions] == [1, 2]
    assert shape(q.versions[0]) == before
    assert shape(q.versions[1]) != before


def test_reordering_options_is_made_in_place(barometer):
    options = barometer.current_version.questions[2].options
    builder.move_option(options[1], "up")
    db.session.commit()
    q = reload(barometer)
    assert len(q.versions) == 1
    assert [o.code for o in q.current_version.questions[2].options][:2] == ["green", "shops"]


def test_a_refused_change_makes_no_new_version(fac, barometer):
    q5 = in_version(barometer, 1, "Q5")
    resp = post(fac, f"/admin/questionnaires/{barometer.id}/questions/{q5.id}/move", {"direction": "up"})
    assert resp.status_code == 422 and "This change would break the condition of Q5" in text(resp)
    assert [v.number for v in reload(barometer).versions] == [1]


# --- the builder page -------------------------------------------------------------------------


def test_the_builder_shows_the_version_and_its_answers(fac, barometer):
    page = text(fac.get(f"/admin/questionnaires/{barometer.id}"))
    assert "version 1" in page
    assert "This version has 240 answers: structural changes" in page and "create version 2" in page


def test_a_page_of_an_older_version_leads_back_to_the_current_one(fac, barometer):
    old_q1 = in_version(barometer, 1, "Q1")
    builder.add_section(barometer, "Encore")
    db.session.commit()
    resp = fac.get(f"/admin/questionnaires/{barometer.id}/questions/{old_q1.id}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/questionnaires/{barometer.id}")
    assert "This page showed an older version" in text(fac.get(resp.headers["Location"]))
    resp = post(fac, f"/admin/questionnaires/{barometer.id}/questions/{old_q1.id}/delete", {})
    assert resp.status_code == 302
    assert len(reload(barometer).current_version.questions) == 10
