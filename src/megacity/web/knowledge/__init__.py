"""The operators' knowledge base (知识库) and a small Chinese full-text search.

Entries are data (`zh_CN.yaml`). Search scores character bigrams (and latin/digit words),
weighted by how rare they are and where they occur (question > keywords > answer): no word
segmentation is needed for Chinese and a few dozen entries search in microseconds.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[0-9a-z]+")
#: Spaces next to a CJK character or full-width punctuation: YAML's folded lines leave them in.
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+|\s+(?=[\u3000-\u9fff\uff00-\uffef])")
#: How much a match counts in each part of an entry.
WEIGHTS = {"question": 3.0, "keywords": 2.0, "answer": 1.0}


def grams(text: str) -> list[str]:
    """Search terms of a text: CJK character bigrams (a lone character alone) and latin/digit words.

    >>> grams("供暖费 heating 2024")
    ['供暖', '暖费', 'heating', '2024']
    """
    text = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        out.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    out.extend(_WORD.findall(text))
    return out


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the bigram sets of two short texts (titles), from 0 to 1.

    >>> round(similarity("小区门口路灯不亮", "小区门口的路灯不亮了"), 2)
    0.75
    """
    x, y = set(grams(a)), set(grams(b))
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))


@dataclass(frozen=True)
class Entry:
    """One question and its answer, with the department it comes from."""

    id: str
    category: str
    question: str
    answer: str
    source: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float


class KnowledgeBase:
    """Entries with an inverted index of their grams."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self._counts: list[dict[str, Counter[str]]] = [
            {
                "question": Counter(grams(e.question)),
                "keywords": Counter(grams(" ".join(e.keywords))),
                "answer": Counter(grams(e.answer)),
            }
            for e in entries
        ]
        df: Counter[str] = Counter()
        for parts in self._counts:
            df.update(set().union(*parts.values()))
        n = max(len(entries), 1)
        self._idf = {g: math.log(1 + n / d) for g, d in df.items()}

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """The best-matching entries for `query`, best first (empty for an empty query)."""
        terms = set(grams(query))
        if not terms:
            return []
        phrase = unicodedata.normalize("NFKC", query).strip().lower()
        hits = []
        for entry, parts in zip(self.entries, self._counts, strict=True):
            score = sum(
                self._idf.get(term, 0.0) * weight * min(parts[name][term], 3)
                for term in terms
                for name, weight in WEIGHTS.items()
            )
            if phrase and phrase in entry.question.lower():
                score *= 1.5
            if score > 0:
                hits.append(Hit(entry, round(score, 3)))
        hits.sort(key=lambda h: (-h.score, h.entry.id))
        return hits[:limit]


def _text(value: object) -> str:
    """A text of the YAML file without the spaces folding put between Chinese lines.

    >>> _text("报修， 请其上门 检查 App")
    '报修，请其上门检查App'
    """
    return _CJK_SPACE.sub("", str(value)).strip()


def _entry(raw: dict[str, object]) -> Entry:
    keywords = raw.get("keywords") or []
    return Entry(
        id=str(raw["id"]),
        category=str(raw["category"]),
        question=_text(raw["question"]),
        answer=_text(raw["answer"]),
        source=_text(raw["source"]),
        keywords=tuple(str(k) for k in keywords) if isinstance(keywords, list) else (),
    )


@lru_cache(maxsize=4)
def knowledge_base(language: str = "zh_CN") -> KnowledgeBase:
    """The knowledge base of `language`, loaded once (the Chinese one for any other language)."""
    path = HERE / f"{language}.yaml"
    if not path.exists():
        path = HERE / "zh_CN.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return KnowledgeBase([_entry(item) for item in raw])
