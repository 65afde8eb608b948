"""The working pages in a real headless Chromium: an operator records, a unit handles.

Screenshots go to the temporary folder (MEGACITY_SCREENSHOTS overrides it) for a human look.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from megacity.bootstrap import Megacity
from megacity.domain.enums import Channel, Kind, Role
from megacity.services import intake
from megacity.services.accounts import create_user
from tests.conftest import PASSWORD
from tests.integration.test_api_lifecycle import leaf

CHROMIUM = os.environ.get("MEGACITY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
EARLIER = intake.NewRequest(
    channel=Channel.PHONE, kind=Kind.COMPLAINT, title="楼道灯不亮", text="楼道灯不亮。", phone="13800138000"
)
SHOTS = Path(os.environ.get("MEGACITY_SCREENSHOTS", tempfile.gettempdir()))


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


def log_in(page: Page, server: str, path: str, username: str) -> None:
    """Open a page, get sent to the login form, log in and come back."""
    page.goto(server + path)
    expect(page).to_have_url(f"{server}/login?next={path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server + path)


def test_operator_records_a_request_and_the_unit_contacts_and_replies(
    browser: Browser, server: str, megacity: Megacity
) -> None:
    create_user(app=megacity, username="operator", password=PASSWORD, role=Role.OPERATOR)
    create_user(
        app=megacity, username="unit", password=PASSWORD, role=Role.UNIT_HANDLER, unit_code="110101001"
    )
    earlier, _ = intake.submit(app=megacity, request=EARLIER, actor="operator", role="operator")
    operator = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
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

    contact_and_reply(browser, server, ticket_id)


def contact_and_reply(browser: Browser, server: str, ticket_id: str) -> None:
    """The unit handler contacts the citizen and replies, both from the inbox."""
    unit = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
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
