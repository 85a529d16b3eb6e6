"""The probe: the voxel value under one point (HU on CT), stored with the time it was read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from imaging import measure
from imaging.measurement_kinds import (
    IconEllipse,
    IconPolyline,
    KindDrawing,
    MeasurementKind,
    Points,
    SrGraphic,
    ValueSpec,
    register_kind,
)

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Measurement


class ProbeKind(MeasurementKind):
    key = "probe"
    name = "probe"
    tool_label = "Probe"
    shortcut = "V"
    tooltip = "Probe (V): click a point to record its value (HU on CT)"
    point_count = (1, 1)
    point_meaning = "[point]"
    value_specs = (ValueSpec("value", "intensity", "Value"),)
    voxel_stats = "point"
    handle_display = "never"
    label_anchor = "marker"
    icon = (IconEllipse(10, 10, 4, 4), IconPolyline(((10, 4.5), (10, 1.5))), IconPolyline(((10, 15.5), (10, 18.5))),
            IconPolyline(((4.5, 10), (1.5, 10))), IconPolyline(((15.5, 10), (18.5, 10))))

    def values(self, m: Measurement) -> list[measure.MeasuredValue]:
        if m.stats is None or m.stats.mean is None:
            return []
        return [measure.MeasuredValue("value", m.stats.mean, m.stats.unit)]

    def value_lines(self, m: Measurement, values: Mapping[str, measure.MeasuredValue]) -> list[str]:
        v = values.get("value")
        if v is None:
            return ["outside the image" if m.stats is not None else "no value"]
        return [v.text() if v.unit else f"Value {v.text()}"]

    def drawing(self, points: Points, complete: bool = True) -> KindDrawing:
        if not points:
            return KindDrawing()
        p = np.asarray(points[0], dtype=np.float64)
        return KindDrawing((), (p,), marker=p)

    def sr_coordinates(self, value_name: str, points: Points) -> list[SrGraphic]:
        return [SrGraphic("POINT", np.asarray(points, dtype=np.float64).reshape(-1, 3)[:1])]


PROBE = register_kind(ProbeKind())
