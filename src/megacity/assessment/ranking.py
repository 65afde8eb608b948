"""Rates, composites, ranks and the governance focus list, as Ibis expressions over `counts`.

* `rank`: within (month, unit type) by the rounded composite, descending, SQL ``RANK()`` (ties
  share the smaller rank: 1, 2, 2, 4). Only rankable rows take part: a known unit type, at least
  `min_rated` rated tickets and a composite.
* `rank_in_subtype`: the same within 街道 / 镇 / 乡 / 地区 for street rows.
* `governance_focus`: the `focus_count` rankable street rows with the lowest rounded composite
  (or, under `FocusRule.REQUESTS`, the most requests per 10,000), ties broken by unit code.
* `focus_change`: entered / stayed / left, against the previous month's list.
"""

from __future__ import annotations

from typing import cast

import ibis
import ibis.expr.types as ir

from megacity.assessment.expressions import COUNTS, composite_of, rates, round9
from megacity.assessment.rules import DISTRICT, STREET, UNKNOWN, FocusRule, Options

#: Columns of an assessed row, in report order (the what-if adds `WHAT_IF_COLUMNS`).
ROW_COLUMNS: tuple[str, ...] = (
    "unit_code",
    "unit_name",
    "unit_type",
    "unit_subtype",
    "district_code",
    "month",
    "in_scope",
    "response_counted",
    "response_on_time",
    "rated",
    "resolved_count",
    "satisfaction_rated",
    "satisfied_count",
    "basically_satisfied_count",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "composite",
    "requests_per_10k",
    "population",
    "population_estimated",
    "rank",
    "rank_in_subtype",
    "governance_focus",
    "focus_change",
    "excluded",
    "composite_with_excluded",
)
WHAT_IF_COLUMNS: tuple[str, ...] = (
    "composite_default",
    "rank_default",
    "rank_change",
    "governance_focus_default",
)


def with_facts(c: ir.Table, facts: ir.Table) -> ir.Table:
    """Join the profile facts; unknown codes get unit type `unknown` and no population."""
    j = c.left_join(facts, [c.code == facts.f_code, c.kind == facts.f_kind])
    known = j.f_type.notnull()
    return j.mutate(
        unit_type=j.f_type.fill_null(UNKNOWN),
        district_code=ibis.cases((j.kind == DISTRICT, j.code), else_=j.f_district),
        population_estimated=(known & j.f_estimated.fill_null(False) & j.population.notnull()),
    )


def _ranks(t: ir.Table, composite: ir.FloatingValue, options: Options) -> dict[str, ir.Value]:
    """rank, rank_in_subtype and governance_focus for one composite column."""
    rounded = round9(composite)
    rankable = (t.unit_type != UNKNOWN) & (t.rated >= options.min_rated) & composite.notnull()
    order = ibis.desc(rounded)
    rank = ibis.rank().over(group_by=[t.month_idx, t.unit_type, rankable], order_by=order) + 1
    street = rankable & (t.unit_type == STREET)
    sub_rank = (
        ibis.rank().over(group_by=[t.month_idx, t.unit_type, t.unit_subtype, street], order_by=order) + 1
    )
    if options.focus_rule is FocusRule.REQUESTS:
        per_10k = round9(cast(ir.FloatingValue, t.requests_per_10k))
        candidate = street & per_10k.notnull()
        focus_order = [ibis.desc(per_10k), ibis.asc(t.code)]
    else:
        candidate = street
        focus_order = [ibis.asc(rounded), ibis.asc(t.code)]
    position = ibis.row_number().over(group_by=[t.month_idx, candidate], order_by=focus_order)
    return {
        "composite": rounded,
        "rank": ibis.cases((rankable, rank)),
        "rank_in_subtype": ibis.cases((street, sub_rank)),
        "governance_focus": (candidate & (position < options.focus_count)).fill_null(False),
    }


def _focus_change(t: ir.Table) -> ir.Table:
    """Compare each row's focus with the same unit's row of the month before (absent = not focus)."""
    window = ibis.window(group_by=[t.code, t.kind], order_by=t.month_idx)
    previous = (t.month_idx.lag().over(window) == t.month_idx - 1) & t.governance_focus.lag().over(window)
    before = previous.fill_null(False)
    now = t.governance_focus
    change = ibis.cases(
        (now & before, "stayed"),
        (now & ~before, "entered"),
        (~now & before, "left"),
    )
    return t.mutate(focus_change=change)


def assessed(c: ir.Table, facts: ir.Table, options: Options) -> ir.Table:
    """Every column of `ROW_COLUMNS` except `month` (added from `month_idx` by the caller)."""
    t = with_facts(c, facts)
    bsw = options.basically_satisfied_weight
    r = rates(t, "", bsw)
    per_10k = t.in_scope.cast("float64") / t.population.nullif(0).cast("float64") * 10000.0
    t = t.mutate(**r, requests_per_10k=per_10k)
    with_excluded = composite_of(rates(t, "_all", bsw), options.weights)
    t = t.mutate(
        composite_raw=composite_of(r, options.weights), composite_with_excluded=round9(with_excluded)
    )
    t = t.mutate(**_ranks(t, cast(ir.FloatingValue, t.composite_raw), options))
    if options.what_if:
        t = t.mutate(default_raw=composite_of(r, options.default_weights))
        default = _ranks(t, cast(ir.FloatingValue, t.default_raw), options)
        t = t.mutate(
            composite_default=default["composite"],
            rank_default=default["rank"],
            governance_focus_default=default["governance_focus"],
        )
        t = t.mutate(rank_change=t.rank_default - t.rank)
    t = _focus_change(t)
    t = t.filter(t.month_idx.isin(list(options.months)))
    return _select(t, options)


def _select(t: ir.Table, options: Options) -> ir.Table:
    ints = ["in_scope", "excluded", *[n for n in COUNTS if n != "in_scope"], "population"]
    columns: dict[str, ir.Value] = {
        "unit_code": t.code,
        "unit_name": t.unit_name,
        "unit_type": t.unit_type,
        "unit_subtype": t.unit_subtype,
        "district_code": t.district_code,
        "month_idx": t.month_idx,
        **{name: t[name].cast("int64") for name in ints},
        **{
            name: t[name].cast("float64")
            for name in ("response_rate", "resolution_rate", "satisfaction_rate")
        },
        "composite": t.composite.cast("float64"),
        "requests_per_10k": t.requests_per_10k.cast("float64"),
        "population_estimated": t.population_estimated,
        "rank": t["rank"].cast("int64"),
        "rank_in_subtype": t.rank_in_subtype.cast("int64"),
        "governance_focus": t.governance_focus,
        "focus_change": t.focus_change,
        "composite_with_excluded": t.composite_with_excluded.cast("float64"),
    }
    if options.what_if:
        columns |= {
            "composite_default": t.composite_default.cast("float64"),
            "rank_default": t.rank_default.cast("int64"),
            "rank_change": t.rank_change.cast("int64"),
            "governance_focus_default": t.governance_focus_default,
        }
    return t.select(**columns)


__all__ = ["ROW_COLUMNS", "WHAT_IF_COLUMNS", "assessed", "with_facts"]
