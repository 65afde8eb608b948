"""`megacity assess` as a user runs it: a subprocess on Parquet, CSV and the SQLite database."""

from __future__ import annotations

import csv
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from megacity.assessment.cli import assess
from megacity.bootstrap import bootstrap
from megacity.demo import generate
from megacity.services.demo_load import load_demo
from megacity.services.export import export_tickets
from megacity.settings import Settings

REQUIRED = (
    "unit_code, unit_name, unit_type, month, in_scope, rated, response_rate, resolution_rate, "
    "satisfaction_rate, composite, requests_per_10k, rank, rank_in_subtype, governance_focus, excluded"
).split(", ")
WEIGHTS = {"response": 0.10, "resolution": 0.45, "satisfaction": 0.45}


@dataclass(frozen=True)
class Files:
    folder: Path
    database: str
    parquet: Path
    csv: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    folder = tmp_path_factory.mktemp("assess-cli")
    url = f"sqlite:///{folder / 'demo.db'}"
    app = bootstrap(Settings(database_url=url, files_dir=folder / "files", environment="test"))
    load_demo(app=app, cases=generate(app.profile, count=3000, months=2, seed=11))
    export_tickets(app=app, path=folder / "demo.parquet", format="parquet")
    export_tickets(app=app, path=folder / "demo.csv", format="csv")
    return Files(folder, url, folder / "demo.parquet", folder / "demo.csv")


def megacity(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "megacity", "assess", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_parquet_csv_and_database_give_the_same_file(files: Files, tmp_path: Path) -> None:
    outs = {name: tmp_path / f"{name}.csv" for name in ("parquet", "csv", "db")}
    sources = {"parquet": ["--tickets", files.parquet], "csv": ["--tickets", files.csv]}
    sources["db"] = ["--database", files.database]
    running = {
        name: subprocess.Popen(
            [sys.executable, "-m", "megacity", "assess", *map(str, source), "--months", "2025-11:2025-12"]
            + ["--out", str(outs[name])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, source in sources.items()
    }
    for process in running.values():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        assert "assessed" in stdout
    text = outs["parquet"].read_text(encoding="utf-8")
    assert outs["csv"].read_text(encoding="utf-8") == text
    assert outs["db"].read_text(encoding="utf-8") == text
    assert (tmp_path / "db.cohandling.csv").exists()
    rows = read(outs["parquet"])
    assert set(REQUIRED) <= set(rows[0])
    assert {r["month"] for r in rows} == {"2025-11", "2025-12"}
    assert len({(r["unit_code"], r["unit_type"], r["month"]) for r in rows}) == len(rows)
    for r in rows:
        for rate in ("response_rate", "resolution_rate", "satisfaction_rate"):
            assert r[rate] == "" or 0 <= float(r[rate]) <= 1
        assert r["governance_focus"] in {"true", "false"}
        assert r["rank"] == "" or int(r["rank"]) >= 1
        if r["rank"]:
            assert int(r["rated"]) >= 10
        if r["composite"]:
            total = sum(WEIGHTS[k] * float(r[f"{k}_rate"]) for k in WEIGHTS)
            assert float(r["composite"]) == pytest.approx(100 * total, abs=1e-8)
    streets = [r for r in rows if r["unit_type"] == "street" and r["month"] == "2025-12"]
    ranks = sorted(int(r["rank"]) for r in streets if r["rank"])
    assert ranks and ranks[0] == 1
    assert 0 < sum(r["governance_focus"] == "true" for r in streets) <= 10


def test_weights_add_the_rank_change_and_explain_writes_the_costly_tickets(
    files: Files, tmp_path: Path
) -> None:
    out = tmp_path / "R.csv"
    args = ("--month", "2025-12", "--weights", "0.5,0.25,0.25", "--explain", "110105", "--out", out)
    done = megacity("--tickets", files.parquet, *args)
    assert done.returncode == 0, done.stderr
    rows = read(out)
    assert {"rank_default", "rank_change", "composite_default"} <= set(rows[0])
    moved = 0
    for r in rows:
        if r["rank"] and r["rank_default"]:
            assert int(r["rank_change"]) == int(r["rank_default"]) - int(r["rank"])
            moved += int(r["rank_change"]) != 0
        if r["composite"]:
            rates = [float(r[f"{k}_rate"]) for k in ("response", "resolution", "satisfaction")]
            assert float(r["composite"]) == pytest.approx(
                100 * (0.5 * rates[0] + 0.25 * rates[1] + 0.25 * rates[2])
            )
    assert moved > 0
    explained = read(tmp_path / "R.explain.csv")
    assert explained and {r["unit_code"] for r in explained} == {"110105"}
    assert {r["reason"] for r in explained} <= {"late_contact", "not_contacted", "unresolved", "dissatisfied"}
    row = next(r for r in rows if r["unit_code"] == "110105")
    lost = sum(float(r["points_lost"]) for r in explained)  # points under the what-if weights
    assert lost == pytest.approx(100 - float(row["composite"]), abs=1e-6)


def test_naive_local_times_and_loose_headers_in_csv(tmp_path: Path) -> None:
    source = tmp_path / "mini.csv"
    source.write_text(
        "ID,Received At,Kind,Urgency,District Code,Unit Code,Dispatched At,Contacted At,Resolved,"
        "Satisfaction,Excluded\n"
        "a,2025-02-01 00:30:00,complaint,general,110101,110101001,2025-02-01 01:00,2025-02-02 01:00,true,"
        "satisfied,false\n"
        "b,2025-01-31T23:59:00+08:00,help,,110101,110101001,2025-02-01T09:00:00+08:00,,,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "mini-out.csv"
    done = megacity("--tickets", source, "--months", "2025-01:2025-02", "--out", out)
    assert done.returncode == 0, done.stderr
    rows = {(r["unit_code"], r["month"]): r for r in read(out)}
    feb = rows[("110101001", "2025-02")]
    assert (feb["in_scope"], feb["response_rate"], feb["composite"]) == ("1", "1.0", "100.0")
    jan = rows[("110101001", "2025-01")]
    assert (jan["in_scope"], jan["rated"], jan["response_rate"], jan["composite"]) == ("1", "0", "0.0", "")


def _bad_files(tmp_path: Path) -> tuple[Path, Path]:
    missing_columns = tmp_path / "bad.csv"
    missing_columns.write_text("id,received_at\nx,2025-01-01\n", encoding="utf-8")
    bad_time = tmp_path / "bad-time.csv"
    header = "id,received_at,kind,urgency,district_code,unit_code,dispatched_at,contacted_at,resolved,"
    bad_time.write_text(
        header + "satisfaction,excluded\nx,yesterday,help,general,1,2,,,,,\n", encoding="utf-8"
    )
    return missing_columns, bad_time


def test_user_errors_exit_2_with_one_line(files: Files, tmp_path: Path) -> None:
    missing_columns, _ = _bad_files(tmp_path)
    out = tmp_path / "r.csv"
    cases = [
        ("--tickets", tmp_path / "missing.parquet", "--month", "2025-12", "--out", out),
        ("--tickets", files.parquet, "--month", "2025-13", "--out", out),
        ("--tickets", missing_columns, "--month", "2025-12", "--out", out),
    ]
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "megacity", "assess", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in cases
    ]
    errors = []
    for args, process in zip(cases, running, strict=True):
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 2, (args, stderr)
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, stderr)
        errors.append(lines[0])
    assert "no such file" in errors[0]
    assert "2025-13" in errors[1]
    assert "missing column(s) kind, urgency" in errors[2]
    assert not out.exists()


def test_every_user_error_is_one_line(files: Files, tmp_path: Path) -> None:
    """The same command function in-process (fast), for the whole list of mistakes."""
    app = typer.Typer()
    app.command("assess")(assess)
    app.command("other")(lambda: None)  # two commands: `assess` stays a subcommand
    _, bad_time = _bad_files(tmp_path)
    out = tmp_path / "r.csv"
    month = ("--tickets", files.parquet, "--month", "2025-12")
    cases = {
        "YYYY-MM": ("--tickets", files.parquet, "--month", "2025-13", "--out", out),
        "either a month": (*month, "--months", "2025-11:2025-12", "--out", out),
        "weights": (*month, "--weights", "1,2", "--out", out),
        "unknown engine": (*month, "--engine", "oracle", "--out", out),
        "postgres engine": (*month, "--engine", "postgres", "--out", out),
        "are not times": ("--tickets", bad_time, "--month", "2025-12", "--out", out),
        "--explain NOPE": (*month, "--explain", "NOPE", "--out", out),
        "not both": (*month, "--database", files.database, "--out", out),
        "--out is required": month,
        "does not exist": (
            "--database",
            f"sqlite:///{tmp_path / 'none.db'}",
            "--month",
            "2025-12",
            "--out",
            out,
        ),
        "focus-rule": (*month, "--focus-rule", "loudest", "--out", out),
        "as-of": (*month, "--as-of", "soon", "--out", out),
        "folder": (*month, "--out", tmp_path / "no" / "r.csv"),
    }
    for expected, args in cases.items():
        result = CliRunner().invoke(app, ["assess", *map(str, args)])
        assert result.exit_code == 2, (expected, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], (expected, lines)
    assert not out.exists()
