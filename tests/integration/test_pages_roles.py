"""The server-rendered pages per role through a real server: login, CSRF, scope, masking, actions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from megacity.bootstrap import Megacity
from tests.conftest import PASSWORD, Clock
from tests.integration.test_api_lifecycle import create, leaf, post, street

PAGES = (
    "/workbench",
    "/tickets",
    "/inbox",
    "/review",
    "/settings",
    "/knowledge",
    "/ranking",
    "/monitoring",
    "/analysis",
)
#: Which pages each role may open (the others answer 403).
ALLOWED: dict[str, set[str]] = {  # 设置 is everyone's (their own account); its users part is admin's
    "operator": {"/workbench", "/tickets", "/knowledge", "/ranking", "/settings"},
    "dispatcher": {"/tickets", "/review", "/knowledge", "/ranking", "/monitoring", "/analysis", "/settings"},
    "unit": {"/tickets", "/inbox", "/knowledge", "/ranking", "/settings"},
    "reviewer": {"/tickets", "/review", "/knowledge", "/ranking", "/monitoring", "/analysis", "/settings"},
    "admin": {
        "/workbench",
        "/tickets",
        "/review",
        "/settings",
        "/knowledge",
        "/ranking",
        "/monitoring",
        "/analysis",
    },
    "analyst": {"/tickets", "/knowledge", "/ranking", "/monitoring", "/analysis", "/settings"},
    "auditor": {"/tickets", "/knowledge", "/settings"},
}
HTML = {"accept": "text/html"}
OTHER_STREET = "110101002"  # 景山街道, handled by the `other-unit` account


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def flash_of(html: str) -> str:
    found = re.search(r'<p class="flash[^"]*"[^>]*>([^<]*)</p>', html)
    return found.group(1) if found else ""


PageLogin = Callable[[str], httpx.Client]


@pytest.fixture
def pages(server: str, login: Callable[[str], httpx.Client]) -> Iterator[PageLogin]:
    """`pages(name)` gives a browser-like client logged in through the login form."""
    clients: list[httpx.Client] = []

    def page_client(name: str) -> httpx.Client:
        login(name)  # creates the account
        client = httpx.Client(base_url=server, timeout=30, headers=HTML)
        clients.append(client)
        token = csrf_of(client.get("/login").text)
        answer = client.post("/login", data={"csrf_token": token, "username": name, "password": PASSWORD})
        assert answer.status_code == 303, answer.text
        return client

    yield page_client
    for client in clients:
        client.close()


def act(client: httpx.Client, ticket_id: str, action: str, **fields: Any) -> httpx.Response:
    """POST one action form the way the page does, with the page's CSRF token."""
    token = csrf_of(client.get("/tickets").text)
    return client.post(f"/tickets/{ticket_id}/act/{action}", data={"csrf_token": token, **fields})


def dispatched(http: httpx.Client, megacity: Megacity, **over: Any) -> dict[str, Any]:
    t = create(http, megacity, **over)
    return post(http, t["id"], "dispatch")


def test_login_form_sets_a_hardened_session_and_lands_on_the_role_home(
    anonymous: httpx.Client, login: Callable[[str], httpx.Client]
) -> None:
    login("unit")
    form = anonymous.get("/login", headers=HTML)
    assert form.status_code == 200 and '<html lang="zh-CN">' in form.text and "用户名" in form.text
    cookie = form.headers["set-cookie"].lower()
    assert "megacity_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    token = csrf_of(form.text)
    wrong = anonymous.post("/login", data={"csrf_token": token, "username": "unit", "password": "nope-nope"})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    right = anonymous.post(
        "/login",
        data={"csrf_token": token, "username": "unit", "password": PASSWORD, "next": "//evil.example"},
    )
    assert right.status_code == 303 and right.headers["location"] == "/inbox"
    assert csrf_of(anonymous.get("/inbox", headers=HTML).text) != token  # logging in rotates the token
    assert anonymous.get("/login").headers["location"] == "/inbox"  # already logged in


def test_pages_send_anonymous_users_to_login_and_back(anonymous: httpx.Client) -> None:
    for path in PAGES:
        answer = anonymous.get(path, headers=HTML)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/login?next={path}"
    assert (
        anonymous.get("/tickets?status=received").headers["location"]
        == "/login?next=/tickets%3Fstatus%3Dreceived"
    )
    anonymous.cookies.set("megacity_session", "forged.0123")
    assert anonymous.get("/tickets").status_code == 303
    assert anonymous.get("/pages/api/suggest", headers={"accept": "application/json"}).status_code == 401


def test_each_role_opens_only_its_pages_and_sees_only_those_in_the_navigation(pages: PageLogin) -> None:
    for name, allowed in ALLOWED.items():
        client = pages(name)
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == (200 if path in allowed else 403), (name, path, answer.text[:300])
        nav = client.get("/tickets").text.split('<nav class="pages"')[1].split("</nav>")[0]
        shown = set(re.findall(r'href="(/[a-z]+)"', nav))
        assert shown == allowed, (name, shown)


def test_post_without_or_with_a_wrong_csrf_token_is_refused(
    pages: PageLogin, anonymous: httpx.Client, http: httpx.Client, megacity: Megacity
) -> None:
    t = dispatched(http, megacity)
    unit = pages("unit")
    for data in ({}, {"csrf_token": "not-the-token"}):
        answer = unit.post(f"/tickets/{t['id']}/act/accept", data=data)
        assert answer.status_code == 403 and "表单已过期或来源不明" in answer.text
        assert unit.post("/logout", data=data).status_code == 403
    other = pages("other-unit")
    stolen = csrf_of(other.get("/inbox").text)  # another session's token does not work either
    assert unit.post(f"/tickets/{t['id']}/act/accept", data={"csrf_token": stolen}).status_code == 403
    assert anonymous.post("/login", data={"username": "unit", "password": PASSWORD}).status_code == 403
    operator = pages("operator")
    check = operator.post("/pages/api/duplicates", json={"phone": "13800138000"})
    assert check.status_code == 403
    assert post(http, t["id"], "accept")["status"] == "accepted"  # nothing above changed the request


def test_workbench_records_a_request_with_suggestion_duplicates_and_chart(
    pages: PageLogin, http: httpx.Client, megacity: Megacity
) -> None:
    earlier = create(http, megacity)
    operator = pages("operator")
    page = operator.get("/workbench")
    assert "登记诉求" in page.text and "知识库" in page.text and "vendor/echarts/echarts.min.js" in page.text
    chart = json.loads(page.text.split('id="district-chart-data">')[1].split("</script>")[0])
    assert chart["districts"][0] == "东城区" and chart["today"][0] == 1 and chart["month"][0] == 1
    category, where = leaf(megacity, territorial=True), street(megacity)
    hint = operator.get("/pages/api/suggest", params={"category_code": category, "street_code": where}).json()
    assert hint["confident"] and hint["unit_code"] == where and hint["unit_name"] == "东华门街道"
    token = csrf_of(page.text)
    twins = operator.post(
        "/pages/api/duplicates",
        json={"phone": "138 0013 8000", "street_code": where, "title": "路灯不亮"},
        headers={"X-CSRF-Token": token},
    ).json()["items"]
    assert [d["id"] for d in twins] == [earlier["id"]] and twins[0]["why"] == "同一来电人"
    form = {
        "csrf_token": token,
        "idempotency_key": "page-test-1",
        "channel": "phone",
        "kind": "complaint",
        "title": "楼道灯坏了",
        "text": "三单元楼道灯不亮，老人上下楼不方便。",
        "phone": "13900139000",
        "name": "李四",
        "street_code": where,
        "category_code": category,
        "auto_dispatch": "on",
    }
    created = operator.post("/workbench", data=form)
    assert created.status_code == 303 and created.headers["location"].startswith("/tickets/")
    detail = operator.get(created.headers["location"])
    assert "诉求已登记" in flash_of(detail.text) and "已派至东华门街道" in flash_of(detail.text)
    assert "楼道灯坏了" in detail.text and "已派单" in detail.text and "13900139000" in detail.text
    again = operator.post("/workbench", data=form)  # a double submit is the same request
    assert again.headers["location"] == created.headers["location"]
    invalid = operator.post("/workbench", data={**form, "title": "", "idempotency_key": "page-test-2"})
    assert invalid.status_code == 422 and 'aria-invalid="true" aria-describedby="err-title"' in invalid.text
    assert (
        "楼道灯坏了" not in invalid.text.split('id="title"')[1].split(">")[0]
    )  # the empty title is kept empty
    assert "三单元楼道灯不亮" in invalid.text  # the rest of the form is kept


def test_unit_inbox_shows_only_its_unit_and_the_action_forms_work(
    pages: PageLogin, http: httpx.Client, megacity: Megacity, clock: Clock
) -> None:
    mine = dispatched(http, megacity)
    theirs = dispatched(http, megacity, street_code=OTHER_STREET)
    unit = pages("unit")
    inbox = unit.get("/inbox")
    assert mine["id"] in inbox.text and theirs["id"] not in inbox.text
    assert "剩余 7 个工作日 0 小时" in inbox.text  # a general request: 7 working days
    assert theirs["id"] not in unit.get("/tickets").text
    assert unit.get(f"/tickets/{theirs['id']}").status_code == 404
    assert act(unit, theirs["id"], "accept").status_code == 404  # outside its scope
    other = pages("other-unit")
    assert theirs["id"] in other.get("/inbox").text and mine["id"] not in other.get("/inbox").text
    post(http, mine["id"], "add-cohandler", unit_code=OTHER_STREET)
    assert "协办（主办：东华门街道）" in other.get("/inbox").text  # co-handled requests are listed too

    token = csrf_of(inbox.text)
    contact = unit.post(f"/tickets/{mine['id']}/act/contact", data={"csrf_token": token, "next": "/inbox"})
    assert contact.status_code == 303 and contact.headers["location"] == "/inbox"
    assert "已完成：联系诉求人" in flash_of(unit.get("/inbox").text)
    empty = unit.post(f"/tickets/{mine['id']}/act/reply", data={"csrf_token": token, "next": "/inbox"})
    assert "输入有误" in flash_of(unit.get(empty.headers["location"]).text)
    unit.post(f"/tickets/{mine['id']}/act/reply", data={"csrf_token": token, "reason": "路灯已修复"})
    illegal = act(unit, mine["id"], "contact")
    assert "当前状态不允许此操作" in flash_of(unit.get(illegal.headers["location"]).text)
    page = unit.get(f"/tickets/{mine['id']}").text
    assert "已反馈" in page and "路灯已修复" in page and mine["id"] not in unit.get("/inbox").text
    assert act(pages("analyst"), mine["id"], "callback").status_code == 403  # not the analyst's action
    clock.advance(days=30)
    late = dispatched(http, megacity)
    clock.advance(days=20)
    assert "已超时" in unit.get("/inbox").text and late["id"] in unit.get("/inbox").text


def test_analysts_see_requests_pseudonymised_and_operators_in_clear(
    pages: PageLogin, http: httpx.Client, megacity: Megacity
) -> None:
    t = create(http, megacity)
    analyst = pages("analyst")
    for page in (analyst.get(f"/tickets/{t['id']}").text, analyst.get("/tickets").text):
        assert t["id"] in page and "13800138000" not in page and "王小明" not in page
    detail = analyst.get(f"/tickets/{t['id']}").text
    assert (
        "联系电话138****8000" in detail
        and t["complainant_id"] in detail
        and "王**" in detail
        and "已脱敏" in detail
    )
    assert "您的角色目前对此诉求无可执行的操作" in detail
    clear = pages("operator").get(f"/tickets/{t['id']}").text
    assert "13800138000" in clear and "王小明" in clear and "查看个人信息" in clear  # the view is audited


def test_review_queues_follow_the_reviewers_district(
    pages: PageLogin, http: httpx.Client, megacity: Megacity
) -> None:
    here = dispatched(http, megacity)
    there = dispatched(http, megacity, street_code="110102001")  # 西城区
    unit = pages("unit")
    upload = unit.post(
        f"/tickets/{here['id']}/attachments",
        data={"csrf_token": csrf_of(unit.get(f"/tickets/{here['id']}").text), "purpose": "evidence"},
        files={"file": ("现场照片.jpg", b"\xff\xd8fake-jpeg", "image/jpeg")},
    )
    assert upload.status_code == 303
    page = unit.get(f"/tickets/{here['id']}").text
    assert "已上传：现场照片.jpg" in flash_of(page)
    evidence = re.search(r'name="evidence" value="([^"]+)"', page)
    assert evidence
    act(unit, here["id"], "request_exclusion", evidence=evidence.group(1), reason="诉求超出本单位职责")
    for t in (here, there):
        post(http, t["id"], "escalate", level="district", reason="多次投诉未解决")

    reviewer = pages("reviewer")
    queues = reviewer.get("/review").text
    assert here["id"] in queues and there["id"] not in queues
    assert 'data-queue="disputes"' not in queues and 'data-queue="city_exclusions"' not in queues
    assert there["id"] in pages("other-reviewer").get("/review").text
    approved = act(reviewer, here["id"], "district_approve_exclusion", next="/review")
    assert approved.headers["location"] == "/review"
    admin = pages("admin").get("/review").text
    city = admin.split('data-queue="city_exclusions"')[1].split("</section>")[0]
    assert here["id"] in city and "市级同意剔除" in city


def test_knowledge_base_search_settings_and_english(pages: PageLogin) -> None:
    operator = pages("operator")
    found = operator.get("/knowledge", params={"q": "暖气不热怎么办"}).text
    assert found.index("室温不达标") < found.index("供暖费怎样缴纳")
    assert (
        operator.get("/pages/api/knowledge", params={"q": "居住证"})
        .json()["items"][0]["id"]
        .startswith("residence-permit")
    )
    pages("unit")
    settings = pages("admin").get("/settings").text
    assert "2022.10" in settings and "assessment.weights" in settings and "东华门街道" in settings
    english = operator.get("/tickets?lang=en").text
    assert '<html lang="en">' in english and ">Tickets<" in english and "Log out" in english


def test_ticket_list_filters_and_pages_with_a_cursor(
    pages: PageLogin, http: httpx.Client, megacity: Megacity, clock: Clock
) -> None:
    ids = []
    for kind in ("complaint", "consult", "complaint", "complaint"):
        ids.append(create(http, megacity, kind=kind)["id"])
        clock.advance(minutes=5)
    complaints = [
        i
        for i, k in zip(ids, ("complaint", "consult", "complaint", "complaint"), strict=True)
        if k == "complaint"
    ]
    dispatcher = pages("dispatcher")
    seen, link = [], "/tickets?kind=complaint&received_from=2025-03-03&received_to=2025-03-03&limit=2"
    while link:
        page = dispatcher.get(link.replace("&amp;", "&")).text
        seen += re.findall(r'<tr data-id="([^"]+)"', page)
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        link = found.group(1) if found else ""
        assert not link or "kind=complaint" in link
    assert seen == list(reversed(complaints))  # newest first, each once, consults filtered out
    assert "没有符合条件的诉求" in dispatcher.get("/tickets?received_from=2025-03-04").text
    assert "日期格式应为" in dispatcher.get("/tickets?received_from=yesterday").text


def test_inbox_reminds_of_overdue_requests_and_those_due_within_a_working_day(
    pages: PageLogin, http: httpx.Client, megacity: Megacity, clock: Clock
) -> None:
    first = dispatched(http, megacity)
    unit = pages("unit")
    assert 'id="reminders"' not in unit.get("/inbox").text  # 7 working days left: nothing yet
    deadline = datetime.fromisoformat(first["deadline_at"])
    clock.now = deadline - timedelta(hours=12)  # a weekday: 12 working hours left
    second = dispatched(http, megacity)  # a fresh one: 7 working days left
    page = unit.get("/inbox").text
    soon = page.split('data-reminder="due-soon"')[1].split("</p>")[0]
    assert "1 件将在一个工作日内到期" in soon and f"#ticket-{first['id']}" in soon
    assert f"#ticket-{second['id']}" not in soon and 'data-reminder="overdue"' not in page
    card = page.split(f'id="ticket-{first["id"]}"')[0].rsplit("<article", 1)[1]
    assert "is-due-soon" in card

    clock.now = deadline + timedelta(hours=1)  # past the deadline, before the overdue sweep ran
    page = unit.get("/inbox").text
    late = page.split('data-reminder="overdue"')[1].split("</p>")[0]
    assert "1 件已超期" in late and f"#ticket-{first['id']}" in late and f"#ticket-{second['id']}" not in late
    post(http, first["id"], "contact")
    post(http, first["id"], "reply", reason="已处理")
    assert 'id="reminders"' not in unit.get("/inbox").text  # replied: no longer the unit's to meet
