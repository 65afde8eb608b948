"""Tables of published (frozen) monthly assessments and their corrections (migration 0002).

A published month is never rewritten: `assessment_rows` keeps the figures as published. A later
recomputation that differs is recorded in `assessment_corrections` with the figures before and
after, once per distinct change (`after_hash`).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from megacity.store.tables import _ts, metadata

assessment_publications = Table(
    "assessment_publications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("month", String(7), nullable=False, unique=True),
    _ts("published_at", nullable=False),
    Column("published_by", String(64), nullable=False),
    Column("profile_code", String(32), nullable=False),
    Column("profile_version", String(32), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("checksum", String(64), nullable=False),
)

assessment_rows = Table(
    "assessment_rows",
    metadata,
    Column(
        "publication_id",
        Integer,
        ForeignKey("assessment_publications.id", name="fk_assessment_rows_publication"),
        primary_key=True,
    ),
    Column("unit_type", String(16), primary_key=True),
    Column("unit_code", String(32), primary_key=True),
    Column("unit_name", String(100)),
    Column("in_scope", Integer, nullable=False),
    Column("rated", Integer, nullable=False),
    Column("excluded", Integer, nullable=False),
    Column("response_rate", Float),
    Column("resolution_rate", Float),
    Column("satisfaction_rate", Float),
    Column("composite", Float),
    Column("requests_per_10k", Float),
    Column("rank", Integer),
    Column("rank_in_subtype", Integer),
    Column("governance_focus", Boolean, nullable=False),
    Column("figures", JSON, nullable=False),
)

assessment_corrections = Table(
    "assessment_corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "publication_id",
        Integer,
        ForeignKey("assessment_publications.id", name="fk_assessment_corrections_publication"),
        nullable=False,
        index=True,
    ),
    Column("month", String(7), nullable=False),
    Column("unit_type", String(16), nullable=False),
    Column("unit_code", String(32), nullable=False),
    _ts("detected_at", nullable=False),
    Column("detected_by", String(64), nullable=False),
    Column("changed", JSON, nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("after_hash", String(64), nullable=False),
    Column("note", Text, nullable=False, default=""),
    UniqueConstraint(
        "publication_id", "unit_type", "unit_code", "after_hash", name="uq_assessment_corrections_change"
    ),
)
