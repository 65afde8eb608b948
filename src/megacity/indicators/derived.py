"""Derived indicators (DHIS2-style): value = factor × numerator / denominator, where numerator
and denominator are arithmetic expressions over ticket counts and org-unit attributes.

Definitions are data (profiles/<city>/indicators/derived.yaml), so a city adds an indicator
without code. Expressions are parsed once with Python's `ast` and only `+ - * /`, numbers,
parentheses and known names are accepted — the file is data, never code. Values are ratios of
sums: a zone's rate is computed from the zone's counts, never as a mean of district rates.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from megacity.indicators.errors import IndicatorError

#: Ticket counts per org unit and period (see ticket_counts.py for their definitions).
COUNTS: tuple[str, ...] = (
    "tickets",
    "excluded",
    "response_counted",
    "response_on_time",
    "rated",
    "resolved",
    "satisfaction_rated",
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
    "repeats",
    "demo",
)
#: Org-unit attributes an expression may use.
ATTRIBUTES: tuple[str, ...] = ("population", "area_km2")
DEFINITIONS_FILE = "indicators/derived.yaml"
_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2})|Q([1-4]))?$")
_REQUIRED = ("code", "name", "numerator", "denominator", "status")
_OPTIONAL = ("name_en", "factor", "unit", "direction", "plan_indicator")


@dataclass(frozen=True)
class Expression:
    """A parsed arithmetic expression over named values."""

    text: str
    tree: ast.expr
    names: frozenset[str]

    def evaluate(self, values: Mapping[str, float | None]) -> float:
        """The value, NaN when a name has no value or a division by zero occurs."""
        return _eval(self.tree, values)


def parse_expression(text: str, where: str = "expression") -> Expression:
    """Parse `text`, allowing numbers, known names, + - * / and parentheses.

    >>> parse_expression("satisfied + 2 * repeats").evaluate({"satisfied": 3, "repeats": 1})
    5.0
    """
    try:
        tree = ast.parse(str(text).strip(), mode="eval").body
    except SyntaxError:
        raise IndicatorError(f"{where}: cannot parse {text!r}") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id not in COUNTS + ATTRIBUTES:
                valid = ", ".join(COUNTS + ATTRIBUTES)
                raise IndicatorError(f"{where}: unknown name {node.id!r} (valid: {valid})")
            names.add(node.id)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise IndicatorError(f"{where}: only numbers are allowed as constants, got {node.value!r}")
        elif not isinstance(
            node,
            ast.BinOp | ast.UnaryOp | ast.Add | ast.Sub | ast.Mult | ast.Div | ast.USub | ast.UAdd | ast.Load,
        ):
            raise IndicatorError(f"{where}: {text!r} may only use + - * / on numbers and names")
    return Expression(str(text), tree, frozenset(names))


def _eval(node: ast.expr, values: Mapping[str, float | None]) -> float:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)  # checked by parse_expression
        return float(node.value)
    if isinstance(node, ast.Name):
        value = values.get(node.id)
        return math.nan if value is None else float(value)
    if isinstance(node, ast.UnaryOp):
        inner = _eval(node.operand, values)
        return -inner if isinstance(node.op, ast.USub) else inner
    assert isinstance(node, ast.BinOp)
    a, b = _eval(node.left, values), _eval(node.right, values)
    if isinstance(node.op, ast.Add):
        return a + b
    if isinstance(node.op, ast.Sub):
        return a - b
    if isinstance(node.op, ast.Mult):
        return a * b
    return math.nan if b == 0 or math.isnan(b) else a / b


@dataclass(frozen=True)
class Definition:
    """One derived indicator, with the provenance of its formula."""

    code: str
    name: str
    numerator: Expression
    denominator: Expression
    status: str
    factor: float = 1.0
    unit: str = ""
    direction: int = 1
    name_en: str = ""
    plan_indicator: str | None = None

    def value(self, values: Mapping[str, float | None]) -> tuple[float, float, float]:
        """(numerator, denominator, factor × numerator / denominator); no value when the
        denominator is 0, as in DHIS2."""
        num, den = self.numerator.evaluate(values), self.denominator.evaluate(values)
        value = math.nan if den == 0 or math.isnan(den) or math.isnan(num) else self.factor * num / den
        return num, den, value


def load_definitions(path: Path) -> list[Definition]:
    """Read and check a derived-indicator file; errors name the file and the indicator."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise IndicatorError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    items = data.get("indicators") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise IndicatorError(f"{path}: expected a non-empty list under 'indicators'")
    definitions: list[Definition] = []
    for n, item in enumerate(items, 1):
        definitions.append(_definition(item, f"{path}: indicator {n}"))
    codes = [d.code for d in definitions]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise IndicatorError(f"{path}: duplicate indicator code(s) {', '.join(duplicates)}")
    return definitions


def _definition(item: object, where: str) -> Definition:
    if not isinstance(item, dict):
        raise IndicatorError(f"{where}: expected a mapping")
    missing = [k for k in _REQUIRED if not str(item.get(k, "") or "").strip()]
    unknown = sorted(set(item) - set(_REQUIRED) - set(_OPTIONAL))
    if missing or unknown:
        problem = f"missing {', '.join(missing)}" if missing else f"unknown key(s) {', '.join(unknown)}"
        raise IndicatorError(f"{where}: {problem}")
    where = f"{where} ({item['code']})"
    direction = item.get("direction", 1)
    if direction not in (1, -1):
        raise IndicatorError(f"{where}: direction must be 1 or -1, got {direction!r}")
    try:
        factor = float(item.get("factor", 1))
    except (TypeError, ValueError):
        raise IndicatorError(f"{where}: factor must be a number") from None
    return Definition(
        code=str(item["code"]),
        name=str(item["name"]),
        numerator=parse_expression(item["numerator"], f"{where} numerator"),
        denominator=parse_expression(item["denominator"], f"{where} denominator"),
        status=" ".join(str(item["status"]).split()),
        factor=factor,
        unit=str(item.get("unit", "")),
        direction=int(direction),
        name_en=str(item.get("name_en", "")),
        plan_indicator=item.get("plan_indicator"),
    )


def select(definitions: Sequence[Definition], codes: Sequence[str] | None) -> list[Definition]:
    """The definitions named in `codes` (all when None), in the file's order."""
    if not codes:
        return list(definitions)
    known = {d.code for d in definitions}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise IndicatorError(
            f"unknown derived indicator(s) {', '.join(unknown)} (valid: {', '.join(sorted(known))})"
        )
    return [d for d in definitions if d.code in codes]


@dataclass(frozen=True)
class Period:
    """A DHIS2-style period: a year (2026), a quarter (2026Q3) or a month (2026-10)."""

    label: str
    months: tuple[int, ...]  # month indexes: year × 12 + month − 1

    def window(self, timezone: str) -> tuple[datetime, datetime]:
        """The period as a half-open interval of UTC instants (local months of `timezone`)."""
        zone = ZoneInfo(timezone)

        def start(index: int) -> datetime:
            return datetime(index // 12, index % 12 + 1, 1, tzinfo=zone)

        return start(self.months[0]), start(self.months[-1] + 1)


def parse_period(text: str) -> Period:
    """`2026`, `2026Q3` or `2026-10`.

    >>> parse_period("2026Q3").months == (2026 * 12 + 6, 2026 * 12 + 7, 2026 * 12 + 8)
    True
    """
    match = _PERIOD.match(text.strip())
    if not match or (match.group(2) and not 1 <= int(match.group(2)) <= 12):
        raise IndicatorError(f"a period is YYYY, YYYYQn or YYYY-MM, got {text!r}")
    year = int(match.group(1))
    if not 1970 <= year <= 2999:
        raise IndicatorError(f"a period's year must be between 1970 and 2999, got {year}")
    if match.group(2):
        first, count = int(match.group(2)) - 1, 1
    elif match.group(3):
        first, count = (int(match.group(3)) - 1) * 3, 3
    else:
        first, count = 0, 12
    return Period(text.strip(), tuple(year * 12 + first + i for i in range(count)))


def month_periods(first: str, last: str) -> list[Period]:
    """Consecutive months from `first` to `last` (both YYYY-MM, at most 120)."""
    a, b = parse_period(first), parse_period(last)
    if len(a.months) != 1 or len(b.months) != 1:
        raise IndicatorError("a range of months is written YYYY-MM:YYYY-MM")
    if not 0 <= b.months[0] - a.months[0] < 120:
        raise IndicatorError(f"months {first}:{last}: the range must run forwards, at most 120 months")
    return [parse_period(f"{m // 12:04d}-{m % 12 + 1:02d}") for m in range(a.months[0], b.months[0] + 1)]
