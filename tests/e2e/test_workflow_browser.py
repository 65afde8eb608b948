"""The working pages in a real headless Chromium: an operator records, a unit handles.

Every page must load without console errors, failed requests or requests leaving the host (the
`watch` fixture, tests/e2e/browser.py). Screenshots go to the temporary folder
(MEGACITY_SCREENSHOTS overrides it) for a human look.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from megacity.bootstrap import Megacity
from megacity.domain.enums import Channel, Kind, Role
from megacity.services import intake
from megacity.services.accounts import create_user
from tests.conftest import PASSWORD
from tests.e2e.browser import SHOTS, Watch, log_in
from tests.integration.test_api_lifecycle import leaf

EARLIER = intake.NewRequest(
    channel=Channel.PHONE, kind=Kind.COMPLAINT, title="楼道灯不亮", text="楼道灯不亮。", phone="13800138000"
)


def test_operator_records_a_request_and_the_unit_contacts_and_replies(
    browser: Browser, server: str, megacity: Megacity, watch: Watch
) -> None:
    create_user(app=megacity, username="operator", password=PASSWORD, role=Role.OPERATOR)
    create_user(
        app=megacity, username="unit", password=PASSWORD, role=Role.UNIT_HANDLER, unit_code="110101001"
    )
    earlier, _ = intake.submit(app=megacity, request=EARLIER, actor="operator", role="operator")
    operator = watch(browser.new_context(viewport={"width": 1280, "height": 1000}).new_page())
    log_in(operator, server, "/workbench", "operator")
    operator.get_by_label("搜索知识库").fill("暖气不热")
    operator.get_by_label("搜索知识库").press("Enter")
    expect(operator.locator("#kb-results details[open]")).to_contain_text("室温不达标")  # inline, no reload
    form = operator.locator("#intake")
    form.get_by_label("类型").select_option(label="投诉")
    form.get_by_label("标题").fill("小区门口路灯不亮")
    form.get_by_label("诉求内容").fill("东华门街道某小区门口路灯坏了一个多月，晚上出行不便。")
    form.get_by_label("姓名").fill("王小明")
    form.get_by_label("电话").fill("13800138000")
    form.get_by_label("区", exact=True).select_option(label="东城区")
    expect(operator.locator("#duplicates")).to_contain_text(f"{earlier.id} 楼道灯不亮")  # same caller
    form.get_by_label("街道乡镇").select_option(label="东华门街道")
    form.get_by_label("分类", exact=True).select_option(value=leaf(megacity, territorial=True))
    expect(operator.locator("#suggestion")).to_contain_text(re.compile(r"建议承办单位：\s*东华门街道"))
    expect(operator.locator("#district-chart svg")).to_be_visible()  # ECharts, served locally
    operator.get_by_label("派单目录能确定承办单位时，立即按建议派单").check()
    operator.screenshot(path=str(SHOTS / "megacity-workbench.png"), full_page=True)
    operator.get_by_role("button", name="登记诉求").click()

    expect(operator.locator("#ticket-title")).to_have_text("小区门口路灯不亮")
    expect(operator.locator(".flash")).to_contain_text("诉求已登记")
    expect(operator.locator("#ticket-unit")).to_contain_text("东华门街道")
    ticket_id = operator.locator("#ticket-id").inner_text()
    operator.screenshot(path=str(SHOTS / "megacity-ticket.png"), full_page=True)

    contact_and_reply(browser, server, ticket_id, watch)
    watch.check()


def contact_and_reply(browser: Browser, server: str, ticket_id: str, watch: Watch) -> None:
    """The unit handler contacts the citizen and replies, both from the inbox (a watched page)."""
    unit = watch(browser.new_context(viewport={"width": 1280, "height": 900}).new_page())
    log_in(unit, server, "/inbox", "unit")
    card = unit.locator(f"article[data-id='{ticket_id}']")
    expect(card).to_contain_text("剩余 7 个工作日")
    unit.screenshot(path=str(SHOTS / "megacity-inbox.png"), full_page=True)
    card.get_by_role("button", name="联系诉求人").click()
    expect(unit.locator(".flash")).to_contain_text("已完成：联系诉求人")
    card = unit.locator(f"article[data-id='{ticket_id}']")
    card.locator("summary", has_text="反馈办理结果").click()
    card.get_by_label("办理情况及结果").fill("已更换灯泡，路灯恢复照明。")
    card.get_by_role("button", name="提交：反馈办理结果").click()
    expect(unit.locator(".flash")).to_contain_text("已完成：反馈办理结果")
    expect(unit.locator(f"article[data-id='{ticket_id}']")).to_have_count(0)  # done: out of the inbox

    unit.goto(f"{server}/tickets/{ticket_id}")
    expect(unit.locator(".badge.status-replied")).to_have_text("已反馈")
    expect(unit.locator(".timeline")).to_contain_text("已更换灯泡")
    unit.screenshot(path=str(SHOTS / "megacity-replied.png"), full_page=True)
