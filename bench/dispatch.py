"""Speed of the dispatch classifier (issue 4): training, batch and single predictions.

Synthesises messages from the 495 labelled Teddy Cup messages (shared data, or the 120-row
sample in tests/data/classify when the shared folder is absent): each synthetic message takes
a real message's title and sentences, drops and reorders some, adds a sentence of another
message of the same class and a unique reference number, so every text is new to the
tokeniser's cache and lengths follow the real distribution. Prints figures, asserts nothing.

    python bench/dispatch.py [--train 10000] [--predict 5000] [--single 1000]

Figures are per process on one core (the model runs single-threaded); `cpu` is process time,
`wall` includes waiting for a busy machine.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEGACITY_SHARED_DATA", ROOT.parent / "shared" / "data"))
SOURCES = (
    SHARED / "messages" / "teddycup2020_c" / "附件2_sample495_labeled.csv",
    ROOT / "tests" / "data" / "classify" / "teddycup_labeled_120.csv",
)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from megacity.io.rows import clean_text  # noqa: E402
from megacity.io.tabular import open_table  # noqa: E402
from megacity.nlp import text as nlp_text  # noqa: E402
from megacity.nlp.classifier import train  # noqa: E402

Message = tuple[str, str, str]  # title, text, label
T = TypeVar("T")
_SENTENCE = re.compile(r"(?<=[。！？!?；;\n])")


def load() -> tuple[Path, list[Message]]:
    source = next(path for path in SOURCES if path.exists())
    messages = []
    for record in open_table(source).records():
        cells = {key: clean_text(value) for key, value in record.cells.items()}
        if cells.get("一级分类"):
            messages.append(
                (cells.get("留言主题") or "", cells.get("留言详情") or "", cells["一级分类"] or "")
            )
    return source, messages


def synthesise(messages: list[Message], count: int, seed: int) -> list[Message]:
    """`count` new messages, each a perturbed real one plus a sentence of a sibling."""
    rng = random.Random(seed)
    by_label: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        by_label[message[2]].append(message)
    out = []
    for number in range(count):
        title, text, label = rng.choice(messages)
        sentences = [s for s in _SENTENCE.split(text) if s.strip()] or [text]
        kept = [s for s in sentences if rng.random() > 0.25] or sentences[:1]
        if len(kept) > 2 and rng.random() < 0.5:
            i = rng.randrange(len(kept) - 1)
            kept[i], kept[i + 1] = kept[i + 1], kept[i]
        sibling = rng.choice(by_label[label])[1]
        extra = [s for s in _SENTENCE.split(sibling) if s.strip()]
        if extra:
            kept.insert(rng.randrange(len(kept) + 1), rng.choice(extra))
        kept.append(f"编号{seed}{number:07d}。")
        out.append((title, "".join(kept), label))
    return out


def timed(function: Callable[..., T], *args: Any) -> tuple[T, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=10_000, help="synthetic training messages")
    parser.add_argument("--predict", type=int, default=5_000, help="messages predicted in one batch")
    parser.add_argument("--single", type=int, default=1_000, help="messages predicted one at a time")
    args = parser.parse_args()

    source, messages = load()
    print(f"source: {source} ({len(messages)} labelled messages)")
    training = synthesise(messages, args.train, seed=1)
    batch = synthesise(messages, args.predict, seed=2)
    single = synthesise(messages, args.single, seed=3)
    mean_chars = statistics.fmean(len(t) + len(x) for t, x, _ in training)
    print(f"synthetic: {len(training)} training messages, mean {mean_chars:.0f} characters (title + text)")

    _, wall, cpu = timed(nlp_text.dictionary)  # once per process
    print(f"jieba dictionary load: wall {wall:.2f} s")
    titles, texts, labels = (list(column) for column in zip(*training, strict=True))
    model, wall, cpu = timed(train, texts, labels, titles)
    print(f"train {len(training)}: wall {wall:.1f} s, cpu {cpu:.1f} s (target < 30 s)")

    model.predict([batch[0][1]], [batch[0][0]])  # first call pays one-time lazy imports
    titles, texts, _ = (list(column) for column in zip(*batch, strict=True))
    _, wall, cpu = timed(model.predict, texts, titles)
    print(
        f"batch predict {len(batch)}: {len(batch) / cpu:,.0f}/s cpu, {len(batch) / wall:,.0f}/s wall "
        "(target >= 2,000/s)"
    )

    latencies = []
    for title, text, _ in single:
        start = time.perf_counter()
        model.predict([text], [title])
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"single predict x{len(single)}: p50 {p50:.2f} ms, p99 {p99:.2f} ms (target p99 < 20 ms)")


if __name__ == "__main__":
    main()
