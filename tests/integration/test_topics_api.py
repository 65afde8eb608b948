"""/api/topics and /api/replies/check over a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import select

from megacity.bootstrap import Megacity
from megacity.store.tables import audit_events
from tests.conftest import Clock

Login = Callable[[str], httpx.Client]
LIFT = ["望京西园三区电梯又坏了", "望京西园三区电梯故障困人", "望京西园三区3号楼电梯停运"]
OTHERS = [
    "咨询新生儿医保办理",
    "公交站牌信息错误",
    "小区垃圾分类桶太少",
    "咨询公积金提取流程",
    "出租车拒载绕路",
]


def post(client: httpx.Client, title: str, street: str = "110105026", text: str = "") -> str:
    body = {
        "channel": "web",
        "kind": "complaint",
        "title": title,
        "text": text or title,
        "street_code": street,
    }
    answer = client.post("/api/requests", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_propose_adopt_and_track(login: Login, clock: Clock, megacity: Megacity) -> None:
    admin, analyst = login("admin"), login("analyst")
    lift = [post(admin, LIFT[n % 3], text=f"{LIFT[n % 3]}，电梯经常停运，老人上下楼困难") for n in range(6)]
    for title in OTHERS:
        post(admin, title, "110101001")
    answer = analyst.get("/api/topics/proposals", params={"month": "2025-03", "top": 3})
    assert answer.status_code == 200, answer.text
    first = answer.json()["items"][0]
    assert sorted(first["member_ids"]) == sorted(lift) and first["streets"] == ["110105026"]
    body = {k: first[k] for k in ("terms", "heat")} | {"month": "2025-03", "title": first["phrase"]}
    body["street_codes"] = first["streets"]
    assert login("operator").post("/api/topics", json=body).status_code == 403
    adopted = analyst.post("/api/topics", json=body)
    assert adopted.status_code == 201, adopted.text
    topic_id = adopted.json()["id"]
    with megacity.engine.connect() as conn:
        events = conn.execute(select(audit_events).where(audit_events.c.action == "adopt_topic")).all()
    assert len(events) == 1 and events[0].actor == "analyst" and events[0].payload["topic_id"] == topic_id
    clock.advance(days=31)  # April: two more requests about the lift, one elsewhere about something else
    post(admin, LIFT[0])
    post(admin, LIFT[1])
    post(admin, "学校门口违章停车", "110101001")
    series = analyst.get(f"/api/topics/{topic_id}/volume").json()["series"]
    assert series == [{"month": "2025-03", "volume": 6}, {"month": "2025-04", "volume": 2}]
    listed = analyst.get("/api/topics").json()
    assert [t["id"] for t in listed] == [topic_id] and listed[0]["adopted_by"] == "analyst"
    assert analyst.get("/api/topics/999/volume").status_code == 404
    bad = analyst.get("/api/topics/proposals", params={"month": "2025-13"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert login("auditor").get("/api/topics").status_code == 403
    empty = analyst.post("/api/topics", json=body | {"terms": []})
    assert empty.status_code == 422


GOOD = (
    "您好！感谢您的留言。经现场核实，望京西园三区3号楼电梯因控制板故障停运。根据《北京市电梯安全管理规定》，"
    "我们已责令物业公司于3月5日更换控制板，目前电梯已恢复运行，下一步将督促每月维保。如有疑问请拨打联系电话。"
)


def test_reply_check(login: Login) -> None:
    unit = login("unit")
    request = {"title": "望京西园三区电梯故障", "request": "望京西园三区3号楼电梯坏了一周，老人上不了楼"}
    good = unit.post("/api/replies/check", json=request | {"reply": GOOD})
    assert good.status_code == 200, good.text
    assert not good.json()["weak"] and good.json()["combined"] >= 0.7
    empty = unit.post("/api/replies/check", json=request | {"reply": ""}).json()
    assert empty["weak"] and empty["combined"] == 0.0 and empty["reasons"] == ["empty reply"]
    off = unit.post(
        "/api/replies/check", json=request | {"reply": "您好，公积金提取请携带身份证到窗口办理。"}
    ).json()
    assert off["weak"] and off["relevance"] < good.json()["relevance"]
    dated = request | {"reply": GOOD, "received_at": "2025-01-02T09:00:00+08:00"}
    late = unit.post("/api/replies/check", json=dated).json()  # replied "now" (2025-03-03)
    assert late["working_days"] > 30 and late["timeliness"] == 0.0 and late["weak"]
    assert login("auditor").post("/api/replies/check", json=request | {"reply": GOOD}).status_code == 403
    missing = unit.post("/api/replies/check", json={"title": "x"})
    assert missing.status_code == 422 and missing.json()["errors"]


def test_close_topic(login: Login, clock: Clock, megacity: Megacity) -> None:
    admin, analyst = login("admin"), login("analyst")
    for n in range(3):
        post(admin, LIFT[n], text=f"{LIFT[n]}，电梯经常停运")
    body = {"month": "2025-03", "title": "望京西园三区电梯", "terms": ["望京西园", "电梯"]}
    topic_id = analyst.post("/api/topics", json=body).json()["id"]
    assert analyst.get("/api/topics").json()[0]["status"] == "adopted"
    for role in ("operator", "dispatcher", "unit", "reviewer", "auditor"):
        denied = login(role).post(f"/api/topics/{topic_id}/close", json={"reason": "已解决"})
        assert denied.status_code == 403, role
    for reason in ({"reason": ""}, {"reason": "   "}, {}, {"reason": "已解决", "extra": 1}):
        bad = analyst.post(f"/api/topics/{topic_id}/close", json=reason)
        assert bad.status_code == 422, (reason, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
    clock.advance(days=31)
    closed = analyst.post(f"/api/topics/{topic_id}/close", json={"reason": " 电梯已更换，回访满意 "})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["close_reason"] == "电梯已更换，回访满意"
    again = admin.post(f"/api/topics/{topic_id}/close", json={"reason": "再次关闭"})
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    missing = analyst.post("/api/topics/999/close", json={"reason": "已解决"})
    assert missing.status_code == 404 and missing.json()["status"] == 404
    with megacity.engine.connect() as conn:
        events = conn.execute(select(audit_events).where(audit_events.c.action == "close_topic")).all()
    assert len(events) == 1 and events[0].actor == "analyst" and events[0].role == "analyst"
    assert events[0].payload["topic_id"] == topic_id and events[0].reason == "电梯已更换，回访满意"
    listed = analyst.get("/api/topics").json()[0]
    assert listed["status"] == "closed" and listed["closed_by"] == "analyst"
    assert listed["close_reason"] == "电梯已更换，回访满意" and listed["closed_at"].startswith("2025-04-0")
    post(admin, LIFT[0])  # April: the lift again, after closing — tracking still shows it
    tracked = analyst.get(f"/api/topics/{topic_id}/volume").json()
    assert tracked["status"] == "closed" and tracked["closed_by"] == "analyst"
    assert tracked["series"] == [{"month": "2025-03", "volume": 3}, {"month": "2025-04", "volume": 1}]
