"""The angle: between two arms meeting at a vertex, in degrees."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydicom.sr.codedict import codes

from imaging import measure
from imaging.measurement_kinds import (
    IconArc,
    IconPolyline,
    MeasurementKind,
    Points,
    ValueSpec,
    register_kind,
)
from imaging.measurement_kinds._shared import points_of

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Measurement


class AngleKind(MeasurementKind):
    key = "angle"
    name = "angle"
    tool_label = "Angle"
    shortcut = "A"
    tooltip = "Angle (A): drag the first arm to the vertex, then click the end of the second arm"
    point_count = (3, 3)
    point_meaning = "[arm 1 end, vertex, arm 2 end]"
    value_specs = (ValueSpec("angle", "angle", "Angle", sr_concept=codes.SCT.Angle),)
    icon = (IconPolyline(((16, 4), (4, 16), (17, 16))), IconArc(-1, 11, 10, 10, 0, 45))

    def values(self, m: Measurement) -> list[measure.MeasuredValue]:
        p = points_of(m)
        return [measure.MeasuredValue("angle", measure.angle(p[0], p[1], p[2]), measure.DEG)]

    def value_lines(self, m: Measurement, values: Mapping[str, measure.MeasuredValue]) -> list[str]:
        return [values["angle"].text()]

    def drawing_problem(self, points: Points, spacing_known: bool = True) -> str | None:
        if len(points) == 3 and (measure.distance(points[0], points[1]) == 0
                                 or measure.distance(points[1], points[2]) == 0):
            return "An angle needs two arms of non-zero length."
        return super().drawing_problem(points, spacing_known)


ANGLE = register_kind(AngleKind())
