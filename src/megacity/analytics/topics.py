"""Monthly topics (每月一题): cluster a period's requests into topics and rank them by heat.

The method, its parameters and the heat formula are explained in docs/topics.md. In short:

1. `vectorise` — each request becomes one L2-normalised sparse vector: TF-IDF of jieba words of
   title (twice) and text, TF-IDF of character 3-4-grams of the title (place names such as
   五矿万境 are rarely dictionary words), and one-hot street and category columns.
2. `similarity_graph` — cosine similarities above a floor, computed in row blocks (sparse times
   sparse), plus a *place bonus* for pairs whose titles share a rare 4-gram: the same estate or
   road told about with different complaints still forms one topic.
3. `cluster` — DBSCAN on that graph (`min_samples` 3 keeps chains of loosely related pairs
   apart); a request no topic takes is a topic of its own, so a lone message with thousands of
   likes can still rank.
4. `summarise` — volume, people, engagement, spread, growth and the heat index; the shared key
   phrase (地点/人群), the representative request and the top terms of each topic.

A month of a big city repeats many requests word for word (the same complaint filed again, by
the same or another caller). Every step works on distinct texts or distinct vectors where that
gives bit-for-bit the same answer (see `_distinct_rows`): on a demo month of 89,000 requests,
18,000 vectors are distinct, and the similarity graph, which grows with the square, is 25 times
smaller.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.cluster import DBSCAN
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from megacity.nlp.text import normalise, words

__all__ = [
    "Message",
    "Params",
    "TextIndex",
    "Topic",
    "cluster",
    "heat",
    "key_phrase",
    "matches",
    "rank_topics",
]

I64 = npt.NDArray[np.int64]
_PREFIX = re.compile(r"^(?:[a-z]?市)?(?:[a-z]\d+[区县])?")  # "A市A5区": anonymised city/district
_CLEAN = re.compile(r"[^\w]+")
_PLACE_ENDS = frozenset("园苑城湾府村路街道县镇区厦寓庭院校站场桥居里苑")


@dataclass(frozen=True)
class Message:
    """One request as topic detection sees it (a ticket or a Teddy Cup message)."""

    id: str
    at: datetime | None
    title: str
    text: str
    author: str | None = None
    street: str | None = None
    category: str | None = None
    likes: int = 0
    dislikes: int = 0


@dataclass(frozen=True)
class Params:
    """Tuning of topic detection; the defaults are the ones discussed in docs/topics.md."""

    eps: float = 0.65  # cosine distance below which two requests are neighbours
    min_samples: int = 3  # DBSCAN: a core request has this many neighbours (itself included)
    title_weight: float = 0.7  # weight of the title character n-gram block
    place_weight: float = 0.3  # weight of the street one-hot block
    category_weight: float = 0.2  # weight of the category one-hot block
    place_bonus: float = 0.3  # added to the similarity of titles that share a rare 4-gram ...
    bonus_floor: float = 0.3  # ... when they are at least this similar already
    max_df: float = 0.05  # words in more than this share of requests carry no topic
    rare_df: float = 0.005  # a title 4-gram in at most this share (and 3) requests is "rare"
    block: int = 2000  # rows per block of the similarity product (bounds memory)
    coherence: float = 0.4  # a cluster less coherent than this is split with a tighter radius ...
    eps_step: float = 0.05  # ... eps minus this ...
    min_eps: float = 0.45  # ... but never below this


@dataclass
class Topic:
    """A cluster of requests with its heat; `members` are row numbers of the input."""

    members: list[int]
    volume: int
    people: int
    engagement: int
    streets: list[str]
    categories: list[str]
    phrase: str
    terms: list[str]
    representative: int
    first_at: datetime | None
    last_at: datetime | None
    previous: float = 0.0  # mean monthly volume of matching requests before the period
    heat: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


def _document(message: Message) -> str:
    title = message.title or ""
    return normalise(f"{title}。{title}。{message.text or ''}")


def _title(message: Message) -> str:
    return _PREFIX.sub("", _CLEAN.sub("", normalise(message.title or message.text[:40] or "")))


def _texts(messages: Sequence[Message]) -> tuple[list[str], list[str]]:
    """`_document` and `_title` of every message, normalised once per distinct title and text."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    docs: list[str] = []
    titles: list[str] = []
    for message in messages:
        key = (message.title, message.text)
        found = seen.get(key)
        if found is None:
            found = seen[key] = (_document(message), _title(message))
        docs.append(found[0])
        titles.append(found[1])
    return docs, titles


def _one_hot(values: Sequence[str | None]) -> sparse.csr_matrix:
    codes = {v: i for i, v in enumerate(sorted({v for v in values if v}))}
    rows = [r for r, v in enumerate(values) if v]
    cols = [codes[v] for v in values if v]
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(values), max(1, len(codes))))


def _tfidf(
    analyzer: str | Callable[[str], list[str]], docs: list[str], **options: object
) -> sparse.csr_matrix:
    """TF-IDF, or an empty matrix when no term survives the document-frequency limits."""
    try:
        matrix: sparse.csr_matrix = TfidfVectorizer(
            analyzer=analyzer, sublinear_tf=True, **options
        ).fit_transform(docs)
        return matrix
    except ValueError:  # empty vocabulary: too few or too uniform documents
        return sparse.csr_matrix((len(docs), 1))


def _memoised(analyzer: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
    """`analyzer` run once per distinct text: repeated requests are common, and tokenising is the
    costly part of vectorising. The same list is returned for the same text (read-only use)."""
    seen: dict[str, list[str]] = {}

    def analyse(text: str) -> list[str]:
        found = seen.get(text)
        if found is None:
            found = seen[text] = analyzer(text)
        return found

    return analyse


def vectorise(messages: Sequence[Message], params: Params) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """The request vectors and the binary matrix of their rare title 4-grams."""
    count = len(messages)
    min_df = 1 if count < 20 else 2
    max_df = max(params.max_df, min(1.0, 30 / count))  # a share cap means nothing on a few requests
    docs, titles = _texts(messages)
    word_block = _tfidf(_memoised(words), docs, min_df=min_df, max_df=max_df)
    title_block = _tfidf("char", titles, ngram_range=(3, 4), min_df=min_df)
    vectors = sparse.hstack(
        [
            normalize(word_block),
            params.title_weight * normalize(title_block),
            params.place_weight * _one_hot([m.street for m in messages]),
            params.category_weight * _one_hot([m.category for m in messages]),
        ]
    ).tocsr()
    rare_cap = max(3, int(params.rare_df * count))
    rare = _tfidf(_places, titles, min_df=2, max_df=rare_cap, use_idf=False, norm=None)
    return normalize(vectors), (rare > 0).astype(np.float64).tocsr()


def _places(title: str) -> list[str]:
    """Title 4-grams that end a place name (小区, 花园, 路, 县 ...): the keys of the place bonus.

    >>> _places("五矿万境k9县墙壁开裂")
    ['境k9县']
    """
    return [title[i : i + 4] for i in range(len(title) - 3) if title[i + 3] in _PLACE_ENDS]


def similarity_graph(
    vectors: sparse.csr_matrix, rare: sparse.csr_matrix, params: Params
) -> sparse.csr_matrix:
    """Sparse cosine distances of the pairs closer than `eps` (with the place bonus applied)."""
    floor = 1.0 - params.eps
    parts: list[sparse.csr_matrix] = []
    for start in range(0, vectors.shape[0], params.block):
        stop = min(start + params.block, vectors.shape[0])
        sim = (vectors[start:stop] @ vectors.T).tocsr()
        shared = ((rare[start:stop] @ rare.T) > 0).astype(np.float64)
        sim = (sim + params.place_bonus * shared.multiply(sim >= params.bonus_floor)).tocsr()
        sim.data[sim.data < floor] = 0.0
        sim.eliminate_zeros()
        sim.data = np.maximum(1.0 - np.minimum(sim.data, 1.0), 1e-9)  # a stored 0 would vanish
        parts.append(sim)
    return sparse.vstack(parts).tocsr() if parts else sparse.csr_matrix((0, 0))


def _distinct_rows(vectors: sparse.csr_matrix, rare: sparse.csr_matrix) -> tuple[I64, I64]:
    """Requests whose vector and rare 4-grams are bit-for-bit those of an earlier request.

    Returns `first`, the first row of each distinct vector (ascending), and `inverse`, the
    distinct number of every row. Copies have bit-for-bit the same similarities to every other
    row, so DBSCAN on the distinct rows, each weighted by its number of copies, finds the same
    core requests and the same clusters, numbered alike (the first row of a copy set stands for
    it, so DBSCAN meets the rows in the same order). An empty vector is no neighbour of its
    copies (cosine 0), only of itself: it stays alone.
    """
    seen: dict[tuple[bytes, bytes, bytes], int] = {}
    first: list[int] = []
    inverse = np.empty(vectors.shape[0], dtype=np.int64)
    pointer, indices, data = vectors.indptr, vectors.indices, vectors.data
    rare_pointer, rare_indices = rare.indptr, rare.indices
    for row in range(vectors.shape[0]):
        start, stop = pointer[row], pointer[row + 1]
        number = len(first)
        if start < stop:
            key = (
                indices[start:stop].tobytes(),
                data[start:stop].tobytes(),
                rare_indices[rare_pointer[row] : rare_pointer[row + 1]].tobytes(),
            )
            number = seen.setdefault(key, number)
        if number == len(first):
            first.append(row)
        inverse[row] = number
    return np.asarray(first, dtype=np.int64), inverse


def cluster(messages: Sequence[Message], params: Params | None = None) -> I64:
    """A topic label per request; requests no cluster takes get labels of their own."""
    params = params or Params()
    if not messages:
        return np.zeros(0, dtype=np.int64)
    vectors, rare = vectorise(messages, params)
    first, inverse = _distinct_rows(vectors, rare)
    copies = np.bincount(inverse).astype(np.float64)
    graph = similarity_graph(vectors[first], rare[first], params)
    self_distance = graph.diagonal()[copies > 1]
    if np.any(self_distance == 0) or np.any(self_distance > min(params.eps, params.min_eps)):
        # copies would not be neighbours of each other at every radius used (never with the
        # defaults): cluster every row for itself, the slow way
        first, inverse = np.arange(len(messages), dtype=np.int64), np.arange(len(messages), dtype=np.int64)
        copies = np.ones(len(messages))
        graph = similarity_graph(vectors, rare, params)
    labels = np.full(len(messages), -1, dtype=np.int64)
    next_label = 0
    pending = [(np.arange(len(first), dtype=np.int64), params.eps)]
    while pending:  # split incoherent clusters again with a tighter radius (see `coherence`)
        rows, eps = pending.pop()  # distinct rows, ascending
        found = DBSCAN(eps=eps, min_samples=params.min_samples, metric="precomputed").fit_predict(
            graph[rows][:, rows], sample_weight=copies[rows]
        )
        for label in np.unique(found[found >= 0]):
            distinct = rows[found == label]
            chosen = np.zeros(len(first), dtype=bool)
            chosen[distinct] = True
            members = np.flatnonzero(chosen[inverse])  # every copy, ascending
            tighter = eps - params.eps_step
            if coherence(vectors, members) < params.coherence and tighter >= params.min_eps:
                pending.append((distinct, tighter))
            else:
                labels[members] = next_label
                next_label += 1
    alone = labels < 0
    labels[alone] = next_label + np.arange(int(alone.sum()))
    return labels


def coherence(vectors: sparse.csr_matrix, members: I64) -> float:
    """Mean cosine of the members to their centroid: about 0.5 for one matter told many ways,
    under 0.4 for a chain of different matters that DBSCAN joined through shared places."""
    block = vectors[members]
    centroid = normalize(np.asarray(block.mean(axis=0)))
    return float(np.mean(block @ centroid.T))


def key_phrase(titles: Sequence[str], longest: int = 12) -> str:
    """The longest title substring (3+ characters) shared by at least half of the titles.

    >>> key_phrase(["A市伊景园滨河苑捆绑车位", "伊景园滨河苑车位捆绑销售", "投诉伊景园滨河苑"])
    '伊景园滨河苑'
    """
    cleaned = [_PREFIX.sub("", _CLEAN.sub("", normalise(t))) for t in titles[:200]]
    if len(cleaned) == 1:
        return cleaned[0][:longest]
    need = max(2, math.ceil(len(cleaned) / 2))
    counts: Counter[str] = Counter()
    for title in cleaned:
        counts.update({title[i : i + n] for n in range(3, longest + 1) for i in range(len(title) - n + 1)})
    shared = [(len(g), n, g) for g, n in counts.items() if n >= need]
    return max(shared)[2] if shared else ""


def matches(terms: Sequence[str], text: str) -> bool:
    """Whether a request belongs to a topic: it holds at least min(3, len(terms)) of its terms.

    >>> matches(["伊景园滨河苑", "车位", "捆绑"], "伊景园滨河苑车位捆绑销售")
    True
    >>> matches(["车位", "捆绑"], "车位")
    False
    """
    body = normalise(text)
    need = min(3, len(terms))
    return need > 0 and sum(term in body for term in terms) >= need


class TextIndex:
    """Which of many texts hold a term, as `term in text` answers it, for many terms.

    Counting a topic's earlier requests asks it for a few thousand terms over tens of thousands
    of texts. The texts' character pairs are indexed once; a term's candidates are the texts
    holding its rarest pair (all of its pairs for a two-character term: the answer itself), and
    only those are searched. Terms shorter than two characters are searched in every text.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = list(texts)
        lengths = np.fromiter((len(t) for t in self.texts), dtype=np.int64, count=len(self.texts))
        codes = np.frombuffer(
            "".join(self.texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32
        ).astype(np.int64)
        owner = np.repeat(np.arange(len(self.texts), dtype=np.int64), lengths)
        # a pair starts at every character but the last of its text
        starts = np.ones(len(codes), dtype=bool)
        starts[np.cumsum(lengths)[lengths > 0] - 1] = False
        pairs = (codes[:-1] << 21) | codes[1:] if len(codes) > 1 else codes[:0]
        pairs, owner = pairs[starts[:-1]], owner[:-1][starts[:-1]]
        order = np.argsort(pairs, kind="stable")  # texts stay ascending within a pair
        pairs, owner = pairs[order], owner[order]
        keep = np.ones(len(pairs), dtype=bool)
        keep[1:] = (pairs[1:] != pairs[:-1]) | (owner[1:] != owner[:-1])
        self.pairs, self.owner = pairs[keep], owner[keep]  # sorted by pair, then text
        self.found: dict[str, npt.NDArray[np.bool_]] = {}

    def _with_pair(self, pair: str) -> I64:
        key = (ord(pair[0]) << 21) | ord(pair[1])
        low, high = np.searchsorted(self.pairs, [key, key + 1])
        found: I64 = self.owner[low:high]
        return found

    def holding(self, term: str) -> npt.NDArray[np.bool_]:
        """A flag per text: whether it holds `term` (remembered for the next call)."""
        flags = self.found.get(term)
        if flags is None:
            flags = np.zeros(len(self.texts), dtype=bool)
            if len(term) < 2:
                flags[:] = [term in text for text in self.texts]
            else:
                candidates = min((self._with_pair(term[i : i + 2]) for i in range(len(term) - 1)), key=len)
                if len(term) > 2:
                    texts = self.texts
                    held = (term in texts[i] for i in candidates.tolist())
                    candidates = candidates[np.fromiter(held, dtype=bool, count=len(candidates))]
                flags[candidates] = True
            self.found[term] = flags
        return flags


def heat(people: int, engagement: int, streets: int, volume: int, previous: float) -> float:
    """The heat index of docs/topics.md:
    ln(1 + people) + 0.5 ln(1 + likes + dislikes) + 0.5 ln(max(1, streets))
    + 0.5 ln(max(1, (volume + 1) / (previous + 1))).

    >>> round(heat(9, 2097, 0, 0, 0.0), 2)  # 9 people, 2,097 likes, no streets, no growth
    6.13
    """
    growth = max(1.0, (volume + 1.0) / (previous + 1.0))
    return (
        math.log1p(people)
        + 0.5 * math.log1p(engagement)
        + 0.5 * math.log(max(1, streets))
        + 0.5 * math.log(growth)
    )


def _terms(vectors: sparse.csr_matrix, members: list[int], vocabulary: list[str], top: int) -> list[str]:
    centroid = np.asarray(vectors[members].sum(axis=0)).ravel()
    order = np.argsort(-centroid, kind="stable")[:top]
    return [vocabulary[i] for i in order if centroid[i] > 0]


def rank_topics(
    messages: Sequence[Message],
    labels: I64,
    previous: Callable[[list[str], list[str]], float] | None = None,
    top_terms: int = 5,
) -> list[Topic]:
    """Topics sorted by heat (highest first). `previous(terms, streets)` gives the mean monthly
    volume of matching requests before the period (growth); without it growth is 1."""
    docs, _ = _texts(messages)
    vectorizer = TfidfVectorizer(analyzer=_memoised(words), sublinear_tf=True)
    try:
        word_vectors = normalize(vectorizer.fit_transform(docs)).tocsr()
        vocabulary = list(vectorizer.get_feature_names_out())
    except ValueError:
        word_vectors, vocabulary = sparse.csr_matrix((len(docs), 1)), [""]
    topics: list[Topic] = []
    for label in np.unique(labels):
        members = [int(i) for i in np.flatnonzero(labels == label)]
        topics.append(_topic(messages, members, word_vectors, vocabulary, top_terms, previous))
    topics.sort(key=lambda t: (-t.heat, -t.volume, messages[t.representative].id))
    return topics


def _topic(
    messages: Sequence[Message],
    members: list[int],
    vectors: sparse.csr_matrix,
    vocabulary: list[str],
    top_terms: int,
    previous: Callable[[list[str], list[str]], float] | None,
) -> Topic:
    chosen = [messages[i] for i in members]
    centroid = np.asarray(vectors[members].mean(axis=0)).ravel()
    closeness = vectors[members] @ centroid
    representative = members[int(np.argmax(closeness))]
    phrase = key_phrase([m.title or m.text[:40] for m in chosen])
    words_ = _terms(vectors, members, vocabulary, top_terms)
    phrase = phrase or "、".join(words_[:3])  # no shared title substring: the top words instead
    terms = [t for t in [phrase, *words_] if t and "、" not in t]
    streets = sorted({m.street for m in chosen if m.street})
    times = [m.at for m in chosen if m.at is not None]
    authors = {m.author for m in chosen if m.author}
    people = len(authors) + sum(1 for m in chosen if not m.author)
    engagement = sum(m.likes + m.dislikes for m in chosen)
    grows = previous is not None and len(members) > 1  # a lone request is no trend
    before = previous(terms, streets) if grows and previous is not None else 0.0
    topic = Topic(
        members=members,
        volume=len(members),
        people=people,
        engagement=engagement,
        streets=streets,
        categories=[c for c, _ in Counter(m.category for m in chosen if m.category).most_common()],
        phrase=phrase,
        terms=terms,
        representative=representative,
        first_at=min(times) if times else None,
        last_at=max(times) if times else None,
        previous=before,
    )
    topic.heat = heat(people, engagement, len(streets), len(members) if grows else 0, before)
    return topic
