"""The FastAPI application: routers, static files, error handling and limits in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from megacity import __version__
from megacity.bootstrap import Megacity, bootstrap
from megacity.settings import Settings, get_settings
from megacity.web import errors
from megacity.web.api import assessment as assessment_api
from megacity.web.api import auth as auth_api
from megacity.web.api import requests as requests_api
from megacity.web.open311.router import router as open311_router
from megacity.web.pages import actions as page_actions
from megacity.web.pages import (
    auth_pages,
    inbox,
    knowledge,
    landing,
    review,
    settings_page,
    tickets,
    workbench,
)

STATIC = Path(__file__).resolve().parent / "static"


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(megacity: Megacity | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the web app around an application container (built from settings if not given)."""
    megacity = megacity or bootstrap(settings or get_settings())
    app = FastAPI(
        title="Megacity",
        version=__version__,
        description="接诉即办: citizen requests from intake to callback, for very large cities.",
        generate_unique_id_function=_operation_id,
    )
    app.state.megacity = megacity
    errors.install(app)
    limit = megacity.settings.max_body_bytes

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        allowed = limit * 25 if request.url.path.endswith("/attachments") else limit
        if length is not None and (not length.isdigit() or int(length) > allowed):
            return errors.problem(
                request,
                413,
                "Request too large",
                f"the body may be at most {allowed} bytes",
                type_="too-large",
            )
        return await call_next(request)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness probe: the process answers (no database round trip)."""
        return {"status": "ok"}

    app.include_router(auth_api.router)
    app.include_router(requests_api.router)
    app.include_router(assessment_api.router)
    app.include_router(open311_router)
    app.include_router(landing.router)
    for page in (auth_pages, workbench, knowledge, tickets, page_actions, inbox, review, settings_page):
        app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
