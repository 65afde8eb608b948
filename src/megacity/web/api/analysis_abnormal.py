"""/api/analysis/abnormal: abnormal orders (异常工单), their common features, dispute statistics
and suggestions for the dispatch catalogue (docs/abnormal.md). Codes and counts only: no texts,
no personal data."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from megacity.analytics.abnormal import Settings
from megacity.analytics.abnormal_report import Names, analyse
from megacity.analytics.orders import disputes_from, read_orders_from
from megacity.domain.access import Actor, Permission
from megacity.web.deps import MegacityDep, client_limited, require
from megacity.web.errors import PROBLEM_RESPONSES

router = APIRouter(
    prefix="/api/analysis",
    tags=["analysis"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(client_limited)],
)
Analyst = Annotated[Actor, Depends(require(Permission.READ_ANALYTICS))]


@router.get("/abnormal")
def abnormal_orders(
    app: MegacityDep,
    actor: Analyst,
    min_orders: Annotated[int, Query(ge=1, le=100000, description="orders a feature value needs")] = 5,
    min_abnormal: Annotated[int, Query(ge=1, le=100000, description="abnormal orders it needs")] = 3,
    lang: Annotated[str, Query(pattern="^(zh_CN|en)$", description="language of the suggestions")] = "zh_CN",
) -> dict[str, Any]:
    """Counts per kind, over-represented features, typical terms, dispute statistics per category
    and unit, and the suggested catalogue reviews (Chinese by default, `lang=en` for English)."""
    with app.uow(write=False) as uow:
        orders = read_orders_from(uow.connection, app.profile.timezone)
        events = disputes_from(uow.connection)
    settings = Settings(min_orders=min_orders, min_abnormal=min_abnormal)
    names = Names(app.profile.catalogue, app.profile.org)
    return analyse(orders, events, app.tz, names, settings, language=lang).as_json()
