"""Adapter: the official Chinese holiday schedule from the `chinese_calendar` package."""

from __future__ import annotations

from datetime import date

import chinese_calendar


def official_workday(day: date) -> bool | None:
    """Whether `day` is a working day per the State Council schedule; None if not yet known."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None
