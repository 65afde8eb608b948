"""The analysis cache of the 分析 page: background computation, pending, stale while revalidating."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from megacity.bootstrap import Megacity
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


def change_data(megacity: Megacity) -> None:
    """An audited change: the data version moves on."""
    with megacity.uow() as uow:
        uow.audit.note(action="test_change", actor="test", role="admin", at=megacity.clock())
        uow.commit()


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
    with page_budget(0.05):  # newer data: the earlier result at once, the new one computed behind
        assert cached(megacity, "slow", "2025-01", slow("v2", second_gate, calls)) == "v1"
    second_gate.set()
    wait_for(lambda: calls == ["v1", "v2"] and not section_cache.running())
    with page_budget(0.05):
        assert cached(megacity, "slow", "2025-01", slow("unused", second_gate, calls)) == "v2"
    assert (
        cached(megacity, "slow", "2025-02", lambda: "other month") == "other month"
    )  # outside a page: inline
