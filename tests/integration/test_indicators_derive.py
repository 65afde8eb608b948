"""Derived indicators on a real database (SQLite and PostgreSQL), tickets made through the
services: `megacity indicators derive`, the analysis CLI and /api/indicators on a real server.

March 2025 (Asia/Shanghai), general urgency (response limit 24 h after dispatch):

| ticket | street | contact | callback | counted |
|---|---|---|---|---|
| T1 | 110101001 东华门 | 1 h | resolved, satisfied | yes |
| T2 | 110101001 | 1 h | unresolved, dissatisfied | yes |
| T3 | 110101001 | 30 h (late) | resolved, dissatisfied | yes |
| T4 | 110101002 景山 | 1 h | not reached | yes |
| T5 | 110102001 西长安街 | 1 h | not reached | yes |
| T6 | 110102001 | none | — | yes (not contacted) |
| T7 | 110101001 | — | consult answered, never dispatched | no |
| T8 | 110105 朝阳 (no street) | 1 h | resolved, basically satisfied | yes |
| T9 | 110101001, April | 1 h | resolved, satisfied | April only |
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from megacity.assessment import service as assessment
from megacity.bootstrap import Megacity
from megacity.cli import app as cli_app
from megacity.domain.enums import Channel, Kind
from megacity.domain.lifecycle import Action
from megacity.indicators import service
from megacity.indicators.derived import parse_period
from megacity.services import handling, intake
from tests.conftest import Clock

RATES = ("hotline_resolution_rate", "response_rate", "satisfaction_rate")


def _submit(
    app: Megacity, street: str | None, district: str | None = None, kind: Kind = Kind.COMPLAINT
) -> str:
    request = intake.NewRequest(
        channel=Channel.PHONE,
        kind=kind,
        title="路灯不亮",
        text="路灯坏了",
        street_code=street,
        district_code=district,
    )
    ticket, _ = intake.submit(app=app, request=request, actor="op", role="operator")
    return ticket.id


def _act(app: Megacity, ticket: str, action: Action, reason: str = "", **params: Any) -> None:
    handling.perform(
        app=app, ticket_id=ticket, action=action, actor="t", role="admin", reason=reason, params=params
    )


def _dispatch(app: Megacity, ticket: str, street: str | None, district: str) -> None:
    _act(app, ticket, Action.DISPATCH, unit_code=street or "D001")


def _callback(app: Megacity, ticket: str, resolved: bool | None, satisfaction: str | None = None) -> None:
    _act(app, ticket, Action.REPLY, reason="已处理")
    if resolved is None:
        _act(app, ticket, Action.CALLBACK, outcome="not_reached")
    else:
        _act(app, ticket, Action.CALLBACK, resolved=resolved, satisfaction=satisfaction)


def make_tickets(app: Megacity, clock: Clock) -> None:
    clock.now = datetime(2025, 3, 3, 1, tzinfo=UTC)
    places = {
        "T1": ("110101001", "110101"),
        "T2": ("110101001", "110101"),
        "T3": ("110101001", "110101"),
        "T4": ("110101002", "110101"),
        "T5": ("110102001", "110102"),
        "T6": ("110102001", "110102"),
        "T8": (None, "110105"),
    }
    ids = {name: _submit(app, street, district) for name, (street, district) in places.items()}
    consult = _submit(app, "110101001", kind=Kind.CONSULT)
    _act(app, consult, Action.ANSWER, reason="已解答")
    clock.advance(hours=1)
    for name, (street, district) in places.items():
        _dispatch(app, ids[name], street, district)
    clock.advance(hours=1)
    for name in ("T1", "T2", "T4", "T5", "T8"):
        _act(app, ids[name], Action.CONTACT)
    clock.advance(hours=29)
    _act(app, ids["T3"], Action.CONTACT)
    clock.advance(days=2)
    _callback(app, ids["T1"], True, "satisfied")
    _callback(app, ids["T2"], False, "dissatisfied")
    _callback(app, ids["T3"], True, "dissatisfied")
    _callback(app, ids["T4"], None)
    _callback(app, ids["T5"], None)
    _callback(app, ids["T8"], True, "basically_satisfied")
    clock.now = datetime(2025, 4, 8, 2, tzinfo=UTC)
    april = _submit(app, "110101001")
    clock.advance(hours=1)
    _dispatch(app, april, "110101001", "110101")
    clock.advance(hours=1)
    _act(app, april, Action.CONTACT)
    clock.advance(days=1)
    _callback(app, april, True, "satisfied")


def values(table: Any, indicator: str) -> dict[str, float | None]:
    part = table[table["indicator"] == indicator]
    return {
        str(code): (None if v != v else round(float(v), 9))
        for code, v in zip(part["ou_code"], part["value"], strict=True)
    }


def derive(app: Megacity, period: str, level: str) -> Any:
    folder = service.profile_dir(app.settings.profile)
    return service.derived(
        app.settings.database_url, app.profile, folder, [parse_period(period)], level=level
    )


def test_hand_computed_values_at_every_level(megacity: Megacity, clock: Clock) -> None:
    make_tickets(megacity, clock)
    district = derive(megacity, "2025-03", "district")
    resolution = values(district, "hotline_resolution_rate")
    # 东城: rated T1 T2 T3, resolved T1 T3; 西城: nobody reached; 朝阳: T8 resolved
    assert resolution["110101"] == round(100 * 2 / 3, 9)
    assert resolution["110102"] is None and resolution["110105"] == 100.0
    assert resolution["110108"] is None  # 海淀: no tickets, no value (DHIS2: denominator 0)
    response = values(district, "response_rate")
    assert response["110101"] == 75.0 and response["110102"] == 50.0 and response["110105"] == 100.0
    satisfaction = values(district, "satisfaction_rate")
    assert satisfaction["110101"] == round(100 / 3, 9) and satisfaction["110105"] == 100.0
    per_10k = values(district, "requests_per_10k")
    assert per_10k["110101"] == round(4 / 708829 * 10000, 9)  # 2020 census, districts.csv
    assert per_10k["110102"] == round(2 / 1106214 * 10000, 9)
    row = district[
        (district["ou_code"] == "110101") & (district["indicator"] == "hotline_resolution_rate")
    ].iloc[0]
    assert (row["numerator"], row["denominator"], bool(row["demo_data"])) == (2.0, 3.0, False)
    assert row["status"].startswith("placeholder formula [D]")

    city = derive(megacity, "2025-03", "city")
    # city: 7 counted (T7 is a consult), rated T1 T2 T3 T8, resolved T1 T3 T8; on time 5 of 7
    assert values(city, "hotline_resolution_rate") == {"110000": 75.0}
    assert values(city, "response_rate") == {"110000": round(100 * 5 / 7, 9)}
    assert values(city, "satisfaction_rate") == {"110000": 50.0}
    assert values(city, "requests_per_10k") == {"110000": round(7 / 21893095 * 10000, 9)}

    zones = derive(megacity, "2025-03", "zone:assessment")
    core = values(zones, "response_rate")["核心区和城市副中心"]  # 东城 + 西城 + 通州: 4 on time of 6
    assert core == round(100 * 4 / 6, 9)
    assert values(zones, "requests_per_10k")["核心区和城市副中心"] == round(
        6 / (708829 + 1106214 + 1840295) * 10000, 9
    )

    streets = derive(megacity, "2025-03", "street")
    assert values(streets, "hotline_resolution_rate")["110101001"] == round(100 * 2 / 3, 9)
    assert values(streets, "response_rate")["110101002"] == 100.0
    jingshan = streets[
        (streets["ou_code"] == "110101002") & (streets["indicator"] == "requests_per_10k")
    ].iloc[0]
    assert bool(jingshan["population_estimated"]) is True  # street populations are estimates

    april = derive(megacity, "2025-04", "district")
    assert values(april, "hotline_resolution_rate")["110101"] == 100.0
    quarter = derive(megacity, "2025Q1", "district")
    assert values(quarter, "response_rate") == values(district, "response_rate")


def test_the_plan_rate_equals_the_assessment(megacity: Megacity, clock: Clock) -> None:
    make_tickets(megacity, clock)
    district = values(derive(megacity, "2025-03", "district"), "hotline_resolution_rate")
    ranking = assessment.ranking(megacity, assessment.options_for(megacity, [2025 * 12 + 2]))
    for code in ("110101", "110105"):
        row = ranking.find("2025-03", code)
        assert row is not None and row["resolution_rate"] is not None
        assert district[code] == pytest.approx(100 * row["resolution_rate"], abs=1e-9)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_cli_derive_and_analyse(megacity: Megacity, clock: Clock, tmp_path: Path) -> None:
    make_tickets(megacity, clock)
    runner, url = CliRunner(), megacity.settings.database_url
    out = tmp_path / "d.csv"
    done = runner.invoke(
        cli_app,
        [
            "indicators",
            "derive",
            "--period",
            "2025-03",
            "--level",
            "district",
            "--out",
            str(out),
            "--database",
            url,
        ],
    )
    assert done.exit_code == 0, done.output
    rows = {(r["ou_code"], r["indicator"]): r for r in read_csv(out)}
    assert len(rows) == 16 * 6
    assert rows[("110101", "hotline_resolution_rate")]["numerator"] == "2"
    assert float(rows[("110101", "hotline_resolution_rate")]["value"]) == pytest.approx(200 / 3)
    assert rows[("110102", "hotline_resolution_rate")]["value"] == ""

    wide = tmp_path / "w.csv"
    args = [
        "indicators",
        "derive",
        "--months",
        "2025-03:2025-04",
        "--format",
        "wide",
        "--out",
        str(wide),
        "--database",
        url,
    ]
    assert runner.invoke(cli_app, args).exit_code == 0
    table = read_csv(wide)
    assert {"uCode", "uName", "Time", *RATES} <= set(table[0]) and len(table) == 32

    args = [
        "indicators",
        "analyse",
        "weak-areas",
        "--data",
        str(wide),
        "--indicator",
        "hotline_resolution_rate",
    ]
    weak = runner.invoke(cli_app, [*args, "--threshold", "101", "--consecutive", "2"])
    assert weak.exit_code == 0, weak.output
    assert weak.output.splitlines()[-2:] == [
        "hotline_resolution_rate 2025-03,2025-04: 1 weak unit(s)",
        "110101",
    ]
    trend = runner.invoke(
        cli_app,
        [
            "indicators",
            "analyse",
            "trend",
            "--data",
            str(wide),
            "--unit",
            "110101",
            "--indicator",
            "hotline_resolution_rate",
        ],
    )
    assert trend.exit_code == 0, trend.output
    assert "2025-03\t66.66666666666667" in trend.output and "2025-04\t100" in trend.output
    # slope: (100 − 66.67) per 1/12 year
    slope = float(
        next(line for line in trend.output.splitlines() if line.startswith("slope_per_year")).split("\t")[1]
    )
    assert slope == pytest.approx((100 - 200 / 3) * 12, rel=1e-9)

    bad = runner.invoke(
        cli_app, ["indicators", "derive", "--period", "2025-13", "--out", str(out), "--database", url]
    )
    assert bad.exit_code == 2 and bad.output.strip().startswith("error: a period is")
    bad = runner.invoke(
        cli_app,
        [
            "indicators",
            "derive",
            "--period",
            "2025-03",
            "--level",
            "town",
            "--out",
            str(out),
            "--database",
            url,
        ],
    )
    assert (
        bad.exit_code == 2 and "valid: city, zone:zones_2012, zone:assessment, district, street" in bad.output
    )


Login = Callable[[str], httpx.Client]


def test_api(megacity: Megacity, clock: Clock, login: Login, anonymous: httpx.Client) -> None:
    make_tickets(megacity, clock)
    analyst = login("analyst")

    def get(path: str, expect: int = 200, **params: Any) -> Any:
        answer = analyst.get(f"/api/indicators/{path}", params=params)
        assert answer.status_code == expect, answer.text
        if expect >= 400:
            assert answer.headers["content-type"].startswith("application/problem+json")
        return answer.json()

    definitions = {d["code"]: d for d in get("derived/definitions")}
    assert definitions["hotline_resolution_rate"]["name"] == "市民服务热线诉求解决率"
    assert all(d["status"].split()[0] in {"sourced", "placeholder"} for d in definitions.values())
    rows = get("derived", period="2025-03", level="district", indicator="hotline_resolution_rate")
    by_code = {r["ou_code"]: r for r in rows}
    assert by_code["110101"]["value"] == pytest.approx(200 / 3) and by_code["110102"]["value"] is None
    assert by_code["110101"]["demo_data"] is False

    zones = get(
        "zones",
        scheme="assessment",
        period="2025-03",
        indicator="response_rate",
        standard="核心区和城市副中心:response_rate=60",
    )
    core = next(r for r in zones["rows"] if r["zone"] == "核心区和城市副中心")
    assert core["units"] == 3 and core["standard"] == 60
    assert core["share_meeting"] == 0.5  # of the units with a value: 东城 75 meets, 西城 50 not; 通州 none
    strengths = get("strengths", unit="110101", period="2025-03", k=2)
    assert strengths["period"] == "2025-03" and len(strengths["strongest"]) == 2
    trend = get("trend", unit="110101", indicator="hotline_resolution_rate", months="2025-03:2025-04")
    assert [p["value"] for p in trend["series"]] == pytest.approx([200 / 3, 100.0])
    weak = get("weak-areas", indicator="hotline_resolution_rate", months="2025-03:2025-03", threshold=90)
    assert weak["units"] == ["110101"]
    correlation = get("covariates", indicator="requests_per_10k", period="2025-03", covariate="population")
    assert correlation["n"] == 16.0 and -1 <= correlation["pearson"] <= 1  # no tickets: 0 per 10k

    get("derived", 422, period="2025-13")
    get("derived", 422, period="2025-03", level="town")
    get("zones", 422, scheme="nope", period="2025-03")
    get("weak-areas", 422, indicator="response_rate", months="2025-03:2025-04")  # neither threshold nor k
    get("trend", 422, unit="110101", indicator="nope", months="2025-03:2025-04")
    get("covariates", 422, indicator="response_rate", period="2025-03", covariate="gdp")
    for role, status in (
        ("operator", 403),
        ("unit", 403),
        ("auditor", 403),
        ("dispatcher", 200),
        ("reviewer", 200),
    ):
        assert login(role).get("/api/indicators/derived/definitions").status_code == status, role
    assert anonymous.get("/api/indicators/derived/definitions").status_code == 401
