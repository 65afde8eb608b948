"""What the slow pages show, computed ahead of their visitors (`megacity refresh`).

考核排名, 指标监测 and 分析 read rankings and analyses that take minutes at a million requests.
They are kept per data version in `result_snapshots` (`services.revalidate`); this computes the
city-wide ones of the given months outside any page, so the first visitor after a busy hour —
or after a restart — finds them ready. Run it from cron (every 10 minutes, say) the way DHIS2
runs its analytics tables job; what is already of the current data is not computed again.
District reviewers' scoped analyses are computed on their first view.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from megacity.assessment import service
from megacity.assessment.rules import parse_month
from megacity.assessment.trends import series_months
from megacity.bootstrap import Megacity
from megacity.domain.access import Actor
from megacity.domain.enums import Role
from megacity.store import snapshots
from megacity.web.pages import landing, monitoring_data, ranking_data
from megacity.web.pages.analysis import SECTIONS

#: The analyses are computed city-wide, as an administrator sees them.
CITY = Actor(name="refresh", role=Role.ADMIN)


@dataclass(frozen=True)
class Job:
    label: str
    run: Callable[[], object]


@dataclass(frozen=True)
class Done:
    label: str
    seconds: float
    computed: bool  # False: every result it needs was already of the current data


def default_months(app: Megacity) -> list[str]:
    """The month the pages open on and the one before it (the month being assessed)."""
    current = ranking_data.default_month(app)
    return ranking_data.previous_months(current, 2)[::-1]


def jobs(app: Megacity, months: list[str]) -> list[Job]:
    """The landing page's counts; per month: the ranking, its 12 months (every unit's trend),
    every unit's explanation, the monitoring panel and every analysis section."""
    found: list[Job] = [Job("landing counts", partial(landing.counts, app))]
    for month in months:
        found.append(Job(f"ranking {month}", partial(ranking_data.month_ranking, app, month)))
        found.append(Job(f"ranking trends {month}", partial(_series, app, month)))
        found.append(Job(f"ranking explanations {month}", partial(_explanations, app, month)))
        found.append(Job(f"monitoring {month}", partial(monitoring_data.district_panel, app, month)))
        found.extend(Job(f"analysis {s.key} {month}", partial(s.build, app, CITY, month)) for s in SECTIONS)
    return found


def _series(app: Megacity, month: str) -> None:
    service.ranking(app, service.options_for(app, series_months(month)))


def _explanations(app: Megacity, month: str) -> None:
    service.explain_every_unit(app, service.options_for(app, [parse_month(month)]))


def refresh(
    app: Megacity, months: list[str], progress: Callable[[int], None] | None = None
) -> Iterator[Done]:
    """Run the jobs one after the other (the host keeps its other core for requests)."""
    for job in jobs(app, months):
        before = snapshots.newest(app.engine)
        started = time.perf_counter()
        job.run()
        seconds = time.perf_counter() - started
        if progress is not None:
            progress(1)
        yield Done(job.label, seconds, snapshots.newest(app.engine) != before)
