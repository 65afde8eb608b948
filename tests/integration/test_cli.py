"""The `megacity` command line as a user runs it: a real process, a real database."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from megacity.io import read_tickets
from megacity.io.rows import ParsedRow

DATA = Path(__file__).resolve().parents[1] / "data"
TEDDY = DATA / "teddycup" / "附件2_sample495_labeled.csv"
NYC = DATA / "nyc311" / "fedhere_PyBOOT_311_2022-05-01.csv"


def megacity(*args: str, cwd: Path, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "megacity", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def data_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return sum(1 for row in csv.reader(f) if any(c.strip() for c in row)) - 1


def summary(result: subprocess.CompletedProcess[str]) -> tuple[int, int]:
    words = result.stdout.strip().splitlines()[-1].split()
    assert words[0] == "imported" and words[2] == "rejected", result.stdout
    return int(words[1]), int(words[3])


def test_import_teddycup_keeps_good_rows_and_reports_bad_ones(database_url: str, tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    result = megacity("import", str(TEDDY), "--database", database_url, "--report", str(report), cwd=tmp_path)
    imported, rejected = summary(result)
    assert imported + rejected == data_rows(TEDDY) and imported > 0
    with report.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == rejected
    again = megacity("import", str(TEDDY), "--database", database_url, "--report", str(report), cwd=tmp_path)
    assert summary(again) == (0, imported + rejected)  # nothing stored twice


def test_import_nyc311_with_timezone_and_default_report_location(database_url: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    source = tmp_path / "in" / NYC.name
    source.parent.mkdir()
    shutil.copy(NYC, source)
    result = megacity("import", str(source), "--format", "nyc311", "--database", database_url, cwd=work)
    imported, rejected = summary(result)
    assert imported + rejected == data_rows(NYC)
    assert list(work.glob("import-report-*.csv")) and not list(source.parent.glob("import-report-*"))


def test_unreadable_file_exits_2_with_one_line(tmp_path: Path, database_url: str) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"\x00\x01 not a table")
    result = megacity("import", str(bad), "--database", database_url, cwd=tmp_path, expect=2)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error:")
    missing = megacity(
        "import", str(tmp_path / "missing.csv"), "--database", database_url, cwd=tmp_path, expect=2
    )
    assert "missing.csv" in missing.stderr


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_round_trips_through_import(database_url: str, tmp_path: Path, fmt: str) -> None:
    megacity(
        "import", str(TEDDY), "--database", database_url, "--report", str(tmp_path / "r.csv"), cwd=tmp_path
    )
    out = tmp_path / f"tickets.{fmt}"
    exported = megacity(
        "export", "--format", fmt, "--out", str(out), "--database", database_url, cwd=tmp_path
    )
    count = int(exported.stdout.split()[-1])
    second_db = f"sqlite:///{tmp_path / 'second.db'}"
    result = megacity(
        "import", str(out), "--database", second_db, "--report", str(tmp_path / "r2.csv"), cwd=tmp_path
    )
    assert summary(result) == (count, 0)
    out2 = tmp_path / f"again.{fmt}"
    megacity("export", "--format", fmt, "--out", str(out2), "--database", second_db, cwd=tmp_path)
    first = [r.record for r in read_tickets(out, format="canonical") if isinstance(r, ParsedRow)]
    second = [r.record for r in read_tickets(out2, format="canonical") if isinstance(r, ParsedRow)]
    assert first == second and len(first) == count


def test_profile_check_reports_file_and_line(tmp_path: Path) -> None:
    from megacity.profiles import default_profile_path

    megacity("profile", "check", str(default_profile_path()), cwd=tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(default_profile_path(), broken)
    weights = broken / "assessment.yaml"
    weights.write_text(weights.read_text(encoding="utf-8").replace("0.45", "0.55", 1), encoding="utf-8")
    result = megacity("profile", "check", str(broken), cwd=tmp_path, expect=2)
    assert "assessment.yaml:" in result.stderr


def test_demo_loads_once_and_init_is_idempotent(database_url: str, tmp_path: Path) -> None:
    megacity("init", "--database", database_url, cwd=tmp_path)
    megacity("init", "--database", database_url, cwd=tmp_path)
    result = megacity("demo", "--count", "300", "--months", "2", "--database", database_url, cwd=tmp_path)
    assert result.stdout.strip().endswith("demo loaded 300")
    skipped = megacity("demo", "--count", "300", "--if-empty", "--database", database_url, cwd=tmp_path)
    assert "skipped" in skipped.stdout


def test_user_accounts_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "megacity",
            "user",
            "create",
            "--username",
            "li",
            "--role",
            "unit_handler",
            "--unit",
            "110105026",
            "--password-stdin",
            "--database",
            database_url,
        ],
        input="a-long-password\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    listed = megacity("user", "list", "--database", database_url, cwd=tmp_path)
    assert "li\tunit_handler\t110105026\tactive" in listed.stdout
    bad = megacity(
        "user",
        "create",
        "--username",
        "x",
        "--role",
        "king",
        "--database",
        database_url,
        cwd=tmp_path,
        expect=2,
    )
    assert bad.stderr.startswith("error: --role must be one of")
    megacity("user", "disable", "li", "--database", database_url, cwd=tmp_path)
    assert "disabled" in megacity("user", "list", "--database", database_url, cwd=tmp_path).stdout
    verified = megacity("audit", "verify", "--database", database_url, cwd=tmp_path)
    assert verified.stdout.startswith("audit chain ok: 2 events")
