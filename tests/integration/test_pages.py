"""The public landing page: Chinese by default, English on request, no personal data."""

from __future__ import annotations

import time

import httpx

from megacity.bootstrap import Megacity
from tests.integration.test_api_lifecycle import create, post


def test_landing_page_is_chinese_with_live_counts(http: httpx.Client, megacity: Megacity) -> None:
    t = create(http, megacity)
    post(http, t["id"], "dispatch")
    create(http, megacity)
    page = http.get("/", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="zh-CN">' in html and "接诉即办" in html
    assert '<strong id="total">2</strong>' in html
    assert "已派单" in html and "已受理" in html and "东城区" in html
    for secret in ("13800138000", "138****8000", "王小明", "王**", "路灯坏了"):
        assert secret not in html


def test_landing_page_in_english(http: httpx.Client) -> None:
    page = http.get("/?lang=en")
    assert '<html lang="en">' in page.text and "every request answered" in page.text
    assert page.cookies.get("lang") == "en"
    http.cookies.clear()
    assert "接诉即办" in http.get("/", headers={"accept-language": "en-US"}).text  # Chinese unless chosen
    http.cookies.set("lang", "en")
    assert "every request answered" in http.get("/").text


def test_unknown_page_is_an_html_error_for_browsers(http: httpx.Client) -> None:
    page = http.get("/nope", headers={"accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "404 未找到" in page.text and "/static/megacity.css" in page.text  # the site's own page
    english = http.get("/nope?lang=en", headers={"accept": "text/html"})
    assert "404 Not found" in english.text and 'lang="en"' in english.text
    api = http.get("/api/nope")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


def test_landing_counts_of_a_moment_ago_are_shown_with_their_time(
    http: httpx.Client, megacity: Megacity
) -> None:
    create(http, megacity)
    assert '<strong id="total">1</strong>' in http.get("/").text
    megacity.settings.page_max_age_seconds = 600  # production: counts up to 10 minutes old at once
    create(http, megacity)
    stale = http.get("/").text
    assert '<strong id="total">1</strong>' in stale and 'class="flash flash-info as-of"' in stale
    deadline = time.monotonic() + 30  # recounted behind the page
    while '<strong id="total">2</strong>' not in (page := http.get("/").text):
        assert time.monotonic() < deadline, "the counts were not renewed"
        time.sleep(0.05)
    assert "as-of" not in page
