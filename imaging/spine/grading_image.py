"""Which image a Bilsky grade is read on: MR weighting from the series' metadata, and the reminder that
grading is done on axial T2-weighted MR at the level of worst compression (Qt-free).

Bilsky MH, Laufer I, Fourney DR, et al. Reliability analysis of the epidural spinal cord compression
scale. J Neurosurg Spine 2010;13(3):324-328: the ESCC grade is read on axial T2-weighted images at the
level of most severe compression.

How the weighting of an MR series is decided (:func:`mr_weighting`), first rule that answers wins:

1. **Inversion time** (TI, ms) present and > 0: TI < :data:`STIR_MAX_TI_MS` is STIR; TI >=
   :data:`FLAIR_MIN_TI_MS` is FLAIR; anything between is an inversion-prepared T1 (T1-FLAIR, MPRAGE).
2. **Gradient-echo T2\\*** named in the series description (``T2*``, ``MEDIC``, ``MERGE``, ``HEMO``):
   TE and TR alone cannot tell a T2\\* gradient echo from a T1 spin echo (the flip angle decides), so the
   name is trusted first.
3. **Echo and repetition times** (the physics of spin-echo contrast): long TR (>= :data:`LONG_TR_MIN_MS`)
   with long TE (>= :data:`T2_MIN_TE_MS`) is T2; long TR with short TE (<= :data:`PD_MAX_TE_MS`) is proton
   density; short TR (< :data:`SHORT_TR_MAX_MS`) with short TE (<= :data:`T1_MAX_TE_MS`) is T1. Other
   combinations are left to the description.
4. **Series description** tokens: STIR/TIRM, FLAIR, DWI/diffusion/ADC/trace, T2, T1, PD. A description
   naming both T1 and T2 decides nothing.

The times, when present, win over the description because they are what the scanner did; a description
is typed by a person. Anything undecided is reported as unknown, and the reminder says so.

Research software, not a diagnostic device.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BILSKY_IMAGE_RULE",
    "FLAIR_MIN_TI_MS",
    "LONG_TR_MIN_MS",
    "PD_MAX_TE_MS",
    "SHORT_TR_MAX_MS",
    "STIR_MAX_TI_MS",
    "T1_MAX_TE_MS",
    "T2_MIN_TE_MS",
    "MrWeighting",
    "WeightingDecision",
    "bilsky_image_reminder",
    "mr_weighting",
]

MrWeighting = Literal["T1", "T2", "PD", "STIR", "FLAIR", "T2*", "DWI"]

STIR_MAX_TI_MS = 300.0
"""Inversion times below this (ms) null fat: STIR (short tau inversion recovery)."""
FLAIR_MIN_TI_MS = 1500.0
"""Inversion times from this (ms) null fluid: FLAIR."""
LONG_TR_MIN_MS = 1200.0
"""Repetition time (ms) from which a spin echo is T2 or proton-density weighted (3D T2 TSE uses ~1200-1500)."""
SHORT_TR_MAX_MS = 1000.0
"""Repetition time (ms) below which a short-TE spin echo is T1 weighted."""
T2_MIN_TE_MS = 60.0
"""Echo time (ms) from which a long-TR spin echo is T2 weighted."""
PD_MAX_TE_MS = 45.0
"""Echo time (ms) up to which a long-TR spin echo is proton-density weighted."""
T1_MAX_TE_MS = 30.0
"""Echo time (ms) up to which a short-TR spin echo is T1 weighted."""

BILSKY_IMAGE_RULE = "Bilsky grading is done on axial T2-weighted MR at the level of worst compression."
"""The reminder's first sentence."""

_GRE_T2STAR = re.compile(r"T2\s*\*|\bT2STAR\b|\bMEDIC\b|\bMERGE\b|\bHEMO", re.IGNORECASE)
_DESCRIPTION_TOKENS: tuple[tuple[MrWeighting, re.Pattern[str]], ...] = (
    ("STIR", re.compile(r"STIR|TIRM", re.IGNORECASE)),
    ("FLAIR", re.compile(r"FLAIR", re.IGNORECASE)),
    ("DWI", re.compile(r"\bDWI|DIFFUSION|\bADC\b|\bTRACE[W]?\b|\bEP2D_DIFF", re.IGNORECASE)),
)
# "T2" as a weighting, not the vertebral level in "T2-T3" or "T2 level": T2 followed by W, a separator
# word or the end, but not by "-T" / "-3" (a level range) or digits.
_T2 = re.compile(r"(?<![A-Z0-9])T2(?![0-9])(?!\s*[-/\u2013]\s*[TL]?\d)", re.IGNORECASE)
_T1 = re.compile(r"(?<![A-Z0-9])T1(?![0-9])(?!\s*[-/\u2013]\s*[TL]?\d)", re.IGNORECASE)
_PD = re.compile(r"(?<![A-Z0-9])PD(?![A-Z0-9])|PROTON\s*DENSITY", re.IGNORECASE)


@dataclass(frozen=True)
class WeightingDecision:
    """An MR series' weighting (None when undecided) and what it was decided from, in words."""

    weighting: MrWeighting | None
    basis: str

    @property
    def is_t2(self) -> bool:
        """True for T2-weighted (spin echo) series; STIR, FLAIR and T2* are not the T2 Bilsky asks for."""
        return self.weighting == "T2"


def _ms(value: float | None) -> str:
    return f"{value:g} ms"


def _positive(value: float | None) -> float | None:
    return float(value) if value is not None and value > 0 else None


def mr_weighting(*, echo_time: float | None = None, repetition_time: float | None = None,
                 inversion_time: float | None = None, description: str = "") -> WeightingDecision:
    """The weighting of an MR series from its EchoTime, RepetitionTime, InversionTime (ms) and
    SeriesDescription, by the rules in the module docstring."""
    te, tr, ti = _positive(echo_time), _positive(repetition_time), _positive(inversion_time)
    desc = (description or "").strip()
    if ti is not None:
        basis = f"inversion time {_ms(ti)}"
        if ti < STIR_MAX_TI_MS:
            return WeightingDecision("STIR", basis)
        if ti >= FLAIR_MIN_TI_MS:
            return WeightingDecision("FLAIR", basis)
        return WeightingDecision("T1", basis + " (inversion-prepared T1)")
    if desc and _GRE_T2STAR.search(desc):
        return WeightingDecision("T2*", f"series description {desc!r}")
    if te is not None and tr is not None:
        basis = f"TE {_ms(te)}, TR {_ms(tr)}"
        if tr >= LONG_TR_MIN_MS and te >= T2_MIN_TE_MS:
            return WeightingDecision("T2", basis)
        if tr >= LONG_TR_MIN_MS and te <= PD_MAX_TE_MS:
            return WeightingDecision("PD", basis)
        if tr < SHORT_TR_MAX_MS and te <= T1_MAX_TE_MS:
            return WeightingDecision("T1", basis)
    if desc:
        basis = f"series description {desc!r}"
        for name, pattern in _DESCRIPTION_TOKENS:
            if pattern.search(desc):
                return WeightingDecision(name, basis)
        t2, t1 = bool(_T2.search(desc)), bool(_T1.search(desc))
        if t2 and not t1:
            return WeightingDecision("T2", basis)
        if t1 and not t2:
            return WeightingDecision("T1", basis)
        if _PD.search(desc) and not (t1 or t2):
            return WeightingDecision("PD", basis)
    known = []
    if te is not None:
        known.append(f"TE {_ms(te)}")
    if tr is not None:
        known.append(f"TR {_ms(tr)}")
    what = ", ".join(known) if known else "no echo/repetition time"
    return WeightingDecision(None, f"{what}; series description {desc!r}" if desc else what)


def bilsky_image_reminder(*, modality: str, orientation: str, acquired: bool,
                          weighting: WeightingDecision | None = None) -> str | None:
    """The reminder to show next to the Bilsky grades, or None when the image is an acquired axial
    T2-weighted MR slice.

    ``orientation`` is the plane shown ("axial", "sagittal", "coronal"; "" for no image), ``acquired``
    whether the plane shows the acquired slices (False for a reformat), ``weighting`` the MR weighting
    (:func:`mr_weighting`; ignored for other modalities).
    """
    if not orientation:
        return f"{BILSKY_IMAGE_RULE} No image is shown."
    mod = (modality or "").upper()
    if mod != "MR":
        return f"{BILSKY_IMAGE_RULE} The active view shows {mod or 'an image of unknown modality'} ({orientation})."
    w = weighting or WeightingDecision(None, "")
    if w.is_t2 and orientation == "axial" and acquired:
        return None
    wname = f"{w.weighting}-weighted MR" if w.weighting in ("T1", "T2", "PD") else (
        f"{w.weighting} MR" if w.weighting else "MR of unknown weighting")
    if orientation != "axial":
        plane = f"a {orientation} plane"
    elif not acquired:
        plane = "an axial reformat (not the acquired slices)"
    else:
        plane = "an axial slice"
    basis = f" ({w.basis})" if w.basis else ""
    return f"{BILSKY_IMAGE_RULE} The active view shows {plane} of {wname}{basis}."
