"""Complainant profiles on hand-built tickets: every number is counted by hand below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest

from megacity.analytics.complainants import (
    Thresholds,
    build_profiles,
    load_thresholds,
    person_repeats,
    profiles_for,
)
from megacity.analytics.orders import Orders, orders_from_columns
from megacity.profiles.loader import default_profile_path

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
LEAK = "小区东门外的污水管道破裂，污水漫到人行道上，气味很大，行人无法通过，请派人维修管道"
OTHER = [
    "楼下餐馆油烟直排，厨房排风口正对居民窗户，夏天无法开窗",
    "公园健身器材损坏，单杠螺丝松动，老人锻炼有危险",
    "公交站台顶棚漏雨，候车乘客只能站在雨里等车",
    "夜间工地施工噪音扰民，凌晨两点还在打桩",
]


def orders(rows: list[dict[str, object]]) -> Orders:
    names = sorted({key for row in rows for key in row})
    columns = {n: pa.chunked_array([pa.array([row.get(n) for row in rows])]) for n in names}
    return orders_from_columns(columns, ZONE)


def ticket(n: int, person: str, days: float, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": f"t{n:03d}",
        "received_at": T0 + timedelta(days=days),
        "complainant_id": person,
        "street_code": "110101001",
        "category_code": "010216",
        "text": OTHER[n % len(OTHER)] + f"（第{n}件）",
        "satisfaction": None,
        "excluded": False,
    }
    return {**base, **extra}


def test_profile_numbers_are_counted_by_hand() -> None:
    rows = [
        ticket(1, "p-a", 0, text=LEAK, satisfaction="dissatisfied"),
        ticket(2, "p-a", 3, text="已经反映多次了，" + LEAK, satisfaction="dissatisfied"),
        ticket(3, "p-a", 10, category_code="010201", street_code="110101002", satisfaction="satisfied"),
        ticket(4, "p-a", 40, excluded=True),
        ticket(5, "p-b", 1, satisfaction="basically_satisfied"),
        ticket(6, "", 2),  # anonymous: no profile
    ]
    found = {p.complainant_id: p for p in profiles_for(orders(rows), Thresholds(), 60.0, ZONE)}
    assert set(found) == {"p-a", "p-b"}
    a = found["p-a"]
    assert (a.requests, a.rated, a.unsatisfied, a.repeats, a.excluded) == (4, 3, 2, 1, 1)
    assert a.unsatisfied_rate == pytest.approx(2 / 3, abs=1e-4)
    assert a.repeat_share == 0.25
    assert a.peak_in_window == 3  # days 0, 3, 10 inside 30 days; day 40 outside
    assert (a.category_count, a.street_count) == (2, 2)
    assert a.categories.startswith("010216:3")
    assert a.first_seen == "2025-03-03T17:00:00+08:00"
    assert a.last_seen.startswith("2025-04-12")
    assert a.labels == "unsatisfied" and a.labels_zh == "不满意"
    assert found["p-b"].unsatisfied_rate == 0.0 and found["p-b"].labels == ""


def test_someone_else_repeating_a_matter_is_no_repeat_of_theirs() -> None:
    rows = [ticket(1, "p-a", 0, text=LEAK), ticket(2, "p-b", 2, text="我也反映：" + LEAK)]
    data = orders(rows)
    from megacity.analytics.cli import group_requests
    from megacity.analytics.repeats import Params

    masters = group_requests(data.request_table(), Params())
    assert masters[0] == masters[1]  # one chain through the street ...
    assert not person_repeats(data, masters).any()  # ... but nobody repeated themself


def _labels(th: Thresholds, rows: list[dict[str, object]], repeats: list[bool]) -> str:
    data = orders(rows)
    return build_profiles(data, np.array(repeats, dtype=bool), th, ZONE)[0].labels


def test_labels_switch_on_exactly_at_the_thresholds() -> None:
    th = Thresholds(
        frequent_requests=3,
        frequent_window_days=10,
        repeat_requests=2,
        unsatisfied_rate=0.5,
        unsatisfied_min_rated=2,
    )
    three = [ticket(i, "p", d) for i, d in enumerate((0, 4, 9.9))]
    assert _labels(th, three, [False] * 3) == "frequent"
    spread = [ticket(i, "p", d) for i, d in enumerate((0, 4, 10.0))]
    assert _labels(th, spread, [False] * 3) == ""  # the third is 10 days later: outside the window
    assert _labels(th, spread, [False, True, True]) == "repeat"
    assert _labels(th, spread, [False, False, True]) == ""
    rated = [ticket(0, "p", 0, satisfaction="dissatisfied"), ticket(1, "p", 20, satisfaction="satisfied")]
    assert _labels(th, rated, [False, False]) == "unsatisfied"  # 1/2 = 0.5, two rated
    assert _labels(th, rated[:1], [False]) == ""  # one rated callback is too few


def test_thresholds_come_from_the_profile_folder(tmp_path: Path) -> None:
    shipped = load_thresholds(default_profile_path())
    assert shipped == Thresholds()  # the shipped file states the documented defaults
    (tmp_path / "complainants.yaml").write_text("frequent_requests: 9\nunsatisfied_rate: 0.8\n")
    assert load_thresholds(tmp_path) == Thresholds(frequent_requests=9, unsatisfied_rate=0.8)
    assert load_thresholds(tmp_path / "missing") == Thresholds()
    (tmp_path / "complainants.yaml").write_text("repeat_requests: many\n")
    with pytest.raises(ValueError, match="repeat_requests"):
        load_thresholds(tmp_path)
    (tmp_path / "complainants.yaml").write_text("repeat_requests: [\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_thresholds(tmp_path)
    (tmp_path / "profile.yaml").write_text("code: x\n")
    (tmp_path / "complainants.yaml").write_text("repeat_requests: 7\n")
    assert load_thresholds(tmp_path / "profile.yaml").repeat_requests == 7  # the file, as --profile allows
