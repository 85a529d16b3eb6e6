"""Growth rates from study dates (Qt-free).

A month is :data:`~imaging.followup.criteria.DAYS_PER_MONTH` = 30.4375 days (365.25 / 12), so a rate depends
only on the number of days between the studies, never on which calendar months lie between them. Dates are
calendar dates (DICOM StudyDate); the interval is whole days.

Two rates:

* :func:`growth_rate_mm_per_month` — the change of a diameter between two studies divided by the months
  between them (interval growth, what the follow-up table shows);
* :func:`park_growth_rate_mm_per_month` — Park et al.'s local recurrence growth rate: the recurrence's
  size divided by the months from the primary resection to the study that found it.

Both are compared with the same flag, :func:`exceeds_growth_flag` (above 0.9 cm = 9 mm per month).
"""

from __future__ import annotations

from datetime import date

from imaging.followup.criteria import DAYS_PER_MONTH, GROWTH_RATE_FLAG_MM_PER_MONTH

__all__ = [
    "exceeds_growth_flag",
    "growth_rate_mm_per_month",
    "months_between",
    "park_growth_rate_mm_per_month",
]


def months_between(start: date, end: date) -> float:
    """Months from ``start`` to ``end`` (negative when ``end`` is earlier): whole days / 30.4375."""
    return (end - start).days / DAYS_PER_MONTH


def growth_rate_mm_per_month(start: date, start_mm: float, end: date, end_mm: float) -> float | None:
    """(end_mm - start_mm) / months from ``start`` to ``end``, in mm per month (negative when the lesion
    shrank); None when both studies are on the same day (no interval to divide by)."""
    months = months_between(start, end)
    if months == 0:
        return None
    return (end_mm - start_mm) / months


def park_growth_rate_mm_per_month(size_mm: float, resection: date, detected: date) -> float | None:
    """Park et al. (Ann Surg 2009): a local recurrence's radiographic size (here its longest diameter, mm)
    divided by the time from the primary resection to the study that found it, in mm per month. None when
    the study is not after the resection."""
    months = months_between(resection, detected)
    if months <= 0:
        return None
    return size_mm / months


def exceeds_growth_flag(rate_mm_per_month: float | None) -> bool:
    """True when a growth rate is above 9 mm (0.9 cm) per month; exactly 9 mm/month is not flagged."""
    return rate_mm_per_month is not None and rate_mm_per_month > GROWTH_RATE_FLAG_MM_PER_MONTH
