"""Babel message catalogues: Chinese (zh_CN) by default, English available.

Lines that scripts parse (CLI summaries, CSV headers, API field names) are never translated.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from fastapi import Request

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("zh_CN", "en")
DEFAULT = "zh_CN"


@lru_cache(maxsize=8)
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of `language` (English falls back to the source strings)."""
    return Translations.load(str(LOCALE_DIR), [language], domain="messages")


def negotiate(request: Request, default: str = DEFAULT) -> str:
    """Pick the language: ?lang=, then the `lang` cookie, then the default (Chinese).

    The browser's Accept-Language is deliberately not followed: operators' machines often
    ship with English browsers, and the hotline works in Chinese unless a user chooses.
    """
    for candidate in (request.query_params.get("lang"), request.cookies.get("lang")):
        if candidate in LANGUAGES:
            return candidate
    return default


def html_lang(language: str) -> str:
    return "zh-CN" if language == "zh_CN" else language
