"""设置: every user's own account (password change); for admins also the profile in force and the
user accounts (create, disable, enable) — the same services as `megacity user …`, so both are
audited alike."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.domain.enums import ACCOUNT_ROLES, Role
from megacity.domain.errors import DomainError, ValidationError
from megacity.services import accounts
from megacity.web.deps import MegacityDep
from megacity.web.pages.common import error_text, gettext_for, render_page
from megacity.web.session import CsrfForm, PageActor, field, flash, page_requires, permission

router = APIRouter(include_in_schema=False)
Admin = Annotated[Actor, Depends(page_requires(permission(Permission.MANAGE_USERS), "the user accounts"))]


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, app: MegacityDep, actor: PageActor) -> HTMLResponse:
    """My account for everyone; the profile summary and the users for admins."""
    context: dict[str, Any] = {"admin": actor.may(Permission.MANAGE_USERS), "roles": ACCOUNT_ROLES}
    if context["admin"]:
        context.update(_admin_context(app))
    return render_page(request, actor, "settings.html", context)


def _admin_context(app: Megacity) -> dict[str, Any]:
    profile = app.profile
    units = list(profile.org.units.values())
    return {
        "profile": profile,
        "counts": {
            "districts": len(profile.org.districts),
            "street_units": sum(1 for u in units if u.type.is_street_level),
            "units": len(units),
            "categories": len(profile.catalogue.categories),
            "leaves": len(profile.catalogue.leaves()),
        },
        "users": sorted(accounts.list_users(app=app), key=lambda u: str(u["username"])),
        "districts": sorted(profile.org.districts.items()),
    }


def _failed(request: Request, response: RedirectResponse, exc: DomainError) -> RedirectResponse:
    flash(response, request, "error", error_text(gettext_for(request), exc))
    return response


@router.post("/settings/password")
def change_password(request: Request, app: MegacityDep, actor: PageActor, form: CsrfForm) -> RedirectResponse:
    """Change one's own password; the current one must be given, the new one twice."""
    _ = gettext_for(request)
    response = RedirectResponse("/settings#account", status_code=303)
    new = form.get("new_password")
    if not isinstance(new, str) or new != form.get("new_password_again"):
        flash(response, request, "error", _("The two new passwords differ."))
        return response
    current = form.get("current_password")
    try:
        accounts.change_password(
            app=app, username=actor.name, current=current if isinstance(current, str) else "", new=new
        )
    except DomainError as exc:
        return _failed(request, response, exc)
    flash(response, request, "ok", _("Your password was changed."))
    return response


@router.post("/settings/users")
def create_user(request: Request, app: MegacityDep, actor: Admin, form: CsrfForm) -> RedirectResponse:
    """Create an account (a unit handler names its unit, a district reviewer its district)."""
    _ = gettext_for(request)
    response = RedirectResponse("/settings#users", status_code=303)
    role = field(form, "role")
    password = form.get("password")
    try:
        if role not in {r.value for r in ACCOUNT_ROLES}:
            raise ValidationError(f"unknown role {role!r}", field="role")
        username = field(form, "username")
        accounts.create_user(
            app=app,
            username=username,
            password=password if isinstance(password, str) else "",
            role=Role(role),
            unit_code=field(form, "unit_code") or None,
            district_code=field(form, "district_code") or None,
            actor=actor.name,
        )
    except DomainError as exc:
        return _failed(request, response, exc)
    flash(response, request, "ok", _("Account created: %(name)s") % {"name": username})
    return response


@router.post("/settings/users/{username}/active")
def set_active(
    username: str, request: Request, app: MegacityDep, actor: Admin, form: CsrfForm
) -> RedirectResponse:
    """Disable or enable an account; an admin cannot disable their own."""
    _ = gettext_for(request)
    response = RedirectResponse("/settings#users", status_code=303)
    active = field(form, "active") == "true"
    if not active and username == actor.name:
        flash(response, request, "error", _("You cannot disable your own account."))
        return response
    if not accounts.set_active(app=app, username=username, active=active, actor=actor.name):
        flash(response, request, "error", _("No account is called %(name)s.") % {"name": username})
        return response
    done = _("Account enabled: %(name)s") if active else _("Account disabled: %(name)s")
    flash(response, request, "ok", done % {"name": username})
    return response
