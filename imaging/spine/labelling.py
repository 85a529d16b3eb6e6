"""Vertebral level labelling in the viewer (Qt-free): which labels belong on a series, what the next click
labels, the level of an axial plane, and a first guess to prefill the naming prompt.

A *label* here is any object with ``label`` (canonical level, e.g. ``"T5"``), ``centre`` (LPS mm) and
``series_instance_uid`` -- the case model's :class:`~imaging.case.model.VertebralLabel` -- so this module
does not depend on the case model.

* :func:`labels_for_series` -- the labels drawn on a series' images: its own, those of series in the same
  frame of reference (LPS coordinates are shared only within one frame of reference), and labels that name
  no series.
* :func:`next_level` -- after a label, a click cranial (higher patient S) of it labels the next level up,
  a click caudal the next level down, skipping levels already labelled; the variants T13 and L6 only when
  the patient has them (named by the reader).
* :func:`plane_level` -- the level an (axial) plane cuts: ``"T6"``, ``"T5/T6 disc"``, or None outside the
  labelled field. Consistent with :func:`imaging.case.analysis.level_at_point`, which the finding levels use.
* :func:`plan_detected_labels` -- what naming the detected bodies adds, replaces and keeps.
* :func:`guess_level` -- a prefill for the first name: from the neighbouring labels when there are any,
  else from the series/study description ("thoracic" -> T6...).

Research software, not a diagnostic device.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import numpy as np

from imaging.spine.levels import (
    VARIANT_LEVELS,
    level_above,
    level_below,
    level_index,
    normalize_level,
)

__all__ = [
    "DISC_HALF_FRACTION",
    "SAME_BODY_MM",
    "DetectedLabelPlan",
    "LabelLike",
    "guess_level",
    "label_centres",
    "labels_for_series",
    "level_after",
    "next_level",
    "plan_detected_labels",
    "plane_level",
    "variants_in_use",
]

DISC_HALF_FRACTION = 0.1
"""A plane within this fraction of the centre-to-centre interval from the midpoint between two adjacent
labelled bodies is reported as the disc between them ("T5/T6 disc"). Intervertebral discs take about a
fifth (thoracic) to a quarter or more (cervical, lumbar) of that interval, so +-10 % stays inside the disc."""

SINGLE_LABEL_HALF_HEIGHT_MM = 15.0
"""With one labelled vertebra, planes within this distance of its centre cut it (as
:data:`imaging.case.analysis.SINGLE_LABEL_HALF_HEIGHT_MM`)."""


class LabelLike(Protocol):
    label: str
    centre: tuple[float, float, float]
    series_instance_uid: str | None


L = TypeVar("L", bound=LabelLike)


def labels_for_series(labels: Iterable[L], series_uid: str | None, frame_uid: str | None = None,
                      frame_of: Callable[[str], str | None] | None = None) -> list[L]:
    """The labels that belong on the images of series ``series_uid`` (in case order).

    A label belongs when it was placed on that series, or on a series whose frame of reference
    (``frame_of(label.series_instance_uid)``) is ``frame_uid`` (both known and equal), or when it names no
    series. With ``series_uid`` None every label is returned.
    """
    out = []
    for lab in labels:
        uid = lab.series_instance_uid
        same_series = series_uid is None or uid is None or uid == series_uid
        same_frame = bool(frame_uid) and frame_of is not None and uid is not None and frame_of(uid) == frame_uid
        if same_series or same_frame:
            out.append(lab)
    return out


def label_centres(labels: Iterable[LabelLike]) -> tuple[list[str], np.ndarray]:
    """Distinct levels in cranio-caudal order and their centres (N, 3) LPS mm (duplicates averaged)."""
    groups: dict[str, list[tuple[float, float, float]]] = {}
    for lab in labels:
        groups.setdefault(normalize_level(lab.label), []).append(tuple(lab.centre))  # type: ignore[arg-type]
    names = sorted(groups, key=level_index)
    centres = np.array([np.mean(np.asarray(groups[n], dtype=np.float64), axis=0) for n in names])
    return names, centres.reshape(-1, 3)


def variants_in_use(labels: Iterable[LabelLike]) -> set[str]:
    """The variant levels (T13, L6) among the labels: the patient has them, so walks include them."""
    return {lab.label for lab in labels if lab.label in VARIANT_LEVELS}


def level_after(previous: str, cranial: bool, taken: Collection[str] = (), variants: Collection[str] = ()
                ) -> str | None:
    """The first level above (``cranial``) or below ``previous`` that is not in ``taken``; None past C1 or
    the coccyx. Variants T13/L6 are only stepped on when named in ``variants``."""
    step = level_above if cranial else level_below
    level: str | None = normalize_level(previous)
    taken_set = {normalize_level(t) for t in taken}
    while level is not None:
        level = step(level, variants)
        if level is not None and level not in taken_set:
            return level
    return None


def next_level(previous: str, previous_centre: Sequence[float], click: Sequence[float],
               taken: Collection[str] = (), variants: Collection[str] = ()) -> str | None:
    """The level a click labels after ``previous`` (at ``previous_centre``): the next free level up when the
    click is cranial of it (higher patient S), else the next free level down. None when the walk runs past
    C1 or the coccyx."""
    cranial = float(click[2]) > float(previous_centre[2])
    return level_after(previous, cranial, taken, variants)


def plane_level(labels: Iterable[LabelLike], origin: Sequence[float], normal: Sequence[float],
                near: Sequence[float] | None = None) -> str | None:
    """The vertebral level a plane cuts, from the labelled body centres: ``"T6"``, ``"T5/T6 disc"`` or None.

    The labelled centres in cranio-caudal order form a polyline along the spine; where the plane (through
    ``origin`` with unit ``normal``) crosses it, the level is the nearer labelled body along the spine (the
    rule of :func:`imaging.case.analysis.level_at_point`). Beyond the end bodies the field reaches half the
    neighbouring interval; further out the plane is outside the labelled field (None). Within
    :data:`DISC_HALF_FRACTION` of the midpoint between two adjacent levels the plane is reported as their
    disc. With a single label the plane cuts it within :data:`SINGLE_LABEL_HALF_HEIGHT_MM` of its centre.
    When the plane crosses the spine more than once, the crossing nearest ``near`` (e.g. the cursor) wins.
    """
    names, c = label_centres(labels)
    if not names:
        return None
    o = np.asarray(origin, dtype=np.float64)
    n = np.asarray(normal, dtype=np.float64)
    n = n / np.linalg.norm(n)
    d = (c - o) @ n  # signed distance of each centre from the plane
    if len(names) == 1:
        return names[0] if abs(d[0]) <= SINGLE_LABEL_HALF_HEIGHT_MM else None
    variants = set(names) & set(VARIANT_LEVELS)
    last = len(names) - 2
    hits: list[tuple[float, int, float]] = []  # (distance to near, segment, t)
    for i in range(len(names) - 1):
        denom = d[i] - d[i + 1]
        if abs(denom) < 1e-9:
            continue
        t = float(d[i] / denom)
        lo = -0.5 if i == 0 else 0.0
        hi = 1.5 if i == last else 1.0
        if not lo <= t <= hi or (i > 0 and t == 0.0):  # a crossing at a shared centre counts once
            continue
        point = c[i] + t * (c[i + 1] - c[i])
        dist = float(np.linalg.norm(point - np.asarray(near, dtype=np.float64))) if near is not None else 0.0
        hits.append((dist, i, t))
    if not hits:
        return None
    _, i, t = min(hits)
    if abs(t - 0.5) <= DISC_HALF_FRACTION and level_below(names[i], variants) == names[i + 1]:
        return f"{names[i]}/{names[i + 1]} disc"
    return names[i] if t < 0.5 else names[i + 1]


_REGION_GUESS = (
    (("CERVICAL", "C-SPINE", "CSPINE", "NECK", "HWS"), "C4"),
    (("THORACIC", "T-SPINE", "TSPINE", "DORSAL", "CHEST", "BWS"), "T6"),
    (("LUMBAR", "L-SPINE", "LSPINE", "LWS"), "L3"),
    (("SACRUM", "SACRAL", "PELVIS", "COCCYX"), "S1"),
)


def guess_level(point: Sequence[float] | None = None, labels: Iterable[LabelLike] = (),
                descriptions: Iterable[str] = (), default: str = "L1") -> str:
    """A first guess for the name of the body at ``point`` (a prefill the reader overwrites).

    With labels on the series: the level of the point (:func:`imaging.case.analysis.level_at_point`), or
    the next free level beyond the nearest label when the point lies outside the labelled field. Without:
    a typical level of the region the series or study description names (cervical C4, thoracic T6, lumbar
    L3, sacral S1), else ``default``.
    """
    from imaging.case.analysis import level_at_point  # the rule the finding levels use

    labels = list(labels)
    if point is not None and labels:
        found = level_at_point(point, labels)  # type: ignore[arg-type]
        if found is not None:
            return found
        names, c = label_centres(labels)
        k = int(np.argmin(np.abs(c[:, 2] - float(point[2]))))
        nxt = next_level(names[k], c[k], point, taken=names, variants=variants_in_use(labels))
        if nxt is not None:
            return nxt
    text = " ".join(descriptions).upper()
    for keys, level in _REGION_GUESS:
        if any(k in text for k in keys):
            return level
    return default


SAME_BODY_MM = 12.0
"""A reader's label within this distance of a detected body centre marks the same body (vertebral bodies
are 15-40 mm high, their centres 15-40 mm apart)."""


@dataclass(frozen=True)
class DetectedLabelPlan:
    """What naming the detected bodies does to a series' labels (one undo step).

    ``add``: (level, LPS centre) of the new detected labels; ``remove``: ids of the series' earlier
    *detected* labels, which the new ones replace; ``kept``: the reader's manual labels that stay in place
    of a detected body; ``conflicts``: sentences for the reader where a manual label disagrees with the
    detection's count."""

    add: list[tuple[str, tuple[float, float, float]]] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def plan_detected_labels(names: Sequence[str], centres: Sequence[Sequence[float]], existing: Iterable[LabelLike],
                         same_body_mm: float = SAME_BODY_MM) -> DetectedLabelPlan:
    """Plan the labels of named detected bodies (``names[i]`` at ``centres[i]``, LPS mm) on a series that
    already has ``existing`` labels (objects with ``id``, ``label``, ``centre`` and ``source``).

    Earlier detected labels are replaced. The reader's manual labels are kept: a detected body within
    ``same_body_mm`` of a manual label is not labelled again, and a detected name that a manual label
    already uses elsewhere is left out -- both reported in ``conflicts`` when the names disagree.
    """
    existing = list(existing)
    manual = [lab for lab in existing if getattr(lab, "source", "manual") != "detected"]
    plan = DetectedLabelPlan(remove=[lab.id for lab in existing  # type: ignore[attr-defined]
                                     if getattr(lab, "source", "manual") == "detected"])
    for name, centre in zip(names, centres, strict=True):
        c = np.asarray(centre, dtype=np.float64)
        dists = [float(np.linalg.norm(np.asarray(m.centre, dtype=np.float64) - c)) for m in manual]
        k = int(np.argmin(dists)) if dists else -1
        if k >= 0 and dists[k] <= same_body_mm:
            m = manual[k]
            plan.kept.append(m.label)
            if m.label != name:
                plan.conflicts.append(f"your label {m.label} is on the body the detection names {name}")
            continue
        same_name = [m for m in manual if m.label == name]
        if same_name:
            d = float(np.linalg.norm(np.asarray(same_name[0].centre, dtype=np.float64) - c))
            plan.conflicts.append(f"your label {name} is {d:.0f} mm from the body the detection names {name}")
            continue
        plan.add.append((name, (float(c[0]), float(c[1]), float(c[2]))))
    return plan
