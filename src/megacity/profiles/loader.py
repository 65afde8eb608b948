"""Load and validate a city profile folder into a `megacity.domain.profile.Profile`.

Everything city-specific lives in data files next to ``profile.yaml``; this module only knows
their format (documented in ``docs/profile.md``). A profile is checked as a whole before
anything uses it, and every problem names its file and line, because a wrong figure in a
profile silently changes deadlines and rankings for a whole city.

The shipped default profile is loaded once per process and cached: the cache key includes
the files' modification times, so an edited profile is re-read rather than served stale.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from megacity.domain.catalog import Catalogue, Category
from megacity.domain.errors import ProfileError
from megacity.domain.org import District, Organisation, Unit, UnitType, ZoneScheme
from megacity.domain.profile import AssessmentSettings, Assumption, Profile, TimeLimits
from megacity.profiles import _parts
from megacity.profiles._reading import (
    LineDict,
    LineList,
    Problems,
    check_keys,
    get_bool,
    get_float,
    get_int,
    get_text,
    parse_date,
    read_yaml,
)

PROFILE_FILE = "profile.yaml"
REQUIRED_KEYS = ["code", "name", "city_code", "version", "valid_from", "timezone", "files"]
OPTIONAL_KEYS = [
    "dispatch_confidence_threshold",
    "repeat_window_days",
    "retention_days",
    "public_request_list",
    "assumptions",
]
REQUIRED_FILES = ["districts", "zones", "units", "catalogue", "limits", "assessment"]
OPTIONAL_FILES = ["calendar"]


def default_profile_path() -> Path:
    """The folder of the Beijing profile shipped inside the package (works when installed)."""
    return Path(__file__).resolve().parent / "beijing"


def load_profile(path: str | Path | None = None) -> Profile:
    """Load the profile folder at `path` (or its ``profile.yaml``); `None` loads the shipped one.

    Raises `ProfileError` listing every problem, one ``file:line: message`` per line.
    The result is cached and shared: treat it as read-only (its mappings are read-only views).
    """
    folder = _folder(path)
    return _load_cached(folder, _stamp(folder))


def check_profile(path: str | Path | None = None) -> list[str]:
    """Every problem of the profile at `path` as ``file:line: message``; empty if it is fine."""
    _, problems = _build(_folder(path))
    return problems


def _folder(path: str | Path | None) -> Path:
    folder = default_profile_path() if path is None else Path(path)
    if folder.name == PROFILE_FILE and folder.is_file():
        folder = folder.parent
    return folder.resolve()


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, mtimes and sizes of the folder's files: part of the cache key, so edits are seen."""
    try:
        with os.scandir(folder) as entries:
            stats = [(e.name, e.stat()) for e in entries if e.is_file()]
    except OSError:
        return ()
    return tuple(sorted((name, st.st_mtime_ns, st.st_size) for name, st in stats))


@functools.lru_cache(maxsize=8)
def _load_cached(folder: Path, stamp: tuple[tuple[str, int, int], ...]) -> Profile:
    del stamp  # only part of the cache key
    profile, problems = _build(folder)
    if problems or profile is None:
        listing = "\n".join(problems) or f"{PROFILE_FILE}:1: profile could not be loaded"
        raise ProfileError(f"{listing}\n(profile folder: {folder})")
    return profile


@dataclass(frozen=True)
class _Header:
    """The settings of ``profile.yaml`` itself, before the parts are read."""

    code: str
    name: str
    city_code: str
    version: str
    valid_from: date
    timezone: str
    dispatch_confidence_threshold: float
    repeat_window_days: int
    retention_days: int
    public_request_list: bool
    assumptions: tuple[Assumption, ...]


@dataclass
class _Parts:
    """What was read from the part files; `None` where a file could not be read."""

    districts: _parts.Loaded[District] | None = None
    zones: dict[str, ZoneScheme] | None = None
    units: _parts.Loaded[Unit] | None = None
    catalogue: dict[str, Category] | None = None
    limits: TimeLimits | None = None
    assessment: AssessmentSettings | None = None
    calendar: dict[date, bool] | None = None


def _build(folder: Path) -> tuple[Profile | None, list[str]]:
    """Read and cross-check every file; return the profile only if no problem was found."""
    problems = Problems()
    if not (folder / PROFILE_FILE).is_file():
        problems.add(PROFILE_FILE, 1, f"file not found in {folder}")
        return None, problems.items
    data = read_yaml(folder / PROFILE_FILE, PROFILE_FILE, problems)
    if data is None:
        return None, problems.items
    check_keys(data, REQUIRED_KEYS, OPTIONAL_KEYS, PROFILE_FILE, PROFILE_FILE, problems)
    header = _header(data, problems)
    files = _files(data, folder, problems)
    parts = _read_parts(files, header.city_code if header else None, problems)
    if header is None or problems.items:
        return None, problems.items
    return _assemble(header, parts), problems.items


def _read_parts(files: dict[str, tuple[Path, str]], city_code: str | None, problems: Problems) -> _Parts:
    """Parse the part files in dependency order: districts, then what refers to them."""
    parts = _Parts(calendar={})
    if "districts" in files:
        parts.districts = _parts.parse_districts(*files["districts"], city_code, problems)
    districts = parts.districts.items if parts.districts else None
    if "zones" in files:
        parts.zones = _parts.parse_zones(*files["zones"], districts, problems)
    if "units" in files:
        parts.units = _parts.parse_units(*files["units"], districts, city_code, problems)
    if "catalogue" in files:
        units = parts.units.items if parts.units else None
        parts.catalogue = _parts.parse_catalogue(*files["catalogue"], units, problems)
    if "limits" in files:
        parts.limits = _parts.parse_limits(*files["limits"], problems)
    if "assessment" in files:
        parts.assessment = _parts.parse_assessment(*files["assessment"], problems)
    if "calendar" in files:
        parts.calendar = _parts.parse_calendar(*files["calendar"], problems)
    if parts.districts is not None and parts.units is not None:
        _check_district_governments(parts.districts, parts.units, files["districts"][1], problems)
    return parts


def _assemble(header: _Header, parts: _Parts) -> Profile | None:
    """The `Profile` from parts that all loaded without problems."""
    d, z, u, c = parts.districts, parts.zones, parts.units, parts.catalogue
    limits, assessment, calendar = parts.limits, parts.assessment, parts.calendar
    if d is None or z is None or u is None or c is None or limits is None:
        return None
    if assessment is None or calendar is None:
        return None
    org = Organisation(
        city_code=header.city_code,
        city_name=header.name,
        districts=MappingProxyType(d.items),
        units=MappingProxyType(u.items),
        zone_schemes=MappingProxyType(z),
    )
    return Profile(
        code=header.code,
        name=header.name,
        version=header.version,
        valid_from=header.valid_from,
        timezone=header.timezone,
        org=org,
        catalogue=Catalogue(MappingProxyType(c)),
        limits=limits,
        assessment=assessment,
        calendar_overrides=MappingProxyType(calendar),
        dispatch_confidence_threshold=header.dispatch_confidence_threshold,
        repeat_window_days=header.repeat_window_days,
        retention_days=header.retention_days,
        public_request_list=header.public_request_list,
        assumptions=header.assumptions,
    )


def _check_district_governments(
    districts: _parts.Loaded[District], units: _parts.Loaded[Unit], name: str, problems: Problems
) -> None:
    """Each district needs exactly one 区政府 unit: the fallback dispatch target of REG Art. 12."""
    count = dict.fromkeys(districts.items, 0)
    for unit in units.items.values():
        if unit.type is UnitType.DISTRICT_GOVERNMENT and unit.district_code in count:
            count[unit.district_code] += 1
    for code, n in count.items():
        if n != 1:
            found = "no" if n == 0 else str(n)
            problems.add(
                name, districts.lines[code], f"district '{code}' has {found} district_government units"
            )


def _header(data: LineDict, problems: Problems) -> _Header | None:
    """The settings of profile.yaml; optional ones fall back to the `Profile` defaults."""
    name = PROFILE_FILE
    code, city, city_code, version = (
        get_text(data, k, name, problems) for k in ("code", "name", "city_code", "version")
    )
    valid_from = (
        parse_date(data["valid_from"], "valid_from", name, data.line_of("valid_from"), problems)
        if "valid_from" in data
        else None
    )
    timezone = get_text(data, "timezone", name, problems)
    if timezone is not None and not _known_timezone(timezone):
        problems.add(name, data.line_of("timezone"), f"unknown timezone '{timezone}' (use an IANA name)")
        timezone = None
    defaults: dict[str, Any] = {f.name: f.default for f in fields(Profile)}
    key = "dispatch_confidence_threshold"
    threshold = get_float(data, key, name, problems, maximum=1.0) if key in data else defaults[key]
    key = "repeat_window_days"
    repeat = get_int(data, key, name, problems, minimum=1) if key in data else defaults[key]
    key = "retention_days"
    retention = get_int(data, key, name, problems, minimum=1) if key in data else defaults[key]
    key = "public_request_list"
    public = get_bool(data, key, name, problems) if key in data else defaults[key]
    assumptions = _assumptions(data, problems)
    if code is None or city is None or city_code is None or version is None or valid_from is None:
        return None
    if timezone is None or threshold is None or repeat is None or retention is None or public is None:
        return None
    return _Header(
        code,
        city,
        city_code,
        version,
        valid_from,
        timezone,
        threshold,
        repeat,
        retention,
        public,
        assumptions,
    )


def _known_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _assumptions(data: LineDict, problems: Problems) -> tuple[Assumption, ...]:
    """The `assumptions:` list: every value without an official source, said out loud."""
    items = data.get("assumptions", [])
    if not isinstance(items, list):
        problems.add(PROFILE_FILE, data.line_of("assumptions"), "assumptions must be a list of {key, note}")
        return ()
    out: list[Assumption] = []
    seen: set[str] = set()
    lines = items.item_lines if isinstance(items, LineList) else [data.line_of("assumptions")] * len(items)
    for item, line in zip(items, lines, strict=True):
        if not isinstance(item, LineDict):
            problems.add(PROFILE_FILE, line, "an assumption must be a mapping {key, note}")
            continue
        if not check_keys(item, ["key", "note"], [], "an assumption", PROFILE_FILE, problems):
            continue
        key, note = (
            get_text(item, "key", PROFILE_FILE, problems),
            get_text(item, "note", PROFILE_FILE, problems),
        )
        if key is not None and key in seen:
            problems.add(PROFILE_FILE, item.line_of("key"), f"duplicate assumption key '{key}'")
        elif key is not None and note is not None:
            seen.add(key)
            out.append(Assumption(key, " ".join(note.split())))
    return tuple(out)


def _files(data: LineDict, folder: Path, problems: Problems) -> dict[str, tuple[Path, str]]:
    """The part files named under `files:`, as (path, name used in messages), if they exist."""
    files = data.get("files")
    if not isinstance(files, LineDict):
        if "files" in data:
            problems.add(PROFILE_FILE, data.line_of("files"), "files must map part names to file names")
        return {}
    check_keys(files, REQUIRED_FILES, OPTIONAL_FILES, "files", PROFILE_FILE, problems)
    out: dict[str, tuple[Path, str]] = {}
    for key in [*REQUIRED_FILES, *OPTIONAL_FILES]:
        if key not in files:
            continue
        value = files[key]
        line = files.line_of(key)
        relative = PurePosixPath(value) if isinstance(value, str) else None
        if relative is None or relative.is_absolute() or ".." in relative.parts or not value.strip():
            problems.add(PROFILE_FILE, line, f"{key} must be a file name inside the profile folder")
        elif not (folder / relative).is_file():
            problems.add(PROFILE_FILE, line, f"file '{value}' not found")
        else:
            out[key] = (folder / relative, str(relative))
    return out
