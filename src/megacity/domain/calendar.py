"""Working-day calendar and time limits (办理时限).

Deadlines count in hours, calendar days or working days. Working days follow the official
Chinese holiday schedule including make-up working days (调休). The schedule is only
published a year ahead, so a calendar may not know a date: it then falls back to weekends
plus the fixed-date holidays and marks the deadline *provisional* rather than fail intake or
guess silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

#: Fixed-date public holidays (month, day) used when the schedule of a year is unknown:
#: New Year, Labour Day and the first three days of National Day.
FIXED_HOLIDAYS: frozenset[tuple[int, int]] = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})

#: Answers "is this a working day?" for dates it knows, `None` for dates it does not.
WorkdaySource = Callable[[date], bool | None]


class LimitUnit(StrEnum):
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"


@dataclass(frozen=True)
class TimeLimit:
    """A time limit with the source that justifies it."""

    amount: int
    unit: LimitUnit
    source: str = ""

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value}"


@dataclass(frozen=True)
class Deadline:
    """A computed deadline; `provisional` when a date outside the known schedule was used."""

    at: datetime
    provisional: bool = False


class WorkingCalendar:
    """Counts working days with an official schedule, profile overrides and a fallback.

    Parameters
    ----------
    source:
        The official schedule (e.g. an adapter over ``chinese_calendar``); returns ``None``
        for dates it does not know.
    overrides:
        Profile entries ``date -> is working day`` that take precedence, for years the
        source does not cover yet.

    Examples
    --------
    >>> cal = WorkingCalendar(source=lambda d: None, overrides={date(2030, 2, 4): False})
    >>> cal.is_workday(date(2030, 2, 4))
    (False, True)
    >>> cal.is_workday(date(2030, 2, 5))  # unknown: fallback says Tuesday works
    (True, False)
    """

    def __init__(
        self,
        *,
        source: WorkdaySource | None = None,
        overrides: Mapping[date, bool] | None = None,
    ) -> None:
        self._source = source or (lambda _d: None)
        self._overrides = dict(overrides or {})

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """Return ``(is working day, known)``; ``known`` is False when the fallback decided."""
        if day in self._overrides:
            return self._overrides[day], True
        official = self._source(day)
        if official is not None:
            return official, True
        fallback = day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS
        return fallback, False

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        """The same local clock time on the `days`-th working day after `start`'s date.

        A start on a non-working day counts from the next working day's start of day,
        so a request received on a Saturday has until the end of the N-th working day.
        """
        day = start.date()
        clock = start.timetz()
        start_known = True
        if not self.is_workday(day)[0]:
            clock = time(23, 59, 59, tzinfo=start.tzinfo)
            days = max(days, 1)
            start_known = self.is_workday(day)[1]
            days -= 1
            day = self._next_workday(day)
        provisional = not start_known
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            workday, known = self.is_workday(day)
            provisional = provisional or not known
            if workday:
                counted += 1
        if not self.is_workday(day)[1]:
            provisional = True
        return Deadline(datetime.combine(day, clock), provisional)

    def _next_workday(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_workday(day)[0]:
            day += timedelta(days=1)
        return day

    def deadline(self, start: datetime, limit: TimeLimit, tz: ZoneInfo) -> Deadline:
        """Apply `limit` to the instant `start`, counting days in the timezone `tz`.

        >>> tz = ZoneInfo("Asia/Shanghai")
        >>> cal = WorkingCalendar()
        >>> start = datetime(2031, 3, 7, 10, 0, tzinfo=tz)  # a Friday, outside any schedule
        >>> d = cal.deadline(start, TimeLimit(1, LimitUnit.WORKING_DAYS), tz)
        >>> d.at.isoformat(), d.provisional
        ('2031-03-10T10:00:00+08:00', True)
        """
        if start.tzinfo is None:
            raise ValueError("deadline needs a timezone-aware start")
        local = start.astimezone(tz)
        if limit.unit is LimitUnit.HOURS:
            return Deadline(start + timedelta(hours=limit.amount))
        if limit.unit is LimitUnit.CALENDAR_DAYS:
            return Deadline(local + timedelta(days=limit.amount))
        result = self.add_working_days(local, limit.amount)
        if result.provisional:
            log.warning(
                "deadline %s from %s uses dates outside the known holiday schedule: provisional",
                limit,
                local.isoformat(),
            )
        return result
