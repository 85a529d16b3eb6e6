"""What a PACS query asks and answers: study filters and study/series/instance records. Qt-free.

Both protocols answer with DICOM data sets (QIDO-RS in DICOM JSON, C-FIND as data sets); both become the
same records here, so the command line and the dialog show one thing whichever protocol was used.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Protocol

__all__ = ["InstanceRecord", "SeriesRecord", "StudyQuery", "StudyRecord", "check_uid", "parse_date_range"]

class Attributes(Protocol):
    """Anything that gives DICOM values by keyword: a pydicom data set (C-FIND) or a QIDO-RS JSON answer."""

    def get(self, keyword: str, default: Any = None) -> Any: ...


_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def check_uid(uid: str, what: str = "UID") -> str:
    """``uid`` when it is a DICOM UID (digits and dots, at most 64 characters); ValueError otherwise.
    UIDs become folder and file names in the cache, so nothing else may pass."""
    uid = (uid or "").strip()
    if not uid or len(uid) > 64 or not _UID.match(uid):
        raise ValueError(f"{what} {uid!r} is not a DICOM UID (digits and dots, at most 64 characters)")
    return uid


def _date(text: str) -> str:
    t = text.strip()
    if re.fullmatch(r"\d{8}", t):
        d = t
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
        d = t.replace("-", "")
    else:
        raise ValueError(f"{text!r} is not a date (YYYYMMDD or YYYY-MM-DD)")
    try:
        date(int(d[:4]), int(d[4:6]), int(d[6:]))
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar date") from None
    return d


def parse_date_range(text: str) -> str:
    """A study date or range as DICOM writes it (``YYYYMMDD``, ``YYYYMMDD-YYYYMMDD``, open ``-YYYYMMDD``
    or ``YYYYMMDD-``). Accepts those and the ISO forms ``YYYY-MM-DD``, ``YYYY-MM-DD..YYYY-MM-DD`` (either
    end may be left out). ValueError with the reason otherwise."""
    t = (text or "").strip()
    if not t:
        raise ValueError("empty date range")
    if ".." in t:
        start, _, end = t.partition("..")
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
        return _date(t)
    elif "-" in t:
        start, _, end = t.partition("-")
    else:
        return _date(t)
    start_d = _date(start) if start.strip() else ""
    end_d = _date(end) if end.strip() else ""
    if not (start_d or end_d):
        raise ValueError(f"{text!r} has no date")
    if start_d and end_d and start_d > end_d:
        raise ValueError(f"{text!r} ends before it starts")
    return f"{start_d}-{end_d}"


@dataclass(frozen=True)
class StudyQuery:
    """Study filters; None means "any". ``patient_name`` may hold the DICOM wildcards ``*`` and ``?``;
    ``study_date`` is a DICOM date or range (:func:`parse_date_range`)."""

    patient_id: str | None = None
    patient_name: str | None = None
    modality: str | None = None
    study_date: str | None = None
    accession: str | None = None
    study_uid: str | None = None

    def __post_init__(self) -> None:
        if self.study_uid:
            check_uid(self.study_uid, "StudyInstanceUID")
        if self.study_date:
            object.__setattr__(self, "study_date", parse_date_range(self.study_date))
        if self.modality:
            object.__setattr__(self, "modality", self.modality.strip().upper())
        for name in ("patient_id", "patient_name", "accession"):
            v = getattr(self, name)
            if v is not None and "\\" in v:
                raise ValueError(f"{name.replace('_', ' ')} may not hold a backslash")

    def is_empty(self) -> bool:
        return not any(getattr(self, n) for n in self.__dataclass_fields__)


def _str(ds: Attributes, keyword: str) -> str:
    v = ds.get(keyword)
    if v is None:
        return ""
    if isinstance(v, list | tuple) or getattr(v, "VM", 1) > 1 and not isinstance(v, str | bytes):
        return "\\".join(str(x) for x in v)
    return str(v)


def _int(ds: Attributes, keyword: str) -> int | None:
    v = ds.get(keyword)
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class StudyRecord:
    """One study as the PACS lists it. Counts are None when the server did not give them."""

    study_uid: str
    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    sex: str = ""
    study_date: str = ""
    study_time: str = ""
    accession: str = ""
    description: str = ""
    modalities: tuple[str, ...] = ()
    series_count: int | None = None
    instance_count: int | None = None

    @classmethod
    def from_dataset(cls, ds: Attributes) -> StudyRecord:
        mods = ds.get("ModalitiesInStudy")
        if mods is None:
            modalities: tuple[str, ...] = ()
        elif isinstance(mods, str):
            modalities = tuple(m for m in mods.split("\\") if m)
        else:
            modalities = tuple(str(m) for m in mods if m)
        return cls(study_uid=_str(ds, "StudyInstanceUID"), patient_name=_str(ds, "PatientName"),
                   patient_id=_str(ds, "PatientID"), birth_date=_str(ds, "PatientBirthDate"),
                   sex=_str(ds, "PatientSex"), study_date=_str(ds, "StudyDate"), study_time=_str(ds, "StudyTime"),
                   accession=_str(ds, "AccessionNumber"), description=_str(ds, "StudyDescription"),
                   modalities=tuple(sorted(set(modalities))),
                   series_count=_int(ds, "NumberOfStudyRelatedSeries"),
                   instance_count=_int(ds, "NumberOfStudyRelatedInstances"))

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        d["modalities"] = list(self.modalities)
        return d


@dataclass(frozen=True)
class SeriesRecord:
    """One series of a study as the PACS lists it."""

    study_uid: str
    series_uid: str
    modality: str = ""
    series_number: int | None = None
    description: str = ""
    instance_count: int | None = None
    series_date: str = ""
    series_time: str = ""

    @classmethod
    def from_dataset(cls, ds: Attributes, study_uid: str = "") -> SeriesRecord:
        return cls(study_uid=_str(ds, "StudyInstanceUID") or study_uid, series_uid=_str(ds, "SeriesInstanceUID"),
                   modality=_str(ds, "Modality"), series_number=_int(ds, "SeriesNumber"),
                   description=_str(ds, "SeriesDescription"),
                   instance_count=_int(ds, "NumberOfSeriesRelatedInstances"),
                   series_date=_str(ds, "SeriesDate"), series_time=_str(ds, "SeriesTime"))

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class InstanceRecord:
    """One instance (image, SR, SEG...) of a series."""

    sop_uid: str
    sop_class_uid: str = ""
    instance_number: int | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dataset(cls, ds: Attributes) -> InstanceRecord:
        return cls(sop_uid=_str(ds, "SOPInstanceUID"), sop_class_uid=_str(ds, "SOPClassUID"),
                   instance_number=_int(ds, "InstanceNumber"))


STUDY_FIELDS = ("StudyInstanceUID", "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate",
                "StudyTime", "AccessionNumber", "StudyDescription", "ModalitiesInStudy",
                "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances")
SERIES_FIELDS = ("StudyInstanceUID", "SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription",
                 "NumberOfSeriesRelatedInstances", "SeriesDate", "SeriesTime")
INSTANCE_FIELDS = ("SOPInstanceUID", "SOPClassUID", "InstanceNumber")


def study_filters(query: StudyQuery) -> dict[str, str]:
    """The query's matching keys as DICOM keywords (both protocols use these)."""
    keys: dict[str, str] = {}
    if query.patient_id:
        keys["PatientID"] = query.patient_id
    if query.patient_name:
        keys["PatientName"] = query.patient_name
    if query.modality:
        keys["ModalitiesInStudy"] = query.modality
    if query.study_date:
        keys["StudyDate"] = query.study_date
    if query.accession:
        keys["AccessionNumber"] = query.accession
    if query.study_uid:
        keys["StudyInstanceUID"] = query.study_uid
    return keys
