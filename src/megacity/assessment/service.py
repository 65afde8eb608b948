"""Use cases over the operational database, for the API: rank, explain, what-if, trends, publish.

The engine is PostgreSQL (Ibis on the `tickets` table) when the database is PostgreSQL, and
DuckDB over the month's tickets read through SQLAlchemy otherwise.

Rankings are kept per (database, options) with the data version they were computed at
(`services.revalidate`): every change to a request is audited in its transaction, so the audit
head's data version changes whenever a ranking could, and pages that show the same month again
skip the engine run (seconds at a million requests) without showing figures of other data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from megacity.assessment import cohandling as cohandling_mod
from megacity.assessment import engine as engine_mod
from megacity.assessment import explain as explain_mod
from megacity.assessment import publish as publish_mod
from megacity.assessment import trends as trends_mod
from megacity.assessment import whatif as whatif_mod
from megacity.assessment.backends import EngineName, Opened, choose_engine, open_tickets
from megacity.assessment.rules import FocusRule, Options, Weights, month_windows, parse_month
from megacity.bootstrap import Megacity
from megacity.domain.errors import ConflictError, NotFoundError
from megacity.services.revalidate import RevalidatingCache
from megacity.store.audit import data_version

_CACHE_SIZE = 32
_cache: RevalidatingCache[engine_mod.Result] = RevalidatingCache("ranking", _CACHE_SIZE)
_explanations: RevalidatingCache[explain_mod.Explanation] = RevalidatingCache("explanation", 256)
_explained_every_unit: RevalidatingCache[int] = RevalidatingCache("explanation-pass", _CACHE_SIZE)


def options_for(
    app: Megacity,
    months: list[int],
    *,
    weights: Weights | None = None,
    as_of: datetime | None = None,
    focus_rule: FocusRule = FocusRule.COMPOSITE,
) -> Options:
    return Options.build(app.profile, months, weights=weights, as_of=as_of, focus_rule=focus_rule)


@contextmanager
def opened(app: Megacity, options: Options) -> Iterator[Opened]:
    url = app.settings.database_url
    engine: EngineName = choose_engine(None, url)
    window = engine_mod.source_window(options, app.profile.timezone)
    with open_tickets(
        tickets=None, database=url, engine=engine, timezone=app.profile.timezone, window=window
    ) as o:
        yield o


def ranking(app: Megacity, options: Options, *, fresh: bool = False) -> engine_mod.Result:
    """The assessment for `options`, from the cache when no ticket changed since it was computed.

    `fresh` always runs the engine: publishing must see the tables as they are, even after a
    repair made directly in the database, outside the application and its audit log. Web pages
    call this inside `revalidate.page_budget()`: an earlier result or `Pending` when slow.
    """

    def run() -> engine_mod.Result:
        with opened(app, options) as o:
            return engine_mod.run(o, app.profile, options)

    hit = _cache.get(app.settings.database_url, repr(options), run, fresh=fresh)
    return replace(hit, rows=[dict(row) for row in hit.rows])  # callers may annotate their copy


def explanation(app: Megacity, options: Options, code: str) -> explain_mod.Explanation:
    """Why `code` lost points, kept per data version as rankings are (a unit handler's
    ranking page opens on its own unit's explanation)."""

    def run() -> explain_mod.Explanation:
        result = ranking(app, options)  # usually kept already: the page shows it first
        with opened(app, options) as o:
            return explain_mod.explain(o.tickets, app.profile, options, result, code)

    return _explanations.get(app.settings.database_url, _explanation_key(options, code), run)


def explain_every_unit(app: Megacity, options: Options) -> int:
    """Compute and keep the explanation of every district and unit in one pass (for `megacity
    refresh`: a unit handler's ranking page then opens at once); how many were kept. Nothing is
    computed when the pass was already made on the current data."""
    url = app.settings.database_url

    def run() -> int:
        with app.engine.connect() as conn:
            version = data_version(conn)  # before reading: a change meanwhile makes them stale
        started = time.perf_counter()
        result = ranking(app, options)
        with opened(app, options) as o:
            found = explain_mod.explain_all(o.tickets, app.profile, options, result)
        values = {_explanation_key(options, code): value for code, value in found.items()}
        _explanations.put_many(url, values, version, time.perf_counter() - started)
        return len(values)

    return _explained_every_unit.get(url, repr(options), run)


def _explanation_key(options: Options, code: str) -> str:
    return f"{options!r}|{code}"


def what_if(app: Megacity, options: Options) -> whatif_mod.WhatIf:
    return whatif_mod.what_if(ranking(app, options))


def trend(app: Megacity, code: str, month: str) -> trends_mod.Trend:
    options = options_for(app, trends_mod.series_months(month))
    result = ranking(app, options)
    if not any(r["unit_code"] == code for r in result.rows) and not _known(app, code):
        raise NotFoundError(f"unit {code} is not in the profile and has no assessed tickets")
    return trends_mod.trend(result, code, month)


def cohandling(app: Megacity, options: Options) -> list[dict[str, Any]]:
    window = engine_mod.source_window(options, app.profile.timezone)
    pairs = cohandling_mod.cohandler_pairs(app.settings.database_url, window)
    with opened(app, options) as o:
        return cohandling_mod.cohandling(o.tickets, app.profile, options, pairs)


def publish(app: Megacity, month: str, by: str) -> publish_mod.Outcome:
    """Publish a finished month, or record the corrections a recomputation shows."""
    index = parse_month(month)
    end = month_windows([index], app.profile.timezone)[0].end
    if app.clock() < end:
        raise ConflictError(f"month {month} is not over yet: it can be published from {end.isoformat()}")
    options = options_for(app, [index])
    result = ranking(app, options, fresh=True)
    meta = {
        "profile_code": app.profile.code,
        "profile_version": app.profile.version,
        "settings": {
            "weights": asdict(options.weights),
            "basically_satisfied_weight": options.basically_satisfied_weight,
            "min_rated_for_ranking": options.min_rated,
            "governance_focus_count": options.focus_count,
            "focus_rule": options.focus_rule.value,
            "engine": result.engine,
        },
    }
    return publish_mod.publish(app.engine, month, result.rows, by=by, at=app.clock(), meta=meta)


def published(app: Megacity, month: str) -> tuple[publish_mod.Publication, list[dict[str, Any]]] | None:
    """The month as published (frozen), if it was."""
    return publish_mod.load(app.engine, month)


def corrections(app: Megacity, month: str | None = None) -> list[dict[str, Any]]:
    return publish_mod.corrections(app.engine, month)


def _known(app: Megacity, code: str) -> bool:
    return code in app.profile.org.districts or code in app.profile.org.units
