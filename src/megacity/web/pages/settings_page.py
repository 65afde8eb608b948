"""设置: the profile in force and the user accounts (read-only; accounts are managed with the CLI)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from megacity.domain.access import Actor, Permission
from megacity.services import accounts
from megacity.web.deps import MegacityDep
from megacity.web.pages.common import render_page
from megacity.web.session import page_requires, permission

router = APIRouter(include_in_schema=False)
Admin = Annotated[Actor, Depends(page_requires(permission(Permission.MANAGE_USERS), "the settings"))]


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, app: MegacityDep, actor: Admin) -> HTMLResponse:
    """The profile summary (counts, assumptions) and the list of users."""
    profile = app.profile
    units = list(profile.org.units.values())
    context = {
        "profile": profile,
        "counts": {
            "districts": len(profile.org.districts),
            "street_units": sum(1 for u in units if u.type.is_street_level),
            "units": len(units),
            "categories": len(profile.catalogue.categories),
            "leaves": len(profile.catalogue.leaves()),
        },
        "users": sorted(accounts.list_users(app=app), key=lambda u: str(u["username"])),
    }
    return render_page(request, actor, "settings.html", context)
