"""A table's interpellations: raising one (draft of the shared follow-up, with the meeting where
it was raised), the list with overdue flagged, reporting back at a meeting, the table's listed
facilitators as managers on the shared follow-up pages, and the meeting pages' fragment."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale

from participation.core.territories import Category, Contract
from participation.core.users import User
from participation.extensions import db
from participation.followup import access as followup_access
from participation.followup import services as followup_services
from participation.followup.models import FollowUp, FollowUpEvent, Institution, Kind, Status
from participation.tables import interpellations
from participation.tables.models import Interpellation, InterpellationLink, InterpellationMeeting

from ..conftest import count, csrf_from
from .access_cases_attendance import FOREIGN_QPV, make_meeting, make_table

FAC = "animatrice@amp.demo"


@pytest.fixture
def amp(demo):
    return db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))


@pytest.fixture
def nar(demo):
    return db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))


@pytest.fixture
def table(amp):
    return make_table(amp)


#: A bailleur of the test's own (the demo already has "13 Habitat" and "Ville de Marseille").
LANDLORD = "Logirem"


@pytest.fixture
def landlord(amp):
    inst = Institution(contract_id=amp.id, name=LANDLORD, answer_days=30, original_locale="fr")
    db.session.add(inst)
    db.session.flush()
    return inst


def _new_url(table):
    return f"/admin/tables/{table.id}/interpellations/new?lang=en"


def _written() -> tuple[int, int]:
    """How many follow-ups and interpellations exist (the demo table has its own)."""
    return count(FollowUp), count(Interpellation)


def _table_items(table) -> list[FollowUp]:
    return list(db.session.scalars(sa.select(FollowUp).join(Interpellation, Interpellation.followup_id == FollowUp.id)
                                   .where(Interpellation.table_id == table.id)))


def _post_new(client, table, **fields):
    html = client.get(_new_url(table)).get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "title": "Réparer l'ascenseur", "body": "Bâtiment B, depuis mars.",
            "institution": "", "category": "", "meeting": "", **fields}
    return client.post(_new_url(table), data=data)


def test_a_facilitator_raises_an_interpellation_as_a_draft_with_its_meeting(client, auth, amp, table, landlord):
    meeting = make_meeting(table, datetime(2026, 3, 12, 18))
    category = db.session.scalar(sa.select(Category).filter_by(contract_id=amp.id, code="D1"))
    db.session.commit()
    auth.login(FAC)
    resp = _post_new(client, table, institution=str(landlord.id), category=str(category.id), meeting=str(meeting.id))
    assert resp.status_code == 302
    [item] = _table_items(table)
    assert resp.headers["Location"].endswith(f"/admin/followup/{item.id}")
    assert (item.kind, item.status, item.institution_id, item.category_id) == (
        Kind.interpellation, Status.draft, landlord.id, category.id)
    assert item.scope == table.scope and item.body == "Bâtiment B, depuis mars."
    assert db.session.get(Interpellation, item.id).table_id == table.id
    [link] = db.session.scalars(sa.select(InterpellationMeeting).filter_by(followup_id=item.id)).all()
    assert (link.meeting_id, link.link) == (meeting.id, InterpellationLink.raised)


@pytest.mark.parametrize("field,value", [
    ("institution", "999999"), ("institution", "abc"), ("institution", "١"), ("meeting", "999999"),
    ("meeting", "-1"), ("category", "999999"), ("title", ""), ("body", ""), ("title", "x" * 300),
])
def test_junk_is_refused_next_to_the_field_and_nothing_is_written(client, auth, table, landlord, field, value):
    db.session.commit()
    before = _written()
    auth.login(FAC)
    resp = _post_new(client, table, **{field: value})
    assert resp.status_code == 422
    assert f'id="{field}-error"' in resp.get_data(as_text=True)
    assert _written() == before and _table_items(table) == []


def test_an_institution_or_meeting_from_elsewhere_is_refused(client, auth, nar, table):
    foreign = make_table(nar, FOREIGN_QPV, name="Table de Razimbaud")
    foreign_meeting = make_meeting(foreign)
    foreign_inst = Institution(contract_id=nar.id, name="Ville de Narbonne", original_locale="fr")
    db.session.add(foreign_inst)
    db.session.commit()
    before = _written()
    auth.login(FAC)
    assert _post_new(client, table, institution=str(foreign_inst.id)).status_code == 422
    assert _post_new(client, table, meeting=str(foreign_meeting.id)).status_code == 422
    assert _written() == before and _table_items(table) == []


def test_the_list_shows_drafts_and_flags_overdue_ones(client, auth, table, landlord):
    interpellations.raise_interpellation(table, "Un brouillon")
    late = interpellations.raise_interpellation(table, "Une demande en retard", institution=landlord)
    followup_services.move(late, Status.sent, on=date.today() - timedelta(days=90))
    db.session.commit()
    auth.login(FAC)
    page = client.get(f"/admin/tables/{table.id}/interpellations?lang=en").get_data(as_text=True)
    assert "Un brouillon" in page and "Une demande en retard" in page
    assert page.count("followup-item--overdue") == 1 and "Overdue" in page
    assert f"/admin/followup/{late.id}" in page


def test_reporting_back_records_the_meeting_and_a_dated_note(client, auth, table, landlord):
    item = interpellations.raise_interpellation(table, "Éclairage du parking", institution=landlord)
    followup_services.move(item, Status.sent, on=date(2026, 3, 1))
    meeting = make_meeting(table, datetime(2026, 4, 9, 18))
    db.session.commit()
    auth.login(FAC)
    html = client.get(f"/admin/tables/{table.id}/interpellations?lang=en").get_data(as_text=True)
    url = f"/admin/tables/{table.id}/interpellations/{item.id}/report"
    data = {"csrf_token": csrf_from(html), f"r{item.id}-meeting": str(meeting.id),
            f"r{item.id}-note": "La réponse du bailleur a été lue."}
    assert client.post(url, data=data).status_code == 302
    assert client.post(url, data=data).status_code == 302  # twice: recorded once
    links = db.session.scalars(sa.select(InterpellationMeeting).filter_by(followup_id=item.id)).all()
    assert [(x.meeting_id, x.link) for x in links] == [(meeting.id, InterpellationLink.reported)]
    notes = db.session.scalars(sa.select(FollowUpEvent).where(FollowUpEvent.followup_id == item.id,
                                                               FollowUpEvent.note != "")).all()
    assert [(n.on, n.note) for n in notes] == [(date(2026, 4, 9), "La réponse du bailleur a été lue.")]


@pytest.mark.parametrize("meeting_value,note", [("", "Lu."), ("999999", "Lu."), ("abc", "Lu."), ("{own}", "")])
def test_reporting_back_refuses_junk(client, auth, table, landlord, meeting_value, note):
    item = interpellations.raise_interpellation(table, "Éclairage", institution=landlord)
    followup_services.move(item, Status.sent, on=date(2026, 3, 1))
    meeting = make_meeting(table, datetime(2026, 4, 9, 18))
    db.session.commit()
    auth.login(FAC)
    html = client.get(f"/admin/tables/{table.id}/interpellations?lang=en").get_data(as_text=True)
    resp = client.post(f"/admin/tables/{table.id}/interpellations/{item.id}/report",
                       data={"csrf_token": csrf_from(html), f"r{item.id}-meeting": meeting_value.format(own=meeting.id),
                             f"r{item.id}-note": note})
    assert resp.status_code == 422 and 'class="error"' in resp.get_data(as_text=True)
    assert db.session.scalars(sa.select(InterpellationMeeting).filter_by(followup_id=item.id)).all() == []


def test_reporting_on_another_tables_interpellation_is_not_found(client, auth, amp, table):
    other = make_table(amp, ("QN01319M",), name="Table d'Air Bel")
    item = interpellations.raise_interpellation(other, "Autre")
    db.session.commit()
    auth.login(FAC)
    resp = auth.post(f"/admin/tables/{table.id}/interpellations/{item.id}/report")
    assert resp.status_code == 404


def test_a_listed_facilitator_manages_the_tables_interpellations_only(amp, table):
    mediator = db.session.scalar(sa.select(User).filter_by(email="mediateur@amp.demo"))
    own = interpellations.raise_interpellation(table, "Ascenseur")
    elsewhere = followup_services.create(Kind.interpellation, table.scope, "Une autre demande")
    assert not followup_access.can_manage_followup(mediator, own)
    table.facilitators = [mediator]
    db.session.flush()
    assert followup_access.can_manage_followup(mediator, own)
    assert not followup_access.can_manage_followup(mediator, elsewhere)


def test_the_meeting_fragment_shows_open_ones_with_status_institution_and_meetings(app, table, landlord):
    raised_at = make_meeting(table, datetime(2026, 2, 5, 18))
    reported_at = make_meeting(table, datetime(2026, 4, 9, 18))
    item = interpellations.raise_interpellation(table, "Éclairage du parking", institution=landlord, meeting=raised_at)
    followup_services.move(item, Status.sent, on=date.today() - timedelta(days=90))
    interpellations.report_back(db.session.get(Interpellation, item.id), reported_at, "Point fait.")
    interpellations.raise_interpellation(table, "Brouillon caché")
    # force_locale: the test's app context already holds the locale the demo loading used
    with app.test_request_context("/?lang=en"), force_locale("en"):
        html = render_template("tables/_meeting_interpellations.html",
                               interpellations=interpellations.open_for_table(table))
    assert "Éclairage du parking" in html and "Brouillon caché" not in html
    assert LANDLORD in html and "followup-item--overdue" in html
    assert "Raised at the meeting of" in html and "Reported back at the meeting of" in html
    assert f"/t/m/{raised_at.id}" in html and f"/follow-up/{item.id}" in html


def test_the_public_meeting_page_shows_the_open_interpellations_and_their_meetings(client, table, landlord):
    raised_at = make_meeting(table, datetime(2026, 2, 5, 18))
    item = interpellations.raise_interpellation(table, "Éclairage du parking", institution=landlord, meeting=raised_at)
    followup_services.move(item, Status.sent, on=date(2026, 2, 6))
    db.session.commit()
    page = client.get(f"/t/m/{raised_at.id}?lang=en").get_data(as_text=True)
    assert "Éclairage du parking" in page and LANDLORD in page and "Raised at the meeting of" in page
