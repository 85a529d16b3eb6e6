"""The ellipse ROI: an ellipse drawn by its bounding box; area and the statistics of the pixels inside."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from imaging import measure
from imaging.measure_edit import edit_ellipse, ellipse_from_corners, ellipse_handles
from imaging.measurement_kinds import (
    IconEllipse,
    KindDrawing,
    PointLike,
    Points,
    SrGraphic,
    Stroke,
    register_kind,
)
from imaging.measurement_kinds._shared import AREA_VALUE, STATISTICS_VALUES, RegionKind

if TYPE_CHECKING:  # pragma: no cover
    from imaging.geometry import PlaneGeometry

#: Points an ellipse's outline is drawn with on screen (its statistics use the exact ellipse).
DRAWN_SAMPLES = 96


class EllipseRoiKind(RegionKind):
    key = "ellipse_roi"
    name = "ellipse ROI"
    tool_label = "Ellipse ROI"
    shortcut = "E"
    tooltip = "Ellipse ROI (E): drag from corner to corner; area and pixel statistics"
    point_count = (3, 3)
    placed_points = 2
    point_meaning = "[centre, end of semi-axis 1, end of semi-axis 2]"
    value_specs = (AREA_VALUE, *STATISTICS_VALUES)
    region_shape = "ellipse"
    handle_display = "on_focus"
    icon = (IconEllipse(10, 10, 7.5, 5),)

    def area(self, points: Points) -> float:
        return measure.ellipse_area(points[0], points[1], points[2])

    def check_shape(self, points: Points) -> None:
        measure.ellipse_area(points[0], points[1], points[2])  # raises for degenerate axes

    def distinct_needed(self, index: int) -> bool:
        return True

    def build_points(self, geometry: PlaneGeometry, placed: Sequence[PointLike]) -> list[np.ndarray]:
        return ellipse_from_corners(geometry, placed[0], placed[1])

    def drawing_problem(self, points: Points, spacing_known: bool = True) -> str | None:
        if len(points) == 3:
            try:
                self.check_shape(points)
            except ValueError:
                return "The ellipse needs a width and a height."
        return super().drawing_problem(points, spacing_known)

    def handles(self, points: Points) -> list[np.ndarray]:
        return ellipse_handles(points)

    def edit_handle(self, points: Points, handle: int, new_point: PointLike,
                    normal: PointLike) -> list[np.ndarray]:
        return edit_ellipse(points, handle, new_point)

    def drawing(self, points: Points, complete: bool = True) -> KindDrawing:
        pts = [np.asarray(p, dtype=np.float64) for p in points]
        if complete and len(pts) == 3:
            try:
                outline = measure.ellipse_outline(pts[0], pts[1], pts[2], n=DRAWN_SAMPLES)
            except ValueError:
                return KindDrawing()
            return KindDrawing((Stroke(outline, closed=True),), tuple(self.handles(pts)))
        return super().drawing(pts, complete)  # the bounding box being dragged: its corners

    def outline(self, points: Points) -> np.ndarray:
        return measure.ellipse_outline(points[0], points[1], points[2])

    def sr_region(self, points: Points) -> SrGraphic:
        c, e1, e2 = (np.asarray(p, dtype=np.float64) for p in points)
        a, b = e1 - c, e2 - c
        b = b - np.dot(b, a) / np.dot(a, a) * a  # make the axes perpendicular, as the area does
        if np.linalg.norm(b) > np.linalg.norm(a):
            a, b = b, a
        return SrGraphic("ELLIPSE", np.array([c - a, c + a, c - b, c + b]))  # major axis ends, then minor


ELLIPSE_ROI = register_kind(EllipseRoiKind())
