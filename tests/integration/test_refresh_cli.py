"""`megacity refresh`: the pages' rankings and analyses computed ahead of their visitors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from megacity.bootstrap import Megacity
from megacity.demo import generate
from megacity.services.demo_load import load_demo
from megacity.store import snapshots
from megacity.web.pages.analysis import SECTIONS


def refresh(*args: str, cwd: Path, expect: int = 0) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "megacity", "refresh", *args], cwd=cwd, capture_output=True, text=True
    )
    assert result.returncode == expect, result.stdout + result.stderr
    return (result.stdout + result.stderr).strip().splitlines()


def test_refresh_computes_once_and_stores_what_the_pages_read(
    megacity: Megacity, database_url: str, tmp_path: Path
) -> None:
    load_demo(app=megacity, cases=generate(megacity.profile, count=400, months=2))
    month = "2025-12"  # the demo's last month
    first = refresh("--month", month, "--database", database_url, cwd=tmp_path)
    jobs = 5 + len(SECTIONS)  # counts, ranking, its 12 months, explanations, monitoring, analyses
    assert len(first) == jobs + 1 and first[-1].startswith(f"{jobs} of {jobs} results computed for {month}")
    assert all(line.endswith("computed") for line in first[:-1])
    stored = snapshots.listing(megacity.engine)
    assert {row["name"] for row in stored} == {
        "landing",
        "ranking",
        "explanation",
        "explanation-pass",
        "analysis",
    }
    assert {f"{s.key}||{month}" for s in SECTIONS if s.key != "complainants"} <= {r["label"] for r in stored}

    again = refresh("--month", month, "--database", database_url, cwd=tmp_path)
    assert again[-1].startswith(f"0 of {jobs} results computed") and "up to date" in again[0]
    assert snapshots.listing(megacity.engine) == stored  # nothing rewritten


def test_refresh_refuses_a_bad_month(database_url: str, tmp_path: Path) -> None:
    out = refresh("--month", "2025-13", "--database", database_url, cwd=tmp_path, expect=2)
    assert out == ["error: --month must be YYYY-MM, not '2025-13'"]
