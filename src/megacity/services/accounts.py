"""Accounts: argon2 password hashes, signed bearer tokens, user administration."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor
from megacity.domain.enums import Role
from megacity.domain.errors import DomainError, ValidationError

TOKEN_LIFETIME_S = 8 * 3600
_HASHERS = {
    # argon2id with the library's recommended cost; the test environment uses a cheap one
    # so that hundreds of logins in the test suite stay fast (the code path is the same)
    "default": PasswordHasher(),
    "test": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}


def _hasher(app: Megacity) -> PasswordHasher:
    return _HASHERS["test" if app.settings.environment == "test" else "default"]


class AuthenticationError(DomainError):
    status = 401
    type = "unauthenticated"
    title = "Authentication required"


class ForbiddenError(DomainError):
    status = 403
    type = "forbidden"
    title = "Not allowed for your role"


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_in: int
    token_type: str = "bearer"


def _key(app: Megacity) -> bytes:
    return hashlib.sha256(f"megacity-token:{app.settings.secret_key}".encode()).digest()


def _sign(app: Megacity, body: str) -> str:
    return hmac.new(_key(app), body.encode(), hashlib.sha256).hexdigest()[:40]


def create_user(
    *,
    app: Megacity,
    username: str,
    password: str,
    role: Role,
    unit_code: str | None = None,
    district_code: str | None = None,
    actor: str = "cli",
) -> int:
    """Create an account; scoped roles must name their unit or district."""
    if not 1 <= len(username) <= 64 or any(c.isspace() or not c.isprintable() for c in username):
        raise ValidationError("a username has 1 to 64 characters and no spaces", field="username")
    if len(password) < 8:
        raise ValidationError("password must have at least 8 characters", field="password")
    if role is Role.UNIT_HANDLER and (unit_code is None or app.profile.org.unit(unit_code) is None):
        raise ValidationError("a unit_handler needs an existing unit code (--unit)", field="unit_code")
    if role is Role.DISTRICT_REVIEWER and district_code not in app.profile.org.districts:
        raise ValidationError(
            "a district_reviewer needs an existing district code (--district)", field="district_code"
        )
    now = app.clock()
    with app.uow() as uow:
        user_id = uow.users.add(
            username=username,
            password_hash=_hasher(app).hash(password),
            role=role.value,
            unit_code=unit_code,
            district_code=district_code,
            active=True,
            created_at=now,
        )
        uow.audit.note(
            action="create_user",
            actor=actor,
            role="admin",
            at=now,
            payload={"user_id": user_id, "role": role.value},
        )
        uow.commit()
    return user_id


def authenticate(*, app: Megacity, username: str, password: str) -> Token:
    """Check a password and issue a bearer token (the same answer for unknown users and bad passwords)."""
    with app.uow(write=False) as uow:
        user = uow.users.by_username(username)
    try:
        if user is None or not user["active"]:
            _hasher(app).hash(password)  # spend the same time as a real check
            raise VerificationError
        _hasher(app).verify(user["password_hash"], password)
    except (VerificationError, InvalidHashError) as exc:
        raise AuthenticationError("wrong username or password") from exc
    # tokens live in wall-clock time, whatever the business clock of the app says
    expires = int(time.time()) + TOKEN_LIFETIME_S
    body = f"v1.{user['id']}.{expires}"
    token = base64.urlsafe_b64encode(f"{body}.{_sign(app, body)}".encode()).decode().rstrip("=")
    return Token(token, TOKEN_LIFETIME_S)


def actor_for_token(*, app: Megacity, token: str) -> Actor:
    """The actor a bearer token stands for; inactive users and expired tokens are refused."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        version, user_id, expires, signature = raw.split(".")
    except (ValueError, UnicodeDecodeError) as exc:
        raise AuthenticationError("the token is not valid") from exc
    body = f"{version}.{user_id}.{expires}"
    if version != "v1" or not hmac.compare_digest(signature, _sign(app, body)):
        raise AuthenticationError("the token is not valid")
    if int(expires) < time.time():
        raise AuthenticationError("the token has expired; log in again")
    with app.uow(write=False) as uow:
        user = uow.users.by_id(int(user_id))
    if user is None or not user["active"]:
        raise AuthenticationError("the account is disabled")
    return Actor(user["username"], Role(user["role"]), user["unit_code"], user["district_code"])


def change_password(*, app: Megacity, username: str, current: str, new: str) -> None:
    """A user's own password change: the current password proves it is them.

    Audited (without either password). Tokens already issued stay valid until they expire.
    """
    if len(new) < 8:
        raise ValidationError("the new password must have at least 8 characters", field="new_password")
    with app.uow() as uow:
        user = uow.users.by_username(username)
        if user is None or not user["active"]:
            raise AuthenticationError("the account is disabled")
        try:
            _hasher(app).verify(user["password_hash"], current)
        except (VerificationError, InvalidHashError) as exc:
            raise ValidationError("the current password is wrong", field="current_password") from exc
        uow.users.set_password_hash(int(user["id"]), _hasher(app).hash(new))
        uow.audit.note(
            action="change_password",
            actor=username,
            role=str(user["role"]),
            at=app.clock(),
            payload={"user_id": user["id"]},
        )
        uow.commit()


def list_users(*, app: Megacity) -> list[dict[str, object]]:
    with app.uow(write=False) as uow:
        return [{k: v for k, v in u.items() if k != "password_hash"} for u in uow.users.all()]


def set_active(*, app: Megacity, username: str, active: bool, actor: str = "cli") -> bool:
    """Enable or disable an account (tokens of a disabled account stop working at once)."""
    with app.uow() as uow:
        changed = uow.users.set_active(username, active)
        if changed:
            uow.audit.note(
                action="enable_user" if active else "disable_user",
                actor=actor,
                role="admin",
                at=app.clock(),
                payload={"username": username},
            )
        uow.commit()
    return changed
