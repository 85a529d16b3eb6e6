"""Linking a measurement to an existing lesion at its study's date (Qt-free): the plan of the one explicit,
undoable action the Follow-up panel offers ("Follow up <lesion> with this measurement").

:func:`plan_link` says what the action will do — nothing is changed here: attach the measurement to the
finding; when its date is not yet one of the lesion's timepoints, add a timepoint of that date (levels from
where the measurement lies, nothing graded: a grade is the reader's to give); when the case does not list the
measurement's study or series yet, add their references; a bidirectional or CC extent becomes the lesion's
dimensions at that date (the action says so: following a lesion up with a measurement is saying it is the
lesion's size then). It also names the prior timepoint of the lesion, whose measurement the panel shows beside
the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from imaging.case.model import Case, FindingTimepoint, SeriesRef, Study
from imaging.followup.timeline import LesionTimepoint, lesion_timepoints, measurement_date, timepoint_at

__all__ = ["LinkPlan", "plan_link"]


@dataclass(frozen=True)
class LinkPlan:
    """What linking ``measurement_id`` to ``finding_id`` does (see the module docstring). ``timepoint`` is
    the new timepoint to add (None when the date already is one of the lesion's, or its index date);
    ``study``/``series`` the references to add first (None when the case has them); ``prior`` the lesion's
    latest timepoint before this date; ``moved_from`` the finding the measurement leaves (None: it had none);
    ``mark`` whether it becomes the lesion's dimensions at that date (a bidirectional or CC extent); ``text``
    the undo step's name."""

    finding_id: str
    measurement_id: str
    study_date: date
    timepoint: FindingTimepoint | None
    study: Study | None
    series: SeriesRef | None
    prior: LesionTimepoint | None
    moved_from: str | None
    mark: bool
    text: str


def plan_link(case: Case, measurement_id: str, finding_id: str, *, study_date: date | None = None,
              study: Study | None = None, series: SeriesRef | None = None, reader: str = "") -> LinkPlan:
    """The plan of linking a measurement to a lesion at its date. ``study_date``: the measurement's study
    date when the case cannot tell it yet (its study and series not referenced; then ``study`` and ``series``
    are the references to add, from the loaded images). Raises ValueError when the measurement has no date
    or is already that lesion's."""
    m = case.measurement(measurement_id)
    f = case.finding(finding_id)
    day = measurement_date(case, m) or study_date
    if day is None:
        raise ValueError("the measurement's study has no date: it cannot be placed on the lesion's timeline")
    if m.finding_id == f.id:
        raise ValueError(f"the measurement already belongs to {f.label or 'this finding'}")
    if series is not None and case.series_ref(series.series_instance_uid) is not None:
        series = None
    if study is not None and case.study_ref(study.study_instance_uid) is not None:
        study = None
    timeline = lesion_timepoints(case, f)
    index_day = next((t.study_date for t in timeline if t.is_index), None)
    new: FindingTimepoint | None = None
    if timepoint_at(f, day) is None and day != index_day:
        from imaging.case.analysis import level_at_point
        from imaging.spine.levels import level_index

        found = sorted({lv for p in m.points if (lv := level_at_point(p, case.vertebral_labels)) is not None},
                       key=level_index)
        new = FindingTimepoint(study_date=day, level_from=found[0] if found else None,
                               level_to=found[-1] if found else None, reader=reader)
    prior = max((t for t in timeline if t.study_date is not None and t.study_date < day),
                key=lambda t: t.study_date or date.min, default=None)
    name = f.label or "finding"
    what = f"new timepoint {day.isoformat()}" if new is not None else f"timepoint {day.isoformat()}"
    mark = m.spec.finding_dimension is not None
    return LinkPlan(finding_id=f.id, measurement_id=m.id, study_date=day, timepoint=new, study=study,
                    series=series, prior=prior, moved_from=m.finding_id, mark=mark,
                    text=f"Follow up {name}: {what}" + (" (its dimensions)" if mark else ""))
