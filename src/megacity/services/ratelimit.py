"""Rate limits: token buckets per client, and a daily cap per complainant (条例 Art. 9/37).

The per-client buckets live in the process (each worker limits its own share); the
per-complainant cap counts stored requests, so it holds across processes and restarts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from megacity.domain.errors import DomainError


class RateLimitedError(DomainError):
    status = 429
    type = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """`capacity` requests at once, refilled at `per_minute` a minute, per key.

    >>> buckets = TokenBuckets(per_minute=60, capacity=2, clock=lambda: 0.0)
    >>> buckets.take("a"), buckets.take("a"), buckets.take("a")
    (0, 0, 1)
    """

    def __init__(
        self, *, per_minute: float, capacity: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = per_minute / 60.0
        self._capacity = capacity
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Take one token; returns 0 when allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key) or _Bucket(float(self._capacity), now)
            bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
            self._buckets[key] = bucket
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0
            return max(1, int((1 - bucket.tokens) / self._rate + 0.999))
