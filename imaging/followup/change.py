"""One lesion's change over its timepoints (Qt-free, plain data in, plain data out).

:func:`lesion_changes` takes a lesion's observations in date order — at each study date its sizes (longest
diameter, AP, LR and CC in mm, ellipsoid volume in mL), whether it is present or gone, its Bilsky grade and
SINS — and gives, per timepoint:

* each size's change versus the **baseline** (the lesion's first timepoint) and versus the **nadir** (the
  smallest value at any earlier timepoint, baseline included), in its unit and in per cent;
* the change of the longest diameter versus the **previous** measured timepoint, the months between them
  and the **growth rate** (mm per month, a month being 30.4375 days), flagged above 0.9 cm/month; the rate
  since baseline too (not flagged: an average over the whole follow-up);
* a **size change** in words versus the previous measured timepoint: "increase" (at least 20 % and at least
  5 mm), "decrease" (at least 30 %), "no significant change" otherwise, "disappeared", "reappeared",
  "not measured" — the RECIST 1.1 thresholds applied to one lesion's longest diameter (RECIST defines them
  on the sum of the target diameters; this per-lesion wording is SpineCase's);
* the **Bilsky** grade's change ("3 -> 0", improved/worse/unchanged) and the **SINS** total's change
  versus the previous timepoint that has one.

A lesion that has disappeared counts 0 mm (as RECIST counts a target lesion that is gone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from imaging.followup.criteria import (
    RECIST_PD_MIN_ABSOLUTE_INCREASE_MM,
    RECIST_PD_MIN_INCREASE_FRACTION,
    RECIST_PR_MIN_DECREASE_FRACTION,
    THRESHOLD_TOLERANCE_MM,
)
from imaging.followup.growth import exceeds_growth_flag, growth_rate_mm_per_month, months_between
from imaging.spine.bilsky import bilsky_ordinal

__all__ = [
    "SIZE_CHANGES",
    "Change",
    "LesionObservation",
    "LesionTimepointChange",
    "ScoreChange",
    "SizeChange",
    "compare_sizes",
    "lesion_changes",
]

LesionStatus = Literal["present", "absent"]
SizeChange = Literal["baseline", "no significant change", "increase", "decrease", "disappeared", "reappeared",
                     "not measured"]
SIZE_CHANGES: tuple[str, ...] = ("baseline", "no significant change", "increase", "decrease", "disappeared",
                                 "reappeared", "not measured")


@dataclass(frozen=True)
class LesionObservation:
    """A lesion at one study date. Sizes in mm (``volume_ml`` in mL), None when not measured; ``status``
    "absent" when the reader found it gone (then its sizes count 0)."""

    study_date: date
    longest_diameter_mm: float | None = None
    ap_mm: float | None = None
    lr_mm: float | None = None
    cc_mm: float | None = None
    volume_ml: float | None = None
    status: LesionStatus = "present"
    bilsky: str | None = None
    sins_total: int | None = None
    sins_category: str | None = None
    key: str = field(default="", compare=False)
    """The caller's handle for this timepoint (e.g. a timepoint id), passed through."""

    def size(self, name: str) -> float | None:
        """A size by name (``longest_diameter_mm``, ``ap_mm``, ``lr_mm``, ``cc_mm``, ``volume_ml``); 0 when
        the lesion is absent."""
        if self.status == "absent":
            return 0.0
        value: float | None = getattr(self, name)
        return value


@dataclass(frozen=True)
class Change:
    """One size at one timepoint with its change versus the baseline and the nadir (signed; per cent of the
    reference; None where a value or reference is missing or the reference is 0)."""

    value: float | None
    baseline: float | None
    nadir: float | None
    vs_baseline: float | None
    vs_baseline_pct: float | None
    vs_nadir: float | None
    vs_nadir_pct: float | None


@dataclass(frozen=True)
class ScoreChange:
    """A grade or score versus the previous timepoint that has one: ``text`` like "3 -> 0"; ``direction``
    "better", "worse", "unchanged" or "" (nothing to compare)."""

    value: str
    previous: str
    text: str
    direction: Literal["better", "worse", "unchanged", ""]


@dataclass(frozen=True)
class LesionTimepointChange:
    """Everything :func:`lesion_changes` computes for one timepoint (see the module docstring)."""

    observation: LesionObservation
    order: int
    is_baseline: bool
    months_from_baseline: float
    longest_diameter: Change
    ap: Change
    lr: Change
    cc: Change
    volume: Change
    previous_date: date | None
    months_from_previous: float | None
    vs_previous_mm: float | None
    vs_previous_pct: float | None
    growth_rate_mm_per_month: float | None
    growth_rate_since_baseline_mm_per_month: float | None
    growth_flag: bool
    size_change: SizeChange
    bilsky: ScoreChange
    sins: ScoreChange


def _pct(change: float | None, reference: float | None) -> float | None:
    if change is None or reference is None or reference <= 0:
        return None
    return 100.0 * change / reference


def _change(values: Sequence[float | None], i: int) -> Change:
    value = values[i]
    baseline = values[0]
    earlier = [v for v in values[:i] if v is not None]
    nadir = min(earlier) if earlier else None
    vs_b = value - baseline if value is not None and baseline is not None and i > 0 else None
    vs_n = value - nadir if value is not None and nadir is not None else None
    return Change(value=value, baseline=baseline, nadir=nadir, vs_baseline=vs_b, vs_baseline_pct=_pct(vs_b, baseline),
                  vs_nadir=vs_n, vs_nadir_pct=_pct(vs_n, nadir))


def compare_sizes(previous_mm: float, current_mm: float) -> SizeChange:
    """A lesion's longest diameter now versus before, in words (thresholds count at their value):
    "increase" (>= 20 % and >= 5 mm), "decrease" (>= 30 %), "disappeared" (now 0), "reappeared" (was 0),
    else "no significant change"."""
    tol = THRESHOLD_TOLERANCE_MM
    if current_mm == 0 and previous_mm > 0:
        return "disappeared"
    if previous_mm == 0:
        return "reappeared" if current_mm > 0 else "no significant change"
    delta = current_mm - previous_mm
    if (delta >= RECIST_PD_MIN_INCREASE_FRACTION * previous_mm - tol
            and delta >= RECIST_PD_MIN_ABSOLUTE_INCREASE_MM - tol):
        return "increase"
    if -delta >= RECIST_PR_MIN_DECREASE_FRACTION * previous_mm - tol:
        return "decrease"
    return "no significant change"


def _score_change(values: Sequence[str | None], i: int, rank: Callable[[str], int]) -> ScoreChange:
    value = values[i]
    previous = next((v for v in reversed(values[:i]) if v is not None), None)
    if value is None or previous is None:
        return ScoreChange(value or "", previous or "", "", "")
    a, b = rank(previous), rank(value)
    direction: Literal["better", "worse", "unchanged"] = "unchanged" if a == b else ("better" if b < a else "worse")
    return ScoreChange(value, previous, f"{previous} -> {value}", direction)


def lesion_changes(observations: Sequence[LesionObservation]) -> list[LesionTimepointChange]:
    """The change figures of one lesion at each of its timepoints (``observations`` in any order; the result
    is in date order, the first being the baseline). Raises ValueError for two observations on one date."""
    obs = sorted(observations, key=lambda o: o.study_date)
    dates = [o.study_date for o in obs]
    if len(set(dates)) != len(dates):
        raise ValueError("a lesion has two timepoints on the same study date")
    if not obs:
        return []
    sizes = {name: [o.size(name) for o in obs] for name in ("longest_diameter_mm", "ap_mm", "lr_mm", "cc_mm",
                                                             "volume_ml")}
    ld = sizes["longest_diameter_mm"]
    bilsky = [o.bilsky if o.status == "present" else None for o in obs]
    sins = [str(o.sins_total) if o.sins_total is not None else None for o in obs]
    out: list[LesionTimepointChange] = []
    for i, o in enumerate(obs):
        prev_i = next((j for j in range(i - 1, -1, -1) if ld[j] is not None), None)
        cur = ld[i]
        prev_value = ld[prev_i] if prev_i is not None else None
        prev_date = obs[prev_i].study_date if prev_i is not None else None
        months_prev = months_between(prev_date, o.study_date) if prev_date is not None else None
        vs_prev = cur - prev_value if cur is not None and prev_value is not None else None
        rate = (growth_rate_mm_per_month(prev_date, prev_value, o.study_date, cur)
                if cur is not None and prev_value is not None and prev_date is not None else None)
        rate_b = (growth_rate_mm_per_month(obs[0].study_date, ld[0], o.study_date, cur)
                  if i > 0 and cur is not None and ld[0] is not None else None)
        size_change: SizeChange
        if o.status == "absent":
            size_change = "disappeared" if i > 0 else "not measured"
        elif cur is None:
            size_change = "not measured"
        elif i == 0:
            size_change = "baseline"
        elif prev_value is None:
            size_change = "baseline"  # the first timepoint with a measurement
        else:
            size_change = compare_sizes(prev_value, cur)
        out.append(LesionTimepointChange(
            observation=o, order=i + 1, is_baseline=i == 0,
            months_from_baseline=months_between(obs[0].study_date, o.study_date),
            longest_diameter=_change(ld, i), ap=_change(sizes["ap_mm"], i), lr=_change(sizes["lr_mm"], i),
            cc=_change(sizes["cc_mm"], i), volume=_change(sizes["volume_ml"], i),
            previous_date=prev_date, months_from_previous=months_prev, vs_previous_mm=vs_prev,
            vs_previous_pct=_pct(vs_prev, prev_value),
            growth_rate_mm_per_month=rate, growth_rate_since_baseline_mm_per_month=rate_b,
            growth_flag=exceeds_growth_flag(rate),
            size_change=size_change,
            bilsky=_score_change(bilsky, i, bilsky_ordinal), sins=_score_change(sins, i, int)))
    return out
