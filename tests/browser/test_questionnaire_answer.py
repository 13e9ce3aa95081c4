"""A resident answers the Marseille barometer on a phone from its short link, in French and in
Arabic: one section per screen, a reload loses nothing, read-aloud speaks in the page's
language, and the flow also completes without JavaScript. axe-core checks every page reached."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

FRAIS_VALLON = "/q/QN01322M"
TITLE = {"fr": "Baromètre du cadre de vie 2026", "ar": "مقياس إطار العيش 2026"}
Q1 = {"fr": "Êtes-vous satisfait·e de la vie dans votre quartier ?", "ar": "هل أنتم راضون عن الحياة في حيّكم؟"}
Q1_OPTION = {"fr": "Plutôt satisfait·e", "ar": "راضٍ نوعًا ما"}
Q4 = {"fr": "Avez-vous fait une démarche administrative cette année ?", "ar": "هل قمتم بإجراء إداري هذا العام؟"}

#: Stands in for the browser's speech synthesis (headless Chromium has no voices): records
#: what would be spoken, and in which language.
SPEECH_STUB = """
window.__spoken = [];
window.SpeechSynthesisUtterance = function (text) { this.text = text; this.lang = ""; };
Object.defineProperty(window, "speechSynthesis", {configurable: true, value: {
  speak: function (u) { window.__spoken.push({text: u.text, lang: u.lang}); },
  cancel: function () { window.__spoken.push({cancel: true}); },
}});
"""
Q5 = {"fr": "Où avez-vous trouvé de l'aide pour cette démarche ?", "ar": "أين وجدتم المساعدة لهذا الإجراء؟"}

NO_SPEECH = """Object.defineProperty(window, "speechSynthesis", {configurable: true, value: undefined});"""


def barometer_path(web, lang) -> str:
    """The questionnaire's short link, as found on the neighbourhood's page."""
    web.visit(f"{FRAIS_VALLON}?lang={lang}")
    href = web.page.locator("main a[href^='/q/']", has_text=TITLE[lang]).first.get_attribute("href")
    assert re.fullmatch(r"/q/\d+", href), href
    return href


def click_and_wait(web, selector: str, expect_errors: bool = False) -> None:
    with web.page.expect_navigation():
        web.page.locator(selector).first.click()
    web.check(expect_errors=expect_errors)


def choose(page, text: str) -> None:
    """Tap an option card by its label, as a resident would."""
    page.locator(".q-option label", has_text=re.compile(f"^{re.escape(text)}$")).first.click()


def progress(page) -> str:
    return page.locator("#q-progress-label").inner_text()


def next_screen(web):
    click_and_wait(web, "button[name=go][value=next]")


def test_resident_answers_the_barometer_from_the_short_link(web, lang):
    page = web.page
    path = barometer_path(web, lang)
    web.visit(path)
    web.assert_language(lang)
    expect(page.locator("h1")).to_contain_text(TITLE[lang])
    click_and_wait(web, "button[name=go][value=start]")
    assert "1" in progress(page) and "4" in progress(page)
    expect(page.locator("legend", has_text=Q1[lang])).to_be_visible()
    # Large touch targets: every option card is at least 44 px high.
    for box in [page.locator(".q-option").nth(i).bounding_box() for i in range(3)]:
        assert box["height"] >= 44, box
    choose(page, Q1_OPTION[lang])
    next_screen(web)
    expect(page.locator("legend", has_text=Q4[lang])).to_be_visible()
    # Q5 depends on Q4 on the same screen: shown only once Q4 is "yes".
    q5 = page.locator("fieldset.question[data-condition-field]")
    expect(q5).to_be_hidden()
    choose(page, {"fr": "Oui", "ar": "نعم"}[lang])
    expect(q5).to_be_visible()
    web.check()
    next_screen(web)
    page.locator("textarea").fill("Plus d'éclairage près de l'école")
    next_screen(web)
    assert "4" in progress(page)  # the profile screen
    next_screen(web)
    expect(page.locator("main")).to_contain_text("Plus d'éclairage près de l'école")
    click_and_wait(web, "button[name=go][value=send]")
    assert page.url.endswith(f"{path}/thanks"), page.url
    web.assert_language(lang)


def test_a_reload_mid_way_loses_nothing(web, lang):
    page = web.page
    path = barometer_path(web, lang)
    web.visit(path)
    click_and_wait(web, "button[name=go][value=start]")
    choose(page, Q1_OPTION[lang])
    next_screen(web)
    choose(page, {"fr": "Non", "ar": "لا"}[lang])
    # A reload of this screen (the browser posts the previous screen's form again).
    page.reload()
    web.check()
    expect(page.locator(".q-option input[value=no]")).to_be_checked()
    # Reopening the short link (a reload of the start page): the answers wait on the phone.
    web.visit(path)
    resume = page.locator("form.q-resume")
    expect(resume).to_be_visible()
    click_and_wait(web, "form.q-resume button[type=submit]")
    expect(page.locator("legend", has_text=Q4[lang])).to_be_visible()
    no = page.locator(".q-option input[value=no]")
    expect(no).to_be_checked()
    # Back to the first screen: its answer came along in the draft too.
    click_and_wait(web, "button[name=go][value=back]")
    expect(page.locator(".q-option input[value='4']").first).to_be_checked()


def test_the_draft_is_forgotten_once_sent(web, lang):
    page = web.page
    path = barometer_path(web, lang)
    web.visit(path)
    click_and_wait(web, "button[name=go][value=start]")
    choose(page, Q1_OPTION[lang])
    next_screen(web)
    choose(page, {"fr": "Non", "ar": "لا"}[lang])
    next_screen(web)
    next_screen(web)
    next_screen(web)
    click_and_wait(web, "button[name=go][value=send]")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('questionnaire:')).length") == 0
    web.visit(path)
    expect(page.locator("form.q-resume")).to_be_hidden()


def test_read_aloud_speaks_the_question_in_the_pages_language(web, lang):
    page = web.page
    page.add_init_script(SPEECH_STUB)
    path = barometer_path(web, lang)
    web.visit(path)
    click_and_wait(web, "button[name=go][value=start]")
    button = page.get_by_role("button", name=re.compile(re.escape(Q1[lang])))
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box
    button.click()
    spoken = [s for s in page.evaluate("window.__spoken") if "text" in s]
    assert spoken == [{"text": Q1[lang], "lang": lang}]
    page.get_by_role("button", name=re.compile(f": {re.escape(Q1_OPTION[lang])}$")).click()
    spoken = [s for s in page.evaluate("window.__spoken") if "text" in s]
    assert spoken[-1] == {"text": Q1_OPTION[lang], "lang": lang}
    assert {"cancel": True} in page.evaluate("window.__spoken")  # the previous reading is cut short


def test_read_aloud_buttons_stay_hidden_where_the_browser_cannot_speak(web, lang):
    page = web.page
    page.add_init_script(NO_SPEECH)
    path = barometer_path(web, lang)
    web.visit(path)
    click_and_wait(web, "button[name=go][value=start]")
    assert page.locator("button.read-aloud").count() > 0
    expect(page.locator("button.read-aloud").first).to_be_hidden()
    assert page.locator("button.read-aloud:visible").count() == 0


def test_the_flow_completes_without_javascript(open_browsing, lang):
    web = open_browsing(lang, js=False)
    page = web.page
    path = barometer_path(web, lang)
    web.visit(path)
    click_and_wait(web, "button[name=go][value=start]")
    # Required Q1 left empty: the server says so, on the same screen.
    click_and_wait(web, "button[name=go][value=next]", expect_errors=True)
    assert page.locator(".error-summary").is_visible()
    choose(page, Q1_OPTION[lang])
    next_screen(web)
    # Without JavaScript Q5 is on screen with its note; answered "no" to Q4, it is skipped.
    assert page.locator(".q-condition-note").is_visible()
    choose(page, {"fr": "Non", "ar": "لا"}[lang])
    next_screen(web)
    next_screen(web)
    page.locator("#p_age-25_39").check()
    next_screen(web)
    assert page.locator(".q-review dt").count() == 9 + 3  # ten questions but Q5, and the profile
    expect(page.locator("main")).not_to_contain_text(Q5[lang])
    click_and_wait(web, "button[name=go][value=send]")
    assert page.url.endswith(f"{path}/thanks"), page.url
