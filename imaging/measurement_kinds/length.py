"""The length measurement: the distance between two points (LPS mm)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydicom.sr.codedict import codes

from imaging import measure
from imaging.measurement_kinds import IconPolyline, MeasurementKind, Points, ValueSpec, register_kind
from imaging.measurement_kinds._shared import points_of, zero_length_problem

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Measurement


class LengthKind(MeasurementKind):
    key = "length"
    name = "length"
    tool_label = "Length"
    shortcut = "L"
    tooltip = "Length (L): drag, or click both ends"
    point_count = (2, 2)
    point_meaning = "[start, end]"
    value_specs = (ValueSpec("length", "length", "Length", sr_concept=codes.SCT.Length),)
    icon = (IconPolyline(((4, 16), (16, 4))), IconPolyline(((2.6, 14.6), (5.4, 17.4))),
            IconPolyline(((14.6, 2.6), (17.4, 5.4))))

    def values(self, m: Measurement) -> list[measure.MeasuredValue]:
        p = points_of(m)
        return [measure.segment_length(p[0], p[1], m.pixel_spacing_known)]

    def value_lines(self, m: Measurement, values: Mapping[str, measure.MeasuredValue]) -> list[str]:
        return [values["length"].text()]

    def drawing_problem(self, points: Points, spacing_known: bool = True) -> str | None:
        return zero_length_problem(self.name, points) or super().drawing_problem(points, spacing_known)


LENGTH = register_kind(LengthKind())
