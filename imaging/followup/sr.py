"""The DICOM SR time point context of a follow-up timepoint (TID 1502, inside TID 1500's measurement groups),
built with highdicom (Qt-free). :func:`time_point_context` is what an SR writer calls per measurement group.
"""

from __future__ import annotations

from datetime import date

import highdicom as hd
from pydicom.sr.codedict import codes

from imaging.followup.timepoint_types import TIME_POINT_TYPES

__all__ = ["time_point_context", "time_point_text"]


def time_point_text(study_date: date | None, label: str = "") -> str:
    """The Time Point value: "restaging after chemotherapy (2024-05-13)", or the date alone, or the label."""
    when = study_date.isoformat() if study_date is not None else ""
    if label and when:
        return f"{label} ({when})"
    return label or when or "undated"


def time_point_context(study_date: date | None, *, order: int | None, baseline_date: date | None,
                       time_point_type: str | None = None, label: str = "") -> hd.sr.TimePointContext:
    """TID 1502 Time Point Context for a lesion's timepoint.

    * Time Point: the label and study date (:func:`time_point_text`);
    * Time Point Type: the reader's CID 6146 type, else "Baseline" for the first timepoint (``order`` 1);
    * Time Point Order: ``order`` (1 = baseline), when known;
    * Subject Time Point Identifier: ``TP<order>``;
    * Longitudinal Temporal Offset from Event: days from the baseline study (event type Baseline, CID 280),
      when both dates are known.
    """
    kind = time_point_type or ("baseline" if order == 1 else None)
    coded = getattr(codes.cid6146, TIME_POINT_TYPES[kind][1]) if kind is not None else None
    offset = None
    if study_date is not None and baseline_date is not None:
        offset = hd.sr.LongitudinalTemporalOffsetFromEvent(
            value=(study_date - baseline_date).days, unit=codes.UCUM.Day, event_type=codes.cid280.Baseline)
    return hd.sr.TimePointContext(
        time_point=time_point_text(study_date, label),
        time_point_type=coded, time_point_order=order,
        subject_time_point_identifier=f"TP{order}" if order is not None else None,
        temporal_offset_from_event=offset)
