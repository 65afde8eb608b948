"""Abnormal-order mining on hand-built orders with planted patterns: the miner must find what
was planted (a category, a term, the dispute reason and where orders went) and
nothing in the uniform background."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from megacity.analytics.abnormal_report import Names, analyse
from megacity.analytics.orders import DisputeEvent, Orders, orders_from_columns
from megacity.profiles import load_profile

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
GAS = "010103"  # 安全隐患: territorial (属地) in the Beijing catalogue; streets dispute it here
TEXTS = ["路灯不亮影响夜间出行", "小区垃圾清运不及时", "道路坑洼积水", "公园长椅损坏", "噪音扰民"]


def build() -> tuple[Orders, list[DisputeEvent]]:
    rows: list[dict[str, object]] = []
    events: list[DisputeEvent] = []
    for n in range(200):
        planted = n < 12
        rows.append(
            {
                "id": f"t{n:03d}",
                "received_at": MONDAY + timedelta(days=n % 5, minutes=n),
                "category_code": GAS if planted else f"0102{n % 10:02d}",
                "unit_code": "110101001" if planted or n % 2 else "110101002",
                "text": ("燃气管道维修收费" if planted else "") + TEXTS[n % len(TEXTS)],
                "dispute_count": 1 if (planted and n < 10) or n in (100, 150) else 0,
                "reopen_count": 1 if n in (30, 60, 90) else 0,
                "overdue": 180 <= n < 190,
                "escalation": "district" if n == 50 else "none",
                "exclusion_state": "requested" if n == 70 else "none",
            }
        )
        if planted and n < 10:
            events.append(DisputeEvent(f"t{n:03d}", "dispute", "u", "应由市城管委负责", "110101001"))
            events.append(DisputeEvent(f"t{n:03d}", "redispatch", "d", "改派", "D001"))
    names = sorted(rows[0])
    columns = {k: pa.chunked_array([pa.array([r[k] for r in rows])]) for k in names}
    return orders_from_columns(columns, ZONE), events


def test_labels_count_each_kind() -> None:
    orders, events = build()
    result = analyse(orders, events, ZONE)
    assert result.counts == {
        "disputed": 12,
        "excluded": 1,
        "reopened": 3,
        "overdue": 10,
        "escalated": 1,
        "abnormal": 27,
    }


def test_planted_category_unit_and_term_are_found() -> None:
    orders, events = build()
    result = analyse(orders, events, ZONE)
    disputed = {(f.feature, f.value) for f in result.features if f.kind == "disputed"}
    assert ("category", GAS) in disputed
    feature = next(f for f in result.features if f.kind == "disputed" and f.value == GAS)
    assert (feature.abnormal, feature.orders) == (10, 12)
    assert feature.lift > 10 and feature.q_value < 0.001
    # the background categories (2 disputes in 188 orders) are never reported
    assert all(v == GAS or f != "category" for f, v in disputed)
    terms = [t.term for t in result.terms if t.kind == "disputed"]
    assert "燃气" in terms and "路灯" not in terms


def test_dispute_statistics_and_suggestions_cite_reason_and_target() -> None:
    orders, events = build()
    names = Names(load_profile().catalogue, load_profile().org)
    result = analyse(orders, events, ZONE, names)
    gas = next(s for s in result.disputes if s.group == "category" and s.code == GAS)
    assert (gas.orders, gas.disputed, gas.redispatched) == (12, 10, 10)
    assert gas.reasons == [("应由市城管委负责", 10)] and gas.targets == [("D001", 10)]
    unit = next(s for s in result.disputes if s.group == "unit" and s.code == "110101001")
    assert unit.disputed == 10
    # t100 and t150 have no audit trail: the unit that holds them now is the one counted
    other = next(s for s in result.disputes if s.group == "unit" and s.code == "110101002")
    assert (other.disputed, other.reasons) == (2, [])
    rules = [s for s in result.suggestions if s.code == "review_category_rule"]
    assert len(rules) == 1 and rules[0].subject == f"类别 安全隐患 ({GAS})"
    assert rules[0].evidence.startswith("派单异议率 83%（10/12，全部工单 6.0%，q=")
    assert "异议理由多为「应由市城管委负责」（10 次）" in rules[0].evidence
    assert "改派多去 市城市管理委员会 (D001)（10 次）" in rules[0].evidence
    assert rules[0].text.endswith("→ 复核该类别的职责规则（目录现派：属地街乡镇）")
    assert any(s.code == "keyword_rule" and "燃气" in s.subject for s in result.suggestions)
    english = analyse(orders, events, ZONE, names, language="en").suggestions
    assert [s.code for s in english] == [s.code for s in result.suggestions]
    assert english[0].evidence.startswith("dispute rate 83% (10/12; all orders 6.0%; q=")
    assert english[0].action.startswith("review the responsibility rule of this category")


def test_uniform_background_gives_no_suggestion() -> None:
    orders, _ = build()
    keep = [i for i in range(len(orders)) if i >= 12]
    columns = {
        "id": [orders.ids[i] for i in keep],
        "received_at": [orders.times[i] for i in keep],
        "category_code": [orders.categories[i] for i in keep],
        "dispute_count": [int(orders.disputes[i]) for i in keep],
    }
    arrays = {k: pa.chunked_array([pa.array(v)]) for k, v in columns.items()}
    arrays["received_at"] = pa.chunked_array(
        [pa.array([int(t * 1e6) for t in columns["received_at"]], pa.timestamp("us", tz="UTC"))]
    )
    result = analyse(orders_from_columns(arrays, ZONE), [], ZONE)
    assert result.counts["disputed"] == 2
    assert result.suggestions == [] and result.features == []
