"""The public QR check-in: one tap, an optional anonymous profile, one count per phone per
meeting (even under concurrent posts), no time nor IP stored, open only around the meeting."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.channels import Channel
from participation.core.profiles import AgeBand, Gender
from participation.core.secret_codes import keyed_hash
from participation.core.territories import Contract, Neighbourhood
from participation.extensions import db
from participation.tables import attendance
from participation.tables.models import CheckIn, Meeting, MeetingStatus

from ..conftest import csrf_from
from .access_cases_attendance import make_meeting, make_table


@pytest.fixture
def amp(demo):
    return db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))


@pytest.fixture
def meeting(amp):
    table = make_table(amp)
    m = make_meeting(table)
    db.session.commit()
    return m


def _url(meeting, key=None, lang="en"):
    return f"/t/m/{meeting.id}/checkin/{key or meeting.checkin_key}?lang={lang}"


def _nonce(html: str) -> str:
    return re.search(r'name="nonce" value="([^"]+)"', html).group(1)


def _post(client, meeting, html=None, **answers):
    html = html or client.get(_url(meeting)).get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "nonce": _nonce(html), **answers}
    return client.post(_url(meeting), data=data)


def _hood(code):
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code))


def _count(meeting) -> int:
    """Check-ins of this meeting (the demo table has its own)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn).where(CheckIn.meeting_id == meeting.id))


def _row(meeting) -> CheckIn:
    """The one check-in of this meeting (fails if there are none or several)."""
    return db.session.scalars(sa.select(CheckIn).where(CheckIn.meeting_id == meeting.id)).one()


def test_the_checkin_page_offers_one_big_button_and_optional_questions(client, meeting):
    resp = client.get(_url(meeting))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "I'm here" in page and "I prefer not to say" in page
    assert "Frais Vallon" in page and "La Cayolle" in page and "Another neighbourhood" in page
    # every question defaults to "prefer not to say"; "remember this phone" is not ticked
    checked = re.findall(r'<input type="(\w+)"[^>]*name="(\w+)" value="([^"]*)" checked>', page)
    assert sorted(checked) == sorted(("radio", q, "") for q in ("age_band", "gender", "residence", "first_time"))


def test_pressing_im_here_counts_one_anonymous_person(client, meeting):
    resp = _post(client, meeting)
    assert resp.status_code == 302 and "done=1" in resp.headers["Location"]
    row = _row(meeting)
    assert _count(meeting) == 1
    assert (row.age_band, row.gender, row.residence_id, row.first_time, row.attendee_key, row.channel) == (
        None, None, None, None, None, Channel.web)
    thanks = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "you are counted" in thanks and f"/t/m/{meeting.id}" in thanks


def test_the_optional_profile_is_stored(client, meeting):
    frais_vallon = _hood("QN01322M")
    _post(client, meeting, age_band="25_39", gender="woman", residence=str(frais_vallon.id), first_time="yes")
    row = _row(meeting)
    assert (row.age_band, row.gender, row.residence_id, row.first_time) == (
        AgeBand.a25_39, Gender.woman, frais_vallon.id, True)


def test_another_neighbourhood_is_kept_as_elsewhere_not_as_a_place(client, meeting):
    _post(client, meeting, residence="other", first_time="no")
    row = _row(meeting)
    assert row.residence_id is None and row.residence_elsewhere is True and row.first_time is False


def test_not_saying_where_one_lives_is_not_elsewhere(client, meeting):
    _post(client, meeting, residence="")
    row = _row(meeting)
    assert row.residence_id is None and row.residence_elsewhere is False


def test_a_checkin_row_keeps_no_time_and_no_address():
    columns = {c.name for c in CheckIn.__table__.columns}
    assert columns == {"id", "meeting_id", "age_band", "gender", "residence_id", "residence_elsewhere",
                       "first_time", "attendee_key", "channel", "nonce_hash"}


@pytest.mark.parametrize("field,value", [
    ("age_band", "42"), ("gender", "<script>"), ("residence", "99999999"), ("residence", "١٢"),
    ("first_time", "maybe"), ("age_band", "x" * 5000),
])
def test_junk_answers_are_refused_next_to_the_question(client, meeting, field, value):
    resp = _post(client, meeting, **{field: value})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert f'id="{field}-error"' in page and "prefer not to say" in page
    assert _count(meeting) == 0


def test_a_residence_of_another_table_is_refused(client, meeting):
    resp = _post(client, meeting, residence=str(_hood("QN01323M").id))  # Malpassé Corot: not this table's
    assert resp.status_code == 422 and _count(meeting) == 0


def test_a_double_tap_without_a_token_counts_once(client, meeting):
    html = client.get(_url(meeting)).get_data(as_text=True)
    first = _post(client, meeting, html)
    again = _post(client, meeting, html)
    assert first.status_code == 302 and again.status_code == 302
    assert "done=again" in again.headers["Location"]
    assert "already counted" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert _count(meeting) == 1


def test_a_new_form_on_the_same_phone_without_a_token_counts_again(client, meeting):
    """Without the token, two people sharing a phone are two people (nothing can tell them apart)."""
    _post(client, meeting)
    _post(client, meeting)
    assert _count(meeting) == 2


def test_a_forged_nonce_counts_nothing(client, meeting):
    html = client.get(_url(meeting)).get_data(as_text=True)
    resp = client.post(_url(meeting), data={"csrf_token": csrf_from(html), "nonce": "forged-nonce-123456789"})
    assert resp.status_code == 422 and "open for too long" in resp.get_data(as_text=True)
    assert _count(meeting) == 0


def test_remember_sets_an_httponly_cookie_and_stores_only_its_keyed_hash(client, meeting):
    resp = _post(client, meeting, remember="1")
    header = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("attendee="))
    token = header.split(";")[0].split("=", 1)[1]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/t/" in header and "Max-Age=" in header
    row = _row(meeting)
    assert row.attendee_key == keyed_hash(f"attendee:{meeting.table.contract_id}", token)
    assert token not in row.attendee_key


def test_the_same_phone_twice_at_a_meeting_is_counted_once(client, meeting):
    _post(client, meeting, remember="1")
    resp = _post(client, meeting, remember="1")
    assert "done=again" in resp.headers["Location"]
    assert _count(meeting) == 1


def test_the_same_phone_at_two_meetings_keeps_the_same_key(client, meeting):
    other = make_meeting(meeting.table, starts_at=meeting.starts_at + timedelta(minutes=1), title="Atelier")
    db.session.commit()
    _post(client, meeting, remember="1")
    _post(client, other, remember="1")
    keys = db.session.scalars(sa.select(CheckIn.attendee_key).where(CheckIn.meeting_id.in_([meeting.id, other.id]))
                              .order_by(CheckIn.meeting_id)).all()
    assert len(keys) == 2 and keys[0] == keys[1] is not None


def test_unticking_remember_forgets_the_token(client, meeting):
    _post(client, meeting, remember="1")
    resp = _post(client, meeting)  # same phone, "remember" unticked
    assert any(h.startswith("attendee=;") for h in resp.headers.getlist("Set-Cookie"))
    assert _count(meeting) == 2 and db.session.scalar(
        sa.select(sa.func.count(CheckIn.attendee_key)).where(CheckIn.meeting_id == meeting.id)) == 1


def test_a_junk_attendee_cookie_is_replaced_not_hashed(client, meeting):
    client.set_cookie("attendee", "x'; DROP TABLE--", path="/t/")
    resp = _post(client, meeting, remember="1")
    assert any(h.startswith("attendee=") and "DROP" not in h for h in resp.headers.getlist("Set-Cookie"))
    assert _count(meeting) == 1


def test_parallel_checkins_with_one_token_count_exactly_once(app, meeting):
    """Eight posts of the same phone at the same moment: one check-in, never a 500."""
    token = attendance.new_attendee_token()
    clients, pages = [], []
    for _ in range(8):
        c = app.test_client()
        c.set_cookie("attendee", token, path="/t/")
        pages.append(c.get(_url(meeting)).get_data(as_text=True))
        clients.append(c)
    barrier = threading.Barrier(len(clients))
    statuses = []

    def go(c, html):
        barrier.wait()
        statuses.append(_post(c, meeting, html, remember="1").status_code)

    threads = [threading.Thread(target=go, args=(c, h)) for c, h in zip(clients, pages)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302] * 8
    db.session.expire_all()
    assert _count(meeting) == 1


def test_a_wrong_key_is_not_found(client, meeting):
    assert client.get(_url(meeting, key="not-the-key")).status_code == 404
    assert client.get(f"/t/m/999999/checkin/{meeting.checkin_key}").status_code == 404


@pytest.mark.parametrize("shift,expected", [(timedelta(hours=3), "not open yet"), (timedelta(hours=-5), "closed")])
def test_checkin_is_open_only_around_the_meeting(client, meeting, shift, expected):
    m = db.session.get(Meeting, meeting.id)
    m.starts_at = attendance.local_now() + shift
    db.session.commit()
    resp = client.get(_url(meeting))
    assert resp.status_code == 409 and expected in resp.get_data(as_text=True)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post(_url(meeting), data={"csrf_token": token, "nonce": "x" * 24}).status_code == 409
    assert _count(meeting) == 0


def test_a_late_planned_end_keeps_checkin_open(meeting):
    m = db.session.get(Meeting, meeting.id)
    m.starts_at = attendance.local_now() - timedelta(hours=5)
    m.ends_at = attendance.local_now() + timedelta(minutes=5)
    assert attendance.checkin_state(m) == "open"


def test_a_cancelled_meeting_refuses_checkins(client, meeting):
    m = db.session.get(Meeting, meeting.id)
    m.status = MeetingStatus.cancelled
    db.session.commit()
    resp = client.get(_url(meeting))
    assert resp.status_code == 409 and "cancelled" in resp.get_data(as_text=True)


def test_checkin_posts_are_rate_limited(client, meeting):
    html = client.get(_url(meeting)).get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "nonce": "unknown"}
    statuses = [client.post(_url(meeting), data=data).status_code for _ in range(125)]
    assert 429 in statuses


def test_the_checkin_page_works_in_arabic(client, meeting):
    resp = client.get(_url(meeting, lang="ar"))
    assert resp.status_code == 200 and 'dir="rtl"' in resp.get_data(as_text=True)


def test_one_form_posted_several_times_at_once_without_a_token_counts_once(app, meeting):
    """A double tap: the same form (same session, same nonce) arrives several times before the
    first answer came back; the database keeps one check-in."""
    first = app.test_client()
    html = first.get(_url(meeting)).get_data(as_text=True)
    session_cookie = first.get_cookie(app.config["SESSION_COOKIE_NAME"])
    clients = [first]
    for _ in range(5):
        c = app.test_client()
        c.set_cookie(app.config["SESSION_COOKIE_NAME"], session_cookie.value)
        clients.append(c)
    barrier = threading.Barrier(len(clients))
    statuses = []

    def go(c):
        barrier.wait()
        statuses.append(_post(c, meeting, html).status_code)

    threads = [threading.Thread(target=go, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302] * len(clients)
    db.session.expire_all()
    assert _count(meeting) == 1
