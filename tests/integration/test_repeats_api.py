"""GET /api/analysis/repeats through a real server: chains, district scope, masking, bad input."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from megacity.bootstrap import Megacity
from tests.conftest import Clock
from tests.integration.test_api_lifecycle import create


def test_a_matter_raised_three_times_is_one_chain(
    http: httpx.Client, login: Callable[[str], httpx.Client], megacity: Megacity, clock: Clock
) -> None:
    title = "路灯不亮 回电13800138000"
    first = create(http, megacity, title=title)
    clock.advance(days=3)
    create(http, megacity, title=title, text="已经反映多次了！小区门口路灯坏了一个多月，晚上出行不便。")
    clock.advance(days=4)
    last = create(http, megacity, title=title)
    create(
        http, megacity, title="噪音扰民", text="楼下饭店夜里排风机噪音很大，影响休息。", phone="13900139000"
    )
    month = f"{clock.now:%Y-%m}"

    answer = http.get("/api/analysis/repeats", params={"month": month})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["requests"] == 4 and found["repeats"] == 2 and found["chain_count"] == 1
    chain = found["chains"][0]
    assert (chain["master"], chain["latest"], chain["size"]) == (first["id"], last["id"], 3)
    assert "13800138000" in chain["title"]  # the administrator may see personal data

    analyst = login("analyst").get("/api/analysis/repeats", params={"month": month}).json()
    assert analyst["chain_count"] == 1 and "13800138000" not in analyst["chains"][0]["title"]
    assert first["district_code"] == "110101"  # 东城: the reviewer's district, not the other reviewer's
    own = login("reviewer").get("/api/analysis/repeats", params={"month": month}).json()
    assert own["district_code"] == "110101" and own["chain_count"] == 1
    other = login("other-reviewer").get("/api/analysis/repeats", params={"month": month}).json()
    assert other["district_code"] == "110102" and other["chain_count"] == 0

    bad = http.get("/api/analysis/repeats", params={"month": "2025-13"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
