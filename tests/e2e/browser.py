"""What the browser tests share: the Chromium to drive, logging in, and the page watch.

A page of Megacity must load without a console error, without a failed request and without a
single request leaving the host (ECharts, fonts and the map are served locally). `Watch` holds
those three checks in one place so that every browser test makes all of them, on every page.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request, Response, expect

from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("MEGACITY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
SHOTS = Path(os.environ.get("MEGACITY_SCREENSHOTS", tempfile.gettempdir()))
#: Chromium's report of a request the page itself gave up, e.g. a fetch cut short by navigating
#: on: not a fault of the server, and a watch that counted it would fail at random.
ABORTED = "net::ERR_ABORTED"


def log_in(page: Page, server: str, path: str, username: str) -> None:
    """Open a page, get sent to the login form, log in and come back."""
    page.goto(server + path)
    expect(page).to_have_url(f"{server}/login?next={path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server + path)
    # the page's scripts run at DOMContentLoaded: a test that types before then would use the
    # page without them (a full reload instead of the inline search), and flake on a busy host
    page.wait_for_load_state("load")


class Watch:
    """Console errors, failed requests and requests to other hosts of every page it watches.

    `errors` gathers console errors, uncaught exceptions, responses of 400 and above, and requests
    that failed on the network; `outside` gathers the URL of every request to another host.
    """

    def __init__(self, server: str) -> None:
        self.host = urlsplit(server).netloc
        self.errors: list[str] = []
        self.outside: list[str] = []

    def __call__(self, page: Page) -> Page:
        """Watch `page` from now on; returns it, for `page = watch(context.new_page())`."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _request(self, request: Request) -> None:
        if urlsplit(request.url).netloc not in ("", self.host):  # "": data: and blob: URLs
            self.outside.append(request.url)

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.errors.append(f"{response.status} {response.url}")

    def _failed(self, request: Request) -> None:
        if request.failure != ABORTED:
            self.errors.append(f"{request.failure} {request.url}")

    def check(self) -> None:
        """Fail on anything seen so far, then start afresh (for a test's next stage)."""
        errors, outside = self.errors[:], self.outside[:]
        self.errors.clear()
        self.outside.clear()
        assert errors == [] and outside == [], f"errors {errors}, requests to other hosts {outside}"
