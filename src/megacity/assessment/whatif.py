"""What-if: the same month under other weights, with each unit's rank change.

The engine ranks every unit twice in one pass — under the what-if weights and under the
profile's — so `rank_change = rank_default − rank`: positive means the unit moves up (a smaller
rank number) under the what-if weights, negative that it moves down; empty when either rank is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from megacity.assessment.engine import Result
from megacity.assessment.rules import Weights

COLUMNS: tuple[str, ...] = (
    "unit_code",
    "unit_name",
    "unit_type",
    "month",
    "composite_default",
    "composite",
    "rank_default",
    "rank",
    "rank_change",
    "governance_focus_default",
    "governance_focus",
)


@dataclass(frozen=True)
class WhatIf:
    weights: Weights
    default_weights: Weights
    rows: list[dict[str, Any]]
    moved_up: int
    moved_down: int
    focus_entered: list[str]  # streets on the focus list only under the what-if weights
    focus_left: list[str]  # streets on the focus list only under the profile's weights


def what_if(result: Result) -> WhatIf:
    """Summarise a result computed with `Options.what_if`."""
    if not result.options.what_if:
        raise ValueError("the result was not computed as a what-if")
    rows = [{c: r.get(c) for c in COLUMNS} for r in result.rows]
    changes = [r["rank_change"] for r in rows if r["rank_change"] is not None]
    entered = sorted(
        str(r["unit_code"]) for r in rows if r["governance_focus"] and not r["governance_focus_default"]
    )
    left = sorted(
        str(r["unit_code"]) for r in rows if r["governance_focus_default"] and not r["governance_focus"]
    )
    return WhatIf(
        weights=result.options.weights,
        default_weights=result.options.default_weights,
        rows=rows,
        moved_up=sum(1 for c in changes if c > 0),
        moved_down=sum(1 for c in changes if c < 0),
        focus_entered=entered,
        focus_left=left,
    )
