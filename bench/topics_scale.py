"""Monthly topics (每月一题) of one month of a database, timed: the 分析 page's topics section.

Loads the month's requests and the three months before (growth) as `topics.propose` does, then
times `propose_from` alone (clustering, ranking, growth) and prints the proposals, so a change
can be checked to give the same answer:

    python bench/topics_scale.py --database sqlite:////tmp/megacity-bench-pages-1000000.db \\
        --month 2025-12 [--limit N]

`--limit N` keeps the first N requests of the month and the same share of each earlier month
(to see how the parts scale). The database is only read; bootstrap may upgrade its schema, so
point it at a copy when the file must not change.
"""

from __future__ import annotations

import argparse
import time

from megacity.bootstrap import bootstrap
from megacity.services import topics
from megacity.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", required=True)
    parser.add_argument("--month", required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    app = bootstrap(Settings(database_url=args.database, environment="local"))
    zone = app.profile.timezone
    started = time.perf_counter()
    with app.uow(write=False) as uow:
        current = topics.load_messages(uow.connection, *topics.month_bounds(args.month, zone))
        history = [
            topics.load_messages(uow.connection, *topics.month_bounds(args.month, zone, -back))
            for back in range(1, topics.GROWTH_MONTHS + 1)
        ]
    loaded = time.perf_counter() - started
    if args.limit is not None and current:
        share = min(1.0, args.limit / len(current))
        current = current[: args.limit]
        history = [month[: int(len(month) * share)] for month in history]
    started = time.perf_counter()
    proposals = topics.propose_from(current, history, args.top)
    seconds = time.perf_counter() - started
    print(
        f"{args.month}: {len(current)} requests, history {[len(m) for m in history]}; "
        f"loaded in {loaded:.1f} s, proposals in {seconds:.1f} s"
    )
    for p in proposals:
        print(
            f"  {p.rank:>2} heat {p.heat:7.4f} volume {p.volume:<6} people {p.people:<6} "
            f"previous {p.previous:<10} {p.phrase} | {p.representative_id} {p.representative_title}"
        )


if __name__ == "__main__":
    main()
