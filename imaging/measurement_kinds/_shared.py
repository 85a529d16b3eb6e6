"""Helpers the built-in measurement kinds share (Qt-free)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from pydicom.sr.codedict import codes

from imaging import measure
from imaging.coding import local_code
from imaging.measurement_kinds import MeasurementKind, Points, ValueSpec

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Measurement

#: The SR concept of a craniocaudal extent and of a voxel count (no standard code known to us).
CC_EXTENT_CONCEPT = local_code("CCEXTENT", "Craniocaudal extent")
VOXEL_COUNT_CONCEPT = local_code("VOXELCOUNT", "Number of voxels in region")

#: The values of the voxel statistics of a region (imaging.measure.RoiStats.values()).
STATISTICS_VALUES: tuple[ValueSpec, ...] = (
    ValueSpec("mean", "intensity", "Mean", sr_derivation=codes.SCT.Mean),
    ValueSpec("sd", "intensity", "SD", sr_derivation=codes.SCT.StandardDeviation),
    ValueSpec("min", "intensity", "Min", sr_derivation=codes.SCT.Minimum),
    ValueSpec("max", "intensity", "Max", sr_derivation=codes.SCT.Maximum),
    ValueSpec("voxel_count", "count", "Voxels", sr_concept=VOXEL_COUNT_CONCEPT),
)


def points_of(m: Measurement) -> list[np.ndarray]:
    """A measurement's points as float64 (3,) arrays (LPS mm)."""
    return [np.asarray(q, dtype=np.float64) for q in m.points]


def zero_length_problem(name: str, points: Points) -> str | None:
    """The sentence for a segment drawn with both ends on one point, or None."""
    if len(points) >= 2 and measure.distance(points[0], points[1]) == 0:
        return f"The {name} has zero length: drag or click two different points."
    return None


class RegionKind(MeasurementKind):
    """A region of interest: its area and the statistics of the pixels whose centres lie inside it."""

    voxel_stats = "region"
    label_anchor = "outline"

    def area(self, points: Points) -> float:
        """The outline's area in mm2 (px2 without pixel spacing)."""
        return measure.polygon_area(np.asarray(points, dtype=np.float64))

    def values(self, m: Measurement) -> list[measure.MeasuredValue]:
        out = [measure.MeasuredValue("area", self.area(points_of(m)), measure.area_unit(m.pixel_spacing_known))]
        if m.stats is not None:
            s = m.stats
            out.extend(measure.RoiStats(s.mean, s.sd, s.min, s.max, s.count, s.unit).values())
        return out

    def value_lines(self, m: Measurement, values: Mapping[str, measure.MeasuredValue]) -> list[str]:
        lines = [f"Area {values['area'].text()}"]
        if "mean" in values:
            lines.append(f"Mean {values['mean'].text()}  SD {values['sd'].text()}")
        elif m.stats is not None:
            lines.append("no pixel centre inside")
        return lines

    def extra_value_lines(self, m: Measurement, values: Mapping[str, measure.MeasuredValue]) -> list[str]:
        if m.stats is not None and m.stats.count > 0 and "min" in values and "max" in values:
            return [f"Min {values['min'].text()}  Max {values['max'].text()}"]
        return []


AREA_VALUE = ValueSpec("area", "area", "Area", sr_concept=codes.SCT.Area)
