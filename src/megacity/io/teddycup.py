"""Reader of the 2020 Teddy Cup (泰迪杯) problem C message-board exports, 附件2/3/4.

All attachments share 留言编号, 留言用户, 留言主题, 留言时间, 留言详情; 附件2 adds the label
一级分类 (empty in the test set), 附件3 adds 点赞数/反对数, 附件4 adds the official reply
答复意见/答复时间. The board does not say what kind of request a message is, so `kind` stays
null with the flag "kind missing" and the service guesses it.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from megacity.io.rows import (
    FieldProblem,
    Mapper,
    ParsedRow,
    RawRecord,
    UnreadableFileError,
    clean_code,
    clean_text,
    empty_record,
    parse_int,
    parse_timestamp,
)
from megacity.io.tabular import normalize_header

__all__ = ["KEY_COLUMN", "check_header", "make_mapper"]

KEY_COLUMN = "留言编号"
COLUMNS = (
    "留言编号",
    "留言用户",
    "留言主题",
    "留言时间",
    "留言详情",
    "一级分类",
    "点赞数",
    "反对数",
    "答复意见",
    "答复时间",
)
ID_PREFIX = "teddycup:"


def _key(name: str) -> str:
    return normalize_header(name).replace("_", "")


def column_map(header: tuple[str, ...]) -> dict[str, str]:
    """Known Chinese column -> header name; whitespace inside or around a header is ignored."""
    found: dict[str, str] = {}
    for name in header:
        key = _key(name)
        if key in COLUMNS and key not in found:
            found[key] = name
    return found


def check_header(header: tuple[str, ...]) -> None:
    """Refuse a file without message number, time and some text before reading any data."""
    found = column_map(header)
    missing = [name for name in ("留言编号", "留言时间") if name not in found]
    if "留言主题" not in found and "留言详情" not in found:
        missing.append("留言主题 or 留言详情")
    if missing:
        raise UnreadableFileError(f"Teddy Cup table lacks column(s): {', '.join(missing)}")


def _time(field: str, column: str, value: Any, tz: tzinfo) -> datetime | None:
    try:
        return parse_timestamp(value, tz)
    except ValueError as exc:
        raise FieldProblem(field, f"{exc} in {column}") from None


def _count(column: str, value: Any, flags: list[str]) -> int | None:
    """Like counts are context, not the request: a bad one is flagged, never a reason to reject."""
    try:
        return parse_int(value)
    except ValueError:
        flags.append(f"{column} unparseable")
        return None


def _reply(cells: dict[str, Any], record: dict[str, Any], extra: dict[str, Any], flags: list[str]) -> None:
    """附件4: a reply moves the message to `replied` with the reply's time."""
    text = clean_text(cells.get("答复意见"))
    replied_at = record["replied_at"]
    if text is None and replied_at is None:
        return
    record["status"] = "replied"
    if text is not None:
        extra["reply_text"] = text
    if replied_at is None:
        flags.append("reply without time")
    elif replied_at < record["received_at"]:
        flags.append("replied before received")


def _extras(cells: dict[str, Any], extra: dict[str, Any], flags: list[str]) -> None:
    category = clean_text(cells.get("一级分类"))
    if category is not None:
        extra["category_path"] = [category]
    for column, name in (("点赞数", "likes"), ("反对数", "dislikes")):
        if column in cells:
            count = _count(column, cells[column], flags)
            if count is not None:
                extra[name] = count


def map_cells(row: int, cells: dict[str, Any], tz: tzinfo) -> ParsedRow:
    """One message, with cells keyed by the Chinese column names."""
    record = empty_record()
    number = clean_code(cells.get("留言编号"))
    if number is None:
        raise FieldProblem("id", "missing value in 留言编号")
    record["id"] = ID_PREFIX + number
    record["received_at"] = _time("received_at", "留言时间", cells.get("留言时间"), tz)
    if record["received_at"] is None:
        raise FieldProblem("received_at", "missing value in 留言时间")
    user = clean_code(cells.get("留言用户"))
    record["complainant_id"] = None if user is None else ID_PREFIX + user
    record["title"] = clean_text(cells.get("留言主题"))
    record["text"] = clean_text(cells.get("留言详情"))
    if record["title"] is None and record["text"] is None:
        raise FieldProblem("text", "留言主题 and 留言详情 are both empty")
    record["replied_at"] = _time("replied_at", "答复时间", cells.get("答复时间"), tz)
    record["channel"] = "web"
    record["status"] = "received"
    extra: dict[str, Any] = {"source": "teddycup"}
    flags = ["kind missing"]
    _reply(cells, record, extra, flags)
    _extras(cells, extra, flags)
    return ParsedRow(row, record, extra, tuple(flags))


def make_mapper(header: tuple[str, ...], tz: tzinfo) -> Mapper:
    """Resolve the header once; rows are then re-keyed by the Chinese column names."""
    check_header(header)
    columns = column_map(header)

    def map_row(raw: RawRecord) -> ParsedRow:
        cells = {key: raw.cells.get(name) for key, name in columns.items()}
        return map_cells(raw.row, cells, tz)

    return map_row
