"""Fixtures of the browser tests: one engine, one Chromium per module, and the page watch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.browser import CHROMIUM, FLAGS, Watch


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


@pytest.fixture
def watch(server: str) -> Iterator[Watch]:
    """Watches the pages a test hands it; checks them again when the test ends.

    The closing check catches what came after the test's last `watch.check()`, or a test that
    forgot to call it: no watched page leaves a console error or an outside request unnoticed.
    """
    seen = Watch(server)
    yield seen
    seen.check()
