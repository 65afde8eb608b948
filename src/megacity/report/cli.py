"""`megacity report`: write the monthly report (月度通报) as PDF, xlsx or HTML.

Registered in `megacity.cli` with ``app.command("report")(report)``. The heavy imports
(matplotlib, WeasyPrint) happen when the command runs, so other commands stay fast.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from megacity.cli_options import Database, ProfileOpt, build_app

E = TypeVar("E", bound=StrEnum)


class Format(StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"
    HTML = "html"


class Language(StrEnum):
    ZH_CN = "zh_CN"
    EN = "en"


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(2)


def _choice(kind: type[E], text: str, option: str) -> E:
    """The enum member named by `text`, or one `error:` line listing the choices (exit 2)."""
    try:
        return kind(text.strip())
    except ValueError:
        _fail(f"{option} must be one of {', '.join(m.value for m in kind)}; got {text!r}")


def report(
    month: Annotated[str, typer.Option("--month", help="The month YYYY-MM.")],
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    format: Annotated[str, typer.Option("--format", help="pdf, xlsx or html.")] = "pdf",
    lang: Annotated[str, typer.Option("--lang", help="zh_CN (default) or en.")] = "zh_CN",
    database: Database = None,
    profile: ProfileOpt = None,
) -> None:
    """Monthly report (月度通报): summary, rankings, map, charts, focus list, top categories."""
    from megacity.domain.errors import DomainError

    chosen, language = _choice(Format, format, "--format"), _choice(Language, lang, "--lang")
    if not out.parent.is_dir():
        _fail(f"cannot write {out}: folder {out.parent} does not exist")
    try:
        written = write_report(month, out, chosen, language, database, profile)
    except DomainError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.strerror or exc}: {exc.filename or out}")
    typer.echo(f"report {written} ({chosen.value}, {language.value}) -> {out}")


def write_report(
    month: str, out: Path, format: Format, lang: Language, database: str | None, profile: Path | None
) -> str:
    """Build and write the report; returns the month written."""
    from megacity.assessment.rules import parse_month
    from megacity.report.data import build
    from megacity.report.document import gettext_for, render_html
    from megacity.report.fonts import find_cjk_font

    parse_month(month)  # a bad month fails before the database is opened
    if format is not Format.XLSX:
        find_cjk_font()  # and a missing font before any work is done
    app = build_app(database, profile)
    data = build(app, month)
    gettext = gettext_for(lang.value)
    if format is Format.XLSX:
        from megacity.report.workbook import write_xlsx

        write_xlsx(data, out, gettext)
        return data.month
    page = render_html(
        data, city=app.profile.name, language=lang.value, generated=app.clock().astimezone(app.tz)
    )
    if format is Format.HTML:
        out.write_text(page, encoding="utf-8")
    else:
        from megacity.domain.errors import ValidationError as DomainValidationError

        try:
            from weasyprint import HTML  # type: ignore[import-untyped]
        except OSError as exc:  # WeasyPrint loads Pango from the system when imported
            raise DomainValidationError(
                f"PDF needs the Pango libraries (Debian: apt install libpango-1.0-0 libpangoft2-1.0-0): {exc}"
            ) from None
        HTML(string=page).write_pdf(out)
    return data.month
