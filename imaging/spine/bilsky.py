"""Bilsky epidural spinal cord compression (ESCC) grades, NOMS groups and the grade schematics.

Bilsky MH, Laufer I, Fourney DR, et al. Reliability analysis of the epidural spinal cord compression
scale. J Neurosurg Spine 2010;13(3):324-328.

Grades are the strings ``"0"``, ``"1a"``, ``"1b"``, ``"1c"``, ``"2"``, ``"3"`` — never integers. In the
NOMS framework (neurologic, oncologic, mechanical, systemic) grades 0, 1a and 1b are low-grade ESCC and
2 and 3 high-grade ESCC; published work places 1c in either group, so :func:`escc_group` takes it as a
parameter (default high grade).

:func:`bilsky_schematic` describes each grade's axial schematic as plain polygons in a unit box, so a Qt
widget only has to paint them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple, get_args

import numpy as np

from imaging.spine.canal_model import CanalGeometry, TumorShape, tumor_depth
from imaging.spine.ellipse import Ellipse

__all__ = [
    "BILSKY_GRADES",
    "BILSKY_GRADE_INFO",
    "BilskyGrade",
    "BilskyGradeInfo",
    "EsccGroup",
    "SchematicShape",
    "bilsky_ordinal",
    "bilsky_schematic",
    "escc_group",
    "normalize_bilsky_grade",
]

BilskyGrade = Literal["0", "1a", "1b", "1c", "2", "3"]
"""A Bilsky ESCC grade (a string): the one list of the grades, least to most compression. The case model, the
panels, the schematics and the test data read it from here."""

EsccGroup = Literal["low", "high"]

BILSKY_GRADES: tuple[str, ...] = get_args(BilskyGrade)
"""The six grades, least to most compression (from :data:`BilskyGrade`)."""


class BilskyGradeInfo(NamedTuple):
    """A grade with its short name (for a button or table) and its published definition."""

    grade: str
    short_name: str
    definition: str


BILSKY_GRADE_INFO: dict[str, BilskyGradeInfo] = {
    info.grade: info for info in (
        BilskyGradeInfo("0", "Bone-only disease", "Bone-only disease"),
        BilskyGradeInfo("1a", "Epidural impingement", "Epidural impingement without deformation of the thecal sac"),
        BilskyGradeInfo("1b", "Thecal sac deformation",
                        "Deformation of the thecal sac without spinal cord abutment"),
        BilskyGradeInfo("1c", "Spinal cord abutment",
                        "Deformation of the thecal sac with spinal cord abutment, without cord compression"),
        BilskyGradeInfo("2", "Cord compression, CSF visible",
                        "Spinal cord compression with CSF visible around the cord"),
        BilskyGradeInfo("3", "Cord compression, no CSF",
                        "Spinal cord compression without CSF visible around the cord"),
    )
}
"""Grade -> short name and definition (Bilsky et al., J Neurosurg Spine 2010), worded exactly as the project
states the scale (issue 6); the one place the definitions live — the panels and reports read them here."""


def normalize_bilsky_grade(grade: object) -> str:
    """The canonical grade string (``"1A"`` or ``" 1a "`` -> ``"1a"``).

    Raises TypeError for a non-string (grades are never integers) and ValueError naming an unknown grade.
    """
    if not isinstance(grade, str):
        raise TypeError(f"a Bilsky grade is one of the strings {', '.join(BILSKY_GRADES)}; "
                        f"got {type(grade).__name__} {grade!r}")
    g = grade.strip().lower()
    if g not in BILSKY_GRADE_INFO:
        raise ValueError(f"unknown Bilsky grade {grade!r}: expected one of {', '.join(BILSKY_GRADES)}")
    return g


def bilsky_ordinal(grade: str) -> int:
    """Position of a grade in the order 0 < 1a < 1b < 1c < 2 < 3 (0 to 5), for comparing severity."""
    return BILSKY_GRADES.index(normalize_bilsky_grade(grade))


def escc_group(grade: str, grade_1c_as: EsccGroup | str = "high") -> EsccGroup:
    """The NOMS ESCC group of a grade: ``"low"`` (0, 1a, 1b) or ``"high"`` (2, 3).

    ``grade_1c_as`` ("low" or "high", default "high") chooses where grade 1c goes, as published work differs.
    """
    if grade_1c_as not in ("low", "high"):
        raise ValueError(f"grade_1c_as must be 'low' or 'high', got {grade_1c_as!r}")
    g = normalize_bilsky_grade(grade)
    if g == "1c":
        return "low" if grade_1c_as == "low" else "high"
    return "low" if g in ("0", "1a", "1b") else "high"


# -- schematic ----------------------------------------------------------------------------------------

SchematicRole = Literal["vertebral_body", "posterior_arch", "canal", "thecal_sac", "spinal_cord", "tumor"]


@dataclass(frozen=True)
class SchematicShape:
    """A filled polygon of a grade schematic.

    ``points`` is an ``(N, 2)`` array of ``(x, y)`` in a unit box (x to the right, y down, anterior at the
    top, as an axial image is shown). ``role`` names the structure; shapes come in painting order.
    """

    role: SchematicRole
    points: np.ndarray


# Schematic geometry in mm (canal centred at 0, anterior = -y): a cervical-thoracic sized canal, a sac
# with CSF around a cord, a tumour from the vertebral body (anterior). Depths per grade follow the grade
# definitions (as the contour assistant's test configurations do), chosen to be clearly visible at a small size.
_CANAL = Ellipse(0.0, 0.0, 9.0, 7.5)
_SAC = Ellipse(0.0, 0.3, 6.8, 5.3)
_CORD = Ellipse(0.0, 0.3, 4.6, 3.0)
_BODY = Ellipse(0.0, -18.0, 14.0, 10.5)  # its posterior wall is the canal's anterior wall
_ARCH_OUTER = Ellipse(0.0, 2.0, 12.5, 11.0)
_TUMOR = TumorShape(angle_deg=0.0, radial=6.0, tangential=6.5)
_BOX_MIN = np.array([-16.0, -31.0])
_BOX_SIZE = 44.0
# the grade -> (structure whose outline the tumour's front is measured against, depth in mm into it)
_SCHEMATIC_DEPTH: dict[str, tuple[str, float]] = {
    "0": ("canal", -2.0), "1a": ("sac", -0.6), "1b": ("sac", 1.0), "1c": ("cord", -0.1),
    "2": ("cord", 1.2), "3": ("cord", 1.6),
}


def _star_difference(shape: np.ndarray, hole: Ellipse) -> np.ndarray:
    """Outline of ``shape`` (a polygon star-shaped about its centroid, which lies outside the hole) minus
    the ellipse ``hole``: points inside the hole are moved along their ray from the centroid to where the
    ray enters the hole."""
    centre = shape.mean(axis=0)
    out = shape.copy()
    inside = hole.contains(shape)
    if not inside.any():
        return out
    # the ray centre + t * d in the hole's frame, scaled to a unit circle: |p0 + t d1|^2 = 1
    p0 = hole._local(centre[None, :])[0] / (hole.a, hole.b)
    ends = hole._local(shape[inside]) / (hole.a, hole.b)
    d1 = ends - p0
    qa = (d1 * d1).sum(axis=1)
    qb = 2.0 * (d1 @ p0)
    qc = float(p0 @ p0) - 1.0
    t_entry = (-qb - np.sqrt(np.maximum(qb * qb - 4 * qa * qc, 0.0))) / (2 * qa)
    out[inside] = centre + t_entry[:, None] * (shape[inside] - centre)
    return out


def _schematic_tumor(grade: str) -> Ellipse:
    structure_name, target = _SCHEMATIC_DEPTH[grade]
    cord = _SAC if grade == "3" else _CORD
    structure = {"canal": _CANAL, "sac": _SAC, "cord": cord}[structure_name]
    lo, hi = _TUMOR.radial, _TUMOR.radial + 30.0
    for _ in range(24):  # bisection of a 30 mm bracket: 2e-6 mm (24 steps are half the panel's start-up)
        mid = 0.5 * (lo + hi)
        if tumor_depth(_TUMOR.at(mid), structure) > target:
            lo = mid
        else:
            hi = mid
    return _TUMOR.at(0.5 * (lo + hi))


def bilsky_schematic(grade: str, n: int = 180) -> list[SchematicShape]:
    """Polygons to paint the axial schematic of a Bilsky grade, in painting order.

    Roles: ``posterior_arch`` and ``vertebral_body`` (bone), ``canal`` (the bony canal's lumen, epidural
    fat), ``thecal_sac`` (CSF), ``spinal_cord`` and ``tumor``. The tumour comes from the vertebral body
    (anterior) and stays inside it in grade 0; it displaces what it overlaps, so the sac and cord
    outlines are indented in grades 1b-3 and the cord fills the sac in grade 3. Coordinates are in a
    unit box, x right, y down, anterior up.
    """
    g = normalize_bilsky_grade(grade)
    geometry = CanalGeometry(_CANAL, _SAC, _SAC if g == "3" else _CORD)
    tumor = _schematic_tumor(g)

    def to_box(p: np.ndarray) -> np.ndarray:
        out: np.ndarray = (p - _BOX_MIN) / _BOX_SIZE
        return out

    sac = geometry.sac.boundary(n)
    cord = geometry.cord.boundary(n)
    if tumor_depth(tumor, geometry.sac) > 0:
        sac = _star_difference(sac, tumor)
    if tumor_depth(tumor, geometry.cord) > 0:
        cord = _star_difference(cord, tumor)
    return [
        SchematicShape("posterior_arch", to_box(_ARCH_OUTER.boundary(n))),
        SchematicShape("vertebral_body", to_box(_BODY.boundary(n))),
        SchematicShape("canal", to_box(_CANAL.boundary(n))),
        SchematicShape("thecal_sac", to_box(sac)),
        SchematicShape("spinal_cord", to_box(cord)),
        SchematicShape("tumor", to_box(tumor.boundary(n))),
    ]
