"""Monthly topics (每月一题): propose a month's hottest topics, adopt one, track it, close it.

Proposals are computed on demand from the tickets table (`analytics/topics.py`); adopting a topic
stores it in `monthly_topics` with an audit event in the same transaction. An adopted topic is
tracked by the rule of docs/topics.md: a request of a later month belongs to it when its title
and text hold at least min(3, len(terms)) of the topic's terms (and its street is one of the
topic's streets when the topic stored any).

Closing a topic (the problem is solved) sets its status to ``closed`` with who closed it, when
and why, audited as `close_topic` in the same transaction. Tracking goes on after closing: the
volume of the months after is how one sees whether the problem stayed solved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from megacity.analytics.topics import (
    Message,
    Params,
    TextIndex,
    Topic,
    cluster,
    matches,
    rank_topics,
)
from megacity.bootstrap import Megacity
from megacity.domain.errors import ConflictError, NotFoundError, ValidationError
from megacity.domain.privacy import mask_text
from megacity.nlp.text import normalise
from megacity.store.followup_tables import monthly_topics
from megacity.store.tables import tickets

__all__ = [
    "Proposal",
    "adopt",
    "close",
    "list_topics",
    "month_bounds",
    "propose",
    "propose_from",
    "track",
]

LOCAL_STREETS = 3  # an adopted topic keeps its streets only when it spans at most this many
GROWTH_MONTHS = 3  # growth compares with the mean of this many previous months
REASON_LIMIT = 1000  # characters of a closing reason (it is stored in the audit log)
ADOPTED, CLOSED = "adopted", "closed"
CLOSE_ACTION = "close_topic"


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


class _History:
    """Earlier months' requests, indexed once to count the matches of many topics.

    `previous` is asked for every topic of a month (hundreds), each time over every request of
    three months (a quarter of a million in a city of Beijing's size): `_count` per topic took
    minutes. Here each distinct title and text is normalised once, a `TextIndex` says which of
    them hold each term, and a topic's count adds up the hits per distinct (text, street) pair:
    the same integers as `_count` gives, summed over the months.
    """

    def __init__(self, months: Sequence[Sequence[Message]]) -> None:
        self.months = len(months)
        texts: dict[tuple[str, str], int] = {}
        pairs: dict[tuple[int, str | None], int] = {}
        for month in months:
            for m in month:
                text = texts.setdefault((m.title, m.text), len(texts))
                pairs[text, m.street] = pairs.get((text, m.street), 0) + 1
        self.index = TextIndex([normalise(f"{title}。{text}") for title, text in texts])
        streets = sorted({street for _, street in pairs if street is not None})
        self.street_codes = {street: code for code, street in enumerate(streets)}
        self.text_of = np.fromiter((text for text, _ in pairs), dtype=np.int64, count=len(pairs))
        self.street_of = np.fromiter(
            (-1 if street is None else self.street_codes[street] for _, street in pairs),
            dtype=np.int64,
            count=len(pairs),
        )
        self.copies = np.fromiter(pairs.values(), dtype=np.int64, count=len(pairs))

    def count(self, terms: Sequence[str], streets: Sequence[str]) -> int:
        """`_count` over all the months together: requests holding min(3, len(terms)) of the
        terms, in one of `streets` when any are given."""
        need = min(3, len(terms))
        if need == 0:
            return 0
        held = np.zeros(len(self.index.texts), dtype=np.int64)
        for term in terms:  # a term listed twice counts twice, as in `matches`
            held += self.index.holding(term)
        chosen = (held >= need)[self.text_of]
        if streets:
            codes = [self.street_codes[s] for s in set(streets) if s in self.street_codes]
            chosen &= np.isin(self.street_of, codes)
        return int(self.copies[chosen].sum())

    def previous(self, terms: list[str], streets: list[str]) -> float:
        """Mean monthly volume of the requests matching a topic (in its streets when it has few)."""
        if not self.months:
            return 0.0
        local = streets if len(streets) <= LOCAL_STREETS else []
        return self.count(terms, local) / self.months


def propose_from(
    messages: Sequence[Message],
    history: Sequence[Sequence[Message]] = (),
    top: int = 10,
    params: Params | None = None,
) -> list[Proposal]:
    """The `top` hottest topics of `messages`; `history` holds earlier months (growth)."""
    previous = _History(history).previous

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
        "status": ADOPTED,
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


def close(
    *,
    app: Megacity,
    topic_id: int,
    actor: str,
    role: str,
    reason: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Close an adopted topic (its problem is solved) with an audited reason; returns the topic.

    The status changes only from ``adopted``, in one conditional UPDATE: of two people closing
    the same topic at once, one wins and the other gets a conflict, never a second event.
    """
    text = reason.strip()
    if not text:
        raise ValidationError("closing a topic needs a reason", field="reason")
    if len(text) > REASON_LIMIT:
        raise ValidationError(f"a reason has at most {REASON_LIMIT} characters", field="reason")
    when = at or app.clock()
    with app.uow() as uow:
        conn = uow.connection
        changed = conn.execute(
            update(monthly_topics)
            .where(monthly_topics.c.id == topic_id, monthly_topics.c.status == ADOPTED)
            .values(status=CLOSED, closed_at=when, closed_by=actor, close_reason=text)
        ).rowcount
        row = conn.execute(select(monthly_topics).where(monthly_topics.c.id == topic_id)).first()
        if row is None:
            raise NotFoundError(f"no monthly topic {topic_id}")
        if not changed:
            raise ConflictError(f"monthly topic {topic_id} is {row.status}, not {ADOPTED}")
        uow.audit.note(
            action=CLOSE_ACTION,
            actor=actor,
            role=role,
            at=when,
            reason=text,
            payload={"topic_id": int(topic_id), "month": row.month},
        )
        uow.commit()
    return dict(row._mapping)


def list_topics(*, app: Megacity) -> list[dict[str, Any]]:
    """Every adopted topic, open or closed, newest month first."""
    with app.uow(write=False) as uow:
        rows = uow.connection.execute(
            select(monthly_topics).order_by(monthly_topics.c.month.desc(), monthly_topics.c.id)
        )
        return [dict(row._mapping) for row in rows]


def track(*, app: Megacity, topic_id: int, until: str | None = None) -> dict[str, Any]:
    """Monthly volume of a topic from its month up to `until` (default: the clock's month).

    A closed topic is tracked on, past its closing: that is how one sees it stayed solved.
    """
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
