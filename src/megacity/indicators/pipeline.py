"""Pipelines: an ordered list of named steps, as in a YAML file, run stage by stage.

```yaml
steps:
  - denominate: {}
  - impute: {method: group_mean, group: EurAsia_group}
  - normalise: {method: minmax, lower: 0, upper: 100}
  - aggregate: {method: arithmetic_mean}
```

Every step's method and parameters are checked against the constraints table below before
any data is touched; each stage's table is kept (`Pipeline.run(...).stages`, like
scikit-learn's `named_steps`), with what the step learned and how long it took.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from megacity.indicators import aggregate as agg
from megacity.indicators import impute as imp
from megacity.indicators import normalise as nrm
from megacity.indicators import treat as trt
from megacity.indicators import weights as wts
from megacity.indicators.denominate import denominate
from megacity.indicators.io import output_frame, write_table
from megacity.indicators.model import (
    Boolean,
    Coin,
    Constraint,
    IndicatorError,
    Integer,
    NumberMap,
    Options,
    Real,
    StepResult,
    Text,
    TextList,
    validate_params,
)
from megacity.indicators.screen import UNIT_SCREENS, screen

_P = Real(low=0, high=1)
#: step -> method (None: the step has no method) -> parameter -> constraint.
PARAMETER_CONSTRAINTS: dict[str, dict[str | None, dict[str, Constraint]]] = {
    "denominate": {None: {}},
    "impute": {
        "mean": {},
        "median": {},
        "group_mean": {"group": Text()},
        "group_median": {"group": Text()},
        "latest": {"max_time": Integer(low=1)},
    },
    "screen": {None: {"unit_screen": Options(UNIT_SCREENS), "dat_thresh": _P, "nonzero_thresh": _P}},
    "treat": {
        "winsorise": {
            "skew_max": Real(low=0, low_open=True),
            "kurt_max": Real(),
            "winmax": Integer(low=0),
            "fallback": Options(trt.FALLBACKS),
            "combine": Boolean(),
        }
    },
    "normalise": {
        "minmax": {"lower": Real(), "upper": Real(), "global": Boolean()},
        "zscore": {"mean": Real(), "sd": Real(low=0, low_open=True), "global": Boolean()},
        "rank": {"global": Boolean()},
        "prank": {"global": Boolean()},
        "dist2ref": {"ref": Text(), "cap_max": Boolean(), "global": Boolean()},
        "dist2max": {"global": Boolean()},
        "dist2targ": {"target": Text(), "cap_max": Boolean(), "global": Boolean()},
        "goalposts": {"global": Boolean()},
        "index": {"base": Real(), "base_value": Real(low=0, low_open=True)},
    },
    "weight": {
        "manual": {"weights": NumberMap()},
        "equal": {},
        "entropy": {"by_group": Boolean()},
        "pca": {"by_group": Boolean()},
        "ahp": {"matrix": TextList()},
    },
    "aggregate": {m: {"dat_thresh": _P} for m in agg.METHODS},
}
REQUIRED = {
    ("impute", "group_mean"): ("group",),
    ("impute", "group_median"): ("group",),
    ("normalise", "dist2ref"): ("ref",),
    ("normalise", "index"): ("base",),
    ("weight", "manual"): ("weights",),
    ("weight", "ahp"): ("matrix",),
}
DEFAULT_METHOD = {
    "impute": "mean",
    "treat": "winsorise",
    "normalise": "minmax",
    "weight": "equal",
    "aggregate": "arithmetic_mean",
}


def _call(name: str, coin: Coin, method: str | None, params: dict[str, Any]) -> StepResult:
    functions: dict[str, Callable[..., StepResult]] = {
        "denominate": lambda c: denominate(c),
        "impute": imp.impute,
        "screen": screen,
        "treat": trt.treat,
        "weight": wts.weight,
        "aggregate": agg.aggregate,
    }
    if name == "normalise":
        kwargs = {k: v for k, v in params.items() if k != "global"}
        return nrm.normalise(coin, method=str(method), global_=bool(params.get("global", True)), **kwargs)
    if method is None:
        return functions[name](coin, **params)
    return functions[name](coin, method=method, **params)


@dataclass(frozen=True)
class Step:
    """One configured step: checked on construction, applied by calling it on a coin."""

    kind: str
    method: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in PARAMETER_CONSTRAINTS:
            raise IndicatorError(f"unknown step {self.kind!r} (valid: {', '.join(PARAMETER_CONSTRAINTS)})")
        methods = PARAMETER_CONSTRAINTS[self.kind]
        if None in methods:
            if self.method is not None:
                raise IndicatorError(f"{self.kind}: takes no method (got {self.method!r})")
        elif self.method not in methods:
            valid = ", ".join(str(m) for m in methods)
            raise IndicatorError(f"{self.kind}: unknown method {self.method!r} (valid: {valid})")
        validate_params(
            self.kind, self.params, methods[self.method], REQUIRED.get((self.kind, str(self.method)), ())
        )

    @classmethod
    def from_spec(cls, kind: str, spec: Mapping[str, Any] | None) -> Step:
        params = dict(spec or {})
        if not isinstance(spec, Mapping | None):
            raise IndicatorError(f"{kind}: parameters must be a mapping (got {spec!r})")
        methods = PARAMETER_CONSTRAINTS.get(kind, {})
        method = (
            params.pop("method", DEFAULT_METHOD.get(kind))
            if None not in methods
            else params.pop("method", None)
        )
        return cls(kind=kind, method=method, params=params)

    def __call__(self, coin: Coin) -> StepResult:
        return _call(self.kind, coin, self.method, dict(self.params))

    def describe(self) -> dict[str, Any]:
        return {"step": self.kind, "method": self.method, "params": dict(self.params)}


@dataclass(frozen=True)
class Stage:
    """One stage of a run: its name, table (coin), learned quantities and time."""

    name: str
    coin: Coin
    learned: Mapping[str, Any]
    seconds: float


@dataclass(frozen=True)
class PipelineResult:
    """All stages of a run; `final` is the last coin."""

    stages: list[Stage]

    @property
    def final(self) -> Coin:
        return self.stages[-1].coin

    @property
    def named_steps(self) -> dict[str, Stage]:
        return {s.name: s for s in self.stages}


@dataclass(frozen=True)
class Pipeline:
    """`Pipeline(steps=[(name, step), ...])`, mirroring the YAML file."""

    steps: Sequence[tuple[str, Step]]

    def run(self, coin: Coin) -> PipelineResult:
        stages = [Stage(name="data", coin=coin, learned={}, seconds=0.0)]
        for name, step in self.steps:
            started = time.perf_counter()
            result = step(stages[-1].coin)
            stages.append(
                Stage(
                    name=name,
                    coin=result.coin,
                    learned=dict(result.learned),
                    seconds=time.perf_counter() - started,
                )
            )
        return PipelineResult(stages=stages)

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": name, **step.describe()} for name, step in self.steps]


def pipeline_from_spec(spec: object, where: str = "pipeline") -> Pipeline:
    """Build (and fully check) a pipeline from the parsed YAML document."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("steps"), list):
        raise IndicatorError(f"{where}: expected a mapping with a list 'steps'")
    steps: list[tuple[str, Step]] = []
    counts: dict[str, int] = {}
    for i, item in enumerate(spec["steps"], start=1):
        if not isinstance(item, Mapping) or len(item) != 1:
            raise IndicatorError(f"{where}: step {i} must be a one-key mapping like '- normalise: {{...}}'")
        ((kind, params),) = item.items()
        try:
            step = Step.from_spec(str(kind), params)
        except IndicatorError as exc:
            raise IndicatorError(f"{where}: step {i}: {exc}") from None
        counts[step.kind] = counts.get(step.kind, 0) + 1
        steps.append((step.kind if counts[step.kind] == 1 else f"{step.kind}_{counts[step.kind]}", step))
    return Pipeline(steps=steps)


def read_pipeline(path: Path) -> Pipeline:
    """Read a pipeline YAML file."""
    if not path.is_file():
        raise IndicatorError(f"{path}: no such file")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise IndicatorError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return pipeline_from_spec(spec, str(path))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def write_stages(result: PipelineResult, pipeline: Pipeline, folder: Path) -> None:
    """One CSV per stage (`00_data.csv`, `01_denominate.csv`, ...) and `log.json`."""
    folder.mkdir(parents=True, exist_ok=True)
    log: dict[str, Any] = {"pipeline": pipeline.describe(), "stages": []}
    for i, stage in enumerate(result.stages):
        file = f"{i:02d}_{stage.name}.csv"
        write_table(output_frame(stage.coin), folder / file)
        log["stages"].append(
            {
                "name": stage.name,
                "file": file,
                "seconds": stage.seconds,
                "rows": len(stage.coin.data),
                "learned": _jsonable(stage.learned),
            }
        )
    (folder / "log.json").write_text(json.dumps(log, ensure_ascii=False, indent=2), encoding="utf-8")
