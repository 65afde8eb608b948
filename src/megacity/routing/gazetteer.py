"""Address text → street/town, from the profile's division names and common aliases.

Citizens write "朝阳区望京街道", "望京", "望京地区办事处" or "海淀八里庄": the gazetteer knows every
street-level unit by its full name, its profile aliases (``units.csv``), its name without the
suffix (街道/镇/乡/地区, also followed by 办事处 or 人民政府) and the well-known place names of the
profile's ``place_aliases.csv`` (望京, 国贸 …; each row says where it comes from). Districts are
known with and without 区.

Matching is leftmost-longest over the text, so "朝阳门" (a street of 东城) is not read as the
district 朝阳. A name that several units share (八里庄 is a street of both 朝阳 and 海淀) is
settled by the district context: the request's district, a district named in the text, or the
district found from coordinates. Without context the result names no street, lists the
candidates and says why (``ambiguous``): a human decides rather than a coin.
"""

from __future__ import annotations

import csv
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from megacity.domain.org import Organisation, Unit

__all__ = ["ALIASES_FILE", "Gazetteer", "Location", "Match"]

ALIASES_FILE = "place_aliases.csv"
_SUFFIXES = ("街道办事处", "地区办事处", "办事处", "人民政府", "街道", "地区", "镇", "乡")
_DISTRICT = "district"


@dataclass(frozen=True)
class Match:
    """One place name found in the text: where, what it says, which units or district it may be."""

    start: int
    name: str
    unit_codes: tuple[str, ...] = ()
    district_code: str | None = None  # set when the name is a district


@dataclass(frozen=True)
class Location:
    """Where a request is, as far as its address text (and context) tells."""

    street_code: str | None
    district_code: str | None
    reason: str
    candidates: tuple[str, ...] = ()
    matches: tuple[Match, ...] = field(default_factory=tuple)

    @property
    def ambiguous(self) -> bool:
        return self.street_code is None and len(self.candidates) > 1


def clean(text: str | None) -> str:
    """Full-width to half-width (NFKC) and no whitespace at all: 'ＢＪ 朝阳区 望京' → 'BJ朝阳区望京'."""
    if not text:
        return ""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _short(name: str) -> str | None:
    """The name without its administrative suffix, if at least two characters remain."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


class Gazetteer:
    """Place names of one profile, looked up leftmost-longest in free text."""

    def __init__(self, org: Organisation, extra_aliases: Iterable[tuple[str, str]] = ()) -> None:
        self._org = org
        self._names: dict[str, set[str]] = defaultdict(set)  # name -> unit codes, or "district:<code>"
        for unit in org.units.values():
            if unit.type.is_street_level:
                for name in _unit_names(unit):
                    self._names[name].add(unit.code)
        for alias, code in extra_aliases:
            target = org.unit(code)
            if target is None or not target.type.is_street_level:
                raise ValueError(f"place alias {alias!r}: {code} is not a street-level unit")
            self._names[clean(alias)].add(code)
        for district in org.districts.values():
            for name in {district.name, _district_short(district.name)}:
                if len(name) >= 2:
                    self._names[name].add(f"{_DISTRICT}:{district.code}")
        self._lengths: dict[str, tuple[int, ...]] = {}
        by_first: dict[str, set[int]] = defaultdict(set)
        for name in self._names:
            by_first[name[0]].add(len(name))
        self._lengths = {first: tuple(sorted(lengths, reverse=True)) for first, lengths in by_first.items()}

    @classmethod
    def for_profile(cls, org: Organisation, folder: Path | None) -> Gazetteer:
        """The gazetteer of a profile folder, with its ``place_aliases.csv`` if it has one."""
        path = folder / ALIASES_FILE if folder is not None else None
        if path is None or not path.is_file():
            return cls(org)
        with path.open(encoding="utf-8", newline="") as handle:
            rows = [(row["alias"], row["unit_code"]) for row in csv.DictReader(handle) if row.get("alias")]
        return cls(org, rows)

    def find(self, text: str | None) -> list[Match]:
        """Every place name in `text`, leftmost-longest, in text order."""
        cleaned, out, i = clean(text), [], 0
        while i < len(cleaned):
            for length in self._lengths.get(cleaned[i], ()):
                name = cleaned[i : i + length]
                codes = self._names.get(name)
                if codes is not None:
                    out.append(_match(i, name, codes))
                    i += length
                    break
            else:
                i += 1
        return out

    def locate(
        self, texts: Sequence[str | None], district_code: str | None = None, *, limit: int = 600
    ) -> Location:
        """The street/town that `texts` (address first, then title and text) point at.

        `district_code` is the known district (from the request or its coordinates); without it,
        districts named in the texts give the context. Each text is read up to `limit` characters.
        """
        matches = [m for text in texts if text for m in self.find(text[:limit])]
        named = [m.district_code for m in matches if m.district_code]
        context = {district_code} if district_code else set(named)
        streets = [m for m in matches if m.unit_codes]
        ambiguous: list[str] = []
        for match in streets:
            units = self._within(match.unit_codes, context)
            if len(units) == 1:
                unit = self._org.units[units[0]]
                return Location(
                    unit.code,
                    unit.district_code,
                    f"address: {match.name} → {unit.name}",
                    (unit.code,),
                    tuple(matches),
                )
            ambiguous += [code for code in units if code not in ambiguous]
        district = next(iter(context)) if len(context) == 1 else None
        if ambiguous:
            names = ", ".join(self._label(code) for code in ambiguous)
            reason = f"ambiguous place name: {names}"
            return Location(None, district, reason, tuple(ambiguous), tuple(matches))
        if district is not None:
            return Location(None, district, "no street found; district known", (), tuple(matches))
        return Location(None, None, "no place name found", (), tuple(matches))

    def _within(self, codes: tuple[str, ...], context: set[str]) -> list[str]:
        """The units of a name inside the district context (all of them when there is none)."""
        if not context:
            return list(codes)
        return [c for c in codes if self._org.units[c].district_code in context]

    def _label(self, code: str) -> str:
        unit = self._org.units[code]
        district = self._org.districts.get(unit.district_code or "")
        return f"{district.name if district else ''}{unit.name}"


def _match(start: int, name: str, codes: set[str]) -> Match:
    districts = sorted(c.split(":", 1)[1] for c in codes if c.startswith(f"{_DISTRICT}:"))
    if districts:  # a bare district name (密云, 海淀) is the district, not its namesake town
        return Match(start, name, (), districts[0])
    return Match(start, name, tuple(sorted(codes)))


def _unit_names(unit: Unit) -> set[str]:
    full = clean(unit.name)
    names = {full, full + "办事处", full + "人民政府", *(clean(a) for a in unit.aliases)}
    short = _short(full)
    if short:
        names.add(short)
    return {n for n in names if len(n) >= 2}


def _district_short(name: str) -> str:
    return name[:-1] if name.endswith("区") and len(name) > 2 else name
