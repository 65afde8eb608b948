"""The demo generator: legal steps, believable volumes and seasons, reproducible output."""

from __future__ import annotations

import re
import string
import time as clock
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from megacity.demo import DEFAULT_END, NEEDS_DEADLINE, DemoCase, generate
from megacity.demo.texts import KIND_SLOTS, OTHER, fake_phone, load_samples
from megacity.domain.calendar import LimitUnit, TimeLimit
from megacity.domain.catalog import Catalogue, Category
from megacity.domain.enums import Channel, Kind, Urgency
from megacity.domain.lifecycle import apply
from megacity.domain.org import District, Organisation, Unit, UnitType
from megacity.domain.profile import AssessmentSettings, Profile, TimeLimits
from megacity.domain.tickets import Ticket

TZ = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]")
WINTER = {11, 12, 1, 2, 3}
TERMINAL_ACTIONS = {"close", "answer", "dispose"}
EXCLUSION_ACTIONS = {
    "request_exclusion",
    "district_approve_exclusion",
    "city_approve_exclusion",
    "reject_exclusion",
}


def _small_profile() -> Profile:
    """Three districts (10 / 30 / 60 % of the population), a few units, a tiny catalogue."""
    pops = {"900001": 100_000, "900002": 300_000, "900003": 600_000}
    districts = {code: District(code, f"测试{i}区", pop) for i, (code, pop) in enumerate(pops.items(), 1)}
    units: dict[str, Unit] = {}
    for i, code in enumerate(pops, 1):
        for j, name in enumerate(("和平街道", "光明街道", "建设镇"), 1):
            street = f"{code}00{j}"
            units[street] = Unit(
                street, f"{name[:2]}{i}{name[2:]}", UnitType.STREET, code, pops[code] // 3, True
            )
        units[f"G{code}"] = Unit(f"G{code}", f"测试{i}区人民政府", UnitType.DISTRICT_GOVERNMENT, code)
    units["C004"] = Unit("C004", "热力集团", UnitType.COMPANY)
    units["D010"] = Unit("D010", "生态环境局", UnitType.DEPARTMENT)
    org = Organisation("900000", "测试市", districts, units, {})
    cats = [
        Category("01", "城乡建设", 1, None),
        Category("0101", "城市建设和市政管理", 2, "01"),
        Category("010101", "冬季采暖", 3, "0101", "C004", Urgency.TIMELY),
        Category("010102", "环境卫生", 3, "0101", "territorial", Urgency.GENERAL),
        Category("010103", "物业服务", 3, "0101", "territorial", Urgency.GENERAL),
        Category("010104", "燃气供应", 3, "0101", "D404", Urgency.TIMELY),  # unknown unit: street takes it
        Category("02", "环境保护", 1, None),
        Category("0201", "环境污染", 2, "02"),
        Category("020101", "噪音污染", 3, "0201", "territorial", Urgency.GENERAL),
        Category("020102", "水污染", 3, "0201", "D010", Urgency.COMPLEX),
        Category("020103", "奇怪的类别", 3, "0201", "D010", Urgency.EMERGENCY),
    ]
    hours, days = LimitUnit.HOURS, LimitUnit.WORKING_DAYS
    limits = TimeLimits(
        dispatch={u: TimeLimit(2 if u is Urgency.EMERGENCY else 24, hours) for u in Urgency},
        response={u: TimeLimit(2 if u is Urgency.EMERGENCY else 24, hours) for u in Urgency},
        feedback={
            Urgency.EMERGENCY: TimeLimit(2, hours),
            Urgency.TIMELY: TimeLimit(24, hours),
            Urgency.GENERAL: TimeLimit(7, days),
            Urgency.COMPLEX: TimeLimit(15, days),
        },
    )
    return Profile(
        code="test",
        name="测试市",
        version="1",
        valid_from=date(2020, 1, 1),
        timezone="Asia/Shanghai",
        org=org,
        catalogue=Catalogue({c.code: c for c in cats}),
        limits=limits,
        assessment=AssessmentSettings(weights={"response": 0.1, "resolution": 0.45, "satisfaction": 0.45}),
    )


@cache
def _beijing() -> Profile:
    try:
        from megacity.profiles import load_profile

        return load_profile()
    except Exception as exc:  # another package: its own tests say why it fails
        pytest.skip(f"the Beijing profile does not load: {exc}")


@cache
def _cases(which: str, count: int, seed: int = 12345) -> tuple[DemoCase, ...]:
    profile = _small_profile() if which == "small" else _beijing()
    return tuple(generate(profile, count=count, seed=seed))


def _ticket(intake: dict[str, Any]) -> Ticket:
    enums = {
        "channel": Channel(intake["channel"]),
        "kind": Kind(intake["kind"]),
        "urgency": Urgency(intake["urgency"]),
    }
    return Ticket(**{**intake, **enums})


def _replay(case: DemoCase) -> Ticket:
    """Apply every step as the real caller would, adding the deadlines it computes."""
    ticket = _ticket(case.intake)
    for step in case.steps:
        params = dict(step.params)
        if step.action in NEEDS_DEADLINE:
            params["deadline_at"] = step.at + timedelta(days=7)
        apply(ticket, step.action, actor=step.actor, role=step.role, at=step.at, reason=step.reason, **params)
    return ticket


@pytest.mark.parametrize("which", ["small", "beijing"])
def test_every_step_is_legal_in_order_and_inside_the_period(which: str) -> None:
    until = datetime.combine(DEFAULT_END, time(23, 59, 59), TZ)
    units = (_small_profile() if which == "small" else _beijing()).org.units
    for case in _cases(which, 2000):
        ticket = _replay(case)  # raises on any illegal step
        assert all(s.params["unit_code"] in units for s in case.steps if "unit_code" in s.params)
        times = [case.intake["received_at"], *(s.at for s in case.steps)]
        assert times == sorted(times), case.intake["id"]
        assert all(t.tzinfo is not None and t <= until for t in times)
        assert len(ticket.events) == len(case.steps)


def test_volumes_per_district_follow_the_census_population() -> None:
    cases = _cases("small", 6000)
    counts = Counter(c.intake["district_code"] for c in cases)
    for code, share in {"900001": 0.1, "900002": 0.3, "900003": 0.6}.items():
        assert abs(counts[code] / len(cases) - share) < 0.03, (code, counts)


def test_beijing_volumes_follow_population_and_streets_belong_to_their_district() -> None:
    profile = _beijing()
    cases = _cases("beijing", 2000)
    total = sum(d.population or 0 for d in profile.org.districts.values())
    counts = Counter(c.intake["district_code"] for c in cases)
    for code, district in profile.org.districts.items():
        expected = (district.population or 0) / total
        assert abs(counts[code] / len(cases) - expected) < 0.03 + 0.3 * expected, code
    for case in cases:
        street = profile.org.unit(str(case.intake["street_code"]))
        assert street is not None and street.district_code == case.intake["district_code"]
        assert profile.catalogue.is_leaf(str(case.intake["category_code"]))
        assert 115.3 < case.intake["lon"] < 117.6 and 39.4 < case.intake["lat"] < 41.1


@pytest.mark.parametrize("which", ["small", "beijing"])
def test_heating_requests_come_in_the_heating_season(which: str) -> None:
    profile = _small_profile() if which == "small" else _beijing()
    heating = {c.code for c in profile.catalogue.leaves() if c.name == "冬季采暖"}
    cases = _cases(which, 6000 if which == "small" else 2000)
    months = Counter(c.intake["received_at"].month for c in cases if c.intake["category_code"] in heating)
    assert sum(months.values()) > 30
    assert sum(n for m, n in months.items() if m in WINTER) / sum(months.values()) > 0.9
    assert months[12] > 5 * max(months[7], 1)


def test_same_seed_same_demo_other_seed_other_demo() -> None:
    profile = _small_profile()
    first = list(generate(profile, count=300, seed=7))
    assert first == list(generate(profile, count=300, seed=7))
    assert first != list(generate(profile, count=300, seed=8))


def test_ids_unique_in_order_and_received_within_the_period() -> None:
    cases = _cases("small", 2000)
    ids = [c.intake["id"] for c in cases]
    assert ids == [f"demo-{i:06d}" for i in range(1, 2001)]
    received = [c.intake["received_at"] for c in cases]
    assert received == sorted(received)
    assert received[0].date() >= date(2025, 1, 1) and received[-1].date() <= DEFAULT_END
    short = list(generate(_small_profile(), count=200, months=3, end=date(2024, 5, 31)))
    assert all(date(2024, 3, 1) <= c.intake["received_at"].date() <= date(2024, 5, 31) for c in short)


def test_fewer_calls_at_night_and_on_weekends() -> None:
    cases = _cases("small", 6000)
    hours = Counter(c.intake["received_at"].hour for c in cases)
    assert hours[3] * 10 < hours[10]
    weekdays = Counter(c.intake["received_at"].weekday() for c in cases)
    assert weekdays[6] < weekdays[1]


@pytest.mark.parametrize("which", ["small", "beijing"])
def test_texts_are_chinese_and_fully_filled(which: str) -> None:
    for case in _cases(which, 2000):
        for field in ("title", "text", "address"):
            value = str(case.intake[field])
            assert CJK.search(value), (field, value)
            assert "{" not in value and "}" not in value, value
            assert not re.search(r"(?<![A-Za-z])[A-Z]\d*[市县区]", value), value  # anonymised names replaced


def test_phone_numbers_are_fake_and_belong_to_one_complainant() -> None:
    cases = _cases("small", 3000)
    names: dict[str, set[str]] = defaultdict(set)
    for case in cases:
        assert re.fullmatch(r"1[3589]00000\d{4}", case.phone), case.phone
        assert case.name and CJK.search(case.name)
        names[case.phone].add(case.name)
    assert all(len(n) == 1 for n in names.values())
    calls = Counter(c.phone for c in cases)
    assert calls.most_common(1)[0][1] >= 10  # some complainants call again and again
    assert len({fake_phone(i) for i in range(40_000)}) == 40_000


def test_repeats_come_from_the_same_complainant_about_the_same_place() -> None:
    cases = _cases("small", 3000)
    seen: dict[tuple[str, str], datetime] = {}
    repeats = 0
    for case in cases:
        key = (case.phone, str(case.intake["address"]))
        if str(case.intake["title"]).startswith("再次反映"):
            repeats += 1
            assert key in seen
            gap = case.intake["received_at"] - seen[key]
            assert timedelta(days=10) <= gap
        seen.setdefault(key, case.intake["received_at"])
    assert repeats > 30


def test_kind_mix_and_consults_answered_on_the_spot() -> None:
    cases = _cases("small", 6000)
    kinds = Counter(c.intake["kind"] for c in cases)
    assert 0.1 < kinds["consult"] / len(cases) < 0.2
    assert set(kinds) == {k.value for k in Kind}
    consults = [c for c in cases if c.intake["kind"] == "consult"]
    answered = sum(1 for c in consults if c.steps and c.steps[0].action == "answer")
    assert 0.4 < answered / len(consults) < 0.6
    assert all(c.intake["kind"] == "consult" for c in cases if c.steps and c.steps[0].action == "answer")


def test_dispatch_goes_to_the_street_the_leaf_unit_or_the_district_government() -> None:
    profile = _small_profile()
    government = 0
    dispatched = [c for c in _cases("small", 3000) if c.steps and c.steps[0].action == "dispatch"]
    for case in dispatched:
        leaf = profile.catalogue.get(str(case.intake["category_code"]))
        assert leaf is not None
        unit = case.steps[0].params["unit_code"]
        assert case.steps[0].params["category_code"] == leaf.code
        if unit == f"G{case.intake['district_code']}":
            government += 1
        elif leaf.is_territorial or profile.org.unit(leaf.responsible) is None:
            assert unit == case.intake["street_code"]
        else:
            assert unit == leaf.responsible
    assert 0.02 < government / len(dispatched) < 0.08


def test_callback_outcomes_are_realistic_and_correlated() -> None:
    callbacks = [s.params for c in _cases("small", 6000) for s in c.steps if s.action == "callback"]
    rated = [p for p in callbacks if p["outcome"] == "rated"]
    assert 0.01 < (len(callbacks) - len(rated)) / len(callbacks) < 0.06
    assert 0.82 < sum(p["resolved"] for p in rated) / len(rated) < 0.95
    ratings = Counter(p["satisfaction"] for p in rated)
    assert 0.7 < ratings["satisfied"] / len(rated) < 0.88
    assert 0.03 < ratings["dissatisfied"] / len(rated) < 0.14
    unresolved = [p for p in rated if not p["resolved"]]
    assert sum(p["satisfaction"] == "dissatisfied" for p in unresolved) / len(unresolved) > 0.4


def test_special_paths_all_occur_with_their_parameters() -> None:
    cases = _cases("small", 6000)
    actions = Counter(s.action for c in cases for s in c.steps)
    expected = ["dispute", "redispatch", "reject_dispute", "request_extension", "approve_extension", "reopen"]
    for action in (*expected, "escalate", "dispose", "answer", "add_cohandler", *EXCLUSION_ACTIONS):
        assert actions[action] > 0, action
    assert 0.015 < actions["dispute"] / len(cases) < 0.05
    assert 0.003 < actions["request_exclusion"] / len(cases) < 0.02
    for case in cases:
        for step in case.steps:
            if step.action == "request_exclusion":
                assert step.params["evidence"] == [f"demo-evidence-{case.intake['id']}.jpg"]
            if step.action in ("dispute", "dispose", "reopen"):
                assert step.reason


def test_recent_requests_are_still_open_old_ones_are_finished() -> None:
    cases = _cases("small", 6000)
    end = DEFAULT_END

    def finished(case: DemoCase) -> bool:
        last = [s.action for s in case.steps if s.action not in EXCLUSION_ACTIONS]
        return bool(last) and last[-1] in TERMINAL_ACTIONS

    recent = [c for c in cases if c.intake["received_at"].date() > end - timedelta(days=7)]
    old = [c for c in cases if c.intake["received_at"].date() < end - timedelta(days=60)]
    assert sum(not finished(c) for c in recent) / len(recent) > 0.5
    assert sum(finished(c) for c in old) / len(old) > 0.99
    stages = Counter(c.steps[-1].action if c.steps else "received" for c in recent if not finished(c))
    assert len(stages) >= 3  # open at various stages


def test_leaves_no_theme_covers_get_generic_texts() -> None:
    odd = [c for c in _cases("small", 6000) if c.intake["category_code"] == "020103"]
    assert odd
    assert any("奇怪的类别" in str(c.intake["text"]) or "奇怪的类别" in str(c.intake["title"]) for c in odd)


def test_unknown_coordinates_stay_empty() -> None:
    assert all(c.intake["lon"] is None and c.intake["lat"] is None for c in _cases("small", 200))


def test_rejects_nonsense_arguments() -> None:
    with pytest.raises(ValueError):
        generate(_small_profile(), count=-1)
    with pytest.raises(ValueError):
        generate(_small_profile(), count=10, months=0)
    assert list(generate(_small_profile(), count=0)) == []


def test_samples_are_consistent() -> None:
    s = load_samples()
    names = {"city", "district", "street", "short", "community", "building", "road", "leaf"}
    for (_theme, slot), rows in s.phrases.items():
        for _variant, text in rows:
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert fields <= (names if slot not in ("community", "road") else {"short"}), text
    for theme in s.themes:
        assert theme.place in ("home", "road", "shop", "none")
        for kind, weight in theme.kinds:
            assert weight > 0
            missing = [slot for slot in KIND_SLOTS[kind] if (theme.code, slot) not in s.phrases]
            assert not missing, (theme.code, kind, missing)
    assert all((OTHER, slot) in s.phrases for slot in ("title", "problem", "impact", "question", "qtitle"))
    seeds = [seed for group in s.seeds.values() for seed in group]
    assert 0 < len(seeds) <= 60
    assert {seed.theme for seed in seeds} <= {t.code for t in s.themes}
    assert len(s.surnames) >= 50 and len(s.given_names) >= 50


def test_twenty_thousand_cases_in_a_few_seconds() -> None:
    profile = _small_profile()
    start = clock.perf_counter()
    assert sum(1 for _ in generate(profile, count=20_000)) == 20_000
    assert clock.perf_counter() - start < 15  # ~2.5 s on a laptop; generous for slow CI
