"""Demands to institutions on a phone, in French and in Arabic: a resident reads the public
register (an overdue demand first, the "overdue only" filter through htmx) and a demand's page;
a facilitator records the institution's answer. axe-core checks every page reached."""
from __future__ import annotations

import gc
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

REGISTER = "/c/aix-marseille-provence/follow-up"
FACILITATOR = "animatrice@amp.demo"


def live_app() -> Flask:
    apps = [o for o in gc.get_objects() if type(o) is Flask and "browser" in o.config["SQLALCHEMY_DATABASE_URI"]]
    assert len(apps) == 1, apps
    return apps[0]


def seed(lang: str) -> dict[str, int]:
    """Two demands of Frais Vallon to the CAF, titled for this run: one overdue, one waiting."""
    from participation.core.territories import Contract, Neighbourhood
    from participation.extensions import db
    from participation.followup import services
    from participation.followup.models import Institution, Kind, Status

    today = date.today()
    with live_app().app_context():
        amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
        services.ensure_default_institutions(amp)
        caf = db.session.scalar(sa.select(Institution).filter_by(contract_id=amp.id, name="CAF"))
        hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
        ids = {}
        for key, days, due in (("overdue", 90, 30), ("waiting", 5, None)):
            item = services.create(Kind.interpellation, hood.scope, f"Demande {key} ({lang})", institution=caf,
                                   body="Des bancs au parc.")
            services.move(item, Status.sent, on=today - timedelta(days=days),
                          answer_due_on=today - timedelta(days=days - due) if due else None)
            ids[key] = item.id
        db.session.commit()
        db.session.remove()
    return ids


def status_of(followup_id: int):
    from participation.extensions import db
    from participation.followup.models import FollowUp

    with live_app().app_context():
        item = db.session.get(FollowUp, followup_id)
        found = (item.status.value, item.answer)
        db.session.remove()
    return found


def test_register_detail_and_a_facilitator_recording_an_answer(web, lang):
    page = web.page
    ids = seed(lang)
    overdue_title, waiting_title = f"Demande overdue ({lang})", f"Demande waiting ({lang})"

    # The public register: the overdue demand is marked in words, and listed before the other.
    web.visit(f"{REGISTER}?lang={lang}")
    overdue_row = page.locator(".followup-item--overdue", has_text=overdue_title)
    expect(overdue_row).to_have_count(1)
    expect(overdue_row.locator(".followup-overdue")).to_be_visible()
    text = page.locator("#followup-results").inner_text()
    assert text.index(overdue_title) < text.index(waiting_title)

    # "Overdue only" (htmx refreshes the results).
    with page.expect_response(lambda r: "overdue=1" in r.url):
        page.locator("#overdue").check()
    expect(page.locator("#followup-results")).not_to_contain_text(waiting_title)
    expect(page.locator("#followup-results")).to_contain_text(overdue_title)
    web.check()

    # A demand's public page.
    with page.expect_navigation():
        page.locator("#followup-results a", has_text=overdue_title).click()
    web.check()
    assert page.url.endswith(f"/follow-up/{ids['overdue']}")
    expect(page.locator("h1")).to_contain_text(overdue_title)
    expect(page.locator(".followup-overdue")).to_be_visible()

    # The facilitator records the CAF's answer to the other demand.
    login(web, FACILITATOR, lang)
    web.visit("/admin/followup/")
    expect(page.locator("#followup-results")).to_contain_text(waiting_title)
    with page.expect_navigation():
        page.locator("#followup-results a", has_text=waiting_title).click()
    web.check()
    assert page.url.endswith(f"/admin/followup/{ids['waiting']}")
    page.select_option("#move-target", value="answered")
    page.fill("#move-answer", f"Les bancs seront posés en juin ({lang}).")
    page.fill("#move-note", "Courrier de la CAF.")
    with page.expect_navigation():
        page.locator("form[action$='/move'] button[type=submit]").click()
    web.check()
    expect(page.locator(".flash-success")).to_be_visible()
    assert status_of(ids["waiting"]) == ("answered", f"Les bancs seront posés en juin ({lang}).")

    # The answer is public.
    web.visit(f"/follow-up/{ids['waiting']}")
    expect(page.locator("main")).to_contain_text(f"Les bancs seront posés en juin ({lang}).")
    expect(page.locator("main")).not_to_contain_text("Claire Martin")


def test_admin_keeps_the_list_of_institutions(open_browsing, lang):
    web = open_browsing(lang)
    page = web.page
    login(web, "admin@amp.demo", lang)
    with live_app().app_context():
        from participation.core.territories import Contract
        from participation.extensions import db

        contract_id = db.session.scalar(sa.select(Contract.id).filter_by(slug="aix-marseille-provence"))
        db.session.remove()
    web.visit(f"/admin/followup/institutions/{contract_id}")
    with page.expect_navigation():
        page.locator("form:has(input[value=defaults]) button").click()
    web.check()
    expect(page.locator("main")).to_contain_text("Ville de Marseille")
    page.fill("#new-name", f"13 Habitat ({lang})")
    page.select_option("#new-kind", value="landlord")
    with page.expect_navigation():
        page.locator("form:has(#new-name) button[type=submit]").click()
    web.check()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"13 Habitat ({lang})")
