"""The 重点诉求人 directory: designate with labels, a plan per person (一人一策), dated case
notes, close — and the profiles that justify a designation (docs/complainants.md).

Keyed by pseudonym only: names and phone numbers stay in `contacts`, and the audit payloads
hold the pseudonym, label codes and ids, never a plan's or a note's text (they may name people).
Every change writes its audit event in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update

from megacity.analytics.complainants import LABEL_NAMES, Profile, load_thresholds, profiles_for
from megacity.analytics.orders import bulk, orders_from_columns, read_orders_from
from megacity.bootstrap import Megacity
from megacity.domain.errors import ConflictError, NotFoundError, ValidationError
from megacity.profiles.loader import default_profile_path
from megacity.store.followup_tables import complainant_notes as notes_t
from megacity.store.followup_tables import key_complainants as keys_t
from megacity.store.tables import tickets
from megacity.store.unit_of_work import UnitOfWork

LABELS = (*LABEL_NAMES, "other")
#: What profiles and their repeat chains read; the workflow columns of abnormal orders are not.
PROFILE_COLUMNS = (
    "id",
    "received_at",
    "title",
    "text",
    "complainant_id",
    "street_code",
    "category_code",
    "resolved",
    "callback_at",
    "satisfaction",
    "excluded",
    "exclusion_state",
)
MAX_TEXT = 4000


@dataclass(frozen=True)
class Who:
    """Who makes a change: a user (name and role) or a command-line operator."""

    name: str
    role: str


def _labels(labels: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(label.strip() for label in labels if label.strip()))
    if not cleaned:
        raise ValidationError("give at least one label", field="labels")
    unknown = [label for label in cleaned if label not in LABELS]
    if unknown:
        raise ValidationError(
            f"unknown label(s) {', '.join(unknown)}; use {', '.join(LABELS)}", field="labels"
        )
    return cleaned


def _text(value: str, field: str, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise ValidationError(f"{field} must not be empty", field=field)
    if len(text) > MAX_TEXT:
        raise ValidationError(f"{field} is longer than {MAX_TEXT} characters", field=field)
    return text


def _entry(uow: UnitOfWork, complainant_id: str) -> dict[str, Any] | None:
    row = uow.connection.execute(select(keys_t).where(keys_t.c.complainant_id == complainant_id)).first()
    return dict(row._mapping) if row else None


def _audit(
    app: Megacity, uow: UnitOfWork, who: Who, action: str, payload: dict[str, Any], reason: str = ""
) -> None:
    uow.audit.note(
        action=action, actor=who.name, role=who.role, at=app.clock(), payload=payload, reason=reason
    )


def designate(
    *, app: Megacity, who: Who, complainant_id: str, labels: list[str], plan: str = ""
) -> dict[str, Any]:
    """Put a complainant on the directory (or back on it after a close); 409 if already active."""
    chosen, text = _labels(labels), _text(plan, "plan", required=False)
    now = app.clock()
    with app.uow() as uow:
        known = uow.connection.scalar(select(func.count()).where(tickets.c.complainant_id == complainant_id))
        if not known:
            raise NotFoundError(f"no request from complainant '{complainant_id}'")
        existing = _entry(uow, complainant_id)
        if existing and existing["status"] == "active":
            raise ConflictError(f"complainant '{complainant_id}' is already in the directory")
        values = {
            "labels": chosen,
            "status": "active",
            "plan": text,
            "designated_at": now,
            "designated_by": who.name,
            "updated_at": now,
        }
        if existing:
            uow.connection.execute(
                update(keys_t).where(keys_t.c.complainant_id == complainant_id).values(**values)
            )
        else:
            uow.connection.execute(insert(keys_t).values(complainant_id=complainant_id, **values))
        _audit(app, uow, who, "complainant_designate", {"complainant_id": complainant_id, "labels": chosen})
        uow.commit()
    return get_entry(app=app, complainant_id=complainant_id)


def update_entry(
    *, app: Megacity, who: Who, complainant_id: str, labels: list[str] | None = None, plan: str | None = None
) -> dict[str, Any]:
    """Change the labels and/or the plan (一人一策) of an active entry."""
    values: dict[str, Any] = {"updated_at": app.clock()}
    if labels is not None:
        values["labels"] = _labels(labels)
    if plan is not None:
        values["plan"] = _text(plan, "plan", required=True)
    if len(values) == 1:
        raise ValidationError("give labels or a plan to change", field="plan")
    with app.uow() as uow:
        _active(uow, complainant_id)
        uow.connection.execute(
            update(keys_t).where(keys_t.c.complainant_id == complainant_id).values(**values)
        )
        changed = sorted(k for k in values if k != "updated_at")
        payload = {"complainant_id": complainant_id, "changed": changed, "labels": values.get("labels")}
        _audit(app, uow, who, "complainant_update", payload)
        uow.commit()
    return get_entry(app=app, complainant_id=complainant_id)


def add_note(*, app: Megacity, who: Who, complainant_id: str, note: str) -> dict[str, Any]:
    """A dated case note (what was done, what was agreed) on an active entry."""
    text = _text(note, "note", required=True)
    now = app.clock()
    with app.uow() as uow:
        _active(uow, complainant_id)
        row = {"complainant_id": complainant_id, "at": now, "author": who.name, "note": text}
        note_id = uow.connection.execute(insert(notes_t).values(**row).returning(notes_t.c.id)).scalar_one()
        uow.connection.execute(
            update(keys_t).where(keys_t.c.complainant_id == complainant_id).values(updated_at=now)
        )
        _audit(app, uow, who, "complainant_note", {"complainant_id": complainant_id, "note_id": note_id})
        uow.commit()
    return {"id": note_id, **row}


def close(*, app: Megacity, who: Who, complainant_id: str, reason: str) -> dict[str, Any]:
    """Take a complainant off the active directory; the entry and its notes are kept."""
    text = _text(reason, "reason", required=True)
    with app.uow() as uow:
        _active(uow, complainant_id)
        values = {"status": "closed", "updated_at": app.clock()}
        uow.connection.execute(
            update(keys_t).where(keys_t.c.complainant_id == complainant_id).values(**values)
        )
        _audit(app, uow, who, "complainant_close", {"complainant_id": complainant_id}, reason=text)
        uow.commit()
    return get_entry(app=app, complainant_id=complainant_id)


def _active(uow: UnitOfWork, complainant_id: str) -> dict[str, Any]:
    entry = _entry(uow, complainant_id)
    if entry is None:
        raise NotFoundError(f"complainant '{complainant_id}' is not in the directory")
    if entry["status"] != "active":
        raise ConflictError(f"complainant '{complainant_id}' is closed; designate again to reopen")
    return entry


def get_entry(*, app: Megacity, complainant_id: str) -> dict[str, Any]:
    """The entry with its notes, oldest first."""
    with app.uow(write=False) as uow:
        entry = _entry(uow, complainant_id)
        if entry is None:
            raise NotFoundError(f"complainant '{complainant_id}' is not in the directory")
        found = uow.connection.execute(
            select(notes_t)
            .where(notes_t.c.complainant_id == complainant_id)
            .order_by(notes_t.c.at, notes_t.c.id)
        )
        entry["notes"] = [dict(r._mapping) for r in found]
    return entry


def _in_district(district: str) -> Any:
    """Complainants with at least one request in `district` (a district reviewer's scope)."""
    return (
        select(tickets.c.complainant_id)
        .where(tickets.c.district_code == district, tickets.c.complainant_id.is_not(None))
        .distinct()
    )


def in_scope(*, app: Megacity, complainant_id: str, district: str | None) -> bool:
    """Whether a reviewer limited to `district` (None: no limit) may see this complainant."""
    if district is None:
        return True
    with app.uow(write=False) as uow:
        found = uow.connection.scalar(
            select(func.count())
            .select_from(tickets)
            .where(tickets.c.complainant_id == complainant_id, tickets.c.district_code == district)
        )
    return bool(found)


def people_in(*, app: Megacity, district: str) -> set[str]:
    with app.uow(write=False) as uow:
        return {str(r[0]) for r in uow.connection.execute(_in_district(district))}


def list_entries(
    *, app: Megacity, status: str | None = None, district: str | None = None
) -> list[dict[str, Any]]:
    """Directory entries, most recently changed first; only those with requests in `district`
    when given."""
    query = select(keys_t).order_by(keys_t.c.updated_at.desc(), keys_t.c.complainant_id)
    if district is not None:
        query = query.where(keys_t.c.complainant_id.in_(_in_district(district)))
    if status is not None:
        if status not in ("active", "closed"):
            raise ValidationError("status must be active or closed", field="status")
        query = query.where(keys_t.c.status == status)
    with app.uow(write=False) as uow:
        return [dict(r._mapping) for r in uow.connection.execute(query)]


def _thresholds(app: Megacity) -> Any:
    return load_thresholds(app.settings.profile or default_profile_path())


def all_profiles(*, app: Megacity) -> list[Profile]:
    """Profiles of every complainant in the database (the `analyse complainants` numbers)."""
    with bulk():
        with app.uow(write=False) as uow:
            orders = read_orders_from(uow.connection, app.profile.timezone, PROFILE_COLUMNS)
        return profiles_for(orders, _thresholds(app), float(app.profile.repeat_window_days), app.tz)


def profile_of(*, app: Megacity, complainant_id: str) -> Profile | None:
    """One complainant's profile from their own requests (repeats among their own requests)."""
    import pyarrow as pa

    from megacity.analytics.orders import COLUMNS

    with app.uow(write=False) as uow:
        rows = uow.connection.execute(
            select(*[tickets.c[name] for name in COLUMNS])
            .where(tickets.c.complainant_id == complainant_id)
            .order_by(tickets.c.received_at, tickets.c.id)
        ).all()
    if not rows:
        return None
    columns = {name: pa.chunked_array([pa.array([r[i] for r in rows])]) for i, name in enumerate(COLUMNS)}
    orders = orders_from_columns(columns, app.tz)
    found = profiles_for(orders, _thresholds(app), float(app.profile.repeat_window_days), app.tz)
    return found[0] if found else None
