"""Coordinates: WGS-84 → GCJ-02, and lon/lat → district by the district boundaries.

Chinese maps (and the district boundaries shipped in ``web/static/geo``, from the public
DataV GeoAtlas, see docs/dispatch.md) use GCJ-02, an obfuscated datum that is offset from the
WGS-84 a phone's GPS reports by several hundred metres. A point must be in the same datum as
the polygons before it is tested, or requests near a boundary land in the neighbour district.
The conversion is the standard published formula (as in googollee/eviltransform, Krasovsky
ellipsoid); outside China's bounding box GCJ-02 equals WGS-84.

Point-in-district is even-odd ray casting, vectorised over a ring's edges with numpy (a
district has a few thousand edges; one point takes tens of microseconds).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["DISTRICTS_GEOJSON", "DistrictIndex", "beijing_districts", "out_of_china", "wgs84_to_gcj02"]

DISTRICTS_GEOJSON = Path(__file__).resolve().parents[1] / "web/static/geo/beijing_districts.geojson"
_A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid, which GCJ-02 is defined on
_EE = 0.00669342162296594323  # its first eccentricity squared


def out_of_china(lon: float, lat: float) -> bool:
    """Whether the point is outside the rough box where GCJ-02 applies (no offset there)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift(x: float, y: float) -> tuple[float, float]:
    """The formula's raw (latitude, longitude) offsets for x = lon − 105, y = lat − 35."""
    xy, root, xp, yp = x * y, math.sqrt(abs(x)), x * math.pi, y * math.pi
    common = 20.0 * math.sin(6.0 * xp) + 20.0 * math.sin(2.0 * xp)
    dlat = common + 20.0 * math.sin(yp) + 40.0 * math.sin(yp / 3.0)
    dlon = common + 20.0 * math.sin(xp) + 40.0 * math.sin(xp / 3.0)
    dlat += 160.0 * math.sin(yp / 12.0) + 320.0 * math.sin(yp / 30.0)
    dlon += 150.0 * math.sin(xp / 12.0) + 300.0 * math.sin(xp / 30.0)
    dlat = dlat * 2.0 / 3.0 - 100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * xy + 0.2 * root
    dlon = dlon * 2.0 / 3.0 + 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * xy + 0.1 * root
    return dlat, dlon


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """(lon, lat) in WGS-84 → (lon, lat) in GCJ-02; unchanged outside China.

    >>> [round(v, 6) for v in wgs84_to_gcj02(116.377817, 39.911954)]
    [116.384047, 39.913345]
    """
    if out_of_china(lon, lat):
        return lon, lat
    dlat, dlon = _shift(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    root = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * root) * math.pi)
    dlon = (dlon * 180.0) / (_A / root * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


@dataclass(frozen=True)
class _Area:
    code: str
    name: str
    box: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    rings: tuple[npt.NDArray[np.float64], ...]  # each (n, 2): closed ring of lon, lat


def _inside(rings: tuple[npt.NDArray[np.float64], ...], lon: float, lat: float) -> bool:
    """Even-odd rule over all rings (outer rings and holes alike)."""
    crossings = 0
    for ring in rings:
        x1, y1 = ring[:-1, 0], ring[:-1, 1]
        x2, y2 = ring[1:, 0], ring[1:, 1]
        straddles = (y1 > lat) != (y2 > lat)
        with np.errstate(divide="ignore", invalid="ignore"):
            cross_x = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
        crossings += int(np.count_nonzero(straddles & (lon < cross_x)))
    return crossings % 2 == 1


class DistrictIndex:
    """The districts of a GeoJSON file (GCJ-02 polygons with ``adcode`` and ``name``)."""

    def __init__(self, areas: list[_Area]) -> None:
        self._areas = areas

    @classmethod
    def load(cls, path: Path = DISTRICTS_GEOJSON) -> DistrictIndex:
        """Read a FeatureCollection of (Multi)Polygons; the code is ``adcode`` (or ``code``)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        areas = []
        for feature in data["features"]:
            props, geometry = feature["properties"], feature["geometry"]
            polygons = geometry["coordinates"]
            if geometry["type"] == "Polygon":
                polygons = [polygons]
            rings = tuple(np.asarray(ring, dtype=np.float64)[:, :2] for poly in polygons for ring in poly)
            stacked = np.vstack(rings)
            low, high = stacked.min(axis=0), stacked.max(axis=0)
            box = (float(low[0]), float(low[1]), float(high[0]), float(high[1]))
            code = str(props.get("adcode") or props.get("code"))
            areas.append(_Area(code, str(props.get("name", "")), box, rings))
        return cls(areas)

    def district_at(self, lon: float, lat: float, *, wgs84: bool = True) -> str | None:
        """The code of the district containing the point, or None outside all of them.

        With ``wgs84`` (the default: what GPS and most apps report) the point is converted to
        GCJ-02 first; pass ``wgs84=False`` for points already in GCJ-02 (e.g. from a Chinese map).
        """
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return None
        if wgs84:
            lon, lat = wgs84_to_gcj02(lon, lat)
        for area in self._areas:
            x0, y0, x1, y1 = area.box
            if x0 <= lon <= x1 and y0 <= lat <= y1 and _inside(area.rings, lon, lat):
                return area.code
        return None


@cache
def beijing_districts() -> DistrictIndex:
    """The shipped Beijing district boundaries, loaded once per process."""
    return DistrictIndex.load()
