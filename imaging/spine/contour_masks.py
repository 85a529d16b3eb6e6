"""Bilsky assistant contours on one axial slice (Qt-free): which contours lie on a plane, their masks on the
slice's pixel grid, the grade suggested from them, and the brush that pushes an outline's edge in or out.

The reader outlines four structures on the axial slice of worst compression (``Contour.kind``):

=========  ==================================================================================
canal      the bony spinal canal
sac        the thecal sac (its outer, dural outline: the cord lies inside it)
cord       the spinal cord
tumour     the tumour (epidural and bone parts; several outlines of it are united)
=========  ==================================================================================

Contours are stored as LPS polygons (mm). :func:`slice_masks` rasterises them onto the pixel grid of the
plane shown (``imaging.measure.roi_mask``: a pixel is inside when its centre is), one mask per kind (the
union of that kind's outlines), with the spacing ``(row mm, column mm)`` of that grid;
:func:`suggest_from_contours` hands them to :func:`imaging.spine.assistant.suggest_bilsky_grade`. The masks
are cropped to the contours' bounding box plus a margin, which changes no measurement (every mask pixel and
its neighbours stay inside) and keeps the distance maps small on 512 x 512 CT slices.

The brush (:func:`brush_outline`) works in plane millimetres: every outline vertex inside the brush disc is
moved radially to the disc's rim, so a brush pressed inside an outline pushes its edge out and one pressed
outside pushes it in (as OHIF's sculptor tool); edges near the disc are first subdivided so the new edge
follows the rim. :func:`brush_stroke` applies it along a drag in steps of a quarter radius, so a fast drag
never jumps across the edge.

Research software, not a diagnostic device.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imaging import measure
from imaging.geometry import PlaneGeometry
from imaging.spine.assistant import BilskySuggestion, suggest_bilsky_grade

__all__ = [
    "CONTOUR_KINDS",
    "CONTOUR_NAMES",
    "REQUIRED_KINDS",
    "SINGLE_KINDS",
    "SliceMasks",
    "SliceSuggestion",
    "brush_outline",
    "brush_stroke",
    "contour_on_plane",
    "contours_on_plane",
    "outline_area_mm2",
    "plane_mm",
    "plane_mm_to_lps",
    "point_in_outline",
    "slice_masks",
    "suggest_from_contours",
]

CONTOUR_KINDS: tuple[str, ...] = ("canal", "sac", "cord", "tumour")
"""The four structures, in drawing order (outermost first)."""
CONTOUR_NAMES: dict[str, str] = {"canal": "bony canal", "sac": "thecal sac", "cord": "spinal cord",
                                 "tumour": "tumour"}
"""What the reader reads for each kind."""
REQUIRED_KINDS: tuple[str, ...] = ("canal", "sac", "cord")
"""Kinds a suggestion needs (without a tumour outline the suggestion is grade 0)."""
SINGLE_KINDS: frozenset[str] = frozenset({"canal", "sac", "cord"})
"""Kinds with one outline per slice (a new one replaces the old); the tumour may have several."""
CROP_MARGIN_PX = 3


# -- which contours lie on a plane --------------------------------------------------------------------------
def _field(contour: Any, name: str) -> Any:
    return contour.get(name) if isinstance(contour, Mapping) else getattr(contour, name)


def contour_on_plane(contour: Any, geometry: PlaneGeometry, series_instance_uid: str | None = None) -> bool:
    """Whether ``contour`` (an ``imaging.case.model.Contour`` or a mapping with ``points`` and
    ``series_instance_uid``) lies on the plane: every point within half the plane's thickness of it, and
    drawn on the same series when both series UIDs are known."""
    uid = _field(contour, "series_instance_uid")
    if series_instance_uid and uid and uid != series_instance_uid:
        return False
    pts = np.asarray(_field(contour, "points"), dtype=np.float64)
    if pts.ndim != 2 or len(pts) < 3:
        return False
    return bool(np.all(geometry.contains(pts)))


def contours_on_plane(contours: Iterable[Any], geometry: PlaneGeometry,
                      series_instance_uid: str | None = None) -> list[Any]:
    """The contours (in their order) that :func:`contour_on_plane` finds on the plane."""
    return [c for c in contours if contour_on_plane(c, geometry, series_instance_uid)]


# -- masks ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SliceMasks:
    """The four masks ``[row, column]`` (union of each kind's outlines) on a grid with ``spacing`` ``(row
    mm, column mm)``; ``offset`` is the grid's ``(row, column)`` in the full slice (the masks are cropped);
    ``counts`` the number of outlines of each kind."""

    masks: dict[str, np.ndarray]
    spacing: tuple[float, float]
    offset: tuple[int, int] = (0, 0)
    counts: dict[str, int] = field(default_factory=dict)

    def missing(self) -> list[str]:
        """The required kinds (canal, sac, cord) with no outline, in drawing order."""
        return [k for k in REQUIRED_KINDS if not self.counts.get(k)]

    def area_mm2(self, kind: str) -> float:
        """Area of a kind's mask (pixel count times pixel area), mm2."""
        return float(self.masks[kind].sum()) * self.spacing[0] * self.spacing[1]


def _plane_xy(geometry: PlaneGeometry, points: Any) -> np.ndarray:
    return np.atleast_2d(geometry.from_lps(np.asarray(points, dtype=np.float64)))[:, :2]


def slice_masks(contours: Iterable[Any], geometry: PlaneGeometry, shape: tuple[int, int],
                margin: int = CROP_MARGIN_PX) -> SliceMasks:
    """Rasterise contours (already known to lie on the plane) onto the plane's pixel grid of ``shape``
    ``(rows, columns)`` with :func:`imaging.measure.roi_mask`, cropped to their bounding box plus ``margin``
    pixels. Unknown kinds raise ValueError."""
    by_kind: dict[str, list[np.ndarray]] = {k: [] for k in CONTOUR_KINDS}
    for c in contours:
        kind = _field(c, "kind")
        if kind not in by_kind:
            raise ValueError(f"unknown contour kind {kind!r}; expected one of {', '.join(CONTOUR_KINDS)}")
        by_kind[kind].append(np.asarray(_field(c, "points"), dtype=np.float64))
    rows, cols = int(shape[0]), int(shape[1])
    everything = [_plane_xy(geometry, p) for ps in by_kind.values() for p in ps]
    if everything:
        xy = np.concatenate(everything)
        r0 = max(int(math.floor(xy[:, 1].min())) - margin, 0)
        r1 = min(int(math.ceil(xy[:, 1].max())) + margin, rows - 1)
        c0 = max(int(math.floor(xy[:, 0].min())) - margin, 0)
        c1 = min(int(math.ceil(xy[:, 0].max())) + margin, cols - 1)
    else:
        r0, r1, c0, c1 = 0, -1, 0, -1
    h, w = max(r1 - r0 + 1, 1), max(c1 - c0 + 1, 1)
    # The cropped grid: the same pixels, with the origin moved to pixel (c0, r0).
    cropped = PlaneGeometry(geometry.to_lps((c0, r0)), geometry.x_dir, geometry.y_dir, geometry.x_spacing,
                            geometry.y_spacing, geometry.thickness)
    masks: dict[str, np.ndarray] = {}
    for kind, polys in by_kind.items():
        m = np.zeros((h, w), dtype=bool)
        for pts in polys:
            m |= measure.roi_mask(cropped, (h, w), "polygon", pts)
        masks[kind] = m
    return SliceMasks(masks, (float(geometry.y_spacing), float(geometry.x_spacing)), (r0, c0),
                      {k: len(v) for k, v in by_kind.items()})


@dataclass(frozen=True)
class SliceSuggestion:
    """The suggestion from one slice's contours, or why there is none (``problem``, a sentence)."""

    masks: SliceMasks
    suggestion: BilskySuggestion | None
    problem: str | None = None


def _names(kinds: Sequence[str]) -> str:
    names = [CONTOUR_NAMES[k] for k in kinds]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def suggest_from_contours(contours: Iterable[Any], geometry: PlaneGeometry, shape: tuple[int, int]
                          ) -> SliceSuggestion:
    """The Bilsky grade suggested by the contours of one slice (see the module docstring). When the canal,
    sac or cord is not outlined, or an outline leaves no pixel on the grid, ``suggestion`` is None and
    ``problem`` says what to draw."""
    masks = slice_masks(contours, geometry, shape)
    missing = masks.missing()
    if missing:
        return SliceSuggestion(masks, None, f"Outline the {_names(missing)} to get a suggestion.")
    empty = [k for k in REQUIRED_KINDS if not masks.masks[k].any()]
    if empty:
        return SliceSuggestion(masks, None, f"The {_names(empty)} outline holds no pixel centre of this slice: "
                                            "draw it larger.")
    m = masks.masks
    try:
        s = suggest_bilsky_grade(m["canal"], m["sac"], m["cord"], m["tumour"], masks.spacing)
    except ValueError as exc:
        return SliceSuggestion(masks, None, f"No suggestion: {exc}.")
    return SliceSuggestion(masks, s, None)


# -- plane millimetres and the brush ------------------------------------------------------------------------
def plane_mm(geometry: PlaneGeometry, points_lps: Any) -> np.ndarray:
    """LPS points -> ``(N, 2)`` millimetres along the plane's x and y directions from its origin."""
    xy = _plane_xy(geometry, points_lps)
    mm: np.ndarray = xy * np.array([geometry.x_spacing, geometry.y_spacing])
    return mm


def plane_mm_to_lps(geometry: PlaneGeometry, points_mm: Any) -> np.ndarray:
    """Inverse of :func:`plane_mm`: ``(N, 2)`` plane millimetres -> ``(N, 3)`` LPS points on the plane."""
    mm = np.atleast_2d(np.asarray(points_mm, dtype=np.float64))
    return np.atleast_2d(geometry.to_lps(mm / np.array([geometry.x_spacing, geometry.y_spacing])))


def outline_area_mm2(points_mm: Any) -> float:
    """Area enclosed by a 2D outline (shoelace; closing edge implied), mm2."""
    p = np.asarray(points_mm, dtype=np.float64)
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def point_in_outline(point: Any, points_mm: Any) -> bool:
    """Whether a 2D point lies inside an outline (even-odd rule)."""
    px, py = (float(v) for v in point)
    p = np.asarray(points_mm, dtype=np.float64)
    x0, y0 = p[:, 0], p[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = (y0 > py) != (y1 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
    return bool(np.count_nonzero(crosses & (px < xc)) % 2)


def _segment_distance(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    ab = b - a
    t = 0.0 if not ab.any() else float(np.clip(np.dot(c - a, ab) / np.dot(ab, ab), 0.0, 1.0))
    return float(np.hypot(*(a + t * ab - c)))


def brush_outline(points_mm: Any, centre: Any, radius: float) -> np.ndarray:
    """One dab of the brush: the outline with every vertex inside the disc (``centre``, ``radius`` mm)
    moved radially to its rim. Edges within reach of the disc are first subdivided into pieces of at most a
    quarter radius so the new edge follows the rim. A brush inside the outline pushes its edge out; one
    outside pushes it in. Returns ``(M, 2)`` plane millimetres (the input when the disc touches nothing)."""
    if not radius > 0:
        raise ValueError(f"the brush radius must be positive, got {radius!r}")
    p = np.asarray(points_mm, dtype=np.float64)
    c = np.asarray(centre, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or len(p) < 3:
        raise ValueError("an outline needs at least 3 (x, y) points")
    inside = point_in_outline(c, p)
    step = radius / 4.0
    dense: list[np.ndarray] = []
    touched = False
    for i in range(len(p)):
        a, b = p[i], p[(i + 1) % len(p)]
        dense.append(a)
        if _segment_distance(a, b, c) < radius * 1.5:
            n = int(math.ceil(float(np.hypot(*(b - a))) / step))
            for j in range(1, n):
                dense.append(a + (b - a) * (j / n))
        if _segment_distance(a, b, c) < radius:
            touched = True
    if not touched:
        return p.copy()
    q = np.array(dense)
    d = q - c
    dist = np.hypot(d[:, 0], d[:, 1])
    hit = dist < radius
    # A vertex exactly at the centre has no radial direction: use the outline's normal there (outward when
    # the brush is inside the outline, inward when it is outside).
    for i in np.nonzero(hit & (dist < 1e-9))[0].tolist():
        t = q[(i + 1) % len(q)] - q[i - 1]
        normal = np.array([t[1], -t[0]])
        nn = float(np.hypot(*normal)) or 1.0
        normal /= nn
        probe = q[i] + normal * 1e-3
        out_dir = normal if not point_in_outline(probe, q) else -normal
        d[i] = out_dir if inside else -out_dir
        dist[i] = 1.0
    q[hit] = c + d[hit] / dist[hit, None] * radius
    # Drop consecutive duplicates (vertices that met on the rim).
    keep = np.ones(len(q), dtype=bool)
    keep[1:] = np.hypot(*(np.diff(q, axis=0).T)) > 1e-6
    q = q[keep]
    return q if len(q) >= 3 else p.copy()


def brush_stroke(points_mm: Any, path_mm: Any, radius: float) -> np.ndarray:
    """The brush dragged along ``path_mm`` (``(K, 2)`` plane millimetres, the press point first): dabs at
    every path point and in between, at most a quarter radius apart; vertices closer than an eighth of the
    radius are then thinned out."""
    path = np.atleast_2d(np.asarray(path_mm, dtype=np.float64))
    q = np.asarray(points_mm, dtype=np.float64)
    if len(path) == 0:
        return q.copy()
    centres = [path[0]]
    for a, b in zip(path[:-1], path[1:], strict=True):
        n = max(1, int(math.ceil(float(np.hypot(*(b - a))) / (radius / 4.0))))
        centres += [a + (b - a) * (j / n) for j in range(1, n + 1)]
    for c in centres:
        q = brush_outline(q, c, radius)
    return _thin(q, radius / 8.0) if len(centres) > 1 else q


def _thin(points: np.ndarray, min_gap: float) -> np.ndarray:
    """Drop vertices closer than ``min_gap`` to the last kept one (the subdivision of many dabs)."""
    kept = [points[0]]
    for p in points[1:]:
        if float(np.hypot(*(p - kept[-1]))) >= min_gap:
            kept.append(p)
    if len(kept) > 3 and float(np.hypot(*(kept[-1] - kept[0]))) < min_gap:
        kept.pop()
    return np.array(kept) if len(kept) >= 3 else points
