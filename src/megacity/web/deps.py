"""Dependencies shared by routes: the application container and the authenticated actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.services.accounts import AuthenticationError, ForbiddenError, actor_for_token
from megacity.services.ratelimit import RateLimitedError, TokenBuckets

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_megacity(request: Request) -> Megacity:
    app: Megacity = request.app.state.megacity
    return app


MegacityDep = Annotated[Megacity, Depends(get_megacity)]


def current_actor(app: MegacityDep, token: Annotated[str | None, Depends(oauth2)]) -> Actor:
    """The user behind the bearer token; 401 without a valid one."""
    if not token:
        raise AuthenticationError(
            "log in first: POST /api/auth/token, then send 'Authorization: Bearer <token>'"
        )
    return actor_for_token(app=app, token=token)


ActorDep = Annotated[Actor, Depends(current_actor)]


def client_limited(request: Request, actor: ActorDep) -> Actor:
    """Per-client rate limit of API calls (HTTP 429 with Retry-After beyond it)."""
    buckets: TokenBuckets | None = getattr(request.app.state, "write_buckets", None)
    if buckets is None:
        per_minute = request.app.state.megacity.settings.client_requests_per_minute
        buckets = request.app.state.write_buckets = TokenBuckets(per_minute=per_minute, capacity=per_minute)
    wait = buckets.take(actor.name)
    if wait:
        raise RateLimitedError(f"too many requests from {actor.name}; retry in {wait} s", retry_after=wait)
    return actor


def require(permission: Permission) -> Callable[[Actor], Actor]:
    """A dependency that lets only roles with `permission` through (403 otherwise)."""

    def check(actor: ActorDep) -> Actor:
        if not actor.may(permission):
            raise ForbiddenError(f"role {actor.role.value} may not {permission.value.replace('_', ' ')}")
        return actor

    return check
