"""Reading and validating iData / iMeta: every problem names the file and the row."""

from __future__ import annotations

from pathlib import Path

import pytest

from megacity.indicators.io import format_number, load, read_imeta
from megacity.indicators.model import IndicatorError

META = (
    "iCode,Level,Parent,Direction,Weight,Type\n"
    "a,1,P,1,1,Indicator\nb,1,P,-1,1,Indicator\nP,2,,1,1,Aggregate\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (META.replace("a,1,P,1,1", "a,1,Q,1,1"), r"m\.csv:2: Parent 'Q' of a is not an iCode"),
        (META.replace("b,1,P,-1", "b,1,P,2"), r"m\.csv:3: Direction of b must be 1 or -1"),
        (META.replace("b,1,P,-1,1", "b,1,P,-1,x"), r"m\.csv:3: column Weight: 'x' is not a number"),
        (META + "a,1,P,1,1,Indicator\n", r"m\.csv:5: duplicate iCode 'a'"),
        (META.replace("Aggregate", "Aggregat"), r"m\.csv:4: Type 'Aggregat'"),
    ],
)
def test_imeta_errors(tmp_path: Path, meta: str, message: str) -> None:
    with pytest.raises(IndicatorError, match=message):
        read_imeta(write(tmp_path, "m.csv", meta))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("uCode,a,b,zz\nU1,1,2,3\n", r"d\.csv: column 'zz' is not an iCode in iMeta"),
        ("uCode,a,b\nU1,1,2\nU1,3,4\n", r"d\.csv:3: duplicate uCode 'U1' \(first on line 2\)"),
        ("uCode,a,b\nU1,1,2\nU2,oops,4\n", r"d\.csv:3: column a: 'oops' is not a number"),
        ("uCode,a\nU1,1\n", r"d\.csv: iMeta's 'b' has no column in iData"),
        ("uCode,Time,a,b\nU1,2020,1,2\nU1,2020,3,4\n", r"d\.csv:3: duplicate uCode 'U1' at Time 2020"),
    ],
)
def test_idata_errors(tmp_path: Path, data: str, message: str) -> None:
    meta = write(tmp_path, "m.csv", META)
    with pytest.raises(IndicatorError, match=message):
        load(write(tmp_path, "d.csv", data), meta)


def test_long_format_and_panel_sorting(tmp_path: Path) -> None:
    meta = write(tmp_path, "m.csv", META)
    long = (
        "uCode,Time,iCode,Value\n"
        "U2,2021,a,1\nU2,2021,b,2\nU1,2021,a,3\nU1,2021,b,\nU1,2020,a,5\nU1,2020,b,6\n"
    )
    coin = load(write(tmp_path, "d.csv", long), meta)
    assert coin.panel and list(zip(coin.data["uCode"], coin.data["Time"], strict=True)) == [
        ("U1", 2020.0),
        ("U1", 2021.0),
        ("U2", 2021.0),
    ]
    assert coin.data["b"].isna().tolist() == [False, True, False]


def test_single_period_is_not_panel(tmp_path: Path) -> None:
    meta = write(tmp_path, "m.csv", META)
    coin = load(write(tmp_path, "d.csv", "uCode,Time,a,b\nU2,2020,1,2\nU1,2020,3,4\n"), meta)
    assert not coin.panel and coin.keys == ["uCode"] and list(coin.data["uCode"]) == ["U1", "U2"]


def test_numbers_are_written_in_full() -> None:
    assert format_number(64.28336129484839) == "64.28336129484839"
    assert format_number(1 / 3) == repr(1 / 3)
