"""DICOM Segmentation (SEG) of a case's outlines, made with highdicom, and SEG import as outlines. Qt-free.

Export (:func:`write_seg`): the Bilsky assistant's outlines (bony canal, thecal sac, spinal cord, tumour) and
the ROIs of the case's findings (tumour ROIs: ellipse / polygon / freehand) become binary segments of one SEG
per series, on the acquired images they were drawn on (the SEG references them: Source Image / Derivation
Image per frame). Segments follow the conventions 3D Slicer and OHIF read (dcmqi's terminology): a coded
Segmented Property Category and Type, the label Slicer shows, and the recommended display colour
(CIELab) where the Slicer terminology gives one:

================  =============================================  ==========================================
outline           category / type                                colour
================  =============================================  ==========================================
canal             Anatomical Structure / Spinal canal (SCT        light grey (no recommended colour)
                  61853006)
sac               Anatomical Structure / Dura mater (SCT          255, 244, 209 (Slicer "dura mater")
                  18545000): the thecal (dural) sac
cord              Anatomical Structure / Spinal cord (SCT 2748008) 244, 214, 49 (Slicer "spinal cord")
tumour, ROIs      Morphologically Altered Structure / Neoplasm   255, 60, 60 (none recommended)
                  (SCT 108369006)
================  =============================================  ==========================================

Outlines on reformatted planes (no acquired image) are left out with their reason. Import
(:func:`read_seg_outlines`) turns every segment's frames back into outlines (the boundary of each connected
region, pixel centres in LPS) with the kind from the segment's property type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from imaging import measure
from imaging.case.model import Case, Contour
from imaging.case.sources import series_headers
from imaging.case.sr_codes import code
from imaging.geometry import PlaneGeometry
from imaging.measurement_kinds import kind_spec

__all__ = ["SEGMENT_KINDS", "SegExport", "SegOutline", "SegmentKind", "read_seg_outlines", "write_seg"]


@dataclass(frozen=True)
class SegmentKind:
    label: str
    category: hd.sr.CodedConcept
    property_type: hd.sr.CodedConcept
    rgb: tuple[int, int, int]


# The category codes 3D Slicer's terminology (and dcmqi's) use
_ANATOMY = hd.sr.CodedConcept("123037004", "SCT", "Anatomical Structure")
_ALTERED = hd.sr.CodedConcept("49755003", "SCT", "Morphologically Altered Structure")
SEGMENT_KINDS: dict[str, SegmentKind] = {
    "canal": SegmentKind("Spinal canal", _ANATOMY, code(codes.SCT.SpinalCanalStructure), (216, 216, 216)),
    "sac": SegmentKind("Thecal sac", _ANATOMY, code(codes.SCT.DuraMater), (255, 244, 209)),
    "cord": SegmentKind("Spinal cord", _ANATOMY, code(codes.SCT.SpinalCord), (244, 214, 49)),
    "tumour": SegmentKind("Tumour", _ALTERED, code(codes.SCT.Neoplasm), (255, 60, 60)),
}
"""Outline kind (Contour.kind; ROIs are "tumour") -> segment label, codes and colour."""


@dataclass
class SegExport:
    """The SEG files written (one per series) and what was left out (object id -> reason)."""

    paths: list[Path] = field(default_factory=list)
    datasets: list[Dataset] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def _geometry(ds: Dataset) -> PlaneGeometry:
    iop = [float(v) for v in ds.ImageOrientationPatient]
    return PlaneGeometry([float(v) for v in ds.ImagePositionPatient], iop[:3], iop[3:],
                         float(ds.PixelSpacing[1]), float(ds.PixelSpacing[0]))


@dataclass(frozen=True)
class _Outline:
    """One outline to segment: its segment (``key``, ``label``, ``segment``: a key of SEGMENT_KINDS), the image
    it is on, its LPS points and how they make a region (``shape``: "polygon", or "ellipse" for an ellipse
    ROI's centre and semi-axis ends), and the case object it comes from."""

    key: str
    label: str
    segment: str
    sop_instance_uid: str
    points: np.ndarray
    object_id: str
    shape: Literal["ellipse", "polygon"] = "polygon"


def _outline_mask(o: _Outline, ds: Dataset) -> np.ndarray:
    return measure.roi_mask(_geometry(ds), (int(ds.Rows), int(ds.Columns)), o.shape, o.points)


def write_seg(case: Case, case_path: str | Path, out: str | Path, *, search_folders: Iterable[str | Path] = ()
              ) -> SegExport:
    """Write the SEG(s) of the case's outlines and finding ROIs: ``out`` for one series, else ``out`` with
    ``-series1``, ``-series2``... before the suffix. Raises ValueError when there is nothing to segment."""
    from io import BytesIO

    from imaging.case.store import atomic_write

    result = SegExport()
    items: dict[str, list[_Outline]] = {}  # by series UID
    several = sum(1 for f in case.findings if f.contours) > 1
    for f in case.findings:
        for c in f.contours:
            if not (c.series_instance_uid and c.sop_instance_uid):
                result.skipped[c.id] = "the outline is not on an acquired image (a SEG frame is an acquired image)"
                continue
            label = SEGMENT_KINDS[c.kind].label + (f" ({f.label})" if several and f.label else "")
            items.setdefault(c.series_instance_uid, []).append(
                _Outline(f"{c.kind}:{f.id}", label, c.kind, c.sop_instance_uid, np.asarray(c.points), c.id))
    for m in case.measurements:
        try:
            spec = kind_spec(m.kind)
        except ValueError:  # a kind this build does not know: not an ROI it can outline
            result.skipped[m.id] = f"its kind {m.kind!r} is not registered in this build of SpineCase"
            continue
        if not spec.has_area or m.finding_id is None:  # a finding's ROI is a tumour segment
            continue
        if not (m.series_instance_uid and m.sop_instance_uid and m.pixel_spacing_known):
            result.skipped[m.id] = "the ROI is not on an acquired image with pixel spacing"
            continue
        f = case.finding(m.finding_id)
        label = f"Tumour ROI ({m.label or f.label})".replace(" ()", "")[:64]
        items.setdefault(m.series_instance_uid, []).append(
            _Outline(f"roi:{m.id}", label, "tumour", m.sop_instance_uid, np.asarray(m.points), m.id,
                     spec.region_shape))
    if not items:
        raise ValueError("nothing to export as DICOM SEG: no outline or finding ROI on an acquired image")
    from imaging.case.exports import numbered_paths

    names = numbered_paths(out, len(items), "series")
    for (series_uid, entries), path in zip(items.items(), names, strict=True):
        ref = case.series_ref(series_uid)
        if ref is None:
            for e in entries:
                result.skipped[e.object_id] = f"series {series_uid} is not among the case's series"
            continue
        headers = {str(h.SOPInstanceUID): h for h in series_headers(case_path, ref, search_folders)}
        sops = list(dict.fromkeys(e.sop_instance_uid for e in entries if e.sop_instance_uid in headers))
        for e in entries:
            if e.sop_instance_uid not in headers:
                result.skipped[e.object_id] = f"its image {e.sop_instance_uid} is not in the series' files"
        keys = list(dict.fromkeys(e.key for e in entries if e.sop_instance_uid in headers))
        if not keys:
            continue
        sources = [headers[s] for s in sops]
        rows, cols = int(sources[0].Rows), int(sources[0].Columns)
        pixels = np.zeros((len(sources), rows, cols, len(keys)), dtype=bool)
        descriptions = []
        for n, key in enumerate(keys):
            entry = next(e for e in entries if e.key == key)
            segment = SEGMENT_KINDS[entry.segment]
            descriptions.append(hd.seg.SegmentDescription(
                segment_number=n + 1, segment_label=entry.label, segmented_property_category=segment.category,
                segmented_property_type=segment.property_type,
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
                tracking_uid=generate_uid(entropy_srcs=[case.case_id, key]), tracking_id=key.split(":")[0],
                display_color=hd.color.CIELabColor.from_rgb(*segment.rgb)))
            for e in entries:
                if e.key == key and e.sop_instance_uid in headers:
                    pixels[sops.index(e.sop_instance_uid), :, :, n] |= _outline_mask(e, headers[e.sop_instance_uid])
        seg = hd.seg.Segmentation(
            source_images=sources, pixel_array=pixels, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=descriptions, series_instance_uid=generate_uid(), series_number=991,
            sop_instance_uid=generate_uid(), instance_number=1, manufacturer="SpineCase",
            manufacturer_model_name="SpineCase", software_versions="SpineCase", device_serial_number="0",
            content_label="SPINECASE", content_description="SpineCase outlines (research, not diagnostic)",
            series_description="SpineCase outlines", omit_empty_frames=True)
        buf = BytesIO()
        seg.save_as(buf, enforce_file_format=True)
        result.paths.append(atomic_write(path, buf.getvalue()))
        result.datasets.append(seg)
    return result


# -- import -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SegOutline:
    """One outline read from a SEG: its kind, segment label, the image it is on and its LPS points."""

    kind: str
    label: str
    series_instance_uid: str
    sop_instance_uid: str
    points: np.ndarray

    def contour(self, slice_index: int | None = None, reader: str = "") -> Contour:
        return Contour.model_validate({
            "kind": self.kind, "points": [tuple(map(float, p)) for p in self.points],
            "series_instance_uid": self.series_instance_uid, "sop_instance_uid": self.sop_instance_uid,
            "slice_index": slice_index, "reader": reader})


def read_seg_outlines(path: str | Path, source_headers: Iterable[Dataset]) -> list[SegOutline]:
    """The outlines of a SEG: for each segment and frame, the boundary of each connected region (pixel
    centres) on the referenced source image, in LPS mm. ``source_headers``: the headers of the images it
    segments (their geometry). Segments of other property types become "tumour" outlines."""
    seg = hd.seg.segread(path)
    by_sop = {str(h.SOPInstanceUID): h for h in source_headers}
    kinds = {(k.property_type.value, k.property_type.scheme_designator): name for name, k in SEGMENT_KINDS.items()}
    out: list[SegOutline] = []
    series_uid = str(seg.ReferencedSeriesSequence[0].SeriesInstanceUID)
    for desc in seg.SegmentSequence:
        number = int(desc.SegmentNumber)
        ptype = desc.SegmentedPropertyTypeCodeSequence[0]
        kind = kinds.get((str(ptype.CodeValue), str(ptype.CodingSchemeDesignator)), "tumour")
        for sop in by_sop:
            try:
                mask = seg.get_pixels_by_source_instance([sop], segment_numbers=[number],
                                                         combine_segments=False)[0, :, :, 0]
            except (ValueError, KeyError, IndexError):
                continue
            if not mask.any():
                continue
            geom = _geometry(by_sop[sop])
            for ring in _boundaries(mask.astype(bool)):
                lps = geom.to_lps(np.asarray(ring, dtype=np.float64))
                out.append(SegOutline(kind, str(desc.SegmentLabel), series_uid, sop, lps))
    return out


def _boundaries(mask: np.ndarray) -> list[list[tuple[float, float]]]:
    """The outer boundary of each 8-connected region of a mask, as (x=column, y=row) pixel centres in
    order (Moore-neighbour tracing); regions of fewer than 3 boundary pixels are dropped."""
    import SimpleITK as sitk  # noqa: N813 - the conventional name

    labels = sitk.GetArrayFromImage(sitk.ConnectedComponent(sitk.GetImageFromArray(mask.astype(np.uint8)), True))
    out = []
    for n in range(1, int(labels.max()) + 1):
        region = labels == n
        ring = _trace(region)
        if len(ring) >= 3:
            out.append(ring)
    return out


_DIRS = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]  # (drow, dcol), clockwise from up


def _trace(region: np.ndarray) -> list[tuple[float, float]]:
    rows, cols = np.nonzero(region)
    start = (int(rows[0]), int(cols[0]))  # top-most, then left-most pixel
    h, w = region.shape

    def inside(r: int, c: int) -> bool:
        return 0 <= r < h and 0 <= c < w and bool(region[r, c])

    ring = [start]
    current, back = start, 6  # we came from the left
    for _ in range(4 * region.size + 8):
        found = False
        for i in range(8):
            d = (back + 1 + i) % 8
            r, c = current[0] + _DIRS[d][0], current[1] + _DIRS[d][1]
            if inside(r, c):
                back = (d + 4) % 8
                current = (r, c)
                found = True
                break
        if not found or current == start:
            break
        ring.append(current)
    return [(float(c), float(r)) for r, c in ring]
