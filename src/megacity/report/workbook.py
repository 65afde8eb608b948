"""The report's tables as an xlsx workbook: one sheet per table, numbers as numbers, native charts.

Rates are written as fractions with a percent format, so a reader can compute with them and
the cells equal the assessment engine's values exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from megacity.report.data import MonthlyReport
from megacity.report.document import Gettext, labels

_PERCENT = "0.0%"
_RATE_KEYS = ("response_rate", "resolution_rate", "satisfaction_rate")


def _sheet(book: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Worksheet:
    sheet: Worksheet = book.create_sheet(title[:31])
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for column, name in enumerate(header, start=1):
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = max(10, len(name) * 2 + 2)
    sheet.freeze_panes = "A2"
    return sheet


def _percent(sheet: Worksheet, columns: Sequence[int]) -> None:
    for column in columns:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = _PERCENT


def _unit_rows(rows: Sequence[dict[str, Any]], extra: Sequence[str] = ()) -> list[list[Any]]:
    keys = ("rank", "unit_code", "unit_name", "in_scope", *_RATE_KEYS, "composite", *extra)
    return [[r.get(k) for k in keys] for r in rows]


def _rank_change(row: dict[str, Any]) -> int | None:
    """Places gained since the month before (positive: moved up); None if either rank is missing."""
    before, now = row.get("previous_rank"), row.get("rank")
    return None if before is None or now is None else int(before) - int(now)


def write_xlsx(report: MonthlyReport, out: Path, _: Gettext) -> None:
    """Summary, districts, streets, focus list, categories and trend sheets, with two charts."""
    t = labels(_)
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    unit_header = [
        t["rank"],
        t["code"],
        t["unit"],
        t["in_scope"],
        t["response_rate"],
        t["resolution_rate"],
        t["satisfaction_rate"],
        t["composite"],
    ]

    now, before = report.city, report.city_previous
    summary = _sheet(
        book,
        t["summary"],
        [t["figure"], report.month, report.previous_month],
        [
            (t["requests"], now.requests, before.requests),
            (t["in_scope"], now.in_scope, before.in_scope),
            *((t[k], getattr(now, k), getattr(before, k)) for k in _RATE_KEYS),
            (t["composite"], now.composite, before.composite),
        ],
    )
    for row in summary.iter_rows(min_row=4, max_row=6, min_col=2, max_col=3):
        for cell in row:
            cell.number_format = _PERCENT

    districts = _sheet(
        book,
        t["districts"],
        [*unit_header, t["rank_change"]],
        [
            [*row, _rank_change(d)]
            for row, d in zip(_unit_rows(report.districts), report.districts, strict=True)
        ],
    )
    _percent(districts, (5, 6, 7))
    chart = BarChart()
    chart.type = "bar"
    chart.title = t["districts"]
    chart.style = 2  # greys: readable in print
    chart.y_axis.title = t["composite"]
    count = len(report.districts)
    chart.add_data(Reference(districts, min_col=8, min_row=1, max_row=count + 1), titles_from_data=True)
    chart.set_categories(Reference(districts, min_col=3, min_row=2, max_row=count + 1))
    chart.height, chart.width = 10, 16
    districts.add_chart(chart, "K2")

    streets = [*report.streets_top, *report.streets_bottom]
    _percent(_sheet(book, t["streets"], unit_header, _unit_rows(streets)), (5, 6, 7))

    focus_rows = [
        [t[change], r["unit_code"], r["unit_name"], r["composite"], r["rank"]]
        for change in ("entered", "stayed", "left")
        for r in report.focus[change]
    ]
    _sheet(book, t["focus"], [t["change"], t["code"], t["unit"], t["composite"], t["rank"]], focus_rows)

    categories = _sheet(
        book,
        t["categories"],
        [t["code"], t["category"], t["parent"], report.month, report.previous_month, t["change"]],
        [[c.code, c.name, c.parent, c.count, c.previous, c.change] for c in report.categories],
    )
    _percent(categories, (6,))

    trend = _sheet(
        book,
        t["trend"],
        ["month", t["requests"], t["in_scope"], *(t[k] for k in _RATE_KEYS), t["composite"]],
        [
            [f.month, f.requests, f.in_scope, *(getattr(f, k) for k in _RATE_KEYS), f.composite]
            for f in report.trend
        ],
    )
    _percent(trend, (4, 5, 6))
    line = LineChart()
    line.title = t["trend"]
    line.style = 2
    line.y_axis.number_format = _PERCENT
    line.add_data(
        Reference(trend, min_col=4, max_col=6, min_row=1, max_row=len(report.trend) + 1),
        titles_from_data=True,
    )
    line.set_categories(Reference(trend, min_col=1, min_row=2, max_row=len(report.trend) + 1))
    for series, symbol, dash in zip(
        line.series, ("circle", "square", "triangle"), ("solid", "dash", "sysDot"), strict=True
    ):
        series.marker.symbol = symbol
        series.graphicalProperties.line.dashStyle = dash
    line.height, line.width = 9, 18
    trend.add_chart(line, "J2")
    book.save(out)
