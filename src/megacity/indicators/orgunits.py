"""Org units of the profile for indicators: city, zones (every zone scheme), districts, streets,
and the district covariates (population, area, GDP) that results are compared with.

DHIS2 keeps an org-unit hierarchy next to its indicators; here it comes from the city profile,
so another city gets its own units by writing its own profile. Zone schemes group districts
(`zones.yaml`); streets belong to a district (`units.csv`). Every figure keeps its provenance:
census populations are sourced, street populations are estimates, areas and GDP are
unverified (see profiles/beijing/indicators/README.md).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from megacity.domain.profile import Profile
from megacity.indicators.errors import IndicatorError

CITY, DISTRICT, STREET = "city", "district", "street"
ZONE_PREFIX = "zone:"
COVARIATES_FILE = "indicators/district_covariates.csv"


@dataclass(frozen=True)
class OrgUnit:
    """An area results are computed for: its districts (or one street), and its attributes."""

    code: str
    name: str
    level: str  # city, zone:<scheme>, district, street
    districts: tuple[str, ...]  # districts it covers (a street: its own district)
    street: str | None = None
    population: float | None = None
    population_estimated: bool = False
    area_km2: float | None = None


def levels(profile: Profile) -> list[str]:
    """Levels the profile offers: city, one per zone scheme, district, street."""
    return [CITY, *(ZONE_PREFIX + s for s in profile.org.zone_schemes), DISTRICT, STREET]


def check_level(profile: Profile, level: str) -> str:
    """The level, or an IndicatorError naming the valid ones."""
    if level not in levels(profile):
        raise IndicatorError(f"unknown level {level!r} (valid: {', '.join(levels(profile))})")
    return level


def district_areas(profile_dir: Path | None) -> dict[str, float]:
    """Area in km² per district from the profile's covariates file (empty without one)."""
    return {
        code: float(row["area_km2"])
        for code, row in _covariate_rows(profile_dir).items()
        if row.get("area_km2", "").strip()
    }


def _covariate_rows(profile_dir: Path | None) -> dict[str, dict[str, str]]:
    if profile_dir is None or not (profile_dir / COVARIATES_FILE).is_file():
        return {}
    with (profile_dir / COVARIATES_FILE).open(encoding="utf-8", newline="") as f:
        return {row["code"]: row for row in csv.DictReader(f)}


def org_units(profile: Profile, level: str, profile_dir: Path | None = None) -> list[OrgUnit]:
    """The org units of one level, in code order (zones in the scheme's order)."""
    check_level(profile, level)
    org, areas = profile.org, district_areas(profile_dir)
    if level == STREET:
        return [
            OrgUnit(
                u.code, u.name, STREET, (u.district_code or "",), u.code, u.population, u.population_estimated
            )
            for u in sorted(org.units.values(), key=lambda u: u.code)
            if u.type.is_street_level and u.district_code
        ]
    if level == DISTRICT:
        groups: list[tuple[str, str, tuple[str, ...]]] = [
            (d.code, d.name, (d.code,)) for d in sorted(org.districts.values(), key=lambda d: d.code)
        ]
    elif level == CITY:
        groups = [(org.city_code, org.city_name, tuple(sorted(org.districts)))]
    else:
        scheme = org.zone_schemes[level.removeprefix(ZONE_PREFIX)]
        groups = [(zone, zone, members) for zone, members in scheme.zones.items()]
    units = []
    for code, name, members in groups:
        population = [org.districts[d].population for d in members]
        area = [areas.get(d) for d in members]
        units.append(
            OrgUnit(
                code,
                name,
                level,
                members,
                population=float(sum(p for p in population if p)) if all(population) else None,
                area_km2=float(sum(a for a in area if a)) if all(area) else None,
            )
        )
    return units


def covariates(profile: Profile, profile_dir: Path | None = None) -> pd.DataFrame:
    """District covariates indexed by district code: population (2020 census, sourced),
    area_km2 and gdp_100m_yuan (unverified), density (residents per km²)."""
    rows = _covariate_rows(profile_dir)
    table = pd.DataFrame(
        [
            {
                "code": d.code,
                "name": d.name,
                "population": float(d.population) if d.population else math.nan,
                "area_km2": _number(rows.get(d.code, {}).get("area_km2")),
                "gdp_100m_yuan": _number(rows.get(d.code, {}).get("gdp_100m_yuan")),
            }
            for d in sorted(profile.org.districts.values(), key=lambda d: d.code)
        ]
    ).set_index("code")
    table["density"] = table["population"] / table["area_km2"]
    return table


def _number(text: str | None) -> float:
    try:
        return float(text) if text and text.strip() else math.nan
    except ValueError:
        raise IndicatorError(f"{COVARIATES_FILE}: {text!r} is not a number") from None


def zones(profile: Profile, scheme: str) -> dict[str, tuple[str, ...]]:
    """Zone name -> district codes of one zone scheme."""
    if scheme not in profile.org.zone_schemes:
        valid = ", ".join(profile.org.zone_schemes)
        raise IndicatorError(f"unknown zone scheme {scheme!r} (valid: {valid})")
    return dict(profile.org.zone_schemes[scheme].zones)
