"""Attendance counted in the field (kind "attendance_count"): each count is a sheet *added* to
the meeting's paper counts, recorded once whatever is sent again, never replacing another
device's count nor the counts typed by the facilitator; the attendance page lists them and a
facilitator removes a wrong one; the offline form posts normally without JavaScript."""
from __future__ import annotations

import html as html_lib
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.territories import Contract, Neighbourhood
from participation.core.users import User
from participation.extensions import db
from participation.field.models import Receipt
from participation.tables import attendance, figures
from participation.tables.field import ADAPTER
from participation.tables.models import AttendanceSheet, MeetingStatus, PaperTally, TallyDimension

from ..conftest import csrf_from
from ..field.conftest import Outbox, new_id
from .access_cases_attendance import FOREIGN_QPV, make_meeting, make_table

FAC, MED = "animatrice@amp.demo", "mediateur@amp.demo"


@pytest.fixture
def amp(demo):
    return db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))


@pytest.fixture
def meeting(amp):
    m = make_meeting(make_table(amp))
    db.session.commit()
    return m


@pytest.fixture
def foreign_meeting(demo):
    nar = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    m = make_meeting(make_table(nar, FOREIGN_QPV, name="Table de Razimbaud"))
    db.session.commit()
    return m


def _outbox(client, auth, email=MED) -> Outbox:
    auth.login(email)
    return Outbox(client)


def item(meeting, total="12", client_id=None, **fields) -> dict:
    pairs = [["client_id", client_id or ""], ["total", total], ["note", fields.pop("note", "")]]
    pairs += [[name, value] for name, value in fields.items()]
    cid = client_id or new_id()
    pairs[0][1] = cid
    return {"client_id": cid, "kind": "attendance_count", "form_version": 1, "target": {"meeting_id": meeting.id},
            "fields": pairs, "photos": [], "locale": "fr", "created_at": "2026-11-23T18:40:00Z"}


def sheets(meeting) -> list[AttendanceSheet]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AttendanceSheet).filter_by(meeting_id=meeting.id)
                                   .order_by(AttendanceSheet.id)))


def counts(meeting):
    db.session.expire_all()
    return attendance.counts(meeting)


def _hood(code):
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code))


# --- the sync API ---------------------------------------------------------------------------


def test_the_config_offers_attendance_counts(client, auth, meeting):
    data = _outbox(client, auth).client.get("/field/api/config").get_json()
    assert data["forms"]["attendance_count"] == 1


def test_a_count_is_recorded_once_and_its_replay_adds_nothing(client, auth, meeting):
    outbox = _outbox(client, auth)
    sent = item(meeting, total="12", note="Feuille de l'entrée")
    first = outbox.submit(sent)
    assert first.status_code == 201 and first.get_json()["status"] == "created"
    assert "12 people added" in first.get_json()["message"]
    again = outbox.submit(sent)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert counts(meeting).paper == 12 and counts(meeting).field == 12
    [sheet] = sheets(meeting)
    mediator = db.session.scalar(sa.select(User).filter_by(email=MED))
    assert sheet.entered_by_id == mediator.id and sheet.note == "Feuille de l'entrée"
    assert sheet.client_id == sent["client_id"]
    assert first.get_json()["ref"] == f"attendance_count:{sheet.id}"


def test_the_same_id_with_other_content_is_a_conflict_and_changes_nothing(client, auth, meeting):
    outbox = _outbox(client, auth)
    sent = item(meeting, total="12")
    outbox.submit(sent)
    resp = outbox.submit(item(meeting, total="30", client_id=sent["client_id"]))
    assert resp.status_code == 409 and resp.get_json()["status"] == "conflict"
    assert counts(meeting).paper == 12 and len(sheets(meeting)) == 1


def test_two_devices_counts_for_one_meeting_both_count(app, client, auth, meeting):
    med = _outbox(client, auth, MED)
    assert med.submit(item(meeting, total="12", note="Côté fenêtres")).status_code == 201
    other = app.test_client()
    from ..conftest import Auth

    fac = _outbox(other, Auth(other), FAC)
    assert fac.submit(item(meeting, total="9", note="Côté porte")).status_code == 201
    assert counts(meeting).paper == 21 and counts(meeting).field == 21
    assert [s.note for s in sheets(meeting)] == ["Côté fenêtres", "Côté porte"]


def test_a_count_sent_after_the_typed_counts_is_added_and_typing_again_keeps_it(client, auth, meeting):
    attendance.save_paper_tallies(meeting, 7, {TallyDimension.gender: {"woman": 4}})
    db.session.commit()
    outbox = _outbox(client, auth)
    assert outbox.submit(item(meeting, total="5", **{"gender-woman": "3"})).status_code == 201
    assert counts(meeting).paper == 12
    attendance.save_paper_tallies(meeting, 8, {})
    db.session.commit()
    assert counts(meeting).paper == 13 and counts(meeting).field == 5
    assert attendance.paper_tallies(meeting)[TallyDimension.total] == {"": 8}


def test_figures_count_field_counts_exactly_once_with_their_breakdowns(client, auth, meeting):
    fv = _hood("QN01322M")
    attendance.save_paper_tallies(meeting, 7, {TallyDimension.gender: {"woman": 4}})
    db.session.commit()
    outbox = _outbox(client, auth)
    sent = item(meeting, total="5", **{"gender-woman": "3", f"residence-{fv.id}": "2", "first_time-yes": "1"})
    outbox.submit(sent)
    outbox.submit(sent)
    db.session.expire_all()
    shown = figures.attendance(meeting.table)
    assert shown.paper == 12 and shown.participations == 12
    assert [m.participations for m in shown.per_meeting] == [12]
    assert shown.profile["gender"]["woman"] == 7
    assert shown.profile["residence"][str(fv.id)] == 2
    assert shown.profile["first_time"]["yes"] == 1


@pytest.mark.parametrize("fields, field", [
    ({"total": "douze"}, "total"),
    ({"total": ""}, "total"),
    ({"total": "3", "gender-woman": "4"}, "gender"),
    ({"total": "3", "age_band-25_39": "-1"}, "age_band-25_39"),
])
def test_an_invalid_count_is_refused_with_a_translated_message_and_nothing_stored(client, auth, meeting, fields,
                                                                                   field):
    outbox = _outbox(client, auth)
    sent = item(meeting, total=fields.pop("total"), **fields)
    resp = outbox.submit(sent, lang="fr")
    body = resp.get_json()
    assert resp.status_code == 422 and body["status"] == "rejected"
    assert field in body["fields"]
    assert body["message"] == body["fields"][field]
    assert re.search(r"nombre|personnes|additionn", body["message"]), body["message"]
    assert sheets(meeting) == [] and counts(meeting).paper == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 0


def test_a_count_for_a_neighbourhood_the_table_no_longer_has_is_refused_not_dropped(client, auth, meeting):
    outbox = _outbox(client, auth)
    gone = _hood("QN01101M")
    resp = outbox.submit(item(meeting, total="4", **{f"residence-{gone.id}": "2"}))
    assert resp.status_code == 422 and "changed since it was taken offline" in resp.get_json()["message"]
    assert sheets(meeting) == []


def test_a_meeting_of_another_scope_is_forbidden(client, auth, foreign_meeting):
    resp = _outbox(client, auth).submit(item(foreign_meeting))
    assert resp.status_code == 403 and resp.get_json()["status"] == "forbidden"
    assert resp.get_json()["message"] == "You may not count attendance at this meeting."
    assert sheets(foreign_meeting) == []


def test_an_unknown_meeting_is_forbidden(client, auth, meeting):
    sent = item(meeting)
    sent["target"] = {"meeting_id": meeting.id + 1000}
    assert _outbox(client, auth).submit(sent).status_code == 403


def test_a_cancelled_meeting_refuses_counts(client, auth, meeting):
    meeting.status = MeetingStatus.cancelled
    db.session.commit()
    resp = _outbox(client, auth).submit(item(meeting))
    assert resp.status_code == 422 and "cancelled" in resp.get_json()["message"]
    assert sheets(meeting) == []


def test_a_meeting_that_has_not_started_refuses_counts(client, auth, meeting):
    meeting.starts_at = attendance.local_now() + timedelta(days=3)
    db.session.commit()
    resp = _outbox(client, auth).submit(item(meeting))
    assert resp.status_code == 422 and "has not started yet" in resp.get_json()["message"]


def test_a_count_already_posted_online_is_not_added_again_by_the_outbox(client, auth, meeting):
    outbox = _outbox(client, auth)
    sent = item(meeting, total="6")
    page = client.get(f"/admin/tables/meetings/{meeting.id}/field-count").get_data(as_text=True)
    client.post(f"/admin/tables/meetings/{meeting.id}/field-count",
                data={"csrf_token": csrf_from(page), "client_id": sent["client_id"], "total": "6", "note": ""})
    resp = outbox.submit(sent)
    assert resp.status_code == 201 and "already received" in resp.get_json()["message"]
    assert counts(meeting).paper == 6 and len(sheets(meeting)) == 1


# --- the offline form, online without JavaScript ------------------------------------------------


def _form(page: str) -> str:
    match = re.search(r"<form[^>]*data-outbox=.*?</form>", page, re.S)
    assert match, "no outbox form"
    return match.group(0)


def test_the_field_count_form_is_marked_for_the_outbox(client, auth, meeting):
    auth.login(MED)
    page = client.get(f"/admin/tables/meetings/{meeting.id}/field-count?lang=en").get_data(as_text=True)
    form = _form(page)
    assert 'data-outbox="attendance_count"' in form and 'data-outbox-version="1"' in form
    target = re.search(r"data-outbox-target='([^']*)'", form).group(1)
    assert json.loads(html_lib.unescape(target)) == {"meeting_id": meeting.id}
    assert re.search(r'data-outbox-title="Attendance: Table de quartier du 13e, [^"]+"', form)
    assert re.search(r'name="client_id" value="[0-9a-f-]{36}"', form)


def test_the_forms_fields_are_what_the_adapter_reads(client, auth, meeting):
    """The outbox sends every field of the form: sent as the page has them, they are accepted."""
    outbox = _outbox(client, auth)
    form = _form(client.get(f"/admin/tables/meetings/{meeting.id}/field-count").get_data(as_text=True))
    names = [n for n in re.findall(r'<input[^>]*name="([^"]+)"', form) if n != "csrf_token"]
    sent = item(meeting)
    sent["fields"] = [[n, {"client_id": sent["client_id"], "total": "4"}.get(n, "")] for n in names]
    assert outbox.submit(sent).status_code == 201
    assert counts(meeting).field == 4


def test_the_form_posts_without_javascript_and_the_same_form_twice_counts_once(client, auth, meeting):
    auth.login(MED)
    url = f"/admin/tables/meetings/{meeting.id}/field-count"
    page = client.get(url + "?lang=en").get_data(as_text=True)
    client_id = re.search(r'name="client_id" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_from(page), "client_id": client_id, "total": "15", "gender-man": "6", "note": "A"}
    first = client.post(url, data=data)
    assert first.status_code == 302 and first.headers["Location"].endswith(url)
    assert "Count added to the attendance: 15 people." in client.get(url + "?lang=en").get_data(as_text=True)
    client.post(url, data=data)
    assert "already received" in client.get(url + "?lang=en").get_data(as_text=True)
    assert counts(meeting).paper == 15 and len(sheets(meeting)) == 1


def test_the_form_shows_a_refused_count_next_to_its_field(client, auth, meeting):
    auth.login(MED)
    url = f"/admin/tables/meetings/{meeting.id}/field-count"
    page = client.get(url + "?lang=en").get_data(as_text=True)
    resp = client.post(url + "?lang=en", data={"csrf_token": csrf_from(page), "client_id": new_id(),
                                               "total": "2", "gender-woman": "5"})
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert 'id="gender-error"' in body and "more than the 2 people" in body
    assert sheets(meeting) == []


def test_the_form_of_a_cancelled_meeting_says_so(client, auth, meeting):
    meeting.status = MeetingStatus.cancelled
    db.session.commit()
    auth.login(MED)
    page = client.get(f"/admin/tables/meetings/{meeting.id}/field-count?lang=en").get_data(as_text=True)
    assert "data-outbox=" not in page and "This meeting was cancelled" in page


# --- the attendance page: what came from the field ------------------------------------------------


def test_the_attendance_page_lists_field_counts_with_who_sent_them(client, auth, meeting):
    _outbox(client, auth, MED).submit(item(meeting, total="12", note="Côté fenêtres"))
    auth.logout()
    auth.login(FAC)
    page = client.get(f"/admin/tables/meetings/{meeting.id}/attendance?lang=en").get_data(as_text=True)
    section = page[page.index('id="field-sheets"'):]
    assert "Côté fenêtres" in section and "Karim Haddad" in section and "Remove this count" in section
    assert re.search(r'id="count-paper">12<', page) and re.search(r'id="count-field">12<', page)


def test_a_facilitator_removes_a_wrong_count_and_sending_it_again_adds_nothing(client, auth, meeting):
    outbox = _outbox(client, auth, MED)
    outbox.submit(item(meeting, total="12"))
    duplicate = item(meeting, total="12")
    outbox.submit(duplicate)
    assert counts(meeting).paper == 24
    wrong = sheets(meeting)[1].id
    auth.logout()
    auth.login(FAC)
    page = client.get(f"/admin/tables/meetings/{meeting.id}/attendance").get_data(as_text=True)
    resp = client.post(f"/admin/tables/meetings/{meeting.id}/field-sheets/{wrong}/remove",
                       data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#field-sheets")
    assert counts(meeting).paper == 12 and len(sheets(meeting)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaperTally)
                             .where(PaperTally.sheet_id == wrong)) == 0
    # The device that sent it retries (it never saw the answer): still counted once, not re-added.
    auth.logout()
    again = _outbox(client, auth, MED).submit(duplicate)
    assert again.get_json()["status"] == "duplicate" and counts(meeting).paper == 12


def test_a_mediator_may_not_remove_a_count(client, auth, meeting):
    outbox = _outbox(client, auth, MED)
    outbox.submit(item(meeting))
    sheet = sheets(meeting)[0]
    page = client.get(f"/admin/tables/meetings/{meeting.id}/attendance").get_data(as_text=True)
    assert "Remove this count" not in page
    resp = client.post(f"/admin/tables/meetings/{meeting.id}/field-sheets/{sheet.id}/remove",
                       data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 403 and len(sheets(meeting)) == 1


def test_a_sheet_of_another_meeting_is_not_found(client, auth, meeting, amp):
    other = make_meeting(meeting.table, title="Autre réunion")
    db.session.commit()
    _outbox(client, auth, MED).submit(item(other))
    auth.logout()
    auth.login(FAC)
    sheet = sheets(other)[0]
    page = client.get(f"/admin/tables/meetings/{meeting.id}/attendance").get_data(as_text=True)
    resp = client.post(f"/admin/tables/meetings/{meeting.id}/field-sheets/{sheet.id}/remove",
                       data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 404 and len(sheets(other)) == 1


# --- offline forms ------------------------------------------------------------------------------


def test_offline_forms_are_the_meetings_this_user_counts_around_today(app, auth, meeting, foreign_meeting):
    cancelled = make_meeting(meeting.table, status=MeetingStatus.cancelled)
    old = make_meeting(meeting.table, starts_at=attendance.local_now() - timedelta(days=30))
    db.session.commit()
    mediator = db.session.scalar(sa.select(User).filter_by(email=MED))
    with app.test_request_context("/field/"):
        forms = ADAPTER.offline_forms(mediator)
    url = "/admin/tables/meetings/{}/field-count".format
    urls = [f.url for f in forms]
    assert url(meeting.id) in urls
    assert not {url(foreign_meeting.id), url(cancelled.id), url(old.id)} & set(urls)
    mine = next(f for f in forms if f.url == url(meeting.id))
    assert mine.title == "Table de quartier du 13e" and mine.kind == "attendance_count"
