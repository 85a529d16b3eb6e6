"""Polygon and freehand ROIs: a closed outline (clicked vertices, or a dragged path); area and the statistics
of the pixels inside."""

from __future__ import annotations

import numpy as np

from imaging import measure
from imaging.measurement_kinds import (
    IconCurve,
    IconPolyline,
    KindDrawing,
    PointLike,
    Points,
    SrGraphic,
    Stroke,
    register_kind,
)
from imaging.measurement_kinds._shared import AREA_VALUE, STATISTICS_VALUES, RegionKind


class OutlineRoiKind(RegionKind):
    """An ROI whose points are its outline's vertices (closing edge implied)."""

    point_count = (3, None)
    point_meaning = "the outline's vertices (closing edge implied)"
    value_specs = (AREA_VALUE, *STATISTICS_VALUES)

    def drawing_problem(self, points: Points, spacing_known: bool = True) -> str | None:
        if len(points) < 3:
            return f"A {self.name} needs at least 3 points."
        if measure.polygon_area(np.asarray(points, dtype=np.float64)) <= 1e-9:
            return f"The {self.name} encloses no area ({measure.length_unit(spacing_known)})."
        return super().drawing_problem(points, spacing_known)

    def drawing(self, points: Points, complete: bool = True) -> KindDrawing:
        pts = [np.asarray(p, dtype=np.float64) for p in points]
        if not pts:
            return KindDrawing()
        strokes = [Stroke(np.array(pts), closed=complete)]
        if not complete and len(pts) >= 3:
            strokes.append(Stroke(np.array([pts[-1], pts[0]]), dashed=True))
        return KindDrawing(tuple(strokes), tuple(self.handles(pts)))

    def sr_region(self, points: Points) -> SrGraphic:
        pts = np.asarray(points, dtype=np.float64)
        return SrGraphic("POLYGON", np.vstack([pts, pts[:1]]))  # closed: the first point repeated


class PolygonRoiKind(OutlineRoiKind):
    key = "polygon_roi"
    name = "polygon ROI"
    tool_label = "Polygon ROI"
    shortcut = "P"
    tooltip = ("Polygon ROI (P): click the vertices; double-click, Enter or a click on the first vertex closes "
               "it; Backspace removes the last vertex")
    gesture = "polygon"
    handle_display = "on_focus"
    icon = (IconPolyline(((4, 14), (6, 4), (15, 6), (17, 15), (10, 17)), closed=True, vertex_dots=True),)


class FreehandRoiKind(OutlineRoiKind):
    key = "freehand_roi"
    name = "freehand ROI"
    tool_label = "Freehand ROI"
    shortcut = "F"
    tooltip = "Freehand ROI (F): press and drag around the region; releasing closes the outline"
    gesture = "freehand"
    icon = (IconCurve((5, 12), (((2, 5), (10, 1), (13, 5)), ((16, 8), (19, 10), (16, 15)),
                                ((13, 19), (7, 17), (5, 12)))),)

    def handles(self, points: Points) -> list[np.ndarray]:
        return []  # moved as a whole; its many points are not handles

    def edit_handle(self, points: Points, handle: int, new_point: PointLike,
                    normal: PointLike) -> list[np.ndarray]:
        raise ValueError(f"a {self.name} has no handle {handle}")


POLYGON_ROI = register_kind(PolygonRoiKind())
FREEHAND_ROI = register_kind(FreehandRoiKind())
