"""A resident answers a questionnaire from its short link, without JavaScript, through the test
client: start → sections → profile → review → send → thanks, with conditions, the back button,
errors, answer codes, languages, closed and draft questionnaires, and the staff preview."""
from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from participation.core.channels import Channel
from participation.extensions import db
from participation.questionnaires import demo as q_demo
from participation.questionnaires.codes import format_code
from participation.questionnaires.models import (
    Access, AgeBand, Answer, Gender, Kind, Option, Question, Questionnaire, QuestionnaireVersion, Response, Section,
    Status,
)

from ..conftest import Auth, count, csrf_from


# --- a resident's browser without JavaScript ------------------------------------------------


class _Form(HTMLParser):
    """The successful controls of the first form whose class contains `css_class`."""

    def __init__(self, css_class: str):
        super().__init__()
        self.css_class = css_class
        self.inside = False
        self.done = False
        self.fields: list[tuple[str, str]] = []
        self.action = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and self.css_class in (a.get("class") or "").split():
            self.inside, self.action = True, a.get("action")
            return
        if not self.inside:
            return
        if tag == "input":
            kind = a.get("type", "text")
            if not a.get("name") or kind in ("submit", "button", "file"):
                return
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if kind in ("radio", "checkbox") else "")))
        elif tag == "select" and a.get("name"):
            self._select = [a["name"], None, None]
        elif tag == "option" and self._select is not None:
            if self._select[2] is None:
                self._select[2] = a.get("value", "")
            if "selected" in a:
                self._select[1] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside, self.done = False, True
        elif tag == "select" and self._select is not None:
            name, selected, first = self._select
            self.fields.append((name, selected if selected is not None else first or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append(tuple(self._textarea))
            self._textarea = None


def form_fields(html: str, css_class: str) -> tuple[str, list[tuple[str, str]]]:
    parser = _Form(css_class)
    parser.feed(html)
    assert parser.done, f"no form .{css_class} in the page"
    import html as html_lib

    return html_lib.unescape(parser.action), [(k, html_lib.unescape(v)) for k, v in parser.fields]


class Resident:
    """Fills the questionnaire's forms as a browser would, by question code."""

    def __init__(self, client, questionnaire, start_path=None, lang=None):
        """`lang`: the interface language to switch to first (tests that read messages use "en")."""
        self.client = client
        if lang:
            client.get(f"/?lang={lang}")
        self.q = questionnaire
        self.ids = {question.code: question.id for question in questionnaire.current_version.questions}
        self.start_path = start_path or f"/q/{questionnaire.id}"
        self.response = None

    @property
    def html(self) -> str:
        return self.response.get_data(as_text=True)

    def field(self, code: str, part: str = "") -> str:
        return f"q{self.ids[code]}_{part}" if part else f"q{self.ids[code]}"

    def open(self, query: str = ""):
        self.response = self.client.get(self.start_path + query)
        return self.response

    def post_form(self, css_class: str, go: str, answers: dict | None = None, files=None, action=None):
        form_action, fields = form_fields(self.html, css_class)
        data = MultiDict(fields)
        for name, value in (answers or {}).items():
            data.setlist(name, value if isinstance(value, list) else [value])
        data["go"] = go
        for name, upload in (files or {}).items():
            data.add(name, upload)  # (not update(): it would split the (file, name) tuple)
        self.response = self.client.post(action or form_action, data=data, content_type="multipart/form-data")
        return self.response

    def start(self, code: str | None = None):
        if self.response is None:
            self.open()
        return self.post_form("q-start", "start", {"code": code} if code is not None else None)

    def next(self, answers: dict | None = None, **kw):
        return self.post_form("q-form", "next", answers, **kw)

    def back(self):
        return self.post_form("q-form", "back")

    def send(self, answers: dict | None = None):
        return self.post_form("q-form", "send", answers)

    def step(self) -> str:
        return re.search(r'name="step" value="([^"]+)"', self.html).group(1)


def build_questionnaire(sections, section_conditions=None, access=Access.open, status=Status.open,
                        neighbourhood=None, **settings) -> Questionnaire:
    """A questionnaire of the demo contract on Marseille (or one neighbourhood). `sections`:
    lists of (code, kind, option codes, extra fields); an option code "other" is "other,
    please specify", "dk" is "don't know"."""
    from participation.core.territories import Commune

    marseille = db.session.scalar(sa.select(Commune).filter_by(insee_code="13055"))
    q = Questionnaire(contract_id=marseille.contract_id, commune_id=marseille.id,
                      neighbourhood_id=neighbourhood.id if neighbourhood else None, title="Questionnaire de test",
                      status=status, access=access, original_locale="fr", **settings)
    db.session.add(q)
    version = QuestionnaireVersion(questionnaire=q, number=1)
    db.session.add(version)
    db.session.flush()
    for s_pos, questions in enumerate(sections):
        section = Section(version_id=version.id, position=s_pos, title=f"Partie {s_pos + 1}", original_locale="fr")
        if section_conditions and s_pos in section_conditions:
            section.condition_code, section.condition_values = section_conditions[s_pos]
        db.session.add(section)
        db.session.flush()
        for q_pos, (code, kind, options, extra) in enumerate(questions):
            question = Question(version_id=version.id, section_id=section.id, position=q_pos, code=code, kind=Kind(kind),
                                text=f"Question {code} ?", original_locale="fr", **extra)
            db.session.add(question)
            db.session.flush()
            for o_pos, o_code in enumerate(options):
                db.session.add(Option(question_id=question.id, position=o_pos, code=o_code, label=f"Réponse {o_code}",
                                      is_other=o_code == "other", is_dont_know=o_code == "dk", original_locale="fr"))
    db.session.commit()
    return q


def barometer() -> Questionnaire:
    return db.session.scalar(sa.select(Questionnaire).filter_by(title=q_demo.BAROMETER_TITLE))


def new_responses():
    """Responses other than the demo's synthetic ones (those have no nonce)."""
    return list(db.session.scalars(sa.select(Response).where(Response.nonce_hash.is_not(None))))


@pytest.fixture
def q(demo):
    return barometer()


@pytest.fixture
def resident(client, q):
    client.get("/?lang=fr")
    return Resident(client, q)


def frais_vallon_id() -> int:
    from participation.core.territories import Neighbourhood

    return db.session.scalar(sa.select(Neighbourhood.id).filter_by(qpv_code="QN01322M"))


def answer_barometer(r: Resident, q4="yes", q5="fs"):
    """Start and fill the three sections; stops on the profile screen."""
    r.start()
    r.next({r.field("Q1"): "4", r.field("Q2"): "2", r.field("Q3"): ["shops", "other"], r.field("Q3", "other"): "une boulangerie"})
    answers = {r.field("Q4"): q4, r.field("Q6", "o" + str(_option_id(r, "Q6", "safety"))): "1"}
    if q5:
        answers[r.field("Q5")] = q5
    r.next(answers)
    r.next({r.field("Q7"): "3", r.field("Q8"): "2026-01-15", r.field("Q9"): "Plus de bancs",
            r.field("Q10"): "vivant"})


def _option_id(r: Resident, code: str, option_code: str) -> int:
    question = db.session.get(Question, r.ids[code])
    return next(o.id for o in question.options if o.code == option_code)


# --- the full flow ------------------------------------------------------------------------


def test_start_page_shows_the_intro_and_a_start_button(resident):
    page = resident.open()
    assert page.status_code == 200
    assert "Dix questions, cinq minutes." in resident.html
    assert 'value="start"' in resident.html


def test_first_screen_is_section_1_of_4(resident):
    resident.client.get("/?lang=en")
    resident.start()
    assert resident.response.status_code == 200
    assert "Section 1 of 4" in resident.html
    assert '<progress max="4" value="1"' in resident.html


def test_full_flow_records_one_web_response(resident, q):
    answer_barometer(resident)
    assert '<progress max="4" value="4"' in resident.html  # the profile screen
    resident.next({"p_age": "25_39", "p_gender": "woman", "p_residence": str(frais_vallon_id())})
    assert resident.step() == "review"
    sent = resident.send()
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith(f"/q/{q.id}/thanks")
    (response,) = new_responses()
    assert (response.channel, response.locale, response.submitted_on) == (Channel.web, "fr", date.today())
    assert response.neighbourhood_id == frais_vallon_id()
    assert (response.age_band, response.gender) == (AgeBand.a25_39, Gender.woman)
    assert not (response.helped_read_aloud or response.helped_translated or response.helped_written_for)
    codes = sorted(a.question.code for a in response.answers)
    assert codes == sorted(["Q1", "Q2", "Q3", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8", "Q9", "Q10"])


def test_thanks_page_shows_the_questionnaires_thanks_and_clears_the_draft(resident, q):
    page = resident.client.get(f"/q/{q.id}/thanks")
    html = page.get_data(as_text=True)
    assert "Les résultats seront présentés à la table de quartier." in html
    assert f'data-draft-clear="questionnaire:{q.id}:"' in html


def test_answers_carry_the_responses_fields(resident):
    answer_barometer(resident)
    resident.next({"p_residence": str(frais_vallon_id())})
    resident.send()
    (response,) = new_responses()
    assert {(a.neighbourhood_id, a.channel, a.locale, a.submitted_on) for a in response.answers} == {
        (frais_vallon_id(), Channel.web, "fr", date.today())}


def test_answer_values_are_stored_by_kind(resident):
    answer_barometer(resident)
    resident.next()
    resident.send()
    (response,) = new_responses()
    by_code = {}
    for a in response.answers:
        by_code.setdefault(a.question.code, []).append(a)
    assert by_code["Q1"][0].option.code == "4"
    other = next(a for a in by_code["Q3"] if a.option.is_other)
    assert other.text == "une boulangerie"
    assert by_code["Q6"][0].option.code == "safety" and by_code["Q6"][0].rank == 1
    assert by_code["Q7"][0].number == 3.0
    assert by_code["Q8"][0].day == date(2026, 1, 15)
    assert by_code["Q10"][0].text == "vivant"


def test_without_residence_a_commune_questionnaire_has_no_neighbourhood(resident):
    answer_barometer(resident)
    resident.next({"p_residence": ""})
    resident.send()
    (response,) = new_responses()
    assert response.neighbourhood_id is None


# --- conditions ---------------------------------------------------------------------------


def test_hidden_q5_when_q4_is_no_is_not_stored(resident):
    answer_barometer(resident, q4="no", q5="fs")  # Q5 sent anyway (no JavaScript to hide it)
    resident.next()
    resident.send()
    (response,) = new_responses()
    assert "Q5" not in {a.question.code for a in response.answers}


def test_q5_not_listed_in_the_review_when_q4_is_no(resident, q):
    answer_barometer(resident, q4="no", q5="fs")
    resident.next()
    q5 = next(question for question in q.current_version.questions if question.code == "Q5")
    assert "Où avez-vous trouvé de l&#39;aide" not in resident.html and q5.text not in resident.html


def test_q5_shows_a_note_saying_when_to_answer_it(resident):
    resident.start()
    resident.next({resident.field("Q1"): "4"})
    assert f'id="{resident.field("Q5")}-cond"' in resident.html
    assert f'data-condition-field="{resident.field("Q4")}"' in resident.html


@pytest.fixture
def conditional_sections(demo):
    return build_questionnaire(sections=[
        [("A1", "yes_no", ["yes", "no"], {})],
        [("B1", "short_text", [], {})],
        [("C1", "short_text", [], {})],
    ], section_conditions={1: ("A1", ["yes"])})


def test_a_hidden_section_is_skipped_and_not_counted(client, conditional_sections):
    r = Resident(client, conditional_sections)
    r.start()
    assert '<progress max="2" value="1"' in r.html
    r.next({r.field("A1"): "no"})
    assert '<progress max="2" value="2"' in r.html
    assert f'name="{r.field("C1")}"' in r.html


def test_a_section_shown_by_an_answer_is_counted(client, conditional_sections):
    r = Resident(client, conditional_sections)
    r.start()
    r.next({r.field("A1"): "yes"})
    assert '<progress max="3" value="2"' in r.html
    assert f'name="{r.field("B1")}"' in r.html


# --- back button, errors -----------------------------------------------------------------


def test_back_button_keeps_the_answers_of_both_screens(resident):
    resident.start()
    resident.next({resident.field("Q1"): "4"})
    resident.post_form("q-form", "back", {resident.field("Q4"): "no"})
    assert re.search(rf'name="{resident.field("Q1")}" value="4" checked', resident.html)
    resident.next()
    assert re.search(rf'name="{resident.field("Q4")}" value="no" checked', resident.html)


def test_missing_required_answer_shows_an_error_and_stays(resident):
    resident.start()
    before = count(Response)
    page = resident.next({resident.field("Q2"): "3"})
    assert page.status_code == 422
    assert resident.step().startswith("s")
    assert f'id="{resident.field("Q1")}-error"' in resident.html
    assert count(Response) == before


def test_send_with_a_required_answer_removed_goes_back_to_it_and_stores_nothing(resident):
    answer_barometer(resident)
    resident.next()
    before = (count(Response), count(Answer))
    page = resident.send({resident.field("Q1"): ""})
    assert page.status_code == 422
    assert f'id="{resident.field("Q1")}-error"' in resident.html
    assert (count(Response), count(Answer)) == before


@pytest.mark.parametrize("code, typed, message", [
    ("Q7", "beaucoup", "Write a number"),
    ("Q7", "61", "at most 60"),
    ("Q8", "31/02/2026", "Write a date"),
])
def test_badly_typed_answers_are_refused_with_a_message(resident, code, typed, message):
    resident.client.get("/?lang=en")
    resident.start()
    resident.next({resident.field("Q1"): "4"})
    resident.next({resident.field("Q4"): "no"})
    page = resident.next({resident.field(code): typed})
    assert page.status_code == 422
    assert message in resident.html


def test_too_many_choices_are_refused(resident):
    resident.client.get("/?lang=en")
    resident.start()
    page = resident.next({resident.field("Q1"): "4", resident.field("Q3"): ["shops", "green", "youth", "health"]})
    assert page.status_code == 422
    assert "at most 3" in resident.html


def test_other_without_its_text_is_refused(resident):
    resident.start()
    page = resident.next({resident.field("Q1"): "4", resident.field("Q3"): ["other"]})
    assert page.status_code == 422


def test_a_retried_send_records_one_response(resident):
    answer_barometer(resident)
    resident.next()
    action, fields = form_fields(resident.html, "q-form")
    data = MultiDict(fields)
    data["go"] = "send"
    first = resident.client.post(action, data=data)
    again = resident.client.post(action, data=data)
    assert first.status_code == again.status_code == 302
    assert len(new_responses()) == 1


# --- languages and easy-read ---------------------------------------------------------------


def test_arabic_renders_right_to_left_with_arabic_questions(client, q):
    r = Resident(client, q)
    r.open("?lang=ar")
    assert '<html lang="ar" dir="rtl">' in r.html
    r.start()
    assert "هل أنتم راضون عن الحياة في حيّكم؟" in r.html
    assert "غير راضٍ إطلاقًا" in r.html


def test_changing_language_mid_flow_keeps_the_answers(resident, q):
    resident.start()
    resident.next({resident.field("Q1"): "4"})
    resident.post_form("q-form", "stay", {resident.field("Q4"): "yes"}, action=f"/q/{q.id}?lang=ar")
    assert '<html lang="ar" dir="rtl">' in resident.html
    assert re.search(rf'name="{resident.field("Q4")}" value="yes" checked', resident.html)
    assert f'name="{resident.field("Q1")}" value="4"' in resident.html


def test_easy_read_shows_the_easy_wording_on_every_step(resident, q):
    resident.open("?easy=1")
    resident.start()
    assert "Vous aimez vivre dans votre quartier ?" in resident.html
    resident.next({resident.field("Q1"): "4"})
    resident.back()
    assert "Vous aimez vivre dans votre quartier ?" in resident.html


def test_easy_read_falls_back_to_the_normal_text(resident):
    resident.open("?easy=1")
    resident.start()
    assert "Comment vous sentez-vous dans les rues du quartier le soir ?" in resident.html


# --- answer codes ------------------------------------------------------------------------


def code_consultation() -> Questionnaire:
    return db.session.scalar(sa.select(Questionnaire).filter_by(title=q_demo.CODES_TITLE))


@pytest.fixture
def coded(demo):
    return code_consultation()


def demo_code(questionnaire, i=0) -> str:
    return format_code(q_demo._codes(questionnaire.id, 10)[i])


def test_code_questionnaire_refuses_to_start_without_a_code(client, coded):
    r = Resident(client, coded, lang="en")
    page = r.start(code="")
    assert page.status_code == 422
    assert "Enter the code printed on your slip." in r.html


def test_code_questionnaire_refuses_a_wrong_code(client, coded):
    r = Resident(client, coded, lang="en")
    page = r.start(code="ABCDE-FGHJK")
    assert page.status_code == 422
    assert "This code is not valid" in r.html


def test_code_from_the_qr_slip_is_filled_in(client, coded):
    r = Resident(client, coded)
    r.open(f"?code={demo_code(coded)}")
    assert f'value="{demo_code(coded)}"' in r.html


def answer_with_code(client, questionnaire, code):
    r = Resident(client, questionnaire)
    r.open(f"?code={code}")
    r.start()
    r.next({r.field("H1"): "evening"})
    return r, r.send()


def test_a_good_code_answers_once(client, coded):
    _r, sent = answer_with_code(client, coded, demo_code(coded))
    assert sent.status_code == 302
    assert len(new_responses()) == 1


def test_a_used_code_is_refused_at_the_start(app, client, coded):
    answer_with_code(client, coded, demo_code(coded))
    other = Resident(app.test_client(), coded, lang="en")
    page = other.open(f"?code={demo_code(coded)}")
    assert page.status_code == 422
    assert "already been used" in other.html


# --- closed, draft, preview ----------------------------------------------------------------


def test_closed_questionnaire_shows_a_closed_page(client, q):
    q.status = Status.closed
    db.session.commit()
    page = client.get(f"/q/{q.id}?lang=en")
    assert page.status_code == 409
    assert "closed" in page.get_data(as_text=True)


def test_questionnaire_past_its_closing_day_refuses_answers(resident, q):
    resident.start()
    q.closes_on = date.today() - timedelta(days=1)
    q.opens_on = date.today() - timedelta(days=30)
    db.session.commit()
    before = count(Response)
    assert resident.next({resident.field("Q1"): "4"}).status_code == 409
    assert count(Response) == before


def test_questionnaire_not_open_yet_says_when_it_opens(client, q):
    q.opens_on = date.today() + timedelta(days=3)
    db.session.commit()
    page = client.get(f"/q/{q.id}?lang=en")
    assert page.status_code == 409
    assert "not open yet" in page.get_data(as_text=True)


def test_draft_questionnaire_is_not_found_by_the_public(client, q):
    q.status = Status.draft
    db.session.commit()
    assert client.get(f"/q/{q.id}").status_code == 404


def test_unknown_questionnaire_is_not_found(client, demo):
    assert client.get("/q/999999").status_code == 404


def test_preview_of_a_draft_by_its_facilitator_saves_nothing(client, q):
    q.status = Status.draft
    db.session.commit()
    Auth(client).login("animatrice@amp.demo")
    r = Resident(client, q, start_path=f"/q/{q.id}/preview", lang="en")
    r.open()
    assert r.response.status_code == 200 and "Preview" in r.html
    answer_barometer(r)
    r.next()
    before = count(Response)
    page = r.send()
    assert page.status_code == 200
    assert "nothing is saved" in r.html
    assert count(Response) == before


@pytest.mark.parametrize("email", ["evaluation@amp.demo", "mediateur@amp.demo", "admin@narbonne.demo"])
def test_preview_is_refused_to_staff_who_cannot_manage(client, q, email):
    Auth(client).login(email)
    assert client.get(f"/q/{q.id}/preview").status_code == 403


def test_preview_needs_a_login(client, q):
    assert client.get(f"/q/{q.id}/preview").status_code in (302, 401)


def test_public_posts_are_rate_limited(client, q):
    token = csrf_from(client.get(f"/q/{q.id}").get_data(as_text=True))
    statuses = [client.post(f"/q/{q.id}", data={"csrf_token": token, "go": "start"}).status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120
    assert statuses[120] == 429


# --- a new version while answering ------------------------------------------------------------


def test_answers_given_before_a_new_version_are_carried_over_by_code(resident, q):
    from participation.questionnaires import builder

    resident.client.get("/?lang=en")
    resident.start()
    resident.next({resident.field("Q1"): "4", resident.field("Q3"): ["green"]})
    # Meanwhile a facilitator adds a question: answered version 1 → version 2.
    builder.add_question(q.current_version.sections[-1], {"kind": "short_text", "text": "Une question de plus ?"})
    db.session.commit()
    db.session.expire_all()
    new_version = barometer().current_version
    assert new_version.number == 2
    page = resident.next({resident.field("Q4"): "no"})
    assert page.status_code == 200
    assert "updated while you were answering" in resident.html
    new_q1 = next(x for x in new_version.questions if x.code == "Q1")
    four = next(o for o in new_q1.options if o.code == "4")
    # Back on the first screen, Q1's answer is there under the new version's field names.
    assert re.search(rf'<input[^>]*name="q{new_q1.id}" value="4" checked>', resident.html)
    # The resident goes on and sends: one response, on version 2, with the answer kept.
    resident.ids = {x.code: x.id for x in new_version.questions}
    for _ in range(6):
        if resident.step() == "review":
            break
        resident.next()
    sent = resident.send()
    assert sent.status_code == 302, resident.html
    (response,) = new_responses()
    assert response.version_id == new_version.id
    assert any(a.question_id == new_q1.id and a.option_id == four.id for a in response.answers)
