"""The sample cases' case files, built from each sample folder's ``report.json`` and ``truth.json`` (Qt-free).

``sample_dicoms/<case>/case.spinecase.json`` is what a new user opens first: a complete example of the
reader's work on the phantom. :func:`build_sample_case` makes it from the folder the phantom generator
wrote (``python -m tools.phantom OUT``):

* **report data** from ``report.json`` (the published case report's facts, quoted as the article states
  them): citation (and its DOI), presentation, histology, grade, primary site, levels and Bilsky grade as
  reported, reported dimensions (converted to mm), treatments, follow-up; the imaging findings and the
  remaining statements go to the free-text report;
* **patient** with the phantom's synthetic id, name, sex and age (no real patient data);
* **studies and series** from the DICOM headers, each series with a path hint relative to the case file
  (the case file sits in the sample folder, the series in its sub-folders);
* **vertebral labels** at the truth's vertebral-body centroids, in each study (each has its own frame of
  reference) on the series that shows them best (sagittal, T2);
* **one finding per lesion** (bone cement is not a lesion and gets none) with its levels, the sectors it
  involves per level, its lesion type and, as measurements drawn on the phantom exactly as the viewer
  draws them (:func:`imaging.case.analysis.measurement_from_drawing`): a **bidirectional** on the axial
  plane through the lesion centre (an acquired axial series when one holds the centre, else the axial
  reformat of the lesion's series) whose axes are the truth's AP and LR extents, and a **craniocaudal
  extent** on the sagittal plane through the centre (an acquired sagittal series, else the reformat)
  equal to the truth's CC extent;
* **the Bilsky grade at the worst level** on the lesion that has it, with the axial slice (series,
  SOPInstanceUID, slice index) and the truth's canal, thecal sac, cord and epidural tumour outlines on that
  slice as contours; a post-operative grade (``bilsky_postop``) on the residual lesion;
* **SINS** components only where the article and the phantom support them (the bone lesion quality of an
  osteolytic or bone-destroying lesion; no posterolateral involvement for a lesion confined to the body);
  the others stay empty, so no total is claimed.

Ids are derived from the case name (uuid5) and times from the studies' dates, so rebuilding a sample
gives the same file. :func:`write_sample_cases` writes ``case.spinecase.json`` into every sample folder
(``make samples`` runs it after the generator).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np

from imaging.case.analysis import finding_levels, measurement_from_drawing
from imaging.case.model import (
    BilskyAssessment,
    Case,
    Contour,
    Finding,
    FindingTimepoint,
    LevelInvolvement,
    Measurement,
    Patient,
    Reader,
    ReportData,
    ReportedDimension,
    SeriesRef,
    SinsAssessment,
    Study,
    TimepointInfo,
    Treatment,
    VertebralLabel,
)
from imaging.case.store import save_case
from imaging.errors import LoadError
from imaging.followup.timeline import timepoint_levels
from imaging.spine.levels import level_index
from imaging.volume import Volume

__all__ = [
    "CASE_FILE_NAME",
    "REFERENCE_READER",
    "build_sample_case",
    "parse_dimensions_mm",
    "parse_reported_bilsky",
    "report_data_from_json",
    "write_sample_case",
    "write_sample_cases",
]

CASE_FILE_NAME = "case.spinecase.json"
REFERENCE_READER = "reference"
"""The reader name of the reference annotation (the phantom's truth)."""

_LESION_TYPES = {"lytic_soft_tissue": "lytic", "lipomatous": "lipomatous", "blastic": "blastic",
                 "marrow_replacing": "marrow_replacing"}
"""Phantom lesion kinds -> the model's lesion types; a kind missing here (cement) is not a lesion."""

_SECTORS: dict[str, tuple[str, ...]] = {
    "vertebral_body": ("vertebral_body",),
    "pedicle_left": ("left_pedicle",),
    "pedicle_right": ("right_pedicle",),
    "lamina": ("lamina",),
    "spinous_process": ("spinous_process",),
    "posterior_elements": ("lamina", "spinous_process"),  # the vertebral arch behind the pedicles
    "paraspinal_left": ("paraspinal",),
    "paraspinal_right": ("paraspinal",),
    "psoas_left": ("psoas",),
    "psoas_right": ("psoas",),
    "epidural": ("epidural",),
}
"""Phantom sites -> involvement sectors (sites outside the spine's sectors, e.g. the clivus or the adrenal
region, have none)."""

_BONE_SITES = frozenset({"vertebral_body", "pedicle_left", "pedicle_right", "lamina", "spinous_process",
                         "posterior_elements"})

_CONTOUR_KINDS = {"bony_canal": "canal", "thecal_sac": "sac", "cord": "cord", "epidural_tumour": "tumour"}

_TREATMENT_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("radiotherapy", ("radiation", "radiotherapy", " gy", "photons")),
    ("chemotherapy", ("chemotherapy", "doxorubicin", "ifosfamide")),
    ("targeted therapy", ("targeted therapy", "anlotinib")),
    ("ablation and vertebral augmentation", ("ablation", "rf-ta", "vap", "augmentation", "cement")),
    ("surgery", ("laminectomy", "decompression", "resection", "spondylectomy", "curettage", "fixation",
                 "instrumentation", "nephrectomy", "surgery", "surgical")),
    ("palliative care", ("palliative",)),
)


# -- report.json -> ReportData --------------------------------------------------------------------------
def _text(value: Any) -> str:
    """A report.json value as text: lists joined with '; ', dicts as 'key: value' pairs, None as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        return "; ".join(f"{_words(k)}: {_text(v)}" for k, v in value.items() if _text(v))
    if isinstance(value, Sequence):
        return "; ".join(t for t in (_text(v) for v in value) if t)
    return str(value)


def _words(key: str) -> str:
    return str(key).replace("_", " ")


_NUMBER = r"\d+(?:[.,]\d+)?"
_DIMENSIONS = re.compile(rf"((?:{_NUMBER}\s*[×xX*]\s*){{0,2}}{_NUMBER})\s*(mm|cm)(?![a-zA-Z])")


def parse_dimensions_mm(text: str) -> list[float]:
    """Up to three diameters in mm from text such as '17 × 9mm', '2.5 × 2.1 cm2' or '20x15x28cm' (cm are
    converted; a decimal comma is read as a point); [] when the text gives no length in mm or cm."""
    m = _DIMENSIONS.search(text)
    if m is None:
        return []
    factor = 10.0 if m.group(2) == "cm" else 1.0
    return [round(float(v.replace(",", ".")) * factor, 6) for v in re.findall(_NUMBER, m.group(1))][:3]


_BILSKY = re.compile(r"(?:grade|bilsky|bilski)\s*(1a|1b|1c|0|2|3)(?![0-9a-z])", re.IGNORECASE)


def parse_reported_bilsky(value: Any) -> str | None:
    """The Bilsky grade a source reports for the index (pre-treatment) imaging, e.g. 'grade 3 according to
    Bilski et al., 2010' -> '3'; for several statements (before/after surgery) the first one that is not
    post-treatment. None when no grade is stated."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        items = list(value.items())
        ordered = [v for k, v in items if not re.search(r"after|post", str(k), re.IGNORECASE)] + \
                  [v for k, v in items if re.search(r"after|post", str(k), re.IGNORECASE)]
        for v in ordered:
            grade = parse_reported_bilsky(v)
            if grade is not None:
                return grade
        return None
    m = _BILSKY.search(_text(value))
    return m.group(1).lower() if m else None


def _reported_dimensions(value: Any) -> list[ReportedDimension]:
    if not value:
        return []
    items = list(value.items()) if isinstance(value, Mapping) else [("", v) for v in
                                                                   (value if isinstance(value, list) else [value])]
    # A "location" entry says where the sizes above it were measured: it qualifies their labels.
    location = next((_text(v) for k, v in items if str(k).lower() == "location"), "")
    out = []
    for key, v in items:
        if str(key).lower() == "location":
            continue
        text = _text(v)
        label = _words(key) + (f" (at {location})" if location else "")
        out.append(ReportedDimension(label=label, dimensions_mm=parse_dimensions_mm(text), text=text))
    if location and not out:
        out.append(ReportedDimension(label="location", text=location))
    return out


def _treatment_kind(text: str) -> str:
    low = f" {text.lower()}"
    for kind, words in _TREATMENT_KINDS:
        if any(w in low for w in words):
            return kind
    return ""


def _treatments(value: Any) -> list[Treatment]:
    if not value:
        return []
    texts = [_text(v) for v in value] if isinstance(value, list) else [_text(value)]
    return [Treatment(kind=_treatment_kind(t), description=t) for t in texts if t]


def _doi(citation: str) -> str | None:
    m = re.search(r"\b(10\.\d{4,9}/[^\s;,]+)", citation)
    return m.group(1).rstrip(".") if m else None


_REPORT_KEYS = {"case", "citation", "age", "sex", "histology", "grade", "primary_site", "presentation", "levels",
                "reported_bilsky", "reported_dimensions", "treatment", "follow_up", "complications"}


def report_data_from_json(report: Mapping[str, Any]) -> ReportData:
    """:class:`ReportData` from a sample's ``report.json`` (see the module docstring)."""
    citation = _text(report.get("citation"))
    lines = []
    imaging = report.get("imaging")
    if imaging:
        lines.append("Imaging as reported: " + _text(imaging))
    if report.get("reported_bilsky"):
        lines.append("Bilsky grade as reported: " + _text(report["reported_bilsky"]))
    for key, value in report.items():  # anything else the source states (cord compression, source notes...)
        if key not in _REPORT_KEYS and key != "imaging" and _text(value):
            lines.append(f"{_words(key).capitalize()}: {_text(value)}")
    complications = _text(report.get("complications"))
    return ReportData(
        citation=citation,
        doi=_doi(citation),
        clinical_presentation=_text(report.get("presentation")),
        histology=_text(report.get("histology")),
        tumour_grade=_text(report.get("grade")),
        primary_site=_text(report.get("primary_site")),
        levels_reported=_text(report.get("levels")),
        bilsky_reported=parse_reported_bilsky(report.get("reported_bilsky")),  # type: ignore[arg-type]
        reported_dimensions=_reported_dimensions(report.get("reported_dimensions")),
        treatments=_treatments(report.get("treatment")),
        outcome=f"Complications: {complications}" if complications else "",
        follow_up=_text(report.get("follow_up")),
        report_text="\n".join(lines),
    )


def _patient(truth: Mapping[str, Any], report: Mapping[str, Any]) -> Patient:
    p = truth.get("patient") or {}
    sex = str(p.get("sex") or "").upper() or None
    if sex not in ("F", "M", "O"):
        said = _text(report.get("sex")).lower()
        sex = "F" if said in ("woman", "female", "f") else "M" if said in ("man", "male", "m") else None
    age: float | None = None
    m = re.match(r"^0*(\d+)Y$", str(p.get("age") or ""))
    if m:
        age = float(m.group(1))
    else:
        m = re.search(r"(\d+)[\s-]*year", _text(report.get("age")))
        age = float(m.group(1)) if m else None
    return Patient(id=str(p.get("id") or ""), name=str(p.get("name") or "") or None, sex=sex, age_years=age)


# -- the phantom's series ---------------------------------------------------------------------------------
class _Series:
    """One of the sample's series: its truth entry, header facts and (loaded on demand) its volume."""

    def __init__(self, folder: Path, entry: Mapping[str, Any]) -> None:
        from imaging import scan_series

        self.entry = entry
        self.key = str(entry["key"])
        self.folder = folder / str(entry.get("folder") or entry["key"])
        uid = str(entry["series_uid"])
        infos = [i for i in scan_series(self.folder) if i.series_uid == uid]
        if not infos:
            raise LoadError(f"series {uid} ({self.key}) is not in the folder", self.folder)
        self.info = max(infos, key=lambda i: i.image_count)
        self.uid = uid
        self.orientation = str(entry.get("orientation") or self.info.orientation_label)
        self.spacing = float(entry.get("slice_spacing") or 0.0)
        self._volume: Volume | None = None

    @property
    def volume(self) -> Volume:
        if self._volume is None:
            from imaging import load_series

            self._volume = load_series(self.info)
        return self._volume

    def contains(self, lps: Sequence[float]) -> bool:
        idx = self.volume.lps_to_index(np.asarray(lps, dtype=np.float64))
        s, r, c = self.volume.shape
        return bool(np.all(idx >= -0.5) and np.all(idx <= np.array([c, r, s]) - 0.5))


class _Ids:
    """Stable object ids for one sample case (uuid5 of the case name and the object's role)."""

    def __init__(self, case_name: str) -> None:
        self._ns = uuid.uuid5(uuid.NAMESPACE_URL, f"https://spinecase.invalid/samples/{case_name}")

    def __call__(self, *parts: object) -> str:
        return uuid.uuid5(self._ns, "/".join(str(p) for p in parts)).hex


# -- drawing on the phantom ---------------------------------------------------------------------------------
def _plane_points(series: _Series, orientation: str, centre: np.ndarray, offsets: Sequence[np.ndarray]
                  ) -> tuple[list[np.ndarray], Any, int, bool]:
    """Points ``centre + offset`` moved onto the ``orientation`` plane of ``series`` nearest the centre."""
    from imaging.display import plane_spec

    spec = plane_spec(series.volume, orientation)
    k = spec.nearest_slice(centre)
    g = spec.geometry(k)
    n = np.asarray(g.normal, dtype=np.float64)
    origin = np.asarray(g.origin, dtype=np.float64)
    pts = []
    for off in offsets:
        p = centre + off
        pts.append(p - float(np.dot(p - origin, n)) * n)
    return pts, g, k, spec.is_acquired


def _pick(series: Sequence[_Series], orientation: str, centre: np.ndarray) -> tuple[_Series, bool] | None:
    """The series to draw on in ``orientation``: an acquired one holding the centre (thinnest slices, then
    T2 before other weightings), else one whose reformat holds it. Returns (series, acquired)."""
    holding = [s for s in series if s.contains(centre)]
    acquired = [s for s in holding if s.orientation == orientation]
    if acquired:
        best = min(acquired, key=lambda s: (s.spacing or 99.0, s.entry.get("weighting") != "T2"))
        return best, True
    if holding:
        return min(holding, key=lambda s: (s.spacing or 99.0, s.entry.get("weighting") != "T2")), False
    return None


def _lesion_measurements(lesion: Mapping[str, Any], series: Sequence[_Series], finding_id: str, ids: _Ids,
                         when: datetime, tag: str = "") -> list[Measurement]:
    """A bidirectional (axial) and a CC extent (sagittal) of ``lesion`` on ``series`` (one study date's);
    ``tag`` (the date) tells a follow-up timepoint's measurement ids from the index timepoint's."""
    centre = np.asarray(lesion["centre_lps"], dtype=np.float64)
    dims = lesion["dimensions_mm"]
    lr, ap, cc = float(dims["lr"]), float(dims["ap"]), float(dims["cc"])
    label = str(lesion["id"])
    out: list[Measurement] = []
    axial = _pick(series, "axial", centre)
    if axial is not None:
        s, _ = axial
        x, y = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
        long_v, long_len, short_v, short_len = (y, ap, x, lr) if ap >= lr else (x, lr, y, ap)
        offsets = [-long_v * long_len / 2, long_v * long_len / 2, -short_v * short_len / 2, short_v * short_len / 2]
        pts, g, k, acquired = _plane_points(s, "axial", centre, offsets)
        m = measurement_from_drawing("bidirectional", pts, s.volume, g, orientation="axial", slice_index=k,
                                     acquired=acquired, reader=REFERENCE_READER, label=label, finding_id=finding_id,
                                     with_stats=False)
        out.append(m.model_copy(update={"id": ids("measurement", label, "bidirectional", *([tag] if tag else [])),
                                        "created_utc": when, "finding_dimension": True}))
    sagittal = _pick(series, "sagittal", centre)
    if sagittal is not None:
        s, _ = sagittal
        z = np.array([0.0, 0.0, 1.0])
        pts, g, k, acquired = _plane_points(s, "sagittal", centre, [z * cc / 2, -z * cc / 2])
        m = measurement_from_drawing("cc_extent", pts, s.volume, g, orientation="sagittal", slice_index=k,
                                     acquired=acquired, reader=REFERENCE_READER, label=label, finding_id=finding_id,
                                     with_stats=False)
        out.append(m.model_copy(update={"id": ids("measurement", label, "cc_extent", *([tag] if tag else [])),
                                        "created_utc": when, "finding_dimension": True}))
    return out


def _involvement(lesion: Mapping[str, Any]) -> list[LevelInvolvement]:
    by_level: dict[str, set[str]] = {}
    for part in lesion.get("parts") or []:
        sectors = _SECTORS.get(str(part.get("site")), ())
        if sectors and part.get("level") in (lesion.get("levels") or []):
            by_level.setdefault(str(part["level"]), set()).update(sectors)
    epi = lesion.get("epidural")
    if epi and str(epi.get("grade")) != "0":
        by_level.setdefault(str(epi["level"]), set()).add("epidural")
    return [LevelInvolvement(level=lv, sectors=sorted(s)) for lv, s in sorted(by_level.items(),
                                                                               key=lambda kv: level_index(kv[0]))]


def _sins(lesion: Mapping[str, Any], lesion_type: str | None, report: Mapping[str, Any]) -> SinsAssessment:
    """Only the SINS components the source and the phantom support; the rest stay unanswered."""
    parts = lesion.get("parts") or []
    sites = {str(p.get("site")) for p in parts}
    if not sites & _BONE_SITES:
        return SinsAssessment()
    words = (_text(report.get("imaging")) + " " + _text(lesion.get("description"))).lower()
    bone = "LYTIC" if lesion_type == "lytic" or "lytic" in words or (
        lesion_type == "lipomatous" and "destroy" in words) else None
    posterolateral = "NONE" if sites == {"vertebral_body"} else None
    return SinsAssessment(bone_lesion=bone, posterolateral=posterolateral)


def _lesion_state(lesion: Mapping[str, Any], report: Mapping[str, Any]) -> dict[str, Any]:
    """A lesion's levels, involvement, SINS and description, as a finding or a timepoint holds them."""
    levels = sorted((str(lv) for lv in lesion.get("levels") or []), key=level_index)
    lesion_type = _LESION_TYPES.get(str(lesion.get("kind")))
    return {"level_from": levels[0] if levels else None, "level_to": levels[-1] if levels else None,
            "levels_auto": False, "involvement": _involvement(lesion), "sins": _sins(lesion, lesion_type, report),
            "notes": str(lesion.get("description") or "")}


def _day(text: Any) -> date | None:
    """A DICOM date ``YYYYMMDD`` (or ISO) as a date; None when empty or not a date."""
    value = str(text or "")
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _bilsky_slice(series: _Series, point: Sequence[float]) -> tuple[int, str | None]:
    from imaging.display import plane_spec

    spec = plane_spec(series.volume, "axial")
    k = spec.nearest_slice(point)
    return k, series.volume.sop_instance_uid(k) if spec.is_acquired else None


def _contours(bilsky: Mapping[str, Any], series: _Series, k: int, sop: str | None, ids: _Ids, when: datetime
              ) -> list[Contour]:
    out = []
    for truth_kind, kind in _CONTOUR_KINDS.items():
        for i, poly in enumerate((bilsky.get("compression_contours_lps") or {}).get(truth_kind) or []):
            if len(poly) >= 3:
                out.append(Contour(id=ids("contour", truth_kind, i), kind=kind,  # type: ignore[arg-type]
                                   points=[tuple(float(c) for c in p) for p in poly],  # type: ignore[misc]
                                   series_instance_uid=series.uid, sop_instance_uid=sop, slice_index=k,
                                   reader=REFERENCE_READER, created_utc=when))
    return out


def _reference_time(truth: Mapping[str, Any], series: Sequence[_Series]) -> datetime:
    """Noon UTC on the day after the last study: a fixed, plausible time for the reference annotation."""
    days = [s.info.study_date for s in series if s.info.study_date] + \
           [str(st.get("date") or "") for st in truth.get("studies") or []]
    parsed = [datetime.strptime(d, "%Y%m%d").date() for d in days if re.fullmatch(r"\d{8}", d)]
    day = max(parsed) if parsed else date(2024, 1, 1)
    return datetime.combine(date.fromordinal(day.toordinal() + 1), time(12, 0), tzinfo=UTC)


def build_sample_case(folder: str | Path) -> Case:
    """The reference case of a sample folder (``report.json``, ``truth.json`` and the series' DICOM
    sub-folders written by ``python -m tools.phantom``). See the module docstring."""
    folder = Path(folder)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    report_path = folder / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else {}
    name = str(truth.get("case") or folder.name)
    ids = _Ids(name)
    series = [_Series(folder, e) for e in truth.get("series") or []]
    by_key = {s.key: s for s in series}
    when = _reference_time(truth, series)

    studies: dict[str, Study] = {}
    for s in series:
        i = s.info
        if i.study_uid and i.study_uid not in studies:
            day = datetime.strptime(i.study_date, "%Y%m%d").date() if re.fullmatch(r"\d{8}", i.study_date or "") \
                else None
            studies[i.study_uid] = Study(id=ids("study", i.study_uid), study_instance_uid=i.study_uid,
                                         study_date=day, description=i.study_description or "")
    refs = [SeriesRef(id=ids("series", s.uid), series_instance_uid=s.uid, study_instance_uid=s.info.study_uid or None,
                      modality=s.info.modality, description=s.info.description or "",
                      series_number=s.info.series_number, frame_of_reference_uid=s.info.frame_of_reference_uid or None,
                      path_hint=s.folder.relative_to(folder).as_posix(),
                      slice_thickness_mm=float(s.entry["slice_thickness"]) if s.entry.get("slice_thickness") else None)
            for s in series]

    # The vertebrae are labelled in every study (each has its own frame of reference), on the study's series
    # that shows them best: sagittal before axial, T2 before other weightings.
    labels = []
    study_order = list(dict.fromkeys(s.info.study_uid for s in series))
    for study_uid in study_order:
        for v in truth.get("vertebrae") or []:
            holding = [by_key[k] for k in v.get("series") or []
                       if k in by_key and by_key[k].info.study_uid == study_uid]
            if not holding:
                continue
            on = min(holding, key=lambda s: (s.orientation != "sagittal", s.entry.get("weighting") != "T2"))
            labels.append(VertebralLabel(id=ids("label", study_uid, v["label"]), label=v["label"],
                                         centre=tuple(float(c) for c in v["centroid_lps"]),  # type: ignore[arg-type]
                                         series_instance_uid=on.uid, source="manual", reader=REFERENCE_READER,
                                         created_utc=when))

    case = Case(case_id=f"sample-{name}", created_utc=when, updated_utc=when, patient=_patient(truth, report),
                report=report_data_from_json(report), studies=list(studies.values()), series=refs,
                vertebral_labels=labels,
                readers=[Reader(id=ids("reader", REFERENCE_READER), name=REFERENCE_READER,
                                role="reference annotation from the phantom truth", added_utc=when)])

    # One finding per lesion followed over time: a lesion and the lesions that continue it in another scene
    # (truth "follow_up" "same_lesion", e.g. the residual after surgery) are one finding, and every study date
    # the lesion is seen on is one of its timepoints, the earliest being the finding's own (index) timepoint.
    # Cement is not a lesion.
    bilsky = truth.get("bilsky") or {}
    postop = truth.get("bilsky_postop") or {}
    follow = truth.get("follow_up") or {}
    same = {str(k): str(v) for k, v in (follow.get("same_lesion") or {}).items()}
    named = {str(t.get("date")): t for t in follow.get("timepoints") or []}
    targets = {str(t) for t in follow.get("recist_targets") or []}
    resection = _day(follow.get("resection_date"))

    def track_of(lid: str) -> str:
        passed: set[str] = set()
        while lid in same and lid not in passed:
            passed.add(lid)
            lid = same[lid]
        return lid

    def info(day: date) -> TimepointInfo:
        t = named.get(day.strftime("%Y%m%d")) or {}
        return TimepointInfo(study_date=day, label=str(t.get("label") or ""), time_point_type=t.get("type"))

    tracks: dict[str, dict[date, tuple[Mapping[str, Any], list[_Series]]]] = {}
    seen: set[str] = set()
    for lesion in truth.get("lesions") or []:
        lid = str(lesion["id"])
        if lid in seen or _LESION_TYPES.get(str(lesion.get("kind"))) is None:
            continue
        seen.add(lid)
        by_date = tracks.setdefault(track_of(lid), {})
        for key in lesion.get("series") or []:
            day = _day(by_key[key].info.study_date) if key in by_key else None
            if day is not None and by_date.setdefault(day, (lesion, []))[0] is lesion:
                by_date[day][1].append(by_key[key])

    findings: list[tuple[Finding, Mapping[str, Any]]] = []
    at: dict[tuple[str, date], tuple[str | None, Mapping[str, Any], list[_Series]]] = {}
    measurements: list[Measurement] = []
    for track, by_date in tracks.items():
        days = sorted(by_date)
        fid = ids("finding", track)
        first, first_series = by_date[days[0]]
        lesion_type = _LESION_TYPES.get(str(first.get("kind")))
        measurements.extend(_lesion_measurements(first, first_series, fid, ids, when))
        at[(fid, days[0])] = (None, first, first_series)
        timepoints = []
        for day in days[1:]:
            lesion, on = by_date[day]
            tid = ids("timepoint", track, day.isoformat())
            timepoints.append(FindingTimepoint(
                id=tid, **info(day).model_dump(), **_lesion_state(lesion, report), reader=REFERENCE_READER,
                created_utc=when, updated_utc=when))
            measurements.extend(_lesion_measurements(lesion, on, fid, ids, when, tag=day.isoformat()))
            at[(fid, day)] = (tid, lesion, on)
        f = Finding(id=fid, label=track, lesion_type=lesion_type, **_lesion_state(first, report),  # type: ignore[arg-type]
                    reader=REFERENCE_READER, created_utc=when, updated_utc=when, index_timepoint=info(days[0]),
                    recist_target=track in targets, resection_date=resection, timepoints=timepoints)
        findings.append((f, first))

    def graded(scene: str, level: str) -> int | None:
        """The finding graded at ``level`` in ``scene``: the lesion with epidural disease there, else a bone
        lesion of the scene at that level."""
        candidates = [(i, les) for i, (_f, les) in enumerate(findings)
                      if level in (les.get("levels") or []) and
                      (les.get("scene") == scene or any(o.get("id") == les.get("id") and o.get("scene") == scene
                                                        for o in truth.get("lesions") or []))]
        for i, les in candidates:
            if (les.get("epidural") or {}).get("level") == level:
                return i
        for i, les in candidates:
            if {str(p.get("site")) for p in les.get("parts") or []} & _BONE_SITES:
                return i
        return None

    updates: dict[int, dict[str, Any]] = {}
    if bilsky.get("grade") is not None and bilsky.get("level"):
        i = graded(str(bilsky.get("scene") or "default"), str(bilsky["level"]))
        s = by_key.get(str(bilsky.get("series_key") or ""))
        if i is not None:
            assessment = BilskyAssessment(grade=str(bilsky["grade"]), level=str(bilsky["level"]),  # type: ignore[arg-type]
                                          reader=REFERENCE_READER, assessed_utc=when)
            contours: list[Contour] = []
            if s is not None:
                k, sop = _bilsky_slice(s, bilsky.get("worst_point_lps") or s.volume.index_to_lps((0, 0, 0)))
                assessment = assessment.model_copy(update={"series_instance_uid": s.uid, "sop_instance_uid": sop,
                                                           "instance_number": s.volume.instance_number(k),
                                                           "slice_index": k})
                contours = _contours(bilsky, s, k, sop, ids, when)
            updates[i] = {"bilsky": assessment, "contours": contours}
    # The post-operative grade at every timepoint of the post-operative scene, read on that date's axial image
    # (T2 MR before CT).
    if postop.get("grade") is not None and postop.get("level"):
        level = str(postop["level"])
        for i, (f, _first) in enumerate(findings):
            tps = dict(updates.get(i, {}).get("timepoints_by_id", {}))
            for (fid, _), (tid, lesion, on) in at.items():
                if fid != f.id or lesion.get("scene") != "postop" or level not in (lesion.get("levels") or []):
                    continue
                if not {str(p.get("site")) for p in lesion.get("parts") or []} & _BONE_SITES:
                    continue
                point = bilsky.get("worst_point_lps") or lesion["centre_lps"]
                axials = sorted((s for s in on if s.orientation == "axial" and s.contains(point)),
                                key=lambda s: (s.info.modality != "MR", s.key))
                assessment = BilskyAssessment(grade=str(postop["grade"]), level=level,  # type: ignore[arg-type]
                                              reader=REFERENCE_READER, assessed_utc=when)
                if axials:
                    k, sop = _bilsky_slice(axials[0], point)
                    assessment = assessment.model_copy(update={
                        "series_instance_uid": axials[0].uid, "sop_instance_uid": sop, "slice_index": k,
                        "instance_number": axials[0].volume.instance_number(k)})
                if tid is None:
                    if i not in updates:
                        updates[i] = {"bilsky": assessment}
                else:
                    tps[tid] = assessment
            if tps:
                updates.setdefault(i, {})["timepoints_by_id"] = tps
    built = []
    for i, (f, _first) in enumerate(findings):
        upd = dict(updates.get(i, {}))
        graded_tps = upd.pop("timepoints_by_id", {})
        if graded_tps:
            upd["timepoints"] = [t.model_copy(update={"bilsky": graded_tps[t.id]}) if t.id in graded_tps else t
                                 for t in f.timepoints]
        built.append(f.model_copy(update=upd))
    case.findings = built
    case.measurements = measurements
    # Automatic levels where the drawn measurements agree with the truth's levels (the usual case), at every
    # timepoint.
    for f in list(case.findings):
        rng = finding_levels(case, f)
        auto = rng is not None and (rng.start, rng.end) == (f.level_from, f.level_to)
        tps = []
        for t in f.timepoints:
            r = timepoint_levels(case, f, t.id)
            tps.append(t.model_copy(update={"levels_auto": r is not None and (r.start, r.end) == (t.level_from,
                                                                                                    t.level_to)}))
        case.findings = [g.model_copy(update={"levels_auto": auto, "timepoints": tps}) if g.id == f.id else g
                         for g in case.findings]
    case = Case.model_validate(case.model_dump())  # validate the whole (ids, references)
    case.audit.append(_audit(ids, when, name))
    return case


def _audit(ids: _Ids, when: datetime, name: str) -> Any:
    from imaging.case.model import AuditEntry

    return AuditEntry(id=ids("audit", "create"), when_utc=when, who=REFERENCE_READER, action="create",
                      object_type="case", summary=f"reference annotation of sample case {name} built from "
                                                  "truth.json and report.json (tools.phantom.sample_case)")


def write_sample_case(folder: str | Path) -> Path:
    """Build and save ``folder/case.spinecase.json`` (atomic, no backup); returns its path."""
    folder = Path(folder)
    return save_case(build_sample_case(folder), folder / CASE_FILE_NAME, backup=False)


def write_sample_cases(sample_root: str | Path) -> list[Path]:
    """Write ``case.spinecase.json`` into every sample folder under ``sample_root`` (each folder with a
    ``truth.json``); returns the paths written, in folder order."""
    root = Path(sample_root)
    return [write_sample_case(t.parent) for t in sorted(root.glob("*/truth.json"))]


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.phantom.sample_case SAMPLE_ROOT``: write the sample case files."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m tools.phantom.sample_case",
                                description="Write case.spinecase.json into every sample folder (from truth.json "
                                            "and report.json).")
    p.add_argument("sample_root", type=Path, nargs="?", default=Path("sample_dicoms"))
    args = p.parse_args(argv)
    for path in write_sample_cases(args.sample_root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
