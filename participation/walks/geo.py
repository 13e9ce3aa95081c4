"""Geometry for walks, without any map service: projecting points onto the app's own SVG map
(Web Mercator, so that optional tiles line up), going back from a tap to a position, and
coarsening public coordinates to about 100 m."""
from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS = 6_378_137.0
#: Public positions are snapped to the centre of a square of this side (metres).
COARSE_METRES = 100


def mercator(lat: float, lon: float) -> tuple[float, float]:
    """Web Mercator metres (x east, y north)."""
    lat = max(min(lat, 85.0511), -85.0511)
    x = math.radians(lon) * EARTH_RADIUS
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * EARTH_RADIUS
    return x, y


def inverse_mercator(x: float, y: float) -> tuple[float, float]:
    lon = math.degrees(x / EARTH_RADIUS)
    lat = math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS)) - math.pi / 2)
    return lat, lon


def coarsen(lat: float | None, lon: float | None, metres: int = COARSE_METRES) -> tuple[float, float] | tuple[None, None]:
    """The centre of the ~`metres` square cell holding the point (ground metres at that
    latitude), rounded to 5 decimals: close enough to show the street, never the doorstep."""
    if lat is None or lon is None:
        return None, None
    lat_step = metres / 111_320.0
    clat = (math.floor(lat / lat_step) + 0.5) * lat_step
    # The cell's width comes from the cell's latitude, never the point's: else the published
    # longitude would give the exact latitude back.
    lon_step = metres / (111_320.0 * max(math.cos(math.radians(clat)), 0.01))
    clon = (math.floor(lon / lon_step) + 0.5) * lon_step
    return round(clat, 5), round(clon, 5)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Frame:
    """A rectangle of Web Mercator metres drawn into a `width` × `height` box (SVG user units
    or PDF millimetres), north up, same scale on both axes, with a margin."""

    min_x: float
    min_y: float
    scale: float
    width: float
    height: float
    offset_x: float
    offset_y: float

    @classmethod
    def around(cls, points: list[tuple[float, float]], width: float, height: float, margin: float = 0.08,
               min_span_m: float = 300.0) -> Frame | None:
        """The frame that holds every (lat, lon) point; None without any point."""
        if not points:
            return None
        xs, ys = zip(*(mercator(lat, lon) for lat, lon in points))
        # Mercator metres are stretched by 1/cos(lat): the minimum span is in ground metres.
        stretch = 1 / max(math.cos(math.radians(sum(p[0] for p in points) / len(points))), 0.01)
        span_x = max(max(xs) - min(xs), min_span_m * stretch)
        span_y = max(max(ys) - min(ys), min_span_m * stretch)
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        inner_w, inner_h = width * (1 - 2 * margin), height * (1 - 2 * margin)
        scale = min(inner_w / span_x, inner_h / span_y)
        min_x, min_y = cx - span_x / 2, cy - span_y / 2
        offset_x = (width - span_x * scale) / 2
        offset_y = (height - span_y * scale) / 2
        return cls(min_x, min_y, scale, width, height, offset_x, offset_y)

    def project(self, lat: float, lon: float) -> tuple[float, float]:
        x, y = mercator(lat, lon)
        px = self.offset_x + (x - self.min_x) * self.scale
        py = self.height - (self.offset_y + (y - self.min_y) * self.scale)
        return round(px, 2), round(py, 2)

    def unproject(self, px: float, py: float) -> tuple[float, float]:
        x = self.min_x + (px - self.offset_x) / self.scale
        y = self.min_y + (self.height - py - self.offset_y) / self.scale
        return inverse_mercator(x, y)

    def metres_per_unit(self, lat: float) -> float:
        """Ground metres per drawing unit at that latitude (for the scale bar)."""
        return math.cos(math.radians(lat)) / self.scale
