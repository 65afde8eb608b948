"""Storage on both engines: the audit chain, concurrency, idempotency, encryption at rest."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import select, text, update

from megacity.bootstrap import Megacity
from megacity.domain.enums import Channel, Kind
from megacity.domain.errors import ConflictError
from megacity.domain.lifecycle import Action
from megacity.services import handling, intake, queries
from megacity.services.audit import verify
from megacity.store.tables import audit_events, contacts

REQUEST = intake.NewRequest(
    channel=Channel.PHONE,
    kind=Kind.HELP,
    title="路灯不亮",
    text="小区门口路灯不亮",
    phone="13800138000",
    name="李四",
)


def submit(megacity: Megacity, **kw: object) -> str:
    ticket, _ = intake.submit(app=megacity, request=REQUEST, actor="op", role="operator", **kw)  # type: ignore[arg-type]
    return ticket.id


def test_audit_chain_verifies_and_detects_tampering(megacity: Megacity) -> None:
    ticket_id = submit(megacity)
    handling.perform(
        app=megacity,
        ticket_id=ticket_id,
        action=Action.DISPATCH,
        actor="d",
        role="dispatcher",
        params={"unit_code": "D001"},
    )
    submit(megacity)
    report = verify(app=megacity)
    assert report.checked == 3 and report.broken_at is None and not report.reason
    with megacity.engine.begin() as conn:
        conn.execute(update(audit_events).where(audit_events.c.seq == 2).values(actor="someone-else"))
    report = verify(app=megacity)
    assert report.broken_at == 2 and "content" in report.reason


def test_deleted_audit_row_is_detected(megacity: Megacity) -> None:
    for _ in range(3):
        submit(megacity)
    with megacity.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    assert verify(app=megacity).reason


def test_personal_data_is_encrypted_at_rest_and_absent_from_the_log(megacity: Megacity) -> None:
    ticket_id = submit(megacity)
    with megacity.engine.connect() as conn:
        row = conn.execute(select(contacts)).one()
        log = conn.execute(select(audit_events)).all()
    assert b"13800138000" not in row.phone_enc and "李四".encode() not in (row.name_enc or b"")
    assert "13800138000" not in str(log) and "李四" not in str(log)
    ticket = queries.get_ticket(app=megacity, ticket_id=ticket_id)
    assert queries.contact_of(app=megacity, complainant_id=ticket.complainant_id or "") == {
        "name": "李四",
        "phone": "13800138000",
    }


def test_concurrent_intake_loses_nothing_and_keeps_the_chain(megacity: Megacity) -> None:
    def one(i: int) -> str:
        request = replace(REQUEST, phone=f"1380013{i:04d}")  # 80 callers: below the per-caller limit
        return intake.submit(app=megacity, request=request, actor="op", role="operator")[0].id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(one, range(80)))
    assert len(set(ids)) == 80 and queries.overview(app=megacity).total == 80
    report = verify(app=megacity)
    assert report.checked == 80 and report.broken_at is None and not report.reason


def test_same_idempotency_key_in_parallel_creates_one_request(megacity: Megacity) -> None:
    barrier = threading.Barrier(6)

    def attempt(_: int) -> str:
        barrier.wait()
        try:
            return submit(megacity, idempotency_key="same-key")
        except ConflictError:
            return "conflict"

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, range(6)))
    ids = {r for r in results if r != "conflict"}
    assert len(ids) == 1 and queries.overview(app=megacity).total == 1


def test_stale_write_is_a_conflict_not_a_lost_update(megacity: Megacity) -> None:
    ticket_id = submit(megacity)
    with megacity.uow() as first:
        stale = first.tickets.get(ticket_id)
        assert stale is not None
        first.commit()
    handling.perform(
        app=megacity,
        ticket_id=ticket_id,
        action=Action.DISPATCH,
        actor="d",
        role="dispatcher",
        params={"unit_code": "D001"},
    )
    with megacity.uow() as second, pytest.raises(ConflictError):
        second.tickets._versions[ticket_id] = 1  # what the stale reader had loaded
        second.tickets.save(stale)
    assert queries.get_ticket(app=megacity, ticket_id=ticket_id).unit_code == "D001"


def test_failed_action_rolls_back_the_change_and_its_event(megacity: Megacity) -> None:
    ticket_id = submit(megacity)
    with pytest.raises(Exception, match="unknown unit_code"):
        handling.perform(
            app=megacity,
            ticket_id=ticket_id,
            action=Action.DISPATCH,
            actor="d",
            role="dispatcher",
            params={"unit_code": "NOPE"},
        )
    assert queries.get_ticket(app=megacity, ticket_id=ticket_id).status.value == "received"
    assert [e["action"] for e in queries.history(app=megacity, ticket_id=ticket_id)] == ["receive"]
