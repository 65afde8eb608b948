"""Read COINr-format indicator data (iData) and metadata (iMeta), wide or long, CSV or xlsx,
with validation that names the file, the row and the column of every problem.

iData: one row per unit (and per `Time` for panel data): `uCode`, optional `uName`, optional
`Time`, group / denominator / other columns and one column per indicator. A long table with
columns `uCode`, optional `Time`, `iCode`, `Value` is accepted too.
iMeta: `iCode`, `Level`, `Parent`, `Direction`, `Weight`, `Type` and optional `iName`, `Unit`,
`Target`, `Denominator` (empty means not denominated) and normalisation parameter columns.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from megacity.indicators._rmath import r_sort_key
from megacity.indicators.model import KEY, NAME, TIME, TYPES, Coin, Framework, IndicatorError

NA_TEXT = frozenset({"", "NA", "N/A", "NaN", "nan", "null", "NULL", "-"})
META_NUMERIC = ("Level", "Direction", "Weight", "Target")


def read_table(path: Path) -> pd.DataFrame:
    """Every cell as text (so that validation can name bad cells): CSV (UTF-8) or xlsx."""
    if not path.is_file():
        raise IndicatorError(f"{path}: no such file")
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise IndicatorError(f"{path}: cannot read ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    duplicated = [c for c in frame.columns if list(frame.columns).count(c) > 1]
    if duplicated:
        raise IndicatorError(f"{path}: duplicate column {duplicated[0]!r}")
    return frame.apply(lambda col: col.map(lambda v: v.strip() if isinstance(v, str) else v))


def parse_number(text: object, where: str) -> float:
    """A cell as float: empty or NA-like gives NaN, anything else must be a number.

    >>> parse_number(" 2.5", "x")
    2.5
    >>> parse_number("NA", "x")
    nan
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return math.nan
    value = str(text).strip()
    if value in NA_TEXT:
        return math.nan
    try:
        return float(value)
    except ValueError:
        raise IndicatorError(f"{where}: {value!r} is not a number") from None


def _numeric_column(frame: pd.DataFrame, column: str, source: Path) -> list[float]:
    return [parse_number(v, f"{source}:{i + 2}: column {column}") for i, v in enumerate(frame[column])]


def read_imeta(path: Path) -> Framework:
    """Read and validate iMeta."""
    raw = read_table(path)
    missing = [c for c in ("iCode", "Type") if c not in raw.columns]
    if missing:
        raise IndicatorError(f"{path}: missing column {missing[0]!r} (iMeta needs iCode, Level, Parent, ...)")
    meta = raw.copy()
    for column in META_NUMERIC:
        if column in meta.columns:
            meta[column] = _numeric_column(raw, column, path)
        elif column != "Target":
            meta[column] = math.nan
    for column in ("Parent", "Denominator"):
        if column in meta.columns:
            meta[column] = [
                v if isinstance(v, str) and v.strip() and v not in NA_TEXT else None for v in raw[column]
            ]
        else:
            meta[column] = None
    _check_imeta(meta, path)
    return Framework(meta=meta.reset_index(drop=True))


def _check_imeta(meta: pd.DataFrame, path: Path) -> None:
    codes = [str(c) for c in meta["iCode"]]
    seen: set[str] = set()
    records = meta.to_dict("records")
    for i, row in enumerate(records):
        where, code = f"{path}:{i + 2}", str(row["iCode"])
        if not code:
            raise IndicatorError(f"{where}: empty iCode")
        if code in seen:
            raise IndicatorError(f"{where}: duplicate iCode {code!r}")
        seen.add(code)
        if row["Type"] not in TYPES:
            raise IndicatorError(f"{where}: Type {row['Type']!r} of {code} is not one of {', '.join(TYPES)}")
    for i, row in enumerate(records):
        if row["Type"] in ("Indicator", "Aggregate"):
            _check_index_row(row, f"{path}:{i + 2}", str(row["iCode"]), codes, meta)


def _check_index_row(
    row: dict[str, object], where: str, code: str, codes: list[str], meta: pd.DataFrame
) -> None:
    level = row["Level"]
    if not isinstance(level, float) or math.isnan(level) or level < 1 or level != int(level):
        raise IndicatorError(f"{where}: Level of {code} must be a whole number >= 1 (got {level!r})")
    if row["Type"] == "Indicator" and level != 1:
        raise IndicatorError(f"{where}: indicator {code} must be at Level 1 (got {level:g})")
    if row["Direction"] not in (1.0, -1.0):
        raise IndicatorError(f"{where}: Direction of {code} must be 1 or -1 (got {row['Direction']!r})")
    weight = row["Weight"]
    if not isinstance(weight, float) or math.isnan(weight):
        raise IndicatorError(f"{where}: Weight of {code} must be a number")
    parent = row["Parent"] if isinstance(row["Parent"], str) else None
    max_level = float(np.nanmax(meta["Level"].to_numpy(dtype=float)))
    if parent is None:
        if level != max_level:
            raise IndicatorError(f"{where}: {code} (Level {level:g}) has no Parent")
        return
    if parent not in codes:
        raise IndicatorError(f"{where}: Parent {parent!r} of {code} is not an iCode in iMeta")
    parent_row = meta.iloc[codes.index(str(parent))]
    if parent_row["Type"] != "Aggregate" or parent_row["Level"] != level + 1:
        raise IndicatorError(
            f"{where}: Parent {parent!r} of {code} must be an Aggregate at Level {level + 1:g}"
        )


def _long_to_wide(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    keys = [c for c in (KEY, TIME) if c in raw.columns]
    dup = raw.duplicated(subset=[*keys, "iCode"], keep=False)
    if dup.any():
        line = int(np.flatnonzero(dup.to_numpy())[0]) + 2
        raise IndicatorError(f"{path}:{line}: duplicate value for the same unit, time and iCode")
    wide = raw.pivot(index=keys, columns="iCode", values="Value").reset_index()
    wide.columns = [str(c) for c in wide.columns]
    return wide.fillna("")


def read_idata(path: Path, framework: Framework) -> Coin:
    """Read iData (wide or long) and build a validated coin, sorted as COINr sorts it."""
    raw = read_table(path)
    if "iCode" in raw.columns and "Value" in raw.columns:
        raw = _long_to_wide(raw, path)
    if KEY not in raw.columns:
        raise IndicatorError(f"{path}: missing column 'uCode'")
    known = set(framework.meta["iCode"].astype(str))
    for column in raw.columns:
        if column not in (KEY, NAME, TIME) and column not in known:
            raise IndicatorError(f"{path}: column {column!r} is not an iCode in iMeta (unknown iCode)")
    for code in (*framework.indicators, *framework.denominator_of.values()):
        if code not in raw.columns:
            raise IndicatorError(f"{path}: iMeta's {code!r} has no column in iData")
    return build_coin(raw, framework, path)


def _check_units(raw: pd.DataFrame, times: list[float] | None, path: Path) -> None:
    seen: dict[tuple[str, float], int] = {}
    for i, code in enumerate(raw[KEY]):
        if not code:
            raise IndicatorError(f"{path}:{i + 2}: empty uCode")
        key = (str(code), times[i] if times is not None else 0.0)
        if key in seen:
            when = f" at Time {key[1]:g}" if times is not None else ""
            raise IndicatorError(
                f"{path}:{i + 2}: duplicate uCode {code!r}{when} (first on line {seen[key]})"
            )
        seen[key] = i + 2


def build_coin(raw: pd.DataFrame, framework: Framework, path: Path) -> Coin:
    """Validated coin from a text table (wide iData)."""
    times = _numeric_column(raw, TIME, path) if TIME in raw.columns else None
    if times is not None:
        for i, t in enumerate(times):
            if math.isnan(t):
                raise IndicatorError(f"{path}:{i + 2}: empty Time")
    _check_units(raw, times, path)
    panel = times is not None and len(set(times)) > 1
    numeric = [*framework.indicators, *framework.denominator_columns]
    data = pd.DataFrame({KEY: raw[KEY].astype(str)})
    units = pd.DataFrame({KEY: raw[KEY].astype(str)})
    if times is not None:
        units[TIME] = times
        if panel:
            data[TIME] = times
    units[NAME] = raw[NAME] if NAME in raw.columns else raw[KEY]
    for column in raw.columns:
        if column in (KEY, NAME, TIME) or column in framework.indicators:
            continue
        units[column] = _numeric_column(raw, column, path) if column in numeric else raw[column]
    for code in framework.indicators:
        data[code] = np.array(_numeric_column(raw, code, path), dtype=np.float64)
    order = _coin_order(data, panel)
    data = data.iloc[order].reset_index(drop=True)
    units = units.iloc[order].reset_index(drop=True)
    return Coin(data=data, units=units, framework=framework, weights=dict(framework.weights), panel=panel)


def _coin_order(data: pd.DataFrame, panel: bool) -> list[int]:
    codes = [r_sort_key(str(c)) for c in data[KEY]]
    if panel:
        times = data[TIME].tolist()
        return sorted(range(len(codes)), key=lambda i: (times[i], codes[i]))
    return sorted(range(len(codes)), key=lambda i: codes[i])


def load(idata: Path, imeta: Path) -> Coin:
    """Read iMeta, then iData: the coin a pipeline starts from."""
    return read_idata(idata, read_imeta(imeta))


def format_number(value: object) -> str:
    """Full precision (the shortest text that reads back to the same float64); empty for NA.

    >>> format_number(0.1), format_number(float("nan")), format_number(2018.0)
    ('0.1', '', '2018')
    """
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return ""
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    return str(value)


def write_table(frame: pd.DataFrame, path: Path, columns: Sequence[str] | None = None) -> None:
    """Write a table as UTF-8 CSV with full-precision numbers and empty cells for NA."""
    cols = list(columns) if columns is not None else [str(c) for c in frame.columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(cols)
        writer.writerows(_rows(frame, cols))


def _rows(frame: pd.DataFrame, cols: list[str]) -> Iterable[list[str]]:
    arrays = [frame[c].tolist() for c in cols]
    for i in range(len(frame)):
        yield [format_number(a[i]) for a in arrays]


def output_frame(coin: Coin) -> pd.DataFrame:
    """The result table: uCode (and Time for panel data) and every value column."""
    return coin.data[[*coin.keys, *coin.codes]]
