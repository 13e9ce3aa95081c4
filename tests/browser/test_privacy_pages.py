"""The RGPD pages on a phone, in French and in Arabic: a resident follows the footer link of a
contract's public page to its privacy notice and reads who is responsible, their rights and the
retention table; the admin of a contract writes the notice in the back office and residents read
it; a platform administrator finds a resident's contact details, downloads what is held about
them and erases them (with the confirmation box). axe-core checks every page reached.

The live server is shared with the other journeys: the Grand Narbonne notice is written once
(`narbonne_notice`), each language's resident contact lives in a fund made for this module, and
only the AMP notice is edited (by the journey of the contract admin)."""
from __future__ import annotations

import gc
import json
import re
import secrets
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale, format_timedelta
from playwright.sync_api import expect

from participation.core.demo import DEMO_PASSWORD
from participation.privacy.retention import SCHEDULE

from .conftest import login, translated

pytestmark = pytest.mark.browser

AMP = "aix-marseille-provence"
NARBONNE = "grand-narbonne"
AMP_ADMIN = "admin@amp.demo"
NARBONNE_ADMIN = "admin@narbonne.demo"
ROOT = "root@privacy-browser.test"
#: The Grand Narbonne notice the residents read (written in French, the contract's language).
NARBONNE_NOTICE = {
    "controller": "Le Grand Narbonne, communauté d'agglomération",
    "controller_address": "12 boulevard Frédéric Mistral\n11100 Narbonne",
    "dpo_contact": "dpo@legrandnarbonne.test",
    "rights_contact": "droits-rgpd@legrandnarbonne.test",
    "purposes": "Recueillir les idées des habitants des quartiers.\nÉvaluer le contrat de ville.",
}
#: What each language's contract admin writes in the AMP notice (in French, the contract's language).
AMP_NOTICE = {
    "fr": {"controller": "Métropole Aix-Marseille-Provence (parcours fr)", "dpo_contact": "dpo-fr@ampmetropole.test",
           "purposes": "Faire participer les habitants (fr).\nRépondre à ceux qui ont laissé leurs coordonnées."},
    "ar": {"controller": "Métropole Aix-Marseille-Provence (parcours ar)", "dpo_contact": "dpo-ar@ampmetropole.test",
           "purposes": "Faire participer les habitants (ar).\nRépondre à ceux qui ont laissé leurs coordonnées."},
}


def live_app() -> Flask:
    # The shared live server's app (as in test_field_outbox.py).
    shared = re.compile(r"(/browser\.sqlite|participation_test_browser_[0-9a-f]{8})$")
    apps = [o for o in gc.get_objects() if type(o) is Flask and shared.search(o.config["SQLALCHEMY_DATABASE_URI"])]
    assert len(apps) == 1, apps
    return apps[0]


def t(lang: str, msgid: str, **values) -> str:
    """`msgid` as the app's catalog says it in `lang` (translated: a French or Arabic page that
    shows the English text fails)."""
    return translated(live_app(), lang, msgid, **values)


def contract_id(slug: str) -> int:
    from participation.core.territories import Contract
    from participation.extensions import db

    with live_app().app_context():
        found = db.session.scalar(sa.select(Contract.id).filter_by(slug=slug))
        db.session.remove()
    return found


@pytest.fixture
def narbonne_notice(live_server) -> None:
    """Grand Narbonne's notice, as its admin wrote it (once per live server)."""
    from participation.core.territories import Contract
    from participation.core.users import User
    from participation.extensions import db
    from participation.privacy import notice as notices

    with live_app().app_context():
        contract = db.session.scalar(sa.select(Contract).filter_by(slug=NARBONNE))
        if not notices.is_complete(notices.notice_of(contract)):
            sophie = db.session.scalar(sa.select(User).filter_by(email=NARBONNE_ADMIN))
            notices.save(contract, NARBONNE_NOTICE, sophie)
            db.session.commit()
        db.session.remove()


@pytest.fixture
def platform_admin(live_server) -> str:
    """A platform administrator (the demo has none), made once per live server."""
    from participation.core.users import User
    from participation.extensions import db

    with live_app().app_context():
        if db.session.scalar(sa.select(User.id).filter_by(email=ROOT)) is None:
            root = User(email=ROOT, name="Root RGPD", is_superadmin=True, is_enabled=True)
            root.set_password(DEMO_PASSWORD)
            db.session.add(root)
            db.session.commit()
        db.session.remove()
    return ROOT


def resident_contact(lang: str) -> dict:
    """An application to an FPH fund of Marseille made for this module, with a resident's contact
    details of their own (a new person for each call)."""
    from participation.core.territories import Neighbourhood
    from participation.extensions import db
    from participation.fph import services
    from participation.fph.models import Application, Fund

    token = secrets.token_hex(3)
    person = {"name": f"Nadia Rahmani {token}", "email": f"nadia.{lang}.{token}@example.org",
              "phone": "06 " + " ".join(f"{secrets.randbelow(100):02d}" for _ in range(4)),
              "title": f"Jardin partagé de la cité ({lang} {token})"}
    with live_app().app_context():
        fund = db.session.scalar(sa.select(Fund).filter_by(name="FPH Frais Vallon — droits RGPD"))
        if fund is None:
            hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
            fund = services.create_fund([hood], services.FundSettings(name="FPH Frais Vallon — droits RGPD", year=2026))
        application = Application(fund_id=fund.id, reference=f"RGPD-{token}", title=person["title"],
                                  amount_requested=800, submitted_on=date.today(), original_locale="fr",
                                  contact_name=person["name"], contact_email=person["email"],
                                  contact_phone=person["phone"])
        db.session.add(application)
        db.session.commit()
        person["id"] = application.id
        db.session.remove()
    return person


def stored_contact(application_id: int) -> tuple | None:
    from participation.extensions import db
    from participation.fph.models import Application

    with live_app().app_context():
        a = db.session.get(Application, application_id)
        found = (a.title, a.contact_name, a.contact_email, a.contact_phone) if a else None
        db.session.remove()
    return found


def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


# --- the resident ---------------------------------------------------------------------------------


def test_a_resident_follows_the_footer_to_the_contract_notice_and_reads_it(web, lang, narbonne_notice):
    page = web.page
    web.visit(f"/c/{NARBONNE}?lang={lang}")
    web.assert_language(lang)

    # The footer of the contract's page links to this contract's notice, not the general one.
    footer_link = page.locator("footer.site-footer a", has_text=t(lang, "Personal data"))
    expect(footer_link).to_have_count(1)
    assert footer_link.get_attribute("href") == f"/c/{NARBONNE}/privacy"
    click_and_wait(page, footer_link)
    assert page.url.endswith(f"/c/{NARBONNE}/privacy"), page.url
    web.check()
    web.assert_language(lang)
    expect(page.locator("main h1")).to_have_text(t(lang, "Personal data and your rights"))
    # Its notice is complete: no "to be completed" note.
    expect(page.locator("main .empty-state")).to_have_count(0)

    # Who is responsible, and where to write.
    expect(page.locator("main h2", has_text=t(lang, "Who is responsible"))).to_have_count(1)
    details = page.locator("main dl.details")
    terms = [x.strip() for x in details.locator("dt").all_inner_texts()]
    assert terms == [t(lang, "Data controller"), t(lang, "Data protection officer"),
                     t(lang, "Where to send your requests")], terms
    values = [x.strip() for x in details.locator("dd").all_inner_texts()]
    controller = [line.strip() for line in values[0].splitlines()]
    assert controller == [NARBONNE_NOTICE["controller"], *NARBONNE_NOTICE["controller_address"].splitlines()]
    assert values[1:] == [NARBONNE_NOTICE["dpo_contact"], NARBONNE_NOTICE["rights_contact"]], values

    # The purposes the contract wrote, one paragraph a line, marked as French on an Arabic page.
    purposes = page.locator("main h2", has_text=t(lang, "What for")).locator("xpath=following-sibling::div[1]")
    assert purposes.locator("p").all_inner_texts() == NARBONNE_NOTICE["purposes"].splitlines()
    if lang == "ar":
        assert (purposes.get_attribute("lang"), purposes.get_attribute("dir")) == ("fr", "ltr")
        original = t(lang, "original language: %(language)s", language="")
        expect(page.locator("main .original-note").first).to_contain_text(original.strip(" :"))
    else:
        assert purposes.get_attribute("lang") is None
        expect(page.locator("main .original-note")).to_have_count(0)

    # The rights, each named in the page's language, and the CNIL.
    rights = page.locator("main h2", has_text=t(lang, "Your rights")).locator("xpath=following-sibling::ul[1]/li")
    expected = [t(lang, m) for m in ("access: to know what is held about you and get a copy;",
                                     "rectification: to correct what is wrong;",
                                     "erasure: to delete your contact details;",
                                     "objection: to stop a use of your data, for reasons of your own;",
                                     "limitation: to freeze the use of your data while a question is checked.")]
    assert [r.strip() for r in rights.all_inner_texts()] == expected
    expect(page.locator("main")).to_contain_text("www.cnil.fr/fr/plaintes")

    # The retention table: one row per class of data the purge knows, in order, every cell filled.
    caption = page.locator("caption", has_text=t(lang, "How long each kind of data is kept"))
    table = page.locator("main table", has=caption)
    expect(table).to_be_visible()
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    assert headers == [t(lang, h) for h in ("Data", "Why", "Kept for", "Counted from", "Then")], headers
    rows = table.locator("tbody tr")
    assert [r.get_attribute("id") for r in rows.all()] == [f"retention-{c.key}" for c in SCHEDULE]
    for row in rows.all():
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        assert len(cells) == 5 and all(cells), cells
    # Residents are not shown the back office's setting names.
    expect(table.locator("code")).to_have_count(0)
    # The vote records are kept for the configured period (3 months), said in the page's language.
    votes = next(c for c in SCHEDULE if c.key == "budget_vote_records")
    with live_app().test_request_context(), force_locale(lang):
        kept = format_timedelta(votes.period_timedelta())
    assert kept != "3 months"
    expect(page.locator("#retention-budget_vote_records td").nth(1)).to_have_text(kept)


def test_the_general_notice_lists_every_contract_notice(web, lang):
    page = web.page
    web.visit(f"/?lang={lang}")
    footer_link = page.locator("footer.site-footer a", has_text=t(lang, "Personal data"))
    assert footer_link.get_attribute("href") == "/privacy"
    click_and_wait(page, footer_link)
    web.check()
    expect(page.locator("main h1")).to_have_text(t(lang, "Personal data and your rights"))
    links = page.locator("main ul a[href$='/privacy']")
    hrefs = {a.get_attribute("href") for a in links.all()}
    assert {f"/c/{AMP}/privacy", f"/c/{NARBONNE}/privacy"} <= hrefs, hrefs
    click_and_wait(page, page.locator(f"main a[href='/c/{AMP}/privacy']"))
    web.check()
    assert page.url.endswith(f"/c/{AMP}/privacy")


# --- the contract admin -------------------------------------------------------------------------------


def test_a_contract_admin_writes_the_notice_and_residents_read_it(web, lang):
    page = web.page
    amp = contract_id(AMP)
    login(web, AMP_ADMIN, lang)
    click_and_wait(page, page.locator(f"main .card a[href='/admin/contracts/{amp}/privacy']"))
    web.check()
    expect(page.locator("main h1")).to_contain_text("Aix-Marseille-Provence")
    # The retention schedule shows the admin the setting of each period.
    expect(page.locator("#retention-budget_vote_records code")).to_have_text("RETENTION_BUDGET_VOTE_RECORDS")

    click_and_wait(page, page.locator(f"main a[href='/admin/contracts/{amp}/privacy/notice']"))
    web.check()
    text = AMP_NOTICE[lang]
    for name, value in text.items():
        page.fill(f"#{name}", value)
    page.fill("#rights_contact", "")  # requests then go to the DPO
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert page.url.endswith(f"/admin/contracts/{amp}/privacy"), page.url
    web.check()
    expect(page.locator(".flash-success")).to_have_text(t(lang, "Privacy notice saved."))
    expect(page.locator("main")).to_contain_text(t(lang, "The notice is published."))

    # Residents read it (the admin's own phone, through the back office's link).
    click_and_wait(page, page.locator(f"main a[href='/c/{AMP}/privacy']"))
    web.check()
    web.assert_language(lang)
    values = [x.strip() for x in page.locator("main dl.details dd").all_inner_texts()]
    assert values == [text["controller"], text["dpo_contact"], text["dpo_contact"]], values
    purposes = page.locator("main h2", has_text=t(lang, "What for")).locator("xpath=following-sibling::div[1]")
    assert purposes.locator("p").all_inner_texts() == text["purposes"].splitlines()
    expect(page.locator("main .empty-state")).to_have_count(0)
    updated = t(lang, "Last updated: %(day)s", day="#").split("#")
    expect(page.locator("main p.muted")).to_have_text(re.compile(
        re.escape(updated[0]) + r"\S.*" + re.escape(updated[1]) + "$"))


# --- the platform administrator ------------------------------------------------------------------------


def test_a_platform_admin_finds_reports_and_erases_a_residents_contact(web, lang, platform_admin, tmp_path):
    page = web.page
    person = resident_contact(lang)
    amp = contract_id(AMP)
    login(web, platform_admin, lang)
    click_and_wait(page, page.locator(f"main .card a[href='/admin/contracts/{amp}/privacy']"))
    web.check()

    # A vague search is refused, with the message tied to the search box.
    page.fill("#q", "Na")
    with page.expect_navigation() as sent:
        page.locator("main form[method=get] button[type=submit]").click()
    assert sent.value.status == 422
    web.check(expect_errors=True)
    expect(page.locator("#q-error")).to_have_text(
        t(lang, "Enter a full e-mail address, a phone number (at least 6 digits) or a full name."))
    assert page.locator("#q").get_attribute("aria-invalid") == "true"

    # The resident's e-mail, typed as they said it on the phone: one record, theirs.
    page.fill("#q", f"  {person['email'].upper()} ")
    click_and_wait(page, page.locator("main form[method=get] button[type=submit]"))
    web.check()
    expect(page.locator("main h2")).to_have_text(t(lang, "Records found: %(count)s", count=1))
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(person["title"])
    expect(rows).to_contain_text(person["name"])
    expect(rows).to_contain_text(person["email"])

    # What is held about them, as a JSON file: their record and nobody else's.
    with page.expect_download() as info:
        page.locator("main a[href*='/privacy/people/report.json']").click()
    assert info.value.failure() is None
    assert info.value.suggested_filename == f"access-report-{AMP}.json"
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["searched_by"] == "email" and "Aix-Marseille-Provence" in report["controller_contract"]
    assert [r["title"] for r in report["records"]] == [person["title"]]
    assert report["records"][0]["contact"] == {"name": person["name"], "phone": person["phone"],
                                               "email": person["email"]}
    web.check()  # still the search page

    # Erasing needs the confirmation box: the browser will not send the form without it.
    confirm = page.locator("#confirm")
    expect(confirm).not_to_be_checked()
    page.locator("main form[method=post] button[type=submit]").click()
    assert page.evaluate("el => el.validity.valueMissing", confirm.element_handle())
    assert stored_contact(person["id"])[2] == person["email"], "nothing erased without the confirmation"
    # The server refuses it too (a browser that does not check forms): the message is on the box.
    page.evaluate("document.querySelector('main form[method=post]').noValidate = true")
    with page.expect_navigation() as sent:
        page.locator("main form[method=post] button[type=submit]").click()
    assert sent.value.status == 422
    web.check(expect_errors=True)
    expect(page.locator("main form[method=post] #erase-error")).to_have_text(t(lang, "Tick the box to confirm."))
    assert (confirm.get_attribute("aria-invalid"), confirm.get_attribute("aria-describedby")) == ("true", "erase-error")
    assert page.locator("#q").get_attribute("aria-invalid") is None
    assert stored_contact(person["id"])[2] == person["email"], "nothing erased without the confirmation"

    # Confirmed but with the record unticked: refused, and said in the erasure form, on the boxes
    # to tick (the search box, whose query was fine, is not marked wrong); the box stays unticked.
    record_box = page.locator("main table tbody input[type=checkbox]")
    page.locator("label[for=confirm]").click()
    record_box.uncheck()
    with page.expect_navigation() as sent:
        page.locator("main form[method=post] button[type=submit]").click()
    assert sent.value.status == 422
    web.check(expect_errors=True)
    error = page.locator("main form[method=post] #erase-error")
    expect(error).to_have_text(t(lang, "Choose at least one record."))
    assert page.locator("#q").get_attribute("aria-invalid") is None
    expect(page.locator("#q-error")).to_have_count(0)
    expect(record_box).not_to_be_checked()
    assert record_box.get_attribute("aria-invalid") == "true"
    assert record_box.get_attribute("aria-describedby") == "erase-error"
    assert stored_contact(person["id"])[2] == person["email"], "nothing erased without a record chosen"

    # Confirmed, the record ticked: the contact details are gone, the record stays.
    record_box.check()
    expect(confirm).to_be_checked()
    click_and_wait(page, page.locator("main form[method=post] button[type=submit]"))
    web.check()
    expect(page.locator(".flash-success")).to_have_text(
        t(lang, "Contact details erased from %(count)s records; the records themselves are kept.", count=1))
    expect(page.locator("main h2")).to_have_text(t(lang, "Records found: %(count)s", count=0))
    expect(page.locator("main table")).to_have_count(0)
    expect(page.locator("main .empty-state")).to_have_text(
        t(lang, "No contact details of this contract match. Ballots, answers and check-ins are anonymous and "
                "cannot be searched."))
    # (The search box still holds the query as typed, in capitals.)
    assert person["email"] not in page.content() and person["name"] not in page.content()
    assert stored_contact(person["id"]) == (person["title"], "", "", "")

    # Searched again by name or phone: nothing left.
    for query in (person["name"], person["phone"]):
        page.fill("#q", query)
        click_and_wait(page, page.locator("main form[method=get] button[type=submit]"))
        web.check()
        expect(page.locator("main h2")).to_have_text(t(lang, "Records found: %(count)s", count=0))
