"""Follow-up of a whole case (Qt-free): every lesion's timepoints with its sizes and change figures, Park et
al.'s growth rate for local recurrences, and the RECIST 1.1 response of the target lesions at each date.

:func:`evaluate_follow_up` reads the case (:mod:`imaging.followup.timeline` says which measurements belong to
which date) and applies the rules of :mod:`imaging.followup.change`, :mod:`imaging.followup.growth` and
:mod:`imaging.followup.recist`. Sizes at a timepoint:

* only the measurements the reader marked as the lesion's dimensions at that date count
  (``Measurement.finding_dimension``, one bidirectional and one CC extent per timepoint);
* **longest diameter**: the long axis of the marked bidirectional (an axial one preferred: RECIST measures in
  the axial plane);
* **AP, LR, CC and ellipsoid volume**: :func:`imaging.case.analysis.lesion_dimensions` of the timepoint's
  marked measurements (volume = pi/6 x AP x LR x CC).

Sizes are mm only: a measurement on a series without pixel spacing (px) gives no size, and says so.
A finding without any dated timepoint cannot be placed in time and is listed in ``undated``.

RECIST: the targets are the findings the reader marked (``Finding.recist_target``). The baseline is the
earliest date among the targets' timepoints; each target must be measured and measurable there (else it is
listed in ``excluded`` with the reason and left out). Follow-up dates are every later date a lesion was
read on; at each, a target not measured is "not evaluated" (a target whose timepoint says "absent" counts
0 mm), and any finding whose first timepoint is on that date is a new lesion.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from imaging.case.analysis import LesionDimensions, lesion_dimensions
from imaging.case.model import Case, Finding, Measurement
from imaging.followup.change import LesionObservation, LesionTimepointChange, lesion_changes
from imaging.followup.criteria import RECIST_MAX_TARGETS
from imaging.followup.growth import exceeds_growth_flag, park_growth_rate_mm_per_month
from imaging.followup.recist import Measurability, TargetResponse, measurability, target_responses
from imaging.followup.timeline import LesionTimepoint, lesion_timepoints

__all__ = [
    "BONE_SECTORS",
    "SOFT_TISSUE_SECTORS",
    "FollowUp",
    "LesionFollowUp",
    "RecistTimepoint",
    "TimepointSizes",
    "evaluate_follow_up",
    "timepoint_sizes",
]

BONE_SECTORS = frozenset({"vertebral_body", "left_pedicle", "right_pedicle", "lamina", "spinous_process",
                          "transverse_process"})
"""Involvement sectors that make a lesion a bone lesion for RECIST."""
SOFT_TISSUE_SECTORS = frozenset({"epidural", "paraspinal", "psoas"})
"""Involvement sectors that show a bone lesion's soft-tissue component (its measured diameter is taken as
that component's)."""


@dataclass(frozen=True)
class TimepointSizes:
    """A lesion's sizes at one timepoint in mm (volume mL), None when not measured (or not in mm); the
    measurement the longest diameter comes from; ``notes`` say why a size is missing."""

    longest_diameter_mm: float | None = None
    ap_mm: float | None = None
    lr_mm: float | None = None
    cc_mm: float | None = None
    volume_ml: float | None = None
    longest_from: Measurement | None = None
    dimensions: LesionDimensions | None = None
    notes: tuple[str, ...] = ()


def timepoint_sizes(case: Case, tp: LesionTimepoint) -> TimepointSizes:
    """The sizes of one lesion timepoint from the measurements the reader marked as the lesion's dimensions
    at that date (``Measurement.finding_dimension``; see the module docstring)."""
    notes = []
    mm = [m for m in tp.measurements if m.pixel_spacing_known]
    if len(mm) < len(tp.measurements):
        notes.append("a measurement is in px (no pixel spacing): not used for sizes in mm")
    dims = lesion_dimensions(case, tp.finding_id, mm) if mm else None
    if dims is not None and dims.unit != "mm":
        dims = None
    if dims is None and any(m.kind == "bidirectional" for m in mm):
        notes.append("no bidirectional marked as the lesion's dimensions at this date")
    longest = next((m for m in mm if dims is not None and m.id == dims.bidirectional_id), None)
    return TimepointSizes(
        longest_diameter_mm=dims.long_axis if dims else None, ap_mm=dims.ap if dims else None,
        lr_mm=dims.lr if dims else None, cc_mm=dims.cc if dims else None, volume_ml=dims.volume if dims else None,
        longest_from=longest, dimensions=dims, notes=tuple(notes))


@dataclass(frozen=True)
class LesionFollowUp:
    """One lesion over time: its dated timepoints, their sizes and change figures (aligned lists, date
    order), Park et al.'s growth rate when the finding records its resection date, and its RECIST state."""

    finding: Finding
    timepoints: tuple[LesionTimepoint, ...]
    sizes: tuple[TimepointSizes, ...]
    changes: tuple[LesionTimepointChange, ...]
    park_rate_mm_per_month: float | None = None
    park_flag: bool = False
    measurability: Measurability | None = None
    is_target: bool = False


@dataclass(frozen=True)
class RecistTimepoint:
    """The RECIST 1.1 target response at one date (None at the baseline), the targets' diameters in
    target order, and the new lesions (finding ids) of that date."""

    study_date: date
    response: TargetResponse | None
    diameters: tuple[float | None, ...]
    new_lesions: tuple[str, ...]


@dataclass(frozen=True)
class FollowUp:
    """A case's follow-up: ``lesions`` (findings with a dated timepoint, case order), ``undated`` finding
    ids, and RECIST: ``targets`` (finding ids, case order), ``excluded`` (finding id -> reason),
    ``recist`` per date from the baseline, ``warnings``."""

    lesions: tuple[LesionFollowUp, ...]
    undated: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    excluded: dict[str, str] = field(default_factory=dict)
    recist: tuple[RecistTimepoint, ...] = ()
    warnings: tuple[str, ...] = ()

    def lesion(self, finding_id: str) -> LesionFollowUp:
        return next(x for x in self.lesions if x.finding.id == finding_id)

    def recist_at(self, day: date | None) -> RecistTimepoint | None:
        return next((r for r in self.recist if r.study_date == day), None)


def _observation(tp: LesionTimepoint, sizes: TimepointSizes, case: Case) -> LesionObservation:
    sins = tp.sins.score(tp.level_range) if tp.level_range is not None or tp.sins.location_override else None
    assert tp.study_date is not None
    return LesionObservation(
        study_date=tp.study_date, longest_diameter_mm=sizes.longest_diameter_mm, ap_mm=sizes.ap_mm,
        lr_mm=sizes.lr_mm, cc_mm=sizes.cc_mm, volume_ml=sizes.volume_ml,
        status="absent" if tp.status == "absent" else "present", bilsky=tp.bilsky.grade,
        sins_total=sins.total if sins is not None else None,
        sins_category=str(sins.category.value) if sins is not None else None, key=tp.key)


def _measurability(case: Case, f: Finding, tp: LesionTimepoint, sizes: TimepointSizes) -> Measurability:
    m = sizes.longest_from
    ref = case.series_ref(m.series_instance_uid) if m is not None else None
    sectors = {s for inv in tp.involvement for s in inv.sectors}
    return measurability(sizes.longest_diameter_mm, modality=ref.modality if ref else "",
                         slice_thickness_mm=ref.slice_thickness_mm if ref else None,
                         bone=bool(sectors & BONE_SECTORS), lesion_type=f.lesion_type,
                         soft_tissue_component=bool(sectors & SOFT_TISSUE_SECTORS))


def evaluate_follow_up(case: Case) -> FollowUp:
    """Follow-up figures of every lesion of the case and the RECIST 1.1 target response (module docstring)."""
    lesions: list[LesionFollowUp] = []
    undated: list[str] = []
    for f in case.findings:
        tps = [t for t in lesion_timepoints(case, f) if t.study_date is not None]
        if not tps:
            undated.append(f.id)
            continue
        sizes = [timepoint_sizes(case, t) for t in tps]
        changes = lesion_changes([_observation(t, s, case) for t, s in zip(tps, sizes, strict=True)])
        park = None
        first = next(((d, mm) for t, s in zip(tps, sizes, strict=True)
                      if (d := t.study_date) is not None and (mm := s.longest_diameter_mm) is not None), None)
        if f.resection_date is not None and first is not None:
            park = park_growth_rate_mm_per_month(first[1], f.resection_date, first[0])
        lesions.append(LesionFollowUp(f, tuple(tps), tuple(sizes), tuple(changes), park, exceeds_growth_flag(park),
                                      is_target=f.recist_target))
    follow = FollowUp(tuple(lesions), tuple(undated))
    return _with_recist(case, follow)


def _with_recist(case: Case, follow: FollowUp) -> FollowUp:
    marked = [x for x in follow.lesions if x.finding.recist_target]
    warnings: list[str] = []
    excluded: dict[str, str] = {f: "no dated timepoint" for f in follow.undated
                                if case.finding(f).recist_target}
    if not marked:
        return follow
    if len(marked) > RECIST_MAX_TARGETS:
        warnings.append(f"{len(marked)} target lesions marked; RECIST 1.1 allows at most {RECIST_MAX_TARGETS} "
                        "(2 per organ)")
    baseline = min(d for x in marked if (d := x.timepoints[0].study_date) is not None)
    targets: list[LesionFollowUp] = []
    lesions = list(follow.lesions)
    for i, x in enumerate(lesions):
        if not x.finding.recist_target:
            continue
        tp, sizes = x.timepoints[0], x.sizes[0]
        if tp.study_date != baseline:
            excluded[x.finding.id] = (f"first read on {tp.study_date}, after the baseline {baseline}: a target "
                                      "lesion must be measured at baseline")
            continue
        meas = _measurability(case, x.finding, tp, sizes)
        lesions[i] = replace(x, measurability=meas)
        if sizes.longest_diameter_mm is None:
            excluded[x.finding.id] = "no longest diameter measured at baseline"
        elif meas.measurable is False:
            excluded[x.finding.id] = f"not measurable at baseline: {meas.reason}"
        else:
            if meas.measurable is None:
                warnings.append(f"{x.finding.label or x.finding.id}: measurability not checked ({meas.reason})")
            targets.append(lesions[i])
    dates = sorted({t.study_date for x in follow.lesions for t in x.timepoints
                    if t.study_date is not None and t.study_date >= baseline})
    first_dates = {x.finding.id: x.timepoints[0].study_date for x in follow.lesions}
    rows: list[RecistTimepoint] = []
    if targets:
        series: list[tuple[list[float | None], bool]] = []
        news: list[tuple[str, ...]] = []
        for day in dates:
            diam: list[float | None] = []
            for x in targets:
                k = next((j for j, t in enumerate(x.timepoints) if t.study_date == day), None)
                if k is None:
                    diam.append(None)
                elif x.timepoints[k].status == "absent":
                    diam.append(0.0)
                else:
                    diam.append(x.sizes[k].longest_diameter_mm)
            new = tuple(fid for fid, d in first_dates.items() if d == day and day != baseline)
            series.append((diam, bool(new)))
            news.append(new)
        responses = target_responses(series)
        rows = [RecistTimepoint(day, r, tuple(d), n)
                for day, r, (d, _), n in zip(dates, responses, series, news, strict=True)]
    return FollowUp(tuple(lesions), follow.undated, tuple(x.finding.id for x in targets), excluded, tuple(rows),
                    tuple(warnings))
