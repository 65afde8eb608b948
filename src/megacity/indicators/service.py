"""Derived indicators of a profile and a database, as the CLI, the API and the monitoring page
ask for them: definitions, long results and wide panels ready for `panel.py`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from megacity.domain.profile import Profile
from megacity.indicators.derive import DerivedRequest, derive, wide
from megacity.indicators.derived import DEFINITIONS_FILE, Definition, Period, load_definitions, select
from megacity.indicators.errors import IndicatorError
from megacity.indicators.orgunits import DISTRICT, check_level, org_units
from megacity.profiles.loader import default_profile_path


def profile_dir(setting: Path | None) -> Path:
    """The profile folder of a `Settings.profile` value (None: the shipped Beijing profile)."""
    folder = default_profile_path() if setting is None else Path(setting)
    return folder.parent if folder.is_file() else folder


def definitions(folder: Path, codes: Sequence[str] | None = None) -> list[Definition]:
    """The profile's derived indicators (all, or those named)."""
    path = folder / DEFINITIONS_FILE
    if not path.is_file():
        raise IndicatorError(f"the profile has no derived indicators ({path} is missing)")
    return select(load_definitions(path), codes)


def directions(defs: Sequence[Definition]) -> dict[str, int]:
    """Indicator code -> direction (1: higher is better)."""
    return {d.code: d.direction for d in defs}


def derived(
    database: str,
    profile: Profile,
    folder: Path,
    periods: Sequence[Period],
    *,
    level: str = DISTRICT,
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Derived indicators of the periods for every org unit of `level` (long format)."""
    request = DerivedRequest(
        periods, org_units(profile, check_level(profile, level), folder), definitions(folder, codes)
    )
    return derive(database, profile, request)


def derived_panel(
    database: str,
    profile: Profile,
    folder: Path,
    periods: Sequence[Period],
    *,
    level: str = DISTRICT,
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The same as a wide panel: uCode, uName, Time, one column per indicator."""
    return wide(derived(database, profile, folder, periods, level=level, codes=codes))
