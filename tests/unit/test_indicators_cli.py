"""`megacity indicators` commands through Typer's runner (the sub-app itself)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from megacity.indicators.cli import app

DATA = Path(__file__).resolve().parents[1] / "data" / "coinr_asem"
PIPELINE = """steps:
  - denominate: {}
  - impute: {method: group_mean, group: EurAsia_group}
  - normalise: {method: minmax, lower: 0, upper: 100}
  - aggregate: {method: arithmetic_mean}
"""
runner = CliRunner()


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / name


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_run_writes_result_and_stages(tmp_path: Path) -> None:
    out, stages = tmp_path / "r.csv", tmp_path / "stages"
    code, output = run(
        "run",
        "--idata",
        str(DATA / "ASEM_iData.csv"),
        "--imeta",
        str(DATA / "ASEM_iMeta.csv"),
        "--pipeline",
        str(write(tmp_path, PIPELINE)),
        "--out",
        str(out),
        "--stages-dir",
        str(stages),
    )
    assert code == 0, output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 51 and list(rows[0])[0] == "uCode" and "Time" not in rows[0]
    assert list(rows[0])[-1] == "Index"
    files = sorted(p.name for p in stages.iterdir())
    assert files == [
        "00_data.csv",
        "01_denominate.csv",
        "02_impute.csv",
        "03_normalise.csv",
        "04_aggregate.csv",
        "log.json",
    ]
    log = json.loads((stages / "log.json").read_text(encoding="utf-8"))
    assert log["stages"][4]["learned"]["weights_"]["Index"] == {"Conn": 0.5, "Sust": 0.5}
    assert all("seconds" in s for s in log["stages"])


@pytest.mark.parametrize(
    ("pipeline", "message"),
    [
        (
            "steps:\n  - normalise: {method: minmax, lowr: 0}\n",
            "unknown parameter 'lowr' (valid: lower, upper, global)",
        ),
        ("steps:\n  - normalize: {}\n", "unknown step 'normalize' (valid: denominate, impute"),
        ("steps:\n  - impute: {method: mode}\n", "unknown method 'mode' (valid: mean, median"),
        ("steps:\n  - impute: {method: group_mean}\n", "parameter 'group' is required"),
        ("steps:\n  - treat: {winmax: -1}\n", "winmax must be a whole number >= 0"),
    ],
)
def test_bad_pipelines_fail_before_any_work(tmp_path: Path, pipeline: str, message: str) -> None:
    out = tmp_path / "r.csv"
    code, output = run(
        "run",
        "--idata",
        str(tmp_path / "missing.csv"),
        "--imeta",
        str(tmp_path / "missing.csv"),
        "--pipeline",
        str(write(tmp_path, pipeline)),
        "--out",
        str(out),
    )
    assert code == 2 and output.startswith("error: ") and message in output
    assert len(output.strip().splitlines()) == 1 and not out.exists()


def test_bad_data_is_one_line_error(tmp_path: Path) -> None:
    bad = write(tmp_path, "uCode,LPI\nAUT,x\n", "d.csv")
    code, output = run(
        "run",
        "--idata",
        str(bad),
        "--imeta",
        str(DATA / "ASEM_iMeta.csv"),
        "--pipeline",
        str(write(tmp_path, PIPELINE)),
        "--out",
        str(tmp_path / "r.csv"),
    )
    assert code == 2 and output.startswith("error: ") and "has no column in iData" in output


def test_weights_ahp_prints_cr(tmp_path: Path) -> None:
    m = write(tmp_path, ",Conn,Sust\nConn,1,2\nSust,1/2,1\n", "ahp.csv")
    code, output = run("weights", "--method", "ahp", "--matrix", str(m))
    assert code == 0 and "CR=0.0000" in output and "Conn\t0.666667" in output
    bad = write(tmp_path, ",a,b,c\na,1,9,1/9\nb,1/9,1,9\nc,9,1/9,1\n", "bad.csv")
    code, output = run("weights", "--method", "ahp", "--matrix", str(bad))
    assert code == 2 and "not consistent enough" in output


def test_weights_entropy_on_normalised_stage(tmp_path: Path) -> None:
    p = write(tmp_path, "steps:\n  - denominate: {}\n  - impute: {method: mean}\n  - normalise: {}\n")
    code, output = run(
        "weights",
        "--method",
        "entropy",
        "--idata",
        str(DATA / "ASEM_iData.csv"),
        "--imeta",
        str(DATA / "ASEM_iMeta.csv"),
        "--pipeline",
        str(p),
        "--out",
        str(tmp_path / "w.csv"),
    )
    assert code == 0, output
    weights = {
        r["iCode"]: float(r["Weight"]) for r in csv.DictReader((tmp_path / "w.csv").open(encoding="utf-8"))
    }
    assert len(weights) == 49 and sum(weights.values()) == pytest.approx(8.0)  # 1 per pillar


def test_sensitivity_rank_intervals_and_sobol(tmp_path: Path) -> None:
    out, sobol = tmp_path / "s.csv", tmp_path / "sobol.csv"
    code, output = run(
        "sensitivity",
        "--idata",
        str(DATA / "ASEM_iData.csv"),
        "--imeta",
        str(DATA / "ASEM_iMeta.csv"),
        "--pipeline",
        str(write(tmp_path, PIPELINE)),
        "--out",
        str(out),
        "--runs",
        "12",
        "--vary",
        "aggregate=arithmetic_mean,geometric_mean",
        "--sobol",
        str(sobol),
    )
    assert code == 2 and "geometric_mean needs values > 0" in output  # minmax 0-100 has zeros
    p = write(tmp_path, PIPELINE.replace("lower: 0", "lower: 1"), "p1.yaml")
    code, output = run(
        "sensitivity",
        "--idata",
        str(DATA / "ASEM_iData.csv"),
        "--imeta",
        str(DATA / "ASEM_iMeta.csv"),
        "--pipeline",
        str(p),
        "--out",
        str(out),
        "--runs",
        "12",
        "--vary",
        "aggregate=arithmetic_mean,geometric_mean",
        "--sobol",
        str(sobol),
    )
    assert code == 0, output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 51 and rows[0]["uCode"] == "CHE" and rows[0]["nominal_rank"] == "1"
    assert all(float(r["q05_rank"]) <= float(r["q95_rank"]) for r in rows)
    factors = [r["factor"] for r in csv.DictReader(sobol.open(encoding="utf-8"))]
    assert factors == ["aggregate", "weights"]
    code, output = run(
        "sensitivity",
        "--idata",
        str(DATA / "ASEM_iData.csv"),
        "--imeta",
        str(DATA / "ASEM_iMeta.csv"),
        "--pipeline",
        str(p),
        "--out",
        str(out),
        "--vary",
        "aggregate=median",
    )
    assert code == 2 and "unknown method 'median'" in output


def test_plans_commands(tmp_path: Path) -> None:
    code, output = run("plans", "show", "urban_renewal")
    assert code == 0 and "老楼加装电梯新开工\t1000" in output
    plan = write(
        tmp_path,
        "indicator,baseline_year,baseline,target_year,target,type\nx,2020,50,2025,70,约束性\n",
        "plan.csv",
    )
    actual = write(tmp_path, "indicator,year,value\nx,2023,58\n", "actual.csv")
    code, output = run("plans", "status", "--plan", str(plan), "--actual", str(actual), "--year", "2023")
    assert code == 0 and output.strip().endswith("滞后")
    districts = write(tmp_path, "district,weight,target\n东城,1,95\n西城,1,90\n", "d.csv")
    code, output = run("plans", "decompose", "--city-target", "90", "--districts", str(districts))
    assert code == 0 and "层层加码: yes" in output and "above fair share: 东城" in output
