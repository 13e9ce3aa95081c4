"""A facilitator builds a questionnaire on a phone, in French and in Arabic: creates it, adds a
yes / no question and a question shown only after "yes", and finds them in order on the
builder page. axe-core checks every page reached, the refused form included."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

SCOPE = "Contrat de ville Aix-Marseille-Provence › Marseille"
BAROMETER = {"fr": "Baromètre du cadre de vie 2026", "ar": "مقياس إطار العيش 2026"}


def click_and_wait(page, locator):
    with page.expect_navigation() as navigation:
        locator.click()
    return navigation.value


def test_facilitator_builds_a_questionnaire_with_a_conditional_question(web, lang):
    page = web.page
    login(web, "animatrice@amp.demo", lang)

    # Back office → questionnaires → new.
    click_and_wait(page, page.locator('main .card a[href="/admin/questionnaires/"]'))
    web.check()
    assert BAROMETER[lang] in page.locator("main").inner_text()
    click_and_wait(page, page.locator('main a[href="/admin/questionnaires/new"]'))
    web.check()
    assert page.locator("#original_locale").input_value() == lang

    # Sent without a title: refused, with the error tied to the field.
    page.select_option("#scope", label=SCOPE)
    assert click_and_wait(page, page.locator("main form button[type=submit]")).status == 422
    assert page.locator("#title").get_attribute("aria-invalid") == "true"
    web.check(expect_errors=True)

    title = f"Jardins partagés ({lang})"
    page.fill("#title", title)
    page.select_option("#original_locale", value="fr")
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert page.url.rstrip("/").split("/")[-1].isdigit(), page.url
    web.check()
    assert page.locator("main h1").inner_text().startswith(title)  # with "original language: French" in Arabic

    # A yes / no question.
    click_and_wait(page, page.locator(".q-section a[href*='/questions/new']").first)
    web.check()
    page.select_option("#kind", value="yes_no")
    page.fill("#text", "Avez-vous accès à un jardin ?")
    click_and_wait(page, page.locator("main form button[type=submit]"))
    web.check()

    # A question shown only if the answer to Q1 is "yes".
    click_and_wait(page, page.locator(".q-section a[href*='/questions/new']").first)
    web.check()
    page.select_option("#kind", value="single")
    page.fill("#text", "Qu'y cultivez-vous ?")
    page.fill("#options", "Des légumes\nDes fleurs")
    page.select_option("#condition_code", value="Q1")
    page.locator("input[name=condition_values][value='Q1:yes']").check()
    click_and_wait(page, page.locator("main form button[type=submit]"))
    web.check()

    # Both, in order, the second with its condition and its answers.
    questions = page.locator(".q-question")
    expect(questions).to_have_count(2)
    assert questions.nth(0).locator(".q-question-text").inner_text().startswith("Q1 Avez-vous accès à un jardin ?")
    assert questions.nth(1).locator(".q-question-text").inner_text().startswith("Q2 Qu'y cultivez-vous ?")
    assert questions.nth(0).locator(".q-condition").count() == 0
    expect(questions.nth(1).locator(".q-condition")).to_contain_text("Q1")
    expect(questions.nth(1).locator(".q-options li")).to_have_count(2)
    expect(questions.nth(0).locator(".q-options img.q-pictogram")).to_have_count(2)  # yes and no pictograms

    # The second question's page: its answers, with the pictogram picker.
    click_and_wait(page, questions.nth(1).locator("a[href*='/questions/']").first)
    web.check()
    expect(page.locator("#options + ol li, .q-options-edit li")).to_have_count(2)
