"""Fuzz the JSON API from its own OpenAPI schema (schemathesis): no 5xx, answers conform.

Every operation gets up to 30 generated requests (valid and invalid) with an admin token;
all of schemathesis's checks run except positive-data acceptance (see the test).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from megacity.bootstrap import Megacity, bootstrap
from megacity.settings import Settings as AppSettings
from megacity.web.app import create_app
from tests.conftest import Clock


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/megacity.db"


@pytest.fixture
def megacity(database_url: str, tmp_path: Path, clock: Clock) -> Megacity:
    relaxed = AppSettings(
        database_url=database_url,
        files_dir=tmp_path / "files",
        environment="test",
        client_requests_per_minute=100_000,
        complainant_daily_limit=0,
    )
    return bootstrap(relaxed, clock=clock)


@pytest.fixture
def admin_headers(login: Callable[[str], httpx.Client]) -> dict[str, str]:
    return {"Authorization": str(login("admin").headers["Authorization"])}


def _openapi() -> dict[str, object]:
    """The schema the server publishes, built without a database."""
    offline = bootstrap(AppSettings(database_url="sqlite://", environment="test"), initialise=False)
    return create_app(offline).openapi()


schema = schemathesis.openapi.from_dict(_openapi())


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(
    case: schemathesis.Case, server: str, admin_headers: dict[str, str]
) -> None:
    # business rules (codes that exist in the profile, a decodable cursor, a non-empty file)
    # cannot be written in a schema, so "schema-valid but rejected with 422" is expected
    case.call_and_validate(
        base_url=server, headers=admin_headers, excluded_checks=[checks.positive_data_acceptance]
    )
