"""The walks' own map: markers numbered like the observations, observations without a position
listed apart, public maps coarsened, tiles only when a tile server is configured, the scale bar,
and the SVG drawn from it."""
from __future__ import annotations

import pytest
from flask import render_template_string

from participation.walks import maps
from participation.walks.geo import coarsen, distance_m
from participation.walks.models import Observation, Walk, Waypoint

ROUTE = [(43.32455, 5.40440), (43.32610, 5.40630), (43.32840, 5.40960)]


def a_walk(route_line=()):
    walk = Walk(title="Marche", route_line=[list(p) for p in route_line])
    walk.waypoints = [Waypoint(label=f"Arrêt {i}", lat=lat, lon=lon, position=i) for i, (lat, lon) in enumerate(ROUTE)]
    return walk


def obs(number, lat=None, lon=None, rating=None, obs_id=None):
    return Observation(id=obs_id or number * 10, number=number, lat=lat, lon=lon, rating=rating)


@pytest.fixture
def ctx(app):
    with app.test_request_context("/?lang=en"):
        yield app


def test_markers_carry_the_observations_numbers(ctx):
    observations = [obs(1, 43.3253, 5.4054), obs(2, 43.3261, 5.4063, 1), obs(5, 43.3276, 5.4085, 5)]
    m = maps.build(a_walk(), observations, public=False)
    assert [mk.number for mk in m.markers] == [1, 2, 5]
    assert [mk.observation_id for mk in m.markers] == [10, 20, 50]
    assert [mk.rating for mk in m.markers] == [None, 1, 5]


def test_observations_without_a_position_are_listed_apart(ctx):
    placed, unplaced = obs(1, 43.3253, 5.4054), obs(2)
    m = maps.build(a_walk(), [placed, unplaced], public=False)
    assert [mk.number for mk in m.markers] == [1]
    assert m.unplaced == [unplaced]


def test_staff_maps_draw_the_exact_position(ctx):
    point = obs(1, 43.325281, 5.405462)
    m = maps.build(a_walk(), [point], public=False)
    assert (m.markers[0].x, m.markers[0].y) == m.frame.project(43.325281, 5.405462)


def test_public_maps_draw_the_coarsened_position(ctx):
    point = obs(1, 43.325281, 5.405462)
    m = maps.build(a_walk(), [point], public=True)
    assert (m.markers[0].x, m.markers[0].y) == m.frame.project(*coarsen(43.325281, 5.405462))
    assert (m.markers[0].x, m.markers[0].y) != m.frame.project(43.325281, 5.405462)


def test_a_public_map_cannot_be_read_back_to_the_doorstep(ctx):
    point = obs(1, 43.325281, 5.405462)
    m = maps.build(a_walk(), [point], public=True)
    back = m.frame.unproject(m.markers[0].x, m.markers[0].y)
    assert back == pytest.approx(coarsen(43.325281, 5.405462), abs=1e-5)


def test_the_route_follows_the_drawn_line_when_there_is_one(ctx):
    line = [(43.3246, 5.4044), (43.3250, 5.4060), (43.3284, 5.4096), (43.3280, 5.4100)]
    m = maps.build(a_walk(route_line=line), [], public=True)
    assert len(m.route) == 4 and m.route[0] == m.frame.project(*line[0])


def test_without_a_drawn_line_the_route_joins_the_stops_in_order(ctx):
    m = maps.build(a_walk(), [], public=True)
    assert m.route == [m.frame.project(*p) for p in ROUTE]
    assert [s.position for s in m.stops] == [1, 2, 3]


def test_no_position_at_all_gives_no_map(ctx):
    walk = Walk(title="Marche", route_line=[])
    walk.waypoints = [Waypoint(label="Centre social", position=0)]
    m = maps.build(walk, [obs(1)], public=True)
    assert m.frame is None and m.markers == [] and len(m.unplaced) == 1


def test_no_tiles_without_a_tile_server(ctx, monkeypatch):
    monkeypatch.delitem(ctx.config, "MAP_TILE_URL", raising=False)
    m = maps.build(a_walk(), [], public=True)
    assert m.tiles == [] and m.attribution == ""


def test_tiles_cover_the_map_when_a_tile_server_is_configured(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "MAP_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    monkeypatch.setitem(ctx.config, "MAP_TILE_ATTRIBUTION", "© contributeurs OpenStreetMap")
    m = maps.build(a_walk(), [], public=True)
    assert 0 < len(m.tiles) <= 16
    assert all(t.href.startswith("https://tiles.example.org/") for t in m.tiles)
    assert min(t.x for t in m.tiles) <= 0 and min(t.y for t in m.tiles) <= 0
    assert max(t.x + t.size for t in m.tiles) >= m.width and max(t.y + t.size for t in m.tiles) >= m.height
    assert m.attribution == "© contributeurs OpenStreetMap"


def test_the_scale_bar_is_a_round_length_drawn_to_scale(ctx):
    m = maps.build(a_walk(), [], public=True)
    assert str(m.scale_metres)[0] in "125" and set(str(m.scale_metres)[1:]) <= {"0"}
    # Two points the scale bar's length apart on the ground are that far apart on the drawing.
    lat = ROUTE[0][0]
    x0, y0 = m.frame.project(lat, 5.405)
    far = m.frame.unproject(x0 + m.scale_units, y0)
    assert distance_m((lat, 5.405), far) == pytest.approx(m.scale_metres, rel=0.02)
    assert 0 < m.scale_units <= m.width / 4 + 0.01


def test_the_svg_shows_numbered_points_stops_and_the_scale(ctx):
    m = maps.build(a_walk(), [obs(3, 43.3253, 5.4054, 2), obs(7, 43.3276, 5.4085, 4)], public=True)
    html = render_template_string('{% from "walks/_map.html" import walk_map %}{{ walk_map(m, "Carte") }}', m=m)
    assert 'role="img"' in html and "<title" in html and "Carte" in html
    assert ">3</text>" in html and ">7</text>" in html
    assert html.count('class="walk-map-stop"') == 3
    assert f"{m.scale_metres} m" in html
    assert "<image" not in html


def test_the_svg_says_so_when_nothing_is_placed(ctx):
    walk = Walk(title="Marche", route_line=[])
    m = maps.build(walk, [], public=True)
    html = render_template_string('{% from "walks/_map.html" import walk_map %}{{ walk_map(m, "Carte") }}', m=m)
    assert "<svg" not in html and "No position" in html


def test_the_tappable_map_gives_the_script_its_projection(ctx):
    m = maps.build(a_walk(), [], public=False)
    attrs = m.data_attributes()
    assert float(attrs["data-scale"]) == m.frame.scale
    html = render_template_string('{% from "walks/_map.html" import walk_map %}{{ walk_map(m, "Carte", tappable=True) }}',
                                  m=m)
    assert "data-scale=" in html and "walk-map-tappable" in html
