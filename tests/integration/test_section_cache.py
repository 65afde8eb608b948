"""Slow results kept per data version (`services.revalidate`): background computation, pending,
stale while revalidating, stored in `result_snapshots` and shared between processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import update

from megacity.bootstrap import Megacity
from megacity.services.revalidate import RevalidatingCache
from megacity.store import snapshots
from megacity.store.audit import data_version
from megacity.store.snapshot_tables import result_snapshots
from megacity.web.pages import section_cache
from megacity.web.pages.section_cache import Pending, cached, page_budget


def slow(value: str, gate: threading.Event, calls: list[str]) -> Callable[[], str]:
    def compute() -> str:
        calls.append(value)
        gate.wait(10)
        return value

    return compute


def wait_for(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, "the background job did not finish"
        time.sleep(0.02)


def change_data(megacity: Megacity, action: str = "test_change") -> None:
    """An audited event: a change of data unless `action` is bookkeeping."""
    with megacity.uow() as uow:
        uow.audit.note(action=action, actor="test", role="admin", at=megacity.clock())
        uow.commit()


def version(megacity: Megacity) -> str:
    with megacity.engine.connect() as conn:
        return data_version(conn)


def test_cold_analysis_is_pending_then_served_and_stale_while_revalidating(megacity: Megacity) -> None:
    section_cache.clear()
    calls: list[str] = []
    first_gate, second_gate = threading.Event(), threading.Event()
    with page_budget(0.05), pytest.raises(Pending):
        cached(megacity, "slow", "2025-01", slow("v1", first_gate, calls))
    with page_budget(0.05), pytest.raises(Pending):  # the same job runs: not started twice
        cached(megacity, "slow", "2025-01", slow("v1-again", first_gate, calls))
    first_gate.set()
    wait_for(lambda: not section_cache.running())
    assert cached(megacity, "slow", "2025-01", slow("unused", first_gate, calls)) == "v1"
    assert calls == ["v1"]

    change_data(megacity)
    with page_budget(0.05) as page:  # newer data: the earlier result once the wait is spent
        assert cached(megacity, "slow", "2025-01", slow("v2", second_gate, calls)) == "v1"
    assert page.as_of is not None  # the page says how old the figures are
    second_gate.set()
    wait_for(lambda: calls == ["v1", "v2"] and not section_cache.running())
    with page_budget(0.05) as page:
        assert cached(megacity, "slow", "2025-01", slow("unused", second_gate, calls)) == "v2"
    assert page.as_of is None
    assert (
        cached(megacity, "slow", "2025-02", lambda: "other month") == "other month"
    )  # outside a page: inline


def test_a_young_result_is_shown_at_once_and_renewed_behind(megacity: Megacity) -> None:
    section_cache.clear()
    assert cached(megacity, "young", "2025-01", lambda: "old") == "old"
    change_data(megacity)
    gate, calls = threading.Event(), list[str]()
    started = time.monotonic()
    with page_budget(30, max_age=600) as page:  # could wait 30 s, but the result is young
        assert cached(megacity, "young", "2025-01", slow("new", gate, calls)) == "old"
    assert time.monotonic() - started < 5 and page.as_of is not None
    gate.set()
    wait_for(lambda: calls == ["new"] and not section_cache.running())
    assert cached(megacity, "young", "2025-01", lambda: "unused") == "new"


def test_only_changes_of_data_move_the_data_version(megacity: Megacity) -> None:
    before = version(megacity)
    change_data(megacity, "view_personal_data")  # a logged look at a phone number
    change_data(megacity, "create_user")
    assert version(megacity) == before
    change_data(megacity, "adopt_topic")
    after = version(megacity)
    assert after != before and int(after.split(":")[0]) == int(before.split(":")[0]) + 3


def test_results_are_stored_and_read_by_another_process(megacity: Megacity) -> None:
    url = megacity.settings.database_url
    writer: RevalidatingCache[dict[str, int]] = RevalidatingCache("shared", 4)
    reader: RevalidatingCache[dict[str, int]] = RevalidatingCache("shared", 4)  # a second server process
    assert writer.get(url, "q", lambda: {"answer": 42}) == {"answer": 42}
    assert reader.get(url, "q", lambda: pytest.fail("computed again")) == {"answer": 42}
    [row] = [r for r in snapshots.listing(megacity.engine) if r["name"] == "shared"]
    assert row["label"] == "q" and row["version"] == version(megacity) and row["seconds"] >= 0

    change_data(megacity)
    assert writer.get(url, "q", lambda: {"answer": 43}) == {"answer": 43}
    with page_budget(0.05, max_age=600):  # the reader's memory is older than the stored result
        assert reader.get(url, "q", lambda: pytest.fail("computed again")) == {"answer": 43}


def test_an_unreadable_stored_result_is_recomputed(
    megacity: Megacity, caplog: pytest.LogCaptureFixture
) -> None:
    url = megacity.settings.database_url
    first: RevalidatingCache[str] = RevalidatingCache("broken", 4)
    assert first.get(url, "q", lambda: "stored") == "stored"
    with megacity.engine.begin() as conn:
        conn.execute(update(result_snapshots).values(payload=b"not a pickle"))
    second: RevalidatingCache[str] = RevalidatingCache("broken", 4)
    assert second.get(url, "q", lambda: "recomputed") == "recomputed"
    assert "unreadable" in caplog.text
    assert snapshots.clear(megacity.engine, "broken") == 1
