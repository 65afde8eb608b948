"""Abnormal orders (异常工单): label them, find what they have in common (docs/abnormal.md).

An order is abnormal when it was disputed (派单异议), excluded or put up for exclusion (剔除),
reopened (重办), overdue (超期) or escalated (提级). For each kind we compare abnormal orders
with all others:

* categorical features (category, unit, time of day, weekday): the share of abnormal orders
  with that value against the share overall (lift), with a one-sided Fisher exact test and the
  Benjamini-Hochberg correction across all values of a kind, so that a busy unit does not look
  suspicious by volume alone;
* text terms: jieba words counted once per order, ranked by the log-odds ratio with an
  informative Dirichlet prior (Monroe, Colaresi & Quinn 2008), whose z-score discounts rare words.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from scipy.stats import false_discovery_control, fisher_exact

from megacity.analytics.orders import DisputeEvent, Orders
from megacity.nlp.text import normalise, words

BOOL = npt.NDArray[np.bool_]
KINDS = ("disputed", "excluded", "reopened", "overdue", "escalated")
#: Chinese names for the `labels_zh` column of the CSV (a data column: never translated).
KIND_NAMES = {
    "disputed": "派单异议",
    "excluded": "申请剔除",
    "reopened": "重办",
    "overdue": "超期",
    "escalated": "提级",
    "abnormal": "异常",
}
FEATURES = ("category", "unit", "daypart", "weekday")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # values; reports translate them


@dataclass(frozen=True)
class Settings:
    """Evidence needed before a pattern is reported (choices of this implementation)."""

    min_orders: int = 5  # a feature value needs this many orders ...
    min_abnormal: int = 3  # ... and this many abnormal ones
    alpha: float = 0.01  # false discovery rate of the tests (features and dispute rates)
    min_lift: float = 1.5
    term_z: float = 1.96
    top_terms: int = 15


@dataclass(frozen=True)
class Feature:
    """One feature value over-represented among the abnormal orders of one kind."""

    kind: str
    feature: str
    value: str
    abnormal: int
    orders: int
    rate: float
    base_rate: float
    lift: float
    q_value: float


@dataclass(frozen=True)
class Term:
    kind: str
    term: str
    abnormal_orders: int
    other_orders: int
    z: float


def label_orders(orders: Orders, events: Iterable[DisputeEvent] = ()) -> dict[str, BOOL]:
    """Boolean columns, one per kind, plus `abnormal` (any of them)."""
    disputed_ids = {e.ticket_id for e in events if e.action == "dispute"}
    labels: dict[str, BOOL] = {
        "disputed": (orders.disputes > 0) | np.array([i in disputed_ids for i in orders.ids], dtype=bool),
        "excluded": orders.excluded.copy(),
        "reopened": orders.reopens > 0,
        "overdue": orders.overdue.copy(),
        "escalated": np.array([e not in ("", "none") for e in orders.escalation], dtype=bool),
    }
    labels["abnormal"] = np.logical_or.reduce([labels[k] for k in KINDS])
    return labels


def feature_values(orders: Orders, zone: ZoneInfo) -> dict[str, list[str]]:
    """Per feature, each order's value ("" = unknown, never tested)."""
    local = [
        datetime.fromtimestamp(t, UTC).astimezone(zone) if not math.isnan(t) else None for t in orders.times
    ]
    return {
        "category": orders.categories,
        "unit": orders.units,
        "daypart": [_daypart(m.hour) if m else "" for m in local],
        "weekday": [WEEKDAYS[m.weekday()] if m else "" for m in local],
    }


def _daypart(hour: int) -> str:
    """Four six-hour parts of the local day, as language-neutral values ("00-06" ...)."""
    start = hour // 6 * 6
    return f"{start:02d}-{start + 6:02d}"


def mine_features(
    labels: dict[str, BOOL], values: dict[str, list[str]], settings: Settings = Settings()
) -> list[Feature]:
    """Over-represented feature values of every kind, strongest lift first."""
    out: list[Feature] = []
    for kind, flags in labels.items():
        total, hits = len(flags), int(flags.sum())
        if hits < settings.min_abnormal or hits == total:
            continue
        found: list[tuple[str, str, int, int, float]] = []
        for feature, column in values.items():
            seen: Counter[str] = Counter(column)
            bad: Counter[str] = Counter(v for v, f in zip(column, flags.tolist(), strict=True) if f)
            for value, n in seen.items():
                a = bad.get(value, 0)
                if not value or n < settings.min_orders or a < settings.min_abnormal or n == total:
                    continue
                table = [[a, n - a], [hits - a, total - n - (hits - a)]]
                found.append((feature, value, a, n, float(fisher_exact(table, alternative="greater")[1])))
        if not found:
            continue
        q_values = false_discovery_control([f[4] for f in found])
        base = hits / total
        for (feature, value, a, n, _), q in zip(found, q_values, strict=True):
            lift = (a / n) / base
            if q <= settings.alpha and lift >= settings.min_lift:
                out.append(Feature(kind, feature, value, a, n, a / n, base, lift, float(q)))
    return sorted(out, key=lambda f: (f.kind, -f.lift, f.feature, f.value))


def order_terms(orders: Orders) -> list[set[str]]:
    """Each order's distinct jieba words (title and text, numbers masked by `normalise`)."""
    return [set(words(normalise(f"{t} {x}"))) for t, x in zip(orders.titles, orders.texts, strict=True)]


def mine_terms(terms: list[set[str]], flags: BOOL, kind: str, settings: Settings = Settings()) -> list[Term]:
    """Words typical of the flagged orders: log-odds ratio, informative Dirichlet prior.

    Counts are documents (a word once per order); the prior is the word's count in all orders,
    so that the z-score is small for a word seen in few orders either way.
    """
    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for words_of, flagged in zip(terms, flags.tolist(), strict=True):
        (inside if flagged else outside).update(words_of)
    n_in, n_out = sum(inside.values()), sum(outside.values())
    prior = inside + outside
    a0 = sum(prior.values())
    found: list[Term] = []
    for word, y_in in inside.items():
        if y_in < settings.min_abnormal:
            continue
        a, y_out = prior[word], outside.get(word, 0)
        delta = math.log((y_in + a) / (n_in + a0 - y_in - a)) - math.log(
            (y_out + a) / (n_out + a0 - y_out - a)
        )
        z = delta / math.sqrt(1.0 / (y_in + a) + 1.0 / (y_out + a))
        if z >= settings.term_z:
            found.append(Term(kind, word, y_in, y_out, round(z, 3)))
    found.sort(key=lambda t: (-t.z, t.term))
    return found[: settings.top_terms]


@dataclass(frozen=True)
class DisputeStat:
    """Disputes of one category or one unit, with what they said and where orders went next."""

    group: str  # category | unit
    code: str
    orders: int
    disputed: int
    rate: float
    redispatched: int
    reasons: list[tuple[str, int]]
    targets: list[tuple[str, int]]  # units the disputed orders were re-dispatched to
    q_value: float = 1.0  # dispute rate above the overall one: Fisher test, BH-corrected per group


def dispute_stats(orders: Orders, labels: dict[str, BOOL], events: list[DisputeEvent]) -> list[DisputeStat]:
    """Per category (the order's final category) and per unit (the unit that disputed; without
    an audit log, the order's final unit), most disputed first."""
    disputed = labels["disputed"]
    by_ticket: dict[str, list[DisputeEvent]] = {}
    for event in events:
        by_ticket.setdefault(event.ticket_id, []).append(event)
    stats: list[DisputeStat] = []
    groups: dict[str, Callable[[int], list[str]]] = {
        "category": lambda row: [orders.categories[row]],
        "unit": lambda row: _units_of(orders, row, by_ticket.get(orders.ids[row], [])),
    }
    for group, keys_of in groups.items():
        total: Counter[str] = Counter()
        hits: Counter[str] = Counter()
        reasons: dict[str, Counter[str]] = {}
        targets: dict[str, Counter[str]] = {}
        redispatched: Counter[str] = Counter()
        for row in range(len(orders)):
            keys = [k for k in keys_of(row) if k]
            total.update(keys)
            if not disputed[row]:
                continue
            trail = by_ticket.get(orders.ids[row], [])
            disputers = {e.unit_code for e in trail if e.action == "dispute"}
            for key in keys:
                if group == "unit" and trail and key not in disputers:
                    continue
                hits[key] += 1
                said = [e.reason for e in trail if e.action == "dispute" and e.reason]
                reasons.setdefault(key, Counter()).update(said)
                moved = [e.unit_code for e in trail if e.action == "redispatch" and e.unit_code]
                targets.setdefault(key, Counter()).update(moved)
                redispatched[key] += bool(moved)
        found = [(key, n) for key, n in total.items() if hits[key]]
        q_values = _dispute_q([(hits[k], n) for k, n in found], int(disputed.sum()), len(orders))
        for (key, n), q in zip(found, q_values, strict=True):
            stats.append(
                DisputeStat(
                    group,
                    key,
                    n,
                    hits[key],
                    hits[key] / n,
                    redispatched[key],
                    reasons[key].most_common(3),
                    targets[key].most_common(3),
                    q,
                )
            )
    return sorted(stats, key=lambda s: (s.group, -s.disputed, -s.rate, s.code))


def _units_of(orders: Orders, row: int, trail: list[DisputeEvent]) -> list[str]:
    """The units that held the order: the disputing ones from the audit log, and the final one."""
    held = [e.unit_code for e in trail if e.action in ("dispute", "redispatch")]
    return list(dict.fromkeys([*held, orders.units[row]]))


def _dispute_q(groups: list[tuple[int, int]], disputed: int, total: int) -> list[float]:
    """BH-corrected one-sided Fisher p-values of each (disputed, orders) against all orders."""
    if not groups:
        return []
    p_values = [
        float(
            fisher_exact(
                [[d, n - d], [max(disputed - d, 0), max(total - n - max(disputed - d, 0), 0)]],
                alternative="greater",
            )[1]
        )
        for d, n in groups
    ]
    return [float(q) for q in false_discovery_control(p_values)]
