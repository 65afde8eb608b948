"""The indicator engine: COINr-compatible composite-indicator pipelines (denominate, impute,
screen, treat, normalise, weight, aggregate), weights (entropy, AHP, PCA), sensitivity
analysis, result analysis and plan-indicator tracking. See docs/indicators.md."""

from importlib import import_module
from typing import Any

# loaded on first use, so that `megacity --help` does not import pandas
_EXPORTS = {
    "load": "io",
    "read_idata": "io",
    "read_imeta": "io",
    "Coin": "model",
    "Framework": "model",
    "IndicatorError": "model",
    "StepResult": "model",
    "Pipeline": "pipeline",
    "Step": "pipeline",
    "read_pipeline": "pipeline",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'megacity.indicators' has no attribute {name!r}")
    return getattr(import_module(f"megacity.indicators.{_EXPORTS[name]}"), name)


__all__ = [
    "Coin",
    "Framework",
    "IndicatorError",
    "Pipeline",
    "Step",
    "StepResult",
    "load",
    "read_idata",
    "read_imeta",
    "read_pipeline",
]
