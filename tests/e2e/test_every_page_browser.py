"""Every page of every role's navigation, and the API documentation, in a real headless Chromium.

For each role the test logs in through the form, follows every link of the page `<nav>` (so a
page added to the navigation is walked without touching this test), and opens one request's
page; anonymous visitors get the landing page, the login form and the API documentation. The
page watch (tests/e2e/browser.py) checks each: no console error, no failed request (a missing
favicon included) and nothing fetched from another host — Swagger UI included, which FastAPI
would fetch from the internet. Charts must draw. The clock stands after the demo history, so
the month pages open on its last month (`ranking_data.default_month`), with figures.
"""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Browser, Page, expect

from megacity.bootstrap import Megacity
from megacity.demo import generate
from megacity.domain.enums import Role
from megacity.services.accounts import create_user
from megacity.services.demo_load import load_demo
from megacity.store.tables import tickets
from tests.conftest import PASSWORD, Clock
from tests.e2e.browser import SHOTS, Watch

#: username: (role, unit, district); the unit is 东华门街道, the district 东城区.
ACCOUNTS: dict[str, tuple[Role, str | None, str | None]] = {
    "operator": (Role.OPERATOR, None, None),
    "dispatcher": (Role.DISPATCHER, None, None),
    "unit": (Role.UNIT_HANDLER, "110101001", None),
    "reviewer": (Role.DISTRICT_REVIEWER, None, "110101"),
    "admin": (Role.ADMIN, None, None),
    "analyst": (Role.ANALYST, None, None),
    "auditor": (Role.AUDITOR, None, None),
}


def _looks_done(page: Page) -> None:
    """A heading, and every chart drawn."""
    expect(page.locator("h1").first).to_be_visible()
    for chart in page.locator("[data-chart]").all():
        expect(chart).to_have_attribute("data-drawn", "true")


def _ticket_of(megacity: Megacity, unit: str) -> str:
    with megacity.engine.connect() as conn:
        found = conn.scalar(
            tickets.select().with_only_columns(tickets.c.id).where(tickets.c.unit_code == unit)
        )
    assert found is not None, f"the demo gave {unit} no request"
    return str(found)


def test_every_page_of_every_role(
    browser: Browser, server: str, megacity: Megacity, clock: Clock, watch: Watch
) -> None:
    load_demo(app=megacity, cases=generate(megacity.profile, count=700, months=2, seed=3))
    clock.now = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)  # the history ended in December 2025
    for name, (role, unit, district) in ACCOUNTS.items():
        create_user(
            app=megacity, username=name, password=PASSWORD, role=role, unit_code=unit, district_code=district
        )
    ticket = _ticket_of(megacity, "110101001")  # in every reading role's scope

    anonymous = watch(browser.new_context(viewport={"width": 1280, "height": 900}).new_page())
    anonymous.goto(f"{server}/")
    expect(anonymous.locator("#total")).to_have_text("700")
    anonymous.goto(f"{server}/docs")
    expect(anonymous.locator(".swagger-ui .info .title")).to_contain_text("Megacity")
    expect(anonymous.get_by_text("/api/requests/{ticket_id}/dispatch").first).to_be_visible()
    watch.check()

    walked: dict[str, set[str]] = {}
    for name in ACCOUNTS:
        page = watch(browser.new_context(viewport={"width": 1366, "height": 1000}).new_page())
        page.goto(f"{server}/login")
        page.get_by_label("用户名").fill(name)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.locator("nav.pages")).to_be_visible()
        links = [str(a.get_attribute("href")) for a in page.locator("nav.pages a").all()]
        assert links, f"{name} has no page in the navigation"
        for path in links:
            page.goto(f"{server}{path}")
            expect(page.locator(f"nav.pages a[href='{path}']")).to_have_attribute("aria-current", "page")
            _looks_done(page)
            if path in ("/ranking", "/monitoring", "/analysis"):
                expect(page.locator("#month")).to_have_value("2025-12")
            if name == "admin":
                page.screenshot(
                    path=str(SHOTS / f"megacity-walk{path.replace('/', '-')}.png"), full_page=True
                )
        page.goto(f"{server}/tickets/{ticket}")
        expect(page.locator("#ticket-id")).to_have_text(ticket)
        page.goto(f"{server}{links[0]}?lang=en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        _looks_done(page)
        watch.check()
        walked[name] = set(links)
        page.context.close()

    every = set().union(*walked.values())
    pages = {
        "/workbench",
        "/tickets",
        "/inbox",
        "/review",
        "/knowledge",
        "/ranking",
        "/monitoring",
        "/analysis",
    }
    assert pages | {"/settings"} <= every, f"pages no role reached: {pages - every}"
    assert "/settings" in walked["admin"] and "/inbox" in walked["unit"] and "/review" in walked["dispatcher"]
