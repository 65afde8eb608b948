"""考核排名, 指标监测 and 分析 in a real headless Chromium, and the whole flow into the ranking.

Every page must load without console errors and without a single request leaving the host;
charts (ECharts, served locally) and the district map must draw. Screenshots go to the
temporary folder (MEGACITY_SCREENSHOTS overrides it) for a human look.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from megacity.bootstrap import Megacity
from megacity.demo import generate
from megacity.domain.enums import Role
from megacity.services.accounts import create_user
from megacity.services.demo_load import load_demo
from megacity.services.topics import adopt, propose
from tests.conftest import PASSWORD
from tests.e2e.test_workflow_browser import CHROMIUM, FLAGS, SHOTS, contact_and_reply, log_in
from tests.integration.test_api_lifecycle import leaf


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Browser tests need one engine: the pages are the same on both."""
    return f"sqlite:///{tmp_path}/megacity.db"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM:
        pytest.skip("browser tests need Debian's chromium (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


PAGES = {"/ranking": "考核排名", "/monitoring": "指标监测", "/analysis": "分析"}


@contextmanager
def watched(page: Page, server: str) -> Iterator[tuple[list[str], list[str]]]:
    """Collect console errors and requests to any other host while the block runs."""
    errors: list[str] = []
    outside: list[str] = []
    host = urlsplit(server).netloc
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: outside.append(r.url) if urlsplit(r.url).netloc not in ("", host) else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield errors, outside


def test_new_pages_load_draw_and_stay_on_the_host(browser: Browser, server: str, megacity: Megacity) -> None:
    load_demo(app=megacity, cases=generate(megacity.profile, count=700, months=2, seed=3))
    create_user(app=megacity, username="admin", password=PASSWORD, role=Role.ADMIN)
    hottest = propose(app=megacity, month="2025-11", top=1)[0]  # adopted: the topics chart draws
    adopt(
        app=megacity, month="2025-11", title=hottest.phrase, terms=hottest.terms, actor="admin", role="admin"
    )
    page = browser.new_context(viewport={"width": 1366, "height": 1000}).new_page()
    with watched(page, server) as (errors, outside):
        log_in(page, server, "/ranking", "admin")
        for path, title in PAGES.items():
            page.goto(f"{server}{path}?month=2025-12")
            expect(page.locator("h1")).to_contain_text(title)
            expect(page.locator(f"nav.pages a[href='{path}']")).to_have_attribute("aria-current", "page")
            for chart in page.locator("[data-chart]").all():
                expect(chart).to_have_attribute("data-drawn", "true")
                expect(chart.locator("svg")).to_be_visible()
            if path == "/analysis":  # the adopted topic's volume and the weekly forecast band
                for new_chart in ("#topics-volume", "#forecast-total"):
                    expect(page.locator(f"{new_chart} svg")).to_be_visible()
                expect(page.locator("#forecast-total")).to_have_attribute("data-drawn", "true")
            if path == "/ranking":
                expect(page.locator("#district-map svg path").first).to_be_visible()  # the district map
                page.locator("#weights").fill("1,0,0")
                page.get_by_role("button", name="重新计算").click()
                expect(page.locator("#what-if-summary")).to_contain_text("个单位排名上升")
            page.screenshot(path=str(SHOTS / f"megacity{path.replace('/', '-')}.png"), full_page=True)
        page.goto(f"{server}/ranking?month=2025-12&lang=en")
        expect(page.locator("h1")).to_contain_text("Assessment ranking")
    assert errors == [] and outside == []


def test_a_request_from_intake_to_callback_shows_in_the_month_ranking(
    browser: Browser, server: str, megacity: Megacity
) -> None:
    create_user(app=megacity, username="operator", password=PASSWORD, role=Role.OPERATOR)
    create_user(
        app=megacity, username="unit", password=PASSWORD, role=Role.UNIT_HANDLER, unit_code="110101001"
    )
    create_user(app=megacity, username="analyst", password=PASSWORD, role=Role.ANALYST)
    operator = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    with watched(operator, server) as (errors, outside):
        log_in(operator, server, "/workbench", "operator")
        form = operator.locator("#intake")
        form.get_by_label("类型").select_option(label="投诉")
        form.get_by_label("标题").fill("小区门口路灯不亮")
        form.get_by_label("诉求内容").fill("东华门街道某小区门口路灯坏了一个多月，晚上出行不便。")
        form.get_by_label("电话").fill("13800138000")
        form.get_by_label("区", exact=True).select_option(label="东城区")
        form.get_by_label("街道乡镇").select_option(label="东华门街道")
        form.get_by_label("分类", exact=True).select_option(value=leaf(megacity, territorial=True))
        expect(operator.locator("#suggestion")).to_contain_text(re.compile(r"建议承办单位：\s*东华门街道"))
        operator.get_by_label("派单目录能确定承办单位时，立即按建议派单").check()
        operator.get_by_role("button", name="登记诉求").click()
        expect(operator.locator("#ticket-unit")).to_contain_text("东华门街道")
        ticket_id = operator.locator("#ticket-id").inner_text()

        contact_and_reply(browser, server, ticket_id)

        operator.goto(f"{server}/tickets/{ticket_id}")
        callback = operator.locator("details.action[data-action='callback']")
        callback.locator("summary").click()
        callback.get_by_label("是否解决").select_option(label="是")
        callback.get_by_label("满意度").select_option(label="满意")
        callback.get_by_role("button", name="提交：回访").click()
        expect(operator.locator(".badge.status-called_back")).to_have_text("已回访")
    assert errors == [] and outside == []

    analyst = browser.new_context(viewport={"width": 1366, "height": 1000}).new_page()
    with watched(analyst, server) as (errors, outside):
        log_in(analyst, server, "/ranking", "analyst")
        row = analyst.locator("section[data-unit-type='street'] tr[data-unit='110101001']")
        expect(row).to_contain_text("东华门街道")
        expect(row.locator("td").nth(2)).to_have_text("1")  # one request in scope
        expect(row.locator("td").nth(4)).to_have_text("100.0%")  # resolved at the callback
        expect(row.locator("td").nth(5)).to_have_text("100.0%")  # satisfied
        district = analyst.locator("section[data-unit-type='district'] tr[data-unit='110101']")
        expect(district.locator("td").nth(2)).to_have_text("1")
        analyst.screenshot(path=str(SHOTS / "megacity-ranking-flow.png"), full_page=True)
    assert errors == [] and outside == []
