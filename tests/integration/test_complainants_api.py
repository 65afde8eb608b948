"""The 重点诉求人 directory and the analyses over HTTP, on SQLite and PostgreSQL: flows, audit,
masking per role, and abnormal-order statistics from real lifecycle actions."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import select

from megacity.bootstrap import Megacity
from megacity.store.tables import audit_events

Login = Callable[[str], httpx.Client]
PHONE = "13912345678"
STREET = "110101001"
LEAK = "小区东门外污水管道破裂，污水漫到人行道上，气味很大，请派人维修管道"


def submit(client: httpx.Client, text: str, phone: str = PHONE) -> str:
    body = {
        "channel": "phone",
        "kind": "complaint",
        "title": "污水",
        "text": text,
        "street_code": STREET,
        "name": "王小明",
        "phone": phone,
    }
    answer = client.post("/api/requests", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def pseudonym_of(megacity: Megacity, ticket_id: str) -> str:
    with megacity.uow(write=False) as uow:
        ticket = uow.tickets.get(ticket_id)
    assert ticket is not None and ticket.complainant_id
    return ticket.complainant_id


def actions(megacity: Megacity, prefix: str) -> list[tuple[str, str, dict[str, object]]]:
    with megacity.uow(write=False) as uow:
        rows = uow.connection.execute(
            select(audit_events.c.action, audit_events.c.actor, audit_events.c.payload)
            .where(audit_events.c.action.like(f"{prefix}%"))
            .order_by(audit_events.c.seq)
        )
        return [(r.action, r.actor, dict(r.payload)) for r in rows]


def test_directory_flow_is_audited_and_masked_per_role(login: Login, megacity: Megacity) -> None:
    operator = login("operator")
    first = submit(operator, LEAK)
    submit(operator, "已经反映多次了，" + LEAK)
    person = pseudonym_of(megacity, first)
    dispatcher = login("dispatcher")

    body = {"complainant_id": person, "labels": ["repeat"], "plan": "街道每周上门沟通一次"}
    assert login("analyst").post("/api/complainants", json=body).status_code == 403
    made = dispatcher.post("/api/complainants", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "active" and made.json()["contact"] is None
    assert made.json()["profile"]["requests"] == 2 and made.json()["profile"]["repeats"] == 1
    assert dispatcher.post("/api/complainants", json=body).status_code == 409
    unknown = dispatcher.post("/api/complainants", json={**body, "complainant_id": "p-nobody"})
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    bad = dispatcher.post("/api/complainants", json={**body, "labels": ["troublemaker"]})
    assert bad.status_code == 422

    changed = dispatcher.patch(
        f"/api/complainants/{person}", json={"plan": "区里牵头协调", "labels": ["repeat", "frequent"]}
    )
    assert changed.status_code == 200 and changed.json()["plan"] == "区里牵头协调"
    note = operator.post(f"/api/complainants/{person}/notes", json={"note": "已电话沟通，约定下周现场查看"})
    assert note.status_code == 201, note.text
    closed = dispatcher.post(f"/api/complainants/{person}/close", json={"reason": "管道已修复"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert dispatcher.post(f"/api/complainants/{person}/notes", json={"note": "x"}).status_code == 409
    listed = login("reviewer").get("/api/complainants", params={"status": "closed"})
    assert [e["complainant_id"] for e in listed.json()] == [person]
    assert PHONE not in listed.text and "王小明" not in listed.text
    outsider = login("other-reviewer")  # reviews 西城区: this complainant never called about it
    assert outsider.get("/api/complainants").json() == []
    assert outsider.get(f"/api/complainants/{person}").status_code == 404
    assert outsider.get("/api/complainants/profiles").json() == []

    trail = actions(megacity, "complainant_")
    assert [a for a, _, _ in trail] == [
        "complainant_designate",
        "complainant_update",
        "complainant_note",
        "complainant_close",
    ]
    assert [who for _, who, _ in trail] == ["dispatcher", "dispatcher", "operator", "dispatcher"]
    assert all(p["complainant_id"] == person for _, _, p in trail)
    assert PHONE not in str(trail) and "王小明" not in str(trail) and "沟通" not in str(trail)

    views_before = len(actions(megacity, "view_personal_data"))
    for role, unmasked in (
        ("admin", True),
        ("dispatcher", True),
        ("operator", True),
        ("analyst", False),
        ("reviewer", False),
    ):
        detail = login(role).get(f"/api/complainants/{person}")
        assert detail.status_code == 200, role
        contact = detail.json()["contact"]
        assert contact["masked"] is not unmasked, role
        assert (contact["phone"] == PHONE) is unmasked, role
        assert (contact["name"] == "王小明") is unmasked, role
        assert PHONE not in detail.text or unmasked, role
        assert [n["note"] for n in detail.json()["notes"]] == ["已电话沟通，约定下周现场查看"]
    views = actions(megacity, "view_personal_data")[views_before:]
    assert [who for _, who, _ in views] == ["admin", "dispatcher", "operator"]
    for role in ("unit", "auditor"):
        assert login(role).get(f"/api/complainants/{person}").status_code == 403, role

    again = dispatcher.post("/api/complainants", json={**body, "labels": ["unsatisfied"]})
    assert again.status_code == 201 and again.json()["labels"] == ["unsatisfied"]


def test_profiles_endpoint_counts_the_database(login: Login, megacity: Megacity) -> None:
    operator = login("operator")
    others = ["公园健身器材损坏，单杠螺丝松动", "夜间工地施工噪音扰民，凌晨还在打桩"]
    ids = [submit(operator, text) for text in (LEAK, LEAK, LEAK, *others)]
    submit(operator, "公交站牌损坏", phone="13800138000")
    person = pseudonym_of(megacity, ids[0])
    answer = login("analyst").get("/api/complainants/profiles")
    assert answer.status_code == 200, answer.text
    profiles = {p["complainant_id"]: p for p in answer.json()}
    assert len(profiles) == 2
    mine = profiles[person]
    assert (mine["requests"], mine["repeats"], mine["peak_in_window"]) == (5, 2, 5)
    assert mine["labels"] == "frequent" and mine["labels_zh"] == "高频"
    only = login("dispatcher").get("/api/complainants/profiles", params={"label": "frequent"}).json()
    assert [p["complainant_id"] for p in only] == [person]
    assert PHONE not in answer.text
    assert login("unit").get("/api/complainants/profiles").status_code == 403


def test_abnormal_endpoint_reads_disputes_from_the_audit_log(login: Login) -> None:
    operator, dispatcher, unit = login("operator"), login("dispatcher"), login("unit")
    for i in range(4):
        ticket = submit(operator, f"燃气表漏气第{i}次", phone=f"1391234567{i}")
        assert (
            dispatcher.post(f"/api/requests/{ticket}/dispatch", json={"unit_code": STREET}).status_code == 200
        )
        if i < 3:
            said = unit.post(f"/api/requests/{ticket}/dispute", json={"reason": "应由燃气公司负责"})
            assert said.status_code == 200, said.text
            moved = dispatcher.post(f"/api/requests/{ticket}/redispatch", json={"unit_code": "110101002"})
            assert moved.status_code == 200, moved.text
    answer = login("analyst").get("/api/analysis/abnormal", params={"min_orders": 1, "min_abnormal": 1})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["orders"] == 4 and body["counts"]["disputed"] == 3
    by_unit = {s["code"]: s for s in body["disputes"] if s["group"] == "unit"}
    assert by_unit[STREET]["disputed"] == 3 and by_unit[STREET]["orders"] == 4
    assert by_unit[STREET]["reasons"] == [["应由燃气公司负责", 3]]
    assert by_unit[STREET]["targets"] == [["110101002", 3]]
    assert "110101002" not in {code for code, s in by_unit.items() if s["disputed"]}
    english = login("analyst").get("/api/analysis/abnormal", params={"lang": "en"})
    assert english.status_code == 200 and english.json()["counts"] == body["counts"]
    wrong = login("analyst").get("/api/analysis/abnormal", params={"lang": "fr"})
    assert wrong.status_code == 422 and wrong.headers["content-type"] == "application/problem+json"
    assert login("unit").get("/api/analysis/abnormal").status_code == 403
    assert login("operator").get("/api/analysis/abnormal").status_code == 403
