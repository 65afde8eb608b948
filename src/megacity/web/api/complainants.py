"""/api/complainants: complainant profiles and the 重点诉求人 directory (docs/complainants.md).

Complainants appear by pseudonym. The detail view adds the contact details: unmasked, and
recorded in the audit log, only for roles that may see personal data (as `GET /api/requests/{id}`);
masked (王**, 138****8000) for the others.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, Field

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.domain.enums import Role
from megacity.domain.errors import NotFoundError
from megacity.domain.privacy import mask_name, mask_phone
from megacity.services import complainants as directory
from megacity.services import queries
from megacity.services.complainants import Who
from megacity.web.api.schemas import ContactRead, Strict
from megacity.web.deps import MegacityDep, client_limited, require
from megacity.web.errors import PROBLEM_RESPONSES

router = APIRouter(
    prefix="/api/complainants",
    tags=["complainants"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(client_limited)],
)
Reader = Annotated[Actor, Depends(require(Permission.READ_KEY_COMPLAINANTS))]
Manager = Annotated[Actor, Depends(require(Permission.MANAGE_KEY_COMPLAINANTS))]
PersonId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.:-]+$")]


class ProfileRead(BaseModel):
    """Numbers of one complainant; rates are fractions 0–1 (null without rated callbacks)."""

    complainant_id: str
    requests: int
    first_seen: str
    last_seen: str
    peak_in_window: int
    category_count: int
    categories: str
    street_count: int
    streets: str
    rated: int
    unsatisfied: int
    unsatisfied_rate: float | None
    repeats: int
    repeat_share: float
    excluded: int
    labels: str
    labels_zh: str


class NoteRead(BaseModel):
    id: int
    at: datetime
    author: str
    note: str


class EntryRead(BaseModel):
    complainant_id: str
    labels: list[str]
    status: str
    plan: str
    designated_at: datetime
    designated_by: str
    updated_at: datetime


class EntryDetail(EntryRead):
    notes: list[NoteRead]
    profile: ProfileRead | None
    contact: ContactRead | None


class Designation(Strict):
    complainant_id: str = Field(min_length=1, max_length=64)
    labels: list[str] = Field(min_length=1, max_length=8, description="frequent|repeat|unsatisfied|other")
    plan: str = Field(default="", max_length=4000, description="一人一策")


class EntryChange(Strict):
    labels: list[str] | None = Field(default=None, min_length=1, max_length=8)
    plan: str | None = Field(default=None, max_length=4000)


class NoteCreate(Strict):
    note: str = Field(min_length=1, max_length=4000)


class Closing(Strict):
    reason: str = Field(min_length=1, max_length=2000)


def _district(actor: Actor) -> str | None:
    """A district reviewer sees complainants with requests in their district; others see all."""
    if actor.role is not Role.DISTRICT_REVIEWER:
        return None
    return actor.district_code or "-"  # a reviewer without a district sees nobody


def _who(actor: Actor) -> Who:
    return Who(actor.name, actor.role.value)


def _entry(app: Megacity, entry: dict[str, Any]) -> dict[str, Any]:
    """Times in the city's zone, as everywhere in the API."""
    out = dict(entry)
    for key in ("designated_at", "updated_at"):
        out[key] = entry[key].astimezone(app.tz)
    if "notes" in entry:
        out["notes"] = [{**n, "at": n["at"].astimezone(app.tz)} for n in entry["notes"]]
    return out


@router.get("/profiles", response_model=list[ProfileRead])
def list_profiles(
    app: MegacityDep,
    actor: Reader,
    label: Annotated[str | None, Query(pattern="^(frequent|repeat|unsatisfied)$")] = None,
    min_requests: Annotated[int, Query(ge=1, le=100000)] = 1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Profiles of all complainants (a district reviewer: those with requests in the district),
    most requests first, optionally only those with a label."""
    district = _district(actor)
    scope = directory.people_in(app=app, district=district) if district is not None else None
    found = [
        p.as_row()
        for p in directory.all_profiles(app=app)
        if p.requests >= min_requests
        and (label is None or label in p.labels.split("|"))
        and (scope is None or p.complainant_id in scope)
    ]
    return found[:limit]


@router.get("", response_model=list[EntryRead])
def list_directory(
    app: MegacityDep,
    actor: Reader,
    status_: Annotated[str | None, Query(alias="status", pattern="^(active|closed)$")] = None,
) -> list[dict[str, Any]]:
    """The 重点诉求人 directory, most recently changed first."""
    entries = directory.list_entries(app=app, status=status_, district=_district(actor))
    return [_entry(app, e) for e in entries]


@router.post("", response_model=EntryDetail, status_code=status.HTTP_201_CREATED)
def designate(body: Designation, app: MegacityDep, actor: Manager) -> dict[str, Any]:
    """Designate a complainant (labels, plan); designating a closed entry opens it again."""
    directory.designate(
        app=app, who=_who(actor), complainant_id=body.complainant_id, labels=body.labels, plan=body.plan
    )
    return _detail(app, actor, body.complainant_id)


@router.get("/{complainant_id}", response_model=EntryDetail)
def get_entry(complainant_id: PersonId, app: MegacityDep, actor: Reader) -> dict[str, Any]:
    """One entry with notes, current profile and contact details (masked unless allowed)."""
    if not directory.in_scope(app=app, complainant_id=complainant_id, district=_district(actor)):
        raise NotFoundError(f"complainant '{complainant_id}' is not in the directory")
    return _detail(app, actor, complainant_id, contact_view=True)


@router.patch("/{complainant_id}", response_model=EntryDetail)
def change_entry(
    complainant_id: PersonId, body: EntryChange, app: MegacityDep, actor: Manager
) -> dict[str, Any]:
    """Change the labels or the plan (一人一策)."""
    directory.update_entry(
        app=app, who=_who(actor), complainant_id=complainant_id, labels=body.labels, plan=body.plan
    )
    return _detail(app, actor, complainant_id)


@router.post("/{complainant_id}/notes", response_model=NoteRead, status_code=status.HTTP_201_CREATED)
def add_note(complainant_id: PersonId, body: NoteCreate, app: MegacityDep, actor: Manager) -> dict[str, Any]:
    """Add a dated case note."""
    note = directory.add_note(app=app, who=_who(actor), complainant_id=complainant_id, note=body.note)
    return {**note, "at": note["at"].astimezone(app.tz)}


@router.post("/{complainant_id}/close", response_model=EntryDetail)
def close_entry(complainant_id: PersonId, body: Closing, app: MegacityDep, actor: Manager) -> dict[str, Any]:
    """Close the entry; it stays readable with its notes."""
    directory.close(app=app, who=_who(actor), complainant_id=complainant_id, reason=body.reason)
    return _detail(app, actor, complainant_id)


def _detail(
    app: Megacity, actor: Actor, complainant_id: str, *, contact_view: bool = False
) -> dict[str, Any]:
    """The entry, its profile and (on a read only, so that edits do not reveal anything) the contact."""
    entry = _entry(app, directory.get_entry(app=app, complainant_id=complainant_id))
    found = directory.profile_of(app=app, complainant_id=complainant_id)
    entry["profile"] = found.as_row() if found else None
    entry["contact"] = None
    if not contact_view:
        return entry
    viewer = (actor.name, actor.role.value) if actor.sees_personal_data else None
    contact = queries.contact_of(app=app, complainant_id=complainant_id, viewer=viewer)
    if contact is not None:
        masked = viewer is None
        entry["contact"] = ContactRead(
            name=mask_name(contact["name"]) if masked else contact["name"],
            phone=mask_phone(contact["phone"]) if masked else contact["phone"],
            masked=masked,
        )
    return entry
