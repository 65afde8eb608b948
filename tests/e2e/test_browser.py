"""The landing page in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from megacity.bootstrap import Megacity
from tests.integration.test_api_lifecycle import create

CHROMIUM = os.environ.get("MEGACITY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
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


def test_landing_page_renders_in_chinese_and_switches_to_english(
    browser: Browser, server: str, http: httpx.Client, megacity: Megacity
) -> None:
    create(http, megacity)
    page = browser.new_page()
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "接诉即办" in page.locator("h1").inner_text()
    assert page.locator("#total").inner_text() == "1"
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/?lang=en")
    assert "every request answered" in page.locator("h1").inner_text()
    page.goto(server + "/")  # the choice sticks through the cookie
    assert page.locator("html").get_attribute("lang") == "en"
    page.close()
