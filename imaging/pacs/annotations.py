"""What a stored DICOM SR says at a glance: who read, when, and the Bilsky grades it holds. Qt-free.

Used to list the annotations already stored for a study (SpineCase's SRs and other readers' SRs) and to
compare readers over the SRs of many studies. Reads:

* the reader: the TID 1002 observer context's Person Observer Name (DCM 121008), else the SR's Author
  Observer, Content Creator's or Operators' name;
* the date: ContentDate/ContentTime (the report's), else SeriesDate/SeriesTime;
* Bilsky grades: each measurement group holding the Bilsky grade concept of :mod:`imaging.case.export_sr`
  (final grade; a suggestion from the contour assistant is kept apart), with its finding sites as
  vertebral levels.

This is a summary for lists and agreement statistics, not an import: turning an SR into annotations of the
case is the SR import's job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from imaging.errors import LoadError
from imaging.spine.bilsky import BILSKY_GRADES, bilsky_ordinal
from imaging.spine.levels import ALL_LEVELS, level_index

if TYPE_CHECKING:  # pragma: no cover
    from imaging.pacs.cache import StudyCache
    from imaging.pacs.client import PacsClient

__all__ = ["UNNAMED_READER", "GradedFinding", "SrSummary", "fetch_study_annotations", "grades_by_study", "summarize_sr",
           "summarize_sr_file"]

_PERSON_OBSERVER_NAME = ("121008", "DCM")
_FINDING_SITE = ("363698007", "SCT")
_FINDING_SITE_OLD = ("G-C0E3", "SRT")


def _bilsky_concepts() -> tuple[tuple[str, str], tuple[str, str]]:
    from imaging.case.export_sr import BILSKY_CONCEPT, BILSKY_SUGGESTED_CONCEPT

    return ((BILSKY_CONCEPT.value, BILSKY_CONCEPT.scheme_designator),
            (BILSKY_SUGGESTED_CONCEPT.value, BILSKY_SUGGESTED_CONCEPT.scheme_designator))


def _level_by_code() -> dict[tuple[str, str], str]:
    from imaging.case.export_sr import level_code

    out: dict[tuple[str, str], str] = {}
    for lv in ALL_LEVELS:
        c = level_code(lv)
        out[(c.value, c.scheme_designator)] = lv
    return out


@dataclass(frozen=True)
class GradedFinding:
    """One Bilsky grade in an SR: the grade, the vertebral levels it was given at (cranial to caudal; may
    be empty), the finding's tracking identifier, and whether it is only the assistant's suggestion."""

    grade: str
    levels: tuple[str, ...] = ()
    label: str = ""
    suggested: bool = False


@dataclass(frozen=True)
class SrSummary:
    """An SR at a glance (see the module docstring). ``date`` is YYYYMMDD, ``time`` HHMMSS(.ffffff)."""

    sop_uid: str
    study_uid: str
    series_uid: str
    reader: str = ""
    date: str = ""
    time: str = ""
    title: str = ""
    manufacturer: str = ""
    series_description: str = ""
    complete: bool = False
    verified: bool = False
    path: Path | None = None
    findings: tuple[GradedFinding, ...] = field(default=())

    @property
    def grades(self) -> list[GradedFinding]:
        """The readers' (final) grades, not the suggestions."""
        return [f for f in self.findings if not f.suggested]

    def worst_grade(self) -> str | None:
        """The most severe final grade in the SR (0 < 1a < 1b < 1c < 2 < 3), or None."""
        grades = [f.grade for f in self.grades]
        return max(grades, key=bilsky_ordinal) if grades else None

    def to_json(self) -> dict[str, object]:
        return {"sop_uid": self.sop_uid, "study_uid": self.study_uid, "series_uid": self.series_uid,
                "reader": self.reader, "date": self.date, "time": self.time, "title": self.title,
                "manufacturer": self.manufacturer, "series_description": self.series_description,
                "complete": self.complete, "verified": self.verified,
                "path": str(self.path) if self.path else None,
                "findings": [{"grade": f.grade, "levels": list(f.levels), "label": f.label,
                              "suggested": f.suggested} for f in self.findings]}


def _code(item: Dataset, keyword: str = "ConceptNameCodeSequence") -> tuple[str, str] | None:
    seq = item.get(keyword)
    if not seq:
        return None
    c = seq[0]
    return (str(c.get("CodeValue", "") or c.get("LongCodeValue", "") or c.get("URNCodeValue", "")),
            str(c.get("CodingSchemeDesignator", "")))


def _walk(items: Iterable[Dataset]) -> Iterator[Dataset]:
    for item in items:
        yield item
        yield from _walk(item.get("ContentSequence", []) or [])


def _person(ds: Dataset) -> str:
    for item in _walk(ds.get("ContentSequence", []) or []):
        if item.get("ValueType") == "PNAME" and _code(item) == _PERSON_OBSERVER_NAME and item.get("PersonName"):
            return _display_name(str(item.PersonName))
    for seq_kw in ("AuthorObserverSequence",):
        for a in ds.get(seq_kw, []) or []:
            if a.get("PersonName"):
                return _display_name(str(a.PersonName))
    for kw in ("ContentCreatorName", "OperatorsName"):
        v = ds.get(kw)
        if v:
            return _display_name(str(v[0] if isinstance(v, list | tuple) else v))
    return ""


def _display_name(pn: str) -> str:
    """``Family^Given`` -> ``Given Family``; a one-word handle (``jdoe^``) -> ``jdoe``."""
    parts = [p for p in pn.split("=")[0].split("^")]
    family, given = (parts + ["", ""])[:2]
    return " ".join(p for p in (given.strip(), family.strip()) if p)


def _graded_findings(ds: Dataset) -> list[GradedFinding]:
    final_code, suggested_code = _bilsky_concepts()
    levels_of = _level_by_code()
    out: list[GradedFinding] = []
    for group in _walk(ds.get("ContentSequence", []) or []):
        if group.get("ValueType") != "CONTAINER":
            continue
        children = group.get("ContentSequence", []) or []
        grades = []
        levels: list[str] = []
        label = ""
        for child in children:
            name = _code(child)
            if child.get("ValueType") == "CODE" and name in (final_code, suggested_code):
                value = _code(child, "ConceptCodeSequence")
                if value is not None and value[0] in BILSKY_GRADES:
                    grades.append((value[0], name == suggested_code))
            elif child.get("ValueType") == "CODE" and name in (_FINDING_SITE, _FINDING_SITE_OLD):
                value = _code(child, "ConceptCodeSequence")
                if value is not None and value in levels_of:
                    levels.append(levels_of[value])
            elif child.get("ValueType") == "TEXT" and _code(child) == ("112039", "DCM"):  # Tracking Identifier
                label = str(child.get("TextValue", ""))
        ordered = tuple(sorted(set(levels), key=level_index))
        out.extend(GradedFinding(g, ordered, label, suggested) for g, suggested in grades)
    return out


def summarize_sr(ds: Dataset, path: str | Path | None = None) -> SrSummary:
    """The summary of an SR data set (any SR; the Bilsky grades only where SpineCase's codes are used)."""
    title = ""
    code = ds.get("ConceptNameCodeSequence")
    if code:
        title = str(code[0].get("CodeMeaning", ""))
    return SrSummary(
        sop_uid=str(ds.get("SOPInstanceUID", "")), study_uid=str(ds.get("StudyInstanceUID", "")),
        series_uid=str(ds.get("SeriesInstanceUID", "")), reader=_person(ds),
        date=str(ds.get("ContentDate", "") or ds.get("SeriesDate", "") or ""),
        time=str(ds.get("ContentTime", "") or ds.get("SeriesTime", "") or ""), title=title,
        manufacturer=str(ds.get("Manufacturer", "") or ""),
        series_description=str(ds.get("SeriesDescription", "") or ""),
        complete=str(ds.get("CompletionFlag", "")) == "COMPLETE",
        verified=str(ds.get("VerificationFlag", "")) == "VERIFIED",
        path=Path(path) if path is not None else None, findings=tuple(_graded_findings(ds)))


def summarize_sr_file(path: str | Path) -> SrSummary:
    """:func:`summarize_sr` of a file; :class:`LoadError` naming the file when it is not a DICOM SR."""
    p = Path(path)
    try:
        ds = dcmread(BytesIO(p.read_bytes()))
    except OSError as exc:
        raise LoadError(f"cannot read it: {exc.strerror or exc}", p) from None
    except (InvalidDicomError, ValueError, EOFError) as exc:
        raise LoadError(f"not a DICOM file ({exc})", p) from None
    if str(ds.get("Modality", "")) != "SR" and "ContentSequence" not in ds:
        raise LoadError("not a DICOM structured report", p)
    return summarize_sr(ds, p)


def fetch_study_annotations(client: PacsClient, cache: StudyCache, study_uid: str,
                            cancel: Callable[[], bool] | None = None) -> tuple[list[SrSummary], list[str]]:
    """The SRs stored for a study on the PACS, pulled into the cache (small; a series already cached is
    not fetched again) and summarised, oldest first. Returns the summaries and the problems met (a series
    that did not arrive whole, a file that is not an SR), each as one line."""
    from imaging.pacs.pull import pull_study

    sr_series = [s.series_uid for s in client.find_series(study_uid) if s.modality.upper() == "SR"]
    if not sr_series:
        return [], []
    result = pull_study(client, cache, study_uid, sr_series, cancel=cancel or (lambda: False))
    problems = [f"series {s.series.series_uid}: {s.error}" for s in result.failed]
    summaries: list[SrSummary] = []
    for s in result.series:
        if s.manifest is None:
            continue
        for path in s.manifest.files():
            try:
                summaries.append(summarize_sr_file(path))
            except LoadError as exc:
                problems.append(str(exc))
    summaries.sort(key=lambda x: (x.date, x.time, x.reader))
    return summaries, problems


UNNAMED_READER = "(reader not named)"


def grades_by_study(summaries: Iterable[SrSummary]) -> dict[str, dict[str, str]]:
    """``{StudyInstanceUID: {reader: grade}}`` for reader agreement: each reader's most severe final Bilsky
    grade in the study (the compression that decides treatment), from that reader's latest SR of the
    study (a re-read replaces an earlier one). SRs without a final grade are left out."""
    latest: dict[tuple[str, str], SrSummary] = {}
    for s in summaries:
        if s.worst_grade() is None:
            continue
        key = (s.study_uid, s.reader or UNNAMED_READER)
        if key not in latest or (s.date, s.time) > (latest[key].date, latest[key].time):
            latest[key] = s
    out: dict[str, dict[str, str]] = {}
    for (study, reader), s in sorted(latest.items()):
        out.setdefault(study, {})[reader] = s.worst_grade() or ""
    return out
