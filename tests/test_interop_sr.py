"""DICOM SR interoperability with the real readers: OHIF's (dcmjs + @cornerstonejs/adapters under Node.js),
3D Slicer's (dcmqi tid1500reader), dcmtk's dsrdump and dicom3tools' dciodvfy; SR import of SpineCase's own SRs
(round trip), of an SR written by the current Cornerstone3D adapter, and the errors and reasons of import."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from imaging.case.export_sr import uid_from_id, write_sr
from imaging.case.model import Case, Measurement
from imaging.case.sources import series_headers
from imaging.case.sr_codes import FINDING_SITE_CODES, LATERALITY_CODES
from imaging.case.sr_import import SeriesLookup, SrImportError, import_sr
from imaging.case.store import load_case
from imaging.measurement_kinds import CORNERSTONE_TRACKING_PREFIX as CS3D_TAG
from imaging.measurement_kinds import kind_spec
from tests.interop_helpers import (
    CS3D_TOOL_OF_KIND,
    cs3d_points,
    dciodvfy_errors,
    dsrdump,
    hydrate,
    run_node,
    tid1500reader,
)
from tests.test_case_factory import make_case_with_series

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CASES = sorted((ROOT / "sample_dicoms").glob("*/case.spinecase.json"))
CASES = ["every_kind", *(p.parent.name for p in SAMPLE_CASES)]
TOL_MM = 1e-3


def case_and_srs(name: str, tmp_path: Path) -> tuple[Case, Path, list[Path], dict[str, str], list]:
    """The case (a sample, or the factory case with every measurement kind on real DICOM files), its SRs, what
    they left out, and the headers of its measured series."""
    if name == "every_kind":
        case, case_path = make_case_with_series(tmp_path / "case")
    else:
        case_path = ROOT / "sample_dicoms" / name / "case.spinecase.json"
        case = load_case(case_path)
    export = write_sr(case, case_path, tmp_path / f"{name}-sr.dcm")
    uids = {m.series_instance_uid for m in case.measurements if m.series_instance_uid}
    uids |= {f.bilsky.series_instance_uid for f in case.findings if f.bilsky.series_instance_uid}
    headers = [h for s in case.series if s.series_instance_uid in uids for h in series_headers(case_path, s)]
    return case, case_path, export.paths, export.skipped, headers


@pytest.fixture(scope="module")
def all_exported(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return {name: case_and_srs(name, tmp_path_factory.mktemp(name)) for name in CASES}


@pytest.fixture(params=CASES)
def exported(request: pytest.FixtureRequest, all_exported):  # type: ignore[no-untyped-def]
    return all_exported[request.param]


@pytest.fixture(scope="module")
def ohif_results(all_exported, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """OHIF's hydration of every case's SRs, in one Node.js run (starting Cornerstone3D costs seconds)."""
    paths = [p for exp in all_exported.values() for p in exp[2]]
    headers = list({str(h.SOPInstanceUID): h for exp in all_exported.values() for h in exp[4]}.values())
    results = hydrate(paths, headers, tmp_path_factory.mktemp("ohif"))
    return dict(zip(map(str, paths), results, strict=True))


# -- OHIF: every measurement group hydrates into its Cornerstone3D tool at the right place -------------------
def test_ohif_adapter_hydrates_every_measurement_group(exported, ohif_results) -> None:  # type: ignore[no-untyped-def]
    case, _case_path, paths, skipped, headers = exported
    results = [ohif_results[str(p)] for p in paths]
    measured = [m for m in case.measurements if m.id not in skipped]
    hydrated_all = []
    for result in results:
        assert result["sopClassUID"] == "1.2.840.10008.5.1.4.1.1.88.34"
        groups = result["groups"]
        tool_groups = [g for g in groups if g["trackingIdentifier"].startswith(CS3D_TAG)]
        # 100 % of the groups of kinds OHIF has hydrate (every SpineCase kind maps to a Cornerstone3D tool)
        assert len(result["hydrated"]) == len(tool_groups), result["warnings"]
        # no group without coordinates stands alone under its Tracking UID (OHIF merges by Tracking UID)
        with_coords = {g["trackingUniqueIdentifier"] for g in groups if g["hasCoordinates"]}
        assert {g["trackingUniqueIdentifier"] for g in groups} <= with_coords
        hydrated_all.extend(result["hydrated"])
    assert len(hydrated_all) == len(measured)
    unmatched = list(hydrated_all)
    for m in measured:
        want = cs3d_points(m)
        tool = CS3D_TOOL_OF_KIND[m.kind]
        found = None
        for h in unmatched:
            got = np.asarray(h["polyline"] if h["toolType"] == "PlanarFreehandROI" else h["points"], dtype=float)
            if h["toolType"] == tool and got.shape == want.shape and np.max(np.abs(got - want)) <= TOL_MM:
                found = h
                break
        assert found is not None, (m.kind, m.label, want.tolist())
        unmatched.remove(found)
        # (dcmjs 0.52 decodes UTF-8 text inside nested sequences of a Part 10 file as Latin-1 — its reader, not
        # our file: dsrdump and dcmqi read the label right; OHIF gets SR text as DICOMweb JSON)
        assert found["label"] == (m.label.replace("\t", " ") or None) or not m.label.isascii()
        # a finding's measurements share its Tracking UID; others have their own
        assert found["trackingUniqueIdentifier"] == uid_from_id(m.finding_id or m.id)


# -- 3D Slicer (dcmqi) ----------------------------------------------------------------------------------------
def test_dcmqi_reads_every_group_with_every_level(exported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    case, _case_path, paths, skipped, _headers = exported
    groups = []
    for p in paths:
        groups.extend(tid1500reader(p, tmp_path)["Measurements"])
    measured = [m for m in case.measurements if m.id not in skipped]
    tool_groups = [g for g in groups if g.get("TrackingIdentifier", "").startswith(CS3D_TAG)]
    assert len(tool_groups) == len(measured)
    for g in tool_groups:
        assert g["measurementItems"], g
    finding_groups = [g for g in groups if g.get("TrackingIdentifier", "").startswith("SpineCase finding")]
    for f in case.findings:
        mine = [g for g in finding_groups if g["TrackingUniqueIdentifier"] == uid_from_id(f.id)]
        if not any(m.finding_id == f.id for m in measured):
            assert not mine
            continue
        assert mine
        for g in mine:
            texts = {q["conceptCode"]["CodeValue"]: q["conceptValue"] for q in g.get("qualitativeEvaluations", [])
                     if isinstance(q["conceptValue"], str)}
            assert texts.get("LEVELS", "") == f.levels_text  # every level, not only dcmqi's one Finding Site
            codes = {q["conceptCode"]["CodeValue"]: q["conceptValue"]["CodeValue"]
                     for q in g.get("qualitativeEvaluations", []) if isinstance(q["conceptValue"], dict)}
            if f.bilsky.grade:
                assert codes["BILSKY"] == f"BILSKY-{f.bilsky.grade}"
            if f.lesion_type:
                assert "LESIONTYPE" in codes


# -- dcmtk and dicom3tools -----------------------------------------------------------------------------------
def test_dsrdump_and_dciodvfy_are_clean(exported) -> None:  # type: ignore[no-untyped-def]
    _case, _case_path, paths, _skipped, _headers = exported
    for p in paths:
        out = dsrdump(p)
        assert "Imaging Measurement Report" in out
        assert not [line for line in out.splitlines() if line.startswith(("E:", "W:"))
                    and "character set" not in line.lower()], out[:3000]
        assert dciodvfy_errors(p) == []


# -- round trip: case -> SR -> new case -----------------------------------------------------------------------
def test_round_trip_gives_the_same_measurements_findings_levels_and_grades(exported) -> None:  # type: ignore[no-untyped-def]
    case, _case_path, paths, skipped, headers = exported
    new = Case()
    result = import_sr(paths, new, SeriesLookup.from_headers(headers))
    assert result.not_placed == []
    result.apply(new, who="test")
    measured = [m for m in case.measurements if m.id not in skipped]
    assert len(new.measurements) == len(measured)
    left = list(new.measurements)
    for m in measured:
        got = next((n for n in left if _same_measurement(m, n)), None)
        assert got is not None, (m.kind, m.label)
        left.remove(got)
        assert got.series_instance_uid == m.series_instance_uid and got.plane.orientation == m.plane.orientation
        assert got.sop_instance_uid == m.sop_instance_uid  # on its image
        assert got.finding_id == m.finding_id
        for a, b in zip(m.values(), got.values(), strict=True):
            assert a.name == b.name and a.unit == b.unit and abs(a.value - b.value) <= TOL_MM, (m.kind, a, b)
    exported_findings = {m.finding_id for m in measured if m.finding_id}
    for f in case.findings:
        if f.id not in exported_findings:
            continue
        g = new.finding(f.id)
        assert (g.label, g.levels_text, g.lesion_type, g.site, g.laterality) == \
            (f.label, f.levels_text, f.lesion_type, f.site, f.laterality)
        assert g.involvement == f.involvement
        assert (g.bilsky.grade, g.bilsky.suggested_grade, g.bilsky.level, g.bilsky.sop_instance_uid) == \
            (f.bilsky.grade, f.bilsky.suggested_grade, f.bilsky.level, f.bilsky.sop_instance_uid)
        assert g.sins == f.sins and g.sins_score() == f.sins_score()
    assert {s.series_instance_uid for s in new.series} == {m.series_instance_uid for m in measured}
    # Opening the same SRs again adds nothing
    again = import_sr(paths, new, SeriesLookup.from_headers(headers))
    assert again.measurements == [] and again.findings == [] and again.duplicates == len(measured)


def _same_measurement(a: Measurement, b: Measurement) -> bool:
    if a.kind != b.kind or a.series_instance_uid != b.series_instance_uid:
        return False
    pa, pb = cs3d_points(a), cs3d_points(b)
    return pa.shape == pb.shape and float(np.max(np.abs(pa - pb))) <= TOL_MM


# -- codes: finding sites, finding types ---------------------------------------------------------------------
def test_soft_tissue_sites_and_no_lesion_type_for_angles(tmp_path: Path) -> None:
    case, _cp, paths, _skipped, _headers = case_and_srs("retroperitoneal_ddlps", tmp_path)
    sites = set()
    for p in paths:
        for g in _groups(pydicom.dcmread(p)):
            for item in g:
                if item.ConceptNameCodeSequence[0].CodeValue == "363698007":
                    side = [c.ConceptCodeSequence[0].CodeValue for c in getattr(item, "ContentSequence", [])]
                    sites.add((item.ConceptCodeSequence[0].CodeValue, tuple(side)))
    assert (FINDING_SITE_CODES["adrenal_gland"].value, (LATERALITY_CODES["left"].value,)) in sites  # SCT 23451007
    assert (FINDING_SITE_CODES["psoas_muscle"].value, (LATERALITY_CODES["left"].value,)) in sites
    assert not any(s.startswith(("24", "23")) and len(s) == 8 and s != "23451007" for s, _ in sites)  # no vertebra
    # angle, Cobb and probe are never typed as a lesion finding
    case2, _cp2, paths2, _s2, _h2 = case_and_srs("every_kind", tmp_path / "k")
    for p in paths2:
        for g in _groups(pydicom.dcmread(p)):
            ident = next(i.TextValue for i in g if i.ConceptNameCodeSequence[0].CodeValue == "112039")
            finding = [i for i in g if i.ConceptNameCodeSequence[0].CodeValue == "121071"]
            tool = ident.removeprefix(CS3D_TAG + ":").split(":")[0]
            if tool in ("Angle", "CobbAngle", "Probe"):
                assert finding == []
    assert kind_spec("cc_extent").value_specs[0].sr_concept.value == "121207"  # DCM Height


def _groups(ds: pydicom.Dataset) -> list:
    container = next(i for i in ds.ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "126010")
    return [list(g.ContentSequence) for g in container.ContentSequence]


def test_thoracic_case_has_one_sr_per_study(tmp_path: Path) -> None:
    case, _cp, paths, _skipped, _headers = case_and_srs("thoracic_ddlps", tmp_path)
    studies = {s.study_instance_uid for s in case.series if any(m.series_instance_uid == s.series_instance_uid
                                                                 for m in case.measurements)}
    assert len(paths) == len(studies) > 1
    seen = set()
    for p in paths:
        ds = pydicom.dcmread(p)
        seen.add(str(ds.StudyInstanceUID))
        procedure = next(i for i in ds.ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "121058")
        series_mods = {ref.modality for ref in case.series if ref.study_instance_uid == str(ds.StudyInstanceUID)}
        want = {"MR": "MRI unspecified body region", "CT": "CT unspecified body region"}
        assert procedure.ConceptCodeSequence[0].CodeMeaning in {want[m] for m in series_mods}
    assert seen == studies


# -- an SR written by Cornerstone3D (OHIF's "save measurements") opens in SpineCase ---------------------------
def test_sr_written_by_cornerstone3d_opens_with_every_measurement_in_place(tmp_path: Path) -> None:
    case, case_path = make_case_with_series(tmp_path / "case")
    ct = next(s for s in case.series if s.modality == "CT")
    headers = series_headers(case_path, ct)
    lookup = SeriesLookup.from_headers(headers)
    img = lookup.image(str(headers[4].SOPInstanceUID))
    assert img is not None

    def at(c: float, r: float) -> list[float]:
        return [float(v) for v in img.to_lps(c, r)]  # image coordinates -> LPS on slice 4

    annotations = [
        {"toolName": "Length", "points": [at(10.5, 10.5), at(40.5, 30.5)], "label": "length from OHIF",
         "cachedStats": {"length": 25.2, "unit": "mm"}},
        {"toolName": "Bidirectional", "points": [at(10.5, 32.5), at(50.5, 32.5), at(30.5, 22.5), at(30.5, 42.5)],
         "cachedStats": {"length": 28.0, "width": 14.0, "unit": "mm"}},
        {"toolName": "EllipticalROI", "points": [at(30.5, 10.5), at(30.5, 30.5), at(20.5, 20.5), at(40.5, 20.5)],
         "cachedStats": {"area": 220.0, "mean": 40.0, "stdDev": 20.0, "max": 90.0, "min": -10.0,
                         "areaUnit": "mm²", "modalityUnit": "HU"}},
        {"toolName": "PlanarFreehandROI", "points": [at(5.5, 5.5), at(20.5, 5.5), at(20.5, 20.5), at(5.5, 18.5)],
         "cachedStats": {"area": 100.0}},
        {"toolName": "Angle", "points": [at(40.5, 10.5), at(30.5, 30.5), at(55.5, 30.5)],
         "cachedStats": {"angle": 63.4}},
        {"toolName": "CobbAngle", "points": [at(5.5, 50.5), at(25.5, 45.5), at(35.5, 45.5), at(58.5, 55.5)],
         "cachedStats": {"angle": 38.5}},
        {"toolName": "Probe", "points": [at(32.5, 32.5)], "cachedStats": {"value": 41}},
    ]
    for a in annotations:
        a["image"] = 4
    images = tmp_path / "images.json"
    from tests.interop_helpers import image_entries

    images.write_text(json.dumps(image_entries(headers)), encoding="utf-8")
    ann = tmp_path / "annotations.json"
    ann.write_text(json.dumps(annotations), encoding="utf-8")
    out = tmp_path / "ohif-sr.dcm"
    run_node("generate", images, ann, out)
    assert dsrdump(out)
    new = Case()
    result = import_sr(out, new, lookup)
    assert result.not_placed == [], result.not_placed
    kinds = {"Length": "length", "Bidirectional": "bidirectional", "EllipticalROI": "ellipse_roi",
             "PlanarFreehandROI": "freehand_roi", "Angle": "angle", "CobbAngle": "cobb", "Probe": "probe"}
    assert sorted(m.kind for m in result.measurements) == sorted(kinds.values())
    for a in annotations:
        m = next(m for m in result.measurements if m.kind == kinds[a["toolName"]])
        assert m.sop_instance_uid == img.sop_instance_uid and m.series_instance_uid == ct.series_instance_uid
        assert m.plane.orientation == "axial" and m.slice_index == 4
        want = np.asarray(a["points"])
        got = np.asarray(m.points)
        if m.kind == "ellipse_roi":  # the same centre and axis ends (Cornerstone puts the longer axis first)
            got = np.array(sorted(map(tuple, cs3d_points(m).round(6))))
            want = np.array(sorted(map(tuple, want.round(6))))
        elif m.kind == "bidirectional":
            got = cs3d_points(m)
        assert np.max(np.abs(got - want)) <= TOL_MM, (m.kind, got, want)
    labelled = next(m for m in result.measurements if m.kind == "length")
    assert labelled.label == "length from OHIF"
    ellipse = next(m for m in result.measurements if m.kind == "ellipse_roi")
    assert ellipse.stats is not None and ellipse.stats.mean == 40.0 and ellipse.stats.sd == 20.0


# -- what cannot be imported says why ------------------------------------------------------------------------
def test_import_lists_what_cannot_be_placed_and_refuses_other_files(tmp_path: Path) -> None:
    case, case_path = make_case_with_series(tmp_path / "case")
    export = write_sr(case, case_path, tmp_path / "sr.dcm")
    # no series at hand: every measurement is listed with its reason, findings still come
    result = import_sr(export.paths, Case(), SeriesLookup([]))
    assert result.measurements == [] and len(result.not_placed) == len(case.measurements) - len(export.skipped)
    assert all("frame of reference" in n.reason for n in result.not_placed)
    assert [f.label for f in result.findings] == ["T5-T6 mass"]
    # another patient than the images at hand: refused
    ct = next(s for s in case.series if s.modality == "CT")
    others = []
    for h in series_headers(case_path, ct):
        h.PatientID = "SOMEONE-ELSE"
        others.append(h)
    with pytest.raises(SrImportError, match="another patient"):
        import_sr(export.paths, Case(), SeriesLookup.from_headers(others))
    # not an SR
    with pytest.raises(SrImportError, match="not a DICOM Structured Report"):
        import_sr(series_headers(case_path, ct)[0].filename, Case(), SeriesLookup([]))
    bad = tmp_path / "junk.dcm"
    bad.write_bytes(b"not dicom")
    with pytest.raises(SrImportError, match="not a readable DICOM file"):
        import_sr(bad, Case(), SeriesLookup([]))
