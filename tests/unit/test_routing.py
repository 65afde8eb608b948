"""Routing for smart dispatch: gazetteer, coordinates and the model dispatcher (no database)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from megacity.demo import generate
from megacity.domain.enums import Channel, Kind, Urgency
from megacity.domain.profile import Profile
from megacity.domain.tickets import Ticket
from megacity.profiles import default_profile_path, load_profile
from megacity.routing.coords import DistrictIndex, beijing_districts, out_of_china, wgs84_to_gcj02
from megacity.routing.gazetteer import Gazetteer
from megacity.routing.model import ModelDispatcher
from megacity.services.dispatch import RULES

PROFILE = load_profile()
GAZETTEER = Gazetteer.for_profile(PROFILE.org, default_profile_path())


# --- gazetteer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("朝阳区望京街道宝星园小区", "110105026"),  # full name
        ("望京西园三区", "110105026"),  # alias without suffix
        ("望京街道办事处门口", "110105026"),  # office name
        ("国贸桥东南角", "110105001"),  # well-known name from place_aliases.csv
        ("中关村大街", "110108011"),
        ("朝阳门内大街", "110101007"),  # 朝阳门 (东城) is longer than the district name 朝阳
        ("密云区密云镇", "110118100"),  # a district name and a town of the same name
    ],
)
def test_place_names_and_aliases_find_the_street(text: str, street: str) -> None:
    assert GAZETTEER.locate([text]).street_code == street


def test_full_width_characters_and_whitespace_are_ignored() -> None:
    found = GAZETTEER.locate(["\u3000朝阳区　望 京\n街道 ＳＯＨＯ"])
    assert (found.street_code, found.district_code) == ("110105026", "110105")


def test_a_name_in_two_districts_needs_context() -> None:
    alone = GAZETTEER.locate(["八里庄北里"])
    assert alone.street_code is None and alone.ambiguous
    assert set(alone.candidates) == {"110105015", "110108005"}
    assert "ambiguous" in alone.reason
    assert GAZETTEER.locate(["海淀区八里庄"]).street_code == "110108005"  # named in the text
    assert GAZETTEER.locate(["八里庄"], "110105").street_code == "110105015"  # given by the request


def test_a_district_name_is_the_district_not_its_namesake_street() -> None:
    found = GAZETTEER.locate(["海淀的一个小区"])
    assert (found.street_code, found.district_code) == (None, "110108")


def test_no_place_name() -> None:
    found = GAZETTEER.locate(["楼下的路灯坏了"])
    assert (found.street_code, found.district_code, found.candidates) == (None, None, ())


def test_place_aliases_must_name_street_level_units() -> None:
    with pytest.raises(ValueError, match="not a street-level unit"):
        Gazetteer(PROFILE.org, [("市政府", "D001")])


def test_every_shipped_place_alias_names_a_known_street_and_its_source() -> None:
    lines = (default_profile_path() / "place_aliases.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "alias,unit_code,source"
    for line in lines[1:]:
        alias, code, source = line.split(",", 2)
        assert PROFILE.org.units[code].type.is_street_level and source, line


# --- coordinates -------------------------------------------------------------------------

# Reference pairs (WGS-84 lat, lon → GCJ-02 lat, lon) from the test suite of the reference
# implementation, googollee/eviltransform (python/test.py; the same cases in its PHP and Go ports).
REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), REFERENCE)
def test_wgs84_to_gcj02_matches_the_reference(wlat: float, wlon: float, glat: float, glon: float) -> None:
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9) and lat == pytest.approx(glat, abs=1e-9)


def test_no_offset_outside_china() -> None:
    assert out_of_china(-73.98, 40.75)
    assert wgs84_to_gcj02(-73.98, 40.75) == (-73.98, 40.75)  # New York
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)  # Paris


@pytest.mark.parametrize(
    ("lon", "lat", "district"),
    [
        (116.3914, 39.9031, "110101"),  # Tiananmen Square (WGS-84) → 东城区
        (116.3050, 39.9869, "110108"),  # Peking University → 海淀区
        (116.4700, 39.9950, "110105"),  # 望京 → 朝阳区
        (116.2732, 39.9998, "110108"),  # Summer Palace → 海淀区
        (116.6564, 40.1281, "110113"),  # 顺义 town centre → 顺义区
    ],
)
def test_points_inside_known_districts(lon: float, lat: float, district: str) -> None:
    assert beijing_districts().district_at(lon, lat) == district


def test_the_datum_matters_near_a_boundary() -> None:
    # ~500 m west of the Tiananmen gate: in 东城 in WGS-84, but read as GCJ-02 it falls in 西城
    index = beijing_districts()
    assert index.district_at(116.389, 39.91) == "110101"
    assert index.district_at(116.389, 39.91, wgs84=False) == "110102"


def test_outside_all_districts_and_bad_numbers() -> None:
    index = beijing_districts()
    assert index.district_at(121.47, 31.23) is None  # Shanghai
    assert index.district_at(float("nan"), 39.9) is None


def test_polygon_with_a_hole(tmp_path: Path) -> None:
    square = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    feature = {
        "properties": {"adcode": 1, "name": "x"},
        "geometry": {"type": "Polygon", "coordinates": [square, hole]},
    }
    path = tmp_path / "x.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    index = DistrictIndex.load(path)
    assert index.district_at(2, 2, wgs84=False) == "1"
    assert index.district_at(5, 5, wgs84=False) is None


# --- the model dispatcher ----------------------------------------------------------------


def demo_examples(profile: Profile, classes: int = 8, per_class: int = 20) -> list[dict[str, str]]:
    """Labelled demo requests (generated offline from the shipped samples) of the commonest leaves."""
    cases = [c.intake for c in generate(profile, count=1500, months=3, seed=7)]
    common = {code for code, _ in Counter(c["category_code"] for c in cases).most_common(classes)}
    taken: Counter[str] = Counter()
    rows = []
    for case in cases:
        code = case["category_code"]
        if code in common and taken[code] < per_class:
            taken[code] += 1
            rows.append({"title": case["title"], "text": case["text"], "category_code": code})
    return rows


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from megacity.nlp import train

    rows = demo_examples(PROFILE)
    folder = tmp_path_factory.mktemp("model") / "dispatch"
    titles = [r["title"] for r in rows]
    train([r["text"] for r in rows], [r["category_code"] for r in rows], titles).save(folder)
    return folder


def ticket(**fields: Any) -> Ticket:
    base = Ticket(
        id="t-1",
        received_at=datetime(2025, 3, 3, 9, tzinfo=UTC),
        channel=Channel.PHONE,
        kind=Kind.COMPLAINT,
        urgency=Urgency.GENERAL,
        title="",
        text="",
    )
    return dataclasses.replace(base, **fields)


NOISE = {
    "title": "夜间施工噪音扰民",
    "text": "工地每天夜里施工到凌晨两点，噪音太大，严重影响休息，希望尽快处理",
}


def test_without_a_model_the_rules_answer(tmp_path: Path) -> None:
    dispatcher = ModelDispatcher(PROFILE, tmp_path / "none", GAZETTEER)
    suggestion = dispatcher.suggest(ticket(category_code="040203", street_code="110105026", **NOISE))
    assert (suggestion.unit_code, suggestion.model_version) == ("110105026", RULES)
    assert dispatcher.model_version == RULES


def test_the_model_reads_the_text_and_the_address(model_folder: Path) -> None:
    dispatcher = ModelDispatcher(PROFILE, model_folder, GAZETTEER)
    suggestion = dispatcher.suggest(ticket(address="朝阳区望京街道宝星园", **NOISE))
    assert suggestion.category_code == "040203"  # 噪音污染, territorial
    assert suggestion.unit_code == "110105026"
    assert suggestion.model_version == dispatcher.model_version != RULES
    assert 0.6 <= suggestion.confidence <= 0.95  # the address factor caps it
    assert "望京" in suggestion.reason and "噪音污染" in suggestion.reason
    assert len(suggestion.alternatives) <= 3 and suggestion.alternatives[0][0] == "110105026"


def test_location_from_coordinates_and_text(model_folder: Path) -> None:
    dispatcher = ModelDispatcher(PROFILE, model_folder, GAZETTEER)
    by_point = dispatcher.suggest(ticket(lon=116.4700, lat=39.9950, **NOISE))  # 朝阳, no street
    assert by_point.unit_code == "G110105"  # the district government (条例 Art. 12)
    assert "coordinates" in by_point.reason
    in_text = dispatcher.suggest(ticket(title=NOISE["title"], text="我住在双井街道，" + NOISE["text"]))
    assert in_text.unit_code == "110105016"


def test_an_ambiguous_place_is_below_the_threshold(model_folder: Path) -> None:
    dispatcher = ModelDispatcher(PROFILE, model_folder, GAZETTEER)
    suggestion = dispatcher.suggest(ticket(address="八里庄北里", **NOISE))
    assert not suggestion.confident(PROFILE.dispatch_confidence_threshold)
    assert "ambiguous" in suggestion.reason


def test_a_given_category_is_kept_and_batches_equal_single_calls(model_folder: Path) -> None:
    dispatcher = ModelDispatcher(PROFILE, model_folder, GAZETTEER)
    given = ticket(category_code="130809", **NOISE)  # 消防安全 → 市应急管理局, whatever the text says
    assert (dispatcher.suggest(given).unit_code, dispatcher.suggest(given).confidence) == ("D019", 1.0)
    many = [ticket(address="望京", **NOISE), given, ticket(street_code="110101001", **NOISE)]
    assert dispatcher.suggest_many(many) == [dispatcher.suggest(t) for t in many]
