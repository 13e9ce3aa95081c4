"""A facilitator runs a table de quartier on a phone: creates the table, plans a meeting with two
agenda items, writes the minutes and publishes them; a resident then opens the public meeting
page and reads them. axe-core checks every page reached, in French and in Arabic."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

FACILITATOR = "animatrice@amp.demo"
TABLE = {"fr": "Table du Nord — parcours fr", "ar": "Table du Nord — parcours ar"}
ITEMS = ["Propreté des halls", "Éclairage du parking"]
SUMMARY = {"fr": "Les habitants signalent des dépôts chaque semaine.", "ar": "يشتكي السكان من النفايات كل أسبوع."}
DECISION = {"fr": "Écrire au bailleur avant la fin du mois.", "ar": "مراسلة المؤجر قبل نهاية الشهر."}


def submit(page, form_selector: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").first.click()


def test_facilitator_publishes_minutes_that_a_resident_reads(open_browsing, lang):
    staff = open_browsing(lang)
    page = staff.page
    login(staff, FACILITATOR, lang)

    staff.visit("/admin/tables/")
    with page.expect_navigation():
        page.locator("main a[href='/admin/tables/new']").click()
    staff.check()
    page.fill("#name", TABLE[lang])
    page.fill("#usual_place", "Centre social")
    page.get_by_label(re.compile(r"La Cayolle$")).check()
    page.get_by_label(re.compile(r"Air Bel$")).check()
    submit(page, "main form[action='/admin/tables/new']")
    staff.check()
    expect(page.locator("h1")).to_have_text(TABLE[lang])

    with page.expect_navigation():
        page.locator("main a[href$='/meetings/new']").click()
    staff.check()
    page.fill("#day", (date.today() - timedelta(days=1)).isoformat())
    page.fill("#starts", "18:00")
    page.fill("#ends", "20:00")
    page.locator("input[name=interpreted][value=ar]").check()
    submit(page, "main form[action$='/meetings/new']")
    staff.check()
    meeting_id = int(re.search(r"/admin/tables/meetings/(\d+)", page.url).group(1))

    for title in ITEMS:
        page.fill("#item-title", title)
        submit(page, "main form[action$='/items']")
        staff.check()
    expect(page.locator("ol.agenda > li")).to_have_count(2)
    # The second item goes first, through its edit page and back.
    with page.expect_navigation():
        page.locator("ol.agenda > li").nth(1).locator("form[action$='/move'] button").click()
    staff.check()
    expect(page.locator("ol.agenda > li h3").first).to_have_text(ITEMS[1])
    with page.expect_navigation():
        page.locator("ol.agenda > li a[href^='/admin/tables/items/']").first.click()
    staff.check()
    page.fill("#description", "Le parking du bâtiment C.")
    submit(page, "main form[action^='/admin/tables/items/']")
    staff.check()

    with page.expect_navigation():
        page.locator(f"main a[href='/admin/tables/meetings/{meeting_id}/minutes']").first.click()
    staff.check()
    page.locator("textarea[name^=summary_]").first.fill(SUMMARY[lang])
    page.locator("textarea[name^=decisions_]").first.fill(DECISION[lang])
    submit(page, f"main form[action='/admin/tables/meetings/{meeting_id}/minutes']")
    staff.check()
    submit(page, "main form[action$='/minutes/publish']")
    staff.check()
    expect(page.locator("main form[action$='/minutes/withdraw']")).to_be_visible()

    resident = open_browsing(lang)
    resident.visit(f"/t/m/{meeting_id}?lang={lang}")
    main = resident.page.locator("main")
    expect(main).to_contain_text(SUMMARY[lang])
    expect(main).to_contain_text(DECISION[lang])
    expect(main).to_contain_text(ITEMS[1])
    expect(main.locator("li > span[lang=ar]")).to_have_count(1)  # interpretation into Arabic
    resident.visit(resident.page.locator("main a[href^='/t/']").first.get_attribute("href"))
    expect(resident.page.locator(f"main a[href^='/t/m/{meeting_id}']")).to_have_count(1)
