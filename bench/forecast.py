"""Rolling-origin backtest of the weekly forecast on the only real request series at hand.

    python bench/forecast.py [--horizon 8] [--folds 8] [--data ../shared/data]

No public weekly 12345 series exists. The closest real ones are the message dates of the 2020
Teddy Cup board (附件2 test set and labelled sample, 附件3, 附件4: 2011-2019) and the NYC 311
sample. For each series this prints MASE and sMAPE of the model (Fourier + damped ETS, see
docs/forecasts.md) and of the seasonal-naive baseline, with the share of held-out weeks inside
the 95 % band. Series: every board message (ids deduplicated), 附件2 alone, 附件4 alone, and
附件2 per 一级分类 (level-1 category). The NYC sample is checked for weekly coverage and reported
as unusable when it has too few weeks (it is four one-day extracts). Weeks after 2019-12-29
are cut: the board export stops in January 2020.
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from megacity.analytics.forecast_report import BacktestRow, backtest_table
from megacity.analytics.weekly import weekly_counts
from megacity.io.rows import parse_timestamp

ROOT = Path(__file__).resolve().parents[1]
BOARD = "messages/teddycup2020_c"
FILES = {
    "附件2": ["附件2_testdata2801_unlabeled.csv", "附件2_sample495_labeled.csv"],
    "附件3": ["附件3_full4326_likes.csv"],
    "附件4": ["附件4_full2816_replies.csv"],
}
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LAST_WEEK = date(2019, 12, 23)  # the Monday of the last complete week of the board


def board_messages(data: Path) -> list[tuple[str, str, float, str]]:
    """(file group, id, epoch seconds, level-1 category or "") of every board message."""
    out = []
    for group, names in FILES.items():
        for name in names:
            with (data / BOARD / name).open(encoding="utf-8-sig", newline="") as handle:
                for row in csv.DictReader(handle):
                    moment = parse_timestamp(row["留言时间"], SHANGHAI)
                    if moment is not None:
                        out.append(
                            (group, row["留言编号"].strip(), moment.timestamp(), row.get("一级分类", ""))
                        )
    return out


def score(
    name: str, times: list[float], keys: list[tuple[str, ...]], args: argparse.Namespace
) -> BacktestRow:
    weekly = weekly_counts(np.array(times), keys, ("series",) if keys and keys[0] else (), SHANGHAI)
    cut = sum(1 for week in weekly.weeks if week <= LAST_WEEK)
    counts = weekly.counts[:, :cut]
    rows = backtest_table(weekly.keys, counts, horizon=args.horizon, folds=args.folds)
    for row in rows[:-1]:
        label = f"{name} {'/'.join(row.key)}".strip()
        total = int(counts[weekly.keys.index(row.key)].sum())
        print(_line(label, row.weeks, total, row))
    if len(rows) > 2:
        print(
            _line(f"{name} (mean of {len(rows) - 1})", len(weekly.weeks[:cut]), int(counts.sum()), rows[-1])
        )
    return rows[-1]


def _line(label: str, weeks: int, total: int, row: BacktestRow) -> str:
    def f(value: float) -> str:
        return "   -  " if math.isnan(value) else f"{value:6.3f}"

    return (
        f"{label:<28} weeks {weeks:4d} requests {total:6d} folds {row.folds:2d}  "
        f"MASE model {f(row.mase_model)} snaive {f(row.mase_naive)}  "
        f"sMAPE model {f(row.smape_model)} snaive {f(row.smape_naive)}  band {f(row.coverage)}"
    )


def nyc_weeks(data: Path) -> str:
    source = data / "nyc311" / "nyc311_combined_sample_normalized.csv"
    weeks: set[date] = set()
    with source.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            moment = parse_timestamp(row["created_date"], NEW_YORK)
            if moment is not None:
                day = moment.astimezone(NEW_YORK).date()
                weeks.add(date.fromordinal(day.toordinal() - day.weekday()))
    return f"NYC 311 sample: {len(weeks)} distinct weeks over {min(weeks)}..{max(weeks)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=int, default=8)
    parser.add_argument("--folds", type=int, default=8)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    started = time.perf_counter()
    messages = board_messages(args.data)
    unique: dict[str, float] = {}
    for _, ident, moment, _ in messages:
        unique.setdefault(ident, moment)
    print(f"horizon {args.horizon} weeks, {args.folds} rolling origins {args.horizon} weeks apart, 95 % band")
    overall = [score("board (all, dedup)", list(unique.values()), [()] * len(unique), args)]
    for group in ("附件2", "附件4"):
        times = [m for g, _, m, _ in messages if g == group]
        overall.append(score(group, times, [()] * len(times), args))
    labelled = [(m, c) for g, _, m, c in messages if g == "附件2" and c]
    overall.append(score("附件2 by 一级分类", [m for m, _ in labelled], [(c,) for _, c in labelled], args))
    model = np.nanmean([r.mase_model for r in overall])
    naive = np.nanmean([r.mase_naive for r in overall])
    print(f"mean over the four groups: MASE model {model:.3f} seasonal naive {naive:.3f}")
    print(nyc_weeks(args.data) + ": too few weeks for a weekly backtest (needs > 52)")
    print(f"time {time.perf_counter() - started:.1f} s at {datetime.now():%Y-%m-%d %H:%M}")


if __name__ == "__main__":
    main()
