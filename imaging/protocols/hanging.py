"""Hanging: which series fills which view, for a protocol and a study (Qt-free).

* `hang(protocol, series, classes, study_uid)` fills a protocol's panes from the scanned series (their
  `SeriesClass`), for the study being read and, for panes that ask, the same patient's prior study or a
  study of the same date. Localisers, calibrations and screen captures never fill a pane.
* `choose_hanging(protocols, series, classes, ...)` picks what to show when a folder opens: the protocol the
  reader last chose for one of these studies, else the best automatic fit (see `Hanging.rank`).
* `fill_layout(orientations, main, series, classes)` fills a plain layout (1x1, 1x2, 2x2, spine) around the
  series the reader opened: a pane of another plane shows a real series acquired in that plane (same study,
  same frame of reference; on MR the axial T2, the grading series) whenever reformatting the opened series
  would give a thick-slice reformat, and a reformat of the opened series otherwise.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from imaging.dicom.series import SeriesInfo
from imaging.protocols.classify import SeriesClass
from imaging.protocols.protocol import HangingProtocol, Pane, SeriesRule

__all__ = [
    "THICK_REFORMAT_RATIO",
    "Hanging",
    "PaneFill",
    "Study",
    "best_study_for",
    "choose_hanging",
    "fill_layout",
    "hang",
    "slice_spacing",
    "studies",
]

THICK_REFORMAT_RATIO = 2.0
"""A series whose slice spacing exceeds this many times its pixel spacing reformats into thick, blocky
planes (a 4 mm sagittal MR cut axially): another series acquired in that plane is shown instead."""


@dataclass(frozen=True)
class Study:
    """One study of the scan: its UID, patient, date (DICOM DA "YYYYMMDD" or "") and modalities."""

    study_uid: str
    patient_id: str
    date: str
    description: str
    modalities: frozenset[str]


def studies(series: Sequence[SeriesInfo]) -> dict[str, Study]:
    """The studies of a scan, keyed by StudyInstanceUID."""
    groups: dict[str, list[SeriesInfo]] = {}
    for s in series:
        groups.setdefault(s.study_uid, []).append(s)
    return {uid: Study(uid, items[0].patient_id, _date(items[0].study_date), items[0].study_description,
                       frozenset(i.modality.upper() for i in items))
            for uid, items in groups.items()}


def _date(text: str) -> str:
    digits = "".join(ch for ch in str(text) if ch.isdigit())
    return digits[:8] if len(digits) >= 8 else ""


@dataclass(frozen=True)
class PaneFill:
    """What one view shows: a series (its `SeriesInfo.key`) in a plane, or nothing and why."""

    index: int
    orientation: str
    series_key: str | None = None
    study_uid: str | None = None
    label: str = ""
    reformat: bool = False  # shown in a plane other than the one it was acquired in
    window: str | None = None  # window preset name to apply ("Bone")
    rule: int | None = None  # which alternative of the pane filled it (0 = first choice)
    required: bool = True
    missing: str = ""  # when empty: what the study lacks, for the view's placeholder


@dataclass(frozen=True)
class Hanging:
    """A protocol applied to a study: the fill of every pane."""

    protocol: HangingProtocol
    study_uid: str
    panes: tuple[PaneFill, ...]
    prior_study_uid: str | None = None
    same_date_study_uid: str | None = None
    study_date: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def fits(self) -> bool:
        """Every required pane is filled."""
        return all(p.series_key is not None for p in self.panes if p.required)

    @property
    def filled(self) -> int:
        return sum(p.series_key is not None for p in self.panes)

    def rank(self) -> tuple[bool, float, int, int, int, int, str]:
        """Larger is better: fits; share of required panes filled; protocol priority; panes filled with a
        real series of their plane; panes filled; first-choice rules; the more recent study."""
        required = [p for p in self.panes if p.required]
        share = sum(p.series_key is not None for p in required) / max(len(required), 1)
        real = sum(p.series_key is not None and not p.reformat for p in self.panes)
        first_choice = sum(p.rule == 0 for p in self.panes)
        return (self.fits, share, self.protocol.priority, real, self.filled, first_choice, self.study_date)

    def series_keys(self) -> list[str]:
        return [p.series_key for p in self.panes if p.series_key is not None]


# ---------------------------------------------------------------------------------------------------------
def hang(protocol: HangingProtocol, series: Sequence[SeriesInfo], classes: Mapping[str, SeriesClass],
         study_uid: str) -> Hanging:
    """Fill ``protocol``'s panes for the study ``study_uid`` (see the module docstring). A comparison
    protocol (panes of the "prior" study) always puts the more recent study in its "current" panes."""
    all_studies = studies(series)
    current = all_studies.get(study_uid)
    if current is None:
        return Hanging(protocol, study_uid, tuple(_empty(i, p, "the study is not open")
                                                  for i, p in enumerate(protocol.panes)))
    prior = _related_study(protocol, "prior", current, all_studies, series, classes)
    if prior is not None and prior.date and current.date and prior.date > current.date:
        # current | prior: the later study on the "current" side (radiology convention: new left, old right)
        current, prior = prior, current
    same_date = _related_study(protocol, "same-date", current, all_studies, series, classes)
    by_role = {"current": current, "prior": prior, "same-date": same_date}
    used: set[str] = set()
    fills = []
    for i, pane in enumerate(protocol.panes):
        study = by_role[pane.study]
        if study is None:
            what = "no prior study of this patient" if pane.study == "prior" else "no other study of the same date"
            fills.append(_empty(i, pane, what))
            continue
        fill = _fill_pane(i, pane, study, series, classes, used)
        if fill.series_key is not None:
            used.add(fill.series_key)
        fills.append(fill)
    return Hanging(protocol, current.study_uid, tuple(fills),
                   prior.study_uid if prior is not None else None,
                   same_date.study_uid if same_date is not None else None, current.date)


def _empty(index: int, pane: Pane, why: str) -> PaneFill:
    return PaneFill(index, pane.orientation, label=pane.label, window=pane.window, required=pane.required,
                    missing=why)


def _related_study(protocol: HangingProtocol, role: str, current: Study, all_studies: Mapping[str, Study],
                   series: Sequence[SeriesInfo], classes: Mapping[str, SeriesClass]) -> Study | None:
    panes = [p for p in protocol.panes if p.study == role]
    if not panes:
        return None
    candidates = []
    for st in all_studies.values():
        if st.patient_id != current.patient_id:
            continue  # one case is one patient
        if role == "prior" and (st.study_uid == current.study_uid or (st.date and st.date == current.date)):
            continue
        if role == "same-date" and not (st.date and st.date == current.date):
            continue
        members = [s for s in series if s.study_uid == st.study_uid]
        if any(_candidates(pane, rule, st, members, classes) for pane in panes for rule in pane.series):
            candidates.append(st)
    if not candidates:
        return None
    if role == "same-date":
        # another study of that day first (MR beside CT), else the current study itself
        candidates.sort(key=lambda st: st.study_uid == current.study_uid)
        return candidates[0]
    earlier = [st for st in candidates if st.date and current.date and st.date < current.date]
    if earlier:
        return max(earlier, key=lambda st: st.date)
    later = [st for st in candidates if st.date and current.date and st.date > current.date]
    if later:
        return min(later, key=lambda st: st.date)
    return candidates[0]


def _candidates(pane: Pane, rule: SeriesRule, study: Study, members: Sequence[SeriesInfo],
                classes: Mapping[str, SeriesClass]) -> list[SeriesInfo]:
    out = []
    for s in members:
        c = classes.get(s.key)
        if c is None or s.study_uid != study.study_uid or not rule.matches(c):
            continue
        if not rule.reformat and c.plane != pane.orientation:
            continue  # only a rule that says so may reformat
        out.append(s)
    return out


def _fill_pane(index: int, pane: Pane, study: Study, series: Sequence[SeriesInfo],
               classes: Mapping[str, SeriesClass], used: set[str]) -> PaneFill:
    members = [s for s in series if s.study_uid == study.study_uid]
    for r, rule in enumerate(pane.series):
        found = _candidates(pane, rule, study, members, classes)
        if not found:
            continue
        # a series not hung yet first -- except for a reformat, which is best made from a series on show
        best = min(found, key=lambda s: (s.key in used and not rule.reformat, rule.preference(classes[s.key]),
                                         -s.image_count,
                                         s.series_number if s.series_number is not None else 1 << 30, s.key))
        c = classes[best.key]
        return PaneFill(index, pane.orientation, best.key, study.study_uid, pane.label,
                        reformat=c.plane != pane.orientation, window=pane.window, rule=r, required=pane.required)
    when = f" of {_format_date(study.date)}" if study.date else ""
    return _empty(index, pane, f"no {pane.label or pane.orientation} series in the study{when}")


def _format_date(d: str) -> str:
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 else d


# ---------------------------------------------------------------------------------------------------------
def choose_hanging(protocols: Sequence[HangingProtocol], series: Sequence[SeriesInfo],
                   classes: Mapping[str, SeriesClass], remembered: Sequence[tuple[str, str]] = (),
                   study_uid: str | Collection[str] | None = None) -> Hanging | None:
    """What to hang when series open.

    ``remembered`` holds (StudyInstanceUID, protocol id) pairs the reader chose, most recent first: the first
    one whose study is open and whose protocol fits is used. Otherwise every automatic protocol is tried on
    every open study (or only on ``study_uid``: one UID or several, e.g. the studies just opened) and the best
    `Hanging.rank` wins; None when nothing fits.
    """
    by_id = {p.id: p for p in protocols}
    open_studies = studies(series)
    allowed = None if study_uid is None else ({study_uid} if isinstance(study_uid, str) else set(study_uid))
    for uid, pid in remembered:
        if uid in open_studies and pid in by_id and (allowed is None or uid in allowed):
            h = hang(by_id[pid], series, classes, uid)
            if h.fits:
                return h
    best: Hanging | None = None
    for uid in (list(open_studies) if allowed is None else [u for u in open_studies if u in allowed]):
        for p in protocols:
            if not p.auto:
                continue
            h = hang(p, series, classes, uid)
            if h.fits and (best is None or h.rank() > best.rank()):
                best = h
    return best


def best_study_for(protocol: HangingProtocol, series: Sequence[SeriesInfo], classes: Mapping[str, SeriesClass],
                   preferred_study: str | None = None) -> Hanging:
    """``protocol`` on ``preferred_study`` when it fits there, else on the open study where it fits best
    (the reader asked for this protocol: "Spine CT" while an MR is shown hangs the patient's CT)."""
    if preferred_study is not None:
        h = hang(protocol, series, classes, preferred_study)
        if h.fits:
            return h
    patient = next((s.patient_id for s in series if s.study_uid == preferred_study), None)
    tries = [hang(protocol, series, classes, uid) for uid, st in studies(series).items()
             if patient is None or st.patient_id == patient]
    fitting = [h for h in tries if h.fits]
    if fitting:
        return max(fitting, key=lambda h: h.rank())
    if preferred_study is not None:
        return hang(protocol, series, classes, preferred_study)
    return max(tries, key=lambda h: h.rank()) if tries else Hanging(protocol, "", ())


# ---------------------------------------------------------------------------------------------------------
def slice_spacing(info: SeriesInfo) -> float | None:
    """Median distance (mm) between consecutive slice positions along the slice normal; None when the
    positions or orientation are unknown or there is one slice."""
    if info.orientation is None or len(info.frames) < 2:
        return None
    positions = [f.position for f in info.frames if f.position is not None]
    if len(positions) < 2:
        return None
    try:
        row = np.asarray(info.orientation[:3], dtype=float)
        col = np.asarray(info.orientation[3:6], dtype=float)
        normal = np.cross(row, col)
        norm = np.linalg.norm(normal)
        if not np.isfinite(norm) or norm < 1e-6:
            return None
        d = np.sort(np.asarray(positions, dtype=float) @ (normal / norm))
    except (TypeError, ValueError):
        return None
    gaps = np.diff(d)
    gaps = gaps[gaps > 1e-3]
    return float(np.median(gaps)) if gaps.size else None


def _thick(info: SeriesInfo) -> bool:
    """Whether reformatting ``info`` into another plane gives thick, blocky planes."""
    spacing = slice_spacing(info)
    pixel = min(info.pixel_spacing) if info.pixel_spacing else None
    if spacing is None or pixel is None or pixel <= 0:
        return False
    return spacing > THICK_REFORMAT_RATIO * pixel


def fill_layout(orientations: Sequence[str | None], main: SeriesInfo, series: Sequence[SeriesInfo],
                classes: Mapping[str, SeriesClass]) -> list[PaneFill]:
    """Fill a plain layout around ``main``. ``orientations`` per view: a plane name, None (``main``'s own
    plane) or "" (left to the caller: another series). See the module docstring."""
    main_class = classes.get(main.key)
    main_plane = main_class.plane if main_class is not None else main.orientation_label
    thick = _thick(main)
    out: list[PaneFill] = []
    for i, o in enumerate(orientations):
        if o == "":
            out.append(PaneFill(i, "", missing="another series"))
            continue
        plane = o or (main_plane if main_plane in ("axial", "sagittal", "coronal") else "axial")
        if plane == main_plane or not thick:
            out.append(PaneFill(i, plane, main.key, main.study_uid, reformat=plane != main_plane))
            continue
        other = _real_series_of_plane(plane, main, series, classes)
        if other is not None:
            out.append(PaneFill(i, plane, other.key, other.study_uid, label="acquired in this plane"))
        else:
            out.append(PaneFill(i, plane, main.key, main.study_uid, reformat=True))
    return out


def _real_series_of_plane(plane: str, main: SeriesInfo, series: Sequence[SeriesInfo],
                          classes: Mapping[str, SeriesClass]) -> SeriesInfo | None:
    main_class = classes.get(main.key)
    candidates = []
    for s in series:
        c = classes.get(s.key)
        if s is main or c is None or not c.hangable or c.plane != plane or s.study_uid != main.study_uid:
            continue
        if s.modality.upper() != main.modality.upper():
            continue
        if main.frame_of_reference_uid and s.frame_of_reference_uid != main.frame_of_reference_uid:
            continue
        candidates.append((s, c))
    if not candidates:
        return None

    def rank(item: tuple[SeriesInfo, SeriesClass]) -> tuple[bool, bool, bool, bool, int, int, str]:
        s, c = item
        grading = c.weighting == "T2" and c.contrast != "post" and c.dixon in (None, "water")
        same = main_class is not None and c.weighting == main_class.weighting
        return (not (plane == "axial" and c.modality == "MR" and grading), not same, c.role != "image",
                c.contrast == "post", -s.image_count,
                s.series_number if s.series_number is not None else 1 << 30, s.key)

    return min(candidates, key=rank)[0]
