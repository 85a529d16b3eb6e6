"""DICOM SEG (outlines and finding ROIs) and key images (KOS, secondary captures): dciodvfy and dsrdump clean,
Slicer terminology in the segments, SEG import as outlines; an SR written by dcmqi (3D Slicer) imports its
findings and levels and lists its segment measurements as not placed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom

from imaging import measure
from imaging.case.export_kos import key_image_uids, write_key_images
from imaging.case.export_report import load_case_volumes
from imaging.case.export_seg import SEGMENT_KINDS, read_seg_outlines, write_seg
from imaging.case.model import Case
from imaging.case.sources import series_headers
from imaging.case.sr_codes import level_code
from imaging.case.sr_import import SeriesLookup, import_sr
from tests.interop_helpers import dciodvfy_errors, dsrdump, require
from tests.test_case_factory import make_case_with_series


def test_seg_of_outlines_and_rois_is_valid_and_reads_back_as_outlines(tmp_path: Path) -> None:
    case, case_path = make_case_with_series(tmp_path / "case")
    export = write_seg(case, case_path, tmp_path / "seg.dcm")
    assert export.paths == [tmp_path / "seg.dcm"] and export.skipped == {}
    assert dciodvfy_errors(export.paths[0]) == []
    seg = hd.seg.segread(export.paths[0])
    ct = next(s for s in case.series if s.modality == "CT")
    headers = series_headers(case_path, ct)
    assert str(seg.ReferencedSeriesSequence[0].SeriesInstanceUID) == ct.series_instance_uid
    labels = {str(d.SegmentLabel): d for d in seg.SegmentSequence}
    for kind, spec in SEGMENT_KINDS.items():
        d = labels[spec.label]
        assert str(d.SegmentedPropertyTypeCodeSequence[0].CodeValue) == spec.property_type.value
        assert str(d.SegmentedPropertyCategoryCodeSequence[0].CodeValue) == spec.category.value
        assert list(d.RecommendedDisplayCIELabValue) == list(hd.color.CIELabColor.from_rgb(*spec.rgb).value), kind
    rois = [m for m in case.measurements if m.kind.endswith("_roi") and m.finding_id]
    assert sum(1 for name in labels if name.startswith("Tumour ROI")) == len(rois)
    # every outline comes back on its image, close to what was drawn (pixel-centre boundary: within a pixel)
    outlines = read_seg_outlines(export.paths[0], headers)
    finding = case.findings[0]
    for c in finding.contours:
        back = [o for o in outlines
                if o.label == SEGMENT_KINDS[c.kind].label and o.sop_instance_uid == c.sop_instance_uid]
        assert back, c.kind
        drawn = measure.polygon_area(np.asarray(c.points))
        got = max(measure.polygon_area(o.points) for o in back)
        pts = np.asarray(c.points)
        perimeter = float(np.linalg.norm(np.roll(pts, -1, axis=0) - pts, axis=1).sum())
        pixel = float(headers[0].PixelSpacing[0])
        assert abs(got - drawn) <= perimeter * pixel + 2 * pixel**2, (c.kind, drawn, got)
        contour = back[0].contour(slice_index=c.slice_index)
        assert contour.kind == c.kind and contour.series_instance_uid == c.series_instance_uid


def test_key_images_kos_and_secondary_captures(tmp_path: Path) -> None:
    case, case_path = make_case_with_series(tmp_path / "case")
    keys, skipped = key_image_uids(case)
    graded = case.findings[0].bilsky.sop_instance_uid
    assert graded in keys and any("Bilsky 3" in why for why in keys[graded])
    assert {m.id for m in case.measurements if not m.sop_instance_uid} == set(skipped)
    volumes, _ = load_case_volumes(case, case_path)
    export = write_key_images(case, case_path, tmp_path / "kos.dcm", volumes=volumes, secondary_capture=True)
    assert export.paths == [tmp_path / "kos.dcm"] and len(export.secondary_captures) == len(keys)
    for p in [*export.paths, *export.secondary_captures]:
        assert dciodvfy_errors(p) == [], p
    out = dsrdump(export.paths[0])
    assert "Of Interest" in out and "SpineCase key images" in out
    kos = pydicom.dcmread(export.paths[0])
    refs = {str(i.ReferencedSOPInstanceUID) for s in kos.CurrentRequestedProcedureEvidenceSequence
            for se in s.ReferencedSeriesSequence for i in se.ReferencedSOPSequence}
    assert refs == set(keys)
    sc = pydicom.dcmread(export.secondary_captures[0])
    assert sc.BurnedInAnnotation == "YES" and sc.PhotometricInterpretation == "RGB"
    assert sc.StudyInstanceUID == kos.StudyInstanceUID and sc.PatientID == kos.PatientID
    pixels = sc.pixel_array.astype(int)
    assert ((pixels.max(axis=2) - pixels.min(axis=2)) > 60).sum() > 50  # coloured annotations drawn in


def test_sr_written_by_dcmqi_imports_findings_and_levels(tmp_path: Path) -> None:
    """dcmqi's tid1500writer (3D Slicer's writer): segment-based measurements with a finding site at T6."""
    writer = require("tid1500writer", "dcmqi writes the SR 3D Slicer would")
    case, case_path = make_case_with_series(tmp_path / "case")
    (tmp_path / "seg").mkdir()
    seg = write_seg(case, case_path, tmp_path / "seg" / "seg.dcm").paths[0]
    ct = next(s for s in case.series if s.modality == "CT")
    headers = series_headers(case_path, ct)
    library = tmp_path / "library"
    library.mkdir()
    graded = case.findings[0].bilsky.sop_instance_uid
    src = next(h for h in headers if str(h.SOPInstanceUID) == graded)
    shutil.copy(src.filename, library / "image.dcm")
    seg_ds = pydicom.dcmread(seg)
    t6 = level_code("T6")
    metadata = {
        "SeriesDescription": "Slicer measurements", "SeriesNumber": "1001", "InstanceNumber": "1",
        "compositeContext": ["seg.dcm"], "imageLibrary": ["image.dcm"],
        "observerContext": {"ObserverType": "PERSON", "PersonObserverName": "Slicer^User"},
        "VerificationFlag": "UNVERIFIED", "CompletionFlag": "COMPLETE", "activitySession": "1", "timePoint": "1",
        "Measurements": [{
            "TrackingIdentifier": "Tumour", "ReferencedSegment": 4,
            "SourceSeriesForImageSegmentation": ct.series_instance_uid,
            "segmentationSOPInstanceUID": str(seg_ds.SOPInstanceUID),
            "Finding": {"CodeValue": "108369006", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Neoplasm"},
            "FindingSite": {"CodeValue": t6.value, "CodingSchemeDesignator": "SCT", "CodeMeaning": t6.meaning},
            "measurementItems": [{
                "value": "40.5",
                "quantity": {"CodeValue": "112031", "CodingSchemeDesignator": "DCM",
                             "CodeMeaning": "Attenuation Coefficient"},
                "units": {"CodeValue": "[hnsf'U]", "CodingSchemeDesignator": "UCUM",
                          "CodeMeaning": "Hounsfield unit"},
                "derivationModifier": {"CodeValue": "373098007", "CodingSchemeDesignator": "SCT",
                                       "CodeMeaning": "Mean"}}],
        }],
    }
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps(metadata), encoding="utf-8")
    out = tmp_path / "dcmqi-sr.dcm"
    result = subprocess.run([writer, "--inputMetadata", str(meta), "--inputImageLibraryDirectory", str(library),
                             "--inputCompositeContextDirectory", str(seg.parent), "--outputDICOM", str(out)],
                            capture_output=True, timeout=120)
    assert result.returncode == 0 and out.exists(), (result.stdout + result.stderr).decode("utf-8", "replace")[-2000:]
    imported = import_sr(out, Case(), SeriesLookup.from_headers(headers))
    assert [(f.label, f.levels_text) for f in imported.findings] == [("Tumour", "T6")]
    assert imported.measurements == []
    assert len(imported.not_placed) == 1 and "without image coordinates" in imported.not_placed[0].reason
