"""A resident applies to the FPH on a phone with the easy-read form (two budget lines), keeps
the reference and the private link, follows the application; a facilitator then marks it
eligible. axe-core checks every page reached, in French and in Arabic."""
from __future__ import annotations

import gc
import re

import pytest
import sqlalchemy as sa
from flask import Flask

from .conftest import login

pytestmark = pytest.mark.browser

FACILITATOR = "animatrice@amp.demo"  # Marseille: manages the Malpassé Corot fund
TITLE = {"fr": "Fête de fin d'année du bâtiment B", "ar": "حفلة نهاية السنة للعمارة ب"}


def live_app() -> Flask:
    apps = [o for o in gc.get_objects() if type(o) is Flask and "browser" in o.config["SQLALCHEMY_DATABASE_URI"]]
    assert len(apps) == 1, apps
    return apps[0]


def malpasse_fund() -> int:
    """The journey's fund (made once per live server): Malpassé Corot, taking applications."""
    from participation.core.territories import Neighbourhood
    from participation.extensions import db
    from participation.fph import services
    from participation.fph.models import Fund, SourceKind

    with live_app().app_context():
        fund = db.session.scalar(sa.select(Fund).filter_by(name="FPH Malpassé Corot — parcours"))
        if fund is None:
            hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01323M"))
            fund = services.create_fund([hood], services.FundSettings(
                name="FPH Malpassé Corot — parcours", year=2026,
                rules="Des projets d'habitants, pour le quartier, jusqu'à 1 500 €."))
            services.add_source(fund, SourceKind.state, "État", 10000)
            db.session.commit()
        fund_id = fund.id
        db.session.remove()
    return fund_id


def stored(reference: str, fund_id: int):
    from participation.extensions import db
    from participation.fph.models import Application

    with live_app().app_context():
        app = db.session.scalar(sa.select(Application).filter_by(fund_id=fund_id, reference=reference))
        found = (app.id, app.status.value, app.amount_requested, len(app.lines)) if app else None
        db.session.remove()
    return found


def test_a_resident_applies_and_a_facilitator_marks_the_project_eligible(open_browsing, lang):
    fund_id = malpasse_fund()
    web = open_browsing(lang)
    page = web.page
    web.visit(f"/fph/{fund_id}?lang={lang}")
    page.locator(f"main a[href='/fph/{fund_id}/apply']").click()
    page.wait_for_url(re.compile(rf"/fph/{fund_id}/apply$"))
    web.check()

    page.fill("#title", TITLE[lang])
    page.fill("#audience", "Les enfants et leurs parents")
    page.fill("#starts_on", "2026-06-20")
    page.fill("#ends_on", "2026-06-20")
    page.fill("#place", "Cour du bâtiment B")
    page.fill("#description", "Un goûter, de la musique et des jeux pour tous.")
    page.fill("#lines-0-what", "Goûter")
    page.fill("#lines-0-amount", "120")
    page.fill("#lines-1-what", "Jeux")
    page.fill("#lines-1-amount", "80")
    page.fill("#collective", "Les voisins du B")
    page.fill("#contact_name", "Awa")
    page.fill("#contact_phone", "0612345678")
    page.check("#consent")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    web.check()
    reference = page.locator(".fph-reference").inner_text().strip()
    assert re.fullmatch(r"FPH-2026-\d{3}", reference)
    follow = page.locator("a.fph-link").get_attribute("href")
    assert re.search(r"/fph/a/[A-Z0-9]{20}$", follow)
    app_id, status, amount, lines = stored(reference, fund_id)
    assert (status, amount, lines) == ("submitted", 200, 2)

    page.locator("a.fph-link").click()
    page.wait_for_url(re.compile(r"/fph/a/"))
    web.check()
    assert reference in page.locator("h1").inner_text()
    assert "Awa" not in page.locator("main").inner_text()

    staff = open_browsing(lang)
    login(staff, FACILITATOR, lang)
    staff.visit(f"/admin/fph/{fund_id}")
    staff.page.locator(f"main a[href='/admin/fph/applications/{app_id}']").click()
    staff.page.wait_for_url(re.compile(rf"/admin/fph/applications/{app_id}$"))
    staff.check()
    staff.page.select_option("#decision", "eligible")
    with staff.page.expect_navigation():
        staff.page.locator("#eligibility ~ form button[type=submit]").first.click()
    staff.check()
    assert stored(reference, fund_id)[1] == "eligible"

    web.visit(follow.replace(web.base, ""))
    assert page.locator(".fph-status").count() == 1
    web.visit(f"/fph/{fund_id}/projects")
    # The back office pages around the journey pass axe too.
    staff.visit("/admin/fph/")
    staff.visit("/admin/fph/new")
