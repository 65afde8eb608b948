"""Reading profile files so that every value still knows the line it came from.

A profile is edited by hand by people who are not programmers; an error that says only
"invalid value" sends them hunting. So YAML mappings and sequences keep the line of each key
and item, CSV rows keep the line where the record starts, and every problem is reported as
``file:line: message`` into a `Problems` collector instead of raising on the first one: one
run of ``check_profile`` lists everything that is wrong.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, SequenceNode


@dataclass
class Problems:
    """Collects ``file:line: message`` strings in the order they were found."""

    items: list[str] = field(default_factory=list)

    def add(self, file: str, line: int, message: str) -> None:
        self.items.append(f"{file}:{line}: {message}")


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        """The line of `key`, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence that remembers its own line and the line of each item (1-based)."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self.line = 0
        self.item_lines: list[int] = []


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry line numbers; duplicate keys are noted."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, Any]] = []


def _construct_mapping(loader: _LineLoader, node: MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in out.key_lines:
            loader.duplicates.append((line, key))
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _construct_sequence(loader: _LineLoader, node: SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def read_yaml(path: Path, name: str, problems: Problems) -> LineDict | None:
    """Parse a YAML file whose top level must be a mapping; `None` (and a problem) otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(name, 1, f"cannot read file: {exc}")
        return None
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.add(name, mark.line + 1 if mark else 1, f"invalid YAML: {exc.problem or exc}")
        return None
    except yaml.YAMLError as exc:
        problems.add(name, 1, f"invalid YAML: {exc}")
        return None
    finally:
        loader.dispose()
    for line, key in loader.duplicates:
        problems.add(name, line, f"duplicate key '{key}'")
    if not isinstance(data, LineDict):
        problems.add(name, 1, "the file must contain a mapping of keys to values")
        return None
    return data


@dataclass(frozen=True)
class Row:
    """One CSV record: the line where it starts and its cells by column name (stripped)."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


def read_csv(
    path: Path, name: str, required: Iterable[str], optional: Iterable[str], problems: Problems
) -> list[Row] | None:
    """Read a CSV file with a header; unknown or missing columns are problems at line 1."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            records: list[tuple[int, list[str]]] = []
            start = reader.line_num + 1
            for record in reader:
                records.append((start, record))
                start = reader.line_num + 1
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.add(name, 1, f"cannot read file: {exc}")
        return None
    required, optional = list(required), list(optional)
    if not _header_ok(header, required, optional, name, problems):
        return None
    rows: list[Row] = []
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue  # blank line
        if len(record) != len(header):
            problems.add(name, line, f"expected {len(header)} columns, found {len(record)}")
            continue
        rows.append(Row(line, {h: cell.strip() for h, cell in zip(header, record, strict=True)}))
    return rows


def _header_ok(
    header: list[str], required: list[str], optional: list[str], name: str, problems: Problems
) -> bool:
    ok = True
    known = set(required) | set(optional)
    for column in header:
        if column not in known:
            problems.add(name, 1, f"unknown column '{column}' (expected {', '.join(required + optional)})")
            ok = False
    for column in required:
        if column not in header:
            problems.add(name, 1, f"missing column '{column}'")
            ok = False
    if len(set(header)) != len(header):
        problems.add(name, 1, "duplicate column name in header")
        ok = False
    return ok


def parse_int(text: str, what: str, name: str, line: int, problems: Problems) -> int | None:
    """A non-negative integer written in a CSV cell; `None` and a problem if it is not one."""
    if text.isascii() and text.isdigit():
        return int(text)
    problems.add(name, line, f"{what} must be a non-negative integer, not '{text}'")
    return None


def parse_bool(text: str, what: str, name: str, line: int, problems: Problems) -> bool | None:
    """`true`/`false` (case-insensitive) in a CSV cell; empty means false."""
    lowered = text.lower()
    if lowered in ("", "false"):
        return False
    if lowered == "true":
        return True
    problems.add(name, line, f"{what} must be true or false, not '{text}'")
    return None


def parse_date(value: object, what: str, name: str, line: int, problems: Problems) -> date | None:
    """A date given as YAML date or ISO text ``YYYY-MM-DD``."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.add(name, line, f"{what} must be a date YYYY-MM-DD, not '{value}'")
    return None


def check_keys(
    mapping: LineDict,
    required: Iterable[str],
    optional: Iterable[str],
    where: str,
    name: str,
    problems: Problems,
) -> bool:
    """Report missing required keys (at the mapping's line) and unknown keys (at their line)."""
    required, optional = list(required), list(optional)
    ok = True
    for key in mapping:
        if key not in required and key not in optional:
            expected = ", ".join(required + optional)
            problems.add(name, mapping.line_of(key), f"unknown key '{key}' in {where} (expected {expected})")
            ok = False
    for key in required:
        if key not in mapping:
            problems.add(name, mapping.line, f"missing key '{key}' in {where}")
            ok = False
    return ok


def get_text(mapping: LineDict, key: str, name: str, problems: Problems) -> str | None:
    """A non-empty string value; numbers must be quoted so that codes keep leading zeros.

    The getters return `None` silently for an absent key: `check_keys` reports those once.
    """
    if key not in mapping:
        return None  # reported as a missing key by check_keys
    value = mapping[key]
    if isinstance(value, str) and value.strip():
        return value.strip()
    problems.add(name, mapping.line_of(key), f"{key} must be a non-empty text (quote codes and versions)")
    return None


def get_int(mapping: LineDict, key: str, name: str, problems: Problems, *, minimum: int = 0) -> int | None:
    """An integer value of at least `minimum` (booleans are not integers here)."""
    if key not in mapping:
        return None  # reported as a missing key by check_keys
    value = mapping[key]
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    problems.add(name, mapping.line_of(key), f"{key} must be an integer >= {minimum}, not '{value}'")
    return None


def get_float(
    mapping: LineDict, key: str, name: str, problems: Problems, *, maximum: float | None = None
) -> float | None:
    """A non-negative number, at most `maximum` when given."""
    if key not in mapping:
        return None  # reported as a missing key by check_keys
    value = mapping[key]
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value >= 0 and (maximum is None or value <= maximum):
            return float(value)
    bound = f" and <= {maximum}" if maximum is not None else ""
    problems.add(name, mapping.line_of(key), f"{key} must be a number >= 0{bound}, not '{value}'")
    return None


def get_bool(mapping: LineDict, key: str, name: str, problems: Problems) -> bool | None:
    if key not in mapping:
        return None  # reported as a missing key by check_keys
    value = mapping[key]
    if isinstance(value, bool):
        return value
    problems.add(name, mapping.line_of(key), f"{key} must be true or false, not '{value}'")
    return None
