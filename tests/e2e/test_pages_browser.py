"""考核排名, 指标监测 and 分析 in a real headless Chromium, and the whole flow into the ranking.

Every page must load without console errors, failed requests or a single request leaving the
host (the `watch` fixture, tests/e2e/browser.py); charts (ECharts, served locally) and the
district map must draw. Screenshots go to the temporary folder (MEGACITY_SCREENSHOTS overrides
it) for a human look.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from megacity.bootstrap import Megacity
from megacity.demo import generate
from megacity.domain.enums import Role
from megacity.services.accounts import create_user
from megacity.services.demo_load import load_demo
from megacity.services.topics import adopt, propose
from tests.conftest import PASSWORD
from tests.e2e.browser import SHOTS, Watch, log_in
from tests.e2e.test_workflow_browser import contact_and_reply
from tests.integration.test_api_lifecycle import leaf

PAGES = {"/ranking": "考核排名", "/monitoring": "指标监测", "/analysis": "分析"}


def test_new_pages_load_draw_and_stay_on_the_host(
    browser: Browser, server: str, megacity: Megacity, watch: Watch
) -> None:
    load_demo(app=megacity, cases=generate(megacity.profile, count=700, months=2, seed=3))
    create_user(app=megacity, username="admin", password=PASSWORD, role=Role.ADMIN)
    hottest = propose(app=megacity, month="2025-11", top=1)[0]  # adopted: the topics chart draws
    adopt(
        app=megacity, month="2025-11", title=hottest.phrase, terms=hottest.terms, actor="admin", role="admin"
    )
    page = watch(browser.new_context(viewport={"width": 1366, "height": 1000}).new_page())
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
    watch.check()


def test_a_request_from_intake_to_callback_shows_in_the_month_ranking(
    browser: Browser, server: str, megacity: Megacity, watch: Watch
) -> None:
    create_user(app=megacity, username="operator", password=PASSWORD, role=Role.OPERATOR)
    create_user(
        app=megacity, username="unit", password=PASSWORD, role=Role.UNIT_HANDLER, unit_code="110101001"
    )
    create_user(app=megacity, username="analyst", password=PASSWORD, role=Role.ANALYST)
    operator = watch(browser.new_context(viewport={"width": 1280, "height": 1000}).new_page())
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

    contact_and_reply(browser, server, ticket_id, watch)

    operator.goto(f"{server}/tickets/{ticket_id}")
    callback = operator.locator("details.action[data-action='callback']")
    callback.locator("summary").click()
    callback.get_by_label("是否解决").select_option(label="是")
    callback.get_by_label("满意度").select_option(label="满意")
    callback.get_by_role("button", name="提交：回访").click()
    expect(operator.locator(".badge.status-called_back")).to_have_text("已回访")
    watch.check()

    analyst = watch(browser.new_context(viewport={"width": 1366, "height": 1000}).new_page())
    log_in(analyst, server, "/ranking", "analyst")
    row = analyst.locator("section[data-unit-type='street'] tr[data-unit='110101001']")
    expect(row).to_contain_text("东华门街道")
    expect(row.locator("td").nth(2)).to_have_text("1")  # one request in scope
    expect(row.locator("td").nth(4)).to_have_text("100.0%")  # resolved at the callback
    expect(row.locator("td").nth(5)).to_have_text("100.0%")  # satisfied
    district = analyst.locator("section[data-unit-type='district'] tr[data-unit='110101']")
    expect(district.locator("td").nth(2)).to_have_text("1")
    analyst.screenshot(path=str(SHOTS / "megacity-ranking-flow.png"), full_page=True)
    watch.check()
