"""Personal data over its life: key rotation and the retention rule (PIPL).

Erasing personal data never touches the audit log: the log holds pseudonyms and references
only, so the hash chain stays valid after a complainant's name and phone are gone.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, select, update

from megacity.bootstrap import Megacity
from megacity.store.tables import contacts

BATCH = 1000


def rotate_keys(*, app: Megacity) -> int:
    """Re-encrypt every stored contact under the newest key; returns the rows rotated."""
    rotated = 0
    with app.uow() as uow:
        conn = uow.connection
        rows = conn.execute(
            select(
                contacts.c.complainant_id, contacts.c.name_enc, contacts.c.phone_enc, contacts.c.id_number_enc
            )
        ).all()
        for row in rows:
            values = {
                name: app.vault.rotate(token) if token is not None else None
                for name, token in (
                    ("name_enc", row.name_enc),
                    ("phone_enc", row.phone_enc),
                    ("id_number_enc", row.id_number_enc),
                )
            }
            conn.execute(
                update(contacts).where(contacts.c.complainant_id == row.complainant_id).values(**values)
            )
            rotated += 1
        uow.audit.note(
            action="rotate_keys", actor="cli", role="admin", at=app.clock(), payload={"rows": rotated}
        )
        uow.commit()
    return rotated


def apply_retention(*, app: Megacity, dry_run: bool = False) -> int:
    """Erase the personal data of complainants not heard from within the profile's retention period."""
    cutoff = app.clock() - timedelta(days=app.profile.retention_days)
    due = and_(contacts.c.last_seen_at < cutoff, contacts.c.erased_at.is_(None))
    with app.uow() as uow:
        ids = list(uow.connection.scalars(select(contacts.c.complainant_id).where(due)))
        if dry_run or not ids:
            return len(ids)
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            uow.connection.execute(
                update(contacts)
                .where(contacts.c.complainant_id.in_(chunk))
                .values(name_enc=None, phone_enc=None, id_number_enc=None, erased_at=app.clock())
            )
        uow.audit.note(
            action="erase_personal_data",
            actor="retention",
            role="system",
            at=app.clock(),
            payload={"complainants": len(ids), "cutoff": cutoff.isoformat()},
        )
        uow.commit()
    return len(ids)
