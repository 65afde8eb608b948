"""`megacity indicators run` as a user runs it: a real process on COINr's ASEM example.

The reference figures are COINr's own published outputs for its example coin
(tests/data/coinr_asem/reference/, provenance in its README).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "coinr_asem"
EXAMPLE_COIN = """steps:
  - denominate: {}
  - impute: {method: group_mean, group: EurAsia_group}
  - screen: {unit_screen: byNA, dat_thresh: 0.9}
  - treat: {method: winsorise, skew_max: 2, kurt_max: 3.5, winmax: 5, fallback: log}
  - normalise: {method: minmax, lower: 0, upper: 100}
  - aggregate: {method: arithmetic_mean}
"""


def megacity(*args: str, cwd: Path, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "megacity", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def test_run_reproduces_coinr_example_coin(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(EXAMPLE_COIN, encoding="utf-8")
    out = tmp_path / "r.csv"
    megacity(
        "indicators",
        "run",
        "--idata",
        str(DATA / "ASEM_iData.csv"),
        "--imeta",
        str(DATA / "ASEM_iMeta.csv"),
        "--pipeline",
        str(pipeline),
        "--out",
        str(out),
        "--stages-dir",
        str(tmp_path / "st"),
        cwd=tmp_path,
    )
    got = {r["uCode"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    with (DATA / "reference" / "example_coin_top6.csv").open(encoding="utf-8") as f:
        for ref in csv.DictReader(f):
            for code in (
                "Index",
                "Conn",
                "Sust",
                "Physical",
                "ConEcFin",
                "Political",
                "Instit",
                "P2P",
                "Environ",
                "Social",
                "SusEcFin",
            ):
                assert f"{float(got[ref['uCode']][code]):.2f}" == f"{float(ref[code]):.2f}", (
                    ref["uCode"],
                    code,
                )
    assert (tmp_path / "st" / "log.json").is_file()


def test_panel_run_has_time_column(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(EXAMPLE_COIN, encoding="utf-8")
    out = tmp_path / "r.csv"
    megacity(
        "indicators",
        "run",
        "--idata",
        str(DATA / "ASEM_iData_p.csv"),
        "--imeta",
        str(DATA / "ASEM_iMeta.csv"),
        "--pipeline",
        str(pipeline),
        "--out",
        str(out),
        cwd=tmp_path,
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0])[:2] == ["uCode", "Time"] and len(rows) == 255


def test_unknown_parameter_is_one_line_and_exit_2(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text("steps:\n  - aggregate: {method: arithmetic_mean, weights: x}\n", encoding="utf-8")
    result = megacity(
        "indicators",
        "run",
        "--idata",
        "x.csv",
        "--imeta",
        "y.csv",
        "--pipeline",
        str(pipeline),
        "--out",
        "r.csv",
        cwd=tmp_path,
        expect=2,
    )
    assert result.stderr.strip().splitlines() == [
        f"error: {pipeline}: step 1: aggregate: unknown parameter 'weights' (valid: dat_thresh)"
    ]
