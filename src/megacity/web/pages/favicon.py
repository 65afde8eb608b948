"""`/favicon.ico`: browsers ask for it on every site; without it each page logs a 404."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)
ICON = Path(__file__).resolve().parents[1] / "static" / "favicon.svg"


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """The site icon (SVG), cached for a day."""
    return FileResponse(ICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
