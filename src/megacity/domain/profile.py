"""A city profile: everything city-specific, as data.

Another city adopts Megacity by writing another profile folder; the code reads only this
structure. Loading and validating the files is the job of `megacity.profiles`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from megacity.domain.calendar import TimeLimit
from megacity.domain.catalog import Catalogue
from megacity.domain.enums import Urgency
from megacity.domain.org import Organisation


@dataclass(frozen=True)
class TimeLimits:
    """Per urgency class: dispatch, response (first contact) and feedback limits."""

    dispatch: Mapping[Urgency, TimeLimit]
    response: Mapping[Urgency, TimeLimit]
    feedback: Mapping[Urgency, TimeLimit]


@dataclass(frozen=True)
class Assumption:
    """A profile value chosen without an official source, said out loud."""

    key: str
    note: str


@dataclass(frozen=True)
class AssessmentSettings:
    """Settings of the monthly assessment (考核)."""

    weights: Mapping[str, float]  # response, resolution, satisfaction
    basically_satisfied_weight: float = 1.0
    min_rated_for_ranking: int = 10
    governance_focus_count: int = 10


@dataclass(frozen=True)
class Profile:
    """The whole configuration of one city, in force from `valid_from`."""

    code: str
    name: str
    version: str
    valid_from: date
    timezone: str
    org: Organisation
    catalogue: Catalogue
    limits: TimeLimits
    assessment: AssessmentSettings
    calendar_overrides: Mapping[date, bool] = field(default_factory=dict)
    dispatch_confidence_threshold: float = 0.6
    repeat_window_days: int = 60
    retention_days: int = 3 * 365
    public_request_list: bool = True
    assumptions: tuple[Assumption, ...] = ()
