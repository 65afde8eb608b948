# mypy: disable-error-code="import-untyped"
"""Repeated stratified cross-validation of the dispatch classifier.

The data are cleaned as :func:`megacity.nlp.classifier.train` cleans them (identical texts once,
conflicting ones dropped) *before* splitting, so no text is on both sides of a split. Classes
with a single example cannot be both trained and tested and are left out (with a note); when
the smallest class has fewer examples than folds, the folds are reduced to its size.

With ``c_grid`` the SVM's C is chosen inside each training fold by an inner 3-fold CV, so the
reported score never saw its test fold (nested cross-validation).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold

from megacity.nlp.classifier import DEFAULT_C, as_input, build_pipeline, normalise_columns
from megacity.nlp.text import deduplicate, has_text

__all__ = ["Evaluation", "cross_validate", "format_report"]

Progress = Callable[[str], None]


@dataclass
class Evaluation:
    """Scores of every fold of every repeat, and pooled out-of-fold results per class."""

    labels: list[str]
    rows: int
    folds: int
    repeats: int
    confusion: npt.NDArray[np.int64]
    fold_f1: list[float] = field(default_factory=list)
    fold_accuracy: list[float] = field(default_factory=list)
    repeat_f1: list[float] = field(default_factory=list)
    class_f1: dict[str, float] = field(default_factory=dict)
    mean_confidence: float = 0.0
    chosen_c: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def f1(self) -> float:
        """Mean macro-F1 over all folds of all repeats."""
        return statistics.fmean(self.fold_f1)

    @property
    def f1_std(self) -> float:
        """Standard deviation of macro-F1 over all folds of all repeats."""
        return statistics.pstdev(self.fold_f1)

    @property
    def accuracy(self) -> float:
        """Mean accuracy over all folds of all repeats."""
        return statistics.fmean(self.fold_accuracy)

    @property
    def accuracy_std(self) -> float:
        """Standard deviation of accuracy over all folds of all repeats."""
        return statistics.pstdev(self.fold_accuracy)


def _usable(
    frame: npt.NDArray[np.object_], labels: Sequence[str], notes: list[str]
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    kept = deduplicate([tuple(row) for row in normalise_columns(frame).tolist()], labels)
    if kept.conflicting:
        notes.append(f"left out {kept.conflicting} row(s): identical text with conflicting labels")
    if kept.repeated:
        notes.append(f"left out {kept.repeated} repeated row(s): identical text and label")
    y = np.asarray([labels[i] for i in kept.keep], dtype=object)
    counts = Counter(y.tolist())
    single = sorted(label for label, n in counts.items() if n < 2)
    if single:
        notes.append(f"left out class(es) with a single example: {', '.join(single)}")
    mask = np.asarray([counts[label] >= 2 for label in y.tolist()], dtype=bool)
    return frame[kept.keep][mask], y[mask]


def select_c(
    frame: npt.NDArray[np.object_], y: npt.NDArray[np.object_], title: bool, grid: Sequence[float]
) -> float:
    """The C of ``grid`` with the best mean macro-F1 in a 3-fold CV of these rows only."""
    folds = min(3, min(Counter(y.tolist()).values()))
    if folds < 2 or len(grid) == 1:
        return float(grid[0])
    scores = []
    for c in grid:
        fold_scores = []
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(frame, y):
            model = build_pipeline(title=title, C=c).fit(frame[train], y[train])
            fold_scores.append(f1_score(y[test], model.predict(frame[test]), average="macro"))
        scores.append(statistics.fmean(fold_scores))
    return float(grid[int(np.argmax(scores))])


def cross_validate(
    texts: Sequence[object],
    labels: Sequence[str],
    titles: Sequence[object] | None = None,
    *,
    folds: int = 5,
    repeats: int = 5,
    C: float = DEFAULT_C,
    c_grid: Sequence[float] | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Repeated stratified k-fold CV (seeds ``0 … repeats-1``) of the default pipeline.

    Raises ``ValueError`` when fewer than two classes with two examples each remain.
    """
    notes: list[str] = []
    frame, y = _usable(as_input(texts, titles), labels, notes)
    classes = sorted(set(y.tolist()))
    if len(classes) < 2:
        raise ValueError("need at least two classes with two or more examples each to evaluate")
    smallest = min(Counter(y.tolist()).values())
    if smallest < folds:
        notes.append(f"smallest class has {smallest} examples: using {smallest} folds instead of {folds}")
        folds = smallest
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    result = Evaluation(classes, len(y), folds, repeats, confusion, notes=notes)
    title = titles is not None and has_text(frame[:, 0].tolist())
    confidences: list[float] = []
    per_class = np.zeros(len(classes))
    for seed in range(repeats):
        predicted = _repeat(result, frame, y, seed, title, C, c_grid, confidences, progress)
        result.repeat_f1.append(float(f1_score(y, predicted, average="macro")))
        per_class += f1_score(y, predicted, labels=classes, average=None, zero_division=0)
        result.confusion += confusion_matrix(y, predicted, labels=classes)
    result.class_f1 = {label: float(v) / repeats for label, v in zip(classes, per_class, strict=True)}
    result.mean_confidence = statistics.fmean(confidences)
    return result


def _repeat(
    result: Evaluation,
    frame: npt.NDArray[np.object_],
    y: npt.NDArray[np.object_],
    seed: int,
    title: bool,
    C: float,
    c_grid: Sequence[float] | None,
    confidences: list[float],
    progress: Progress | None,
) -> npt.NDArray[np.object_]:
    """One repeat: out-of-fold predictions; fold scores and confidences are appended."""
    predicted = np.empty(len(y), dtype=object)
    splitter = StratifiedKFold(result.folds, shuffle=True, random_state=seed)
    for number, (train, test) in enumerate(splitter.split(frame, y), start=1):
        if progress:
            progress(f"repeat {seed + 1}/{result.repeats} fold {number}/{result.folds}")
        c = select_c(frame[train], y[train], title, c_grid) if c_grid else C
        if c_grid:
            result.chosen_c.append(c)
        model = build_pipeline(title=title, C=c).fit(frame[train], y[train])
        probabilities = model.predict_proba(frame[test])
        predicted[test] = model.classes_[np.argmax(probabilities, axis=1)]
        confidences.extend(np.max(probabilities, axis=1).tolist())
        result.fold_f1.append(float(f1_score(y[test], predicted[test], average="macro")))
        result.fold_accuracy.append(float(accuracy_score(y[test], predicted[test])))
    return predicted


def _width(text: str) -> int:
    """Display width: CJK characters take two terminal columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return " " * max(0, width - _width(text)) + text


def format_report(ev: Evaluation) -> str:
    """The evaluation as plain text: summary lines, per-class F1, the confusion matrix."""
    lines = [
        f"rows {ev.rows}  classes {len(ev.labels)}  folds {ev.folds}  repeats {ev.repeats}",
        f"macro-F1 {ev.f1:.4f} ± {ev.f1_std:.4f} (std over {len(ev.fold_f1)} folds; "
        f"per repeat {min(ev.repeat_f1):.4f}–{max(ev.repeat_f1):.4f})",
        f"accuracy {ev.accuracy:.4f} ± {ev.accuracy_std:.4f}",
        f"mean confidence {ev.mean_confidence:.4f} (calibrated if close to the accuracy)",
    ]
    if ev.chosen_c:
        lines.append(f"C per fold: {', '.join(f'{c:g}' for c in ev.chosen_c)}")
    width = max(_width(label) for label in ev.labels) + 2
    lines += ["", "per-class F1 (pooled out-of-fold predictions, mean over repeats):"]
    lines += [f"{_pad(label, width)}  {ev.class_f1[label]:.4f}" for label in ev.labels]
    lines += ["", f"confusion matrix (rows true, columns predicted; summed over {ev.repeats} repeats):"]
    keys = [f"c{i}" for i in range(len(ev.labels))]
    cell = max(6, len(str(int(ev.confusion.max()))) + 2)
    lines.append(_pad("", width + 4) + "".join(_pad(key, cell) for key in keys))
    for key, label, row in zip(keys, ev.labels, ev.confusion, strict=True):
        lines.append(_pad(label, width) + _pad(key, 4) + "".join(_pad(str(int(n)), cell) for n in row))
    return "\n".join(lines)
