"""A mediator enters answers on a phone: a paper form typed with the keyboard only, and an
assisted entry started with the kind of help given. axe-core checks every page reached."""
from __future__ import annotations

import gc
import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

MEDIATOR = "mediateur@amp.demo"  # Frais Vallon: collects answers to the Marseille barometer
TITLE = {"fr": "Baromètre du cadre de vie 2026", "ar": "مقياس إطار العيش 2026"}
#: The day written on the paper form, one per language so that the two runs can be told apart.
FORM_DAY = {"fr": date(2026, 3, 5), "ar": date(2026, 3, 6)}


def live_app() -> Flask:
    """The live server's app (tests/browser/conftest.py keeps it to itself), to read what a
    journey stored."""
    apps = [o for o in gc.get_objects() if type(o) is Flask and "browser" in o.config["SQLALCHEMY_DATABASE_URI"]]
    assert len(apps) == 1, apps
    return apps[0]


def paper_responses_on(day: date) -> list:
    from participation.extensions import db
    from participation.questionnaires.models import Response

    with live_app().app_context():
        found = db.session.execute(sa.select(Response.channel, Response.submitted_on, Response.neighbourhood_id,
                                             Response.locale).where(Response.submitted_on == day)).all()
        db.session.remove()
    return found


def barometer_id(web, lang) -> int:
    web.visit(f"/q/QN01322M?lang={lang}")
    href = web.page.locator("main a[href^='/q/']", has_text=TITLE[lang]).first.get_attribute("href")
    return int(re.fullmatch(r"/q/(\d+)", href).group(1))


def test_mediator_types_a_paper_form_with_the_keyboard_only(web, lang):
    page = web.page
    qid = barometer_id(web, lang)
    login(web, MEDIATOR, lang)
    web.visit(f"/admin/questionnaires/{qid}/paper")
    # The first question has the focus: the clerk types straight away.
    assert page.evaluate("document.activeElement.name") == page.locator(".paper-question input").first.get_attribute("name")
    keys = page.keyboard
    # Back to the date written on the form (three fields up), then down again to the first question.
    for _ in range(3):
        keys.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "paper_date"
    keys.press("Control+A")
    keys.type(FORM_DAY[lang].strftime("%d/%m/%Y"))
    for _ in range(3):
        keys.press("Tab")
    typed = [("4", 1), ("5", 1), ("shops green", 2), ("yes", 1), ("fs", 2), ("safety clean", 1), ("2", 1), ("", 1),
             ("Des bancs à l'ombre", 1), ("calme", 0)]
    for text, tabs in typed:
        if text:
            keys.type(text)
        for _ in range(tabs):
            keys.press("Tab")
    with page.expect_navigation():
        keys.press("Enter")
    web.check()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".paper-count")).to_contain_text("1")
    # Ready for the next form: empty, the first question focused again, the date kept.
    first = page.locator(".paper-question input").first
    assert first.input_value() == ""
    assert page.evaluate("document.activeElement.name") == first.get_attribute("name")
    assert page.locator("#paper_date").input_value() == FORM_DAY[lang].strftime("%d/%m/%Y")
    stored = paper_responses_on(FORM_DAY[lang])
    assert len(stored) == 1
    channel, day, _neighbourhood, _locale = stored[0]
    assert (channel.value, day) == ("paper", FORM_DAY[lang])


def test_a_paper_form_with_a_mistake_is_refused_next_to_the_field(web, lang):
    page = web.page
    qid = barometer_id(web, lang)
    login(web, MEDIATOR, lang)
    web.visit(f"/admin/questionnaires/{qid}/paper")
    page.keyboard.type("9")  # Q1 has no option 9
    with page.expect_navigation():
        page.keyboard.press("Enter")
    web.check(expect_errors=True)
    first = page.locator(".paper-question").first
    expect(first.locator(".error")).to_be_visible()
    assert page.evaluate("document.activeElement.name") == first.locator("input").first.get_attribute("name")


def test_mediator_starts_an_assisted_entry(web, lang):
    page = web.page
    qid = barometer_id(web, lang)
    login(web, MEDIATOR, lang)
    web.visit(f"/admin/questionnaires/{qid}/assisted")
    page.locator("#help-read_aloud").check()
    with page.expect_navigation():
        page.locator("form.q-start button[name=go][value=start]").click()
    web.check()
    expect(page.locator(".q-banner-assisted")).to_be_visible()
    expect(page.locator("input[name=help][value=read_aloud]")).to_have_count(1)
