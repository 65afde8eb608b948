"""分析 through a real server: repeat chains of a month, masking and district scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from megacity.bootstrap import Megacity
from megacity.demo import generate
from megacity.domain.access import Actor
from megacity.domain.enums import Role
from megacity.services.demo_load import load_demo
from megacity.store.audit import data_version
from megacity.web.pages import section_cache
from megacity.web.pages.analysis import SECTIONS, Section, build_section
from tests.conftest import Clock
from tests.integration.page_clients import page_clients
from tests.integration.test_api_lifecycle import create, leaf
from tests.integration.test_pages_roles import PageLogin

TITLE = "路灯不亮 请回电13800138000"
TEXT = "东华门街道某小区门口路灯坏了一个多月，晚上出行不便，请尽快修复。"
ANALYST = Actor(name="analyst", role=Role.ANALYST)


@pytest.fixture
def pages(server: str, login: Callable[[str], httpx.Client]) -> Iterator[PageLogin]:
    with page_clients(server, login) as make:
        yield make


def test_repeat_chain_is_listed_masked_and_scoped(
    pages: PageLogin, login: Any, megacity: Megacity, clock: Clock
) -> None:
    operator = login("operator")
    first = create(operator, megacity, title=TITLE, text=TEXT)
    for _ in range(2):
        clock.advance(days=3)
        create(operator, megacity, title=TITLE, text=TEXT)
    create(  # another caller, another street, another matter
        operator,
        megacity,
        title="噪音扰民",
        text="楼下餐馆深夜营业，油烟和噪音很大。",
        phone="13900139000",
        street_code="110102001",
        category_code=leaf(megacity, territorial=True),
    )
    analyst = pages("analyst").get("/analysis", params={"month": "2025-03"})
    assert analyst.status_code == 200, analyst.text
    html = analyst.text
    assert 'data-section="repeats"' in html and 'href="#repeats"' in html
    assert '<dd data-count="requests">4</dd>' in html
    assert '<dd data-count="repeats">2</dd>' in html and '<dd data-count="chains">1</dd>' in html
    assert '<dd data-count="unresolved">1</dd>' in html  # not called back yet
    chains = html.split('id="repeat-chains"')[1].split("</table>")[0]
    assert f'data-master="{first["id"]}"' in chains and '<td class="num">3</td>' in chains
    assert "138****8000" in chains and "13800138000" not in html  # analysts see no phone numbers

    assert "13800138000" in pages("dispatcher").get("/analysis", params={"month": "2025-03"}).text
    own = pages("reviewer").get("/analysis", params={"month": "2025-03"}).text  # 东城区
    assert f'data-master="{first["id"]}"' in own
    other = pages("other-reviewer").get("/analysis", params={"month": "2025-03"}).text  # 西城区
    assert '<dd data-count="chains">0</dd>' in other and '<dd data-count="requests">1</dd>' in other
    assert '<dd data-count="chains">0</dd>' in pages("analyst").get("/analysis?month=2025-01").text


def test_only_analytics_roles(pages: PageLogin) -> None:
    for name, code in (("unit", 403), ("operator", 403), ("auditor", 403), ("admin", 200)):
        assert pages(name).get("/analysis").status_code == code, name
    assert pages("analyst").get("/analysis", params={"month": "march"}).status_code == 422


# --- 重点诉求人, 每月一题, 异常工单, 未诉先办 ---------------------------------------------------

FREQUENT_PHONE = "13700137000"
TOPIC_TITLE = "阳光花园小区车位捆绑销售 联系13600136000"
TOPIC_TEXT = "阳光花园小区开发商要求买房必须捆绑购买车位，车位价格过高，请相关部门核查。"


def section(html: str, key: str) -> str:
    """The HTML of one section of the page."""
    return html.split(f'data-section="{key}"')[1].split("</section>")[0]


def seed(login: Any, megacity: Megacity, clock: Clock) -> None:
    """Demo months October–December 2025, plus in March 2025 a frequent caller (six requests
    in 30 days) and four callers telling the same matter (a topic of the month)."""
    load_demo(app=megacity, cases=generate(megacity.profile, count=400, months=3, seed=7))
    operator = login("operator")
    for day in range(6):
        create(
            operator,
            megacity,
            title=f"楼道灯坏了第{day}次",
            text="楼道灯一直不亮，请修理。",
            phone=FREQUENT_PHONE,
        )
        clock.advance(days=1)
    for n in range(4):
        create(operator, megacity, title=TOPIC_TITLE, text=TOPIC_TEXT, phone=f"1590015900{n}")


def test_new_sections_match_the_analytics_apis(
    pages: PageLogin, login: Any, megacity: Megacity, clock: Clock
) -> None:
    seed(login, megacity, clock)
    analyst_api = login("analyst")
    profiles = analyst_api.get("/api/complainants/profiles", params={"limit": 1000}).json()
    frequent = next(p for p in profiles if "frequent" in p["labels"].split("|"))
    designated = login("dispatcher").post(
        "/api/complainants", json={"complainant_id": frequent["complainant_id"], "labels": ["frequent"]}
    )
    assert designated.status_code == 201, designated.text
    proposals = analyst_api.get("/api/topics/proposals", params={"month": "2025-03"}).json()["items"]
    hottest = proposals[0]
    adopted = analyst_api.post(
        "/api/topics", json={"month": "2025-03", "title": hottest["phrase"], "terms": hottest["terms"]}
    )
    assert adopted.status_code == 201, adopted.text

    html = pages("analyst").get("/analysis", params={"month": "2025-03"}).text
    for key in ("repeats", "complainants", "topics", "abnormal", "forecast"):
        assert f'data-section="{key}"' in html and f'href="#{key}"' in html, key
    assert "data-failed" not in html
    assert [
        html.index(f'data-section="{k}"') for k in ("complainants", "topics", "abnormal", "forecast")
    ] == sorted(html.index(f'data-section="{k}"') for k in ("complainants", "topics", "abnormal", "forecast"))

    people = section(html, "complainants")  # the profiles of /api/complainants, by pseudonym
    assert f'<dd data-count="people">{len(profiles)}</dd>' in people
    for code in ("frequent", "repeat", "unsatisfied"):
        count = sum(1 for p in profiles if code in p["labels"].split("|"))
        assert f'<dd data-label="{code}">{count}</dd>' in people, code
    top = people.split('id="complainant-profiles"')[1].split("</table>")[0]
    assert top.split('data-pseudonym="')[1].startswith(frequent["complainant_id"])  # most requests first
    assert (
        f'data-entry="{frequent["complainant_id"]}"' in people
        and '<span class="count" data-count="entries">1</span>' in people
    )
    assert "高频" in people

    topics = section(html, "topics")  # the proposals of /api/topics/proposals, masked
    first = topics.split('data-topic-rank="1"')[1].split("</tr>")[0]
    assert f'href="/tickets/{hottest["representative_id"]}"' in first
    assert f"{hottest['heat']:.2f}" in first and "136****6000" in first
    volume = analyst_api.get(f"/api/topics/{adopted.json()['id']}/volume", params={"until": "2025-03"}).json()
    assert volume["series"] == [{"month": "2025-03", "volume": 4}]
    assert '<span data-month="2025-03">2025-03: 4</span>' in topics
    assert 'data-chart="line"' in topics and 'id="topics-volume-data"' in topics

    by_month = {}  # each order falls in one month: the months add up to /api/analysis/abnormal
    for month in ("2025-03", "2025-10", "2025-11", "2025-12"):
        page = html if month == "2025-03" else pages("analyst").get("/analysis", params={"month": month}).text
        rows = section(page, "abnormal").split('id="abnormal-shares"')[1]
        by_month[month] = {
            kind: int(rows.split(f'data-kind="{kind}"><td>')[1].split('<td class="num">')[1].split("<")[0])
            for kind in ("disputed", "excluded", "reopened", "overdue", "escalated", "abnormal")
        }
        if month == "2025-12":
            december = page
    expected = analyst_api.get("/api/analysis/abnormal").json()["counts"]
    assert {k: sum(m[k] for m in by_month.values()) for k in by_month["2025-03"]} == expected
    assert expected["abnormal"] > 0
    shares = section(december, "abnormal")  # the month's orders are those the repeats section counts
    orders = section(december, "repeats").split('<dd data-count="requests">')[1].split("<")[0]
    assert f'<td class="num" data-count="orders">{orders}</td>' in shares
    abnormal = by_month["2025-12"]["abnormal"]
    share = 100 * abnormal / int(orders)
    assert f'data-kind="abnormal"><td>异常（任一类型）</td><td class="num">{abnormal}</td>' in shares
    assert f'<td class="num">{share:.1f}%</td>' in shares.split('data-kind="abnormal"')[1]
    assert 'id="abnormal-suggestions"' in shares

    forecast = section(december, "forecast")  # the total series of /api/analysis/forecast
    answer = analyst_api.get(
        "/api/analysis/forecast", params={"by": "total", "monitor": 4, "horizon": 8, "min_total": 0}
    ).json()
    weeks = answer["series"][0]["weeks"]
    assert len(weeks) == 12
    for week in weeks:
        row = forecast.split(f'data-week="{week["week"]}"')[1].split("</tr>")[0]
        shown = "—" if week["actual"] is None else str(round(week["actual"]))
        assert f'<td class="num">{shown}</td><td class="num">{round(week["forecast"], 1)}</td>' in row, week
    alerts = analyst_api.get(
        "/api/analysis/forecast", params={"by": "category", "monitor": 4, "horizon": 1, "min_total": 52}
    ).json()
    above = {s["key"]["category"] for s in alerts["series"] if any(w["alert"] == "above" for w in s["weeks"])}
    assert {a.split('"')[0] for a in forecast.split('data-alert="')[1:]} == above
    assert 'id="forecast-total-data"' in forecast

    for page in (html, december):
        assert FREQUENT_PHONE not in page and "13600136000" not in page and "13800138000" not in page


def test_complainants_only_for_roles_that_may_read_them(
    pages: PageLogin, login: Any, megacity: Megacity, clock: Clock
) -> None:
    seed(login, megacity, clock)
    for name in ("dispatcher", "admin", "reviewer"):
        html = pages(name).get("/analysis", params={"month": "2025-03"}).text
        assert 'data-section="complainants"' in html, name
    west = section(pages("other-reviewer").get("/analysis", params={"month": "2025-03"}).text, "complainants")
    east = section(pages("reviewer").get("/analysis", params={"month": "2025-03"}).text, "complainants")
    frequent = east.split('data-pseudonym="')[1].split('"')[0]  # 东城区: the March callers
    assert frequent not in west  # 西城区 reviewer: none of them
    unit = pages("unit").get("/analysis", params={"month": "2025-03"})
    assert unit.status_code == 403 and "complainant-profiles" not in unit.text
    handler = Actor(name="unit", role=Role.UNIT_HANDLER, unit_code="110101001")
    assert [s.key for s in SECTIONS if s.visible_to(handler)] == ["repeats", "topics", "abnormal", "forecast"]
    assert [s.key for s in SECTIONS if s.visible_to(Actor(name="a", role=Role.ANALYST))][1] == "complainants"


def test_a_failing_section_is_logged_and_shown_alone(
    megacity: Megacity, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(app: Megacity, actor: Actor, month: str) -> dict[str, Any]:
        raise ValueError("complainants.yaml: frequent_requests must be a non-negative number")

    shown = build_section(
        Section("broken", "Broken", "analysis/repeats.html", broken), megacity, ANALYST, "2025-03"
    )
    assert shown["data"] is None and shown["key"] == "broken"
    assert "analysis section broken failed" in caplog.text and "frequent_requests" in caplog.text
    fine = build_section(SECTIONS[0], megacity, ANALYST, "2025-03")
    assert fine["data"] is not None and fine["data"]["requests"] == 0


def version_of(megacity: Megacity) -> str:
    with megacity.engine.connect() as conn:
        return data_version(conn)


def test_sections_are_cached_until_a_ticket_changes(
    pages: PageLogin, login: Any, megacity: Megacity, clock: Clock
) -> None:
    operator = login("operator")
    create(operator, megacity, title=TOPIC_TITLE, text=TOPIC_TEXT)
    version = version_of(megacity)
    first = section_cache.cached(megacity, "topics", "2025-03", lambda: ["computed"])
    again = section_cache.cached(megacity, "topics", "2025-03", lambda: ["not computed"])
    assert first is again and version_of(megacity) == version
    create(operator, megacity, title=TOPIC_TITLE, text=TOPIC_TEXT)  # the audit head moves on
    assert section_cache.cached(megacity, "topics", "2025-03", lambda: ["fresh"]) == ["fresh"]
    html = pages("analyst").get("/analysis", params={"month": "2025-03"}).text
    assert '<dd data-count="requests">2</dd>' in section(html, "repeats")
