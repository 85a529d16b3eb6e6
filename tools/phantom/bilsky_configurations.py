"""Synthetic axial spinal-canal configurations of a chosen Bilsky grade: test data for the contour assistant
(a development tool, not part of the product; the canal model itself is :mod:`imaging.spine.canal_model`).

A configuration is built in millimetres from the grade definitions (Bilsky et al., J Neurosurg Spine 2010),
then rasterised on a pixel grid:

* the bony **canal** is an ellipse; the **thecal sac** an ellipse inside it (epidural space around it);
  the **spinal cord** an ellipse inside the sac (CSF around it) — or, when no CSF is left, the cord
  fills the sac;
* the **tumour** is an ellipse entering from a direction (anterior, anterolateral or posterior, the
  direction it grows from), moved along that direction until the defining quantity of the grade reaches a
  drawn value; the tumour displaces (is subtracted from) the sac and the cord it overlaps.

Coordinates are ``(x, y)`` mm with ``x`` along columns and ``y`` along rows (posterior is +y, so the
anterior direction is -y). Masks are indexed ``[row, column]``; spacing is ``(row mm, column mm)``.

How each grade is constructed (distances are the exact geometric distances between the ellipses):

====  ===========================================================================================
0     tumour outside the canal: its deepest point 0-3 mm short of the canal wall (bone-only disease)
1a    tumour in the epidural space, at least 1 mm deep into the canal, touching the thecal sac at most
      (it does not enter the sac's outline)
1b    tumour indents the sac's outline by at least 1 mm and stays more than 1 mm from the cord
1c    tumour indents the sac's outline by at least 1 mm and comes within 1 mm of the cord without
      entering the cord's outline
2     tumour indents the cord's outline by at least 1 mm (up to 30% of its diameter); CSF (at least
      1.2 mm wide before the tumour) remains around the rest of the cord
3     the cord fills the sac (no CSF); the tumour indents it by at least 1 mm (up to 30%)
====  ===========================================================================================

1 mm is the smallest extension or deformation counted as visible. A binary mask at pixel spacing ``s``
places an outline only to within half a pixel, so the one quantitative threshold of the definitions —
"within 1 mm of the cord" — is kept clear of that uncertainty: a 1b gap is more than ``1 + s/2`` mm and a
1c gap at most ``1 - s/2`` mm, with ``s`` the coarser spacing. Draws whose geometry cannot hold the grade
along the chosen direction (for example an epidural space too thin for a visible 1a tumour) are redrawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from imaging.spine.bilsky import BILSKY_GRADES
from imaging.spine.canal_model import CanalGeometry, TumorShape, tumor_depth
from imaging.spine.ellipse import Ellipse

__all__ = [
    "TUMOR_DIRECTIONS",
    "BilskyConfiguration",
    "make_bilsky_configuration",
    "random_canal_geometry",
    "random_tumor_shape",
    "rasterize_configuration",
]

VISIBLE_MM = 1.0
"""The smallest tumour extension or outline deformation the constructions count as visible (mm)."""

TUMOR_DIRECTIONS: dict[str, tuple[float, ...]] = {
    "anterior": (0.0,),
    "anterolateral": (-45.0, 45.0),
    "posterior": (180.0,),
}
"""Angles (degrees from anterior) of the directions a tumour may come from."""


def random_canal_geometry(rng: np.random.Generator, *, cord_fills_sac: bool = False) -> CanalGeometry:
    """A plausible canal: canal semi-axes 7-12 mm (left-right) by 6-9.5 mm (antero-posterior),
    epidural space 1.5-3.5 mm, CSF 1.2-4 mm around a cord at least 4 x 5 mm (or no CSF)."""
    while True:
        a_c, b_c = rng.uniform(7.0, 12.0), rng.uniform(6.0, 9.5)
        e_x, e_y = rng.uniform(1.5, 3.5, size=2)
        sac_dy = rng.uniform(-0.5, 0.5)
        if e_y - abs(sac_dy) < 1.2:
            continue
        canal = Ellipse(0.0, 0.0, a_c, b_c)
        sac = Ellipse(0.0, sac_dy, a_c - e_x, b_c - e_y)
        if cord_fills_sac:
            if sac.a >= 2.5 and sac.b >= 2.0:
                return CanalGeometry(canal, sac, sac)
            continue
        m_x, m_y = rng.uniform(1.2, 4.0, size=2)
        if sac.a - m_x >= 2.5 and sac.b - m_y >= 2.0:
            return CanalGeometry(canal, sac, Ellipse(0.0, sac_dy, sac.a - m_x, sac.b - m_y))


def random_tumor_shape(rng: np.random.Generator, direction: str | None = None) -> TumorShape:
    """A tumour 3-9 mm deep (radial semi-axis) and 3-10 mm wide (tangential semi-axis) from a named
    direction (random when None), with +-10 degrees of jitter."""
    name = direction or str(rng.choice(list(TUMOR_DIRECTIONS)))
    base = float(rng.choice(TUMOR_DIRECTIONS[name]))
    return TumorShape(base + rng.uniform(-10.0, 10.0), rng.uniform(3.0, 9.0), rng.uniform(3.0, 10.0))


def _solve_offset(depth_at: Callable[[float], float], target: float, near: float, far: float) -> float:
    """The offset in [near, far] where the depth (decreasing with the offset) equals ``target``, to 1e-4 mm
    (regula falsi, Illinois variant; the depth is clamped to the bracket's values outside it)."""
    lo, hi = near, far
    f_lo, f_hi = depth_at(lo) - target, depth_at(hi) - target
    if f_lo <= 0:
        return lo
    if f_hi >= 0:
        return hi
    side = 0
    for _ in range(60):
        mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        f_mid = depth_at(mid) - target
        if abs(f_mid) < 1e-5 or hi - lo < 1e-4:
            return mid
        if f_mid > 0:
            lo, f_lo = mid, f_mid
            if side == 1:
                f_hi /= 2
            side = 1
        else:
            hi, f_hi = mid, f_mid
            if side == -1:
                f_lo /= 2
            side = -1
    return 0.5 * (lo + hi)


def _place_tumor(grade: str, geometry: CanalGeometry, shape: TumorShape, resolution: float,
                 rng: np.random.Generator) -> float | None:
    """The tumour offset that builds ``grade`` in this geometry, or None when the geometry cannot hold it."""
    canal_r = geometry.canal.radius_towards(shape.direction)
    far = canal_r + shape.radial + 6.0  # tumour front 6 mm outside the canal
    near = shape.radial                 # tumour front at the canal centre

    def canal_depth(o: float) -> float:
        return tumor_depth(shape.at(o), geometry.canal)

    def sac_depth(o: float) -> float:
        return tumor_depth(shape.at(o), geometry.sac)

    def cord_depth(o: float) -> float:
        return tumor_depth(shape.at(o), geometry.cord)

    if grade == "0":
        return _solve_offset(canal_depth, rng.uniform(-3.0, 0.0), near, far)
    if grade == "1a":
        abut = _solve_offset(sac_depth, 0.0, near, far)
        deepest = canal_depth(abut)
        if deepest < VISIBLE_MM:
            return None
        return _solve_offset(canal_depth, rng.uniform(VISIBLE_MM, deepest), abut, far)
    if grade == "1b":
        limit = _solve_offset(cord_depth, -(1.0 + resolution), near, far)
        deepest = sac_depth(limit)
        if deepest < VISIBLE_MM:
            return None
        return _solve_offset(sac_depth, rng.uniform(VISIBLE_MM, deepest), limit, far)
    if grade == "1c":
        offset = _solve_offset(cord_depth, -rng.uniform(0.0, 1.0 - resolution), near, far)
        return offset if sac_depth(offset) >= VISIBLE_MM else None
    # "2", "3": the cord's outline indented by 1 mm up to 30% of its diameter along the direction
    deepest = 0.6 * geometry.cord.radius_towards(shape.direction)
    if deepest < VISIBLE_MM:
        return None
    return _solve_offset(cord_depth, rng.uniform(VISIBLE_MM, deepest), near, far)


@dataclass
class BilskyConfiguration:
    """One synthetic axial configuration: the constructed ``grade``, its geometry in mm, the tumour, the
    pixel ``spacing`` (row mm, column mm) and the rasterised masks (``[row, column]``; ``sac`` and
    ``cord`` are what the tumour left of them, ``sac`` includes the cord)."""

    grade: str
    geometry: CanalGeometry
    tumor_shape: TumorShape
    tumor: Ellipse
    spacing: tuple[float, float]
    canal_mask: np.ndarray
    sac_mask: np.ndarray
    cord_mask: np.ndarray
    tumor_mask: np.ndarray
    facts: dict[str, float] = field(default_factory=dict)


def rasterize_configuration(geometry: CanalGeometry, tumor: Ellipse, spacing: tuple[float, float],
                            phase: tuple[float, float] = (0.0, 0.0), margin_mm: float | None = None,
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rasterise canal, sac, cord and tumour on a grid of ``spacing`` (row mm, column mm).

    A pixel belongs to a structure when its centre is inside it. The tumour is subtracted from the sac
    and cord. ``phase`` (fractions of a pixel, row and column) shifts the grid so the rasterisation
    varies. Returns ``(canal, sac, cord, tumor)`` bool masks ``[row, column]``.
    """
    sr, sc = spacing
    if margin_mm is None:
        margin_mm = 2.0 * max(tumor.a, tumor.b) + 2.0
    half_x = geometry.canal.a + margin_mm
    half_y = geometry.canal.b + margin_mm
    cols = (np.arange(int(2 * half_x / sc) + 1) + phase[1]) * sc - half_x
    rows = (np.arange(int(2 * half_y / sr) + 1) + phase[0]) * sr - half_y
    xx, yy = np.meshgrid(cols, rows)
    pts = np.stack([xx.ravel(), yy.ravel()], axis=1)
    shape = xx.shape

    def inside(e: Ellipse) -> np.ndarray:
        return e.contains(pts).reshape(shape)

    tumor_mask = inside(tumor)
    canal = inside(geometry.canal)
    sac = inside(geometry.sac) & ~tumor_mask
    cord = inside(geometry.cord) & ~tumor_mask
    return canal, sac | cord, cord, tumor_mask


def make_bilsky_configuration(grade: str, rng: np.random.Generator, *,
                              spacing: tuple[float, float] | None = None, direction: str | None = None,
                              max_tries: int = 500) -> BilskyConfiguration:
    """Construct a random configuration of Bilsky ``grade`` (see the module docstring for the rules).

    ``spacing`` (row mm, column mm) defaults to a random 0.3-0.7 mm each; ``direction`` ("anterior",
    "anterolateral", "posterior") defaults to a random one. ``facts`` records the constructed distances.
    """
    if grade not in BILSKY_GRADES:
        raise ValueError(f"unknown Bilsky grade {grade!r}")
    if spacing is None:
        spacing = (float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.3, 0.7)))
    resolution = 0.5 * max(spacing)
    for _ in range(max_tries):
        geometry = random_canal_geometry(rng, cord_fills_sac=(grade == "3"))
        shape = random_tumor_shape(rng, direction)
        offset = _place_tumor(grade, geometry, shape, resolution, rng)
        if offset is None:
            continue
        tumor = shape.at(offset)
        phase = (float(rng.uniform()), float(rng.uniform()))
        canal, sac, cord, tumor_mask = rasterize_configuration(geometry, tumor, spacing, phase)
        facts = {
            "canal_depth_mm": tumor_depth(tumor, geometry.canal),
            "sac_depth_mm": tumor_depth(tumor, geometry.sac),
            "cord_depth_mm": tumor_depth(tumor, geometry.cord),
        }
        return BilskyConfiguration(grade, geometry, shape, tumor, spacing, canal, sac, cord, tumor_mask, facts)
    raise RuntimeError(f"could not construct a grade {grade} configuration in {max_tries} draws")
