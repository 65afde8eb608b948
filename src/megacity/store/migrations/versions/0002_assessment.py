"""assessment: published monthly rankings (frozen) and their corrections

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 21:56:49.965147
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import megacity.store.tables

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_publications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("published_at", megacity.store.tables.Instant(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("profile_code", sa.String(length=32), nullable=False),
        sa.Column("profile_version", sa.String(length=32), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_publications")),
        sa.UniqueConstraint("month", name=op.f("uq_assessment_publications_month")),
    )
    op.create_table(
        "assessment_corrections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("unit_type", sa.String(length=16), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("detected_at", megacity.store.tables.Instant(timezone=True), nullable=False),
        sa.Column("detected_by", sa.String(length=64), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("after_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"], ["assessment_publications.id"], name="fk_assessment_corrections_publication"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_corrections")),
        sa.UniqueConstraint(
            "publication_id", "unit_type", "unit_code", "after_hash", name="uq_assessment_corrections_change"
        ),
    )
    with op.batch_alter_table("assessment_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_corrections_publication_id"), ["publication_id"], unique=False
        )

    op.create_table(
        "assessment_rows",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("unit_type", sa.String(length=16), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("unit_name", sa.String(length=100), nullable=True),
        sa.Column("in_scope", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.Integer(), nullable=False),
        sa.Column("response_rate", sa.Float(), nullable=True),
        sa.Column("resolution_rate", sa.Float(), nullable=True),
        sa.Column("satisfaction_rate", sa.Float(), nullable=True),
        sa.Column("composite", sa.Float(), nullable=True),
        sa.Column("requests_per_10k", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("rank_in_subtype", sa.Integer(), nullable=True),
        sa.Column("governance_focus", sa.Boolean(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"], ["assessment_publications.id"], name="fk_assessment_rows_publication"
        ),
        sa.PrimaryKeyConstraint("publication_id", "unit_type", "unit_code", name=op.f("pk_assessment_rows")),
    )


def downgrade() -> None:
    op.drop_table("assessment_rows")
    with op.batch_alter_table("assessment_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_corrections_publication_id"))

    op.drop_table("assessment_corrections")
    op.drop_table("assessment_publications")
