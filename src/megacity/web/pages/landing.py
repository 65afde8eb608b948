"""The public landing page: counts by status and district, nothing personal."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from megacity.bootstrap import Megacity
from megacity.services import queries
from megacity.services.revalidate import Pending, RevalidatingCache
from megacity.web.deps import MegacityDep
from megacity.web.pages.common import local_time, slow_results
from megacity.web.templating import render

router = APIRouter(include_in_schema=False)
#: Three counts over every request: a quarter of a second at a million on PostgreSQL, for the
#: busiest page of all; kept per data version like the rankings (shown with their time if older).
_counts: RevalidatingCache[queries.Overview] = RevalidatingCache("landing", 4)


def counts(app: Megacity) -> queries.Overview:
    """The counts of the current data, or of a moment ago when they are being recounted."""
    try:
        return _counts.get(app.settings.database_url, "overview", lambda: queries.overview(app=app))
    except Pending:  # never counted in this database yet: count now rather than show nothing
        return queries.overview(app=app)


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, app: MegacityDep) -> HTMLResponse:
    """Counts of requests by status and by district."""
    with slow_results(app) as page:
        overview = counts(app)
    districts = [
        (d.name, overview.by_district.get(code, 0)) for code, d in sorted(app.profile.org.districts.items())
    ]
    return render(
        request,
        "landing.html",
        {
            "city": app.profile.name,
            "total": overview.total,
            "by_status": sorted(overview.by_status.items(), key=lambda kv: -kv[1]),
            "districts": districts,
            "max_district": max([n for _, n in districts] or [0]) or 1,
            "as_of": page.as_of,
            "when": partial(local_time, tz=app.tz),
        },
    )
