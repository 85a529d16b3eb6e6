"""CSV exports of a case (Qt-free): one row per measurement value, or one row per finding.

Format: RFC 4180 (comma, double-quote quoting, CRLF line ends; labels with commas, quotes and line breaks
survive a round trip through Python's ``csv`` module), UTF-8 without BOM, '.' as the decimal mark, floats
at full precision (``repr``: they parse back to the identical float). Times are ISO 8601 UTC with "Z".

Spreadsheet formula injection (OWASP "CSV Injection"): a *text* cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading single quote, so a spreadsheet shows it as text and never
evaluates it. Number cells (``value`` and the numeric finding columns) are written as numbers and never
prefixed: ``-12.5`` stays a negative number. :func:`unneutralise` undoes the prefix when reading back.

Columns are exactly :data:`MEASUREMENT_COLUMNS` and :data:`FINDING_COLUMNS`. Empty cells mean "none".
``measurement_type`` names the value as well as the kind: the kind alone when the value is the kind's own
(``length``, ``angle``, ``cc_extent``), else ``kind.value`` (``bidirectional.long_axis``,
``bidirectional.short_axis``, ``ellipse_roi.area``, ``ellipse_roi.mean``, ``cc_extent.length``,
``cobb.cobb_angle``, ``probe.value``...). A probe or ROI whose statistics were never computed has no
statistics rows.
Measurement ``levels``: the levels the measurement's points lie in (from the vertebral labels), else its
finding's levels. ``instance_number``: the DICOM InstanceNumber of the image drawn on (the image number
PACS viewers show; empty on a reformat); ``slice_position_mm``: the plane's LPS coordinate along the axis
nearest its normal (S for axial, L for sagittal, P for coronal planes). Finding ``*_mm`` /
``ellipsoid_volume_ml`` are blank when a source has no pixel spacing (never a fake mm; the per-measurement CSV
carries those values in px).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from imaging.case.analysis import escc_group_of, lesion_dimensions, level_at_point
from imaging.case.model import Case, Finding, Measurement
from imaging.spine.levels import LevelRange, level_index

__all__ = [
    "FINDING_COLUMNS",
    "MEASUREMENT_COLUMNS",
    "finding_rows",
    "measurement_rows",
    "neutralise",
    "rows_to_csv",
    "unneutralise",
    "write_findings_csv",
    "write_measurements_csv",
]

MEASUREMENT_COLUMNS: tuple[str, ...] = (
    "case_id", "patient_id", "study_instance_uid", "study_date", "series_instance_uid", "series_description",
    "modality", "sop_instance_uid", "instance_number", "slice_position_mm", "frame_of_reference_uid", "finding_id",
    "finding_label", "levels",
    "measurement_id", "measurement_type", "label", "value", "unit", "plane", "points_lps", "reader", "created_utc",
)
FINDING_COLUMNS: tuple[str, ...] = (
    "case_id", "patient_id", "finding_id", "finding_label", "level_from", "level_to", "levels", "lesion_type",
    "bilsky_grade", "bilsky_level", "bilsky_sop_instance_uid", "bilsky_suggested", "escc_group", "sins_total",
    "sins_category", "long_axis_mm", "short_axis_mm", "cc_extent_mm", "ellipsoid_volume_ml", "reader",
    "updated_utc",
)
_NUMERIC = frozenset({"value", "instance_number", "slice_position_mm", "sins_total", "long_axis_mm",
                      "short_axis_mm", "cc_extent_mm", "ellipsoid_volume_ml"})
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix a single quote to a text cell a spreadsheet would take as a formula (OWASP)."""
    return "'" + text if text.startswith(_DANGEROUS) else text


def unneutralise(text: str) -> str:
    """Undo :func:`neutralise` (for reading an export back)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_DANGEROUS) else text


def _iso(t: datetime | None) -> str:
    return t.isoformat().replace("+00:00", "Z") if t is not None else ""


def _num(v: float | int | None) -> str:
    if v is None:
        return ""
    return repr(int(v)) if isinstance(v, int) and not isinstance(v, bool) else repr(float(v))


def _cell(column: str, value: Any, numeric: frozenset[str] = _NUMERIC) -> str:
    if column in numeric:
        return value if isinstance(value, str) else _num(value)
    text = "" if value is None else str(value)
    return neutralise(text)


def rows_to_csv(rows: Iterable[dict[str, Any]], columns: tuple[str, ...], numeric: frozenset[str] = _NUMERIC
                ) -> str:
    """RFC 4180 CSV text (CRLF) of ``rows`` with exactly ``columns``, cells made safe (see module doc);
    ``numeric``: the columns written as numbers (default: this module's)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(columns)
    for row in rows:
        w.writerow([_cell(c, row.get(c), numeric) for c in columns])
    return buf.getvalue()


def _levels_text(levels: Iterable[str]) -> str:
    found = sorted(set(levels), key=level_index)
    return str(LevelRange(found[0], found[-1])) if found else ""


def measurement_levels(case: Case, m: Measurement) -> str:
    """The level range a measurement lies in (its points against the vertebral labels), else its finding's."""
    text = _levels_text(lv for p in m.points if (lv := level_at_point(p, case.vertebral_labels)) is not None)
    if not text and m.finding_id:
        text = case.finding(m.finding_id).levels_text
    return text


def slice_position(m: Measurement) -> float:
    """Where the measurement's plane lies along the patient axis nearest its normal (LPS mm, full precision):
    S for an axial plane, L for a sagittal, P for a coronal one (the ``plane`` column says which)."""
    centre = np.mean(np.asarray(m.points, dtype=np.float64), axis=0)
    return float(centre[int(np.argmax(np.abs(np.asarray(m.plane.normal, dtype=np.float64))))])


def measurement_rows(case: Case) -> list[dict[str, Any]]:
    """One dict per measurement value, keyed by :data:`MEASUREMENT_COLUMNS` (values unformatted)."""
    rows = []
    for m in case.measurements:
        series = case.series_ref(m.series_instance_uid)
        study = case.study_ref(series.study_instance_uid if series else None)
        finding = case.finding(m.finding_id) if m.finding_id else None
        base = {
            "case_id": case.case_id, "patient_id": case.patient.id,
            "study_instance_uid": study.study_instance_uid if study else (series.study_instance_uid if series else ""),
            "study_date": study.study_date.isoformat() if study and study.study_date else "",
            "series_instance_uid": m.series_instance_uid or "",
            "series_description": series.description if series else "",
            "modality": series.modality if series else "",
            "sop_instance_uid": m.sop_instance_uid or "",
            "instance_number": m.instance_number, "slice_position_mm": slice_position(m),
            "frame_of_reference_uid": (series.frame_of_reference_uid or "") if series else "",
            "finding_id": m.finding_id or "", "finding_label": finding.label if finding else "",
            "levels": measurement_levels(case, m),
            "measurement_id": m.id, "measurement_type": m.kind, "label": m.label,
            "plane": m.plane.orientation, "points_lps": json.dumps([list(p) for p in m.points]),
            "reader": m.reader, "created_utc": _iso(m.created_utc),
        }
        for v in m.values():
            kind = m.kind if v.name == m.kind else f"{m.kind}.{v.name}"
            rows.append({**base, "measurement_type": kind, "value": v.value, "unit": v.unit})
    return rows


def _finding_row(case: Case, f: Finding) -> dict[str, Any]:
    dims = lesion_dimensions(case, f.id)
    mm = dims is not None and dims.unit == "mm"
    score = f.sins_score()
    return {
        "case_id": case.case_id, "patient_id": case.patient.id, "finding_id": f.id, "finding_label": f.label,
        "level_from": f.level_from or "", "level_to": f.level_to or "", "levels": f.levels_text,
        "lesion_type": f.lesion_type or "", "bilsky_grade": f.bilsky.grade or "",
        "bilsky_level": f.bilsky.level or "", "bilsky_sop_instance_uid": f.bilsky.sop_instance_uid or "",
        "bilsky_suggested": f.bilsky.suggested_grade or "", "escc_group": escc_group_of(f.bilsky.grade),
        "sins_total": score.total if score else None, "sins_category": score.category.label if score else "",
        "long_axis_mm": dims.long_axis if mm and dims else None,
        "short_axis_mm": dims.short_axis if mm and dims else None,
        "cc_extent_mm": dims.cc if mm and dims else None,
        "ellipsoid_volume_ml": dims.volume if mm and dims else None,
        "reader": f.reader, "updated_utc": _iso(f.updated_utc),
    }


def finding_rows(case: Case) -> list[dict[str, Any]]:
    """One dict per finding, keyed by :data:`FINDING_COLUMNS` (values unformatted)."""
    return [_finding_row(case, f) for f in case.findings]


def write_measurements_csv(case: Case, path: str | Path) -> Path:
    """Write the per-measurement-value CSV (atomically)."""
    from imaging.case.store import atomic_write

    return atomic_write(path, rows_to_csv(measurement_rows(case), MEASUREMENT_COLUMNS).encode("utf-8"))


def write_findings_csv(case: Case, path: str | Path) -> Path:
    """Write the per-finding CSV (atomically)."""
    from imaging.case.store import atomic_write

    return atomic_write(path, rows_to_csv(finding_rows(case), FINDING_COLUMNS).encode("utf-8"))
