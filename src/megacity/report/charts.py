"""The report's charts as SVG, drawn server-side with matplotlib (no JavaScript, no CDN).

Every chart must survive a black-and-white office printer: only greys, values written on the
marks, series told apart by hatching, markers and line styles rather than by colour. Text is
drawn as paths in the CJK font from `fonts.find_cjk_font`, so the SVG looks the same anywhere.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib.resources import files
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

from megacity.report.data import CityFigures, MonthlyReport  # noqa: E402
from megacity.report.fonts import find_cjk_font  # noqa: E402

Gettext = Callable[[str], str]
#: Beijing lies around 40° N: one degree of longitude is cos(40°) ≈ 0.77 of one of latitude.
_LON_SCALE = 0.766
_GREYS = ("#111111", "#666666", "#999999")


def _style() -> None:
    plt.rcParams.update(
        {
            "font.family": [find_cjk_font().family],
            "font.size": 9,
            "axes.unicode_minus": False,  # the CJK font may lack U+2212
            "svg.fonttype": "path",
            "svg.hashsalt": "megacity-report",  # stable ids: the same month gives the same file
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


@lru_cache(maxsize=1)
def _districts_geometry() -> dict[str, list[list[tuple[float, float]]]]:
    """Outer rings of each district (code -> rings), from the geojson the web app serves."""
    path = files("megacity.web").joinpath("static/geo/beijing_districts.geojson")
    shapes: dict[str, list[list[tuple[float, float]]]] = {}
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        )
        code = str(feature["properties"]["adcode"])
        shapes[code] = [[(x * _LON_SCALE, y) for x, y in polygon[0]] for polygon in polygons]
    return shapes


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


#: Districts smaller than this (in projected square degrees) get their label outside, on a leader line.
_SMALL_AREA = 0.012
#: Where those labels go: a free corner south-east of the city (lon, lat), one under the other.
_CALLOUT = (117.30, 39.62)
_CALLOUT_STEP = 0.14


def _label_district(ax: Any, ring: list[tuple[float, float]], label: str, small_seen: list[str]) -> None:
    """Name and score at the district's centre; the small central districts' in a callout corner."""
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    x, y = sum(xs) / len(xs), sum(ys) / len(ys)
    box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85}
    if (max(xs) - min(xs)) * (max(ys) - min(ys)) >= _SMALL_AREA:
        ax.annotate(label, (x, y), ha="center", va="center", fontsize=7, bbox=box)
        return
    spot = (_CALLOUT[0] * _LON_SCALE, _CALLOUT[1] - _CALLOUT_STEP * len(small_seen))
    small_seen.append(label)
    ax.annotate(
        label.replace("\n", " "),
        (x, y),
        xytext=spot,
        ha="left",
        va="center",
        fontsize=7,
        bbox=box | {"ec": "black", "lw": 0.5},
        arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.6, "shrinkA": 0, "shrinkB": 0},
    )


def district_map(report: MonthlyReport, _: Gettext) -> str:
    """Choropleth of the districts' composite: darker is lower; name and score on each district."""
    _style()
    scores = {r["unit_code"]: r["composite"] for r in report.districts}
    shapes = _districts_geometry()
    known = [v for v in scores.values() if v is not None]
    norm = Normalize(vmin=min(known, default=0.0), vmax=max(known, default=100.0))
    cmap = plt.get_cmap("Greys_r")
    fig, ax = plt.subplots(figsize=(6.4, 6.0))
    patches, colours = [], []
    for code, rings in shapes.items():
        score = scores.get(code)
        for ring in rings:
            patches.append(Polygon(ring, closed=True))
            colours.append(cmap(0.35 + 0.6 * norm(score)) if score is not None else (1, 1, 1, 1))
    ax.add_collection(PatchCollection(patches, facecolors=colours, edgecolors="black", linewidths=0.6))
    names = {r["unit_code"]: r["unit_name"] or r["unit_code"] for r in report.districts}
    small: list[str] = []
    for code, rings in sorted(shapes.items()):
        score = scores.get(code)
        label = f"{names.get(code, '')}\n{score:.1f}" if score is not None else names.get(code, "")
        _label_district(ax, max(rings, key=len), label, small)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_axis_off()
    bar = fig.colorbar(
        plt.cm.ScalarMappable(norm=Normalize(0.35, 0.95), cmap=cmap), ax=ax, shrink=0.55, pad=0.02
    )
    bar.set_ticks([0.35, 0.95], labels=[f"{norm.vmin:.1f}", f"{norm.vmax:.1f}"])
    bar.set_label(_("Composite score (darker is lower)"))
    ax.set_title(_("Composite score by district, %(month)s") % {"month": report.month})
    return _svg(fig)


def district_bars(report: MonthlyReport, _: Gettext) -> str:
    """Districts' composites, best at the top, each bar labelled, the city figure as a line."""
    _style()
    rows = [r for r in report.districts if r["composite"] is not None][::-1]
    fig, ax = plt.subplots(figsize=(6.4, 0.28 * len(rows) + 1.2))
    values = [float(r["composite"]) for r in rows]
    bars = ax.barh(
        [r["unit_name"] or r["unit_code"] for r in rows], values, color="#888888", edgecolor="black"
    )
    ax.bar_label(bars, labels=[f"{v:.1f}" for v in values], padding=2, fontsize=7)
    if report.city.composite is not None:
        ax.axvline(report.city.composite, color="black", linestyle="--", linewidth=1)
        ax.text(
            report.city.composite,
            1.01,
            _("City %(v).1f") % {"v": report.city.composite},
            transform=ax.get_xaxis_transform(),
            ha="center",
            fontsize=8,
        )
    low = min(values, default=0.0)
    ax.set_xlim(max(0.0, low - 10), 100)
    ax.set_xlabel(_("Composite score"))
    ax.set_title(_("District ranking, %(month)s") % {"month": report.month}, pad=16)
    return _svg(fig)


def rate_trend(trend: Sequence[CityFigures], _: Gettext) -> str:
    """The three city rates over twelve months, told apart by marker and line style."""
    _style()
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    months = [f.month[2:] for f in trend]
    series = (
        (_("Response rate"), "response_rate", "o", "-"),
        (_("Resolution rate"), "resolution_rate", "s", "--"),
        (_("Satisfaction rate"), "satisfaction_rate", "^", ":"),
    )
    for (label, attr, marker, line), grey in zip(series, _GREYS, strict=True):
        values: list[Any] = [None if getattr(f, attr) is None else getattr(f, attr) * 100 for f in trend]
        ax.plot(months, values, marker=marker, linestyle=line, color=grey, label=label, linewidth=1.4)
    last = trend[-1]
    for _label, attr, _marker, _line in series:
        value = getattr(last, attr)
        if value is not None:
            ax.annotate(
                f"{value * 100:.1f}",
                (months[-1], value * 100),
                xytext=(4, 0),
                textcoords="offset points",
                fontsize=7,
                va="center",
            )
    ax.set_ylabel("%")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8, frameon=False, ncol=3)
    ax.set_title(_("City rates, last 12 months"))
    ax.grid(axis="y", color="#dddddd")
    return _svg(fig)


def category_bars(report: MonthlyReport, _: Gettext) -> str:
    """Top categories: this month solid dark, the month before hatched white, counts written."""
    _style()
    rows = report.categories[::-1]
    fig, ax = plt.subplots(figsize=(6.4, 0.42 * len(rows) + 1.2))
    positions = range(len(rows))
    now = ax.barh(
        [p + 0.2 for p in positions],
        [c.count for c in rows],
        height=0.4,
        color="#444444",
        edgecolor="black",
        label=report.month,
    )
    before = ax.barh(
        [p - 0.2 for p in positions],
        [c.previous for c in rows],
        height=0.4,
        color="white",
        edgecolor="black",
        hatch="///",
        label=report.previous_month,
    )
    ax.bar_label(now, padding=2, fontsize=7)
    ax.bar_label(before, padding=2, fontsize=7)
    ax.set_yticks(list(positions), [c.name for c in rows])
    ax.set_xlabel(_("Requests"))
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.set_title(
        _("Top categories, %(month)s against %(previous)s")
        % {"month": report.month, "previous": report.previous_month}
    )
    return _svg(fig)


def all_charts(report: MonthlyReport, _: Gettext) -> dict[str, str]:
    """Every chart of the report by name, as SVG text."""
    return {
        "map": district_map(report, _),
        "districts": district_bars(report, _),
        "trend": rate_trend(report.trend, _),
        "categories": category_bars(report, _),
    }
