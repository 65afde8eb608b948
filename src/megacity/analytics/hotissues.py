"""Teddy Cup 2020 C task 2 (热点问题挖掘) and the message files of tasks 2 and 3.

`read_messages` reads 附件3/附件4 (CSV or xlsx, tab-padded headers and cells) into `Message`s;
`hot_issue_tables` builds the two tables the competition asked for: the top-N hot issues
(热度排名, 问题ID, 热度指数, 时间范围, 地点/人群, 问题描述) and every message of those issues
(问题ID, 留言编号, 留言用户, 留言主题, 留言时间, 留言详情, 点赞数, 反对数).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from megacity.analytics.topics import Message, Params, Topic, cluster, rank_topics
from megacity.io.rows import UnreadableFileError, clean_text, parse_int, parse_timestamp
from megacity.io.tabular import open_table
from megacity.io.teddycup import column_map

__all__ = [
    "DETAIL_COLUMNS",
    "HOT_COLUMNS",
    "MessageError",
    "hot_issue_tables",
    "read_messages",
    "write_tables",
]

HOT_COLUMNS = ("热度排名", "问题ID", "热度指数", "时间范围", "地点/人群", "问题描述")
DETAIL_COLUMNS = ("问题ID", "留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数", "反对数")


class MessageError(Exception):
    """The message file cannot be used (one line for the user)."""


@dataclass(frozen=True)
class Board:
    """Messages of a board file, and the official replies where the file has them (附件4)."""

    messages: list[Message]
    replies: list[str | None]
    replied_at: list[datetime | None]


def _int(value: Any) -> int:
    try:
        return parse_int(value) or 0
    except ValueError:
        return 0  # a bad like count is context, never a reason to drop the message


def _time(value: Any, zone: ZoneInfo) -> datetime | None:
    try:
        return parse_timestamp(value, zone)
    except ValueError:
        return None


def read_messages(path: Path, timezone: str = "Asia/Shanghai", need_replies: bool = False) -> Board:
    """Read a Teddy Cup board export (附件2/3/4); rows without 留言编号 are skipped."""
    if not path.is_file():
        raise MessageError(f"{path}: no such file")
    try:
        table = open_table(path)
        columns = column_map(table.header)
        wanted = ["留言编号", "留言主题", "留言详情"] + (["答复意见"] if need_replies else [])
        missing = [c for c in wanted if c not in columns]
        if missing:
            raise MessageError(f"{path}: missing column(s) {', '.join(missing)}")
        zone = ZoneInfo(timezone)
        board = Board([], [], [])
        for record in table.records():
            cells = {key: record.cells.get(name) for key, name in columns.items()}
            number = clean_text(cells.get("留言编号"))
            if number is None:
                continue
            board.messages.append(
                Message(
                    id=number,
                    at=_time(cells.get("留言时间"), zone),
                    title=clean_text(cells.get("留言主题")) or "",
                    text=clean_text(cells.get("留言详情")) or "",
                    author=clean_text(cells.get("留言用户")),
                    likes=_int(cells.get("点赞数")),
                    dislikes=_int(cells.get("反对数")),
                )
            )
            board.replies.append(clean_text(cells.get("答复意见")))
            board.replied_at.append(_time(cells.get("答复时间"), zone))
    except (UnreadableFileError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise MessageError(
            f"{path}: cannot read ({str(exc).splitlines()[0] if str(exc) else exc!r})"
        ) from None
    if not board.messages:
        raise MessageError(f"{path}: no messages")
    return board


def _day(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y/%m/%d}"


def hot_issue_tables(
    messages: Sequence[Message], top: int = 5, params: Params | None = None
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[Topic]]:
    """The hot-issue table, the per-message table and the ranked topics behind them."""
    topics = rank_topics(messages, cluster(messages, params))[:top]
    hot: list[tuple[Any, ...]] = []
    details: list[tuple[Any, ...]] = []
    for rank, topic in enumerate(topics, start=1):
        span = f"{_day(topic.first_at)} 至 {_day(topic.last_at)}"
        hot.append(
            (rank, rank, round(topic.heat, 3), span, topic.phrase, messages[topic.representative].title)
        )
        ordered = sorted(
            topic.members, key=lambda i: (messages[i].at or datetime.min.astimezone(), messages[i].id)
        )
        for row in ordered:
            m = messages[row]
            at = "" if m.at is None else f"{m.at:%Y/%m/%d %H:%M:%S}"
            details.append((rank, m.id, m.author or "", m.title, at, m.text, m.likes, m.dislikes))
    return hot, details, topics


def write_tables(out: Path, hot: list[tuple[Any, ...]], details: list[tuple[Any, ...]]) -> list[Path]:
    """xlsx: two sheets (热点问题表, 热点问题留言明细表); otherwise two CSV files, the second
    named `<stem>_details.csv`. Returns the paths written."""
    if out.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        first = book.active
        assert first is not None
        first.title = "热点问题表"
        for row in (HOT_COLUMNS, *hot):
            first.append(list(row))
        second = book.create_sheet("热点问题留言明细表")
        for row in (DETAIL_COLUMNS, *details):
            second.append(list(row))
        book.save(out)
        return [out]
    detail_path = out.with_name(f"{out.stem}_details.csv")
    for path, header, rows in ((out, HOT_COLUMNS, hot), (detail_path, DETAIL_COLUMNS, details)):
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return [out, detail_path]
