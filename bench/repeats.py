"""Repeat detection at megacity scale: a synthetic year streamed through `RepeatDetector`.

    python bench/repeats.py [--n 10000000] [--streets 350] [--seed 7] [--keep FILE.parquet]

1. *Generate* (a child process, so its memory does not count): `--n` requests over 365 days at
   ~350 streets of very different sizes (lognormal), complainants drawn from a heavy-tailed pool
   (most file once, a few file weekly). Each new matter is a place name of its street plus 1-4
   real sentences of the Teddy Cup messages (shared data if present, else tests/data/repeats).
   About 15% of requests repeat a matter within 55 days of its previous request: the same person
   rewriting it (greeting, complaint, typos, truncation, reordering, summary...) or another
   resident of the street mixing its sentences (`make_repeat_set.py` rewrites). 5% of requests
   have no complainant, 5% no street. Written to Parquet, one row group per day.
2. *Detect* (this process): read one day at a time, normalise, shingle, feed the detector (IDF
   learnt online), union-find the links. Prints requests/s on one core (detection only, file
   reading excluded), peak RSS, and pairwise precision/recall against the planted matters.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from megacity.analytics.repeats import Params

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
CST = timezone(timedelta(hours=8))
SUFFIXES = ("小区", "花园", "家园", "路", "大街", "社区", "大厦", "公园", "菜市场", "小学", "胡同", "新村")


def sentence_pool() -> list[str]:
    import csv

    shared = ROOT.parent / "shared" / "data" / "messages" / "teddycup2020_c"
    files = sorted(shared.glob("附件[234]*.csv")) or sorted(
        (ROOT / "tests" / "data" / "repeats").glob("*.csv")
    )
    pool: set[str] = set()
    for path in files:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                text = re.sub(r"\s+", "", row.get("留言详情") or row.get("text") or "")
                pool.update(s for s in re.split(r"(?<=[。！？；])", text) if 8 <= len(s) <= 60)
    return sorted(pool)


class Markov:
    """Order-2 character Markov chain of the real messages: each new matter gets text of its own
    with the corpus' character statistics (so distinct matters share common bigrams, as real ones
    do, but not whole sentences). Sampling is vectorised over a batch of texts."""

    def __init__(self, sentences: list[str], rng: np.random.Generator) -> None:
        self.rng = rng
        text = "\x00".join(sentences)
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        self.alphabet, ids = np.unique(points, return_inverse=True)
        size = np.int64(len(self.alphabet))
        context = ids[:-2].astype(np.int64) * size + ids[1:-1]
        triples, counts = np.unique(context * size + ids[2:], return_counts=True)
        self.contexts, first = np.unique(triples // size, return_index=True)
        self.next = (triples % size).astype(np.int64)
        owner = np.searchsorted(self.contexts, triples // size)
        totals = np.add.reduceat(counts, first)
        cumulative = np.cumsum(counts) - np.repeat(
            np.cumsum(totals) - totals, np.diff(np.r_[first, len(counts)])
        )
        self.cum = owner + cumulative / np.repeat(totals, np.diff(np.r_[first, len(counts)]))
        self.size = size

    def texts(self, lengths: np.ndarray) -> list[str]:
        count, longest = len(lengths), int(lengths.max())
        state = self.rng.integers(0, len(self.contexts), count)
        out = np.zeros((count, longest), dtype=np.uint32)
        for step in range(longest):
            pick = np.searchsorted(self.cum, state + self.rng.random(count))
            char = self.next[np.minimum(pick, len(self.next) - 1)]
            out[:, step] = self.alphabet[char]
            code = (self.contexts[state] % self.size) * self.size + char
            at = np.minimum(np.searchsorted(self.contexts, code), len(self.contexts) - 1)
            dead = self.contexts[at] != code
            state = np.where(dead, self.rng.integers(0, len(self.contexts), count), at)
        out[np.arange(longest) >= lengths[:, None]] = 0
        raw = out.tobytes().decode("utf-32-le")
        return [t.replace("\x00", "") for t in (raw[i * longest : (i + 1) * longest] for i in range(count))]


class World:
    """Streets with place names, a heavy-tailed pool of complainants, and the matters of the window."""

    def __init__(self, n: int, streets: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.sentences = sentence_pool()
        self.markov = Markov(self.sentences, np.random.default_rng(seed))
        self.bodies: list[str] = []
        chars = [c for c in "".join(self.sentences[:4000]) if "\u4e00" <= c <= "\u9fff"]
        self.places = [
            [
                "".join(self.rng.choices(chars, k=self.rng.choice((2, 3)))) + self.rng.choice(SUFFIXES)
                for _ in range(40)
            ]
            for _ in range(streets)
        ]
        weights = np.random.default_rng(seed).lognormal(0.0, 1.0, streets)
        self.street_cum = np.cumsum(weights / weights.sum())
        self.people = max(1000, n // 3)
        self.entries: list[tuple[int, float, int, int, str, str]] = []  # matter, at, street, person, ...
        self.original: dict[int, tuple[str, str]] = {}  # first title and text of each matter in the window
        self.head = 0
        self.latest: dict[int, float] = {}  # matter -> time of its latest request, while in the window
        self.matters = 0

    def person(self) -> int:
        return -1 if self.rng.random() < 0.05 else int(self.people * self.rng.random() ** 2)

    def remember(self, entry: tuple[int, float, int, int, str, str]) -> tuple[int, int, int, str, str]:
        self.entries.append(entry)
        self.latest[entry[0]] = entry[1]
        return entry[0], entry[2], entry[3], entry[4], entry[5]

    def new(self, at: float) -> tuple[int, int, int, str, str]:
        street = min(int(np.searchsorted(self.street_cum, self.rng.random())), len(self.places) - 1)
        place = self.rng.choice(self.places[street])
        if not self.bodies:
            self.bodies = self.markov.texts(
                np.random.default_rng(self.rng.getrandbits(32)).integers(40, 160, 4096)
            )
        body = self.bodies.pop()
        title = place + body[:8] if self.rng.random() < 0.5 else ""
        self.matters += 1
        self.original[self.matters] = (title, place + body)
        return self.remember((self.matters, at, street, self.person(), title, place + body))

    def repeat(self, at: float) -> tuple[int, int, int, str, str] | None:
        from make_repeat_set import rewrite_heldout, rewrite_seen

        while self.head < len(self.entries) and at - self.entries[self.head][1] > 55 * 86400:
            matter, when = self.entries[self.head][:2]
            if self.latest.get(matter) == when:
                del self.latest[matter], self.original[matter]
            self.head += 1
        if self.head > 100_000 and self.head * 2 > len(self.entries):
            self.entries, self.head = self.entries[self.head :], 0
        for _ in range(10):
            if self.head == len(self.entries):
                return None
            matter, when, street, person, title, text = self.entries[
                self.rng.randrange(self.head, len(self.entries))
            ]
            if self.latest.get(matter) == when:
                break
        else:
            return None
        title, text = self.original[matter]  # people rewrite what the matter is, not the last rewrite
        if self.rng.random() < 0.5:
            _, title, text, resident = rewrite_seen(title, text, self.rng)
        else:
            _, title, text, resident = rewrite_heldout(title, text, datetime.fromtimestamp(at, CST), self.rng)
        if resident or person < 0:
            person = int(self.people * self.rng.random() ** 2)
        return self.remember((matter, at, street, person, title, text))


def generate(n: int, streets: int, seed: int, out: Path) -> None:
    world, writer = World(n, streets, seed), None
    start = datetime(2024, 1, 1, tzinfo=CST).timestamp()
    for day in range(365):
        count = n // 365 + (1 if day < n % 365 else 0)
        times = np.sort(start + day * 86400 + np.array([world.rng.random() * 86400 for _ in range(count)]))
        rows = []
        for at in times:
            made = world.repeat(float(at)) if world.rng.random() < 0.15 else None
            matter, street, person, title, text = made or world.new(float(at))
            no_street = world.rng.random() < 0.05 and person >= 0
            rows.append((matter, -1 if no_street else street, person, title, text))
        table = pa.table(
            {
                "id": [f"b{day:03d}{i:06d}" for i in range(count)],
                "received_at": pa.array((times * 1e6).astype(np.int64), pa.timestamp("us", tz="UTC")),
                "title": [r[3] for r in rows],
                "text": [r[4] for r in rows],
                "complainant": np.array([r[2] for r in rows], dtype=np.int64),
                "street": np.array([r[1] for r in rows], dtype=np.int64),
                "matter": np.array([r[0] for r in rows], dtype=np.int64),
            }
        )
        writer = writer or pq.ParquetWriter(out, table.schema)
        writer.write_table(table)
    if writer:
        writer.close()


def detect(path: Path, params: Params) -> None:
    from megacity.analytics.repeats import RepeatDetector, UnionFind, shingle
    from megacity.analytics.textnorm import normalise_many

    source = pq.ParquetFile(path)
    detector, chains, matters, busy = RepeatDetector(params), UnionFind(), [], 0.0
    for group in range(source.num_row_groups):
        day = source.read_row_group(group)
        began = time.process_time()
        times = day.column("received_at").cast(pa.int64()).to_numpy() / 1e6
        texts = normalise_many(day.column("title").to_pylist(), day.column("text").to_pylist())
        links = detector.feed(
            times, day.column("complainant").to_numpy(), day.column("street").to_numpy(), shingle(texts)
        )
        chains.grow(detector.count)
        chains.union(links.earlier, links.later)
        busy += time.process_time() - began
        matters.append(day.column("matter").to_numpy())
    roots, truth = chains.roots(), np.concatenate(matters)
    precision, recall = pair_scores(roots, truth)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"requests            {detector.count:,}")
    print(f"detection CPU time  {busy:.1f} s  ({detector.count / busy:,.0f} requests/s on one core)")
    print(f"peak memory (RSS)   {peak:,.0f} MiB")
    print(f"planted repeats     precision {precision:.3f}  recall {recall:.3f} (pairs in the same chain)")


def pair_scores(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    def pairs(*labels: np.ndarray) -> int:
        _, counts = np.unique(np.stack(labels), axis=1, return_counts=True)
        return int((counts * (counts - 1) // 2).sum())

    both, found, planted = pairs(predicted, truth), pairs(predicted), pairs(truth)
    return both / max(1, found), both / max(1, planted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--streets", type=int, default=350)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep (or reuse) the generated year here")
    parser.add_argument("--anchors", type=int, default=Params.anchors, help="bottom-k keys per request")
    parser.add_argument("--threshold", type=float, default=Params.threshold)
    parser.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate(args.n, args.streets, args.seed, args.generate_only)
        return
    path = args.keep or Path(tempfile.mkdtemp()) / "year.parquet"
    if not path.exists():
        began = time.monotonic()
        command = [sys.executable, __file__, "--n", str(args.n), "--streets", str(args.streets)]
        subprocess.run([*command, "--seed", str(args.seed), "--generate-only", str(path)], check=True)
        print(f"generated           {args.n:,} requests in {time.monotonic() - began:.0f} s -> {path}")
    try:
        detect(path, Params(anchors=args.anchors, threshold=args.threshold))
    finally:
        if not args.keep:
            os.unlink(path)


if __name__ == "__main__":
    main()
