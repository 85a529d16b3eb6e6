"""Vertebral levels: order, neighbours with variants, regions, range parsing, SINS location points."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imaging.spine import (
    ALL_LEVELS,
    STANDARD_LEVELS,
    LevelRange,
    SpineRegion,
    level_above,
    level_below,
    level_index,
    level_region,
    levels_between,
    normalize_level,
    parse_level_range,
    sins_location_points,
)


def test_standard_levels_are_the_usual_thirty_in_order() -> None:
    expected = ([f"C{i}" for i in range(1, 8)] + [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)]
                + [f"S{i}" for i in range(1, 6)] + ["Co"])
    assert list(STANDARD_LEVELS) == expected


def test_variants_sit_at_their_anatomical_place() -> None:
    assert level_index("T12") < level_index("T13") < level_index("L1")
    assert level_index("L5") < level_index("L6") < level_index("S1")
    assert set(ALL_LEVELS) - set(STANDARD_LEVELS) == {"C0", "T13", "L6"}  # C0: the occiput, not a vertebra


@pytest.mark.parametrize(("label", "below", "above"), [
    ("C1", "C2", None), ("C7", "T1", "C6"), ("T12", "L1", "T11"), ("L5", "S1", "L4"),
    ("S5", "Co", "S4"), ("Co", None, "S5"), ("T13", "L1", "T12"), ("L6", "S1", "L5"),
])
def test_neighbours_skip_variants_unless_asked(label: str, below: str | None, above: str | None) -> None:
    assert level_below(label) == below
    assert level_above(label) == above


def test_neighbour_walk_includes_a_variant_when_the_patient_has_it() -> None:
    assert level_below("T12", variants={"T13"}) == "T13"
    assert level_above("L1", variants={"T13"}) == "T13"
    assert level_below("L5", variants={"T13"}) == "S1"  # only T13 was named
    assert level_below("L5", variants={"L6"}) == "L6"
    assert level_above("S1", variants={"l6"}) == "L6"
    with pytest.raises(ValueError, match="not a variant"):
        level_below("T12", variants={"T12"})


def test_walking_down_visits_every_standard_level_once() -> None:
    walk, label = ["C1"], "C1"
    while (label := level_below(label)) is not None:
        walk.append(label)
    assert walk == list(STANDARD_LEVELS)


@pytest.mark.parametrize(("label", "region"), [
    ("C1", SpineRegion.CERVICAL), ("C7", SpineRegion.CERVICAL), ("T1", SpineRegion.THORACIC),
    ("T13", SpineRegion.THORACIC), ("L1", SpineRegion.LUMBAR), ("L6", SpineRegion.LUMBAR),
    ("S3", SpineRegion.SACRAL), ("Co", SpineRegion.COCCYGEAL),
])
def test_region(label: str, region: SpineRegion) -> None:
    assert level_region(label) is region


@pytest.mark.parametrize(("text", "start", "end", "as_text"), [
    ("T5-T6", "T5", "T6", "T5-T6"),
    ("T5\u2013T6", "T5", "T6", "T5-T6"),
    ("T5/T6", "T5", "T6", "T5-T6"),
    ("T5-6", "T5", "T6", "T5-T6"),
    ("t12-l1", "T12", "L1", "T12-L1"),
    ("C1-4", "C1", "C4", "C1-C4"),
    ("L4", "L4", "L4", "L4"),
    (" T6 - T5 ", "T5", "T6", "T5-T6"),
    ("S5-Co", "S5", "Co", "S5-Co"),
    ("co", "Co", "Co", "Co"),
    ("T12-T13", "T12", "T13", "T12-T13"),
])
def test_parse_level_range(text: str, start: str, end: str, as_text: str) -> None:
    r = parse_level_range(text)
    assert (r.start, r.end) == (start, end)
    assert str(r) == as_text


@pytest.mark.parametrize("text", ["T14", "L7", "C8", "S6", "X1", "", "T5-", "T5--T6", "T5-T6-T7", "Co-2", "T0",
                                  "T12-1", "L3-7"])
def test_unknown_or_malformed_ranges_name_the_text(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_level_range(text)
    assert repr(text) in str(info.value)


def test_level_range_levels_contains_and_iter() -> None:
    r = parse_level_range("T11-L2")
    assert r.levels == ["T11", "T12", "L1", "L2"]
    assert list(r) == r.levels
    assert len(r) == 4
    assert "T12" in r and "t11" in r
    assert "T10" not in r and "L3" not in r and "T13" not in r and "nonsense" not in r
    with_variant = parse_level_range("T11-L2", variants={"T13"})
    assert with_variant.levels == ["T11", "T12", "T13", "L1", "L2"]
    assert "T13" in with_variant
    assert levels_between("L6", "L4") == ["L4", "L5", "L6"]  # a variant end is always listed


def test_single_level_range() -> None:
    r = LevelRange("l4")
    assert r.is_single and r.levels == ["L4"] and str(r) == "L4"
    assert LevelRange("T6", "T5") == LevelRange("T5", "T6")


@given(st.sampled_from(ALL_LEVELS), st.sampled_from(ALL_LEVELS))
@settings(max_examples=60)
def test_parse_of_str_round_trips_and_is_ordered(a: str, b: str) -> None:
    r = LevelRange(a, b)
    assert parse_level_range(str(r)) == r
    assert level_index(r.start) <= level_index(r.end)
    assert r.levels[0] == r.start and r.levels[-1] == r.end
    assert [level_index(x) for x in r.levels] == sorted(level_index(x) for x in r.levels)


@pytest.mark.parametrize(("label", "points"), [
    ("C1", 3), ("C2", 3), ("C3", 2), ("C6", 2), ("C7", 3), ("T1", 3), ("T2", 3), ("T3", 1), ("T10", 1),
    ("T11", 3), ("T12", 3), ("L1", 3), ("L2", 2), ("L4", 2), ("L5", 3), ("S1", 3), ("S2", 0), ("S5", 0),
    ("T13", 3), ("L6", 3), ("Co", 0),
])
def test_sins_location_points_of_a_level(label: str, points: int) -> None:
    assert sins_location_points(label) == points


def test_sins_location_of_a_range_is_its_highest_level() -> None:
    assert sins_location_points("T9-T10") == 1
    assert sins_location_points("T10-T11") == 3
    assert sins_location_points("L3-L4") == 2
    assert sins_location_points(parse_level_range("S2-S4")) == 0
    assert parse_level_range("L4-S2").sins_location_points == 3
    assert sins_location_points(["T5", "C4"]) == 2
    with pytest.raises(ValueError):
        sins_location_points([])


def test_normalize_level_rejects_non_strings() -> None:
    assert normalize_level(" t13 ") == "T13"
    with pytest.raises(TypeError):
        normalize_level(5)  # type: ignore[arg-type]
