# mypy: disable-error-code="import-untyped"
"""Text normalisation, tokenisation and TF-IDF features for the dispatch classifier.

Every text goes through :func:`normalise` before features are built, in training and in
prediction alike: whitespace padding (``\\n\\t…``, U+3000, NBSP) is collapsed, full-width
characters become half-width (NFKC), mobile, landline and ID-card numbers are masked with
:func:`megacity.domain.privacy.mask_text` and then replaced by a placeholder (so no personal
number reaches a feature, a model file or a log), latin letters are lower-cased and very long
texts are cut.

Words are jieba's dictionary words in *full mode* (jieba's ``cut_all``: every dictionary word in
the text, overlapping ones included), found by looking every 2-4 character substring up in
jieba's dictionary: the same words as ``jieba.lcut(text, cut_all=True)`` gives with 2-4 Chinese
characters (a unit test checks it), several times faster, and better features than jieba's
accurate mode (docs/classify.md). Latin words (``wifi``) are words too; single characters
are covered by the character features. jieba is initialised once, quietly, and only for training: a trained
model looks substrings up in its own vocabulary, which gives the same words.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, TransformerMixin

from megacity.domain.privacy import mask_text
from megacity.io.rows import clean_text

__all__ = [
    "ANALYZERS",
    "ID_TOKEN",
    "MAX_CHARS",
    "PHONE_TOKEN",
    "TokenTfidf",
    "Deduplicated",
    "char_pairs",
    "chars",
    "deduplicate",
    "dictionary",
    "has_text",
    "normalise",
    "substrings",
    "words",
]

MAX_CHARS = 2000
"""Texts are cut to their first MAX_CHARS characters (after normalisation)."""

WORD_CHARS = 1000
"""Only the first WORD_CHARS characters are searched for words (it is the costly part)."""

LONGEST_WORD = 4  # substrings() generates runs of 2, 3 and 4 characters
PHONE_TOKEN = "〔电话〕"
ID_TOKEN = "〔证件〕"

_MASKED_ID = re.compile(r"\d{6}\*{8}\d{3}[\dXx]")
_MASKED_PHONE = re.compile(r"\d{3}-?\*{4}\d{3,4}")
_MAYBE_NUMBER = re.compile(r"\d{7}")  # every number mask_text masks has a run of 7 digits
_LATIN_WORD = re.compile(r"[a-z][a-z0-9]+")
_HAN_RUN = re.compile("[\u4e00-\u9fff]{2,}")
_HAN_WORD = re.compile(f"[\u4e00-\u9fff]{{2,{LONGEST_WORD}}}")
_SPACE = re.compile(r"\s+")
_lock = threading.Lock()
_dictionary: frozenset[str] | None = None
_NEVER = "\x00"  # the only column of an empty vocabulary: no analyzer yields it


def normalise(text: object, limit: int = MAX_CHARS) -> str:
    """One canonical form of a free text: clean, half-width, personal numbers replaced, cut.

    Parameters
    ----------
    text
        Any cell value; ``None``, NaN and blank strings give ``""``.
    limit
        Keep at most this many characters.

    Examples
    --------
    >>> normalise("\\n\\t 噪音\\u3000扰民ＡＢＣ１２３ ")
    '噪音 扰民abc123'
    >>> normalise("电话13800138000，身份证110101199001011234")
    '电话〔电话〕,身份证〔证件〕'
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    raw = text if isinstance(text, str) else str(text)
    raw = raw[: 4 * limit]  # padding is at most a few characters per character kept
    if not unicodedata.is_normalized("NFKC", raw):
        raw = unicodedata.normalize("NFKC", raw)
    cleaned = clean_text(raw)
    if not cleaned:
        return ""
    if _MAYBE_NUMBER.search(cleaned):
        cleaned = _MASKED_PHONE.sub(PHONE_TOKEN, _MASKED_ID.sub(ID_TOKEN, mask_text(cleaned)))
    return cleaned.lower()[:limit]


def dictionary() -> frozenset[str]:
    """jieba's dictionary words of 2-4 Chinese characters (loaded once, quietly, when first used).

    Only training needs it: a trained model looks words up in its own vocabulary.
    """
    global _dictionary
    if _dictionary is None:
        with _lock:
            if _dictionary is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                freq: dict[str, int] = jieba.dt.FREQ
                _dictionary = frozenset(w for w, n in freq.items() if n and _HAN_WORD.fullmatch(w))
    return _dictionary


def substrings(text: str) -> list[str]:
    """Every run of 2 to 4 Chinese characters in the text's first WORD_CHARS characters.

    Dictionary words are Chinese only, so substrings across punctuation, digits or latin
    letters are not generated (a third fewer look-ups).

    >>> substrings("路灯坏,a市")
    ['路灯', '灯坏', '路灯坏']
    """
    found: list[str] = []
    for run in _HAN_RUN.findall(text[:WORD_CHARS]):
        size = len(run)
        found += [run[i : i + 2] for i in range(size - 1)]
        if size > 2:
            found += [run[i : i + 3] for i in range(size - 2)]
        if size > 3:
            found += [run[i : i + 4] for i in range(size - 3)]
    return found


def words(text: str) -> list[str]:
    """jieba full-mode words of a normalised text (its first WORD_CHARS characters).

    Latin words first (a letter, then letters or digits: ``wifi``, ``app``), then the words of
    jieba's dictionary with 2, 3 and 4 Chinese characters, run of Chinese characters by run,
    shorter words first; a word is listed once per occurrence.

    >>> words("小区路灯不亮,wifi没信号")
    ['wifi', '小区', '路灯', '灯不亮', '信号']
    """
    text = text[:WORD_CHARS]
    return _LATIN_WORD.findall(text) + list(filter(dictionary().__contains__, substrings(text)))


def chars(text: str) -> list[str]:
    """The characters of a text except whitespace.

    >>> chars("路灯 不亮")
    ['路', '灯', '不', '亮']
    """
    return list(_SPACE.sub("", text))


def char_pairs(text: str) -> list[str]:
    """Characters and pairs of adjacent characters (whitespace runs count as one space).

    >>> char_pairs("路灯坏")
    ['路', '灯', '坏', '路灯', '灯坏']
    """
    text = _SPACE.sub(" ", text)
    return chars(text) + [text[i : i + 2] for i in range(len(text) - 1)]


def has_text(cells: Iterable[object]) -> bool:
    """Whether any cell normalises to a non-empty text.

    >>> has_text([None, " \u3000 "]), has_text(["", "路灯"])
    (False, True)
    """
    return any(normalise(cell, limit=50) for cell in cells)


@dataclass(frozen=True)
class Deduplicated:
    """Which rows to train on: identical documents collapse, conflicting ones are dropped."""

    keep: list[int]
    repeated: int  # identical document with the same label: copies beyond the first
    conflicting: int  # rows whose identical document carries different labels


def deduplicate(documents: Sequence[Hashable], labels: Sequence[str]) -> Deduplicated:
    """Row indices to keep, comparing normalised documents (e.g. (title, text) pairs).

    A text that appears more than once with one label is kept once (so it cannot sit on both
    sides of a cross-validation split); a text whose copies carry different labels (Teddy Cup
    message 37042: 城乡建设 and 劳动和社会保障) is dropped entirely: no one knows which is right,
    and keeping both only teaches the model to be unsure.

    >>> d = deduplicate(["a", "a", "b", "b", "c"], ["x", "x", "x", "y", "z"])
    >>> d.keep, d.repeated, d.conflicting
    ([0, 4], 1, 2)
    """
    seen: dict[Hashable, set[str]] = {}
    for document, label in zip(documents, labels, strict=True):
        seen.setdefault(document, set()).add(label)
    keep: list[int] = []
    repeated = conflicting = 0
    taken: set[Hashable] = set()
    for index, document in enumerate(documents):
        if len(seen[document]) > 1:
            conflicting += 1
        elif document in taken:
            repeated += 1
        else:
            taken.add(document)
            keep.append(index)
    return Deduplicated(keep, repeated, conflicting)


ANALYZERS: dict[str, Callable[[str], list[str]]] = {
    "words": words,
    "chars": chars,
    "char_pairs": char_pairs,
}


class TokenTfidf(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """TF-IDF of one analyzer's tokens: sublinear tf, smoothed idf, rows L2-normalised.

    The same numbers as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``, counted with
    ``collections.Counter`` (C code) so that transforming is several times faster. The
    analyzer is named (a key of :data:`ANALYZERS`), so fitted models pickle small. For
    ``"words"``, ``transform`` looks substrings up in the fitted vocabulary (a subset of the
    dictionary), which finds the same known words without loading jieba. A vocabulary is never
    empty (texts without a single word still give a column, of zeros), so a block of a column
    without words cannot break the pipeline.

    Parameters
    ----------
    analyzer
        ``"words"``, ``"chars"`` or ``"char_pairs"``.
    min_df
        Ignore tokens found in fewer training documents.
    """

    def __init__(self, analyzer: str = "words", min_df: int = 1) -> None:
        self.analyzer = analyzer
        self.min_df = min_df

    def fit(self, X: Iterable[str], y: Any = None) -> TokenTfidf:
        """Learn the vocabulary and the idf weights."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Iterable[str], y: Any = None) -> csr_matrix:
        """Learn the vocabulary and the idf weights; the training rows (each text analysed once)."""
        analyse = ANALYZERS[self.analyzer]
        documents = [analyse(doc) for doc in X]
        df: Counter[str] = Counter()
        for tokens in documents:
            df.update(set(tokens))
        vocabulary = sorted(token for token, n in df.items() if n >= self.min_df) or [_NEVER]
        self.vocabulary_ = {token: i for i, token in enumerate(vocabulary)}
        self.chinese_words_ = frozenset(token for token in vocabulary if _HAN_WORD.fullmatch(token))
        counts = np.asarray([df[token] for token in vocabulary], dtype=np.float64)
        self.idf_ = np.log((1.0 + len(documents)) / (1.0 + counts)) + 1.0
        return self._rows(documents)

    def transform(self, X: Iterable[str]) -> csr_matrix:
        """One sparse L2-normalised row per document."""
        if self.analyzer == "words":
            known = self.chinese_words_.__contains__
            return self._rows(
                chain(_LATIN_WORD.findall(doc[:WORD_CHARS]), filter(known, substrings(doc))) for doc in X
            )
        analyse = ANALYZERS[self.analyzer]
        return self._rows(analyse(doc) for doc in X)

    def _rows(self, documents: Iterable[Iterable[str]]) -> csr_matrix:
        lookup = self.vocabulary_.get
        columns: list[int] = []
        counts: list[int] = []
        sizes: list[int] = []
        for tokens in documents:
            tally = Counter(tokens)
            columns += map(lookup, tally, repeat(-1))
            counts += tally.values()
            sizes.append(len(tally))
        column = np.asarray(columns, dtype=np.int64)
        known = column >= 0
        rows = np.repeat(np.arange(len(sizes)), sizes)[known]
        indptr = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(sizes)), out=indptr[1:])
        column = column[known]
        data = (np.log(np.asarray(counts, dtype=np.float64)[known]) + 1.0) * self.idf_[column]
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(sizes)))
        data /= norms[rows]  # a row with an entry has a positive norm
        return csr_matrix((data, column, indptr), shape=(len(sizes), len(self.vocabulary_)))

    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        """Tokens in column order."""
        return np.asarray(sorted(self.vocabulary_, key=self.vocabulary_.__getitem__), dtype=object)
