"""Demo data: a believable, reproducible history of requests for a city profile.

`generate` yields `DemoCase` objects — intake fields, a fake complainant and the lifecycle
steps — that the `megacity demo` command stores through the ordinary services. See
docs/demo.md for what the history looks like and what it assumes.
"""

from __future__ import annotations

from megacity.demo.generator import DEFAULT_END, DemoCase, generate
from megacity.demo.handling import NEEDS_DEADLINE, DemoStep

__all__ = ["DEFAULT_END", "NEEDS_DEADLINE", "DemoCase", "DemoStep", "generate"]
