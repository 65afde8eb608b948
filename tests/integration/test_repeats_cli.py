"""`megacity analyse repeats` as a user runs it: a real process on CSV, Parquet and a database."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from megacity.analytics.cli import app as analyse_app

DATA = Path(__file__).resolve().parents[1] / "data" / "repeats"
CST = timezone(timedelta(hours=8))


def megacity(*args: str, cwd: Path, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "megacity", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_groups(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == ["id", "group_id"]
        rows = [tuple(row) for row in reader]
    groups = dict(rows)
    assert len(groups) == len(rows), "an id appears twice"
    return groups


def test_csv_every_id_once_and_repeats_grouped_under_their_first_request(tmp_path: Path) -> None:
    source = DATA / "heldout.csv"  # times without offset: Asia/Shanghai
    out = tmp_path / "r.csv"
    result = megacity("analyse", "repeats", "--tickets", str(source), "--out", str(out), cwd=tmp_path)
    assert result.stdout.startswith("requests ")
    rows = read_rows(source)
    groups = read_groups(out)
    assert sorted(groups) == sorted(r["id"] for r in rows)
    first: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: (r["received_at"], r["id"])):
        first.setdefault(groups[row["id"]], row["id"])
    assert all(first[g] == g for g in groups.values()), "group_id is the earliest request of the group"
    truth = {r["id"]: r["truth"] for r in rows}
    repeats = [i for i in truth if i != truth[i]]
    assert sum(groups[i] == groups[truth[i]] for i in repeats) >= 0.9 * len(repeats)
    linked = [(i, g) for i, g in groups.items() if i != g]
    assert sum(truth[i] == truth[g] for i, g in linked) >= 0.95 * len(linked)


def test_parquet_gives_the_same_groups_as_csv(tmp_path: Path) -> None:
    rows = read_rows(DATA / "seen.csv")
    stamps = [datetime.fromisoformat(r["received_at"]).astimezone(UTC) for r in rows]
    table = pa.table(
        {
            "id": [r["id"] for r in rows],
            "received_at": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "title": [r["title"] or None for r in rows],
            "text": [r["text"] for r in rows],
            "complainant_id": [r["complainant_id"] or None for r in rows],
            "street_code": [r["street_code"] or None for r in rows],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    megacity("analyse", "repeats", "--tickets", "t.parquet", "--out", "p.csv", cwd=tmp_path)
    megacity("analyse", "repeats", "--tickets", str(DATA / "seen.csv"), "--out", "c.csv", cwd=tmp_path)
    assert read_groups(tmp_path / "p.csv") == read_groups(tmp_path / "c.csv")


def test_window_option_and_chain_report(tmp_path: Path) -> None:
    text = "安贞里小区3号楼东侧的路灯坏了两个多星期，晚上一片漆黑，老人和孩子出门很不安全。"
    start = datetime(2024, 1, 1, 9, tzinfo=CST)
    with (tmp_path / "t.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["id", "received_at", "text", "complainant_id", "street_code", "resolved", "callback_at"]
        )
        writer.writerow(
            ["a", start.isoformat(), text, "p1", "s1", "true", (start + timedelta(days=2)).isoformat()]
        )
        writer.writerow(["b", (start + timedelta(days=40)).isoformat(), "您好！" + text, "p1", "s1", "", ""])
    tickets, out, chains = str(tmp_path / "t.csv"), str(tmp_path / "r.csv"), str(tmp_path / "g.csv")
    result = CliRunner().invoke(
        analyse_app, ["repeats", "--tickets", tickets, "--out", out, "--groups", chains]
    )
    assert result.exit_code == 0, result.output
    assert read_groups(tmp_path / "r.csv") == {"a": "a", "b": "a"}
    report = read_rows(tmp_path / "g.csv")
    assert [(c["group_id"], c["size"], c["after_resolved"], c["escalate"]) for c in report] == [
        ("a", "2", "True", "district")
    ]
    result = CliRunner().invoke(
        analyse_app, ["repeats", "--tickets", tickets, "--out", out, "--window-days", "30"]
    )
    assert result.exit_code == 0, result.output
    assert read_groups(tmp_path / "r.csv") == {"a": "a", "b": "b"}


def test_database_input(tmp_path: Path) -> None:
    rows = read_rows(DATA / "natural.csv")[:40]  # 20 hand-labelled pairs
    with (tmp_path / "t.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    url = f"sqlite:///{tmp_path / 'm.db'}"
    megacity("import", "t.csv", "--database", url, "--report", "rep.csv", cwd=tmp_path)
    megacity("analyse", "repeats", "--database", url, "--out", "r.csv", cwd=tmp_path)
    direct = ["repeats", "--tickets", str(tmp_path / "t.csv"), "--out", str(tmp_path / "f.csv")]
    assert CliRunner().invoke(analyse_app, direct).exit_code == 0
    assert read_groups(tmp_path / "r.csv") == read_groups(tmp_path / "f.csv")


def test_missing_column_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text(
        "id,received_at,text,street_code\na,2024-01-01,路灯坏了,s1\n", encoding="utf-8"
    )
    result = megacity("analyse", "repeats", "--tickets", "bad.csv", "--out", "r.csv", cwd=tmp_path, expect=2)
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "complainant_id" in result.stderr and not (tmp_path / "r.csv").exists()


def test_other_user_errors_exit_2(tmp_path: Path) -> None:
    (tmp_path / "not.parquet").write_bytes(b"PAR1 this is not parquet")
    cases = [
        ["--tickets", str(tmp_path / "missing.csv")],
        ["--tickets", str(tmp_path / "not.parquet")],
        [],
        ["--tickets", str(tmp_path / "missing.csv"), "--database", "sqlite://"],
        ["--database", f"sqlite:///{tmp_path / 'none.db'}"],
        ["--database", "nonsense://"],
    ]
    for args in cases:
        result = CliRunner().invoke(analyse_app, ["repeats", *args, "--out", str(tmp_path / "r.csv")])
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
