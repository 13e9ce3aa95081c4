"""Following a marche exploratoire to the end, on a phone, in French and in Arabic: the facilitator
opens a walk, its recommendations and one recommendation, and marks it done on the shared
follow-up page; then she opens the follow-up walk's points page and records what the group
found at a point; the public page of the follow-up walk shows it. axe-core checks every page."""
from __future__ import annotations

import gc
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser

FACILITATOR = "animatrice@amp.demo"


def live_app() -> Flask:
    # The shared live server's app (other browser modules may run a server of their own).
    shared = re.compile(r"(/browser\.sqlite|participation_test_browser_[0-9a-f]{8})$")
    apps = [o for o in gc.get_objects()
            if type(o) is Flask and shared.search(o.config["SQLALCHEMY_DATABASE_URI"])]
    assert len(apps) == 1, apps
    return apps[0]


def seed(lang: str) -> dict:
    """A walk of its own (the demo's walks are read by other journeys on the same server): one
    published point, a recommendation answered by the city (the journey marks it done), and a
    follow-up walk to check the point."""
    from participation.core.territories import Neighbourhood
    from participation.core.users import User
    from participation.extensions import db
    from participation.followup import services as followups
    from participation.followup.models import Status
    from participation.walks import services
    from participation.walks.demo import WALK_TITLE
    from participation.walks.models import Moderation, Walk, WalkStatus

    with live_app().app_context():
        demo = db.session.scalar(sa.select(Walk).filter_by(title=WALK_TITLE))
        # Another Marseille neighbourhood: the demo journeys count the walks of Frais Vallon.
        elsewhere = db.session.scalar(
            sa.select(Neighbourhood).where(Neighbourhood.commune_id == demo.commune_id,
                                           Neighbourhood.id.not_in(sa.select(Walk.neighbourhood_id)))
            .order_by(Neighbourhood.id))
        claire = db.session.scalar(sa.select(User).filter_by(email=FACILITATOR))
        today = date.today()
        walk = services.create_walk(elsewhere, f"Marche du square ({lang})", today - timedelta(days=30),
                                    user=claire)
        point, _created = services.record_observation(walk, services.ObservationInput(
            client_id=f"follow-journey-{lang}-0001", theme_id=walk.themes[0].id, rating=2,
            seen="Aucun banc pour se reposer au square.", lat=demo.observations[0].lat,
            lon=demo.observations[0].lon))
        services.moderate_observation(point, Moderation.published)
        services.set_status(walk, WalkStatus.walked)
        follow = services.create_follow_up(walk, today - timedelta(days=2), f"Suivi du square ({lang})", user=claire)
        institution = (followups.active_institutions(walk.contract_id)
                       or followups.ensure_default_institutions(walk.contract))[0]
        link = services.add_recommendation(walk, f"Poser des bancs au square ({lang})", institution=institution,
                                           due_on=today + timedelta(days=60), observation_ids=[point.id])
        followups.move(link.followup, Status.sent, on=today - timedelta(days=10))
        followups.move(link.followup, Status.answered, on=today - timedelta(days=3),
                       answer="La ville posera deux bancs.")
        ids = {"walk": walk.id, "follow": follow.id, "rec": link.followup_id, "point": point.id,
               "number": point.number}
        db.session.commit()
        db.session.remove()
    return ids


def status_of(followup_id: int) -> str:
    from participation.extensions import db
    from participation.followup.models import FollowUp

    with live_app().app_context():
        found = db.session.get(FollowUp, followup_id).status.value
        db.session.remove()
    return found


def check_of(follow_id: int, obs_id: int) -> tuple[str, str] | None:
    from participation.extensions import db
    from participation.walks.models import PointCheck

    with live_app().app_context():
        check = db.session.get(PointCheck, (follow_id, obs_id))
        found = None if check is None else (check.outcome.value, check.note)
        db.session.remove()
    return found


def _follow(page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).first.click()


def test_a_recommendation_followed_to_done_and_a_point_checked_on_the_follow_up_walk(web, open_browsing, lang):
    page = web.page
    ids = seed(lang)
    title = f"Poser des bancs au square ({lang})"
    note = f"Deux bancs posés, à l'ombre ({lang})."

    login(web, FACILITATOR, lang)
    web.visit(f"/admin/walks/?lang={lang}")
    _follow(page, f"main a[href$='/admin/walks/{ids['walk']}']")
    web.check()
    _follow(page, f"main a[href$='/admin/walks/{ids['walk']}/recommendations']")
    web.check()
    expect(page.locator(f"#r{ids['rec']} .followup-status--answered")).to_be_visible()

    # One recommendation: its observations and timeline, and the way to the shared follow-up page.
    _follow(page, f"#r{ids['rec']} a[href$='/admin/walks/recommendations/{ids['rec']}']")
    web.check()
    expect(page.locator("h1")).to_contain_text(title)
    expect(page.locator(".followup-timeline li")).to_have_count(3)
    _follow(page, f"main a[href$='/admin/followup/{ids['rec']}']")
    web.check()
    page.select_option("#move-target", value="done")
    page.fill("#move-note", "Bancs posés.")
    _follow(page, "form[action$='/move'] button[type=submit]")
    web.check()
    expect(page.locator(".flash-success")).to_be_visible()
    assert status_of(ids["rec"]) == "done"

    # Back on the walk's recommendations, it is done.
    web.visit(f"/admin/walks/{ids['walk']}/recommendations")
    expect(page.locator(f"#r{ids['rec']} .followup-status--done")).to_be_visible()

    # The follow-up walk's points page: record what the group found at one point.
    web.visit(f"/admin/walks/{ids['follow']}")
    _follow(page, f"main a[href$='/admin/walks/{ids['follow']}/points']")
    web.check()
    card = page.locator(f"#p{ids['number']}")
    expect(card).to_contain_text(title)
    details = card.locator("details")
    if details.get_attribute("open") is None:
        card.locator("summary").click()
    prefix = f"p{ids['point']}-"
    card.locator(f"input[name='{prefix}outcome'][value='improved']").check()
    card.locator(f"#{prefix}note").fill(note)
    _follow(page, f"#p{ids['number']} form button[type=submit]")
    web.check()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".walk-progress")).to_be_visible()
    assert check_of(ids["follow"], ids["point"]) == ("improved", note)

    # The public page of the follow-up walk shows it, to anyone.
    resident = open_browsing(lang)
    resident.visit(f"/w/{ids['follow']}?lang={lang}")
    expect(resident.page.locator("main")).to_contain_text(note)
    expect(resident.page.locator("main")).not_to_contain_text("Claire")


def test_the_moderation_and_edit_pages_on_a_phone(web, lang):
    """The pages before the follow-up: observations to check with their photos, one observation's
    edit page (smiley scale, location, photos), and the delete confirmation."""
    from participation.extensions import db
    from participation.walks.demo import WALK_TITLE
    from participation.walks.models import Moderation, Walk

    with live_app().app_context():
        walk = db.session.scalar(sa.select(Walk).filter_by(title=WALK_TITLE))
        pending = next(o for o in walk.observations if o.moderation is Moderation.pending)
        ids = {"walk": walk.id, "obs": pending.id, "number": pending.number}
        db.session.remove()
    page = web.page
    login(web, FACILITATOR, lang)
    web.visit(f"/admin/walks/{ids['walk']}/observations")
    expect(page.locator(".walk-review-card").first).to_be_visible()
    expect(page.locator("#review-map")).to_be_visible()
    web.visit(f"/admin/walks/{ids['walk']}/observations?show=pending")
    card = page.locator(f"#o{ids['number']}")
    expect(card).to_be_visible()
    expect(card.locator(".walk-rating")).to_be_visible()
    _follow(page, f"#o{ids['number']} a[href$='/admin/walks/observations/{ids['obs']}']")
    web.check()
    expect(page.locator("fieldset#rating input[type=radio]")).to_have_count(6)
    web.visit(f"/admin/walks/{ids['walk']}/observations?show=pending")
    _follow(page, f"form[action$='/observations/{ids['obs']}/delete'] button")
    web.check()
    # Cancel: nothing is deleted.
    _follow(page, "main .actions a.button")
    web.check()
    expect(page.locator(f"#o{ids['number']}")).to_be_visible()
