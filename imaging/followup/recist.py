"""RECIST 1.1 for the target lesions a reader marks: measurability and the response at each timepoint
(Qt-free). Thresholds and the source: :mod:`imaging.followup.criteria`.

What SpineCase evaluates is the **target-lesion response with new lesions**: the sum of the longest
diameters of the target lesions at each timepoint, compared with the baseline sum (partial response) and
with the smallest sum on study before it, the nadir, which includes the baseline (progression); a new lesion
is progression. Non-target lesions (RECIST's "unequivocal progression" and their disappearance for a
complete response) and lymph nodes (short axis) are the reader's to judge and are not part of it; the
report says so.

Research software, not a diagnostic device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from imaging.followup.criteria import (
    RECIST_BONE_SOFT_TISSUE_MIN_MM,
    RECIST_MAX_SLICE_THICKNESS_MM,
    RECIST_MIN_LONGEST_DIAMETER_MM,
    RECIST_PD_MIN_ABSOLUTE_INCREASE_MM,
    RECIST_PD_MIN_INCREASE_FRACTION,
    RECIST_PR_MIN_DECREASE_FRACTION,
    RECIST_SLICE_THICKNESS_FACTOR,
    THRESHOLD_TOLERANCE_MM,
)

__all__ = [
    "MEASURABLE_BONE_LESION_TYPES",
    "RECIST_MODALITIES",
    "Measurability",
    "Response",
    "TargetResponse",
    "measurability",
    "minimum_measurable_mm",
    "target_response",
    "target_responses",
]

RECIST_MODALITIES = frozenset({"CT", "MR"})
"""Modalities whose measurability rule SpineCase applies (RECIST 1.1 also has chest X-ray and calipers)."""

MEASURABLE_BONE_LESION_TYPES = frozenset({"lytic", "mixed"})
"""Bone lesion types RECIST 1.1 can count as measurable (through their soft-tissue component)."""


class Response(StrEnum):
    """A RECIST 1.1 response category at a follow-up timepoint."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"

    @property
    def wording(self) -> str:
        return {"CR": "complete response", "PR": "partial response", "SD": "stable disease",
                "PD": "progressive disease", "NE": "not evaluable"}[self.value]


@dataclass(frozen=True)
class Measurability:
    """Whether a lesion is measurable by RECIST 1.1: True, False, or None when it cannot be decided (modality
    or slice thickness unknown); ``minimum_mm`` the size it needed; ``reason`` in words."""

    measurable: bool | None
    minimum_mm: float | None
    reason: str


def minimum_measurable_mm(slice_thickness_mm: float) -> float:
    """The smallest measurable longest diameter on CT/MR: 10 mm with slices up to 5 mm thick, else twice the
    slice thickness."""
    if slice_thickness_mm <= RECIST_MAX_SLICE_THICKNESS_MM:
        return RECIST_MIN_LONGEST_DIAMETER_MM
    return max(RECIST_MIN_LONGEST_DIAMETER_MM, RECIST_SLICE_THICKNESS_FACTOR * slice_thickness_mm)


def measurability(longest_diameter_mm: float | None, *, modality: str, slice_thickness_mm: float | None,
                  bone: bool = False, lesion_type: str | None = None, soft_tissue_component: bool = False
                  ) -> Measurability:
    """RECIST 1.1 measurability of a lesion at baseline.

    ``longest_diameter_mm``: the longest diameter measured (mm; for a bone lesion, its soft-tissue
    component's). ``bone``: the lesion is in bone; then only a lytic or mixed lytic-blastic lesion
    (``lesion_type``) with an identifiable ``soft_tissue_component`` of at least 10 mm is measurable, and a
    blastic one never is. A value exactly at the minimum is measurable.
    """
    if longest_diameter_mm is None:
        return Measurability(False, None, "no longest diameter measured")
    if modality not in RECIST_MODALITIES:
        what = modality or "an unknown modality"
        return Measurability(None, None, f"RECIST measurability is applied to CT and MR here, not {what}")
    if slice_thickness_mm is None:
        return Measurability(None, None, "slice thickness unknown: the minimum size (10 mm, or twice a slice "
                                         "thickness above 5 mm) cannot be checked")
    minimum = minimum_measurable_mm(slice_thickness_mm)
    if bone:
        if lesion_type not in MEASURABLE_BONE_LESION_TYPES:
            kind = lesion_type or "of unstated type"
            return Measurability(False, None, f"bone lesion {kind}: RECIST 1.1 measures only lytic or mixed "
                                              "lytic-blastic bone lesions, through a soft-tissue component")
        if not soft_tissue_component:
            return Measurability(False, None, "bone lesion without an identifiable soft-tissue component")
        minimum = max(minimum, RECIST_BONE_SOFT_TISSUE_MIN_MM)
    if longest_diameter_mm >= minimum - THRESHOLD_TOLERANCE_MM:
        what = "soft-tissue component" if bone else "longest diameter"
        return Measurability(True, minimum, f"{what} {longest_diameter_mm:.1f} mm >= {minimum:g} mm "
                                            f"(slice thickness {slice_thickness_mm:g} mm)")
    return Measurability(False, minimum, f"longest diameter {longest_diameter_mm:.1f} mm < {minimum:g} mm (slice "
                                         f"thickness {slice_thickness_mm:g} mm)")


@dataclass(frozen=True)
class TargetResponse:
    """The target-lesion response at one follow-up timepoint.

    ``sum_mm``: the sum of the target diameters measured (None when none was); ``baseline_sum_mm`` and
    ``nadir_sum_mm`` the references; changes are signed (negative: smaller). ``reasons`` say why, in words.
    """

    response: Response
    sum_mm: float | None
    baseline_sum_mm: float
    nadir_sum_mm: float
    change_from_baseline_mm: float | None
    change_from_baseline_pct: float | None
    change_from_nadir_mm: float | None
    change_from_nadir_pct: float | None
    reasons: tuple[str, ...]


def target_responses(timepoints: Sequence[tuple[Sequence[float | None], bool]]) -> list[TargetResponse | None]:
    """The target-lesion response at every timepoint of a series, tracking the nadir.

    ``timepoints`` in date order, each ``(diameters, new_lesion)`` with the target lesions in the same
    order at every timepoint; the first is the baseline (every target measured there; its entry in the result
    is None: the baseline has no response). The nadir of a timepoint is the smallest complete sum before it
    (baseline included); a timepoint with a target not evaluated does not set the nadir.
    """
    if not timepoints:
        return []
    baseline, _ = timepoints[0]
    if not baseline or any(d is None for d in baseline):
        raise ValueError("every target lesion must be measured at baseline")
    baseline_sum = float(sum(d for d in baseline if d is not None))
    nadir = baseline_sum
    out: list[TargetResponse | None] = [None]
    for diameters, new_lesion in timepoints[1:]:
        if len(diameters) != len(baseline):
            raise ValueError("every timepoint must list the same target lesions as the baseline")
        out.append(target_response(baseline_sum, nadir, diameters, new_lesion=new_lesion))
        if all(d is not None for d in diameters):
            nadir = min(nadir, float(sum(d for d in diameters if d is not None)))
    return out


def _pct(change: float, reference: float) -> float | None:
    return 100.0 * change / reference if reference > 0 else None


def target_response(baseline_sum_mm: float, nadir_sum_mm: float, diameters: Sequence[float | None], *,
                    new_lesion: bool = False) -> TargetResponse:
    """The RECIST 1.1 target-lesion response at a follow-up timepoint.

    ``diameters``: each target lesion's longest diameter at this timepoint in mm (0 for a lesion that has
    disappeared, None for one not evaluated). ``baseline_sum_mm``: the sum at baseline;
    ``nadir_sum_mm``: the smallest sum at any earlier timepoint, baseline included. ``new_lesion``: a new
    lesion appeared at this timepoint.

    In order: PD (a new lesion; or the sum at least 20 % above the nadir *and* at least 5 mm above it —
    checked on the targets measured, since an unmeasured one can only add; or any target back after a
    complete response, nadir 0); NE (a target not evaluated); CR (every target gone); PR (the sum at least
    30 % below the baseline sum); SD otherwise. Thresholds count at their value (>=).
    """
    if not diameters:
        raise ValueError("a RECIST response needs at least one target lesion")
    measured = [d for d in diameters if d is not None]
    total = sum(measured) if measured else None
    tol = THRESHOLD_TOLERANCE_MM
    reasons: list[str] = []
    if new_lesion:
        reasons.append("new lesion")
    part = sum(measured)
    rise = part - nadir_sum_mm
    if nadir_sum_mm == 0 and part > 0:
        reasons.append(f"target lesion back after a complete response (sum {part:.1f} mm, nadir 0 mm)")
    elif (rise >= RECIST_PD_MIN_INCREASE_FRACTION * nadir_sum_mm - tol
          and rise >= RECIST_PD_MIN_ABSOLUTE_INCREASE_MM - tol and nadir_sum_mm > 0):
        reasons.append(f"sum {part:.1f} mm is {rise:.1f} mm ({100 * rise / nadir_sum_mm:.1f} %) above the nadir "
                       f"{nadir_sum_mm:.1f} mm (>= 20 % and >= 5 mm)")
    if reasons:
        response = Response.PD
    elif len(measured) < len(diameters):
        response = Response.NE
        reasons.append(f"{len(diameters) - len(measured)} target lesion(s) not evaluated")
    elif all(d == 0 for d in measured):
        response = Response.CR
        reasons.append("all target lesions have disappeared")
    elif baseline_sum_mm - part >= RECIST_PR_MIN_DECREASE_FRACTION * baseline_sum_mm - tol:
        response = Response.PR
        reasons.append(f"sum {part:.1f} mm is {100 * (baseline_sum_mm - part) / baseline_sum_mm:.1f} % below the "
                       f"baseline {baseline_sum_mm:.1f} mm (>= 30 %)")
    else:
        response = Response.SD
        reasons.append("neither a 30 % decrease from baseline nor a 20 % and 5 mm increase over the nadir")
    change_b = total - baseline_sum_mm if total is not None else None
    change_n = total - nadir_sum_mm if total is not None else None
    return TargetResponse(
        response=response, sum_mm=total, baseline_sum_mm=baseline_sum_mm, nadir_sum_mm=nadir_sum_mm,
        change_from_baseline_mm=change_b,
        change_from_baseline_pct=_pct(change_b, baseline_sum_mm) if change_b is not None else None,
        change_from_nadir_mm=change_n,
        change_from_nadir_pct=_pct(change_n, nadir_sum_mm) if change_n is not None else None,
        reasons=tuple(reasons))
