"""The follow-up CSV (Qt-free): one row per lesion and timepoint with its sizes, change figures, growth rate,
Bilsky and SINS change and the RECIST 1.1 response at that date. Format as the other CSV exports
(:mod:`imaging.case.export_csv`: RFC 4180, UTF-8, full-precision numbers, formula injection neutralised).

Columns (:data:`FOLLOWUP_COLUMNS`), empty when not applicable:

* the lesion and timepoint: ``finding_id``, ``finding_label``, ``timepoint_id`` ("index" for the finding's
  own timepoint), ``timepoint_order`` (1 = the lesion's baseline), ``study_date``, ``timepoint_label``,
  ``time_point_type`` (CID 6146 key), ``months_from_baseline`` (1 month = 30.4375 days), ``status``
  (present/absent), ``levels``;
* sizes in mm (volume mL) and their change versus the lesion's baseline and nadir (the smallest earlier
  value), signed, in the unit and in per cent: ``longest_diameter_mm``, ``ap_mm``, ``lr_mm``, ``cc_mm``,
  ``volume_ml``, each with ``*_change_from_baseline``, ``*_change_from_baseline_pct``, ``*_nadir``,
  ``*_change_from_nadir``, ``*_change_from_nadir_pct``;
* versus the previous measured timepoint: ``previous_study_date``, ``months_from_previous``,
  ``longest_diameter_change_from_previous_mm`` and ``_pct``, ``size_change`` in words ("no significant
  change", "increase", "decrease", "disappeared", "reappeared", "baseline", "not measured");
* growth: ``growth_rate_mm_per_month`` (since the previous timepoint), ``growth_rate_since_baseline_mm_per_month``,
  ``growth_above_0_9_cm_per_month`` (1/0), ``park_growth_rate_mm_per_month`` and ``park_above_0_9_cm_per_month``
  (a local recurrence with its resection date: size at first detection / months since the resection);
* ``bilsky_grade`` (text "Bilsky 3"), ``bilsky_change`` ("3 -> 0"), ``bilsky_direction``
  (better/worse/unchanged), ``sins_total``, ``sins_category``, ``sins_change``, ``sins_direction``;
* RECIST 1.1: ``recist_target`` (1/0), ``recist_measurable`` at baseline (yes/no/unknown),
  ``recist_new_lesion`` (1: this lesion is new at this date), and for the case at this date
  ``recist_sum_mm``, ``recist_change_from_baseline_pct``, ``recist_nadir_sum_mm``,
  ``recist_change_from_nadir_mm``, ``recist_change_from_nadir_pct``, ``recist_response`` (CR, PR, SD, PD,
  NE; empty at baseline), ``recist_reasons``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imaging.case.export_csv import rows_to_csv
from imaging.case.model import Case
from imaging.followup.change import Change
from imaging.followup.evaluate import FollowUp, evaluate_follow_up

__all__ = ["FOLLOWUP_COLUMNS", "FOLLOWUP_NUMERIC", "followup_rows", "write_followup_csv"]

_SIZES = ("longest_diameter_mm", "ap_mm", "lr_mm", "cc_mm", "volume_ml")
_CHANGE_SUFFIXES = ("", "_change_from_baseline", "_change_from_baseline_pct", "_nadir", "_change_from_nadir",
                    "_change_from_nadir_pct")


def _size_columns() -> tuple[str, ...]:
    return tuple(f"{s}{suffix}" for s in _SIZES for suffix in _CHANGE_SUFFIXES)


FOLLOWUP_COLUMNS: tuple[str, ...] = (
    "case_id", "patient_id", "finding_id", "finding_label", "timepoint_id", "timepoint_order", "study_date",
    "timepoint_label", "time_point_type", "months_from_baseline", "status", "levels",
    *_size_columns(),
    "previous_study_date", "months_from_previous", "longest_diameter_change_from_previous_mm",
    "longest_diameter_change_from_previous_pct", "size_change",
    "growth_rate_mm_per_month", "growth_rate_since_baseline_mm_per_month", "growth_above_0_9_cm_per_month",
    "park_growth_rate_mm_per_month", "park_above_0_9_cm_per_month",
    "bilsky_grade", "bilsky_change", "bilsky_direction", "sins_total", "sins_category", "sins_change",
    "sins_direction",
    "recist_target", "recist_measurable", "recist_new_lesion", "recist_sum_mm", "recist_change_from_baseline_pct",
    "recist_nadir_sum_mm", "recist_change_from_nadir_mm", "recist_change_from_nadir_pct", "recist_response",
    "recist_reasons",
)
FOLLOWUP_NUMERIC: frozenset[str] = frozenset({
    "timepoint_order", "months_from_baseline", *(c for c in _size_columns()),
    "months_from_previous", "longest_diameter_change_from_previous_mm", "longest_diameter_change_from_previous_pct",
    "growth_rate_mm_per_month", "growth_rate_since_baseline_mm_per_month", "growth_above_0_9_cm_per_month",
    "park_growth_rate_mm_per_month", "park_above_0_9_cm_per_month", "sins_total", "recist_target",
    "recist_new_lesion", "recist_sum_mm", "recist_change_from_baseline_pct", "recist_nadir_sum_mm",
    "recist_change_from_nadir_mm", "recist_change_from_nadir_pct",
})
"""Columns written as numbers (never prefixed against formula injection)."""


def _change_cells(name: str, c: Change) -> dict[str, Any]:
    return {name: c.value, f"{name}_change_from_baseline": c.vs_baseline,
            f"{name}_change_from_baseline_pct": c.vs_baseline_pct, f"{name}_nadir": c.nadir,
            f"{name}_change_from_nadir": c.vs_nadir, f"{name}_change_from_nadir_pct": c.vs_nadir_pct}


def followup_rows(case: Case, follow: FollowUp | None = None) -> list[dict[str, Any]]:
    """One dict per lesion and timepoint, keyed by :data:`FOLLOWUP_COLUMNS` (values unformatted)."""
    follow = follow or evaluate_follow_up(case)
    rows: list[dict[str, Any]] = []
    for lesion in follow.lesions:
        f = lesion.finding
        meas = lesion.measurability
        measurable = "" if meas is None else {True: "yes", False: "no", None: "unknown"}[meas.measurable]
        for tp, ch in zip(lesion.timepoints, lesion.changes, strict=True):
            recist = follow.recist_at(tp.study_date) if follow.targets else None
            r = recist.response if recist is not None else None
            row: dict[str, Any] = {
                "case_id": case.case_id, "patient_id": case.patient.id, "finding_id": f.id,
                "finding_label": f.label, "timepoint_id": tp.timepoint_id or "index", "timepoint_order": ch.order,
                "study_date": tp.study_date.isoformat() if tp.study_date else "", "timepoint_label": tp.info.label,
                "time_point_type": tp.info.time_point_type or "", "months_from_baseline": ch.months_from_baseline,
                "status": tp.status, "levels": tp.levels_text,
                **_change_cells("longest_diameter_mm", ch.longest_diameter), **_change_cells("ap_mm", ch.ap),
                **_change_cells("lr_mm", ch.lr), **_change_cells("cc_mm", ch.cc),
                **_change_cells("volume_ml", ch.volume),
                "previous_study_date": ch.previous_date.isoformat() if ch.previous_date else "",
                "months_from_previous": ch.months_from_previous,
                "longest_diameter_change_from_previous_mm": ch.vs_previous_mm,
                "longest_diameter_change_from_previous_pct": ch.vs_previous_pct, "size_change": ch.size_change,
                "growth_rate_mm_per_month": ch.growth_rate_mm_per_month,
                "growth_rate_since_baseline_mm_per_month": ch.growth_rate_since_baseline_mm_per_month,
                "growth_above_0_9_cm_per_month": int(ch.growth_flag) if ch.growth_rate_mm_per_month is not None
                else None,
                "park_growth_rate_mm_per_month": lesion.park_rate_mm_per_month,
                "park_above_0_9_cm_per_month": int(lesion.park_flag) if lesion.park_rate_mm_per_month is not None
                else None,
                "bilsky_grade": f"Bilsky {ch.observation.bilsky}" if ch.observation.bilsky else "",
                "bilsky_change": ch.bilsky.text, "bilsky_direction": ch.bilsky.direction,
                "sins_total": ch.observation.sins_total, "sins_category": ch.observation.sins_category or "",
                "sins_change": ch.sins.text, "sins_direction": ch.sins.direction,
                "recist_target": int(f.id in follow.targets), "recist_measurable": measurable,
                "recist_new_lesion": int(recist is not None and f.id in recist.new_lesions),
            }
            if r is not None:
                row.update({
                    "recist_sum_mm": r.sum_mm, "recist_change_from_baseline_pct": r.change_from_baseline_pct,
                    "recist_nadir_sum_mm": r.nadir_sum_mm, "recist_change_from_nadir_mm": r.change_from_nadir_mm,
                    "recist_change_from_nadir_pct": r.change_from_nadir_pct, "recist_response": r.response.value,
                    "recist_reasons": "; ".join(r.reasons)})
            elif recist is not None:  # the baseline
                row["recist_sum_mm"] = sum(d for d in recist.diameters if d is not None)
            rows.append(row)
    return rows


def write_followup_csv(case: Case, path: str | Path) -> Path:
    """Write the follow-up CSV (atomically)."""
    from imaging.case.store import atomic_write

    text = rows_to_csv(followup_rows(case), FOLLOWUP_COLUMNS, numeric=FOLLOWUP_NUMERIC)
    return atomic_write(path, text.encode("utf-8"))
