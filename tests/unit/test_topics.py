"""Monthly topics and reply quality on hand-built requests with known answers and on a real cut."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from megacity.analytics.hotissues import hot_issue_tables, read_messages
from megacity.analytics.replies import score_reply
from megacity.analytics.topics import Message, cluster, rank_topics

DATA = Path(__file__).resolve().parents[1] / "data" / "topics"
START = datetime(2025, 3, 1, tzinfo=UTC)

GROUPS = {
    "lift": [
        "望京西园三区电梯又坏了，老人上不了楼",
        "望京西园三区3号楼电梯故障停运",
        "望京西园三区电梯经常故障困人",
    ],
    "lamp": [
        "东华门大街胡同口路灯不亮，晚上很黑",
        "东华门大街胡同口路灯坏了好几天",
        "东华门大街胡同路灯不亮有安全隐患",
    ],
    "noise": ["大兴旧宫工地夜间施工噪音扰民", "旧宫镇工地半夜施工噪音太大", "旧宫工地夜间施工扰民睡不着觉"],
}
OTHERS = [
    "咨询新生儿医保怎么办理",
    "公交站牌信息错误",
    "小区垃圾分类桶太少",
    "咨询公积金提取流程",
    "出租车拒载",
]


def requests(extra_likes: int = 0) -> tuple[list[Message], dict[str, list[int]]]:
    rows: list[Message] = []
    where: dict[str, list[int]] = {}
    for name, titles in GROUPS.items():
        for copy in range(2):  # each matter told twice by different people
            for title in titles:
                where.setdefault(name, []).append(len(rows))
                likes = extra_likes if name == "noise" else 0
                at = START + timedelta(days=len(rows))
                text = f"{title}，请有关部门处理。"
                rows.append(Message(f"t{len(rows)}", at, title, text, f"p{len(rows)}-{copy}", likes=likes))
    for title in OTHERS:
        rows.append(Message(f"t{len(rows)}", START, title, title, f"p{len(rows)}"))
    return rows, where


def test_known_matters_form_one_topic_each() -> None:
    rows, where = requests()
    labels = cluster(rows)
    found = {name: set(labels[members].tolist()) for name, members in where.items()}
    assert all(len(label) == 1 for label in found.values()), found
    assert len({next(iter(label)) for label in found.values()}) == 3
    others = labels[-len(OTHERS) :]
    assert len(set(others.tolist())) == len(OTHERS)  # unrelated requests stay alone
    assert not set(others.tolist()) & {next(iter(label)) for label in found.values()}


def test_heat_ranks_by_people_and_likes() -> None:
    rows, where = requests(extra_likes=50)
    topics = rank_topics(rows, cluster(rows))
    assert sorted(topics[0].members) == where["noise"]  # same size, but liked
    assert {len(t.members) for t in topics[:3]} == {6}
    assert topics[0].heat > topics[1].heat > topics[3].heat
    assert "旧宫" in topics[0].phrase and topics[0].people == 6


def test_real_cut_recovers_the_recurring_matters() -> None:
    board = read_messages(DATA / "附件3_topics_sample.csv")
    labels = cluster(board.messages)
    titles = [m.title for m in board.messages]
    for key in ("伊景园", "丽发新城"):
        members = [i for i, t in enumerate(titles) if key in t and ("搅拌" in t or key == "伊景园")]
        assert len(members) >= 6
        assert len(set(labels[members].tolist())) == 1, key
    hot, details, topics = hot_issue_tables(board.messages, top=3)
    assert [row[0] for row in hot] == [1, 2, 3]
    described = " ".join(str(row[4]) + str(row[5]) for row in hot)
    assert "伊景园" in described and "丽发新城" in described
    assert len(details) == sum(len(t.members) for t in topics)
    assert {row[1] for row in details} <= {m.id for m in board.messages}


GOOD = (
    "网友您好！感谢您的留言。经调查核实，东华门大街胡同口路灯因线路老化损坏。根据《城市照明管理规定》，"
    "我单位已安排维修人员于3月5日更换线路并修复路灯，目前路灯已恢复正常照明。下一步将加强巡查。"
    "如有疑问，请拨打联系电话12345。感谢您对我们工作的理解和支持！"
)


def test_empty_off_topic_and_complete_replies() -> None:
    title, request = "东华门大街胡同口路灯不亮", "东华门大街胡同口路灯坏了好几天，晚上很黑，请修复路灯。"
    asked = datetime(2025, 3, 3, 9, tzinfo=UTC)
    good = score_reply(title, request, GOOD, asked, asked + timedelta(days=2))
    empty = score_reply(title, request, "", asked, asked + timedelta(days=2))
    off = score_reply(
        title, request, GOOD.replace("东华门大街胡同口路灯", "公积金提取").replace("路灯", "窗口")
    )
    late = score_reply(title, request, GOOD, asked, asked + timedelta(days=70))
    assert good.combined >= 0.8 and not good.weak and len(good.elements) == 5, good
    assert empty.combined == 0.0 and empty.weak and empty.reasons == ["empty reply"]
    assert off.relevance < good.relevance / 2 and off.weak
    assert any(r.startswith("off-topic") for r in off.reasons)
    assert late.timeliness == 0.0 and late.weak and late.combined < good.combined
    short = score_reply(title, request, "已转相关部门处理。")
    assert short.weak and short.completeness < 0.2


def test_real_replies_match_their_own_messages_better_than_others() -> None:
    board = read_messages(DATA / "附件4_replies_sample.csv", need_replies=True)
    replies = [r or "" for r in board.replies]
    shuffled = replies[1:] + replies[:1]
    own = [score_reply(m.title, m.text, r).relevance for m, r in zip(board.messages, replies, strict=True)]
    other = [score_reply(m.title, m.text, r).relevance for m, r in zip(board.messages, shuffled, strict=True)]
    assert float(np.mean(own)) > float(np.mean(other)) + 0.2
    assert sum(a >= b for a, b in zip(own, other, strict=True)) >= 0.8 * len(own)
