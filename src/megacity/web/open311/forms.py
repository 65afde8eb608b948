"""Open311 input in our terms: a POSTed form → `intake.NewRequest`, attribute answers checked.

Location: `lat`+`long` (WGS-84, stored as given), `address_string` (stored as the address; a
street or district named in it is recognised when unambiguous) or `address_id` (a street-level
unit code or a district code). Personal data: first_name/last_name and phone go to the
encrypted contact store through intake; email, device_id and account_id are dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from urllib.parse import urlsplit

from starlette.datastructures import FormData

from megacity.bootstrap import Megacity
from megacity.domain.enums import Channel, Kind
from megacity.domain.errors import NotFoundError, ValidationError
from megacity.domain.org import Organisation
from megacity.services import intake
from megacity.services.apikeys import ApiKey
from megacity.web.open311 import mapping
from megacity.web.open311.mapping import Attribute, Service

_PHONE = re.compile(r"^\+?[0-9 ()-]{5,20}$")
_CJK_NAME = re.compile(r"^[\u3400-\u9fff·]+$")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](?:\[\])?$")
Fields = dict[str, list[str]]


def today(app: Megacity) -> date:
    """The city's current date."""
    return app.clock().astimezone(app.tz).date()


def given(value: str | None) -> str | None:
    """An optional argument: empty counts as absent (GeoReport v2, Optional Arguments)."""
    return value.strip() if value and value.strip() else None


def find_service(app: Megacity, service_code: str) -> Service:
    """The service in force today with that code (NotFoundError: 404)."""
    for service in mapping.services(app.profile, today(app)):
        if service.code == service_code:
            return service
    raise NotFoundError(f"service_code '{service_code}' not found")


@dataclass
class Answers:
    """What the attributes of a POST say: the leaf, the kind, a title and lines for the text."""

    category_code: str
    kind: Kind = Kind.COMPLAINT
    title: str | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)


def parse_attributes(service: Service, answered: Mapping[str, Sequence[str]], tz: tzinfo) -> Answers:
    """Check `attribute[code]` answers against the service definition (ValidationError if wrong)."""
    attributes = {a.code: a for a in service.attributes()}
    for code in answered:
        if code not in attributes:
            raise ValidationError(f"unknown attribute '{code}' for service {service.code}", field=code)
    answers = Answers(category_code=service.code)
    for attribute in attributes.values():
        values = [v.strip() for v in answered.get(attribute.code, ()) if v.strip()]
        if not values:
            if attribute.required:
                raise ValidationError(
                    f"attribute[{attribute.code}] is required: see services/{service.code}",
                    field=attribute.code,
                )
            continue
        value = _answer(attribute, values, tz)
        if attribute.code == "category":
            answers.category_code = value
        elif attribute.code == "kind":
            answers.kind = Kind(value)
        elif attribute.code == "title":
            answers.title = value
        else:
            answers.notes.append((attribute.label, value))
    return answers


def _answer(attribute: Attribute, values: list[str], tz: tzinfo) -> str:
    """One attribute's answer, checked and normalised for the request text."""
    name = f"attribute[{attribute.code}]"
    keys = dict(attribute.values)
    if attribute.datatype == "multivaluelist":
        unknown = [v for v in values if v not in keys]
        if unknown:
            raise ValidationError(f"{name}: unknown value '{unknown[0]}'", field=attribute.code)
        return "、".join(label for key, label in attribute.values if key in values)
    if len(values) > 1:
        raise ValidationError(f"{name} takes one value", field=attribute.code)
    value = values[0]
    if attribute.datatype == "singlevaluelist" and value not in keys:
        raise ValidationError(f"{name}: unknown value '{value}'", field=attribute.code)
    if attribute.datatype == "number":
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < 0:
            raise ValidationError(f"{name} must be a number of at least 0", field=attribute.code)
        return str(int(number)) if number.is_integer() else str(number)
    if attribute.datatype == "datetime":
        return parse_instant(value, name).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if attribute.datatype == "string" and ("\n" in value or "\r" in value):
        raise ValidationError(f"{name} must be one line", field=attribute.code)
    if len(value) > attribute.max_length:
        raise ValidationError(
            f"{name} may have at most {attribute.max_length} characters", field=attribute.code
        )
    return value


def parse_instant(value: str, name: str) -> datetime:
    """A w3 date-time with its offset (`Z` or `+08:00`)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationError(f"{name} is not an ISO 8601 date-time: '{value}'", field=name) from exc
    if parsed.tzinfo is None:
        raise ValidationError(f"{name} needs a timezone offset (Z or +08:00)", field=name)
    return parsed


def locate(org: Organisation, text: str, day: date) -> tuple[str | None, str | None]:
    """(district, street) named in an address text; an ambiguous street name is not guessed.

    Full street names are tried before aliases; district names in the text narrow the choice
    (八里庄 alone exists in two districts, 海淀区八里庄 does not).
    """
    districts = {code for code, d in org.districts.items() if d.name and d.name in text}
    streets = [u for u in org.units.values() if u.type.is_street_level and u.validity.covers(day)]
    for by_alias in (False, True):
        found = {
            u.code: u
            for u in streets
            if any(n and n in text for n in (u.aliases if by_alias else (u.name,)))
            and (not districts or u.district_code in districts)
        }
        if len(found) == 1:
            unit = next(iter(found.values()))
            return unit.district_code, unit.code
        if found:
            break
    return (next(iter(districts)) if len(districts) == 1 else None), None


def fields_of(form: FormData) -> Fields:
    """The form as lists of values per name; file parts are refused."""
    fields: Fields = {}
    for name, value in form.multi_items():
        if not isinstance(value, str):
            raise ValidationError(f"{name}: file uploads are not accepted; send a media_url", field=name)
        fields.setdefault(name, []).append(value)
    return fields


def first(fields: Fields, name: str) -> str | None:
    values = fields.get(name)
    return given(values[0]) if values else None


def new_request(app: Megacity, fields: Fields, key: ApiKey) -> intake.NewRequest:
    """The intake request a POST describes (ValidationError/NotFoundError on bad input)."""
    code = first(fields, "service_code")
    if code is None:
        raise ValidationError("service_code is required", field="service_code")
    service = find_service(app, code)
    answered: dict[str, list[str]] = {}
    for param, values in fields.items():
        if param.startswith("attribute"):
            match = _ATTRIBUTE.match(param)
            if match is None:
                raise ValidationError(f"'{param}' is not attribute[code] or attribute[code][]", field=param)
            answered.setdefault(match.group(1), []).extend(values)
    answers = parse_attributes(service, answered, app.tz)
    location = _location(fields, app, today(app))
    description = first(fields, "description") or ""
    if len(description) > mapping.MAX_DESCRIPTION:
        raise ValidationError(f"description may have at most {mapping.MAX_DESCRIPTION} characters")
    leaf = app.profile.catalogue.get(answers.category_code)
    media_url = _media_url(first(fields, "media_url"))
    notes = [(mapping.MEDIA_LABEL, media_url)] if media_url else []
    notes += [("来源", key.name), *answers.notes]
    fallback = leaf.name if leaf else service.category.name
    name, phone = _contact(fields)
    return intake.NewRequest(
        channel=Channel.OPEN311,
        kind=answers.kind,
        title=answers.title or (description.splitlines()[0][:40] if description else fallback),
        text=mapping.compose_text(description or fallback, notes),
        name=name,
        phone=phone,
        address=location.address,
        lon=location.lon,
        lat=location.lat,
        district_code=location.district_code,
        street_code=location.street_code,
        category_code=answers.category_code,
    )


@dataclass
class Location:
    lat: float | None
    lon: float | None
    address: str | None
    district_code: str | None = None
    street_code: str | None = None


def _location(fields: Fields, app: Megacity, day: date) -> Location:
    """lat+long, address_string or address_id (a street-level unit code or a district code)."""
    lat, lon = first(fields, "lat"), first(fields, "long")
    address, address_id = first(fields, "address_string"), first(fields, "address_id")
    if (lat is None) != (lon is None):
        raise ValidationError("lat and long must be sent together", field="lat")
    if lat is None and address is None and address_id is None:
        raise ValidationError("a location is required: lat and long, address_string or address_id")
    if address is not None and len(address) > 300:
        raise ValidationError("address_string may have at most 300 characters", field="address_string")
    found = Location(_coordinate(lat, "lat", 90), _coordinate(lon, "long", 180), address)
    org = app.profile.org
    if address_id is not None:
        unit = org.unit(address_id)
        if unit is not None and unit.type.is_street_level and unit.validity.covers(day):
            found.district_code, found.street_code = unit.district_code, unit.code
        elif address_id in org.districts:
            found.district_code = address_id
        else:
            raise ValidationError(
                f"unknown address_id '{address_id}': use a street-level unit code or a district code"
            )
    elif address is not None:
        found.district_code, found.street_code = locate(org, address, day)
    return found


def _coordinate(value: str | None, name: str, limit: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not -limit <= number <= limit:  # also false for NaN
        raise ValidationError(
            f"{name} must be WGS-84 decimal degrees between -{limit} and {limit}", field=name
        )
    return number


def _contact(fields: Fields) -> tuple[str | None, str | None]:
    """(name, phone) for the encrypted contact store; email, device_id, account_id are dropped.

    A Chinese name is family name first (王 + 小明 → 王小明), others "first last".
    """
    given_name, family_name = first(fields, "first_name"), first(fields, "last_name")
    phone = first(fields, "phone")
    if phone is not None and not _PHONE.match(phone):
        raise ValidationError("phone is not a phone number", field="phone")
    name = given_name or family_name
    if given_name and family_name:
        cjk = _CJK_NAME.match(given_name + family_name)
        name = family_name + given_name if cjk else f"{given_name} {family_name}"
    if name is not None and len(name) > 50:
        raise ValidationError("first_name and last_name may have at most 50 characters together")
    return name, phone


def _media_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    spaced = any(c.isspace() for c in value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 1000 or spaced:
        raise ValidationError(
            "media_url must be an http(s) URL of at most 1000 characters", field="media_url"
        )
    return value
