"""Slow results kept per data version, in memory and in the database: pages never wait long.

Rankings and analyses take seconds to minutes on a large database. A result is kept per
question (a cache `name` and a `key` such as ``"topics||2025-12"``) with the data version it was
computed at (`store.audit.data_version`: it moves with every change of a request, directory entry
or topic, not with a logged view of personal data):

* in memory (an LRU per process) and in the `result_snapshots` table, shared by the server's
  processes, kept across restarts and written ahead of time by `megacity refresh` (as DHIS2's
  scheduled analytics tables are). Values are pickled, as Django's database cache does: the
  database is ours, and a value that no longer unpickles (another release) is recomputed;
* outside `page_budget()` (the API, the CLI, reports, `megacity refresh`) a result of an older
  data version is recomputed inline: answers are of the current data;
* inside `page_budget(wait, max_age)` (web pages) the cache's single background worker computes
  (one job per question; a reload storm never starts it twice). A result younger than `max_age`
  is shown at once even if the data moved on since (stale while revalidating); an older one is
  waited for until `wait` has passed. Either way the page learns the time of what it showed
  (`PageState.as_of`) and says so. With no result at all `Pending` is raised: "being computed".
"""

from __future__ import annotations

import contextvars
import gc
import hashlib
import logging
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from megacity import __version__
from megacity.store import snapshots
from megacity.store.audit import data_version
from megacity.store.database import engine_for

T = TypeVar("T")
log = logging.getLogger(__name__)


class Pending(Exception):  # noqa: N818 - a state, not a failure
    """The result is being computed in the background and no earlier result exists."""


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """A result and the data version and time it was computed at."""

    value: T
    version: str
    computed_at: datetime


@dataclass
class PageState:
    """What one page may wait for, and the times of the older results it showed."""

    deadline: float  # time.monotonic()
    max_age: float  # seconds
    shown_stale: list[datetime] = field(default_factory=list)

    @property
    def as_of(self) -> datetime | None:
        """The oldest earlier result the page shows, None when all are of the current data."""
        return min(self.shown_stale) if self.shown_stale else None

    def young(self, snapshot: Snapshot[Any]) -> bool:
        return (datetime.now(UTC) - snapshot.computed_at).total_seconds() < self.max_age

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


_page: contextvars.ContextVar[PageState | None] = contextvars.ContextVar("page_state", default=None)


@contextmanager
def page_budget(seconds: float, max_age: float = 0.0) -> Iterator[PageState]:
    """Within this block slow results come from the background (see the module docstring):
    waited for at most until `seconds` from now, shown at once when younger than `max_age`."""
    state = PageState(deadline=time.monotonic() + seconds, max_age=max_age)
    token = _page.set(state)
    try:
        yield state
    finally:
        _page.reset(token)


def current_page() -> PageState | None:
    """The state of the page being rendered in this context, if any."""
    return _page.get()


@lru_cache(maxsize=1)
def code_stamp() -> str:
    """The release and the size and time of every module of the package: results stored by
    other code (another release, or an edited checkout) are never taken for this code's."""
    package = Path(__file__).resolve().parents[1]
    files = sorted(package.rglob("*.py"))
    parts = [
        __version__,
        *(f"{f.relative_to(package)}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def snapshot_key(key: str) -> str:
    """The stored key: the question and the code that answers it (see `code_stamp`)."""
    return hashlib.sha256(f"{code_stamp()}|{key}".encode()).hexdigest()


def _unpickle(payload: bytes) -> Any:
    """A stored value, unpickled with the cyclic garbage collector paused.

    Unpickling a large result creates hundreds of thousands of objects, which sets off full
    collections in the middle of it: measured at 1 M tickets, a 2 MB result took 324 ms to load
    instead of 32 ms. The objects are new and referenced, so pausing loses nothing.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(payload)  # noqa: S301 - our own table, see the module docstring
    finally:
        if paused:
            gc.enable()


class RevalidatingCache(Generic[T]):
    """The newest result per (database, question), in a bounded LRU and in `result_snapshots`."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self._size = size
        # one job at a time per cache: background work must not starve the requests of a small
        # host, and a quick ranking must not queue behind a minutes-long analysis
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._memory: OrderedDict[tuple[str, str], Snapshot[T]] = OrderedDict()
        self._running: dict[tuple[str, str], Future[Snapshot[T]]] = {}

    def get(self, url: str, key: str, compute: Callable[[], T], *, fresh: bool = False) -> T:
        """The result of `key` on the database at `url` (see the module docstring); `fresh`
        always computes inline, even when a result of the current data exists."""
        return self.snapshot(url, key, compute, fresh=fresh).value

    def snapshot(self, url: str, key: str, compute: Callable[[], T], *, fresh: bool = False) -> Snapshot[T]:
        """As `get`, with the data version and time of the result."""
        with engine_for(url).connect() as conn:
            version = data_version(conn)
        base = (url, key)
        latest = None if fresh else self._latest(base, version)
        if latest is not None and latest.version == version:
            return latest
        page = _page.get()
        if page is None or fresh:
            return self._compute(base, version, compute)
        if latest is not None and page.young(latest):
            self._submit(base, version, compute)
            return self._stale(page, latest)
        job, joined = self._submit(base, version, compute)
        if joined and latest is not None:  # another view already waits for it: show the earlier one
            return self._stale(page, latest)
        try:
            return job.result(timeout=page.remaining())
        except TimeoutError:
            pass
        if latest is None:
            raise Pending(key)
        return self._stale(page, latest)

    def put_many(self, url: str, values: dict[str, T], version: str, seconds: float = 0.0) -> None:
        """Store results computed together at data `version` (read before computing them)."""
        at = datetime.now(UTC)
        for key, value in values.items():
            self._put((url, key), Snapshot(value, version, at), seconds / max(len(values), 1))

    def running(self) -> bool:
        with self._lock:
            return bool(self._running)

    def clear(self) -> None:
        """Forget what this process holds in memory (the stored results stay)."""
        with self._lock:
            self._memory.clear()

    @staticmethod
    def _stale(page: PageState, latest: Snapshot[T]) -> Snapshot[T]:
        page.shown_stale.append(latest.computed_at)
        return latest

    def _latest(self, base: tuple[str, str], version: str) -> Snapshot[T] | None:
        """The newest result known: this process's, or a newer one another process stored."""
        with self._lock:
            held = self._memory.get(base)
            if held is not None:
                self._memory.move_to_end(base)
        if held is not None and held.version == version:
            return held
        engine, key = engine_for(base[0]), snapshot_key(base[1])
        try:
            stored = snapshots.stored_version(engine, self.name, key)
            if stored is None or (held is not None and (stored[1] <= held.computed_at)):
                return held
            row = snapshots.load(engine, self.name, key)
            if row is None:
                return held
            value: T = _unpickle(row.payload)
        except (SQLAlchemyError, pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError):
            log.warning("stored result %s/%s is unreadable; it will be recomputed", self.name, base[1])
            return held
        found = Snapshot(value, row.version, row.computed_at)
        self._remember(base, found)
        return found

    def _remember(self, base: tuple[str, str], snapshot: Snapshot[T]) -> None:
        with self._lock:
            self._memory[base] = snapshot
            self._memory.move_to_end(base)
            while len(self._memory) > self._size:
                self._memory.popitem(last=False)

    def _compute(self, base: tuple[str, str], version: str, compute: Callable[[], T]) -> Snapshot[T]:
        started, at = time.perf_counter(), datetime.now(UTC)
        found = Snapshot(compute(), version, at)
        self._put(base, found, time.perf_counter() - started)
        return found

    def _put(self, base: tuple[str, str], found: Snapshot[T], seconds: float) -> None:
        self._remember(base, found)
        try:
            snapshots.save(
                engine_for(base[0]),
                self.name,
                snapshot_key(base[1]),
                label=base[1],
                version=found.version,
                computed_at=found.computed_at,
                seconds=seconds,
                payload=pickle.dumps(found.value, protocol=pickle.HIGHEST_PROTOCOL),
            )
        except (SQLAlchemyError, pickle.PicklingError, TypeError, AttributeError):
            # the result is still served from memory; only other processes and restarts miss it
            log.exception("could not store the result %s/%s", self.name, base[1])

    def _submit(
        self, base: tuple[str, str], version: str, compute: Callable[[], T]
    ) -> tuple[Future[Snapshot[T]], bool]:
        """The job computing `base`, and whether it was already running.

        A running job of an older data version is joined, not queued behind: with live intake the
        data moves every second, and one job at a time keeps a minutes-long analysis from piling up.
        """
        with self._lock:
            running = self._running.get(base)
            if running is not None:
                return running, True
            holder: list[Future[Snapshot[T]]] = []

            def run() -> Snapshot[T]:
                try:
                    return self._compute(base, version, compute)
                except Exception:
                    log.exception("background computation of %s/%s failed", self.name, base[1])
                    raise
                finally:
                    with self._lock:
                        if holder and self._running.get(base) is holder[0]:
                            del self._running[base]

            job: Future[Snapshot[T]] = self._worker.submit(run)
            holder.append(job)
            self._running[base] = job
            return job, False
