"""Parsers for the parts of a profile: districts, zones, units, catalogue, limits, assessment, calendar.

Each parser turns one file into domain objects and reports every problem with its file and
line; nothing here knows about any particular city. Parsers of files that refer to other
files (units -> districts, catalogue -> units) take what was already loaded and skip the
reference checks when that part could not be read, so that one missing file does not drown
the real problems in hundreds of follow-on errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Generic, TypeVar

from megacity.domain.calendar import LimitUnit, TimeLimit
from megacity.domain.catalog import TERRITORIAL, Category
from megacity.domain.enums import Urgency
from megacity.domain.org import District, Unit, UnitType, Validity, ZoneScheme, check_codes_disjoint
from megacity.domain.profile import AssessmentSettings, TimeLimits
from megacity.profiles._reading import (
    LineDict,
    LineList,
    Problems,
    Row,
    check_keys,
    get_float,
    get_int,
    get_text,
    parse_bool,
    parse_date,
    parse_int,
    read_csv,
    read_yaml,
)

WEIGHT_KEYS = ("response", "resolution", "satisfaction")
LIMIT_KINDS = ("dispatch", "response", "feedback")

T = TypeVar("T")


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """Objects parsed from one file, by code, with the line each one came from."""

    items: dict[str, T]
    lines: dict[str, int]


def _one_of(values: type[Urgency] | type[UnitType] | type[LimitUnit]) -> str:
    return ", ".join(v.value for v in values)


def _validity(row: Row, name: str, problems: Problems) -> Validity:
    """The optional valid_from/valid_to columns of a row; `valid_to` is exclusive."""
    start, end = (
        parse_date(row.get(col), col, name, row.line, problems) if row.get(col) else None
        for col in ("valid_from", "valid_to")
    )
    if start is not None and end is not None and end <= start:
        problems.add(name, row.line, "valid_to must be after valid_from")
    return Validity(start, end)


def _code(row: Row, seen: dict[str, int], what: str, name: str, problems: Problems) -> str | None:
    """The row's code, if present and not already used earlier in the file."""
    code = row.get("code")
    if not code:
        problems.add(name, row.line, f"{what} code is empty")
        return None
    if code in seen:
        problems.add(name, row.line, f"duplicate {what} code '{code}' (first at line {seen[code]})")
        return None
    if not row.get("name"):
        problems.add(name, row.line, f"{what} '{code}' has no name")
    seen[code] = row.line
    return code


def parse_districts(
    path: Path, name: str, city_code: str | None, problems: Problems
) -> Loaded[District] | None:
    """districts.csv: the area codes that units, zones and reports roll up to."""
    rows = read_csv(path, name, ["code", "name"], ["population", "population_source"], problems)
    if rows is None:
        return None
    items: dict[str, District] = {}
    lines: dict[str, int] = {}
    for row in rows:
        code = _code(row, lines, "district", name, problems)
        if code is None:
            continue
        if code == city_code:
            problems.add(name, row.line, f"district code '{code}' equals the city code")
        text = row.get("population")
        population = parse_int(text, "population", name, row.line, problems) if text else None
        items[code] = District(code, row.get("name"), population, row.get("population_source"))
    if not items:
        problems.add(name, 1, "no districts")
    return Loaded(items, lines)


def parse_zones(
    path: Path, name: str, districts: Mapping[str, District] | None, problems: Problems
) -> dict[str, ZoneScheme]:
    """zones.yaml: groupings of districts, each a partition of all districts (for ranking groups)."""
    data = read_yaml(path, name, problems)
    schemes: dict[str, ZoneScheme] = {}
    if data is None:
        return schemes
    for code, body in data.items():
        line = data.line_of(code)
        if not isinstance(body, LineDict):
            problems.add(name, line, f"zone scheme '{code}' must be a mapping with name and zones")
            continue
        if not check_keys(body, ["name", "zones"], ["source"], f"zone scheme '{code}'", name, problems):
            continue
        title = get_text(body, "name", name, problems) or str(code)
        zones = _zone_members(body, str(code), name, districts, problems)
        schemes[str(code)] = ZoneScheme(str(code), title, MappingProxyType(zones))
    return schemes


def _zone_members(
    body: LineDict, scheme: str, name: str, districts: Mapping[str, District] | None, problems: Problems
) -> dict[str, tuple[str, ...]]:
    """Zone -> district codes; every known district must appear exactly once in the scheme."""
    zones_map = body["zones"]
    if not isinstance(zones_map, LineDict) or not zones_map:
        problems.add(name, body.line_of("zones"), f"zones of scheme '{scheme}' must map zone names to lists")
        return {}
    zones: dict[str, tuple[str, ...]] = {}
    placed: dict[str, str] = {}
    for zone, members in zones_map.items():
        if not isinstance(members, LineList):
            problems.add(name, zones_map.line_of(zone), f"zone '{zone}' must be a list of district codes")
            continue
        codes: list[str] = []
        for member, line in zip(members, members.item_lines, strict=True):
            if not isinstance(member, str):
                problems.add(name, line, f"district code {member!r} must be quoted text")
            elif districts is not None and member not in districts:
                problems.add(name, line, f"unknown district code '{member}' in zone '{zone}'")
            elif member in placed:
                problems.add(name, line, f"district '{member}' is already in zone '{placed[member]}'")
            else:
                placed[member] = str(zone)
                codes.append(member)
        zones[str(zone)] = tuple(codes)
    for code in districts or {}:
        if code not in placed:
            problems.add(
                name, body.line_of("zones"), f"scheme '{scheme}' does not place district '{code}' in any zone"
            )
    return zones


UNIT_REQUIRED = ["code", "name", "type"]
UNIT_OPTIONAL = ["district_code", "population", "population_estimated", "aliases", "valid_from", "valid_to"]


def parse_units(
    path: Path, name: str, districts: Mapping[str, District] | None, city_code: str | None, problems: Problems
) -> Loaded[Unit] | None:
    """units.csv: handling units; their codes must never be mistaken for area codes."""
    rows = read_csv(path, name, UNIT_REQUIRED, UNIT_OPTIONAL, problems)
    if rows is None:
        return None
    items: dict[str, Unit] = {}
    lines: dict[str, int] = {}
    for row in rows:
        code = _code(row, lines, "unit", name, problems)
        if code is None:
            continue
        unit = _unit(row, code, name, districts, problems)
        if unit is not None:
            items[code] = unit
    area_codes = [*(districts or {}), *([city_code] if city_code else [])]
    for code in check_codes_disjoint(area_codes, items.values()):
        problems.add(name, lines[code], f"unit code '{code}' equals an area code (city or district)")
    return Loaded(items, lines)


def _unit(
    row: Row, code: str, name: str, districts: Mapping[str, District] | None, problems: Problems
) -> Unit | None:
    try:
        kind = UnitType(row.get("type"))
    except ValueError:
        problems.add(name, row.line, f"type must be one of {_one_of(UnitType)}, not '{row.get('type')}'")
        return None
    district = row.get("district_code") or None
    if district is None and (kind.is_street_level or kind is UnitType.DISTRICT_GOVERNMENT):
        problems.add(name, row.line, f"a {kind.value} unit needs a district_code")
    elif district is not None and districts is not None and district not in districts:
        problems.add(name, row.line, f"unknown district_code '{district}'")
    text = row.get("population")
    population = parse_int(text, "population", name, row.line, problems) if text else None
    estimated = parse_bool(row.get("population_estimated"), "population_estimated", name, row.line, problems)
    aliases = tuple(a.strip() for a in row.get("aliases").split("|") if a.strip())
    return Unit(
        code=code,
        name=row.get("name"),
        type=kind,
        district_code=district,
        population=population,
        population_estimated=bool(estimated),
        aliases=aliases,
        validity=_validity(row, name, problems),
    )


CATEGORY_COLUMNS = ["code", "name", "level", "parent_code", "responsible", "urgency"]


def parse_catalogue(
    path: Path, name: str, units: Mapping[str, Unit] | None, problems: Problems
) -> dict[str, Category] | None:
    """catalogue.csv: the category tree; two passes, so parents may appear after children."""
    rows = read_csv(path, name, CATEGORY_COLUMNS, ["valid_from", "valid_to"], problems)
    if rows is None:
        return None
    levels: dict[str, int] = {}
    lines: dict[str, int] = {}
    good: list[tuple[Row, str]] = []
    for row in rows:
        code = _code(row, lines, "category", name, problems)
        level = parse_int(row.get("level"), "level", name, row.line, problems)
        if code is not None and level is not None:
            levels[code] = level
            good.append((row, code))
    parents = {row.get("parent_code") for row, _ in good}
    categories: dict[str, Category] = {}
    for row, code in good:
        _check_parent(row, levels[code], levels, name, problems)
        categories[code] = _category(row, code, levels[code], code not in parents, units, name, problems)
    return categories


def _check_parent(row: Row, level: int, levels: Mapping[str, int], name: str, problems: Problems) -> None:
    parent = row.get("parent_code")
    if level < 1:
        problems.add(name, row.line, "level must be 1 or more")
    elif not parent:
        if level != 1:
            problems.add(name, row.line, f"a level-{level} category needs a parent_code")
    elif parent not in levels:
        problems.add(name, row.line, f"unknown parent_code '{parent}'")
    elif levels[parent] != level - 1:
        problems.add(name, row.line, f"level {level} under parent '{parent}' of level {levels[parent]}")


def _category(
    row: Row,
    code: str,
    level: int,
    leaf: bool,
    units: Mapping[str, Unit] | None,
    name: str,
    problems: Problems,
) -> Category:
    """Build one category; only leaves say who is responsible and how urgent the matter is."""
    responsible, urgency_text = row.get("responsible"), row.get("urgency")
    urgency = Urgency.GENERAL
    if not leaf:
        if responsible or urgency_text:
            problems.add(name, row.line, "responsible and urgency belong on leaves only; leave them empty")
        responsible = TERRITORIAL
    else:
        _check_responsible(responsible, units, name, row.line, problems)
        try:
            urgency = Urgency(urgency_text)
        except ValueError:
            problems.add(name, row.line, f"urgency must be one of {_one_of(Urgency)}, not '{urgency_text}'")
    parent = row.get("parent_code") or None
    validity = _validity(row, name, problems)
    return Category(code, row.get("name"), level, parent, responsible or TERRITORIAL, urgency, validity)


def _check_responsible(
    responsible: str, units: Mapping[str, Unit] | None, name: str, line: int, problems: Problems
) -> None:
    if not responsible:
        problems.add(name, line, f"a leaf needs responsible: '{TERRITORIAL}' or a handling-unit code")
    elif responsible == TERRITORIAL or units is None:
        return
    elif responsible not in units:
        problems.add(name, line, f"responsible '{responsible}' is not a known unit code")
    elif units[responsible].type.is_street_level:
        problems.add(name, line, f"responsible '{responsible}' is a street-level unit; use '{TERRITORIAL}'")


def parse_limits(path: Path, name: str, problems: Problems) -> TimeLimits | None:
    """limits.yaml: every urgency class needs all three limits, or deadlines would be undefined."""
    data = read_yaml(path, name, problems)
    if data is None:
        return None
    if not check_keys(data, [u.value for u in Urgency], [], "limits", name, problems):
        return None
    table: dict[str, dict[Urgency, TimeLimit]] = {kind: {} for kind in LIMIT_KINDS}
    for urgency in Urgency:
        body = data[urgency.value]
        if not isinstance(body, LineDict):
            problems.add(
                name, data.line_of(urgency.value), f"{urgency.value} must map {', '.join(LIMIT_KINDS)}"
            )
            continue
        if not check_keys(body, LIMIT_KINDS, [], f"limits of '{urgency.value}'", name, problems):
            continue
        for kind in LIMIT_KINDS:
            limit = _limit(body, kind, name, problems)
            if limit is not None:
                table[kind][urgency] = limit
    if any(len(t) != len(Urgency) for t in table.values()):
        return None
    return TimeLimits(*(MappingProxyType(table[kind]) for kind in LIMIT_KINDS))


def _limit(body: LineDict, kind: str, name: str, problems: Problems) -> TimeLimit | None:
    spec = body[kind]
    if not isinstance(spec, LineDict):
        problems.add(name, body.line_of(kind), f"{kind} must be a mapping {{amount, unit, source}}")
        return None
    if not check_keys(spec, ["amount", "unit", "source"], [], f"a {kind} limit", name, problems):
        return None
    amount = get_int(spec, "amount", name, problems, minimum=1)
    source = get_text(spec, "source", name, problems)
    try:
        unit = LimitUnit(spec["unit"])
    except (ValueError, TypeError):
        problems.add(name, spec.line_of("unit"), f"unit must be one of {_one_of(LimitUnit)}")
        return None
    if amount is None or source is None:
        return None
    return TimeLimit(amount, unit, source)


def parse_assessment(path: Path, name: str, problems: Problems) -> AssessmentSettings | None:
    """assessment.yaml: weights must sum to 1 so that composite scores stay comparable."""
    data = read_yaml(path, name, problems)
    if data is None:
        return None
    keys = ["weights", "basically_satisfied_weight", "min_rated_for_ranking", "governance_focus_count"]
    if not check_keys(data, keys, [], "assessment", name, problems):
        return None
    weights = data["weights"]
    if not isinstance(weights, LineDict):
        problems.add(name, data.line_of("weights"), f"weights must map {', '.join(WEIGHT_KEYS)} to numbers")
        return None
    values = (
        {k: get_float(weights, k, name, problems) for k in WEIGHT_KEYS}
        if check_keys(weights, WEIGHT_KEYS, [], "weights", name, problems)
        else {}
    )
    clean = {k: v for k, v in values.items() if v is not None}
    if len(clean) == len(WEIGHT_KEYS) and abs(sum(clean.values()) - 1.0) > 1e-9:
        problems.add(
            name, data.line_of("weights"), f"weights must sum to 1 (they sum to {sum(clean.values()):g})"
        )
    partial = get_float(data, "basically_satisfied_weight", name, problems, maximum=1.0)
    min_rated = get_int(data, "min_rated_for_ranking", name, problems)
    focus = get_int(data, "governance_focus_count", name, problems)
    if len(clean) != len(WEIGHT_KEYS) or partial is None or min_rated is None or focus is None:
        return None
    return AssessmentSettings(MappingProxyType(clean), partial, min_rated, focus)


def parse_calendar(path: Path, name: str, problems: Problems) -> dict[date, bool] | None:
    """calendar.csv: working-day overrides for years the official schedule does not know yet."""
    rows = read_csv(path, name, ["date", "is_workday"], ["note"], problems)
    if rows is None:
        return None
    overrides: dict[date, bool] = {}
    seen: dict[date, int] = {}
    for row in rows:
        day = parse_date(row.get("date"), "date", name, row.line, problems)
        if not row.get("is_workday"):
            problems.add(name, row.line, "is_workday must be true or false")
            continue
        workday = parse_bool(row.get("is_workday"), "is_workday", name, row.line, problems)
        if day is None or workday is None:
            continue
        if day in seen:
            problems.add(name, row.line, f"duplicate date {day} (first at line {seen[day]})")
            continue
        seen[day] = row.line
        overrides[day] = workday
    return overrides
