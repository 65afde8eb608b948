"""Open311 GeoReport v2 through a real HTTP server: every endpoint, both formats, the errors."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from megacity.bootstrap import Megacity
from megacity.domain.enums import Status, Urgency
from megacity.domain.lifecycle import Action
from megacity.services import apikeys, handling, queries
from megacity.services.ratelimit import RateLimitedError, TokenBuckets
from megacity.store.tables import api_keys
from tests.conftest import Clock

V2 = "/open311/v2"
SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "open311"
PHONE = "13800138000"
LISTS = "service_requests"


def leaf(megacity: Megacity, *, territorial: bool) -> tuple[str, str]:
    """(service code, leaf code) of a general-urgency leaf."""
    for c in sorted(megacity.profile.catalogue.leaves(), key=lambda c: c.code):
        if c.is_territorial == territorial and c.urgency is Urgency.GENERAL:
            return c.code[:4], c.code
    raise AssertionError("no such leaf")


@pytest.fixture
def key(megacity: Megacity) -> str:
    return apikeys.create(app=megacity, name="fixmystreet")[1]


def fields_for(megacity: Megacity, key: str, **over: Any) -> dict[str, Any]:
    service, code = leaf(megacity, territorial=True)
    return {
        "api_key": key,
        "service_code": service,
        "attribute[category]": code,
        "address_id": "110101001",
        "description": f"小区门口路灯不亮，联系电话{PHONE}，身份证110101199001011234",
        "first_name": "小明",
        "last_name": "王",
        "phone": PHONE,
        "email": "wang@example.org",
        **over,
    }


def create(api: httpx.Client, megacity: Megacity, key: str, **over: Any) -> str:
    response = api.post(f"{V2}/requests.json", data=fields_for(megacity, key, **over))
    assert response.status_code == 200, response.text
    return str(response.json()[0]["service_request_id"])


def spark(node: ET.Element) -> Any:
    """XML → JSON by the Spark convention: one repeated child kind makes an array."""
    children = list(node)
    if not children:
        return node.text
    if len({c.tag for c in children}) == 1 and node.tag != "request":
        return [spark(c) for c in children]
    return {c.tag: spark(c) for c in children}


def as_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None or value == "" else str(value)


def both(api: httpx.Client, path: str, root: str = LISTS, **params: Any) -> Any:
    """GET the JSON and the XML form; check they say the same (Spark) and return the JSON."""
    answer, xml = (api.get(f"{V2}/{path}.{fmt}", params=params) for fmt in ("json", "xml"))
    assert answer.status_code == xml.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert xml.headers["content-type"] == "text/xml; charset=utf-8"
    assert xml.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    tree = ET.fromstring(xml.content)
    data = answer.json()
    assert tree.tag == root and (spark(tree) or ([] if data == [] else None)) == as_text(data)
    return data


def ids(api: httpx.Client, **params: Any) -> list[str]:
    return [r["service_request_id"] for r in both(api, "requests", **params)]


def error(response: httpx.Response, status: int, fmt: str = "json") -> str:
    """The description of a GeoReport error answer (never problem+json)."""
    assert response.status_code == status, response.text
    if fmt == "json":
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        [item] = response.json()
        assert item["code"] == status
        return str(item["description"])
    tree = ET.fromstring(response.content)
    assert tree.tag == "errors" and tree[0].tag == "error" and tree[0].findtext("code") == str(status)
    return str(tree[0].findtext("description"))


def test_discovery_and_services_follow_the_catalogue(anonymous: httpx.Client, megacity: Megacity) -> None:
    [endpoint] = both(anonymous, "discovery", "discovery")["endpoints"]
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] == "test"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    services = both(anonymous, "services", "services")
    catalogue = megacity.profile.catalogue
    assert [s["service_code"] for s in services] == sorted(
        c.code for c in catalogue.categories.values() if c.level == 2
    )
    first = services[0]
    assert first["group"] == catalogue.categories[first["service_code"][:2]].name
    assert first["keywords"] == ", ".join(c.name for c in catalogue.children(first["service_code"]))
    assert first["metadata"] is True and first["type"] == "realtime"
    assert both(anonymous, "services", "services", jurisdiction_id="") == services


def test_service_definition_lets_the_client_pick_the_leaf(
    anonymous: httpx.Client, megacity: Megacity
) -> None:
    service, _ = leaf(megacity, territorial=True)
    definition = both(anonymous, f"services/{service}", "service_definition")
    assert definition["service_code"] == service
    attributes = {a["code"]: a for a in definition["attributes"]}
    category = attributes["category"]
    assert (category["datatype"], category["required"], category["order"]) == ("singlevaluelist", True, 1)
    leaves = megacity.profile.catalogue.children(service)
    assert [v["key"] for v in category["values"]] == sorted(c.code for c in leaves)
    datatypes = {a["datatype"] for a in attributes.values()}
    assert datatypes == {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    assert sorted(a["order"] for a in attributes.values()) == list(range(1, len(attributes) + 1))
    assert [a["code"] for a in attributes.values() if a["required"]] == ["category"]
    assert "9999" in error(anonymous.get(f"{V2}/services/9999.json"), 404)
    assert "9999" in error(anonymous.get(f"{V2}/services/9999.xml"), 404, "xml")


def test_json_answers_match_the_open311_schemas(
    anonymous: httpx.Client, megacity: Megacity, key: str
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    from referencing.jsonschema import DRAFT202012

    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.json")}
    registry = referencing.Registry().with_resources(
        (name, DRAFT202012.create_resource(schema)) for name, schema in schemas.items()
    )

    def check(path: str, schema: str) -> Any:
        answer = anonymous.get(f"{V2}/{path}")
        assert answer.status_code == 200, answer.text
        jsonschema.Draft202012Validator(schemas[schema], registry=registry).validate(answer.json())
        return answer.json()

    ticket_id = create(anonymous, megacity, key, media_url="https://example.org/p/1.jpg")
    check("services.json", "services.json")
    check(f"services/{leaf(megacity, territorial=False)[0]}.json", "service-definition.json")
    for path in (
        "requests.json",
        f"requests/{ticket_id}.json",
        f"requests.json?service_request_id={ticket_id}",
    ):
        [request] = check(path, "requests.json")
        for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert datetime.fromisoformat(request[name]).utcoffset() == timedelta(hours=8)


def test_post_creates_and_dispatches_a_request(anonymous: httpx.Client, megacity: Megacity, key: str) -> None:
    ticket_id = create(anonymous, megacity, key, media_url="https://example.org/p/1.jpg")
    t = queries.get_ticket(app=megacity, ticket_id=ticket_id)
    assert (t.channel.value, t.kind.value, t.status) == ("open311", "complaint", Status.DISPATCHED)
    assert (t.street_code, t.unit_code, t.district_code) == ("110101001", "110101001", "110101")
    history = queries.history(app=megacity, ticket_id=ticket_id)
    assert {(e["actor"], e["role"]) for e in history} == {("open311:fixmystreet", "operator")}
    contact = queries.contact_of(app=megacity, complainant_id=t.complainant_id or "")
    assert contact == {"name": "王小明", "phone": PHONE} and "wang@" not in t.text  # email is dropped
    [request] = both(anonymous, f"requests/{ticket_id}")
    assert (request["status"], request["detailed_status"]) == ("open", "RECEIVED")
    assert request["agency_responsible"] == "东华门街道" and request["address_id"] == "110101001"
    assert t.deadline_at and request["expected_datetime"] == t.deadline_at.astimezone(megacity.tz).isoformat()
    assert request["description"] == "小区门口路灯不亮，联系电话138****8000，身份证110101********1234"
    assert request["media_url"] == "https://example.org/p/1.jpg"
    for fmt in ("json", "xml"):
        text = anonymous.get(f"{V2}/requests/{ticket_id}.{fmt}").text
        assert PHONE not in text and "小明" not in text and "wang@" not in text and "example.org/p" in text
        assert "110101199001011234" not in text and "fixmystreet" not in text


def test_post_in_xml_with_attributes(anonymous: httpx.Client, megacity: Megacity, key: str) -> None:
    service, code = leaf(megacity, territorial=False)
    answers = {"category": code, "kind": "suggestion", "title": "建议增设公交站", "affected_people": "120"}
    answers |= {"noticed_at": "2025-03-01T08:00:00Z", "location_details": "东门外\n公交站旁"}
    fields = fields_for(megacity, key, service_code=service, address_id="", description="", lat="39.913818")
    fields |= {f"attribute[{k}]": v for k, v in answers.items()} | {"long": "116.363625"}
    fields["attribute[time_of_day][]"] = ["night", "morning"]
    answer = anonymous.post(f"{V2}/requests.xml", data=fields)
    tree = ET.fromstring(answer.content)
    assert answer.status_code == 200 and tree.tag == LISTS
    assert [c.tag for c in tree[0]] == ["service_request_id", "service_notice"]
    t = queries.get_ticket(app=megacity, ticket_id=tree[0].findtext("service_request_id") or "")
    assert (t.kind.value, t.title, t.category_code) == ("suggestion", "建议增设公交站", code)
    assert (t.lat, t.lon) == (39.913818, 116.363625)  # WGS-84 as given
    department = megacity.profile.catalogue.categories[code]
    assert (t.status, t.unit_code) == (Status.DISPATCHED, department.responsible)
    for line in ("发现时间: 2025-03-01 16:00", "受影响人数: 120", "出现时段: 上午、夜间", "东门外\n公交站旁"):
        assert line in t.text
    [request] = both(anonymous, f"requests/{t.id}")
    assert (request["lat"], request["long"]) == (39.913818, 116.363625)
    assert request["description"] == department.name  # no description sent: the leaf names it


@pytest.mark.parametrize(
    ("location", "district", "street"),
    [
        ({"address_id": "110105"}, "110105", None),
        ({"address_string": "海淀区八里庄街道某小区3号楼"}, "110108", "110108005"),
        ({"address_string": "八里庄街道某小区3号楼"}, None, None),  # in two districts: not guessed
        ({"address_string": "朝阳区某路口"}, "110105", None),
        ({"lat": "39.9", "long": "116.4"}, None, None),
    ],
)
def test_post_locations(
    anonymous: httpx.Client,
    megacity: Megacity,
    key: str,
    location: dict[str, str],
    district: str,
    street: str,
) -> None:
    ticket_id = create(anonymous, megacity, key, **{"address_id": "", **location})
    t = queries.get_ticket(app=megacity, ticket_id=ticket_id)
    assert (t.district_code, t.street_code, t.address) == (district, street, location.get("address_string"))
    [request] = both(anonymous, f"requests/{ticket_id}")
    if district is None:  # nobody to dispatch to: a human dispatcher decides
        assert (request["detailed_status"], request["agency_responsible"]) == ("PENDING", None)


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"api_key": ""}, 403, "api_key is required"),
        ({"api_key": "m311_not-a-key"}, 403, "invalid api_key"),
        ({"jurisdiction_id": "sfgov.org"}, 404, "jurisdiction_id 'sfgov.org' not found"),
        ({"service_code": ""}, 400, "service_code is required"),
        ({"service_code": "9999"}, 404, "service_code '9999' not found"),
        ({"attribute[category]": ""}, 400, "attribute[category] is required"),
        ({"attribute[category]": "999999"}, 400, "unknown value '999999'"),
        ({"attribute[colour]": "red"}, 400, "unknown attribute 'colour'"),
        ({"attribute[kind]": ["help", "report"]}, 400, "takes one value"),
        ({"attribute[affected_people]": "-3"}, 400, "at least 0"),
        ({"attribute[noticed_at]": "2025-03-01 08:00"}, 400, "timezone offset"),
        ({"attribute[title]": "a\nb"}, 400, "one line"),
        ({"attribute[time_of_day][]": ["noon"]}, 400, "unknown value 'noon'"),
        ({"address_id": ""}, 400, "a location is required"),
        ({"address_id": "999999"}, 400, "unknown address_id"),
        ({"address_id": "", "lat": "39.9"}, 400, "lat and long must be sent together"),
        ({"lat": "91", "long": "116.4"}, 400, "lat must be WGS-84"),
        ({"phone": "call me"}, 400, "phone"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"description": "x" * 4001}, 400, "at most 4000"),
    ],
)
def test_post_errors(
    anonymous: httpx.Client, megacity: Megacity, key: str, change: dict[str, Any], status: int, words: str
) -> None:
    for fmt in ("json", "xml"):
        answer = anonymous.post(f"{V2}/requests.{fmt}", data=fields_for(megacity, key, **change))
        assert words in error(answer, status, fmt)


def test_keys_are_hashed_revocable_and_rate_limited(
    anonymous: httpx.Client, megacity: Megacity, key: str
) -> None:
    with megacity.uow(write=False) as uow:
        [row] = uow.connection.execute(select(api_keys)).all()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in str(row)
    started, accepted = time.monotonic(), 0
    while (limited := anonymous.post(f"{V2}/requests.xml", data={"api_key": key})).status_code == 400:
        accepted += 1  # invalid POSTs spend the budget too; it refills by one a second
        assert accepted <= apikeys.POSTS_PER_MINUTE + time.monotonic() - started + 1
    assert accepted >= apikeys.POSTS_PER_MINUTE
    assert "60 requests a minute" in error(limited, 429, "xml") and int(limited.headers["Retry-After"]) >= 1
    other, other_key = apikeys.create(app=megacity, name="seeclickfix")
    create(anonymous, megacity, other_key)  # a budget per key
    assert apikeys.revoke(app=megacity, key_id=other.id) and not apikeys.revoke(app=megacity, key_id=other.id)
    assert "revoked" in error(anonymous.post(f"{V2}/requests.json", data={"api_key": other_key}), 403)


def test_token_bucket_refills() -> None:
    now = [0.0]
    limiter = apikeys.PostLimiter(2, TokenBuckets(per_minute=2, capacity=2, clock=lambda: now[0]))
    key = apikeys.ApiKey(1, "k", datetime(2025, 1, 1), None)
    for _ in range(2):
        limiter.check(key)
    with pytest.raises(RateLimitedError, match="retry in 30 s"):
        limiter.check(key)
    now[0] = 30.0
    limiter.check(key)


def test_list_window_status_service_and_pages(
    anonymous: httpx.Client, megacity: Megacity, key: str, clock: Clock
) -> None:
    other_service, other_leaf = leaf(megacity, territorial=False)
    old = create(anonymous, megacity, key)
    clock.advance(days=100)
    new = [
        create(anonymous, megacity, key, service_code=other_service, **{"attribute[category]": other_leaf})
    ]
    for _ in range(3):
        clock.advance(hours=1)
        new.append(
            create(anonymous, megacity, key, address_id="", lat="39.9", long="116.4")
        )  # not dispatched
    params = {"case": "secret_or_privacy"}
    handling.perform(
        app=megacity, ticket_id=new[1], action=Action.DISPOSE, actor="a", role="admin", params=params
    )
    assert ids(anonymous) == new[::-1]  # newest first, the last 90 days only
    closed = both(anonymous, "requests", status="closed")
    assert [(r["service_request_id"], r["detailed_status"]) for r in closed] == [(new[1], "REJECTED")]
    assert closed[0]["description"] is None and closed[0]["address"] is None  # 条例 Art. 11 (4)
    assert closed[0]["updated_datetime"] == clock.now.astimezone(megacity.tz).isoformat()
    assert ids(anonymous, status="open,closed") == new[::-1] and len(ids(anonymous, status="open")) == 3
    assert ids(anonymous, service_code=other_service) == new[:1]
    assert ids(anonymous, service_code=f"{other_service},{leaf(megacity, territorial=True)[0]}") == new[::-1]
    pages = [ids(anonymous, page=n, page_size=3) for n in (1, 2, 3)]
    assert pages == [new[:0:-1], new[:1], []]
    start = (clock.now - timedelta(days=120)).isoformat()
    assert ids(anonymous, start_date=start, end_date=start[:10] + "T23:59:59Z") == []
    assert ids(anonymous, start_date=start) == [old]  # 90 days from start_date
    assert ids(anonymous, start_date="2025-03-03", end_date="2025-03-03") == [old]  # whole local days
    by_id = ids(anonymous, service_request_id=f"{old},nope,{new[0]}", status="closed")
    assert by_id == [old, new[0]]  # ids override every other argument


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"}, "at most 90 days"),
        ({"start_date": "2025-03-01T00:00:00Z", "end_date": "2025-02-01T00:00:00Z"}, "after start_date"),
        ({"start_date": "2025-03-01T00:00:00"}, "timezone offset"),
        ({"status": "pending"}, "status takes open, closed"),
        ({"service_code": "01"}, "unknown service_code '01'"),
        ({"page": "0"}, "page must be"),
        ({"page_size": "501"}, "page_size must be"),
        ({"page": "201", "page_size": "50"}, "at most 10000"),
        ({"service_request_id": ",".join(str(i) for i in range(101))}, "at most 100"),
    ],
)
def test_list_errors(anonymous: httpx.Client, params: dict[str, str], words: str) -> None:
    for fmt in ("json", "xml"):
        assert words in error(anonymous.get(f"{V2}/requests.{fmt}", params=params), 400, fmt)
    assert ids(anonymous, page="", page_size="", status="") == []  # empty means absent


def test_public_list_switch_and_lookups(anonymous: httpx.Client, megacity: Megacity, key: str) -> None:
    ticket_id = create(anonymous, megacity, key)
    megacity.profile = dataclasses.replace(megacity.profile, public_request_list=False)
    for fmt in ("json", "xml"):
        assert "switched off" in error(anonymous.get(f"{V2}/requests.{fmt}"), 403, fmt)
    assert ids(anonymous, service_request_id=ticket_id) == [ticket_id]
    assert both(anonymous, f"requests/{ticket_id}")[0]["service_request_id"] == ticket_id
    assert both(anonymous, f"tokens/{ticket_id}") == [{"service_request_id": ticket_id, "token": ticket_id}]
    assert "token 'nope'" in error(anonymous.get(f"{V2}/tokens/nope.json"), 404)
    assert "no request" in error(anonymous.get(f"{V2}/requests/nope.xml"), 404, "xml")


def test_jurisdiction_formats_and_unknown_paths(anonymous: httpx.Client) -> None:
    for path, root in {
        "services": "services",
        "requests": LISTS,
        "services/0101": "service_definition",
    }.items():
        assert both(anonymous, path, root, jurisdiction_id="110000") == both(anonymous, path, root)
    assert "sfgov.org" in error(anonymous.get(f"{V2}/requests.xml?jurisdiction_id=sfgov.org"), 404, "xml")
    assert "unknown format '.yaml'" in error(anonymous.get(f"{V2}/services.yaml"), 404, "xml")
    assert "discovery.xml" in error(anonymous.get(f"{V2}/nothing.json"), 404)
    wrong = anonymous.delete(f"{V2}/requests.json")
    assert error(wrong, 405) and wrong.headers["Allow"] == "GET, POST"
    documented = set(anonymous.get("/openapi.json").json()["paths"])
    assert {f"{V2}/services.{{fmt}}", f"{V2}/requests/{{service_request_id}}.{{fmt}}"} <= documented
