"""Project tasks of a plan (e.g. the 2023 urban-renewal tasks): city targets with progress
reported per district and per project.

Progress is data the districts report (CSV: task, district, project, done); the targets come
from the shipped system (`urban_renewal_2023.yaml`). Nothing is estimated: a task without
reports shows 0 done. With the month of the report, the expected share is month / 12 (an even
pace over the year, our rule [D]) and the status is 提前完成 / 达到预期 / 滞后.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from megacity.indicators.errors import IndicatorError
from megacity.indicators.io import parse_number, read_table

PROGRESS_COLUMNS = ("task", "district", "project", "done")


@dataclass(frozen=True)
class Task:
    """One project task with its city-wide target."""

    code: str
    name: str
    target: float
    unit: str
    status: str


def tasks_of(system: Mapping[str, Any]) -> list[Task]:
    """The tasks of a shipped system (its `tasks` list)."""
    items = system.get("tasks") or []
    if not items:
        raise IndicatorError(f"indicator system {system.get('code')!r} has no project tasks")
    return [
        Task(str(t["code"]), str(t["name"]), float(t["target"]), str(t.get("unit", "")), str(t["status"]))
        for t in items
    ]


def read_progress(path: Path, tasks: Sequence[Task]) -> pd.DataFrame:
    """Reported progress; unknown task codes and bad numbers are errors naming the line."""
    raw = read_table(path)
    missing = [c for c in PROGRESS_COLUMNS if c not in raw.columns]
    if missing:
        raise IndicatorError(
            f"{path}: needs columns {', '.join(PROGRESS_COLUMNS)} (missing {', '.join(missing)})"
        )
    known = {t.code for t in tasks}
    for i, code in enumerate(raw["task"]):
        if code not in known:
            raise IndicatorError(f"{path}:{i + 2}: unknown task {code!r} (valid: {', '.join(sorted(known))})")
    done = [parse_number(v, f"{path}:{i + 2}: column done") for i, v in enumerate(raw["done"])]
    if any(math.isnan(d) or d < 0 for d in done):
        raise IndicatorError(f"{path}: done must be a number >= 0 on every line")
    table = raw[["task", "district", "project"]].assign(done=done)
    if table.duplicated(["task", "district", "project"]).any():
        raise IndicatorError(f"{path}: a (task, district, project) is reported twice")
    return table


def status(share: float, month: int | None) -> str | None:
    """提前完成 when the target is met before December, 达到预期 at or above month / 12, else 滞后.

    >>> status(0.5, 6), status(0.4, 6), status(1.0, 9)
    ('达到预期', '滞后', '提前完成')
    """
    if month is None:
        return None
    if not 1 <= month <= 12:
        raise IndicatorError(f"month must be 1..12, got {month}")
    if share >= 1:
        return "提前完成" if month < 12 else "达到预期"
    return "达到预期" if share >= month / 12 else "滞后"


def task_progress(tasks: Sequence[Task], progress: pd.DataFrame, month: int | None = None) -> pd.DataFrame:
    """Per task: target, done, share of the target, status (with the month of the report)."""
    done = progress.groupby("task")["done"].sum()
    rows = []
    for t in tasks:
        total = float(done.get(t.code, 0.0))
        share = total / t.target if t.target else math.nan
        rows.append(
            {
                "task": t.code,
                "name": t.name,
                "unit": t.unit,
                "target": t.target,
                "done": total,
                "share": share,
                "status": status(share, month),
            }
        )
    return pd.DataFrame(rows)


def breakdown(progress: pd.DataFrame, task: str, by: str) -> pd.DataFrame:
    """One task's progress per district or per project, largest first."""
    if by not in ("district", "project"):
        raise IndicatorError(f"breakdown by {by!r}: use district or project")
    part = progress[progress["task"] == task]
    if part.empty:
        raise IndicatorError(f"no progress reported for task {task!r}")
    table = part.groupby(by, as_index=False)["done"].sum()
    return table.sort_values(["done", by], ascending=[False, True], ignore_index=True)
