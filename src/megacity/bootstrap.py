"""Wiring: the one place that builds the objects the web app, the CLI and the tests share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from megacity.domain.calendar import WorkingCalendar
from megacity.domain.profile import Profile
from megacity.holidays import official_workday
from megacity.profiles import load_profile
from megacity.services.dispatch import Dispatcher, default_dispatcher
from megacity.settings import Settings
from megacity.store.crypto import Vault
from megacity.store.database import engine_for, init_database
from megacity.store.unit_of_work import UnitOfWork


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Megacity:
    """Everything a use case needs: settings, profile, database, calendar, dispatcher, clock."""

    settings: Settings
    profile: Profile
    engine: Engine
    vault: Vault
    calendar: WorkingCalendar
    dispatcher: Dispatcher
    clock: Callable[[], datetime] = field(default=utc_now)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.profile.timezone)

    def uow(self, *, write: bool = True) -> UnitOfWork:
        """A new unit of work; read-only ones do not take the SQLite write lock."""
        return UnitOfWork(self.engine, self.vault, write=write)


def bootstrap(
    settings: Settings,
    *,
    dispatcher: Dispatcher | None = None,
    clock: Callable[[], datetime] | None = None,
    initialise: bool = True,
) -> Megacity:
    """Build the application; with `initialise`, create or upgrade the database schema."""
    profile = load_profile(settings.profile)
    if initialise:
        init_database(settings.database_url)
    calendar = WorkingCalendar(source=official_workday, overrides=profile.calendar_overrides)
    return Megacity(
        settings=settings,
        profile=profile,
        engine=engine_for(settings.database_url),
        vault=Vault(settings.vault_keys),
        calendar=calendar,
        dispatcher=dispatcher or default_dispatcher(profile, settings),
        clock=clock or utc_now,
    )
