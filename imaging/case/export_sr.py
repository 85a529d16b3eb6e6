"""DICOM Comprehensive 3D SR Measurement Report (TID 1500) of a case, made with highdicom. Qt-free.

Content (one measurement group per measurement, one per finding):

* lengths, bidirectional axes, CC extents, angles and Cobb angles: TID 1501 groups whose TID 300
  measurements carry their SCOORD3D coordinates (POLYLINE in the series' frame of reference, LPS mm) and
  the source image (the SOP instance drawn on, when drawn on an acquired plane);
* ellipse / polygon / freehand ROIs: TID 1410 planar ROI groups with the SCOORD3D region (ELLIPSE with
  the major and minor axis endpoints, or a closed POLYGON), the area and the cached statistics (mean, SD,
  min, max as "Attenuation Coefficient" with a Derivation on CT, voxel count);
* a finding group per finding: tracking id, finding type Neoplasm, finding sites (the vertebral levels)
  and qualitative evaluations: the Bilsky grade (final and suggested) and the SINS total.

Codes: SNOMED CT / DCM / UCUM from pydicom's code dictionary (vertebrae C1-L5, sacrum, coccyx, Length,
Long/Short axis, Area, Angle, Cobb angle, Mean, SD, Min, Max...). Concepts without a standard code known
to us use the local coding scheme **99SPINECASE** (declared in the Coding Scheme Identification
Sequence): the Bilsky grade and its values, the SINS total, the craniocaudal extent, the voxel count and
the levels S1-S5, T13, L6 (SNOMED has codes for them, but none we could verify here — we never invent
codes). Measurements on series without pixel spacing have no patient coordinates and are left out (listed
in :attr:`SrExport.skipped`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import highdicom as hd
import numpy as np
from highdicom.coding_schemes import CodingSchemeIdentificationItem
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from imaging import measure
from imaging.case.analysis import level_at_point
from imaging.case.model import ROI_KINDS, Case, Finding, Measurement
from imaging.case.sources import series_headers
from imaging.spine.bilsky import BILSKY_GRADE_INFO
from imaging.spine.levels import LevelRange

__all__ = ["LOCAL_SCHEME", "SrExport", "build_sr", "level_code", "write_sr"]

LOCAL_SCHEME = "99SPINECASE"
_CS = hd.sr.CodedConcept


def _local(value: str, meaning: str) -> hd.sr.CodedConcept:
    return _CS(value=value, scheme_designator=LOCAL_SCHEME, meaning=meaning)


BILSKY_CONCEPT = _local("BILSKY", "Bilsky epidural spinal cord compression grade")
BILSKY_SUGGESTED_CONCEPT = _local("BILSKYSUG", "Bilsky grade suggested from contours")
SINS_CONCEPT = _local("SINS", "Spinal instability neoplastic score total")
CC_EXTENT_CONCEPT = _local("CCEXTENT", "Craniocaudal extent")
VOXEL_COUNT_CONCEPT = _local("VOXELCOUNT", "Number of voxels in region")
# Code meanings are LO values (at most 64 characters), so they carry the grade's short name from the one
# place the scale is defined; the full definitions are too long for a code meaning.
_BILSKY_MEANINGS = {g: f"Bilsky grade {g}: {info.short_name}" for g, info in BILSKY_GRADE_INFO.items()}

_UNITS = {
    "mm": codes.UCUM.Millimeter, "mm2": codes.UCUM.SquareMillimeter, "deg": codes.UCUM.Degree,
    "HU": codes.UCUM.HounsfieldUnit, "": _CS("[arb'U]", "UCUM", "arbitrary unit"),
    "voxels": _CS("{voxels}", "UCUM", "voxels"), "score": _CS("{score}", "UCUM", "score"),
}
_NAMES = {
    "length": codes.SCT.Length, "long_axis": codes.SCT.LongAxis, "short_axis": codes.SCT.ShortAxis,
    "area": codes.SCT.Area, "angle": codes.SCT.Angle, "cobb_angle": codes.SCT.CobbAngle,
    "cc_extent": CC_EXTENT_CONCEPT, "voxel_count": VOXEL_COUNT_CONCEPT,
}
_DERIVATIONS = {"mean": codes.SCT.Mean, "sd": codes.SCT.StandardDeviation, "min": codes.SCT.Minimum,
                "max": codes.SCT.Maximum}


def level_code(level: str) -> hd.sr.CodedConcept:
    """The coded anatomic location of a vertebral level: SNOMED CT for C1-C7, T1-T12, L1-L5 and the coccyx
    (pydicom's code dictionary), the local 99SPINECASE scheme for S1-S5, T13 and L6."""
    if level == "Co":
        return _CS(**_code_args(codes.SCT.Coccyx))
    name = f"{level}Vertebra"
    if level not in ("T13", "L6") and hasattr(codes.SCT, name):
        return _CS(**_code_args(getattr(codes.SCT, name)))
    words = {"S": "sacral", "T": "thoracic", "L": "lumbar"}
    return _local(f"V{level}", f"{level} vertebra ({words.get(level[0], '')} level {level[1:]})")


def _code_args(code: object) -> dict[str, str]:
    return {"value": code.value, "scheme_designator": code.scheme_designator,  # type: ignore[attr-defined]
            "meaning": code.meaning}  # type: ignore[attr-defined]


def _uid_from_id(obj_id: str) -> str:
    """A DICOM UID derived from an object's uuid hex id (2.25 form), stable across exports."""
    return f"2.25.{uuid.UUID(hex=obj_id).int}"


def _pn(name: str) -> str:
    """A DICOM person name; a one-word handle gets the trailing caret that marks a single component."""
    text = (name or "SpineCase reader").replace("\\", "/").strip()[:63]
    return text if "^" in text else text + "^"


@dataclass
class SrExport:
    """An SR dataset and what it left out (measurement id -> reason)."""

    dataset: Dataset
    skipped: dict[str, str] = field(default_factory=dict)


def _levels_of(case: Case, m: Measurement, finding: Finding | None) -> list[str]:
    found = {lv for p in m.points if (lv := level_at_point(p, case.vertebral_labels)) is not None}
    if found:
        from imaging.spine.levels import level_index

        ordered = sorted(found, key=level_index)
        return LevelRange(ordered[0], ordered[-1]).levels
    if finding is not None and finding.level_range is not None:
        return finding.level_range.levels
    return []


def _sites(levels: Sequence[str]) -> list[hd.sr.FindingSite]:
    return [hd.sr.FindingSite(anatomic_location=level_code(lv)) for lv in levels]


def _source_images(m: Measurement, by_sop: dict[str, Dataset]) -> list[hd.sr.SourceImageForMeasurement]:
    ds = by_sop.get(m.sop_instance_uid or "")
    if ds is None:
        return []
    frames = [m.frame_number] if m.frame_number else None
    return [hd.sr.SourceImageForMeasurement(str(ds.SOPClassUID), str(ds.SOPInstanceUID), frames)]


_Group = hd.sr.MeasurementsAndQualitativeEvaluations | hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations


def _measurement_group(case: Case, m: Measurement, frame_uid: str, by_sop: dict[str, Dataset]) -> _Group:
    finding = case.finding(m.finding_id) if m.finding_id else None
    title = f"{m.kind}: {m.label}" if m.label else m.kind
    tracking = hd.sr.TrackingIdentifier(uid=_uid_from_id(m.id), identifier=" ".join(title.split())[:64])
    sites = _sites(_levels_of(case, m, finding)) or None
    images = _source_images(m, by_sop) or None
    pts = np.asarray(m.points, dtype=np.float64)
    values = {v.name: v for v in m.values()}

    def num(name: str, coords: list[hd.sr.CoordinatesForMeasurement3D] | None = None) -> hd.sr.Measurement:
        v = values[name]
        if name in _DERIVATIONS:
            concept = codes.DCM.AttenuationCoefficient if v.unit == "HU" else _local("INTENSITY", "Image intensity")
            return hd.sr.Measurement(name=concept, value=v.value, unit=_UNITS[v.unit],
                                     derivation=_DERIVATIONS[name], referenced_images=images)
        return hd.sr.Measurement(name=_NAMES[name], value=v.value, unit=_UNITS[v.unit],
                                 referenced_images=images, referenced_coordinates=coords)

    def line(a: np.ndarray) -> hd.sr.CoordinatesForMeasurement3D:
        return hd.sr.CoordinatesForMeasurement3D(graphic_type=hd.sr.GraphicTypeValues3D.POLYLINE, graphic_data=a,
                                                 frame_of_reference_uid=frame_uid)

    if m.kind in ROI_KINDS:
        if m.kind == "ellipse_roi":
            c, e1, e2 = pts
            a, b = e1 - c, e2 - c
            b = b - np.dot(b, a) / np.dot(a, a) * a  # make the axes perpendicular, as the area does
            if np.linalg.norm(b) > np.linalg.norm(a):
                a, b = b, a
            region = hd.sr.ImageRegion3D(hd.sr.GraphicTypeValues3D.ELLIPSE,
                                         np.array([c - a, c + a, c - b, c + b]), frame_uid)
        else:
            region = hd.sr.ImageRegion3D(hd.sr.GraphicTypeValues3D.POLYGON, np.vstack([pts, pts[:1]]), frame_uid)
        nums = [num(n) for n in ("area", "mean", "sd", "min", "max", "voxel_count") if n in values]
        return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=tracking, referenced_region=region, finding_type=codes.SCT.Lesion,
            finding_sites=sites, measurements=nums)
    if m.kind == "bidirectional":
        b = measure.bidirectional(*pts)
        nums = [num("long_axis", [line(np.array(b.long_axis))]), num("short_axis", [line(np.array(b.short_axis))])]
    elif m.kind in ("length", "cc_extent"):
        key = "length" if m.kind == "length" else "cc_extent"
        nums = [num(key, [line(pts)])]
    elif m.kind == "angle":
        nums = [num("angle", [line(pts)])]
    elif m.kind == "cobb":
        nums = [num("cobb_angle", [line(pts[0:2]), line(pts[2:4])])]
    elif m.kind == "probe":
        point = hd.sr.CoordinatesForMeasurement3D(graphic_type=hd.sr.GraphicTypeValues3D.POINT, graphic_data=pts[:1],
                                                  frame_of_reference_uid=frame_uid)
        v = values["value"]
        concept = codes.DCM.AttenuationCoefficient if v.unit == "HU" else _local("INTENSITY", "Image intensity")
        nums = [hd.sr.Measurement(name=concept, value=v.value, unit=_UNITS[v.unit], referenced_images=images,
                                  referenced_coordinates=[point])]
    else:  # pragma: no cover - every kind is handled above
        raise ValueError(m.kind)
    return hd.sr.MeasurementsAndQualitativeEvaluations(tracking_identifier=tracking, finding_type=codes.SCT.Lesion,
                                                      finding_sites=sites, measurements=nums)


def _finding_group(f: Finding) -> hd.sr.MeasurementsAndQualitativeEvaluations | None:
    evaluations = []
    if f.bilsky.grade is not None:
        evaluations.append(hd.sr.QualitativeEvaluation(BILSKY_CONCEPT, _local(f.bilsky.grade,
                                                                                _BILSKY_MEANINGS[f.bilsky.grade])))
    if f.bilsky.suggested_grade is not None:
        g = f.bilsky.suggested_grade
        evaluations.append(hd.sr.QualitativeEvaluation(BILSKY_SUGGESTED_CONCEPT, _local(g, _BILSKY_MEANINGS[g])))
    score = f.sins_score()
    nums = [hd.sr.Measurement(name=SINS_CONCEPT, value=score.total, unit=_UNITS["score"])] if score else []
    sites = _sites(f.level_range.levels) if f.level_range is not None else []
    if not (evaluations or nums or sites):
        return None
    title = f"finding: {f.label}" if f.label else "finding"
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=_uid_from_id(f.id), identifier=" ".join(title.split())[:64]),
        finding_type=codes.SCT.Neoplasm, finding_sites=sites or None, measurements=nums or None,
        qualitative_evaluations=evaluations or None)


def build_sr(case: Case, case_path: str | Path, *, search_folders: Iterable[str | Path] = (),
             series_instance_uid: str | None = None, sop_instance_uid: str | None = None) -> SrExport:
    """Build the SR of a case. The source DICOM headers are read from the series files the case
    references (path hints relative to ``case_path``'s folder, then ``search_folders``); raises
    :class:`~imaging.case.sources.MissingSeries` when a referenced series cannot be found and ValueError
    when nothing can be exported."""
    skipped: dict[str, str] = {}
    evidence: list[Dataset] = []
    by_sop: dict[str, Dataset] = {}
    frame_of: dict[str, str] = {}
    needed = [m for m in case.measurements]
    series_uids = list(dict.fromkeys(m.series_instance_uid for m in needed if m.series_instance_uid))
    for uid in series_uids:
        ref = case.series_ref(uid)
        if ref is None:
            for m in needed:
                if m.series_instance_uid == uid:
                    skipped[m.id] = f"series {uid} is not among the case's series"
            continue
        headers = series_headers(case_path, ref, search_folders)
        evidence.extend(headers)
        for ds in headers:
            by_sop[str(ds.SOPInstanceUID)] = ds
        frame_of[uid] = str(getattr(headers[0], "FrameOfReferenceUID", "") or ref.frame_of_reference_uid or "")
    groups: list[object] = []
    for m in needed:
        if m.id in skipped:
            continue
        if m.series_instance_uid is None:
            skipped[m.id] = "no series"
            continue
        if not m.pixel_spacing_known:
            skipped[m.id] = "the series has no pixel spacing, so there are no patient coordinates (values in px)"
            continue
        if not frame_of.get(m.series_instance_uid):
            skipped[m.id] = "the series has no frame of reference"
            continue
        if not m.values():
            skipped[m.id] = "no value (probe or statistics not computed)"
            continue
        groups.append(_measurement_group(case, m, frame_of[m.series_instance_uid], by_sop))
    for f in case.findings:
        g = _finding_group(f)
        if g is not None:
            groups.append(g)
    if not evidence:
        raise ValueError("nothing to export as DICOM SR: no measurement refers to a series with DICOM files")
    modality = str(getattr(evidence[0], "Modality", "")).upper()
    procedure = codes.LN.MRIUnspecifiedBodyRegion if modality == "MR" else codes.LN.CTUnspecifiedBodyRegion
    reader = case.readers[0].name if case.readers else next((m.reader for m in case.measurements if m.reader), "")
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name=_pn(reader)))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer),
        procedure_reported=procedure, imaging_measurements=groups)  # type: ignore[arg-type]
    sr = hd.sr.Comprehensive3DSR(
        evidence=evidence, content=report[0], series_instance_uid=series_instance_uid or generate_uid(),
        series_number=990, sop_instance_uid=sop_instance_uid or generate_uid(), instance_number=1,
        manufacturer="SpineCase", series_description="SpineCase measurements (research, not diagnostic)",
        manufacturer_model_name="SpineCase", software_versions="SpineCase", is_complete=False, is_final=False,
        specific_character_set="ISO_IR 192",  # UTF-8: labels may hold any script
        coding_schemes=[CodingSchemeIdentificationItem(
            designator=LOCAL_SCHEME, name="SpineCase local codes",
            responsible_organization="SpineCase research software project")],
    )
    return SrExport(sr, skipped)


def write_sr(case: Case, case_path: str | Path, out: str | Path, **kwargs: object) -> SrExport:
    """Build the SR (see :func:`build_sr`) and write it to ``out`` (DICOM Part 10 file, atomically)."""
    from io import BytesIO

    from imaging.case.store import atomic_write

    export = build_sr(case, case_path, **kwargs)  # type: ignore[arg-type]
    buf = BytesIO()
    export.dataset.save_as(buf, enforce_file_format=True)
    atomic_write(out, buf.getvalue())
    return export
