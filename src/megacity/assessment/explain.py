"""Why a unit lost points in a month: the tickets that cost it, by reason and category.

Reasons (a ticket can have several):

* ``late_contact`` — contacted, but after the response limit;
* ``not_contacted`` — no contact (as of `--as-of`: and its limit has passed);
* ``unresolved`` — the callback said not resolved;
* ``dissatisfied`` — rated 不满意;
* ``basically_satisfied`` — rated 基本满意, only when its weight is below 1.

`points_lost` is what the ticket cost the composite: ``100 × weight / denominator`` of its
rate (``× (1 − w)`` for basically satisfied). For a unit with every rate defined, the points
lost add up to ``100 × (sum of weights) − composite``. Excluded tickets cost nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from megacity.assessment.engine import Result, fetch, scoped_tickets
from megacity.assessment.rules import DISTRICT, Options, month_label
from megacity.domain.profile import Profile

REASONS: tuple[str, ...] = (
    "late_contact",
    "not_contacted",
    "unresolved",
    "dissatisfied",
    "basically_satisfied",
)
TICKET_COLUMNS: tuple[str, ...] = (
    "month",
    "unit_code",
    "reason",
    "category_code",
    "points_lost",
    "ticket_id",
    "urgency",
    "received_at",
    "dispatched_at",
    "response_deadline",
    "contacted_at",
    "callback_at",
    "resolved",
    "satisfaction",
    "repeat_of",
)
GROUP_COLUMNS: tuple[str, ...] = ("month", "unit_code", "reason", "category_code", "tickets", "points_lost")


@dataclass(frozen=True)
class Explanation:
    """The tickets that cost `unit_code` points, one row per ticket and reason, and their groups."""

    unit_code: str
    months: tuple[str, ...]
    rows: list[dict[str, Any]]  # the unit's assessed rows (one per month it has)
    tickets: list[dict[str, Any]]
    groups: list[dict[str, Any]]


def kind_of(profile: Profile, code: str) -> str:
    """District codes of the profile explain the area roll-up; any other code a handling unit."""
    return DISTRICT if code in profile.org.districts else "unit"


def reasons_expr(s: ir.Table, code: str | None, kind: str, options: Options) -> ir.Table:
    """One row per (ticket, reason) of the unit (of every unit of the kind when `code` is None:
    its code is in column ``explained``) in the assessed months."""
    key = s.district_code if kind == DISTRICT else s.unit_code
    s = s.mutate(explained=key)
    t = s.filter(~s.excl, s.month_idx.isin(list(options.months)))
    if code is not None:
        t = t.filter(t.explained == code)
    parts = [
        t.filter(t.resp_counted & t.contacted_at.notnull() & ~t.on_time).mutate(
            reason=ibis.literal("late_contact")
        ),
        t.filter(t.resp_counted & t.contacted_at.isnull()).mutate(reason=ibis.literal("not_contacted")),
        t.filter(t.is_rated & ~t.is_resolved).mutate(reason=ibis.literal("unresolved")),
        t.filter(t.satisfaction == "dissatisfied").mutate(reason=ibis.literal("dissatisfied")),
    ]
    if options.basically_satisfied_weight < 1:
        parts.append(t.filter(t.is_basic).mutate(reason=ibis.literal("basically_satisfied")))
    columns = [
        "explained",
        "month_idx",
        "reason",
        "category_code",
        "id",
        "urgency",
        "received_at",
        "dispatched_at",
        "deadline",
        "contacted_at",
        "callback_at",
        "resolved",
        "satisfaction",
        "repeat_of",
    ]
    selected = [p.select(*columns) for p in parts]
    return selected[0].union(*selected[1:], distinct=False)


def _cost(row: dict[str, Any], reason: str, options: Options) -> float | None:
    """Points of the composite one ticket with `reason` cost the unit in that month."""
    w = options.weights
    share, denominator = {
        "late_contact": (w.response, row["response_counted"]),
        "not_contacted": (w.response, row["response_counted"]),
        "unresolved": (w.resolution, row["rated"]),
        "dissatisfied": (w.satisfaction, row["satisfaction_rated"]),
        "basically_satisfied": (
            w.satisfaction * (1 - options.basically_satisfied_weight),
            row["satisfaction_rated"],
        ),
    }[reason]
    return 100.0 * share / denominator if denominator else None


def _local(value: Any, zone: ZoneInfo) -> Any:
    return value.astimezone(zone) if isinstance(value, datetime) else value


def explain(tickets: ir.Table, profile: Profile, options: Options, result: Result, code: str) -> Explanation:
    """The tickets that cost `code` points in the months of `result`."""
    kind = kind_of(profile, code)
    expr = reasons_expr(scoped_tickets(tickets, profile, options), code, kind, options)
    return _explanation(code, kind, fetch(expr), profile, options, result)


def explain_all(
    tickets: ir.Table, profile: Profile, options: Options, result: Result
) -> dict[str, Explanation]:
    """`explain` of every district and unit of `result`, from one query per kind: what a
    scheduled job computes ahead (a unit handler's ranking page opens on its own unit)."""
    scoped = scoped_tickets(tickets, profile, options)
    found: dict[str, Explanation] = {}
    for kind in (DISTRICT, "unit"):
        raws: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for raw in fetch(reasons_expr(scoped, None, kind, options)):
            raws[str(raw["explained"])].append(raw)
        codes = {str(r["unit_code"]) for r in result.rows if _kind(r) == kind}
        for code in sorted(codes | set(raws)):
            if kind_of(profile, code) == kind:
                found[code] = _explanation(code, kind, raws.get(code, []), profile, options, result)
    return found


def _explanation(
    code: str,
    kind: str,
    raws: list[dict[str, Any]],
    profile: Profile,
    options: Options,
    result: Result,
) -> Explanation:
    zone = ZoneInfo(profile.timezone)
    unit_rows = [r for r in result.rows if r["unit_code"] == code and _kind(r) == kind]
    by_month = {r["month"]: r for r in unit_rows}
    out: list[dict[str, Any]] = []
    for raw in raws:
        month = month_label(int(raw["month_idx"]))
        row = by_month.get(month)
        record = {
            "month": month,
            "unit_code": code,
            "reason": raw["reason"],
            "category_code": raw["category_code"],
            "points_lost": _cost(row, raw["reason"], options) if row else None,
            "ticket_id": raw["id"],
            "response_deadline": raw["deadline"],
            **{k: raw[k] for k in TICKET_COLUMNS if k in raw and k not in {"reason", "category_code"}},
        }
        out.append({k: _local(record.get(k), zone) for k in TICKET_COLUMNS})
    out.sort(key=lambda r: (r["month"], REASONS.index(r["reason"]), r["category_code"] or "", r["ticket_id"]))
    return Explanation(code, tuple(month_label(m) for m in options.months), unit_rows, out, group(out))


def _kind(row: dict[str, Any]) -> str:
    return DISTRICT if row["unit_type"] == DISTRICT else "unit"


def group(tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tickets and points lost per (month, reason, category), biggest loss first within a month."""
    totals: dict[tuple[str, str, str | None], list[float]] = defaultdict(lambda: [0, 0.0])
    for t in tickets:
        entry = totals[(t["month"], t["reason"], t["category_code"])]
        entry[0] += 1
        entry[1] += t["points_lost"] or 0.0
    groups = [
        {
            "month": month,
            "unit_code": tickets[0]["unit_code"],
            "reason": reason,
            "category_code": category,
            "tickets": int(n),
            "points_lost": points,
        }
        for (month, reason, category), (n, points) in totals.items()
    ]
    return sorted(
        groups,
        key=lambda g: (g["month"], -g["points_lost"], REASONS.index(g["reason"]), g["category_code"] or ""),
    )
