"""Stored results of slow computations (migration 0005): rankings and analyses shown by pages.

A row is the newest result of one question (`name` + `key`) with the data version it was
computed at. Pages read it instead of recomputing (milliseconds instead of minutes at a million
requests); `megacity refresh` or a page's background job writes it. Derived data: backups leave
it out and a restore empties it.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, LargeBinary, String, Table, Text

from megacity.store.tables import _ts, metadata

result_snapshots = Table(
    "result_snapshots",
    metadata,
    Column("name", String(40), primary_key=True),  # which cache: ranking, analysis ...
    Column("key", String(64), primary_key=True),  # sha256 of the question (and the code version)
    Column("label", Text, nullable=False),  # the question, readable
    Column("version", String(80), nullable=False),  # the data version it was computed at
    _ts("computed_at", nullable=False),
    Column("seconds", Float, nullable=False),  # how long the computation took
    Column("payload", LargeBinary, nullable=False),
)
