"""A finding's timepoints, read from the case (Qt-free): which measurements belong to which study date.

The rule (one place): a measurement's date is the StudyDate of its series' study, as the case records it
(``SeriesRef.study_instance_uid`` -> ``Study.study_date``). A finding's measurement belongs to the
:class:`~imaging.case.model.FindingTimepoint` of that date; every other measurement of the finding (dated
at the index date, or undated) belongs to the index timepoint, whose levels, Bilsky grade and SINS are the
finding's own fields.

The index timepoint's date is ``Finding.index_timepoint.study_date`` when the reader (or a migration) set
it; otherwise it is read from the images: the study date of the image its Bilsky grade was read on, else the
earliest study date of its index measurements (:func:`index_date`), so a finding drawn today is dated
without anything being written.

:func:`lesion_timepoints` gives a finding's timepoints in date order as one uniform :class:`LesionTimepoint`
each (the index one included), which the follow-up figures, the panel and the exports read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from imaging.case.model import (
    BilskyAssessment,
    Case,
    Finding,
    FindingTimepoint,
    LevelInvolvement,
    Measurement,
    SinsAssessment,
    TimepointInfo,
)
from imaging.spine.levels import LevelRange

__all__ = [
    "LesionTimepoint",
    "TimepointTarget",
    "navigation_target",
    "index_date",
    "index_measurements",
    "lesion_timepoints",
    "measurement_date",
    "series_date",
    "timepoint_at",
    "timepoint_levels",
    "timepoint_measurements",
]


def series_date(case: Case, series_instance_uid: str | None) -> date | None:
    """The study date of a series the case references, or None (series or date unknown)."""
    ref = case.series_ref(series_instance_uid)
    study = case.study_ref(ref.study_instance_uid) if ref is not None else None
    return study.study_date if study is not None else None


def measurement_date(case: Case, m: Measurement) -> date | None:
    """The study date a measurement was made on (see the module docstring), or None."""
    return series_date(case, m.series_instance_uid)


def timepoint_at(finding: Finding, day: date | None) -> FindingTimepoint | None:
    """The finding's timepoint at ``day``; None means the index timepoint (also for an undated day)."""
    if day is None:
        return None
    return next((t for t in finding.timepoints if t.study_date == day), None)


def timepoint_measurements(case: Case, finding: Finding, timepoint_id: str | None) -> list[Measurement]:
    """The finding's measurements at one timepoint (``timepoint_id`` None: the index timepoint), in case
    order."""
    out = []
    for m in case.finding_measurements(finding.id):
        tp = timepoint_at(finding, measurement_date(case, m))
        if (tp.id if tp is not None else None) == timepoint_id:
            out.append(m)
    return out


def index_measurements(case: Case, finding: Finding) -> list[Measurement]:
    """The measurements of the finding's index timepoint (all of them when it has no other timepoint)."""
    if not finding.timepoints:
        return case.finding_measurements(finding.id)
    return timepoint_measurements(case, finding, None)


@dataclass(frozen=True)
class LesionTimepoint:
    """A finding at one timepoint, the index one (``timepoint_id`` None: the finding's own fields) or a
    follow-up one. ``measurements`` are the finding's measurements of that date."""

    finding_id: str
    timepoint_id: str | None
    info: TimepointInfo
    status: str
    level_from: str | None
    level_to: str | None
    involvement: tuple[LevelInvolvement, ...]
    bilsky: BilskyAssessment
    sins: SinsAssessment
    measurements: tuple[Measurement, ...]

    @property
    def study_date(self) -> date | None:
        return self.info.study_date

    @property
    def is_index(self) -> bool:
        return self.timepoint_id is None

    @property
    def key(self) -> str:
        """A stable handle: the timepoint id, or ``index:<finding id>``."""
        return self.timepoint_id or f"index:{self.finding_id}"

    @property
    def level_range(self) -> LevelRange | None:
        if self.level_from is None:
            return None
        return LevelRange(self.level_from, self.level_to or self.level_from)

    @property
    def levels_text(self) -> str:
        r = self.level_range
        return str(r) if r is not None else ""


def timepoint_levels(case: Case, finding: Finding, timepoint_id: str | None) -> LevelRange | None:
    """The level range where the finding's measurements of one timepoint lie (from the case's vertebral
    labels), or None when none of their points is within a labelled level."""
    from imaging.case.analysis import level_at_point
    from imaging.spine.levels import level_index

    found = {lv for m in timepoint_measurements(case, finding, timepoint_id) for p in m.points
             if (lv := level_at_point(p, case.vertebral_labels)) is not None}
    if not found:
        return None
    ordered = sorted(found, key=level_index)
    return LevelRange(ordered[0], ordered[-1])


def index_date(case: Case, finding: Finding) -> date | None:
    """The date of the finding's index timepoint (see the module docstring), or None."""
    if finding.index_timepoint.study_date is not None:
        return finding.index_timepoint.study_date
    graded = series_date(case, finding.bilsky.series_instance_uid)
    if graded is not None:
        return graded
    days = [d for m in index_measurements(case, finding) if (d := measurement_date(case, m)) is not None]
    return min(days, default=None)


def _from_timepoint(case: Case, f: Finding, t: FindingTimepoint) -> LesionTimepoint:
    return LesionTimepoint(f.id, t.id, t.info, t.status, t.level_from, t.level_to, tuple(t.involvement), t.bilsky,
                           t.sins, tuple(timepoint_measurements(case, f, t.id)))


def lesion_timepoints(case: Case, finding: Finding | str) -> list[LesionTimepoint]:
    """The finding's timepoints in date order (an undated index timepoint first)."""
    f = case.finding(finding) if isinstance(finding, str) else finding
    info = f.index_timepoint
    if info.study_date is None:
        info = info.model_copy(update={"study_date": index_date(case, f)})
    index = LesionTimepoint(f.id, None, info, "present", f.level_from, f.level_to,
                            tuple(f.involvement), f.bilsky, f.sins, tuple(index_measurements(case, f)))
    out = [index, *(_from_timepoint(case, f, t) for t in f.timepoints)]
    return sorted(out, key=lambda tp: (tp.study_date is not None, tp.study_date or date.min))


def dated(timepoints: Sequence[LesionTimepoint]) -> list[LesionTimepoint]:
    """Only the timepoints with a study date."""
    return [t for t in timepoints if t.study_date is not None]


@dataclass(frozen=True)
class TimepointTarget:
    """Where to look for a lesion at one timepoint: its date, the series and measurement to show (an axial
    bidirectional first, else any measurement, else the image its Bilsky grade was read on), the LPS point
    (mm) at the lesion and its level. What a navigator (the Follow-up feature, or a comparison layout) needs."""

    finding_id: str
    key: str
    study_date: date | None
    series_instance_uid: str | None
    measurement_id: str | None
    point_lps: tuple[float, float, float] | None
    level: str | None


def navigation_target(case: Case, finding: Finding | str, key: str) -> TimepointTarget | None:
    """The :class:`TimepointTarget` of timepoint ``key`` (a timepoint id or ``index:<finding id>``) of a
    finding, or None when the finding has no such timepoint."""
    f = case.finding(finding) if isinstance(finding, str) else finding
    tp = next((t for t in lesion_timepoints(case, f) if t.key == key), None)
    if tp is None:
        return None
    ms = sorted(tp.measurements, key=lambda m: (m.kind != "bidirectional", m.plane.orientation != "axial"))
    level = tp.bilsky.level or (tp.level_from if tp.level_from == tp.level_to else None) or tp.level_from
    if ms:
        m = ms[0]
        pts = [sum(c) / len(m.points) for c in zip(*m.points, strict=True)]
        return TimepointTarget(f.id, key, tp.study_date, m.series_instance_uid, m.id,
                               (float(pts[0]), float(pts[1]), float(pts[2])), level)
    return TimepointTarget(f.id, key, tp.study_date, tp.bilsky.series_instance_uid, None, None, level)
