"""Linked navigation between views (Qt-free): how a point in one view's patient space maps to another's.

Every view shows a series in some *frame* -- its FrameOfReferenceUID (DICOM: images of one frame of
reference share LPS coordinates), or the series itself when it names none. A point moves between frames:

1. **same frame** -- unchanged: series of one frame of reference scroll together by patient position (the
   axial T2 follows the sagittal T2's cursor, as the reference lines show);
2. **by vertebral level** -- when both frames have vertebral levels labelled and share at least one level:
   the point's place along the source spine (the polyline through the shared labelled body centres, in
   cranio-caudal order) is found -- "40 % of the way from T6 to T7, 3 mm to the left of and 20 mm behind
   that spot on the line" -- and the same place is taken on the target spine. Between labelled bodies it
   interpolates; beyond the first or last shared level it extrapolates along the end segment. With one
   shared level the map is the translation between its two centres. Rotation between the two patient
   positions is not modelled (a translation per spine position only);
3. **by offset** -- otherwise a translation the reader sets once by linking a view while both show the same
   anatomy (OHIF's and Weasis' way for series without a common frame of reference);
4. otherwise not linked: the view does not follow.

`LinkModel` holds the labelled levels per frame and the offsets between frames; `ViewLinks` adds which views
are linked. Both are plain data that tests drive without a display; widgets/mpr.py renders them.
Coordinates are LPS millimetres throughout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from imaging.spine.levels import level_index, normalize_level

__all__ = [
    "LinkKind",
    "LinkModel",
    "Spine",
    "ViewLinks",
    "frame_key",
    "level_map_point",
]

LinkKind = str  # "same frame", "level", "offset", "none"
Vector = npt.NDArray[np.float64]  # an LPS point or offset (3,), or stacked points (N, 3), in mm
PointLike = Sequence[float] | Vector


def _vec(x: object) -> Vector:
    return np.asarray(x, dtype=np.float64)


def frame_key(frame_of_reference_uid: str | None, series_uid: str | None = None) -> str:
    """The key of a view's frame: its FrameOfReferenceUID, or the series when it names no frame (its
    coordinates are then shared with nothing else)."""
    if frame_of_reference_uid:
        return f"for:{frame_of_reference_uid}"
    return f"series:{series_uid or '?'}"


@dataclass(frozen=True)
class Spine:
    """Labelled vertebral body centres of one frame, in cranio-caudal order (names canonical, e.g. "T6")."""

    names: tuple[str, ...]
    centres: Vector  # (N, 3) LPS mm

    @classmethod
    def from_labels(cls, labels: Iterable[tuple[str, PointLike]]) -> Spine | None:
        """From (level, centre) pairs; a level named twice is averaged; invalid names and non-finite
        centres are ignored. None when no label remains."""
        groups: dict[str, list[Vector]] = {}
        for name, centre in labels:
            try:
                level = normalize_level(str(name))
                c = _vec(centre).reshape(3)
            except (TypeError, ValueError):
                continue
            if np.all(np.isfinite(c)):
                groups.setdefault(level, []).append(c)
        if not groups:
            return None
        names = tuple(sorted(groups, key=level_index))
        return cls(names, _vec([np.mean(groups[n], axis=0) for n in names]))

    def shared(self, other: Spine) -> tuple[Vector, Vector, tuple[str, ...]]:
        """The centres of the levels both spines have labelled (this spine's, the other's, the names)."""
        names = tuple(n for n in self.names if n in other.names)
        a = _vec([self.centres[self.names.index(n)] for n in names]).reshape(-1, 3)
        b = _vec([other.centres[other.names.index(n)] for n in names]).reshape(-1, 3)
        return a, b, names


def level_map_point(point: PointLike, source: Vector, target: Vector) -> Vector:
    """Map ``point`` from the spine through ``source`` centres to the spine through ``target`` centres (same
    levels, same order, (N, 3) each, N >= 1). See the module docstring (2)."""
    p = _vec(point)
    src = _vec(source).reshape(-1, 3)
    dst = _vec(target).reshape(-1, 3)
    if len(src) == 0 or len(src) != len(dst):
        raise ValueError("level mapping needs the same labelled levels on both sides")
    if len(src) == 1:
        return _vec(p + (dst[0] - src[0]))
    best: tuple[float, int, float] | None = None
    last = len(src) - 2
    for i in range(len(src) - 1):
        a, b = src[i], src[i + 1]
        ab = b - a
        length2 = float(ab @ ab)
        if length2 < 1e-12:
            continue
        t = float((p - a) @ ab) / length2
        # interior segments clamp to their ends; the end segments extrapolate beyond the labelled field
        lo = -np.inf if i == 0 else 0.0
        hi = np.inf if i == last else 1.0
        t_clamped = min(max(t, lo), hi)
        dist = float(np.linalg.norm(p - (a + t_clamped * ab)))
        if best is None or dist < best[0] - 1e-9:
            best = (dist, i, t_clamped)
    if best is None:  # every labelled centre at one spot: a translation
        return _vec(p + (dst[0] - src[0]))
    _, i, t = best
    on_source = src[i] + t * (src[i + 1] - src[i])
    on_target = dst[i] + t * (dst[i + 1] - dst[i])
    return _vec(on_target + (p - on_source))


class LinkModel:
    """Labelled spines per frame and reader-set offsets between frames (see the module docstring)."""

    def __init__(self) -> None:
        self._spines: dict[str, Spine] = {}
        self._offsets: dict[tuple[str, str], Vector] = {}

    # -- data ------------------------------------------------------------------------------------------
    def set_levels(self, frame: str, labels: Iterable[tuple[str, PointLike]]) -> None:
        """Replace the labelled levels of ``frame`` ((level, LPS centre) pairs; empty clears them)."""
        spine = Spine.from_labels(labels)
        if spine is None:
            self._spines.pop(frame, None)
        else:
            self._spines[frame] = spine

    def spine(self, frame: str) -> Spine | None:
        return self._spines.get(frame)

    def set_offset(self, source: str, target: str, vector: PointLike) -> None:
        """Points of ``source`` map to ``target`` as ``point + vector`` (and back as ``point - vector``)."""
        v = _vec(vector).reshape(3)
        if not np.all(np.isfinite(v)):
            raise ValueError("a link offset must be finite")
        self._offsets[(source, target)] = v
        self._offsets[(target, source)] = -v

    def clear_offset(self, source: str, target: str) -> None:
        self._offsets.pop((source, target), None)
        self._offsets.pop((target, source), None)

    def offset(self, source: str, target: str) -> Vector | None:
        v = self._offsets.get((source, target))
        return None if v is None else v.copy()

    # -- mapping ---------------------------------------------------------------------------------------
    def kind(self, source: str, target: str) -> LinkKind:
        """How points map from ``source`` to ``target``: "same frame", "level", "offset" or "none".
        Labelled levels come before a reader's offset: they are the reader's own statement of anatomy."""
        if source == target:
            return "same frame"
        a, b = self._spines.get(source), self._spines.get(target)
        if a is not None and b is not None and a.shared(b)[2]:
            return "level"
        if (source, target) in self._offsets:
            return "offset"
        return "none"

    def map_point(self, point: PointLike, source: str, target: str) -> Vector | None:
        """``point`` (LPS mm in ``source``) in ``target``'s coordinates; None when the frames are not linked."""
        kind = self.kind(source, target)
        p = _vec(point)
        if kind == "same frame":
            return p.copy()
        if kind == "level":
            src, dst, _ = self._spines[source].shared(self._spines[target])
            return level_map_point(p, src, dst)
        if kind == "offset":
            return _vec(p + self._offsets[(source, target)])
        return None

    def describe(self, source: str, target: str) -> str:
        """In words, for the link button's tooltip."""
        kind = self.kind(source, target)
        if kind == "same frame":
            return "linked by patient position (same frame of reference)"
        if kind == "level":
            names = self._spines[source].shared(self._spines[target])[2]
            span = names[0] if len(names) == 1 else f"{names[0]}\u2013{names[-1]}"
            return f"linked by vertebral level ({len(names)} shared labelled level{'s' * (len(names) > 1)}: {span})"
        if kind == "offset":
            return "linked by an offset set by the reader"
        return "not linked: no shared frame of reference or labelled levels"


class ViewLinks:
    """Which views are linked, and the points linked views go to. Views are named by a string id."""

    def __init__(self, model: LinkModel | None = None) -> None:
        self.model = model or LinkModel()
        self._linked: dict[str, bool] = {}

    def is_linked(self, view: str) -> bool:
        return self._linked.get(view, True)

    def set_linked(self, view: str, linked: bool) -> None:
        self._linked[view] = bool(linked)

    def targets(self, source_view: str, point: PointLike, source_frame: str,
                frames: Mapping[str, str]) -> dict[str, Vector]:
        """Where each other linked view goes when ``source_view`` puts the shared point at ``point`` (in
        ``source_frame``). ``frames`` maps view id -> frame key for views that show a series. Views not
        linked, or whose frame does not map, are left out. ``source_view`` itself gets ``point``."""
        out: dict[str, Vector] = {}
        p = _vec(point)
        for view, frame in frames.items():
            if view == source_view:
                out[view] = p.copy()
                continue
            if not self.is_linked(view) or (source_view in frames and not self.is_linked(source_view)):
                continue
            mapped = self.model.map_point(p, source_frame, frame)
            if mapped is not None:
                out[view] = mapped
        return out

    def link_with_offset(self, view_frame: str, view_point: PointLike, source_frame: str,
                         source_point: PointLike) -> LinkKind:
        """Link a view (showing ``view_point`` in ``view_frame``) to the shared point (``source_point`` in
        ``source_frame``). When the frames map already nothing is stored; otherwise the offset between the
        two points is kept, so the view stays where the reader put it. Returns the resulting kind."""
        kind = self.model.kind(source_frame, view_frame)
        if kind in ("same frame", "level"):
            return kind
        self.model.set_offset(source_frame, view_frame, _vec(view_point) - _vec(source_point))
        return "offset"
