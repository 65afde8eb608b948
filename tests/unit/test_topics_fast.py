"""The fast paths of monthly topics give bit-for-bit the answers of the plain ones.

`cluster` runs DBSCAN on distinct vectors weighted by their copies, `TextIndex` finds terms
through an index of character pairs, and `propose_from` counts a topic's earlier requests with
both: each is compared here with the straightforward computation it replaces, on requests
with many copies (core and border copies, empty ones), chains that get split again, and terms
of every length.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import DBSCAN

from megacity.analytics.hotissues import read_messages
from megacity.analytics.topics import (
    Message,
    Params,
    TextIndex,
    cluster,
    coherence,
    matches,
    rank_topics,
    similarity_graph,
    vectorise,
)
from megacity.services.topics import LOCAL_STREETS, _History

DATA = Path(__file__).resolve().parents[1] / "data" / "topics"
START = datetime(2025, 3, 1, tzinfo=UTC)
TITLES = [
    "望京西园三区电梯又坏了，老人上不了楼",
    "望京西园三区3号楼电梯故障停运",
    "东华门大街胡同口路灯不亮，晚上很黑",
    "东华门大街胡同口路灯坏了好几天",
    "大兴旧宫工地夜间施工噪音扰民",
    "旧宫镇工地半夜施工噪音太大",
    "咨询新生儿医保怎么办理",
    "咨询公积金提取流程",
    "小区垃圾分类桶太少",
    "伊景园滨河苑捆绑销售车位",
    "伊景园滨河苑车位只租不售",
    "",  # empty requests: a zero vector, copied
]
STREETS = ["110101001", "110101002", "110105001", None]


def plain_cluster(messages: Sequence[Message], params: Params) -> np.ndarray:
    """`cluster` as it was: DBSCAN on every row, copies included."""
    vectors, rare = vectorise(messages, params)
    graph = similarity_graph(vectors, rare, params)
    labels = np.full(len(messages), -1, dtype=np.int64)
    next_label = 0
    pending = [(np.arange(len(messages), dtype=np.int64), params.eps)]
    while pending:
        rows, eps = pending.pop()
        found = DBSCAN(eps=eps, min_samples=params.min_samples, metric="precomputed").fit_predict(
            graph[rows][:, rows]
        )
        for label in np.unique(found[found >= 0]):
            members = rows[found == label]
            tighter = eps - params.eps_step
            if coherence(vectors, members) < params.coherence and tighter >= params.min_eps:
                pending.append((members, tighter))
            else:
                labels[members] = next_label
                next_label += 1
    alone = labels < 0
    labels[alone] = next_label + np.arange(int(alone.sum()))
    return labels


def month(seed: int, size: int) -> list[Message]:
    """Requests drawn from a few titles: most are copies of others, some copied once only."""
    draw = np.random.default_rng(seed)
    rows: list[Message] = []
    for n in range(size):
        title = TITLES[int(draw.integers(len(TITLES)))]
        street = STREETS[int(draw.integers(len(STREETS)))]
        text = f"{title}，请尽快处理。" if title and draw.random() < 0.8 else title
        if draw.random() < 0.1:  # a request told once, in its own words
            text = f"{title}，第{n}次反映"
        category = None if not title else "C1"
        rows.append(Message(f"m{n}", START + timedelta(hours=n), title, text, f"p{n % 40}", street, category))
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cluster_on_distinct_vectors_equals_cluster_on_every_row(seed: int) -> None:
    rows = month(seed, 240)
    params = Params()
    vectors, rare = vectorise(rows, params)
    distinct = {(vectors[i].indices.tobytes(), vectors[i].data.tobytes()) for i in range(len(rows))}
    assert len(distinct) < len(rows) / 3  # the fast path has copies to merge
    assert np.array_equal(cluster(rows, params), plain_cluster(rows, params))


def test_cluster_splits_chains_and_keeps_empty_copies_apart_as_before() -> None:
    rows = month(4, 300)
    loose = Params(coherence=0.9)  # every cluster is split again, down to min_eps
    assert np.array_equal(cluster(rows, loose), plain_cluster(rows, loose))
    empty = [i for i, m in enumerate(rows) if not m.title and m.street is None]  # zero vectors
    labels = cluster(rows).tolist()
    assert len(empty) >= 3 and len({labels[i] for i in empty}) == len(empty)


def test_cluster_falls_back_when_copies_may_not_be_neighbours() -> None:
    rows = month(5, 120)
    tight = Params(min_eps=0.0)  # a radius of 0 could part copies: every row for itself
    assert np.array_equal(cluster(rows, tight), plain_cluster(rows, tight))


def test_cluster_on_the_real_cut_is_unchanged() -> None:
    board = read_messages(DATA / "附件3_topics_sample.csv")
    copied = board.messages + board.messages[:40]  # and the same messages filed again
    for messages in (board.messages, copied):
        assert np.array_equal(cluster(messages), plain_cluster(messages, Params()))


def test_text_index_answers_as_in_does() -> None:
    texts = ["伊景园滨河苑车位捆绑", "", "a", "车位", "wifi没信号,车位满"]
    texts += ["ab", "cd", "滨河苑\ud800x", "苑车"]  # "bc" spans two texts: no text holds it
    index = TextIndex(texts)
    terms = ["车位", "伊景园滨河苑", "苑车", "bc", "a", "", "车", "wifi", "位捆绑", "满"]
    terms += ["没有", "\ud800x", "不存在", "车位满了"]
    for term in terms:
        assert index.holding(term).tolist() == [term in text for text in texts], term
    assert TextIndex([]).holding("车位").tolist() == []


def plain_previous(history: Sequence[Sequence[Message]], terms: list[str], streets: list[str]) -> float:
    """`propose_from`'s growth as it was: `matches` over every earlier request."""
    if not history:
        return 0.0
    allowed = set(streets if len(streets) <= LOCAL_STREETS else [])
    return sum(
        sum(
            1 for m in part if (not allowed or m.street in allowed) and matches(terms, f"{m.title}。{m.text}")
        )
        for part in history
    ) / len(history)


def test_history_counts_as_matches_does() -> None:
    history = [month(seed, 200) for seed in (6, 7, 8)]
    current = month(9, 200)
    wanted = [t for t in rank_topics(current, cluster(current)) if len(t.members) > 1]
    assert len(wanted) >= 5
    cases = (
        [(t.terms, t.streets) for t in wanted]
        + [
            (["车位", "车位", "伊景园滨河苑"], ["110101001"]),  # a term twice counts twice
            (["电梯"], []),
            ([], []),
            (["噪音", "施工"], STREETS[:3] + ["999"]),  # more streets than LOCAL_STREETS: city-wide
            (["咨询", "办理", "医保", "流程"], ["999"]),
        ]
    )
    counted = _History(history)
    for terms, streets in cases:
        assert counted.previous(terms, streets) == plain_previous(history, terms, streets), terms
    assert _History([]).previous(["车位"], []) == 0.0
