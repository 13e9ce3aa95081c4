"""The walks' own map: the route and numbered observation points projected into a box, drawn as
inline SVG in pages (`templates/walks/_map.html`) and with the same numbers in the PDF report.
No tile server is needed; tiles are drawn underneath only when MAP_TILE_URL is configured.

The map is data (`WalkMap`), so the SVG macro, the PDF writer and the recording form's "tap
on the map" (which needs the inverse projection) all read the same figures."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask import current_app

from .geo import Frame, coarsen, mercator

#: Drawing box in SVG user units (the SVG scales to the page's width).
WIDTH, HEIGHT = 640.0, 420.0


@dataclass(frozen=True)
class Marker:
    number: int
    x: float
    y: float
    #: the observation's rating (1–5) or None: the marker's class, never its only meaning
    rating: int | None
    label: str
    observation_id: int | None = None


@dataclass(frozen=True)
class Stop:
    position: int
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Tile:
    href: str
    x: float
    y: float
    size: float


@dataclass
class WalkMap:
    frame: Frame | None
    route: list[tuple[float, float]] = field(default_factory=list)
    stops: list[Stop] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    #: observations without a position (listed under the map)
    unplaced: list = field(default_factory=list)
    tiles: list[Tile] = field(default_factory=list)
    attribution: str = ""
    #: length of the scale bar in drawing units, and the ground metres it stands for
    scale_units: float = 0.0
    scale_metres: int = 0
    width: float = WIDTH
    height: float = HEIGHT

    @property
    def route_points(self) -> str:
        """The route as an SVG `points` attribute."""
        return " ".join(f"{x},{y}" for x, y in self.route)

    def data_attributes(self) -> dict[str, str]:
        """What the recording form's script needs to turn a tap into a position."""
        if self.frame is None:
            return {}
        f = self.frame
        return {"data-min-x": repr(f.min_x), "data-min-y": repr(f.min_y), "data-scale": repr(f.scale),
                "data-offset-x": repr(f.offset_x), "data-offset-y": repr(f.offset_y),
                "data-width": repr(f.width), "data-height": repr(f.height)}


def _nice_metres(metres: float) -> int:
    """A round length (1, 2 or 5 × 10^n) just under `metres`."""
    if metres <= 0:
        return 0
    power = 10 ** math.floor(math.log10(metres))
    for step in (5, 2, 1):
        if step * power <= metres:
            return int(step * power)
    return int(power)


def build(walk, observations, *, public: bool, width: float = WIDTH, height: float = HEIGHT,
          label=lambda obs: "") -> WalkMap:
    """The map of a walk with these observations. `public` coarsens the observations'
    positions (about 100 m) before drawing them; the route stays as the group planned it."""
    placed = []
    unplaced = []
    for obs in observations:
        if obs.lat is None:
            unplaced.append(obs)
            continue
        lat, lon = coarsen(obs.lat, obs.lon) if public else (obs.lat, obs.lon)
        placed.append((obs, lat, lon))
    route = [tuple(p) for p in (walk.route_line or []) if len(p) == 2]
    stops = [w for w in walk.waypoints if w.lat is not None]
    points = [(lat, lon) for _o, lat, lon in placed] + route + [(w.lat, w.lon) for w in stops]
    frame = Frame.around(points, width, height)
    result = WalkMap(frame=frame, unplaced=unplaced, width=width, height=height)
    if frame is None:
        return result
    line = route or [(w.lat, w.lon) for w in stops]
    result.route = [frame.project(lat, lon) for lat, lon in line]
    result.stops = [Stop(w.position + 1, *frame.project(w.lat, w.lon), w.label) for w in stops]
    result.markers = [Marker(o.number, *frame.project(lat, lon), o.rating, label(o), o.id) for o, lat, lon in placed]
    mid_lat = sum(p[0] for p in points) / len(points)
    per_unit = frame.metres_per_unit(mid_lat)
    metres = _nice_metres(per_unit * width / 4)
    result.scale_metres = metres
    result.scale_units = round(metres / per_unit, 2) if per_unit else 0
    template = current_app.config.get("MAP_TILE_URL")
    if template:
        result.tiles = tiles_for(frame, template)
        result.attribution = current_app.config.get("MAP_TILE_ATTRIBUTION", "")
    return result


#: Web Mercator half-circumference (metres): tile (0, 0) of every zoom starts at (-H, +H).
_HALF = math.pi * 6_378_137.0


def tiles_for(frame: Frame, template: str, max_tiles: int = 16) -> list[Tile]:
    """Slippy-map tiles (256 px) that cover the frame, at the finest zoom needing no more than
    `max_tiles` tiles, placed in drawing units."""
    x0, y1 = frame.min_x - frame.offset_x / frame.scale, frame.min_y - frame.offset_y / frame.scale
    x1, y0 = x0 + frame.width / frame.scale, y1 + frame.height / frame.scale
    for zoom in range(19, 0, -1):
        size_m = 2 * _HALF / 2 ** zoom
        cols = range(math.floor((x0 + _HALF) / size_m), math.floor((x1 + _HALF) / size_m) + 1)
        rows = range(math.floor((_HALF - y0) / size_m), math.floor((_HALF - y1) / size_m) + 1)
        if len(cols) * len(rows) <= max_tiles:
            break
    out = []
    for tx in cols:
        for ty in rows:
            left_m = tx * size_m - _HALF
            top_m = _HALF - ty * size_m
            px = frame.offset_x + (left_m - frame.min_x) * frame.scale
            py = frame.height - (frame.offset_y + (top_m - frame.min_y) * frame.scale)
            href = template.format(z=zoom, x=tx, y=ty)
            out.append(Tile(href, round(px, 2), round(py, 2), round(size_m * frame.scale, 2)))
    return out


def project_point(walk_map: WalkMap, lat: float, lon: float) -> tuple[float, float] | None:
    return walk_map.frame.project(lat, lon) if walk_map.frame else None


__all__ = ["WalkMap", "Marker", "Stop", "Tile", "build", "tiles_for", "mercator"]
