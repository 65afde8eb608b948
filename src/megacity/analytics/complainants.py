"""Complainant profiles (诉求人画像) and the labels 高频 / 重复 / 不满意 (docs/complainants.md).

A complainant is known only by the pseudonym `complainant_id`; nothing here reads personal
data. A request *repeats* one of the person's matters when the repeat chain it belongs to
(`megacity analyse repeats`) holds an earlier request of the same person: someone else raising
the same matter at the same street does not make this person a repeat complainant.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from megacity.analytics.orders import Orders, bulk

DAY = 86400.0
THRESHOLDS_FILE = "complainants.yaml"
LABEL_NAMES = {"frequent": "高频", "repeat": "重复", "unsatisfied": "不满意"}


@dataclass(frozen=True)
class Thresholds:
    """When a label applies; the defaults are assumptions (see the profile's complainants.yaml)."""

    frequent_requests: int = 5
    frequent_window_days: float = 30.0
    repeat_requests: int = 3
    unsatisfied_rate: float = 0.5
    unsatisfied_min_rated: int = 3


def load_thresholds(profile_folder: Path) -> Thresholds:
    """The thresholds of `complainants.yaml` in the profile folder; defaults when it is absent.

    Raises ValueError naming the bad key, so a CLI can print it as one line.
    """
    folder = profile_folder.parent if profile_folder.is_file() else profile_folder
    path = folder / THRESHOLDS_FILE
    if not path.is_file():
        return Thresholds()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    values: dict[str, Any] = {}
    for item in fields(Thresholds):
        if item.name in data:
            raw = data[item.name]
            if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
                raise ValueError(f"{path}: {item.name} must be a non-negative number")
            values[item.name] = int(raw) if item.type in (int, "int") else float(raw)
    return Thresholds(**values)


@dataclass(frozen=True)
class Profile:
    """What one complainant asked for, where, and how it ended."""

    complainant_id: str
    requests: int
    first_seen: str
    last_seen: str
    peak_in_window: int  # most requests inside any `frequent_window_days`
    category_count: int
    categories: str  # the three most frequent, "code:n|code:n"
    street_count: int
    streets: str
    rated: int
    unsatisfied: int
    unsatisfied_rate: float | None
    repeats: int
    repeat_share: float
    excluded: int
    labels: str  # codes joined by "|": frequent, repeat, unsatisfied
    labels_zh: str

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def person_repeats(orders: Orders, masters: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """For each row, whether its chain holds an earlier request of the same complainant.

    Earlier means in (time, id) order, ties in row order. Vectorised: rows sorted by chain,
    person, time, id and row; every row but the first of its (chain, person) run repeats.
    """
    count = len(orders)
    out = np.zeros(count, dtype=bool)
    if count < 2:
        return out
    people = _numbers(orders.complainants)
    masters = np.asarray(masters, dtype=np.int64)
    nan = np.isnan(orders.times)
    odd = np.zeros(count, dtype=bool)
    if nan.any():  # a time that does not compare: keep the one-by-one definition for those chains
        odd = np.isin(masters, masters[nan])
        out[odd] = _repeats_one_by_one(orders, masters, np.flatnonzero(odd))
    rows = np.flatnonzero(~odd & (people >= 0))
    ties = np.arange(count, dtype=np.int64) if _in_time_order(orders) else _id_ranks(orders.ids)
    order = rows[np.lexsort((rows, ties[rows], orders.times[rows], people[rows], masters[rows]))]
    same = (masters[order][1:] == masters[order][:-1]) & (people[order][1:] == people[order][:-1])
    out[order[1:][same]] = True
    return out


def _repeats_one_by_one(
    orders: Orders, masters: npt.NDArray[np.int64], rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """`person_repeats` of `rows` (whole chains) by its definition, row by row."""
    chains: dict[int, list[int]] = defaultdict(list)
    for row in rows.tolist():
        chains[int(masters[row])].append(row)
    out: dict[int, bool] = {}
    for members in chains.values():
        seen: set[str] = set()
        for row in sorted(members, key=lambda r: (orders.times[r], orders.ids[r])):
            person = orders.complainants[row]
            out[row] = bool(person and person in seen)
            seen.add(person)
    return np.array([out[row] for row in rows.tolist()], dtype=bool)


def _numbers(values: list[str]) -> npt.NDArray[np.int64]:
    """Each distinct non-empty string as a number (equal strings, equal numbers); -1 for ""."""
    encoded = pa.array(values, pa.string()).dictionary_encode()
    numbers = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    empty = encoded.dictionary.index("").as_py()
    if empty >= 0:
        numbers[numbers == empty] = -1
    return numbers


def _ranks(values: list[str]) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Each string as its rank among the distinct non-empty ones (sorted), -1 for ""; and them."""
    encoded = pa.array(values, pa.string()).dictionary_encode()
    found: list[str] = encoded.dictionary.to_pylist()
    names = sorted(set(found) - {""})
    rank = {name: place for place, name in enumerate(names)}
    ranks = np.array([rank.get(name, -1) for name in found] or [-1], dtype=np.int64)
    return ranks[np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)], names


def _in_time_order(orders: Orders) -> bool:
    """Whether the rows with a time are in (time, id) order, as the database reads them."""
    known = np.flatnonzero(~np.isnan(orders.times))
    step = np.diff(orders.times[known])
    if np.any(step < 0):
        return False
    ids = orders.ids
    return all(ids[known[k]] <= ids[known[k + 1]] for k in np.flatnonzero(step == 0).tolist())


def _id_ranks(ids: list[str]) -> npt.NDArray[np.int64]:
    ranks = np.empty(len(ids), dtype=np.int64)
    ranks[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids), dtype=np.int64)
    return ranks


def build_profiles(
    orders: Orders, repeats: npt.NDArray[np.bool_], thresholds: Thresholds, zone: ZoneInfo
) -> list[Profile]:
    """One profile per complainant with at least one request, most requests first.

    A row counts once per id (the first row of an id). Every count is a group-by over all rows
    at once (numpy), not a loop per person: a million requests are 40,000 people.
    """
    count = len(orders)
    people = _numbers(orders.complainants)
    first = np.ones(count, dtype=bool)
    if len(set(orders.ids)) < count:
        first_of: dict[str, int] = {}
        first = np.fromiter((first_of.setdefault(i, r) == r for r, i in enumerate(orders.ids)), bool, count)
    rows = np.flatnonzero(first & (people >= 0))
    rows = rows[np.argsort(people[rows], kind="stable")]
    owner = people[rows]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(rows) else np.zeros(0, np.int64)
    group = np.cumsum(np.r_[False, owner[1:] != owner[:-1]]) if len(rows) else np.zeros(0, np.int64)
    size = len(starts)
    requests = np.diff(np.r_[starts, len(rows)])

    def per_person(flags: npt.NDArray[np.bool_]) -> list[int]:
        found: list[int] = np.bincount(group[flags[rows]], minlength=size).tolist()
        return found

    peaks, first_at, last_at = _time_spans(orders.times[rows], group, size, thresholds.frequent_window_days)
    cats = _tops(orders.categories, rows, group, size)
    streets = _tops(orders.streets, rows, group, size)
    satisfaction = pa.array(orders.satisfaction, pa.string())
    rated = per_person(np.asarray(pc.not_equal(satisfaction, "").to_numpy(zero_copy_only=False), dtype=bool))
    unhappy = per_person(
        np.asarray(pc.equal(satisfaction, "dissatisfied").to_numpy(zero_copy_only=False), dtype=bool)
    )
    repeated = per_person(np.asarray(repeats, dtype=bool))
    excluded = per_person(np.asarray(orders.excluded, dtype=bool))
    ids = [orders.complainants[int(r)] for r in rows[starts]]
    profiles = [
        _profile(
            ids[g],
            int(requests[g]),
            peaks[g],
            (first_at[g], last_at[g]),
            cats[g],
            streets[g],
            (rated[g], unhappy[g], repeated[g], excluded[g]),
            thresholds,
            zone,
        )
        for g in range(size)
    ]
    return sorted(profiles, key=lambda p: (-p.requests, p.complainant_id))


def _time_spans(
    times: npt.NDArray[np.float64], group: npt.NDArray[np.int64], size: int, window_days: float
) -> tuple[list[int], list[float | None], list[float | None]]:
    """Per person: most requests inside any window (counted from each request: those at most
    `window` later, exclusive), and the first and last time; 0 and None without a time."""
    known = ~np.isnan(times)
    times, group = times[known], group[known]
    order = np.lexsort((times, group))
    times, group = times[order], group[order]
    later = times + window_days * DAY
    # compare (person, time) pairs exactly: dense ranks of every time and window end
    _, rank = np.unique(np.concatenate([times, later]), return_inverse=True)
    width = int(rank.max()) + 1 if len(rank) else 1
    keys = group * width + rank[: len(times)]
    inside = np.searchsorted(keys, group * width + rank[len(times) :], side="left") - np.arange(len(times))
    peaks = [0] * size
    first_at: list[float | None] = [None] * size
    last_at: list[float | None] = [None] * size
    if len(times):
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        ends = np.r_[starts[1:], len(times)] - 1
        owners = group[starts].tolist()
        for g, peak, low, high in zip(
            owners,
            np.maximum.reduceat(inside, starts).tolist(),
            times[starts].tolist(),
            times[ends].tolist(),
            strict=True,
        ):
            peaks[g], first_at[g], last_at[g] = int(peak), low, high
    return peaks, first_at, last_at


def _tops(
    values: list[str], rows: npt.NDArray[np.int64], group: npt.NDArray[np.int64], size: int, k: int = 3
) -> list[tuple[int, str]]:
    """Per person: how many distinct non-empty codes, and the `k` most frequent as "code:n|code:n"
    (ties by code)."""
    ranks, names = _ranks(values)
    code = ranks[rows]
    has = code >= 0
    width = max(len(names), 1)
    keys, counts = np.unique(group[has] * width + code[has], return_counts=True)
    owner, code = keys // width, keys % width
    distinct = np.bincount(owner, minlength=size).tolist()
    order = np.lexsort((code, -counts, owner))
    owner, code, counts = owner[order], code[order], counts[order]
    start = np.searchsorted(owner, owner, side="left")
    place = np.arange(len(owner)) - start
    parts: list[list[str]] = [[] for _ in range(size)]
    pick = place < k
    for g, c, n in zip(owner[pick].tolist(), code[pick].tolist(), counts[pick].tolist(), strict=True):
        parts[g].append(f"{names[c]}:{n}")
    return [(distinct[g], "|".join(parts[g])) for g in range(size)]


def _profile(
    person: str,
    requests: int,
    peak: int,
    seen: tuple[float | None, float | None],
    cats: tuple[int, str],
    streets: tuple[int, str],
    counts: tuple[int, int, int, int],
    th: Thresholds,
    zone: ZoneInfo,
) -> Profile:
    rated, unhappy, repeated, excluded = counts
    rate = unhappy / rated if rated else None
    labels = [
        name
        for name, applies in (
            ("frequent", peak >= th.frequent_requests),
            ("repeat", repeated >= th.repeat_requests),
            (
                "unsatisfied",
                rate is not None and rated >= th.unsatisfied_min_rated and rate >= th.unsatisfied_rate,
            ),
        )
        if applies
    ]
    first, last = seen
    return Profile(
        complainant_id=person,
        requests=requests,
        first_seen="" if first is None else _local(first, zone),
        last_seen="" if last is None else _local(last, zone),
        peak_in_window=peak,
        category_count=cats[0],
        categories=cats[1],
        street_count=streets[0],
        streets=streets[1],
        rated=rated,
        unsatisfied=unhappy,
        unsatisfied_rate=None if rate is None else round(rate, 4),
        repeats=repeated,
        repeat_share=round(repeated / requests, 4),
        excluded=excluded,
        labels="|".join(labels),
        labels_zh="|".join(LABEL_NAMES[name] for name in labels),
    )


def _local(seconds: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(seconds, UTC).astimezone(zone).isoformat()


def write_profiles(path: Path, profiles: list[Profile]) -> None:
    """CSV, one line per complainant, columns in the order of `Profile`."""
    names = [item.name for item in fields(Profile)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for profile in profiles:
            row = profile.as_row()
            row["unsatisfied_rate"] = "" if profile.unsatisfied_rate is None else profile.unsatisfied_rate
            writer.writerow(row)


def profiles_for(orders: Orders, thresholds: Thresholds, window_days: float, zone: ZoneInfo) -> list[Profile]:
    """Repeat chains (the detector of `analyse repeats`, default parameters) and then profiles."""
    import typer

    from megacity.analytics.repeats import Params, group_rows

    table = orders.request_table()
    params = Params(window_days=window_days)
    with bulk():
        masters, timeless = group_rows(
            table.ids, table.times, table.people, table.streets, table.titles, table.texts, params
        )
        if timeless:
            typer.echo(f"warning: {timeless} request(s) without a readable received_at kept alone", err=True)
        return build_profiles(orders, person_repeats(orders, masters), thresholds, zone)
