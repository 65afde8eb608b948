"""Unit tests of megacity.io: value parsers, table reading, the three readers and the writers.

Fixtures in tests/data are small cuts of the real shared data (see tests/data/README.md), so the
readers are tested against the quirks they must survive, not against tidied-up copies.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from megacity.domain.enums import Channel, Status
from megacity.domain.tickets import CANONICAL_COLUMNS
from megacity.io import (
    ParsedRow,
    RowError,
    UnreadableFileError,
    clean_text,
    count_rows,
    detect_format,
    parquet_schema,
    parse_bool,
    parse_float,
    parse_timestamp,
    read_tickets,
    write_row_errors,
    write_tickets,
)
from megacity.io.canonical import identifier
from megacity.io.rows import parse_int

DATA = Path(__file__).resolve().parents[1] / "data"
TEDDY = DATA / "teddycup"
NYC = DATA / "nyc311"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
CST = timezone(timedelta(hours=8))


def parsed(path: Path, **options: Any) -> list[ParsedRow]:
    results = list(read_tickets(path, **options))
    assert all(isinstance(result, ParsedRow) for result in results), results
    return [result for result in results if isinstance(result, ParsedRow)]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def canonical_row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(CANONICAL_COLUMNS)
    row.update(values)
    return row


# --- value parsers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2020/1/6 12:09:38", SHANGHAI, datetime(2020, 1, 6, 12, 9, 38, tzinfo=CST)),
        ("2019-02-18 10:46:02", SHANGHAI, datetime(2019, 2, 18, 10, 46, 2, tzinfo=CST)),
        ("2019/12/30 17:06", SHANGHAI, datetime(2019, 12, 30, 17, 6, tzinfo=CST)),
        ("2020年1月6日 12:09:38", SHANGHAI, datetime(2020, 1, 6, 12, 9, 38, tzinfo=CST)),
        ("2020-01-06", SHANGHAI, datetime(2020, 1, 6, tzinfo=CST)),
        ("01/15/2011 12:00:00 AM", NEW_YORK, datetime(2011, 1, 15, 5, 0, tzinfo=UTC)),
        ("03/01/2011 02:27:57 PM", NEW_YORK, datetime(2011, 3, 1, 19, 27, 57, tzinfo=UTC)),
        ("07/04/2022 12:30:00 PM", NEW_YORK, datetime(2022, 7, 4, 16, 30, tzinfo=UTC)),
        ("2024-04-16T03:03:15.000", NEW_YORK, datetime(2024, 4, 16, 7, 3, 15, tzinfo=UTC)),
        ("2024-04-16T03:03:15.5Z", NEW_YORK, datetime(2024, 4, 16, 3, 3, 15, 500000, tzinfo=UTC)),
        ("2020-01-06T12:09:38+08:00", NEW_YORK, datetime(2020, 1, 6, 4, 9, 38, tzinfo=UTC)),
        ("  2020/1/6 12:09:38\n", SHANGHAI, datetime(2020, 1, 6, 12, 9, 38, tzinfo=CST)),
    ],
)
def test_parse_timestamp_formats(text: str, tz: ZoneInfo, expected: datetime) -> None:
    value = parse_timestamp(text, tz)
    assert value == expected
    assert value is not None and value.utcoffset() is not None


def test_parse_timestamp_objects_and_nulls() -> None:
    excel = datetime(2019, 8, 1, 0, 0)  # openpyxl gives naive datetimes
    assert parse_timestamp(excel, SHANGHAI) == datetime(2019, 8, 1, tzinfo=CST)
    assert parse_timestamp(date(2019, 8, 1), SHANGHAI) == datetime(2019, 8, 1, tzinfo=CST)
    aware = datetime(2019, 8, 1, tzinfo=UTC)
    assert parse_timestamp(aware, SHANGHAI) == aware
    assert parse_timestamp("", SHANGHAI) is None
    assert parse_timestamp(None, SHANGHAI) is None
    assert parse_timestamp(" \u3000", SHANGHAI) is None


@pytest.mark.parametrize(
    "bad", ["2020-13-45", "yesterday", "2020/2/30 10:00:00", "13/01/2011 01:00 PM", "0205-01-01"]
)
def test_parse_timestamp_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_timestamp(bad, SHANGHAI)


def test_parse_timestamp_reason_names_the_value() -> None:
    with pytest.raises(ValueError) as caught:
        parse_timestamp("2020-13-45", SHANGHAI)
    assert str(caught.value) == "unparseable time '2020-13-45'"


def test_timestamp_in_dst_fold_is_a_fixed_instant() -> None:
    value = parse_timestamp("11/06/2022 01:30:00 AM", NEW_YORK)
    assert value is not None
    assert value.utcoffset() == timedelta(hours=-4)
    assert value == datetime.fromisoformat(value.isoformat())


def test_parse_bool_float_int() -> None:
    assert [parse_bool(v) for v in ("true", "FALSE", " yes ", "0", 1, True, "", None)] == [
        True,
        False,
        True,
        False,
        True,
        True,
        None,
        None,
    ]
    with pytest.raises(ValueError, match="boolean"):
        parse_bool("maybe")
    assert parse_float(" 40.5 ") == 40.5
    assert parse_float("") is None
    assert parse_float(3) == 3.0
    for bad in ("nan", "inf", "abc", True):
        with pytest.raises(ValueError):
            parse_float(bad)
    assert parse_int("3.0") == 3
    with pytest.raises(ValueError, match="integer"):
        parse_int("3.5")


def test_clean_text() -> None:
    pad = "\n\t\t\t\t\t\n\t\t\t\t"
    raw = f"{pad}\t位于书院路\u3000\u3000主干道\xa0的大厦，\n\t\t\t\t\n\t\t\t\t烂尾多年。{pad}"
    assert clean_text(raw) == "位于书院路 主干道 的大厦，\n烂尾多年。"
    assert clean_text("364 WEST  127 STREET") == "364 WEST 127 STREET"
    assert clean_text("\u3000 \xa0\n\t") is None
    assert clean_text("a\x00b\u200bc") == "abc"
    assert clean_text(24) == "24"
    assert clean_text(24.0) == "24"
    assert clean_text(None) is None


_DATE_LIKE = st.from_regex(
    r"[0-9]{1,4}[-/.年][0-9]{1,2}[-/.月][0-9]{1,4}([ T日][0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2}(\.[0-9]{1,7})?)?"
    r"( ?[AaPp][Mm])?)?([+-][0-9]{2}:?[0-9]{2}|Z)?",
    fullmatch=True,
)


@given(st.one_of(st.text(), _DATE_LIKE))
def test_timestamp_parser_never_crashes(text: str) -> None:
    try:
        value = parse_timestamp(text, SHANGHAI)
    except ValueError:
        return
    assert value is None or value.utcoffset() is not None


@given(st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none()))
def test_scalar_parsers_never_crash(value: Any) -> None:
    for parser in (parse_bool, parse_float, parse_int):
        try:
            parser(value)
        except ValueError:
            pass


@given(st.text())
def test_clean_text_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert once is None or (clean_text(once) == once and once == once.strip())


# --- tables ----------------------------------------------------------------------------------


def test_csv_with_bom_line_breaks_and_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    body = '1,2020-01-01 08:00:00,"two\nlines, comma"\r\n\r\n2,2020-01-02,x\r\n'
    path.write_text("\ufeffid,received_at,title\r\n,,\r\n" + body, encoding="utf-8")
    rows = parsed(path)
    assert [row.row for row in rows] == [1, 2]
    assert rows[0].record["title"] == "two\nlines, comma"
    assert count_rows(path) == 2


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-8-sig"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = write_csv(
        tmp_path / "t.csv",
        ["留言编号", "留言时间", "留言主题"],
        [["7", "2020/1/6 9:00:00", "噪音扰民"]],
        encoding,
    )
    rows = parsed(path)
    assert rows[0].record["title"] == "噪音扰民"
    assert rows[0].record["id"] == "teddycup:7"


def test_semicolon_and_tab_delimiters(tmp_path: Path) -> None:
    for delimiter in (";", "\t"):
        path = tmp_path / "t.csv"
        path.write_text(
            delimiter.join(["id", "received_at", "title"]) + "\n" + delimiter.join(["a", "2020-01-01", "t,u"])
        )
        assert parsed(path)[0].record["title"] == "t,u"


def test_row_with_cells_beyond_header_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,received_at,title\na,2020-01-01,x,surplus\nb,2020-01-01,y\n")
    results = list(read_tickets(path))
    assert isinstance(results[0], RowError) and results[0].field == "row"
    assert isinstance(results[1], ParsedRow)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"\n , ,\n\n", "empty file"),
        (b"\x00\x01\x02binary", "binary"),
        (b"\xd0\xcf\x11\xe0legacy", "legacy .xls"),
        (b"PK\x03\x04notreallyazip", "xlsx"),
        (b"PAR1garbage", "Parquet"),
        (b"a,b,c\n1,2,3\n", "unknown table format"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=message):
        read_tickets(path)


def test_unreadable_arguments_raise_eagerly(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="no such file"):
        read_tickets(tmp_path / "missing.csv")
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        read_tickets(tmp_path)
    good = TEDDY / "附件2_sample495_labeled.csv"
    with pytest.raises(UnreadableFileError, match="unknown format"):
        read_tickets(good, format="excel")
    with pytest.raises(UnreadableFileError, match="timezone"):
        read_tickets(good, timezone="Mars/Olympus")
    with pytest.raises(UnreadableFileError, match="lacks column"):
        read_tickets(good, format="nyc311")
    with pytest.raises(UnreadableFileError, match="lacks column"):
        read_tickets(good, format="canonical")


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,received_at,text\n")
    assert list(read_tickets(path)) == []
    assert count_rows(path) == 0


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        *[(path, "teddycup") for path in sorted(TEDDY.iterdir())],
        *[(path, "nyc311") for path in sorted(NYC.iterdir())],
    ],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_detect_fixture_formats(path: Path, expected: str) -> None:
    assert detect_format(path) == expected


def test_detect_canonical_with_loose_headers(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [" ID ", "Received At", "Text"], [["x", "2020-01-01", "t"]])
    assert detect_format(path) == "canonical"
    assert parsed(path)[0].record["received_at"] == datetime(2020, 1, 1, tzinfo=CST)


# --- Teddy Cup -------------------------------------------------------------------------------


def test_teddycup_labelled_sample_mapping() -> None:
    rows = parsed(TEDDY / "附件2_sample495_labeled.csv")
    first = rows[0]
    assert first.row == 1
    assert first.record["id"] == "teddycup:24"
    assert first.record["complainant_id"] == "teddycup:A00074011"
    assert first.record["title"] == "A市西湖建筑集团占道施工有安全隐患"
    assert first.record["received_at"] == datetime(2020, 1, 6, 12, 9, 38, tzinfo=CST)
    assert first.record["text"] is not None and first.record["text"].startswith("A3区大道西行便道")
    assert first.record["text"] == first.record["text"].strip()
    assert (first.record["channel"], first.record["kind"], first.record["status"]) == (
        "web",
        None,
        "received",
    )
    assert first.record["urgency"] is None and first.record["replied_at"] is None
    assert first.extra == {"source": "teddycup", "category_path": ["城乡建设"]}
    assert first.flags == ("kind missing",)
    assert set(first.record) == set(CANONICAL_COLUMNS)


def test_teddycup_duplicate_message_parses_twice() -> None:
    twins = [
        row for row in parsed(TEDDY / "附件2_sample495_labeled.csv") if row.record["id"] == "teddycup:37042"
    ]
    assert sorted(row.extra["category_path"][0] for row in twins) == ["劳动和社会保障", "城乡建设"]


def test_teddycup_unlabelled_has_no_category() -> None:
    rows = parsed(TEDDY / "附件2_testdata2801_unlabeled.csv")
    assert len(rows) == 10
    assert all("category_path" not in row.extra for row in rows)


def test_teddycup_likes_and_mixed_time_formats() -> None:
    rows = parsed(TEDDY / "附件3_full4326_likes.csv")
    iso = rows[8]  # '2019-08-01 00:00:00' in the CSV, a datetime cell in the xlsx
    assert iso.record["received_at"] == datetime(2019, 8, 1, tzinfo=CST)
    assert rows[-1].extra["likes"] == 733 and rows[-1].extra["dislikes"] == 0


def test_teddycup_replies() -> None:
    first = parsed(TEDDY / "附件4_full2816_replies.csv")[0]
    assert first.record["status"] == "replied"
    assert first.record["replied_at"] == datetime(2019, 5, 10, 14, 56, 53, tzinfo=CST)
    assert first.extra["reply_text"].startswith("现将网友在平台《问政西地省》栏目")


@pytest.mark.parametrize("stem", sorted(path.stem for path in TEDDY.glob("*.csv")))
def test_teddycup_xlsx_equals_csv(stem: str) -> None:
    from_csv = parsed(TEDDY / f"{stem}.csv")
    from_xlsx = parsed(TEDDY / f"{stem}.xlsx")  # the labelled sample has trailing formatted blank rows
    assert from_csv == from_xlsx


def test_teddycup_timezone_override() -> None:
    first = parsed(TEDDY / "附件2_sample495_labeled.csv", timezone="UTC")[0]
    assert first.record["received_at"] == datetime(2020, 1, 6, 12, 9, 38, tzinfo=UTC)


def test_teddycup_bad_rows_yield_one_error_each(tmp_path: Path) -> None:
    header = [" 留言编号 ", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数"]
    path = write_csv(
        tmp_path / "t.csv",
        header,
        [
            ["1", "U1", "主题", "2020-13-45", "详情", "0"],
            ["", "U2", "主题", "2020/1/6 1:00:00", "详情", "0"],
            ["3", "U3", " ", "2020/1/6 1:00:00", "\n\t", "0"],
            ["4", "", "主题", "", "详情", "0"],
            ["5", "", "主题", "2020/1/6 1:00:00", "", "many"],
        ],
    )
    results = list(read_tickets(path))
    assert [(r.row, r.field) for r in results if isinstance(r, RowError)] == [
        (1, "received_at"),
        (2, "id"),
        (3, "text"),
        (4, "received_at"),
    ]
    assert isinstance(results[0], RowError)
    assert results[0].reason == "unparseable time '2020-13-45' in 留言时间"
    assert str(results[0]) == "row 1: received_at: unparseable time '2020-13-45' in 留言时间"
    good = results[4]
    assert isinstance(good, ParsedRow)
    assert good.record["complainant_id"] is None and good.record["text"] is None
    assert "点赞数 unparseable" in good.flags


# --- NYC 311 ---------------------------------------------------------------------------------


def test_nyc311_title_case_schema_with_us_times() -> None:
    first = parsed(NYC / "tuplex_311_subset.micro.csv")[0]
    record = first.record
    assert record["id"] == "nyc311:19937896"
    assert record["received_at"] == datetime(2011, 3, 1, 14, 27, 57, tzinfo=ZoneInfo("America/New_York"))
    assert record["replied_at"] == datetime(2011, 3, 14, 15, 59, 20, tzinfo=ZoneInfo("America/New_York"))
    assert (record["status"], record["channel"], record["kind"]) == ("closed", "phone", "complaint")
    assert record["title"] == "DOF Property - Payment Issue"
    assert record["text"] == (
        "DOF Property - Payment Issue: Misapplied Payment\nThe Department of Finance resolved this issue."
    )
    assert (record["unit_code"], record["district_code"]) == ("DOF", "MANHATTAN")
    assert record["lon"] is None and record["address"] is None
    assert first.extra["source"] == "nyc311" and first.extra["agency_name"] == "Refunds and Adjustments"


def test_nyc311_api_schema_with_line_breaks_in_records() -> None:
    rows = parsed(NYC / "YangziXinJas_311_Service_Requests.csv")
    assert len(rows) == 12
    first = rows[0].record
    assert first["id"] == "nyc311:60879417"
    assert first["received_at"] == datetime(2024, 4, 16, 3, 3, 15, tzinfo=ZoneInfo("America/New_York"))
    assert first["address"] == "133 AVENUE & 231 STREET"  # intersection when there is no address
    assert (first["lat"], first["lon"]) == (40.67679280229251, -73.7379342313789)
    assert (first["status"], first["channel"]) == ("received", "other")
    assert rows[-1].record["channel"] == "app"


def test_nyc311_channels_and_statuses() -> None:
    rows = parsed(NYC / "fedhere_PyBOOT_311_2022-05-01.csv")
    assert {row.record["channel"] for row in rows} <= {"phone", "web", "app", "other"}
    assert rows[0].record["channel"] == "web" and rows[-1].record["channel"] == "phone"
    assert all(row.record["status"] in {"closed", "received"} for row in rows)


def test_nyc311_closed_before_created_is_parsed_and_flagged() -> None:
    rows = parsed(NYC / "nyc311_combined_sample_normalized.csv")
    flagged = {row.record["id"] for row in rows if "closed before created" in row.flags}
    assert flagged == {"nyc311:56923577", "nyc311:56921224", "nyc311:19944912"}
    assigned = next(row for row in rows if row.record["id"] == "nyc311:19944912")
    assert assigned.record["status"] == "received" and assigned.record["replied_at"] is None
    assert assigned.extra["closed_at"].year == 1900
    no_date = [row for row in rows if "closed without closed date" in row.flags]
    assert len(no_date) == 1 and no_date[0].record["status"] == "closed"
    assert all("upstream_source" in row.extra for row in rows)


def test_nyc311_timezone_override_and_unspecified_borough(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "t.csv",
        ["Unique Key", "Created Date", "Complaint Type", "Borough", "Latitude", "Open Data Channel Type"],
        [
            ["1", "01/15/2011 12:00:00 AM", "Noise", "Unspecified", "", "ONLINE"],
            ["2", "x", "Noise", "", "", ""],
        ],
    )
    results = list(read_tickets(path, timezone="Asia/Shanghai"))
    first = results[0]
    assert isinstance(first, ParsedRow)
    assert first.record["received_at"] == datetime(2011, 1, 15, tzinfo=CST)
    assert first.record["district_code"] is None and first.record["channel"] == "web"
    assert isinstance(results[1], RowError) and results[1].field == "received_at"


def test_nyc311_bad_coordinates_rejected(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "t.csv",
        ["unique_key", "created_date", "complaint_type", "latitude", "longitude"],
        [
            ["1", "2024-01-01T00:00:00", "Noise", "95", "-73"],
            ["2", "2024-01-01T00:00:00", "Noise", "40", "abc"],
        ],
    )
    results = list(read_tickets(path))
    assert [(r.field, r.reason) for r in results if isinstance(r, RowError)] == [
        ("lat", "95.0 outside [-90, 90] in latitude"),
        ("lon", "not a number 'abc' in longitude"),
    ]


# --- canonical -------------------------------------------------------------------------------

CANONICAL_HEADER = [
    "id",
    "received_at",
    "channel",
    "kind",
    "title",
    "text",
    "lon",
    "lat",
    "resolved",
    "satisfaction",
]


def test_canonical_minimal_table_with_unknown_codes_and_extra_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "t.csv",
        ["id", "received_at", "text", "district_code", "unit_code", "note"],
        [["A-1", "2024-03-01T08:00:00", "路灯不亮", "999999", "UNIT?", "hello"]],
    )
    row = parsed(path)[0]
    assert row.record["id"] == "A-1"
    assert row.record["received_at"] == datetime(2024, 3, 1, 8, tzinfo=CST)
    assert (row.record["district_code"], row.record["unit_code"]) == ("999999", "UNIT?")
    assert row.record["title"] is None and row.record["status"] is None
    assert row.extra == {"source": "canonical", "columns": {"note": "hello"}}
    assert row.flags == ()


@pytest.mark.parametrize(
    ("cells", "field", "reason"),
    [
        (["", "2024-01-01", "", "", "t", "", "", "", "", ""], "id", "missing value"),
        (["a", "", "", "", "t", "", "", "", "", ""], "received_at", "missing value"),
        (
            ["a", "2020-13-45", "", "", "t", "", "", "", "", ""],
            "received_at",
            "unparseable time '2020-13-45'",
        ),
        (["a", "2024-01-01", "fax", "", "t", "", "", "", "", ""], "channel", "unknown channel 'fax'"),
        (["a", "2024-01-01", "", "praise", "t", "", "", "", "", ""], "kind", "unknown kind 'praise'"),
        (["a", "2024-01-01", "", "", "", "", "", "", "", ""], "text", "title and text are both empty"),
        (["a", "2024-01-01", "", "", "t", "", "181", "", "", ""], "lon", "181.0 outside [-180, 180]"),
        (["a", "2024-01-01", "", "", "t", "", "", "-90.5", "", ""], "lat", "-90.5 outside [-90, 90]"),
        (["a", "2024-01-01", "", "", "t", "", "", "", "perhaps", ""], "resolved", "not a boolean 'perhaps'"),
        (
            ["a", "2024-01-01", "", "", "t", "", "", "", "", "happy"],
            "satisfaction",
            "unknown satisfaction 'happy'",
        ),
    ],
)
def test_canonical_strict_validation(tmp_path: Path, cells: list[str], field: str, reason: str) -> None:
    good = ["ok", "2024-01-01", "phone", "help", "t", "", "116.4", "39.9", "true", "satisfied"]
    path = write_csv(tmp_path / "t.csv", CANONICAL_HEADER, [good, cells, good])
    results = list(read_tickets(path, format="canonical"))
    assert len(results) == 3
    assert isinstance(results[0], ParsedRow) and isinstance(results[2], ParsedRow)
    error = results[1]
    assert isinstance(error, RowError)
    assert (error.row, error.field) == (2, field)
    assert error.reason.startswith(reason)


def test_canonical_values_are_typed(tmp_path: Path) -> None:
    good = ["ok", "2024-01-01T09:00:00Z", " Phone ", "help", "t", "", "116.4", "39.9", "TRUE", "satisfied"]
    record = parsed(write_csv(tmp_path / "t.csv", CANONICAL_HEADER, [good]))[0].record
    assert record["channel"] == "phone" and record["kind"] == "help"
    assert record["received_at"] == datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert (record["lon"], record["lat"], record["resolved"]) == (116.4, 39.9, True)


def test_canonical_xlsx_with_excel_datetimes(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["id", "received_at", "title", "district_code", "excluded"])
    sheet.append([1001, datetime(2024, 5, 1, 10, 30), "噪音", 110105, False])
    sheet.append([None, None, None, None, None])
    sheet.append(["1002", "2024/5/2 8:00:00", "积水", "110105", None])
    path = tmp_path / "tickets.data"  # detection goes by content, not suffix
    workbook.save(path)
    rows = parsed(path)
    assert [row.record["id"] for row in rows] == ["1001", "1002"]
    assert rows[0].record["received_at"] == datetime(2024, 5, 1, 10, 30, tzinfo=CST)
    assert rows[0].record["district_code"] == "110105" and rows[0].record["excluded"] is False
    assert rows[1].row == 2
    assert count_rows(path) == 2


def test_canonical_parquet_with_naive_times(tmp_path: Path) -> None:
    table = pa.table({"id": ["p1"], "received_at": [datetime(2024, 1, 1, 12)], "title": ["t"], "lat": [39.9]})
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    row = parsed(path)[0]
    assert row.record["received_at"] == datetime(2024, 1, 1, 12, tzinfo=CST)
    assert count_rows(path) == 1


# --- export ----------------------------------------------------------------------------------


def sample_rows() -> list[dict[str, Any]]:
    return [
        canonical_row(
            id="BJ-2024-000001",
            received_at=datetime(2024, 3, 1, 8, 15, 30, 123456, tzinfo=CST),
            channel=Channel.PHONE,
            kind="complaint",
            urgency="general",
            title="小区噪音扰民，夜间施工",
            text='第一行，含逗号, 和 "引号"\n第二行：施工时间 22:00 以后',
            complainant_id="c-9f3a",
            address="北京市朝阳区八里庄街道",
            lon=116.4891,
            lat=39.9219,
            district_code="110105",
            street_code="110105003",
            category_code="urban.noise",
            unit_code="UNKNOWN-UNIT",
            dispatched_at=datetime(2024, 3, 1, 9, 0, tzinfo=CST),
            deadline_at=datetime(2024, 3, 8, 9, 0, tzinfo=CST),
            contacted_at=datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
            replied_at=datetime(2024, 3, 2, 10, 0, tzinfo=CST),
            callback_at=datetime(2024, 3, 3, 10, 0, tzinfo=CST),
            resolved=False,
            satisfaction="dissatisfied",
            excluded=True,
            status=Status.CALLED_BACK,
            repeat_of="BJ-2024-000000",
        ),
        canonical_row(id="BJ-2024-000002", received_at=datetime(2024, 3, 1, tzinfo=UTC), title="只有标题"),
    ]


def expected_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {key: (str(value) if isinstance(value, Status | Channel) else value) for key, value in row.items()}
        for row in rows
    ]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_round_trip(tmp_path: Path, fmt: str) -> None:
    rows = sample_rows()
    path = tmp_path / f"out.{fmt}"
    assert write_tickets(rows, path, format=fmt) == 2
    back = parsed(path, format="canonical")
    assert [row.record for row in back] == expected_records(rows)
    assert all(row.extra == {"source": "canonical"} for row in back)
    assert not list(tmp_path.glob(".*partial"))


def test_export_csv_form(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_tickets(sample_rows(), path, format="csv")
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert tuple(table[0]) == CANONICAL_COLUMNS
    first = dict(zip(table[0], table[1], strict=True))
    assert first["received_at"] == "2024-03-01T08:15:30.123456+08:00"
    assert (first["resolved"], first["excluded"], first["status"]) == ("false", "true", "called_back")
    second = dict(zip(table[0], table[2], strict=True))
    assert second["resolved"] == "" and second["lon"] == ""


def test_export_parquet_schema(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    write_tickets(sample_rows(), path, format="parquet")
    schema = pq.read_schema(path)
    assert schema.names == list(CANONICAL_COLUMNS)
    assert schema.field("received_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("lon").type == pa.float64()
    assert schema.field("resolved").type == pa.bool_()
    assert schema.field("district_code").type == pa.string()
    assert schema.equals(parquet_schema())


def test_export_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        write_tickets([], tmp_path / "x", format="xlsx")
    with pytest.raises(ValueError, match="timezone-aware"):
        write_tickets(
            [canonical_row(id="a", received_at=datetime(2024, 1, 1))], tmp_path / "x.csv", format="csv"
        )
    assert not (tmp_path / "x.csv").exists()
    assert write_tickets([], tmp_path / "empty.parquet", format="parquet") == 0
    assert list(read_tickets(tmp_path / "empty.parquet")) == []


def test_round_trip_of_everything_a_reader_produced(tmp_path: Path) -> None:
    sources = [*sorted(NYC.glob("*.csv")), *sorted(TEDDY.glob("*.csv"))]
    records = [row.record for source in sources for row in parsed(source)]
    for fmt in ("csv", "parquet"):
        path = tmp_path / f"all.{fmt}"
        assert write_tickets(records, path, format=fmt) == len(records)
        assert [row.record for row in parsed(path)] == records


def test_write_row_errors(tmp_path: Path) -> None:
    path = tmp_path / "import-report.csv"
    errors = [RowError(3, "received_at", "unparseable time '2020-13-45'"), RowError(9, "text", 'a, "b"\nc')]
    assert write_row_errors(errors, path) == 2
    with path.open(encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["row", "field", "reason"],
            ["3", "received_at", "unparseable time '2020-13-45'"],
            ["9", "text", 'a, "b"\nc'],
        ]


_clean = st.text(st.characters(codec="utf-8"), max_size=40).map(clean_text)
_zones = st.sampled_from([UTC, CST, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))])
_instants = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30), timezones=_zones)


@st.composite
def canonical_records(draw: st.DrawFn) -> dict[str, Any]:
    record = canonical_row(
        id=draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).map(identifier).filter(bool)),
        received_at=draw(_instants),
        title=draw(_clean.filter(lambda text: text is not None)),
        text=draw(_clean),
        address=draw(_clean),
        district_code=draw(_clean),
        lon=draw(st.none() | st.floats(-180, 180)),
        lat=draw(st.none() | st.floats(-90, 90)),
        replied_at=draw(st.none() | _instants),
        resolved=draw(st.none() | st.booleans()),
        excluded=draw(st.none() | st.booleans()),
        channel=draw(st.none() | st.sampled_from([member.value for member in Channel])),
        status=draw(st.none() | st.sampled_from([member.value for member in Status])),
    )
    return record


@settings(max_examples=60, deadline=None)
@given(st.lists(canonical_records(), min_size=1, max_size=5))
def test_csv_round_trip_property(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, Any]]
) -> None:
    path = tmp_path_factory.mktemp("rt") / "out.csv"
    write_tickets(rows, path, format="csv")
    back = [row.record for row in parsed(path, format="canonical")]
    assert back == rows


def test_mapping_rows_need_only_canonical_keys(tmp_path: Path) -> None:
    row: Mapping[str, Any] = {
        "id": "x",
        "received_at": datetime(2024, 1, 1, tzinfo=UTC),
        "text": "t",
        "junk": 1,
    }
    write_tickets([row], tmp_path / "o.csv", format="csv")
    assert parsed(tmp_path / "o.csv")[0].record == canonical_row(
        id="x", received_at=row["received_at"], text="t"
    )
