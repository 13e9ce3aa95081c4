"""The demo table de quartier: a facilitator's table with meetings, minutes, attendance and two
interpellations followed to an answer; loading it twice adds nothing."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from participation.core.content_i18n import translate
from participation.core.territories import Contract
from participation.extensions import db
from participation.followup import services as followup
from participation.followup.models import FollowUp, Institution, Status
from participation.tables import demo as table_demo, services
from participation.tables.models import (
    CheckIn, Interpellation, InterpellationMeeting, Meeting, MeetingStatus, MinutesStatus, NeighbourhoodTable,
    PaperTally,
)

from ..conftest import count

MODELS = (NeighbourhoodTable, Meeting, CheckIn, PaperTally, Interpellation, InterpellationMeeting, FollowUp, Institution)


def load():
    contracts = {c.slug: c for c in db.session.scalars(sa.select(Contract))}
    table_demo.load({"amp": contracts["aix-marseille-provence"], "narbonne": contracts["grand-narbonne"]})
    db.session.commit()


def the_table() -> NeighbourhoodTable:
    return db.session.scalar(sa.select(NeighbourhoodTable).filter_by(name=table_demo.TABLE_NAME))


def test_demo_loads_a_table_of_the_commune_of_marseille(demo):
    load()
    table = the_table()
    assert table.commune.name == "Marseille" and table.neighbourhood_id is None
    assert [u.email for u in table.facilitators] == ["animatrice@amp.demo"]


def test_demo_has_past_meetings_with_published_minutes_and_one_to_come(app, demo):
    load()
    table = the_table()
    with app.test_request_context("/"):
        past, coming = services.past(table), services.upcoming(table)
    assert len(past) == 2 and all(m.minutes_status is MinutesStatus.published for m in past)
    assert all(m.status is MeetingStatus.held for m in past)
    assert len(past[0].items) == 3
    assert len(coming) == 1 and coming[0].starts_at.date() > date.today() and coming[0].interpreted == ["ar"]
    assert str(translate(past[0].items[0], "summary", "ar")) == table_demo.SUMMARY_AR


def test_demo_attendance_has_recurring_phones_and_a_paper_count(app, demo):
    load()
    table = the_table()
    with app.test_request_context("/"):
        last = services.past(table)[0]
    assert db.session.scalar(sa.select(sa.func.count()).where(CheckIn.meeting_id == last.id)) == 18
    keys = db.session.execute(sa.select(CheckIn.attendee_key, sa.func.count()).where(CheckIn.attendee_key.is_not(None))
                              .group_by(CheckIn.attendee_key)).all()
    assert sum(1 for _key, n in keys if n == 2) == 4
    assert db.session.scalar(sa.select(PaperTally.count).where(PaperTally.meeting_id == last.id)) == 7


def test_demo_interpellations_are_answered_one_overdue(demo):
    load()
    items = list(db.session.scalars(sa.select(FollowUp).join(Interpellation, Interpellation.followup_id == FollowUp.id)
                                    .order_by(FollowUp.id)))
    assert [i.status for i in items] == [Status.answered, Status.in_progress]
    assert all(i.answer and i.answered_on < date.today() for i in items)
    assert [followup.is_overdue(i) for i in items] == [False, True]
    assert {i.institution.name for i in items} == {"Ville de Marseille", "13 Habitat"}
    assert count(InterpellationMeeting) == 4


def test_loading_the_demo_twice_adds_nothing(demo):
    load()
    before = {m.__name__: count(m) for m in MODELS}
    load()
    assert {m.__name__: count(m) for m in MODELS} == before


def test_demo_public_pages_render(client, demo):
    load()
    table = the_table()
    for lang in ("fr", "ar"):
        assert client.get(f"/t/{table.id}?lang={lang}").status_code == 200
        for meeting in table.meetings:
            assert client.get(f"/t/m/{meeting.id}?lang={lang}").status_code == 200
            assert client.get(f"/t/m/{meeting.id}.ics?lang={lang}").status_code == 200
