"""`megacity analyse hot-issues | topics | topic-track | topic-close | replies` end to end.

On real cuts of the Teddy Cup files and on a database.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from megacity.analytics.hotissues import DETAIL_COLUMNS, HOT_COLUMNS
from megacity.cli import app
from megacity.store.tables import audit_events

DATA = Path(__file__).resolve().parents[1] / "data" / "topics"
runner = CliRunner()


def run(*args: str, expect: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == expect, result.output
    return result.output


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_hot_issues_csv_and_xlsx(tmp_path: Path) -> None:
    out = run(
        "analyse",
        "hot-issues",
        "--data",
        str(DATA / "附件3_topics_sample.csv"),
        "--out",
        str(tmp_path / "hot.csv"),
    )
    assert "hot issues 5" in out
    hot, details = rows(tmp_path / "hot.csv"), rows(tmp_path / "hot_details.csv")
    assert tuple(hot[0]) == HOT_COLUMNS and tuple(details[0]) == DETAIL_COLUMNS
    assert [r["热度排名"] for r in hot] == ["1", "2", "3", "4", "5"]
    heats = [float(r["热度指数"]) for r in hot]
    assert heats == sorted(heats, reverse=True)
    assert {r["问题ID"] for r in details} == {r["问题ID"] for r in hot}
    assert " 至 " in hot[0]["时间范围"]
    run(
        "analyse",
        "hot-issues",
        "--data",
        str(DATA / "附件3_topics_sample.csv"),
        "--out",
        str(tmp_path / "h.xlsx"),
        "--top",
        "3",
    )
    book = load_workbook(tmp_path / "h.xlsx")
    assert book.sheetnames == ["热点问题表", "热点问题留言明细表"]
    assert book["热点问题表"].max_row == 4


def test_replies_scores_every_message(tmp_path: Path) -> None:
    out = run(
        "analyse",
        "replies",
        "--data",
        str(DATA / "附件4_replies_sample.csv"),
        "--out",
        str(tmp_path / "r.csv"),
    )
    scored = rows(tmp_path / "r.csv")
    assert len(scored) == 18 and f"replies 18 weak {sum(r['weak'] == '1' for r in scored)}" in out
    for row in scored:
        assert 0.0 <= float(row["combined"]) <= 1.0
        assert row["working_days"].isdigit()
    short = [r for r in scored if "short reply" in r["reasons"]]
    assert short and all(r["weak"] == "1" for r in short)


def test_bad_input_is_one_error_line(tmp_path: Path) -> None:
    for args in (
        ("hot-issues", "--data", str(tmp_path / "missing.xlsx"), "--out", str(tmp_path / "x.csv")),
        ("replies", "--data", str(DATA / "附件3_topics_sample.csv"), "--out", str(tmp_path / "x.csv")),
        ("topics", "--month", "2025-03", "--out", str(tmp_path / "x.csv")),
        (
            "topics",
            "--month",
            "2025-13",
            "--tickets",
            str(DATA / "附件3_topics_sample.csv"),
            "--out",
            "x.csv",
        ),
        ("topics", "--month", "2025-03", "--tickets", str(tmp_path / "none.csv"), "--out", "x.csv"),
    ):
        out = run("analyse", *args, expect=2)
        assert out.strip().startswith("error:") and len(out.strip().splitlines()) == 1, out


OTHERS = [
    "咨询新生儿医保办理",
    "公交站牌信息错误",
    "小区垃圾分类桶太少",
    "咨询公积金提取流程",
    "出租车拒载绕路",
    "菜市场卫生差",
    "学校门口违章停车",
    "供暖温度不达标",
    "自来水水质发黄",
    "共享单车乱停放",
]


def tickets_csv(path: Path) -> None:
    """Six requests about one lift in March, one in February, ten unrelated ones."""
    start = datetime(2025, 3, 2, 1, tzinfo=UTC)
    header = [
        "id",
        "received_at",
        "title",
        "text",
        "complainant_id",
        "street_code",
        "category_code",
        "channel",
        "kind",
    ]
    lines: list[list[object]] = []
    for n in range(6):
        title = ["望京西园三区电梯又坏了", "望京西园三区电梯故障困人"][n % 2]
        lines.append(
            [f"a{n}", start + timedelta(days=n), title, f"{title}，老人上不了楼", f"p{n}", "110105026", "C1"]
        )
    lines.append(
        ["b0", start - timedelta(days=20), "望京西园三区电梯故障", "电梯又坏了", "q", "110105026", "C1"]
    )
    for n, title in enumerate(OTHERS):
        lines.append([f"c{n}", start + timedelta(hours=n), title, title, f"r{n}", "110101001", "C2"])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for line in lines:
            when = line[1]
            assert isinstance(when, datetime)
            writer.writerow([line[0], when.isoformat(), *line[2:], "web", "complaint"])


def test_topics_from_a_file_and_adoption_in_a_database(tmp_path: Path, database_url: str) -> None:
    tickets_csv(tmp_path / "t.csv")
    run(
        "analyse",
        "topics",
        "--month",
        "2025-03",
        "--tickets",
        str(tmp_path / "t.csv"),
        "--out",
        str(tmp_path / "p.csv"),
    )
    proposals = rows(tmp_path / "p.csv")
    assert proposals[0]["rank"] == "1" and sorted(proposals[0]["member_ids"].split()) == [
        f"a{n}" for n in range(6)
    ]
    assert float(proposals[0]["previous"]) > 0  # the February request matches the topic's terms
    assert len(proposals) == 10 and all(len(p["member_ids"].split()) == 1 for p in proposals[1:])
    assert "imported 17" in run(
        "import",
        str(tmp_path / "t.csv"),
        "--format",
        "canonical",
        "--database",
        database_url,
        "--report",
        str(tmp_path / "rep.csv"),
    )
    out = run(
        "analyse",
        "topics",
        "--month",
        "2025-03",
        "--database",
        database_url,
        "--out",
        str(tmp_path / "q.csv"),
        "--adopt",
        "1",
        "--by",
        "lead",
    )
    assert "adopted topic 1" in out
    assert rows(tmp_path / "q.csv")[0]["member_ids"] == proposals[0]["member_ids"]
    tracked = [
        json.loads(line)
        for line in run(
            "analyse", "topic-track", "--database", database_url, "--until", "2025-04"
        ).splitlines()
    ]
    assert len(tracked) == 1 and tracked[0]["month"] == "2025-03"
    assert tracked[0]["series"] == [{"month": "2025-03", "volume": 6}, {"month": "2025-04", "volume": 0}]
    out = run(
        "analyse",
        "topics",
        "--month",
        "2025-03",
        "--tickets",
        str(tmp_path / "t.csv"),
        "--out",
        "x.csv",
        "--adopt",
        "1",
        expect=2,
    )
    assert out.startswith("error: --adopt")


def test_topic_close(database_url: str) -> None:
    from megacity.cli_options import build_app
    from megacity.services.topics import adopt

    megacity = build_app(database_url)
    topic = adopt(app=megacity, month="2025-03", title="电梯", terms=["电梯"], actor="lead", role="system")
    close = ("analyse", "topic-close", "--database", database_url)
    for args, message in (
        ((str(topic["id"]), "--reason", "  "), "error: closing a topic needs a reason"),
        (("999", "--reason", "已解决"), "error: no monthly topic 999"),
    ):
        out = run(*close, *args, expect=2)
        assert out.strip() == message, out
    out = run(*close, str(topic["id"]), "--reason", "电梯已更换", "--by", "lead")
    assert out.strip() == f"closed topic {topic['id']}: 电梯"
    out = run(*close, str(topic["id"]), "--reason", "再次", expect=2)
    assert out.startswith("error:") and "closed" in out and len(out.strip().splitlines()) == 1
    tracked = json.loads(run("analyse", "topic-track", "--database", database_url, "--until", "2025-04"))
    assert tracked["status"] == "closed" and tracked["closed_at"] is not None
    with megacity.engine.connect() as conn:
        events = conn.execute(select(audit_events).where(audit_events.c.action == "close_topic")).all()
    assert [(e.actor, e.role, e.reason, e.payload["topic_id"]) for e in events] == [
        ("lead", "system", "电梯已更换", topic["id"])
    ]
