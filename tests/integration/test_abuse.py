"""Abuse limits: per client and per complainant, answered with 429 problem+json and Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from megacity.bootstrap import Megacity, bootstrap
from megacity.settings import Settings
from tests.conftest import Clock

BODY = {
    "channel": "phone",
    "kind": "complaint",
    "title": "噪音",
    "text": "楼下商铺噪音",
    "phone": "13700001111",
}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        files_dir=tmp_path / "files",
        environment="test",
        client_requests_per_minute=12,
        complainant_daily_limit=3,
    )


@pytest.fixture
def megacity(settings: Settings, clock: Clock) -> Megacity:
    return bootstrap(settings, clock=clock)


def test_complainant_daily_limit(http: httpx.Client, clock: Clock) -> None:
    for _ in range(3):
        assert http.post("/api/requests", json=BODY).status_code == 201
    refused = http.post("/api/requests", json=BODY)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "3600"
    assert (
        refused.headers["content-type"] == "application/problem+json"
        and "Art. 37" in refused.json()["detail"]
    )
    assert http.post("/api/requests", json={**BODY, "phone": "13700002222"}).status_code == 201
    clock.advance(days=1, minutes=1)
    assert http.post("/api/requests", json=BODY).status_code == 201


def test_client_rate_limit(login: Callable[[str], httpx.Client]) -> None:
    admin, operator = login("admin"), login("operator")
    codes = [admin.get("/api/requests").status_code for _ in range(20)]
    assert codes.count(200) == 12 and set(codes[12:]) == {429}
    assert operator.get("/api/requests").status_code == 200  # another client has its own bucket
