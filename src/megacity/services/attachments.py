"""Attachments (条例 Art. 8: voice, pictures, video; evidence for exclusion requests).

Files go to a content-addressed local folder (`MEGACITY_FILES_DIR`); the database keeps
only the reference and checksum, so the store can later be an S3-compatible bucket.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from megacity.bootstrap import Megacity
from megacity.domain.errors import NotFoundError, ValidationError
from megacity.domain.tickets import Ticket, TicketEvent

MAX_BYTES = 20 * 1024 * 1024
PURPOSES = frozenset({"voice", "picture", "video", "document", "evidence"})


class LocalFileStore:
    """Stores bytes under their SHA-256; writing is atomic (temporary file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, content: bytes) -> tuple[str, str]:
        digest = hashlib.sha256(content).hexdigest()
        key = f"{digest[:2]}/{digest}"
        path = self.root / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
            tmp.write_bytes(content)
            tmp.replace(path)
        return key, digest

    def get(self, key: str) -> bytes:
        return (self.root / key).read_bytes()


def attach(
    *,
    app: Megacity,
    ticket_id: str,
    purpose: str,
    filename: str,
    content_type: str,
    content: bytes,
    actor: str,
    role: str,
    visible: Callable[[Ticket], bool] | None = None,
) -> dict[str, Any]:
    """Store a file and link it to a request; the link is audited, the content is not."""
    if purpose not in PURPOSES:
        raise ValidationError(f"purpose must be one of {', '.join(sorted(PURPOSES))}", field="purpose")
    if not content:
        raise ValidationError("the file is empty", field="file")
    if len(content) > MAX_BYTES:
        raise ValidationError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB", field="file")
    now = app.clock()
    with app.uow() as uow:
        ticket = uow.tickets.get(ticket_id)
        if ticket is None or (visible is not None and not visible(ticket)):
            raise NotFoundError(f"no request with id '{ticket_id}'")
        key, digest = LocalFileStore(app.settings.files_dir).put(content)
        row = {
            "id": f"att-{secrets.token_hex(8)}",
            "ticket_id": ticket_id,
            "purpose": purpose,
            "filename": Path(filename).name[:255] or "upload",
            "content_type": content_type[:100],
            "size": len(content),
            "sha256": digest,
            "storage_key": key,
            "created_at": now,
        }
        uow.attachments.add(**row)
        event = TicketEvent(ticket_id, "attach", ticket.status, ticket.status, actor, role, now)
        event.payload = {"attachment_id": row["id"], "purpose": purpose, "sha256": digest}
        uow.audit.append([event])
        uow.commit()
    return row
