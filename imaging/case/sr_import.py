"""Reading TID 1500 Measurement Reports into a case (Qt-free): SpineCase's own SRs, SRs written by OHIF /
Cornerstone3D (dcmjs) and by dcmqi (3D Slicer).

    result = import_sr(paths, case, SeriesLookup.from_volumes(volumes))
    result.apply(case, who="jdoe")     # or add result.findings / result.measurements through undoable edits

:func:`import_sr` never changes the case: it returns what to add (:class:`ImportResult`), what it left out
and why (``not_placed``), and the series the new measurements are on. Each measurement is placed on its
image: SCOORD (image pixel coordinates) through the referenced image's geometry, SCOORD3D (LPS mm) in its
frame of reference; the image and series come from the :class:`SeriesLookup` of the series at hand (loaded
volumes, or DICOM headers, e.g. from a PACS). A measurement whose image or frame of reference is not among
them is listed with the reason.

Measurement groups are read through the measurement-kind registry (:mod:`imaging.measurement_kinds`; this
module names no kind): the Tracking Identifier names a kind's Cornerstone3D tool
(``Cornerstone3DTools@^0.1.0:<Tool>[:SpineCase:<key>]``, also the legacy ``cornerstoneTools@^4.0.0:`` prefix,
or ``SpineCase:<key>`` for a kind OHIF has no tool for); without one, the kinds whose value concepts the group
has come first, and the kind's ``points_from_sr`` turns the graphics into its points (or says they do not
fit). Findings come from SpineCase finding groups (levels, site, involvement, lesion type, and every
registered finding score's ``answers_from_sr``: Bilsky, SINS...), from groups whose Finding Sites are
vertebrae (dcmqi), and from measurement groups sharing one Tracking UID; a finding whose Tracking UID is one
of the case's own findings is that finding (opening an SR of this case twice adds nothing). Case-level
scores are listed as not placed (the case keeps its own). Measurements already in the case (same kind,
series and points within 1e-3 mm) are not added again.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from imaging.case.findings import SECTOR_NAMES
from imaging.case.model import (
    Case,
    Finding,
    LevelInvolvement,
    Measurement,
    MeasurementPlane,
    PlaneSpec,
    RoiStatsCache,
    SeriesRef,
    Study,
    new_id,
)
from imaging.case.sr_codes import (
    FINDING_LABEL_PREFIX,
    FINDING_SITE_CODES,
    INTENSITY_CONCEPTS,
    INVOLVEMENT_CONCEPT,
    LATERALITY_CODES,
    LESION_TYPE_CODES,
    LESION_TYPE_CONCEPT,
    LEVELS_CONCEPT,
    PLANE_CONCEPT,
    level_of_code,
)
from imaging.coding import Code
from imaging.errors import LoadError
from imaging.geometry import plane_name_from_orientation
from imaging.measurement_kinds import (
    CORNERSTONE_TRACKING_PREFIX,
    GraphicType,
    MeasurementKind,
    SrGraphic,
    registered_kinds,
)
from imaging.scores import SrCoded, SrItem, SrNumeric, SrText, registered_scores, with_answers
from imaging.spine.levels import level_index, parse_level_range

__all__ = ["ImageGeometry", "ImportResult", "NotPlaced", "SeriesLookup", "SrImportError", "import_sr"]

MATCH_MM = 1e-3
"""Points closer than this (mm) are the same point (duplicate detection)."""
_TOOL_PREFIXES = (CORNERSTONE_TRACKING_PREFIX + ":", "cornerstoneTools@^4.0.0:")
"""Tracking Identifier prefixes of Cornerstone3D (OHIF 3) and legacy cornerstoneTools (OHIF 2) tools; the tool
names a registered kind's ``ohif_tool`` or ``ohif_tool_aliases`` (ArrowAnnotate, KeyImage... are not
measurements)."""
_OWN_PREFIX = "SpineCase:"
"""Tracking Identifier prefix of a kind OHIF has no tool for (``SpineCase:<key>``)."""


class SrImportError(LoadError):
    """A file that cannot be imported at all (not DICOM, not a TID 1500 report, another patient)."""


# ============================================================================================================
# Where images are
# ============================================================================================================
@dataclass(frozen=True)
class ImageGeometry:
    """One image (frame) of a series at hand: where its pixels are in LPS mm. ``row_dir``: direction of
    increasing column (ImageOrientationPatient[0:3]); ``column_dir``: increasing row; ``spacing``:
    PixelSpacing (between rows, between columns); ``slice_index``: its index in the series' slice order."""

    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    frame_of_reference_uid: str
    position: tuple[float, float, float]
    row_dir: tuple[float, float, float]
    column_dir: tuple[float, float, float]
    spacing: tuple[float, float]
    thickness: float
    slice_index: int
    frame_number: int | None = None
    modality: str = ""
    series_description: str = ""
    series_number: int | None = None
    study_date: str = ""
    patient_id: str = ""

    @property
    def normal(self) -> np.ndarray:
        n = np.cross(self.row_dir, self.column_dir)
        return n / np.linalg.norm(n)

    def to_lps(self, column: float, row: float) -> np.ndarray:
        """SCOORD image coordinates (column, row; (0, 0) is the top left corner of the top left pixel, so a
        pixel's centre is at +0.5) -> LPS mm."""
        return (np.asarray(self.position, dtype=np.float64)
                + (column - 0.5) * self.spacing[1] * np.asarray(self.row_dir, dtype=np.float64)
                + (row - 0.5) * self.spacing[0] * np.asarray(self.column_dir, dtype=np.float64))

    def distance(self, p: np.ndarray) -> float:
        """Distance (mm) of an LPS point from this image's plane."""
        return float(abs(np.dot(np.asarray(p) - np.asarray(self.position), self.normal)))


def _vec3(values: Iterable[Any]) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in values)
    return (x, y, z)


class SeriesLookup:
    """The images of the series at hand, by SOPInstanceUID (and frame) and by frame of reference."""

    def __init__(self, images: Iterable[ImageGeometry]) -> None:
        self.images: dict[tuple[str, int], ImageGeometry] = {}
        self.by_series: dict[str, list[ImageGeometry]] = {}
        for img in images:
            self.images[(img.sop_instance_uid, img.frame_number or 1)] = img
            self.by_series.setdefault(img.series_instance_uid, []).append(img)

    def image(self, sop_instance_uid: str, frame: int | None = None) -> ImageGeometry | None:
        return self.images.get((sop_instance_uid, frame or 1))

    def series_in_frame(self, frame_of_reference_uid: str) -> list[str]:
        return [uid for uid, imgs in self.by_series.items() if imgs[0].frame_of_reference_uid == frame_of_reference_uid]

    @classmethod
    def from_volumes(cls, volumes: Iterable[Any]) -> SeriesLookup:
        """From loaded :class:`~imaging.volume.Volume` objects (their affine and per-slice UIDs)."""
        out = []
        for vol in volumes:
            md = vol.metadata
            a = np.asarray(vol.affine, dtype=np.float64)
            sx, sy = float(np.linalg.norm(a[:3, 0])), float(np.linalg.norm(a[:3, 1]))
            row, col = a[:3, 0] / sx, a[:3, 1] / sy
            thickness = float(np.linalg.norm(a[:3, 2])) or float(md.slice_thickness or 1.0)
            for k, sop in enumerate(md.sop_instance_uids):
                if not sop:
                    continue
                frame = md.frame_numbers[k] if k < len(md.frame_numbers) else None
                pos = a[:3, 3] + k * a[:3, 2]
                out.append(ImageGeometry(sop, md.series_instance_uid, md.study_instance_uid, md.frame_of_reference_uid,
                                         _vec3(pos), _vec3(row), _vec3(col),
                                         (sy, sx), thickness, k, frame, vol.modality, md.series_description,
                                         md.series_number, md.study_date, md.patient_id))
        return cls(out)

    @classmethod
    def from_headers(cls, headers: Iterable[Dataset]) -> SeriesLookup:
        """From DICOM headers of single-frame images (e.g. a PACS query's instances or files on disk); the
        slice order is the position along the slice normal, as loading orders slices."""
        by_series: dict[str, list[Dataset]] = {}
        for ds in headers:
            if "ImagePositionPatient" in ds and "ImageOrientationPatient" in ds and "PixelSpacing" in ds:
                by_series.setdefault(str(ds.SeriesInstanceUID), []).append(ds)
        out = []
        for series in by_series.values():
            iop = np.asarray([float(v) for v in series[0].ImageOrientationPatient])
            normal = np.cross(iop[:3], iop[3:])
            ordered = sorted(series, key=lambda d: float(np.dot([float(v) for v in d.ImagePositionPatient], normal)))
            for k, ds in enumerate(ordered):
                o = [float(v) for v in ds.ImageOrientationPatient]
                out.append(ImageGeometry(
                    str(ds.SOPInstanceUID), str(ds.SeriesInstanceUID), str(ds.StudyInstanceUID),
                    str(getattr(ds, "FrameOfReferenceUID", "")), _vec3(ds.ImagePositionPatient),
                    _vec3(o[:3]), _vec3(o[3:]), (float(ds.PixelSpacing[0]), float(ds.PixelSpacing[1])),
                    float(getattr(ds, "SpacingBetweenSlices", 0) or getattr(ds, "SliceThickness", 1) or 1), k, None,
                    str(getattr(ds, "Modality", "")), str(getattr(ds, "SeriesDescription", "")),
                    int(ds.SeriesNumber) if getattr(ds, "SeriesNumber", None) not in (None, "") else None,
                    str(getattr(ds, "StudyDate", "")), str(getattr(ds, "PatientID", ""))))
        return cls(out)


# ============================================================================================================
# What the SR holds (a neutral reading of its content tree)
# ============================================================================================================
def _code(item: Dataset, attr: str = "ConceptNameCodeSequence") -> tuple[str, str, str]:
    seq = getattr(item, attr, None)
    if not seq:
        return ("", "", "")
    c = seq[0]
    return (str(getattr(c, "CodingSchemeDesignator", "")), str(getattr(c, "CodeValue", "")),
            str(getattr(c, "CodeMeaning", "")))


def _is(item_code: tuple[str, str, str], concept: Any) -> bool:
    return item_code[1] == concept.value and item_code[0] in (concept.scheme_designator, "SRT" if
                                                              concept.scheme_designator == "SCT" else "")


@dataclass
class _Graphic:
    value_type: str  # SCOORD / SCOORD3D
    graphic_type: str
    data: np.ndarray  # (N, 2) or (N, 3)
    frame_of_reference_uid: str = ""
    image: tuple[str, int | None] | None = None  # SCOORD's image (SOP UID, frame)


@dataclass
class _Num:
    concept: tuple[str, str, str]
    value: float | None
    unit: str
    derivation: tuple[str, str, str] | None
    graphics: list[_Graphic]
    images: list[tuple[str, int | None]]


@dataclass
class _Group:
    index: int
    tracking_identifier: str = ""
    tracking_uid: str = ""
    finding: tuple[str, str, str] | None = None
    sites: list[tuple[tuple[str, str, str], tuple[str, str, str] | None]] = field(default_factory=list)
    nums: list[_Num] = field(default_factory=list)
    texts: list[tuple[tuple[str, str, str], str]] = field(default_factory=list)
    codes: list[tuple[tuple[str, str, str], tuple[str, str, str]]] = field(default_factory=list)
    graphics: list[_Graphic] = field(default_factory=list)  # TID 1410 region at group level
    images: list[tuple[str, int | None]] = field(default_factory=list)

    def text(self, concept: Any) -> list[str]:
        return [v for c, v in self.texts if _is(c, concept)]

    def coded(self, concept: Any) -> tuple[str, str, str] | None:
        return next((v for c, v in self.codes if _is(c, concept)), None)

    def sr_items(self) -> list[SrItem]:
        """The group's coded, numeric and text items as the score registry reads them."""
        return _items(self.codes, self.nums, self.texts)

    @property
    def label(self) -> str:
        comment = next((v for c, v in self.texts if c[1] == "121106"), None)
        if comment is not None:
            return comment
        free = [s for s, _ in self.sites if s[1] == "CORNERSTONEFREETEXT"]
        if free:
            return free[0][2]
        if self.finding and self.finding[1] == "CORNERSTONEFREETEXT":
            return self.finding[2]
        return ""


def _as_code(c: tuple[str, str, str]) -> Code:
    scheme, value, meaning = c
    return Code(value, "SCT" if scheme == "SRT" else scheme, meaning or value)


def _items(coded: Sequence[tuple[tuple[str, str, str], tuple[str, str, str]]], nums: Sequence[_Num],
           texts: Sequence[tuple[tuple[str, str, str], str]]) -> list[SrItem]:
    out: list[SrItem] = [SrCoded(_as_code(c), _as_code(v)) for c, v in coded if c[1] and v[1]]
    out += [SrNumeric(_as_code(n.concept), n.value, Code(n.unit or "1", "UCUM", n.unit or "1"))
            for n in nums if n.value is not None and n.concept[1]]
    out += [SrText(_as_code(c), t) for c, t in texts if c[1]]
    return out


def _image_ref(item: Dataset) -> tuple[str, int | None] | None:
    seq = getattr(item, "ReferencedSOPSequence", None)
    if not seq:
        return None
    ref = seq[0]
    frames = getattr(ref, "ReferencedFrameNumber", None)
    frame = int(frames[0] if isinstance(frames, Sequence) and not isinstance(frames, str) else frames) \
        if frames not in (None, "") else None
    return str(ref.ReferencedSOPInstanceUID), frame


def _graphic(item: Dataset) -> _Graphic:
    vt = str(item.ValueType)
    data = np.asarray([float(v) for v in item.GraphicData], dtype=np.float64)
    data = data.reshape(-1, 3 if vt == "SCOORD3D" else 2)
    image = None
    if vt == "SCOORD":
        for child in getattr(item, "ContentSequence", []) or []:
            image = _image_ref(child) or image
    return _Graphic(vt, str(item.GraphicType), data, str(getattr(item, "ReferencedFrameOfReferenceUID", "")), image)


def _read_group(container: Dataset, index: int) -> _Group:
    g = _Group(index)
    for item in getattr(container, "ContentSequence", []) or []:
        vt = str(getattr(item, "ValueType", ""))
        name = _code(item)
        if vt == "TEXT" and name[1] == "112039":
            g.tracking_identifier = str(item.TextValue)
        elif vt == "UIDREF" and name[1] == "112040":
            g.tracking_uid = str(item.UID)
        elif vt == "CODE" and name[1] == "121071":
            g.finding = _code(item, "ConceptCodeSequence")
        elif vt == "CODE" and name[1] in ("363698007", "G-C0E3"):
            side = None
            for mod in getattr(item, "ContentSequence", []) or []:
                if _code(mod)[1] in ("272741003", "G-C171"):
                    side = _code(mod, "ConceptCodeSequence")
            g.sites.append((_code(item, "ConceptCodeSequence"), side))
        elif vt == "NUM":
            mv = getattr(item, "MeasuredValueSequence", None)
            value = float(mv[0].NumericValue) if mv else None
            unit = str(mv[0].MeasurementUnitsCodeSequence[0].CodeValue) if mv else ""
            derivation, graphics, images = None, [], []
            for child in getattr(item, "ContentSequence", []) or []:
                cvt = str(getattr(child, "ValueType", ""))
                if cvt in ("SCOORD", "SCOORD3D") and _code(child)[2] not in ("Control Points",):
                    graphics.append(_graphic(child))
                elif cvt == "IMAGE":
                    ref = _image_ref(child)
                    if ref:
                        images.append(ref)
                elif cvt == "CODE" and _code(child)[1] == "121401":  # Derivation
                    derivation = _code(child, "ConceptCodeSequence")
            g.nums.append(_Num(name, value, unit, derivation, graphics, images))
        elif vt == "TEXT":
            g.texts.append((name, str(getattr(item, "TextValue", ""))))
        elif vt == "CODE":
            g.codes.append((name, _code(item, "ConceptCodeSequence")))
        elif vt in ("SCOORD", "SCOORD3D") and name[2] != "Text Annotation Position":
            g.graphics.append(_graphic(item))
        elif vt == "IMAGE":
            ref = _image_ref(item)
            if ref:
                g.images.append(ref)
    return g


def _groups(ds: Dataset) -> list[_Group]:
    out: list[_Group] = []
    for item in getattr(ds, "ContentSequence", []) or []:
        if _code(item)[1] == "126010":  # Imaging Measurements
            for i, group in enumerate(getattr(item, "ContentSequence", []) or []):
                if _code(group)[1] in ("125007", "125008"):
                    out.append(_read_group(group, i + 1))
    return out


def _observer(ds: Dataset) -> str:
    for item in getattr(ds, "ContentSequence", []) or []:
        if _code(item)[1] == "121008" and getattr(item, "PersonName", None):
            return str(item.PersonName).rstrip("^")
    return ""


# ============================================================================================================
# Result
# ============================================================================================================
@dataclass(frozen=True)
class NotPlaced:
    """Something of an SR that was not brought into the case, and why."""

    source: str  # file name and group ("report.dcm, group 3")
    what: str  # e.g. "Length 'lesion' (Cornerstone3DTools@^0.1.0:Length)"
    reason: str


@dataclass
class ImportResult:
    """What :func:`import_sr` found: new findings and measurements (finding ids resolved), the series and
    studies they need, and what was left out. ``updated_findings``: findings of the case the SR adds
    measurements to (unchanged themselves)."""

    findings: list[Finding] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    series: list[SeriesRef] = field(default_factory=list)
    studies: list[Study] = field(default_factory=list)
    not_placed: list[NotPlaced] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    duplicates: int = 0

    def summary(self) -> str:
        parts = [f"{len(self.measurements)} measurement(s)", f"{len(self.findings)} finding(s)"]
        text = "Imported " + " and ".join(parts) + f" from {len(self.files)} SR file(s)"
        if self.duplicates:
            text += f"; {self.duplicates} already in the case"
        if self.not_placed:
            text += f"; {len(self.not_placed)} item(s) could not be placed"
        return text + "."

    def apply(self, case: Case, who: str = "") -> None:
        """Add everything to ``case`` (studies, series, findings, then measurements), each an audited edit.
        The GUI adds them through its undoable controller instead."""
        for obj in [*self.studies, *self.series, *self.findings, *self.measurements]:
            case.add(obj, who=who)


# ============================================================================================================
# Import
# ============================================================================================================
def import_sr(paths: Sequence[str | Path] | str | Path, case: Case, series_lookup: SeriesLookup) -> ImportResult:
    """Read TID 1500 SR files and say what they bring into ``case`` (see the module docstring). Raises
    :class:`SrImportError` for a file that is not a TID 1500 measurement report or is of another patient than
    the images at hand (their PatientID); nothing is returned for any file then."""
    if isinstance(paths, str | Path):
        paths = [paths]
    result = ImportResult()
    docs = []
    patients = {img.patient_id for img in series_lookup.images.values() if img.patient_id}
    for p in paths:
        ds = _read(Path(p), patients)
        docs.append((Path(p), ds))
        result.files.append(str(p))
    state = _State(case, series_lookup, result)
    # Finding groups first (all files), so measurement groups in any file find their finding.
    parsed = [(p, ds, _groups(ds)) for p, ds in docs]
    for p, ds, groups in parsed:
        for g in groups:
            if _is_finding_group(g):
                state.finding_from_group(g, p, _observer(ds))
    for p, ds, groups in parsed:
        shared = _shared_uids(groups)
        for g in groups:
            if not _is_finding_group(g):
                state.measurement_from_group(g, p, _observer(ds), shared)
        for what in _case_level_items(ds):
            result.not_placed.append(NotPlaced(p.name, what, "a case-level assessment: the case keeps its own "
                                               "(set it in the case if it applies)"))
    state.finish()
    return result


def _case_level_items(ds: Dataset) -> list[str]:
    """The items of the report's "Derived Imaging Measurements" and "Qualitative Evaluations" containers
    (case-level scores), as text."""
    out = []
    for container in getattr(ds, "ContentSequence", []) or []:
        if _code(container)[1] not in ("126011", "C0034375"):
            continue
        for item in getattr(container, "ContentSequence", []) or []:
            name = _code(item)[2]
            vt = str(getattr(item, "ValueType", ""))
            if vt == "NUM" and getattr(item, "MeasuredValueSequence", None):
                out.append(f"{name} = {item.MeasuredValueSequence[0].NumericValue}")
            elif vt == "CODE":
                out.append(f"{name} = {_code(item, 'ConceptCodeSequence')[2]}")
            elif vt == "TEXT":
                out.append(f"{name} = {getattr(item, 'TextValue', '')}")
    return out


def _read(path: Path, patients: set[str]) -> Dataset:
    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, OSError, ValueError, TypeError, AttributeError, KeyError, EOFError) as exc:
        raise SrImportError(f"not a readable DICOM file ({exc})", path) from exc
    if str(getattr(ds, "Modality", "")) != "SR" or "ContentSequence" not in ds:
        raise SrImportError("not a DICOM Structured Report", path)
    templates = {str(getattr(t, "TemplateIdentifier", "")) for t in getattr(ds, "ContentTemplateSequence", [])}
    if "1500" not in templates and _code(ds)[1] != "126000":
        raise SrImportError("not a TID 1500 Imaging Measurement Report (its measurements cannot be read)", path)
    pid = str(getattr(ds, "PatientID", "") or "")
    if patients and pid and pid not in patients:
        raise SrImportError(f"the SR is of another patient (PatientID {pid!r}; the case's images are of "
                            f"{', '.join(sorted(patients))}): one case is one patient", path)
    return ds


def _is_finding_group(g: _Group) -> bool:
    if g.tracking_identifier.startswith(FINDING_LABEL_PREFIX):
        return True
    if any(n.graphics for n in g.nums) or g.graphics:
        return False
    # dcmqi's volumetric groups: values of a segment, sites that are vertebrae; or a registered finding score
    if any(level_of_code(s[0], s[1]) for s, _ in g.sites):
        return True
    items = g.sr_items()
    return any(_answers(spec, items) is not None for spec in registered_scores("finding"))


def _answers(spec: Any, items: list[SrItem]) -> Any:
    """A score's answers from SR items; None when it holds none or the score cannot read them."""
    try:
        return spec.answers_from_sr(items)
    except Exception:  # noqa: BLE001 - a score that cannot read another program's items: not this score's
        return None


def _shared_uids(groups: list[_Group]) -> set[str]:
    seen: dict[str, int] = {}
    for g in groups:
        if g.tracking_uid and not _is_finding_group(g):
            seen[g.tracking_uid] = seen.get(g.tracking_uid, 0) + 1
    return {u for u, n in seen.items() if n > 1}


def _id_from_uid(uid: str) -> str | None:
    """SpineCase's finding ids are the uuid of their 2.25 Tracking UID."""
    if uid.startswith("2.25."):
        try:
            n = int(uid[5:])
            return uuid.UUID(int=n).hex if 0 <= n < 2**128 else None
        except ValueError:
            return None
    return None


class _State:
    def __init__(self, case: Case, lookup: SeriesLookup, result: ImportResult) -> None:
        self.case, self.lookup, self.result = case, lookup, result
        self.finding_by_uid: dict[str, str] = {}
        for f in case.findings:
            from imaging.case.export_sr import uid_from_id

            self.finding_by_uid[uid_from_id(f.id)] = f.id
        self.new_findings: dict[str, Finding] = {}
        self.series_added: set[str] = set()

    # -- findings ------------------------------------------------------------------------------------------
    def finding_from_group(self, g: _Group, path: Path, reader: str) -> None:
        uid = g.tracking_uid
        if uid in self.finding_by_uid:
            return  # the case's own finding, or one already read from another file
        label = g.label or g.tracking_identifier.removeprefix(FINDING_LABEL_PREFIX).lstrip(": ").strip()
        levels = self._levels(g)
        site, side = self._site(g)
        involvement = self._involvement(g)
        lesion = g.coded(LESION_TYPE_CONCEPT)
        lesion_type = next((k for k, c in LESION_TYPE_CODES.items() if lesion and c.value == lesion[1]), None)
        fid = _id_from_uid(uid) if uid else None
        if fid is None or any(o.id == fid for _, o in self.case._all_objects()):
            fid = new_id()
        finding = Finding.model_validate({
            "id": fid, "label": label, "level_from": levels[0] if levels else None,
            "level_to": levels[-1] if levels else None, "levels_auto": False, "involvement": involvement,
            "lesion_type": lesion_type, "site": site, "laterality": side, "reader": reader})
        items = g.sr_items()
        for spec in registered_scores("finding"):  # Bilsky, SINS and any other registered finding score
            answers = _answers(spec, items)
            if answers is not None:
                finding = with_answers(finding, spec, answers, reader=reader)
        if finding.bilsky.grade is not None:  # who graded it, and on which image (the group's source image)
            sop = g.images[0] if g.images else None
            img = self.lookup.image(*sop) if sop else None
            finding = finding.model_copy(update={"bilsky": finding.bilsky.model_copy(update={
                "reader": reader, "sop_instance_uid": sop[0] if sop else None,
                "series_instance_uid": img.series_instance_uid if img else None,
                "slice_index": img.slice_index if img else None})})
        self.new_findings[uid or fid] = finding
        self.finding_by_uid[uid or fid] = finding.id
        self.result.findings.append(finding)
        if not g.tracking_identifier.startswith(FINDING_LABEL_PREFIX):  # e.g. dcmqi's segment measurements
            for n in g.nums:
                self._not_placed(path, g, f"{n.concept[2]} = {n.value} {n.unit}",
                                 "a value without image coordinates (a volume or segment measurement): SpineCase "
                                 "keeps measurements drawn on images; the finding and its levels were imported")

    def _levels(self, g: _Group) -> list[str]:
        for text in g.text(LEVELS_CONCEPT):
            try:
                return parse_level_range(text).levels
            except ValueError:
                continue
        found = sorted({lv for s, _ in g.sites if (lv := level_of_code(*s)) is not None}, key=level_index)
        return found

    @staticmethod
    def _site(g: _Group) -> tuple[str | None, str | None]:
        for s, side in g.sites:
            for key, c in FINDING_SITE_CODES.items():
                if c.value == s[1] and c.scheme_designator in (s[0], "SCT" if s[0] == "SRT" else s[0]):
                    lat = next((k for k, lc in LATERALITY_CODES.items() if side and lc.value == side[1]), None)
                    return key, lat
        return None, None

    @staticmethod
    def _involvement(g: _Group) -> list[LevelInvolvement]:
        by_name = {v.lower(): k for k, v in SECTOR_NAMES.items()}
        out: dict[str, list[str]] = {}
        for text in g.text(INVOLVEMENT_CONCEPT):
            level, _, rest = text.partition(":")
            sectors = [by_name[w.strip().lower()] for w in rest.split(",") if w.strip().lower() in by_name]
            try:
                lv = parse_level_range(level.strip()).start
            except ValueError:
                continue
            out.setdefault(lv, []).extend(sectors)
        ordered = sorted(out.items(), key=lambda kv: level_index(kv[0]))
        return [LevelInvolvement.model_validate({"level": lv, "sectors": s}) for lv, s in ordered]

    # -- measurements --------------------------------------------------------------------------------------
    def _not_placed(self, path: Path, g: _Group, what: str, reason: str) -> None:
        self.result.not_placed.append(NotPlaced(f"{path.name}, group {g.index}", what, reason))

    def measurement_from_group(self, g: _Group, path: Path, reader: str, shared: set[str]) -> None:
        candidates, tool = _kinds_of(g)
        what = f"{tool or 'group'} {g.label!r} ({g.tracking_identifier or 'no tracking identifier'})"
        if not candidates:
            self._not_placed(path, g, what, tool and f"{tool} is not a measurement SpineCase has"
                             or "no measurement SpineCase can read (no coordinates)")
            return
        first_problem = ""
        for spec in candidates:  # the kind the group names, else the kinds its concepts and graphics fit
            graphics = _graphics_for(g, spec)
            if not graphics:
                first_problem = first_problem or "the group has no coordinates"
                continue
            try:
                image, series_uid, lps = self._place(graphics, g)
            except _Unplaceable as exc:
                self._not_placed(path, g, what, str(exc))
                return
            try:
                drawn = [_sr_graphic(gr.graphic_type, p) for gr, p in zip(graphics, lps, strict=True)]
                points = spec.points_from_sr(drawn, image.normal if image is not None else None)
            except (ValueError, IndexError) as exc:
                first_problem = first_problem or f"its coordinates do not make a {spec.name}: {exc}"
                continue
            self._add_measurement(g, path, reader, shared, spec, what, points, image, series_uid)
            return
        self._not_placed(path, g, what, first_problem)

    def _add_measurement(self, g: _Group, path: Path, reader: str, shared: set[str], spec: MeasurementKind,
                         what: str, points: np.ndarray, image: ImageGeometry | None, series_uid: str) -> None:
        plane = self._plane(points, image, series_uid, g)
        finding_id = self._finding_for(g, shared)
        stats = _stats(g, spec)
        try:
            m = Measurement.model_validate({
                "kind": spec.key, "points": [tuple(map(float, p)) for p in points], "plane": plane,
                "series_instance_uid": series_uid, "sop_instance_uid": image.sop_instance_uid if image else None,
                "frame_number": image.frame_number if image else None,
                "slice_index": image.slice_index if image else None, "label": g.label, "reader": reader,
                "finding_id": finding_id, "stats": stats})
        except ValueError as exc:
            self._not_placed(path, g, what, f"not a valid {spec.name}: {exc}")
            return
        if self._duplicate(m):
            self.result.duplicates += 1
            return
        self.result.measurements.append(m)
        self._need_series(series_uid)

    def _finding_for(self, g: _Group, shared: set[str]) -> str | None:
        uid = g.tracking_uid
        if uid in self.finding_by_uid:
            return self.finding_by_uid[uid]
        if uid in shared:  # several measurement groups of one tracked lesion, without a finding group
            n = len(self.case.findings) + len(self.result.findings) + 1
            f = Finding(id=_id_from_uid(uid) or new_id(), label=f"Tracked lesion {n}")
            if any(o.id == f.id for _, o in self.case._all_objects()):
                f = f.model_copy(update={"id": new_id()})
            self.finding_by_uid[uid] = f.id
            self.result.findings.append(f)
            return f.id
        return None

    def _place(self, graphics: list[_Graphic], g: _Group) -> tuple[ImageGeometry | None, str, list[np.ndarray]]:
        lps: list[np.ndarray] = []
        image: ImageGeometry | None = None
        series_uid = ""
        for gr in graphics:
            if gr.value_type == "SCOORD":
                if gr.image is None:
                    raise _Unplaceable("image coordinates without the image they are on")
                img = self.lookup.image(*gr.image)
                if img is None:
                    raise _Unplaceable(f"its image {gr.image[0]} is not among the series at hand (open or "
                                       "locate its series first)")
                image, series_uid = img, img.series_instance_uid
                lps.append(np.array([img.to_lps(c, r) for c, r in gr.data]))
            else:
                lps.append(gr.data.copy())
        if image is None:  # SCOORD3D: the source image, else the series of its frame of reference
            src = next((ref for n in g.nums for ref in n.images), None) or (g.images[0] if g.images else None)
            img = self.lookup.image(*src) if src else None
            if img is not None:
                image, series_uid = img, img.series_instance_uid
            else:
                frame = graphics[0].frame_of_reference_uid
                candidates = self.lookup.series_in_frame(frame)
                if not candidates:
                    raise _Unplaceable(f"no series at hand is in its frame of reference {frame or '(none given)'}")
                series_uid = candidates[0]
            # a 3D measurement lying in an acquired image's plane is on that image
            if image is None or image.series_instance_uid != series_uid:
                image = None
            pts = np.vstack(lps)
            if image is None:
                near = [i for i in self.lookup.by_series.get(series_uid, [])
                        if max(i.distance(p) for p in pts) <= max(i.thickness / 2, 1e-3)]
                image = min(near, key=lambda i: max(i.distance(p) for p in pts)) if near else None
            if image is not None and max(image.distance(p) for p in pts) > max(image.thickness / 2, 1e-3):
                image = None
        return image, series_uid, lps

    def _plane(self, points: np.ndarray, image: ImageGeometry | None, series_uid: str, g: _Group
               ) -> MeasurementPlane:
        if image is not None:
            spec = PlaneSpec(origin=tuple(map(float, image.position)), x_dir=image.row_dir, y_dir=image.column_dir,
                             x_spacing=image.spacing[1], y_spacing=image.spacing[0], thickness=image.thickness)
            name = plane_name_from_orientation([*image.row_dir, *image.column_dir])
            return MeasurementPlane.model_validate({"orientation": name, "normal": _vec3(image.normal),
                                                    "geometry": spec})
        # a reformat: the plane named in our own SRs, else the series' axis plane the points lie in
        imgs = self.lookup.by_series.get(series_uid, [])
        axes = []
        if imgs:
            ref = imgs[0]
            axes = [np.asarray(ref.row_dir), np.asarray(ref.column_dir), ref.normal]
        named = next((t.lower() for c, t in g.texts if _is(c, PLANE_CONCEPT)), None)
        pts = np.asarray(points, dtype=np.float64)
        normal: np.ndarray | None = None
        if len(pts) >= 3:
            centred = pts - pts.mean(axis=0)
            _, s, vt = np.linalg.svd(centred)
            if s[1] > 1e-6:
                normal = vt[2]
        if normal is None and axes:
            d = pts[-1] - pts[0]
            d = d / (np.linalg.norm(d) or 1.0)
            normal = min(axes, key=lambda a: abs(float(np.dot(a, d))))
        n: np.ndarray = normal if normal is not None else np.array([0.0, 0.0, 1.0])
        if axes:  # snap to the series' axis plane it matches (reformats of a volume are axis planes)
            best = max(axes, key=lambda a: abs(float(np.dot(a, n))))
            if abs(float(np.dot(best, n))) > 0.9999:
                n = best * np.sign(np.dot(best, n) or 1.0)
        x = np.cross(n, [0.0, 0.0, 1.0]) if abs(n[2]) < 0.9 else np.cross(n, [0.0, 1.0, 0.0])
        y = np.cross(n, x)
        name = named if named in ("axial", "sagittal", "coronal", "oblique") else plane_name_from_orientation([*x, *y])
        return MeasurementPlane.model_validate({"orientation": name, "normal": _vec3(n / np.linalg.norm(n))})

    def _duplicate(self, m: Measurement) -> bool:
        pts = np.asarray(m.points)
        for other in [*self.case.measurements, *self.result.measurements]:
            if other.kind == m.kind and other.series_instance_uid == m.series_instance_uid \
                    and len(other.points) == len(m.points) \
                    and float(np.max(np.abs(np.asarray(other.points) - pts))) <= MATCH_MM:
                return True
        return False

    def _need_series(self, series_uid: str) -> None:
        if self.case.series_ref(series_uid) is not None or series_uid in self.series_added:
            return
        imgs = self.lookup.by_series.get(series_uid)
        if not imgs:
            return
        first = imgs[0]
        self.series_added.add(series_uid)
        study = first.study_instance_uid
        if study and self.case.study_ref(study) is None and all(s.study_instance_uid != study
                                                                 for s in self.result.studies):
            from datetime import date

            d = first.study_date
            when = date(int(d[:4]), int(d[4:6]), int(d[6:8])) if len(d) >= 8 and d[:8].isdigit() else None
            self.result.studies.append(Study(study_instance_uid=study, study_date=when))
        self.result.series.append(SeriesRef(series_instance_uid=series_uid, study_instance_uid=study or None,
                                            modality=first.modality, description=first.series_description,
                                            series_number=first.series_number,
                                            frame_of_reference_uid=first.frame_of_reference_uid or None))

    def finish(self) -> None:
        """Drop auto-made findings that ended up with no measurement."""
        used = {m.finding_id for m in self.result.measurements}
        self.result.findings = [f for f in self.result.findings
                                if f.id in used or not f.label.startswith("Tracked lesion ")]


class _Unplaceable(Exception):
    pass


_GRAPHIC_TYPES: tuple[GraphicType, ...] = get_args(GraphicType)


def _sr_graphic(graphic_type: str, lps: np.ndarray) -> SrGraphic:
    """A graphic (already in LPS mm) for a kind's :meth:`points_from_sr`; ValueError for a graphic type SR
    coordinates do not have."""
    kind = next((t for t in _GRAPHIC_TYPES if t == graphic_type), None)
    if kind is None:
        raise ValueError(f"unknown graphic type {graphic_type!r}")
    return SrGraphic(kind, lps)


def _is_any(item_code: tuple[str, str, str], concepts: Iterable[Any]) -> bool:
    return any(_is(item_code, c) for c in concepts)


def _key_concepts(spec: MeasurementKind) -> list[Code]:
    """The concepts of the values that carry a kind's coordinates: an ROI's first coded value (its area),
    every coded value of other kinds."""
    coded = [v.sr_concept for v in spec.value_specs if v.in_sr and v.sr_concept is not None]
    return coded[:1] if spec.has_area else coded


def _fits_concepts(spec: MeasurementKind, g: _Group) -> bool:
    key = _key_concepts(spec)
    return bool(key) and all(any(_is(n.concept, c) for n in g.nums) for c in key)


def _kinds_of(g: _Group) -> tuple[list[MeasurementKind], str]:
    """The kinds a measurement group may be, most likely first, and the tool or concept that decided it.
    A Tracking Identifier naming a tool decides (``:SpineCase:<key>`` names the kind among those sharing
    the tool; else the kind whose value concepts the group has, else the one that does not share); without
    one, the kinds whose value concepts the group has (most concepts first), then every other kind (their
    :meth:`~imaging.measurement_kinds.MeasurementKind.points_from_sr` tells which fits the graphics)."""
    kinds = registered_kinds()
    ident = g.tracking_identifier
    if ident.startswith(_OWN_PREFIX):
        key = ident[len(_OWN_PREFIX):].split(":")[0]
        return [k for k in kinds if k.key == key], key
    for prefix in _TOOL_PREFIXES:
        if not ident.startswith(prefix):
            continue
        rest = ident[len(prefix):]
        tool = rest.split(":")[0]
        named = re.search(r":SpineCase:([a-z0-9_]+)", rest)
        if named:
            own = [k for k in kinds if k.key == named.group(1)]
            if own:
                return own, tool
        for name in dict.fromkeys([*rest.split(":")[1:2], tool]):  # legacy "<tool>:<subtool>" names too
            same_tool = [k for k in kinds if name and (k.ohif_tool == name or name in k.ohif_tool_aliases)]
            if same_tool:
                best = sorted(same_tool, key=lambda k: (not _fits_concepts(k, g), k.ohif_tool_shared))
                return best[:1], name
        return [], tool
    if not (any(n.graphics for n in g.nums) or g.graphics):
        return [], ""
    fitting = sorted((k for k in kinds if _fits_concepts(k, g)), key=lambda k: -len(_key_concepts(k)))
    rest_kinds = [k for k in kinds if k not in fitting]
    decided = fitting[0].name if fitting else "graphic"
    return [*fitting, *rest_kinds], decided


def _graphics_for(g: _Group, spec: MeasurementKind) -> list[_Graphic]:
    """The graphics that define a measurement of ``spec``'s kind, in the order its values are coded: those
    of the values with its concepts (e.g. a bidirectional's long then short axis), else the first value's
    that has any, else the group's own region (TID 1410)."""
    matched: list[_Graphic] = []
    if not spec.has_area:
        for concept in _key_concepts(spec):
            n = next((n for n in g.nums if _is(n.concept, concept) and n.graphics), None)
            if n is not None:
                matched.extend(n.graphics)
    if matched:
        return matched
    for n in g.nums:
        if n.graphics:
            return n.graphics
    return g.graphics[:1]


_STAT_NAMES = {"373098007": "mean", "386136009": "sd", "255605001": "min", "56851009": "max"}
"""SNOMED CT derivation (or concept) codes of ROI statistics (Mean, SD, Minimum, Maximum) -> value names."""
_STAT_MEANINGS = {"mean": "mean", "standard deviation": "sd", "minimum": "min", "maximum": "max"}


def _stats(g: _Group, spec: MeasurementKind) -> RoiStatsCache | None:
    """The voxel statistics a group records, for kinds that have them (``voxel_stats`` "region": mean, SD,
    min, max, voxel count; "point": the value under the point)."""
    if spec.voxel_stats == "none":
        return None
    derived = {v.sr_derivation.value: v.name for v in spec.value_specs if v.sr_derivation is not None}
    counts = [v.sr_concept for v in spec.value_specs if v.dimension == "count" and v.sr_concept is not None]
    values: dict[str, float] = {}
    unit = ""
    count = 0
    for n in g.nums:
        if n.value is None:
            continue
        if _is_any(n.concept, counts):
            count = int(round(n.value))
            continue
        key = (derived.get(n.derivation[1]) or _STAT_NAMES.get(n.derivation[1])) if n.derivation else None
        key = key or _STAT_NAMES.get(n.concept[1]) or _STAT_MEANINGS.get(n.concept[2].lower())
        if spec.voxel_stats == "point" and _is_any(n.concept, INTENSITY_CONCEPTS.values()):
            key = "mean"
        if key:
            values[key] = n.value
            unit = "HU" if n.unit in ("[hnsf'U]", "HU") else unit
    if "mean" not in values:
        return None
    if spec.voxel_stats == "point":
        return RoiStatsCache(mean=values["mean"], sd=0.0, min=values["mean"], max=values["mean"], count=1, unit=unit)
    return RoiStatsCache(mean=values.get("mean"), sd=values.get("sd"), min=values.get("min"), max=values.get("max"),
                         count=count, unit=unit)
