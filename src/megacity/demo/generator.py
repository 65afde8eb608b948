"""`megacity demo`: a believable, reproducible history of requests for any city profile.

A demo must show what the platform does with a real year of requests — volumes by district,
seasonal peaks, slow units, unhappy callbacks — without real personal data. So the history
is generated, but shaped like the real thing: district volumes follow the census population
(streets their estimated population) and a daily and weekly rhythm; topics
(`samples/themes.csv`) find their catalogue leaves *by name* and carry their season (heating
mid-November to mid-March, storms and power cuts in summer); a stable pool of pseudonymous
complainants, some calling again and again; texts in the style of real messages (`texts`);
legal lifecycle steps at plausible times (`handling`). One seeded `random.Random` and a fixed
default end date make the same command give the same demo on every machine.
"""

from __future__ import annotations

import bisect
from calendar import monthrange
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

from megacity.demo.handling import CaseFacts, DemoStep, Handling, plan_steps
from megacity.demo.texts import (
    PHONE_CAPACITY,
    Place,
    Samples,
    Theme,
    address,
    compose,
    fake_name,
    fake_phone,
    leaf_phrase,
    load_samples,
    match_themes,
    point_near,
    short_name,
)
from megacity.domain.calendar import WorkingCalendar
from megacity.domain.catalog import Category
from megacity.domain.enums import Channel, Kind, Urgency
from megacity.domain.profile import Profile

#: The default last day of the demo period: fixed, so that a demo is reproducible.
DEFAULT_END = date(2025, 12, 31)
REPEAT_SHARE = 0.04  # follow-ups of an earlier request by the same complainant
REPEAT_WITHIN = (10, 45)  # days after the earlier request
DISTRICT_GOVERNMENT_SHARE = 0.05  # dispatches that land at the district government
HOME_SHARE = 0.8  # requests about the complainant's own street
#: Relative call volume by hour of day (a hotline: quiet at night, peaks mid-morning).
HOURLY = (0.6, 0.35, 0.25, 0.2, 0.2, 0.3, 0.8, 2.0, 4.5, 6.5, 7.0, 6.5,
          5.0, 5.0, 6.0, 6.2, 5.8, 5.0, 4.0, 3.8, 3.5, 3.0, 2.2, 1.2)  # fmt: skip
WEEKDAY = (1.0, 1.0, 1.0, 1.0, 0.97, 0.78, 0.74)  # Monday first
CHANNELS = (Channel.PHONE, Channel.APP, Channel.WECHAT, Channel.WEB, Channel.EMAIL)
CHANNEL_WEIGHTS = (78.0, 9.0, 7.0, 5.0, 1.0)


@dataclass(frozen=True)
class DemoCase:
    """One generated request: its intake, its fake complainant and what happened to it."""

    intake: dict[str, Any]  # canonical intake fields
    name: str  # fake complainant name (personal data: the caller stores it encrypted)
    phone: str  # fake mobile number, see docs/demo.md
    steps: tuple[DemoStep, ...]


@dataclass(frozen=True)
class _Street:
    code: str
    name: str
    short: str


@dataclass(frozen=True)
class _District:
    code: str
    name: str
    streets: tuple[_Street, ...]
    street_cum: tuple[float, ...]  # cumulative population weights of the streets
    government: str | None
    pool_offset: int  # complainants of this district are pool_offset .. pool_offset + pool_size - 1
    pool_size: int


@dataclass(frozen=True)
class _Topic:
    theme: Theme
    leaves: tuple[Category, ...]
    kind_cum: tuple[float, ...]
    kinds: tuple[Kind, ...]


@dataclass(frozen=True)
class _Complainant:
    index: int
    name: str
    phone: str
    street: int  # index into the district's streets, -1 when it has none
    community: str
    building: str


@dataclass(frozen=True)
class _Origin:
    """What a later follow-up of a request copies: who, where and about what."""

    district: _District
    who: _Complainant
    street: int
    place: Place
    topic: int
    leaf: Category


@dataclass
class _World:
    profile: Profile
    samples: Samples
    seed: int
    tz: ZoneInfo
    districts: tuple[_District, ...]
    district_cum: tuple[float, ...]
    topics: tuple[_Topic, ...]
    handling: Handling
    people: dict[int, _Complainant] = field(default_factory=dict)
    times: list[datetime] = field(default_factory=list)
    origins: list[_Origin] = field(default_factory=list)
    homes: dict[tuple[str, str], tuple[float | None, float | None]] = field(default_factory=dict)
    prune_at: int = 4096


def generate(
    profile: Profile, *, count: int, months: int = 12, end: date | None = None, seed: int = 12345
) -> Iterator[DemoCase]:
    """Generate `count` requests received over the `months` months ending on `end`.

    Deterministic for a given seed. Cases come in order of receipt with ids ``demo-000001`` …;
    steps never go past the end of `end` (in the profile's timezone), so requests received
    in the last days are still open at various stages.
    """
    if count < 0 or months < 1:
        raise ValueError("count must be >= 0 and months >= 1")
    world = _build(profile, seed, count, end or DEFAULT_END)
    start = _period_start(end or DEFAULT_END, months)
    return _cases(world, Random(seed), count, start, end or DEFAULT_END)


def _cases(world: _World, rng: Random, count: int, start: date, end: date) -> Iterator[DemoCase]:
    width = max(6, len(str(count)))
    for number, (received, topic) in enumerate(_received(world, rng, count, start, end), 1):
        yield _case(world, rng, f"demo-{number:0{width}d}", received, topic)


def _period_start(end: date, months: int) -> date:
    """The day after the same day `months` months before `end` (a year to 31 Dec starts 1 Jan)."""
    year, month = divmod(end.year * 12 + end.month - 1 - months, 12)
    day = min(end.day, monthrange(year, month + 1)[1])
    return date(year, month + 1, day) + timedelta(days=1)


def _cumulative(weights: list[float]) -> tuple[float, ...]:
    return tuple(accumulate(max(w, 0.0) for w in weights))


def _weighted(rng: Random, cum: tuple[float, ...]) -> int:
    return min(bisect.bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1)


def _build(profile: Profile, seed: int, count: int, end: date) -> _World:
    """Everything the cases share, computed once."""
    if not profile.org.districts:
        raise ValueError("the profile has no districts")
    tz, samples = ZoneInfo(profile.timezone), load_samples()
    until = datetime.combine(end, time(23, 59, 59), tz)
    handling = Handling(tz, profile.limits, WorkingCalendar(overrides=profile.calendar_overrides), until)
    districts, cum = _districts(profile, count, end)
    topics = tuple(_topic(t, leaves) for t, leaves in match_themes(profile.catalogue, samples))
    return _World(profile, samples, seed, tz, districts, cum, topics, handling)


def _districts(profile: Profile, count: int, end: date) -> tuple[tuple[_District, ...], tuple[float, ...]]:
    """Districts weighted by census population, each with a share of the complainant pool."""
    org = profile.org
    codes = sorted(org.districts)
    weights = [float(org.districts[c].population or 0) for c in codes]
    if sum(weights) <= 0:
        weights = [1.0] * len(codes)
    pool = max(20, min(int(count * 0.6), PHONE_CAPACITY - 2 * len(codes)))
    total, offset, out = sum(weights), 0, []
    for code, weight in zip(codes, weights, strict=True):
        units = sorted(org.streets_of(code, end) or org.streets_of(code), key=lambda u: u.code)
        street_w = [float(u.population or 0) for u in units]
        if units and sum(street_w) <= 0:
            street_w = [1.0] * len(units)
        size = max(1, int(pool * weight / total))
        gov = org.district_government(code)
        streets = tuple(_Street(u.code, u.name, short_name(u.name)) for u in units)
        name, cum = org.districts[code].name, _cumulative(street_w)
        out.append(_District(code, name, streets, cum, gov.code if gov else None, offset, size))
        offset += size
    return tuple(out), _cumulative(weights)


def _topic(theme: Theme, leaves: tuple[Category, ...]) -> _Topic:
    kinds = tuple(Kind(k) for k, _ in theme.kinds)
    return _Topic(theme, leaves, _cumulative([w for _, w in theme.kinds]), kinds)


def _topic_weights(world: _World, day: date) -> list[float]:
    mmdd = day.month * 100 + day.day
    return [t.theme.weight * t.theme.season_factor(mmdd) for t in world.topics]


def _received(
    world: _World, rng: Random, count: int, start: date, end: date
) -> Iterator[tuple[datetime, int]]:
    """Receipt instants and topics in order of receipt.

    Days are drawn first (by weekday and by the seasons of all topics), then each day's topics
    and clock times; only one day is held in memory, so millions of requests stream.
    """
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    totals = [WEEKDAY[day.weekday()] * sum(_topic_weights(world, day)) for day in days]
    cum, per_day, left = _cumulative(totals), Counter[int](), count
    while left:
        batch = min(left, 100_000)
        per_day.update(rng.choices(range(len(days)), cum_weights=cum, k=batch))
        left -= batch
    for index, day in enumerate(days):
        n = per_day.get(index, 0)
        if not n:
            continue
        topics = rng.choices(range(len(world.topics)), weights=_topic_weights(world, day), k=n)
        hours = rng.choices(range(24), weights=HOURLY, k=n)
        clocks = [time(h, rng.randrange(60), rng.randrange(60)) for h in hours]
        yield from sorted(
            (datetime.combine(day, c, world.tz), t) for c, t in zip(clocks, topics, strict=True)
        )


def _remember(world: _World, received: datetime, origin: _Origin) -> None:
    """Keep requests a follow-up may refer to; forget those too old to be followed up."""
    world.times.append(received)
    world.origins.append(origin)
    if len(world.times) >= world.prune_at:
        cut = bisect.bisect_left(world.times, received - timedelta(days=REPEAT_WITHIN[1]))
        del world.times[:cut], world.origins[:cut]
        world.prune_at = max(4096, 2 * len(world.times))


def _complainant(world: _World, district: _District, local: int) -> _Complainant:
    """A pseudonymous complainant, the same for the same pool index on every call."""
    index = district.pool_offset + local
    known = world.people.get(index)
    if known is not None:
        return known
    r, s = Random(world.seed * 1_000_003 + index), world.samples
    street = _weighted(r, district.street_cum) if district.streets else -1
    short = district.streets[street].short if street >= 0 else short_name(district.name)
    community = r.choice(s.slot("*", "community")).format(short=short)
    building = f"{int(r.random() * 24) + 1}号楼"
    person = _Complainant(index, fake_name(r, s), fake_phone(index), street, community, building)
    world.people[index] = person
    return person


def _place(world: _World, rng: Random, district: _District, who: _Complainant) -> tuple[int, Place]:
    """Where the request is about: mostly the complainant's own street and community."""
    s = world.samples
    street = who.street
    if district.streets and rng.random() >= HOME_SHARE:
        street = _weighted(rng, district.street_cum)
    info = district.streets[street] if street >= 0 else _Street("", "", short_name(district.name))
    community = who.community if street == who.street else rng.choice(s.slot("*", "community"))
    road = rng.choice(s.slot("*", "road")).format(short=info.short)
    place = Place(
        city=world.profile.org.city_name,
        district=district.name,
        street=info.name,
        short=info.short,
        community=community.format(short=info.short),
        building=who.building if street == who.street else f"{int(rng.random() * 24) + 1}号楼",
        road=road,
    )
    return street, place


def _follow_up_of(world: _World, rng: Random, received: datetime) -> _Origin | None:
    """An earlier request, 10 to 45 days before, that this one may follow up."""
    if rng.random() >= REPEAT_SHARE:
        return None
    low = bisect.bisect_left(world.times, received - timedelta(days=REPEAT_WITHIN[1]))
    high = bisect.bisect_right(world.times, received - timedelta(days=REPEAT_WITHIN[0]))
    return world.origins[rng.randrange(low, high)] if high > low else None


def _draw(world: _World, rng: Random, received: datetime, topic_index: int) -> tuple[_Origin, Kind, bool]:
    """Who calls, about where and what: a follow-up of an earlier request, or a fresh draw."""
    origin = _follow_up_of(world, rng, received)
    if origin is not None:
        return origin, Kind.COMPLAINT if rng.random() < 0.7 else Kind.HELP, True
    district = world.districts[_weighted(rng, world.district_cum)]
    who = _complainant(world, district, int(district.pool_size * rng.random() ** 1.8))
    street, place = _place(world, rng, district, who)
    topic = world.topics[topic_index]
    leaf = rng.choice(topic.leaves)
    kind = topic.kinds[_weighted(rng, topic.kind_cum)]
    return _Origin(district, who, street, place, topic_index, leaf), kind, False


def _case(world: _World, rng: Random, case_id: str, received: datetime, topic_index: int) -> DemoCase:
    """One request: draw it, write it, place it, then plan its handling."""
    o, kind, repeat = _draw(world, rng, received, topic_index)
    theme, leaf, district = world.topics[o.topic].theme, o.leaf, o.district
    street_code = district.streets[o.street].code if o.street >= 0 else None
    unit = _unit(world, rng, leaf, district, street_code)
    parent = world.profile.catalogue.get(leaf.parent_code) if leaf.parent_code else None
    phrase = leaf_phrase(leaf.name, parent.name if parent else None)
    title, text = compose(
        rng, world.samples, theme.code, kind.value, o.place, phrase, home=theme.place == "home", repeat=repeat
    )
    address, lon, lat = _where(world, rng, o, theme.place)
    channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
    intake: dict[str, Any] = {
        "id": case_id,
        "received_at": received,
        "channel": channel.value,
        "kind": kind.value,
        "urgency": Urgency(leaf.urgency).value,
        "title": title,
        "text": text,
        "address": address,
        "lon": lon,
        "lat": lat,
        "district_code": district.code,
        "street_code": street_code,
        "category_code": leaf.code,
    }
    alts = _alternatives(world, rng, district, leaf, unit, street_code)
    facts = CaseFacts(
        case_id, received, kind, leaf.urgency, unit, leaf.code, district.code, street_code, alts, repeat
    )
    if kind is not Kind.CONSULT and not repeat:
        _remember(world, received, o)
    return DemoCase(intake, o.who.name, o.who.phone, plan_steps(rng, world.handling, facts))


def _unit(world: _World, rng: Random, leaf: Category, district: _District, street: str | None) -> str:
    """Who gets the dispatch: the street for territorial leaves, else the leaf's unit."""
    if district.government and rng.random() < DISTRICT_GOVERNMENT_SHARE:
        return district.government
    org = world.profile.org
    if not leaf.is_territorial and org.unit(leaf.responsible) is not None:
        return leaf.responsible
    fallback = street or district.government or next(iter(sorted(org.units)), None)
    if fallback is None:
        raise ValueError("the profile has no handling units")
    return fallback


def _alternatives(
    world: _World, rng: Random, district: _District, leaf: Category, unit: str, street: str | None
) -> tuple[str, ...]:
    """Where a disputed dispatch may go instead: a neighbouring street, the street, the leaf's unit."""
    options = []
    if district.streets:
        options.append(rng.choice(district.streets).code)
    if street:
        options.append(street)
    if not leaf.is_territorial and world.profile.org.unit(leaf.responsible) is not None:
        options.append(leaf.responsible)
    return tuple(dict.fromkeys(o for o in options if o != unit))


def _where(world: _World, rng: Random, o: _Origin, where: str) -> tuple[str, float | None, float | None]:
    """Address text and a point: a home keeps its point, a road or shop gets a fresh one."""
    centre = world.samples.district_points.get(o.district.code)
    if where in ("road", "shop"):
        return address(o.place, where), *point_near(centre, rng)
    key = (o.place.street, o.place.community)
    if key not in world.homes:  # a community stays where it is, whoever calls about it
        world.homes[key] = point_near(centre, Random(f"{world.seed}:{o.place.street}:{o.place.community}"))
    return address(o.place, where), *world.homes[key]
