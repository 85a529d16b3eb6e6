"""The axial spinal canal as ellipses (mm): bony canal, thecal sac, spinal cord, and an elliptical tumour
entering from one direction, with how deep the tumour reaches into each structure. Qt-free.

The Bilsky grade schematics (:func:`imaging.spine.bilsky.bilsky_schematic`) are drawn from this model; the
random configurations of a chosen grade that test the contour assistant are built from it by
``tools/phantom/bilsky_configurations.py`` (test data, not part of the product).

Coordinates are ``(x, y)`` mm with ``x`` along columns and ``y`` along rows (posterior is +y, so the
anterior direction is -y).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from imaging.spine.ellipse import Ellipse

__all__ = [
    "CanalGeometry",
    "TumorShape",
    "direction_vector",
    "tumor_depth",
]


def direction_vector(angle_deg: float) -> np.ndarray:
    """Unit ``(x, y)`` vector pointing from the canal towards where the tumour comes from.

    0 degrees is anterior (-y), 180 posterior (+y), +-90 lateral."""
    t = math.radians(angle_deg)
    return np.array([math.sin(t), -math.cos(t)])


@dataclass(frozen=True)
class CanalGeometry:
    """Canal, thecal sac and cord ellipses (mm), all inside one another; the canal is centred at 0."""

    canal: Ellipse
    sac: Ellipse
    cord: Ellipse

    @property
    def cord_fills_sac(self) -> bool:
        return self.cord == self.sac


@dataclass(frozen=True)
class TumorShape:
    """An elliptical tumour coming from ``angle_deg`` (see :func:`direction_vector`): semi-axis ``radial``
    mm along that direction and ``tangential`` mm across it."""

    angle_deg: float
    radial: float
    tangential: float

    @property
    def direction(self) -> np.ndarray:
        return direction_vector(self.angle_deg)

    def at(self, offset: float) -> Ellipse:
        """The tumour with its centre ``offset`` mm from the canal centre along its direction."""
        u = self.direction
        return Ellipse(float(u[0] * offset), float(u[1] * offset), self.radial, self.tangential,
                       math.atan2(u[1], u[0]))

    def front_offset(self, offset: float) -> float:
        """Distance (mm) from the canal centre to the tumour's deepest point, along its direction."""
        return offset - self.radial


def tumor_depth(tumor: Ellipse, structure: Ellipse, n: int = 180) -> float:
    """How deep (mm) the tumour reaches inside the structure's outline: the largest distance from a point
    of the tumour's outline inside the structure to the structure's outline; negative = the gap between
    them. (For the indentations made here the deepest point lies on the tumour's outline.)"""
    return float(-structure.signed_distance(tumor.boundary(n)).min())
