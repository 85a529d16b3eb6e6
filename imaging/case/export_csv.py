"""CSV exports of a case (Qt-free): one row per measurement value, one row per finding, one row per finding
and level (``docs/dicom-interop.md`` documents every column).

Format: RFC 4180 (comma, double-quote quoting, CRLF line ends; labels with commas, quotes and line breaks
survive a round trip through Python's ``csv`` module), UTF-8 without BOM, '.' as the decimal mark, floats
at full precision (``repr``: they parse back to the identical float). Times are ISO 8601 UTC with "Z".

Spreadsheet formula injection (OWASP "CSV Injection"): a *text* cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading single quote, so a spreadsheet shows it as text and never
evaluates it. Number cells (``value`` and the numeric finding columns) are written as numbers and never
prefixed: ``-12.5`` stays a negative number. :func:`unneutralise` undoes the prefix when reading back.

Columns are exactly :data:`MEASUREMENT_COLUMNS`, :func:`finding_columns` and :data:`LEVEL_COLUMNS`. Empty
cells mean "none". Every column has one type in every file, so a reader (pandas...) infers the same type
from any export: ``measurement_type`` is the measurement's kind (its registered key) and ``value_name`` the
value's name from the kind's spec (one row per measurement and value name: ``bidirectional``/``long_axis``,
``cc_extent``/``cc_extent`` (the craniocaudal extent) and ``cc_extent``/``length`` (the segment's
length)...); the score columns of the findings CSV come from the score registry (each score's
``csv_columns``: Bilsky grades as text in every file, ``"Bilsky 3"``, ``"Bilsky 1b"`` -- a bare ``3`` would
read as a number in one file and ``1b`` as text in another; SINS total and category; then any other
registered finding score's; a case-level score's columns come last, the same on every row). A probe or
ROI whose statistics were never computed has no statistics rows.
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

from imaging.case.analysis import lesion_dimensions, level_at_point
from imaging.case.model import SECTORS, Case, Finding, Measurement
from imaging.scores import ScoreSpec, answers_of, registered_scores, result_of
from imaging.scores.bilsky import grade_text
from imaging.spine.levels import LevelRange, level_index

__all__ = [
    "FINDING_COLUMNS",
    "LEVEL_COLUMNS",
    "MEASUREMENT_COLUMNS",
    "bilsky_text",
    "finding_columns",
    "finding_rows",
    "level_rows",
    "measurement_rows",
    "neutralise",
    "rows_to_csv",
    "score_cells",
    "unneutralise",
    "write_findings_csv",
    "write_levels_csv",
    "write_measurements_csv",
]

MEASUREMENT_COLUMNS: tuple[str, ...] = (
    "case_id", "patient_id", "study_instance_uid", "study_date", "series_instance_uid", "series_description",
    "modality", "sop_instance_uid", "instance_number", "slice_position_mm", "frame_of_reference_uid", "finding_id",
    "finding_label", "levels", "measurement_id", "measurement_type", "value_name", "label", "value", "unit", "plane",
    "points_lps", "reader", "created_utc",
)
_FINDING_HEAD: tuple[str, ...] = (
    "case_id", "patient_id", "finding_id", "finding_label", "level_from", "level_to", "levels", "lesion_type",
    "site", "laterality", "histology",
)
_FINDING_TAIL: tuple[str, ...] = (
    "long_axis_mm", "short_axis_mm", "cc_extent_mm", "ellipsoid_volume_ml", "reader", "updated_utc",
)


def finding_columns() -> tuple[str, ...]:
    """The findings CSV's columns with the scores registered now: the finding's own columns, each finding
    score's ``csv_columns`` (registry order: Bilsky, SINS, then others), the lesion dimensions, reader and
    time, then each case-level score's columns (the same value on every row)."""
    scores = [c.name for s in registered_scores("finding") for c in s.csv_columns]
    cases = [c.name for s in registered_scores("case") for c in s.csv_columns]
    return tuple(dict.fromkeys((*_FINDING_HEAD, *scores, *_FINDING_TAIL, *cases)))


FINDING_COLUMNS: tuple[str, ...] = finding_columns()
"""The findings CSV's columns with the built-in scores (:func:`finding_columns` for the scores registered now)."""
LEVEL_COLUMNS: tuple[str, ...] = (
    "case_id", "patient_id", "finding_id", "finding_label", "level", "level_index", "in_level_range",
    "involved_sectors", *(f"involves_{s}" for s in SECTORS), "bilsky_grade",
)
"""One row per finding and level (its level range and any level with involvement recorded)."""
_NUMERIC = frozenset({"value", "instance_number", "slice_position_mm", "long_axis_mm", "short_axis_mm",
                      "cc_extent_mm", "ellipsoid_volume_ml", "level_index", "in_level_range",
                      *(f"involves_{s}" for s in SECTORS)})
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix a single quote to a text cell a spreadsheet would take as a formula (OWASP)."""
    return "'" + text if text.startswith(_DANGEROUS) else text


def unneutralise(text: str) -> str:
    """Undo :func:`neutralise` (for reading an export back)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_DANGEROUS) else text


bilsky_text = grade_text
"""A Bilsky grade as CSV text: ``"Bilsky 3"`` (always text, whatever the grade), ``""`` for none
(:func:`imaging.scores.bilsky.grade_text`)."""


def _iso(t: datetime | None) -> str:
    return t.isoformat().replace("+00:00", "Z") if t is not None else ""


def _num(v: float | int | None) -> str:
    if v is None:
        return ""
    return repr(int(v)) if isinstance(v, int) and not isinstance(v, bool) else repr(float(v))


def _numeric_columns() -> frozenset[str]:
    return _NUMERIC | {c.name for s in registered_scores() for c in s.csv_columns if c.numeric}


def _cell(column: str, value: Any, numeric: frozenset[str] = _NUMERIC) -> str:
    if column in numeric:
        return value if isinstance(value, str) else _num(value)
    text = "" if value is None else str(value)
    return neutralise(text)


def rows_to_csv(rows: Iterable[dict[str, Any]], columns: tuple[str, ...], numeric: frozenset[str] | None = None
                ) -> str:
    """RFC 4180 CSV text (CRLF) of ``rows`` with exactly ``columns``, cells made safe (see module doc);
    ``numeric``: the columns written as numbers (default: this module's and the registered scores' numeric
    columns)."""
    numeric = _numeric_columns() if numeric is None else numeric
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
            rows.append({**base, "value_name": v.name, "value": v.value, "unit": v.unit})
    return rows


def score_cells(case: Case, owner: Finding | Case) -> dict[str, Any]:
    """The CSV cells of every registered score of ``owner``'s scope (a finding's scores, or the case-level
    ones), by column name; a column whose value cannot be computed is blank (it never fails the export)."""
    cells: dict[str, Any] = {}
    specs: tuple[ScoreSpec, ...] = registered_scores("case" if isinstance(owner, Case) else "finding")
    for spec in specs:
        try:
            answers, result = answers_of(spec, owner), result_of(spec, owner, case)
        except (ValueError, TypeError, AttributeError, KeyError):
            continue
        for col in spec.csv_columns:
            try:
                cells[col.name] = col.value(answers, result)
            except (ValueError, TypeError, AttributeError, KeyError):
                cells[col.name] = None
    return cells


def _finding_row(case: Case, f: Finding, case_cells: dict[str, Any]) -> dict[str, Any]:
    dims = lesion_dimensions(case, f.id)
    mm = dims is not None and dims.unit == "mm"
    return {
        **case_cells, **score_cells(case, f),
        "case_id": case.case_id, "patient_id": case.patient.id, "finding_id": f.id, "finding_label": f.label,
        "level_from": f.level_from or "", "level_to": f.level_to or "", "levels": f.levels_text,
        "lesion_type": f.lesion_type or "", "site": f.site or "", "laterality": f.laterality or "",
        "histology": case.report.histology,
        "long_axis_mm": dims.long_axis if mm and dims else None,
        "short_axis_mm": dims.short_axis if mm and dims else None,
        "cc_extent_mm": dims.cc if mm and dims else None,
        "ellipsoid_volume_ml": dims.volume if mm and dims else None,
        "reader": f.reader, "updated_utc": _iso(f.updated_utc),
    }


def finding_rows(case: Case) -> list[dict[str, Any]]:
    """One dict per finding, keyed by :func:`finding_columns` (values unformatted)."""
    case_cells = score_cells(case, case)
    return [_finding_row(case, f, case_cells) for f in case.findings]


def level_rows(case: Case) -> list[dict[str, Any]]:
    """One dict per finding and level, keyed by :data:`LEVEL_COLUMNS`: the finding's level range and any
    other level with involvement recorded, cranial to caudal; ``in_level_range`` 1/0; ``involved_sectors``
    the sector keys joined by ``;``; one 1/0 column per sector; ``bilsky_grade`` at the graded level."""
    from imaging.case.findings import involvement_levels

    rows = []
    for f in case.findings:
        in_range = set(f.level_range.levels) if f.level_range is not None else set()
        sectors = {inv.level: inv.sectors for inv in f.involvement}
        for lv in involvement_levels(f):
            involved = sectors.get(lv, [])
            rows.append({
                "case_id": case.case_id, "patient_id": case.patient.id, "finding_id": f.id,
                "finding_label": f.label, "level": lv, "level_index": level_index(lv),
                "in_level_range": int(lv in in_range), "involved_sectors": ";".join(involved),
                **{f"involves_{s}": int(s in involved) for s in SECTORS},
                "bilsky_grade": grade_text(f.bilsky.grade) if f.bilsky.level == lv else "",
            })
    return rows


def write_levels_csv(case: Case, path: str | Path) -> Path:
    """Write the per-finding-and-level CSV (atomically)."""
    from imaging.case.store import atomic_write

    return atomic_write(path, rows_to_csv(level_rows(case), LEVEL_COLUMNS).encode("utf-8"))


def write_measurements_csv(case: Case, path: str | Path) -> Path:
    """Write the per-measurement-value CSV (atomically)."""
    from imaging.case.store import atomic_write

    return atomic_write(path, rows_to_csv(measurement_rows(case), MEASUREMENT_COLUMNS).encode("utf-8"))


def write_findings_csv(case: Case, path: str | Path) -> Path:
    """Write the per-finding CSV (atomically)."""
    from imaging.case.store import atomic_write

    return atomic_write(path, rows_to_csv(finding_rows(case), finding_columns()).encode("utf-8"))
