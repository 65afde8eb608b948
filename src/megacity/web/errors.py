"""One error shape for the API: RFC 9457 problem+json; pages get an HTML error page.

Services raise domain errors that carry their status; nothing outside `web/` knows HTTP.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from megacity.domain.errors import DomainError, ValidationError
from megacity.web.labels import N_

log = logging.getLogger(__name__)

#: Titles the error page translates; the domain errors carry them in English (marked here for Babel).
ERROR_TITLES = (
    N_("Action not allowed in this state"),
    N_("Authentication required"),
    N_("Conflict"),
    N_("Error"),
    N_("Form expired or forged"),
    N_("Invalid input"),
    N_("Invalid request"),
    N_("Method not allowed"),
    N_("Not allowed for your role"),
    N_("Not found"),
    N_("Profile error"),
    N_("Request too large"),
    N_("Too many requests"),
)
PROBLEM_JSON = "application/problem+json"


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with field-level errors for invalid input."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] = []


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": text}
    for code, text in {
        400: "Bad request",
        401: "Not authenticated",
        403: "Not allowed for your role",
        404: "Not found",
        409: "Not allowed in the current state, or a conflicting change",
        413: "Request too large",
        422: "Invalid input",
        429: "Too many requests",
    }.items()
}


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    type_: str,
    errors: list[FieldProblem] | None = None,
) -> Response:
    """Render an error: problem+json for the API, a small HTML page for browser pages.

    Open311 clients get the GeoReport error list their specification prescribes instead.
    """
    if request.url.path.startswith("/open311/"):
        from megacity.web.open311 import render as georeport

        return georeport.errors(georeport.format_of(request.url.path), status, [detail])
    body = Problem(
        type=f"/problems/{type_}",
        title=title,
        status=status,
        detail=detail,
        instance=str(request.url.path),
        errors=errors or [],
    )
    if not _wants_json(request):
        return _error_page(request, status, title, detail)
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM_JSON)


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    """The site's own error page (navigation, language links); a bare page if templates fail,
    so an error while rendering an error never hides the first one."""
    from megacity.web.templating import render

    try:
        response = render(request, "error.html", {"status": status, "title": title, "detail": detail})
    except Exception:  # noqa: BLE001 - last line of defence
        log.exception("error page failed to render")
        page = (
            f"<!doctype html><html lang='zh-CN'><title>{status}</title>"
            f"<h1>{status} {html.escape(title)}</h1><p>{html.escape(detail)}</p>"
        )
        return HTMLResponse(page, status_code=status)
    response.status_code = status
    return response


def _wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api", "/open311", "/openapi")):
        return True
    return "text/html" not in request.headers.get("accept", "")


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    errors = None
    if isinstance(exc, ValidationError) and exc.field:
        errors = [FieldProblem(field=exc.field, message=exc.detail)]
    response = problem(request, exc.status, exc.title, exc.detail, type_=exc.type, errors=errors)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldProblem(field=_location(e["loc"]), message=e["msg"]) for e in exc.errors()]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    return problem(request, 422, "Invalid input", detail, type_="validation-error", errors=errors)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed", 413: "Request too large"}.get(
        exc.status_code, "Error"
    )
    response = problem(request, exc.status_code, title, str(exc.detail), type_=f"http-{exc.status_code}")
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route offers for this path (Starlette names only the first route's).

    A literal route wins over a templated one: `/complainants/profiles` offers GET only, even
    though `/complainants/{id}` (PATCH) would also match the text of its path.
    """
    routes = list(_leaves(request.app.routes))
    path = request.scope.get("path", "")
    literal = [r for r in routes if getattr(r, "path", None) == path]
    candidates = literal or routes
    methods: set[str] = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in candidates):
            methods.add(method)
    return sorted(methods)


def _leaves(routes: Any) -> Any:
    """Routes, looking inside included routers."""
    for route in routes:
        inner = getattr(route, "effective_candidates", None)
        if inner is not None:
            yield from _leaves(inner() if callable(inner) else inner)
        else:
            yield route


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s", request.url.path)
    return problem(
        request, 500, "Internal error", "an unexpected error occurred; it was logged", type_="internal"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
