"""A walk's observation grid (themes and prompts) and route (stops with optional positions),
edited from the walk's back-office page."""
from __future__ import annotations

import pytest

from participation.extensions import db
from participation.walks import services
from participation.walks.models import WalkTheme, Waypoint

from ..conftest import count
from .test_admin import MED, fresh, login, make_walk, post, text

pytestmark = pytest.mark.usefixtures("without_demo_walks")


def reload(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def names(walk_id: int) -> list[str]:
    return [t.name for t in fresh(walk_id).themes]


def labels(walk_id: int) -> list[str]:
    return [p.label for p in fresh(walk_id).waypoints]


def walk_with_stops(*stops):
    walk = make_walk()
    for label in stops:
        services.add_waypoint(walk, label)
    db.session.commit()
    return walk


# --- grid ------------------------------------------------------------------------------------


def test_a_theme_is_added_at_the_end_of_the_grid(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/themes", {"name": "Bruit", "prompts": "D'où vient-il ?"},
                prefix="theme")
    assert resp.status_code == 302
    theme = fresh(walk.id).themes[-1]
    assert (theme.name, theme.prompts, theme.position, theme.code) == ("Bruit", "D'où vient-il ?", 9, "")


def test_a_theme_named_like_another_is_refused(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/themes", {"name": names(walk.id)[0].upper()}, prefix="theme")
    assert resp.status_code == 422
    assert "The grid already has a theme with this name." in text(resp)
    assert len(names(walk.id)) == 9


def test_a_theme_without_a_name_is_refused(demo, client, auth):
    walk = make_walk()
    login(auth)
    assert post(client, f"/admin/walks/{walk.id}/themes", {"name": " "}, prefix="theme").status_code == 422
    assert len(names(walk.id)) == 9


def test_a_theme_is_edited(demo, client, auth):
    walk = make_walk()
    theme = walk.themes[0]
    login(auth)
    resp = post(client, f"/admin/walks/themes/{theme.id}", {"name": "Lumière", "prompts": "Est-ce éclairé ?"},
                prefix=f"theme{theme.id}")
    assert resp.status_code == 302
    theme = reload(WalkTheme, theme.id)
    assert (theme.name, theme.prompts) == ("Lumière", "Est-ce éclairé ?")


def test_a_refused_theme_edit_shows_the_message_next_to_the_open_form(demo, client, auth):
    walk = make_walk()
    theme, other = walk.themes[0], walk.themes[1]
    name = theme.name
    login(auth)
    resp = post(client, f"/admin/walks/themes/{theme.id}", {"name": other.name}, prefix=f"theme{theme.id}")
    assert resp.status_code == 422
    page = text(resp)
    assert "The grid already has a theme with this name." in page
    assert f'href="#theme-{theme.id}"' in page
    assert page.count('<details class="walk-edit" open>') == 1
    assert 'id="theme{0}-name-error"'.format(theme.id) in page
    assert reload(WalkTheme, theme.id).name == name


def test_a_theme_moves_up(demo, client, auth):
    walk = make_walk()
    first, second = names(walk.id)[:2]
    login(auth)
    resp = post(client, f"/admin/walks/themes/{walk.themes[1].id}/move", {"direction": "up"})
    assert resp.status_code == 302
    assert names(walk.id)[:2] == [second, first]


def test_the_last_theme_moves_down_nowhere(demo, client, auth):
    walk = make_walk()
    before = names(walk.id)
    login(auth)
    post(client, f"/admin/walks/themes/{walk.themes[-1].id}/move", {"direction": "down"})
    assert names(walk.id) == before


def test_a_move_in_an_unknown_direction_is_refused(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/themes/{walk.themes[1].id}/move", {"direction": "sideways"})
    assert resp.status_code == 422


def test_an_unused_theme_is_removed_and_the_others_renumbered(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/themes/{walk.themes[0].id}/delete")
    assert resp.status_code == 302
    themes = fresh(walk.id).themes
    assert len(themes) == 8
    assert [t.position for t in themes] == list(range(8))


def test_a_theme_used_by_observations_cannot_be_removed(demo, client, auth):
    walk = make_walk()
    theme = walk.themes[0]
    services.record_observation(walk, services.ObservationInput(client_id="grid-test-0001", theme_id=theme.id,
                                                                seen="Trou dans le trottoir"))
    db.session.commit()
    login(auth)
    resp = post(client, f"/admin/walks/themes/{theme.id}/delete")
    assert resp.status_code == 422
    assert "Observations use this theme: it cannot be removed." in text(resp)
    assert reload(WalkTheme, theme.id) is not None


def test_the_default_themes_are_added_back(demo, client, auth):
    walk = make_walk()
    for theme in list(walk.themes[:2]):
        services.remove_theme(theme)
    db.session.commit()
    login(auth)
    assert "Add the default themes back" in text(client.get(f"/admin/walks/{walk.id}?lang=en"))
    resp = post(client, f"/admin/walks/{walk.id}/themes", {"defaults": "1"})
    assert resp.status_code == 302
    assert len(names(walk.id)) == 9
    assert count(WalkTheme) == 9


def test_a_mediator_cannot_change_the_grid(demo, client, auth):
    walk = make_walk()
    login(auth, MED)
    assert post(client, f"/admin/walks/{walk.id}/themes", {"name": "Bruit"}, prefix="theme").status_code == 403
    assert len(names(walk.id)) == 9


# --- route -----------------------------------------------------------------------------------


def test_a_stop_is_added_with_comma_decimals(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/waypoints", {"label": "Arrêt de bus", "lat": "43,3215",
                                                              "lon": " 5,4087 "}, prefix="point")
    assert resp.status_code == 302
    point = fresh(walk.id).waypoints[0]
    assert (point.label, point.lat, point.lon, point.position) == ("Arrêt de bus", 43.3215, 5.4087, 0)


def test_a_stop_without_a_position_is_added(demo, client, auth):
    walk = make_walk()
    login(auth)
    post(client, f"/admin/walks/{walk.id}/waypoints", {"label": "Entrée du bâtiment C"}, prefix="point")
    point = fresh(walk.id).waypoints[0]
    assert (point.lat, point.lon) == (None, None)


def test_a_stop_off_the_earth_is_refused_with_the_message(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/waypoints", {"label": "Ailleurs", "lat": "143.2", "lon": "5.4"},
                prefix="point")
    assert resp.status_code == 422
    assert "This position is not valid." in text(resp)
    assert count(Waypoint) == 0


def test_a_stop_with_words_for_coordinates_is_refused(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/waypoints", {"label": "Place", "lat": "nord", "lon": "est"},
                prefix="point")
    assert resp.status_code == 422
    assert "This position is not valid." in text(resp)
    assert count(Waypoint) == 0


def test_a_stop_with_only_a_latitude_is_refused(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/waypoints", {"label": "Place", "lat": "43.3"}, prefix="point")
    assert resp.status_code == 422
    assert "Give both the latitude and the longitude, or neither." in text(resp)


def test_a_stop_is_edited(demo, client, auth):
    walk = walk_with_stops("Arrêt")
    point = walk.waypoints[0]
    login(auth)
    resp = post(client, f"/admin/walks/waypoints/{point.id}", {"label": "Arrêt Frais Vallon", "lat": "43.33",
                                                               "lon": "5.41"}, prefix=f"point{point.id}")
    assert resp.status_code == 302
    point = reload(Waypoint, point.id)
    assert (point.label, point.lat, point.lon) == ("Arrêt Frais Vallon", 43.33, 5.41)


def test_a_refused_stop_edit_keeps_the_stop_as_it_was(demo, client, auth):
    walk = walk_with_stops("Arrêt")
    point = walk.waypoints[0]
    login(auth)
    resp = post(client, f"/admin/walks/waypoints/{point.id}", {"label": "Arrêt", "lat": "43.3", "lon": "500"},
                prefix=f"point{point.id}")
    assert resp.status_code == 422
    assert reload(Waypoint, point.id).lat is None


def test_a_stop_moves_down(demo, client, auth):
    walk = walk_with_stops("Départ", "Milieu", "Arrivée")
    login(auth)
    assert post(client, f"/admin/walks/waypoints/{walk.waypoints[0].id}/move", {"direction": "down"}).status_code == 302
    assert labels(walk.id) == ["Milieu", "Départ", "Arrivée"]


def test_a_stop_is_removed_and_the_others_renumbered(demo, client, auth):
    walk = walk_with_stops("Départ", "Milieu", "Arrivée")
    login(auth)
    assert post(client, f"/admin/walks/waypoints/{walk.waypoints[1].id}/delete").status_code == 302
    points = fresh(walk.id).waypoints
    assert [(p.label, p.position) for p in points] == [("Départ", 0), ("Arrivée", 1)]


def test_the_walk_page_draws_the_located_stops_on_the_map(demo, client, auth):
    walk = make_walk()
    services.add_waypoint(walk, "Départ", 43.32, 5.41)
    services.add_waypoint(walk, "Arrivée", 43.325, 5.415)
    db.session.commit()
    login(auth)
    page = text(client.get(f"/admin/walks/{walk.id}?lang=en"))
    assert page.count('class="walk-map-stop"') == 2
    assert "Position: 43.32, 5.41" in page


def test_a_mediator_cannot_change_the_route(demo, client, auth):
    walk = walk_with_stops("Départ")
    login(auth, MED)
    assert post(client, f"/admin/walks/waypoints/{walk.waypoints[0].id}/delete").status_code == 403
    assert count(Waypoint) == 1


def test_a_stop_of_an_unknown_walk_is_not_found(demo, client, auth):
    login(auth)
    assert post(client, "/admin/walks/waypoints/999999/delete").status_code == 404
