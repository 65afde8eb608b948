"""Deadlines in working days with the official holiday schedule, overrides and fallback."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from megacity.domain.calendar import LimitUnit, TimeLimit, WorkingCalendar
from megacity.holidays import official_workday

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar(source=official_workday)


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=TZ)


def test_official_schedule_knows_spring_festival_and_make_up_days() -> None:
    assert CAL.is_workday(date(2025, 1, 29)) == (False, True)  # 春节
    assert CAL.is_workday(date(2025, 1, 26)) == (True, True)  # a Sunday made a working day (调休)
    assert CAL.is_workday(date(2025, 3, 3)) == (True, True)


def test_seven_working_days_skip_the_national_day_week() -> None:
    # received Monday 2025-09-29; 10-01..10-08 are holidays, 09-28 and 10-11 make-up days
    deadline = CAL.deadline(at(2025, 9, 29), TimeLimit(7, LimitUnit.WORKING_DAYS), TZ)
    assert deadline.at == at(2025, 10, 15) and not deadline.provisional


def test_request_on_a_holiday_counts_from_the_next_working_day_end() -> None:
    deadline = CAL.deadline(at(2025, 1, 29), TimeLimit(1, LimitUnit.WORKING_DAYS), TZ)
    assert deadline.at == datetime(2025, 2, 5, 23, 59, 59, tzinfo=TZ)


def test_hours_and_calendar_days_ignore_holidays() -> None:
    assert CAL.deadline(at(2025, 1, 29), TimeLimit(2, LimitUnit.HOURS), TZ).at == at(2025, 1, 29, 12)
    assert CAL.deadline(at(2025, 1, 29), TimeLimit(3, LimitUnit.CALENDAR_DAYS), TZ).at == at(2025, 2, 1)


def test_unknown_year_falls_back_to_weekends_and_fixed_holidays_provisionally(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        deadline = CAL.deadline(at(2031, 9, 30), TimeLimit(2, LimitUnit.WORKING_DAYS), TZ)
    # 10-01..10-03 fixed holidays, 10-04/05 weekend: 10-06 (Mon) and 10-07 (Tue)
    assert deadline.at == at(2031, 10, 7) and deadline.provisional
    assert "provisional" in caplog.text


def test_profile_override_beats_the_fallback_and_is_not_provisional() -> None:
    overrides = {date(2031, 3, 10): False}
    cal = WorkingCalendar(source=official_workday, overrides=overrides)
    assert cal.is_workday(date(2031, 3, 10)) == (False, True)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.deadline(datetime(2025, 3, 3), TimeLimit(1, LimitUnit.HOURS), TZ)
