"""A walk's recommendations in the back office: creating one (a draft FollowUp of kind
recommendation, addressed to an institution of the contract, due by a date that is not past,
linked to the observations it answers), the list with status and overdue mark, offering the usual
institutions when the contract has none, the recommendation's page (its observations, its
timeline, the link to the shared follow-up page) and moving it to done on that shared page."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from participation.core.territories import Category, Contract
from participation.extensions import db
from participation.followup import services as followup_services
from participation.followup.models import FollowUp, Kind, Status
from participation.walks import services
from participation.walks.models import Recommendation

from ..conftest import count, csrf_from
from .test_moderation import FAC, NARBONNE, make_walk

pytestmark = pytest.mark.usefixtures("without_demo_walks")

AMP_ADMIN = "admin@amp.demo"


@pytest.fixture
def amp(demo):
    return db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))


@pytest.fixture
def walk(amp):
    walk = make_walk()
    db.session.commit()
    return walk


@pytest.fixture
def institution(amp):
    found = followup_services.active_institutions(amp.id)
    return found[0] if found else followup_services.ensure_default_institutions(amp)[0]


def _url(walk) -> str:
    return f"/admin/walks/{walk.id}/recommendations?lang=en"


def _create(client, walk, **fields):
    html = client.get(_url(walk)).get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "rec-title": "Éclairer le chemin derrière le bâtiment C",
            "rec-body": "Trois lampadaires manquent.", "rec-institution": "", "rec-category": "",
            "rec-due_on": (date.today() + timedelta(days=90)).isoformat(), **fields}
    return client.post(_url(walk), data=data)


def _recommendations(walk) -> list[Recommendation]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Recommendation).filter_by(walk_id=walk.id)))


def test_creating_a_recommendation_makes_a_draft_follow_up_with_its_due_date_and_observations(
        client, auth, walk, institution):
    auth.login(FAC)
    due = date.today() + timedelta(days=120)
    first, third = walk.observations[0].id, walk.observations[2].id
    resp = _create(client, walk, **{"rec-institution": str(institution.id), "rec-due_on": due.isoformat(),
                                    "rec-observations": [str(first), str(third)]})
    [link] = _recommendations(walk)
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/admin/walks/recommendations/{link.followup_id}")
    item = link.followup
    assert (item.kind, item.status, item.action_due_on, item.institution_id) == (
        Kind.recommendation, Status.draft, due, institution.id)
    assert item.title == "Éclairer le chemin derrière le bâtiment C"
    assert (item.contract_id, item.neighbourhood_id) == (walk.contract_id, walk.neighbourhood_id)
    assert [o.number for o in link.observations] == [1, 3]


def test_a_défi_of_the_contract_may_be_given(client, auth, amp, walk, institution):
    category = db.session.scalar(sa.select(Category).filter_by(contract_id=amp.id, code="D1"))
    auth.login(FAC)
    _create(client, walk, **{"rec-institution": str(institution.id), "rec-category": str(category.id)})
    [link] = _recommendations(walk)
    assert link.followup.category_id == category.id


def test_a_défi_of_another_contract_is_refused(client, auth, walk, institution):
    nar = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    other = db.session.scalar(sa.select(Category).filter_by(contract_id=nar.id))
    auth.login(FAC)
    before = count(FollowUp)
    resp = _create(client, walk, **{"rec-institution": str(institution.id), "rec-category": str(other.id)})
    assert resp.status_code == 422
    assert "Choose a défi or an orientation from the list." in resp.get_data(as_text=True)
    assert count(FollowUp) == before


def test_a_due_date_in_the_past_is_refused(client, auth, walk, institution):
    auth.login(FAC)
    before = count(FollowUp)
    resp = _create(client, walk, **{"rec-institution": str(institution.id),
                                    "rec-due_on": (date.today() - timedelta(days=1)).isoformat()})
    assert resp.status_code == 422
    assert "Choose today or a later date." in resp.get_data(as_text=True)
    assert count(FollowUp) == before


def test_today_is_a_valid_due_date(client, auth, walk, institution):
    auth.login(FAC)
    resp = _create(client, walk, **{"rec-institution": str(institution.id), "rec-due_on": date.today().isoformat()})
    assert resp.status_code == 302


def test_a_recommendation_needs_an_institution(client, auth, walk, institution):
    auth.login(FAC)
    before = count(FollowUp)
    resp = _create(client, walk)
    assert resp.status_code == 422
    assert "Choose who must act." in resp.get_data(as_text=True)
    assert count(FollowUp) == before


def test_an_institution_of_another_contract_is_refused(client, auth, walk, institution):
    nar = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    foreign = followup_services.ensure_default_institutions(nar)[0]
    db.session.commit()
    auth.login(FAC)
    before = count(FollowUp)
    resp = _create(client, walk, **{"rec-institution": str(foreign.id)})
    assert resp.status_code == 422
    assert "Choose an institution of the list." in resp.get_data(as_text=True)
    assert count(FollowUp) == before


def test_an_observation_of_another_walk_is_refused_and_nothing_is_written(client, auth, walk, institution):
    other = make_walk(title="Autre marche", observations=1)
    db.session.commit()
    auth.login(FAC)
    before = count(FollowUp)
    resp = _create(client, walk, **{"rec-institution": str(institution.id),
                                    "rec-observations": [str(walk.observations[0].id), str(other.observations[0].id)]})
    assert resp.status_code == 422
    assert "Choose observations of this walk." in resp.get_data(as_text=True)
    assert count(FollowUp) == before and _recommendations(walk) == []


def test_the_list_shows_the_status_and_marks_an_overdue_recommendation(client, auth, walk, institution):
    late = services.add_recommendation(walk, "Réparer le lampadaire", institution=institution,
                                       due_on=date.today() + timedelta(days=1))
    followup_services.move(late.followup, Status.sent, on=date.today() - timedelta(days=90),
                           answer_due_on=date.today() - timedelta(days=30))
    services.add_recommendation(walk, "Planter des arbres", institution=institution,
                                due_on=date.today() + timedelta(days=200))
    db.session.commit()
    auth.login(FAC)
    html = client.get(_url(walk)).get_data(as_text=True)
    assert "Réparer le lampadaire" in html and "Planter des arbres" in html
    assert html.count("followup-item--overdue") == 1 and "Overdue" in html
    assert "Sent, awaiting an answer" in html and "Draft" in html
    assert f"/admin/followup/{late.followup_id}" in html


def test_a_contract_without_institutions_is_offered_the_usual_ones(client, auth, amp, walk):
    # A contract whose list is empty (the demo's institutions are removed; their demands stay).
    for inst in followup_services.institutions_of(amp.id):
        db.session.delete(inst)
    db.session.commit()
    auth.login(AMP_ADMIN)
    html = client.get(_url(walk)).get_data(as_text=True)
    assert "has no institution to address recommendations to yet" in html
    assert "Add the usual institutions" in html
    resp = client.post(_url(walk), data={"csrf_token": csrf_from(html), "action": "defaults"})
    assert resp.status_code == 302
    names = {i.name for i in followup_services.active_institutions(amp.id)}
    assert {name for name, _kind in followup_services.default_institutions(amp)} <= names
    assert "Add the usual institutions" not in client.get(_url(walk)).get_data(as_text=True)


def test_a_facilitator_who_cannot_keep_the_institutions_is_told_whom_to_ask(client, auth, amp, walk):
    for inst in followup_services.active_institutions(amp.id):
        followup_services.update_institution(inst, active=False)
    db.session.commit()
    auth.login(FAC)
    html = client.get(_url(walk)).get_data(as_text=True)
    assert "Ask an administrator of the contrat de ville to add them." in html
    assert "Add the usual institutions" not in html
    resp = client.post(_url(walk), data={"csrf_token": csrf_from(html), "action": "defaults"})
    assert resp.status_code == 403
    assert followup_services.active_institutions(amp.id) == []


def test_the_recommendation_page_shows_its_observations_and_timeline_and_links_to_the_shared_page(
        client, auth, walk, institution):
    link = services.add_recommendation(walk, "Réparer le lampadaire", institution=institution,
                                       due_on=date.today() + timedelta(days=30),
                                       observation_ids=[walk.observations[1].id])
    db.session.commit()
    auth.login(FAC)
    html = client.get(f"/admin/walks/recommendations/{link.followup_id}?lang=en").get_data(as_text=True)
    assert "Réparer le lampadaire" in html and "Constat numéro 2" in html
    assert 'class="followup-timeline"' in html and "Draft" in html
    assert f'href="/admin/followup/{link.followup_id}"' in html


def test_the_observations_of_a_recommendation_are_changed_on_its_page(client, auth, walk, institution):
    link = services.add_recommendation(walk, "Réparer le lampadaire", institution=institution,
                                       due_on=date.today() + timedelta(days=30),
                                       observation_ids=[walk.observations[1].id])
    db.session.commit()
    url = f"/admin/walks/recommendations/{link.followup_id}?lang=en"
    auth.login(FAC)
    html = client.get(url).get_data(as_text=True)
    wanted = [str(walk.observations[0].id), str(walk.observations[2].id)]
    resp = client.post(url, data={"csrf_token": csrf_from(html), "observations": wanted})
    assert resp.status_code == 302
    [link] = _recommendations(walk)
    assert [o.number for o in link.observations] == [1, 3]


def test_linking_an_observation_of_another_walk_is_refused(client, auth, walk, institution):
    other = make_walk(title="Autre marche", observations=1)
    link = services.add_recommendation(walk, "Réparer le lampadaire", institution=institution,
                                       due_on=date.today() + timedelta(days=30),
                                       observation_ids=[walk.observations[1].id])
    db.session.commit()
    url = f"/admin/walks/recommendations/{link.followup_id}?lang=en"
    auth.login(FAC)
    html = client.get(url).get_data(as_text=True)
    resp = client.post(url, data={"csrf_token": csrf_from(html), "observations": [str(other.observations[0].id)]})
    assert resp.status_code == 422
    assert "Choose observations of this walk." in resp.get_data(as_text=True)
    [link] = _recommendations(walk)
    assert [o.number for o in link.observations] == [2]


def test_moving_it_through_the_shared_workflow_to_done_marks_it_done(client, auth, walk, institution):
    link = services.add_recommendation(walk, "Réparer le lampadaire", institution=institution,
                                       due_on=date.today() + timedelta(days=30))
    db.session.commit()
    fid = link.followup_id
    auth.login(FAC)
    shared = f"/admin/followup/{fid}?lang=en"
    today = date.today().isoformat()
    for target, answer in (("sent", ""), ("answered", "Les lampadaires seront posés en mai."), ("done", "")):
        html = client.get(shared).get_data(as_text=True)
        resp = client.post(f"/admin/followup/{fid}/move", data={
            "csrf_token": csrf_from(html), "move-target": target, "move-on": today, "move-answer": answer,
            "move-action_due_on": "", "move-note": ""})
        assert resp.status_code == 302, (target, resp.status_code)
    db.session.expire_all()
    assert db.session.get(FollowUp, fid).status is Status.done
    page = client.get(f"/admin/walks/recommendations/{fid}?lang=en").get_data(as_text=True)
    assert 'followup-status--done' in page
    assert 'followup-status--done' in client.get(_url(walk)).get_data(as_text=True)


def test_a_recommendation_of_another_contract_is_out_of_reach(client, auth, demo):
    nar_walk = make_walk(NARBONNE, "Marche de Narbonne", observations=1)
    nar = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    inst = followup_services.ensure_default_institutions(nar)[0]
    link = services.add_recommendation(nar_walk, "Une recommandation", institution=inst,
                                       due_on=date.today() + timedelta(days=30))
    db.session.commit()
    auth.login(FAC)
    assert client.get(f"/admin/walks/recommendations/{link.followup_id}").status_code == 403
    assert client.get(f"/admin/walks/{nar_walk.id}/recommendations").status_code == 403


def test_an_unknown_recommendation_is_not_found(client, auth, walk):
    auth.login(FAC)
    assert client.get("/admin/walks/recommendations/999999").status_code == 404


def test_a_follow_up_that_is_not_a_walk_recommendation_is_not_found_here(client, auth, walk, institution):
    item = followup_services.create(Kind.interpellation, walk.scope, "Une interpellation", institution=institution)
    db.session.commit()
    auth.login(FAC)
    assert client.get(f"/admin/walks/recommendations/{item.id}").status_code == 404

