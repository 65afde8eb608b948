"""Intake throughput through a real uvicorn server, on SQLite and (if configured) PostgreSQL.

Starts `megacity serve` in a subprocess, posts requests with N concurrent clients and prints
requests/s and p50/p99 latency, next to a baseline measured in the same run: GET /healthz
(the same server, no database) — so the ratio says what the database write path costs.

    python bench/intake.py [--requests 2000] [--concurrency 16]
    MEGACITY_BENCH_DATABASE_URL=postgresql://... python bench/intake.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BODY = {
    "channel": "phone",
    "kind": "complaint",
    "title": "夜间施工噪音扰民",
    "text": "您好，小区旁工地每天晚上十一点以后还在施工，噪音很大，严重影响休息，希望有关部门管一管。",
    "phone": "13900139000",
    "street_code": "110105001",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_load(base: str, n: int, concurrency: int, method: str, path: str) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            start = time.perf_counter()
            if method == "POST":
                r = await client.post(
                    path, json=BODY, headers={"Idempotency-Key": f"bench-{i}-{time.time_ns()}"}
                )
            else:
                r = await client.get(path)
            latencies.append(time.perf_counter() - start)
            if r.status_code >= 300:
                raise RuntimeError(f"{r.status_code}: {r.text[:200]}")

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        begin = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return time.perf_counter() - begin, latencies


def report(label: str, elapsed: float, latencies: list[float]) -> float:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    rate = len(latencies) / elapsed
    print(f"{label:<28} {len(latencies):>6} req  {rate:>8.1f} req/s  p50 {p50:>7.1f} ms  p99 {p99:>7.1f} ms")
    return rate


def bench(engine: str, url: str, args: argparse.Namespace) -> None:
    port = free_port()
    env = {**os.environ, "MEGACITY_DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "megacity", "init"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "megacity", "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        asyncio.run(run_load(base, 100, args.concurrency, "POST", "/api/requests"))  # warm-up
        baseline = report(
            f"{engine}: GET /healthz",
            *asyncio.run(run_load(base, args.requests, args.concurrency, "GET", "/healthz")),
        )
        intake = report(
            f"{engine}: POST /api/requests",
            *asyncio.run(run_load(base, args.requests, args.concurrency, "POST", "/api/requests")),
        )
        print(f"{engine}: intake runs at {intake / baseline:.2f}x the no-database baseline")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args()
    print(f"{args.requests} requests, {args.concurrency} concurrent clients, {args.workers} server worker(s)")
    with tempfile.TemporaryDirectory() as tmp:
        bench("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    pg = os.environ.get("MEGACITY_BENCH_DATABASE_URL") or os.environ.get("MEGACITY_TEST_DATABASE_URL")
    if pg:
        bench("postgresql", pg, args)
    else:
        print("postgresql: skipped (set MEGACITY_BENCH_DATABASE_URL)")


if __name__ == "__main__":
    main()
