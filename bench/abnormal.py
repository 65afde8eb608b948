"""Abnormal-order mining at scale: a synthetic set with a planted misrouted category.

N orders over 300 categories and 300 units, 2.5% disputed at random; one territorial category
(安全隐患, 010103) is disputed in 40% of its orders with one reason and re-dispatched to one
department, and its texts share a term. Prints the time of `analyse` (labels, Fisher tests,
jieba terms, dispute statistics, suggestions) and whether the planted pattern is the first
suggestion. Usage: python bench/abnormal.py [--n 200000]
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from megacity.analytics.abnormal_report import Names, analyse
from megacity.analytics.orders import DisputeEvent, orders_from_columns
from megacity.profiles import load_profile

ZONE = ZoneInfo("Asia/Shanghai")
PLANTED = "010103"
TEXTS = [
    "路灯不亮影响夜间出行",
    "小区垃圾清运不及时",
    "道路坑洼积水",
    "公园长椅损坏",
    "夜间施工噪音扰民",
    "楼道堆物",
]


def build(n: int, seed: int) -> tuple[dict[str, pa.ChunkedArray], list[DisputeEvent]]:
    rng = np.random.default_rng(seed)
    categories = np.array([f"C{c:03d}" for c in rng.integers(0, 300, n)], dtype=object)
    planted = rng.random(n) < 0.01
    categories[planted] = PLANTED
    units = np.array([f"U{u:03d}" for u in rng.integers(0, 300, n)], dtype=object)
    disputed = np.where(planted, rng.random(n) < 0.40, rng.random(n) < 0.025)
    start = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    times = start + rng.random(n) * 365 * 86400
    texts = [
        ("铁塔基站辐射" if p else "") + TEXTS[i % len(TEXTS)] + f"{i % 97}号" for i, p in enumerate(planted)
    ]
    ids = [f"b{i:08d}" for i in range(n)]
    events: list[DisputeEvent] = []
    for i in np.flatnonzero(disputed):
        reason = "应由市城管委负责" if planted[i] else "不属于本单位职责"
        events.append(DisputeEvent(ids[i], "dispute", "u", reason, str(units[i])))
        target = "D001" if planted[i] else f"U{rng.integers(0, 300):03d}"
        events.append(DisputeEvent(ids[i], "redispatch", "d", "改派", target))
    columns = {
        "id": ids,
        "received_at": pa.array((times * 1e6).astype(np.int64), pa.timestamp("us", tz="UTC")),
        "category_code": categories.tolist(),
        "unit_code": units.tolist(),
        "text": texts,
        "dispute_count": disputed.astype(np.int64),
    }
    return {
        k: pa.chunked_array([pa.array(v) if not isinstance(v, pa.Array) else v]) for k, v in columns.items()
    }, events


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    columns, events = build(args.n, args.seed)
    orders = orders_from_columns(columns, ZONE)
    profile = load_profile()
    began = time.process_time()
    result = analyse(orders, events, ZONE, Names(profile.catalogue, profile.org))
    spent = time.process_time() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first = result.suggestions[0] if result.suggestions else None
    rate = args.n / spent
    print(f"orders {args.n}: analyse {spent:.1f} s CPU ({rate:,.0f} orders/s), peak RSS {peak:.0f} MiB")
    counts = (result.counts["disputed"], len(result.features), len(result.suggestions))
    print("disputed {}, features {}, suggestions {}".format(*counts))
    print(f"planted category first: {bool(first and PLANTED in first.subject)}")
    for s in result.suggestions[:5]:
        print(" -", s.text)


if __name__ == "__main__":
    main()
