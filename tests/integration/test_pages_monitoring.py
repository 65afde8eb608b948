"""指标监测 through a real server: district indicators, zones, weak areas, plan progress, 层层加码."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from megacity.bootstrap import Megacity
from tests.integration.page_clients import page_clients
from tests.integration.test_assessment_api import load
from tests.integration.test_pages_ranking import chart_data
from tests.integration.test_pages_roles import PageLogin

MONTH = "2025-12"


@pytest.fixture
def pages(server: str, login: Callable[[str], httpx.Client]) -> Iterator[PageLogin]:
    with page_clients(server, login) as make:
        yield make


def cells(html: str, table_id: str, row_attr: str) -> dict[str, list[str]]:
    """Rows of a table by their data attribute: the text of every cell after the first."""
    table = html.split(f'id="{table_id}"')[1].split("</table>")[0]
    rows = re.findall(rf'<tr {row_attr}="([^"]+)">(.*?)</tr>', table, re.S)
    return {key: re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)[1:] for key, body in rows}


def test_district_indicators_zones_and_weak_areas(pages: PageLogin, login: Any, megacity: Megacity) -> None:
    load(megacity)
    api = login("analyst").get(f"/api/assessment/months/{MONTH}", params={"unit_type": "district"}).json()
    page = pages("analyst").get("/monitoring", params={"month": MONTH, "district": "110105"})
    assert page.status_code == 200, page.text
    html = page.text
    assert "七有" in html and "平安北京" in html and "城市更新" in html  # the four systems
    assert "提前完成 14" in html and "达到预期 9" in html and "需调整 4" in html  # the reported review
    values = cells(html, "district-values", "data-district")
    rows = {r["unit_code"]: r for r in api["rows"]}
    assert set(values) == set(rows)
    for code, row in rows.items():
        if row["resolution_rate"] is not None:
            assert values[code][1] == f"{row['resolution_rate'] * 100:.2f}"

    radar = chart_data(html, "district-radar")
    assert radar["series"][0]["name"] == "朝阳区" and radar["series"][1]["name"] == "各区平均"
    assert radar["series"][0]["value"][0] == round(rows["110105"]["response_rate"] * 100, 2)

    core = [rows[c]["composite"] for c in ("110101", "110102", "110112") if rows.get(c, {}).get("composite")]
    zone_row = html.split('id="zones"')[1].split("核心区和城市副中心")[1].split("</tr>")[0]
    assert f"{sum(core) / len(core):.2f}" in zone_row

    ranked = sorted((r for r in api["rows"] if r["composite"] is not None), key=lambda r: r["composite"])
    weakest = html.split('data-indicator="composite"')[1].split("</tr>")[0]
    for row in ranked[:3]:
        assert row["unit_name"] in weakest.split("</td>")[1]


def test_plan_progress_and_decomposition(pages: PageLogin, megacity: Megacity) -> None:
    load(megacity)
    client = pages("analyst")
    plan = {"baseline_year": "2020", "baseline": "60", "target_year": "2025", "target": "70", "year": "2023"}
    for actual, status in (("71", "提前完成"), ("66", "达到预期"), ("64", "滞后"), ("59", "需调整")):
        html = client.get("/monitoring", params={"month": MONTH, **plan, "actual": actual}).text
        assert re.search(
            rf'id="progress-status"[^>]*><span class="badge status-{status}">{status}</span>', html
        )
    fair = client.get("/monitoring", params={"month": MONTH, "city_target": "90"}).text
    assert "未发现层层加码" in fair and "高于全市目标</span>" not in fair
    raised = client.get("/monitoring", params={"month": MONTH, "city_target": "90", "t_110105": "95"}).text
    assert '<span class="badge overdue-badge">层层加码</span>' in raised
    flagged = cells(raised, "decomposition-table", "data-district")
    assert "高于全市目标" in flagged["110105"][-1] and "高于全市目标" not in flagged["110101"][-1]

    bad = client.get("/monitoring", params={"month": MONTH, "baseline": "abc"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text and "请输入数字" in bad.text
    assert client.get("/monitoring", params={"month": "2025-13"}).status_code == 422


def test_only_analytics_roles(pages: PageLogin) -> None:
    for name, code in (
        ("unit", 403),
        ("operator", 403),
        ("auditor", 403),
        ("dispatcher", 200),
        ("reviewer", 200),
    ):
        assert pages(name).get("/monitoring").status_code == code, name
