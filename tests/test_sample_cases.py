"""The sample cases' case files (tools/phantom/sample_case.py): report data from report.json, the reference
annotation from truth.json drawn on the phantom, checked against the truth (levels, Bilsky grade at the worst
level, lesion dimensions within one voxel)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from imaging.case.analysis import finding_levels, lesion_dimensions
from imaging.case.model import Case
from imaging.case.store import dumps_case, load_case
from imaging.followup.timeline import lesion_timepoints, series_date
from imaging.spine.levels import level_index
from tests.dicom_factory import write_series
from tools.phantom import CASE_NAMES, case_definition
from tools.phantom.sample_case import (
    CASE_FILE_NAME,
    build_sample_case,
    parse_dimensions_mm,
    parse_reported_bilsky,
    report_data_from_json,
    write_sample_cases,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_FOLDERS = sorted(p.parent for p in (ROOT / "sample_dicoms").glob("*/truth.json"))
FRESH_BUILD_CASE = "retroperitoneal_ddlps"  # the smallest sample
TUMOUR_KINDS = {"lytic_soft_tissue": "lytic", "lipomatous": "lipomatous", "blastic": "blastic",
                "marrow_replacing": "marrow_replacing"}


# -- report.json -> report data ---------------------------------------------------------------------------------
def test_parse_dimensions() -> None:
    assert parse_dimensions_mm("17 × 9mm") == [17.0, 9.0]
    assert parse_dimensions_mm("20 × 16 × 10 cm3") == [200.0, 160.0, 100.0]
    assert parse_dimensions_mm("2.5 × 2.1 cm2") == [25.0, 21.0]
    assert parse_dimensions_mm("20x15x28cm") == [200.0, 150.0, 280.0]
    assert parse_dimensions_mm("a 3,5 cm nodule") == [35.0]
    assert parse_dimensions_mm("2.5 kg") == [] and parse_dimensions_mm("at T6") == []


def test_parse_reported_bilsky() -> None:
    both = {"before_surgery": "grade 3 according to Bilski et al., 2010",
            "after_surgery": "grade 0 according to Bilsky"}
    assert parse_reported_bilsky(both) == "3"
    assert parse_reported_bilsky({"after_surgery": "Bilsky 0", "initial": "ESCC grade 1c"}) == "1c"
    assert parse_reported_bilsky("Bilsky grade 1b") == "1b"
    assert parse_reported_bilsky(None) is None and parse_reported_bilsky("no cord compression") is None
    assert parse_reported_bilsky("grade 12") is None  # not a Bilsky grade


@pytest.mark.parametrize("name", CASE_NAMES)
def test_report_data_of_every_sample_definition(name: str) -> None:
    report = {"case": name, **case_definition(name).report}
    data = report_data_from_json(report)
    assert data.citation == report["citation"]
    assert data.histology == (report.get("histology") or "")
    assert data.primary_site == (report.get("primary_site") or "")
    assert data.follow_up == (report.get("follow_up") or "")
    treatments = report.get("treatment") or []
    assert len(data.treatments) == (len(treatments) if isinstance(treatments, list) else 1)
    assert all(t.kind for t in data.treatments)
    if report.get("imaging"):
        assert data.report_text.startswith("Imaging as reported: ")
    if name == "thoracic_ddlps":
        assert data.bilsky_reported == "3" and data.levels_reported == "T5 to T6"
        assert [(d.dimensions_mm, d.text) for d in data.reported_dimensions] == [([17.0, 9.0], "17 × 9mm")]
        assert "dorsal margin of the vertebral body of T6" in data.reported_dimensions[0].label
        assert [t.kind for t in data.treatments] == ["surgery", "chemotherapy", "surgery", "radiotherapy"]
    if name == "l1_lipomatous_metastasis":
        assert data.doi == "10.1155/2018/1708572" and data.bilsky_reported is None
        assert "Source note: Only the abstract" in data.report_text
    if name == "retroperitoneal_ddlps":
        dims = {d.label: d.dimensions_mm for d in data.reported_dimensions}
        assert dims == {"primary tumour": [200.0, 160.0, 100.0], "primary weight": [],
                        "left adrenal region recurrence": [25.0, 21.0], "left psoas recurrence": [15.0, 13.0]}
    if name == "myxoid_marrow_metastases":
        assert data.outcome.startswith("Complications: Cement leakage")
        assert "Cord compression: There was no cord compression." in data.report_text


# -- a small sample folder with exactly known geometry ------------------------------------------------------------
def _sop(files: list[Path], k: int) -> str:
    return str(pydicom.dcmread(files[k], stop_before_pixels=True).SOPInstanceUID)


@pytest.fixture(scope="module")
def mini_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An axial CT (1 mm pixels, slices 2 mm apart at z = 40..78) and a sagittal T2 (slices 2 mm apart at
    x = 8..-8), T5/T6/T7 centres 20 mm apart, one T6 lesion with grade 2 epidural disease, cement."""
    folder = tmp_path_factory.mktemp("samples") / "mini_case"
    ct = write_series(folder / "ct_axial", shape=(20, 32, 32), spacing=(1.0, 1.0), slice_gap=2.0,
                      origin=(-16.0, -16.0, 40.0), description="Ax CT")
    mr = write_series(folder / "mr_sag_t2", shape=(9, 48, 32), spacing=(1.0, 1.0), row_dir=(0, 1, 0),
                      col_dir=(0, 0, -1), slice_gap=2.0, origin=(8.0, -16.0, 80.0), modality="MR",
                      description="Sag T2")
    canal = [[x, y, 52.0] for x, y in ((-5, 8), (5, 8), (5, 18), (-5, 18))]
    truth = {
        "case": "mini_case", "seed": 0, "patient": {"name": "PHANTOM^MINI", "id": "MINI-1", "sex": "F", "age": "061Y"},
        "studies": [{"key": "ct", "date": "20240102"}],
        "series": [
            {"key": "ct_axial", "series_uid": ct["series_uid"], "folder": "ct_axial", "orientation": "axial",
             "slice_spacing": 2.0, "weighting": None, "scene": "default"},
            {"key": "mr_sag_t2", "series_uid": mr["series_uid"], "folder": "mr_sag_t2", "orientation": "sagittal",
             "slice_spacing": 2.0, "weighting": "T2", "scene": "default"}],
        "vertebrae": [{"label": "T5", "centroid_lps": [0.0, 5.0, 70.0], "series": ["ct_axial", "mr_sag_t2"]},
                      {"label": "T6", "centroid_lps": [0.0, 5.0, 50.0], "series": ["ct_axial", "mr_sag_t2"]},
                      {"label": "T7", "centroid_lps": [0.0, 5.0, 30.0], "series": ["mr_sag_t2"]}],
        "lesions": [
            {"id": "T6 lytic metastasis", "scene": "default", "series": ["ct_axial", "mr_sag_t2"], "levels": ["T6"],
             "site": "vertebral_body", "kind": "lytic_soft_tissue", "description": "Lytic metastasis of the T6 body",
             "dimensions_mm": {"lr": 12.0, "ap": 9.0, "cc": 14.0}, "centre_lps": [-3.4, 7.0, 52.0],
             "parts": [{"level": "T6", "site": "vertebral_body"}, {"level": "T6", "site": "pedicle_left"}],
             "epidural": {"grade": "2", "level": "T6"}},
            {"id": "T6 cement", "scene": "default", "series": ["ct_axial"], "levels": ["T6"], "site": "vertebral_body",
             "kind": "cement", "dimensions_mm": {"lr": 5.0, "ap": 5.0, "cc": 5.0}, "centre_lps": [0.0, 5.0, 50.0],
             "parts": []}],
        "bilsky": {"grade": "2", "level": "T6", "scene": "default", "worst_point_lps": [0.0, 12.0, 52.0],
                   "series_key": "ct_axial", "series_uid": ct["series_uid"], "slice_index": 6,
                   "sop_instance_uid": _sop(ct["files"], 6),
                   "compression_contours_lps": {"bony_canal": [canal], "thecal_sac": [], "cord": [],
                                                "epidural_tumour": [[[0, 9, 52.0], [3, 9, 52.0], [3, 11, 52.0]]],
                                                "tumour": []}},
    }
    (folder / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    report = {"case": "mini_case", "citation": "Doe J. A case. J Spine. 2020. doi: 10.1000/abc.1", "age": "61-year-old",
              "sex": "woman", "histology": "metastatic carcinoma", "levels": "T6",
              "reported_bilsky": "Bilsky grade 2", "reported_dimensions": {"lesion": "1.2 x 0.9 cm"},
              "treatment": "radiotherapy 8 Gy", "follow_up": "stable at 6 months"}
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    return folder


def test_mini_sample_case(mini_sample: Path) -> None:
    case = build_sample_case(mini_sample)
    truth = json.loads((mini_sample / "truth.json").read_text(encoding="utf-8"))
    check_against_truth(case, truth, mini_sample)
    assert case.patient.model_dump() == {"id": "MINI-1", "name": "PHANTOM^MINI", "sex": "F", "age_years": 61.0}
    assert case.report.doi == "10.1000/abc.1" and case.report.bilsky_reported == "2"
    assert case.report.reported_dimensions[0].dimensions_mm == [12.0, 9.0]
    assert [s.path_hint for s in case.series] == ["ct_axial", "mr_sag_t2"]
    (f,) = case.findings  # the cement is not a lesion
    assert (f.label, f.levels_text, f.lesion_type, f.levels_auto) == ("T6 lytic metastasis", "T6", "lytic", True)
    assert [(i.level, i.sectors) for i in f.involvement] == [("T6", ["vertebral_body", "left_pedicle", "epidural"])]
    assert f.sins.bone_lesion == "LYTIC" and f.sins.posterolateral is None and f.sins_score() is None
    bi, cc = case.finding_measurements(f.id)
    # drawn on the CT slice through the centre (z = 52 is slice 6) and the T2 slice nearest x = -3.4 (x = -4)
    assert bi.kind == "bidirectional" and bi.slice_index == 6
    assert bi.sop_instance_uid == truth["bilsky"]["sop_instance_uid"]
    np.testing.assert_allclose(bi.points, [[-9.4, 7, 52], [2.6, 7, 52], [-3.4, 2.5, 52], [-3.4, 11.5, 52]], atol=1e-9)
    assert cc.kind == "cc_extent" and cc.plane.orientation == "sagittal" and cc.sop_instance_uid is not None
    np.testing.assert_allclose(cc.points, [[-4, 7, 59], [-4, 7, 45]], atol=1e-9)
    dims = lesion_dimensions(case, f.id)
    assert (dims.ap, dims.lr, dims.cc) == pytest.approx((9.0, 12.0, 14.0), abs=1e-9)
    assert [c.kind for c in f.contours] == ["canal", "tumour"] and {c.slice_index for c in f.contours} == {6}
    # Rebuilding gives the same bytes (stable ids and times: no churn in the committed files).
    assert dumps_case(build_sample_case(mini_sample)) == dumps_case(case)
    (written,) = write_sample_cases(mini_sample.parent)
    assert written == mini_sample / CASE_FILE_NAME and load_case(written) == case


# -- every sample in sample_dicoms ---------------------------------------------------------------------------------
def check_against_truth(case: Case, truth: dict, folder: Path) -> None:
    """The reference annotation matches the truth: labels, levels, dimensions within one voxel, the Bilsky
    grade at the worst level with its SOPInstanceUID; the series are where the path hints say."""
    spacing = {s["series_uid"]: max(s.get("spacing_mm") or [s.get("slice_spacing") or 1.0]) for s in truth["series"]}
    for ref in case.series:
        first = sorted((folder / ref.path_hint).glob("*.dcm"))[0]
        assert str(pydicom.dcmread(first, stop_before_pixels=True).SeriesInstanceUID) == ref.series_instance_uid
    truth_centres = {v["label"]: v["centroid_lps"] for v in truth["vertebrae"]}
    assert {lab.label for lab in case.vertebral_labels} == set(truth_centres)
    for lab in case.vertebral_labels:  # one label per vertebra and study, each at the truth's centroid
        np.testing.assert_allclose(lab.centre, truth_centres[lab.label], atol=1e-9)
    lesions = {}
    for les in truth["lesions"]:
        if les["kind"] in TUMOUR_KINDS:
            lesions.setdefault(les["id"], les)
    # A lesion that continues another in a later scene (a residual after surgery) is that finding's timepoint.
    same = (truth.get("follow_up") or {}).get("same_lesion") or {}
    assert [f.label for f in case.findings] == [lid for lid in lesions if lid not in same]
    uids = {s["key"]: s["series_uid"] for s in truth["series"]}
    for f in case.findings:
        assert f.lesion_type == TUMOUR_KINDS[lesions[f.label]["kind"]]
        if f.levels_auto:
            rng = finding_levels(case, f)
            assert rng is not None and (rng.start, rng.end) == (f.level_from, f.level_to)
        members = [lid for lid in lesions if lid == f.label or same.get(lid) == f.label]
        for tp in lesion_timepoints(case, f):
            day = tp.study_date
            les = next(lesions[lid] for lid in members
                       if any(series_date(case, uids[k]) == day for k in lesions[lid]["series"]))
            levels = sorted(les["levels"], key=level_index)
            assert (tp.level_from, tp.level_to) == ((levels[0], levels[-1]) if levels else (None, None))
            dims = lesion_dimensions(case, f.id, tp.measurements)
            assert dims is not None and dims.unit == "mm" and dims.cc is not None
            ms = list(tp.measurements)
            tol = max(spacing[m.series_instance_uid] for m in ms)
            want = les["dimensions_mm"]
            for axis in ("ap", "lr", "cc"):
                assert abs(getattr(dims, axis) - want[axis]) <= tol, (f.label, tp.study_date, axis)
            for m in ms:  # every point lies on the plane it was drawn on, on a series of that date
                assert series_date(case, m.series_instance_uid) == day
                g = m.plane.geometry
                n = np.asarray(m.plane.normal)
                assert np.all(np.abs((np.asarray(m.points) - np.asarray(g.origin)) @ n) < 1e-6)
    b = truth["bilsky"]
    graded = [f for f in case.findings if f.bilsky.grade == b["grade"] and f.bilsky.level == b["level"]]
    spinal = [f for f in case.findings if b["level"] in lesions[f.label]["levels"] and f.involvement]
    if spinal:  # the worst level is graded on the lesion there (a spine that is not involved has no grade)
        assert len(graded) >= 1
        g = graded[0]
        if b.get("sop_instance_uid"):
            assert g.bilsky.sop_instance_uid == b["sop_instance_uid"]
            assert g.bilsky.series_instance_uid == b["series_uid"]
    post = truth.get("bilsky_postop")
    if post and same:  # the post-operative grade at each post-operative timepoint, read on an image of its date
        tps = [t for f in case.findings for t in f.timepoints]
        assert tps and all(t.bilsky.grade == post["grade"] and t.bilsky.level == post["level"] for t in tps)
        assert all(series_date(case, t.bilsky.series_instance_uid) == t.study_date for t in tps)


@pytest.mark.skipif(not SAMPLE_FOLDERS, reason="no sample folders yet (make samples)")
@pytest.mark.parametrize("folder", SAMPLE_FOLDERS, ids=[p.name for p in SAMPLE_FOLDERS])
def test_sample_case_matches_truth(folder: Path) -> None:
    """The committed case file is valid and matches the truth. Before `make samples` has written one, the
    smallest case is built here instead (building loads every series: seconds per case)."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    path = folder / CASE_FILE_NAME
    if path.is_file():
        case = load_case(path)
    elif folder.name == FRESH_BUILD_CASE:
        case = build_sample_case(folder)
    else:
        pytest.skip(f"no {CASE_FILE_NAME} in {folder.name} yet (make samples)")
    check_against_truth(case, truth, folder)
    assert case.report == report_data_from_json(json.loads((folder / "report.json").read_text(encoding="utf-8")))
