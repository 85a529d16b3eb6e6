"""Drawing and editing measurements: the Qt-free geometry and text behind the viewer's measurement tools.

The viewer (widgets/measure_tools.py, widgets/measurement_overlay.py) turns mouse positions into LPS
points (mm) and calls these functions; every value is then recomputed from the points by
:meth:`imaging.case.model.Measurement.values` (:mod:`imaging.measure`). Nothing here knows about pixels on
the screen except :func:`ellipse_from_corners`, which takes display pixel coordinates of a plane with its
:class:`~imaging.geometry.PlaneGeometry`.

* :data:`KIND_NAMES` / :func:`kind_title` -- how each measurement kind is named in undo entries and tables
  (from its spec in :mod:`imaging.measurement_kinds`, like everything here that differs between kinds);
* :func:`shown_on_plane` -- whether a measurement is drawn on a displayed plane (same series, parallel
  plane, every point within half a slice);
* :func:`short_axis_for`, :func:`edit_bidirectional` -- the bidirectional's short axis, kept perpendicular
  to the long axis while either is edited (as OHIF);
* :func:`ellipse_from_corners`, :func:`ellipse_handles`, :func:`edit_ellipse` -- an ellipse drawn by its
  bounding box and resized by its four axis handles;
* :func:`handle_points`, :func:`edit_handle`, :func:`translate` -- the handles of every kind and what
  dragging one (or the whole measurement) does;
* :func:`value_lines`, :func:`label_lines`, :func:`value_text` -- the text drawn beside a measurement and
  shown in the measurement list (0.1 precision, "px" when the series has no pixel spacing);
* :func:`drawing_problem` -- why a drawn shape cannot become a measurement (or None).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from imaging import measure
from imaging.geometry import PlaneGeometry
from imaging.measurement_kinds import KindNames, Points, kind_spec

if TYPE_CHECKING:  # pragma: no cover - the measurement kinds import this module's geometry
    from imaging.case.model import Measurement

__all__ = [
    "KIND_NAMES",
    "MIN_SEMI_AXIS_MM",
    "PARALLEL_COS",
    "SHORT_AXIS_FRACTION",
    "drawing_problem",
    "edit_bidirectional",
    "edit_ellipse",
    "edit_handle",
    "ellipse_from_corners",
    "ellipse_handles",
    "handle_points",
    "kind_name",
    "kind_title",
    "label_lines",
    "project_to_plane",
    "short_axis_for",
    "shown_on_plane",
    "translate",
    "value_lines",
    "value_text",
]

Point = np.ndarray
PointLike = Sequence[float] | np.ndarray

#: Lower-case names used in sentences and undo entries ("Add ellipse ROI", "Delete Cobb angle"): a live view
#: of the registered kinds' names.
KIND_NAMES: KindNames = KindNames()

#: A measurement is drawn on a plane only when its own plane is parallel to it within about 2 degrees.
PARALLEL_COS = math.cos(math.radians(2.0))

#: The short axis a new bidirectional gets: this fraction of the long axis on each side of the midpoint
#: (OHIF / cornerstone3D use a third), for the reader to adjust.
SHORT_AXIS_FRACTION = 1.0 / 3.0

#: The smallest semi-axis an ellipse handle can be dragged to (mm): an ellipse never degenerates.
MIN_SEMI_AXIS_MM = 0.05


def kind_name(kind: str) -> str:
    """``"ellipse ROI"``, ``"Cobb angle"``, ``"CC extent"``... (for undo entries: "Add " + name)."""
    return KIND_NAMES.get(kind, kind.replace("_", " "))


def kind_title(kind: str) -> str:
    """The name with a capital first letter, for tables: ``"Length"``, ``"Ellipse ROI"``, ``"CC extent"``."""
    name = kind_name(kind)
    return name[:1].upper() + name[1:]


def _p(point: PointLike) -> Point:
    return np.asarray(point, dtype=np.float64).reshape(3)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if n == 0:
        raise ValueError("zero-length direction")
    return v / n


# -- where a measurement is shown ------------------------------------------------------------------------
def shown_on_plane(m: Measurement, geometry: PlaneGeometry, series_uid: str | None,
                   tolerance: float | None = None) -> bool:
    """Whether ``m`` is drawn on the displayed plane ``geometry`` of the series ``series_uid``.

    It is when the measurement belongs to that series, its plane is parallel to the displayed plane
    (within about 2 degrees: :data:`PARALLEL_COS`) and every point lies within half a slice of it
    (``geometry.thickness / 2``, or ``tolerance`` mm). So an axial length shows on the axial view of the
    acquired series and on an axial reformat of the same slice, never on a sagittal view -- even one that
    happens to contain its two end points.
    """
    if (m.series_instance_uid or "") != (series_uid or ""):
        return False
    if abs(float(np.dot(np.asarray(m.plane.normal, dtype=np.float64), geometry.normal))) < PARALLEL_COS:
        return False
    return bool(np.all(geometry.contains(np.asarray(m.points, dtype=np.float64), tolerance)))


def project_to_plane(point: PointLike, origin: PointLike, normal: PointLike) -> Point:
    """``point`` moved along ``normal`` onto the plane through ``origin`` (keeps an edited measurement
    planar when the view's plane is a fraction of a slice away from the measurement's)."""
    p, o = _p(point), _p(origin)
    n = _unit(_p(normal))
    return p - float(np.dot(p - o, n)) * n


# -- bidirectional ---------------------------------------------------------------------------------------
def _long_frame(la: Point, lb: Point, normal: PointLike) -> tuple[Point, Point, float]:
    """Unit long-axis direction (in the plane), the in-plane perpendicular (normal x long), and length."""
    n = _unit(_p(normal))
    d = lb - la
    d = d - float(np.dot(d, n)) * n
    length = float(np.linalg.norm(d))
    if length == 0:
        raise ValueError("the long axis has zero length")
    u = d / length
    return u, np.cross(n, u), length


def short_axis_for(long_a: PointLike, long_b: PointLike, normal: PointLike,
                   fraction: float = SHORT_AXIS_FRACTION) -> tuple[Point, Point]:
    """A short axis perpendicular to the long axis ``long_a``-``long_b`` at its midpoint, in the plane of
    unit ``normal``, reaching ``fraction`` x the long axis on each side."""
    la, lb = _p(long_a), _p(long_b)
    _, perp, length = _long_frame(la, lb, normal)
    mid = (la + lb) / 2
    half = fraction * length
    return mid - half * perp, mid + half * perp


def _short_axis_frame(points: Points, normal: PointLike
                      ) -> tuple[float, float, float]:
    """Where the short axis crosses the long axis (fraction ``t`` of its length from its start) and the
    signed distances of the two short-axis ends from the long axis (along normal x long)."""
    la, lb, sa, sb = (_p(p) for p in points)
    u, perp, length = _long_frame(la, lb, normal)
    mid = (sa + sb) / 2
    t = float(np.dot(mid - la, u)) / length
    return t, float(np.dot(sa - la, perp)), float(np.dot(sb - la, perp))


def edit_bidirectional(points: Points, handle: int, new_point: PointLike,
                       normal: PointLike) -> list[Point]:
    """The four points of a bidirectional after dragging ``handle`` (0, 1: long axis ends; 2, 3: short
    axis ends) to ``new_point``, keeping the short axis perpendicular (OHIF behaviour):

    * a long-axis end moves; the short axis keeps its place along the long axis (as a fraction of its
      length) and the distance of each of its ends from it, and turns with it;
    * a short-axis end moves: its distance from the long axis follows the mouse (it cannot cross to the
      other end's side), and the short axis slides along the long axis to where the mouse is (kept
      between the long axis's ends); the other end keeps its distance.
    """
    pts = [_p(p) for p in points]
    if len(pts) != 4:
        raise ValueError("a bidirectional has 4 points")
    p = _p(new_point)
    t, da, db = _short_axis_frame(pts, normal)
    if handle in (0, 1):
        pts[handle] = p
        la, lb = pts[0], pts[1]
        _, perp, _ = _long_frame(la, lb, normal)
        cross = la + t * (lb - la)
        return [la, lb, cross + da * perp, cross + db * perp]
    if handle not in (2, 3):
        raise ValueError(f"a bidirectional has handles 0..3, not {handle}")
    la, lb = pts[0], pts[1]
    u, perp, length = _long_frame(la, lb, normal)
    t_new = min(max(float(np.dot(p - la, u)) / length, 0.0), 1.0)
    d_new = float(np.dot(p - la, perp))
    other = db if handle == 2 else da
    mine = da if handle == 2 else db
    side = -1.0 if other > 0 else 1.0 if other < 0 else (1.0 if mine >= 0 else -1.0)
    d_new = side * max(side * d_new, 0.0)
    cross = la + t_new * (lb - la)
    d_a, d_b = (d_new, db) if handle == 2 else (da, d_new)
    return [la, lb, cross + d_a * perp, cross + d_b * perp]


# -- ellipse ---------------------------------------------------------------------------------------------
def ellipse_from_corners(geometry: PlaneGeometry, corner_a: PointLike, corner_b: PointLike) -> list[Point]:
    """The ellipse inscribed in the display-pixel rectangle with opposite corners ``corner_a`` and
    ``corner_b`` (x, y) on ``geometry``: ``[centre, end of the horizontal semi-axis, end of the vertical
    semi-axis]`` in LPS mm (the model's point order). Raises ValueError when the rectangle is flat."""
    a = np.asarray(corner_a, dtype=np.float64)
    b = np.asarray(corner_b, dtype=np.float64)
    if abs(b[0] - a[0]) < 1e-9 or abs(b[1] - a[1]) < 1e-9:
        raise ValueError("an ellipse needs a width and a height")
    c = (a + b) / 2
    return [geometry.to_lps(c), geometry.to_lps((b[0], c[1])), geometry.to_lps((c[0], b[1]))]


def _ellipse_frame(points: Points) -> tuple[Point, Point, float, Point, float]:
    c, e1, e2 = (_p(p) for p in points)
    a_vec = e1 - c
    a = float(np.linalg.norm(a_vec))
    ua = _unit(a_vec)
    b_vec = e2 - c
    b_perp = b_vec - float(np.dot(b_vec, ua)) * ua
    b = float(np.linalg.norm(b_perp))
    ub = _unit(b_perp)
    return c, ua, a, ub, b


def ellipse_handles(points: Points) -> list[Point]:
    """The four handles of an ellipse ``[centre, axis-1 end, axis-2 end]``: both ends of each axis
    (``c + a ua``, ``c - a ua``, ``c + b ub``, ``c - b ub``; the second axis made perpendicular, as the
    area is computed)."""
    c, ua, a, ub, b = _ellipse_frame(points)
    return [c + a * ua, c - a * ua, c + b * ub, c - b * ub]


def edit_ellipse(points: Points, handle: int, new_point: PointLike) -> list[Point]:
    """The ellipse after dragging handle ``handle`` (see :func:`ellipse_handles`) to ``new_point``: the
    opposite handle stays put, the dragged axis follows the mouse along its direction, the centre moves to
    the middle of the two and the other axis keeps its length (at least :data:`MIN_SEMI_AXIS_MM`)."""
    c, ua, a, ub, b = _ellipse_frame(points)
    p = _p(new_point)
    if handle not in (0, 1, 2, 3):
        raise ValueError(f"an ellipse has handles 0..3, not {handle}")
    axis, length = (ua, a) if handle in (0, 1) else (ub, b)
    sign = 1.0 if handle in (0, 2) else -1.0
    opposite = c - sign * length * axis
    reach = sign * float(np.dot(p - opposite, axis))  # new diameter along the axis, towards the handle
    half = max(reach / 2.0, MIN_SEMI_AXIS_MM)
    centre = opposite + sign * half * axis
    if handle in (0, 1):
        return [centre, centre + half * ua, centre + b * ub]
    return [centre, centre + a * ua, centre + half * ub]


# -- handles of every kind -------------------------------------------------------------------------------
def handle_points(kind: str, points: Points) -> list[Point]:
    """The draggable handles of a measurement (LPS), from its kind's spec: its points, except an ellipse (its
    four axis ends) and a freehand ROI (none: it is moved as a whole)."""
    return kind_spec(kind).handles(points)


def edit_handle(kind: str, points: Points, handle: int, new_point: PointLike,
                normal: PointLike) -> list[Point]:
    """The points after dragging handle ``handle`` (index into :func:`handle_points`) to ``new_point``
    (LPS, on the measurement's plane), from its kind's spec."""
    return kind_spec(kind).edit_handle(points, handle, new_point, normal)


def translate(points: Points, delta: PointLike) -> list[Point]:
    """Every point moved by ``delta`` (LPS mm)."""
    d = _p(delta)
    return [_p(p) + d for p in points]


# -- checks ----------------------------------------------------------------------------------------------
def drawing_problem(kind: str, points: Points, spacing_known: bool = True) -> str | None:
    """Why these drawn points cannot make a ``kind`` measurement (a sentence for the reader), or None."""
    return kind_spec(kind).drawing_problem([_p(p) for p in points], spacing_known)


# -- text ------------------------------------------------------------------------------------------------
def _values(m: Measurement) -> dict[str, measure.MeasuredValue] | None:
    try:
        return {v.name: v for v in m.values()}
    except ValueError:
        return None


def value_lines(m: Measurement) -> list[str]:
    """The measurement's values as drawn beside it (0.1 precision; px when the series has no spacing), as its
    kind's spec writes them:

    length ``"34.2 mm"``; bidirectional ``"L 34.2 mm  S 21.0 mm"``; CC extent ``"CC 45.3 mm"``; angle
    ``"34.5°"``; Cobb ``"Cobb 12.3°"``; probe ``"42.0 HU"`` (``"Value 430.0"`` on MR); ROIs
    ``"Area 123.4 mm²"`` and ``"Mean 42.1 HU  SD 3.2 HU"``.
    """
    vals = _values(m)
    if vals is None:
        return ["\u2014"]
    return kind_spec(m.kind).value_lines(m, vals)


def label_lines(m: Measurement, finding_label: str = "") -> list[str]:
    """What is drawn beside a measurement: its label (when it has one) and the finding it belongs to
    ("Length 3 \u00b7 Lesion 1"; a marked dimension says so), then :func:`value_lines`."""
    head = m.label
    if finding_label:
        head = f"{head} \u00b7 {finding_label}" if head else finding_label
        if m.finding_dimension:
            head += " dimensions"
    return ([head] if head else []) + value_lines(m)


def value_text(m: Measurement) -> str:
    """The values on one line (the measurement list's Value column); ROI statistics include min and max."""
    lines = value_lines(m)
    vals = _values(m)
    if vals is not None:
        lines.extend(kind_spec(m.kind).extra_value_lines(m, vals))
    return ";  ".join(lines)
