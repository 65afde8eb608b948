"""Indicator engine: COINr's ASEM example end to end, and derived indicators on a demo database.

    python bench/indicators.py [--tickets 20000] [--database URL]

1. *ASEM* (`../shared/data/indicators/coinr_asem/`, else `tests/data/coinr_asem/`): the issue's
   pipeline (denominate → impute group mean by EurAsia_group → minmax 0–100 → arithmetic mean)
   on the single year and on the 5-year panel; prints the top and bottom five of the Index
   with ranks, and the run time.
2. *Derived indicators*: `--tickets` demo requests over three months loaded into a fresh SQLite
   database (or `--database`, used as is), then one month derived at every level; the baseline
   is the monthly assessment of the same month on the same engine (the same ticket scan).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from megacity.assessment import service as assessment
from megacity.bootstrap import bootstrap
from megacity.demo import generate
from megacity.indicators.derived import parse_period
from megacity.indicators.io import load
from megacity.indicators.orgunits import levels
from megacity.indicators.pipeline import read_pipeline
from megacity.indicators.service import derived, profile_dir
from megacity.services.demo_load import load_demo
from megacity.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "indicators" / "coinr_asem"
PIPELINE = """steps:
  - denominate: {}
  - impute: {method: group_mean, group: EurAsia_group}
  - normalise: {method: minmax, lower: 0, upper: 100}
  - aggregate: {method: arithmetic_mean}
"""


def asem(folder: Path, work: Path) -> None:
    (work / "p.yaml").write_text(PIPELINE, encoding="utf-8")
    steps = read_pipeline(work / "p.yaml")
    for name in ("ASEM_iData.csv", "ASEM_iData_p.csv"):
        start = time.perf_counter()
        final = steps.run(load(folder / name, folder / "ASEM_iMeta.csv")).final.data
        took = time.perf_counter() - start
        times = sorted(final["Time"].unique()) if "Time" in final.columns else [None]
        for t in times:
            part = final if t is None else final[final["Time"] == t]
            ranked = part.assign(rank=part["Index"].rank(ascending=False, method="min")).sort_values("rank")
            rows = pd.concat([ranked.head(5), ranked.tail(5)])
            label = name if t is None else f"{name} {int(t)}"
            print(
                f"{label}: "
                + ", ".join(f"{int(r['rank'])} {r['uCode']} {r['Index']:.2f}" for _, r in rows.iterrows())
            )
        print(f"{name}: {len(final)} rows in {took:.2f} s")


def derive_bench(url: str | None, tickets: int, work: Path) -> None:
    if url is None:
        url = f"sqlite:///{work / 'demo.db'}"
        app = bootstrap(Settings(database_url=url, files_dir=work / "files", environment="test"))
        start = time.perf_counter()
        load_demo(app=app, cases=generate(app.profile, count=tickets, months=3, seed=1))
        print(f"loaded {tickets} demo requests in {time.perf_counter() - start:.1f} s")
    else:
        app = bootstrap(Settings(database_url=url, environment="test"))
    month = "2025-12"
    start = time.perf_counter()
    assessment.ranking(app, assessment.options_for(app, [int(month[:4]) * 12 + int(month[5:]) - 1]))
    print(f"baseline: assessment of {month}: {time.perf_counter() - start:.2f} s")
    for level in levels(app.profile):
        start = time.perf_counter()
        table = derived(url, app.profile, profile_dir(None), [parse_period(month)], level=level)
        took = time.perf_counter() - start
        print(
            f"derive {month} level {level}: {table['ou_code'].nunique()} units x 6 indicators in {took:.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        asem(SHARED if SHARED.is_dir() else ROOT / "tests" / "data" / "coinr_asem", work)
        derive_bench(args.database, args.tickets, work)


if __name__ == "__main__":
    main()
