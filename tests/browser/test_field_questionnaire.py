"""A mediator collects questionnaire answers with no connection: the barometer taken offline from
the field-mode page, two people's answers filled in offline (one with the person, one typed from
paper), the page reloaded offline, then the connection back: each form recorded exactly once,
with its channel. Also the page's own script (conditions, the way of collecting, the check before
queueing), and the page without JavaScript, online. axe-core checks every page reached."""
from __future__ import annotations

import time
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .conftest import login
from .test_questionnaire_entry import barometer_id, live_app

pytestmark = pytest.mark.browser

MEDIATOR = "mediateur@amp.demo"  # Frais Vallon: collects answers to the Marseille barometer


def question_ids(qid: int) -> dict[str, int]:
    from participation.extensions import db
    from participation.questionnaires.models import Questionnaire

    with live_app().app_context():
        questionnaire = db.session.get(Questionnaire, qid)
        ids = {q.code: q.id for q in questionnaire.current_version.questions}
        db.session.remove()
    return ids


def recorded_with(qid: int, word: str) -> list:
    """(channel, read aloud?, day) of the responses whose Q10 answer is `word`."""
    from participation.extensions import db
    from participation.questionnaires.models import Answer, Question, Response

    with live_app().app_context():
        rows = db.session.execute(
            sa.select(Response.channel, Response.helped_read_aloud, Response.submitted_on)
            .join(Answer, Answer.response_id == Response.id).join(Question, Question.id == Answer.question_id)
            .where(Response.questionnaire_id == qid, Question.code == "Q10", Answer.text == word)).all()
        db.session.remove()
    return rows


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    return condition()


def choose(page, name: str, value: str) -> None:
    page.locator(f"input[name='{name}'][value='{value}']").check()


def fill_person(page, ids: dict, word: str, paper: bool) -> None:
    if paper:
        choose(page, "mode", "paper")
    else:
        choose(page, "mode", "assisted")
        page.locator("input[name='help'][value='read_aloud']").check()
    choose(page, f"q{ids['Q1']}", "4")
    choose(page, f"q{ids['Q4']}", "yes")
    choose(page, f"q{ids['Q5']}", "fs")
    page.fill(f"#q{ids['Q10']}-input", word)


def test_the_page_applies_conditions_and_checks_before_queueing(web, lang):
    page = web.page
    qid = barometer_id(web, lang)
    ids = question_ids(qid)
    login(web, MEDIATOR, lang)
    web.visit(f"/admin/questionnaires/{qid}/field")
    q5 = page.locator(f"[data-qf-question='q{ids['Q5']}']")
    expect(q5).to_be_hidden()
    choose(page, f"q{ids['Q4']}", "yes")
    expect(q5).to_be_visible()
    choose(page, f"q{ids['Q4']}", "no")
    expect(q5).to_be_hidden()
    # The way of collecting shows its own fields only.
    expect(page.locator("[data-qf-mode='paper']")).to_be_hidden()
    choose(page, "mode", "paper")
    expect(page.locator("[data-qf-mode='paper']")).to_be_visible()
    expect(page.locator("[data-qf-mode='assisted']")).to_be_hidden()
    # With the person, a required question left empty stops the form before it is queued.
    choose(page, "mode", "assisted")
    page.locator("form.qf-form button[type=submit]").click()
    expect(page.locator("#qf-check")).to_be_visible()
    expect(page.locator("#qf-check li")).to_have_count(1)  # Q1 (Q4 is answered)
    web.check()


def test_a_mediator_fills_two_forms_offline_and_each_is_recorded_once(web, lang):
    page = web.page
    qid = barometer_id(web, lang)
    ids = question_ids(qid)
    words = [f"terrain-{lang}-assisted", f"terrain-{lang}-paper"]
    login(web, MEDIATOR, lang)
    url = f"/admin/questionnaires/{qid}/field"

    web.visit("/field/")
    form = page.locator(f"[data-offline-form='{url}']")
    toggle = form.locator("[data-take-offline]")
    expect(toggle).to_be_visible()
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true", timeout=30_000)
    web.check()

    page.context.set_offline(True)
    web.visit(url)
    fill_person(page, ids, words[0], paper=False)
    page.locator("form.qf-form button[type=submit]").click()
    # Queued, the form is empty again for the next person; the way of collecting is kept.
    expect(page.locator(f"#q{ids['Q10']}-input")).to_have_value("")
    expect(page.locator("input[name='mode'][value='assisted']")).to_be_checked()
    fill_person(page, ids, words[1], paper=True)
    page.locator("form.qf-form button[type=submit]").click()
    expect(page.locator(f"#q{ids['Q10']}-input")).to_have_value("")
    expect(page.locator("[data-outbox-badge]")).to_contain_text("2")

    page.reload()
    expect(page.locator("[data-outbox-badge]")).to_contain_text("2")
    assert recorded_with(qid, words[0]) == [] and recorded_with(qid, words[1]) == []
    web.check()

    page.context.set_offline(False)
    web.visit("/field/")
    assert wait_for(lambda: recorded_with(qid, words[0]) and recorded_with(qid, words[1]))
    expect(page.locator("[data-field-items] li")).to_have_count(0, timeout=30_000)
    # Sent again (another tab, a retry): still once each.
    page.locator("[data-field-send]").click()
    time.sleep(1)
    from participation.core.channels import Channel

    assert recorded_with(qid, words[0]) == [(Channel.assisted, True, date.today())]
    assert recorded_with(qid, words[1]) == [(Channel.paper, False, date.today())]
    web.check()


def test_without_javascript_the_page_records_online(open_browsing, lang):
    web = open_browsing(lang, js=False)
    page = web.page
    qid = barometer_id(web, lang)
    ids = question_ids(qid)
    word = f"sans-js-{lang}"
    login(web, MEDIATOR, lang)
    web.visit(f"/admin/questionnaires/{qid}/field")
    fill_person(page, ids, word, paper=False)
    with page.expect_navigation():
        page.locator("form.qf-form button[type=submit]").click()
    web.check()
    expect(page.locator(".flash-success")).to_be_visible()
    from participation.core.channels import Channel

    assert recorded_with(qid, word) == [(Channel.assisted, True, date.today())]
