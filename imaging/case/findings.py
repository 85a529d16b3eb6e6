"""Helpers for editing findings (lesions): names, level ranges, per-level involvement, the Bilsky grade's
place and the SINS answers (Qt-free; the panels in widgets/ are thin views over these).

* :data:`SECTOR_NAMES`, :data:`LESION_TYPE_NAMES` — display names of the model's literals;
* :func:`next_finding_label` — "Lesion 1", "Lesion 2", ... (first free);
* :func:`parse_levels_text` — a typed level range -> ``(level_from, level_to)`` or a clear ValueError;
* :func:`involvement_levels`, :func:`with_involvement` — the involvement grid's rows and one toggle;
* :func:`stale_auto_levels`, :func:`sync_auto_levels` — findings whose automatic levels no longer match
  where their measurements lie (from the labelled vertebrae), and bringing them up to date;
* :func:`grading_point`, :func:`labels_for_frame`, :func:`graded_assessment` — where a Bilsky grade is
  read (the point of the plane shown, its level) and the assessment recording it;
* :data:`SINS_FIELDS`, :func:`sins_missing`, :func:`sins_summary` — the SINS form's fields and state;
* :func:`assignment_changes`, :func:`dimension_marks` — moving a measurement between findings, and marking
  it as its finding's dimensions; :func:`next_measurement_label` — "Length 3" for a new measurement.

Research software, not a diagnostic device.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from imaging.case.analysis import auto_fill_levels, finding_levels, level_at_point
from imaging.case.model import (
    SECTORS,
    BilskyAssessment,
    Case,
    Finding,
    LevelInvolvement,
    Measurement,
    SinsAssessment,
    VertebralLabel,
    utc_now,
)
from imaging.geometry import PlaneGeometry
from imaging.spine.bilsky import escc_group, normalize_bilsky_grade
from imaging.spine.grading_image import WeightingDecision, bilsky_image_reminder, mr_weighting
from imaging.spine.levels import level_index, normalize_level, parse_level_range
from imaging.spine.sins import (
    SinsAlignment,
    SinsBoneLesion,
    SinsCollapse,
    SinsLocation,
    SinsPain,
    SinsPosterolateral,
)

if TYPE_CHECKING:  # pragma: no cover
    from imaging.display import PlaneSpec
    from imaging.volume import Volume

__all__ = [
    "LESION_TYPE_NAMES",
    "assignment_changes",
    "dimension_marks",
    "next_measurement_label",
    "SECTOR_NAMES",
    "SECTOR_SHORT_NAMES",
    "SINS_FIELDS",
    "GradingPlace",
    "SinsField",
    "escc_group_text",
    "graded_assessment",
    "grading_place",
    "grading_point",
    "involvement_levels",
    "labels_for_frame",
    "next_finding_label",
    "parse_levels_text",
    "sins_missing",
    "sins_summary",
    "stale_auto_levels",
    "sync_auto_levels",
    "with_involvement",
]

SECTOR_NAMES: dict[str, str] = {
    "vertebral_body": "Vertebral body",
    "left_pedicle": "Left pedicle",
    "right_pedicle": "Right pedicle",
    "lamina": "Lamina",
    "spinous_process": "Spinous process",
    "transverse_process": "Transverse process",
    "epidural": "Epidural",
    "paraspinal": "Paraspinal",
    "psoas": "Psoas",
}
"""Involvement sector -> display name, in the model's order (:data:`imaging.case.model.SECTORS`)."""
SECTOR_SHORT_NAMES: dict[str, str] = {
    "vertebral_body": "Body", "left_pedicle": "L pedicle", "right_pedicle": "R pedicle", "lamina": "Lamina",
    "spinous_process": "Spinous", "transverse_process": "Transverse", "epidural": "Epidural",
    "paraspinal": "Paraspinal", "psoas": "Psoas",
}
LESION_TYPE_NAMES: dict[str, str] = {
    "lytic": "Lytic", "blastic": "Blastic", "mixed": "Mixed", "lipomatous": "Lipomatous",
    "marrow_replacing": "Marrow-replacing",
}
"""Lesion type -> display name."""
assert tuple(SECTOR_NAMES) == SECTORS  # noqa: S101 - the model's order

# -- names and levels --------------------------------------------------------------------------------------
def next_finding_label(case: Case, stem: str = "Lesion") -> str:
    """The first free ``"<stem> N"`` (N from 1) among the case's finding labels."""
    used = set()
    pattern = re.compile(rf"^{re.escape(stem)} (\d+)$")
    for f in case.findings:
        m = pattern.match(f.label.strip())
        if m:
            used.add(int(m.group(1)))
    n = 1
    while n in used:
        n += 1
    return f"{stem} {n}"


def parse_levels_text(text: str) -> tuple[str | None, str | None]:
    """``(level_from, level_to)`` for a typed level range ("T5-T6", "t5-6", "T6", "T6-T5"); ``(None, None)``
    for empty text (levels cleared). Raises ValueError with a message for the reader otherwise."""
    if not text.strip():
        return None, None
    rng = parse_level_range(text)
    return rng.start, rng.end


def involvement_levels(finding: Finding) -> list[str]:
    """The rows of the involvement grid: the finding's level range and any other level that has
    involvement recorded (so it can be unticked), cranial to caudal."""
    levels = set(finding.level_range.levels) if finding.level_range is not None else set()
    levels.update(inv.level for inv in finding.involvement)
    return sorted(levels, key=level_index)


def with_involvement(involvement: Sequence[LevelInvolvement], level: str, sector: str, on: bool
                     ) -> list[LevelInvolvement]:
    """The involvement list with ``sector`` at ``level`` ticked (``on``) or unticked; levels in cranio-caudal
    order, a level with no sector left is dropped."""
    level = normalize_level(level)
    if sector not in SECTORS:
        raise ValueError(f"unknown involvement sector {sector!r}: expected one of {', '.join(SECTORS)}")
    by_level: dict[str, set[str]] = {inv.level: set(inv.sectors) for inv in involvement}
    sectors = by_level.setdefault(level, set())
    if on:
        sectors.add(sector)
    else:
        sectors.discard(sector)
    return [LevelInvolvement(level=lv, sectors=[s for s in SECTORS if s in by_level[lv]])
            for lv in sorted(by_level, key=level_index) if by_level[lv]]


def stale_auto_levels(case: Case) -> list[str]:
    """Ids of the findings whose levels are automatic (``levels_auto``) and differ from where their
    measurements and contours lie (:func:`imaging.case.analysis.finding_levels`)."""
    out = []
    for f in case.findings:
        if not f.levels_auto:
            continue
        rng = finding_levels(case, f)
        want = (rng.start, rng.end) if rng is not None else (None, None)
        if (f.level_from, f.level_to) != want:
            out.append(f.id)
    return out


def sync_auto_levels(case: Case, who: str = "") -> list[str]:
    """Bring every finding with automatic levels up to date (``auto_fill_levels``); returns the ids of the
    findings changed. Automatic levels are derived data: the GUI runs this after every edit, undo and redo
    so they always equal what the measurements and labels say."""
    changed = []
    for fid in stale_auto_levels(case):
        if auto_fill_levels(case, fid, who=who) is not None:
            changed.append(fid)
    return changed


# -- where a Bilsky grade is read ----------------------------------------------------------------------------
def grading_point(geometry: PlaneGeometry, width: int, height: int,
                  cursor: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """The point of the plane shown that a grade refers to: the shared cursor projected onto the plane
    (when there is one), else the plane's centre — LPS mm."""
    if cursor is not None:
        c = np.asarray(cursor, dtype=np.float64)
        n = np.asarray(geometry.normal, dtype=np.float64)
        return c - float((c - np.asarray(geometry.origin, dtype=np.float64)) @ n) * n
    return np.asarray(geometry.to_lps(((width - 1) / 2.0, (height - 1) / 2.0)), dtype=np.float64)


def labels_for_frame(case: Case, series_instance_uid: str | None, frame_of_reference_uid: str | None
                     ) -> tuple[list[VertebralLabel], bool]:
    """The vertebral labels to use on a series, and whether they all lie in another frame of reference.

    A label's frame of reference is that of the series it was placed on (from the case's series
    references). Labels of another known frame are in other patient coordinates, so they are left out
    when labels of the same series or frame, or of an unknown frame, exist. When every label is known to be
    in another frame, all are returned with ``True`` (the caller warns that the level may not match)."""
    frame_of = {s.series_instance_uid: s.frame_of_reference_uid for s in case.series}
    usable: list[VertebralLabel] = []
    for lab in case.vertebral_labels:
        label_frame = frame_of.get(lab.series_instance_uid or "")
        same_series = bool(series_instance_uid) and lab.series_instance_uid == series_instance_uid
        other_frame = bool(label_frame and frame_of_reference_uid) and label_frame != frame_of_reference_uid
        if same_series or not other_frame:
            usable.append(lab)
    if usable or not case.vertebral_labels:
        return usable, False
    return list(case.vertebral_labels), True


@dataclass(frozen=True)
class GradingPlace:
    """Where the reader is looking when choosing a Bilsky grade: the series and plane shown, the slice,
    the acquired slice's SOPInstanceUID (axial acquired planes only), the point and its labelled level,
    the MR weighting and the reminder to grade on axial T2 (None when the image is right)."""

    series_instance_uid: str | None = None
    sop_instance_uid: str | None = None
    instance_number: int | None = None
    slice_index: int | None = None
    slice_count: int = 0
    orientation: str = ""
    acquired: bool = False
    modality: str = ""
    series_description: str = ""
    point: tuple[float, float, float] | None = None
    level: str | None = None
    labels_other_frame: bool = False
    weighting: WeightingDecision | None = None
    reminder: str | None = None

    def image_text(self) -> str:
        """``"MR Ax T2 TSE, axial Im 8 of 14"`` (the image's DICOM InstanceNumber, as PACS shows it) or
        ``"... sagittal reformat, L 3.2 mm"``, or "no image"."""
        if not self.orientation:
            return "no image"
        if self.acquired and self.instance_number is not None:
            where = f"{self.orientation} Im {self.instance_number} of {self.slice_count}"
        elif self.point is not None:
            from imaging.geometry import axis_position

            normal = {"axial": (0, 0, 1), "sagittal": (1, 0, 0), "coronal": (0, 1, 0)}.get(self.orientation,
                                                                                           (0, 0, 1))
            letter, mm = axis_position(self.point, normal)
            where = f"{self.orientation} {'slice' if self.acquired else 'reformat'}, {letter} {mm:.1f} mm"
        else:
            where = f"{self.orientation} {'slice' if self.acquired else 'reformat'}"
        head = " ".join(p for p in (self.modality, self.series_description) if p)
        return f"{head}, {where}" if head else where


def grading_place(case: Case, volume: Volume | None, spec: PlaneSpec | None, slice_index: int,
                  cursor: Sequence[float] | np.ndarray | None = None) -> GradingPlace:
    """The :class:`GradingPlace` of a view showing plane ``slice_index`` of ``spec`` (a
    :func:`imaging.display.plane_spec`) of ``volume``, with the shared cursor ``cursor`` (LPS) if any.

    The level is the labelled level (:func:`imaging.case.analysis.level_at_point`, labels of the same frame
    of reference preferred: :func:`labels_for_frame`) at :func:`grading_point`. The SOPInstanceUID is recorded
    only when the plane is an acquired axial slice; on a reformat it is None.
    """
    if volume is None or spec is None:
        return GradingPlace(reminder=bilsky_image_reminder(modality="", orientation="", acquired=False))
    md = volume.metadata
    geometry = spec.geometry(slice_index)
    point = grading_point(geometry, spec.width, spec.height, cursor)
    labels, other = labels_for_frame(case, md.series_instance_uid or None, md.frame_of_reference_uid or None)
    level = level_at_point(point, labels) if labels else None
    acquired_axial = spec.is_acquired and spec.orientation == "axial"
    sop = volume.sop_instance_uid(slice_index) if acquired_axial else None
    number = volume.instance_number(slice_index) if spec.is_acquired else None
    weighting = None
    if volume.modality.upper() == "MR":
        weighting = mr_weighting(echo_time=md.echo_time, repetition_time=md.repetition_time,
                                 inversion_time=md.inversion_time, description=md.series_description)
    reminder = bilsky_image_reminder(modality=volume.modality, orientation=spec.orientation,
                                     acquired=spec.is_acquired, weighting=weighting)
    return GradingPlace(series_instance_uid=md.series_instance_uid or None, sop_instance_uid=sop or None,
                        instance_number=number, slice_index=int(slice_index), slice_count=spec.count,
                        orientation=spec.orientation,
                        acquired=spec.is_acquired, modality=volume.modality,
                        series_description=md.series_description,
                        point=(float(point[0]), float(point[1]), float(point[2])), level=level,
                        labels_other_frame=other and level is not None, weighting=weighting, reminder=reminder)


def graded_assessment(old: BilskyAssessment, grade: str | None, *, level: str | None,
                      series_instance_uid: str | None, sop_instance_uid: str | None, slice_index: int | None,
                      reader: str, when: datetime | None = None, instance_number: int | None = None
                      ) -> BilskyAssessment:
    """``old`` with the reader's final grade and where it was read (level, series, acquired slice's
    SOPInstanceUID and InstanceNumber, slice index), by whom and when. The assistant's suggestion is kept.
    ``grade`` None clears the grade and its place."""
    if grade is None:
        return old.model_copy(update={"grade": None, "level": None, "series_instance_uid": None,
                                      "sop_instance_uid": None, "instance_number": None, "slice_index": None,
                                      "reader": "", "assessed_utc": None})
    data = old.model_dump()
    data.update(grade=normalize_bilsky_grade(grade), level=normalize_level(level) if level else None,
                series_instance_uid=series_instance_uid or None, sop_instance_uid=sop_instance_uid or None,
                instance_number=instance_number if sop_instance_uid else None,
                slice_index=slice_index, reader=reader, assessed_utc=when or utc_now())
    return BilskyAssessment.model_validate(data)


def escc_group_text(grade: str | None, grade_1c_as: str = "high") -> str:
    """``"High-grade ESCC"`` / ``"Low-grade ESCC"`` (NOMS) for a grade, "" for none."""
    if grade is None:
        return ""
    return f"{escc_group(grade, grade_1c_as).capitalize()}-grade ESCC"


# -- measurements and findings ---------------------------------------------------------------------------------
def assignment_changes(m: Measurement, finding_id: str | None) -> dict[str, object]:
    """The field changes that move measurement ``m`` to finding ``finding_id`` (None: no finding). A mark
    as the old finding's dimensions never travels with it to another finding."""
    changes: dict[str, object] = {"finding_id": finding_id}
    if m.finding_dimension and finding_id != m.finding_id:
        changes["finding_dimension"] = False
    return changes


def dimension_marks(case: Case, measurement_id: str, on: bool) -> list[tuple[str, dict[str, object]]]:
    """The edits that mark (``on``) or unmark a measurement as its finding's dimensions, as
    ``[(measurement id, field changes)]``: marking a bidirectional (or CC extent) unmarks the finding's other
    one of that kind at the same timepoint (study date), so a finding has one of each per timepoint. Raises
    ValueError when the measurement cannot be marked (no finding, or a kind that gives no dimension)."""
    from imaging.followup.timeline import measurement_date, timepoint_at

    m = case.measurement(measurement_id)
    if on and m.spec.finding_dimension is None:
        raise ValueError(f"a {m.spec.name} cannot give a finding's dimensions")
    if on and m.finding_id is None:
        raise ValueError("assign the measurement to a finding first")
    edits: list[tuple[str, dict[str, object]]] = []
    if on:
        f = case.finding(m.finding_id or "")

        def timepoint_of(x: Measurement) -> str | None:
            tp = timepoint_at(f, measurement_date(case, x))
            return tp.id if tp is not None else None

        here = timepoint_of(m)
        edits += [(o.id, {"finding_dimension": False}) for o in case.finding_measurements(f.id)
                  if o.id != m.id and o.kind == m.kind and o.finding_dimension and timepoint_of(o) == here]
    if m.finding_dimension != on:
        edits.append((m.id, {"finding_dimension": on}))
    return edits


def next_measurement_label(case: Case, kind: str) -> str:
    """A new measurement's label: its kind's title and the next free number of that kind, e.g. "Length 3",
    "Ellipse ROI 1"."""
    from imaging.measurement_kinds import kind_spec

    base = kind_spec(kind).title
    used = {m.label for m in case.measurements}
    n = sum(1 for m in case.measurements if m.kind == kind) + 1
    while f"{base} {n}" in used:
        n += 1
    return f"{base} {n}"


class SinsField:
    """One SINS component of the form: the SinsAssessment field, its title, the enum, the undo name."""

    def __init__(self, field: str, title: str, enum: type, undo_name: str) -> None:
        self.field, self.title, self.enum, self.undo_name = field, title, enum, undo_name


SINS_FIELDS: tuple[SinsField, ...] = (
    SinsField("pain", "Pain", SinsPain, "pain"),
    SinsField("bone_lesion", "Bone lesion", SinsBoneLesion, "bone lesion"),
    SinsField("alignment", "Radiographic spinal alignment", SinsAlignment, "alignment"),
    SinsField("collapse", "Vertebral body collapse", SinsCollapse, "vertebral body collapse"),
    SinsField("posterolateral", "Posterolateral involvement of spinal elements", SinsPosterolateral,
              "posterolateral involvement"),
)
"""The five answered components, in the published order (the location, first, comes from the levels)."""


def sins_missing(sins: SinsAssessment, has_levels: bool) -> list[str]:
    """Titles of the components still unanswered ("Location" when there are no levels and no override)."""
    out = [] if has_levels or sins.location_override is not None else ["Location"]
    out.extend(f.title for f in SINS_FIELDS if getattr(sins, f.field) is None)
    return out


def sins_summary(finding: Finding) -> str:
    """``"9 (potentially unstable (indeterminate))"`` or ``""`` while incomplete — for lists."""
    score = finding.sins_score()
    return f"{score.total} ({score.category.label})" if score is not None else ""


def location_choices() -> Iterable[SinsLocation]:
    """The SINS location answers, in the published order."""
    return iter(SinsLocation)
