"""Monthly topics (每月一题): propose a month's hottest topics, adopt one, track its volume.

Proposals are computed on demand from the tickets table (`analytics/topics.py`); adopting a topic
stores it in `monthly_topics` with an audit event in the same transaction. An adopted topic is
tracked by the rule of docs/topics.md: a request of a later month belongs to it when its title
and text hold at least min(3, len(terms)) of the topic's terms (and its street is one of the
topic's streets when the topic stored any).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from megacity.analytics.topics import Message, Params, Topic, cluster, matches, rank_topics
from megacity.bootstrap import Megacity
from megacity.domain.errors import NotFoundError, ValidationError
from megacity.domain.privacy import mask_text
from megacity.store.followup_tables import monthly_topics
from megacity.store.tables import tickets

__all__ = ["Proposal", "adopt", "list_topics", "month_bounds", "propose", "propose_from", "track"]

LOCAL_STREETS = 3  # an adopted topic keeps its streets only when it spans at most this many
GROWTH_MONTHS = 3  # growth compares with the mean of this many previous months


@dataclass(frozen=True)
class Proposal:
    """One proposed topic, ready for the API or a CSV row (texts masked)."""

    rank: int
    heat: float
    volume: int
    people: int
    engagement: int
    previous: float
    streets: list[str]
    categories: list[str]
    phrase: str
    terms: list[str]
    representative_id: str
    representative_title: str
    member_ids: list[str]


def month_bounds(month: str, timezone: str, shift: int = 0) -> tuple[datetime, datetime]:
    """Start (inclusive) and end (exclusive) of `month` + `shift` months in the zone."""
    try:
        year, number = (int(part) for part in month.split("-"))
        if not 1 <= number <= 12 or not 1900 <= year <= 2199 or len(month) != 7:
            raise ValueError
    except ValueError:
        raise ValidationError(f"month must be YYYY-MM, not {month!r}", field="month") from None
    index = year * 12 + number - 1 + shift
    zone = ZoneInfo(timezone)
    start = datetime(index // 12, index % 12 + 1, 1, tzinfo=zone)
    end = datetime((index + 1) // 12, (index + 1) % 12 + 1, 1, tzinfo=zone)
    return start, end


def load_messages(conn: Connection, start: datetime, end: datetime) -> list[Message]:
    """The requests received in [start, end), in time order."""
    columns = (
        tickets.c.id,
        tickets.c.received_at,
        tickets.c.title,
        tickets.c.text,
        tickets.c.complainant_id,
        tickets.c.street_code,
        tickets.c.category_code,
    )
    query = (
        select(*columns)
        .where(tickets.c.received_at >= start, tickets.c.received_at < end)
        .order_by(tickets.c.received_at, tickets.c.id)
    )
    return [
        Message(
            id=row.id,
            at=row.received_at,
            title=row.title or "",
            text=row.text or "",
            author=row.complainant_id,
            street=row.street_code,
            category=row.category_code,
        )
        for row in conn.execute(query)
    ]


def _count(messages: Sequence[Message], terms: Sequence[str], streets: Sequence[str]) -> int:
    allowed = set(streets)
    return sum(
        1 for m in messages if (not allowed or m.street in allowed) and matches(terms, f"{m.title}。{m.text}")
    )


def propose_from(
    messages: Sequence[Message],
    history: Sequence[Sequence[Message]] = (),
    top: int = 10,
    params: Params | None = None,
) -> list[Proposal]:
    """The `top` hottest topics of `messages`; `history` holds earlier months (growth)."""

    def previous(terms: list[str], streets: list[str]) -> float:
        if not history:
            return 0.0
        local = streets if len(streets) <= LOCAL_STREETS else []
        return sum(_count(month, terms, local) for month in history) / len(history)

    ranked: list[Topic] = rank_topics(messages, cluster(messages, params), previous)[:top]
    return [
        Proposal(
            rank=rank,
            heat=round(topic.heat, 4),
            volume=topic.volume,
            people=topic.people,
            engagement=topic.engagement,
            previous=round(topic.previous, 3),
            streets=topic.streets,
            categories=topic.categories,
            phrase=mask_text(topic.phrase),
            terms=topic.terms,
            representative_id=messages[topic.representative].id,
            representative_title=mask_text(messages[topic.representative].title),
            member_ids=[messages[i].id for i in topic.members],
        )
        for rank, topic in enumerate(ranked, start=1)
    ]


def propose(*, app: Megacity, month: str, top: int = 10, params: Params | None = None) -> list[Proposal]:
    """Proposals for a month of the database, with growth over the previous three months."""
    zone = app.profile.timezone
    start, end = month_bounds(month, zone)
    with app.uow(write=False) as uow:
        current = load_messages(uow.connection, start, end)
        history = [
            load_messages(uow.connection, *month_bounds(month, zone, -back))
            for back in range(1, GROWTH_MONTHS + 1)
        ]
    return propose_from(current, history, top, params)


def adopt(
    *,
    app: Megacity,
    month: str,
    title: str,
    terms: Sequence[str],
    actor: str,
    role: str,
    street_codes: Sequence[str] = (),
    category_codes: Sequence[str] = (),
    heat: float | None = None,
) -> dict[str, Any]:
    """Store an adopted topic and its audit event together; returns the stored row."""
    month_bounds(month, app.profile.timezone)  # validates the month
    cleaned = [t.strip() for t in terms if t and t.strip()]
    if not title.strip():
        raise ValidationError("a topic needs a title", field="title")
    if not cleaned:
        raise ValidationError("a topic needs at least one term to be tracked by", field="terms")
    streets = list(street_codes) if len(street_codes) <= LOCAL_STREETS else []
    now = app.clock()
    values = {
        "month": month,
        "title": title.strip()[:200],
        "terms": cleaned,
        "category_codes": list(category_codes),
        "street_codes": streets,
        "heat": heat,
        "status": "adopted",
        "adopted_at": now,
        "adopted_by": actor,
    }
    with app.uow() as uow:
        inserted = uow.connection.execute(insert(monthly_topics).values(**values)).inserted_primary_key
        assert inserted is not None
        topic_id = int(inserted[0])
        uow.audit.note(
            action="adopt_topic",
            actor=actor,
            role=role,
            at=now,
            payload={"topic_id": int(topic_id), "month": month, "terms": len(cleaned), "streets": streets},
        )
        uow.commit()
    return {"id": int(topic_id), **values}


def list_topics(*, app: Megacity) -> list[dict[str, Any]]:
    """Every adopted topic, newest month first."""
    with app.uow(write=False) as uow:
        rows = uow.connection.execute(
            select(monthly_topics).order_by(monthly_topics.c.month.desc(), monthly_topics.c.id)
        )
        return [dict(row._mapping) for row in rows]


def track(*, app: Megacity, topic_id: int, until: str | None = None) -> dict[str, Any]:
    """Monthly volume of a topic from its month up to `until` (default: the clock's month)."""
    zone = app.profile.timezone
    with app.uow(write=False) as uow:
        row = uow.connection.execute(select(monthly_topics).where(monthly_topics.c.id == topic_id)).first()
        if row is None:
            raise NotFoundError(f"no monthly topic {topic_id}")
        topic = dict(row._mapping)
        last = until or f"{app.clock().astimezone(ZoneInfo(zone)):%Y-%m}"
        month_bounds(last, zone)
        series: list[dict[str, Any]] = []
        shift = 0
        while shift < 120:
            start, end = month_bounds(topic["month"], zone, shift)
            label = f"{start:%Y-%m}"
            if label > last:
                break
            found = load_messages(uow.connection, start, end)
            series.append({"month": label, "volume": _count(found, topic["terms"], topic["street_codes"])})
            shift += 1
    return {**topic, "series": series}
