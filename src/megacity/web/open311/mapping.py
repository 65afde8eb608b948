"""Our model in Open311 terms: catalogue → services, lifecycle → status, ticket → request.

* A **service** is a level-2 category of the dispatch catalogue; its `group` is the level-1
  name, its `keywords` the leaf names. The required `category` attribute lets the client
  pick the leaf (the code the dispatcher needs); optional attributes add detail.
* **status**: the terminal statuses (answered, special, closed, merged) are `closed`, all
  others `open`; `detailed_status` follows the CitySDK extension.
* A request's public view never holds personal data; numbers in texts are masked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from megacity.domain.catalog import Category
from megacity.domain.enums import Channel, Kind, SpecialCase, Status
from megacity.domain.privacy import mask_text
from megacity.domain.profile import Profile
from megacity.domain.tickets import TERMINAL, Ticket

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_DESCRIPTION = 4000
#: Where the Open311 details start in the text of a request made through Open311.
BLOCK_MARKER = "\n\n[Open311]\n"
MEDIA_LABEL = "media_url"

#: CitySDK `detailed_status` of each lifecycle status.
DETAILED_STATUS: Mapping[Status, str] = {
    Status.RECEIVED: "PENDING",  # recorded, not yet dispatched
    Status.DISPUTED: "PENDING",  # back with the centre, to be dispatched again
    Status.DISPATCHED: "RECEIVED",  # the responsible unit has it
    Status.ACCEPTED: "IN_PROCESS",
    Status.CONTACTED: "IN_PROCESS",
    Status.REPLIED: "IN_PROCESS",  # answered, the callback is still due
    Status.CALLED_BACK: "IN_PROCESS",
    Status.CLOSED: "PROCESSED",
    Status.ANSWERED: "PROCESSED",
    Status.MERGED: "PROCESSED",
    Status.SPECIAL: "REJECTED",  # disposed without dispatch, 条例 Art. 11
}
_NOTES: Mapping[Status, str] = {
    Status.RECEIVED: "已受理，正在派单",
    Status.DISPATCHED: "已派单，等待承办单位签收",
    Status.ACCEPTED: "承办单位已签收，正在办理",
    Status.DISPUTED: "派单有异议，正在重新确定承办单位",
    Status.CONTACTED: "承办单位已联系诉求人，正在办理",
    Status.REPLIED: "承办单位已答复，等待回访",
    Status.CALLED_BACK: "已回访，等待办结",
    Status.CLOSED: "已办结",
    Status.ANSWERED: "咨询已直接答复",
    Status.MERGED: "与同一事项的诉求合并办理",
}
_SPECIAL_NOTES: Mapping[str, str] = {
    SpecialCase.EMERGENCY_TRANSFER: "属于紧急事项，已转 110、119、120、122 等处置",
    SpecialCase.LEGAL_CHANNEL: "应通过诉讼、仲裁、信访等法定途径解决，已告知",
    SpecialCase.REPEAT_NO_NEW_FACTS: "重复反映且无新情况，已告知此前办理结果",
    SpecialCase.SECRET_OR_PRIVACY: "涉及国家秘密、商业秘密或个人隐私，内容不予公开",
    SpecialCase.OUTSIDE_DUTIES: "不属于政府职责范围，已告知",
    SpecialCase.ILLEGAL_OR_IMMORAL: "诉求违反法律法规或公序良俗，不予办理",
}
KIND_NAMES: Mapping[Kind, str] = {
    Kind.CONSULT: "咨询",
    Kind.HELP: "求助",
    Kind.COMPLAINT: "投诉",
    Kind.REPORT: "举报",
    Kind.SUGGESTION: "建议",
}


@dataclass(frozen=True)
class Attribute:
    """One attribute of a service definition; `label` heads its answer in the request text."""

    code: str
    datatype: str
    required: bool
    order: int
    description: str
    label: str
    values: tuple[tuple[str, str], ...] = ()
    datatype_description: str | None = None
    max_length: int = 1000

    def view(self) -> dict[str, Any]:
        return {
            "variable": True,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description,
            "order": self.order,
            "description": self.description,
            **({"values": [{"key": key, "name": name} for key, name in self.values]} if self.values else {}),
        }


#: Attributes every service offers after its `category` (all optional).
OPTIONAL_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        code="kind",
        datatype="singlevaluelist",
        required=False,
        order=2,
        description="诉求类型（不填为投诉）",
        label="诉求类型",
        values=tuple((k.value, name) for k, name in KIND_NAMES.items()),
    ),
    Attribute(
        code="title",
        datatype="string",
        required=False,
        order=3,
        description="一句话概括问题（不填则取描述开头）",
        label="标题",
        max_length=200,
    ),
    Attribute(
        code="noticed_at",
        datatype="datetime",
        required=False,
        order=4,
        description="发现问题的时间",
        label="发现时间",
        datatype_description="ISO 8601 with an offset, e.g. 2025-03-03T08:30:00+08:00",
    ),
    Attribute(
        code="affected_people",
        datatype="number",
        required=False,
        order=5,
        description="受影响的大约人数",
        label="受影响人数",
    ),
    Attribute(
        code="time_of_day",
        datatype="multivaluelist",
        required=False,
        order=6,
        description="问题出现的时段（可多选）",
        label="出现时段",
        values=(("morning", "上午"), ("afternoon", "下午"), ("evening", "晚上"), ("night", "夜间")),
    ),
    Attribute(
        code="location_details",
        datatype="text",
        required=False,
        order=7,
        description="位置补充说明：楼号、单元、附近标志物",
        label="位置说明",
    ),
)


@dataclass(frozen=True)
class Service:
    """A level-2 category offered as an Open311 service."""

    category: Category
    group: str
    leaves: tuple[Category, ...]

    @property
    def code(self) -> str:
        return self.category.code

    def attributes(self) -> tuple[Attribute, ...]:
        if not self.leaves:  # a level-2 leaf needs no choice
            return OPTIONAL_ATTRIBUTES
        values = tuple((leaf.code, leaf.name) for leaf in self.leaves)
        pick = Attribute(
            code="category",
            datatype="singlevaluelist",
            required=True,
            order=1,
            description="具体问题类别（决定承办单位）",
            label="类别",
            values=values,
        )
        return (pick, *OPTIONAL_ATTRIBUTES)

    def view(self) -> dict[str, Any]:
        names = list(dict.fromkeys(leaf.name for leaf in self.leaves))
        return {
            "service_code": self.code,
            "service_name": self.category.name,
            "description": f"{self.group} - {self.category.name}",
            "metadata": True,
            "type": "realtime",
            "keywords": ", ".join(names) or None,
            "group": self.group,
        }

    def definition(self) -> dict[str, Any]:
        return {"service_code": self.code, "attributes": [a.view() for a in self.attributes()]}


def services(profile: Profile, day: date) -> list[Service]:
    """The services in force on `day`, in catalogue code order."""
    catalogue = profile.catalogue
    found: list[Service] = []
    for group in sorted(catalogue.children(None), key=lambda c: c.code):
        if not group.validity.covers(day):
            continue
        for category in sorted(catalogue.children(group.code), key=lambda c: c.code):
            children = catalogue.children(category.code)
            leaves = tuple(sorted((c for c in children if c.validity.covers(day)), key=lambda c: c.code))
            if category.validity.covers(day) and (leaves or not children):
                found.append(Service(category, group.name, leaves))
    return found


def changeset(profile: Profile, day: date) -> str:
    """The date the service list last changed: the profile's start or a catalogue validity boundary."""
    dates = [profile.valid_from]
    for c in profile.catalogue.categories.values():
        dates += [d for d in (c.validity.valid_from, c.validity.valid_to) if d is not None and d <= day]
    return max(dates).isoformat()


def service_of(profile: Profile, category_code: str | None) -> Category | None:
    """The level-2 category (service) a request's category belongs to."""
    path = profile.catalogue.path(category_code) if category_code else []
    return path[1] if len(path) > 1 else (path[0] if path else None)


def compose_text(description: str, notes: Sequence[tuple[str, str]]) -> str:
    """The request text: the description, then the Open311 details one per line, `media_url` first.

    >>> compose_text("灯坏了", [(MEDIA_LABEL, "https://x.org/1.jpg"), ("来源", "app")])
    '灯坏了\\n\\n[Open311]\\nmedia_url: https://x.org/1.jpg\\n来源: app'
    """
    description = description.replace(BLOCK_MARKER.strip(), "［Open311］")  # ours is the first marker
    return description + BLOCK_MARKER + "\n".join(f"{label}: {value}" for label, value in notes)


def split_text(ticket: Ticket) -> tuple[str, str | None]:
    """The description and the media_url in a request's text (Open311 requests only have a block)."""
    if ticket.channel is not Channel.OPEN311 or BLOCK_MARKER not in ticket.text:
        return ticket.text, None
    description, block = ticket.text.split(BLOCK_MARKER, 1)
    line = block.split("\n", 1)[0]  # written by us: a client's text never comes first
    return description, line.removeprefix(f"{MEDIA_LABEL}: ") if line.startswith(f"{MEDIA_LABEL}: ") else None


def open_or_closed(status: Status) -> str:
    return "closed" if status in TERMINAL else "open"


def status_notes(ticket: Ticket) -> str:
    if ticket.status is Status.SPECIAL:
        return _SPECIAL_NOTES.get(ticket.special_case or "", "已按规定处理，不派单")
    note = _NOTES[ticket.status]
    if ticket.status is Status.CALLED_BACK and ticket.resolved is False:
        note = "已回访，诉求人反映问题未解决"
    if ticket.overdue and ticket.is_open:
        note += "（已超过办理时限）"
    return note


def service_notice(ticket: Ticket, profile: Profile, tz: tzinfo) -> str | None:
    """What happens next: who handles the request and by when."""
    if not ticket.is_open:
        return None
    unit = profile.org.unit(ticket.unit_code) if ticket.unit_code else None
    if unit is None:
        return "已受理，等待派至承办单位"
    if ticket.deadline_at is None:
        return f"由{unit.name}办理"
    return f"由{unit.name}办理，应于{ticket.deadline_at.astimezone(tz):%Y-%m-%d %H:%M}前反馈"


def w3(at: datetime | None, tz: tzinfo) -> str | None:
    return None if at is None else at.astimezone(tz).isoformat(timespec="seconds")


def request_view(ticket: Ticket, profile: Profile, tz: tzinfo, updated: datetime | None) -> dict[str, Any]:
    """A request as GET requests shows it: public, masked, no personal data."""
    service = service_of(profile, ticket.category_code)
    unit = profile.org.unit(ticket.unit_code) if ticket.unit_code else None
    description, media_url = split_text(ticket)
    withheld = ticket.special_case == SpecialCase.SECRET_OR_PRIVACY
    return {
        "service_request_id": ticket.id,
        "status": open_or_closed(ticket.status),
        "detailed_status": DETAILED_STATUS[ticket.status],
        "status_notes": status_notes(ticket),
        "service_name": service.name if service else None,
        "service_code": service.code if service else "",
        "description": None if withheld else mask_text(description)[:MAX_DESCRIPTION],
        "agency_responsible": unit.name if unit else None,
        "service_notice": service_notice(ticket, profile, tz),
        "requested_datetime": w3(ticket.received_at, tz),
        "updated_datetime": w3(updated or ticket.received_at, tz),
        "expected_datetime": w3(ticket.deadline_at, tz),
        "address": None if withheld or not ticket.address else mask_text(ticket.address),
        "address_id": ticket.street_code or ticket.district_code,
        "lat": None if withheld else ticket.lat,
        "long": None if withheld else ticket.lon,
        "media_url": None if withheld else media_url,
    }
