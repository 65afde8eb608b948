# mypy: disable-error-code="import-untyped"
"""The dispatch classifier: a scikit-learn pipeline with honest confidences and top-k labels.

``Pipeline`` steps, by name (so ``set_params(clf__C=2.0)`` works):

``normalise``
    :func:`megacity.nlp.text.normalise` on both columns (title, text) of the input.
``features``
    a ``ColumnTransformer`` of TF-IDF blocks (sublinear tf, each block L2-normalised):
    title jieba words, title characters 1-2, text jieba words, text characters 1. Separate
    title blocks give the title about as much weight as the whole text.
``clf``
    :class:`CalibratedLinearSVC`: a linear SVM (balanced class weights) whose decision values
    are turned into probabilities by temperature scaling fitted on cross-validated decision
    values, so that a confidence of 0.8 is right about 80% of the time.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import platform
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
import sklearn
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from megacity.nlp.text import TokenTfidf, deduplicate, has_text, normalise

__all__ = [
    "CalibratedLinearSVC",
    "ModelError",
    "Prediction",
    "TextClassifier",
    "as_input",
    "build_pipeline",
    "normalise_columns",
    "top_k",
    "train",
]

TITLE, TEXT = 0, 1
DEFAULT_C = 1.0


@dataclass(frozen=True)
class Prediction:
    """The best label, its probability, and the k most probable labels, best first."""

    label: str
    confidence: float
    top: tuple[tuple[str, float], ...]


def as_input(texts: Sequence[object], titles: Sequence[object] | None = None) -> npt.NDArray[np.object_]:
    """The pipeline's input: an ``(n, 2)`` object array of raw (title, text) cells.

    >>> as_input(["正文"], ["标题"]).tolist()
    [['标题', '正文']]
    >>> as_input(["正文"]).tolist()
    [[None, '正文']]
    """
    if titles is not None and len(titles) != len(texts):
        raise ValueError(f"{len(titles)} titles for {len(texts)} texts")
    frame = np.empty((len(texts), 2), dtype=object)
    frame[:, TEXT] = list(texts)
    frame[:, TITLE] = list(titles) if titles is not None else None
    return frame


def normalise_columns(frame: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """:func:`normalise` every cell (titles cut at 200 characters); the pipeline's first step."""
    out = np.empty(frame.shape, dtype=object)
    out[:, TITLE] = [normalise(cell, limit=200) for cell in frame[:, TITLE]]
    out[:, TEXT] = [normalise(cell) for cell in frame[:, TEXT]]
    return out


def build_pipeline(*, title: bool = True, C: float = DEFAULT_C) -> Pipeline:
    """The default model, untrained.

    Parameters
    ----------
    title
        Include the title blocks (title words, title characters and character pairs).
    C
        Inverse regularisation strength of the linear SVM.
    """
    blocks = [("text_words", TokenTfidf("words"), TEXT), ("text_chars", TokenTfidf("chars"), TEXT)]
    if title:
        blocks[:0] = [
            ("title_words", TokenTfidf("words"), TITLE),
            ("title_chars", TokenTfidf("char_pairs"), TITLE),
        ]
    return Pipeline(
        [
            ("normalise", FunctionTransformer(normalise_columns)),
            ("features", ColumnTransformer(blocks)),
            ("clf", CalibratedLinearSVC(C=C)),
        ]
    )


class CalibratedLinearSVC(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """LinearSVC with temperature-scaled softmax probabilities.

    The temperature is fitted (maximum likelihood) on out-of-fold decision values of
    ``calibration_folds`` folds (stratified unless a class is smaller than that; rows whose class
    was absent from their fold's training part do not count); the SVM used for prediction is then
    trained on all data, so calibration never changes which label wins. With fewer than
    ``2 * calibration_folds`` examples the temperature stays 1 (``calibrated_`` is False).

    Parameters
    ----------
    C
        Inverse regularisation strength.
    class_weight
        ``"balanced"`` (default) weighs classes inversely to their frequency, for macro-F1.
    calibration_folds
        Folds for the out-of-fold decision values that the temperature is fitted on.
    random_state
        Seed of the SVM's coordinate descent and of the calibration folds.
    """

    def __init__(
        self,
        C: float = DEFAULT_C,
        class_weight: str | None = "balanced",
        calibration_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def _svm(self) -> LinearSVC:
        return LinearSVC(
            C=self.C, class_weight=self.class_weight, random_state=self.random_state, max_iter=10_000
        )

    def _scores(self, svm: LinearSVC, X: Any) -> npt.NDArray[np.float64]:
        scores = np.asarray(svm.decision_function(X), dtype=np.float64)
        if scores.ndim == 1:  # two classes: one margin, positive for classes_[1]
            scores = np.column_stack([-scores / 2, scores / 2])
        return scores

    def fit(self, X: Any, y: Sequence[str] | npt.NDArray[Any]) -> CalibratedLinearSVC:
        """Fit the temperature on out-of-fold scores, then the SVM on everything."""
        labels = np.asarray(y)
        self.classes_ = np.unique(labels)
        if len(self.classes_) < 2:
            raise ValueError(f"need at least two classes to train, got {len(self.classes_)}")
        self.temperature_ = 1.0
        self.calibrated_ = False
        if self.calibration_folds >= 2 and len(labels) >= 2 * self.calibration_folds:
            self.temperature_, self.calibrated_ = self._fit_temperature(X, labels)
        self.svm_ = self._svm().fit(X, labels)
        return self

    def _out_of_fold(self, X: Any, labels: npt.NDArray[Any]) -> tuple[npt.NDArray[np.float64], list[int]]:
        """Scores of each row by an SVM that did not see it, and the rows whose class it knew."""
        folds = self.calibration_folds
        stratified = min(Counter(labels.tolist()).values()) >= folds
        splitter = (StratifiedKFold if stratified else KFold)(
            folds, shuffle=True, random_state=self.random_state
        )
        scores = np.zeros((len(labels), len(self.classes_)))
        usable: list[int] = []
        for train, test in splitter.split(np.zeros(len(labels)), labels):
            known = np.unique(labels[train])
            if len(known) < 2:
                continue
            fold_scores = self._scores(self._svm().fit(X[train], labels[train]), X[test])
            scores[test] = fold_scores.min(axis=1, keepdims=True) - 1.0  # classes this fold never saw
            scores[np.ix_(test, np.searchsorted(self.classes_, known))] = fold_scores
            usable += [int(i) for i in test if labels[i] in known]
        return scores, usable

    def _fit_temperature(self, X: Any, labels: npt.NDArray[Any]) -> tuple[float, bool]:
        scores, usable = self._out_of_fold(X, labels)
        if not usable:
            return 1.0, False
        scores = scores[usable]
        truth = np.searchsorted(self.classes_, labels[usable])

        def loss(log_t: float) -> float:
            logp = log_softmax(scores / math.exp(log_t), axis=1)
            return float(-logp[np.arange(len(truth)), truth].mean())

        best = minimize_scalar(loss, bounds=(-6.0, 6.0), method="bounded")
        return float(math.exp(best.x)), True

    def decision_function(self, X: Any) -> npt.NDArray[np.float64]:
        """Per-class margins of the SVM trained on all data."""
        return self._scores(self.svm_, X)

    def predict_proba(self, X: Any) -> npt.NDArray[np.float64]:
        """Class probabilities (columns in ``classes_`` order), rows sum to 1."""
        return np.asarray(softmax(self.decision_function(X) / self.temperature_, axis=1), dtype=np.float64)

    def predict(self, X: Any) -> npt.NDArray[Any]:
        """The label with the largest margin (the same as the most probable one)."""
        result: npt.NDArray[Any] = self.classes_[np.argmax(self.decision_function(X), axis=1)]
        return result


def top_k(probabilities: npt.NDArray[np.float64], classes: Sequence[str], k: int = 3) -> list[Prediction]:
    """One :class:`Prediction` per row; ties are broken by class order, so results are stable.

    >>> top_k(np.array([[0.2, 0.7, 0.1]]), ["a", "b", "c"], k=2)[0]
    Prediction(label='b', confidence=0.7, top=(('b', 0.7), ('a', 0.2)))
    """
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    results = []
    for row, best in zip(probabilities, order, strict=True):
        top = tuple((str(classes[i]), float(row[i])) for i in best)
        results.append(Prediction(top[0][0], top[0][1], top))
    return results


class ModelError(Exception):
    """A model folder that is missing, damaged or made by an incompatible scikit-learn."""


@dataclass
class TextClassifier:
    """A trained pipeline and its metadata (what ``meta.json`` holds)."""

    pipeline: Pipeline
    meta: dict[str, Any]

    @property
    def labels(self) -> list[str]:
        """The classes the model knows, sorted."""
        return [str(label) for label in self.pipeline.classes_]

    @property
    def uses_title(self) -> bool:
        """Whether the model was trained with titles (it still predicts without them)."""
        return bool(self.meta.get("params", {}).get("title", False))

    def predict(
        self, texts: Sequence[object], titles: Sequence[object] | None = None, k: int = 3
    ) -> list[Prediction]:
        """One prediction per text, in input order; empty texts get the model's best guess."""
        if not len(texts):
            return []
        probabilities = self.pipeline.predict_proba(as_input(texts, titles))
        return top_k(probabilities, self.labels, k)

    def save(self, folder: Path) -> None:
        """Write ``model.joblib`` and ``meta.json`` into ``folder`` (created if needed)."""
        buffer = io.BytesIO()
        joblib.dump(self.pipeline, buffer, compress=3)
        payload = buffer.getvalue()
        digest = hashlib.sha256(payload).hexdigest()
        created = datetime.now(UTC)
        self.meta.update(
            sha256=digest,
            created_at=created.isoformat(timespec="seconds"),
            version=f"{digest[:12]}-{created:%Y%m%dT%H%M%SZ}",
        )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MODEL_FILE).write_bytes(payload)
        text = json.dumps(self.meta, ensure_ascii=False, indent=2, sort_keys=True)
        (folder / META_FILE).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> TextClassifier:
        """Read a model folder; raises :class:`ModelError` with the reason if it cannot be used.

        Only load models you trust: a joblib file is a pickle and can run code.
        """
        meta = _read_meta(folder)
        payload = _read_payload(folder, meta)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InconsistentVersionWarning)
            try:
                pipeline = joblib.load(io.BytesIO(payload))
            except Exception as exc:  # a damaged or foreign pickle fails in many ways
                reason = f"{type(exc).__name__}: {exc}"
                raise ModelError(f"{folder / MODEL_FILE}: cannot load ({reason})") from None
        if not isinstance(pipeline, Pipeline):
            raise ModelError(f"{folder / MODEL_FILE}: not a megacity classifier")
        return cls(pipeline, meta)


MODEL_FILE = "model.joblib"
META_FILE = "meta.json"
FORMAT = 1  # raise when the pickled classes change, so old folders get a clear ModelError


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _read_meta(folder: Path) -> dict[str, Any]:
    path = folder / META_FILE
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such model folder")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read model metadata ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{path}: not a megacity classifier (format {FORMAT} expected)")
    trained = str(meta.get("sklearn_version", "?"))
    if _minor(trained) != _minor(sklearn.__version__):
        raise ModelError(
            f"{folder}: trained with scikit-learn {trained}, installed is {sklearn.__version__}; "
            "retrain it with `megacity classify train`"
        )
    return meta


def _read_payload(folder: Path, meta: dict[str, Any]) -> bytes:
    path = folder / MODEL_FILE
    try:
        payload = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read ({exc.strerror})") from None
    if hashlib.sha256(payload).hexdigest() != meta.get("sha256"):
        raise ModelError(f"{path}: does not match the sha256 in {META_FILE} (damaged or replaced)")
    return payload


def train(
    texts: Sequence[object],
    labels: Sequence[str],
    titles: Sequence[object] | None = None,
    *,
    C: float = DEFAULT_C,
) -> TextClassifier:
    """Train the default pipeline on labelled texts (and titles, if any are non-empty).

    Identical texts are collapsed and conflicting ones dropped (:func:`deduplicate`); the counts
    are in ``meta``. Raises ``ValueError`` when fewer than two classes remain.
    """
    frame = as_input(texts, titles)
    kept = deduplicate([tuple(row) for row in normalise_columns(frame).tolist()], labels)
    use_title = titles is not None and has_text([titles[i] for i in kept.keep])
    y = np.asarray([labels[i] for i in kept.keep], dtype=object)
    pipeline = build_pipeline(title=use_title, C=C)
    pipeline.fit(frame[kept.keep], y)
    counts = Counter(y.tolist())
    clf = pipeline.named_steps["clf"]
    meta: dict[str, Any] = {
        "format": FORMAT,
        "labels": sorted(counts),
        "class_counts": dict(sorted(counts.items())),
        "training_size": len(kept.keep),
        "dropped_repeated": kept.repeated,
        "dropped_conflicting": kept.conflicting,
        "params": {
            "C": C,
            "title": use_title,
            "blocks": [name for name, _, _ in pipeline.named_steps["features"].transformers],
            "class_weight": clf.class_weight,
            "calibrated": clf.calibrated_,
            "temperature": clf.temperature_,
        },
        "sklearn_version": sklearn.__version__,
        "jieba_version": _version("jieba"),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
    }
    return TextClassifier(pipeline, meta)
