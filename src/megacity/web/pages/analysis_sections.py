"""The 分析 page's sections beyond repeats: 重点诉求人, 每月一题, 异常工单, 未诉先办.

Every builder only calls the existing analytics and services (complainant profiles and the
directory, topic proposals and tracking, the abnormal-order analysis, weekly forecasts) and
reshapes their output for a template; the expensive part of each is kept in `section_cache`
per database, month, scope and data version. Nothing here reads names or phone numbers: people
appear by pseudonym, and every free text shown (titles, key phrases) goes through `mask_text`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import date
from typing import Any

import numpy as np

from megacity.analytics.abnormal import KINDS, Settings
from megacity.analytics.abnormal_render import KIND_TITLES
from megacity.analytics.abnormal_report import LANGUAGES, Names, analyse, gettext_for, suggest
from megacity.analytics.forecast_report import ForecastRow, forecast_table
from megacity.analytics.orders import DisputeEvent, Orders, disputes_from, read_orders_from
from megacity.analytics.topics import Message
from megacity.analytics.weekly import VolumeTable, read_volume, series_keys, weekly_counts
from megacity.assessment.rules import month_windows, parse_month
from megacity.bootstrap import Megacity
from megacity.domain.access import Actor
from megacity.domain.enums import Role
from megacity.domain.privacy import mask_text
from megacity.services import complainants as directory
from megacity.services import topics as topics_service
from megacity.web.labels import N_
from megacity.web.pages.section_cache import cached

TOP = 10  # rows of each list: the page is an overview, the API and CLI have the full lists
LABEL_TITLES = {
    "frequent": N_("Frequent"),
    "repeat": N_("Repeat"),
    "unsatisfied": N_("Unsatisfied"),
    "other": N_("Other"),
}
CHART_MONTHS = 12  # months of an adopted topic's volume shown on the chart
FORECAST_HORIZON = 8  # weeks ahead of the total
MONITOR_WEEKS = 4  # recent weeks checked against the band
MIN_SERIES_TOTAL = 52.0  # a category with fewer requests in its history is too thin to alert on


def _window(app: Megacity, month: str) -> tuple[float, float]:
    """The month's start and end (exclusive) as epoch seconds, in the profile's zone."""
    window = month_windows([parse_month(month)], app.profile.timezone)[0]
    return window.start.timestamp(), window.end.timestamp()


def _in_district(street: str | None, district: str) -> bool:
    """Street codes begin with their district's code (110101001 lies in 110101)."""
    return bool(street) and str(street).startswith(district)


# 重点诉求人 -----------------------------------------------------------------------------------


def _complainant_scope(actor: Actor) -> str | None:
    """As /api/complainants: a district reviewer sees people with requests in the district; a
    reviewer without a district sees nobody ("-" matches no district)."""
    if actor.role is not Role.DISTRICT_REVIEWER:
        return None
    return actor.district_code or "-"


def _complainant_summary(app: Megacity, district: str | None) -> dict[str, Any]:
    """Label counts and the complainants with most requests (in a reviewer's district).

    Kept small on purpose: the profiles themselves run to hundreds of thousands of people at a
    million requests, and a stored result is read back on every page view after a restart.
    """
    profiles = directory.all_profiles(app=app)
    if district is not None:
        people = directory.people_in(app=app, district=district)
        profiles = [p for p in profiles if p.complainant_id in people]
    labels: Counter[str] = Counter(label for p in profiles for label in p.labels.split("|") if label)
    return {
        "people": len(profiles),
        "labels": [
            (code, LABEL_TITLES[code], labels[code]) for code in ("frequent", "repeat", "unsatisfied")
        ],
        "labelled": sum(1 for p in profiles if p.labels),
        "top": [
            {
                "pseudonym": p.complainant_id,
                "requests": p.requests,
                "peak": p.peak_in_window,
                "repeats": p.repeats,
                "unsatisfied_rate": p.unsatisfied_rate,
                "labels": [LABEL_TITLES[code] for code in p.labels.split("|") if code],
                "categories": [part.split(":")[0] for part in p.categories.split("|") if part],
                "last_seen": p.last_seen[:10],
            }
            for p in profiles[:TOP]
        ],
    }


def complainants_section(app: Megacity, actor: Actor, month: str) -> dict[str, Any]:
    """Label counts, the complainants with most requests and the directory's active entries.

    Profiles cover every request in the database (the numbers of `megacity analyse
    complainants` and of /api/complainants), so they do not change with the month chosen.
    """
    district = _complainant_scope(actor)
    summary = cached(app, "complainants", "*", lambda: _complainant_summary(app, district), district or "")
    entries = directory.list_entries(app=app, status="active", district=district)
    return {
        **summary,
        "entries": [
            {  # the plan and notes may name people: the directory page shows them, not this one
                "pseudonym": e["complainant_id"],
                "labels": [LABEL_TITLES.get(code, code) for code in e["labels"]],
                "designated_at": e["designated_at"],
                "designated_by": e["designated_by"],
                "updated_at": e["updated_at"],
            }
            for e in entries[:TOP]
        ],
        "entry_count": len(entries),
    }


# 每月一题 -------------------------------------------------------------------------------------


def _proposals(app: Megacity, month: str, district: str | None) -> list[topics_service.Proposal]:
    """`topics.propose` for the city; for a district, the same on the district's requests."""
    if district is None:
        return topics_service.propose(app=app, month=month, top=TOP)
    zone = app.profile.timezone

    def local(messages: Sequence[Message]) -> list[Message]:
        return [m for m in messages if _in_district(m.street, district)]

    with app.uow(write=False) as uow:
        current = local(
            topics_service.load_messages(uow.connection, *topics_service.month_bounds(month, zone))
        )
        history = [
            local(
                topics_service.load_messages(uow.connection, *topics_service.month_bounds(month, zone, -back))
            )
            for back in range(1, topics_service.GROWTH_MONTHS + 1)
        ]
    return topics_service.propose_from(current, history, TOP)


def _adopted(app: Megacity, month: str) -> list[dict[str, Any]]:
    """Topics adopted up to the month (newest first, at most five) with their monthly volume."""
    chosen = [t for t in topics_service.list_topics(app=app) if t["month"] <= month][:5]
    return [topics_service.track(app=app, topic_id=int(t["id"]), until=month) for t in chosen]


def topics_section(app: Megacity, actor: Actor, month: str) -> dict[str, Any]:
    """The month's hottest topics and the adopted ones' month-by-month volume (chart + table)."""
    district = _district_of(actor)
    proposals = cached(app, "topics", month, lambda: _proposals(app, month, district), district or "")
    tracked = cached(app, "topics-adopted", month, lambda: _adopted(app, month))
    months = [
        topics_service.month_bounds(month, app.profile.timezone, -back)[0] for back in range(CHART_MONTHS)
    ]
    labels = [f"{start:%Y-%m}" for start in reversed(months)]
    series = []
    for topic in tracked:
        volume = {point["month"]: point["volume"] for point in topic["series"]}
        series.append({"name": mask_text(topic["title"]), "values": [volume.get(label) for label in labels]})
    return {
        "proposals": [
            {
                "rank": p.rank,
                "heat": p.heat,
                "volume": p.volume,
                "people": p.people,
                "previous": p.previous,
                # the service masks these already; masked again so the page never depends on it
                "phrase": mask_text(p.phrase),
                "representative_id": p.representative_id,
                "title": mask_text(p.representative_title)[:60],
                "categories": p.categories[:2],
            }
            for p in proposals
        ],
        "adopted": [
            {
                "id": t["id"],
                "month": t["month"],
                "title": mask_text(t["title"]),
                "terms": t["terms"],
                "series": t["series"],
            }
            for t in tracked
        ],
        "chart": {"labels": labels, "series": series} if series else None,
    }


def _district_of(actor: Actor) -> str | None:
    return actor.district_code if actor.role is Role.DISTRICT_REVIEWER else None


# 异常工单 -------------------------------------------------------------------------------------


def _subset(orders: Orders, keep: np.ndarray) -> Orders:
    """The orders whose `keep` flag is set (every per-order column cut the same way)."""
    rows = np.flatnonzero(keep).tolist()
    values: dict[str, Any] = {}
    for item in fields(Orders):
        column = getattr(orders, item.name)
        if isinstance(column, np.ndarray):
            values[item.name] = column[keep]
        elif isinstance(column, list):
            values[item.name] = [column[i] for i in rows]
    return replace(orders, **values)


def _abnormal(app: Megacity, month: str, district: str | None) -> dict[str, Any]:
    """`abnormal_report.analyse` on the month's orders (of the district), as /api/analysis/abnormal
    computes it on all orders; suggestions in every language of the site."""
    with app.uow(write=False) as uow:
        orders = read_orders_from(uow.connection, app.profile.timezone)
        events = disputes_from(uow.connection)
    start, end = _window(app, month)
    keep = (orders.times >= start) & (orders.times < end)
    if district is not None:
        keep &= np.array([_in_district(s, district) for s in orders.streets], dtype=bool)
    chosen = _subset(orders, keep)
    ids = set(chosen.ids)
    mine: list[DisputeEvent] = [e for e in events if e.ticket_id in ids]
    names = Names(app.profile.catalogue, app.profile.org)
    settings = Settings()
    result = analyse(chosen, mine, app.tz, names, settings)
    return {
        "orders": result.orders,
        "counts": result.counts,
        "suggestions": {
            language: [s.text for s in suggest(result, names, settings, gettext_for(language))[:TOP]]
            for language in LANGUAGES
        },
    }


def abnormal_section(app: Megacity, actor: Actor, month: str) -> dict[str, Any]:
    """Share of the month's orders per abnormal kind and the top catalogue suggestions."""
    district = _district_of(actor)
    found = cached(app, "abnormal", month, lambda: _abnormal(app, month, district), district or "")
    total = found["orders"]
    shares = [
        {
            "kind": kind,
            "title": KIND_TITLES[kind],
            "count": found["counts"].get(kind, 0),
            "share": found["counts"].get(kind, 0) / total if total else None,
        }
        for kind in (*KINDS, "abnormal")
    ]
    return {"orders": total, "shares": shares, "suggestions": found["suggestions"]}


# 未诉先办 -------------------------------------------------------------------------------------


def _forecast(app: Megacity, month: str, district: str | None) -> dict[str, Any]:
    """Weekly volume up to the month's end: the total with its band ahead, and the level-1
    categories whose recent weeks rose above their band (the `/api/analysis/forecast` code)."""
    dimensions = ("category", "district") if district is not None else ("category",)
    table = read_volume(dimensions, engine=app.engine, timezone=app.profile.timezone)
    _, end = _window(app, month)
    keep = table.times < end
    if district is not None:
        keep &= np.array([code == district for code in table.codes["district"]], dtype=bool)
    table = VolumeTable(
        times=table.times[keep],
        codes={
            name: [v for v, k in zip(values, keep, strict=True) if k] for name, values in table.codes.items()
        },
    )
    weekly = weekly_counts(table.times, series_keys(table, ("category",), 1), ("category",), app.tz)
    total_rows: list[ForecastRow] = []
    alerts: list[ForecastRow] = []
    if weekly.weeks:
        total = weekly.counts.sum(axis=0, keepdims=True)
        total_rows = list(
            forecast_table([("total",)], weekly.weeks, total, horizon=FORECAST_HORIZON, monitor=MONITOR_WEEKS)
        )
        by_category = forecast_table(
            weekly.keys,
            weekly.weeks,
            weekly.counts,
            horizon=1,
            monitor=MONITOR_WEEKS,
            min_total=MIN_SERIES_TOTAL,
        )
        alerts = [row for row in by_category if row.actual is not None and row.alert == "above"]
    return {
        "history_weeks": len(weekly.weeks),
        "last_week": weekly.weeks[-1] if weekly.weeks else None,
        "total": total_rows,
        "alerts": sorted(alerts, key=lambda row: (row.week, row.key), reverse=True),
    }


def _weeks(rows: list[ForecastRow]) -> list[dict[str, Any]]:
    return [
        {
            "week": row.week,
            "actual": None if row.actual is None else round(row.actual),
            "forecast": round(row.forecast, 1),
            "lower": round(row.lower, 1),
            "upper": round(row.upper, 1),
            "alert": row.alert,
        }
        for row in rows
    ]


def forecast_section(app: Megacity, actor: Actor, month: str) -> dict[str, Any]:
    """Total weekly volume against its forecast band, weeks ahead, and category alerts."""
    district = _district_of(actor)
    found = cached(app, "forecast", month, lambda: _forecast(app, month, district), district or "")
    weeks = _weeks(found["total"])
    labels: list[str] = [date.isoformat(w["week"]) for w in weeks]
    chart = {
        "labels": labels,
        "series": [
            {"key": "actual", "values": [w["actual"] for w in weeks]},
            {"key": "forecast", "values": [w["forecast"] for w in weeks]},
            {"key": "lower", "values": [w["lower"] for w in weeks]},
            {"key": "upper", "values": [w["upper"] for w in weeks]},
        ],
    }
    return {
        "history_weeks": found["history_weeks"],
        "last_week": found["last_week"],
        "weeks": weeks,
        "chart": chart if weeks else None,
        "alerts": [
            {
                "category": row.key[0],
                "week": row.week,
                "actual": round(row.actual or 0),
                "upper": round(row.upper, 1),
                "forecast": round(row.forecast, 1),
            }
            for row in found["alerts"][:TOP]
        ],
    }
