"""The Qt-free logic behind the findings, Bilsky and SINS panels: imaging/case/findings.py and
imaging/spine/grading_image.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest

from imaging.case.findings import (
    escc_group_text,
    graded_assessment,
    grading_place,
    grading_point,
    involvement_levels,
    labels_for_frame,
    next_finding_label,
    parse_levels_text,
    sins_missing,
    stale_auto_levels,
    sync_auto_levels,
    with_involvement,
)
from imaging.case.model import (
    BilskyAssessment,
    Case,
    Finding,
    LevelInvolvement,
    Measurement,
    SeriesRef,
    SinsAssessment,
    VertebralLabel,
)
from imaging.display import plane_spec
from imaging.geometry import PlaneGeometry
from imaging.spine.bilsky import BILSKY_GRADE_INFO
from imaging.spine.grading_image import BILSKY_IMAGE_RULE, bilsky_image_reminder, mr_weighting
from imaging.volume import Volume, VolumeMetadata

ISSUE_WORDING = (  # issue 6 §4, verbatim
    "0 bone-only disease; 1a epidural impingement without deformation of the thecal sac; 1b deformation of the "
    "thecal sac without spinal cord abutment; 1c deformation of the thecal sac with spinal cord abutment, without "
    "cord compression; 2 spinal cord compression with CSF visible around the cord; 3 spinal cord compression "
    "without CSF visible around the cord"
)


def test_definitions_are_the_issue_wording():
    issue = dict(re.findall(r"(?:^|; )(0|1a|1b|1c|2|3) ([^;]+)", ISSUE_WORDING))
    assert list(issue) == list(BILSKY_GRADE_INFO) == ["0", "1a", "1b", "1c", "2", "3"]
    for grade, text in ((g, i.definition) for g, i in BILSKY_GRADE_INFO.items()):
        assert text == issue[grade][0].upper() + issue[grade][1:]


# -- MR weighting and the reminder -------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "weighting"), [
    ({"echo_time": 100, "repetition_time": 4200, "description": "Ax T2 TSE"}, "T2"),
    ({"echo_time": 96, "repetition_time": 3500}, "T2"),  # no description: the times decide
    ({"echo_time": 10, "repetition_time": 550, "description": "Ax T2 TSE"}, "T1"),  # the times win
    ({"echo_time": 30, "repetition_time": 3000}, "PD"),
    ({"echo_time": 70, "repetition_time": 5000, "inversion_time": 160}, "STIR"),
    ({"echo_time": 120, "repetition_time": 9000, "inversion_time": 2500}, "FLAIR"),
    ({"echo_time": 12, "repetition_time": 2000, "inversion_time": 900}, "T1"),  # inversion-prepared T1
    ({"echo_time": 18, "repetition_time": 600, "description": "AX T2* MEDIC"}, "T2*"),
    ({"description": "sag t2_tse_fs"}, "T2"),
    ({"description": "AX T2W"}, "T2"),
    ({"description": "SAG T1 FS POST"}, "T1"),
    ({"description": "SAG STIR"}, "STIR"),
    ({"description": "ep2d_diff_tra ADC"}, "DWI"),
    ({"description": "Ax T1 T2-T3 level"}, "T1"),  # "T2-T3" is a level range, not a weighting
    ({"description": "AX T1 vs T2"}, None),  # both named: undecided
    ({"echo_time": 40, "repetition_time": 1100}, None),  # between the rules, no description
    ({}, None),
])
def test_mr_weighting(kwargs, weighting):
    assert mr_weighting(**kwargs).weighting == weighting


def test_weighting_basis_is_explained():
    assert mr_weighting(echo_time=100, repetition_time=4200).basis == "TE 100 ms, TR 4200 ms"
    assert mr_weighting(description="Ax T2 TSE").basis == "series description 'Ax T2 TSE'"
    assert mr_weighting(echo_time=40, repetition_time=1100).basis == "TE 40 ms, TR 1100 ms"


def test_reminder():
    t2 = mr_weighting(echo_time=100, repetition_time=4000)
    t1 = mr_weighting(echo_time=10, repetition_time=500)
    assert bilsky_image_reminder(modality="MR", orientation="axial", acquired=True, weighting=t2) is None
    ct = bilsky_image_reminder(modality="CT", orientation="axial", acquired=True)
    assert ct == f"{BILSKY_IMAGE_RULE} The active view shows CT (axial)."
    sag = bilsky_image_reminder(modality="MR", orientation="sagittal", acquired=True, weighting=t2)
    assert sag.endswith("a sagittal plane of T2-weighted MR (TE 100 ms, TR 4000 ms).")
    fmt = bilsky_image_reminder(modality="MR", orientation="axial", acquired=False, weighting=t2)
    assert "an axial reformat (not the acquired slices) of T2-weighted MR" in fmt
    assert "an axial slice of T1-weighted MR (TE 10 ms, TR 500 ms)" in bilsky_image_reminder(
        modality="MR", orientation="axial", acquired=True, weighting=t1)
    assert "MR of unknown weighting" in bilsky_image_reminder(modality="MR", orientation="axial", acquired=True,
                                                               weighting=mr_weighting())
    assert bilsky_image_reminder(modality="", orientation="", acquired=False).endswith("No image is shown.")


# -- names, levels, involvement ------------------------------------------------------------------------------
def test_next_finding_label_takes_the_first_free_number():
    case = Case()
    assert next_finding_label(case) == "Lesion 1"
    case.add(Finding(label="Lesion 1"))
    case.add(Finding(label="Lesion 3"))
    case.add(Finding(label="T6 metastasis"))
    assert next_finding_label(case) == "Lesion 2"


@pytest.mark.parametrize(("text", "expected"), [
    ("T5-T6", ("T5", "T6")), ("t6 - t5", ("T5", "T6")), ("T5-6", ("T5", "T6")), ("T5\u2013T6", ("T5", "T6")),
    ("L4", ("L4", "L4")), ("T12-L1", ("T12", "L1")), ("", (None, None)), ("   ", (None, None)),
])
def test_parse_levels_text(text, expected):
    assert parse_levels_text(text) == expected


@pytest.mark.parametrize(("text", "message"), [("T5-X9", "cannot read vertebral level range"),
                                               ("T14", "unknown vertebral level"), ("lumbar", "cannot read")])
def test_parse_levels_text_refuses_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_levels_text(text)


def test_with_involvement_toggles_in_canonical_order():
    inv = with_involvement([], "T6", "right_pedicle", True)
    inv = with_involvement(inv, "t5", "lamina", True)
    inv = with_involvement(inv, "T6", "vertebral_body", True)
    assert [(i.level, i.sectors) for i in inv] == [("T5", ["lamina"]), ("T6", ["vertebral_body", "right_pedicle"])]
    inv = with_involvement(inv, "T5", "lamina", False)
    assert [i.level for i in inv] == ["T6"]  # an empty level is dropped
    with pytest.raises(ValueError, match="unknown involvement sector"):
        with_involvement(inv, "T6", "facet", True)


def test_involvement_levels_keep_rows_with_ticks_outside_the_range():
    f = Finding(level_from="T5", level_to="T6", involvement=[LevelInvolvement(level="T8", sectors=["lamina"])])
    assert involvement_levels(f) == ["T5", "T6", "T8"]
    assert involvement_levels(Finding()) == []


def _length_at(s: float, finding_id: str | None) -> Measurement:
    return Measurement(kind="length", points=[(0.0, 0.0, s), (4.0, 0.0, s)],
                       plane={"orientation": "axial", "normal": (0.0, 0.0, 1.0)}, finding_id=finding_id)


def test_sync_auto_levels_only_touches_automatic_findings():
    case = Case()
    for label, s in (("T5", 20.0), ("T6", 0.0), ("T7", -20.0)):
        case.add(VertebralLabel(label=label, centre=(0.0, 0.0, s)))
    auto, typed = Finding(label="a"), Finding(label="b", level_from="L1", level_to="L1", levels_auto=False)
    case.add(auto)
    case.add(typed)
    case.add(_length_at(3.0, auto.id))
    case.add(_length_at(-14.0, auto.id))  # beyond the T6/T7 boundary at -10
    case.add(_length_at(3.0, typed.id))
    assert stale_auto_levels(case) == [auto.id]
    assert sync_auto_levels(case, who="r") == [auto.id]
    assert case.finding(auto.id).levels_text == "T6-T7" and case.finding(typed.id).levels_text == "L1"
    assert sync_auto_levels(case) == []


# -- where a grade is read -----------------------------------------------------------------------------------
def test_grading_point_projects_the_cursor_onto_the_plane():
    g = PlaneGeometry((0.0, 0.0, 10.0), (1, 0, 0), (0, 1, 0), 0.5, 0.5)
    assert np.allclose(grading_point(g, 100, 60, (3.0, 4.0, 17.0)), (3.0, 4.0, 10.0))
    assert np.allclose(grading_point(g, 101, 61), (25.0, 15.0, 10.0))  # centre pixel (50, 30) * 0.5 mm


def test_labels_for_frame_prefers_the_same_frame():
    case = Case()
    case.add(SeriesRef(series_instance_uid="1.1", frame_of_reference_uid="9.1"))
    case.add(SeriesRef(series_instance_uid="1.2", frame_of_reference_uid="9.2"))
    same = VertebralLabel(label="T6", centre=(0.0, 0.0, 0.0), series_instance_uid="1.1")
    other = VertebralLabel(label="T6", centre=(0.0, 0.0, 300.0), series_instance_uid="1.2")
    case.add(same)
    case.add(other)
    assert labels_for_frame(case, "1.3", "9.1") == ([same], False)
    assert labels_for_frame(case, "1.2", "9.1") == ([same, other], False)  # its own series counts
    case.remove(same.id)
    assert labels_for_frame(case, "1.3", "9.1") == ([other], True)  # only another frame's labels: warn
    assert labels_for_frame(Case(), "1.3", "9.1") == ([], False)


def test_graded_assessment_keeps_the_suggestion_and_clears_the_place():
    old = BilskyAssessment(suggested_grade="2", suggestion_summary="cord indented 1.2 mm")
    when = datetime(2024, 1, 2, 3, 4, tzinfo=UTC)
    new = graded_assessment(old, "1C", level="t6", series_instance_uid="1.2", sop_instance_uid="1.2.3",
                            slice_index=7, reader="jdoe", when=when)
    assert (new.grade, new.level, new.sop_instance_uid, new.slice_index, new.reader, new.assessed_utc) == (
        "1c", "T6", "1.2.3", 7, "jdoe", when)
    assert new.suggested_grade == "2" and new.suggestion_summary == "cord indented 1.2 mm"
    cleared = graded_assessment(new, None, level=None, series_instance_uid=None, sop_instance_uid=None,
                                slice_index=None, reader="")
    assert cleared.grade is None and cleared.level is None and cleared.sop_instance_uid is None
    assert cleared.suggested_grade == "2"
    with pytest.raises(ValueError, match="unknown Bilsky grade"):
        graded_assessment(old, "4", level=None, series_instance_uid=None, sop_instance_uid=None,
                          slice_index=None, reader="")


def test_escc_group_text():
    assert escc_group_text("1b") == "Low-grade ESCC"
    assert escc_group_text("1c") == "High-grade ESCC"
    assert escc_group_text("1c", "low") == "Low-grade ESCC"
    assert escc_group_text("2", "low") == "High-grade ESCC"
    assert escc_group_text(None) == ""


def _axial_mr(n: int = 6) -> Volume:
    aff = np.eye(4)
    aff[:3, 0], aff[:3, 1], aff[:3, 2] = (0.8, 0, 0), (0, 0.8, 0), (0, 0, 4.0)
    aff[:3, 3] = (-10.0, -10.0, -10.0)
    md = VolumeMetadata(series_instance_uid="1.2.9", series_description="Ax T2", frame_of_reference_uid="9.9",
                        sop_instance_uids=[f"1.2.9.{k}" for k in range(n)], echo_time=100.0, repetition_time=4000.0)
    return Volume(np.zeros((n, 26, 26), np.int16), aff, modality="MR", metadata=md)


def test_grading_place_of_an_acquired_axial_slice_and_of_a_reformat():
    vol = _axial_mr()
    vol.metadata.instance_numbers = [10 + i for i in range(vol.shape[0])]  # as the PACS numbers them
    case = Case()
    for label, s in (("T6", 0.0), ("T7", -16.0)):
        case.add(VertebralLabel(label=label, centre=(0.0, 0.0, s)))
    spec = plane_spec(vol, "axial")
    k = spec.nearest_slice((0.0, 0.0, -10.0))  # S = -10 + 4k: slice 0
    place = grading_place(case, vol, spec, k, cursor=(0.0, 0.0, 50.0))
    assert place.point == (0.0, 0.0, -10.0)  # the cursor projected onto the slice
    assert place.level == "T7"  # -10 is beyond the T6/T7 boundary at -8
    assert place.sop_instance_uid == f"1.2.9.{k}" and place.slice_index == k and place.reminder is None
    assert place.instance_number == 10 + k
    assert place.image_text() == f"MR Ax T2, axial Im {10 + k} of 6"  # the image number PACS shows
    place = grading_place(case, vol, spec, 2)  # S = -2: T6
    assert place.level == "T6"
    sag = plane_spec(vol, "sagittal")
    place = grading_place(case, vol, sag, 13)
    assert place.sop_instance_uid is None and not place.acquired and "sagittal" in place.reminder
    x = place.point[0]
    assert place.instance_number is None
    assert place.image_text() == f"MR Ax T2, sagittal reformat, {'L' if x >= 0 else 'R'} {abs(x):.1f} mm"
    empty = grading_place(case, None, None, 0)
    assert empty.image_text() == "no image" and empty.reminder.endswith("No image is shown.")


def test_sins_missing():
    assert sins_missing(SinsAssessment(), has_levels=False) == [
        "Location", "Pain", "Bone lesion", "Radiographic spinal alignment", "Vertebral body collapse",
        "Posterolateral involvement of spinal elements"]
    s = SinsAssessment(pain="MECHANICAL", location_override="RIGID")
    assert sins_missing(s, has_levels=False)[0] == "Bone lesion"
