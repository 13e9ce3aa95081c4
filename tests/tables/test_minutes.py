"""Minutes per agenda item: written by managers as a draft, public only once validated and
published; editing published minutes keeps them published; withdrawing makes them a draft."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from participation.core.content_i18n import set_translation
from participation.core.users import User
from participation.extensions import db
from participation.tables import services
from participation.tables.models import Meeting, MeetingStatus, MinutesStatus

from .test_meetings import form_post, make_meeting
from .test_tables_admin import FAC, MED

PAST = date.today() - timedelta(days=7)


def meeting_with_items(day=PAST) -> Meeting:
    meeting = make_meeting(day=day)
    for title in ("Propreté", "Éclairage"):
        services.add_item(meeting, title)
    db.session.commit()
    return meeting


def reload(meeting_id) -> Meeting:
    db.session.expire_all()
    return db.session.get(Meeting, meeting_id)


def write(client, meeting, texts: dict[int, tuple[str, str]]):
    url = f"/admin/tables/meetings/{meeting.id}/minutes"
    data = {}
    for item_id, (summary, decisions) in texts.items():
        data[f"summary_{item_id}"] = summary
        data[f"decisions_{item_id}"] = decisions
    return form_post(client, url, url, data)


def publish(client, meeting):
    url = f"/admin/tables/meetings/{meeting.id}/minutes"
    return form_post(client, url + "?lang=en", url + "/publish", {})


def test_facilitator_writes_minutes_as_a_draft(client, auth, demo):
    meeting = meeting_with_items()
    a, b = meeting.items
    auth.login(FAC)
    assert write(client, meeting, {a.id: ("On a parlé des poubelles.", "Relancer la Métropole."),
                                   b.id: ("", "")}).status_code == 302
    meeting = reload(meeting.id)
    assert meeting.items[0].summary == "On a parlé des poubelles."
    assert meeting.items[0].decisions == "Relancer la Métropole."
    assert meeting.minutes_status is MinutesStatus.draft


def test_draft_minutes_are_not_public(client, auth, demo):
    meeting = meeting_with_items()
    meeting.items[0].summary = "Texte secret du brouillon"
    db.session.commit()
    html = client.get(f"/t/m/{meeting.id}?lang=en").get_data(as_text=True)
    assert "Texte secret du brouillon" not in html
    assert "Propreté" in html  # the agenda is public
    assert "Texte secret du brouillon" not in client.get(f"/t/{meeting.table_id}").get_data(as_text=True)


def test_published_minutes_are_public(client, auth, demo):
    meeting = meeting_with_items()
    auth.login(FAC)
    write(client, meeting, {meeting.items[0].id: ("Résumé public", "Décision publique")})
    assert publish(client, meeting).status_code == 302
    meeting = reload(meeting.id)
    assert meeting.minutes_status is MinutesStatus.published
    assert meeting.minutes_published_on == date.today()
    assert meeting.minutes_validated_by.email == FAC
    assert meeting.status is MeetingStatus.held  # it took place
    auth.logout()
    html = client.get(f"/t/m/{meeting.id}?lang=en").get_data(as_text=True)
    assert "Résumé public" in html and "Décision publique" in html
    assert f"/t/m/{meeting.id}" in client.get(f"/t/{meeting.table_id}").get_data(as_text=True)


def test_empty_minutes_cannot_be_published(client, auth, demo):
    meeting = meeting_with_items()
    auth.login(FAC)
    resp = publish(client, meeting)
    assert resp.status_code == 422
    assert "Write the minutes of at least one agenda item before publishing them." in resp.get_data(as_text=True)
    assert reload(meeting.id).minutes_status is MinutesStatus.draft


def test_minutes_of_a_cancelled_meeting_cannot_be_published(demo):
    meeting = meeting_with_items()
    meeting.items[0].summary = "x"
    meeting.status = MeetingStatus.cancelled
    with pytest.raises(services.TableError):
        services.publish_minutes(meeting, None)


def test_editing_published_minutes_keeps_them_published_and_says_so(client, auth, demo):
    meeting = meeting_with_items()
    meeting.items[0].summary = "Première version"
    services.publish_minutes(meeting, None)
    db.session.commit()
    auth.login(FAC)
    page = client.get(f"/admin/tables/meetings/{meeting.id}/minutes?lang=en").get_data(as_text=True)
    assert "These minutes are public" in page
    write(client, meeting, {meeting.items[0].id: ("Version corrigée", "")})
    assert reload(meeting.id).minutes_status is MinutesStatus.published
    assert "Version corrigée" in client.get(f"/t/m/{meeting.id}").get_data(as_text=True)


def test_withdrawing_takes_minutes_off_the_public_page(client, auth, demo):
    meeting = meeting_with_items()
    meeting.items[0].summary = "Texte publié"
    services.publish_minutes(meeting, None)
    db.session.commit()
    auth.login(FAC)
    url = f"/admin/tables/meetings/{meeting.id}/minutes"
    assert form_post(client, url, url + "/withdraw", {}).status_code == 302
    assert reload(meeting.id).minutes_status is MinutesStatus.draft
    assert "Texte publié" not in client.get(f"/t/m/{meeting.id}").get_data(as_text=True)


def test_withdrawing_draft_minutes_is_422(client, auth, demo):
    meeting = meeting_with_items()
    auth.login(FAC)
    url = f"/admin/tables/meetings/{meeting.id}/minutes"
    assert form_post(client, url, url + "/withdraw", {}).status_code == 422


def test_translated_minutes_are_shown_in_arabic(client, demo):
    meeting = meeting_with_items()
    meeting.items[0].summary = "Résumé"
    db.session.flush()
    set_translation(meeting.items[0], "summary", "ar", "ملخص الاجتماع")
    services.publish_minutes(meeting, None)
    db.session.commit()
    assert "ملخص الاجتماع" in client.get(f"/t/m/{meeting.id}?lang=ar").get_data(as_text=True)
    assert "ملخص الاجتماع" not in client.get(f"/t/m/{meeting.id}?lang=fr").get_data(as_text=True)


def test_a_mediator_cannot_write_minutes(client, auth, demo):
    meeting = meeting_with_items()
    auth.login(MED)
    assert client.get(f"/admin/tables/meetings/{meeting.id}/minutes").status_code == 403


def test_minutes_of_another_meetings_item_are_ignored(client, auth, demo):
    meeting = meeting_with_items()
    other = meeting_with_items()
    auth.login(FAC)
    url = f"/admin/tables/meetings/{meeting.id}/minutes"
    form_post(client, url, url, {f"summary_{other.items[0].id}": "Intrus"})
    assert reload(other.id).items[0].summary == ""


def test_too_long_minutes_are_a_field_error(client, auth, demo):
    meeting = meeting_with_items()
    auth.login(FAC)
    resp = write(client, meeting, {meeting.items[0].id: ("x" * 20001, "")})
    assert resp.status_code == 422
    assert reload(meeting.id).items[0].summary == ""


def test_validated_by_is_a_staff_account(demo):
    meeting = meeting_with_items()
    meeting.items[0].summary = "x"
    claire = db.session.scalar(sa.select(User).filter_by(email=FAC))
    services.publish_minutes(meeting, claire, on=date(2026, 1, 5))
    assert (meeting.minutes_validated_by_id, meeting.minutes_published_on) == (claire.id, date(2026, 1, 5))
