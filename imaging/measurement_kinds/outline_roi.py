"""Polygon and freehand ROIs: a closed outline (clicked vertices, or a dragged path); area and the statistics
of the pixels inside."""

from __future__ import annotations

from collections.abc import Sequence

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
        # A POLYLINE closed by repeating the first point, as Cornerstone3D writes (and reads) planar contours
        pts = np.asarray(points, dtype=np.float64)
        return SrGraphic("POLYLINE", np.vstack([pts, pts[:1]]))

    def points_from_sr(self, graphics: Sequence[SrGraphic], normal: PointLike | None = None) -> np.ndarray:
        if len(graphics) != 1 or graphics[0].graphic_type not in ("POLYLINE", "POLYGON"):
            raise ValueError(f"a {self.name} is one POLYLINE or POLYGON")
        pts = np.asarray(graphics[0].points, dtype=np.float64).reshape(-1, 3)
        if len(pts) >= 2 and np.linalg.norm(pts[0] - pts[-1]) <= 1e-3:  # closed: the first point repeated
            pts = pts[:-1]
        self.check_points(pts)
        return pts


class PolygonRoiKind(OutlineRoiKind):
    key = "polygon_roi"
    name = "polygon ROI"
    tool_label = "Polygon ROI"
    shortcut = "P"
    tooltip = ("Polygon ROI (P): click the vertices; double-click, Enter or a click on the first vertex closes "
               "it; Backspace removes the last vertex")
    gesture = "polygon"
    handle_display = "on_focus"
    ohif_tool = "PlanarFreehandROI"  # OHIF has no polygon tool: its freehand contour shows the outline
    ohif_tool_shared = True
    ohif_tool_aliases = ("RectangleROI",)
    icon = (IconPolyline(((4, 14), (6, 4), (15, 6), (17, 15), (10, 17)), closed=True, vertex_dots=True),)


class FreehandRoiKind(OutlineRoiKind):
    key = "freehand_roi"
    name = "freehand ROI"
    tool_label = "Freehand ROI"
    shortcut = "F"
    tooltip = "Freehand ROI (F): press and drag around the region; releasing closes the outline"
    gesture = "freehand"
    ohif_tool = "PlanarFreehandROI"
    ohif_tool_aliases = ("SplineROI", "LivewireContour")
    icon = (IconCurve((5, 12), (((2, 5), (10, 1), (13, 5)), ((16, 8), (19, 10), (16, 15)),
                                ((13, 19), (7, 17), (5, 12)))),)

    def handles(self, points: Points) -> list[np.ndarray]:
        return []  # moved as a whole; its many points are not handles

    def edit_handle(self, points: Points, handle: int, new_point: PointLike,
                    normal: PointLike) -> list[np.ndarray]:
        raise ValueError(f"a {self.name} has no handle {handle}")


POLYGON_ROI = register_kind(PolygonRoiKind())
FREEHAND_ROI = register_kind(FreehandRoiKind())
