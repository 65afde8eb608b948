"""Repeat-request detection on small hand-made cases (the semantics of docs/repeats.md)."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from megacity.analytics.cli import escalation, group_requests
from megacity.analytics.repeats import Params, RepeatDetector, TokenWeights, UnionFind, shingle
from megacity.analytics.tables import RequestTable, TableError, read_requests
from megacity.analytics.textnorm import normalise

CST = timezone(timedelta(hours=8))
START = datetime(2024, 1, 1, 9, 0, tzinfo=CST)

LAMP = "朝阳区安贞里小区3号楼东侧的路灯已经坏了两个多星期，晚上一片漆黑，老人和孩子出门很不安全。"
LAMP_AGAIN = "您好！" + LAMP + "已经反映多次了，一直没人处理，请尽快处理！谢谢。"
LAMP_NEIGHBOUR = (
    "我也住安贞里小区3号楼，东侧路灯坏了两个多星期了，晚上一片漆黑，老人和孩子出门很不安全，希望赶紧修。"
)
LAMP_TYPOS = "朝阳区安贞里小区3号楼东侧的路登已经坏了两个多星期，晚上一片漆黑，老人和孩子出门很不安全"
RUBBISH = "安贞里小区北门外的垃圾站每天早上六点清运，垃圾车轰鸣声很大，还经常堵住出口，影响居民上班出行。"
PARKING = "我是安贞里小区的业主，小区地下车库的收费标准今年突然上调了一倍，物业没有公示也没有征求业主意见。"

Row = tuple[str, float, str, str, str]  # id, days after START, text, complainant, street


def table(rows: list[Row], titles: list[str | None] | None = None) -> RequestTable:
    people = {p: i for i, p in enumerate(sorted({r[3] for r in rows if r[3]}))}
    streets = {s: i for i, s in enumerate(sorted({r[4] for r in rows if r[4]}))}
    return RequestTable(
        ids=[r[0] for r in rows],
        times=np.array([(START + timedelta(days=r[1])).timestamp() for r in rows]),
        people=np.array([people.get(r[3], -1) for r in rows], dtype=np.int64),
        streets=np.array([streets.get(r[4], -1) for r in rows], dtype=np.int64),
        titles=titles or [None] * len(rows),
        texts=[r[2] for r in rows],
        resolved=np.full(len(rows), -1, dtype=np.int8),
        callbacks=np.full(len(rows), np.nan),
    )


def groups(rows: list[Row], params: Params | None = None) -> dict[str, str]:
    found = table(rows)
    masters = group_requests(found, params or Params())
    return {found.ids[i]: found.ids[int(m)] for i, m in enumerate(masters)}


def test_same_complainant_within_the_window_is_a_repeat() -> None:
    result = groups([("a", 0, LAMP, "p1", "s1"), ("b", 10, LAMP_AGAIN, "p1", "s1")])
    assert result == {"a": "a", "b": "a"}


def test_same_complainant_after_the_window_starts_a_new_chain() -> None:
    result = groups([("a", 0, LAMP, "p1", "s1"), ("b", 61, LAMP_AGAIN, "p1", "s1")])
    assert result == {"a": "a", "b": "b"}
    longer = groups([("a", 0, LAMP, "p1", "s1"), ("b", 61, LAMP_AGAIN, "p1", "s1")], Params(window_days=90))
    assert longer == {"a": "a", "b": "a"}


def test_the_window_runs_from_the_previous_request_of_the_chain() -> None:
    rows = [("a", 0, LAMP, "p1", "s1"), ("b", 45, LAMP_AGAIN, "p1", "s1"), ("c", 99, LAMP_TYPOS, "p1", "s1")]
    assert groups(rows) == {"a": "a", "b": "a", "c": "a"}  # c is 99 days after a, 54 after b


def test_another_resident_of_the_same_street_is_a_repeat() -> None:
    assert groups([("a", 0, LAMP, "p1", "s1"), ("b", 3, LAMP_NEIGHBOUR, "p2", "s1")])["b"] == "a"


def test_same_text_at_another_street_by_another_person_is_not_linked() -> None:
    assert groups([("a", 0, LAMP, "p1", "s1"), ("b", 3, LAMP, "p2", "s2")])["b"] == "b"


def test_a_different_matter_at_the_same_place_is_not_a_repeat() -> None:
    rows = [("a", 0, LAMP, "p1", "s1"), ("b", 2, RUBBISH, "p1", "s1"), ("c", 4, PARKING, "p2", "s1")]
    assert groups(rows) == {"a": "a", "b": "b", "c": "c"}


def test_empty_keys_link_only_through_the_other_key() -> None:
    rows = [
        ("a", 0, LAMP, "p1", "s1"),
        ("b", 1, LAMP_AGAIN, "", "s1"),  # anonymous, same street
        ("c", 2, LAMP_TYPOS, "p1", ""),  # no street, same person
        ("d", 3, LAMP, "", ""),  # nothing to link with
        ("e", 4, LAMP, "", "s2"),
    ]
    assert groups(rows) == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "e"}


def test_title_counts_and_normalisation_ignores_greetings_width_and_phone_numbers() -> None:
    assert (
        normalise("路灯坏了", "您好！３号楼路灯坏了，电话13800138000，请尽快处理。谢谢")
        == "路灯坏了3号楼路灯坏了电话#请"
    )
    rows: list[Row] = [("a", 0, "", "p1", "s1"), ("b", 1, "", "p1", "s1")]
    found = table(rows, titles=[LAMP, LAMP_AGAIN])
    assert group_requests(found, Params()).tolist() == [0, 0]


def test_every_id_once_and_the_result_does_not_depend_on_input_order() -> None:
    rows: list[Row] = [
        ("a", 0, LAMP, "p1", "s1"),
        ("b", 5, RUBBISH, "p2", "s1"),
        ("c", 9, LAMP_NEIGHBOUR, "p3", "s1"),
        ("d", 9, PARKING, "p2", "s1"),
        ("e", 30, LAMP_AGAIN, "p1", ""),
        ("f", 30, RUBBISH + "已经反映多次了。", "p4", "s1"),
    ]
    expected = groups(rows)
    assert sorted(expected) == ["a", "b", "c", "d", "e", "f"]
    assert expected == {"a": "a", "b": "b", "c": "a", "d": "d", "e": "a", "f": "b"}
    for seed in range(5):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        assert groups(shuffled) == expected


def test_simultaneous_requests_are_ordered_by_id() -> None:
    assert groups([("b", 0, LAMP, "p1", "s1"), ("a", 0, LAMP_AGAIN, "p1", "s1")]) == {"a": "a", "b": "a"}


def test_streaming_in_any_batch_size_gives_the_same_links() -> None:
    texts = [normalise(None, t) for t in (LAMP, RUBBISH, LAMP_AGAIN, PARKING, LAMP_NEIGHBOUR, LAMP_TYPOS)]
    times = np.arange(6, dtype=np.float64) * 86400.0
    people, streets = np.array([0, 1, 0, 2, 3, 0]), np.zeros(6, dtype=np.int64)
    weights = TokenWeights()
    weights.add(shingle(texts))
    found = []
    for size in (1, 2, 6):
        detector = RepeatDetector(Params(), weights, learn=False)
        links = set()
        for start in range(0, 6, size):
            part = slice(start, start + size)
            got = detector.feed(times[part], people[part], streets[part], shingle(texts[part]))
            links |= set(zip(got.earlier.tolist(), got.later.tolist(), strict=True))
        found.append(links)
    assert found[0] == found[1] == found[2] and (0, 2) in found[0]
    with pytest.raises(ValueError, match="time order"):
        detector.feed(times[:1], people[:1], streets[:1], shingle(texts[:1]))


def test_union_find_keeps_the_earliest_request_as_root() -> None:
    chains = UnionFind(6)
    chains.union(np.array([4, 1, 3]), np.array([5, 4, 2]))
    assert chains.roots().tolist() == [0, 1, 2, 2, 1, 1]


def test_escalation_after_a_resolved_callback_and_bursts() -> None:
    day = 86400.0
    times = np.array([0, 5, 6, 7]) * day
    unknown = np.full(4, -1, dtype=np.int8)
    assert escalation(times, unknown, np.full(4, np.nan))[3] == "district"  # 3 repeats in 30 days
    assert escalation(times[:2], unknown[:2], np.full(2, np.nan)) == (1, False, True, "none")
    solved = np.array([1, -1, -1, -1], dtype=np.int8)
    assert escalation(times, solved, np.array([2 * day, np.nan, np.nan, np.nan]))[1:] == (True, True, "city")


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_csv_times_with_and_without_offset_and_loose_headers(tmp_path: Path) -> None:
    rows = [
        {
            "ID": " a ",
            "Received At": "2024-03-01T08:00:00+08:00",
            "Text": LAMP,
            "Complainant ID": "p1",
            "street_code": "s1",
        },
        {
            "ID": "b",
            "Received At": " 2024-03-01 08:00:00 ",
            "Text": LAMP,
            "Complainant ID": " ",
            "street_code": "s1 ",
        },
        {
            "ID": "c",
            "Received At": "2024-03-01T00:00:00Z",
            "Text": LAMP,
            "Complainant ID": "p1",
            "street_code": "",
        },
        {"ID": "d", "Received At": "not a time", "Text": LAMP, "Complainant ID": "p1", "street_code": "s1"},
    ]
    found = read_requests(write_csv(tmp_path / "t.csv", rows))
    assert found.ids == ["a", "b", "c", "d"]
    assert found.times[0] == found.times[1] == found.times[2] and np.isnan(found.times[3])
    assert found.people.tolist() == [0, -1, 0, 0] and found.streets.tolist() == [0, 0, -1, 0]
    assert group_requests(found, Params()).tolist() == [0, 0, 0, 3]


def test_parquet_timestamps_naive_and_aware(tmp_path: Path) -> None:
    base = {
        "id": ["a", "b"],
        "text": [LAMP, LAMP_AGAIN],
        "complainant_id": ["p1", "p1"],
        "street_code": [None, "s"],
    }
    aware = pa.array([datetime(2024, 3, 1, 0, 0, tzinfo=UTC)] * 2, pa.timestamp("us", tz="UTC"))
    naive = pa.array([datetime(2024, 3, 1, 8, 0)] * 2, pa.timestamp("ms"))
    times = []
    for name, column in (("aware", aware), ("naive", naive)):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table({**base, "received_at": column}), path)
        found = read_requests(path)
        times.append(found.times[0])
        assert found.streets.tolist() == [-1, 0]
        assert group_requests(found, Params()).tolist() == [0, 0]
    assert times[0] == times[1] == datetime(2024, 3, 1, tzinfo=UTC).timestamp()


def test_missing_file_or_column_is_a_table_error(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="no such file"):
        read_requests(tmp_path / "nope.csv")
    path = write_csv(
        tmp_path / "t.csv", [{"id": "a", "received_at": "2024-03-01", "text": LAMP, "street_code": "s"}]
    )
    with pytest.raises(TableError, match="complainant_id"):
        read_requests(path)


def _chains_one_text_at_a_time(
    times: np.ndarray, people: np.ndarray, streets: np.ndarray, texts: list[str], params: Params
) -> np.ndarray:
    """`find_chains` by its definition: every request shingled and scored on its own."""
    shingles = shingle(texts)
    weights = TokenWeights()
    weights.add(shingles)
    detector = RepeatDetector(params, weights, learn=False)
    chains = UnionFind(len(times))
    for start in range(0, len(times), 7):
        rows = np.arange(start, min(start + 7, len(times)))
        links = detector.feed(times[rows], people[rows], streets[rows], shingles.take(rows))
        chains.union(links.earlier, links.later)
    return chains.roots()


def test_texts_scored_once_give_the_chains_of_scoring_every_request() -> None:
    """find_chains shingles each distinct text once and scores a pair of texts once per batch
    (street and person pairs apart): copies, matters 60 days apart (the window's edge, either
    side) and batches of 7 must give the same chains as scoring every request on its own."""
    from megacity.analytics.repeats import find_chains

    rng = random.Random(11)
    short = ("安贞里小区3号楼东侧", "安贞里小区北门外的垃圾站")  # inside longer texts: damping decides
    pool = [
        normalise(None, t) for t in (LAMP, LAMP_AGAIN, LAMP_NEIGHBOUR, LAMP_TYPOS, RUBBISH, PARKING, *short)
    ]
    days: list[float] = []
    for matter in range(40):
        start = rng.choice((0.0, 10.0, 30.0, 59.0))
        days += [start, start + rng.choice((0.5, 60.0, 60.0 + 1e-3, 61.0))] + [start + 3.0] * (matter % 3)
    days.sort()
    count = len(days)
    times = np.array([(START + timedelta(days=d)).timestamp() for d in days])
    people = np.array([rng.randrange(-1, 6) for _ in range(count)], dtype=np.int64)
    streets = np.array([rng.randrange(-1, 3) for _ in range(count)], dtype=np.int64)
    texts = [rng.choice(pool) for _ in range(count)]
    # a text inside a longer one links through its complainant (little damping) but not
    # through the street alone (much damping): the same two texts, two different scores
    for params in (Params(), Params(damping=1.0, street_damping=50.0, street_evidence=0.0)):
        expected = _chains_one_text_at_a_time(times, people, streets, texts, params)
        assert len(set(texts)) < count and len(set(expected.tolist())) < count  # copies, and chains
        assert find_chains(times, people, streets, texts, params, batch=7).tolist() == expected.tolist()


def test_group_rows_is_group_requests() -> None:
    """The (time, id) order, duplicate ids and rows without a time, as `analyse repeats` has them."""
    from megacity.analytics.repeats import group_rows

    rows: list[Row] = [
        ("r1", 0, LAMP, "p1", "s1"),
        ("r2", 2, LAMP_AGAIN, "p1", "s1"),
        ("r0", 2, LAMP_TYPOS, "p2", "s1"),
        ("r1", 5, RUBBISH, "p3", "s2"),  # the same id again: stands with the first r1
        ("r3", 9, LAMP_NEIGHBOUR, "", "s1"),
        ("r4", 61, LAMP, "p1", "s1"),
        ("r5", 70, PARKING, "p4", ""),
    ]
    for seed in range(4):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        data = table(shuffled)
        data.times[[i for i, r in enumerate(shuffled) if r[0] == "r5"]] = np.nan
        masters, timeless = group_rows(
            data.ids, data.times, data.people, data.streets, data.titles, data.texts, Params()
        )
        assert masters.tolist() == group_requests(data, Params()).tolist() and timeless == 1
