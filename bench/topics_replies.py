"""Monthly topics and reply quality on the full Teddy Cup 2020 C data (issue 8).

* 附件3 (4,326 messages): the top hot issues (task 2) with time and heat, and how many messages
  each topic holds;
* 附件4 (2,816 replies): percentiles of each reply score, the share of weak replies and their
  reasons, and the agreement of the scores with the 100 student labels shipped next to it
  (`derived_附件4_student_quality_labels_100rows.csv`: 完整性指标, 可解释性指标) as ROC AUC.

    python bench/topics_replies.py [--data ../shared/data/messages/teddycup2020_c] [--top 10]
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from megacity.analytics.hotissues import hot_issue_tables, read_messages
from megacity.analytics.replies import score_reply
from megacity.domain.calendar import WorkingCalendar
from megacity.holidays import official_workday

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "messages" / "teddycup2020_c"


def hot_issues(folder: Path, top: int) -> None:
    started = time.perf_counter()
    board = read_messages(folder / "附件3_full4326_likes.csv")
    hot, _, topics = hot_issue_tables(board.messages, top)
    print(f"附件3: {len(board.messages)} messages, top {top} in {time.perf_counter() - started:.1f} s")
    for row, topic in zip(hot, topics, strict=True):
        print(
            f"  {row[0]:>2} heat {row[2]:6.3f}  {row[3]}  n={topic.volume:<3} people={topic.people:<3} "
            f"likes+dislikes={topic.engagement:<5} {row[4]} | {row[5]}"
        )


def replies(folder: Path) -> None:
    started = time.perf_counter()
    board = read_messages(folder / "附件4_full2816_replies.csv", need_replies=True)
    calendar = WorkingCalendar(source=official_workday)
    scores = [
        score_reply(m.title, m.text, r or "", m.at, at, calendar)
        for m, r, at in zip(board.messages, board.replies, board.replied_at, strict=True)
    ]
    print(f"附件4: {len(scores)} replies scored in {time.perf_counter() - started:.1f} s")
    for name in ("relevance", "completeness", "timeliness", "combined"):
        values = np.array([getattr(s, name) for s in scores if getattr(s, name) is not None])
        p = np.percentile(values, [5, 25, 50, 75, 95])
        print(
            f"  {name:<12} n={len(values)} mean {values.mean():.3f}  p5/25/50/75/95 "
            + " ".join(f"{x:.2f}" for x in p)
        )
    weak = sum(s.weak for s in scores)
    print(f"  weak {weak} ({weak / len(scores):.1%})")
    kinds = Counter(r.split(":")[0].split(" (")[0] for s in scores for r in s.reasons)
    print("  reasons " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    labels_file = folder / "derived_附件4_student_quality_labels_100rows.csv"
    if labels_file.exists():
        index = {m.id: i for i, m in enumerate(board.messages)}
        with labels_file.open(encoding="utf-8") as handle:
            labelled = [r for r in csv.DictReader(handle) if r["留言编号"] in index]
        rows = [scores[index[r["留言编号"]]] for r in labelled]
        complete = [float(r["完整性指标"]) >= 0.5 for r in labelled]
        explained = [float(r["可解释性指标"]) >= 0.5 for r in labelled]
        print(
            f"  student labels: {len(labelled)} rows; AUC completeness vs 完整性指标 "
            f"{roc_auc_score(complete, [s.completeness for s in rows]):.3f}; "
            f"AUC combined vs 可解释性指标 {roc_auc_score(explained, [s.combined for s in rows]):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    hot_issues(args.data, args.top)
    replies(args.data)


if __name__ == "__main__":
    main()
