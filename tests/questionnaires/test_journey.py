"""The issue's "done when", through HTTP only: a facilitator builds a 10-question evaluation
questionnaire with a condition, in French with Arabic translations; residents answer it from
its public link (in French and in Arabic); a mediator enters an assisted and a paper answer;
the results and the results export show the right figures, with the small cells suppressed."""
from __future__ import annotations

import csv
import html
import io

import pytest
import sqlalchemy as sa

from participation.core.channels import Channel
from participation.core.territories import Commune
from participation.extensions import db
from participation.questionnaires.models import Answer, Questionnaire, Response

from ..conftest import Auth, csrf_from
from .test_answering import Resident
from .test_entry import paper_form, post_paper

FAC = "animatrice@amp.demo"
EVALUATOR = "evaluation@amp.demo"
TITLE = "Évaluation du contrat : votre quartier"

#: (kind, French text, Arabic text, extra form fields)
QUESTIONS = [
    ("scale", "Êtes-vous satisfait·e de votre quartier ?", "هل أنتم راضون عن حيّكم؟", {"scale_style": "likert", "required": "y"}),
    ("scale", "Vous sentez-vous en sécurité le soir ?", "هل تشعرون بالأمان مساءً؟", {"scale_style": "smileys", "allow_dont_know": "y"}),
    ("multiple", "Qu'est-ce qui manque ?", "ما الذي ينقص؟", {"options": "Des commerces\nDes médecins\nDes bancs", "allow_other": "y"}),
    ("yes_no", "Connaissez-vous la maison de quartier ?", "هل تعرفون دار الحي؟", {"required": "y"}),
    ("single", "Y allez-vous souvent ?", "هل تذهبون إليها كثيرًا؟", {"options": "Chaque semaine\nParfois\nJamais",
                                                                   "condition_code": "Q4", "condition_values": ["Q4:yes"]}),
    ("ranking", "Classez ces priorités", "رتّبوا هذه الأولويات", {"options": "Propreté\nEmploi"}),
    ("number", "Combien de personnes dans votre foyer ?", "كم عدد أفراد أسرتكم؟", {"min_value": "1", "max_value": "20"}),
    ("date", "Depuis quand habitez-vous ici ?", "منذ متى تسكنون هنا؟", {}),
    ("long_text", "Que faudrait-il changer ?", "ما الذي يجب تغييره؟", {}),
    ("short_text", "Un mot pour votre quartier", "كلمة لحيّكم", {}),
]


def _post(client, path, data):
    payload = dict(data)
    payload["csrf_token"] = csrf_from(client.get("/admin/").get_data(as_text=True))
    return client.post(path, data=payload)


def _login(app, email):
    client = app.test_client()
    assert Auth(client).login(email).status_code == 302
    return client


@pytest.fixture
def built(app, demo):
    """The questionnaire, built and opened through the builder's pages."""
    fac = _login(app, FAC)
    marseille = db.session.scalar(sa.select(Commune).filter_by(insee_code="13055"))
    resp = _post(fac, "/admin/questionnaires/new", {
        "title": TITLE, "scope": f"m{marseille.id}", "original_locale": "fr", "purpose": "evaluation", "access": "open",
        "intro": "Dix questions sur votre quartier.", "ask_residence": "y",
    })
    assert resp.status_code == 302, resp.get_data(as_text=True)
    q = db.session.scalar(sa.select(Questionnaire).filter_by(title=TITLE))
    for kind, text, _ar, extra in QUESTIONS:
        section = q.current_version.sections[-1]
        resp = _post(fac, f"/admin/questionnaires/{q.id}/questions/new",
                     {"section": str(section.id), "kind": kind, "text": text, **extra})
        assert resp.status_code == 302, html.unescape(resp.get_data(as_text=True))
        db.session.expire_all()
    q = db.session.get(Questionnaire, q.id)
    # Arabic: the title and every question, through the generic translations page.
    assert _post(fac, f"/admin/translations/questionnaires/{q.id}", {"title__ar": "تقييم العقد: حيّكم"}).status_code == 302
    for question, (_kind, _fr, ar, _extra) in zip(q.current_version.questions, QUESTIONS):
        resp = _post(fac, f"/admin/translations/questionnaire_questions/{question.id}", {"text__ar": ar})
        assert resp.status_code == 302
    assert _post(fac, f"/admin/questionnaires/{q.id}/status", {"status": "open"}).status_code == 302
    db.session.expire_all()
    return db.session.get(Questionnaire, q.id)


def option_code(q: Questionnaire, code: str, label: str) -> str:
    question = next(x for x in q.current_version.questions if x.code == code)
    return next(o.code for o in question.options if o.label == label)


def answer(client, q, *, satisfied: str, knows: bool, lang: str = "fr", extra_text: str = "") -> Resident:
    client.get(f"/?lang={lang}")
    r = Resident(client, q)
    r.start()
    # One section: every question is on one screen; Q5 only counts when Q4 is yes.
    answers = {r.field("Q1"): satisfied, r.field("Q4"): "yes" if knows else "no",
               r.field("Q3"): [option_code(q, "Q3", "Des médecins")], r.field("Q7"): "3"}
    if knows:
        answers[r.field("Q5")] = option_code(q, "Q5", "Parfois")
    if extra_text:
        answers[r.field("Q9")] = extra_text
    r.next(answers)
    assert r.response.status_code == 200 and 'class="error"' not in r.html, r.html
    r.next()  # the profile screen (residence), left unanswered
    r.send()
    assert r.response.status_code in (200, 302), r.html
    return r


def test_facilitator_builds_ten_questions_with_a_condition_in_french_and_arabic(built, client):
    version = built.current_version
    assert [x.code for x in version.questions] == [f"Q{i}" for i in range(1, 11)]
    q5 = version.questions[4]
    assert (q5.condition_code, q5.condition_values) == ("Q4", ["yes"])
    page = client.get(f"/q/{built.id}?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in page and "تقييم العقد: حيّكم" in page


def test_the_arabic_resident_sees_the_questions_in_arabic(built, client):
    client.get("/?lang=ar")
    r = Resident(client, built)
    r.start()
    for _kind, _fr, ar, _extra in QUESTIONS:
        assert html.escape(ar) in r.html or ar in r.html


def test_residents_answers_reach_the_results_with_small_cells_suppressed(app, built):
    # 14 residents: 11 know the maison de quartier, 3 do not (a small cell).
    for i in range(14):
        answer(app.test_client(), built, satisfied="4" if i % 2 else "2", knows=i < 11, lang="ar" if i % 3 == 0 else "fr")
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(Response.questionnaire_id == built.id))
    assert stored == 14
    q5 = built.current_version.questions[4]
    # The condition held: only the 11 who know it answered Q5.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(Answer.question_id == q5.id)) == 11

    evaluator = _login(app, EVALUATOR)
    page = html.unescape(evaluator.get(f"/admin/questionnaires/{built.id}/results?lang=en").get_data(as_text=True))
    assert "14" in page
    export = evaluator.get(f"/admin/questionnaires/{built.id}/export/results.csv?lang=en&values=codes")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    # (question, value) → (respondents, percent, answered, statistic)
    cells = {(r[0], r[3]): tuple(r[4:8]) for r in rows[1:]}
    # Q4: 11 yes and 3 no out of 14 shown: "no" is suppressed, and "yes" with it (14 − 11 = 3).
    assert cells[("Q4", "yes")][:3] == ("s", "s", "14")
    assert cells[("Q4", "no")][:3] == ("s", "s", "14")
    # The condition held in the results too: only the 11 who know it answered Q5.
    assert cells[("Q5", option_code(built, "Q5", "Parfois"))][:3] == ("11", "100", "11")
    assert cells[("Q3", option_code(built, "Q3", "Des médecins"))][:3] == ("14", "100", "14")
    # 7 satisfied and 7 not: two small cells, and the mean they would give away is hidden too.
    assert cells[("Q1", "2")][0] == cells[("Q1", "4")][0] == "s"
    assert cells[("Q1", "mean")][3] == "s"
    assert cells[("Q7", "mean")][2:] == ("14", "3")
    assert cells[("channel", "web")][:2] == ("14", "100")
    assert "14" in page and "Évaluation du contrat" in page


def test_a_mediator_enters_an_assisted_and_a_paper_answer_counted_apart(app, built):
    med = _login(app, "mediateur@amp.demo")
    r = Resident(med, built, start_path=f"/admin/questionnaires/{built.id}/assisted")
    r.open()
    r.post_form("q-start", "start", {"help": ["read_aloud", "written_for"]})
    r.next({r.field("Q1"): "5", r.field("Q4"): "no"})
    r.next()
    r.send()
    resp = post_paper(med, built, paper_form(built, Q1="3", Q4="yes", Q5=option_code(built, "Q5", "Jamais"),
                                             paper_date="01/10/2026", form_locale="fr"))
    assert resp.status_code in (200, 302), html.unescape(resp.get_data(as_text=True))
    channels = dict(db.session.execute(
        sa.select(Response.channel, sa.func.count()).where(Response.questionnaire_id == built.id).group_by(Response.channel)
    ).all())
    assert channels == {Channel.assisted: 1, Channel.paper: 1}
    assisted = db.session.scalar(sa.select(Response).where(Response.questionnaire_id == built.id,
                                                           Response.channel == Channel.assisted))
    assert assisted.helped_read_aloud and assisted.helped_written_for and not assisted.helped_translated
