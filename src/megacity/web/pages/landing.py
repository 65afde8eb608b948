"""The public landing page: live counts by status and district, nothing personal."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from megacity.services import queries
from megacity.web.deps import MegacityDep
from megacity.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, app: MegacityDep) -> HTMLResponse:
    """Counts of requests by status and by district."""
    overview = queries.overview(app=app)
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
        },
    )
