"""Issue 7's "done when", in one journey on a phone-sized browser, in French and Arabic: a
mediator takes three forms offline, the network is cut, the page is reloaded from the service
worker, and she collects questionnaire answers, two walk observations with photos and an
attendance count; after another reload (all four still waiting) the connection comes back and
each arrives exactly once."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import login
from .test_field_attendance import field_counts, fill_count, seed as seed_meeting
from .test_field_outbox import (MEDIATOR, OUTBOX_ITEMS, SYNC_TIMEOUT, badge, count_text, fill_observation, recorded,
                                seed as seed_walk, take_offline)
from .test_field_questionnaire import fill_person, question_ids, recorded_with, wait_for
from .test_questionnaire_entry import barometer_id

pytestmark = pytest.mark.browser


def test_a_mediators_day_offline_arrives_once(open_browsing, lang, tmp_path):
    walk_id, meeting_id = seed_walk(lang, "day"), seed_meeting(lang, "day")
    web = open_browsing(lang)
    page, context = web.page, web.page.context
    qid = barometer_id(web, lang)
    ids = question_ids(qid)
    word = f"journee-{lang}"
    login(web, MEDIATOR, lang)
    walk_url = f"/admin/walks/{walk_id}/record"
    questionnaire_url = f"/admin/questionnaires/{qid}/field"
    meeting_url = f"/admin/tables/meetings/{meeting_id}/field-count"
    web.visit("/field/")
    for url in (walk_url, questionnaire_url, meeting_url):
        take_offline(web, url)

    context.set_offline(True)
    assert page.reload().from_service_worker

    page.goto(web.url(questionnaire_url))
    fill_person(page, ids, word, paper=False)
    page.locator("form.qf-form button[type=submit]").click()
    expect(badge(page)).to_have_text(count_text(page, 1))

    page.goto(web.url(walk_url))
    seen = []
    for i in range(2):
        seen.append(fill_observation(page, tmp_path, lang, i, photos=1))
        page.locator("button.record-send").click()
        expect(badge(page)).to_have_text(count_text(page, 2 + i))

    page.goto(web.url(meeting_url))
    fill_count(page, 14, "Salle du centre social")
    page.locator("form[data-outbox] button[type=submit]").click()
    expect(badge(page)).to_have_text(count_text(page, 4))
    web.check()

    page.reload()  # still offline: nothing lost
    expect(badge(page)).to_have_text(count_text(page, 4))
    kinds = sorted(i["kind"] for i in page.evaluate(OUTBOX_ITEMS))
    assert kinds == ["attendance_count", "questionnaire_response", "walk_observation", "walk_observation"]
    assert recorded(walk_id) == [] and recorded_with(qid, word) == [] and field_counts(meeting_id) == (0, 0)

    context.set_offline(False)
    page.goto(web.url("/field/"))
    expect(badge(page)).to_have_text(count_text(page, 0), timeout=SYNC_TIMEOUT)
    assert sorted(recorded(walk_id)) == sorted((s, 1) for s in seen)
    assert len(wait_for(lambda: recorded_with(qid, word))) == 1
    assert field_counts(meeting_id) == (1, 14)
    web.check()
