"""Smart dispatch end to end: model decisions logged, the human queue, disputes that teach the model.

Real databases (SQLite and PostgreSQL), a real HTTP server, a model trained here from demo
requests generated offline from the shipped samples.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from megacity.bootstrap import Megacity
from megacity.nlp.cli import app as classify_app
from megacity.profiles import load_profile
from megacity.services.dispatch import model_path
from megacity.store.followup_tables import dispatch_decisions, training_labels
from tests.conftest import PASSWORD
from tests.integration.test_pages_roles import HTML, PageLogin, csrf_of, flash_of
from tests.unit.test_routing import demo_examples

Login = Callable[[str], httpx.Client]
NOISE = {
    "title": "夜间施工噪音扰民",
    "text": "工地每天夜里施工到凌晨两点，噪音太大，严重影响休息，希望尽快处理",
}
#: Requests about e-bikes charged from dangling cables (飞线充电): the demo model reads them as
#: 小区管理 (territorial); the right category is 消防安全 (130809 → 市应急管理局 D019).
CHARGING = [
    ("楼道电动车充电", "楼道里有人给电动自行车飞线充电，插线板就放在楼梯口，很危险"),
    ("电动自行车私拉电线充电", "小区居民私拉电线给电动自行车充电，电线从三楼窗户垂下来，存在火灾隐患"),
    ("飞线充电隐患", "单元门口天天有人飞线给电瓶车充电，消防通道也被电动车堵住了"),
]
PROBE = ("电动车飞线充电", "我家楼下有邻居从窗户拉电线给电动自行车飞线充电，晚上一直充着，担心起火")


@pytest.fixture(scope="module")
def base_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("base") / "base.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["title", "text", "category_code"])
        writer.writeheader()
        writer.writerows(demo_examples(load_profile()))
    return path


@pytest.fixture(scope="module")
def trained(base_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model") / "dispatch"
    args = ["train", "--data", str(base_csv), "--text-column", "text", "--title-column", "title"]
    result = CliRunner().invoke(
        classify_app, [*args, "--label-column", "category_code", "--model", str(folder)]
    )
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def with_model(megacity: Megacity, trained: Path) -> Path:
    """The app's model folder holds the trained model (the dispatcher reads it on first use)."""
    folder = model_path(megacity.settings)
    shutil.copytree(trained, folder)
    return folder


@pytest.fixture
def browsers(server: str, login: Login) -> Iterator[PageLogin]:
    """Browser-like clients logged in through the login form, as in the page tests."""
    with ExitStack() as stack:

        def browser(name: str) -> httpx.Client:
            login(name)  # creates the account
            client = stack.enter_context(httpx.Client(base_url=server, timeout=30, headers=HTML))
            token = csrf_of(client.get("/login").text)
            answer = client.post("/login", data={"csrf_token": token, "username": name, "password": PASSWORD})
            assert answer.status_code == 303, answer.text
            return client

        yield browser


def decisions(app: Megacity, ticket_id: str) -> list[dict[str, Any]]:
    with app.uow(write=False) as uow:
        query = select(dispatch_decisions).where(dispatch_decisions.c.ticket_id == ticket_id)
        return [dict(r._mapping) for r in uow.connection.execute(query.order_by(dispatch_decisions.c.id))]


def labels(app: Megacity) -> list[dict[str, Any]]:
    with app.uow(write=False) as uow:
        query = select(training_labels).order_by(training_labels.c.id)
        return [dict(r._mapping) for r in uow.connection.execute(query)]


def create(client: httpx.Client, title: str, text: str, **extra: Any) -> dict[str, Any]:
    body = {"channel": "phone", "kind": "complaint", "title": title, "text": text, **extra}
    answer = client.post("/api/requests", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_intake_dispatches_when_sure_and_queues_when_not(
    megacity: Megacity, with_model: Path, login: Login
) -> None:
    operator, dispatcher = login("operator"), login("dispatcher")
    sure = create(operator, **NOISE, address="朝阳区望京街道宝星园", auto_dispatch=True)
    assert (sure["status"], sure["unit_code"], sure["category_code"]) == ("dispatched", "110105026", "040203")
    [auto] = decisions(megacity, sure["id"])
    assert auto["mode"] == "auto" and auto["model_version"] == megacity.dispatcher.model_version  # type: ignore[attr-defined]
    assert auto["model_version"] != "rules" and auto["confidence"] >= 0.6

    unsure = create(operator, **NOISE, address="八里庄北里 电话13812345678", auto_dispatch=True)
    assert unsure["status"] == "received"
    [queued] = decisions(megacity, unsure["id"])
    assert queued["mode"] == "queued" and "ambiguous" in queued["reason"] and "below" in queued["reason"]

    answer = dispatcher.get("/api/dispatch/queue")
    assert answer.status_code == 200, answer.text
    [item] = [i for i in answer.json() if i["ticket_id"] == unsure["id"]]
    assert 1 <= len(item["suggestions"]) <= 3 and item["queued_reason"] == queued["reason"]
    assert item["suggestions"][0]["unit_name"] and item["reason"]

    # the dispatcher knows it is 海淀's 八里庄 and decides; a correction of the model's first choice
    decided = dispatcher.post(
        f"/api/dispatch/queue/{unsure['id']}", json={"unit_code": "110108005", "category_code": "040203"}
    )
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["unit_code"]) == ("dispatched", "110108005")
    assert [d["mode"] for d in decisions(megacity, unsure["id"])] == ["queued", "human"]
    [label] = labels(megacity)
    assert (label["source"], label["unit_code"], label["category_code"]) == ("human", "110108005", "040203")
    assert "13812345678" not in label["text"]
    assert dispatcher.get("/api/dispatch/queue").json() == []

    again = dispatcher.post(f"/api/dispatch/queue/{unsure['id']}", json={"unit_code": "110108005"})
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    bad = dispatcher.post(f"/api/dispatch/queue/{sure['id']}", json={"unit_code": "x y"})
    assert bad.status_code == 422
    assert login("unit").get("/api/dispatch/queue").status_code == 403
    assert login("analyst").get("/api/dispatch/queue").status_code == 403


def test_disputes_teach_the_model(megacity: Megacity, with_model: Path, base_csv: Path, login: Login) -> None:
    operator, dispatcher, unit = login("operator"), login("dispatcher"), login("unit")

    def probe() -> Any:
        from megacity.routing.queue import waiting

        return [i for i in waiting(megacity) if i.ticket.id == probe_id][0]

    probe_id = create(operator, PROBE[0], PROBE[1], street_code="110101001")["id"]
    before = probe()
    assert before.options[0].category_code == "010212" and before.options[0].unit_code == "110101001"

    for title, text in CHARGING:  # the model sends them to the street; the street disputes
        ticket = create(operator, title, text, street_code="110101001", auto_dispatch=True)
        assert (ticket["status"], ticket["unit_code"], ticket["category_code"]) == (
            "dispatched",
            "110101001",
            "010212",
        )
        disputed = unit.post(f"/api/requests/{ticket['id']}/dispute", json={"reason": "飞线充电属消防安全"})
        assert disputed.status_code == 200, disputed.text
        body = {"unit_code": "D019", "category_code": "130809", "reason": "改派应急管理局"}
        assert dispatcher.post(f"/api/requests/{ticket['id']}/redispatch", json=body).status_code == 200
        assert [d["mode"] for d in decisions(megacity, ticket["id"])] == ["auto", "redispatch"]

    stored = labels(megacity)
    assert [(s["source"], s["category_code"], s["unit_code"]) for s in stored] == [
        ("dispute", "130809", "D019")
    ] * 3
    assert {(s["previous_category_code"], s["previous_unit_code"]) for s in stored} == {
        ("010212", "110101001")
    }

    folder = model_path(megacity.settings)
    args = ["retrain", "--database", megacity.settings.database_url, "--model", str(folder)]
    result = CliRunner().invoke(classify_app, [*args, "--base-data", str(base_csv)])
    assert result.exit_code == 0, result.output
    assert "3 correction(s)" in result.output

    after = probe()
    assert after.options[0].category_code == "130809" and after.options[0].unit_code == "D019"
    assert after.model_version != before.model_version
    assert {s["used_by_model"] for s in labels(megacity)} == {after.model_version}

    stats = login("analyst").get("/api/dispatch/disputes")
    assert stats.status_code == 200, stats.text
    top_unit, top_category = stats.json()["by_unit"][0], stats.json()["by_category"][0]
    assert (top_unit["code"], top_unit["disputed"], top_unit["redispatched"]) == ("110101001", 3, 3)
    assert (top_category["code"], top_category["disputed"], top_category["rate"]) == ("010212", 3, 1.0)
    assert login("unit").get("/api/dispatch/disputes").status_code == 403

    printed = CliRunner().invoke(classify_app, ["disputes", "--database", megacity.settings.database_url])
    assert printed.exit_code == 0, printed.output
    assert "dispatches 6  disputes 3" in printed.output and "110101001" in printed.output


def test_retrain_errors_are_one_line(megacity: Megacity, base_csv: Path, tmp_path: Path) -> None:
    url = megacity.settings.database_url
    empty = CliRunner().invoke(classify_app, ["retrain", "--database", url, "--model", str(tmp_path / "m")])
    assert empty.exit_code == 2 and empty.output.splitlines()[-1].startswith("error: cannot train")
    wrong = CliRunner().invoke(
        classify_app,
        ["retrain", "--database", url, "--model", str(tmp_path / "m"), "--base-data", str(base_csv)]
        + ["--label-column", "nope"],
    )
    assert wrong.exit_code == 2 and "error:" in wrong.output and "nope" in wrong.output


def test_review_page_shows_the_queue_and_a_click_dispatches(
    megacity: Megacity, with_model: Path, login: Login, browsers: PageLogin
) -> None:
    waiting = create(login("operator"), **NOISE, address="八里庄北里", auto_dispatch=True)
    browser = browsers("dispatcher")
    page = browser.get("/review")
    assert page.status_code == 200 and 'data-queue="dispatch"' in page.text
    assert "待人工派单" in page.text and "八里庄" in page.text and 'data-unit="110108005"' in page.text
    token = csrf_of(page.text)
    answer = browser.post(
        f"/review/dispatch/{waiting['id']}",
        data={"csrf_token": token, "unit_code": "110108005", "category_code": "040203"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/review#q-dispatch"
    after = browser.get("/review").text
    assert "已完成" in flash_of(after) and waiting["id"] in flash_of(after)
    assert f'data-id="{waiting["id"]}"' not in after  # no longer waiting
    assert [d["mode"] for d in decisions(megacity, waiting["id"])] == ["queued", "human"]
    refused = browser.post(f"/review/dispatch/{waiting['id']}", data={"unit_code": "110108005"})
    assert refused.status_code == 403  # no CSRF token
    assert browsers("unit").get("/review").status_code == 403
