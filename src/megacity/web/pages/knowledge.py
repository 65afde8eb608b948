"""知识库: search the operators' knowledge base (a page, and JSON for the workbench)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from megacity.web.knowledge import Hit, knowledge_base
from megacity.web.pages.common import render_page
from megacity.web.session import JsonActor, PageActor

router = APIRouter(include_in_schema=False)
MAX_QUERY = 100


def _hit(hit: Hit) -> dict[str, Any]:
    e = hit.entry
    return {
        "id": e.id,
        "category": e.category,
        "question": e.question,
        "answer": e.answer,
        "source": e.source,
        "score": hit.score,
    }


@router.get("/knowledge", response_class=HTMLResponse)
def knowledge(request: Request, actor: PageActor, q: str = "") -> HTMLResponse:
    """Full-text search of the knowledge base (Chinese character bigrams); all entries without a query."""
    base = knowledge_base("zh_CN")
    query = q.strip()[:MAX_QUERY]
    hits = base.search(query, limit=20) if query else []
    context = {"q": query, "hits": [_hit(h) for h in hits], "entries": [] if query else base.entries}
    return render_page(request, actor, "knowledge.html", context)


@router.get("/pages/api/knowledge")
def knowledge_json(actor: JsonActor, q: str = "") -> dict[str, Any]:
    """The best knowledge-base answers for `q`, for the workbench's inline search."""
    hits = knowledge_base("zh_CN").search(q.strip()[:MAX_QUERY], limit=5)
    return {"items": [_hit(h) for h in hits]}
