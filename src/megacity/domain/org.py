"""The organisation of a city: districts, streets/towns and the units that handle requests.

Two kinds of code live side by side and must never collide:

* **area codes** (NBS division codes): the city, its districts and its streets/towns;
  a district row in a report is the roll-up of every request located in that district;
* **handling-unit codes**: who is responsible for a request. A street/town office
  (街道办事处/乡镇政府) handles under its own area code; departments, public-service
  companies and each district government (区政府) get codes of their own that never equal a
  district code, so that "district 110105" in a report always means the area.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class UnitType(StrEnum):
    """What kind of handling unit a code names."""

    STREET = "street"  # 街道
    TOWN = "town"  # 镇
    TOWNSHIP = "township"  # 乡
    AREA = "area"  # 地区 (a street-level unit so named in Beijing)
    DEVZONE = "devzone"  # development zone acting as a street-level unit
    DEPARTMENT = "department"  # municipal department
    COMPANY = "company"  # public-service enterprise (水电气热, transit ...)
    DISTRICT_GOVERNMENT = "district_government"  # 区人民政府

    @property
    def is_street_level(self) -> bool:
        """True for the 街乡镇 that take territorial (属地) dispatches."""
        return self in _STREET_LEVEL


_STREET_LEVEL = frozenset(
    {UnitType.STREET, UnitType.TOWN, UnitType.TOWNSHIP, UnitType.AREA, UnitType.DEVZONE}
)


@dataclass(frozen=True)
class Validity:
    """The dates a profile entry is in force: `valid_from` inclusive, `valid_to` exclusive."""

    valid_from: date | None = None
    valid_to: date | None = None

    def covers(self, day: date) -> bool:
        """Whether the entry is in force on `day`.

        >>> Validity(date(2020, 1, 1), date(2021, 1, 1)).covers(date(2020, 6, 1))
        True
        >>> Validity(valid_to=date(2021, 1, 1)).covers(date(2021, 1, 1))
        False
        """
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day < self.valid_to


@dataclass(frozen=True)
class District:
    """A district (区) as an area: code, name and census population."""

    code: str
    name: str
    population: int | None = None
    population_source: str = ""


@dataclass(frozen=True)
class Unit:
    """A handling unit (承办单位)."""

    code: str
    name: str
    type: UnitType
    district_code: str | None = None  # None for city-level departments and companies
    population: int | None = None
    population_estimated: bool = False  # street figures are allocated, not published
    aliases: tuple[str, ...] = ()
    validity: Validity = field(default_factory=Validity)


@dataclass(frozen=True)
class ZoneScheme:
    """A named grouping of districts, e.g. the functional zones of a plan."""

    code: str
    name: str
    zones: Mapping[str, tuple[str, ...]]  # zone name -> district codes

    def zone_of(self, district_code: str) -> str | None:
        """The zone a district belongs to in this scheme, if any."""
        for zone, members in self.zones.items():
            if district_code in members:
                return zone
        return None


@dataclass(frozen=True)
class Organisation:
    """The hierarchy: city, districts, handling units and zone schemes."""

    city_code: str
    city_name: str
    districts: Mapping[str, District]
    units: Mapping[str, Unit]
    zone_schemes: Mapping[str, ZoneScheme]

    def unit(self, code: str) -> Unit | None:
        """The unit with that code, if the profile knows it."""
        return self.units.get(code)

    def units_on(self, day: date) -> list[Unit]:
        """Units in force on `day`."""
        return [u for u in self.units.values() if u.validity.covers(day)]

    def streets_of(self, district_code: str, day: date | None = None) -> list[Unit]:
        """Street-level units of a district, optionally only those in force on `day`."""
        return [
            u
            for u in self.units.values()
            if u.district_code == district_code
            and u.type.is_street_level
            and (day is None or u.validity.covers(day))
        ]

    def district_government(self, district_code: str) -> Unit | None:
        """The district government's handling unit: the fallback dispatch target (条例 Art. 12)."""
        for u in self.units.values():
            if u.type is UnitType.DISTRICT_GOVERNMENT and u.district_code == district_code:
                return u
        return None

    def is_area_code(self, code: str) -> bool:
        """True for the city, a district or a street-level code."""
        if code == self.city_code or code in self.districts:
            return True
        unit = self.units.get(code)
        return unit is not None and unit.type.is_street_level


def check_codes_disjoint(districts: Iterable[str], units: Iterable[Unit]) -> list[str]:
    """Return the handling-unit codes that collide with a district code (there must be none)."""
    district_codes = set(districts)
    return sorted(u.code for u in units if u.code in district_codes)
