"""Follow-up figures as the reader sees them (Qt-free): the per-lesion table of timepoints, the summary lines
and the plot, shared by the Follow-up panel and the report so both say the same thing in the same words.
Lengths to 0.1 mm, per cent to 0.1 %, rates to 0.1 mm/month; a dash where there is nothing to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from imaging.followup.criteria import GROWTH_RATE_FLAG_MM_PER_MONTH, PARK_2009, RECIST_1_1
from imaging.followup.evaluate import FollowUp, LesionFollowUp
from imaging.followup.plot import PlotPoint, SizePlot, size_plot
from imaging.followup.timepoint_types import TIME_POINT_TYPES

__all__ = [
    "DASH",
    "COLUMN_WIDTHS_PCT",
    "TABLE_COLUMNS",
    "TableRow",
    "change_text",
    "lesion_plot",
    "lesion_summary",
    "lesion_table",
    "recist_summary",
    "sources_note",
    "timepoint_name",
]

DASH = "\u2014"
TABLE_COLUMNS: tuple[str, ...] = ("Date", "Timepoint", "Longest (mm)", "Change", "Growth (mm/mo)", "Bilsky",
                                  "SINS", "AP x LR x CC (mm)", "Volume (mL)", "vs baseline (mm, %)",
                                  "vs nadir (mm, %)")
COLUMN_WIDTHS_PCT: tuple[int, ...] = (10, 14, 8, 10, 8, 9, 4, 11, 8, 9, 9)
"""Relative widths of :data:`TABLE_COLUMNS` in the printed report."""


@dataclass(frozen=True)
class TableRow:
    """One timepoint row: its key (timepoint id or ``index:<finding id>``), the cells in
    :data:`TABLE_COLUMNS` order, whether its growth is flagged, and a tooltip for the change columns."""

    key: str
    cells: tuple[str, ...]
    flagged: bool
    detail: str


def _mm(v: float | None) -> str:
    return f"{v:.1f}" if v is not None else DASH


def change_text(delta: float | None, pct: float | None, unit: str = "mm") -> str:
    """``"-13.0 mm (-43.3 %)"``, ``"+0.0 mm (+0.0 %)"`` (``unit`` "" for a table column that names it), or a
    dash."""
    if delta is None:
        return DASH
    head = f"{delta:+.1f} {unit}".rstrip()
    return f"{head} ({pct:+.1f} %)" if pct is not None else head


def timepoint_name(label: str, time_point_type: str | None) -> str:
    """The reader's name for a timepoint, else the wording of its kind, else a dash."""
    if label:
        return label
    if time_point_type:
        return TIME_POINT_TYPES[time_point_type][0]
    return DASH


def lesion_table(lesion: LesionFollowUp) -> list[TableRow]:
    """The rows of a lesion's timepoint table, in date order."""
    rows = []
    for tp, sizes, ch in zip(lesion.timepoints, lesion.sizes, lesion.changes, strict=True):
        dims = DASH
        if sizes.ap_mm is not None and sizes.lr_mm is not None:
            dims = f"{sizes.ap_mm:.1f} x {sizes.lr_mm:.1f} x {_mm(sizes.cc_mm) if sizes.cc_mm is not None else '?'}"
        ld = ch.longest_diameter
        rate = ch.growth_rate_mm_per_month
        growth = f"{rate:+.1f}" if rate is not None else DASH
        if ch.growth_flag:
            growth += " !"
        bilsky = ch.observation.bilsky or DASH
        if ch.bilsky.text and ch.bilsky.direction != "unchanged":
            bilsky = f"{ch.bilsky.text} ({ch.bilsky.direction})"
        sins = str(ch.observation.sins_total) if ch.observation.sins_total is not None else DASH
        if ch.sins.text and ch.sins.direction != "unchanged":
            sins = f"{ch.sins.text} ({ch.sins.direction})"
        status = " (gone)" if tp.status == "absent" else ""
        name = timepoint_name(tp.info.label, tp.info.time_point_type) + status
        detail_lines = [f"{tp.study_date.isoformat() if tp.study_date else 'undated'}: {name}"]
        if ch.previous_date is not None:
            detail_lines.append(f"versus {ch.previous_date.isoformat()} ({ch.months_from_previous:.1f} months): "
                                f"{change_text(ch.vs_previous_mm, ch.vs_previous_pct)}")
        if ch.growth_flag:
            detail_lines.append(f"growth above {GROWTH_RATE_FLAG_MM_PER_MONTH / 10:g} cm/month ({PARK_2009.short})")
        detail_lines.extend(sizes.notes)
        rows.append(TableRow(
            key=tp.key, flagged=ch.growth_flag, detail="\n".join(detail_lines),
            cells=(tp.study_date.isoformat() if tp.study_date else DASH, name, _mm(ld.value), ch.size_change, growth,
                   bilsky, sins, dims, f"{sizes.volume_ml:.2f}" if sizes.volume_ml is not None else DASH,
                   change_text(ld.vs_baseline, ld.vs_baseline_pct, ""),
                   change_text(ld.vs_nadir, ld.vs_nadir_pct, ""))))
    return rows


def lesion_summary(follow: FollowUp, lesion: LesionFollowUp) -> list[str]:
    """Short lines about a lesion's follow-up: span, last change, Park et al.'s rate, RECIST."""
    lines = []
    tps = lesion.timepoints
    if len(tps) > 1 and tps[0].study_date and tps[-1].study_date:
        months = lesion.changes[-1].months_from_baseline
        lines.append(f"{len(tps)} timepoints, {tps[0].study_date.isoformat()} to {tps[-1].study_date.isoformat()} "
                     f"({months:.1f} months); last: {lesion.changes[-1].size_change}")
    elif tps:
        lines.append("One timepoint: link a measurement of a later study to follow this lesion.")
    if lesion.park_rate_mm_per_month is not None:
        flag = "above" if lesion.park_flag else "not above"
        lines.append(f"Local recurrence growth rate (size / months since resection): "
                     f"{lesion.park_rate_mm_per_month / 10:.2f} cm/month, {flag} 0.9 cm/month ({PARK_2009.short})")
    f = lesion.finding
    if f.recist_target:
        if f.id in follow.targets:
            m = lesion.measurability
            lines.append("RECIST 1.1 target lesion" + (f": {m.reason}" if m is not None else ""))
        else:
            lines.append(f"Marked as a RECIST target but left out: {follow.excluded.get(f.id, 'not evaluable')}")
    return lines


def recist_summary(follow: FollowUp) -> list[str]:
    """One line per date with the case's RECIST 1.1 target response, or nothing without targets. A new
    lesion is a finding first recorded at that date: it is named, for the reader to confirm it is new."""
    if not follow.targets:
        return []
    lines = [f"RECIST 1.1 ({RECIST_1_1.short}), {len(follow.targets)} target lesion(s); target-lesion response "
             "with new lesions (non-target lesions are the reader's to judge):"]
    for r in follow.recist:
        total = sum(d for d in r.diameters if d is not None)
        if r.response is None:
            lines.append(f"{r.study_date.isoformat()}: baseline, sum of diameters {total:.1f} mm")
            continue
        t = r.response
        lines.append(f"{r.study_date.isoformat()}: {t.response.value} ({t.response.wording}), sum "
                     f"{_mm(t.sum_mm)} mm, {change_text(t.change_from_baseline_mm, t.change_from_baseline_pct)} "
                     f"from baseline, {change_text(t.change_from_nadir_mm, t.change_from_nadir_pct)} from the nadir"
                     f" ({t.nadir_sum_mm:.1f} mm)")
        if r.new_lesions:
            names = ", ".join(x.finding.label or x.finding.id for x in follow.lesions if x.finding.id in r.new_lesions)
            lines[-1] += f"; new lesion (first recorded at this date): {names}"
    lines.extend(follow.warnings)
    return lines


def sources_note() -> str:
    return (f"1 month = 30.4375 days. Growth flag above {GROWTH_RATE_FLAG_MM_PER_MONTH / 10:g} cm/month: "
            f"{PARK_2009.short} (doi:{PARK_2009.doi}). RECIST 1.1: {RECIST_1_1.short} (doi:{RECIST_1_1.doi}). "
            "Size change per lesion: RECIST thresholds (>= 20 % and >= 5 mm increase, >= 30 % decrease) applied "
            "to its longest diameter versus the previous timepoint.")


def lesion_plot(lesion: LesionFollowUp) -> SizePlot:
    """The lesion's longest diameter over time (the flagged timepoints marked)."""
    points = [PlotPoint(study_date=tp.study_date, value_mm=ch.longest_diameter.value, key=tp.key,
                        flagged=ch.growth_flag, absent=tp.status == "absent")
              for tp, ch in zip(lesion.timepoints, lesion.changes, strict=True) if tp.study_date is not None]
    return size_plot(points, title=lesion.finding.label or "Lesion")
