"""Key images of a case (Qt-free): a DICOM Key Object Selection document (KOS, highdicom) per study listing
the images that carry the case's graded levels and measurements, and optionally DICOM secondary-capture
images of them with the measurements and outlines burned in.

Key images: every acquired image a measurement was drawn on (``Measurement.sop_instance_uid``) and every
finding's Bilsky grading image. Measurements on reformatted planes have no image of their own and are
listed in ``skipped``. The KOS is titled "Of Interest" (DCM 113000) and describes what it holds; like the
SR, one document per study (a KOS belongs to one study; PACS and viewers show it with that study).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from imaging.case.keyimage import CONTOUR_COLOURS, PALETTE, Overlay, measurement_overlays, render_key_image
from imaging.case.model import Case
from imaging.case.sources import series_headers
from imaging.geometry import orientation_letters
from imaging.volume import Volume

__all__ = ["KosExport", "key_image_series", "key_image_uids", "write_key_images"]

KOS_SERIES_NUMBER = 992
SC_SERIES_NUMBER = 993


@dataclass
class KosExport:
    """Files written (KOS documents, secondary captures) and what had no key image (object id -> reason)."""

    paths: list[Path] = field(default_factory=list)
    secondary_captures: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def key_image_uids(case: Case) -> tuple[dict[str, list[str]], dict[str, str]]:
    """``({SOPInstanceUID: [why it is a key image, ...]}, {object id: reason it has none})``, in case order."""
    keys: dict[str, list[str]] = {}
    skipped: dict[str, str] = {}
    for f in case.findings:
        if f.bilsky.grade and f.bilsky.sop_instance_uid:
            keys.setdefault(f.bilsky.sop_instance_uid, []).append(
                f"Bilsky {f.bilsky.grade} at {f.bilsky.level or f.levels_text or '?'} ({f.label or 'finding'})")
    for m in case.measurements:
        if m.sop_instance_uid:
            finding = case.finding(m.finding_id).label if m.finding_id else ""
            keys.setdefault(m.sop_instance_uid, []).append(" ".join(f"{m.kind} {m.label or finding}".split()))
        else:
            skipped[m.id] = "drawn on a reformatted plane: no acquired image to select"
    return keys, skipped


def key_image_series(case: Case) -> list[str]:
    """The SeriesInstanceUIDs of the key images (the volumes their secondary captures are rendered from)."""
    return list(dict.fromkeys([*(m.series_instance_uid for m in case.measurements
                                 if m.sop_instance_uid and m.series_instance_uid),
                               *(f.bilsky.series_instance_uid for f in case.findings
                                 if f.bilsky.sop_instance_uid and f.bilsky.series_instance_uid)]))


def write_key_images(case: Case, case_path: str | Path, out: str | Path, *, search_folders: Iterable[str | Path] = (),
                     volumes: Mapping[str, Volume] | None = None, secondary_capture: bool = False) -> KosExport:
    """Write the KOS document(s): ``out`` for one study, else ``out`` with ``-study1``... With
    ``secondary_capture`` (needs ``volumes``, series UID -> Volume), also one RGB secondary-capture image per
    key image, with its measurements and outlines burned in, beside ``out`` (``<stem>-sc-<n>.dcm``)."""
    from io import BytesIO

    from imaging.case.store import atomic_write

    keys, skipped = key_image_uids(case)
    result = KosExport(skipped=skipped)
    headers: dict[str, Dataset] = {}
    for uid in key_image_series(case):
        ref = case.series_ref(uid)
        if ref is None:
            continue
        for ds in series_headers(case_path, ref, search_folders):
            headers[str(ds.SOPInstanceUID)] = ds
    found = [sop for sop in keys if sop in headers]
    for sop in keys:
        if sop not in headers:
            result.skipped[sop] = "the image is not among the case's series files"
    if not found:
        raise ValueError("no key image: no graded level or measurement is on an acquired image with its file")
    studies: dict[str, list[str]] = {}
    for sop in found:
        studies.setdefault(str(headers[sop].StudyInstanceUID), []).append(sop)
    out = Path(out)
    from imaging.case.exports import numbered_paths

    names = numbered_paths(out, len(studies), "study")
    reader = case.readers[0].name if case.readers else ""
    sc_number = 0
    for sops, path in zip(studies.values(), names, strict=True):
        refs = [headers[s] for s in sops]
        observer = hd.sr.ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                name=(reader or "SpineCase reader") + ("" if "^" in reader else "^")))
        description = "SpineCase key images: " + "; ".join(
            f"image {int(getattr(headers[s], 'InstanceNumber', 0) or 0)}: {', '.join(keys[s])}" for s in sops)
        content = hd.ko.KeyObjectSelection(document_title=codes.DCM.OfInterest, referenced_objects=refs,
                                           observer_person_context=observer, description=description[:1024])
        kos = hd.ko.KeyObjectSelectionDocument(
            evidence=refs, content=content, series_instance_uid=generate_uid(), series_number=KOS_SERIES_NUMBER,
            sop_instance_uid=generate_uid(), instance_number=1, manufacturer="SpineCase",
            series_description="SpineCase key images")
        buf = BytesIO()
        kos.save_as(buf, enforce_file_format=True)
        result.paths.append(atomic_write(path, buf.getvalue()))
        if secondary_capture and volumes:
            for sop in sops:
                ds = headers[sop]
                vol = volumes.get(str(ds.SeriesInstanceUID))
                if vol is None:
                    result.skipped[sop] = "no secondary capture: the series is not loaded"
                    continue
                sc_number += 1
                sc = _secondary_capture(case, vol, ds, sc_number)
                buf = BytesIO()
                sc.save_as(buf, enforce_file_format=True)
                result.secondary_captures.append(atomic_write(out.with_name(f"{out.stem}-sc-{sc_number}.dcm"),
                                                              buf.getvalue()))
    return result


def _secondary_capture(case: Case, vol: Volume, ds: Dataset, number: int) -> hd.sc.SCImage:
    """The key image's plane with its measurements and outlines burned in, as an RGB secondary capture."""
    from imaging.display import acquired_orientation

    sop = str(ds.SOPInstanceUID)
    overlays: list[Overlay] = []
    for i, m in enumerate(m for m in case.measurements if m.sop_instance_uid == sop):
        overlays.extend(measurement_overlays(m.kind, m.points, PALETTE[i % len(PALETTE)], str(i + 1)))
    for f in case.findings:
        overlays.extend(Overlay(np.asarray(c.points, dtype=np.float64), CONTOUR_COLOURS[c.kind], closed=True)
                        for c in f.contours if c.sop_instance_uid == sop)
    hint = [float(v) for v in ds.ImagePositionPatient] if "ImagePositionPatient" in ds else [0.0, 0.0, 0.0]
    img = render_key_image(vol, acquired_orientation(vol), hint, overlays)
    assert img.rgb is not None and img.x_dir is not None and img.y_dir is not None
    # Patient Orientation: the direction of the rows (along a row: x), then of the columns (y); DICOM writes
    # superior/inferior as H(ead)/F(oot).
    biped = str.maketrans({"S": "H", "I": "F"})
    orientation = ((orientation_letters(img.x_dir, 1) or "L").translate(biped),
                   (orientation_letters(img.y_dir, 1) or "P").translate(biped))
    sc = hd.sc.SCImage.from_ref_dataset(
        ref_dataset=ds, pixel_array=np.ascontiguousarray(img.rgb), photometric_interpretation="RGB", bits_allocated=8,
        coordinate_system="PATIENT", series_instance_uid=generate_uid(entropy_srcs=[case.case_id, "sc"]),
        series_number=SC_SERIES_NUMBER, sop_instance_uid=generate_uid(), instance_number=number,
        manufacturer="SpineCase",
        pixel_spacing=(img.pixel_mm, img.pixel_mm),  # type: ignore[arg-type]  # mm (DS); highdicom annotates ints
        patient_orientation=orientation,
        series_description="SpineCase key images (annotations burned in)")
    sc.BurnedInAnnotation = "YES"  # the measurements are drawn into the pixels
    # Laterality (Type 2C) is for paired body parts; naming the body part tells validators it is not one.
    sc.BodyPartExamined = str(getattr(ds, "BodyPartExamined", "") or "SPINE")
    return sc
