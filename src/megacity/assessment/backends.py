"""Engines and inputs: open a ticket table on DuckDB, PostgreSQL or Spark.

* **DuckDB** (embedded, the default) reads Parquet or CSV files, or the operational database:
  the tickets of the months are read through SQLAlchemy into Arrow (DuckDB's sqlite and
  postgres extensions cannot be downloaded offline).
* **PostgreSQL**: Ibis runs the expression on the `tickets` table itself.
* **Spark** (``megacity[spark]`` and Java): a local session with ``spark.sql.session.timeZone=UTC``.
  Canonical Parquet is read directly; anything else is first normalised by DuckDB into a
  temporary Parquet file.

Files are normalised to the canonical types in DuckDB (`staging.py`): header names matched
loosely, times without an offset read in the profile's zone, ``true``/``false`` booleans,
empty cells null. A missing required column or an unreadable value is a `SourceError`.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend
from sqlalchemy.engine import make_url

from megacity.assessment import staging
from megacity.assessment.errors import SourceError
from megacity.assessment.expressions import conform


class EngineName(StrEnum):
    DUCKDB = "duckdb"
    POSTGRES = "postgres"
    SPARK = "spark"


@dataclass
class Opened:
    """An engine with the conformed ticket table; `close()` releases it."""

    engine: EngineName
    backend: BaseBackend
    tickets: ir.Table
    database_url: str | None = None
    _cleanup: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for step in reversed(self._cleanup):
            try:
                step()
            except Exception:  # pragma: no cover - best effort
                pass
        self._cleanup.clear()


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def choose_engine(engine: str | None, database: str | None) -> EngineName:
    """The engine asked for, or PostgreSQL for a PostgreSQL database and DuckDB otherwise."""
    if engine is None:
        return EngineName.POSTGRES if database and is_postgres(database) else EngineName.DUCKDB
    try:
        return EngineName(engine.strip().lower())
    except ValueError:
        raise SourceError(f"unknown engine {engine!r}: use duckdb, postgres or spark") from None


@contextmanager
def open_tickets(
    *,
    tickets: Path | None,
    database: str | None,
    engine: EngineName,
    timezone: str,
    window: tuple[datetime, datetime],
) -> Iterator[Opened]:
    """Open the ticket source on the engine; only tickets received in `window` are needed."""
    if (tickets is None) == (database is None):
        raise SourceError("give either a ticket file or a database")
    if engine is EngineName.POSTGRES:
        if database is None or not is_postgres(database):
            raise SourceError(
                "the postgres engine reads a PostgreSQL --database; use duckdb or spark for files"
            )
        opened = _open_postgres(database)
    elif engine is EngineName.SPARK:
        opened = _open_spark(tickets, database, timezone, window)
    else:
        opened = _open_duckdb(tickets, database, timezone, window)
    try:
        yield opened
    finally:
        opened.close()


def _open_duckdb(
    tickets: Path | None, database: str | None, timezone: str, window: tuple[datetime, datetime]
) -> Opened:
    con = ibis.duckdb.connect()
    raw = con.con
    raw.execute("SET TimeZone = 'UTC'")
    limit = os.environ.get("MEGACITY_DUCKDB_MEMORY_LIMIT")
    if limit:
        raw.execute(f"SET memory_limit = '{limit}'")
    try:
        if tickets is not None:
            staging.stage_file(raw, tickets, timezone)
        else:
            assert database is not None
            staging.stage_arrow(raw, staging.read_database(database, window))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            table = con.table(staging.VIEW)
    except BaseException:
        con.disconnect()
        raise
    opened = Opened(EngineName.DUCKDB, con, conform(table), database)
    opened._cleanup.append(con.disconnect)
    return opened


def _open_postgres(url: str) -> Opened:
    parsed = make_url(url)
    query: dict[str, Any] = dict(parsed.query)
    try:
        con = ibis.postgres.connect(
            host=parsed.host or "localhost",
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
            **query,
        )
    except Exception as exc:
        raise SourceError(f"cannot connect to {parsed.render_as_string()}: {_first_line(exc)}") from None
    if "tickets" not in con.list_tables():
        con.disconnect()
        raise SourceError(f"{parsed.render_as_string()} has no tickets table: run `megacity init`")
    opened = Opened(EngineName.POSTGRES, con, conform(con.table("tickets")), url)
    opened._cleanup.append(con.disconnect)
    return opened


def _open_spark(
    tickets: Path | None, database: str | None, timezone: str, window: tuple[datetime, datetime]
) -> Opened:
    session = spark_session()
    con = ibis.pyspark.connect(session)
    cleanup: list[Callable[[], None]] = []
    path = tickets if tickets is not None and staging.is_canonical_parquet(tickets) else None
    if path is None:
        folder = Path(tempfile.mkdtemp(prefix="megacity-assess-"))
        cleanup.append(functools.partial(shutil.rmtree, folder, True))
        path = folder / "tickets.parquet"
        staging.write_normalised_parquet(tickets, database, timezone, window, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = con.read_parquet(str(path))
    opened = Opened(EngineName.SPARK, con, conform(table), database)
    opened._cleanup.extend(cleanup)
    return opened


def spark_available() -> str | None:
    """None when Spark can run here, else the reason it cannot."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "the spark engine needs pyspark: pip install 'megacity[spark]'"
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and Path(java_home, "bin", "java").exists()):
        return "the spark engine needs Java (java on PATH or JAVA_HOME)"
    return None


#: A local session is short-lived: the C1 compiler and the serial collector start it in a third
#: of the time on a small machine, and a year at Beijing scale runs as fast (bench/assess.py).
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


@functools.cache
def spark_session() -> Any:
    """One local Spark session per process, in UTC, quiet."""
    reason = spark_available()
    if reason:
        raise SourceError(reason)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    warnings.filterwarnings("ignore", module="pyspark")
    from pyspark.sql import SparkSession

    builder: Any = SparkSession.builder
    cores = max(2, os.cpu_count() or 2)
    session = (
        builder.master(os.environ.get("MEGACITY_SPARK_MASTER", "local[*]"))
        .appName("megacity-assess")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("MEGACITY_SPARK_PARTITIONS", str(cores)))
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.memory", os.environ.get("MEGACITY_SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.driver.extraJavaOptions", os.environ.get("MEGACITY_SPARK_JAVA_OPTIONS", QUICK_JVM))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
