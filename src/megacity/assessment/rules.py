"""The rules of the monthly assessment (考核), as plain data and functions.

Everything here is standard library plus the domain: which tickets count, how months are
cut, which units are ranked together and how a composite is formed. The Ibis expressions in
`expressions.py` implement the same rules on a database engine; `docs/assessment.md` states
them in prose.

Months are calendar months of the profile's time zone. Instead of converting every
``received_at`` to local time in the engine, the month's boundaries are computed here, in
the zone, and handed to the engine as UTC instants: a ticket belongs to month M when
``start(M) <= received_at < start(M + 1)``. That is exactly "convert to local time, take the
month", stays right across daylight-saving changes, and does not depend on any engine's
session time zone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from megacity.domain.calendar import LimitUnit
from megacity.domain.enums import Urgency
from megacity.domain.errors import ValidationError
from megacity.domain.org import UnitType
from megacity.domain.profile import AssessmentSettings, Profile

#: Composites (and request rates used for ordering) are rounded to this many decimals before
#: ranking, by ``floor(x * 10**9 + 0.5) / 10**9`` in IEEE doubles, so every engine ranks alike.
RANK_DECIMALS = 9
#: At most this many months in one run.
MAX_MONTHS = 120

DISTRICT = "district"
STREET = "street"
UNKNOWN = "unknown"
#: Ranking groups, in report order; `unknown` (codes the profile does not know) is never ranked.
UNIT_TYPES: tuple[str, ...] = (DISTRICT, STREET, "devzone", "department", "company", "district_gov", UNKNOWN)

#: Profile unit type -> (ranking group, subtype). Streets, towns, townships and 地区 rank together.
_GROUPS: Mapping[UnitType, tuple[str, str | None]] = {
    UnitType.STREET: (STREET, "street"),  # 街道
    UnitType.TOWN: (STREET, "town"),  # 镇
    UnitType.TOWNSHIP: (STREET, "township"),  # 乡
    UnitType.AREA: (STREET, "area"),  # 地区
    UnitType.DEVZONE: ("devzone", None),
    UnitType.DEPARTMENT: ("department", None),
    UnitType.COMPANY: ("company", None),
    UnitType.DISTRICT_GOVERNMENT: ("district_gov", None),
}

SATISFACTION_VALUES: tuple[str, ...] = ("satisfied", "basically_satisfied", "dissatisfied")

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class FocusRule(StrEnum):
    """How the governance focus list (治理类街乡镇) is chosen among ranked streets."""

    COMPOSITE = "composite"  # the lowest composites (default)
    REQUESTS = "requests"  # the most requests per 10,000 residents


@dataclass(frozen=True)
class Weights:
    """Weights of the three rates in the composite (response, resolution, satisfaction)."""

    response: float
    resolution: float
    satisfaction: float

    @classmethod
    def from_settings(cls, settings: AssessmentSettings) -> Weights:
        w = settings.weights
        return cls(float(w["response"]), float(w["resolution"]), float(w["satisfaction"]))

    @classmethod
    def parse(cls, text: str) -> Weights:
        """``"R,S,M"``: three non-negative numbers, not all zero; used as given (not normalised).

        >>> Weights.parse("0.2, 0.4,0.4")
        Weights(response=0.2, resolution=0.4, satisfaction=0.4)
        """
        parts = [p.strip() for p in text.split(",")]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != 3 or any(not (0 <= v < float("inf")) for v in values) or sum(values) <= 0:
            raise ValidationError(
                f"weights must be three non-negative numbers R,S,M (response,resolution,satisfaction), "
                f"not all zero; got {text!r}",
                field="weights",
            )
        return cls(*values)

    def as_text(self) -> str:
        return f"{self.response:g},{self.resolution:g},{self.satisfaction:g}"


@dataclass(frozen=True)
class MonthWindow:
    """A calendar month of the profile's zone as a half-open UTC interval."""

    label: str  # YYYY-MM
    index: int  # year * 12 + month - 1: consecutive months differ by one
    start: datetime
    end: datetime


#: Years a month may name (`parse_month`): far from datetime's limits, since windows and trends
#: reach a year or two either side of it.
MIN_YEAR, MAX_YEAR = 1900, 9000


def parse_month(text: str, *, field: str = "month") -> int:
    """The month index of ``YYYY-MM``.

    >>> parse_month("2025-02")
    24301
    """
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationError(f"a month is written YYYY-MM, got {text!r}", field=field)
    if not MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:  # trends reach a year back: keep dates valid
        raise ValidationError(f"a month's year is from {MIN_YEAR} to {MAX_YEAR}, got {text!r}", field=field)
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def month_label(index: int) -> str:
    """``YYYY-MM`` of a month index.

    >>> month_label(24301)
    '2025-02'
    """
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_indexes(month: str | None, months: str | None) -> list[int]:
    """The months of ``--month YYYY-MM`` or ``--months YYYY-MM:YYYY-MM`` (inclusive), exactly one given.

    >>> [month_label(i) for i in month_indexes(None, "2024-11:2025-01")]
    ['2024-11', '2024-12', '2025-01']
    """
    if (month is None) == (months is None):
        raise ValidationError("give either a month (YYYY-MM) or a range of months (YYYY-MM:YYYY-MM)")
    if month is not None:
        return [parse_month(month)]
    assert months is not None
    first, sep, last = months.partition(":")
    if not sep:
        raise ValidationError(f"a range of months is written YYYY-MM:YYYY-MM, got {months!r}", field="months")
    start, end = parse_month(first, field="months"), parse_month(last, field="months")
    if end < start or end - start >= MAX_MONTHS:
        raise ValidationError(f"months {months!r}: the range must run forwards, at most {MAX_MONTHS} months")
    return list(range(start, end + 1))


def month_windows(indexes: Iterable[int], timezone: str) -> list[MonthWindow]:
    """Local month boundaries as UTC instants.

    >>> w = month_windows([24301], "Asia/Shanghai")[0]
    >>> w.label, w.start.isoformat(), w.end.isoformat()
    ('2025-02', '2025-01-31T16:00:00+00:00', '2025-02-28T16:00:00+00:00')
    """
    zone = ZoneInfo(timezone)

    def start(index: int) -> datetime:
        return datetime(index // 12, index % 12 + 1, 1, tzinfo=zone).astimezone(UTC)

    return [MonthWindow(month_label(i), i, start(i), start(i + 1)) for i in sorted(set(indexes))]


def parse_as_of(text: str | None, timezone: str) -> datetime | None:
    """``--as-of``: an ISO-8601 instant; without an offset it is local time of the profile's zone.

    >>> parse_as_of("2025-02-01", "Asia/Shanghai").isoformat()
    '2025-01-31T16:00:00+00:00'
    """
    if text is None or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"as-of must be an ISO-8601 time, got {text!r}", field="as_of") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.astimezone(UTC)


@dataclass(frozen=True)
class UnitFact:
    """What the profile says about a code that may appear in a report."""

    code: str
    kind: str  # "unit" (handling unit) or "district" (area roll-up)
    name: str
    unit_type: str
    subtype: str | None
    district_code: str | None
    population: int | None
    population_estimated: bool


def unit_facts(profile: Profile) -> list[UnitFact]:
    """Districts and handling units of the profile, as rows for the engine's lookup table."""
    facts = [
        UnitFact(d.code, DISTRICT, d.name, DISTRICT, None, d.code, d.population, False)
        for d in profile.org.districts.values()
    ]
    for u in profile.org.units.values():
        group, subtype = _GROUPS[u.type]
        facts.append(
            UnitFact(
                u.code, "unit", u.name, group, subtype, u.district_code, u.population, u.population_estimated
            )
        )
    return sorted(facts, key=lambda f: (f.kind, f.code))


def response_limit_hours(profile: Profile) -> dict[str, int]:
    """The response (first contact) limit of each urgency, in hours; the limit itself is on time."""
    hours: dict[str, int] = {}
    for urgency, limit in profile.limits.response.items():
        if limit.unit is LimitUnit.HOURS:
            hours[str(urgency)] = limit.amount
        elif limit.unit is LimitUnit.CALENDAR_DAYS:
            hours[str(urgency)] = limit.amount * 24
        else:
            raise ValidationError(
                f"the response limit of {urgency} is in {limit.unit}: the assessment needs hours or "
                "calendar days"
            )
    return hours


def default_limit_hours(limits: Mapping[str, int]) -> int:
    """The limit of tickets whose urgency is missing or unknown: the general one."""
    return limits.get(Urgency.GENERAL.value, max(limits.values(), default=24))


@dataclass(frozen=True)
class Options:
    """One assessment run: which months, as of when, under which weights and settings."""

    months: tuple[int, ...]
    weights: Weights
    default_weights: Weights
    basically_satisfied_weight: float = 1.0
    min_rated: int = 10
    focus_count: int = 10
    focus_rule: FocusRule = FocusRule.COMPOSITE
    as_of: datetime | None = None
    what_if: bool = False  # also rank under the default weights and report the change

    @classmethod
    def build(
        cls,
        profile: Profile,
        months: Iterable[int],
        *,
        weights: Weights | None = None,
        as_of: datetime | None = None,
        focus_rule: FocusRule = FocusRule.COMPOSITE,
    ) -> Options:
        settings = profile.assessment
        default = Weights.from_settings(settings)
        return cls(
            months=tuple(sorted(set(months))),
            weights=weights or default,
            default_weights=default,
            basically_satisfied_weight=settings.basically_satisfied_weight,
            min_rated=settings.min_rated_for_ranking,
            focus_count=settings.governance_focus_count,
            focus_rule=focus_rule,
            as_of=as_of,
            what_if=weights is not None,
        )


def rate(numerator: float, denominator: int) -> float | None:
    """A rate, or None for an empty denominator."""
    return numerator / denominator if denominator else None


def composite(rates: tuple[float | None, float | None, float | None], weights: Weights) -> float | None:
    """``100 × (wr·response + ws·resolution + wm·satisfaction)``; None if any rate is None.

    The operations run in the same order as in the engine, so the doubles are identical.

    >>> composite((1.0, 0.5, 1.0), Weights(0.1, 0.45, 0.45))
    77.5
    """
    response, resolution, satisfaction = rates
    if response is None or resolution is None or satisfaction is None:
        return None
    return 100.0 * (
        (weights.response * response + weights.resolution * resolution) + weights.satisfaction * satisfaction
    )


def round_for_ranking(value: float | None) -> float | None:
    """``floor(x · 10⁹ + 0.5) / 10⁹``, as the engine does it.

    >>> round_for_ranking(77.12345678951)
    77.12345679
    """
    if value is None:
        return None
    scale = 10.0**RANK_DECIMALS
    return float(math.floor(value * scale + 0.5)) / scale


def focus_change(before: bool, now: bool) -> str | None:
    """How a unit's governance-focus membership changed from the previous month.

    >>> focus_change(False, True), focus_change(True, True), focus_change(True, False)
    ('entered', 'stayed', 'left')
    """
    if now:
        return "stayed" if before else "entered"
    return "left" if before else None
