"""The back office of a demand: moving it through the workflow, dates, notes, corrections."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.territories import Category
from participation.extensions import db
from participation.followup.models import FollowUp, FollowUpEvent, Institution, Status

from .conftest import TODAY, days_ago, institution, make_demand, sent

FACILITATOR = "animatrice@amp.demo"


@pytest.fixture
def demand(world):
    item = make_demand(world.amp, "Nettoyer le parc", qpv="QN01322M", steps=(sent(20),))
    db.session.commit()
    return item


def select_of(html: str, name: str) -> str:
    """The <select> named `name` in a page (its options)."""
    start = html.index(f'name="{name}"')
    return html[start:html.index("</select>", start)]


def events_of(item) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(FollowUpEvent.followup_id == item.id))


def reload(item) -> FollowUp:
    db.session.expire_all()
    return db.session.get(FollowUp, item.id)


def move(auth, item, **data):
    fields = {f"move-{k}": v for k, v in data.items()}
    return auth.post(f"/admin/followup/{item.id}/move", fields, form_page=f"/admin/followup/{item.id}")


def test_facilitator_moves_a_sent_demand_to_answered_with_the_answer(auth, demand):
    auth.client.get("/?lang=en")
    auth.login(FACILITATOR)
    resp = move(auth, demand, target="answered", on=days_ago(2).isoformat(), answer="Le parc sera nettoyé lundi.",
                note="Courrier reçu.")
    assert resp.status_code == 302
    item = reload(demand)
    assert item.status is Status.answered and item.answered_on == days_ago(2)
    assert item.answer == "Le parc sera nettoyé lundi."
    last = item.events[-1]
    assert (last.from_status, last.to_status, last.note, last.on) == (Status.sent, Status.answered, "Courrier reçu.", days_ago(2))
    assert last.user.email == FACILITATOR


def test_answer_is_required_to_record_an_answer(auth, demand):
    auth.client.get("/?lang=en")
    auth.login(FACILITATOR)
    before = events_of(demand)
    resp = move(auth, demand, target="answered", on=TODAY.isoformat(), answer="  ")
    assert resp.status_code == 422
    assert "Write the institution&#39;s answer." in resp.get_data(as_text=True)
    assert reload(demand).status is Status.sent and events_of(demand) == before


def test_a_step_not_allowed_from_the_current_status_is_refused(auth, demand):
    auth.client.get("/?lang=en")
    auth.login(FACILITATOR)
    before = events_of(demand)
    resp = move(auth, demand, target="done", on=TODAY.isoformat())
    assert resp.status_code == 422
    assert reload(demand).status is Status.sent and events_of(demand) == before


def test_only_allowed_steps_are_offered(auth, demand):
    auth.login(FACILITATOR)
    html = auth.client.get(f"/admin/followup/{demand.id}").get_data(as_text=True)
    select = select_of(html, "move-target")
    assert 'value="answered"' in select and 'value="refused"' in select
    assert 'value="done"' not in select and 'value="draft"' not in select


def test_refused_after_answer_then_reopened(auth, demand):
    auth.login(FACILITATOR)
    assert move(auth, demand, target="refused", on=days_ago(1).isoformat(), answer="Pas de budget.").status_code == 302
    item = reload(demand)
    assert item.status is Status.refused and item.closed_on == days_ago(1)
    assert move(auth, demand, target="in_progress", on=TODAY.isoformat()).status_code == 302
    item = reload(demand)
    assert item.status is Status.in_progress and item.closed_on is None


def test_a_step_in_the_future_is_refused(auth, demand):
    auth.client.get("/?lang=en")
    auth.login(FACILITATOR)
    resp = move(auth, demand, target="answered", on=(TODAY + timedelta(days=1)).isoformat(), answer="Oui.")
    assert resp.status_code == 422
    assert "This date is in the future" in resp.get_data(as_text=True)
    assert reload(demand).status is Status.sent


def test_a_step_before_the_sending_is_refused(auth, demand):
    auth.client.get("/?lang=en")
    auth.login(FACILITATOR)
    resp = move(auth, demand, target="answered", on=days_ago(21).isoformat(), answer="Oui.")
    assert resp.status_code == 422
    assert "This date is before the day the demand was sent." in resp.get_data(as_text=True)
    assert reload(demand).status is Status.sent


def test_sending_a_draft_sets_the_answer_due_date_from_the_institution(auth, world):
    item = make_demand(world.amp, "À envoyer", qpv="QN01322M")
    db.session.commit()
    auth.login(FACILITATOR)
    assert move(auth, item, target="sent", on=days_ago(3).isoformat()).status_code == 302
    item = reload(item)
    assert item.status is Status.sent and item.sent_on == days_ago(3)
    assert item.answer_due_on == days_ago(3) + timedelta(days=item.institution.answer_days)


@pytest.mark.parametrize("data", [
    {"target": "answered", "on": "not-a-date", "answer": "x"},
    {"target": "<script>", "on": "2026-01-01"},
    {"target": "answered", "on": "٢٠٢٦-٠١-٠١", "answer": "x"},
    {},
])
def test_junk_step_is_refused_without_writing(auth, demand, data):
    auth.login(FACILITATOR)
    before = events_of(demand)
    assert move(auth, demand, **data).status_code == 422
    assert events_of(demand) == before


def test_note_is_added_as_an_event(auth, demand):
    auth.login(FACILITATOR)
    resp = auth.post(f"/admin/followup/{demand.id}/note", {"note-on": TODAY.isoformat(), "note-note": "Relance envoyée."},
                     form_page=f"/admin/followup/{demand.id}")
    assert resp.status_code == 302
    last = reload(demand).events[-1]
    assert last.note == "Relance envoyée." and last.to_status is None and last.from_status is None


def test_empty_note_is_refused(auth, demand):
    auth.login(FACILITATOR)
    before = events_of(demand)
    resp = auth.post(f"/admin/followup/{demand.id}/note", {"note-on": TODAY.isoformat(), "note-note": " "},
                     form_page=f"/admin/followup/{demand.id}")
    assert resp.status_code == 422 and events_of(demand) == before


def edit(auth, item, **data):
    fields = {f"edit-{k}": v for k, v in data.items()}
    return auth.post(f"/admin/followup/{item.id}/edit", fields, form_page=f"/admin/followup/{item.id}")


def test_edit_changes_title_institution_category_and_dates(auth, world, demand):
    auth.login(FACILITATOR)
    landlord = institution(world.amp, "Bailleur social")
    category = db.session.scalar(sa.select(Category.id).filter_by(contract_id=world.amp.id, code="D1"))
    resp = edit(auth, demand, title="Nettoyer le parc Frais Vallon", body="Texte corrigé.", institution=landlord.id,
                category=category, answer_due_on=(TODAY + timedelta(days=5)).isoformat(), action_due_on="")
    assert resp.status_code == 302
    item = reload(demand)
    assert (item.title, item.body, item.institution_id, item.category_id) == (
        "Nettoyer le parc Frais Vallon", "Texte corrigé.", landlord.id, category)
    assert item.answer_due_on == TODAY + timedelta(days=5)


def test_edit_refuses_a_due_date_before_the_sending(auth, demand):
    auth.client.get("/?lang=en")
    auth.login(FACILITATOR)
    resp = edit(auth, demand, title="Nettoyer le parc", institution=demand.institution_id,
                answer_due_on=days_ago(30).isoformat())
    assert resp.status_code == 422
    assert "A due date cannot be before the day the demand was sent." in resp.get_data(as_text=True)
    assert reload(demand).answer_due_on != days_ago(30)


def test_edit_refuses_an_institution_of_another_contract(auth, world, demand):
    auth.login(FACILITATOR)
    foreign = institution(world.nar, "CAF")
    resp = edit(auth, demand, title="Nettoyer le parc", institution=foreign.id,
                answer_due_on=demand.answer_due_on.isoformat())
    assert resp.status_code == 422
    assert reload(demand).institution_id != foreign.id


def test_retired_institution_is_not_offered_but_stays_on_its_demands(auth, world, demand):
    caf = db.session.get(Institution, demand.institution_id)
    caf.active = False
    db.session.commit()
    auth.login(FACILITATOR)
    html = auth.client.get(f"/admin/followup/{demand.id}").get_data(as_text=True)
    assert f'value="{caf.id}"' in select_of(html, "edit-institution")  # still the demand's institution
    other = make_demand(world.amp, "Autre demande", qpv="QN01322M", to=institution(world.amp, "Bailleur social"))
    db.session.commit()
    html = auth.client.get(f"/admin/followup/{other.id}").get_data(as_text=True)
    assert f'value="{caf.id}"' not in select_of(html, "edit-institution")
    resp = edit(auth, other, title="Autre demande", institution=caf.id)
    assert resp.status_code == 422


def test_a_mediator_cannot_move_a_demand(auth, demand):
    auth.login("mediateur@amp.demo")
    assert move(auth, demand, target="answered", on=TODAY.isoformat(), answer="x").status_code == 403
    assert reload(demand).status is Status.sent


def test_index_lists_managed_demands_overdue_first_with_drafts(auth, world):
    make_demand(world.amp, "Brouillon interne", qpv="QN01322M")
    make_demand(world.amp, "En retard interne", qpv="QN01322M", steps=(sent(90, due_in=30),))
    make_demand(world.amp, "À Aix", insee="13001", steps=(sent(5),))
    db.session.commit()
    auth.login(FACILITATOR)
    html = auth.client.get("/admin/followup/").get_data(as_text=True)
    assert "Brouillon interne" in html and "En retard interne" in html
    assert html.index("En retard interne") < html.index("Brouillon interne")
    assert "À Aix" not in html  # outside the facilitator's commune
    assert "/admin/followup/" in html


def test_index_junk_contract_is_reported(auth, world):
    auth.client.get("/?lang=en")
    auth.login("admin@amp.demo")
    resp = auth.client.get("/admin/followup/?contract=abc&status=nope")
    assert resp.status_code == 200
    assert "Choose a contract from the list." in resp.get_data(as_text=True)
