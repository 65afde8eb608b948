"""The two slowest analyses of the 分析 page on an existing database: seconds of each.

    python bench/analyses_scale.py --database sqlite:////tmp/megacity-bench-pages-1000000.db
        [--month 2025-12] [--only profiles|repeats]

1. *Complainant profiles* — `services.complainants.all_profiles`: every ticket read, the repeat
   chains of the whole history (`analytics.repeats.group_rows`), one profile per complainant.
2. *The month's repeat chains* — `web.pages.repeats_data.month_repeats` for `--month` (the
   month and the repeat window before it read, chains active in the month summarised).

Build the database with `bench/pages.py` (it keeps `/tmp/megacity-bench-pages-N.db`). The
database is only read; opening it runs the migrations, so give a copy if it is not at the
newest schema. Each analysis runs once, cold (no section cache involved), and its seconds,
result size and the peak memory so far are printed; the CPU seconds next to the wall-clock
ones vary less when other work shares the machine.
"""

from __future__ import annotations

import argparse
import resource
import time

from megacity.bootstrap import bootstrap
from megacity.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True, help="database URL, e.g. sqlite:////tmp/x.db")
    parser.add_argument("--month", default="2025-12", help="month of the repeat chains (YYYY-MM)")
    parser.add_argument("--only", choices=("profiles", "repeats"), help="run one of the two")
    args = parser.parse_args()
    app = bootstrap(Settings(database_url=args.database, environment="local"))
    if args.only in (None, "profiles"):
        from megacity.services.complainants import all_profiles

        started, cpu = time.perf_counter(), time.process_time()
        profiles = all_profiles(app=app)
        seconds = _seconds(started, cpu)
        print(f"profiles        {seconds}  {len(profiles):>9,} complainants  {_peak()}")
    if args.only in (None, "repeats"):
        from megacity.web.pages.repeats_data import month_repeats

        started, cpu = time.perf_counter(), time.process_time()
        found = month_repeats(app, args.month, None)
        seconds = _seconds(started, cpu)
        print(
            f"month_repeats   {seconds}  {found['requests']:>9,} requests, "
            f"{found['repeats']:,} repeats, {len(found['chains']):,} chains in {args.month}  {_peak()}"
        )


def _seconds(started: float, cpu: float) -> str:
    """Wall-clock and CPU seconds: on a shared machine the CPU time is the steadier figure."""
    return f"{time.perf_counter() - started:7.1f} s ({time.process_time() - cpu:.1f} s CPU)"


def _peak() -> str:
    return f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"


if __name__ == "__main__":
    main()
