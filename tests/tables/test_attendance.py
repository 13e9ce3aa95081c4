"""Staff side of attendance: live counts, assisted "+1", the paper sign-in sheet, the printable
check-in sheet with its QR code, and renewing the check-in key."""
from __future__ import annotations

import base64
import re

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image, ImageDraw

from participation.core.channels import Channel
from participation.core.profiles import AgeBand
from participation.core.territories import Contract, Neighbourhood
from participation.extensions import db
from participation.tables import attendance
from participation.tables.models import CheckIn, Meeting, PaperTally, TallyDimension

from ..conftest import csrf_from
from .access_cases_attendance import make_meeting, make_table

FAC, MED = "animatrice@amp.demo", "mediateur@amp.demo"


@pytest.fixture
def amp(demo):
    return db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))


@pytest.fixture
def meeting(amp):
    m = make_meeting(make_table(amp), interpreted=["ar", "tr", "xx"])
    db.session.commit()
    return m


def _page(meeting):
    return f"/admin/tables/meetings/{meeting.id}/attendance"


def _tallies(meeting) -> dict:
    rows = db.session.execute(sa.select(PaperTally.dimension, PaperTally.value, PaperTally.count)
                              .where(PaperTally.meeting_id == meeting.id))
    return {(d.value, v): n for d, v, n in rows}


def _hood(code):
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code))


def _post_paper(client, meeting, **fields):
    html = client.get(_page(meeting) + "?lang=en").get_data(as_text=True)
    return client.post(_page(meeting), data={"csrf_token": csrf_from(html), **fields})


def test_the_attendance_page_shows_the_live_counts(client, auth, meeting):
    attendance.record_checkin(meeting, channel=Channel.web)
    attendance.record_checkin(meeting, channel=Channel.web)
    attendance.record_checkin(meeting, channel=Channel.assisted)
    db.session.commit()
    auth.login(FAC)
    page = client.get(_page(meeting) + "?lang=en").get_data(as_text=True)
    assert re.search(r'id="count-web">2<', page) and re.search(r'id="count-assisted">1<', page)
    assert re.search(r'id="count-total"><strong>3<', page)


def test_a_mediator_of_one_of_the_tables_neighbourhoods_keys_the_paper_sheet(client, auth, meeting):
    auth.login(MED)
    resp = _post_paper(client, meeting, total="23", **{"age_band-25_39": "5", "gender-woman": "12",
                                                      "first_time-yes": "4"})
    assert resp.status_code == 302
    assert _tallies(meeting) == {("total", ""): 23, ("age_band", "25_39"): 5, ("gender", "woman"): 12,
                                 ("first_time", "yes"): 4}
    assert attendance.counts(meeting).paper == 23


def test_saving_again_replaces_the_previous_tallies(client, auth, meeting):
    auth.login(FAC)
    fv = _hood("QN01322M")
    _post_paper(client, meeting, total="10", **{f"residence-{fv.id}": "6", "gender-man": "3"})
    _post_paper(client, meeting, total="8", **{"residence-other": "2"})
    assert _tallies(meeting) == {("total", ""): 8, ("residence", "other"): 2}


def test_the_saved_counts_fill_the_form_again(client, auth, meeting):
    auth.login(FAC)
    _post_paper(client, meeting, total="17", **{"age_band-60_74": "7"})
    page = client.get(_page(meeting)).get_data(as_text=True)
    assert re.search(r'name="total" value="17"', page) and re.search(r'name="age_band-60_74" value="7"', page)


def test_a_breakdown_over_the_total_is_refused_next_to_it_and_nothing_is_saved(client, auth, meeting):
    auth.login(FAC)
    _post_paper(client, meeting, total="5")
    resp = _post_paper(client, meeting, total="10", **{"gender-woman": "6", "gender-man": "5", "age_band-a": "1"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="gender-error"' in page and "add up to 11, more than the 10 people" in page
    assert 'aria-describedby="gender-error"' in page
    assert _tallies(meeting) == {("total", ""): 5}


@pytest.mark.parametrize("fields,bad", [
    ({"total": ""}, "total"),
    ({"total": "-3"}, "total"),
    ({"total": "1e3"}, "total"),
    ({"total": "٣"}, "total"),
    ({"total": "²"}, "total"),
    ({"total": "9" * 40}, "total"),
    ({"total": "4", "gender-woman": "two"}, "gender-woman"),
    ({"total": "4", "age_band-25_39": "-1"}, "age_band-25_39"),
])
def test_junk_counts_are_refused_next_to_the_field(client, auth, meeting, fields, bad):
    auth.login(FAC)
    resp = _post_paper(client, meeting, **fields)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert f'id="{bad}-error"' in page and f'aria-describedby="{bad}-error"' in page
    assert _tallies(meeting) == {}


def test_unknown_categories_are_ignored(client, auth, meeting):
    auth.login(FAC)
    resp = _post_paper(client, meeting, total="4", **{"residence-999999": "3", "nonsense": "x"})
    assert resp.status_code == 302 and _tallies(meeting) == {("total", ""): 4}


def test_the_service_refuses_a_breakdown_over_the_total(meeting):
    with pytest.raises(attendance.AttendanceError):
        attendance.save_paper_tallies(meeting, 3, {TallyDimension.gender: {"woman": 4}})
    with pytest.raises(attendance.AttendanceError):
        attendance.save_paper_tallies(meeting, 3, {TallyDimension.gender: {"unknown": 1}})


def test_assisted_checkin_counts_one_person_with_their_profile(client, auth, meeting):
    auth.login(MED)
    html = client.get(_page(meeting) + "?lang=en").get_data(as_text=True)
    nonce = re.search(r'name="nonce" value="([^"]+)"', html).group(1)
    data = {"csrf_token": csrf_from(html), "nonce": nonce, "age_band": "60_74", "gender": "", "residence": "",
            "first_time": "yes"}
    url = f"/admin/tables/meetings/{meeting.id}/attendance/assisted"
    assert client.post(url, data=data).status_code == 302
    assert client.post(url, data=data).status_code == 302  # a double tap
    rows = db.session.scalars(sa.select(CheckIn).where(CheckIn.meeting_id == meeting.id)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.channel, row.age_band, row.first_time, row.attendee_key) == (Channel.assisted, AgeBand.a60_74, True,
                                                                            None)


def test_assisted_checkin_refuses_junk(client, auth, meeting):
    auth.login(FAC)
    html = client.get(_page(meeting) + "?lang=en").get_data(as_text=True)
    resp = client.post(f"/admin/tables/meetings/{meeting.id}/attendance/assisted",
                       data={"csrf_token": csrf_from(html), "nonce": "n", "gender": "robot"})
    assert resp.status_code == 422 and 'id="a-gender-error"' in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)
                             .where(CheckIn.meeting_id == meeting.id)) == 0


def _decode_sheet_qr(page: str) -> str:
    """Rasterise the sheet's own SVG QR code (unit squares "Mx,yH…z" drawn by core.qr) and decode it."""
    svg = base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page).group(1)).decode()
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in re.findall(r"M(\d+),(\d+)H", svg):
        x, y = int(x), int(y)
        draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1], fill=0)
    [barcode] = zxingcpp.read_barcodes(image)
    return barcode.text


def test_the_checkin_sheet_shows_a_qr_code_of_the_checkin_url_and_the_interpreted_languages(client, auth, meeting):
    auth.login(FAC)
    page = client.get(f"/admin/tables/meetings/{meeting.id}/checkin-sheet?lang=fr").get_data(as_text=True)
    assert _decode_sheet_qr(page) == f"http://localhost/t/m/{meeting.id}/checkin/{meeting.checkin_key}"
    assert 'lang="ar" dir="rtl"' in page and 'lang="tr"' in page and 'lang="xx"' not in page


def test_renewing_the_key_stops_the_old_qr_code(client, auth, meeting):
    old = meeting.checkin_key
    auth.login(FAC)
    resp = auth.post(f"/admin/tables/meetings/{meeting.id}/checkin-key")
    assert resp.status_code == 302
    db.session.expire_all()
    new = db.session.get(Meeting, meeting.id).checkin_key
    assert new != old
    assert client.get(f"/t/m/{meeting.id}/checkin/{old}").status_code == 404
    assert client.get(f"/t/m/{meeting.id}/checkin/{new}").status_code == 200
    page = client.get(f"/admin/tables/meetings/{meeting.id}/checkin-sheet").get_data(as_text=True)
    assert _decode_sheet_qr(page).endswith(f"/checkin/{new}")


def test_a_mediator_may_print_the_sheet_but_not_renew_the_key(client, auth, meeting):
    auth.login(MED)
    page = client.get(f"/admin/tables/meetings/{meeting.id}/checkin-sheet").get_data(as_text=True)
    assert "checkin-key" not in page
    assert auth.post(f"/admin/tables/meetings/{meeting.id}/checkin-key").status_code == 403
