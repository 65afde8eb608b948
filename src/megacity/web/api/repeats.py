"""GET /api/analysis/repeats: a month's repeat chains (重复诉求) from the database.

The same detector as `megacity analyse repeats` (docs/repeats.md) over the month and the
repeat window before it; the answer is what the 分析 page shows, cached per data version.
A district reviewer sees the chains of their own district only; titles are masked for roles
that may not see personal data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from megacity.assessment.rules import parse_month
from megacity.domain.access import Actor, Permission
from megacity.domain.enums import Role
from megacity.domain.privacy import mask_text
from megacity.web.deps import MegacityDep, client_limited, require
from megacity.web.errors import PROBLEM_RESPONSES
from megacity.web.pages import repeats_data
from megacity.web.pages.ranking_data import current_month
from megacity.web.pages.section_cache import cached

router = APIRouter(
    prefix="/api/analysis",
    tags=["analysis"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(client_limited)],
)
Analyst = Annotated[Actor, Depends(require(Permission.READ_ANALYTICS))]


class RepeatChain(BaseModel):
    """One chain: its first (master) and latest request, size, span and escalation (提级) level."""

    master: str
    latest: str
    size: int
    first_at: datetime
    last_at: datetime
    district_code: str | None
    title: str
    unresolved: bool
    escalate: str


class RepeatsAnswer(BaseModel):
    month: str
    district_code: str | None
    requests: int
    repeats: int
    chain_count: int
    unresolved_count: int
    escalate: dict[str, int]
    chains: list[RepeatChain]


@router.get("/repeats", response_model=RepeatsAnswer)
def repeats(
    app: MegacityDep,
    actor: Analyst,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RepeatsAnswer:
    """Chains whose latest request falls in the month, largest first."""
    chosen = month or current_month(app)
    parse_month(chosen)
    district = actor.district_code if actor.role is Role.DISTRICT_REVIEWER else None
    found = cached(
        app, "repeats", chosen, lambda: repeats_data.month_repeats(app, chosen, district), district or ""
    )

    def shown(chain: repeats_data.Chain) -> RepeatChain:
        title = chain.title if actor.sees_personal_data else mask_text(chain.title)
        return RepeatChain(
            master=chain.master,
            latest=chain.latest,
            size=chain.size,
            first_at=datetime.fromtimestamp(chain.first_at, UTC),
            last_at=datetime.fromtimestamp(chain.last_at, UTC),
            district_code=chain.district_code,
            title=title[:200],
            unresolved=chain.unresolved,
            escalate=chain.escalate,
        )

    return RepeatsAnswer(
        month=chosen,
        district_code=district,
        requests=found["requests"],
        repeats=found["repeats"],
        chain_count=len(found["chains"]),
        unresolved_count=len(found["unresolved"]),
        escalate=found["escalate"],
        chains=[shown(chain) for chain in found["chains"][:limit]],
    )
