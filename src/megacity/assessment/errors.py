"""Errors of the assessment: a source that cannot be read or an engine that cannot run."""

from __future__ import annotations

from megacity.domain.errors import DomainError


class SourceError(DomainError):
    """The tickets cannot be read (file, database or engine); the CLI exits with code 2."""

    status = 400
    type = "assessment-source"
    title = "Cannot read the tickets"
