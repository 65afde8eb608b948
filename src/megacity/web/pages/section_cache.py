"""A small bounded LRU for the 分析 page's analyses, valid while no ticket changes.

The topic clustering, complainant profiles, abnormal-order statistics and forecasts take
seconds on a large database, and the page is reloaded far more often than tickets change. As
`assessment.service.ranking()` does for the engine, a result is kept per (database URL,
section, scope, month, data version): the data version is the audit head's sequence, which
grows with every ticket change (and every directory or topic change, which is audited too), so
a stale entry is never served — it is simply never asked for again and falls out of the LRU.
The key also holds the audit head's hash: a database dropped and filled again under the same URL
(tests, a restore) can reach the same sequence number with other contents, never the same hash.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from megacity.assessment.service import data_version
from megacity.bootstrap import Megacity

T = TypeVar("T")
CACHE_SIZE = 64  # a few sections x a few months x a few scopes; each entry is small (top-N lists)

Key = tuple[str, str, str, str, str]
_cache: OrderedDict[Key, Any] = OrderedDict()
_lock = threading.Lock()


def cached(app: Megacity, section: str, month: str, compute: Callable[[], T], scope: str = "") -> T:
    """`compute()`'s result for this database, section, scope and month at the current data version.

    Two requests racing on a miss both compute (no lock is held while computing: one slow
    analysis must not block the other sections); the later result simply replaces the earlier.
    Callers must not mutate what they get back: it is shared between requests.
    """
    key: Key = (app.settings.database_url, section, scope, month, data_version(app))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            hit: T = _cache[key]
            return hit
    value = compute()
    with _lock:
        _cache[key] = value
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def clear() -> None:
    """Forget every entry (tests, or after a repair made outside the application)."""
    with _lock:
        _cache.clear()
