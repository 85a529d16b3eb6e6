"""DICOM Comprehensive 3D SR Measurement Reports (TID 1500) of a case, made with highdicom. Qt-free.

Written so that OHIF (3.x, Cornerstone3D) shows and re-hydrates every measurement, 3D Slicer (dcmqi's
``tid1500reader``) reads every group with every level, and :mod:`imaging.case.sr_import` reads them back
exactly. The choices, each checked against how those readers parse an SR (tests/test_interop_*.py):

* **One SR per study.** An SR belongs to one study; OHIF opens an SR within its study and only hydrates
  measurements on that study's images ("no support for SRs that have measurements from multiple studies"),
  and "Procedure reported" must name that study's procedure. A case with pre- and post-operative MR gets an
  SR in each study; a finding measured in both appears in both with the same Tracking UID (longitudinal
  tracking, as TID 1500 intends).
* **One TID 1501 group per measurement**, encoded by its kind's registered spec
  (:mod:`imaging.measurement_kinds`; this module names no kind): the Tracking Identifier
  (``spec.sr_tracking_identifier``: Cornerstone3D's ``Cornerstone3DTools@^0.1.0:Length``...), the coded
  values (``spec.sr_values``: concepts such as Cornerstone3D's "Long Axis"/"Short Axis"), and the SCOORD3D of
  each value (``spec.sr_coordinates``: one POLYLINE per value as Cornerstone3D writes them, angle
  ``[a, v, v, b]``, Cobb ``[l1a, l1b, l2a, l2b]``) or, for an ROI, its outline under its first value
  (``spec.sr_region``: ELLIPSE, closed POLYLINE), plus the source image. Coordinates are SCOORD3D (LPS mm in
  the series' frame of reference): exact for reformats too, and safe when a finding's groups are merged
  (below). A measurement whose kind is not registered, that has no coded value or whose encoding fails is
  left out with the reason (``skipped``); the others are written.
* **Findings linked by Tracking UID.** A finding's measurement groups and its finding group share the
  finding's Tracking UID; OHIF merges groups by Tracking UID, so the finding group (levels, involvement,
  lesion type, histology, and the SR items of every registered finding score: Bilsky, SINS...; no
  coordinates of its own) never stands alone without coordinates -- which crashed OHIF. A finding with no
  exportable measurement is therefore left out (listed in ``skipped``; its data is in the CSV and the case
  file). Measurements outside findings have their own Tracking UID; kinds that do not measure a lesion
  (angle, Cobb, probe: ``lesion_measurement`` False) are never typed "Lesion".
* **Finding sites**: the vertebra of each level for bone lesions (S1-S5: SNOMED CT sacrum), the organ with
  its laterality for soft-tissue lesions (Finding.site). dcmqi keeps one Finding Site per group, so the
  level range is also a TEXT item ("Vertebral levels" = "T5-T6"), which dcmqi keeps.
* **Case-level scores** (registered with scope "case", e.g. a prognosis score) go into TID 1500's own
  containers after the measurements: numbers into "Derived Imaging Measurements" (DCM 126011), codes and
  text into "Qualitative Evaluations" (UMLS C0034375) -- in every SR of the case (it is one patient's).

Measurements on series without pixel spacing have no patient coordinates and are left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
from highdicom.coding_schemes import CodingSchemeIdentificationItem
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from imaging.case.analysis import level_at_point
from imaging.case.findings import SECTOR_NAMES
from imaging.case.model import Case, Finding, Measurement
from imaging.case.sources import series_headers
from imaging.case.sr_codes import (
    FINDING_LABEL_PREFIX,
    FINDING_SITE_CODES,
    HISTOLOGY_CONCEPT,
    INTENSITY_CONCEPTS,
    INVOLVEMENT_CONCEPT,
    LATERALITY_CODES,
    LESION_TYPE_CODES,
    LESION_TYPE_CONCEPT,
    LEVELS_CONCEPT,
    PLANE_CONCEPT,
    level_code,
    sr_unit,
)
from imaging.coding import LOCAL_SCHEME, Code
from imaging.measurement_kinds import kind_spec
from imaging.scores import SrCoded, SrItem, SrNumeric, SrText, answers_of, registered_scores, result_of
from imaging.spine.levels import LevelRange, level_index

__all__ = ["LOCAL_SCHEME", "SrDocument", "SrExport", "build_sr", "level_code", "score_items", "sr_file_names",
           "write_sr"]

COMMENT = codes.DCM.Comment
"""TEXT "Comment" (DCM 121106): the label, where Cornerstone3D keeps a measurement's label."""
DERIVED_MEASUREMENTS = Code("126011", "DCM", "Derived Imaging Measurements")
QUALITATIVE_EVALUATIONS = Code("C0034375", "UMLS", "Qualitative Evaluations")
SR_SERIES_NUMBER = 990


def uid_from_id(obj_id: str) -> str:
    """A DICOM UID derived from an object's uuid hex id (2.25 form), stable across exports."""
    return f"2.25.{uuid.UUID(hex=obj_id).int}"


def _pn(name: str) -> str:
    """A DICOM person name; a one-word handle gets the trailing caret that marks a single component."""
    text = (name or "SpineCase reader").replace("\\", "/").strip()[:63]
    return text if "^" in text else text + "^"


@dataclass
class SrDocument:
    """One SR dataset: the study it belongs to and the ids of the measurements and findings in it."""

    dataset: Dataset
    study_instance_uid: str
    measurement_ids: list[str] = field(default_factory=list)
    finding_ids: list[str] = field(default_factory=list)


@dataclass
class SrExport:
    """The SRs of a case (one per study) and what was left out (measurement or finding id -> reason;
    ``<finding or case id>/<score key>`` for a score that could not be written); ``paths``: where
    :func:`write_sr` wrote them."""

    documents: list[SrDocument]
    skipped: dict[str, str] = field(default_factory=dict)
    paths: list[Path] = field(default_factory=list)

    @property
    def dataset(self) -> Dataset:
        """The first SR (the only one for a single-study case)."""
        return self.documents[0].dataset


class _NotEncodable(Exception):
    """A measurement its kind's spec cannot put in the SR (the message says why)."""


# -- groups -----------------------------------------------------------------------------------------------
def _levels_of(case: Case, m: Measurement, finding: Finding | None) -> list[str]:
    found = {lv for p in m.points if (lv := level_at_point(p, case.vertebral_labels)) is not None}
    if found:
        ordered = sorted(found, key=level_index)
        return LevelRange(ordered[0], ordered[-1]).levels
    if finding is not None and finding.level_range is not None:
        return finding.level_range.levels
    return []


def _level_sites(levels: Sequence[str]) -> list[hd.sr.FindingSite]:
    out, seen = [], set()
    for lv in levels:
        c = level_code(lv)
        if c.value not in seen:  # S1-S5 are all the sacrum
            seen.add(c.value)
            out.append(hd.sr.FindingSite(anatomic_location=c))
    return out


def _finding_sites(case: Case, finding: Finding | None, m: Measurement | None) -> list[hd.sr.FindingSite]:
    if finding is not None and finding.site is not None:
        side = LATERALITY_CODES.get(finding.laterality or "")
        return [hd.sr.FindingSite(anatomic_location=FINDING_SITE_CODES[finding.site], laterality=side)]
    if m is not None:
        return _level_sites(_levels_of(case, m, finding))
    return _level_sites(finding.level_range.levels) if finding is not None and finding.level_range else []


_CONTROL = {c: " " for c in range(32) if c not in (10, 13)}


def sr_text(value: str) -> str:
    """Text for a UT Text Value: control characters other than CR and LF (a tab...) become spaces, as
    dciodvfy requires."""
    return value.translate(_CONTROL)


def _text(concept: Code, value: str) -> hd.sr.TextContentItem:
    return hd.sr.TextContentItem(name=concept, value=sr_text(value),
                                 relationship_type=hd.sr.RelationshipTypeValues.CONTAINS)


def _source_image(sop: str | None, frame: int | None, by_sop: dict[str, Dataset]
                  ) -> list[hd.sr.SourceImageForMeasurement] | None:
    ds = by_sop.get(sop or "")
    if ds is None:
        return None
    return [hd.sr.SourceImageForMeasurement(str(ds.SOPClassUID), str(ds.SOPInstanceUID),
                                            [frame] if frame else None)]


def _measurement_group(case: Case, m: Measurement, frame_uid: str, by_sop: dict[str, Dataset]
                       ) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    """The TID 1501 group of a measurement, encoded by its kind's spec. Raises :class:`_NotEncodable`."""
    try:
        spec = kind_spec(m.kind)
    except ValueError:
        raise _NotEncodable(f"its kind {m.kind!r} is not registered in this build of SpineCase") from None
    finding = case.finding(m.finding_id) if m.finding_id else None
    tracking_uid = uid_from_id(finding.id if finding is not None else m.id)
    tracking = hd.sr.TrackingIdentifier(uid=tracking_uid, identifier=spec.sr_tracking_identifier)
    images = _source_image(m.sop_instance_uid, m.frame_number, by_sop)
    pts = np.asarray(m.points, dtype=np.float64)
    region = spec.sr_region(pts)
    nums: list[hd.sr.Measurement] = []
    for value_spec, v in spec.sr_values(m.values()):
        concept = value_spec.sr_concept
        if concept is None and value_spec.dimension == "intensity":
            concept = INTENSITY_CONCEPTS.get(v.unit, INTENSITY_CONCEPTS[""])
        if concept is None:
            continue  # a value without a concept cannot be coded (it is in the CSV)
        # an ROI's outline goes under its first value; other kinds' values each carry their coordinates
        graphics = ([region] if not nums else []) if region is not None else spec.sr_coordinates(value_spec.name, pts)
        coords = [hd.sr.CoordinatesForMeasurement3D(
            graphic_type=g.graphic_type, graphic_data=np.asarray(g.points, dtype=np.float64).reshape(-1, 3),
            frame_of_reference_uid=frame_uid) for g in graphics]
        nums.append(hd.sr.Measurement(name=concept, value=v.value, unit=sr_unit(value_spec, v.unit),
                                      derivation=value_spec.sr_derivation, referenced_images=images,
                                      referenced_coordinates=coords or None))
    if not nums:
        raise _NotEncodable(f"the {spec.name} has no value the SR can code (none computed, or none with an SR "
                            "concept)")
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=tracking,
        finding_type=codes.SCT.Neoplasm if finding is not None and spec.lesion_measurement else None,
        finding_sites=_finding_sites(case, finding, m) or None, measurements=nums)
    group[0].ContentSequence.append(_text(PLANE_CONCEPT, m.plane.orientation))
    if m.label.strip():
        group[0].ContentSequence.append(_text(COMMENT, m.label))
    return group


def score_items(case: Case, owner: Finding | Case, skipped: dict[str, str]) -> list[SrItem]:
    """The SR items of every registered score of ``owner``'s scope (a finding's scores, or the case-level
    ones, in registry order); a score whose hook fails is noted in ``skipped`` (``<owner id>/<score key>``)
    and left out."""
    owner_id = case.case_id if isinstance(owner, Case) else owner.id
    items: list[SrItem] = []
    for spec in registered_scores("case" if isinstance(owner, Case) else "finding"):
        try:
            items.extend(spec.sr_items(answers_of(spec, owner), result_of(spec, owner, case)))
        except Exception as exc:  # noqa: BLE001 - one score's broken encoding must not lose the report
            skipped[f"{owner_id}/{spec.key}"] = f"{spec.name} not written to the SR ({type(exc).__name__}: {exc})"
    return items


def _finding_group(case: Case, f: Finding, by_sop: dict[str, Dataset], skipped: dict[str, str]
                   ) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    items = score_items(case, f, skipped)
    evaluations = [hd.sr.QualitativeEvaluation(i.concept, i.value) for i in items if isinstance(i, SrCoded)]
    if f.lesion_type is not None:
        evaluations.append(hd.sr.QualitativeEvaluation(LESION_TYPE_CONCEPT, LESION_TYPE_CODES[f.lesion_type]))
    nums = [hd.sr.Measurement(name=i.concept, value=i.value, unit=i.unit) for i in items if isinstance(i, SrNumeric)]
    source = None
    ds = by_sop.get(f.bilsky.sop_instance_uid or "")
    if ds is not None:  # the image the Bilsky grade was given on
        source = [hd.sr.SourceImageForMeasurementGroup(str(ds.SOPClassUID), str(ds.SOPInstanceUID))]
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=uid_from_id(f.id), identifier=" ".join(f"{FINDING_LABEL_PREFIX}: {f.label}".split())[:64]),
        finding_type=codes.SCT.Neoplasm, finding_sites=_finding_sites(case, f, None) or None,
        measurements=nums or None, qualitative_evaluations=evaluations or None, source_images=source)
    texts = []
    if f.levels_text:
        texts.append(_text(LEVELS_CONCEPT, f.levels_text))
    for inv in f.involvement:
        if inv.sectors:
            texts.append(_text(INVOLVEMENT_CONCEPT, f"{inv.level}: " + ", ".join(SECTOR_NAMES[s].lower()
                                                                               for s in inv.sectors)))
    texts.extend(_text(i.concept, i.value) for i in items if isinstance(i, SrText))
    if case.report.histology.strip():
        texts.append(_text(HISTOLOGY_CONCEPT, case.report.histology.strip()))
    if f.label.strip():
        texts.append(_text(COMMENT, f.label))
    group[0].ContentSequence.extend(texts)
    return group


def _case_containers(items: Sequence[SrItem]) -> list[hd.sr.ContainerContentItem]:
    """TID 1500's "Derived Imaging Measurements" (the numbers) and "Qualitative Evaluations" (codes, text)
    containers holding the case-level scores' items."""
    contains = hd.sr.RelationshipTypeValues.CONTAINS
    nums = [hd.sr.NumContentItem(name=i.concept, value=i.value, unit=i.unit, relationship_type=contains)
            for i in items if isinstance(i, SrNumeric)]
    quals: list[Any] = [hd.sr.CodeContentItem(name=i.concept, value=i.value, relationship_type=contains)
                        for i in items if isinstance(i, SrCoded)]
    quals += [_text(i.concept, i.value) for i in items if isinstance(i, SrText)]
    out = []
    for name, children in ((DERIVED_MEASUREMENTS, nums), (QUALITATIVE_EVALUATIONS, quals)):
        if children:
            container = hd.sr.ContainerContentItem(name=name, relationship_type=contains)
            container.ContentSequence = hd.sr.ContentSequence(children)
            out.append(container)
    return out


# -- documents --------------------------------------------------------------------------------------------
def _skip_reason(m: Measurement, frame_of: dict[str, str]) -> str | None:
    if m.series_instance_uid is None:
        return "no series"
    if not m.pixel_spacing_known:
        return "the series has no pixel spacing, so there are no patient coordinates (values in px)"
    if not frame_of.get(m.series_instance_uid):
        return "the series has no frame of reference"
    return None


def build_sr(case: Case, case_path: str | Path, *, search_folders: Iterable[str | Path] = (),
             uid_seed: str | None = None) -> SrExport:
    """Build the SRs of a case, one per study with measurements. The source DICOM headers are read from the
    series files the case references (path hints relative to ``case_path``'s folder, then
    ``search_folders``); raises :class:`~imaging.case.sources.MissingSeries` when a referenced series cannot
    be found and ValueError when nothing can be exported. ``uid_seed`` makes the SR UIDs reproducible."""
    skipped: dict[str, str] = {}
    headers_of: dict[str, list[Dataset]] = {}
    frame_of: dict[str, str] = {}
    by_sop: dict[str, Dataset] = {}
    for uid in dict.fromkeys(m.series_instance_uid for m in case.measurements if m.series_instance_uid):
        ref = case.series_ref(uid)
        if ref is None:
            for m in case.measurements:
                if m.series_instance_uid == uid:
                    skipped[m.id] = f"series {uid} is not among the case's series"
            continue
        headers = series_headers(case_path, ref, search_folders)
        headers_of[uid] = headers
        by_sop.update((str(ds.SOPInstanceUID), ds) for ds in headers)
        frame_of[uid] = str(getattr(headers[0], "FrameOfReferenceUID", "") or ref.frame_of_reference_uid or "")
    # The Bilsky grading images (they may be on a series without measurements)
    for f in case.findings:
        grading_series = f.bilsky.series_instance_uid
        if f.bilsky.sop_instance_uid and grading_series and f.bilsky.sop_instance_uid not in by_sop:
            ref = case.series_ref(grading_series)
            if ref is not None:
                try:
                    extra = series_headers(case_path, ref, search_folders)
                except Exception:  # noqa: BLE001 - the grading image is optional context
                    extra = []
                by_sop.update((str(ds.SOPInstanceUID), ds) for ds in extra)
    groups: dict[str, hd.sr.MeasurementsAndQualitativeEvaluations] = {}
    study_of: dict[str, str] = {}  # measurement id -> its study
    for m in case.measurements:
        if m.id in skipped:
            continue
        why = _skip_reason(m, frame_of)
        if why is None:
            series_uid = m.series_instance_uid or ""
            try:
                groups[m.id] = _measurement_group(case, m, frame_of[series_uid], by_sop)
            except _NotEncodable as exc:
                why = str(exc)
            except Exception as exc:  # noqa: BLE001 - one kind's broken encoding must not lose the others
                why = f"its {m.kind} encoding failed ({type(exc).__name__}: {exc})"
            else:
                study_of[m.id] = str(headers_of[series_uid][0].StudyInstanceUID)
        if why is not None:
            skipped[m.id] = why
    exported = [m for m in case.measurements if m.id in groups]
    studies = list(dict.fromkeys(study_of[m.id] for m in exported))
    with_measurements = {m.finding_id for m in exported if m.finding_id}
    for f in case.findings:
        if f.id not in with_measurements and _has_content(f):
            skipped[f.id] = ("finding has no measurement with patient coordinates, and a measurement group "
                             "without coordinates breaks OHIF: it is in the case file and the CSVs only")
    if not studies:
        raise ValueError("nothing to export as DICOM SR: no measurement refers to a series with DICOM files"
                         + (f" ({len(skipped)} left out: {next(iter(skipped.values()))}...)" if skipped else ""))
    case_items = _case_containers(score_items(case, case, skipped))
    docs = [_document(case, study, [m for m in exported if study_of[m.id] == study], groups, headers_of, by_sop,
                      case_items, skipped, n, uid_seed) for n, study in enumerate(studies, 1)]
    return SrExport(docs, skipped)


def _has_content(f: Finding) -> bool:
    return bool(f.bilsky.grade or f.level_from or f.lesion_type or f.site or f.involvement or f.label)


def _document(case: Case, study: str, ms: list[Measurement], groups_of: dict[str, Any],
              headers_of: dict[str, list[Dataset]], by_sop: dict[str, Dataset], case_items: list[Any],
              skipped: dict[str, str], n: int, uid_seed: str | None) -> SrDocument:
    series = list(dict.fromkeys(m.series_instance_uid or "" for m in ms))
    evidence = [ds for uid in series for ds in headers_of[uid]]
    in_doc = {str(ds.SOPInstanceUID) for ds in evidence}
    groups: list[Any] = []
    findings = [f for f in case.findings if any(m.finding_id == f.id for m in ms)]
    for f in findings:  # a finding's measurement groups first (OHIF names the merged entry after the first)
        groups.extend(groups_of[m.id] for m in ms if m.finding_id == f.id)
        grading = by_sop.get(f.bilsky.sop_instance_uid or "")
        if grading is not None and str(grading.SOPInstanceUID) not in in_doc:
            evidence.append(grading)  # another study's image: Pertinent Other Evidence
            in_doc.add(str(grading.SOPInstanceUID))
        groups.append(_finding_group(case, f, by_sop, skipped))
    groups.extend(groups_of[m.id] for m in ms if m.finding_id is None or case.finding(m.finding_id) not in findings)
    modalities = {str(getattr(ds, "Modality", "")).upper() for ds in evidence
                  if str(getattr(ds, "StudyInstanceUID", "")) == study}
    procedure = [codes.LN.MRIUnspecifiedBodyRegion if mod == "MR" else codes.LN.CTUnspecifiedBodyRegion
                 for mod in sorted(modalities) if mod in ("CT", "MR")] or [codes.LN.CTUnspecifiedBodyRegion]
    reader = case.readers[0].name if case.readers else next((m.reader for m in ms if m.reader), "")
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name=_pn(reader)))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer),
        procedure_reported=procedure if len(procedure) > 1 else procedure[0],
        imaging_measurements=groups)
    report[0].ContentSequence.extend(case_items)
    seed = f"{uid_seed}.{study}" if uid_seed else None
    sr = hd.sr.Comprehensive3DSR(
        evidence=evidence, content=report[0],
        series_instance_uid=generate_uid(entropy_srcs=[seed, "series"] if seed else None),
        series_number=SR_SERIES_NUMBER,
        sop_instance_uid=generate_uid(entropy_srcs=[seed, "sop"] if seed else None), instance_number=n,
        manufacturer="SpineCase", series_description="SpineCase measurements (research, not diagnostic)",
        manufacturer_model_name="SpineCase", software_versions="SpineCase", is_complete=False, is_final=False,
        specific_character_set="ISO_IR 192",  # UTF-8: labels may hold any script
        coding_schemes=[CodingSchemeIdentificationItem(
            designator=LOCAL_SCHEME, name="SpineCase local codes",
            responsible_organization="SpineCase research software project")],
    )
    return SrDocument(sr, study, [m.id for m in ms], [f.id for f in findings])


def sr_file_names(out: str | Path, count: int) -> list[Path]:
    """Where :func:`write_sr` writes ``count`` SRs: ``out`` itself for one, else ``out``'s stem with
    ``-study1``, ``-study2``... before its suffix."""
    from imaging.case.exports import numbered_paths

    return numbered_paths(out, count, "study")


def write_sr(case: Case, case_path: str | Path, out: str | Path, *, search_folders: Iterable[str | Path] = (),
             uid_seed: str | None = None) -> SrExport:
    """Build the SRs (see :func:`build_sr`) and write them (DICOM Part 10, atomically): to ``out`` for a
    single study, else to ``out`` with ``-study1``, ``-study2``... (see :func:`sr_file_names`)."""
    from io import BytesIO

    from imaging.case.store import atomic_write

    export = build_sr(case, case_path, search_folders=search_folders, uid_seed=uid_seed)
    for doc, path in zip(export.documents, sr_file_names(out, len(export.documents)), strict=True):
        buf = BytesIO()
        doc.dataset.save_as(buf, enforce_file_format=True)
        export.paths.append(atomic_write(path, buf.getvalue()))
    return export
