"""The craniocaudal (CC) extent: the extent of a segment along the patient's long axis, |dS| (LPS mm)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from imaging import measure
from imaging.measurement_kinds import (
    IconPolyline,
    KindDrawing,
    MeasurementKind,
    Points,
    Stroke,
    ValueSpec,
    register_kind,
)
from imaging.measurement_kinds._shared import CC_EXTENT_CONCEPT, points_of, zero_length_problem

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Measurement


class CcExtentKind(MeasurementKind):
    key = "cc_extent"
    name = "CC extent"
    tool_label = "CC Extent"
    shortcut = "X"
    tooltip = ("Craniocaudal extent (X), on a sagittal or coronal view: drag or click from the superior to the "
               "inferior end; the value is the extent along the patient's long axis")
    point_count = (2, 2)
    point_meaning = "[superior or inferior end, other end]"
    value_specs = (ValueSpec("cc_extent", "length", "CC", sr_concept=CC_EXTENT_CONCEPT),
                   ValueSpec("length", "length", "Length", in_sr=False))
    orientations = ("sagittal", "coronal")
    finding_dimension = "cc"
    icon = (IconPolyline(((10, 3), (10, 17))), IconPolyline(((6, 3), (14, 3))), IconPolyline(((6, 17), (14, 17))))

    def values(self, m: Measurement) -> list[measure.MeasuredValue]:
        p = points_of(m)
        known = m.pixel_spacing_known
        return [measure.MeasuredValue("cc_extent", measure.craniocaudal_extent(p[0], p[1]), measure.length_unit(known)),
                measure.segment_length(p[0], p[1], known)]

    def value_lines(self, m: Measurement, values: Mapping[str, measure.MeasuredValue]) -> list[str]:
        return [f"CC {values['cc_extent'].text()}"]

    def drawing_problem(self, points: Points, spacing_known: bool = True) -> str | None:
        problem = zero_length_problem(self.name, points)
        if problem is None and len(points) >= 2 and measure.craniocaudal_extent(points[0], points[1]) < 1e-6:
            problem = ("The CC extent has no craniocaudal component: draw it from the superior to the inferior end "
                       "of the lesion.")
        return problem or super().drawing_problem(points, spacing_known)

    def drawing(self, points: Points, complete: bool = True) -> KindDrawing:
        pts = [np.asarray(p, dtype=np.float64) for p in points]
        if not pts:
            return KindDrawing()
        return KindDrawing((Stroke(np.array(pts[:2]), end_ticks=len(pts) >= 2),), tuple(pts))


CC_EXTENT = register_kind(CcExtentKind())
