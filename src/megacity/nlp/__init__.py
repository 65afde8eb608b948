"""Chinese text classification for smart dispatch (issue 4): a model suggests the class of a request.

Public API (imported lazily, so that ``megacity --help`` does not load scikit-learn)::

    from megacity.nlp import train, TextClassifier, cross_validate

    model = train(texts, labels, titles)          # -> TextClassifier
    model.predict(["小区路灯坏了"], ["路灯不亮"])  # -> [Prediction(label, confidence, top)]
    model.save(folder); TextClassifier.load(folder)
    cross_validate(texts, labels, titles, folds=5, repeats=5)  # -> Evaluation

See docs/classify.md for the model, its measured quality and speed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from megacity.nlp.classifier import ModelError, Prediction, TextClassifier, build_pipeline, train
    from megacity.nlp.evaluate import Evaluation, cross_validate, format_report
    from megacity.nlp.text import normalise, words

__all__ = [
    "Evaluation",
    "ModelError",
    "Prediction",
    "TextClassifier",
    "build_pipeline",
    "cross_validate",
    "format_report",
    "normalise",
    "train",
    "words",
]

_HOMES = {
    "Evaluation": "evaluate",
    "cross_validate": "evaluate",
    "format_report": "evaluate",
    "normalise": "text",
    "words": "text",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'megacity.nlp' has no attribute {name!r}")
    module = importlib.import_module(f"megacity.nlp.{_HOMES.get(name, 'classifier')}")
    return getattr(module, name)
