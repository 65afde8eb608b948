"""Browser sessions for the pages: a signed HttpOnly cookie, CSRF tokens and the page actor.

The cookie holds the bearer token `services.accounts.authenticate` issues (so expiry and
disabled accounts work exactly as for the API) and a per-session CSRF token, signed with
HMAC-SHA256 under a key derived from `settings.secret_key`. Every POST form carries the CSRF
token in a hidden field (`csrf_token`) or, for `fetch`, in the `X-CSRF-Token` header; a POST
without it, or with another session's, is refused with 403. The JSON API keeps bearer tokens
(`web/deps.py`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.domain.errors import DomainError
from megacity.services.accounts import TOKEN_LIFETIME_S, AuthenticationError, ForbiddenError, actor_for_token

SESSION_COOKIE = "megacity_session"
FLASH_COOKIE = "megacity_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FLASH_MAX_AGE_S = 120


class CsrfError(DomainError):
    """A POST whose CSRF token is missing or belongs to another session."""

    status = 403
    type = "csrf"
    title = "Form expired or forged"


@dataclass(frozen=True)
class Session:
    """What the session cookie holds: the CSRF token and, once logged in, the bearer token."""

    csrf: str
    token: str | None = None


def _megacity(request: Request) -> Megacity:
    app: Megacity = request.app.state.megacity
    return app


def _key(app: Megacity, purpose: str) -> bytes:
    return hashlib.sha256(f"megacity-{purpose}:{app.settings.secret_key}".encode()).digest()


def sign(app: Megacity, purpose: str, payload: dict[str, Any]) -> str:
    """Encode `payload` as `base64(json).signature` under the key of `purpose`."""
    body = base64.urlsafe_b64encode(json.dumps(payload, ensure_ascii=False).encode()).decode().rstrip("=")
    signature = hmac.new(_key(app, purpose), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{signature}"


def unsign(app: Megacity, purpose: str, value: str | None) -> dict[str, Any] | None:
    """The payload of a signed value, or None if it is missing, malformed or forged."""
    if not value or "." not in value:
        return None
    body, signature = value.rsplit(".", 1)
    expected = hmac.new(_key(app, purpose), body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def current_session(request: Request) -> Session | None:
    """The session of the request's cookie, if it has a valid one."""
    payload = unsign(_megacity(request), "session", request.cookies.get(SESSION_COOKIE))
    if payload is None or not isinstance(payload.get("c"), str):
        return None
    token = payload.get("t")
    return Session(csrf=payload["c"], token=token if isinstance(token, str) else None)


def new_session(token: str | None = None) -> Session:
    """A fresh session with a new CSRF token (logging in and out rotate it)."""
    return Session(csrf=secrets.token_urlsafe(24), token=token)


def store(response: Response, request: Request, session: Session) -> None:
    """Send the session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS."""
    payload = {"c": session.csrf, "t": session.token}
    response.set_cookie(
        SESSION_COOKIE,
        sign(_megacity(request), "session", payload),
        max_age=TOKEN_LIFETIME_S,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def flash(response: Response, request: Request, level: str, text: str) -> None:
    """Leave a one-time message (`ok` or `error`) for the next page the browser loads."""
    response.set_cookie(
        FLASH_COOKIE,
        sign(_megacity(request), "flash", {"level": level, "text": text}),
        max_age=FLASH_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def read_flash(request: Request) -> dict[str, str] | None:
    """The pending flash message of the request, if a valid one was left."""
    payload = unsign(_megacity(request), "flash", request.cookies.get(FLASH_COOKIE))
    if payload is None:
        return None
    return {"level": str(payload.get("level", "ok")), "text": str(payload.get("text", ""))}


def clear_flash(request: Request, response: Response) -> None:
    """Delete a shown flash message from the browser."""
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/")


def safe_next(target: str | None, default: str) -> str:
    """A local path to go back to; anything pointing elsewhere falls back to `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def login_redirect(request: Request) -> HTTPException:
    """A 303 to the login page that comes back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(
        status_code=303, detail="log in first", headers={"Location": f"/login?next={quote(here)}"}
    )


def session_actor(request: Request) -> Actor | None:
    """The logged-in user of the request's session, or None (no session, expired, disabled)."""
    session = current_session(request)
    if session is None or session.token is None:
        return None
    try:
        return actor_for_token(app=_megacity(request), token=session.token)
    except AuthenticationError:
        return None


def page_actor(request: Request) -> Actor:
    """The logged-in user of a page; a 303 to /login when there is none."""
    actor = session_actor(request)
    if actor is None:
        raise login_redirect(request)
    return actor


def json_actor(request: Request) -> Actor:
    """The logged-in user of a page's JSON helper; 401 when there is none (fetch cannot log in)."""
    actor = session_actor(request)
    if actor is None:
        raise AuthenticationError("log in first: /login")
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]
JsonActor = Annotated[Actor, Depends(json_actor)]


def page_requires(check: Callable[[Actor], bool], what: str) -> Callable[[Actor], Actor]:
    """A dependency letting through logged-in users for whom `check` holds (403 otherwise)."""

    def dependency(actor: PageActor) -> Actor:
        if not check(actor):
            raise ForbiddenError(f"role {actor.role.value} may not use {what}")
        return actor

    return dependency


def permission(permission_: Permission) -> Callable[[Actor], bool]:
    return lambda actor: actor.may(permission_)


def _check_token(request: Request, sent: str | None) -> Session:
    session = current_session(request)
    if session is None or not sent or not hmac.compare_digest(sent, session.csrf):
        raise CsrfError("the form has expired or did not come from this site; reload the page and try again")
    return session


async def csrf_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matches the session's (403 otherwise)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    _check_token(request, sent if isinstance(sent, str) else None)
    return form


def csrf_header(request: Request) -> Session:
    """For fetch() POSTs: the `X-CSRF-Token` header must match the session's token."""
    return _check_token(request, request.headers.get(CSRF_HEADER))


CsrfForm = Annotated[FormData, Depends(csrf_form)]
CsrfHeader = Annotated[Session, Depends(csrf_header)]


def field(form: FormData, name: str) -> str:
    """A text field of a form, stripped ('' when absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
