"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured) and a real server.

Set MEGACITY_TEST_DATABASE_URL to a PostgreSQL URL to run every storage and API test on both
engines. With CI=true any skipped test fails the run, so CI cannot hide missing parts.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, make_url, text

from megacity.bootstrap import Megacity, bootstrap
from megacity.domain.enums import Role
from megacity.services.accounts import create_user
from megacity.settings import Settings
from megacity.store.database import engine_for, normalise_url
from megacity.web.app import create_app

PG_URL = os.environ.get("MEGACITY_TEST_DATABASE_URL")
# Pages show complete rankings and analyses of the current data in tests (production waits 0.2 s,
# then shows a result up to 10 minutes old while the new one is computed in the background);
# tests/integration/test_section_cache.py tests that path itself.
os.environ.setdefault("MEGACITY_PAGE_WAIT_SECONDS", "60")
os.environ.setdefault("MEGACITY_PAGE_MAX_AGE_SECONDS", "0")
SHARED_DATA = Path(
    os.environ.get("MEGACITY_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@dataclass
class Clock:
    """A clock the tests move by hand; the app reads it for every 'now'."""

    now: datetime = field(default_factory=lambda: datetime(2025, 3, 3, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _worker_database(url: str, worker: str) -> str:
    """A database of its own for each xdist worker (created on first use), emptied per test."""
    base = make_url(normalise_url(url))
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    worker_url = base.set(database=name).render_as_string(hide_password=False)
    engine_for(worker_url).dispose()
    engine = create_engine(worker_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return worker_url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> str:
    """A fresh, empty database on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'megacity.db'}"
    if not PG_URL:
        pytest.skip("PostgreSQL tests need MEGACITY_TEST_DATABASE_URL")
    return _worker_database(PG_URL, worker_id)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, files_dir=tmp_path / "files", environment="test")


@pytest.fixture
def megacity(settings: Settings, clock: Clock) -> Megacity:
    return bootstrap(settings, clock=clock)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(megacity: Megacity) -> Iterator[str]:
    """A real uvicorn server on a free loopback port, serving the app over HTTP."""
    port = _free_port()
    config = uvicorn.Config(create_app(megacity), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


PASSWORD = "correct-horse-battery-staple"
#: Test accounts: role, unit, district. `unit` handles 东华门街道 (110101001) in 东城区 (110101).
ACCOUNTS: dict[str, tuple[Role, str | None, str | None]] = {
    "admin": (Role.ADMIN, None, None),
    "operator": (Role.OPERATOR, None, None),
    "dispatcher": (Role.DISPATCHER, None, None),
    "unit": (Role.UNIT_HANDLER, "110101001", None),
    "other-unit": (Role.UNIT_HANDLER, "110101002", None),
    "reviewer": (Role.DISTRICT_REVIEWER, None, "110101"),
    "other-reviewer": (Role.DISTRICT_REVIEWER, None, "110102"),
    "analyst": (Role.ANALYST, None, None),
    "auditor": (Role.AUDITOR, None, None),
}


@pytest.fixture
def login(server: str, megacity: Megacity) -> Iterator[Callable[[str], httpx.Client]]:
    """`login(name)` gives an HTTP client holding a bearer token of that test account."""
    clients: dict[str, httpx.Client] = {}

    def client_for(name: str) -> httpx.Client:
        if name not in clients:
            role, unit, district = ACCOUNTS[name]
            create_user(
                app=megacity,
                username=name,
                password=PASSWORD,
                role=role,
                unit_code=unit,
                district_code=district,
            )
            client = httpx.Client(base_url=server, timeout=30)
            answer = client.post("/api/auth/token", data={"username": name, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
            clients[name] = client
        return clients[name]

    yield client_for
    for client in clients.values():
        client.close()


@pytest.fixture
def anonymous(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


@pytest.fixture
def http(login: Callable[[str], httpx.Client]) -> httpx.Client:
    """An admin's client: the lifecycle tests act with every role's rights."""
    return login("admin")


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say up front when the public-data tests are left out (with xdist the workers collect,
    so the line below never reaches the terminal)."""
    if SHARED_DATA.is_dir():
        return None
    return f"public data {SHARED_DATA} is absent: tests/integration/*_shared_data.py are deselected"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without the public data folder beside the clone, leave out the tests that read it.

    The repository must pass on its own (its samples are shipped); `*_shared_data.py` modules
    test the importers and models on the full ../shared/data, which a clone may not have. They are
    deselected with a line saying so, not skipped, so that CI=true still fails on any skip —
    a missing database or browser — while a partial data folder makes them skip, and fail on CI.
    """
    if SHARED_DATA.is_dir():
        return
    left_out = [item for item in items if item.path.name.endswith("_shared_data.py")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(
                f"{len(left_out)} test(s) over the public data deselected: {SHARED_DATA} is absent "
                "(set MEGACITY_SHARED_DATA to run them)",
                yellow=True,
            )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """On CI, a skipped test is a failure: every tier must really run there."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        if reporter:
            reporter.write_line(f"CI=true: {len(skipped)} skipped test(s) count as failures", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
