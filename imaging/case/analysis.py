"""Pure functions on the `Case` model that the GUI and the exports share (Qt-free).

* :func:`level_at_point` — the vertebral level an LPS point lies in, from the labelled body centres;
* :func:`finding_levels` / :func:`auto_fill_levels` — a finding's level range from where its
  measurements and contours lie;
* :func:`lesion_dimensions` — "AP x LR x CC mm" and the ellipsoid volume of a finding (issue 5 §6);
* :func:`escc_group_of` — the NOMS ESCC group of a Bilsky grade (delegates to :mod:`imaging.spine`);
* :func:`compute_stats` — an ROI's voxel statistics (or a probe's value) for ``Measurement.stats``;
* :func:`measurement_from_drawing` — a new measurement filled from the viewer's volume and plane;
* :func:`patient_from_images`, :func:`patient_conflict` — one case is one patient.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from imaging import measure
from imaging.case.model import (
    Case,
    Finding,
    Measurement,
    MeasurementPlane,
    Patient,
    RoiStatsCache,
    VertebralLabel,
)
from imaging.geometry import PlaneGeometry
from imaging.measurement_kinds import kind_spec
from imaging.spine.levels import LevelRange, level_index
from imaging.volume import Volume

__all__ = [
    "SINGLE_LABEL_HALF_HEIGHT_MM",
    "LesionDimensions",
    "auto_fill_levels",
    "compute_stats",
    "escc_group_of",
    "finding_levels",
    "finding_points",
    "level_at_point",
    "measurement_from_drawing",
    "lesion_dimensions",
    "image_reference",
    "patient_conflict",
    "patient_from_images",
]

SINGLE_LABEL_HALF_HEIGHT_MM = 15.0
"""With a single labelled vertebra, points within this distance along S of its centre lie in it."""


def _spine_polyline(labels: Iterable[VertebralLabel]) -> tuple[list[str], np.ndarray]:
    """Labels in cranio-caudal order (duplicates of one level averaged) and their centres (N, 3)."""
    groups: dict[str, list[tuple[float, float, float]]] = {}
    for lab in labels:
        groups.setdefault(lab.label, []).append(lab.centre)
    names = sorted(groups, key=level_index)
    centres = np.array([np.mean(np.asarray(groups[n], dtype=np.float64), axis=0) for n in names])
    return names, centres.reshape(-1, 3)


def level_at_point(point: Sequence[float] | np.ndarray, labels: Iterable[VertebralLabel]) -> str | None:
    """The vertebral level an LPS point (mm) lies in, given labelled vertebral body centres.

    The labelled centres, in cranio-caudal order, form a polyline along the spine. The point is projected
    onto its nearest spot of that polyline; the level is the label whose centre is nearest *along the
    spine* (so the boundary between two levels is half-way between their centres — about the disc). Beyond
    the first or last labelled centre, a point belongs to it up to half the neighbouring interval; further
    out it is outside the labelled field and the result is None. With a single label the spine is taken
    along S and the level reaches :data:`SINGLE_LABEL_HALF_HEIGHT_MM` above and below its centre.
    """
    p = np.asarray(point, dtype=np.float64)
    names, c = _spine_polyline(labels)
    if not names:
        return None
    if len(names) == 1:
        return names[0] if abs(p[2] - c[0, 2]) <= SINGLE_LABEL_HALF_HEIGHT_MM else None
    seg = c[1:] - c[:-1]
    seg_len = np.linalg.norm(seg, axis=1)
    arc = np.r_[0.0, np.cumsum(seg_len)]
    best_d, best_s, outside = np.inf, 0.0, False
    last = len(seg) - 1
    for i in range(len(seg)):
        if seg_len[i] == 0:
            continue
        t = float(np.dot(p - c[i], seg[i]) / seg_len[i] ** 2)
        # The end segments reach half their length beyond the end bodies.
        lo = -0.5 if i == 0 else 0.0
        hi = 1.5 if i == last else 1.0
        tc = min(max(t, lo), hi)
        d = float(np.linalg.norm(p - (c[i] + tc * seg[i])))
        if d < best_d:
            best_d, best_s = d, arc[i] + tc * seg_len[i]
            outside = (i == 0 and t < lo) or (i == last and t > hi)
    if outside:
        return None
    return names[int(np.argmin(np.abs(arc - best_s)))]


def finding_points(case: Case, finding: Finding) -> list[tuple[float, float, float]]:
    """Every LPS point of a finding at its index timepoint: its measurements' points (those of other study
    dates belong to its follow-up timepoints) and its contours' points."""
    from imaging.followup.timeline import index_measurements

    pts: list[tuple[float, float, float]] = []
    for m in index_measurements(case, finding):
        pts.extend(m.points)
    for c in finding.contours:
        pts.extend(c.points)
    return pts


def finding_levels(case: Case, finding: Finding) -> LevelRange | None:
    """The level range where a finding's measurements and contours lie (from the case's vertebral labels),
    or None when none of its points falls within a labelled level."""
    levels = {lv for p in finding_points(case, finding)
              if (lv := level_at_point(p, case.vertebral_labels)) is not None}
    if not levels:
        return None
    ordered = sorted(levels, key=level_index)
    return LevelRange(ordered[0], ordered[-1])


def auto_fill_levels(case: Case, finding_id: str, who: str = "") -> Finding | None:
    """When a finding's levels are automatic (``levels_auto``), set them from :func:`finding_levels`.

    Returns the old finding when it changed (for undo: ``case.replace(old)``), else None. A finding whose
    levels were edited by hand is left alone.
    """
    f = case.finding(finding_id)
    if not f.levels_auto:
        return None
    rng = finding_levels(case, f)
    new_from, new_to = (rng.start, rng.end) if rng is not None else (None, None)
    if (f.level_from, f.level_to) == (new_from, new_to):
        return None
    old = case.update(finding_id, level_from=new_from, level_to=new_to, who=who)
    return old if isinstance(old, Finding) else None  # always a Finding: finding_id names one


@dataclass(frozen=True)
class LesionDimensions:
    """A lesion's size from an axial bidirectional and a craniocaudal extent.

    ``ap``/``lr``: the bidirectional's axes, the one nearer the antero-posterior (LPS y) direction being
    AP; ``long_axis``/``short_axis`` the same two lengths by size; ``cc`` the CC extent (None without a
    cc_extent measurement); ``volume`` = pi/6 x AP x LR x CC in mL (``volume_unit`` "mL"), or in px3 when
    a source has no pixel spacing (then ``unit`` is "px"), None without CC.
    """

    ap: float
    lr: float
    cc: float | None
    long_axis: float
    short_axis: float
    unit: str
    volume: float | None
    volume_unit: str
    bidirectional_id: str
    cc_extent_id: str | None

    def text(self) -> str:
        """``"AP x LR x CC mm"`` at 0.1 precision, e.g. ``"23.4 x 17.0 x 31.2 mm"`` (CC "?" if missing)."""
        cc = f"{self.cc:.1f}" if self.cc is not None else "?"
        return f"{self.ap:.1f} x {self.lr:.1f} x {cc} {self.unit}"

    def volume_text(self) -> str:
        return measure.format_value(self.volume, self.volume_unit) if self.volume is not None else "\u2014"


def lesion_dimensions(case: Case, finding_id: str, measurements: Sequence[Measurement] | None = None
                      ) -> LesionDimensions | None:
    """AP x LR x CC and the ellipsoid volume of a finding (issue 5 §6), or None when the reader has not
    marked a bidirectional as its dimensions.

    Only measurements the reader marked as the finding's dimensions (``Measurement.finding_dimension``)
    count -- never whatever else joined the finding -- among ``measurements`` (default: the finding's
    measurements at its index timepoint; :mod:`imaging.followup.timeline` gives those of another date). Of
    those, the axial bidirectional with the longest long axis (any marked bidirectional when none is axial)
    and the largest marked CC extent. Lengths are LPS mm; if any source lacks pixel spacing, they are px and
    the volume is px3 (never a fake mL).
    """
    if measurements is None:
        from imaging.followup.timeline import index_measurements

        measurements = index_measurements(case, case.finding(finding_id))
    ms = [m for m in measurements if m.finding_dimension]
    bis = [m for m in ms if m.kind == "bidirectional"]
    if not bis:
        return None
    axial = [m for m in bis if m.plane.orientation == "axial"] or bis

    def long_len(m: Measurement) -> float:
        p = m.points
        return measure.bidirectional(p[0], p[1], p[2], p[3]).long_length

    bi = max(axial, key=long_len)
    b = measure.bidirectional(bi.points[0], bi.points[1], bi.points[2], bi.points[3])
    long_dir = b.long_axis[1] - b.long_axis[0]
    long_is_ap = abs(long_dir[1]) >= abs(long_dir[0])
    ap, lr = (b.long_length, b.short_length) if long_is_ap else (b.short_length, b.long_length)
    ccs = [m for m in ms if m.kind == "cc_extent"]
    cc_m = max(ccs, key=lambda m: measure.craniocaudal_extent(*m.points)) if ccs else None
    cc = measure.craniocaudal_extent(*cc_m.points) if cc_m is not None else None
    known = bi.pixel_spacing_known and (cc_m is None or cc_m.pixel_spacing_known)
    unit = measure.length_unit(known)
    volume: float | None = None
    if cc is not None:
        volume = measure.ellipsoid_volume_ml(ap, lr, cc) if known else measure.ellipsoid_volume(ap, lr, cc)
    return LesionDimensions(ap=ap, lr=lr, cc=cc, long_axis=b.long_length, short_axis=b.short_length, unit=unit,
                            volume=volume, volume_unit=measure.volume_unit(known), bidirectional_id=bi.id,
                            cc_extent_id=cc_m.id if cc_m is not None else None)


def image_reference(orientation: str, points: Sequence[Sequence[float] | np.ndarray] | np.ndarray,
                    normal: Sequence[float] | np.ndarray, instance_number: int | None) -> str:
    """Where a measurement (or grade) was made, as a reader finds it again on any PACS: ``"Im 60, S 12.5 mm"``
    on an acquired image (its DICOM InstanceNumber and the plane's position), ``"sagittal reformat, L 3.2
    mm"`` on a reformat."""
    from imaging.geometry import axis_position

    centre = np.mean(np.asarray(points, dtype=np.float64), axis=0)
    letter, mm = axis_position(centre, normal)
    where = f"{letter} {mm:.1f} mm"
    if instance_number is not None:
        return f"Im {instance_number}, {where}"
    return f"{orientation} reformat, {where}" if orientation else where


def patient_from_images(patient_id: str, patient_name: str, sex: str = "", age: str = "") -> Patient:
    """The case's :class:`Patient` as the DICOM images name them (PatientID, PatientName, PatientSex and
    PatientAge "036Y")."""
    years: float | None = None
    if len(age) == 4 and age[:3].isdigit() and age[3] in "DWMY":
        n = int(age[:3])
        years = {"Y": n, "M": n / 12, "W": n / 52.1775, "D": n / 365.25}[age[3]]
    sex_code = sex.strip().upper()
    return Patient(id=patient_id.strip(), name=patient_name.strip() or None,
                   sex=sex_code if sex_code in ("F", "M", "O") else None, age_years=years)


def _person(name: str | None) -> str:
    return " ".join((name or "").replace("^", " ").upper().split())


def patient_conflict(case_patient: Patient, images: Patient) -> str | None:
    """Why images of ``images`` cannot be annotated in a case of ``case_patient`` (a sentence naming both),
    or None when they are the same patient -- or when either side does not say who it is.

    The PatientID decides when both have one; else the PatientName (case and ``^`` ignored)."""
    if case_patient.id and images.id:
        same = case_patient.id.strip() == images.id.strip()
    elif case_patient.name and images.name:
        same = _person(case_patient.name) == _person(images.name)
    else:
        return None

    def who(p: Patient) -> str:
        name = (p.name or "").replace("^", ", ", 1).replace("^", " ") or "no name"
        return f"{name} (ID {p.id})" if p.id else name

    if same:
        return None
    return (f"this series belongs to another patient, {who(images)}; the case is {who(case_patient)}. A case "
            "holds one patient: open these images in a new case (File > New Case)")


def escc_group_of(grade: str | None, grade_1c_as: str = "high") -> str:
    """The NOMS ESCC group of a Bilsky grade: "low" (0, 1a, 1b) or "high" (2, 3); 1c goes to
    ``grade_1c_as`` (a setting, default "high"); "" for no grade. Delegates to
    :func:`imaging.spine.bilsky.escc_group`."""
    if grade is None:
        return ""
    from imaging.spine.bilsky import escc_group

    return str(escc_group(grade, grade_1c_as))


class VolumeLoading(ValueError):
    """Voxel values were asked of a volume that a progressive load is still filling (`Volume.is_loading`)."""


def compute_stats(m: Measurement, volume: Volume) -> RoiStatsCache | None:
    """The voxel statistics of an ROI (or the probed voxel's value) from the series' voxels, to store in
    ``Measurement.stats`` (with the time computed). None for kinds without statistics (the kind's spec says:
    ``voxel_stats`` "region" or "point").

    The ROI's plane is cut from ``volume`` with :func:`imaging.display.plane_spec` (its axial, sagittal or
    coronal plane nearest the ROI's centre — the plane it was drawn on) and the mask follows
    :func:`imaging.measure.roi_mask` (pixel centres inside the outline). Raises ValueError for an ROI on an
    oblique plane (not reconstructed here), `VolumeLoading` while the volume is still loading.
    """
    from imaging.display import plane_spec

    kind = kind_spec(m.kind)
    if kind.voxel_stats != "none" and volume.is_loading:
        raise VolumeLoading("the series is still loading: its voxel values are not all read yet")
    if kind.voxel_stats == "point":
        value = measure.probe(volume, m.points[0])
        return RoiStatsCache(mean=value, sd=0.0 if value is not None else None, min=value, max=value,
                             count=0 if value is None else 1, unit=measure.value_unit(volume))
    if kind.voxel_stats != "region":
        return None
    if m.plane.orientation == "oblique":
        raise ValueError("ROI statistics on an oblique plane are not supported yet")
    plane = plane_spec(volume, m.plane.orientation)
    pts = np.asarray(m.points, dtype=np.float64)
    k = plane.nearest_slice(pts.mean(axis=0))
    pixels = plane.extract(volume.array, k)
    mask_points = pts if kind.region_shape == "ellipse" else kind.outline(pts)
    res = measure.measure_roi(pixels, plane.geometry(k), kind.region_shape, mask_points, measure.value_unit(volume),
                              m.pixel_spacing_known)
    return RoiStatsCache.from_stats(res.stats)


def measurement_from_drawing(kind: str, points_lps: Sequence[Sequence[float]], volume: Volume,
                             geometry: PlaneGeometry, *, orientation: str | None = None,
                             slice_index: int | None = None, acquired: bool = False, reader: str = "",
                             label: str = "", finding_id: str | None = None, with_stats: bool = True
                             ) -> Measurement:
    """A new :class:`Measurement` as the viewer draws it (not yet added: ``case.add(m, who=reader)``).

    ``geometry`` is the displayed plane's :class:`PlaneGeometry`; ``orientation`` its name (default: from
    the geometry); ``slice_index`` the plane number shown; ``acquired`` True when the view shows the
    acquired slices, so the slice's SOPInstanceUID (and frame number for multi-frame files) is recorded.
    The series UID and ``pixel_spacing_known`` come from ``volume``; ROI statistics and the probe value
    are computed now when ``with_stats``.
    """
    plane = MeasurementPlane.from_geometry(geometry)
    if orientation is not None:
        plane = plane.model_copy(update={"orientation": orientation})
    sop = volume.sop_instance_uid(slice_index) if acquired and slice_index is not None else None
    frames = volume.metadata.frame_numbers
    frame = frames[slice_index] if sop and slice_index is not None and slice_index < len(frames) else None
    number = volume.instance_number(slice_index) if sop and slice_index is not None else None
    m = Measurement(kind=kind, points=[tuple(float(c) for c in p) for p in points_lps], plane=plane,
                    series_instance_uid=volume.metadata.series_instance_uid or None, sop_instance_uid=sop or None,
                    instance_number=number, frame_number=frame, slice_index=slice_index, label=label, reader=reader,
                    finding_id=finding_id,
                    pixel_spacing_known=volume.pixel_spacing_known)
    if with_stats and kind_spec(m.kind).voxel_stats != "none" and m.plane.orientation != "oblique":
        m = m.model_copy(update={"stats": compute_stats(m, volume)})
    return m
