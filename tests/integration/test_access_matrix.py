"""Least privilege, cell by cell: every role × endpoint × scope is asserted.

The expected matrix is written out here by hand (not derived from the code's tables), so a
change to the policy in `domain/access.py` must be made deliberately in both places.
Ticket T lies in 东华门街道 (110101001, 东城区 110101): `unit` handles it and `reviewer`
reviews its district; `other-unit` and `other-reviewer` are the out-of-scope twins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import ACCOUNTS

Login = Callable[[str], httpx.Client]
STREET = "110101001"
ROLES = list(ACCOUNTS)
IN_SCOPE = {"admin", "operator", "dispatcher", "unit", "reviewer", "analyst", "auditor"}


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """Access rules do not depend on the engine; one engine keeps the 250-cell matrix quick."""
    return f"sqlite:///{tmp_path}/megacity.db"


def new_ticket(admin: httpx.Client, kind: str = "complaint") -> str:
    body = {
        "channel": "phone",
        "kind": kind,
        "title": "路灯不亮",
        "text": "胡同口路灯坏了",
        "street_code": STREET,
    }
    answer = admin.post("/api/requests", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def step(admin: httpx.Client, ticket_id: str, action: str, **body: Any) -> None:
    answer = admin.post(f"/api/requests/{ticket_id}/{action}", json=body)
    assert answer.status_code == 200, answer.text


def evidence(admin: httpx.Client, ticket_id: str) -> str:
    answer = admin.post(
        f"/api/requests/{ticket_id}/attachments", files={"file": ("e.jpg", b"jpeg", "image/jpeg")}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


DISPATCH = ("dispatch", {"unit_code": STREET})
CONTACTED = [
    DISPATCH,
    ("contact", {}),
]
REPLIED = [*CONTACTED, ("reply", {"reason": "已处理"})]

#: action -> (who may do it, steps that prepare a ticket for it, request body)
MATRIX: dict[str, tuple[set[str], list[tuple[str, dict[str, Any]]], dict[str, Any]]] = {
    "answer": ({"admin", "operator"}, [], {"reason": "已解答"}),
    "dispose": ({"admin", "operator", "dispatcher"}, [], {"case": "legal_channel"}),
    "dispatch": ({"admin", "operator", "dispatcher"}, [], {"unit_code": STREET}),
    "accept": ({"admin", "unit", "other-unit"}, [DISPATCH], {}),
    "dispute": ({"admin", "unit", "other-unit"}, [DISPATCH], {"reason": "不属于本单位"}),
    "reject-dispute": (
        {"admin", "dispatcher"},
        [DISPATCH, ("dispute", {"reason": "不属于"})],
        {"reason": "属于"},
    ),
    "redispatch": (
        {"admin", "dispatcher"},
        [DISPATCH, ("dispute", {"reason": "不属于"})],
        {"unit_code": "D001"},
    ),
    "contact": ({"admin", "unit", "other-unit"}, [DISPATCH], {}),
    "reply": ({"admin", "unit", "other-unit"}, CONTACTED, {"reason": "已修复"}),
    "callback": ({"admin", "operator"}, REPLIED, {"resolved": True, "satisfaction": "satisfied"}),
    "reopen": (
        {"admin", "operator"},
        [*REPLIED, ("callback", {"resolved": False, "satisfaction": "dissatisfied"})],
        {},
    ),
    "close": ({"admin", "operator"}, [*REPLIED, ("callback", {"outcome": "not_reached"})], {}),
    "request-extension": ({"admin", "unit", "other-unit"}, [DISPATCH], {"days": 3, "reason": "需协调"}),
    "approve-extension": (
        {"admin", "dispatcher"},
        [DISPATCH, ("request-extension", {"days": 3, "reason": "需协调"})],
        {},
    ),
    "reject-extension": (
        {"admin", "dispatcher"},
        [DISPATCH, ("request-extension", {"days": 3, "reason": "需协调"})],
        {"reason": "理由不足"},
    ),
    "escalate": (
        {"admin", "dispatcher", "reviewer", "other-reviewer"},
        [DISPATCH],
        {"level": "district", "reason": "多次反映"},
    ),
    "add-cohandler": ({"admin", "dispatcher", "unit", "other-unit"}, [DISPATCH], {"unit_code": "D001"}),
    "request-exclusion": (
        {"admin", "unit", "other-unit"},
        REPLIED,
        {"evidence": ["<evidence>"], "reason": "恶意诉求"},
    ),
    "district-approve-exclusion": (
        {"admin", "reviewer", "other-reviewer"},
        [*REPLIED, ("request-exclusion", {"evidence": ["<evidence>"], "reason": "恶意"})],
        {},
    ),
    "city-approve-exclusion": (
        {"admin"},
        [
            *REPLIED,
            ("request-exclusion", {"evidence": ["<evidence>"], "reason": "恶意"}),
            ("district-approve-exclusion", {}),
        ],
        {},
    ),
    "reject-exclusion": (
        {"admin", "reviewer", "other-reviewer"},
        [*REPLIED, ("request-exclusion", {"evidence": ["<evidence>"], "reason": "恶意"})],
        {"reason": "证据不足"},
    ),
    "merge": ({"admin", "operator", "dispatcher"}, [], {"master_id": "<master>"}),
}


def expected(action: str, role: str) -> int:
    allowed, _, _ = MATRIX[action]
    if role not in allowed:
        return 403
    return 200 if role in IN_SCOPE else 404


def fill(body: dict[str, Any], admin: httpx.Client, ticket_id: str) -> dict[str, Any]:
    out = dict(body)
    if out.get("evidence") == ["<evidence>"]:
        out["evidence"] = [evidence(admin, ticket_id)]
    if out.get("master_id") == "<master>":
        out["master_id"] = new_ticket(admin)
    return out


@pytest.mark.parametrize("action", list(MATRIX))
def test_lifecycle_action_matrix(action: str, login: Login) -> None:
    admin = login("admin")
    allowed, prepare, body = MATRIX[action]
    for role in ROLES:
        ticket_id = new_ticket(admin, kind="consult" if action == "answer" else "complaint")
        for prep_action, prep_body in prepare:
            step(admin, ticket_id, prep_action, **fill(prep_body, admin, ticket_id))
        answer = login(role).post(f"/api/requests/{ticket_id}/{action}", json=fill(body, admin, ticket_id))
        assert answer.status_code == expected(action, role), f"{role} {action}: {answer.text}"


READ_SCOPE = {  # who sees ticket T (in 110101001 / 110101)
    role: role not in {"other-unit", "other-reviewer"} for role in ROLES
}


def test_read_endpoints_matrix(login: Login) -> None:
    admin = login("admin")
    ticket_id = new_ticket(admin)
    step(admin, ticket_id, DISPATCH[0], **DISPATCH[1])
    for role in ROLES:
        client = login(role)
        code = 200 if READ_SCOPE[role] else 404
        assert client.get(f"/api/requests/{ticket_id}").status_code == code, role
        assert client.get(f"/api/requests/{ticket_id}/history").status_code == code, role
        listed = client.get("/api/requests")
        assert listed.status_code == 200, role
        assert (ticket_id in {t["id"] for t in listed.json()["items"]}) == READ_SCOPE[role], role


CREATE = {"admin", "operator"}
ATTACH = {"admin", "operator", "unit", "other-unit"}
UNMASKED = {"admin", "operator", "dispatcher", "unit"}


def test_write_and_privacy_matrix(login: Login) -> None:
    admin = login("admin")
    ticket_id = new_ticket(admin)
    step(admin, ticket_id, DISPATCH[0], **DISPATCH[1])
    body = {"channel": "web", "kind": "help", "title": "t", "text": "x", "phone": "13912345678"}
    admin.post(f"/api/requests/{ticket_id}/add-cohandler", json={"unit_code": "D001"})
    for role in ROLES:
        client = login(role)
        created = client.post("/api/requests", json=body)
        assert created.status_code == (201 if role in CREATE else 403), role
        upload = client.post(
            f"/api/requests/{ticket_id}/attachments", files={"file": ("a.txt", b"x", "text/plain")}
        )
        want = 201 if role in ATTACH and READ_SCOPE[role] else 404 if role in ATTACH else 403
        assert upload.status_code == want, role
    phone_ticket = admin.post("/api/requests", json={**body, "street_code": STREET}).json()["id"]
    step(admin, phone_ticket, DISPATCH[0], **DISPATCH[1])
    for role in ROLES:
        if not READ_SCOPE[role]:
            continue
        contact = login(role).get(f"/api/requests/{phone_ticket}").json()["contact"]
        assert contact["masked"] is (role not in UNMASKED), role
        assert (contact["phone"] == "13912345678") is (role in UNMASKED), role


def test_scoped_lists_refuse_other_scopes(login: Login) -> None:
    assert login("unit").get("/api/requests", params={"unit_code": "110101002"}).status_code == 403
    assert login("reviewer").get("/api/requests", params={"district_code": "110102"}).status_code == 403


def test_without_credentials_every_api_get_is_401(anonymous: httpx.Client) -> None:
    spec = anonymous.get("/openapi.json").json()
    gets = [p for p, ops in spec["paths"].items() if "get" in ops and p.startswith("/api")]
    assert gets
    for path in gets:
        answer = anonymous.get(path.replace("{ticket_id}", "x"))
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"] == "Bearer"
    for public in ("/", "/healthz", "/docs", "/openapi.json", "/static/megacity.css"):
        assert anonymous.get(public).status_code == 200, public


def test_bad_credentials_and_tokens(anonymous: httpx.Client, login: Login) -> None:
    login("admin")  # creates the account
    wrong = anonymous.post("/api/auth/token", data={"username": "admin", "password": "nope-nope"})
    unknown = anonymous.post("/api/auth/token", data={"username": "ghost", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    forged = anonymous.get("/api/requests", headers={"Authorization": "Bearer djEuMS45OTk5OTk5OTk5LmFiYw"})
    assert forged.status_code == 401


INDICATOR_READERS = {"admin", "dispatcher", "reviewer", "other-reviewer", "analyst"}  # READ_ANALYTICS


def test_indicator_endpoints_matrix(login: Login) -> None:
    paths = ("/api/indicators/derived/definitions", "/api/indicators/derived?period=2025-03&level=city")
    for path in paths:
        for role in ROLES:
            want = 200 if role in INDICATOR_READERS else 403
            assert login(role).get(path).status_code == want, (role, path)


KEY_READERS = {"admin", "operator", "dispatcher", "reviewer", "other-reviewer", "analyst"}
KEY_MANAGERS = {"admin", "operator", "dispatcher"}
ANALYTICS_READERS = {"admin", "dispatcher", "reviewer", "other-reviewer", "analyst"}


def test_complainant_and_abnormal_endpoints_matrix(login: Login) -> None:
    admin = login("admin")
    body = {"channel": "phone", "kind": "complaint", "title": "t", "text": "路灯不亮", "phone": "13912345678"}
    ticket_id = admin.post("/api/requests", json={**body, "street_code": STREET}).json()["id"]
    person = admin.get(f"/api/requests/{ticket_id}").json()["complainant_id"]
    for role in ROLES:
        client = login(role)
        made = client.post("/api/complainants", json={"complainant_id": person, "labels": ["frequent"]})
        assert made.status_code == (201 if role in KEY_MANAGERS else 403), role
        if made.status_code == 201:
            assert client.post(f"/api/complainants/{person}/close", json={"reason": "r"}).status_code == 200
        reads = ("/api/complainants", "/api/complainants/profiles", f"/api/complainants/{person}")
        for path in reads:
            want = 200 if role in KEY_READERS else 403
            if want == 200 and role == "other-reviewer" and path.endswith(person):
                want = 404  # a district reviewer sees complainants of its own district only
            assert client.get(path).status_code == want, (role, path)
        want = 200 if role in ANALYTICS_READERS else 403
        assert client.get("/api/analysis/abnormal").status_code == want, role


QUEUE_READERS = {"admin", "operator", "dispatcher"}  # READ_REQUESTS and may dispatch


def test_dispatch_endpoints_matrix(login: Login) -> None:
    for role in ROLES:
        client = login(role)
        assert client.get("/api/dispatch/queue").status_code == (200 if role in QUEUE_READERS else 403), role
        decided = client.post("/api/dispatch/queue/no-such-ticket", json={"unit_code": STREET})
        assert decided.status_code == (404 if role in QUEUE_READERS else 403), role
        want = 200 if role in INDICATOR_READERS else 403  # dispute statistics: READ_ANALYTICS
        assert client.get("/api/dispatch/disputes").status_code == want, role


TOPIC_ADOPTERS = {"admin", "analyst"}  # ADOPT_TOPICS
REPLY_CHECKERS = set(ROLES) - {"auditor"}  # CHECK_REPLIES


def test_topic_and_reply_endpoints_matrix(login: Login) -> None:
    topic = {"month": "2025-03", "title": "电梯", "terms": ["电梯"]}
    draft = {"title": "路灯不亮", "request": "胡同口路灯坏了", "reply": "您好，经核实路灯已修复。"}
    for role in ROLES:
        client = login(role)
        want = 200 if role in ANALYTICS_READERS else 403
        assert client.get("/api/topics/proposals", params={"month": "2025-03"}).status_code == want, role
        assert client.get("/api/topics").status_code == want, role
        adopted = client.post("/api/topics", json=topic)
        assert adopted.status_code == (201 if role in TOPIC_ADOPTERS else 403), role
        target = adopted.json()["id"] if adopted.status_code == 201 else 1  # closing: ADOPT_TOPICS
        closed = client.post(f"/api/topics/{target}/close", json={"reason": "已解决"})
        assert closed.status_code == (200 if role in TOPIC_ADOPTERS else 403), role
        checked = client.post("/api/replies/check", json=draft)
        assert checked.status_code == (200 if role in REPLY_CHECKERS else 403), role


def test_forecast_endpoint_matrix(login: Login) -> None:
    for role in ROLES:  # READ_ANALYTICS; an empty database answers no series, not an error
        want = 200 if role in {"admin", "dispatcher", "reviewer", "other-reviewer", "analyst"} else 403
        assert login(role).get("/api/analysis/forecast").status_code == want, role


def test_repeats_endpoint_matrix(login: Login) -> None:
    for role in ROLES:  # READ_ANALYTICS
        want = 200 if role in {"admin", "dispatcher", "reviewer", "other-reviewer", "analyst"} else 403
        assert login(role).get("/api/analysis/repeats").status_code == want, role
