"""Attendance figures: meetings held, participations, profile, unique-participant estimate with
its bounds, period and scope filters, and small counts suppressed on the page."""
from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from participation.core.channels import Channel
from participation.core.profiles import AgeBand, Gender
from participation.core.territories import Contract, Scope
from participation.extensions import db
from participation.tables import figures
from participation.tables.attendance import attendee_key
from participation.tables.models import CheckIn, MeetingStatus, PaperTally, TallyDimension

from .access_cases_attendance import make_meeting, make_table

NOW = datetime(2026, 6, 30, 12, 0)


@pytest.fixture
def amp(demo):
    return db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))


@pytest.fixture
def table(amp):
    return make_table(amp)


def _checkins(meeting, n, token=None, channel=Channel.web, **profile):
    for _ in range(n):
        db.session.add(CheckIn(meeting_id=meeting.id, channel=channel, attendee_key=token and attendee_key(
            meeting.table.contract_id, token), **profile))
    db.session.flush()


def _paper(meeting, total, **breakdown):
    db.session.add(PaperTally(meeting_id=meeting.id, dimension=TallyDimension.total, value="", count=total))
    for key, n in breakdown.items():
        dimension, value = key.split("__")
        db.session.add(PaperTally(meeting_id=meeting.id, dimension=TallyDimension(dimension), value=value, count=n))
    db.session.flush()


def test_meetings_held_counts_held_and_past_planned_meetings_not_cancelled_or_future(table):
    make_meeting(table, datetime(2026, 5, 1, 18), status=MeetingStatus.held)
    make_meeting(table, datetime(2026, 6, 1, 18))  # planned, already past
    make_meeting(table, datetime(2026, 6, 10, 18), status=MeetingStatus.cancelled)
    make_meeting(table, datetime(2026, 7, 10, 18))  # still to come
    assert figures.attendance(table, now=NOW).meetings_held == 2


def test_participations_add_web_assisted_and_paper(table):
    m = make_meeting(table, datetime(2026, 5, 1, 18))
    _checkins(m, 3)
    _checkins(m, 2, channel=Channel.assisted)
    _paper(m, 7)
    f = figures.attendance(table, now=NOW)
    assert (f.web, f.assisted, f.paper, f.participations) == (3, 2, 7, 12)
    assert [x.participations for x in f.per_meeting] == [12]


def test_cancelled_meetings_count_no_participation(table):
    m = make_meeting(table, datetime(2026, 5, 1, 18), status=MeetingStatus.cancelled)
    _paper(m, 30)
    assert figures.attendance(table, now=NOW).participations == 0


def test_the_profile_sums_checkins_and_paper_per_category_with_the_rest_not_stated(table):
    m = make_meeting(table, datetime(2026, 5, 1, 18))
    fv = table.neighbourhoods[0]
    _checkins(m, 2, age_band=AgeBand.a25_39, gender=Gender.woman, residence_id=fv.id, first_time=True)
    _checkins(m, 1, first_time=False)
    _paper(m, 10, age_band__25_39=4, gender__man=3, residence__other=2, first_time__yes=5)
    profile = figures.attendance(table, now=NOW).profile
    assert profile["age_band"] == {"25_39": 6, "": 7}
    assert profile["gender"] == {"woman": 2, "man": 3, "": 8}
    assert profile["residence"] == {str(fv.id): 2, "other": 2, "": 9}
    assert profile["first_time"] == {"yes": 7, "no": 1, "": 5}
    assert all(sum(v.values()) == 13 for v in profile.values())


def test_the_unique_estimate_uses_the_repeat_rate_of_remembered_phones_within_bounds(table):
    a = make_meeting(table, datetime(2026, 5, 1, 18))
    b = make_meeting(table, datetime(2026, 6, 1, 18))
    _checkins(a, 1, token="phone-one-token-aaaaaaaa")
    _checkins(a, 1, token="phone-two-token-bbbbbbbb")
    _checkins(a, 2)
    _checkins(b, 1, token="phone-one-token-aaaaaaaa")
    _paper(b, 3)
    u = figures.attendance(table, now=NOW).unique
    # K = 2 phones over T = 3 check-ins; O = 2 + 3 others; busiest meeting: 4 people
    assert (u.distinct_tokens, u.tokened_checkins, u.other_participations) == (2, 3, 5)
    assert (u.low, u.high) == (4, 7)
    assert u.estimate == round(2 + 5 * 2 / 3)


def test_without_any_remembered_phone_there_are_only_bounds(table):
    m = make_meeting(table, datetime(2026, 5, 1, 18))
    _checkins(m, 4)
    _paper(m, 6)
    u = figures.attendance(table, now=NOW).unique
    assert (u.low, u.high, u.estimate) == (10, 10, None)


def test_the_period_keeps_only_its_meetings(table):
    may = make_meeting(table, datetime(2026, 5, 31, 23, 30))
    june = make_meeting(table, datetime(2026, 6, 1, 0, 0))
    _paper(may, 5)
    _paper(june, 8)
    assert figures.attendance(table, date(2026, 6, 1), date(2026, 6, 30), now=NOW).participations == 8
    assert figures.attendance(table, None, date(2026, 5, 31), now=NOW).participations == 5


def test_a_scope_adds_up_the_tables_inside_it_only(amp, table):
    other = make_table(amp, ("QN01302M",), name="Table d'Encagnane")  # Aix-en-Provence
    contract, marseille = Scope(amp.id), Scope(amp.id, table.commune_id)
    # the demo table (Marseille) has its own participations: compare before and after
    before = {s: figures.attendance(s, now=NOW).participations for s in (contract, marseille)}
    _paper(make_meeting(table, datetime(2026, 5, 1, 18)), 5)
    _paper(make_meeting(other, datetime(2026, 5, 2, 18)), 9)
    assert figures.attendance(contract, now=NOW).participations == before[contract] + 14
    assert figures.attendance(marseille, now=NOW).participations == before[marseille] + 5
    assert figures.attendance(other.scope, now=NOW).participations == 9


def test_small_counts_of_people_are_suppressed_with_secondary_suppression(table):
    m = make_meeting(table, datetime(2026, 5, 1, 18))
    _checkins(m, 30)
    _checkins(m, 3, channel=Channel.assisted)
    _paper(m, 20, gender__woman=25 - 12, gender__man=12)
    shown = figures.protected(figures.attendance(table, now=NOW))
    assert str(shown.participations.total) == "53"
    assert str(shown.participations.cells[1]) == "s"  # 3 assisted
    # the line adds up to its total: another cell is hidden so the 3 cannot be worked out
    assert sum(c.suppressed for c in shown.participations.cells) >= 2
    assert shown.unique_estimate is None and str(shown.unique_low) == "53"


def test_a_handful_of_people_shows_only_s(table):
    m = make_meeting(table, datetime(2026, 5, 1, 18))
    _checkins(m, 4, age_band=AgeBand.a40_59)
    shown = figures.protected(figures.attendance(table, now=NOW))
    assert str(shown.participations.total) == "s"
    assert all(str(c) == "s" for c in shown.profile["age_band"][1].cells)
    assert str(shown.unique_low) == "s" and str(shown.unique_high) == "s"


# --- the page -----------------------------------------------------------------------------------


def test_the_evaluator_sees_the_figures_with_s_and_the_method(client, auth, table):
    m = make_meeting(table, datetime(2026, 5, 1, 18))
    _checkins(m, 25, age_band=AgeBand.a25_39)
    _checkins(m, 5, age_band=AgeBand.a75_plus)
    db.session.commit()
    auth.login("evaluation@amp.demo")
    resp = client.get(f"/admin/tables/{table.id}/figures?lang=en")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="participations">30<' in page and "How this is estimated" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in page
    assert ">5<" not in page and ">s<" in page


@pytest.mark.parametrize("query", ["from=2026-13-01", "to=yesterday", "from=2026-06-01&to=2026-05-01",
                                   "from=" + "9" * 500])
def test_a_junk_period_is_reported_next_to_the_field(client, auth, table, query):
    db.session.commit()
    auth.login("animatrice@amp.demo")
    resp = client.get(f"/admin/tables/{table.id}/figures?lang=en&{query}")
    assert resp.status_code == 422
    assert 'class="error" id="period-' in resp.get_data(as_text=True)


def test_the_period_filter_of_the_page(client, auth, table):
    _paper(make_meeting(table, datetime(2026, 5, 1, 18)), 40)
    _paper(make_meeting(table, datetime(2026, 6, 1, 18)), 12)
    db.session.commit()
    auth.login("animatrice@amp.demo")
    page = client.get(f"/admin/tables/{table.id}/figures?lang=en&from=2026-06-01&to=2026-06-30").get_data(as_text=True)
    assert 'id="participations">12<' in page and 'id="meetings-held">1<' in page


def test_figures_ignore_check_in_rows_of_other_tables(amp, table):
    other = make_table(amp, ("QN01323M",), name="Table de Malpassé")
    _checkins(make_meeting(other, datetime(2026, 5, 1, 18)), 9)
    make_meeting(table, datetime(2026, 5, 1, 18))
    assert figures.attendance(table, now=NOW).participations == 0
