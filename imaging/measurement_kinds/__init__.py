"""Measurement kinds: one spec per kind, registered by its key (Qt-free).

Everything the program knows about one sort of measurement lives in one :class:`MeasurementKind` object: the
points it needs and what they mean, the values it gives (names, units, SR concepts), how a tool places its
points, its handles and what dragging one does, the lines it is drawn with (LPS, Qt-free), its toolbar icon
(a few primitives in a 20 x 20 box), how its values are written as text, in the CSV and in the DICOM SR. The
model (:class:`imaging.case.model.Measurement`), the editing geometry (:mod:`imaging.measure_edit`), the
viewer's tools, overlay and list panel (``widgets/``) and the exports read the spec; none of them lists the
kinds. A new kind is one module that subclasses :class:`MeasurementKind` and registers one instance::

    from imaging.measurement_kinds import MeasurementKind, ValueSpec, register_kind

    class HeightRatio(MeasurementKind):
        key = "height_ratio"
        name = "height ratio"
        ...
        def values(self, m): ...

    register_kind(HeightRatio())

The built-in kinds (length, bidirectional, ellipse / polygon / freehand ROI, angle, Cobb angle, probe, CC
extent: modules beside this one) are registered the first time the registry is read, in toolbar order; a
kind registered later comes after them.

Coordinates: points are patient LPS millimetres (``(3,)`` arrays or triples); display points (the tools'
clicks) are the displayed plane's pixel ``(x, y)``, mapped to LPS with its
:class:`~imaging.geometry.PlaneGeometry`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

from imaging import measure
from imaging.coding import Code

if TYPE_CHECKING:  # pragma: no cover - the model imports this module
    from imaging.case.model import Measurement
    from imaging.geometry import PlaneGeometry

__all__ = [
    "BUILTIN_ORDER",
    "ICON_BOX",
    "Dimension",
    "IconArc",
    "IconCurve",
    "IconEllipse",
    "IconPolyline",
    "IconPrimitive",
    "KindDrawing",
    "KindNames",
    "PointLike",
    "Points",
    "MeasurementKind",
    "SrGraphic",
    "Stroke",
    "ValueSpec",
    "kind_keys",
    "kind_spec",
    "register_kind",
    "registered_kinds",
    "unregister_kind",
]

PointLike = Sequence[float] | np.ndarray
Point = np.ndarray
Points = Sequence[PointLike] | np.ndarray
"""LPS points: a sequence of (3,) points or an (N, 3) array."""

Dimension = Literal["length", "area", "volume", "angle", "intensity", "count", "ratio"]
"""What a value measures: its unit follows (length mm/px, area mm2/px2, volume mL/px3, angle deg, intensity
HU or arbitrary units, count voxels, ratio 1)."""


@dataclass(frozen=True)
class ValueSpec:
    """One value a kind gives (:class:`imaging.measure.MeasuredValue` ``name``): what it measures, its
    title, and how the DICOM SR codes it. ``sr_concept`` None on an ``intensity`` value means "the image
    intensity concept" (Attenuation Coefficient in HU on CT, a local Image intensity concept otherwise);
    ``sr_derivation`` is the statistic (Mean, SD...) of such a value; ``in_sr`` False leaves it out of the
    SR (it is in the CSV)."""

    name: str
    dimension: Dimension
    title: str = ""
    sr_concept: Code | None = None
    sr_derivation: Code | None = None
    in_sr: bool = True


@dataclass(frozen=True, eq=False)
class Stroke:
    """A line of a drawn measurement: a polyline through ``points`` ((N, 3) LPS mm), ``closed`` for an
    outline, ``dashed`` for a construction line (not picked by the mouse, not in key images),
    ``end_ticks`` for short caliper ticks across both ends (their size is fixed on screen)."""

    points: np.ndarray
    closed: bool = False
    dashed: bool = False
    end_ticks: bool = False


@dataclass(frozen=True, eq=False)
class KindDrawing:
    """How a measurement (or a drawing in progress) looks, in LPS: its strokes, its handles (the points the
    mouse can drag, in :meth:`MeasurementKind.handles` order) and an optional ``marker`` point drawn as a
    small ringed cross of fixed screen size (the probe)."""

    strokes: tuple[Stroke, ...] = ()
    handles: tuple[np.ndarray, ...] = ()
    marker: np.ndarray | None = None


@dataclass(frozen=True)
class SrGraphic:
    """A SCOORD3D graphic of the DICOM SR: its graphic type and its (N, 3) LPS points (frame of reference
    of the measurement's series)."""

    graphic_type: Literal["POINT", "POLYLINE", "POLYGON", "ELLIPSE"]
    points: np.ndarray


# -- icons: a few primitives in a 20 x 20 box, x right, y down; drawn with round caps, no fill ------------
ICON_BOX = 20.0


@dataclass(frozen=True)
class IconPolyline:
    """Straight segments through ``points``; ``closed`` joins the last to the first, ``dotted`` draws it
    dotted, ``vertex_dots`` puts a small filled dot on every point."""

    points: tuple[tuple[float, float], ...]
    closed: bool = False
    dotted: bool = False
    vertex_dots: bool = False


@dataclass(frozen=True)
class IconEllipse:
    """An ellipse centred at ``(cx, cy)`` with radii ``rx``, ``ry``."""

    cx: float
    cy: float
    rx: float
    ry: float


@dataclass(frozen=True)
class IconArc:
    """An arc of the ellipse inscribed in the box ``(x, y, width, height)``, from ``start_deg`` (0 = 3
    o'clock, counter-clockwise) over ``span_deg``."""

    x: float
    y: float
    width: float
    height: float
    start_deg: float
    span_deg: float


@dataclass(frozen=True)
class IconCurve:
    """A path of cubic Bézier segments from ``start``: each segment is (control 1, control 2, end)."""

    start: tuple[float, float]
    segments: tuple[tuple[tuple[float, float], tuple[float, float], tuple[float, float]], ...]


IconPrimitive = IconPolyline | IconEllipse | IconArc | IconCurve


def _p(point: PointLike) -> Point:
    return np.asarray(point, dtype=np.float64).reshape(3)


def _points(points: Points) -> list[Point]:
    return [_p(q) for q in points]


class MeasurementKind:
    """The spec of one measurement kind. Subclass it, set the class attributes, implement :meth:`values`
    (and override whichever behaviour differs from the defaults), then :func:`register_kind` an instance.

    Identity and wording
        ``key`` (stored in ``Measurement.kind``, lower case, e.g. ``"cc_extent"``); ``name`` in sentences and
        undo entries ("Add CC extent"); ``tool_label`` on the toolbar ("CC Extent"); ``shortcut`` (a key
        sequence such as ``"X"`` or ``"Shift+A"``, unique among kinds); ``tooltip``.
    Points
        ``point_count`` (exact ``(n, n)`` or at least ``(n, None)``) and ``point_meaning`` (their order).
    Values
        ``value_specs`` (every value :meth:`values` may give, in order); :meth:`values`; :meth:`value_lines`
        (the text beside the measurement).
    Drawing with a tool
        ``gesture``: ``"points"`` (click or drag ``placed_points`` display points; :meth:`build_points` makes
        the LPS points from them), ``"polygon"`` (click vertices, close on the first) or ``"freehand"``
        (press and drag the outline); ``orientations`` the planes it may be drawn on (None: any);
        :meth:`distinct_needed`, :meth:`drawing_problem`.
    Editing
        :meth:`handles` and :meth:`edit_handle` (default: every point is a handle that moves alone).
    Look
        :meth:`drawing` (strokes in LPS), ``handle_display`` ("always", "on_focus": only when hovered or
        selected, "never": the marker is the handle), ``label_anchor`` (the label beside the right-most
        "handles", the "outline" or the "marker"), ``icon``.
    Voxels
        ``voxel_stats``: "none", "region" (statistics of the pixels inside :meth:`outline`; ``region_shape``
        chooses the mask rule) or "point" (the voxel value under the single point).
    Exports
        :meth:`csv_measurement_type`; :meth:`sr_region` (a planar ROI: TID 1410 with that region) or
        :meth:`sr_coordinates` (TID 1501 / TID 300: the SCOORD3D of each value); ``sr_tracking_name``.
    """

    key: ClassVar[str] = ""
    name: ClassVar[str] = ""
    tool_label: ClassVar[str] = ""
    shortcut: ClassVar[str] = ""
    tooltip: ClassVar[str] = ""
    point_count: ClassVar[tuple[int, int | None]] = (2, 2)
    point_meaning: ClassVar[str] = ""
    value_specs: ClassVar[tuple[ValueSpec, ...]] = ()
    icon: ClassVar[tuple[IconPrimitive, ...]] = ()
    gesture: ClassVar[Literal["points", "polygon", "freehand"]] = "points"
    placed_points: ClassVar[int | None] = None  # display points a "points" gesture places (None: point_count)
    orientations: ClassVar[tuple[str, ...] | None] = None
    voxel_stats: ClassVar[Literal["none", "region", "point"]] = "none"
    region_shape: ClassVar[Literal["ellipse", "polygon"]] = "polygon"
    handle_display: ClassVar[Literal["always", "on_focus", "never"]] = "always"
    label_anchor: ClassVar[Literal["handles", "outline", "marker"]] = "handles"
    #: which of a finding's dimensions a measurement of this kind gives when the reader marks it so
    #: (``Measurement.finding_dimension``): "ap_lr" (a bidirectional), "cc" (a CC extent), None (cannot)
    finding_dimension: ClassVar[Literal["ap_lr", "cc"] | None] = None

    # -- identity ------------------------------------------------------------------------------------------
    @property
    def title(self) -> str:
        """The name with a capital first letter, for tables: ``"Length"``, ``"Ellipse ROI"``."""
        return self.name[:1].upper() + self.name[1:]

    @property
    def has_area(self) -> bool:
        """Whether the kind is a region of interest (area and voxel statistics)."""
        return self.voxel_stats == "region"

    def __repr__(self) -> str:
        return f"<measurement kind {self.key!r}>"

    # -- points --------------------------------------------------------------------------------------------
    def check_points(self, points: Points) -> None:
        """Raise ValueError when ``points`` cannot make this kind (count; :meth:`check_shape`)."""
        lo, hi = self.point_count
        n = len(points)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if hi == lo else f"at least {lo}"
            raise ValueError(f"a {self.key} measurement needs {want} points {self.point_meaning}, got {n}")
        self.check_shape(points)

    def check_shape(self, points: Points) -> None:
        """Raise ValueError for points the kind's values cannot be computed from (default: none)."""

    def canonical_points(self, points: Points) -> list[Point] | None:
        """The points in the order the kind stores them, or None when they already are (default). A
        bidirectional stores its long axis first whatever the reader dragged."""
        return None

    # -- values --------------------------------------------------------------------------------------------
    def values(self, m: Measurement) -> list[measure.MeasuredValue]:
        """The measurement's values at full precision (lengths in mm, px when the series has no pixel
        spacing; angles in degrees), recomputed from ``m.points`` (and ``m.stats`` for voxel values)."""
        raise NotImplementedError(f"measurement kind {self.key!r} does not compute its values")

    def value_spec(self, name: str) -> ValueSpec | None:
        return next((v for v in self.value_specs if v.name == name), None)

    def value_lines(self, m: Measurement, values: Mapping[str, measure.MeasuredValue]) -> list[str]:
        """The values as drawn beside the measurement (0.1 precision). Default: one ``"Title 12.3 mm"`` per
        value."""
        return [str(v) for v in values.values()]

    def extra_value_lines(self, m: Measurement, values: Mapping[str, measure.MeasuredValue]) -> list[str]:
        """Lines the measurement list adds after :meth:`value_lines` (e.g. an ROI's min and max)."""
        return []

    # -- drawing with a tool ----------------------------------------------------------------------------------
    @property
    def points_to_place(self) -> int | None:
        """How many display points a "points" gesture places (None: until the reader closes the outline)."""
        if self.gesture != "points":
            return None
        if self.placed_points is not None:
            return self.placed_points
        lo, hi = self.point_count
        return hi if hi == lo else None

    def distinct_needed(self, index: int) -> bool:
        """Whether placed point ``index`` must differ from the one before it (it ends a segment)."""
        return index >= 1

    def build_points(self, geometry: PlaneGeometry, placed: Sequence[PointLike]) -> list[Point]:
        """The measurement's LPS points from the placed display points (default: each mapped). Raises
        ValueError when they cannot make one."""
        return [geometry.to_lps(np.asarray(p, dtype=np.float64)) for p in placed]

    def orientation_refusal(self, orientation: str) -> str | None:
        """Why the kind cannot be drawn on a view of ``orientation`` (a sentence), or None."""
        if self.orientations is None or orientation in self.orientations:
            return None
        planes = " or ".join(self.orientations)
        return f"The {self.name} is measured on a {planes} view; this view is {orientation or 'empty'}."

    def drawing_problem(self, points: Points, spacing_known: bool = True) -> str | None:
        """Why these drawn LPS points cannot make a measurement of this kind (a sentence), or None."""
        try:
            self.check_points(points)
        except ValueError as exc:
            return f"The {self.name} cannot be made: {exc}."
        return None

    # -- editing ---------------------------------------------------------------------------------------------
    def handles(self, points: Points) -> list[Point]:
        """The draggable handles (LPS). Default: the points."""
        return _points(points)

    def edit_handle(self, points: Points, handle: int, new_point: PointLike,
                    normal: PointLike) -> list[Point]:
        """The points after dragging handle ``handle`` to ``new_point`` (LPS, on the measurement's plane of
        unit ``normal``). Default: that point moves alone."""
        pts = _points(points)
        if not 0 <= handle < len(pts):
            raise ValueError(f"a {self.name} has no handle {handle}")
        pts[handle] = _p(new_point)
        return pts

    # -- look ------------------------------------------------------------------------------------------------
    def drawing(self, points: Points, complete: bool = True) -> KindDrawing:
        """Strokes and handles of a measurement (``complete``) or of a drawing in progress (fewer points).
        Default: a polyline through the points, each a handle."""
        pts = _points(points)
        if not pts:
            return KindDrawing()
        return KindDrawing((Stroke(np.array(pts)),), tuple(self.handles(pts) if complete else pts))

    def outline(self, points: Points) -> np.ndarray:
        """The region's outline, (N, 3) LPS (region kinds)."""
        return np.asarray(points, dtype=np.float64).reshape(-1, 3)

    # -- exports ---------------------------------------------------------------------------------------------
    def csv_measurement_type(self, value_name: str) -> str:
        """The CSV's ``measurement_type`` of a value: the key alone for the kind's own value (``length``),
        else ``key.value`` (``bidirectional.long_axis``)."""
        return self.key if value_name == self.key else f"{self.key}.{value_name}"

    @property
    def sr_tracking_name(self) -> str:
        """The start of the SR tracking identifier ("<name>: <label>")."""
        return self.key

    def sr_region(self, points: Points) -> SrGraphic | None:
        """For a planar ROI (SR TID 1410), its region; None for other kinds (TID 1501 with TID 300)."""
        return None

    def sr_coordinates(self, value_name: str, points: Points) -> list[SrGraphic]:
        """The SCOORD3D graphics a value refers to (default: a POLYLINE through every point)."""
        return [SrGraphic("POLYLINE", np.asarray(points, dtype=np.float64).reshape(-1, 3))]

    def sr_values(self, values: Sequence[measure.MeasuredValue]) -> list[tuple[ValueSpec, measure.MeasuredValue]]:
        """The values the SR carries, each with its spec (values without a spec or ``in_sr`` False are left
        out)."""
        out = []
        for v in values:
            spec = self.value_spec(v.name)
            if spec is not None and spec.in_sr:
                out.append((spec, v))
        return out


# -- the registry -------------------------------------------------------------------------------------------
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_KINDS: dict[str, MeasurementKind] = {}
BUILTIN_ORDER = ("length", "bidirectional", "ellipse_roi", "polygon_roi", "freehand_roi", "angle", "cobb", "probe",
                 "cc_extent")
"""The built-in kinds in toolbar order (kinds registered later follow them in registration order)."""
_builtins_loaded = False
_lock = threading.RLock()


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _lock:
        if _builtins_loaded:
            return
        _builtins_loaded = True
        import imaging.measurement_kinds.builtin  # noqa: F401 - registers the built-in kinds


def register_kind(kind: MeasurementKind, *, replace: bool = False) -> MeasurementKind:
    """Add a kind to the registry (returns it). Raises ValueError for a malformed spec, a key already
    registered (unless ``replace``) or a shortcut another kind uses."""
    if not isinstance(kind, MeasurementKind):
        raise TypeError(f"register_kind needs a MeasurementKind, got {type(kind).__name__}")
    _load_builtins()
    if not _KEY.match(kind.key):
        raise ValueError(f"a measurement kind key is lower-case letters, digits and _ (at most 40), got {kind.key!r}")
    if not kind.name or not kind.tool_label:
        raise ValueError(f"measurement kind {kind.key!r} needs a name and a tool_label")
    lo, hi = kind.point_count
    if lo < 1 or (hi is not None and hi < lo):
        raise ValueError(f"measurement kind {kind.key!r} has an impossible point_count {kind.point_count}")
    names = [v.name for v in kind.value_specs]
    if len(set(names)) != len(names):
        raise ValueError(f"measurement kind {kind.key!r} lists a value name twice: {names}")
    with _lock:
        if kind.key in _KINDS and not replace:
            raise ValueError(f"measurement kind {kind.key!r} is already registered")
        clash = next((k for k in _KINDS.values() if k.key != kind.key and kind.shortcut
                      and k.shortcut.lower() == kind.shortcut.lower()), None)
        if clash is not None:
            raise ValueError(f"shortcut {kind.shortcut!r} of {kind.key!r} is the {clash.name} tool's")
        _KINDS[kind.key] = kind
    return kind


def unregister_kind(key: str) -> None:
    """Remove a kind (tests that register their own). Measurements of it no longer validate."""
    with _lock:
        _KINDS.pop(key, None)


def kind_spec(key: str) -> MeasurementKind:
    """The registered kind ``key``; ValueError naming the known kinds when there is none."""
    _load_builtins()
    try:
        return _KINDS[key]
    except (KeyError, TypeError):
        raise ValueError(f"unknown measurement kind {key!r}; known kinds: {', '.join(_KINDS)}") from None


def registered_kinds() -> tuple[MeasurementKind, ...]:
    """Every registered kind, in toolbar order (the built-in kinds first, then in registration order)."""
    _load_builtins()
    with _lock:
        kinds = list(_KINDS.values())
    rank = {key: i for i, key in enumerate(BUILTIN_ORDER)}
    return tuple(sorted(kinds, key=lambda k: rank.get(k.key, len(rank))))  # stable: the rest in registration order


def kind_keys() -> tuple[str, ...]:
    """The keys of :func:`registered_kinds`."""
    return tuple(k.key for k in registered_kinds())


class KindNames(Mapping[str, str]):
    """A live read-only mapping ``key -> name`` over the registry (``"ellipse_roi" -> "ellipse ROI"``)."""

    def __init__(self, get: Callable[[MeasurementKind], str] = lambda k: k.name) -> None:
        self._get = get

    def __getitem__(self, key: str) -> str:
        try:
            return self._get(kind_spec(key))
        except ValueError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(kind_keys())

    def __len__(self) -> int:
        return len(registered_kinds())
