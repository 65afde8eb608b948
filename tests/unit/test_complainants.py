"""Complainant profiles on hand-built tickets: every number is counted by hand below."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest

from megacity.analytics.complainants import (
    LABEL_NAMES,
    Profile,
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


def _repeats_by_definition(data: Orders, masters: np.ndarray) -> np.ndarray:
    """person_repeats as first written: chain by chain, in (time, id) order."""
    chains: dict[int, list[int]] = {}
    for row, master in enumerate(masters.tolist()):
        chains.setdefault(master, []).append(row)
    out = np.zeros(len(data), dtype=bool)
    for rows in chains.values():
        seen: set[str] = set()
        for row in sorted(rows, key=lambda r: (data.times[r], data.ids[r])):
            person = data.complainants[row]
            out[row] = bool(person and person in seen)
            seen.add(person)
    return out


def _profiles_by_definition(data: Orders, repeats: np.ndarray, th: Thresholds) -> list[Profile]:
    """build_profiles as first written: a loop per person, Counter per person."""
    from collections import Counter

    rows_of: dict[str, list[int]] = {}
    seen_ids: set[str] = set()
    for row, person in enumerate(data.complainants):
        if person and data.ids[row] not in seen_ids:
            rows_of.setdefault(person, []).append(row)
        seen_ids.add(data.ids[row])

    def top(counts: Counter[str]) -> str:
        return "|".join(f"{c}:{n}" for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3])

    def local(seconds: float) -> str:
        return datetime.fromtimestamp(seconds, UTC).astimezone(ZONE).isoformat()

    out = []
    for person, rows in rows_of.items():
        index = np.array(rows)
        times = np.sort(data.times[index][~np.isnan(data.times[index])])
        ends = np.searchsorted(times, times + th.frequent_window_days * 86400.0, side="left")
        peak = int((ends - np.arange(len(times))).max()) if len(times) else 0
        cats = Counter(data.categories[r] for r in rows if data.categories[r])
        streets = Counter(data.streets[r] for r in rows if data.streets[r])
        rated = sum(1 for r in rows if data.satisfaction[r])
        unhappy = sum(1 for r in rows if data.satisfaction[r] == "dissatisfied")
        rate = unhappy / rated if rated else None
        repeated = int(np.count_nonzero(repeats[index]))
        labels = [
            name
            for name, applies in (
                ("frequent", peak >= th.frequent_requests),
                ("repeat", repeated >= th.repeat_requests),
                (
                    "unsatisfied",
                    rate is not None and rated >= th.unsatisfied_min_rated and rate >= th.unsatisfied_rate,
                ),
            )
            if applies
        ]
        out.append(
            Profile(
                complainant_id=person,
                requests=len(rows),
                first_seen=local(float(times[0])) if len(times) else "",
                last_seen=local(float(times[-1])) if len(times) else "",
                peak_in_window=peak,
                category_count=len(cats),
                categories=top(cats),
                street_count=len(streets),
                streets=top(streets),
                rated=rated,
                unsatisfied=unhappy,
                unsatisfied_rate=None if rate is None else round(rate, 4),
                repeats=repeated,
                repeat_share=round(repeated / len(rows), 4),
                excluded=int(np.count_nonzero(data.excluded[index])),
                labels="|".join(labels),
                labels_zh="|".join(LABEL_NAMES[name] for name in labels),
            )
        )
    return sorted(out, key=lambda p: (-p.requests, p.complainant_id))


@pytest.mark.parametrize("seed", range(6))
def test_vectorised_profiles_match_their_definition(seed: int) -> None:
    """Random tickets with what the group-bys must get right: people with one request, equal
    times (ties broken by id), requests exactly one window apart, tied category counts, rows
    without a time or a complainant, a repeated id, and rows out of time order."""
    rng = random.Random(seed)
    people = [f"p{n}" for n in range(25)] + [""]
    rows = []
    for n in range(300):
        days = rng.choice((0, 1, 1, 10, 10, 20, 30, 31, 45, 70)) + rng.choice((0, 0, 0.5))
        rows.append(
            ticket(
                n,
                rng.choice(people[:5]) if n % 7 else rng.choice(people),
                days,
                id=f"t{rng.randrange(300):04d}" if n % 50 == 0 else f"t{n:04d}",  # an id again
                category_code=rng.choice(("010216", "010201", "020101", "")),
                street_code=rng.choice(("110101001", "110101002", "")),
                satisfaction=rng.choice((None, "satisfied", "dissatisfied", "DISSATISFIED")),
                excluded=rng.random() < 0.1,
            )
        )
        if n % 40 == 0:
            rows[-1]["received_at"] = None
    if seed % 2:
        rows.sort(key=lambda r: (r["received_at"] is None, r["received_at"] or T0, r["id"]))
    else:
        rng.shuffle(rows)
    data = orders(rows)
    masters = np.array(
        [rng.choice((row, row, row - 1 if row else 0, rng.randrange(len(rows)))) for row in range(len(rows))]
    )
    repeats = person_repeats(data, masters)
    assert repeats.tolist() == _repeats_by_definition(data, masters).tolist()
    th = Thresholds(frequent_requests=4, frequent_window_days=10, repeat_requests=2, unsatisfied_min_rated=2)
    found = build_profiles(data, repeats, th, ZONE)
    assert found == _profiles_by_definition(data, repeats, th)
    assert any(p.requests == 1 for p in found) and any(p.labels for p in found)
