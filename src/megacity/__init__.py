"""Megacity: a 12345 citizen-hotline (接诉即办) and planning-indicator platform."""

__version__ = "0.1.0"
