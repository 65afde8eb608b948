"""Checking the audit log: recompute the hash chain from the first event to the head."""

from __future__ import annotations

from sqlalchemy import select

from megacity.bootstrap import Megacity
from megacity.store.audit import ChainReport, iter_chain, verify_chain
from megacity.store.tables import audit_head


def verify(*, app: Megacity) -> ChainReport:
    """Verify every row of the audit log against its hash and the head's row count."""
    with app.engine.connect() as conn:
        head = conn.execute(select(audit_head.c.seq)).scalar()
        return verify_chain(iter_chain(conn), expected_count=head or 0)
