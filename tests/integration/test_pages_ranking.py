"""考核排名 through a real server: tables, map and chart data, focus list, explanation, what-if, roles."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from megacity.bootstrap import Megacity
from tests.conftest import Clock
from tests.integration.page_clients import page_clients
from tests.integration.test_assessment_api import load
from tests.integration.test_pages_roles import PageLogin

MONTH = "2025-12"


@pytest.fixture
def pages(server: str, login: Callable[[str], httpx.Client]) -> Iterator[PageLogin]:
    with page_clients(server, login) as make:
        yield make


def chart_data(html: str, chart_id: str) -> Any:
    found = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', html, re.S)
    assert found, f"no data for chart {chart_id}"
    return json.loads(found.group(1))


def test_ranking_page_agrees_with_the_api(pages: PageLogin, login: Any, megacity: Megacity) -> None:
    load(megacity)
    api = login("analyst").get(f"/api/assessment/months/{MONTH}").json()
    page = pages("analyst").get("/ranking", params={"month": MONTH})
    assert page.status_code == 200, page.text
    html = page.text
    assert "考核排名" in html and 'aria-current="page"' in html
    assert f"已回访诉求不少于 {megacity.profile.assessment.min_rated_for_ranking} 件的单位才参与排名" in html
    districts = [r for r in api["rows"] if r["unit_type"] == "district"]
    chart = chart_data(html, "district-map")
    by_code = dict(zip(chart["codes"], chart["values"], strict=True))
    for row in districts:
        assert by_code[row["unit_code"]] == round(row["composite"], 2)
        assert f'data-unit="{row["unit_code"]}"' in html
    assert len(chart["labels"]) == 16 and {m["name"] for m in chart["map"]} <= set(chart["labels"])
    for change, codes in api["focus"].items():
        section = html.split(f'data-focus="{change}"')[1].split("</div>")[0]
        assert all(f"unit={code}#unit" in section for code in codes)
    assert 'id="choose-unit"' in html and 'id="explanation"' not in html  # explained on demand
    assert "/static/vendor/echarts/echarts.min.js" in html and "/static/charts.js" in html
    here = f"{page.url.scheme}://{page.url.host}:{page.url.port}/"
    assert not re.search(r"(?:https?:)?//", html.replace(here, "")), "a URL leaving the host"


def test_explanation_trend_and_what_if(pages: PageLogin, login: Any, megacity: Megacity) -> None:
    load(megacity)
    analyst = pages("analyst")
    api = login("analyst").get(f"/api/assessment/months/{MONTH}/units/110105/explanation").json()
    html = analyst.get("/ranking", params={"month": MONTH, "unit": "110105"}).text
    assert "朝阳区" in html.split('id="unit-title"')[1].split("</h2>")[0]
    table = html.split('id="explanation"')[1].split("</table>")[0]
    assert table.count("<tr>") - 1 == len(api["groups"])  # one row per reason and category
    trend = chart_data(html, "unit-trend")
    assert trend["labels"][-1] == MONTH and len(trend["values"]) == 12

    whatif = (
        login("analyst").get(f"/api/assessment/months/{MONTH}/what-if", params={"weights": "1,0,0"}).json()
    )
    html = analyst.get("/ranking", params={"month": MONTH, "weights": "1,0,0"}).text
    summary = html.split('id="what-if-summary"')[1].split("</p>")[0]
    assert f"{whatif['moved_up']} 个单位排名上升" in summary
    assert f"{whatif['moved_down']} 个下降" in summary

    bad = analyst.get("/ranking", params={"month": MONTH, "weights": "1,2"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    assert analyst.get("/ranking", params={"month": "2025-13"}).status_code == 422


def test_roles_and_scope(pages: PageLogin, megacity: Megacity) -> None:
    load(megacity)
    assert pages("auditor").get("/ranking").status_code == 403
    unit = pages("unit")  # 东华门街道: its own explanation by default, others refused
    own = unit.get("/ranking", params={"month": MONTH})
    assert own.status_code == 200 and "东华门街道" in own.text.split('id="unit-title"')[1].split("</h2>")[0]
    other = unit.get("/ranking", params={"month": MONTH, "unit": "110105"})
    assert other.status_code == 200 and 'id="explanation"' not in other.text
    assert "只能查看本单位或本区" in other.text
    reviewer = pages("reviewer").get("/ranking", params={"month": MONTH, "unit": "110101001"})
    assert 'id="explanation"' in reviewer.text  # a street of the reviewer's district
    anonymous = httpx.get(str(reviewer.url).split("/ranking")[0] + "/ranking", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_a_slow_ranking_is_computed_in_the_background(pages: PageLogin, megacity: Megacity) -> None:
    """With no time to wait, the first view says "being computed"; once the background run is
    done the page shows the ranking (production waits 0.25 s; the tests normally wait 60 s)."""
    import time

    from megacity.assessment import service

    load(megacity)
    service._cache.clear()  # no earlier result (an earlier test may have ranked this month)
    megacity.settings.page_wait_seconds = 0.0
    analyst = pages("analyst")
    first = analyst.get("/ranking", params={"month": MONTH})
    assert first.status_code == 200 and 'data-pending="page"' in first.text and "<nav" in first.text
    deadline = time.monotonic() + 60
    while service._cache.running():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    later = analyst.get("/ranking", params={"month": MONTH})
    assert later.status_code == 200 and 'data-pending="page"' not in later.text
    assert "朝阳区" in later.text and "as-of" not in later.text

    # a request changes: the ranking computed a moment ago is shown at once, with its time
    megacity.settings.page_max_age_seconds = 600
    with megacity.uow() as uow:
        uow.audit.note(action="test_change", actor="test", role="admin", at=megacity.clock())
        uow.commit()
    stale = analyst.get("/ranking", params={"month": MONTH})
    assert stale.status_code == 200 and "朝阳区" in stale.text
    assert 'class="flash flash-info as-of"' in stale.text


def test_pages_open_on_the_newest_month_with_requests(
    pages: PageLogin, megacity: Megacity, clock: Clock
) -> None:
    """The clock's month while it has requests (or the database has none); after a history that
    ended earlier, the month of its newest request — never a month after the clock's."""
    from megacity.web.pages.ranking_data import default_month

    assert default_month(megacity) == "2025-03"  # no requests yet: the clock's month
    load(megacity)  # a history to 31 December 2025, "later" than the test clock
    assert default_month(megacity) == "2025-03"
    clock.now = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)  # the history ended in the past
    assert default_month(megacity) == MONTH
    analyst = pages("analyst")
    for path in ("/ranking", "/monitoring", "/analysis"):
        html = analyst.get(path).text
        assert f'name="month" type="month" value="{MONTH}"' in html, path
