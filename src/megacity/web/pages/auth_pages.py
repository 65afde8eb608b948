"""Logging in and out of the pages: a username/password form and a signed session cookie."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from megacity.services import accounts
from megacity.services.accounts import AuthenticationError
from megacity.web.deps import MegacityDep
from megacity.web.pages.common import gettext_for, home_for
from megacity.web.session import (
    CsrfForm,
    clear_flash,
    current_session,
    field,
    flash,
    new_session,
    read_flash,
    safe_next,
    session_actor,
    store,
)
from megacity.web.templating import render

router = APIRouter(include_in_schema=False)


def _login_form(request: Request, next_: str, error: str | None, status_code: int) -> HTMLResponse:
    session = current_session(request) or new_session()
    response = render(
        request,
        "login.html",
        {
            "csrf_token": session.csrf,
            "next": next_,
            "error": error,
            "flash": read_flash(request),
            "show_login": False,
        },
    )
    response.status_code = status_code
    response.headers["Cache-Control"] = "no-store"
    store(response, request, session)
    clear_flash(request, response)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> Response:
    """The login form (a logged-in user goes straight on)."""
    actor = session_actor(request)
    if actor is not None:
        return RedirectResponse(safe_next(next, home_for(actor)), status_code=303)
    return _login_form(request, safe_next(next, ""), None, 200)


@router.post("/login")
def login(request: Request, app: MegacityDep, form: CsrfForm) -> Response:
    """Check the password, start a fresh session and go to the page asked for."""
    _ = gettext_for(request)
    next_ = safe_next(field(form, "next"), "")
    username, password = field(form, "username"), form.get("password")
    try:
        if not username or not isinstance(password, str) or not password:
            raise AuthenticationError("wrong username or password")
        token = accounts.authenticate(app=app, username=username[:64], password=password[:256])
    except AuthenticationError:
        return _login_form(request, next_, _("Wrong username or password."), 401)
    actor = accounts.actor_for_token(app=app, token=token.access_token)
    response = RedirectResponse(next_ or home_for(actor), status_code=303)
    store(response, request, new_session(token.access_token))  # a new CSRF token too
    return response


@router.post("/logout")
def logout(request: Request, form: CsrfForm) -> RedirectResponse:
    """End the session: the cookie loses its token and gets a new CSRF token."""
    _ = gettext_for(request)
    response = RedirectResponse("/login", status_code=303)
    store(response, request, new_session())
    flash(response, request, "ok", _("You have logged out."))
    return response
