"""The shipped Beijing profile, and the loader's file:line errors on broken copies of it.

Broken profiles are real files: the shipped folder is copied to ``tmp_path`` and exactly one
thing is broken per test, so each test pins one validation rule and the line it reports.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from megacity.domain.calendar import LimitUnit
from megacity.domain.catalog import TERRITORIAL
from megacity.domain.enums import Urgency
from megacity.domain.errors import ProfileError
from megacity.domain.org import UnitType, check_codes_disjoint
from megacity.domain.profile import Profile
from megacity.profiles import check_profile, default_profile_path, load_profile


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile()


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "profile"
    shutil.copytree(default_profile_path(), target)
    return target


def _line_of(path: Path, needle: str) -> int:
    """1-based number of the first line of `path` that contains `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _edit(path: Path, old: str, new: str) -> None:
    """Replace the single occurrence of `old` in `path`."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _error(folder: Path) -> str:
    with pytest.raises(ProfileError) as info:
        load_profile(folder)
    return str(info.value)


# --- the shipped profile -------------------------------------------------------------------


def test_shipped_profile_is_clean() -> None:
    assert check_profile(default_profile_path()) == []
    assert (default_profile_path() / "profile.yaml").is_file()


def test_header(profile: Profile) -> None:
    assert profile.code == "beijing"
    assert profile.name == "北京市"
    assert profile.org.city_code == "110000"
    assert profile.timezone == "Asia/Shanghai"
    assert str(profile.valid_from) == "2022-10-31"
    assert profile.dispatch_confidence_threshold == 0.6
    assert profile.repeat_window_days == 60
    assert profile.public_request_list is True


def test_districts_and_census_population(profile: Profile) -> None:
    districts = profile.org.districts
    assert len(districts) == 16
    assert sum(d.population or 0 for d in districts.values()) == 21_893_095
    assert districts["110105"].name == "朝阳区"
    assert districts["110105"].population == 3_452_460


def test_street_level_units(profile: Profile) -> None:
    streets = [u for u in profile.org.units.values() if u.type.is_street_level]
    assert len(streets) == 349
    assert Counter(u.type for u in streets)[UnitType.DEVZONE] == 6
    assert all(len(u.code) == 9 and u.district_code == u.code[:6] for u in streets)
    baliqiao = [u for u in streets if u.name == "八里庄街道"]
    assert sorted(u.district_code or "" for u in baliqiao) == ["110105", "110108"]
    assert profile.org.units["110105021"].aliases == ("南磨房",)


def test_street_populations_are_estimates_summing_to_the_census(profile: Profile) -> None:
    for code, district in profile.org.districts.items():
        streets = profile.org.streets_of(code)
        populated = [u for u in streets if u.population is not None]
        assert all(u.population_estimated for u in populated)
        assert sum(u.population or 0 for u in populated) == district.population
    assert all(u.population is None for u in profile.org.units.values() if u.type is UnitType.DEVZONE)


def test_every_district_has_a_government_and_codes_are_disjoint(profile: Profile) -> None:
    org = profile.org
    for code in org.districts:
        government = org.district_government(code)
        assert government is not None and government.code == f"G{code}"
    assert check_codes_disjoint(org.districts, org.units.values()) == []
    assert not set(org.units) & {*org.districts, org.city_code}


def test_departments_and_companies(profile: Profile) -> None:
    units = profile.org.units.values()
    departments = [u for u in units if u.type is UnitType.DEPARTMENT]
    companies = [u for u in units if u.type is UnitType.COMPANY]
    assert len(departments) >= 20 and all(u.district_code is None for u in departments)
    assert len(companies) >= 7 and all(u.district_code is None for u in companies)
    assert profile.org.units["C001"].name == "北京市自来水集团"


def test_catalogue_levels(profile: Profile) -> None:
    levels = Counter(c.level for c in profile.catalogue.categories.values())
    assert levels == {1: 15, 2: 118, 3: 517}
    others = [c for c in profile.catalogue.categories.values() if c.name == "其他" and c.level == 3]
    assert len(others) > 10 and len({c.code for c in others}) == len(others)


def test_every_leaf_has_responsible_and_urgency(profile: Profile) -> None:
    units = profile.org.units
    leaves = profile.catalogue.leaves()
    assert len(leaves) == 517 and all(c.level == 3 for c in leaves)
    for leaf in leaves:
        assert leaf.urgency in Urgency
        if not leaf.is_territorial:
            assert not units[leaf.responsible].type.is_street_level
    assert {c.urgency for c in leaves} == set(Urgency)


def test_catalogue_codes_follow_the_path(profile: Profile) -> None:
    water = profile.catalogue.by_path("城乡建设", "城市建设和市政管理", "自来水供应")
    assert water is not None and water.code.startswith("0102") and len(water.code) == 6
    assert (water.responsible, water.urgency) == ("C001", Urgency.TIMELY)
    heating = profile.catalogue.by_path("城乡建设", "城市建设和市政管理", "冬季采暖")
    assert heating is not None and heating.responsible == "C004"
    sanitation = profile.catalogue.by_path("城乡建设", "城市建设和市政管理", "环境卫生")
    assert sanitation is not None and sanitation.responsible == TERRITORIAL
    assert [c.code for c in profile.catalogue.path(water.code)] == ["01", "0102", water.code]


def test_zone_schemes_cover_all_districts(profile: Profile) -> None:
    assert set(profile.org.zone_schemes) == {"zones_2012", "assessment"}
    for scheme in profile.org.zone_schemes.values():
        members = [code for codes in scheme.zones.values() for code in codes]
        assert sorted(members) == sorted(profile.org.districts)
        assert len(scheme.zones) == 4
    assert profile.org.zone_schemes["assessment"].zone_of("110112") == "核心区和城市副中心"
    assert profile.org.zone_schemes["zones_2012"].zone_of("110112") == "城市发展新区"


def test_limits_and_assessment(profile: Profile) -> None:
    limits = profile.limits
    assert limits.dispatch[Urgency.EMERGENCY].amount == 1
    assert limits.dispatch[Urgency.GENERAL].unit is LimitUnit.HOURS
    assert limits.feedback[Urgency.COMPLEX].amount == 15
    assert limits.feedback[Urgency.COMPLEX].unit is LimitUnit.WORKING_DAYS
    assert all(
        limit.source
        for kind in (limits.dispatch, limits.response, limits.feedback)
        for limit in kind.values()
    )
    assert sum(profile.assessment.weights.values()) == pytest.approx(1.0)
    assert profile.assessment.min_rated_for_ranking == 10


def test_assumptions_are_declared(profile: Profile) -> None:
    keys = {a.key for a in profile.assumptions}
    assert {"assessment.weights", "limits.response", "limits.feedback", "units.population"} <= keys
    assert all(a.note for a in profile.assumptions)


def test_default_profile_is_cached(profile: Profile) -> None:
    assert load_profile() is profile
    assert load_profile(default_profile_path() / "profile.yaml") is profile


# --- broken profiles ------------------------------------------------------------------------


def test_unknown_district_code_in_units(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    units = folder / "units.csv"
    line = _line_of(units, "110101001,东华门街道")
    _edit(units, "110101001,东华门街道,street,110101,", "110101001,东华门街道,street,110199,")
    assert f"units.csv:{line}: unknown district_code '110199'" in _error(folder)


def test_duplicate_unit_code(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    units = folder / "units.csv"
    first, line = _line_of(units, "D001,"), _line_of(units, "D002,")
    _edit(units, "\nD002,", "\nD001,")
    assert f"units.csv:{line}: duplicate unit code 'D001' (first at line {first})" in _error(folder)


def test_unit_code_equal_to_a_district_code(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    units = folder / "units.csv"
    line = _line_of(units, "C011,")
    _edit(units, "\nC011,", "\n110105,")
    assert f"units.csv:{line}: unit code '110105' equals an area code" in _error(folder)


def test_weights_not_summing_to_one(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    assessment = folder / "assessment.yaml"
    line = _line_of(assessment, "weights:")
    _edit(assessment, "resolution: 0.45", "resolution: 0.40")
    assert f"assessment.yaml:{line}: weights must sum to 1" in _error(folder)


def test_bad_limit_unit(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    limits = folder / "limits.yaml"
    line = _line_of(limits, "amount: 7, unit: working_days")
    _edit(limits, "amount: 7, unit: working_days", "amount: 7, unit: days")
    assert f"limits.yaml:{line}: unit must be one of hours, calendar_days, working_days" in _error(folder)


def test_unknown_key_in_profile_yaml(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    header = folder / "profile.yaml"
    line = _line_of(header, "timezone:") + 1
    _edit(header, "timezone: Asia/Shanghai\n", "timezone: Asia/Shanghai\ncolour: red\n")
    assert f"profile.yaml:{line}: unknown key 'colour'" in _error(folder)


def test_zone_scheme_must_cover_every_district_once(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    zones = folder / "zones.yaml"
    line = _line_of(zones, "中心城区:")
    _edit(zones, '中心城区: ["110105", ', '中心城区: ["110101", ')
    problems = check_profile(folder)
    assert f"zones.yaml:{line}: district '110101' is already in zone '核心区和城市副中心'" in problems
    assert any(p.endswith("does not place district '110105' in any zone") for p in problems)


def test_catalogue_parent_and_responsible_are_checked(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    catalogue = folder / "catalogue.csv"
    parent_line, leaf_line = _line_of(catalogue, "010101,事故处理"), _line_of(catalogue, "010216,自来水供应")
    _edit(catalogue, "010101,事故处理,3,0101,", "010101,事故处理,3,0199,")
    _edit(catalogue, "010216,自来水供应,3,0102,C001,", "010216,自来水供应,3,0102,110101001,")
    problems = check_profile(folder)
    assert f"catalogue.csv:{parent_line}: unknown parent_code '0199'" in problems
    assert any(
        p.startswith(f"catalogue.csv:{leaf_line}: responsible '110101001' is a street-level")
        for p in problems
    )


def test_missing_part_file_is_reported_where_it_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "limits.yaml").unlink()
    line = _line_of(folder / "profile.yaml", "limits: limits.yaml")
    assert check_profile(folder) == [f"profile.yaml:{line}: file 'limits.yaml' not found"]


def test_duplicate_yaml_key_and_bad_calendar_row(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    header = folder / "profile.yaml"
    _edit(header, "retention_days: 1095\n", "retention_days: 1095\nretention_days: 30\n")
    line = _line_of(header, "retention_days: 30")
    (folder / "calendar.csv").write_text("date,is_workday,note\n2031-02-03,maybe,\n", encoding="utf-8")
    problems = check_profile(folder)
    assert f"profile.yaml:{line}: duplicate key 'retention_days'" in problems
    assert "calendar.csv:2: is_workday must be true or false, not 'maybe'" in problems


def test_calendar_overrides_are_loaded(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "calendar.csv").write_text(
        "date,is_workday,note\n2031-01-01,false,New Year\n2031-01-04,true,make-up day\n", encoding="utf-8"
    )
    overrides = load_profile(folder).calendar_overrides
    assert {str(d): v for d, v in overrides.items()} == {"2031-01-01": False, "2031-01-04": True}


def test_edited_profile_is_reloaded_not_served_from_cache(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    assert load_profile(folder).repeat_window_days == 60
    _edit(folder / "profile.yaml", "repeat_window_days: 60", "repeat_window_days: 90")
    assert load_profile(folder).repeat_window_days == 90
