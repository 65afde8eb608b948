"""The one place that finds a Chinese (CJK) font for the charts and the PDF.

A PDF without an embedded CJK font shows empty boxes on machines that lack one, so the report
refuses to render instead of silently falling back to a Latin font.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from megacity.domain.errors import ValidationError

#: Set to a .ttf/.otf/.ttc file to override discovery.
FONT_ENV = "MEGACITY_CJK_FONT"
#: Families tried in order; Simplified Chinese faces first so glyphs take the mainland forms.
PREFERRED = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
)
_SEARCH_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
_FILE_HINTS = ("NotoSansCJK", "SourceHanSans", "wqy", "NotoSerifCJK", "uming")


class FontMissingError(ValidationError):
    """No CJK font is installed: the report cannot be rendered legibly."""


@dataclass(frozen=True)
class CjkFont:
    """A font file and the family name matplotlib and WeasyPrint (fontconfig) know it by."""

    path: Path
    family: str


def _fc_match() -> Path | None:
    """Ask fontconfig (what WeasyPrint uses too) for its best Simplified Chinese font."""
    fc = shutil.which("fc-match")
    if fc is None:
        return None
    done = subprocess.run(
        [fc, "-f", "%{file}", "sans-serif:lang=zh-cn"], capture_output=True, text=True, timeout=10
    )
    path = Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None
    if path is None or not any(h.lower() in path.name.lower() for h in _FILE_HINTS):
        return None  # fontconfig answered with a Latin fallback
    return path


def _scan() -> Path | None:
    for folder in _SEARCH_DIRS:
        if not folder.is_dir():
            continue
        for hint in _FILE_HINTS:
            found = sorted(
                p for p in folder.rglob(f"*{hint}*") if p.suffix.lower() in {".ttc", ".otf", ".ttf"}
            )
            regular = [p for p in found if "Regular" in p.name] or found
            if regular:
                return regular[0]
    return None


def _family(path: Path) -> str:
    """The family matplotlib registers for `path`, preferring a Simplified Chinese face."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(path))
    names = {f.name for f in font_manager.fontManager.ttflist if Path(f.fname) == path}
    for family in PREFERRED:
        if family in names:
            return family
    if not names:
        raise FontMissingError(f"{path} is not a font file matplotlib can read")
    return sorted(names)[0]


@lru_cache(maxsize=1)
def find_cjk_font() -> CjkFont:
    """The CJK font to draw and embed; `FontMissingError` (one line, exit 2) when there is none."""
    given = os.environ.get(FONT_ENV)
    if given:
        path = Path(given)
        if not path.is_file():
            raise FontMissingError(f"{FONT_ENV}={given} is not a file")
    else:
        found = _fc_match() or _scan()
        if found is None:
            raise FontMissingError(
                "no Chinese (CJK) font found: install Debian's fonts-noto-cjk "
                f"or set {FONT_ENV} to a .ttf/.otf/.ttc file"
            )
        path = found
    return CjkFont(path=path, family=_family(path))
