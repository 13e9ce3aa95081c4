"""Meetings: planning (local times, end after start), the agenda (add, edit, move, delete),
public pages (dates in the page's language, cancelled meetings, inactive tables), the .ics file."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from participation.extensions import db
from participation.tables import demo as demo_tables
from participation.tables import public, services
from participation.tables.models import AgendaItem, Meeting, MeetingStatus, NeighbourhoodTable

from ..conftest import csrf_from
from .test_tables_admin import FAC, make_table

FUTURE = date.today() + timedelta(days=30)


def demo_table() -> NeighbourhoodTable:
    """The demo's table (Frais Vallon and Malpassé Corot), loaded with the `demo` fixture."""
    return db.session.scalars(sa.select(NeighbourhoodTable).filter_by(name=demo_tables.TABLE_NAME)).one()


def make_meeting(table=None, day=FUTURE, **kw) -> Meeting:
    table = table or make_table()
    meeting = services.create_meeting(table, day=day, starts=time(18, 0), ends=time(20, 0), **kw)
    db.session.commit()
    return meeting


def meetings_of(table) -> list[Meeting]:
    """The table's meetings (the demo table has its own)."""
    return list(db.session.scalars(sa.select(Meeting).filter_by(table_id=table.id)))


def form_post(client, page_url, url, data):
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data})


# --- planning ---------------------------------------------------------------------------------


def test_facilitator_plans_a_meeting_in_local_time(client, auth, demo):
    table = make_table()
    auth.login(FAC)
    url = f"/admin/tables/{table.id}/meetings/new"
    resp = form_post(client, url + "?lang=en", url, {
        "title": "Rentrée", "day": FUTURE.isoformat(), "starts": "18:30", "ends": "20:00", "place": "Centre social",
        "interpreted": ["ar", "tr"]})
    assert resp.status_code == 302
    [meeting] = meetings_of(table)
    assert meeting.starts_at == datetime.combine(FUTURE, time(18, 30))
    assert meeting.ends_at == datetime.combine(FUTURE, time(20, 0))
    assert meeting.interpreted == ["ar", "tr"] and meeting.status is MeetingStatus.planned


def test_end_before_start_is_a_field_error(client, auth, demo):
    table = make_table()
    auth.login(FAC)
    url = f"/admin/tables/{table.id}/meetings/new"
    resp = form_post(client, url + "?lang=en", url, {"day": FUTURE.isoformat(), "starts": "20:00", "ends": "18:00"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="ends-error"' in html and "The end time must come after the start time." in html
    assert meetings_of(table) == []


def test_service_refuses_end_before_start(demo):
    table = make_table()
    with pytest.raises(services.TableError) as e:
        services.create_meeting(table, day=FUTURE, starts=time(20, 0), ends=time(19, 0))
    assert e.value.code == "end_before_start"


@pytest.mark.parametrize("day,starts", [("junk", "18:00"), ("2026-02-30", "18:00"), ("99999-01-01", "18:00"),
                                        ("0001-01-01", "18:00"), (FUTURE.isoformat(), "25:00"),
                                        (FUTURE.isoformat(), ""), ("", "")])
def test_junk_dates_and_times_are_field_errors(client, auth, demo, day, starts):
    table = make_table()
    auth.login(FAC)
    url = f"/admin/tables/{table.id}/meetings/new"
    resp = form_post(client, url, url, {"day": day, "starts": starts})
    assert resp.status_code == 422
    assert meetings_of(table) == []


def test_an_unknown_interpretation_language_is_refused(client, auth, demo):
    table = make_table()
    auth.login(FAC)
    url = f"/admin/tables/{table.id}/meetings/new"
    resp = form_post(client, url, url, {"day": FUTURE.isoformat(), "starts": "18:00", "interpreted": ["xx"]})
    assert resp.status_code == 422


def test_editing_a_meeting_can_cancel_it(client, auth, demo):
    meeting = make_meeting()
    auth.login(FAC)
    url = f"/admin/tables/meetings/{meeting.id}"
    resp = form_post(client, url, url, {"day": FUTURE.isoformat(), "starts": "18:00", "status": "cancelled"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status is MeetingStatus.cancelled


def test_a_bad_status_is_refused(client, auth, demo):
    meeting = make_meeting()
    auth.login(FAC)
    url = f"/admin/tables/meetings/{meeting.id}"
    resp = form_post(client, url, url, {"day": FUTURE.isoformat(), "starts": "18:00", "status": "exploded"})
    assert resp.status_code == 422


def test_the_meeting_page_has_no_duplicate_field_ids(client, auth, demo):
    meeting = make_meeting()
    services.add_item(meeting, "Point 1")
    db.session.commit()
    auth.login(FAC)
    import re

    html = client.get(f"/admin/tables/meetings/{meeting.id}").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


# --- agenda ----------------------------------------------------------------------------------


def titles(meeting_id) -> list[str]:
    db.session.expire_all()
    return [i.title for i in db.session.get(Meeting, meeting_id).items]


def test_agenda_items_are_added_in_order(client, auth, demo):
    meeting = make_meeting()
    auth.login(FAC)
    url = f"/admin/tables/meetings/{meeting.id}"
    for title in ("Propreté", "Éclairage"):
        resp = form_post(client, url, url + "/items", {"item-title": title, "item-description": "…"})
        assert resp.status_code == 302
    assert titles(meeting.id) == ["Propreté", "Éclairage"]


def test_an_agenda_item_without_title_is_refused(client, auth, demo):
    meeting = make_meeting()
    auth.login(FAC)
    url = f"/admin/tables/meetings/{meeting.id}"
    resp = form_post(client, url + "?lang=en", url + "/items", {"item-title": "  "})
    assert resp.status_code == 422
    assert db.session.scalars(sa.select(AgendaItem).filter_by(meeting_id=meeting.id)).all() == []


def test_moving_an_item_up_and_down(client, auth, demo):
    meeting = make_meeting()
    items = [services.add_item(meeting, t) for t in ("A", "B", "C")]
    db.session.commit()
    ids = [i.id for i in items]
    auth.login(FAC)
    page = f"/admin/tables/meetings/{meeting.id}"
    assert form_post(client, page, f"/admin/tables/items/{ids[2]}/move", {"direction": "up"}).status_code == 302
    assert titles(meeting.id) == ["A", "C", "B"]
    assert form_post(client, page, f"/admin/tables/items/{ids[0]}/move", {"direction": "down"}).status_code == 302
    assert titles(meeting.id) == ["C", "A", "B"]


def test_moving_the_first_item_up_changes_nothing(demo):
    meeting = make_meeting()
    first = services.add_item(meeting, "A")
    services.add_item(meeting, "B")
    assert services.move_item(first, "up") is False
    assert [i.title for i in sorted(meeting.items, key=lambda i: i.position)] == ["A", "B"]


def test_a_bad_move_direction_is_422(client, auth, demo):
    meeting = make_meeting()
    item = services.add_item(meeting, "A")
    db.session.commit()
    auth.login(FAC)
    page = f"/admin/tables/meetings/{meeting.id}"
    assert form_post(client, page, f"/admin/tables/items/{item.id}/move", {"direction": "sideways"}).status_code == 422


def test_deleting_an_item_renumbers_the_others(client, auth, demo):
    meeting = make_meeting()
    a, b, c = (services.add_item(meeting, t) for t in ("A", "B", "C"))
    db.session.commit()
    auth.login(FAC)
    assert form_post(client, f"/admin/tables/meetings/{meeting.id}", f"/admin/tables/items/{b.id}/delete",
                     {}).status_code == 302
    db.session.expire_all()
    assert [(i.title, i.position) for i in db.session.get(Meeting, meeting.id).items] == [("A", 0), ("C", 1)]


def test_editing_an_item(client, auth, demo):
    meeting = make_meeting()
    item = services.add_item(meeting, "A")
    db.session.commit()
    auth.login(FAC)
    url = f"/admin/tables/items/{item.id}"
    assert form_post(client, url, url, {"title": "Nouveau", "description": "Texte"}).status_code == 302
    assert titles(meeting.id) == ["Nouveau"]


@pytest.mark.parametrize("path", ["/admin/tables/items/0", "/admin/tables/meetings/0", "/admin/tables/meetings/0/minutes",
                                  "/admin/tables/0/meetings/new", "/t/0", "/t/m/0", "/t/m/0.ics", "/t/m/abc",
                                  "/t/m/99999999999999999999999"])
def test_unknown_ids_are_404(client, auth, demo, path):
    auth.login(FAC)
    assert client.get(path).status_code == 404


# --- public pages ------------------------------------------------------------------------------


def test_public_meeting_page_shows_date_place_access_and_languages(client, demo):
    meeting = make_meeting(place="Centre social", address="1 rue X", accessibility="Plain-pied", interpreted=["ar"])
    services.add_item(meeting, "Propreté")
    db.session.commit()
    html = client.get(f"/t/m/{meeting.id}?lang=en").get_data(as_text=True)
    assert FUTURE.strftime("%B") in html and "6:00" in html
    for text in ("Centre social", "1 rue X", "Plain-pied", "العربية", "Propreté", f"/t/m/{meeting.id}.ics"):
        assert text in html


def test_public_meeting_page_in_arabic(client, demo):
    meeting = make_meeting()
    resp = client.get(f"/t/m/{meeting.id}?lang=ar")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'dir="rtl"' in html
    from babel.dates import format_date

    assert format_date(FUTURE, "full", locale="ar") in html


def test_cancelled_meeting_is_shown_as_cancelled(client, demo):
    meeting = make_meeting()
    meeting.status = MeetingStatus.cancelled
    db.session.commit()
    html = client.get(f"/t/m/{meeting.id}?lang=en").get_data(as_text=True)
    assert "This meeting is cancelled." in html
    assert "Cancelled" in client.get(f"/t/{meeting.table_id}?lang=en").get_data(as_text=True)


def test_inactive_table_pages_are_404(client, demo):
    meeting = make_meeting()
    meeting.table.active = False
    db.session.commit()
    for path in (f"/t/{meeting.table_id}", f"/t/m/{meeting.id}", f"/t/m/{meeting.id}.ics"):
        assert client.get(path).status_code == 404


def test_table_page_lists_next_meetings_and_neighbourhoods(client, demo):
    meeting = make_meeting(title="Grande réunion")
    html = client.get(f"/t/{meeting.table_id}?lang=en").get_data(as_text=True)
    assert "Grande réunion" in html and "Frais Vallon" in html and "Malpassé Corot" in html


def test_neighbourhood_page_lists_the_table_with_its_next_meeting(client, demo):
    from participation.tables import links

    meeting = make_meeting()
    elsewhere = make_table(("QN01306M",), name="Table de La Cayolle")  # not of Frais Vallon
    with client.application.test_request_context("/?lang=en"), force_locale("en"):
        found = {o.url: o.status for o in links.openings(meeting.table.neighbourhoods[0])}
    # Frais Vallon also has the demo table
    assert set(found) == {f"/t/{meeting.table_id}", f"/t/{demo_table().id}"}
    assert f"/t/{elsewhere.id}" not in found
    assert FUTURE.strftime("%Y") in found[f"/t/{meeting.table_id}"]


def test_public_targets_list_active_tables_and_upcoming_meetings(client, demo):
    from participation.tables import links

    meeting = make_meeting()
    make_meeting(meeting.table, day=date.today() - timedelta(days=10))
    inactive = make_table(name="Ancienne table")
    inactive.active = False
    db.session.commit()
    demo_paths = {f"/t/{demo_table().id}", *(f"/t/m/{m.id}" for m in demo_table().meetings)}
    with client.application.test_request_context("/"):
        paths = [t.path for t in links.public_targets(meeting.table.contract)]
    assert f"/t/{demo_table().id}" in paths
    assert [p for p in paths if p not in demo_paths] == [f"/t/{meeting.table_id}", f"/t/m/{meeting.id}"]


# --- calendar file -------------------------------------------------------------------------------


def unfold(text: str) -> list[str]:
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    raw = text[:-2].split("\r\n")
    for line in raw:
        assert len(line.encode("utf-8")) <= 75, line
    lines: list[str] = []
    for line in raw:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def parse(text: str) -> dict[str, str]:
    props = {}
    for line in unfold(text):
        name, _, value = line.partition(":")
        props.setdefault(name, value)
    return props


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append("\n" if value[i + 1] in "nN" else value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def test_ics_has_the_event_in_utc(client, demo):
    meeting = make_meeting(day=date(2026, 12, 3), place="Centre social, salle 2", address="1 rue X; Marseille",
                           title="Réunion")
    resp = client.get(f"/t/m/{meeting.id}.ics")
    assert resp.status_code == 200 and resp.mimetype == "text/calendar"
    props = parse(resp.get_data(as_text=True))
    assert props["BEGIN"] == "VCALENDAR" and props["VERSION"] == "2.0"
    assert props["DTSTART"] == "20261203T170000Z"  # 18:00 in Paris (winter, UTC+1)
    assert props["DTEND"] == "20261203T190000Z"
    assert props["UID"].startswith(f"table-meeting-{meeting.id}@")
    assert props["DTSTAMP"].endswith("Z") and len(props["DTSTAMP"]) == 16
    assert unescape(props["LOCATION"]) == "Centre social, salle 2, 1 rue X; Marseille"
    assert props["URL"].endswith(f"/t/m/{meeting.id}")
    assert props["STATUS"] == "CONFIRMED"


def test_ics_summer_time_is_utc_plus_two(client, demo):
    meeting = make_meeting(day=date(2027, 6, 10))
    props = parse(client.get(f"/t/m/{meeting.id}.ics").get_data(as_text=True))
    assert props["DTSTART"] == "20270610T160000Z"


def test_ics_of_a_cancelled_meeting_says_cancelled(client, demo):
    meeting = make_meeting()
    meeting.status = MeetingStatus.cancelled
    db.session.commit()
    props = parse(client.get(f"/t/m/{meeting.id}.ics").get_data(as_text=True))
    assert props["STATUS"] == "CANCELLED"


def test_ics_escapes_text_and_folds_long_lines(app, demo):
    meeting = make_meeting()
    long_title = "Propreté, encombrants; éclairage\\ et sécurité " * 4 + "نهاية"
    services.add_item(meeting, long_title)
    meeting.accessibility = "Ligne 1\nLigne 2"
    db.session.commit()
    with app.test_request_context("/"):
        text = public.calendar(meeting, "https://example.org/t/m/1", now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    props = parse(text)
    assert props["DTSTAMP"] == "20260101T000000Z"
    assert unescape(props["DESCRIPTION"]).split("\n") == [long_title, "Ligne 1", "Ligne 2", "https://example.org/t/m/1"]
    assert "\\;" in props["DESCRIPTION"] and "\\," in props["DESCRIPTION"] and "\\\\" in props["DESCRIPTION"]


def test_fold_never_cuts_a_multibyte_character():
    line = "DESCRIPTION:" + "é" * 100 + "ب" * 50
    folded = public.fold(line)
    parts = folded.split("\r\n ")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert "".join(parts) == line
