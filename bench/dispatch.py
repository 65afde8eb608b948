"""Speed of the dispatch classifier and the model dispatcher (issue 4).

Part 1, the classifier: training, batch and single predictions.

Synthesises messages from the 495 labelled Teddy Cup messages (shared data, or the 120-row
sample in tests/data/classify when the shared folder is absent): each synthetic message takes
a real message's title and sentences, drops and reorders some, adds a sentence of another
message of the same class and a unique reference number, so every text is new to the
tokeniser's cache and lengths follow the real distribution. Prints figures, asserts nothing.

    python bench/dispatch.py [--train 10000] [--predict 5000] [--single 1000]

Part 2, the model dispatcher (classifier + gazetteer/coordinates + catalogue rule, as intake
and the dispatch queue call it): a model trained on demo requests generated offline with leaf
categories (as ``megacity classify retrain`` does on a demo database), then suggestions for
held-out demo requests whose category and street codes are removed (the address stays):
batch suggestions/s, single-suggestion p50/p99, and how often the suggested unit is the one the
demo generator chose.

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
    parser.add_argument("--no-dispatcher", action="store_true", help="skip part 2 (the model dispatcher)")
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
    if not args.no_dispatcher:
        bench_dispatcher(args.predict, args.single)


def percentiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return values[len(values) // 2], values[min(len(values) - 1, int(len(values) * 0.99))]


def bench_dispatcher(batch_size: int, singles: int) -> None:
    """The model dispatcher on demo requests: train, batch and single suggestions, unit agreement."""
    import dataclasses
    import tempfile
    from collections import Counter
    from datetime import UTC, datetime

    from megacity.demo import generate
    from megacity.domain.enums import Channel, Kind, Urgency
    from megacity.domain.tickets import Ticket
    from megacity.profiles import default_profile_path, load_profile
    from megacity.routing.gazetteer import Gazetteer
    from megacity.routing.model import ModelDispatcher

    profile = load_profile()
    history = [c.intake for c in generate(profile, count=8_000, months=12, seed=11)]
    counts = Counter(c["category_code"] for c in history)
    taken: Counter[str] = Counter()
    rows = []
    for case in reversed(history):  # the most recent of each category, as training.from_tickets
        code = case["category_code"]
        if counts[code] >= 5 and taken[code] < 100:
            taken[code] += 1
            rows.append(case)
    titles, texts, labels = (
        [r["title"] for r in rows],
        [r["text"] for r in rows],
        [r["category_code"] for r in rows],
    )
    model, wall, cpu = timed(train, texts, labels, titles)
    print(
        f"\ndispatch model from demo: {len(rows)} rows, {len(taken)} leaf categories: "
        f"train wall {wall:.1f} s, cpu {cpu:.1f} s"
    )
    folder = Path(tempfile.mkdtemp()) / "dispatch"
    model.save(folder)
    dispatcher = ModelDispatcher(profile, folder, Gazetteer.for_profile(profile.org, default_profile_path()))

    held_out = [c.intake for c in generate(profile, count=batch_size + singles, months=2, seed=12)]
    at = datetime(2025, 3, 3, tzinfo=UTC)
    tickets = [
        Ticket(
            id=c["id"],
            received_at=at,
            channel=Channel.PHONE,
            kind=Kind.COMPLAINT,
            urgency=Urgency.GENERAL,
            title=c["title"],
            text=c["text"],
            address=c["address"],
            lon=c["lon"],
            lat=c["lat"],
        )
        for c in held_out
    ]
    truth = [
        dispatcher.suggest(
            dataclasses.replace(t, category_code=c["category_code"], street_code=c["street_code"])
        ).unit_code
        for t, c in zip(tickets, held_out, strict=True)
    ]
    dispatcher.suggest_many(tickets[:5])  # lazy loads: model, district boundaries
    batch = tickets[:batch_size]
    suggestions, wall, cpu = timed(dispatcher.suggest_many, batch)
    print(
        f"dispatcher batch {len(batch)}: {len(batch) / cpu:,.0f}/s cpu, "
        f"{len(batch) / wall:,.0f}/s wall (target >= 2,000/s)"
    )
    latencies = []
    for ticket in tickets[batch_size:]:
        start = time.perf_counter()
        dispatcher.suggest(ticket)
        latencies.append((time.perf_counter() - start) * 1000)
    p50, p99 = percentiles(latencies)
    print(f"dispatcher single x{len(latencies)}: p50 {p50:.2f} ms, p99 {p99:.2f} ms (target p99 < 20 ms)")
    threshold = profile.dispatch_confidence_threshold
    agree = sum(s.unit_code == u for s, u in zip(suggestions, truth, strict=False))
    sure = [(s, u) for s, u in zip(suggestions, truth, strict=False) if s.confident(threshold)]
    sure_agree = sum(s.unit_code == u for s, u in sure)
    print(
        f"unit agreement with the demo's own dispatch: {agree / len(batch):.3f} overall; "
        f"{len(sure) / len(batch):.3f} above the threshold {threshold}, "
        f"agreement among them {sure_agree / max(1, len(sure)):.3f}"
    )


if __name__ == "__main__":
    main()
