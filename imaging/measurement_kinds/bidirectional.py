"""The bidirectional measurement: a long axis and a perpendicular short axis (RECIST / WHO style), LPS mm."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from pydicom.sr.codedict import codes

from imaging import measure
from imaging.measure_edit import edit_bidirectional, short_axis_for
from imaging.measurement_kinds import (
    IconPolyline,
    KindDrawing,
    MeasurementKind,
    PointLike,
    Points,
    SrGraphic,
    Stroke,
    ValueSpec,
    register_kind,
)
from imaging.measurement_kinds._shared import points_of, zero_length_problem

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Measurement
    from imaging.geometry import PlaneGeometry


class BidirectionalKind(MeasurementKind):
    key = "bidirectional"
    name = "bidirectional"
    tool_label = "Bidirectional"
    shortcut = "B"
    tooltip = ("Bidirectional (B): drag the long axis; the short axis appears perpendicular at its middle -- "
               "drag its ends to fit")
    point_count = (4, 4)
    placed_points = 2
    point_meaning = "[long axis start, long axis end, short axis start, short axis end]"
    value_specs = (ValueSpec("long_axis", "length", "Long axis", sr_concept=codes.SCT.LongAxis),
                   ValueSpec("short_axis", "length", "Short axis", sr_concept=codes.SCT.ShortAxis))
    icon = (IconPolyline(((3, 15), (17, 5))), IconPolyline(((7.4, 6.4), (12.6, 13.6))))
    finding_dimension = "ap_lr"

    def canonical_points(self, points: Points) -> list[np.ndarray] | None:
        """Long axis first: when an edit makes the second pair the longer, the pairs swap (so the stored
        points, the CSV and the SR always list the long axis as the long axis)."""
        p = [np.asarray(q, dtype=np.float64) for q in points]
        if len(p) == 4 and np.linalg.norm(p[3] - p[2]) > np.linalg.norm(p[1] - p[0]):
            return [p[2], p[3], p[0], p[1]]
        return None

    def values(self, m: Measurement) -> list[measure.MeasuredValue]:
        p = points_of(m)
        return measure.bidirectional(p[0], p[1], p[2], p[3], m.pixel_spacing_known).values()

    def value_lines(self, m: Measurement, values: Mapping[str, measure.MeasuredValue]) -> list[str]:
        return [f"L {values['long_axis'].text()}  S {values['short_axis'].text()}"]

    def build_points(self, geometry: PlaneGeometry, placed: Sequence[PointLike]) -> list[np.ndarray]:
        la = geometry.to_lps(np.asarray(placed[0], dtype=np.float64))
        lb = geometry.to_lps(np.asarray(placed[1], dtype=np.float64))
        sa, sb = short_axis_for(la, lb, geometry.normal)
        return [la, lb, sa, sb]

    def drawing_problem(self, points: Points, spacing_known: bool = True) -> str | None:
        return zero_length_problem(self.name, points) or super().drawing_problem(points, spacing_known)

    def edit_handle(self, points: Points, handle: int, new_point: PointLike,
                    normal: PointLike) -> list[np.ndarray]:
        return edit_bidirectional(points, handle, new_point, normal)

    def drawing(self, points: Points, complete: bool = True) -> KindDrawing:
        pts = [np.asarray(p, dtype=np.float64) for p in points]
        if not pts:
            return KindDrawing()
        strokes = [Stroke(np.array(pts[:2]))]
        if len(pts) >= 4:
            strokes.append(Stroke(np.array(pts[2:4])))
        return KindDrawing(tuple(strokes), tuple(pts))

    def sr_coordinates(self, value_name: str, points: Points) -> list[SrGraphic]:
        b = measure.bidirectional(points[0], points[1], points[2], points[3])
        axis = b.long_axis if value_name == "long_axis" else b.short_axis
        return [SrGraphic("POLYLINE", np.array(axis))]


BIDIRECTIONAL = register_kind(BidirectionalKind())
