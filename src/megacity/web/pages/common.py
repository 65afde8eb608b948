"""Shared by the pages: navigation per role, rendering with session and flash, names and times."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.routing import Match

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.domain.calendar import WorkingCalendar
from megacity.domain.enums import DEADLINE_RUNNING, Role
from megacity.domain.errors import DomainError
from megacity.domain.lifecycle import Action
from megacity.domain.profile import Profile
from megacity.services.revalidate import PageState, current_page, page_budget
from megacity.web.i18n import negotiate, translations
from megacity.web.labels import N_
from megacity.web.session import clear_flash, current_session, read_flash
from megacity.web.templating import render

A, P = Action, Permission
#: Actions worked from the review queues; whoever may perform one of them sees /review.
REVIEW_ACTIONS = frozenset(
    {
        A.REJECT_DISPUTE,
        A.REDISPATCH,
        A.APPROVE_EXTENSION,
        A.REJECT_EXTENSION,
        A.DISTRICT_APPROVE_EXCLUSION,
        A.CITY_APPROVE_EXCLUSION,
        A.REJECT_EXCLUSION,
        A.ESCALATE,
    }
)


def may_review(actor: Actor) -> bool:
    return any(actor.may_act(a) for a in REVIEW_ACTIONS)


def is_unit_handler(actor: Actor) -> bool:
    return actor.role is Role.UNIT_HANDLER and actor.unit_code is not None


@dataclass(frozen=True)
class NavItem:
    """A page in the navigation: shown when its route exists and the role may use it."""

    path: str
    label: str
    allowed: Callable[[Actor], bool]


NAV: tuple[NavItem, ...] = (
    NavItem("/workbench", N_("Workbench"), lambda a: a.may(P.CREATE_REQUEST)),
    NavItem("/inbox", N_("My inbox"), is_unit_handler),
    NavItem("/tickets", N_("Tickets"), lambda a: a.may(P.READ_REQUESTS)),
    NavItem("/review", N_("Review"), may_review),
    NavItem("/knowledge", N_("Knowledge base"), lambda a: a.may(P.READ_REQUESTS)),
    # slots for the assessment and analytics pages: hidden until their routes exist
    NavItem("/ranking", N_("Assessment ranking"), lambda a: a.may(P.READ_ASSESSMENT)),
    NavItem("/monitoring", N_("Indicator monitoring"), lambda a: a.may(P.READ_ANALYTICS)),
    NavItem("/analysis", N_("Analysis"), lambda a: a.may(P.READ_ANALYTICS)),
    NavItem("/settings", N_("Settings"), lambda a: True),  # my account for everyone; users for admins
)


def _serves(request: Request, path: str) -> bool:
    """Whether the app has a GET route for `path` (routers may be nested, so ask them to match)."""
    scope = {
        "type": "http",
        "path": path,
        "method": "GET",
        "root_path": "",
        "headers": [],
        "query_string": b"",
    }
    return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)


def nav_for(request: Request, actor: Actor) -> list[dict[str, Any]]:
    """The navigation entries this actor may use, the current one marked."""
    here = request.url.path
    return [
        {
            "path": item.path,
            "label": item.label,
            "current": here == item.path or here.startswith(item.path + "/"),
        }
        for item in NAV
        if item.allowed(actor) and _serves(request, item.path)
    ]


def home_for(actor: Actor) -> str:
    """Where a user lands after logging in: the first page of their work."""
    if actor.may(P.CREATE_REQUEST) and actor.role is Role.OPERATOR:
        return "/workbench"
    if is_unit_handler(actor):
        return "/inbox"
    if actor.role is Role.DISTRICT_REVIEWER:
        return "/review"
    return "/tickets"


def megacity_of(request: Request) -> Megacity:
    app: Megacity = request.app.state.megacity
    return app


def gettext_for(request: Request) -> Callable[[str], str]:
    """The translation function of the request's language, for messages built in Python."""
    language = negotiate(request, megacity_of(request).settings.default_language)
    return translations(language).gettext


class Names:
    """Display names of the profile's codes, for templates."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile

    def unit(self, code: str | None) -> str:
        unit = self._profile.org.unit(code) if code else None
        return unit.name if unit else (code or "—")

    def district(self, code: str | None) -> str:
        district = self._profile.org.districts.get(code) if code else None
        return district.name if district else (code or "—")

    def category(self, code: str | None) -> str:
        """The category path, e.g. 城乡建设 / 安全生产 / 事故处理."""
        if not code:
            return "—"
        return " / ".join(c.name for c in self._profile.catalogue.path(code)) or code


def local_time(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "—"


@dataclass(frozen=True)
class Countdown:
    """Working time between now and a deadline; negative once the deadline has passed."""

    seconds: float

    @property
    def overdue(self) -> bool:
        return self.seconds < 0

    @property
    def days(self) -> int:
        return int(abs(self.seconds) // 86400)

    @property
    def hours(self) -> int:
        return int(abs(self.seconds) % 86400 // 3600)


def working_seconds(calendar: WorkingCalendar, start: datetime, end: datetime, tz: ZoneInfo) -> float:
    """Seconds of working days between two instants (a working day counts 24 h, like deadlines)."""
    lo, hi = start.astimezone(tz), end.astimezone(tz)
    if hi - lo > timedelta(days=400):  # long-overdue history: calendar days are close enough
        return (hi - lo).total_seconds() * 5 / 7
    total, day = 0.0, lo.date()
    while day <= hi.date():
        if calendar.is_workday(day)[0]:
            day_start = datetime.combine(day, time(), tzinfo=tz)
            span = min(hi, day_start + timedelta(days=1)) - max(lo, day_start)
            total += max(span.total_seconds(), 0.0)
        day += timedelta(days=1)
    return total


def countdown(app: Megacity, deadline: datetime | None) -> Countdown | None:
    """Working time left until `deadline` (negative: overdue by that much)."""
    if deadline is None:
        return None
    now = app.clock()
    if deadline >= now:
        return Countdown(working_seconds(app.calendar, now, deadline, app.tz))
    return Countdown(-working_seconds(app.calendar, deadline, now, app.tz))


def time_left(app: Megacity, status: str, deadline: datetime | None) -> Countdown | None:
    """Working time left while the unit's deadline runs (see `DEADLINE_RUNNING`), else None."""
    return countdown(app, deadline) if status in DEADLINE_RUNNING else None


def error_text(_: Callable[[str], str], exc: DomainError) -> str:
    """A refused action as one line for a flash message: the translated title, then the detail."""
    return str(_("%(title)s: %(detail)s") % {"title": _(exc.title), "detail": exc.detail})


def local_day_start(app: Megacity, day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=app.tz)


def slow_results(app: Megacity) -> AbstractContextManager[PageState]:
    """Rankings and analyses for a page: waited for `page_wait_seconds` at most, shown at once
    while younger than `page_max_age_seconds` (see `megacity.services.revalidate`)."""
    return page_budget(app.settings.page_wait_seconds, app.settings.page_max_age_seconds)


def render_page(
    request: Request, actor: Actor, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render a page for a logged-in user: navigation, CSRF token, flash message and helpers."""
    app = megacity_of(request)
    session = current_session(request)
    full = {
        "actor": actor,
        "nav": nav_for(request, actor),
        "csrf_token": session.csrf if session else "",
        "flash": read_flash(request),
        "names": Names(app.profile),
        "when": partial(local_time, tz=app.tz),
        "time_left": partial(time_left, app),
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "as_of": state.as_of if (state := current_page()) else None,  # older figures shown
        **context,
    }
    response = render(request, name, full)
    response.status_code = status_code
    clear_flash(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response
