"""Answers entered by staff: mediator-assisted (channel and kind of help) and paper forms typed
with option codes (channel, date on the form, conditions checked), and who may do it."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from participation.admin.services import create_staff, grant_role
from participation.core.channels import Channel
from participation.core.territories import Commune
from participation.core.users import Role, User
from participation.extensions import db
from participation.questionnaires.models import AgeBand, Answer, Moderation, Response, Status

from ..conftest import Auth, count, csrf_from
from .test_answering import Resident, barometer, code_consultation, demo_code, frais_vallon_id, new_responses

FAC = "animatrice@amp.demo"  # facilitator, Marseille: covers the commune-wide barometer
MEDIATOR = "mediatrice.marseille@amp.test"  # mediator on all of Marseille, made below
PASSWORD = "a-long-test-password"


@pytest.fixture
def q(demo):
    return barometer()


@pytest.fixture
def coded(demo):
    return code_consultation()


@pytest.fixture
def marseille_mediator(demo):
    marseille = db.session.scalar(sa.select(Commune).filter_by(insee_code="13055"))
    admin = db.session.scalar(sa.select(User).filter_by(email="admin@amp.demo"))
    mediator, _created = create_staff(MEDIATOR, "Inès Roux", PASSWORD)
    grant_role(admin, mediator, Role.mediator, marseille)
    db.session.commit()
    return mediator


@pytest.fixture
def staff(client):
    def login(email, lang="en"):
        assert Auth(client).login(email, PASSWORD if email == MEDIATOR else None).status_code == 302
        client.get(f"/admin/?lang={lang}")
        return client

    return login


def rows():
    return count(Response), count(Answer)


# --- assisted --------------------------------------------------------------------------


def assisted_answers(r: Resident, help=("read_aloud", "translated"), picked=None):
    r.open()
    start = {"help": list(help)}
    if picked:
        start["picked"] = str(picked)
    r.post_form("q-start", "start", start)
    r.next({r.field("Q1"): "2"})
    r.next({r.field("Q4"): "no"})
    r.next({r.field("Q10"): "calme"})
    r.next()
    return r.send()


def test_assisted_entry_records_channel_and_kinds_of_help(staff, q):
    client = staff(FAC)
    r = Resident(client, q, start_path=f"/admin/questionnaires/{q.id}/assisted")
    sent = assisted_answers(r, help=("read_aloud", "written_for"))
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/admin/questionnaires/{q.id}/assisted")
    (response,) = new_responses()
    assert response.channel == Channel.assisted
    assert (response.helped_read_aloud, response.helped_translated, response.helped_written_for) == (True, False, True)
    assert {a.channel for a in response.answers} == {Channel.assisted}


def test_assisted_entry_uses_the_neighbourhood_the_mediator_picked(staff, q):
    r = Resident(staff(FAC), q, start_path=f"/admin/questionnaires/{q.id}/assisted")
    assisted_answers(r, picked=frais_vallon_id())
    (response,) = new_responses()
    assert response.neighbourhood_id == frais_vallon_id()


def test_declared_residence_wins_over_the_picked_neighbourhood(staff, q):
    from participation.core.territories import Neighbourhood

    air_bel = db.session.scalar(sa.select(Neighbourhood.id).filter_by(qpv_code="QN01319M"))
    r = Resident(staff(FAC), q, start_path=f"/admin/questionnaires/{q.id}/assisted")
    r.open()
    r.post_form("q-start", "start", {"picked": str(frais_vallon_id())})
    r.next({r.field("Q1"): "2"})
    r.next({r.field("Q4"): "no"})
    r.next()
    r.next({"p_residence": str(air_bel)})
    r.send()
    (response,) = new_responses()
    assert response.neighbourhood_id == air_bel


def test_assisted_entry_in_arabic_records_the_language(staff, q):
    r = Resident(staff(FAC, lang="ar"), q, start_path=f"/admin/questionnaires/{q.id}/assisted")
    assisted_answers(r)
    (response,) = new_responses()
    assert response.locale == "ar"


def test_assisted_entry_keeps_no_draft_on_the_device(staff, q):
    r = Resident(staff(FAC), q, start_path=f"/admin/questionnaires/{q.id}/assisted")
    r.open()
    r.post_form("q-start", "start")
    assert "Assisted entry" in r.html
    assert "data-draft-key" not in r.html


def test_a_mediator_covering_the_commune_can_enter_assisted_answers(staff, q, marseille_mediator):
    r = Resident(staff(MEDIATOR), q, start_path=f"/admin/questionnaires/{q.id}/assisted")
    assert assisted_answers(r).status_code == 302
    assert len(new_responses()) == 1


# --- paper -----------------------------------------------------------------------------


def paper_form(q, **values) -> dict:
    """Field names of the paper page by question code ("Q3" → "q12")."""
    ids = {question.code: question.id for question in q.current_version.questions}
    out = {}
    for key, value in values.items():
        code, _, part = key.partition("__")
        out[f"q{ids[code]}" + (f"_{part}" if part else "") if code in ids else key] = value
    return out


def post_paper(client, q, data):
    page = client.get(f"/admin/questionnaires/{q.id}/paper")
    payload = {"csrf_token": csrf_from(page.get_data(as_text=True)),
               "nonce": re.search(r'name="nonce" value="([^"]+)"', page.get_data(as_text=True)).group(1), **data}
    return client.post(f"/admin/questionnaires/{q.id}/paper", data=payload)


FULL_FORM = dict(Q1="4", Q2="dk", Q3="shops green", Q4="yes", Q5="FS", Q6="safety clean", Q7="3", Q8="15/01/2026",
                 Q9="Plus de bancs", Q10="vivant", paper_date="02/03/2026", form_locale="ar", p_age="40_59")


def test_paper_page_lists_every_question_with_its_option_codes(staff, q):
    html = staff(FAC).get(f"/admin/questionnaires/{q.id}/paper").get_data(as_text=True)
    for code in ("Q1", "Q5", "Q10"):
        assert f'<span class="code">{code}</span>' in html
    assert '<b class="code">shops</b>' in html
    assert "autofocus" in html


def test_paper_form_typed_with_codes_is_stored_with_channel_paper_and_its_date(staff, q):
    client = staff(FAC)
    sent = post_paper(client, q, paper_form(q, picked=str(frais_vallon_id()), **FULL_FORM))
    assert sent.status_code == 302
    (response,) = new_responses()
    assert (response.channel, response.submitted_on, response.locale) == (Channel.paper, date(2026, 3, 2), "ar")
    assert response.neighbourhood_id == frais_vallon_id()
    assert response.age_band == AgeBand.a40_59
    answers = {}
    for a in response.answers:
        answers.setdefault(a.question.code, []).append(a)
    assert sorted(a.option.code for a in answers["Q3"]) == ["green", "shops"]
    assert answers["Q5"][0].option.code == "fs"
    ranked = sorted(answers["Q6"], key=lambda a: a.rank)
    assert [(a.option.code, a.rank) for a in ranked] == [("safety", 1), ("clean", 2)]
    assert answers["Q8"][0].day == date(2026, 1, 15)
    assert answers["Q9"][0].moderation == Moderation.pending
    assert {a.submitted_on for a in response.answers} == {date(2026, 3, 2)}


def test_after_saving_the_page_is_empty_keeps_the_pile_settings_and_counts(staff, q):
    client = staff(FAC)
    sent = post_paper(client, q, paper_form(q, picked=str(frais_vallon_id()), **FULL_FORM))
    page = client.get(sent.headers["Location"])
    html = page.get_data(as_text=True)
    assert "Paper form saved (1 this session)" in html
    assert "Paper forms entered this session: 1" in html
    assert 'value="02/03/2026"' in html
    first = q.current_version.questions[0]
    assert re.search(rf'<input id="q{first.id}" name="q{first.id}" value=""[^>]*autofocus', html)
    post_paper(client, q, paper_form(q, **FULL_FORM))
    assert "Paper forms entered this session: 2" in client.get(f"/admin/questionnaires/{q.id}/paper").get_data(as_text=True)


def test_paper_error_is_shown_next_to_its_field_and_nothing_is_saved(staff, q):
    client = staff(FAC)
    before = rows()
    page = post_paper(client, q, paper_form(q, **{**FULL_FORM, "Q1": "9"}))
    assert page.status_code == 422
    q1 = q.current_version.questions[0]
    assert f'id="q{q1.id}-error"' in page.get_data(as_text=True)
    assert re.search(rf'id="q{q1.id}" name="q{q1.id}" value="9"[^>]*autofocus', page.get_data(as_text=True))
    assert rows() == before


def test_paper_answer_to_a_question_the_form_skips_is_refused(staff, q):
    client = staff(FAC)
    before = rows()
    page = post_paper(client, q, paper_form(q, **{**FULL_FORM, "Q4": "no"}))
    assert page.status_code == 422
    assert "does not apply given the answer to Q4" in page.get_data(as_text=True)
    assert rows() == before


def test_paper_date_in_the_future_is_refused(staff, q):
    client = staff(FAC)
    tomorrow = (date.today() + timedelta(days=1)).strftime("%d/%m/%Y")
    before = rows()
    page = post_paper(client, q, paper_form(q, **{**FULL_FORM, "paper_date": tomorrow}))
    assert page.status_code == 422
    assert rows() == before


def test_paper_unreadable_date_is_refused(staff, q):
    page = post_paper(staff(FAC), q, paper_form(q, **{**FULL_FORM, "paper_date": "last week"}))
    assert page.status_code == 422
    assert 'id="paper_date-error"' in page.get_data(as_text=True)


def test_paper_required_question_left_empty_is_recorded_unanswered(staff, q):
    sent = post_paper(staff(FAC), q, paper_form(q, **{**FULL_FORM, "Q1": ""}))
    assert sent.status_code == 302
    (response,) = new_responses()
    assert "Q1" not in {a.question.code for a in response.answers}


def test_paper_form_sent_twice_is_recorded_once(staff, q):
    client = staff(FAC)
    page = client.get(f"/admin/questionnaires/{q.id}/paper").get_data(as_text=True)
    payload = {"csrf_token": csrf_from(page), "nonce": re.search(r'name="nonce" value="([^"]+)"', page).group(1),
               **paper_form(q, **FULL_FORM)}
    assert client.post(f"/admin/questionnaires/{q.id}/paper", data=payload).status_code == 302
    assert client.post(f"/admin/questionnaires/{q.id}/paper", data=payload).status_code == 302
    assert len(new_responses()) == 1


def test_paper_forms_can_be_typed_after_the_questionnaire_closed(staff, q):
    q.status = Status.closed
    db.session.commit()
    assert post_paper(staff(FAC), q, paper_form(q, **FULL_FORM)).status_code == 302


def test_paper_entry_into_a_draft_is_refused(staff, q):
    q.status = Status.draft
    db.session.commit()
    assert staff(FAC).get(f"/admin/questionnaires/{q.id}/paper").status_code == 409


def test_paper_form_of_a_code_questionnaire_needs_its_code(staff, coded):
    client = staff("mediateur@amp.demo")  # mediator of Frais Vallon, where this consultation is
    before = rows()
    page = post_paper(client, coded, paper_form(coded, H1="morning", paper_date="01/03/2026", form_locale="fr"))
    assert page.status_code == 422
    assert "Enter the code" in page.get_data(as_text=True)
    assert rows() == before
    sent = post_paper(client, coded, paper_form(coded, H1="morning", paper_date="01/03/2026", form_locale="fr",
                                                code=demo_code(coded, 8)))
    assert sent.status_code == 302
    (response,) = new_responses()
    assert response.neighbourhood_id == frais_vallon_id()  # the consultation's own neighbourhood


# --- who may enter ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["assisted", "paper"])
@pytest.mark.parametrize("email, status", [
    (FAC, 200),
    ("admin@amp.demo", 200),
    (MEDIATOR, 200),
    ("evaluation@amp.demo", 403),
    ("comite@amp.demo", 403),
    # A mediator of Frais Vallon collects answers to the Marseille-wide barometer (access.can_enter).
    ("mediateur@amp.demo", 200),
    ("admin@narbonne.demo", 403),
])
def test_who_may_enter_answers(staff, q, marseille_mediator, kind, email, status):
    assert staff(email).get(f"/admin/questionnaires/{q.id}/{kind}").status_code == status


@pytest.mark.parametrize("kind", ["assisted", "paper"])
def test_a_mediator_of_another_commune_cannot_enter_answers(staff, q, kind):
    from participation.core.territories import Neighbourhood

    beisson = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01301M"))  # Aix-en-Provence
    admin = db.session.scalar(sa.select(User).filter_by(email="admin@amp.demo"))
    mediator, _created = create_staff(MEDIATOR, "Inès Roux", PASSWORD)
    grant_role(admin, mediator, Role.mediator, beisson)
    db.session.commit()
    assert staff(MEDIATOR).get(f"/admin/questionnaires/{q.id}/{kind}").status_code == 403


def test_the_neighbourhood_of_a_mediators_grant_is_preselected(staff, q):
    html = staff("mediateur@amp.demo").get(f"/admin/questionnaires/{q.id}/assisted").get_data(as_text=True)
    assert re.search(rf'<option value="{frais_vallon_id()}" selected>', html)


@pytest.mark.parametrize("kind", ["assisted", "paper"])
def test_the_public_cannot_enter_answers(client, q, kind):
    page = client.get(f"/admin/questionnaires/{q.id}/{kind}")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_an_evaluator_cannot_post_a_paper_form(staff, q):
    client = staff("evaluation@amp.demo")
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    before = rows()
    page = client.post(f"/admin/questionnaires/{q.id}/paper",
                       data={"csrf_token": token, "nonce": "x" * 24, **paper_form(q, **FULL_FORM)})
    assert page.status_code == 403
    assert rows() == before
