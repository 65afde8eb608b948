"""Run every reader over every real shared data file: nothing may crash, no row may go missing.

The shared data lives next to the repository (../shared/data) or where MEGACITY_SHARED_DATA
points; without it these tests skip. Row counts are taken independently of megacity.io, with the
csv module and openpyxl, so a reader that silently drops or invents records fails here.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from megacity.io import ParsedRow, RowError, count_rows, detect_format, read_tickets

REPO_SIBLING = Path(__file__).resolve().parents[3] / "shared" / "data"


def shared_data() -> Path | None:
    configured = os.environ.get("MEGACITY_SHARED_DATA")
    for candidate in (Path(configured) if configured else None, REPO_SIBLING):
        if candidate is not None and candidate.is_dir():
            return candidate
    return None


SHARED = shared_data()
pytestmark = pytest.mark.skipif(
    SHARED is None,
    reason=f"shared data not found: set MEGACITY_SHARED_DATA or provide {REPO_SIBLING}",
)
TEDDY_FILES = [
    f"{stem}.{suffix}"
    for stem in (
        "附件2_sample495_labeled",
        "附件2_testdata2801_unlabeled",
        "附件3_full4326_likes",
        "附件4_full2816_replies",
    )
    for suffix in ("xlsx", "csv")
]
NYC_RAW_FILES = [
    "YangziXinJas_311_Service_Requests.csv",
    "fedhere_PyBOOT_311_2022-05-01.csv",
    "junyan_nyc311clean_test_sample3_2023-02-28.csv",
    "tuplex_311_subset.micro.csv",
]
#: Every shared file and the number of data rows its README promises.
EXPECTED_ROWS = {
    "messages/teddycup2020_c/附件2_sample495_labeled": 495,
    "messages/teddycup2020_c/附件2_testdata2801_unlabeled": 2801,
    "messages/teddycup2020_c/附件3_full4326_likes": 4326,
    "messages/teddycup2020_c/附件4_full2816_replies": 2816,
    "nyc311/nyc311_combined_sample_normalized": 8923,
}


def shared(relative: str) -> Path:
    assert SHARED is not None
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is missing from the shared data")
    return path


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def independent_count(path: Path) -> int:
    """Non-blank rows after the header, counted with csv / openpyxl directly."""
    if path.suffix == ".xlsx":
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        finally:
            workbook.close()
    else:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [tuple(row) for row in csv.reader(handle)]
    return sum(1 for row in rows if not all(blank(cell) for cell in row)) - 1


def run(path: Path, **options: Any) -> tuple[list[ParsedRow], list[RowError]]:
    good: list[ParsedRow] = []
    bad: list[RowError] = []
    for result in read_tickets(path, **options):
        if isinstance(result, ParsedRow):
            good.append(result)
        else:
            bad.append(result)
    return good, bad


def check_complete(path: Path, good: list[ParsedRow], bad: list[RowError]) -> int:
    expected = independent_count(path)
    assert len(good) + len(bad) == expected
    assert sorted([row.row for row in good] + [error.row for error in bad]) == list(range(1, expected + 1))
    assert count_rows(path) == expected
    for name, count in EXPECTED_ROWS.items():
        if str(path.with_suffix("")).endswith(name):
            assert expected == count
    return expected


@pytest.mark.parametrize("name", TEDDY_FILES)
def test_teddycup_file(name: str) -> None:
    path = shared(f"messages/teddycup2020_c/{name}")
    assert detect_format(path) == "teddycup"
    good, bad = run(path)
    check_complete(path, good, bad)
    assert bad == []
    assert all(row.record["id"].startswith("teddycup:") and row.flags[0] == "kind missing" for row in good)
    assert all(row.record["received_at"].utcoffset() is not None for row in good)
    assert all(row.record["title"] == (row.record["title"] or "").strip() or None for row in good)
    if name.startswith("附件4"):
        assert all(row.record["status"] == "replied" and "reply_text" in row.extra for row in good)
    if name.startswith("附件3"):
        assert all(isinstance(row.extra["likes"], int) for row in good)
    if name.startswith("附件2_sample"):
        assert Counter(row.record["id"] for row in good)["teddycup:37042"] == 2


@pytest.mark.parametrize("stem", sorted({name.rsplit(".", 1)[0] for name in TEDDY_FILES}))
def test_teddycup_xlsx_and_csv_agree(stem: str) -> None:
    from_xlsx, _ = run(shared(f"messages/teddycup2020_c/{stem}.xlsx"))
    from_csv, _ = run(shared(f"messages/teddycup2020_c/{stem}.csv"))
    assert from_xlsx == from_csv


@pytest.mark.parametrize(
    "name", [*(f"raw/{name}" for name in NYC_RAW_FILES), "nyc311_combined_sample_normalized.csv"]
)
def test_nyc311_file(name: str) -> None:
    path = shared(f"nyc311/{name}")
    assert detect_format(path) == "nyc311"
    good, bad = run(path)
    check_complete(path, good, bad)
    assert bad == []
    assert all(row.record["id"].startswith("nyc311:") and row.record["kind"] == "complaint" for row in good)
    assert {row.record["channel"] for row in good} <= {"phone", "web", "app", "other"}
    assert {row.record["status"] for row in good} <= {"closed", "received"}
    if name.startswith("nyc311_combined"):
        flagged = sum("closed before created" in row.flags for row in good)
        assert flagged >= 2  # README: two rows close before they open (upstream data)


#: Columns the normalised merge carries unchanged; it dropped the intersection columns (address
#: fallback) and cleaned descriptors such as "N/A" and mojibake, so title/text/address may differ.
CORE = ("id", "received_at", "replied_at", "status", "channel", "lon", "lat", "unit_code", "district_code")


def test_nyc311_combined_equals_raw_files() -> None:
    """The normalised merge holds the same requests as the four raw exports, read alike."""
    combined, _ = run(shared("nyc311/nyc311_combined_sample_normalized.csv"))
    raw = [row for name in NYC_RAW_FILES for row in run(shared(f"nyc311/raw/{name}"))[0]]
    by_id = {row.record["id"]: row.record for row in raw}
    assert len(combined) == len(raw)
    for row in combined:
        original = by_id[row.record["id"]]
        assert {key: row.record[key] for key in CORE} == {key: original[key] for key in CORE}
