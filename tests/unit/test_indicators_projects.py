"""Urban-renewal project tasks with district/project progress; provenance marks on every item."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from megacity.indicators.cli import app
from megacity.indicators.errors import IndicatorError
from megacity.indicators.plans import SYSTEMS_DIR, load_system
from megacity.indicators.projects import breakdown, read_progress, task_progress, tasks_of

TASKS = tasks_of(load_system("urban_renewal").data)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "progress.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_tasks_are_the_seed_article_targets() -> None:
    """Seed article §1.4: 退租 2,000 户, 修缮 1,200 户, 老旧小区 300 / 100, 电梯 1,000 / 600, 20 万 m²."""
    targets = {t.code: t.target for t in TASKS}
    assert targets == {
        "bungalow_lease_back": 2000,
        "bungalow_repair": 1200,
        "old_estates_started": 300,
        "old_estates_completed": 100,
        "lifts_started": 1000,
        "lifts_completed": 600,
        "dilapidated_rebuild": 20,
    }


def test_progress_per_task_district_and_project(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "task,district,project,done\nlifts_started,110101,P1,300\nlifts_started,110102,P2,250\n"
        "lifts_started,110101,P3,50\nbungalow_repair,110101,P4,1300\n",
    )
    progress = read_progress(path, TASKS)
    table = task_progress(TASKS, progress, month=6).set_index("task")
    assert table.loc["lifts_started", "done"] == 600 and table.loc["lifts_started", "share"] == 0.6
    assert table.loc["lifts_started", "status"] == "达到预期"  # 0.6 >= 6 / 12
    assert table.loc["bungalow_repair", "status"] == "提前完成"
    assert table.loc["lifts_completed", "status"] == "滞后" and table.loc["lifts_completed", "done"] == 0
    assert task_progress(TASKS, progress)["status"].isna().all()  # no month, no judgement
    assert breakdown(progress, "lifts_started", "district").values.tolist() == [
        ["110101", 350.0],
        ["110102", 250.0],
    ]
    assert breakdown(progress, "lifts_started", "project")["project"].tolist() == ["P1", "P2", "P3"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("task,district,done\nlifts_started,a,1\n", "missing project"),
        ("task,district,project,done\nlift,a,p,1\n", "progress.csv:2: unknown task 'lift'"),
        ("task,district,project,done\nlifts_started,a,p,-1\n", "done must be a number >= 0"),
        (
            "task,district,project,done\nlifts_started,a,p,x\n",
            "progress.csv:2: column done: 'x' is not a number",
        ),
        ("task,district,project,done\nlifts_started,a,p,1\nlifts_started,a,p,2\n", "reported twice"),
    ],
)
def test_progress_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(IndicatorError, match=message):
        read_progress(write(tmp_path, text), TASKS)


def test_cli_plans_progress(tmp_path: Path) -> None:
    path = write(tmp_path, "task,district,project,done\nlifts_completed,110105,P1,600\n")
    out = tmp_path / "out.csv"
    done = CliRunner().invoke(
        app, ["plans", "progress", "--progress", str(path), "--month", "12", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    with out.open(encoding="utf-8") as f:
        rows = {r["task"]: r for r in csv.DictReader(f)}
    assert rows["lifts_completed"]["status"] == "达到预期" and rows["lifts_started"]["status"] == "滞后"
    bad = CliRunner().invoke(app, ["plans", "progress", "--progress", str(path), "--system", "safe_beijing"])
    assert bad.exit_code == 2 and "has no project tasks" in bad.output


def _statuses(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [str(node["status"])] if "status" in node else []
        return own + [s for v in node.values() for s in _statuses(v)]
    if isinstance(node, list):
        return [s for v in node for s in _statuses(v)]
    return []


@pytest.mark.parametrize("name", sorted(p.name for p in SYSTEMS_DIR.glob("*.yaml")))
def test_every_item_is_marked_sourced_or_placeholder(name: str) -> None:
    statuses = _statuses(yaml.safe_load((SYSTEMS_DIR / name).read_text(encoding="utf-8")))
    assert statuses
    assert all(s.startswith(("sourced", "placeholder")) for s in statuses), name


def test_covariates_are_marked_placeholder_with_their_source() -> None:
    with (SYSTEMS_DIR / "district_covariates.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 16 and {r["status"] for r in rows} == {"placeholder"}
    assert all("unverified" in r["source"] for r in rows)


def test_observation_notes_from_csv(tmp_path: Path) -> None:
    notes = tmp_path / "notes.csv"
    notes.write_text(
        "point,indicator,date,note\n回龙观街道,grid,2023-06-01,网格调整\n前门街道,grid,2023-05,老街区\n",
        encoding="utf-8",
    )
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "indicator,baseline_year,baseline,target_year,target\ngrid,2020,90,2025,100\n", encoding="utf-8"
    )
    done = CliRunner().invoke(app, ["plans", "notes", "--notes", str(notes), "--plan", str(plan)])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "grid",
        "  2023-05\t前门街道\t老街区",
        "  2023-06-01\t回龙观街道\t网格调整",
    ]
    plan.write_text(
        "indicator,baseline_year,baseline,target_year,target\nother,2020,90,2025,100\n", encoding="utf-8"
    )
    bad = CliRunner().invoke(app, ["plans", "notes", "--notes", str(notes), "--plan", str(plan)])
    assert bad.exit_code == 2 and "notes.csv:2: unknown indicator 'grid'" in bad.output
