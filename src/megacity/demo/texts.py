"""Texts of demo requests, written in the style of real citizen messages.

A demo is only convincing if the requests read like the real thing: a greeting, who is
writing, where, what is wrong, for how long, what it does to them and what they ask for
("您好，我是XX小区居民，小区门口的路灯坏了一个多月了，晚上出行很不方便，希望有关部门尽快维修。").
The phrases are templates in ``samples/phrases.csv``, reviewable and extensible without
code; a small cleaned excerpt of real messages (``samples/seed_messages.csv``, provenance in
``samples/README.md``) is mixed in verbatim, its anonymised place names ("A市", "A3区")
replaced by the profile's own. Everything ships inside the package: the demo runs offline.
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib import resources
from random import Random

from megacity.domain.catalog import Catalogue, Category

#: Share of requests that reuse a real seed message when one fits the theme and kind.
SEED_SHARE = 0.12
#: Theme of the generic phrases used for catalogue leaves that no theme covers.
OTHER = "_other"
#: Share of requests on catalogue leaves that no theme covers.
OTHER_SHARE = 0.08
_OTHER_KINDS = (("help", 3.0), ("complaint", 3.0), ("consult", 3.5), ("suggestion", 1.0), ("report", 0.5))
#: Slots a kind needs from its theme; the first one leads and fixes the variant.
KIND_SLOTS: Mapping[str, tuple[str, ...]] = {
    "consult": ("question", "qtitle"),
    "suggestion": ("suggest", "stitle"),
    "help": ("problem", "title", "impact"),
    "complaint": ("problem", "title", "impact"),
    "report": ("problem", "title", "impact"),
}
_DISTRICT_TOKEN = re.compile(r"[A-Z]\d+[市县区]")
_CITY_TOKEN = re.compile(r"西地省|[A-Z]市")


@dataclass(frozen=True)
class Theme:
    """A topic of requests: which catalogue leaves it lands in, when and how it is asked."""

    code: str
    label: str
    leaves: tuple[str, ...]  # catalogue leaf names, matched by name, never by code
    weight: float  # relative daily rate outside the seasonal windows
    season: tuple[tuple[int, int, float], ...]  # (from MMDD, to MMDD, factor); windows may wrap
    kinds: tuple[tuple[str, float], ...]
    place: str  # home | road | shop | none: what the address points at

    def season_factor(self, mmdd: int) -> float:
        """Multiplier of the daily rate on a day given as MMDD (e.g. 1115 for 15 November).

        >>> t = Theme("heating", "", (), 1.0, ((1115, 315, 30.0),), (), "home")
        >>> t.season_factor(1201), t.season_factor(610), t.season_factor(301)
        (30.0, 1.0, 30.0)
        """
        factor = 1.0
        for start, stop, f in self.season:
            inside = start <= mmdd <= stop if start <= stop else (mmdd >= start or mmdd <= stop)
            if inside:
                factor *= f
        return factor


@dataclass(frozen=True)
class Seed:
    """One real message of the excerpt, with the theme and kind this package assigned to it."""

    title: str
    text: str
    level1: str
    theme: str
    kind: str


@dataclass(frozen=True)
class Samples:
    """Everything read from ``samples/``."""

    themes: tuple[Theme, ...]
    phrases: Mapping[tuple[str, str], tuple[tuple[str, str], ...]]  # (theme, slot) -> (variant, template)
    seeds: Mapping[tuple[str, str], tuple[Seed, ...]]  # (theme, kind) -> seeds
    surnames: tuple[str, ...]
    given_names: tuple[str, ...]
    district_points: Mapping[str, tuple[float, float, float]]  # code -> lon, lat, radius km
    _slots: dict[tuple[str, str, str], tuple[str, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def slot(self, theme: str, slot: str, variant: str = "") -> tuple[str, ...]:
        """Templates of a slot for a theme (of one variant if given), else the generic ones.

        Rows of one variant belong together — a title, the problem it names and its
        impact — so that a text does not complain about the lift under a title about fees;
        rows without a variant go with any.
        """
        key = (theme, slot, variant)
        if key not in self._slots:  # asked for on every request: worth remembering
            rows = self.phrases.get((theme, slot)) or self.phrases.get(("*", slot), ())
            fitting = tuple(text for v, text in rows if not variant or v in ("", variant))
            self._slots[key] = fitting or tuple(text for _, text in rows)
        return self._slots[key]


@dataclass(frozen=True)
class Place:
    """Where a request is about, as the template variables name it."""

    city: str
    district: str
    street: str
    short: str  # street name without 街道/镇/乡/地区, used to invent community and road names
    community: str
    building: str
    road: str


def _rows(name: str) -> Iterator[dict[str, str]]:
    path = resources.files("megacity.demo").joinpath("samples", name)
    with path.open(encoding="utf-8") as fh:
        yield from csv.DictReader(line for line in fh if not line.startswith("#"))


def _pairs(spec: str) -> tuple[tuple[str, float], ...]:
    """Parse ``help=5;complaint=4``."""
    return tuple((k.strip(), float(v)) for k, _, v in (p.partition("=") for p in spec.split(";") if p))


def _season(spec: str) -> tuple[tuple[int, int, float], ...]:
    """Parse ``MM-DD..MM-DD*factor;...``."""
    out = []
    for part in filter(None, spec.split(";")):
        window, _, factor = part.partition("*")
        start, _, stop = window.partition("..")
        out.append((int(start.replace("-", "")), int(stop.replace("-", "")), float(factor)))
    return tuple(out)


def _themes() -> tuple[Theme, ...]:
    return tuple(
        Theme(
            code=r["theme"],
            label=r["label"],
            leaves=tuple(r["leaves"].split("|")),
            weight=float(r["weight"]),
            season=_season(r["season"]),
            kinds=_pairs(r["kinds"]),
            place=r["place"],
        )
        for r in _rows("themes.csv")
    )


@cache
def load_samples() -> Samples:
    """Read the sample files once per process (they are small and never change at run time)."""
    phrases: defaultdict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for r in _rows("phrases.csv"):
        phrases[(r["theme"], r["slot"])].append((r["variant"], r["text"]))
    seeds: defaultdict[tuple[str, str], list[Seed]] = defaultdict(list)
    for r in _rows("seed_messages.csv"):
        seed = Seed(r["留言主题"], r["留言详情"], r["一级分类"], r["theme"], r["kind"])
        seeds[(seed.theme, seed.kind)].append(seed)
    names: defaultdict[str, list[str]] = defaultdict(list)
    for r in _rows("names.csv"):
        names[r["kind"]].append(r["text"])
    points = {
        r["code"]: (float(r["lon"]), float(r["lat"]), float(r["radius_km"]))
        for r in _rows("district_points.csv")
    }
    return Samples(
        themes=_themes(),
        phrases={k: tuple(v) for k, v in phrases.items()},
        seeds={k: tuple(v) for k, v in seeds.items()},
        surnames=tuple(names["surname"]),
        given_names=tuple(names["given"]),
        district_points=points,
    )


def match_themes(catalogue: Catalogue, samples: Samples) -> list[tuple[Theme, tuple[Category, ...]]]:
    """Themes with the catalogue leaves they land in, plus one generic theme for the rest.

    Leaves are found by name (exact, else contained), never by code, so the themes work with
    any profile whose catalogue uses the usual names; a theme that finds nothing is dropped.
    """
    leaves = sorted(catalogue.leaves(), key=lambda c: c.code)
    if not leaves:
        raise ValueError("the profile's catalogue has no categories")
    out: list[tuple[Theme, tuple[Category, ...]]] = []
    used: set[str] = set()
    for theme in samples.themes:
        found = [c for c in leaves if c.name in theme.leaves]
        found = found or [c for c in leaves if any(name in c.name for name in theme.leaves)]
        if found:
            out.append((theme, tuple(found)))
            used.update(c.code for c in found)
    rest = tuple(c for c in leaves if c.code not in used)
    if rest or not out:
        year = [date(2023, 1, 1) + timedelta(days=i) for i in range(365)]
        rate = sum(t.weight * t.season_factor(d.month * 100 + d.day) for t, _ in out for d in year) / 365
        weight = rate * OTHER_SHARE / (1 - OTHER_SHARE) if out else 1.0
        out.append((Theme(OTHER, "其他", (), weight, (), _OTHER_KINDS, "none"), rest or tuple(leaves)))
    return out


def short_name(street: str) -> str:
    """A street's name without its administrative suffix, as locals say it.

    >>> short_name("望京街道"), short_name("长哨营满族乡"), short_name("南磨房地区")
    ('望京', '长哨营', '南磨房')
    """
    stripped = re.sub(r"(街道|地区|满族乡|回族乡|民族乡|镇|乡)$", "", street)
    return stripped or street


def deanonymise(text: str, place: Place) -> str:
    """Put the profile's names where a real message has anonymised ones ("A市", "A3区").

    >>> p = Place("北京市", "朝阳区", "望京街道", "望京", "望京西里", "3号楼", "望京西路")
    >>> deanonymise("A市A3区桐梓坡西路", p)
    '北京市朝阳区桐梓坡西路'
    """
    return _CITY_TOKEN.sub(place.city, _DISTRICT_TOKEN.sub(place.district, text))


def fill(template: str, place: Place, leaf: str) -> str:
    """Fill a template's variables.

    They are {city} {district} {street} {short} {community} {building} {road} and {leaf}.
    """
    return template.format_map({**vars(place), "leaf": leaf})


@dataclass(frozen=True)
class _Writer:
    """Picks and fills the phrases of one request, keeping to one variant of its theme."""

    rng: Random
    s: Samples
    theme: str
    variant: str
    place: Place
    leaf: str

    def own(self, slot: str) -> str:
        """A phrase of the theme (of the chosen variant), else a generic one."""
        return fill(self.rng.choice(self.s.slot(self.theme, slot, self.variant)), self.place, self.leaf)

    def generic(self, slot: str) -> str:
        return fill(self.rng.choice(self.s.slot("*", slot)), self.place, self.leaf)


def _title(w: _Writer, kind: str, *, repeat: bool) -> str:
    """Titles as people write them: often the district first, 举报/投诉 for reports and complaints."""
    title = w.own({"consult": "qtitle", "suggestion": "stitle"}.get(kind, "title"))
    district, rng = w.place.district, w.rng
    if kind not in ("consult", "suggestion") and not title.startswith(district) and rng.random() < 0.35:
        title = district + title
    if repeat:
        return "再次反映" + title
    if kind == "report" and rng.random() < 0.7:
        title = "举报" + title
    elif kind == "complaint" and rng.random() < 0.35:
        title = "投诉" + title
    return title


def _body(w: _Writer, kind: str, lead: str, *, home: bool, repeat: bool) -> str:
    """Greeting, who is writing, [follow-up], the matter, [urging], request, [thanks]."""
    rng = w.rng
    parts = [w.generic("greeting") if rng.random() < 0.7 else ""]
    community, here = w.place.community, w.place.community + w.place.building
    if rng.random() < (0.6 if kind not in ("consult", "suggestion") else 0.35) and not (
        home and here in lead
    ):
        parts.append(w.generic("identity_home" if home else "identity_any"))
        if home:  # having said where they live, people say "the estate", not its name again
            lead = lead.replace(community, "小区", 1)
    if repeat:
        parts.append(w.generic("repeat"))
    if kind == "consult":
        parts.append(lead + "？")
    elif kind == "suggestion":
        parts.append(lead + "。")
    else:
        parts.append(f"{lead}，{w.generic('duration')}，{w.own('impact')}。")
        if kind == "complaint" and rng.random() < 0.6:
            parts.append(w.generic("urge"))
        parts.append((w.own("request") if rng.random() < 0.6 else w.generic("request")) + "。")
    if rng.random() < 0.5:
        parts.append(w.generic("closing"))
    return "".join(parts)


def compose(
    rng: Random,
    s: Samples,
    theme: str,
    kind: str,
    place: Place,
    leaf: str,
    *,
    home: bool = True,
    repeat: bool = False,
) -> tuple[str, str]:
    """Title and text of one request of `kind` about `theme` at `place`.

    `leaf` names the catalogue leaf for the generic phrases; a theme without phrases for the
    kind falls back to them, so every kind of every leaf gets a text. `home` says the request
    is about where the writer lives (then they say so); `repeat` makes it a follow-up.
    """
    if not all(s.phrases.get((theme, slot)) for slot in KIND_SLOTS[kind]):
        theme = OTHER
    seeds = s.seeds.get((theme, kind), ())
    if seeds and not repeat and rng.random() < SEED_SHARE:
        seed = rng.choice(seeds)
        return deanonymise(seed.title, place), deanonymise(seed.text, place)
    variant, lead = rng.choice(s.phrases[(theme, KIND_SLOTS[kind][0])])
    w = _Writer(rng, s, theme, variant, place, leaf)
    title = _title(w, kind, repeat=repeat)
    return title, _body(w, kind, fill(lead, place, leaf), home=home, repeat=repeat)


def leaf_phrase(name: str, parent: str | None) -> str:
    """How a message names a leaf: its parent's name when the leaf is just "其他".

    >>> leaf_phrase("其他", "城乡规划"), leaf_phrase("住房公积金", "住房保障与房地产")
    ('城乡规划', '住房公积金')
    """
    if name.startswith("其他") and parent:
        return parent
    return name


def address(place: Place, where: str) -> str:
    """The address line: the road for street matters, else the estate (and the building, at home)."""
    if where in ("road", "shop"):
        return f"{place.district}{place.street}{place.road}"
    return f"{place.district}{place.street}{place.community}{place.building if where == 'home' else ''}"


def point_near(centre: tuple[float, float, float] | None, rng: Random) -> tuple[float | None, float | None]:
    """A random point within `radius` km of a district seat (lon, lat, radius), none if unknown.

    The seats are GCJ-02 as in the source; a demo point is only "somewhere in the district".
    """
    if centre is None:
        return None, None
    lon, lat, radius = centre
    r, angle = radius * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    lat_out = lat + r * math.sin(angle) / 110.57
    lon_out = lon + r * math.cos(angle) / (111.32 * math.cos(math.radians(lat)))
    return round(lon_out, 6), round(lat_out, 6)


def fake_name(rng: Random, s: Samples) -> str:
    """A fake complainant name: a surname and a given name drawn independently."""
    return rng.choice(s.surnames) + rng.choice(s.given_names)


#: Prefixes of the fake mobile numbers (see docs/demo.md): 1P0-0000-NNNN.
PHONE_PREFIXES = ("130", "150", "180", "190")
#: How many distinct fake numbers exist.
PHONE_CAPACITY = len(PHONE_PREFIXES) * 10_000


def fake_phone(index: int) -> str:
    """The fake mobile number of complainant `index`; distinct indexes give distinct numbers.

    >>> fake_phone(0), fake_phone(1), fake_phone(10_000)
    ('13000000000', '13000007919', '15000000000')
    """
    if not 0 <= index < PHONE_CAPACITY:
        raise ValueError(f"complainant index {index} outside the fake number range")
    block, rest = divmod(index, 10_000)
    return f"{PHONE_PREFIXES[block]}0000{rest * 7919 % 10_000:04d}"
