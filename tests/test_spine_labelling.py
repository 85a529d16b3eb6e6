"""Level labelling helpers (Qt-free): labels of a series, the next level of a click, the level an axial
plane cuts, the first guess, and naming detected bodies beside the reader's own labels."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.case.analysis import level_at_point
from imaging.case.model import VertebralLabel
from imaging.spine.labelling import (
    DISC_HALF_FRACTION,
    guess_level,
    labels_for_series,
    level_after,
    next_level,
    plan_detected_labels,
    plane_level,
    variants_in_use,
)

AXIAL = (0.0, 0.0, 1.0)
SERIES_A, SERIES_B, SERIES_C = "1.2.3.1", "1.2.3.2", "1.2.3.3"


def lab(level: str, s: float, series: str | None = SERIES_A, source: str = "manual", p: float = 40.0
        ) -> VertebralLabel:
    return VertebralLabel(label=level, centre=(0.0, p, s), series_instance_uid=series, source=source)


# T4..T8 every 25 mm, T4 highest (LPS +S is superior)
COLUMN = [lab(f"T{i}", 100.0 - 25.0 * (i - 4)) for i in range(4, 9)]


def test_labels_for_series_by_series_frame_of_reference_or_none():
    a, b, c, free = lab("T5", 0, SERIES_A), lab("T6", -25, SERIES_B), lab("T7", -50, SERIES_C), lab("T8", -75, None)
    frames = {SERIES_A: "9.1", SERIES_B: "9.1", SERIES_C: "9.2"}
    got = labels_for_series([a, b, c, free], SERIES_A, "9.1", frames.get)
    assert got == [a, b, free]  # same series, same frame of reference, no series named
    assert labels_for_series([a, b, c, free], SERIES_C, "9.2", frames.get) == [c, free]
    assert labels_for_series([a, b, c, free], SERIES_A, None, frames.get) == [a, free]  # frame unknown
    assert labels_for_series([a, b, c], None) == [a, b, c]


def test_next_level_goes_up_or_down_by_patient_s_and_skips_labelled_levels():
    prev = (0.0, 40.0, 0.0)
    assert next_level("T5", prev, (0, 40, -20)) == "T6"  # caudal click
    assert next_level("T5", prev, (0, 40, 20)) == "T4"  # cranial click
    assert next_level("T5", prev, (0, 40, -20), taken={"T5", "T6"}) == "T7"
    assert next_level("L5", prev, (0, 40, -20)) == "S1"  # no L6 unless the patient has it
    assert next_level("L5", prev, (0, 40, -20), variants={"L6"}) == "L6"
    assert next_level("T12", prev, (0, 40, -20), variants={"T13"}) == "T13"
    assert next_level("C1", prev, (0, 40, 20)) is None
    assert next_level("Co", prev, (0, 40, -20)) is None
    assert level_after("C2", cranial=True, taken={"C1"}) is None
    assert variants_in_use([lab("T13", 0), lab("L1", -30)]) == {"T13"}


@pytest.mark.parametrize("s, expected", [
    (100.0, "T4"), (91.0, "T4"), (84.0, "T5"), (75.0, "T5"), (51.0, "T6"),
    (112.4, "T4"), (113.0, None),  # the field reaches half an interval above T4
    (-12.0, "T8"), (-13.0, None),  # ... and below T8
])
def test_plane_level_matches_level_at_point(s, expected):
    assert plane_level(COLUMN, (5.0, -3.0, s), AXIAL) == expected
    if expected is not None and "disc" not in expected:
        assert level_at_point((0.0, 40.0, s), COLUMN) == expected


def test_plane_level_names_the_disc_between_adjacent_levels():
    mid = 87.5  # half-way between T4 (100) and T5 (75)
    half = DISC_HALF_FRACTION * 25.0
    assert plane_level(COLUMN, (0, 0, mid), AXIAL) == "T4/T5 disc"
    assert plane_level(COLUMN, (0, 0, mid + half - 0.01), AXIAL) == "T4/T5 disc"
    assert plane_level(COLUMN, (0, 0, mid + half + 0.1), AXIAL) == "T4"
    assert plane_level(COLUMN, (0, 0, mid - half - 0.1), AXIAL) == "T5"
    # not adjacent (T6 and T7 unlabelled): no disc is claimed between T5 and T8
    gap = [lab("T5", 75.0), lab("T8", 0.0)]
    assert plane_level(gap, (0, 0, 37.5), AXIAL) in ("T5", "T8")


def test_plane_level_on_a_tilted_plane_and_a_curved_column():
    # a kyphotic column: centres move posteriorly; a plane tilted 20 degrees about L still cuts T6
    curved = [lab(f"T{i}", 100.0 - 25.0 * (i - 4), p=40.0 + 3.0 * (i - 4) ** 2) for i in range(4, 9)]
    t = np.radians(20)
    normal = (0.0, np.sin(t), np.cos(t))
    for k, name in ((2, "T6"), (3, "T7")):
        assert plane_level(curved, np.asarray(curved[k].centre), normal) == name
    # the plane's origin may lie anywhere on it (the view's corner): only where it cuts the column counts
    origin = np.asarray(curved[2].centre) + 60.0 * np.cross(normal, (1.0, 0.0, 0.0))
    assert plane_level(curved, origin, normal) == "T6"


def test_plane_level_single_label_and_none():
    one = [lab("L3", 0.0)]
    assert plane_level(one, (0, 0, 14.9), AXIAL) == "L3"
    assert plane_level(one, (0, 0, 15.1), AXIAL) is None
    assert plane_level([], (0, 0, 0), AXIAL) is None


def test_guess_level_from_labels_or_description():
    assert guess_level((0, 40, 51), COLUMN) == "T6"  # inside the field
    assert guess_level((0, 40, 140), COLUMN) == "T3"  # above it: the next free level up
    assert guess_level(None, (), ["Ax 1.25mm", "CT THORACIC SPINE"]) == "T6"
    assert guess_level(None, (), ["MR LUMBAR SPINE"]) == "L3"
    assert guess_level(None, (), ["C-SPINE"]) == "C4"
    assert guess_level(None, (), ["unknown"]) == "L1"


def test_plan_detected_labels_replaces_detections_and_keeps_manual_labels():
    old = lab("T9", -125.0, source="detected")
    manual_same = lab("T5", 75.0 + 4.0)  # 4 mm from the body detected as T5: the same body, same name
    manual_other = lab("T7", 25.0 + 3.0)  # on the body detected as T6: the reader counted differently
    names = ["T4", "T5", "T6", "T7"]
    centres = [(0, 40, 100.0), (0, 40, 75.0), (0, 40, 25.0), (0, 40, 0.0)]
    plan = plan_detected_labels(names, centres, [old, manual_same, manual_other])
    assert plan.remove == [old.id]
    assert plan.kept == ["T5", "T7"]
    # T7 is the reader's name elsewhere: the detection's T7 is left out and said so
    assert [n for n, _ in plan.add] == ["T4"]
    assert plan.add[0][1] == (0.0, 40.0, 100.0)
    assert any("T7 is on the body the detection names T6" in c for c in plan.conflicts)
    assert any("your label T7 is" in c and "names T7" in c for c in plan.conflicts)
    clean = plan_detected_labels(names, centres, [])
    assert [n for n, _ in clean.add] == names and not clean.conflicts and not clean.remove
