"""Follow-up walks in the back office: planning one from a walked walk (same route and grid,
linked to it), and its points page: each observation of the first walk with its recommendations,
what the group found there (one check per point, recorded again replaces it), the progress, and
the refusals (a point or an observation of another walk; a walk that follows none)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from participation.extensions import db
from participation.followup import services as followup_services
from participation.followup.models import Status
from participation.walks import services
from participation.walks.models import Moderation, PointCheck, PointOutcome, Walk

from ..conftest import count, csrf_from
from .test_moderation import FAC, make_walk


@pytest.fixture
def walk(demo):
    walk = make_walk()
    db.session.commit()
    return walk


@pytest.fixture
def follow(walk):
    follow = services.create_follow_up(walk, date.today() + timedelta(days=60), "Marche de suivi")
    db.session.commit()
    return follow


def _plan(client, walk, **fields):
    page = f"/admin/walks/{walk.id}/recommendations?lang=en"
    html = client.get(page).get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "follow-walked_on": (date.today() + timedelta(days=90)).isoformat(),
            "follow-title": "Six mois après", **fields}
    return client.post(f"/admin/walks/{walk.id}/follow-up?lang=en", data=data)


def _follow_ups(walk) -> list[Walk]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Walk).filter_by(follows_id=walk.id)))


def test_planning_a_follow_up_walk_copies_route_and_grid_and_links_it(client, auth, walk):
    auth.login(FAC)
    resp = _plan(client, walk)
    [new] = _follow_ups(walk)
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/admin/walks/{new.id}")
    assert (new.title, new.walked_on, new.neighbourhood_id) == (
        "Six mois après", date.today() + timedelta(days=90), walk.neighbourhood_id)
    assert [t.name for t in new.themes] == [t.name for t in walk.themes]
    assert [(w.label, w.lat, w.lon) for w in new.waypoints] == [(w.label, w.lat, w.lon) for w in walk.waypoints]
    assert new.observations == []


def test_a_follow_up_walk_without_a_title_takes_the_walks_title(client, auth, walk):
    auth.login(FAC)
    _plan(client, walk, **{"follow-title": ""})
    [new] = _follow_ups(walk)
    assert new.title == walk.title


def test_a_walk_that_has_not_taken_place_cannot_be_followed_up_yet(client, auth, demo):
    planned = make_walk(title="Marche prévue", observations=0, walked=False)
    db.session.commit()
    auth.login(FAC)
    resp = _plan(client, planned)
    assert resp.status_code == 422
    assert "The walk has not taken place yet." in resp.get_data(as_text=True)
    assert _follow_ups(planned) == []


def test_a_follow_up_walk_before_the_walk_is_refused(client, auth, walk):
    auth.login(FAC)
    resp = _plan(client, walk, **{"follow-walked_on": (walk.walked_on - timedelta(days=1)).isoformat()})
    assert resp.status_code == 422
    assert _follow_ups(walk) == []


def test_a_follow_up_walk_needs_a_date(client, auth, walk):
    auth.login(FAC)
    resp = _plan(client, walk, **{"follow-walked_on": ""})
    assert resp.status_code == 422
    assert "Enter the date." in resp.get_data(as_text=True)
    assert _follow_ups(walk) == []


# --- points ------------------------------------------------------------------------------


def _points_url(follow) -> str:
    return f"/admin/walks/{follow.id}/points?lang=en"


def _check(client, follow, obs_id, **fields):
    html = client.get(_points_url(follow)).get_data(as_text=True)
    prefix = f"p{obs_id}-"
    data = {"csrf_token": csrf_from(html), prefix + "outcome": "improved", prefix + "note": "",
            prefix + "new_observation": ""}
    data.update({prefix + k: v for k, v in fields.items()})
    return client.post(f"/admin/walks/{follow.id}/points/{obs_id}?lang=en", data=data)


def _checks(follow) -> list[PointCheck]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(PointCheck).filter_by(walk_id=follow.id)))


def test_the_points_page_lists_each_point_with_its_recommendations_and_their_status(client, auth, walk, follow):
    institution = (followup_services.active_institutions(walk.contract_id)
                   or followup_services.ensure_default_institutions(walk.contract))[0]
    link = services.add_recommendation(walk, "Réparer le lampadaire", institution=institution,
                                       due_on=date.today() + timedelta(days=30),
                                       observation_ids=[walk.observations[0].id])
    followup_services.move(link.followup, Status.sent)
    db.session.commit()
    auth.login(FAC)
    html = client.get(_points_url(follow)).get_data(as_text=True)
    for n in (1, 2, 3):
        assert f'id="p{n}"' in html and f"Constat numéro {n}" in html
    assert "Réparer le lampadaire" in html and "Sent, awaiting an answer" in html
    assert "0 of 3 points checked" in html
    assert '<fieldset id="p' in html and "Done: it has improved" in html and "Nothing has changed" in html


def test_recording_what_was_found_at_a_point(client, auth, walk, follow):
    auth.login(FAC)
    first = walk.observations[0]
    resp = _check(client, follow, first.id, outcome="improved", note="Trois lampadaires posés.")
    assert resp.status_code == 302
    [check] = _checks(follow)
    assert (check.observation_id, check.outcome, check.note) == (first.id, PointOutcome.improved,
                                                                 "Trois lampadaires posés.")
    assert "1 of 3 points checked" in client.get(_points_url(follow)).get_data(as_text=True)


def test_recording_a_point_again_replaces_what_was_found(client, auth, walk, follow):
    auth.login(FAC)
    first = walk.observations[0]
    _check(client, follow, first.id, outcome="improved", note="Posés.")
    _check(client, follow, first.id, outcome="partly", note="Un seul posé.")
    [check] = _checks(follow)
    assert (check.outcome, check.note) == (PointOutcome.partly, "Un seul posé.")


def test_not_checked_does_not_count_as_checked(client, auth, walk, follow):
    auth.login(FAC)
    _check(client, follow, walk.observations[0].id, outcome="not_checked")
    assert "0 of 3 points checked" in client.get(_points_url(follow)).get_data(as_text=True)


def test_an_outcome_must_be_chosen(client, auth, walk, follow):
    auth.login(FAC)
    resp = _check(client, follow, walk.observations[0].id, outcome="")
    assert resp.status_code == 422
    assert "Choose what the group found." in resp.get_data(as_text=True)
    assert _checks(follow) == []


def test_an_observation_of_this_walk_taken_at_the_point_is_linked(client, auth, walk, follow):
    new, _created = services.record_observation(follow, services.ObservationInput(
        client_id="follow-obs-0001", seen="Le lampadaire fonctionne."))
    db.session.commit()
    auth.login(FAC)
    _check(client, follow, walk.observations[0].id, new_observation=str(new.id))
    [check] = _checks(follow)
    assert check.new_observation_id == new.id


def test_an_observation_of_another_walk_cannot_be_linked_to_a_point(client, auth, walk, follow):
    auth.login(FAC)
    resp = _check(client, follow, walk.observations[0].id, new_observation=str(walk.observations[1].id))
    assert resp.status_code == 422
    assert "Choose observations of this walk." in resp.get_data(as_text=True)
    assert _checks(follow) == []


def test_a_point_of_another_walk_is_refused(client, auth, walk, follow):
    other = make_walk(title="Autre marche", observations=1)
    db.session.commit()
    auth.login(FAC)
    resp = _check(client, follow, other.observations[0].id)
    assert resp.status_code == 422
    assert "Choose observations of this walk." in resp.get_data(as_text=True)
    assert _checks(follow) == []


def test_an_unknown_point_is_not_found(client, auth, follow):
    auth.login(FAC)
    assert _check(client, follow, 999999).status_code == 404


def test_a_walk_that_follows_no_other_has_no_points_page(client, auth, walk):
    auth.login(FAC)
    resp = client.get(f"/admin/walks/{walk.id}/points?lang=en")
    assert resp.status_code == 404
    assert "This walk does not follow up another walk" in resp.get_data(as_text=True)
    before = count(PointCheck)
    html = client.get(f"/admin/walks/{walk.id}/recommendations?lang=en").get_data(as_text=True)
    post = client.post(f"/admin/walks/{walk.id}/points/{walk.observations[0].id}",
                       data={"csrf_token": csrf_from(html), f"p{walk.observations[0].id}-outcome": "improved"})
    assert post.status_code == 404
    assert count(PointCheck) == before


def test_what_was_found_shows_on_the_public_page_of_the_follow_up_walk(client, auth, walk, follow):
    first = walk.observations[0]
    first.moderation = Moderation.published
    db.session.commit()
    auth.login(FAC)
    _check(client, follow, first.id, outcome="improved", note="Trois lampadaires posés rue Dupin.")
    auth.logout()
    html = client.get(f"/w/{follow.id}?lang=en").get_data(as_text=True)
    assert "Done: it has improved" in html
    assert "Trois lampadaires posés rue Dupin." in html
