"""`megacity report`: the monthly report in each format from a demo database, opened and checked.

The PDF's text is extracted with pypdf and its fonts must be embedded; the workbook is read back
with openpyxl and its figures must equal the assessment engine's; the HTML must load nothing
from the network. Runs on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2  # type: ignore[import-untyped]
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from megacity.assessment import service
from megacity.assessment.rules import DISTRICT, STREET, parse_month
from megacity.bootstrap import Megacity
from megacity.cli import app
from megacity.demo import generate
from megacity.report.data import build
from megacity.report.document import gettext_for, labels, render_html
from megacity.report.fonts import FONT_ENV, find_cjk_font
from megacity.report.workbook import write_xlsx
from megacity.services.demo_load import load_demo

MONTH = "2025-11"  # the demo's history: October to December 2025


def _load(megacity: Megacity) -> None:
    load_demo(app=megacity, cases=generate(megacity.profile, count=1000, months=3, seed=7))


def _report(database_url: str, out: Path, *extra: str) -> Any:
    args = ["report", "--month", MONTH, "--out", str(out), "--database", database_url, *extra]
    return CliRunner().invoke(app, args)


def _engine_districts(megacity: Megacity) -> dict[str, dict[str, Any]]:
    """The engine's district rows of the month, computed on their own (not the report's 12 months)."""
    result = service.ranking(megacity, service.options_for(megacity, [parse_month(MONTH)]))
    return {r["unit_code"]: r for r in result.for_month(MONTH) if r["unit_type"] == DISTRICT}


def _embedded(font: Any) -> bool:
    """A PDF font is embedded when its descriptor (or its descendant's) carries a font file."""
    font = font.get_object()
    if "/DescendantFonts" in font:
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    return any(key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_report_in_each_format(database_url: str, megacity: Megacity, tmp_path: Path) -> None:
    """The command writes the PDF; the workbook and pages are written from the same gathered month."""
    _load(megacity)
    districts = _engine_districts(megacity)
    names = {code: row["unit_name"] for code, row in districts.items()}
    assert len(districts) == 16

    pdf = tmp_path / "report.pdf"
    done = _report(database_url, pdf, "--format", "pdf")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"report {MONTH} (pdf, zh_CN) -> ")
    reader = PdfReader(pdf)
    text = "".join(page.extract_text() for page in reader.pages)
    assert "北京市12345市民服务热线月度通报" in text
    assert all(name in text for name in names.values())
    resources: list[Any] = [page["/Resources"].get_object() for page in reader.pages]
    fonts = [f for r in resources for f in r.get("/Font", {}).values()]
    assert fonts and all(_embedded(f) for f in fonts)
    assert any("CJK" in str(f.get_object().get("/BaseFont")) for f in fonts)
    image = pypdfium2.PdfDocument(pdf)[1].render(scale=1).to_pil().convert("L")  # the map page
    dark = sum(image.histogram()[:96]) / (image.width * image.height)
    assert 0.005 < dark < 0.6, "the map and the table are drawn in ink, not left blank"

    report = build(megacity, MONTH)
    xlsx = tmp_path / "report.xlsx"
    write_xlsx(report, xlsx, gettext_for("zh_CN"))
    book = load_workbook(xlsx)
    assert {"总体情况", "各区排名", "街道（乡镇）", "治理类街乡镇", "诉求热点分类", "趋势"} <= set(
        book.sheetnames
    )
    sheet = book["各区排名"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(districts)
    for rank, code, name, in_scope, response, resolution, satisfaction, composite, _change in rows:
        engine = districts[str(code)]
        assert (rank, name, in_scope) == (engine["rank"], engine["unit_name"], engine["in_scope"])
        assert (response, resolution, satisfaction, composite) == (
            engine["response_rate"],
            engine["resolution_rate"],
            engine["satisfaction_rate"],
            engine["composite"],
        )
    summary = {row[0]: row[1] for row in book["总体情况"].iter_rows(min_row=2, values_only=True)}
    assert summary["纳入考核诉求"] == sum(r["in_scope"] for r in districts.values())
    focus = {row[1] for row in book["治理类街乡镇"].iter_rows(min_row=2, values_only=True)}
    assert focus == {
        r["unit_code"] for r in report.focus["entered"] + report.focus["stayed"] + report.focus["left"]
    }
    assert getattr(sheet, "_charts", None), "the district sheet carries a bar chart"

    when = datetime(2025, 12, 1, tzinfo=UTC)
    page = render_html(report, city=megacity.profile.name, language="zh_CN", generated=when)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "loads nothing from the network"
    assert "<script" not in page
    assert all(name in page for name in names.values())
    assert page.count("data:image/svg+xml;base64,") == 4  # map, district bars, trend, categories
    options = service.options_for(megacity, [parse_month(MONTH)])
    month_rows = service.ranking(megacity, options).for_month(MONTH)
    small = sum(1 for r in month_rows if r["unit_type"] == STREET and r["rank"] is None)
    assert report.streets_unranked == small > 0, "a 1,000-request demo leaves streets too small to rank"
    assert f"本月已回访诉求少于 {report.min_rated} 件的街道（乡镇）{small} 个" in page
    english = labels(gettext_for("en"))  # the English page uses the same template (charts cost time)
    assert english["title"] == "12345 hotline monthly report" and english["districts"] == "District ranking"


@pytest.mark.parametrize(
    ("month", "message"),
    [("2025-13", "month"), ("november", "month"), ("2019-01", "no requests were received in 2019-01")],
)
def test_bad_month_exits_2(tmp_path: Path, month: str, message: str) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    args = [
        "report",
        "--month",
        month,
        "--format",
        "pdf",
        "--out",
        str(tmp_path / "r.pdf"),
        "--database",
        url,
    ]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert not (tmp_path / "r.pdf").exists()


def test_missing_folder_and_format(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    missing = CliRunner().invoke(
        app, ["report", "--month", MONTH, "--out", str(tmp_path / "no" / "r.pdf"), "--database", url]
    )
    assert missing.exit_code == 2 and missing.output.startswith("error: cannot write")
    wrong = CliRunner().invoke(
        app,
        [
            "report",
            "--month",
            MONTH,
            "--format",
            "docx",
            "--out",
            str(tmp_path / "r.docx"),
            "--database",
            url,
        ],
    )
    assert (
        wrong.exit_code == 2
        and wrong.output == "error: --format must be one of pdf, xlsx, html; got 'docx'\n"
    )


def test_font_discovery_prefers_simplified_chinese() -> None:
    font = find_cjk_font()
    assert font.path.is_file() and font.family == "Noto Sans CJK SC"  # Debian's fonts-noto-cjk


def test_missing_cjk_font_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No CJK font: one line naming the fix, exit 2, no PDF of empty boxes."""
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "none.ttc"))
    find_cjk_font.cache_clear()
    try:
        out = tmp_path / "r.pdf"
        done = _report(f"sqlite:///{tmp_path / 'empty.db'}", out, "--format", "pdf")
    finally:
        monkeypatch.delenv(FONT_ENV)
        find_cjk_font.cache_clear()
    assert done.exit_code == 2 and done.output.startswith(f"error: {FONT_ENV}=") and not out.exists()
