"""Complainant profiles (诉求人画像) and the labels 高频 / 重复 / 不满意 (docs/complainants.md).

A complainant is known only by the pseudonym `complainant_id`; nothing here reads personal
data. A request *repeats* one of the person's matters when the repeat chain it belongs to
(`megacity analyse repeats`) holds an earlier request of the same person: someone else raising
the same matter at the same street does not make this person a repeat complainant.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import yaml

from megacity.analytics.orders import Orders

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
    """For each row, whether its chain holds an earlier request of the same complainant."""
    chains: dict[int, list[int]] = defaultdict(list)
    for row, master in enumerate(masters.tolist()):
        chains[master].append(row)
    out = np.zeros(len(orders), dtype=bool)
    for rows in chains.values():
        if len(rows) < 2:
            continue
        seen: set[str] = set()
        for row in sorted(rows, key=lambda r: (orders.times[r], orders.ids[r])):
            person = orders.complainants[row]
            if person and person in seen:
                out[row] = True
            seen.add(person)
    return out


def build_profiles(
    orders: Orders, repeats: npt.NDArray[np.bool_], thresholds: Thresholds, zone: ZoneInfo
) -> list[Profile]:
    """One profile per complainant with at least one request, most requests first."""
    rows_of: dict[str, list[int]] = defaultdict(list)
    seen_ids: set[str] = set()
    for row, person in enumerate(orders.complainants):
        if person and orders.ids[row] not in seen_ids:
            rows_of[person].append(row)
        seen_ids.add(orders.ids[row])
    profiles = [_profile(person, rows, orders, repeats, thresholds, zone) for person, rows in rows_of.items()]
    return sorted(profiles, key=lambda p: (-p.requests, p.complainant_id))


def _profile(
    person: str,
    rows: list[int],
    orders: Orders,
    repeats: npt.NDArray[np.bool_],
    th: Thresholds,
    zone: ZoneInfo,
) -> Profile:
    index = np.array(rows, dtype=np.int64)
    times = np.sort(orders.times[index][~np.isnan(orders.times[index])])
    window = th.frequent_window_days * DAY
    peak = (
        int((np.searchsorted(times, times + window, side="left") - np.arange(len(times))).max())
        if len(times)
        else 0
    )
    cats = Counter(orders.categories[r] for r in rows if orders.categories[r])
    streets = Counter(orders.streets[r] for r in rows if orders.streets[r])
    rated = sum(1 for r in rows if orders.satisfaction[r])
    unhappy = sum(1 for r in rows if orders.satisfaction[r] == "dissatisfied")
    rate = unhappy / rated if rated else None
    repeated = int(np.count_nonzero(repeats[index]))
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
    return Profile(
        complainant_id=person,
        requests=len(rows),
        first_seen=_local(float(times[0]), zone) if len(times) else "",
        last_seen=_local(float(times[-1]), zone) if len(times) else "",
        peak_in_window=peak,
        category_count=len(cats),
        categories=_top(cats),
        street_count=len(streets),
        streets=_top(streets),
        rated=rated,
        unsatisfied=unhappy,
        unsatisfied_rate=None if rate is None else round(rate, 4),
        repeats=repeated,
        repeat_share=round(repeated / len(rows), 4),
        excluded=int(np.count_nonzero(orders.excluded[index])),
        labels="|".join(labels),
        labels_zh="|".join(LABEL_NAMES[name] for name in labels),
    )


def _top(counts: Counter[str], k: int = 3) -> str:
    return "|".join(f"{code}:{n}" for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k])


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
    from megacity.analytics.cli import group_requests
    from megacity.analytics.repeats import Params

    masters = group_requests(orders.request_table(), Params(window_days=window_days))
    return build_profiles(orders, person_repeats(orders, masters), thresholds, zone)
