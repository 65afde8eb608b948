"""`megacity analyse hot-issues | topics | topic-track | topic-close | replies`: topics and replies.

Registered in `megacity.cli` on the `analyse` group. User errors print one line starting with
`error:` and exit with code 2 (like `megacity analyse repeats`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from megacity.analytics.cli import DatabaseUrl, Tickets, fail
from megacity.domain.errors import DomainError

if TYPE_CHECKING:  # the analytics import scikit-learn: load them when a command runs, not with the CLI
    from megacity.analytics.topics import Message

__all__ = ["hot_issues_cmd", "replies_cmd", "topic_close_cmd", "topic_track_cmd", "topics_cmd"]

PROPOSAL_COLUMNS = (
    "rank",
    "heat",
    "volume",
    "people",
    "previous",
    "streets",
    "categories",
    "phrase",
    "terms",
    "representative_id",
    "representative_title",
    "member_ids",
)
REPLY_COLUMNS = (
    "留言编号",
    "relevance",
    "completeness",
    "timeliness",
    "working_days",
    "combined",
    "elements",
    "weak",
    "reasons",
)


def hot_issues_cmd(
    data: Annotated[Path, typer.Option("--data", help="Teddy Cup 附件3 (xlsx or CSV).")],
    out: Annotated[Path, typer.Option("--out", help="hot.xlsx (two sheets) or hot.csv (+ hot_details.csv).")],
    top: Annotated[int, typer.Option("--top", min=1, max=100, help="How many hot issues.")] = 5,
) -> None:
    """Teddy Cup 2020 C task 2: the top hot issues of a message board and their messages."""
    from megacity.analytics.hotissues import MessageError, hot_issue_tables, read_messages, write_tables

    try:
        board = read_messages(data)
    except MessageError as exc:
        fail(str(exc))
    hot, details, _ = hot_issue_tables(board.messages, top)
    try:
        written = write_tables(out, hot, details)
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")
    paths = ", ".join(map(str, written))
    typer.echo(f"messages {len(board.messages)} hot issues {len(hot)} rows {len(details)} -> {paths}")


def _file_messages(path: Path, month: str, timezone: str) -> tuple[list[Message], list[list[Message]]]:
    """Requests of `month` and of the three months before from a canonical CSV/Parquet file."""
    from megacity.analytics.ticketfile import read_ticket_messages
    from megacity.services.topics import GROWTH_MONTHS, month_bounds

    messages = read_ticket_messages(path, timezone)
    periods = [month_bounds(month, timezone, -back) for back in range(GROWTH_MONTHS + 1)]
    split = [[m for m in messages if m.at is not None and start <= m.at < end] for start, end in periods]
    return split[0], split[1:]


def topics_cmd(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM, in the profile's zone.")],
    out: Annotated[Path, typer.Option("--out", help="Proposals (CSV), hottest first.")],
    tickets: Tickets = None,
    database: DatabaseUrl = None,
    top: Annotated[int, typer.Option("--top", min=1, max=500, help="How many topics to propose.")] = 10,
    adopt: Annotated[
        int | None, typer.Option("--adopt", min=1, help="Adopt proposal number N (needs --database).")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who adopts (recorded in the audit log).")] = "cli",
) -> None:
    """Propose a month's monthly topics (每月一题) ranked by heat; optionally adopt one."""
    from megacity.analytics.ticketfile import TicketFileError
    from megacity.cli_options import build_app
    from megacity.services.topics import adopt as adopt_topic
    from megacity.services.topics import propose, propose_from

    if (tickets is None) == (database is None):
        fail("give exactly one of --tickets FILE and --database URL")
    if adopt is not None and database is None:
        fail("--adopt stores the topic in a database: give --database URL")
    try:
        if tickets is not None:
            from megacity.profiles import load_profile

            current, history = _file_messages(tickets, month, load_profile(None).timezone)
            proposals = propose_from(current, history, top)
        else:
            app = build_app(database)
            proposals = propose(app=app, month=month, top=top)
    except (TicketFileError, DomainError) as exc:
        fail(str(exc))
    _write_proposals(out, proposals)
    typer.echo(f"topics {len(proposals)} -> {out}")
    if adopt is not None:
        if adopt > len(proposals):
            fail(f"--adopt {adopt}: only {len(proposals)} proposal(s)")
        chosen = proposals[adopt - 1]
        stored = adopt_topic(
            app=app,
            month=month,
            title=chosen.phrase or chosen.representative_title,
            terms=chosen.terms,
            street_codes=chosen.streets,
            category_codes=chosen.categories,
            heat=chosen.heat,
            actor=by,
            role="system",  # the command line acts with the database's own rights
        )
        typer.echo(f"adopted topic {stored['id']}: {stored['title']}")


def _write_proposals(out: Path, proposals: Sequence[object]) -> None:
    try:
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(PROPOSAL_COLUMNS)
            for p in proposals:
                cells = [getattr(p, name) for name in PROPOSAL_COLUMNS]
                writer.writerow([" ".join(c) if isinstance(c, list) else c for c in cells])
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")


def topic_track_cmd(
    database: Annotated[str, typer.Option("--database", help="Database URL.")],
    until: Annotated[str | None, typer.Option("--until", help="Last month YYYY-MM (default: now).")] = None,
) -> None:
    """Print every adopted topic's volume month by month (one JSON line per topic)."""
    from megacity.cli_options import build_app
    from megacity.services.topics import list_topics, track

    app = build_app(database)
    try:
        for topic in list_topics(app=app):
            tracked = track(app=app, topic_id=int(topic["id"]), until=until)
            line = {k: tracked[k] for k in ("id", "month", "title", "status", "series")}
            closed_at = tracked["closed_at"]
            line["closed_at"] = None if closed_at is None else closed_at.isoformat()
            typer.echo(json.dumps(line, ensure_ascii=False))
    except DomainError as exc:
        fail(str(exc))


def topic_close_cmd(
    topic_id: Annotated[int, typer.Argument(metavar="ID", help="Id of the adopted topic (see topic-track).")],
    database: Annotated[str, typer.Option("--database", help="Database URL.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is closed (recorded in the audit log).")],
    by: Annotated[str, typer.Option("--by", help="Who closes (recorded in the audit log).")] = "cli",
) -> None:
    """Close an adopted topic whose problem is solved; its volume is still tracked."""
    from megacity.cli_options import build_app
    from megacity.services.topics import close

    app = build_app(database)
    try:
        closed = close(app=app, topic_id=topic_id, actor=by, role="system", reason=reason)
    except DomainError as exc:
        fail(str(exc))
    typer.echo(f"closed topic {closed['id']}: {closed['title']}")


def replies_cmd(
    data: Annotated[Path, typer.Option("--data", help="Teddy Cup 附件4 (xlsx or CSV) with 答复意见.")],
    out: Annotated[Path, typer.Option("--out", help="Scores per message (CSV).")],
) -> None:
    """Teddy Cup 2020 C task 3: score each reply's relevance, completeness and timeliness."""
    from megacity.analytics.hotissues import MessageError, read_messages
    from megacity.analytics.replies import score_reply
    from megacity.domain.calendar import WorkingCalendar
    from megacity.holidays import official_workday

    try:
        board = read_messages(data, need_replies=True)
    except MessageError as exc:
        fail(str(exc))
    calendar = WorkingCalendar(source=official_workday)
    weak = 0
    try:
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPLY_COLUMNS)
            for message, reply, replied_at in zip(
                board.messages, board.replies, board.replied_at, strict=True
            ):
                s = score_reply(message.title, message.text, reply or "", message.at, replied_at, calendar)
                weak += s.weak
                writer.writerow(
                    (
                        message.id,
                        s.relevance,
                        s.completeness,
                        "" if s.timeliness is None else s.timeliness,
                        "" if s.working_days is None else s.working_days,
                        s.combined,
                        " ".join(s.elements),
                        int(s.weak),
                        "; ".join(s.reasons),
                    )
                )
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")
    typer.echo(f"replies {len(board.messages)} weak {weak} -> {out}")
