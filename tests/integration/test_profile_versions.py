"""A request is judged by the profile in force when it was received (streets merge, units rename)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from megacity.bootstrap import bootstrap
from megacity.domain.enums import Channel, Kind
from megacity.domain.errors import ValidationError
from megacity.profiles import default_profile_path
from megacity.services import intake
from megacity.settings import Settings
from tests.conftest import Clock

MERGED_AWAY = "110101001"  # 东华门街道, ended in this test's profile on 2025-01-01


def profile_with_merged_street(tmp_path: Path) -> Path:
    folder = tmp_path / "profile"
    shutil.copytree(default_profile_path(), folder)
    units = folder / "units.csv"
    lines = units.read_text(encoding="utf-8").splitlines()
    lines = [line + "2025-01-01" if line.startswith(MERGED_AWAY + ",") else line for line in lines]
    units.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_street_is_valid_only_while_in_force(tmp_path: Path, database_url: str) -> None:
    app = bootstrap(
        Settings(
            database_url=database_url, profile=profile_with_merged_street(tmp_path), files_dir=tmp_path / "f"
        ),
        clock=Clock(datetime(2025, 3, 3, tzinfo=UTC)),
    )
    request = intake.NewRequest(
        channel=Channel.WEB, kind=Kind.HELP, title="路面坑洼", text="胡同路面坑洼", street_code=MERGED_AWAY
    )
    earlier = intake.NewRequest(**{**request.__dict__, "received_at": datetime(2024, 12, 30, tzinfo=UTC)})
    ticket, _ = intake.submit(app=app, request=earlier, actor="op", role="operator")
    assert ticket.district_code == "110101" and ticket.profile_version == app.profile.version
    with pytest.raises(ValidationError, match="not in force on 2025-03-03"):
        intake.submit(app=app, request=request, actor="op", role="operator")
