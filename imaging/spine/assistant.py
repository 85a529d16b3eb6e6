"""The Bilsky contour assistant: suggest an ESCC grade from canal, thecal sac, cord and tumour masks.

The reader outlines, on one axial slice, the bony spinal canal, the thecal sac, the spinal cord and the
epidural tumour; :func:`suggest_bilsky_grade` measures the facts the grade definitions talk about and
applies them (Bilsky et al., J Neurosurg Spine 2010):

==== ================================================================================================
0    no tumour inside the bony canal (less than ``TUMOR_IN_CANAL_MIN_MM2``)
1a   tumour in the epidural space, thecal sac not indented
1b   sac indented by the tumour (at least ``INDENTATION_MIN_MM``), tumour more than 1 mm from the cord
1c   tumour (that is, the indented sac wall in front of it) within 1 mm of the cord, cord not indented
2    cord indented by the tumour (at least ``INDENTATION_MIN_MM``), CSF still visible around the cord
3    cord indented, no CSF left around it (less than ``CSF_VISIBLE_MIN_MM2``)
==== ================================================================================================

How an indentation is told from a structure that is just small or elliptical: the tumour displaces what it
overlaps, so the sac and cord masks are what remains of them. The outline a structure had before the
tumour is estimated by fitting an ellipse to the part of its outline away from the tumour (more than
``CONTACT_MM`` from it); the indentation is how far the tumour reaches inside that fitted outline. A flat
cut, which leaves the remaining shape convex, is measured like a round one. Outline points are the pixel
edge midpoints (within half a pixel of the true outline), and all distances are physical (the row and
column spacings may differ).

Research software, not a diagnostic device: the suggestion is for the reader to accept or change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from imaging.spine.bilsky import BILSKY_GRADE_INFO, BilskyGrade
from imaging.spine.ellipse import Ellipse, fit_ellipse, mask_edge_points

__all__ = [
    "CONTACT_MM",
    "CORD_ABUTMENT_MAX_MM",
    "CSF_VISIBLE_MIN_MM2",
    "INDENTATION_MIN_MM",
    "TUMOR_IN_CANAL_MIN_MM2",
    "BilskyReason",
    "BilskySuggestion",
    "suggest_bilsky_grade",
]

TUMOR_IN_CANAL_MIN_MM2 = 1.0
"""Tumour area inside the bony canal (mm2) from which epidural disease is counted."""
INDENTATION_MIN_MM = 0.5
"""Depth (mm) from which the tumour counts as indenting the thecal sac or the cord (about a pixel)."""
CORD_ABUTMENT_MAX_MM = 1.0
"""Grade 1c: the tumour comes within this distance (mm) of the cord."""
CSF_VISIBLE_MIN_MM2 = 2.0
"""CSF area (mm2) around the cord from which CSF counts as visible."""
CONTACT_MM = 1.0
"""Outline points closer than this (mm) to the tumour are not used to fit a structure's original outline."""


@dataclass(frozen=True)
class BilskyReason:
    """One measured fact behind a suggestion: a ``name`` for storage, the ``value`` in ``unit`` ("mm" or
    "mm2") and a ``sentence`` for the reader."""

    name: str
    value: float
    unit: str
    sentence: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit, "sentence": self.sentence}


@dataclass(frozen=True)
class BilskySuggestion:
    """The suggested ``grade`` ("0", "1a", "1b", "1c", "2" or "3"), the measurements behind it and a one-line
    ``summary``. Reason names: ``tumor_area_in_canal`` (mm2), ``sac_indentation`` (mm), ``tumor_cord_gap``
    (mm; left out when there is no tumour), ``cord_indentation`` (mm), ``csf_area`` (mm2). Every value is a
    finite number."""

    grade: BilskyGrade
    reasons: tuple[BilskyReason, ...]
    summary: str

    def reason(self, name: str) -> BilskyReason:
        """The reason called ``name`` (KeyError if there is none)."""
        for r in self.reasons:
            if r.name == name:
                return r
        raise KeyError(name)

    def value(self, name: str) -> float:
        """The value of the reason called ``name``."""
        return self.reason(name).value

    def as_dict(self) -> dict[str, Any]:
        return {"grade": self.grade, "summary": self.summary, "reasons": [r.as_dict() for r in self.reasons]}


def _as_mask(name: str, mask: Any) -> np.ndarray:
    a = np.asarray(mask)
    if a.ndim != 2:
        raise ValueError(f"the {name} mask must be 2D [row, column], got shape {a.shape}")
    if a.dtype != bool:
        if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
            raise ValueError(f"the {name} mask must be boolean, got dtype {a.dtype}")
        if not np.isin(a, (0, 1)).all():
            raise ValueError(f"the {name} mask must hold only 0/1 or True/False values")
        a = a.astype(bool)
    return a


def _check_spacing(spacing: Any) -> tuple[float, float]:
    try:
        sr, sc = (float(s) for s in spacing)
    except (TypeError, ValueError):
        raise ValueError(f"spacing must be (row mm, column mm), got {spacing!r}") from None
    if not (sr > 0 and sc > 0 and math.isfinite(sr) and math.isfinite(sc)):
        raise ValueError(f"spacing must be two positive finite millimetre values, got {spacing!r}")
    return sr, sc


def _distance_to(mask: np.ndarray, spacing: tuple[float, float]) -> np.ndarray:
    """Physical distance (mm) from every pixel centre to the nearest pixel of ``mask`` (0 inside it)."""
    import SimpleITK as sitk  # noqa: N813 - imported when first used: 0.1-0.3 s at startup
    image = sitk.GetImageFromArray(mask.astype(np.uint8))
    image.SetSpacing((spacing[1], spacing[0]))  # SimpleITK spacing is (x = column, y = row)
    dist = sitk.SignedMaurerDistanceMap(image, insideIsPositive=False, squaredDistance=False,
                                        useImageSpacing=True)
    out: np.ndarray = np.maximum(sitk.GetArrayFromImage(dist), 0.0)
    return out


def _moments_ellipse(mask: np.ndarray, spacing: tuple[float, float]) -> Ellipse:
    """The ellipse with the mask's area centroid and second moments (mm)."""
    rr, cc = np.nonzero(mask)
    pts = np.stack([cc * spacing[1], rr * spacing[0]], axis=1)
    centre = pts.mean(axis=0)
    cov = np.cov((pts - centre).T) if len(pts) > 1 else np.zeros((2, 2))
    cov = cov + np.eye(2) * (max(spacing) ** 2 / 12.0)  # a pixel's own extent
    lam, vec = np.linalg.eigh(cov)
    return Ellipse(float(centre[0]), float(centre[1]), 2 * math.sqrt(lam[0]), 2 * math.sqrt(lam[1]),
                   math.atan2(vec[1, 0], vec[0, 0]))


def _original_outline(mask: np.ndarray, tumor_distance: np.ndarray | None,
                      spacing: tuple[float, float]) -> tuple[Ellipse, bool]:
    """Estimate the outline a structure had before the tumour displaced part of it: an ellipse fitted to
    its outline away from the tumour. Falls back to the mask's moments ellipse when the fit is not
    possible or implausible. Returns the ellipse and whether it is a fit."""
    edges, pixels = mask_edge_points(mask, spacing)
    free = np.ones(len(edges), dtype=bool)
    if tumor_distance is not None:  # distance from the structure pixel of each edge to the tumour
        free = tumor_distance[pixels[:, 0], pixels[:, 1]] > CONTACT_MM
    area = float(mask.sum()) * spacing[0] * spacing[1]
    if free.sum() >= 12:
        fitted = fit_ellipse(edges[free])
        if fitted is not None and 0.9 * area <= fitted.area <= 4.0 * area:
            return fitted, True
    return _moments_ellipse(mask, spacing), False


def _depth_inside(points: np.ndarray, outline: Ellipse) -> np.ndarray:
    """Depth (mm, positive inside) of points relative to an outline; far points are not computed."""
    reach = max(outline.a, outline.b) + 2.0
    near = np.hypot(points[:, 0] - outline.cx, points[:, 1] - outline.cy) <= reach
    depth = np.full(len(points), -np.inf)
    if near.any():
        depth[near] = -outline.signed_distance(points[near])
    return depth


def suggest_bilsky_grade(canal: np.ndarray, sac: np.ndarray, cord: np.ndarray, tumor: np.ndarray,
                         spacing: tuple[float, float]) -> BilskySuggestion:
    """Suggest the Bilsky ESCC grade of one axial slice from four masks.

    ``canal`` (the bony spinal canal), ``sac`` (the thecal sac, cord included; the cord is added to it in
    any case, so a non-empty mask of the CSF alone also works), ``cord`` (the spinal cord) and ``tumor``
    (epidural and bone tumour) are 2D boolean masks on one grid indexed ``[row, column]``; ``spacing`` is
    ``(row mm, column mm)``. The sac and cord masks are what
    remains of them: the tumour has displaced what it overlaps. Measurements are in mm and mm2.

    Raises ValueError naming the mask for a mask that is not 2D boolean, masks of different shapes, or an
    empty canal, sac or cord, and for a spacing that is not two positive numbers.
    """
    masks = {name: _as_mask(name, m) for name, m in
             (("canal", canal), ("sac", sac), ("cord", cord), ("tumor", tumor))}
    shapes = {name: m.shape for name, m in masks.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError("the masks must have the same shape; got "
                         + ", ".join(f"{name} {shape}" for name, shape in shapes.items()))
    for name in ("canal", "sac", "cord"):
        if not masks[name].any():
            raise ValueError(f"the {name} mask is empty")
    sp = _check_spacing(spacing)
    pixel_area = sp[0] * sp[1]
    canal_m, cord_m, tumor_m = masks["canal"], masks["cord"], masks["tumor"]
    thecal = masks["sac"] | cord_m
    if not (thecal & canal_m).any():
        raise ValueError("the sac mask does not overlap the canal mask: they must be drawn on the same slice")

    tumor_area_in_canal = float((tumor_m & canal_m).sum()) * pixel_area
    csf_area = float((thecal & ~cord_m).sum()) * pixel_area
    if tumor_m.any():
        tumor_distance = _distance_to(tumor_m, sp)
        tumor_edges, _ = mask_edge_points(tumor_m, sp)
    else:
        tumor_distance = None
        tumor_edges = np.zeros((0, 2))
    sac_outline, sac_fitted = _original_outline(thecal, tumor_distance, sp)
    cord_outline, cord_fitted = _original_outline(cord_m, tumor_distance, sp)
    if len(tumor_edges):
        sac_depth = float(_depth_inside(tumor_edges, sac_outline).max())
        cord_depth = float(_depth_inside(tumor_edges, cord_outline).max())
        if not math.isfinite(cord_depth):  # every tumour point far from the cord
            cord_depth = -float(np.min(np.hypot(tumor_edges[:, 0] - cord_outline.cx,
                                                 tumor_edges[:, 1] - cord_outline.cy))
                                - max(cord_outline.a, cord_outline.b))
    else:
        sac_depth = cord_depth = -math.inf
    sac_indentation = max(0.0, sac_depth)
    cord_indentation = max(0.0, cord_depth)
    gap = max(0.0, -cord_depth)

    reasons = [
        BilskyReason("tumor_area_in_canal", round(tumor_area_in_canal, 2), "mm2",
                     f"Tumour inside the bony canal: {tumor_area_in_canal:.1f} mm² "
                     f"(epidural disease counted from {TUMOR_IN_CANAL_MIN_MM2:g} mm²)."),
        BilskyReason("sac_indentation", round(sac_indentation, 2), "mm",
                     f"Thecal sac indented by {sac_indentation:.1f} mm "
                     f"(deformation counted from {INDENTATION_MIN_MM:g} mm"
                     f"{'' if sac_fitted else '; original outline estimated from the mask moments'})."),
    ]
    if math.isfinite(gap):  # no tumour, no gap to speak of
        reasons.append(BilskyReason("tumor_cord_gap", round(gap, 2), "mm",
                                    f"Gap between tumour and spinal cord: {gap:.1f} mm "
                                    f"(abutment within {CORD_ABUTMENT_MAX_MM:g} mm)."))
    reasons += [
        BilskyReason("cord_indentation", round(cord_indentation, 2), "mm",
                     f"Spinal cord indented by {cord_indentation:.1f} mm "
                     f"(compression counted from {INDENTATION_MIN_MM:g} mm"
                     f"{'' if cord_fitted else '; original outline estimated from the mask moments'})."),
        BilskyReason("csf_area", round(csf_area, 2), "mm2",
                     f"CSF around the spinal cord: {csf_area:.1f} mm² "
                     f"(visible from {CSF_VISIBLE_MIN_MM2:g} mm²)."),
    ]

    grade: BilskyGrade
    if tumor_area_in_canal < TUMOR_IN_CANAL_MIN_MM2:
        grade, why = "0", "no tumour inside the bony canal"
    elif cord_indentation >= INDENTATION_MIN_MM:
        if csf_area >= CSF_VISIBLE_MIN_MM2:
            grade, why = "2", "the tumour indents the spinal cord and CSF is still visible around it"
        else:
            grade, why = "3", "the tumour indents the spinal cord and no CSF is left around it"
    elif sac_indentation >= INDENTATION_MIN_MM:
        if gap <= CORD_ABUTMENT_MAX_MM:
            grade, why = "1c", "the tumour indents the thecal sac and abuts the cord without indenting it"
        else:
            grade, why = "1b", "the tumour indents the thecal sac and stays more than 1 mm from the cord"
    else:
        grade, why = "1a", "the tumour is in the epidural space without indenting the thecal sac"
    summary = f"Suggested Bilsky grade {grade} ({_sentence_case(BILSKY_GRADE_INFO[grade].definition)}): {why}."
    return BilskySuggestion(grade, tuple(reasons), summary)


def _sentence_case(text: str) -> str:
    """Lower-case only the first letter, so abbreviations such as CSF keep their capitals."""
    return text[:1].lower() + text[1:]
