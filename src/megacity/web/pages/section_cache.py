"""A small bounded LRU for the 分析 page's analyses, valid while no ticket changes.

The topic clustering, complainant profiles, abnormal-order statistics and forecasts take
seconds on a large database, and the page is reloaded far more often than tickets change. As
`assessment.service.ranking()` does for the engine, a result is kept per (database URL,
section, scope, month, data version): the data version is the audit head's sequence, which
grows with every ticket change (and every directory or topic change, which is audited too), so
a stale entry is never served — it is simply never asked for again and falls out of the LRU.
The data version is `seq:hash` of the audit head: a database dropped and filled again under the
same URL (tests, a restore) can reach the same sequence number with other contents, never the
same hash.

On a large database an analysis takes minutes (all of them read whole tables), and with live
intake the data version changes every second. Within `page_budget()` the page therefore computes
in the background and shows an earlier result or "being computed" when its time is spent
(`megacity.services.revalidate`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from megacity.assessment.service import data_version
from megacity.bootstrap import Megacity
from megacity.services.revalidate import Pending, RevalidatingCache, page_budget

__all__ = ["Pending", "cached", "clear", "page_budget"]

T = TypeVar("T")
CACHE_SIZE = 64  # a few sections x a few months x a few scopes; each entry is small (top-N lists)
_cache: RevalidatingCache[Any] = RevalidatingCache(CACHE_SIZE, "analysis")


def cached(app: Megacity, section: str, month: str, compute: Callable[[], T], scope: str = "") -> T:
    """`compute()`'s result for this database, section, scope and month at the current data version.

    Callers must not mutate what they get back: it is shared between requests.
    """
    base = (app.settings.database_url, section, scope, month)
    value: T = _cache.get(base, data_version(app), compute)
    return value


def running() -> bool:
    """Whether a background analysis is computing."""
    return _cache.running()


def clear() -> None:
    """Forget every entry (tests, or after a repair made outside the application)."""
    _cache.clear()
