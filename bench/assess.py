"""Speed of the monthly assessment (issue 3): a year at Beijing scale, engine vs hand-written SQL.

Generates a year of tickets (default 10 million, about Beijing's yearly 12345 volume) as
canonical Parquet with DuckDB SQL, then times, each as a whole process, in the same run:

* **engine** — ``python -m megacity assess --tickets F --months 2025-01:2025-12 --out R.csv``
  (Ibis on DuckDB: profile loading, expression building, compilation, execution, CSV);
* **hand** — one hand-written DuckDB SQL query computing the same table (same rules, same
  profile facts and limits, month via ``timezone('Asia/Shanghai', received_at)``), written by
  ``COPY … TO``, in ``python -c`` with only duckdb imported;
* **spark** — the engine with ``--engine spark`` on the same file (unless ``--no-spark``).

Prints seconds, the ratio engine / hand (target ≤ 1.3) and each process's peak memory
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a wrapper that runs just that process, and
for Spark's JVM, which is not waited for, the process tree sampled through /proc; target ≤ 1.5 GB),
and checks that engine and hand-written SQL (and Spark) agree on every figure. CPU seconds are
those of the waited-for processes (Spark's JVM not included).

    python bench/assess.py [--rows 10000000] [--repeat 3] [--no-spark] [--folder DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2025
MONTHS = f"{YEAR}-01:{YEAR}-12"
COMPARED = (
    "in_scope",
    "rated",
    "excluded",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "composite",
    "composite_with_excluded",
    "requests_per_10k",
    "rank",
    "rank_in_subtype",
    "governance_focus",
    "focus_change",
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_facts(path: Path) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """The profile facts as CSV for the hand-written query; returns (street, district) pairs,
    other unit codes and district codes for the generator."""
    from megacity.assessment.rules import unit_facts
    from megacity.profiles import load_profile

    facts = unit_facts(load_profile())
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["code", "kind", "name", "unit_type", "subtype", "district_code", "population", "estimated"]
        )
        for x in facts:
            row = [x.code, x.kind, x.name, x.unit_type, x.subtype, x.district_code, x.population]
            writer.writerow([*("" if v is None else v for v in row), str(x.population_estimated).lower()])
    streets = [(x.code, x.district_code or "") for x in facts if x.kind == "unit" and x.unit_type == "street"]
    others = [x.code for x in facts if x.kind == "unit" and x.unit_type != "street"]
    districts = [x.code for x in facts if x.kind == "district"]
    return streets, others, districts


GENERATE_SQL = """
COPY (
  WITH base AS (
    SELECT i,
      TIMESTAMPTZ '{previous_year}-12-31 16:00:00+00'
        + to_microseconds(CAST(floor(random() * 365 * 86400e6) AS BIGINT)) AS received_at,
      random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
      random() AS r6, random() AS r7, random() AS r8
    FROM range({rows}) AS t(i)
  ), picked AS (
    SELECT *,
      CASE WHEN r1 < 0.78
        THEN list_extract({street_list}, 1 + CAST(floor(r2 * {n_streets}) AS INT)) END AS street,
      list_extract({other_list}, 1 + CAST(floor(r2 * {n_others}) AS INT)) AS other,
      list_extract({district_list}, 1 + CAST(floor(r5 * {n_districts}) AS INT)) AS district,
      CASE WHEN r6 < 0.03 THEN NULL
           ELSE received_at + to_seconds(CAST(floor(r7 * 3 * 3600) AS BIGINT)) END AS dispatched_at
    FROM base
  )
  SELECT
    'b' || i AS id,
    received_at,
    CASE WHEN r3 < 0.08 THEN 'consult' WHEN r3 < 0.5 THEN 'complaint' WHEN r3 < 0.8 THEN 'help'
         WHEN r3 < 0.95 THEN 'report' ELSE 'suggestion' END AS kind,
    CASE WHEN r4 < 0.05 THEN 'emergency' WHEN r4 < 0.2 THEN 'timely' WHEN r4 < 0.9 THEN 'general'
         ELSE 'complex' END AS urgency,
    coalesce(street.d, district) AS district_code,
    coalesce(street.c, other) AS unit_code,
    lpad(CAST(CAST(floor(r8 * 600) AS INT) AS VARCHAR), 6, '0') AS category_code,
    dispatched_at,
    CASE WHEN r8 < 0.03 THEN NULL
         ELSE dispatched_at + to_seconds(CAST(floor(r4 * r7 * 40 * 3600) AS BIGINT))
    END AS contacted_at,
    dispatched_at + INTERVAL 3 DAY AS callback_at,
    CASE WHEN r5 < 0.04 THEN NULL WHEN r2 < 0.88 THEN TRUE ELSE FALSE END AS resolved,
    CASE WHEN r5 < 0.04 THEN NULL WHEN r3 < 0.74 THEN 'satisfied'
         WHEN r3 < 0.9 THEN 'basically_satisfied' ELSE 'dissatisfied' END AS satisfaction,
    r6 > 0.99 AS excluded,
    CASE WHEN r7 > 0.99 THEN 'merged' ELSE 'closed' END AS status,
    CAST(NULL AS VARCHAR) AS repeat_of
  FROM picked
) TO {out} (FORMAT parquet, COMPRESSION zstd)
"""


def generate(path: Path, rows: int, facts: Path) -> None:
    """`rows` tickets received during YEAR (Shanghai time), as canonical Parquet, with DuckDB SQL."""
    import duckdb

    streets, others, districts = write_facts(facts)
    street_list = "[" + ", ".join(f"{{'c': {_quote(c)}, 'd': {_quote(d)}}}" for c, d in streets) + "]"
    other_list = "[" + ", ".join(_quote(c) for c in others) + "]"
    district_list = "[" + ", ".join(_quote(c) for c in districts) + "]"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SELECT setseed(0.42)")
    sql = GENERATE_SQL.format(
        previous_year=YEAR - 1,
        rows=rows,
        street_list=street_list,
        other_list=other_list,
        district_list=district_list,
        n_streets=len(streets),
        n_others=len(others),
        n_districts=len(districts),
        out=_quote(str(path)),
    )
    con.execute(sql)
    con.close()


HAND_SQL = """
SET TimeZone = 'UTC';
COPY (
WITH facts AS (
  SELECT code, kind, name, unit_type, nullif(subtype, '') AS subtype, nullif(district_code, '') AS fdistrict,
         CAST(nullif(population, '') AS BIGINT) AS population, estimated = 'true' AS estimated
  FROM read_csv({facts}, header = true, all_varchar = true)
), t AS (
  SELECT unit_code, district_code, coalesce(excluded, false) AS ex,
    year(timezone('Asia/Shanghai', received_at)) * 12
      + month(timezone('Asia/Shanghai', received_at)) - 1 AS m,
    coalesce(contacted_at <= dispatched_at
      + CASE urgency WHEN 'emergency' THEN INTERVAL 2 HOUR ELSE INTERVAL 24 HOUR END, false) AS on_time,
    resolved, satisfaction
  FROM read_parquet({tickets})
  WHERE received_at >= {start} AND received_at < {end} AND dispatched_at IS NOT NULL
    AND coalesce(kind, '') <> 'consult' AND coalesce(status, '') <> 'merged'
), g AS (
  SELECT m, CASE WHEN GROUPING(unit_code) = 0 THEN 'unit' ELSE 'district' END AS kind,
    coalesce(unit_code, district_code) AS code,
    count(*) FILTER (WHERE NOT ex) AS n, count(*) AS n_all, count(*) FILTER (WHERE ex) AS excluded,
    count(*) FILTER (WHERE on_time AND NOT ex) AS ok, count(*) FILTER (WHERE on_time) AS ok_all,
    count(resolved) FILTER (WHERE NOT ex) AS rated, count(resolved) AS rated_all,
    count(*) FILTER (WHERE resolved AND NOT ex) AS res, count(*) FILTER (WHERE resolved) AS res_all,
    count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied') AND NOT ex)
      AS sn,
    count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')) AS sn_all,
    count(*) FILTER (WHERE satisfaction = 'satisfied' AND NOT ex) AS s1,
    count(*) FILTER (WHERE satisfaction = 'satisfied') AS s1_all,
    count(*) FILTER (WHERE satisfaction = 'basically_satisfied' AND NOT ex) AS s2,
    count(*) FILTER (WHERE satisfaction = 'basically_satisfied') AS s2_all
  FROM t GROUP BY GROUPING SETS ((m, unit_code), (m, district_code))
), x AS (
  SELECT g.*, f.name, coalesce(f.unit_type, 'unknown') AS unit_type, f.subtype,
    CASE WHEN g.kind = 'district' THEN g.code ELSE f.fdistrict END AS district_code, f.population,
    coalesce(f.estimated AND f.population IS NOT NULL, false) AS population_estimated,
    CAST(ok AS DOUBLE) / nullif(n, 0) AS r1, CAST(res AS DOUBLE) / nullif(rated, 0) AS r2,
    (CAST(s1 AS DOUBLE) + 1.0 * CAST(s2 AS DOUBLE)) / nullif(sn, 0) AS r3,
    CAST(ok_all AS DOUBLE) / nullif(n_all, 0) AS a1, CAST(res_all AS DOUBLE) / nullif(rated_all, 0) AS a2,
    (CAST(s1_all AS DOUBLE) + 1.0 * CAST(s2_all AS DOUBLE)) / nullif(sn_all, 0) AS a3
  FROM g LEFT JOIN facts f ON f.code = g.code AND f.kind = g.kind
  WHERE g.code IS NOT NULL AND g.n > 0
), c AS (
  SELECT *,
    floor(100.0 * ((0.1 * r1 + 0.45 * r2) + 0.45 * r3) * 1e9 + 0.5) / 1e9 AS composite,
    floor(100.0 * ((0.1 * a1 + 0.45 * a2) + 0.45 * a3) * 1e9 + 0.5) / 1e9 AS composite_all,
    CAST(n AS DOUBLE) / CAST(nullif(population, 0) AS DOUBLE) * 10000.0 AS per10k
  FROM x
), k AS (
  SELECT *,
    CASE WHEN rankable THEN rank() OVER (PARTITION BY m, unit_type, rankable ORDER BY composite DESC) END
      AS rnk,
    CASE WHEN street THEN rank() OVER (PARTITION BY m, unit_type, subtype, street ORDER BY composite DESC) END
      AS sub_rank,
    street AND row_number() OVER (PARTITION BY m, street ORDER BY composite, code) <= 10 AS focus
  FROM (SELECT *, unit_type <> 'unknown' AND rated >= 10 AND composite IS NOT NULL AS rankable,
               unit_type = 'street' AND rated >= 10 AND composite IS NOT NULL AS street FROM c)
), z AS (
  SELECT *, coalesce(lag(m) OVER w = m - 1 AND lag(focus) OVER w, false) AS before
  FROM k WINDOW w AS (PARTITION BY code, kind ORDER BY m)
)
SELECT code AS unit_code, name AS unit_name, unit_type, subtype AS unit_subtype, district_code,
  printf('%04d-%02d', m // 12, m % 12 + 1) AS month, n AS in_scope, n AS response_counted,
  ok AS response_on_time, rated, res AS resolved_count, sn AS satisfaction_rated, s1 AS satisfied_count,
  s2 AS basically_satisfied_count,
  r1 AS response_rate, r2 AS resolution_rate, r3 AS satisfaction_rate, composite, per10k AS requests_per_10k,
  population, population_estimated, rnk AS rank, sub_rank AS rank_in_subtype, focus AS governance_focus,
  CASE WHEN focus AND before THEN 'stayed' WHEN focus THEN 'entered' WHEN before THEN 'left' END
    AS focus_change,
  excluded, composite_all AS composite_with_excluded
FROM z WHERE m >= {first}
ORDER BY month,
  list_position(['district', 'street', 'devzone', 'department', 'company', 'district_gov', 'unknown'],
    unit_type),
  rank NULLS LAST, unit_code
) TO {out} (HEADER);
"""


def hand_sql(tickets: Path, facts: Path, out: Path) -> str:
    from megacity.assessment.rules import month_windows, parse_month

    first = parse_month(f"{YEAR}-01")
    windows = month_windows(range(first - 1, first + 12), "Asia/Shanghai")
    return HAND_SQL.format(
        facts=_quote(str(facts)),
        tickets=_quote(str(tickets)),
        out=_quote(str(out)),
        start=f"TIMESTAMPTZ {_quote(windows[0].start.isoformat())}",
        end=f"TIMESTAMPTZ {_quote(windows[-1].end.isoformat())}",
        first=first,
    )


def measure(command: list[str]) -> dict[str, Any]:
    """Run `command` from a fresh wrapper process: wall seconds and the child's peak RSS."""
    wrapper = [sys.executable, __file__, "--measure", json.dumps(command)]
    done = subprocess.run(wrapper, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc; 0 elsewhere)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * resource.getpagesize()
        except (OSError, ValueError, IndexError):
            continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(rss.get(pid, 0) for pid in tree) / 2**20


def _measure_child(command: list[str]) -> None:
    """Run `command`; print wall and CPU seconds and the peak memory of its process tree.

    A JVM started by the command (Spark) is sampled through /proc, since it is not waited for.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampled = 0.0
    while process.poll() is None:
        sampled = max(sampled, _tree_rss_mb(process.pid))
        time.sleep(0.25)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        sys.stderr.write(stderr)
        raise SystemExit(process.returncode)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    peak = max(usage.ru_maxrss / 1024, sampled)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak}))


def _number(text: str) -> Any:
    if text in ("", "true", "false"):
        return {"": None, "true": True, "false": False}[text]
    try:
        return float(text)
    except ValueError:
        return text


def compare(engine_csv: Path, hand_csv: Path) -> int:
    """Differences between the two result tables (0 = the same figures)."""

    def load(path: Path) -> dict[tuple[str, str, str], dict[str, str]]:
        with path.open(encoding="utf-8", newline="") as f:
            return {(r["unit_code"], r["unit_type"], r["month"]): r for r in csv.DictReader(f)}

    a, b = load(engine_csv), load(hand_csv)
    differences = len(a.keys() ^ b.keys())
    for key in a.keys() & b.keys():
        for column in COMPARED:
            x, y = _number(a[key][column]), _number(b[key][column])
            if isinstance(x, float) and isinstance(y, float):
                differences += not math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)
            else:
                differences += x != y
    return differences


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of engine and hand-written SQL (best counts)"
    )
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "megacity-bench-assess")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure_child(json.loads(args.measure))
        return
    folder: Path = args.folder
    folder.mkdir(parents=True, exist_ok=True)
    tickets, facts = folder / f"tickets-{args.rows}.parquet", folder / "facts.csv"
    if not tickets.exists():
        start = time.perf_counter()
        generate(tickets, args.rows, facts)
        print(f"generated {args.rows:,} tickets in {time.perf_counter() - start:.1f} s -> {tickets}")
    else:
        write_facts(facts)
    run(args, tickets, facts, folder)


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = sorted(r["seconds"] for r in runs)
    return {
        "seconds": seconds[0],
        "median": seconds[len(seconds) // 2],
        "cpu": min(r["cpu"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
    }


def run(args: argparse.Namespace, tickets: Path, facts: Path, folder: Path) -> None:
    python = sys.executable
    engine_out, hand_out, spark_out = folder / "engine.csv", folder / "hand.csv", folder / "spark.csv"
    assess = [python, "-m", "megacity", "assess", "--tickets", str(tickets), "--months", MONTHS]
    sql = hand_sql(tickets, facts, hand_out)
    hand = [python, "-c", "import duckdb, sys; duckdb.connect().execute(sys.argv[1])", sql]
    runs: dict[str, list[dict[str, Any]]] = {"engine": [], "hand": []}
    for _ in range(args.repeat):  # alternate, so a busy moment hits both alike
        runs["engine"].append(measure([*assess, "--out", str(engine_out)]))
        runs["hand"].append(measure(hand))
    if not args.no_spark:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        runs["spark"] = [measure([*assess, "--engine", "spark", "--out", str(spark_out)])]
    figures = {name: _best(r) for name, r in runs.items()}
    load = os.getloadavg()[0]
    cpus = os.cpu_count()
    print(f"{args.rows:,} tickets, months {MONTHS}, {cpus} CPUs, load {load:.1f}, best of {args.repeat}")
    for name, f in figures.items():
        print(
            f"  {name:<7} {f['seconds']:8.2f} s wall (median {f['median']:.2f})  {f['cpu']:8.2f} s CPU"
            f"   peak {f['peak_mb']:6.0f} MB"
        )
    ratio = figures["engine"]["seconds"] / figures["hand"]["seconds"]
    cpu_ratio = figures["engine"]["cpu"] / figures["hand"]["cpu"]
    print(f"  ratio engine / hand-written SQL: {ratio:.2f} wall, {cpu_ratio:.2f} CPU (target <= 1.3)")
    print(f"  engine peak memory {figures['engine']['peak_mb'] / 1024:.2f} GB (target <= 1.5 GB)")
    print(f"  engine vs hand-written: {compare(engine_out, hand_out)} differing figures")
    if "spark" in figures:
        print(f"  spark vs engine: {compare(spark_out, engine_out)} differing figures")


if __name__ == "__main__":
    main()
