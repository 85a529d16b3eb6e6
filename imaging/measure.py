"""Measurement math: lengths, bidirectional axes, ROI area and statistics, angles, Cobb angle,
craniocaudal extent and ellipsoid volume. Qt-free.

Conventions
-----------
* **Points** are patient coordinates, DICOM LPS, in millimetres (``+x`` patient Left, ``+y`` Posterior,
  ``+z`` Superior), as ``(3,)`` sequences or arrays. Every length here is the Euclidean length in LPS mm,
  so it does not depend on the view it was drawn in (rotation and translation invariant).
* **No pixel spacing.** When the source series has no pixel spacing the volume's affine uses 1 mm per
  pixel (see :mod:`imaging.volume`), so the same numbers are pixels. Every function that returns a
  :class:`MeasuredValue` takes ``spacing_known``; when it is False the unit is ``px`` / ``px2`` / ``px3``
  and never ``mm``.
* **Plane pixels.** A 2D image on a plane (an acquired slice or a reformat) is indexed ``[row, column]``;
  display pixel ``(x, y)`` = ``(column, row)`` with pixel centres at integers, mapped to LPS by a
  :class:`~imaging.geometry.PlaneGeometry`.
* **ROI mask rule.** A pixel belongs to an ROI when its *centre* lies inside the outline (polygon:
  even-odd rule; a centre exactly on an edge follows the half-open crossing rule, so two ROIs sharing an
  edge never both take a pixel; ellipse: ``u^2 + v^2 <= 1``). The statistics are numpy's over that mask:
  mean, population standard deviation (``ddof=0``, numpy's default), min, max and the voxel count.
* **ROI area** is the area of the drawn outline (polygon: shoelace formula in the plane; ellipse:
  ``pi * a * b``), not the voxel count times the pixel area (that is also given, as ``mask_area``).
* **Craniocaudal extent** is the extent along the patient's long axis: ``|dS|``, the absolute difference of
  the two points' S (z) coordinates — what a radiologist means by "CC". A segment drawn slanted on a
  sagittal view therefore gives a CC extent shorter than its length; both are reported.
* **Cobb angle** (see :func:`cobb_angle`): the angle between two lines in the plane of the view, each
  oriented in the same sense across the spine, in ``[0, 180)`` degrees — 0 for parallel endplates; curves
  beyond 90 degrees are reported as such (not folded to the acute angle).

Display precision is 0.1 (mm, mm2, HU, degree, mL) via :meth:`MeasuredValue.text`; values are always kept
and returned at full float precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from imaging.geometry import PlaneGeometry

__all__ = [
    "MeasuredValue",
    "Bidirectional",
    "RoiStats",
    "RoiResult",
    "length_unit",
    "area_unit",
    "volume_unit",
    "distance",
    "segment_length",
    "bidirectional",
    "perpendicular_short_axis",
    "bidirectional_from_outline",
    "bidirectional_from_mask",
    "polygon_area",
    "ellipse_area",
    "ellipse_outline",
    "polygon_mask",
    "roi_mask",
    "roi_statistics",
    "measure_roi",
    "angle",
    "cobb_angle",
    "craniocaudal_extent",
    "ellipsoid_volume_ml",
    "ellipsoid_volume",
    "slice_geometry",
    "probe",
    "value_unit",
    "format_value",
]

PointLike = Sequence[float] | np.ndarray

MM, PX = "mm", "px"
MM2, PX2 = "mm2", "px2"
ML, PX3 = "mL", "px3"
DEG = "deg"
HU = "HU"
VOXELS = "voxels"

_DISPLAY_SUFFIX = {
    "mm": " mm", "px": " px", "mm2": " mm\u00b2", "px2": " px\u00b2", "mL": " mL", "px3": " px\u00b3",
    "deg": "\u00b0", "HU": " HU", "voxels": " voxels", "": "",
}


def length_unit(spacing_known: bool = True) -> str:
    """``"mm"`` when the source has pixel spacing, else ``"px"``."""
    return MM if spacing_known else PX


def area_unit(spacing_known: bool = True) -> str:
    """``"mm2"`` when the source has pixel spacing, else ``"px2"``."""
    return MM2 if spacing_known else PX2


def volume_unit(spacing_known: bool = True) -> str:
    """``"mL"`` when the source has pixel spacing, else ``"px3"`` (cubic pixels)."""
    return ML if spacing_known else PX3


def format_value(value: float | None, unit: str, decimals: int = 1) -> str:
    """Display text of a value: 0.1 precision and its unit (``"12.3 mm"``, ``"45.0 mm²"``, ``"12.5°"``,
    ``"-3.2 HU"``); voxel counts are integers. ``None`` or NaN gives ``"—"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2014"
    if unit == VOXELS:
        return f"{int(round(value))}{_DISPLAY_SUFFIX[unit]}"
    suffix = _DISPLAY_SUFFIX.get(unit, f" {unit}" if unit else "")
    text = f"{value:.{decimals}f}"
    if text.lstrip("-").strip("0.") == "":  # avoid "-0.0"
        text = text.lstrip("-")
    return f"{text}{suffix}"


@dataclass(frozen=True)
class MeasuredValue:
    """One named value of a measurement, at full precision, with its unit.

    ``name`` is a stable machine name (``length``, ``long_axis``, ``short_axis``, ``area``, ``mean``,
    ``sd``, ``min``, ``max``, ``voxel_count``, ``angle``, ``cobb_angle``, ``cc_extent``, ``value``,
    ``volume``); ``unit`` is one of ``mm px mm2 px2 mL px3 deg HU voxels`` or ``""`` (arbitrary units,
    e.g. MR signal).
    """

    name: str
    value: float
    unit: str

    @property
    def title(self) -> str:
        """Human name, e.g. ``"Long axis"``."""
        return _TITLES.get(self.name, self.name.replace("_", " ").capitalize())

    def text(self) -> str:
        """Display text at 0.1 precision, e.g. ``"12.3 mm"``."""
        return format_value(self.value, self.unit)

    def __str__(self) -> str:
        return f"{self.title} {self.text()}"


_TITLES = {
    "length": "Length", "long_axis": "Long axis", "short_axis": "Short axis", "area": "Area",
    "mean": "Mean", "sd": "SD", "min": "Min", "max": "Max", "voxel_count": "Voxels", "angle": "Angle",
    "cobb_angle": "Cobb angle", "cc_extent": "CC", "value": "Value", "volume": "Volume",
}


def _p(point: PointLike) -> np.ndarray:
    a = np.asarray(point, dtype=np.float64)
    if a.shape != (3,):
        raise ValueError(f"an LPS point needs 3 coordinates, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"LPS point has a non-finite coordinate: {a.tolist()}")
    return a


# -- lengths --------------------------------------------------------------------------------------------
def distance(p: PointLike, q: PointLike) -> float:
    """Euclidean distance between two LPS points, in mm (pixels when the source has no spacing)."""
    return float(np.linalg.norm(_p(q) - _p(p)))


def segment_length(p: PointLike, q: PointLike, spacing_known: bool = True) -> MeasuredValue:
    """The length of segment ``p``-``q`` as a ``length`` value in mm (px without pixel spacing)."""
    return MeasuredValue("length", distance(p, q), length_unit(spacing_known))


def craniocaudal_extent(p: PointLike, q: PointLike) -> float:
    """Craniocaudal (superior-inferior) extent between two LPS points: ``|q_S - p_S|`` in mm.

    This is the extent along the patient's long axis (LPS z), whatever plane the points were drawn on;
    the full segment length is :func:`distance`.
    """
    return float(abs(_p(q)[2] - _p(p)[2]))


# -- bidirectional --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bidirectional:
    """A long axis and a short axis (each a pair of endpoints) with their lengths.

    Endpoints are LPS mm for :func:`bidirectional`, and display pixel ``(x, y)`` for
    :func:`bidirectional_from_outline` / :func:`bidirectional_from_mask` (whose lengths are still mm,
    computed with the pixel spacing). ``angle_deg`` is the angle between the two axes (90 when
    perpendicular), ``unit`` the lengths' unit.
    """

    long_axis: tuple[np.ndarray, np.ndarray]
    short_axis: tuple[np.ndarray, np.ndarray]
    long_length: float
    short_length: float
    angle_deg: float
    unit: str = MM

    def values(self) -> list[MeasuredValue]:
        return [MeasuredValue("long_axis", self.long_length, self.unit),
                MeasuredValue("short_axis", self.short_length, self.unit)]


def _angle_between(u: np.ndarray, v: np.ndarray) -> float:
    """Angle in degrees between two vectors, in [0, 180] (atan2 form: accurate near 0 and 180)."""
    cross = np.linalg.norm(np.cross(u, v)) if u.shape[0] == 3 else abs(u[0] * v[1] - u[1] * v[0])
    return float(np.degrees(np.arctan2(cross, float(np.dot(u, v)))))


def bidirectional(long_a: PointLike, long_b: PointLike, short_a: PointLike, short_b: PointLike,
                  spacing_known: bool = True) -> Bidirectional:
    """Bidirectional measurement from drawn endpoints (LPS mm).

    The longer of the two segments is reported as the long axis (so a reader who drew them in the other
    order still gets long >= short). ``angle_deg`` tells how perpendicular they are; the GUI keeps them
    perpendicular with :func:`perpendicular_short_axis`.
    """
    la, lb, sa, sb = _p(long_a), _p(long_b), _p(short_a), _p(short_b)
    ll, sl = float(np.linalg.norm(lb - la)), float(np.linalg.norm(sb - sa))
    if sl > ll:
        la, lb, sa, sb, ll, sl = sa, sb, la, lb, sl, ll
    ang = _angle_between(lb - la, sb - sa) if ll > 0 and sl > 0 else 90.0
    return Bidirectional((la, lb), (sa, sb), ll, sl, ang, length_unit(spacing_known))


def perpendicular_short_axis(long_a: PointLike, long_b: PointLike, short_a: PointLike,
                             short_b: PointLike, normal: PointLike) -> tuple[np.ndarray, np.ndarray]:
    """Make a short axis perpendicular to the long axis, within the plane of unit ``normal`` (LPS).

    The short axis keeps the point where it crosses the long axis's line (the projection of its midpoint)
    and the distance of each endpoint from that line; it is rotated about the crossing point to lie along
    ``normal x long``. Use it in the GUI while a handle is dragged.
    """
    la, lb, sa, sb = _p(long_a), _p(long_b), _p(short_a), _p(short_b)
    n = np.asarray(normal, dtype=np.float64)
    n = n / np.linalg.norm(n)
    long_dir = lb - la
    long_dir = long_dir - np.dot(long_dir, n) * n
    if np.linalg.norm(long_dir) == 0:
        raise ValueError("the long axis has zero length in the plane")
    long_dir /= np.linalg.norm(long_dir)
    perp = np.cross(n, long_dir)
    mid = (sa + sb) / 2
    cross_pt = la + np.dot(mid - la, long_dir) * long_dir
    da, db = float(np.dot(sa - cross_pt, perp)), float(np.dot(sb - cross_pt, perp))
    if da == db:  # degenerate (both on one side at the same distance): spread symmetrically
        half = float(np.linalg.norm(sb - sa)) / 2
        da, db = -half, half
    return cross_pt + da * perp, cross_pt + db * perp


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Indices of the convex hull of 2D points (Andrew's monotone chain), counter-clockwise."""
    order = np.lexsort((points[:, 1], points[:, 0]))
    pts = points[order]
    if len(pts) <= 2:
        return order

    def half(idx: Sequence[int]) -> list[int]:
        out: list[int] = []
        for i in idx:
            while len(out) >= 2:
                o, a, b = pts[out[-2]], pts[out[-1]], pts[i]
                if (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]) <= 0:
                    out.pop()
                else:
                    break
            out.append(i)
        return out

    lower = half(range(len(pts)))
    upper = half(range(len(pts) - 1, -1, -1))
    hull = lower[:-1] + upper[:-1]
    out: np.ndarray = order[np.array(hull, dtype=int)]
    return out


def _farthest_pair(points: np.ndarray) -> tuple[int, int, float]:
    """Indices and distance of the two points farthest apart (max Feret diameter; exact)."""
    if len(points) < 2:
        raise ValueError("need at least two points")
    hull = _convex_hull(points) if len(points) > 3 else np.arange(len(points))
    hp = points[hull]
    d2 = ((hp[:, None, :] - hp[None, :, :]) ** 2).sum(axis=2)
    i, j = np.unravel_index(int(np.argmax(d2)), d2.shape)
    return int(hull[i]), int(hull[j]), float(math.sqrt(d2[i, j]))


def _chords_at(t: float, tt: np.ndarray, ss: np.ndarray, right: bool) -> tuple[float, float, float]:
    """Longest inside interval of the line ``t = const`` through a closed polygon given in (t, s) frame.

    ``right`` chooses the half-open rule (limit from the right or from the left of ``t``). Returns
    ``(length, s0, s1)``; length 0 when the line misses the polygon."""
    t0, t1 = tt, np.roll(tt, -1)
    s0, s1 = ss, np.roll(ss, -1)
    lo, hi = np.minimum(t0, t1), np.maximum(t0, t1)
    hit = (lo <= t) & (t < hi) if right else (lo < t) & (t <= hi)
    hit &= t0 != t1
    if not np.any(hit):
        return 0.0, 0.0, 0.0
    s = s0[hit] + (t - t0[hit]) * (s1[hit] - s0[hit]) / (t1[hit] - t0[hit])
    s.sort()
    best = (0.0, 0.0, 0.0)
    for k in range(0, len(s) - 1, 2):
        if s[k + 1] - s[k] > best[0]:
            best = (float(s[k + 1] - s[k]), float(s[k]), float(s[k + 1]))
    return best


def bidirectional_from_outline(outline_xy: np.ndarray | Sequence[Sequence[float]], x_spacing: float = 1.0,
                               y_spacing: float = 1.0, spacing_known: bool = True) -> Bidirectional:
    """Long and short axes of a closed 2D outline given in display pixel coordinates ``(x, y)``.

    * long axis: the two outline vertices farthest apart in mm (the maximal Feret diameter; exact for a
      polygon);
    * short axis: the longest chord perpendicular to the long axis that lies inside the outline (even-odd
      rule, so a concave outline's chord never crosses outside it; exact: evaluated at every vertex).

    ``x_spacing``/``y_spacing`` are the pixel sizes in mm (anisotropic pixels are handled); endpoints are
    returned in pixel coordinates, lengths in mm (px when ``spacing_known`` is False).
    """
    xy = np.asarray(outline_xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) < 3:
        raise ValueError("an outline needs at least 3 (x, y) points")
    if len(xy) > 3 and np.allclose(xy[0], xy[-1]):
        xy = xy[:-1]
    scale = np.array([x_spacing, y_spacing], dtype=np.float64)
    pts = xy * scale  # plane millimetres
    i, j, long_len = _farthest_pair(pts)
    if long_len == 0:
        raise ValueError("the outline has zero size")
    u = (pts[j] - pts[i]) / long_len
    v = np.array([-u[1], u[0]])
    rel = pts - pts[i]
    tt, ss = rel @ u, rel @ v
    best = (0.0, 0.0, 0.0, 0.0)
    for t in np.unique(tt):
        for right in (True, False):
            length, s0, s1 = _chords_at(float(t), tt, ss, right)
            if length > best[0]:
                best = (length, float(t), s0, s1)
    short_len, t, s0, s1 = best
    a = pts[i] + t * u + s0 * v
    b = pts[i] + t * u + s1 * v
    unit = length_unit(spacing_known)
    return Bidirectional((xy[i].copy(), xy[j].copy()), (a / scale, b / scale), long_len, short_len,
                         90.0 if short_len > 0 else 0.0, unit)


def bidirectional_from_mask(mask: np.ndarray, row_spacing: float = 1.0, column_spacing: float = 1.0,
                            spacing_known: bool = True) -> Bidirectional:
    """Long and short axes of a 2D mask (indexed ``[row, column]``), from its pixel centres.

    * long axis: the two mask pixel centres farthest apart (mm);
    * short axis: lines perpendicular to the long axis are sampled every ``min(spacing)`` along it; on
      each, the mask centres within half a step form runs (split where consecutive centres are more than
      1.5 pixel diagonals apart, so a concave mask's chord does not jump a gap); the longest run is the
      short axis, placed exactly perpendicular to the long axis. Accurate to about one pixel.

    Endpoints are returned as display pixel ``(x, y)`` = ``(column, row)``; lengths in mm (px when
    ``spacing_known`` is False).
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2:
        raise ValueError(f"mask must be 2D [row, column], got shape {m.shape}")
    rows, cols = np.nonzero(m)
    if len(rows) < 2:
        raise ValueError("the mask has fewer than two pixels")
    scale = np.array([column_spacing, row_spacing], dtype=np.float64)
    xy = np.stack([cols, rows], axis=1).astype(np.float64)
    pts = xy * scale
    i, j, long_len = _farthest_pair(pts)
    u = (pts[j] - pts[i]) / long_len
    v = np.array([-u[1], u[0]])
    rel = pts - pts[i]
    tt, ss = rel @ u, rel @ v
    step = float(min(row_spacing, column_spacing))
    gap = 1.5 * float(np.hypot(row_spacing, column_spacing))
    bins = np.floor(tt / step + 0.5).astype(int)
    order = np.lexsort((ss, bins))
    b_sorted, s_sorted = bins[order], ss[order]
    best = (0.0, 0.0, 0.0, 0.0)
    starts = np.flatnonzero(np.r_[True, b_sorted[1:] != b_sorted[:-1]])
    ends = np.r_[starts[1:], len(b_sorted)]
    for st, en in zip(starts, ends, strict=True):
        s = s_sorted[st:en]
        breaks = np.flatnonzero(np.diff(s) > gap)
        run_starts = np.r_[0, breaks + 1]
        run_ends = np.r_[breaks, len(s) - 1]
        lengths = s[run_ends] - s[run_starts]
        k = int(np.argmax(lengths))
        if lengths[k] > best[0]:
            best = (float(lengths[k]), float(b_sorted[st] * step), float(s[run_starts[k]]),
                    float(s[run_ends[k]]))
    short_len, t, s0, s1 = best
    a = pts[i] + t * u + s0 * v
    b = pts[i] + t * u + s1 * v
    return Bidirectional((xy[i], xy[j]), (a / scale, b / scale), long_len, short_len,
                         90.0 if short_len > 0 else 0.0, length_unit(spacing_known))


# -- areas and ROI masks --------------------------------------------------------------------------------
def polygon_area(points_lps: np.ndarray | Sequence[PointLike]) -> float:
    """Area (mm2) of a closed planar polygon given by its LPS vertices (the closing edge is implied).

    Computed as the magnitude of the polygon's vector area, so it needs no plane and is invariant under
    rotation and translation. A self-intersecting outline counts its loops with their winding signs.
    """
    p = np.asarray(points_lps, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3 or len(p) < 3:
        raise ValueError("a polygon needs at least 3 LPS points")
    c = p - p.mean(axis=0)
    vec = np.cross(c, np.roll(c, -1, axis=0)).sum(axis=0) / 2
    return float(np.linalg.norm(vec))


def _ellipse_axes(center: PointLike, axis_end_1: PointLike, axis_end_2: PointLike
                  ) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, float]:
    c, e1, e2 = _p(center), _p(axis_end_1), _p(axis_end_2)
    a_vec, b_vec = e1 - c, e2 - c
    a, b = float(np.linalg.norm(a_vec)), float(np.linalg.norm(b_vec))
    if a == 0 or b == 0:
        raise ValueError("an ellipse needs two non-zero semi-axes")
    ua = a_vec / a
    # The second axis is taken perpendicular to the first, in the plane of the three points.
    b_perp = b_vec - np.dot(b_vec, ua) * ua
    nb = float(np.linalg.norm(b_perp))
    if nb == 0:
        raise ValueError("the ellipse's semi-axes are parallel")
    ub = b_perp / nb
    return c, ua, a, ub, b


def ellipse_area(center: PointLike, axis_end_1: PointLike, axis_end_2: PointLike) -> float:
    """Area (mm2) ``pi * a * b`` of the ellipse with LPS ``center`` and the ends of its two semi-axes.

    ``a = |axis_end_1 - center|``; ``b`` is the distance of ``axis_end_2`` from the first axis's line
    (the semi-axes are made perpendicular in the plane of the three points).
    """
    _, ua, a, _, _ = _ellipse_axes(center, axis_end_1, axis_end_2)
    c, e2 = _p(center), _p(axis_end_2)
    bv = e2 - c
    b = float(np.linalg.norm(bv - np.dot(bv, ua) * ua))
    return float(math.pi * a * b)


def ellipse_outline(center: PointLike, axis_end_1: PointLike, axis_end_2: PointLike, n: int = 64
                    ) -> np.ndarray:
    """``n`` LPS points on the ellipse outline (for drawing and for the DICOM SR polygon), shape (n, 3)."""
    c, ua, a, ub, b = _ellipse_axes(center, axis_end_1, axis_end_2)
    th = np.linspace(0, 2 * np.pi, n, endpoint=False)
    out: np.ndarray = c[None, :] + np.cos(th)[:, None] * a * ua[None, :] + np.sin(th)[:, None] * b * ub[None, :]
    return out


def polygon_mask(outline_xy: np.ndarray | Sequence[Sequence[float]], shape: tuple[int, int]) -> np.ndarray:
    """Bool mask ``[row, column]`` of the pixels whose centre ``(x=column, y=row)`` is inside the polygon.

    Even-odd rule with the half-open crossing rule for centres exactly on an edge. ``outline_xy`` is in
    display pixel coordinates; the closing edge is implied.
    """
    xy = np.asarray(outline_xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) < 3:
        raise ValueError("a polygon needs at least 3 (x, y) points")
    rows, cols = int(shape[0]), int(shape[1])
    mask = np.zeros((rows, cols), dtype=bool)
    if not np.all(np.isfinite(xy)):
        raise ValueError("polygon has non-finite coordinates")
    r0 = max(int(math.floor(xy[:, 1].min())), 0)
    r1 = min(int(math.ceil(xy[:, 1].max())), rows - 1)
    c0 = max(int(math.floor(xy[:, 0].min())), 0)
    c1 = min(int(math.ceil(xy[:, 0].max())), cols - 1)
    if r0 > r1 or c0 > c1:
        return mask
    ys = np.arange(r0, r1 + 1, dtype=np.float64)
    xs = np.arange(c0, c1 + 1, dtype=np.float64)
    x0, y0 = xy[:, 0], xy[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    inside = np.zeros((len(ys), len(xs)), dtype=bool)
    for k in range(len(xy)):
        ya, yb, xa, xb = y0[k], y1[k], x0[k], x1[k]
        if ya == yb:
            continue
        # Half-open in y: an edge counts for rows with min(ya, yb) <= y < max(ya, yb).
        rows_hit = (ys >= min(ya, yb)) & (ys < max(ya, yb))
        if not np.any(rows_hit):
            continue
        yy = ys[rows_hit]
        x_cross = xa + (yy - ya) * (xb - xa) / (yb - ya)
        # A centre is to the left of the crossing (strictly) -> toggle.
        inside[rows_hit] ^= xs[None, :] < x_cross[:, None]
    mask[r0:r1 + 1, c0:c1 + 1] = inside
    return mask


def roi_mask(geometry: PlaneGeometry, shape: tuple[int, int],
             kind: Literal["ellipse", "polygon"], points_lps: np.ndarray | Sequence[PointLike]) -> np.ndarray:
    """The ROI's mask on a plane's pixel grid (``[row, column]``, ``shape`` = the plane image's shape).

    ``kind="polygon"``: ``points_lps`` are the outline vertices; ``kind="ellipse"``: ``(center,
    axis_end_1, axis_end_2)``. The points are projected onto the plane (``geometry.from_lps``); a pixel is
    in the mask when its centre is inside the outline (see the module docstring). The ellipse test is done
    in plane millimetres, so anisotropic pixels and rotated ellipses are exact.
    """
    pts = np.asarray(points_lps, dtype=np.float64)
    if kind == "polygon":
        xyd = geometry.from_lps(pts)
        return polygon_mask(xyd[:, :2], shape)
    if kind != "ellipse":
        raise ValueError(f"unknown ROI kind {kind!r} (expected 'ellipse' or 'polygon')")
    if pts.shape != (3, 3):
        raise ValueError("an ellipse ROI needs 3 LPS points: center, end of axis 1, end of axis 2")
    c, ua, a, ub, b = _ellipse_axes(pts[0], pts[1], pts[2])
    rows, cols = int(shape[0]), int(shape[1])
    cxy = geometry.from_lps(c)[:2]
    reach_x = max(a, b) / geometry.x_spacing + 1
    reach_y = max(a, b) / geometry.y_spacing + 1
    r0, r1 = max(int(math.floor(cxy[1] - reach_y)), 0), min(int(math.ceil(cxy[1] + reach_y)), rows - 1)
    c0, c1 = max(int(math.floor(cxy[0] - reach_x)), 0), min(int(math.ceil(cxy[0] + reach_x)), cols - 1)
    mask = np.zeros((rows, cols), dtype=bool)
    if r0 > r1 or c0 > c1:
        return mask
    xs = np.arange(c0, c1 + 1, dtype=np.float64)
    ys = np.arange(r0, r1 + 1, dtype=np.float64)
    # LPS offset of each pixel centre from the ellipse centre's projection, within the plane.
    dx = (xs - cxy[0]) * geometry.x_spacing
    dy = (ys - cxy[1]) * geometry.y_spacing
    xa, ya = float(np.dot(geometry.x_dir, ua)), float(np.dot(geometry.y_dir, ua))
    xb, yb = float(np.dot(geometry.x_dir, ub)), float(np.dot(geometry.y_dir, ub))
    u = (dx[None, :] * xa + dy[:, None] * ya) / a
    v = (dx[None, :] * xb + dy[:, None] * yb) / b
    mask[r0:r1 + 1, c0:c1 + 1] = u * u + v * v <= 1.0
    return mask


@dataclass(frozen=True)
class RoiStats:
    """Statistics of the pixel values inside an ROI mask (numpy over the mask; SD with ``ddof=0``).

    ``unit`` is the pixel value unit (``"HU"`` on CT, ``""`` otherwise). With an empty mask ``count`` is 0
    and the other values are None.
    """

    mean: float | None
    sd: float | None
    min: float | None
    max: float | None
    count: int
    unit: str = ""

    def values(self) -> list[MeasuredValue]:
        mean, sd, lo, hi = self.mean, self.sd, self.min, self.max
        if self.count == 0 or mean is None or sd is None or lo is None or hi is None:  # an empty mask
            return [MeasuredValue("voxel_count", float(self.count), VOXELS)]
        return [MeasuredValue("mean", float(mean), self.unit), MeasuredValue("sd", float(sd), self.unit),
                MeasuredValue("min", float(lo), self.unit), MeasuredValue("max", float(hi), self.unit),
                MeasuredValue("voxel_count", float(self.count), VOXELS)]


def roi_statistics(pixels: np.ndarray, mask: np.ndarray, unit: str = "") -> RoiStats:
    """Mean, SD (population, ``ddof=0``), min, max and count of ``pixels[mask]`` (float64 arithmetic)."""
    img = np.asarray(pixels)
    m = np.asarray(mask, dtype=bool)
    if img.shape != m.shape:
        raise ValueError(f"pixels {img.shape} and mask {m.shape} differ in shape")
    vals = img[m].astype(np.float64)
    if vals.size == 0:
        return RoiStats(None, None, None, None, 0, unit)
    return RoiStats(float(vals.mean()), float(vals.std()), float(vals.min()), float(vals.max()),
                    int(vals.size), unit)


@dataclass(frozen=True)
class RoiResult:
    """An ROI measured on a plane: outline ``area`` (mm2 / px2), ``mask_area`` (voxel count x pixel area),
    ``stats`` of the pixel values and the ``mask`` itself (``[row, column]`` on the plane's grid)."""

    area: float
    area_unit: str
    mask_area: float
    stats: RoiStats
    mask: np.ndarray

    def values(self) -> list[MeasuredValue]:
        return [MeasuredValue("area", self.area, self.area_unit), *self.stats.values()]


def measure_roi(pixels: np.ndarray, geometry: PlaneGeometry, kind: Literal["ellipse", "polygon"],
                points_lps: np.ndarray | Sequence[PointLike], value_unit: str = "",
                spacing_known: bool = True) -> RoiResult:
    """Area and pixel statistics of an ellipse or polygon ROI on a plane image.

    ``pixels`` is the plane's 2D image ``[row, column]`` in modality values (HU on CT) and ``geometry``
    its :class:`PlaneGeometry` (an acquired slice: :func:`slice_geometry`; a reformat: the viewer's plane).
    """
    pts = np.asarray(points_lps, dtype=np.float64)
    mask = roi_mask(geometry, np.asarray(pixels).shape[:2], kind, pts)
    area = ellipse_area(pts[0], pts[1], pts[2]) if kind == "ellipse" else polygon_area(pts)
    stats = roi_statistics(pixels, mask, value_unit)
    mask_area = float(mask.sum()) * geometry.x_spacing * geometry.y_spacing
    return RoiResult(area, area_unit(spacing_known), mask_area, stats, mask)


# -- angles ---------------------------------------------------------------------------------------------
def angle(a: PointLike, vertex: PointLike, c: PointLike) -> float:
    """Angle ``a-vertex-c`` in degrees, in ``[0, 180]`` (independent of spacing units)."""
    pa, pv, pc = _p(a), _p(vertex), _p(c)
    u, v = pa - pv, pc - pv
    if np.linalg.norm(u) == 0 or np.linalg.norm(v) == 0:
        raise ValueError("an angle needs both arms of non-zero length")
    return _angle_between(u, v)


def cobb_angle(line1_a: PointLike, line1_b: PointLike, line2_a: PointLike, line2_b: PointLike,
               normal: PointLike | None = None, across: PointLike | None = None) -> float:
    """Cobb angle in degrees, in ``[0, 180)``, between two lines (e.g. along the superior endplate of the
    upper end vertebra and the inferior endplate of the lower end vertebra).

    Both lines are projected onto the plane of the view (unit LPS ``normal``; when None the plane through
    both lines' directions is used) and each is oriented in the same sense *across the spine*: along
    ``across``, which defaults to the in-plane direction perpendicular to the patient's long axis (S),
    i.e. left-right on a coronal view and antero-posterior on a sagittal view. The Cobb angle is the angle
    between the two oriented lines: 0 for parallel endplates, and it grows past 90 degrees for severe
    curves instead of folding back to the acute angle. On a view without an in-plane across direction
    (axial) the second line is oriented to agree with the first, which gives the acute angle ``[0, 90]``.
    """
    d1 = _p(line1_b) - _p(line1_a)
    d2 = _p(line2_b) - _p(line2_a)
    if np.linalg.norm(d1) == 0 or np.linalg.norm(d2) == 0:
        raise ValueError("a Cobb angle needs two lines of non-zero length")
    n: np.ndarray | None
    if normal is not None:
        n = np.asarray(normal, dtype=np.float64)
        n = n / np.linalg.norm(n)
        d1 = d1 - np.dot(d1, n) * n
        d2 = d2 - np.dot(d2, n) * n
        if np.linalg.norm(d1) < 1e-12 or np.linalg.norm(d2) < 1e-12:
            raise ValueError("a Cobb line is perpendicular to the view plane")
    else:
        n_raw = np.cross(d1, d2)
        n = n_raw / np.linalg.norm(n_raw) if np.linalg.norm(n_raw) > 1e-12 else None
    if across is not None:
        ax = np.asarray(across, dtype=np.float64)
        if n is not None:
            ax = ax - np.dot(ax, n) * n
    elif n is not None:
        ax = np.cross(n, np.array([0.0, 0.0, 1.0]))
    else:
        ax = np.zeros(3)
    if np.linalg.norm(ax) < 1e-6:
        ax = d1  # no across-the-spine direction in this plane: orient by the first line (acute angle)
    if np.dot(d1, ax) < 0:
        d1 = -d1
    if np.dot(d2, ax) < 0:
        d2 = -d2
    result = _angle_between(d1, d2)
    return 0.0 if result >= 180.0 else result


# -- volume ---------------------------------------------------------------------------------------------
def ellipsoid_volume(a: float, b: float, c: float) -> float:
    """Ellipsoid volume ``pi/6 * a * b * c`` from three diameters, in the cube of their unit (mm3)."""
    for v in (a, b, c):
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"diameters must be finite and >= 0, got {a}, {b}, {c}")
    return math.pi / 6.0 * a * b * c


def ellipsoid_volume_ml(a_mm: float, b_mm: float, c_mm: float) -> float:
    """Ellipsoid volume in mL (cm3) from three diameters in mm: ``pi/6 * a * b * c / 1000``."""
    return ellipsoid_volume(a_mm, b_mm, c_mm) / 1000.0


# -- volumes and planes ---------------------------------------------------------------------------------
def slice_geometry(volume: object, slice_index: int) -> PlaneGeometry:
    """The :class:`PlaneGeometry` of acquired slice ``slice_index`` of a :class:`~imaging.volume.Volume`:
    display ``(x, y)`` = ``(column, row)`` of ``volume.array[slice_index]``; thickness = the slice
    spacing along the plane normal."""
    from imaging.volume import Volume

    if not isinstance(volume, Volume):
        raise TypeError("slice_geometry needs a Volume")
    n = volume.shape[0]
    if not 0 <= slice_index < n:
        raise IndexError(f"slice {slice_index} outside 0..{n - 1}")
    sx, sy, _ = volume.spacing
    origin = np.asarray(volume.slice_positions, dtype=np.float64)[slice_index]
    step = abs(float(np.dot(volume.affine[:3, 2], volume.normal))) or 1.0
    return PlaneGeometry(origin, volume.row_direction, volume.column_direction, sx, sy, step)


def value_unit(volume: object) -> str:
    """The unit of a volume's pixel values: ``"HU"`` on CT (or when the rescale says HU), else ``""``."""
    modality = str(getattr(volume, "modality", "")).upper()
    meta = getattr(volume, "metadata", None)
    units = str(getattr(meta, "rescale_units", "")).upper() if meta is not None else ""
    return HU if modality == "CT" or units == "HU" else ""


def probe(volume: object, lps: PointLike) -> float | None:
    """The value of the voxel nearest to an LPS point (modality units), or None outside the volume."""
    from imaging.volume import Volume

    if not isinstance(volume, Volume):
        raise TypeError("probe needs a Volume")
    cri = np.rint(volume.lps_to_index(_p(lps))).astype(int)
    return volume.value_at_index(int(cri[0]), int(cri[1]), int(cri[2]))
