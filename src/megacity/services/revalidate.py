"""Results cached per data version, computed in the background while a page waits briefly.

Rankings and analyses take seconds to minutes on a large database, and with live intake the data
version (the audit head, see `assessment.service.data_version`) changes every second. A cache
entry is keyed by what was asked (`base`) and the data version it was computed at:

* outside `page_budget()` (the API, the CLI, reports) `get` computes inline on a miss — answers
  are always of the current data;
* inside `page_budget(seconds)` (web pages) a miss is computed by the cache's background worker
  (one job per question and version; a reload storm never starts it twice); the view that
  started the job waits for it until its deadline, later views while it runs do not wait; then
  the newest earlier result of the same question is shown (stale while revalidating) or, the
  very first time, `Pending` is raised so the page can say "being computed".
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("page_deadline", default=None)
_worker = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="revalidate"
)  # one job at a time: 2-core hosts


class Pending(Exception):  # noqa: N818 - a state, not a failure
    """The result is being computed in the background and no earlier result exists."""


@contextmanager
def page_budget(seconds: float) -> Iterator[None]:
    """Within this block, cache misses are computed in the background and waited for at most
    until `seconds` from now (one deadline for the whole page)."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


class RevalidatingCache(Generic[T]):
    """A bounded LRU of results per (base, version), with the newest result per base kept apart."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        # one job at a time per cache: background work must not starve the requests of a small
        # host, and a quick ranking must not queue behind a minutes-long analysis
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[Hashable, str], T] = OrderedDict()
        self._latest: dict[Hashable, tuple[str, T]] = {}
        self._running: dict[Hashable, tuple[str, Future[T]]] = {}

    def get(self, base: Hashable, version: str, compute: Callable[[], T], *, fresh: bool = False) -> T:
        """The result for `base` at `version` (see the module docstring); `fresh` always computes inline."""
        key = (base, version)
        if not fresh:
            with self._lock:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    return self._cache[key]
        deadline = _deadline.get()
        if deadline is None or fresh:
            value = compute()
            self._store(base, version, value)
            return value
        job, joined = self._submit(base, version, compute)
        with self._lock:
            stale = self._latest.get(base)
        if joined and stale is not None:  # another view already waits for it: show the earlier one
            return stale[1]
        try:
            return job.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            pass
        if stale is None:
            raise Pending(str(base))
        return stale[1]

    def running(self) -> bool:
        with self._lock:
            return bool(self._running)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._latest.clear()

    def _store(self, base: Hashable, version: str, value: T) -> None:
        with self._lock:
            self._cache[(base, version)] = value
            self._latest[base] = (version, value)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)

    def _submit(self, base: Hashable, version: str, compute: Callable[[], T]) -> tuple[Future[T], bool]:
        """The job computing `base` at `version`, and whether it was already running."""
        with self._lock:
            running = self._running.get(base)
            if running is not None and running[0] == version:
                return running[1], True
            holder: list[Future[T]] = []

            def run() -> T:
                try:
                    value = compute()
                    self._store(base, version, value)
                    return value
                except Exception:
                    log.exception("background computation of %s failed", base)
                    raise
                finally:
                    with self._lock:
                        if holder and self._running.get(base, ("", None))[1] is holder[0]:
                            del self._running[base]

            job: Future[T] = self._worker.submit(run)
            holder.append(job)
            self._running[base] = (version, job)
            return job, False
