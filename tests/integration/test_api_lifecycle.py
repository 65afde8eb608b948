"""Every lifecycle path through a real HTTP server, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from megacity.bootstrap import Megacity
from megacity.domain.enums import Channel, Kind, Status, Urgency
from megacity.domain.lifecycle import replay
from megacity.domain.tickets import Ticket, TicketEvent
from megacity.services import queries
from tests.conftest import Clock

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def leaf(megacity: Megacity, *, territorial: bool) -> str:
    for c in sorted(megacity.profile.catalogue.leaves(), key=lambda c: c.code):
        if c.is_territorial == territorial and c.urgency is Urgency.GENERAL:
            return c.code
    raise AssertionError("no such leaf")


def street(megacity: Megacity) -> str:
    return next(
        u.code
        for u in sorted(megacity.profile.org.units.values(), key=lambda u: u.code)
        if u.type.is_street_level
    )


def create(http: httpx.Client, megacity: Megacity, **over: Any) -> dict[str, Any]:
    body = {
        "channel": "phone",
        "kind": "complaint",
        "title": "小区门口路灯不亮",
        "text": "您好，小区门口路灯坏了一个多月，晚上出行不便。联系电话13800138000。",
        "phone": "13800138000",
        "name": "王小明",
        "street_code": street(megacity),
        "category_code": leaf(megacity, territorial=True),
        **over,
    }
    response = http.post("/api/requests", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def post(http: httpx.Client, ticket_id: str, action: str, expect: int = 200, **body: Any) -> dict[str, Any]:
    response = http.post(f"/api/requests/{ticket_id}/{action}", json=body)
    assert response.status_code == expect, response.text
    if expect >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert PROBLEM_KEYS <= response.json().keys()
    return dict(response.json())


def handled(http: httpx.Client, megacity: Megacity, clock: Clock) -> dict[str, Any]:
    """A request dispatched, accepted, contacted and replied to."""
    t = create(http, megacity)
    post(http, t["id"], "dispatch")
    clock.advance(minutes=30)
    post(http, t["id"], "accept")
    clock.advance(hours=2)
    post(http, t["id"], "contact")
    clock.advance(days=2)
    return post(http, t["id"], "reply", reason="已修复路灯")


def test_personal_data_is_masked_for_analysts_and_audited_when_shown(
    http: httpx.Client, login: Callable[[str], httpx.Client], megacity: Megacity
) -> None:
    t = create(http, megacity)
    assert t["status"] == "received" and t["complainant_id"].startswith("p-")
    seen = login("analyst").get(f"/api/requests/{t['id']}").json()
    assert "13800138000" not in seen["text"] and "138****8000" in seen["text"]
    assert seen["contact"] == {"name": "王**", "phone": "138****8000", "masked": True}
    history = http.get(f"/api/requests/{t['id']}/history").json()
    assert [e["action"] for e in history] == ["receive"]  # a masked view is not a disclosure
    shown = login("operator").get(f"/api/requests/{t['id']}").json()
    assert shown["contact"] == {"name": "王小明", "phone": "13800138000", "masked": False}
    history = http.get(f"/api/requests/{t['id']}/history").json()
    assert [(e["action"], e["actor"]) for e in history] == [
        ("receive", "admin"),
        ("view_personal_data", "operator"),
    ]
    assert "13800138000" not in str(history) and "王小明" not in str(history)


def test_happy_path_dispatch_to_close(http: httpx.Client, megacity: Megacity, clock: Clock) -> None:
    t = handled(http, megacity, clock)
    assert t["unit_code"] == street(megacity) and t["deadline_at"] is not None
    clock.advance(days=1)
    t = post(http, t["id"], "callback", resolved=True, satisfaction="satisfied")
    assert t["status"] == "called_back" and t["resolved"] is True
    t = post(http, t["id"], "close")
    assert t["status"] == "closed" and t["allowed_actions"] == ["request_exclusion"]
    actions = [e["action"] for e in http.get(f"/api/requests/{t['id']}/history").json() if e["to_status"]]
    assert actions == ["receive", "dispatch", "accept", "contact", "reply", "callback", "close"]


def test_consult_answered_on_the_spot(http: httpx.Client, megacity: Megacity) -> None:
    t = create(http, megacity, kind="consult", title="咨询居住证办理", category_code=None)
    t = post(http, t["id"], "answer", reason="告知办理地点和材料")
    assert t["status"] == "answered"
    post(http, t["id"], "dispatch", expect=409)


def test_special_disposition(http: httpx.Client, megacity: Megacity) -> None:
    t = create(http, megacity)
    t = post(http, t["id"], "dispose", case="legal_channel", reason="已进入诉讼程序")
    assert (t["status"], t["special_case"]) == ("special", "legal_channel")


def test_dispute_rejected_and_upheld(http: httpx.Client, megacity: Megacity) -> None:
    t = create(http, megacity)
    post(http, t["id"], "dispatch")
    post(http, t["id"], "dispute", reason="不属于本街道辖区")
    t = post(http, t["id"], "reject-dispute", reason="地址在本街道")
    assert t["status"] == "dispatched" and t["unit_code"] == street(megacity)
    post(http, t["id"], "dispute", reason="仍不属于本街道")
    t = post(http, t["id"], "redispatch", unit_code="D001", reason="改派城管委")
    assert (t["status"], t["unit_code"], t["cohandlers"]) == ("dispatched", "D001", [])


def test_reopen_after_unresolved_callback_and_latest_callback_counts(
    http: httpx.Client, megacity: Megacity, clock: Clock
) -> None:
    t = handled(http, megacity, clock)
    post(http, t["id"], "callback", resolved=False, satisfaction="dissatisfied")
    t = post(http, t["id"], "reopen", reason="市民反映未解决")
    assert t["status"] == "dispatched"
    post(http, t["id"], "contact")
    post(http, t["id"], "reply", reason="再次处理")
    t = post(http, t["id"], "callback", resolved=True, satisfaction="basically_satisfied")
    assert (t["resolved"], t["satisfaction"]) == (True, "basically_satisfied")


def test_extension_request_approved_moves_deadline(http: httpx.Client, megacity: Megacity) -> None:
    t = create(http, megacity)
    t = post(http, t["id"], "dispatch")
    before = t["deadline_at"]
    t = post(http, t["id"], "request-extension", days=5, reason="需协调产权单位")
    assert t["deadline_at"] == before and t["extension_state"] == "requested"
    t = post(http, t["id"], "approve-extension")
    assert t["deadline_at"] > before and t["extension_state"] == "approved"
    t = post(http, t["id"], "request-extension", days=3, reason="再次延期")
    t = post(http, t["id"], "reject-extension", reason="理由不充分")
    assert t["extension_state"] == "rejected"


def test_escalation_and_cohandlers(http: httpx.Client, megacity: Megacity) -> None:
    t = create(http, megacity)
    post(http, t["id"], "dispatch")
    t = post(http, t["id"], "escalate", level="district", reason="多次反映未解决")
    t = post(http, t["id"], "escalate", level="city", reason="跨区问题")
    assert t["escalation"] == "city"
    post(http, t["id"], "escalate", expect=409, level="district", reason="降级")
    t = post(http, t["id"], "add-cohandler", unit_code="D001")
    assert t["cohandlers"] == ["D001"]
    post(http, t["id"], "add-cohandler", expect=422, unit_code="NOPE")


def test_exclusion_with_evidence_through_two_reviews(
    http: httpx.Client, megacity: Megacity, clock: Clock
) -> None:
    t = handled(http, megacity, clock)
    post(http, t["id"], "request-exclusion", expect=422, evidence=["att-missing"], reason="诉求不合理")
    upload = http.post(
        f"/api/requests/{t['id']}/attachments",
        files={"file": ("现场照片.jpg", b"\xff\xd8fake-jpeg", "image/jpeg")},
    )
    assert upload.status_code == 201, upload.text
    evidence = upload.json()["id"]
    post(http, t["id"], "request-exclusion", evidence=[evidence], reason="诉求超出职责范围")
    post(http, t["id"], "city-approve-exclusion", expect=409)
    post(http, t["id"], "district-approve-exclusion", reason="区级审核通过")
    t = post(http, t["id"], "city-approve-exclusion", reason="市级审核通过")
    assert t["excluded"] is True and t["exclusion_state"] == "excluded"


def test_exclusion_rejected(http: httpx.Client, megacity: Megacity, clock: Clock) -> None:
    t = handled(http, megacity, clock)
    evidence = http.post(
        f"/api/requests/{t['id']}/attachments", files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")}
    )
    post(http, t["id"], "request-exclusion", evidence=[evidence.json()["id"]], reason="恶意诉求")
    t = post(http, t["id"], "reject-exclusion", reason="证据不足")
    assert t["excluded"] is False and t["exclusion_state"] == "rejected"


def test_merge_duplicate_into_master(http: httpx.Client, megacity: Megacity) -> None:
    master, dup = create(http, megacity), create(http, megacity)
    post(http, dup["id"], "merge", expect=422, master_id="missing")
    t = post(http, dup["id"], "merge", master_id=master["id"])
    assert (t["status"], t["repeat_of"]) == ("merged", master["id"])


def test_overdue_sweep_marks_and_audits(http: httpx.Client, megacity: Megacity, clock: Clock) -> None:
    from megacity.services.handling import sweep_overdue

    t = create(http, megacity)
    post(http, t["id"], "dispatch")
    assert sweep_overdue(app=megacity) == 0
    clock.advance(days=30)
    assert sweep_overdue(app=megacity) == 1
    assert sweep_overdue(app=megacity) == 0
    listed = http.get("/api/requests", params={"overdue": "true"}).json()["items"]
    assert [x["id"] for x in listed] == [t["id"]]
    assert http.get(f"/api/requests/{t['id']}/history").json()[-1]["actor"] == "sweep"


def test_illegal_transition_is_409_problem(http: httpx.Client, megacity: Megacity) -> None:
    t = create(http, megacity)
    problem = post(http, t["id"], "reply", expect=409, reason="没有派单就答复")
    assert problem["type"].endswith("illegal-transition") and "received" in problem["detail"]


def test_validation_errors_name_the_field(http: httpx.Client, megacity: Megacity) -> None:
    response = http.post(
        "/api/requests", json={"channel": "fax", "kind": "complaint", "title": "", "text": "x"}
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"channel", "title"} <= fields
    response = http.post(
        "/api/requests",
        json={"channel": "web", "kind": "help", "title": "t", "text": "x", "street_code": "999"},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "street_code"
    assert http.get("/api/requests/nope").status_code == 404


def test_idempotency_key_returns_the_first_result(http: httpx.Client, megacity: Megacity) -> None:
    body = {"channel": "web", "kind": "help", "title": "井盖缺失", "text": "路口井盖缺失很危险"}
    first = http.post("/api/requests", json=body, headers={"Idempotency-Key": "k-1"})
    again = http.post("/api/requests", json=body, headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = http.post("/api/requests", json={**body, "text": "别的"}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 409
    assert queries.overview(app=megacity).total == 1


def test_list_filters_and_cursor_pagination(http: httpx.Client, megacity: Megacity, clock: Clock) -> None:
    ids = []
    for _ in range(7):
        clock.advance(minutes=1)
        ids.append(create(http, megacity)["id"])
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = http.get("/api/requests", params=params).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    post(http, ids[0], "dispatch")
    dispatched = http.get("/api/requests", params={"status": "dispatched"}).json()["items"]
    assert [x["id"] for x in dispatched] == [ids[0]]
    assert http.get("/api/requests", params={"cursor": "garbage!"}).status_code == 422


def test_audit_log_replays_to_the_stored_state(http: httpx.Client, megacity: Megacity, clock: Clock) -> None:
    t = handled(http, megacity, clock)
    post(http, t["id"], "callback", resolved=False, satisfaction="dissatisfied")
    post(http, t["id"], "reopen")
    post(http, t["id"], "escalate", level="district", reason="重复")
    stored = queries.get_ticket(app=megacity, ticket_id=t["id"])
    rows = queries.history(app=megacity, ticket_id=t["id"])
    rows = [r for r in rows if r["to_status"]]  # state changes only
    events = [
        TicketEvent(
            t["id"],
            r["action"],
            Status(r["from_status"]) if r["from_status"] else None,
            Status(r["to_status"]),
            r["actor"],
            r["role"],
            r["at"],
            r["reason"],
            r["payload"],
        )
        for r in rows
    ]
    intake = Ticket(
        id=stored.id,
        received_at=stored.received_at,
        channel=Channel(stored.channel),
        kind=Kind(stored.kind),
        urgency=stored.urgency,
        title=stored.title,
        text=stored.text,
        complainant_id=stored.complainant_id,
        district_code=stored.district_code,
        street_code=stored.street_code,
        category_code=stored.category_code,
        profile_version=stored.profile_version,
    )
    assert replay(intake, events) == stored


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_openapi_is_served_without_pages(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 200
    if path == "/openapi.json":
        paths = response.json()["paths"]
        assert "/api/requests/{ticket_id}/dispatch" in paths and "/" not in paths
