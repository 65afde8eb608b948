"""The FastAPI application: routers, static files, error handling and limits in one place."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from megacity import __version__
from megacity.bootstrap import Megacity, bootstrap
from megacity.settings import Settings, get_settings
from megacity.web import errors
from megacity.web.api import analysis_abnormal as abnormal_api
from megacity.web.api import analysis_topics as topics_api
from megacity.web.api import assessment as assessment_api
from megacity.web.api import auth as auth_api
from megacity.web.api import complainants as complainants_api
from megacity.web.api import dispatch as dispatch_api
from megacity.web.api import forecast as forecast_api
from megacity.web.api import indicators as indicators_api
from megacity.web.api import repeats as repeats_api
from megacity.web.api import requests as requests_api
from megacity.web.open311.router import router as open311_router
from megacity.web.pages import actions as page_actions
from megacity.web.pages import analysis as analysis_page
from megacity.web.pages import (
    auth_pages,
    favicon,
    inbox,
    knowledge,
    landing,
    review,
    settings_page,
    tickets,
    workbench,
)
from megacity.web.pages import monitoring as monitoring_page
from megacity.web.pages import ranking as ranking_page

STATIC = Path(__file__).resolve().parent / "static"


def _operation_id(route: APIRoute) -> str:
    return route.name


def _warm_dispatcher(megacity: Megacity) -> threading.Thread | None:
    """Load the dispatch model in the background, so the first intake does not load it while
    holding a write transaction (about a second; on SQLite that blocks every other writer)."""
    load = getattr(megacity.dispatcher, "model", None)
    if not callable(load):
        return None
    thread = threading.Thread(target=load, name="warm-dispatcher", daemon=True)
    thread.start()
    return thread


def _warm_pages(megacity: Megacity, dispatcher: threading.Thread | None) -> None:
    """Read the landing page's counts and the ranking and monitoring panel of the month the
    pages open on once at start (stored by `megacity refresh`, else computed: a second at a
    million requests), so that the first visitors do not pay for cold caches.

    Then, once the dispatch model is loaded too, everything alive is moved out of the garbage
    collector's sight (`gc.freeze`): the modules, profile and model live as long as the process,
    and scanning them made each full collection a pause of ~0.3 s on some page (measured at 1 M
    tickets: the p95 of a 150 ms page reached 500 ms)."""
    from megacity.web.pages import landing, monitoring_data, ranking_data

    try:
        landing.counts(megacity)
        month = ranking_data.default_month(megacity)
        ranking_data.month_ranking(megacity, month)
        monitoring_data.district_panel(megacity, month)
    except Exception:  # noqa: BLE001 - a failed warm-up only costs the first visitor time
        logging.getLogger(__name__).exception("warming up failed")
    if dispatcher is not None:
        dispatcher.join(timeout=300)
    gc.collect()
    gc.freeze()


def create_app(megacity: Megacity | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the web app around an application container (built from settings if not given)."""
    megacity = megacity or bootstrap(settings or get_settings())
    # FastAPI's default /docs page fetches Swagger UI from the internet; government networks are
    # often offline, so it comes from the fastapi-offline package's files instead. No /redoc:
    # ReDoc's bundle fetches its logo from the internet whatever it is told.
    app = FastAPIOffline(
        redoc_url=None,
        title="Megacity",
        version=__version__,
        description="接诉即办: citizen requests from intake to callback, for very large cities.",
        generate_unique_id_function=_operation_id,
        static_url="/static-api-docs",
        favicon_url="/favicon.ico",
    )
    app.state.megacity = megacity
    dispatcher = _warm_dispatcher(megacity)
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
    app.include_router(dispatch_api.router)
    app.include_router(assessment_api.router)
    app.include_router(complainants_api.router)
    app.include_router(abnormal_api.router)
    app.include_router(topics_api.router)
    app.include_router(forecast_api.router)
    app.include_router(repeats_api.router)
    app.include_router(indicators_api.router)
    app.include_router(open311_router)
    app.include_router(landing.router)
    app.include_router(ranking_page.router)
    app.include_router(monitoring_page.router)
    app.include_router(analysis_page.router)
    app.include_router(favicon.router)
    for page in (auth_pages, workbench, knowledge, tickets, page_actions, inbox, review, settings_page):
        app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if megacity.settings.environment != "test":  # tests start hundreds of servers on tiny databases
        # FastAPI builds each route's models on the first request that walks past it (half a
        # second for the first page); build them before the server answers at all
        app.openapi()
        threading.Thread(
            target=_warm_pages, args=(megacity, dispatcher), name="warm-pages", daemon=True
        ).start()
    return app
