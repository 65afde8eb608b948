"""The unit of work: one transaction, its repositories, commit only when told to.

Services open `with uow:` once and call `uow.commit()` once; leaving the block without a
commit rolls everything back, audit events included, so a change and its record of
who-did-what are stored together or not at all.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import Connection, Engine, RootTransaction

from megacity.store.audit import AuditLog
from megacity.store.crypto import Vault
from megacity.store.repositories import (
    AttachmentRepository,
    ContactRepository,
    IdempotencyRepository,
    TicketRepository,
    UserRepository,
)


class UnitOfWork:
    """A database transaction with the repositories bound to it."""

    tickets: TicketRepository
    contacts: ContactRepository
    audit: AuditLog
    idempotency: IdempotencyRepository
    attachments: AttachmentRepository
    users: UserRepository

    def __init__(self, engine: Engine, vault: Vault, *, write: bool = True) -> None:
        self._engine = engine
        self._vault = vault
        self._write = write
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside its with-block")
        return self._conn

    def __enter__(self) -> UnitOfWork:
        conn = self._engine.connect()
        if self._write:
            conn = conn.execution_options(megacity_write=True)
        self._conn = conn
        self._tx = conn.begin()
        self.tickets = TicketRepository(conn)
        self.contacts = ContactRepository(conn, self._vault)
        self.audit = AuditLog(conn)
        self.idempotency = IdempotencyRepository(conn)
        self.attachments = AttachmentRepository(conn)
        self.users = UserRepository(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        finally:
            if self._conn is not None:
                self._conn.close()
            self._conn, self._tx = None, None

    def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("commit outside the with-block")
        self._tx.commit()

    def rollback(self) -> None:
        if self._tx is not None and self._tx.is_active:
            self._tx.rollback()
