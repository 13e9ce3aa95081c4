"""Geometry without a map service: coarsening public positions to ~100 m cells, the Web
Mercator frame of the app's own map (project / unproject), and distances."""
from __future__ import annotations

import math
import random

import pytest

from participation.walks.geo import COARSE_METRES, Frame, coarsen, distance_m, inverse_mercator, mercator

FRAIS_VALLON = (43.3265, 5.4070)


def _points(n=200, seed=6):
    rng = random.Random(seed)
    return [(FRAIS_VALLON[0] + rng.uniform(-0.02, 0.02), FRAIS_VALLON[1] + rng.uniform(-0.02, 0.02)) for _ in range(n)]


def test_a_coarsened_point_stays_within_71_metres_of_the_true_one():
    # Half the diagonal of a 100 m cell is 70.7 m (plus a metre for rounding to 5 decimals).
    worst = max(distance_m(p, coarsen(*p)) for p in _points())
    assert worst <= 71.5
    assert worst > 30  # the position really moved: it is not returned as it came


def test_coarsening_also_works_far_from_marseille():
    for p in [(48.8566, 2.3522), (-21.1151, 55.5364), (64.1466, -21.9426)]:  # Paris, La Réunion, Reykjavik
        assert distance_m(p, coarsen(*p)) <= 71.5


def test_two_points_20_metres_apart_in_the_same_cell_give_the_same_position():
    centre = coarsen(*FRAIS_VALLON)
    d_lat = 10 / 111_320  # 10 m north and 10 m south of the cell's centre: 20 m apart
    north, south = (centre[0] + d_lat, centre[1]), (centre[0] - d_lat, centre[1])
    assert distance_m(north, south) == pytest.approx(20, abs=0.5)
    assert coarsen(*north) == coarsen(*south) == centre


def test_the_public_longitude_does_not_depend_on_where_the_point_lies_in_its_cell():
    # If the longitude's cell width follows the point's own latitude, the published longitude
    # (5 decimals) gives that latitude back to a few metres: the cell must decide, not the point.
    lat_step = COARSE_METRES / 111_320
    south = (math.floor(FRAIS_VALLON[0] / lat_step) + 0.02) * lat_step
    results = {coarsen(south + i * lat_step / 50, FRAIS_VALLON[1]) for i in range(48)}
    assert len(results) == 1


def test_points_in_different_cells_give_different_positions():
    a = coarsen(*FRAIS_VALLON)
    b = coarsen(FRAIS_VALLON[0] + 3 * COARSE_METRES / 111_320, FRAIS_VALLON[1])
    assert a != b and distance_m(a, b) == pytest.approx(3 * COARSE_METRES, abs=5)


def test_coarsening_a_coarsened_point_changes_nothing():
    once = coarsen(*FRAIS_VALLON)
    assert coarsen(*once) == once


def test_coarsening_no_position_gives_no_position():
    assert coarsen(None, None) == (None, None)
    assert coarsen(43.3, None) == (None, None)


def test_coarsened_positions_have_five_decimals_at_most():
    lat, lon = coarsen(43.326512345, 5.407098765)
    assert round(lat, 5) == lat and round(lon, 5) == lon


def test_mercator_and_its_inverse_round_trip():
    for lat, lon in _points(20):
        back = inverse_mercator(*mercator(lat, lon))
        assert back == pytest.approx((lat, lon), abs=1e-9)


def test_the_frame_projects_and_unprojects_a_point_back():
    points = _points(10)
    frame = Frame.around(points, 640, 420)
    for lat, lon in points:
        x, y = frame.project(lat, lon)
        assert 0 <= x <= 640 and 0 <= y <= 420
        assert frame.unproject(x, y) == pytest.approx((lat, lon), abs=1e-6)


def test_the_frame_puts_north_up_and_east_right():
    frame = Frame.around([FRAIS_VALLON], 640, 420)
    x0, y0 = frame.project(*FRAIS_VALLON)
    x_east, _ = frame.project(FRAIS_VALLON[0], FRAIS_VALLON[1] + 0.001)
    _, y_north = frame.project(FRAIS_VALLON[0] + 0.001, FRAIS_VALLON[1])
    assert x_east > x0 and y_north < y0


def test_a_single_point_gets_a_frame_at_least_300_metres_wide():
    frame = Frame.around([FRAIS_VALLON], 640, 420)
    assert frame.project(*FRAIS_VALLON) == pytest.approx((320, 210), abs=0.01)
    ground_width = frame.metres_per_unit(FRAIS_VALLON[0]) * 640
    assert ground_width >= 300


def test_no_point_no_frame():
    assert Frame.around([], 640, 420) is None


def test_the_frame_keeps_the_same_scale_on_both_axes():
    frame = Frame.around([(43.32, 5.40), (43.33, 5.42)], 640, 420)
    a = frame.project(43.32, 5.40)
    b = frame.project(43.33, 5.40)  # ~1.11 km north
    c = frame.project(43.32, 5.40 + 0.01 / math.cos(math.radians(43.32)))  # ~1.11 km east
    assert abs(a[1] - b[1]) == pytest.approx(abs(c[0] - a[0]), rel=0.01)


def test_distance_of_a_thousandth_of_a_degree_of_latitude_is_111_metres():
    assert distance_m((43.3265, 5.4070), (43.3275, 5.4070)) == pytest.approx(111.2, abs=0.2)


def test_distance_along_a_parallel_shrinks_with_latitude():
    equator = distance_m((0, 5.0), (0, 5.001))
    marseille = distance_m((43.3, 5.0), (43.3, 5.001))
    assert marseille == pytest.approx(equator * math.cos(math.radians(43.3)), rel=1e-3)


def test_distance_is_symmetric_and_zero_for_the_same_point():
    a, b = (43.3265, 5.4070), (43.5297, 5.4474)  # Frais Vallon, Aix-en-Provence
    assert distance_m(a, b) == pytest.approx(distance_m(b, a))
    assert 22_000 < distance_m(a, b) < 24_000
    assert distance_m(a, a) == 0
