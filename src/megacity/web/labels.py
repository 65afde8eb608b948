"""Strings that templates translate from data values (statuses, kinds ...), marked for Babel."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


STATUS_LABELS = [
    N_("received"),
    N_("answered"),
    N_("special"),
    N_("dispatched"),
    N_("accepted"),
    N_("disputed"),
    N_("contacted"),
    N_("replied"),
    N_("called_back"),
    N_("closed"),
    N_("merged"),
]
KIND_LABELS = [N_("consult"), N_("help"), N_("complaint"), N_("report"), N_("suggestion")]
