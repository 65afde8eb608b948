"""`megacity classify train|predict|evaluate` as a user runs it: a real process, real files.

Uses the 120-row Teddy Cup sample shipped in tests/data/classify (CSV and xlsx, padded cells).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "classify"
CSV = DATA / "teddycup_labeled_120.csv"
XLSX = DATA / "teddycup_labeled_120.xlsx"
COLUMNS = ("--text-column", "留言详情", "--title-column", "留言主题")
LABEL = ("--label-column", "一级分类")


def classify(*args: str | Path, cwd: Path, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "megacity", "classify", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def sample_rows() -> tuple[list[str], list[list[str]]]:
    with CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained once on the sample CSV (title + text)."""
    work = tmp_path_factory.mktemp("model")
    result = classify("train", "--data", CSV, *COLUMNS, *LABEL, "--model", work / "m", cwd=work)
    assert "trained" in result.stdout and "118 rows, 7 classes" in result.stdout
    assert "conflicting" in result.stderr  # message 37042, labelled twice
    return work / "m"


def test_train_writes_model_and_meta(model: Path) -> None:
    assert (model / "model.joblib").is_file() and (model / "meta.json").is_file()


def test_predict_xlsx_gives_one_row_per_input_row_in_order(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.csv"
    result = classify("predict", "--model", model, "--data", XLSX, *COLUMNS, "--out", out, cwd=tmp_path)
    assert result.stdout.strip() == f"predicted 120 rows -> {out}"
    with out.open(encoding="utf-8", newline="") as handle:
        assert next(csv.reader(handle)) == ["label", "confidence", "top3"]
    rows = read_csv(out)
    assert len(rows) == 120
    truth = [row[5].strip() for row in sample_rows()[1]]
    labels = set(truth)
    for row in rows:
        top = row["top3"].split("|")
        assert len(top) == 3 and top[0] == row["label"] and set(top) <= labels
        assert 0.0 <= float(row["confidence"]) <= 1.0
    agree = sum(row["label"] == label for row, label in zip(rows, truth, strict=True))
    assert agree >= 110  # the training rows themselves, so nearly all right, and in order


def test_predict_keeps_the_order_of_a_shuffled_file(model: Path, tmp_path: Path) -> None:
    header, rows = sample_rows()
    forward = write_csv(tmp_path / "forward.csv", header, rows[:40])
    backward = write_csv(tmp_path / "backward.csv", header, rows[:40][::-1])
    classify(
        "predict", "--model", model, "--data", forward, *COLUMNS, "--out", tmp_path / "f.csv", cwd=tmp_path
    )
    classify(
        "predict", "--model", model, "--data", backward, *COLUMNS, "--out", tmp_path / "b.csv", cwd=tmp_path
    )
    assert read_csv(tmp_path / "f.csv") == read_csv(tmp_path / "b.csv")[::-1]


def test_padded_headers_empty_labels_and_text_only(tmp_path: Path) -> None:
    header, rows = sample_rows()
    padded = [f"  {name}\u3000 " for name in header]
    for row in rows[::10]:
        row[5] = " \n\t "  # an empty label: the row is skipped
    source = write_csv(tmp_path / "padded.csv", padded, rows)
    result = classify(
        "train",
        "--data",
        source,
        "--text-column",
        "留言详情",
        *LABEL,
        "--model",
        tmp_path / "m",
        cwd=tmp_path,
    )
    assert "skipped 12 row(s) with an empty label" in result.stderr
    out = tmp_path / "p.csv"
    result = classify(
        "predict",
        "--model",
        tmp_path / "m",
        "--data",
        source,
        "--text-column",
        "留言详情",
        "--out",
        out,
        cwd=tmp_path,
    )
    assert len(read_csv(out)) == 120  # predict keeps every row, labelled or not


def test_evaluate_prints_scores_per_class_and_confusion(tmp_path: Path) -> None:
    result = classify(
        "evaluate", "--data", XLSX, *COLUMNS, *LABEL, "--folds", "3", "--repeats", "2", cwd=tmp_path
    )
    out = result.stdout
    assert "macro-F1" in out and "accuracy" in out and "±" in out
    assert "per-class F1" in out and "confusion matrix" in out
    for label in ("城乡建设", "环境保护", "卫生计生"):
        assert label in out
    assert "macro-F1" not in result.stderr  # results on stdout, notes on stderr


def test_evaluate_reduces_folds_for_small_classes(tmp_path: Path) -> None:
    header, rows = sample_rows()
    few = [row for row in rows if row[5].strip() != "环境保护"]
    few += [row for row in rows if row[5].strip() == "环境保护"][:3]
    source = write_csv(tmp_path / "few.csv", header, few)
    result = classify("evaluate", "--data", source, *COLUMNS, *LABEL, "--repeats", "1", cwd=tmp_path)
    assert "using 3 folds instead of 5" in result.stderr
    assert "folds 3" in result.stdout


@pytest.mark.parametrize("command", ["train", "predict", "evaluate"])
def test_missing_column_is_a_one_line_error(command: str, model: Path, tmp_path: Path) -> None:
    args: list[str | Path] = ["--data", CSV, "--text-column", "留言正文"]
    if command == "train":
        args += [*LABEL, "--model", tmp_path / "m"]
    elif command == "predict":
        args += ["--model", model, "--out", tmp_path / "p.csv"]
    else:
        args += [*LABEL]
    result = classify(command, *args, cwd=tmp_path, expect=2)
    assert result.stderr.startswith("error:") and "留言正文" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreadable_inputs_exit_2(model: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    for data in (tmp_path / "missing.csv", garbage):
        result = classify("evaluate", "--data", data, *COLUMNS, *LABEL, cwd=tmp_path, expect=2)
        assert result.stderr.startswith("error:")
    result = classify(
        "predict",
        "--model",
        tmp_path,
        "--data",
        CSV,
        *COLUMNS,
        "--out",
        tmp_path / "p.csv",
        cwd=tmp_path,
        expect=2,
    )
    assert result.stderr.startswith("error:")


def test_train_needs_two_labels(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["text", "label"])
    sheet.append(["路灯坏了", "路灯"])
    sheet.append(["路灯不亮", "路灯"])
    workbook.save(tmp_path / "one.xlsx")
    args = ("--data", tmp_path / "one.xlsx", "--text-column", "text", "--label-column", "label")
    result = classify("train", *args, "--model", tmp_path / "m", cwd=tmp_path, expect=2)
    assert result.stderr.startswith("error:") and "two different labels" in result.stderr
