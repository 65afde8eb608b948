"""Jinja2 templates, one environment per language so requests never share a translation."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from megacity.web.i18n import html_lang, negotiate, translations

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=4)
def templates_for(language: str) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.add_extension("jinja2.ext.i18n")
    templates.env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return templates


def render(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    """Render a template in the request's language (?lang=, cookie, Accept-Language)."""
    language = negotiate(request, request.app.state.megacity.settings.default_language)
    full = {"lang": language, "html_lang": html_lang(language), **context}
    response = templates_for(language).TemplateResponse(request, name, full)
    if request.query_params.get("lang") == language:
        response.set_cookie("lang", language, samesite="lax", max_age=365 * 24 * 3600)
    return response
