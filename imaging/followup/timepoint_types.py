"""The kinds of timepoint a reader can name (Qt-free): DICOM CID 6146 "Time Point Types", which the SR's
time point context (TID 1502) codes. Stored in the case file by the keys of :data:`TIME_POINT_TYPES`."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["TIME_POINT_TYPES", "TIME_POINT_TYPE_KEYS", "TimePointType"]

TimePointType = Literal["baseline", "pretreatment", "preoperative", "postoperative", "post_chemotherapy",
                        "post_radiation", "posttreatment", "recurrence", "maintenance_therapy", "unscheduled"]
TIME_POINT_TYPE_KEYS: tuple[str, ...] = get_args(TimePointType)

TIME_POINT_TYPES: dict[str, tuple[str, str]] = {
    "baseline": ("Baseline", "Baseline"),
    "pretreatment": ("Pretreatment", "Pretreatment"),
    "preoperative": ("Pre-operative", "PreOperative"),
    "postoperative": ("Post-operative", "PostOperative"),
    "post_chemotherapy": ("Post-chemotherapy", "PostChemotherapy"),
    "post_radiation": ("Post-radiation", "PostRadiation"),
    "posttreatment": ("Posttreatment", "Posttreatment"),
    "recurrence": ("Recurrence of tumour", "RecurrenceOfTumor"),
    "maintenance_therapy": ("Maintenance therapy", "MaintenanceTherapy"),
    "unscheduled": ("Unscheduled", "Unscheduled"),
}
"""key -> (the wording shown, the keyword of its code in pydicom's ``codes.cid6146``)."""
