"""The Cobb angle: between two lines (endplates) in the plane of the view, in degrees (see
:func:`imaging.measure.cobb_angle`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from pydicom.sr.codedict import codes

from imaging import measure
from imaging.measurement_kinds import (
    IconPolyline,
    KindDrawing,
    MeasurementKind,
    Points,
    SrGraphic,
    Stroke,
    ValueSpec,
    register_kind,
)
from imaging.measurement_kinds._shared import points_of

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Measurement


class CobbKind(MeasurementKind):
    key = "cobb"
    name = "Cobb angle"
    tool_label = "Cobb Angle"
    shortcut = "Shift+A"
    tooltip = ("Cobb angle (Shift+A): drag along the upper endplate, then along the lower endplate; the angle "
               "is measured in the plane of the view")
    point_count = (4, 4)
    point_meaning = "[line 1 start, line 1 end, line 2 start, line 2 end]"
    value_specs = (ValueSpec("cobb_angle", "angle", "Cobb angle", sr_concept=codes.SCT.CobbAngle),)
    icon = (IconPolyline(((3, 6), (15, 3))), IconPolyline(((5, 17), (17, 13))),
            IconPolyline(((9, 4.5), (11, 15)), dotted=True))

    def values(self, m: Measurement) -> list[measure.MeasuredValue]:
        p = points_of(m)
        return [measure.MeasuredValue("cobb_angle", measure.cobb_angle(p[0], p[1], p[2], p[3], normal=m.plane.normal),
                                      measure.DEG)]

    def value_lines(self, m: Measurement, values: Mapping[str, measure.MeasuredValue]) -> list[str]:
        return [f"Cobb {values['cobb_angle'].text()}"]

    def distinct_needed(self, index: int) -> bool:
        return index in (1, 3)

    def drawing_problem(self, points: Points, spacing_known: bool = True) -> str | None:
        if len(points) == 4 and (measure.distance(points[0], points[1]) == 0
                                 or measure.distance(points[2], points[3]) == 0):
            return "A Cobb angle needs two lines of non-zero length."
        return super().drawing_problem(points, spacing_known)

    def drawing(self, points: Points, complete: bool = True) -> KindDrawing:
        pts = [np.asarray(p, dtype=np.float64) for p in points]
        if not pts:
            return KindDrawing()
        strokes = [Stroke(np.array(pts[:2]))]
        if len(pts) >= 3:
            strokes.append(Stroke(np.array(pts[2:4])))
        if len(pts) >= 4:  # joins the two lines' middles: the angle is between the lines
            strokes.append(Stroke(np.array([(pts[0] + pts[1]) / 2, (pts[2] + pts[3]) / 2]), dashed=True))
        return KindDrawing(tuple(strokes), tuple(pts))

    def sr_coordinates(self, value_name: str, points: Points) -> list[SrGraphic]:
        pts = np.asarray(points, dtype=np.float64)
        return [SrGraphic("POLYLINE", pts[0:2]), SrGraphic("POLYLINE", pts[2:4])]


COBB = register_kind(CobbKind())
