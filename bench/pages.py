"""Server time per web page on a demo database of N tickets (default 1,000,000); target ≤ 300 ms.

Builds the database once (see `build`: the demo generator through the real lifecycle and audit
chain, `services.demo_load.load_demo`, whose batched SQLAlchemy Core inserts run ~1,400 tickets/s
on an idle core, then INSERT … SELECT copies up to N) and keeps it for later runs; then serves it
with `megacity serve` in a child process, logs in through the `/login` form like a browser, and
times N GETs of each page on loopback. Prints a table: median and p95 per page, and the verdict.

    python bench/pages.py --tickets 20000               # quick: builds in ~15 s
    python bench/pages.py                               # 1,000,000: 200,000 played + 4 SQL copies
    python bench/pages.py --database postgresql://…     # any database; built if it holds fewer tickets

Before serving, `megacity refresh` computes the rankings and analyses the pages show (the month
the pages open on — the demo's last, December 2025 — and the one before) into `result_snapshots`,
as a cron job does in production; its time is printed. With `--no-refresh` the server starts
cold: pages then show "being computed" while the background work runs (timed too, but that is
not the page answering).

The first request of each page is shown apart: it fills per-process caches.
Pages that answer 404 (not built yet) are listed as absent, not timed.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, insert, literal, select

from megacity.assessment.rules import month_label, parse_month
from megacity.bootstrap import Megacity, bootstrap
from megacity.demo import generate
from megacity.domain.enums import Role
from megacity.services import queries
from megacity.services.accounts import create_user
from megacity.services.demo_load import load_demo
from megacity.settings import Settings
from megacity.store.tables import tickets, users

TARGET_MS = 300.0
SLOW_MS, SLOW_REPEATS = 5_000.0, 3
TIMEOUT_S = 120.0
PENDING = "data-pending="  # a page or a part of it says its figures are being computed
PASSWORD = "bench-password-123"
#: Who opens which page: the unit handler is 望京街道 (the busiest kind of inbox), the rest admin.
#: Month pages open on the newest month with requests (the demo's last); `{month}` is the one before.
HANDLER_UNIT = "110105026"
PAGES: tuple[tuple[str, str], ...] = (
    ("/", "anonymous"),
    ("/login", "anonymous"),
    ("/workbench", "operator"),
    ("/tickets", "admin"),
    ("/tickets/{id}", "admin"),
    ("/inbox", "handler"),
    ("/review", "admin"),
    ("/knowledge", "operator"),
    ("/settings", "admin"),
    ("/ranking", "admin"),
    ("/ranking?month={month}", "admin"),
    ("/ranking?month={month}", "handler"),  # opens on the handler's own unit: explanation + trend
    ("/monitoring", "admin"),
    ("/monitoring?month={month}", "admin"),
    ("/analysis", "admin"),
    ("/analysis?month={month}", "admin"),
)
ACCOUNTS = {
    "admin": (Role.ADMIN, None),
    "operator": (Role.OPERATOR, None),
    "handler": (Role.UNIT_HANDLER, HANDLER_UNIT),
}


def build(app: Megacity, count: int, months: int, lifecycle: int) -> None:
    """Fill an empty database with `count` demo tickets, printing the build time.

    `lifecycle` tickets go through the real lifecycle and audit chain (`load_demo`, ~1,400/s on
    an idle core); the rest are SQL copies of those rows with new ids (`c1-demo-…`), made by
    INSERT … SELECT in the database: the same spread over months, statuses, districts and units
    at a multiple of the volume, in seconds instead of an hour. Copies have no audit events.
    """
    with app.engine.connect() as conn:
        existing = int(conn.scalar(select(func.count()).select_from(tickets)) or 0)
    if existing >= count:
        print(f"database holds {existing:,} tickets: reused (no build)")
        return
    if existing:
        sys.exit(f"error: the database holds {existing:,} tickets, fewer than {count:,}: use an empty one")
    lifecycle = min(lifecycle, count)
    start = time.perf_counter()
    done = 0
    step = max(lifecycle // 10, 1)

    def progress(n: int) -> None:
        nonlocal done
        before, done = done, done + n
        if done // step != before // step:
            rate = done / (time.perf_counter() - start)
            print(f"  {done:>9,} tickets  {rate:,.0f}/s", file=sys.stderr, flush=True)

    cases = generate(app.profile, count=lifecycle, months=months)
    load_demo(app=app, cases=cases, progress=progress, batch=2000)
    played = time.perf_counter() - start
    print(
        f"built {lifecycle:,} tickets through the lifecycle in {played:,.0f} s ({lifecycle / played:,.0f}/s)"
    )
    copied = time.perf_counter()
    copy = 0
    while lifecycle * (copy + 1) < count:
        copy += 1
        rows = min(lifecycle, count - lifecycle * copy)
        columns = [c for c in tickets.c if c.name != "id"]
        source = select(literal(f"c{copy}-") + tickets.c.id, *columns).where(tickets.c.id.like("demo-%"))
        with app.engine.begin() as conn:
            conn.execute(
                insert(tickets).from_select(
                    ["id", *(c.name for c in columns)], source.order_by(tickets.c.id).limit(rows)
                )
            )
    if copy:
        elapsed = time.perf_counter() - copied
        total = time.perf_counter() - start
        print(f"copied {count - lifecycle:,} more tickets in {elapsed:,.0f} s; total build {total:,.0f} s")


def accounts(app: Megacity) -> None:
    with app.engine.connect() as conn:
        present = {row[0] for row in conn.execute(select(users.c.username))}
    for name, (role, unit) in ACCOUNTS.items():
        if f"bench-{name}" not in present:
            create_user(app=app, username=f"bench-{name}", password=PASSWORD, role=role, unit_code=unit)


def refresh(url: str) -> None:
    """`megacity refresh` as cron runs it (its default months), output and time printed."""
    command = [sys.executable, "-m", "megacity", "refresh", "--database", url]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    print(done.stdout.rstrip())
    if done.returncode != 0:
        sys.exit(f"error: megacity refresh failed: {done.stderr.strip()}")
    print(f"megacity refresh took {time.perf_counter() - start:,.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "megacity", "serve", "--port", str(port), "--database", url]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return child, base
        except httpx.TransportError:
            time.sleep(0.2)
    child.terminate()
    sys.exit("error: the server did not start")


def session(base: str, name: str) -> httpx.Client:
    """A client logged in through the login form (session cookie and CSRF token)."""
    client = httpx.Client(base_url=base, timeout=TIMEOUT_S)
    if name == "anonymous":
        return client
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no CSRF token in the login form"
    answer = client.post(
        "/login", data={"username": f"bench-{name}", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code in (200, 303), f"login as {name} failed: {answer.status_code}"
    return client


def some_ticket(app: Megacity) -> str:
    """A played (not copied) request from the middle of the history: it has a timeline."""
    with app.engine.connect() as conn:
        played = tickets.c.id.like("demo-%")  # not a copy: it has its audit events
        total = int(conn.scalar(select(func.count()).select_from(tickets).where(played)) or 0)
        query = select(tickets.c.id).where(played).order_by(tickets.c.id).offset(total // 2).limit(1)
        return str(conn.scalar(query))


def earlier_month(app: Megacity) -> str:
    """The month (profile zone) before the newest request's: the demo ends on 31 December 2025,
    which is the month the pages open on; this one is asked for with `?month=`."""
    newest = queries.newest_received(app=app)
    assert newest is not None, "the database holds no tickets"
    return month_label(parse_month(f"{newest.astimezone(app.tz):%Y-%m}") - 1)


def measure(client: httpx.Client, path: str, n: int) -> tuple[int, float, list[float], int]:
    """(status, first request in ms, then the timed requests, how many of all said "being
    computed"): the first one fills per-process caches.

    A page whose first request takes longer than `SLOW_MS` is timed `SLOW_REPEATS` times only;
    one that takes longer than the client's timeout is reported with status 0.
    """
    start = time.perf_counter()
    try:
        answer = client.get(path)
    except httpx.TimeoutException:
        return 0, (time.perf_counter() - start) * 1000, [], 0
    first = (time.perf_counter() - start) * 1000
    if answer.status_code != 200:
        return answer.status_code, first, [], 0
    pending = int(PENDING in answer.text)
    times = []
    for _ in range(n if first < SLOW_MS else min(n, SLOW_REPEATS)):
        start = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, f"{path}: {answer.status_code}"
        pending += PENDING in answer.text
    return 200, first, times, pending


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def table(
    base: str, clients: dict[str, httpx.Client], ticket: str, month: str, requests: int, *, title: str
) -> None:
    """Time every page and print one row each: first request, median, p95 and the verdict.

    A page that said "being computed" (all or part of it) did not show its figures: it is
    reported as such, whatever its time.
    """
    header = f"{'page':<26}{'as':<11}{'first ms':>9}{'median ms':>10}{'p95 ms':>9}"
    print(f"\n{title}\n{header}  target {TARGET_MS:.0f} ms")
    for template, name in PAGES:
        client = clients.setdefault(name, session(base, name))
        status, first, times, pending = measure(
            client, template.replace("{id}", ticket).replace("{month}", month), requests
        )
        if not times:
            what = {404: "absent", 0: f"timeout after {first / 1000:.0f} s"}.get(status, f"HTTP {status}")
            print(f"{template:<26}{name:<11}{what:>9}")
            continue
        median, high = statistics.median(times), p95(times)
        verdict = "MISSED" if high > TARGET_MS else "ok" if first <= TARGET_MS else "first request MISSED"
        if pending:
            verdict += f", {pending} of {len(times) + 1} answers 'being computed'"
        print(f"{template:<26}{name:<11}{first:>9.1f}{median:>10.1f}{high:>9.1f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000, help="demo tickets (default 1,000,000)")
    parser.add_argument("--months", type=int, default=12, help="months of history (default 12)")
    parser.add_argument(
        "--lifecycle",
        type=int,
        default=200_000,
        help="tickets built through the lifecycle; the rest are copies",
    )
    parser.add_argument("--requests", type=int, default=30, help="timed GETs per page (default 30)")
    parser.add_argument("--database", help="database URL (default: a kept SQLite file in the temp folder)")
    parser.add_argument(
        "--no-refresh",
        action="store_true",
        help="do not run `megacity refresh` first: time a cold server",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="then wait this many seconds (background rankings and analyses finish) and time again",
    )
    args = parser.parse_args()
    if args.tickets < 1 or args.requests < 1:
        sys.exit("error: --tickets and --requests must be positive")
    url = (
        args.database
        or f"sqlite:///{Path(tempfile.gettempdir()) / f'megacity-bench-pages-{args.tickets}.db'}"
    )
    app = bootstrap(Settings(database_url=url, environment="local"))
    print(f"database {url.split('@')[-1]}")
    build(app, args.tickets, args.months, args.lifecycle)
    accounts(app)
    ticket, month = some_ticket(app), earlier_month(app)
    print(f"detail page: /tickets/{ticket}; month pages: ?month={month}")
    if not args.no_refresh:
        refresh(url)
    child, base = serve(url)
    clients: dict[str, httpx.Client] = {}
    try:
        timed = (ticket, month, args.requests)
        cold = "cold server (pages may say 'being computed')"
        title = cold if args.no_refresh else "after megacity refresh"
        table(base, clients, *timed, title=title)
        if args.settle > 0:
            time.sleep(args.settle)
            table(base, clients, *timed, title=f"after {args.settle:.0f} s (background work settled)")
    finally:
        for client in clients.values():
            client.close()
        child.terminate()  # a page still computing keeps uvicorn from stopping: then kill it
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    main()
