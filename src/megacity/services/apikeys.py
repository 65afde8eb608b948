"""API keys of Open311 clients: create, list, revoke, verify, and a request budget per key.

A key is shown once, when it is created; the database keeps only its SHA-256 hash (a key
is 256 random bits, so a fast hash is enough: there is nothing to brute-force). Creating
and revoking a key are recorded in the audit log. Each key may POST `POSTS_PER_MINUTE`
requests a minute (a token bucket per key, in the process: each worker keeps its own).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from megacity.bootstrap import Megacity
from megacity.domain.errors import DomainError, NotFoundError, ValidationError
from megacity.services.ratelimit import RateLimitedError, TokenBuckets
from megacity.store.tables import api_keys

#: POSTs one key may make per minute, and as a burst.
POSTS_PER_MINUTE = 60
KEY_PREFIX = "m311_"
#: Names end up in actor strings (`open311:<name>`, at most 64 characters in the audit log).
_NAME = re.compile(r"^[\w.-]{1,56}$")


class InvalidApiKeyError(DomainError):
    """A missing, unknown or revoked API key (HTTP 403 in Open311 terms)."""

    status = 403
    type = "invalid-api-key"
    title = "Invalid API key"


@dataclass(frozen=True)
class ApiKey:
    """A key as the database knows it: never the key itself."""

    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def actor(self) -> str:
        """Who a request made with this key is recorded as."""
        return f"open311:{self.name}"


def key_hash(key: str) -> str:
    """The stored form of a key.

    >>> key_hash("m311_x") == hashlib.sha256(b"m311_x").hexdigest()
    True
    """
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyRepository:
    """Rows of `api_keys` inside a unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, *, name: str, hashed: str, at: datetime) -> int:
        result = self._conn.execute(insert(api_keys).values(name=name, key_hash=hashed, created_at=at))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def by_hash(self, hashed: str) -> ApiKey | None:
        row = self._conn.execute(select(api_keys).where(api_keys.c.key_hash == hashed)).first()
        return None if row is None else _key(row._mapping)

    def by_id(self, key_id: int) -> ApiKey | None:
        row = self._conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        return None if row is None else _key(row._mapping)

    def all(self) -> list[ApiKey]:
        return [_key(r._mapping) for r in self._conn.execute(select(api_keys).order_by(api_keys.c.id))]

    def revoke(self, key_id: int, at: datetime) -> bool:
        result = self._conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return result.rowcount == 1


def _key(row: Any) -> ApiKey:
    return ApiKey(row["id"], row["name"], row["created_at"], row["revoked_at"])


def create(*, app: Megacity, name: str, actor: str = "cli") -> tuple[ApiKey, str]:
    """Create a key for a client called `name`; returns the record and the key (shown only now)."""
    if not _NAME.match(name):
        raise ValidationError(
            "a key name has 1 to 56 letters, digits, '.', '_' or '-' (no spaces)", field="name"
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = app.clock()
    with app.uow() as uow:
        key_id = ApiKeyRepository(uow.connection).add(name=name, hashed=key_hash(key), at=now)
        uow.audit.note(
            action="create_api_key",
            actor=actor,
            role="admin",
            at=now,
            payload={"api_key_id": key_id, "name": name},
        )
        uow.commit()
    return ApiKey(key_id, name, now, None), key


def list_keys(*, app: Megacity) -> list[ApiKey]:
    """Every key, oldest first, revoked ones included."""
    with app.uow(write=False) as uow:
        return ApiKeyRepository(uow.connection).all()


def revoke(*, app: Megacity, key_id: int, actor: str = "cli") -> bool:
    """Revoke a key at once; False if it was already revoked, NotFoundError if there is none."""
    now = app.clock()
    with app.uow() as uow:
        keys = ApiKeyRepository(uow.connection)
        if keys.by_id(key_id) is None:
            raise NotFoundError(f"no api key with id {key_id}")
        revoked = keys.revoke(key_id, now)
        if revoked:
            uow.audit.note(
                action="revoke_api_key", actor=actor, role="admin", at=now, payload={"api_key_id": key_id}
            )
        uow.commit()
    return revoked


def verify(*, app: Megacity, key: str | None) -> ApiKey:
    """The active key behind `key`; InvalidApiKeyError when it is missing, unknown or revoked."""
    if not key:
        raise InvalidApiKeyError("api_key is required to create a request")
    with app.uow(write=False) as uow:
        found = ApiKeyRepository(uow.connection).by_hash(key_hash(key))
    if found is None:
        raise InvalidApiKeyError("invalid api_key: no such key")
    if not found.active:
        raise InvalidApiKeyError("invalid api_key: the key was revoked")
    return found


class PostLimiter:
    """The POST budget of each key: a token bucket per key id (`POSTS_PER_MINUTE`, same burst)."""

    def __init__(self, per_minute: int = POSTS_PER_MINUTE, buckets: TokenBuckets | None = None) -> None:
        self.per_minute = per_minute
        self._buckets = buckets or TokenBuckets(per_minute=per_minute, capacity=per_minute)

    def check(self, key: ApiKey) -> None:
        """Take one POST from the key's budget; RateLimitedError (with retry_after) when it is spent."""
        wait = self._buckets.take(f"api-key:{key.id}")
        if wait:
            raise RateLimitedError(
                f"api key '{key.name}' may POST {self.per_minute} requests a minute; retry in {wait} s",
                retry_after=wait,
            )
