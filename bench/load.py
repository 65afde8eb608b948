"""Mixed load against a real server on loopback: intake, lists, details and lifecycle actions.

Bounded in count (`--requests`) and time (`--seconds`); prints requests/s, p50/p99 latency
and the error count per engine (SQLite always, PostgreSQL with MEGACITY_BENCH_DATABASE_URL),
with GET /healthz measured in the same run as the no-database baseline.

    python bench/load.py [--requests 3000] [--concurrency 16] [--seconds 120]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intake import BODY, free_port  # noqa: E402

PASSWORD = "bench-password-123"


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0

    def line(self, label: str, elapsed: float) -> str:
        ordered = sorted(self.latencies) or [0.0]
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        rate = len(self.latencies) / elapsed
        return (
            f"{label:<30} {len(self.latencies):>6} req {rate:>8.1f} req/s  p50 {p50:>6.1f} ms  "
            f"p99 {p99:>7.1f} ms  errors {self.errors}"
        )


async def one(client: httpx.AsyncClient, ids: list[str], rng: random.Random, stats: Stats) -> None:
    roll = rng.random()
    start = time.perf_counter()
    if roll < 0.35 or not ids:
        r = await client.post("/api/requests", json={**BODY, "phone": f"139{rng.randrange(10**8):08d}"})
        if r.status_code == 201:
            ids.append(r.json()["id"])
    elif roll < 0.6:
        r = await client.get("/api/requests", params={"limit": 20})
    elif roll < 0.85:
        r = await client.get(f"/api/requests/{rng.choice(ids)}")
    else:
        ticket = rng.choice(ids)
        r = await client.post(f"/api/requests/{ticket}/dispatch", json={"unit_code": "110105001"})
        if r.status_code == 409:  # already dispatched by another client: a legal refusal
            r.status_code = 200
    stats.latencies.append(time.perf_counter() - start)
    if r.status_code >= 400:
        stats.errors += 1


async def drive(
    base: str, token: str | None, n: int, concurrency: int, seconds: float, path: str | None
) -> tuple[Stats, float]:
    stats, ids, rng = Stats(), [], random.Random(7)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + seconds
    remaining = [n]

    async def worker(client: httpx.AsyncClient) -> None:
        while remaining[0] > 0 and time.monotonic() < deadline:
            remaining[0] -= 1
            if path:
                start = time.perf_counter()
                r = await client.get(path)
                stats.latencies.append(time.perf_counter() - start)
                stats.errors += r.status_code >= 400
            else:
                await one(client, ids, rng, stats)

    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=60, limits=httpx.Limits(max_connections=concurrency)
    ) as client:
        begin = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return stats, time.perf_counter() - begin


def run(engine: str, url: str, args: argparse.Namespace) -> None:
    env = {
        **os.environ,
        "MEGACITY_DATABASE_URL": url,
        "MEGACITY_CLIENT_REQUESTS_PER_MINUTE": "1000000",
        "MEGACITY_COMPLAINANT_DAILY_LIMIT": "0",
    }
    subprocess.run([sys.executable, "-m", "megacity", "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "megacity",
            "user",
            "create",
            "--username",
            "bench",
            "--role",
            "admin",
            "--password-stdin",
        ],
        env=env,
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "megacity", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        token = httpx.post(base + "/api/auth/token", data={"username": "bench", "password": PASSWORD}).json()
        bearer = token["access_token"]
        base_stats, base_t = asyncio.run(
            drive(base, None, args.requests, args.concurrency, args.seconds, "/healthz")
        )
        print(base_stats.line(f"{engine}: GET /healthz", base_t))
        stats, elapsed = asyncio.run(drive(base, bearer, args.requests, args.concurrency, args.seconds, None))
        print(stats.line(f"{engine}: mixed API", elapsed))
        ratio = (len(stats.latencies) / elapsed) / (len(base_stats.latencies) / base_t)
        print(f"{engine}: mixed load at {ratio:.2f}x the no-database baseline")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args()
    print(f"mix: 35% create, 25% list, 25% detail, 15% dispatch; {args.concurrency} clients")
    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", f"sqlite:///{Path(tmp) / 'load.db'}", args)
    pg = os.environ.get("MEGACITY_BENCH_DATABASE_URL")
    if pg:
        run("postgresql", pg, args)
    else:
        print("postgresql: skipped (set MEGACITY_BENCH_DATABASE_URL)")


if __name__ == "__main__":
    main()
