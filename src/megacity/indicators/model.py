"""The data model of the indicator engine: a framework (iMeta), a coin (the data moving
through a pipeline), step results and the parameter constraints every step is checked against.

The names follow COINr (Becker et al., bluefoxr/COINr): `iCode`, `uCode`, `Level`, `Parent`,
`Direction`, `Weight`, `Type` (Indicator, Aggregate, Group, Denominator, Other).

>>> Real(low=0).check("lower", -1)
'lower must be >= 0 (got -1)'
>>> Options(("mean", "median")).check("method", "mode")
"method must be one of: mean, median (got 'mode')"
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import pandas as pd

from megacity.indicators._rmath import FloatArray, r_sort_key
from megacity.indicators.errors import IndicatorError as IndicatorError

KEY = "uCode"
TIME = "Time"
NAME = "uName"
TYPES = ("Indicator", "Aggregate", "Group", "Denominator", "Other")


# --------------------------------------------------------------------------- constraints


class Constraint(Protocol):
    """A parameter constraint: `check` returns a message, or None when the value is fine."""

    def check(self, name: str, value: object) -> str | None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Real:
    """A real number within optional bounds."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False

    def check(self, name: str, value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            return f"{name} must be a number (got {value!r})"
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return f"{name} must be {'>' if self.low_open else '>='} {self.low:g} (got {value!r})"
        if self.high is not None and value > self.high:
            return f"{name} must be <= {self.high:g} (got {value!r})"
        return None

    def describe(self) -> str:
        return "number"


@dataclass(frozen=True)
class Integer:
    """A whole number >= low."""

    low: int = 0

    def check(self, name: str, value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < self.low:
            return f"{name} must be a whole number >= {self.low} (got {value!r})"
        return None

    def describe(self) -> str:
        return "integer"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of strings."""

    values: tuple[str, ...]

    def check(self, name: str, value: object) -> str | None:
        if value not in self.values:
            return f"{name} must be one of: {', '.join(self.values)} (got {value!r})"
        return None

    def describe(self) -> str:
        return "|".join(self.values)


@dataclass(frozen=True)
class Text:
    """A non-empty string (a column name, a path, a code)."""

    def check(self, name: str, value: object) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return f"{name} must be a non-empty text (got {value!r})"
        return None

    def describe(self) -> str:
        return "text"


@dataclass(frozen=True)
class Boolean:
    """true or false."""

    def check(self, name: str, value: object) -> str | None:
        return None if isinstance(value, bool) else f"{name} must be true or false (got {value!r})"

    def describe(self) -> str:
        return "boolean"


@dataclass(frozen=True)
class NumberMap:
    """A mapping of codes to numbers (manual weights)."""

    def check(self, name: str, value: object) -> str | None:
        if not isinstance(value, Mapping) or not value:
            return f"{name} must be a mapping of codes to numbers"
        for key, number in value.items():
            if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
                return f"{name}.{key} must be a number (got {number!r})"
        return None

    def describe(self) -> str:
        return "mapping"


@dataclass(frozen=True)
class TextList:
    """A text, or a list of texts."""

    def check(self, name: str, value: object) -> str | None:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
            return f"{name} must be a text or a list of texts (got {value!r})"
        return None

    def describe(self) -> str:
        return "text list"


def validate_params(
    where: str, params: Mapping[str, Any], constraints: Mapping[str, Constraint], required: Sequence[str] = ()
) -> None:
    """Check `params` against a constraints table; raise one IndicatorError naming the first problem.

    >>> validate_params("normalise", {"lowr": 0}, {"lower": Real()})
    Traceback (most recent call last):
    ...
    megacity.indicators.errors.IndicatorError: normalise: unknown parameter 'lowr' (valid: lower)
    """
    valid = ", ".join(constraints) or "none"
    for key in params:
        if key not in constraints:
            raise IndicatorError(f"{where}: unknown parameter {key!r} (valid: {valid})")
    for key in required:
        if key not in params:
            raise IndicatorError(f"{where}: parameter {key!r} is required")
    for key, value in params.items():
        message = constraints[key].check(key, value)
        if message:
            raise IndicatorError(f"{where}: {message}")


# --------------------------------------------------------------------------- framework


@dataclass(frozen=True)
class Framework:
    """The index structure and indicator metadata (COINr's iMeta), read-only."""

    meta: pd.DataFrame = field(repr=False)

    def _column(self, code_type: str) -> tuple[str, ...]:
        return tuple(str(c) for c in self.meta.loc[self.meta["Type"] == code_type, "iCode"])

    @cached_property
    def indicators(self) -> tuple[str, ...]:
        """Indicator codes in iMeta order (the column order of every data set)."""
        return self._column("Indicator")

    @cached_property
    def groups(self) -> tuple[str, ...]:
        return self._column("Group")

    @cached_property
    def denominator_columns(self) -> tuple[str, ...]:
        return self._column("Denominator")

    @cached_property
    def others(self) -> tuple[str, ...]:
        return self._column("Other")

    @cached_property
    def _rows(self) -> dict[str, dict[str, Any]]:
        return {str(r["iCode"]): dict(r) for r in self.meta.to_dict("records")}

    def value(self, code: str, column: str) -> Any:
        """The iMeta cell of `code` in `column` (NaN or None when empty)."""
        return self._rows[code].get(column)

    @cached_property
    def directions(self) -> dict[str, float]:
        return {c: float(self._rows[c]["Direction"]) for c in self.indicators}

    @cached_property
    def weights(self) -> dict[str, float]:
        """iMeta weights of indicators and aggregates."""
        codes = self._column("Indicator") + self._column("Aggregate")
        return {c: float(self._rows[c]["Weight"]) for c in codes}

    @cached_property
    def max_level(self) -> int:
        levels = pd.to_numeric(self.meta["Level"], errors="coerce").dropna()
        return int(levels.max()) if len(levels) else 1

    @cached_property
    def _sorted(self) -> pd.DataFrame:
        """iMeta ordered as COINr's new_coin does: by Level, then Parent (stable)."""
        m = self.meta[self.meta["Level"].notna()].copy()
        m["_pkey"] = [r_sort_key(str(p)) if isinstance(p, str) else ("\uffff", "") for p in m["Parent"]]
        return m.sort_values(["Level", "_pkey"], kind="stable")

    def children(self, code: str) -> list[str]:
        """Children of an aggregate, in COINr's order (iMeta order within the parent)."""
        m = self._sorted
        return [str(c) for c in m.loc[m["Parent"] == code, "iCode"]]

    def aggregates_at(self, level: int) -> list[str]:
        """Aggregates created at `level` (>= 2), sorted as R's `tapply` sorts the parents."""
        m = self._sorted
        parents = {str(p) for p in m.loc[m["Level"] == level - 1, "Parent"] if isinstance(p, str)}
        return sorted(parents, key=r_sort_key)

    @cached_property
    def aggregates(self) -> tuple[str, ...]:
        return tuple(code for lev in range(2, self.max_level + 1) for code in self.aggregates_at(lev))

    def level_of(self, code: str) -> int:
        return int(self._rows[code]["Level"])

    def parent_of(self, code: str) -> str | None:
        parent = self._rows[code].get("Parent")
        return parent if isinstance(parent, str) and parent else None

    def ancestor_at(self, code: str, level: int) -> str | None:
        """The ancestor of `code` at `level` (the code itself at its own level)."""
        current: str | None = code
        while current is not None and self.level_of(current) < level:
            current = self.parent_of(current)
        return current if current is not None and self.level_of(current) == level else None

    @cached_property
    def denominator_of(self) -> dict[str, str]:
        if "Denominator" not in self.meta.columns:
            return {}
        out = {}
        for code in self.indicators:
            den = self._rows[code].get("Denominator")
            if isinstance(den, str) and den.strip():
                out[code] = den.strip()
        return out


# --------------------------------------------------------------------------- coin


@dataclass(frozen=True)
class Coin:
    """The data moving through a pipeline (COINr's coin or, for panel data, purse).

    `data` holds the key columns (uCode and, for panel data, Time) and one float column per
    indicator or aggregate; `units` holds the same keys, in the same row order, with uName,
    group, denominator and other unit columns. Both are never mutated: steps return new coins.
    """

    data: pd.DataFrame = field(repr=False)
    units: pd.DataFrame = field(repr=False)
    framework: Framework = field(repr=False)
    weights: Mapping[str, float] = field(repr=False)
    panel: bool = False
    directed: bool = False  # True once a normalisation has applied the directions

    @property
    def keys(self) -> list[str]:
        return [KEY, TIME] if self.panel else [KEY]

    @property
    def codes(self) -> list[str]:
        """The value columns (indicators, then aggregates once aggregated)."""
        return [str(c) for c in self.data.columns if c not in (KEY, TIME)]

    def matrix(self, codes: Sequence[str] | None = None) -> FloatArray:
        """A float64 copy of the values of `codes` (default: every value column)."""
        cols = list(codes) if codes is not None else self.codes
        return np.array(self.data[cols].to_numpy(dtype=np.float64), dtype=np.float64, copy=True)

    def periods(self) -> list[np.ndarray]:
        """Row positions of each period (one slice for cross-sectional data), in time order."""
        if not self.panel:
            return [np.arange(len(self.data))]
        times = self.data[TIME].to_numpy()
        return [np.flatnonzero(times == t) for t in sorted(set(times.tolist()))]

    def with_values(self, values: FloatArray, codes: Sequence[str] | None = None) -> Coin:
        """A new coin whose columns `codes` (default: all) hold `values`."""
        cols = list(codes) if codes is not None else self.codes
        data = self.data.copy()
        for j, code in enumerate(cols):
            data[code] = values[:, j]
        return dataclasses.replace(self, data=data)

    def with_columns(self, extra: Mapping[str, FloatArray]) -> Coin:
        """A new coin with columns appended (aggregates)."""
        new = pd.DataFrame(dict(extra), index=self.data.index)
        return dataclasses.replace(self, data=pd.concat([self.data, new], axis=1))

    def take(self, rows: np.ndarray) -> Coin:
        """A new coin with only the given row positions (screening)."""
        return dataclasses.replace(
            self,
            data=self.data.iloc[rows].reset_index(drop=True),
            units=self.units.iloc[rows].reset_index(drop=True),
        )

    def unit_column(self, column: str) -> pd.Series:
        if column not in self.units.columns:
            raise IndicatorError(f"no unit column {column!r} in iData (available: {self.unit_choices()})")
        return self.units[column]

    def unit_choices(self) -> str:
        return ", ".join(str(c) for c in self.units.columns if c not in (KEY, TIME)) or "none"


@dataclass(frozen=True)
class StepResult:
    """What a step returns: the new coin, and what it learned (names end in `_`).

    >>> r = StepResult(coin=None, learned={"min_": {"a": 1.0}})  # type: ignore[arg-type]
    >>> r.min_
    {'a': 1.0}
    """

    coin: Coin
    learned: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name.endswith("_") and not name.startswith("__"):
            learned = object.__getattribute__(self, "learned")
            if name in learned:
                return learned[name]
        raise AttributeError(name)
