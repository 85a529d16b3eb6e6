"""Tests of the Case model: round trip, validation messages, mutation API, audit, analysis functions."""

from __future__ import annotations

import json
import math
from datetime import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from imaging import measure
from imaging.case import analysis
from imaging.case.model import (
    Case,
    Contour,
    Finding,
    Measurement,
    MeasurementPlane,
    PlaneSpec,
    VertebralLabel,
    case_from_json,
    case_to_json,
    changed_fields,
    new_id,
)
from tests.test_case_factory import AXIAL, SAGITTAL, make_case


def test_round_trip_json_equal() -> None:
    case = make_case()
    text = case_to_json(case)
    back = case_from_json(text)
    assert back == case
    assert case_to_json(back) == text  # stable serialisation
    doc = json.loads(text)
    assert list(doc)[:4] == ["schema_version", "case_id", "created_utc", "updated_utc"]
    assert doc["created_utc"].endswith("Z")
    assert "Läsion ü 日本" in text  # UTF-8, not \\u escapes


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(*[st.floats(allow_nan=False, allow_infinity=False, width=64)] * 3), min_size=3,
                max_size=20))
def test_points_keep_full_precision(points) -> None:
    m = Measurement(kind="polygon_roi", points=points, plane=AXIAL)
    back = Measurement.model_validate_json(m.model_dump_json())
    assert back.points == m.points


def test_validation_errors_are_clear() -> None:
    with pytest.raises(ValidationError, match=r"length measurement needs 2 points \[start, end\], got 3"):
        Measurement(kind="length", points=[(0, 0, 0)] * 3, plane=AXIAL)
    with pytest.raises(ValidationError, match="finite"):
        Measurement(kind="length", points=[(0, 0, float("nan")), (1, 1, 1)], plane=AXIAL)
    with pytest.raises(ValidationError, match="unknown vertebral level 'T14'"):
        VertebralLabel(label="T14", centre=(0, 0, 0))
    with pytest.raises(ValidationError, match="Input should be '0', '1a', '1b', '1c', '2' or '3'"):
        Finding(bilsky={"grade": "4"})
    with pytest.raises(ValidationError, match="time zone"):
        Finding(created_utc=datetime(2024, 1, 1))
    with pytest.raises(ValidationError, match="String should match pattern"):
        Finding(id="not-a-uuid")
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Finding(colour="red")
    with pytest.raises(ValidationError, match="zero length"):
        MeasurementPlane(orientation="axial", normal=(0, 0, 0))
    with pytest.raises(ValidationError, match="has no voxel statistics"):
        Measurement(kind="length", points=[(0, 0, 0), (1, 1, 1)], plane=AXIAL, stats={"count": 1})
    with pytest.raises(ValidationError, match="SINS|Input should be"):
        Finding(sins={"pain": "AGONY"})
    case = make_case()
    doc = case.model_dump(mode="json")
    doc["measurements"][0]["finding_id"] = new_id()
    with pytest.raises(ValidationError, match="refers to finding .* which does not exist"):
        Case.model_validate(doc)
    doc = case.model_dump(mode="json")
    doc["measurements"][1]["id"] = doc["measurements"][0]["id"]
    with pytest.raises(ValidationError, match="is used twice"):
        Case.model_validate(doc)


def test_levels_normalised() -> None:
    f = Finding(level_from="t6", level_to="T5")
    assert (f.level_from, f.level_to, f.levels_text) == ("T5", "T6", "T5-T6")
    assert Finding(level_from="L4").levels_text == "L4"
    assert Finding().level_range is None


def test_values_recomputed_from_points() -> None:
    case = make_case()
    by_kind = {m.kind: m for m in case.measurements}
    bi = by_kind["bidirectional"].values()
    assert [v.name for v in bi] == ["long_axis", "short_axis"]
    assert bi[0].value == pytest.approx(math.hypot(22.5, 4.5))
    cc = by_kind["cc_extent"].values()
    assert cc[0].name == "cc_extent" and cc[0].value == pytest.approx(112.3 - 70.05)
    assert cc[1].name == "length" and cc[1].value > cc[0].value
    ell = {v.name: v for v in by_kind["ellipse_roi"].values()}
    assert ell["area"].value == pytest.approx(math.pi * 40) and ell["area"].unit == "mm2"
    assert ell["mean"].value == -12.5 and ell["mean"].unit == "HU" and ell["voxel_count"].value == 250
    assert by_kind["angle"].values()[0].value == pytest.approx(90.0)
    assert by_kind["cobb"].values()[0].value == pytest.approx(
        math.degrees(math.atan2(5, 40)) + math.degrees(math.atan2(7, 40)))
    assert by_kind["probe"].values()[0].value == -1000.0
    no_spacing = next(m for m in case.measurements if not m.pixel_spacing_known)
    assert no_spacing.values()[0].unit == "px" and no_spacing.values()[0].value == 50.0
    assert len(by_kind["freehand_roi"].values()) == 1  # area only: no statistics cached


def test_plane_spec_round_trip_geometry() -> None:
    g = AXIAL.geometry.to_geometry()  # type: ignore[union-attr]
    assert PlaneSpec.from_geometry(g) == AXIAL.geometry
    plane = MeasurementPlane.from_geometry(g)
    assert plane.orientation == "axial" and plane.normal == (0.0, 0.0, 1.0)


def test_mutation_api_and_audit() -> None:
    case = make_case()
    n_audit = len(case.audit)
    before = case.updated_utc
    m = Measurement(kind="length", points=[(0, 0, 0), (3, 4, 0)], plane=AXIAL, label="new")
    case.add(m, who="jdoe")
    assert case.measurement(m.id) is m
    assert case.updated_utc > before
    assert case.audit[-1].action == "add" and case.audit[-1].object_id == m.id and case.audit[-1].who == "jdoe"
    old = case.update(m.id, label="renamed", who="jdoe")
    assert old.label == "new" and case.measurement(m.id).label == "renamed"
    assert case.audit[-1].summary.endswith(": label")
    case.replace(old, who="jdoe")  # undo
    assert case.measurement(m.id).label == "new"
    obj, index, parent = case.remove(m.id, who="jdoe")
    assert obj.id == m.id and parent is None
    case.add(obj, index=index)  # undo of remove
    assert case.measurements[index].id == m.id
    assert len(case.audit) == n_audit + 5
    # Invalid edits are refused and leave the case unchanged.
    snapshot = case.model_dump()
    with pytest.raises(ValidationError):
        case.update(m.id, finding_id=new_id())
    with pytest.raises(ValidationError):
        case.update(m.id, points=[(0, 0, 0)])
    with pytest.raises(ValueError, match="already in the case"):
        case.add(m)
    finding = case.findings[0]
    with pytest.raises(ValueError, match="still has .* measurement"):
        case.remove(finding.id)
    with pytest.raises(ValueError, match="append-only"):
        case.remove(case.audit[0].id)
    with pytest.raises(KeyError):
        case.get(new_id())
    after = case.model_dump()
    assert {k: v for k, v in after.items() if k not in ("audit", "updated_utc")} == \
        {k: v for k, v in snapshot.items() if k not in ("audit", "updated_utc")}


def test_contours_are_edited_through_their_finding() -> None:
    case = make_case()
    f = case.findings[0]
    c = Contour(kind="tumour", points=[(0, 0, 78), (5, 0, 78), (0, 5, 78)])
    case.add(c, parent_id=f.id, who="jdoe")
    assert case.contour_parent(c.id).id == f.id
    assert case.finding(f.id).updated_utc > f.updated_utc
    case.update(c.id, kind="cord")
    assert case.get(c.id).kind == "cord"  # type: ignore[attr-defined]
    _, index, parent = case.remove(c.id)
    assert parent == f.id and c.id not in {x.id for x in case.finding(f.id).contours}
    with pytest.raises(ValueError, match="parent_id"):
        case.add(c)


def test_set_patient_report_and_changed_fields() -> None:
    case = make_case()
    new_patient = case.patient.model_copy(update={"age_years": 37.0})
    old = case.set_patient(new_patient, who="jdoe")
    assert old.age_years == 36 and case.patient.age_years == 37
    assert case.audit[-1].summary == "patient: age_years"
    assert changed_fields(case.findings[0], case.findings[0].model_copy(update={"notes": "x"})) == ["notes"]


def test_level_at_point() -> None:
    case = make_case()
    labels = case.vertebral_labels
    assert analysis.level_at_point((0, 10, 78.0), labels) == "T6"
    assert analysis.level_at_point((30, -20, 92.0), labels) == "T6"  # off the axis, still nearest along it
    assert analysis.level_at_point((0, 10, 91.5), labels) == "T5"
    assert analysis.level_at_point((0, 10, 140.0), labels) == "T4"  # within half an interval above T4
    assert analysis.level_at_point((0, 10, 150.0), labels) is None  # outside the labelled field
    assert analysis.level_at_point((0, 10, 14.0), labels) == "T8"
    assert analysis.level_at_point((0, 10, 0.0), labels) is None
    assert analysis.level_at_point((0, 0, 0), []) is None
    one = [VertebralLabel(label="L3", centre=(0, 0, 0))]
    assert analysis.level_at_point((5, 5, 10), one) == "L3"
    assert analysis.level_at_point((5, 5, 20), one) is None


def test_finding_levels_and_auto_fill() -> None:
    case = make_case()
    f = case.findings[0]
    rng = analysis.finding_levels(case, f)
    assert str(rng) == "T5-T6"  # the CC extent runs from z 112.3 (T5; T4/T5 boundary at 117) to 70 (T6)
    case.update(f.id, level_from=None, level_to=None)
    old = analysis.auto_fill_levels(case, f.id, who="jdoe")
    assert old is not None and case.finding(f.id).levels_text == "T5-T6"
    assert analysis.auto_fill_levels(case, f.id) is None  # unchanged
    case.update(f.id, levels_auto=False, level_from="T7", level_to="T7")
    assert analysis.auto_fill_levels(case, f.id) is None
    assert case.finding(f.id).levels_text == "T7"


def test_lesion_dimensions() -> None:
    case = make_case()
    f = case.findings[0]
    d = analysis.lesion_dimensions(case, f.id)
    assert d is not None
    bi = measure.bidirectional(*next(m for m in case.measurements if m.kind == "bidirectional").points)
    # Long axis runs mostly left-right (dx 22.5, dy 4.5): LR = long, AP = short.
    assert d.lr == pytest.approx(bi.long_length) and d.ap == pytest.approx(bi.short_length)
    assert d.cc == pytest.approx(112.3 - 70.05)
    assert d.volume == pytest.approx(math.pi / 6 * d.ap * d.lr * d.cc / 1000)
    assert d.unit == "mm" and d.volume_unit == "mL"
    assert d.text() == f"{d.ap:.1f} x {d.lr:.1f} x {d.cc:.1f} mm"
    assert analysis.lesion_dimensions(case, case.findings[1].id) is None


def test_lesion_dimensions_without_spacing_are_pixels() -> None:
    case = Case()
    f = Finding(label="x")
    case.add(f)
    case.add(Measurement(kind="bidirectional", points=[(0, 0, 0), (0, 20, 0), (-5, 10, 0), (5, 10, 0)],
                         plane=AXIAL, finding_id=f.id, pixel_spacing_known=False, finding_dimension=True))
    case.add(Measurement(kind="cc_extent", points=[(0, 0, 0), (0, 0, 30)], plane=SAGITTAL, finding_id=f.id,
                         finding_dimension=True))
    d = analysis.lesion_dimensions(case, f.id)
    assert d is not None and d.unit == "px" and d.volume_unit == "px3"
    assert d.ap == 20 and d.lr == 10  # long axis along y: AP
    assert d.volume == pytest.approx(math.pi / 6 * 20 * 10 * 30)


def test_escc_group_and_sins() -> None:
    case = make_case()
    f = case.findings[0]
    assert analysis.escc_group_of("3") == "high"
    assert analysis.escc_group_of("1c") == "high"
    assert analysis.escc_group_of("1c", "low") == "low"
    assert analysis.escc_group_of(None) == ""
    score = f.sins_score()
    assert score is not None
    # T5-T6 semirigid 1 + mechanical 3 + lytic 2 + normal 0 + <50% 2 + unilateral 1 = 9
    assert score.total == 9
    assert case.findings[1].sins_score() is None


def test_with_suggestion_keeps_final_grade() -> None:
    from imaging.spine.assistant import BilskyReason, BilskySuggestion

    sug = BilskySuggestion(grade="1c", reasons=(BilskyReason("tumor_cord_gap", 0.5, "mm", "gap 0.5 mm"),),
                           summary="touches the cord")
    f = make_case().findings[0]
    b = f.bilsky.with_suggestion(sug)
    assert b.grade == "3" and b.suggested_grade == "1c" and b.suggestion_reasons[0].value == 0.5
    assert isinstance(np.float64(b.suggestion_reasons[0].value), np.floating)


def test_compute_stats_on_acquired_and_reformatted_planes() -> None:
    from imaging.volume import Volume

    rng = np.random.default_rng(3)
    arr = rng.integers(-200, 300, size=(20, 40, 50)).astype(np.int16)
    aff = np.diag([0.6, 0.8, 2.0, 1.0])
    aff[:3, 3] = (-10.0, -20.0, 30.0)
    vol = Volume(arr, aff, modality="CT")
    k = 7
    z = 30.0 + 2.0 * k
    # A rectangle on axial slice 7: pixel centres x in (10.2, 20.2) -> 11..20, y in [5.1, 9.9) -> 6..9.
    xy = [(10.2, 5.1), (20.2, 5.1), (20.2, 9.9), (10.2, 9.9)]
    pts = [vol.index_to_lps((x, y, k)) for x, y in xy]
    m = Measurement(kind="polygon_roi", points=[tuple(map(float, p)) for p in pts], plane=AXIAL)
    stats = analysis.compute_stats(m, vol)
    expected = arr[k, 6:10, 11:21].astype(float)
    assert stats is not None and stats.count == expected.size and stats.unit == "HU"
    assert stats.mean == pytest.approx(expected.mean()) and stats.sd == pytest.approx(expected.std())
    assert (stats.min, stats.max) == (expected.min(), expected.max())
    assert all(abs(p[2] - z) < 1e-9 for p in m.points)
    # An ellipse on a sagittal reformat (column 25): centre slice 10, row 20, semi-axes 3 rows x 2 slices.
    c = vol.index_to_lps((25, 20, 10))
    e1 = vol.index_to_lps((25, 23, 10))
    e2 = vol.index_to_lps((25, 20, 12))
    sag = MeasurementPlane(orientation="sagittal", normal=(1.0, 0.0, 0.0))
    m2 = Measurement(kind="ellipse_roi", points=[tuple(map(float, p)) for p in (c, e1, e2)], plane=sag)
    s2 = analysis.compute_stats(m2, vol)
    kk, rr = np.mgrid[0:20, 0:40]
    inside = ((rr - 20) / 3.0) ** 2 + ((kk - 10) / 2.0) ** 2 <= 1.0
    assert s2 is not None and s2.count == int(inside.sum())
    assert s2.mean == pytest.approx(arr[:, :, 25][inside].astype(float).mean())
    probe = Measurement(kind="probe", points=[tuple(map(float, vol.index_to_lps((3, 4, 5))))], plane=AXIAL)
    ps = analysis.compute_stats(probe, vol)
    assert ps is not None and ps.mean == float(arr[5, 4, 3]) and ps.count == 1
    assert analysis.compute_stats(make_case().measurements[2], vol) is None  # a length has no statistics


def test_measurement_from_drawing_fills_series_sop_and_stats() -> None:
    from imaging import measure as meas
    from imaging.volume import Volume, VolumeMetadata

    arr = np.arange(5 * 30 * 30, dtype=np.int16).reshape(5, 30, 30)
    aff = np.diag([0.5, 0.5, 3.0, 1.0])
    meta = VolumeMetadata(series_instance_uid="1.2.3", sop_instance_uids=[f"1.2.3.{i}" for i in range(5)],
                          frame_numbers=[None] * 5)
    vol = Volume(arr, aff, modality="CT", metadata=meta)
    g = meas.slice_geometry(vol, 2)
    pts = g.to_lps(np.array([(5.0, 5.0), (15.0, 5.0), (15.0, 12.0)]))
    m = analysis.measurement_from_drawing("polygon_roi", pts, vol, g, slice_index=2, acquired=True, reader="jdoe")
    assert (m.series_instance_uid, m.sop_instance_uid, m.slice_index, m.plane.orientation) == \
        ("1.2.3", "1.2.3.2", 2, "axial")
    assert m.plane.geometry is not None and m.stats is not None and m.stats.count > 0
    reformat = analysis.measurement_from_drawing("length", pts[:2], vol, g, slice_index=2, acquired=False)
    assert reformat.sop_instance_uid is None and reformat.stats is None
    assert reformat.values()[0].value == pytest.approx(5.0)
    case = Case()
    case.add(m, who="jdoe")
    assert case.measurement(m.id).stats == m.stats
