"""Questionnaires on the public neighbourhood pages and as short-link / QR targets."""
from __future__ import annotations

import html
from datetime import date, timedelta

import sqlalchemy as sa

from participation.core.territories import Contract
from participation.extensions import db
from participation.links.services import targets_for
from participation.questionnaires.demo import BAROMETER_TITLE
from participation.questionnaires.models import Questionnaire


def barometer() -> Questionnaire:
    return db.session.scalar(sa.select(Questionnaire).filter_by(title=BAROMETER_TITLE))


def test_a_neighbourhood_page_lists_the_questionnaire_that_covers_it(client, demo):
    page = html.unescape(client.get("/q/QN01322M?lang=fr").get_data(as_text=True))
    assert BAROMETER_TITLE in page and f'href="/q/{barometer().id}"' in page


def test_a_questionnaire_past_its_closing_day_is_not_listed(client, demo):
    q = barometer()
    q.closes_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert BAROMETER_TITLE not in html.unescape(client.get("/q/QN01322M?lang=fr").get_data(as_text=True))


def test_a_questionnaire_not_yet_open_is_not_listed(client, demo):
    q = barometer()
    q.opens_on = date.today() + timedelta(days=3)
    db.session.commit()
    assert BAROMETER_TITLE not in html.unescape(client.get("/q/QN01322M?lang=fr").get_data(as_text=True))


def test_staff_can_make_a_short_link_to_a_questionnaire(demo):
    amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    paths = {t.path for t in targets_for(amp)}
    assert f"/q/{barometer().id}" in paths
