"""The analyses of the 分析 page, kept per data version (`megacity.services.revalidate`).

The topic clustering, complainant profiles, abnormal-order statistics and forecasts take seconds
on the demo and minutes at a million requests, and the page is reloaded far more often than
requests change. As `assessment.service.ranking()` does for the engine, a result is kept per
(database URL, section, scope, month) with the data version it was computed at, in memory and in
`result_snapshots` (so `megacity refresh` can compute them ahead of the first visitor).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from megacity.bootstrap import Megacity
from megacity.services.revalidate import Pending, RevalidatingCache, page_budget

__all__ = ["Pending", "cached", "clear", "page_budget"]

T = TypeVar("T")
CACHE_SIZE = 64  # a few sections x a few months x a few scopes; each entry is small (top-N lists)
_cache: RevalidatingCache[Any] = RevalidatingCache("analysis", CACHE_SIZE)


def cached(app: Megacity, section: str, month: str, compute: Callable[[], T], scope: str = "") -> T:
    """`compute()`'s result for this database, section, scope and month at the current data version.

    Callers must not mutate what they get back: it is shared between requests.
    """
    value: T = _cache.get(app.settings.database_url, f"{section}|{scope}|{month}", compute)
    return value


def running() -> bool:
    """Whether a background analysis is computing."""
    return _cache.running()


def clear() -> None:
    """Forget the entries held in memory (tests; the stored results stay)."""
    _cache.clear()
