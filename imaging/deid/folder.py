"""De-identify a folder: DICOM files, case files, CSV exports and reports, into a new folder with a log.
Qt-free; the GUI runs :func:`deidentify_folder` in a worker thread (progress and cancel callbacks).

Order of work: list the input (nothing outside it is read; hidden files, case backups, recovery and lock
files are left out), read every DICOM header (the patients, their identifiers, images refused for burned-in
annotation), link each case file to its patient through its series, then write: DICOM files
(:mod:`imaging.deid.dicom`), case files (:mod:`imaging.deid.case`), CSVs (our own exports rebuilt from the
de-identified case, any other CSV cleaned cell by cell), reports (rebuilt from the de-identified case and
images; PDF through a writer the app passes in), and ``deidentification-log.json``. Everything is written
into a temporary sibling folder that becomes OUT only when all went well: a cancelled or failed run leaves
nothing behind, and OUT must not exist yet (or be empty).

File and folder names are cleaned too (a UID as a name is replaced like the UID, identifying text is
replaced), and the case files' path hints follow.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from imaging.case.model import Case
from imaging.deid.case import CaseDeidentifier, tracking_uid_overrides
from imaging.deid.dicom import DicomDeidentifier, PatientContext, burned_in_reason
from imaging.deid.keys import DeidKey, UidMap
from imaging.deid.table import TABLE_EDITION, DateOption, Profile, method_codes
from imaging.deid.text import Identifiers, Replacement, TextScrubber
from imaging.errors import LoadCancelled, LoadError

__all__ = ["LOG_NAME", "DeidCancelled", "DeidError", "DeidResult", "deidentify_folder"]

LOG_NAME = "deidentification-log.json"
CASE_SUFFIX = ".spinecase.json"
_REPORT_SUFFIXES = (".html", ".htm", ".pdf")
_UIDISH = re.compile(r"^[0-9]+(\.[0-9]+){2,}$")

ProgressFn = Callable[[int, int, str], None]
PdfWriter = Callable[[str, Path], object]


class DeidError(LoadError):
    """The run cannot start or go on (the message says why); nothing was written."""


class DeidCancelled(LoadCancelled):
    """The run was cancelled; nothing was written."""

    def __init__(self) -> None:
        super().__init__("de-identification cancelled: nothing was written")


@dataclass
class DeidResult:
    """What a run did. ``refused`` and ``skipped``: (input path relative to IN, reason) for the user's eyes
    (input names may be identifying: they are never written to the log); ``review``: the free-text
    replacements to review; ``notes``: anything else worth knowing."""

    out: Path
    log_path: Path
    written: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    review: list[Replacement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    log: dict[str, object] = field(default_factory=dict)


@dataclass
class _DicomFile:
    path: Path
    rel: PurePosixPath
    patient: str
    series_uid: str
    refused: str | None


def _patient_key(ds: Dataset) -> str:
    pid = str(ds.get("PatientID", "") or "").strip()
    if pid:
        return pid
    return f"name:{str(ds.get('PatientName', '') or '').strip()}|{str(ds.get('PatientBirthDate', '') or '')}"


def _identifiers(ds: Dataset) -> Identifiers:
    ids = Identifiers()
    pid = str(ds.get("PatientID", "") or "").strip()
    if pid:
        ids.ids.add(pid)
    for kw in ("OtherPatientIDs", "AccessionNumber", "MedicalRecordLocator", "AdmissionID",
               "PatientInsurancePlanCodeSequence"):
        v = ds.get(kw)
        if isinstance(v, str | pydicom.multival.MultiValue):
            for x in ([v] if isinstance(v, str) else list(v)):
                if str(x).strip():
                    ids.other_ids.add(str(x).strip())
    for item in ds.get("OtherPatientIDsSequence", []) or []:
        v = str(item.get("PatientID", "") or "").strip()
        if v:
            ids.other_ids.add(v)
    for kw in ("PatientName", "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName"):
        v = ds.get(kw)
        values = list(v) if isinstance(v, pydicom.multival.MultiValue) else ([v] if v else [])
        ids.names |= {str(x).strip() for x in values if str(x).strip()}
    bd = str(ds.get("PatientBirthDate", "") or "").strip()
    if len(bd) >= 8 and bd[:8].isdigit():
        with contextlib.suppress(ValueError):
            ids.birth_dates.add(date(int(bd[:4]), int(bd[4:6]), int(bd[6:8])))
    return ids


class _Names:
    """Output names for input paths: each component cleaned, UIDs replaced, collisions numbered."""

    def __init__(self, uid: UidMap, scrubber: TextScrubber) -> None:
        self.uid = uid
        self.scrubber = scrubber
        self.dirs: dict[PurePosixPath, PurePosixPath] = {PurePosixPath("."): PurePosixPath(".")}
        self.taken: dict[PurePosixPath, PurePosixPath] = {}

    def _component(self, name: str) -> str:
        for suffix in (CASE_SUFFIX, ""):
            if suffix and name.endswith(suffix):
                stem, ext = name[: -len(suffix)], suffix
                break
        else:
            stem, ext = (name.rsplit(".", 1)[0], "." + name.rsplit(".", 1)[1]) if "." in name[1:] else (name, "")
        if _UIDISH.match(name):
            return self.uid(name)
        if _UIDISH.match(stem):
            return self.uid(stem) + ext
        cleaned = self.scrubber.scrub(stem, "file or folder name", patterns=True)
        cleaned = re.sub(r"[\[\]]", "", cleaned)
        cleaned = re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", cleaned).strip(" .") or "unnamed"
        return cleaned + ext

    def _unique(self, parent: PurePosixPath, name: str, source: PurePosixPath) -> PurePosixPath:
        candidate = parent / name
        n = 2
        while candidate in self.taken and self.taken[candidate] != source:
            stem, dot, ext = name.partition(".")
            candidate = parent / f"{stem}-{n}{dot}{ext}"
            n += 1
        self.taken[candidate] = source
        return candidate

    def dir(self, rel: PurePosixPath) -> PurePosixPath:
        if rel in self.dirs:
            return self.dirs[rel]
        out = self._unique(self.dir(rel.parent), self._component(rel.name), rel)
        self.dirs[rel] = out
        return out

    def file(self, rel: PurePosixPath) -> PurePosixPath:
        return self._unique(self.dir(rel.parent), self._component(rel.name), rel)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def _list_files(src: Path, exclude: list[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(src):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if not n.startswith(".")
                             and not any((d / n).resolve() == e for e in exclude))
        for name in sorted(filenames):
            p = d / name
            rel = p.relative_to(src).as_posix()
            if name.startswith("."):
                continue
            if not _inside(p, src):
                skipped.append((rel, "a link to a place outside the input folder: not read"))
                continue
            files.append(p)
    return files, skipped


def deidentify_folder(src: str | Path, out: str | Path, *, key: DeidKey, profile: Profile | None = None,
                      progress: ProgressFn | None = None, cancelled: Callable[[], bool] | None = None,
                      pdf_writer: PdfWriter | None = None) -> DeidResult:
    """De-identify everything in ``src`` (a folder, or a case file: then its folder) into the new folder
    ``out``. ``progress(done, total, what)`` is called per file; ``cancelled()`` is polled between files
    (raising :class:`DeidCancelled`); ``pdf_writer(html, path)`` prints a PDF report (without it PDF reports
    are skipped). Raises :class:`DeidError` when the run cannot start."""
    profile = profile or Profile()
    src = Path(src).expanduser().absolute()
    if src.is_file() and src.name.endswith(CASE_SUFFIX):
        src = src.parent
    if not src.is_dir():
        raise DeidError("the input is not a folder (or a case file)", src)
    src = src.resolve()
    out = Path(out).expanduser().absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DeidError("the output folder must be new or empty (nothing is ever written over)", out)
    if _inside(src, out.resolve()) or out.resolve() == src:
        raise DeidError("the output folder must not contain the input folder", out)
    stage = out.parent / f".{out.name}.partial-{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    try:
        result = _run(src, out, stage, key, profile, progress, cancelled, pdf_writer)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if out.exists():
        out.rmdir()
    stage.rename(out)
    return result


def _run(src: Path, out: Path, stage: Path, key: DeidKey, profile: Profile, progress: ProgressFn | None,
         cancelled: Callable[[], bool] | None, pdf_writer: PdfWriter | None) -> DeidResult:
    result = DeidResult(out=out, log_path=out / LOG_NAME)
    files, skipped = _list_files(src, [out.resolve(), stage.resolve()])
    result.skipped += skipped

    def check() -> None:
        if cancelled is not None and cancelled():
            raise DeidCancelled()

    # -- classify and read headers --------------------------------------------------------------------------
    cases: list[Path] = []
    csvs: list[Path] = []
    reports: list[Path] = []
    dicoms: list[_DicomFile] = []
    known = Identifiers()
    per_patient: dict[str, Identifiers] = {}
    total_steps = len(files) * 2
    step = 0
    for p in files:
        check()
        step += 1
        rel = PurePosixPath(p.relative_to(src).as_posix())
        if progress:
            progress(step, total_steps, "reading headers")
        name = p.name.lower()
        if name.endswith(CASE_SUFFIX):
            cases.append(p)
        elif name.endswith(".csv"):
            csvs.append(p)
        elif name.endswith(_REPORT_SUFFIXES):
            reports.append(p)
        else:
            try:
                ds = pydicom.dcmread(p, stop_before_pixels=True)
            except (InvalidDicomError, OSError, ValueError, TypeError, AttributeError, KeyError, EOFError):
                ds = None
            if ds is None or "SOPClassUID" not in ds:
                reason = ("a case backup, recovery or lock file: not copied" if CASE_SUFFIX in name else
                          "not a DICOM, case, CSV or report file: not copied (it may hold identifying data)")
                result.skipped.append((str(rel), reason))
                continue
            pkey = _patient_key(ds)
            ids = _identifiers(ds)
            known.merge(ids)
            per_patient.setdefault(pkey, Identifiers()).merge(ids)
            refused = None if profile.keep_burned_in else burned_in_reason(ds)
            dicoms.append(_DicomFile(p, rel, pkey, str(ds.get("SeriesInstanceUID", "")), refused))
            if refused:
                result.refused.append((str(rel), refused))

    # -- cases and their patients --------------------------------------------------------------------------
    from imaging.case.store import load_case

    series_patients: dict[str, set[str]] = {}
    series_dirs: dict[str, set[PurePosixPath]] = {}
    for f in dicoms:
        series_patients.setdefault(f.series_uid, set()).add(f.patient)
        series_dirs.setdefault(f.series_uid, set()).add(f.rel.parent)
    loaded: list[tuple[Path, Case, str]] = []
    for p in cases:
        case_rel = p.relative_to(src).as_posix()
        try:
            case = load_case(p)
        except (LoadError, OSError) as exc:
            result.skipped.append((case_rel, f"the case file cannot be read: {exc}"))
            continue
        case_patients: set[str] = set().union(
            *(series_patients.get(s.series_instance_uid, set()) for s in case.series)) if case.series else set()
        if len(case_patients) > 1:
            result.skipped.append((case_rel, f"its series belong to {len(case_patients)} patients (one case is "
                                             "one patient): not copied"))
            continue
        pkey = next(iter(case_patients)) if case_patients else (case.patient.id.strip() or f"case:{case.case_id}")
        ids = Identifiers(ids={case.patient.id.strip()} if case.patient.id.strip() else set(),
                          names={case.patient.name} if case.patient.name else set())
        known.merge(ids)
        per_patient.setdefault(pkey, Identifiers()).merge(ids)
        loaded.append((p, case, pkey))

    patients = {k: PatientContext(k, key.patient_pseudonym(k), key.date_shift(k)) for k in per_patient}
    pseudonyms: dict[str, str] = {}
    for k, ids in per_patient.items():
        for i in ids.ids:
            pseudonyms[i] = patients[k].pseudonym
    overrides: dict[str, str] = {}
    for _, case, _ in loaded:
        overrides.update(tracking_uid_overrides(case, key))
    uid = UidMap(key, overrides)
    scrubber = TextScrubber(uid, known, pseudonyms, profile.dates)
    names = _Names(uid, scrubber)
    readers = {" ".join(r.name.replace("^", " ").split()).casefold(): key.reader_pseudonym(r.name)
               for _, case, _ in loaded for r in case.readers}
    readers |= {" ".join(m.reader.split()).casefold(): key.reader_pseudonym(m.reader)
                for _, case, _ in loaded for m in case.measurements if m.reader}
    dicom_deid = DicomDeidentifier(uid, profile, scrubber, readers)
    case_deid = CaseDeidentifier(key, uid, profile, scrubber)
    no_patient = PatientContext("", key.patient_pseudonym(""), key.date_shift(""))

    # -- DICOM ---------------------------------------------------------------------------------------------
    out_of: dict[PurePosixPath, PurePosixPath] = {}
    n_dicom = 0
    for f in dicoms:
        check()
        step += 1
        if f.refused:
            continue
        target = names.file(f.rel)
        out_of[f.rel] = target
        if progress:
            progress(step, total_steps, "de-identifying images")
        ds = pydicom.dcmread(f.path)
        dicom_deid.deidentify(ds, patients.get(f.patient, no_patient), target.as_posix())
        dest = stage / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(dest, enforce_file_format=True)
        result.written.append(target.as_posix())
        n_dicom += 1

    # -- case files ----------------------------------------------------------------------------------------
    deid_cases: dict[str, tuple[Case, Path]] = {}  # original case id -> (de-identified case, staged path)
    refused_series = {f.series_uid for f in dicoms if f.refused}
    note = (f"de-identified by SpineCase: PS3.15 Basic Profile, profile {profile.name} "
            f"(CID 7050: {', '.join(c.value for c in method_codes(profile))})")
    for p, case, pkey in loaded:
        check()
        step += 1
        rel = PurePosixPath(p.relative_to(src).as_posix())
        target = names.file(rel)
        if progress:
            progress(step, total_steps, "de-identifying case files")

        def hint(value: str | None, _p: Path = p, _target: PurePosixPath = target) -> str | None:
            if not value:
                return None
            where = (_p.parent / value).resolve()
            if not _inside(where, src) or not where.exists():
                result.notes.append("a series path hint of a case points outside the input folder or to nothing: "
                                    "removed")
                return None
            rel_in = PurePosixPath(where.relative_to(src).as_posix())
            new = names.dir(rel_in) if where.is_dir() else out_of.get(rel_in, names.file(rel_in))
            return PurePosixPath(os.path.relpath(new.as_posix(), _target.parent.as_posix())).as_posix()

        missing = [s for s in case.series if s.series_instance_uid in refused_series]
        if missing:
            result.notes.append(f"a case refers to {len(missing)} series whose images were refused (burned-in "
                                "annotation): its measurements on them have no images in the output")
        ctx = patients[pkey]
        deid = case_deid.deidentify(case, pseudonym=ctx.pseudonym, shift=ctx.shift,
                                    location=target.as_posix(), path_hint=hint, note=note)
        dest = stage / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        from imaging.case.store import atomic_write, dumps_case

        atomic_write(dest, dumps_case(deid), sync=False)
        result.written.append(target.as_posix())
        deid_cases[case.case_id] = (deid, dest)

    # -- CSVs ----------------------------------------------------------------------------------------------
    for p in csvs:
        check()
        step += 1
        rel = PurePosixPath(p.relative_to(src).as_posix())
        target = names.file(rel)
        if progress:
            progress(step, total_steps, "de-identifying CSV files")
        try:
            text = p.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            result.skipped.append((str(rel), f"the CSV cannot be read as UTF-8: {exc}"))
            continue
        new_text = _csv(text, deid_cases, loaded, patients, scrubber, uid, key, profile, target.as_posix())
        dest = stage / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(new_text.encode("utf-8"))
        result.written.append(target.as_posix())

    # -- reports -------------------------------------------------------------------------------------------
    for p in reports:
        check()
        step += 1
        rel = PurePosixPath(p.relative_to(src).as_posix())
        if progress:
            progress(step, total_steps, "rebuilding reports")
        match = _report_case(p, deid_cases, loaded)
        if match is None:
            result.skipped.append((str(rel), "a report whose case is not in the input folder (or not one of "
                                             "several): it cannot be rebuilt, so it is not copied"))
            continue
        is_pdf = p.suffix.lower() == ".pdf"
        if is_pdf and pdf_writer is None:
            result.skipped.append((str(rel), "a PDF report is rebuilt only where a PDF writer is available "
                                             "(the app or `spinecase deidentify`): not copied"))
            continue
        deid, case_path, pkey = match
        target = names.file(rel)
        html = _report_html(deid, case_path, patients[pkey].shift, profile)
        dest = stage / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        if is_pdf:
            assert pdf_writer is not None
            pdf_writer(html, dest)
        else:
            dest.write_bytes(html.encode("utf-8"))
        result.written.append(target.as_posix())

    # -- the log -------------------------------------------------------------------------------------------
    result.review = list(scrubber.replacements)
    result.log = _log(result, profile, key, dicom_deid, case_deid, len(patients), n_dicom, len(loaded),
                      len(csvs), len(reports))
    (stage / LOG_NAME).write_text(json.dumps(result.log, indent=2) + "\n", encoding="utf-8")
    if progress:
        progress(total_steps, total_steps, "done")
    return result


def _report_case(p: Path, deid_cases: dict[str, tuple[Case, Path]], loaded: list[tuple[Path, Case, str]]
                 ) -> tuple[Case, Path, str] | None:
    by_id = {case.case_id: pkey for _, case, pkey in loaded}
    if p.suffix.lower() != ".pdf":
        try:
            text = p.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        hits = [cid for cid in deid_cases if f"— {cid}</h1>" in text or f"report {cid}</title>" in text]
        if len(hits) == 1:
            deid, path = deid_cases[hits[0]]
            return deid, path, by_id[hits[0]]
    if len(deid_cases) == 1:
        cid = next(iter(deid_cases))
        deid, path = deid_cases[cid]
        return deid, path, by_id[cid]
    return None


def _report_html(case: Case, case_path: Path, shift: timedelta, profile: Profile) -> str:
    from imaging.case.export_report import build_html_report, load_case_volumes

    uids = sorted({m.series_instance_uid for m in case.measurements if m.series_instance_uid}
                  | {c.series_instance_uid for f in case.findings for c in f.contours if c.series_instance_uid})
    volumes, problems = load_case_volumes(case, case_path, uids)
    generated = datetime.now(UTC) + (shift if profile.dates is not DateOption.KEEP else timedelta(0))
    return build_html_report(case, volumes, problems, generated_utc=generated)


def _csv(text: str, deid_cases: dict[str, tuple[Case, Path]], loaded: list[tuple[Path, Case, str]],
         patients: dict[str, PatientContext], scrubber: TextScrubber, uid: UidMap, key: DeidKey,
         profile: Profile, location: str) -> str:
    """A CSV de-identified: our own measurement / finding exports rebuilt from the de-identified case, any
    other CSV cleaned cell by cell."""
    from imaging.case import export_csv as ec

    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return text
    header = tuple(rows[0])
    case_ids = {r[0] for r in rows[1:] if r}
    if header in (ec.MEASUREMENT_COLUMNS, ec.FINDING_COLUMNS) and len(case_ids) <= 1:
        cid = next(iter(case_ids), None)
        match = deid_cases.get(cid) if cid is not None else (next(iter(deid_cases.values()))
                                                               if len(deid_cases) == 1 else None)
        if match is not None:
            deid = match[0]
            if header == ec.MEASUREMENT_COLUMNS:
                return ec.rows_to_csv(ec.measurement_rows(deid), ec.MEASUREMENT_COLUMNS)
            return ec.rows_to_csv(ec.finding_rows(deid), ec.FINDING_COLUMNS)
    # Generic: one patient in the run gives the date shift; otherwise dates are not kept.
    shift = next(iter(patients.values())).shift if len(patients) == 1 else None
    saved = scrubber.dates
    if shift is None and scrubber.dates is DateOption.SHIFT:
        scrubber.dates = DateOption.REMOVE
    scrubber.shift = shift or timedelta(0)
    try:
        buf = io.StringIO(newline="")
        w = csv.writer(buf, dialect="excel", lineterminator="\r\n")
        w.writerow(rows[0])
        for i, row in enumerate(rows[1:], start=2):
            w.writerow([_cell(c, f"{location} row {i} column {j + 1}", scrubber, uid, key, profile, shift)
                        for j, c in enumerate(row)])
        return buf.getvalue()
    finally:
        scrubber.dates = saved


def _cell(value: str, where: str, scrubber: TextScrubber, uid: UidMap, key: DeidKey, profile: Profile,
          shift: timedelta | None) -> str:
    from imaging.case.export_csv import neutralise, unneutralise

    v = unneutralise(value)
    if not v:
        return value
    if _UIDISH.match(v) and len(v) >= 10:
        return uid(v)
    if re.fullmatch(r"[0-9a-f]{32}", v):
        return key.object_id(v)
    try:
        float(v)
        return value
    except ValueError:
        pass
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})?", v):
        if profile.dates is DateOption.KEEP:
            return value
        try:
            t = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            return ""
        return (t + shift).isoformat().replace("+00:00", "Z") if shift is not None else ""
    if v.startswith("[") and v.endswith("]"):
        try:
            parsed = json.loads(v)
        except ValueError:
            parsed = None
        if parsed is not None and all(isinstance(x, int | float) for x in _flatten(parsed)):
            return value
    return neutralise(scrubber.scrub(v, where, patterns=True))


def _flatten(x: object) -> list[object]:
    if isinstance(x, list):
        return [y for item in x for y in _flatten(item)]
    return [x]


def _log(result: DeidResult, profile: Profile, key: DeidKey, dicom_deid: DicomDeidentifier,
         case_deid: CaseDeidentifier, n_patients: int, n_dicom: int, n_cases: int, n_csv: int,
         n_reports: int) -> dict[str, object]:
    """The de-identification log: what was done, counted; the profile and options coded. No identifying
    value, no input name, no key material but its fingerprint."""
    from importlib import metadata

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    attributes: dict[str, dict[str, int]] = {}
    for (cls, action), n in sorted(dicom_deid.counts.items()):
        attributes.setdefault(cls, {})[action] = n
    return {
        "software": f"SpineCase {version('spinecase')} (research software, not a medical device)",
        "standard": "DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile (Table E.1-1 "
                    f"from dicom-anonymizer {version('dicom-anonymizer')}, {TABLE_EDITION})",
        "profile": profile.name,
        "deidentification_method_code_sequence": [
            {"CodeValue": c.value, "CodingSchemeDesignator": c.scheme, "CodeMeaning": c.meaning}
            for c in method_codes(profile)],
        "patient_identity_removed": "YES",
        "longitudinal_temporal_information": {DateOption.SHIFT: "MODIFIED (one whole-day shift per patient; "
                                                                "times of day not retained)",
                                              DateOption.KEEP: "UNMODIFIED",
                                              DateOption.REMOVE: "REMOVED"}[profile.dates],
        "burned_in_annotation": ("images flagged as carrying it were written anyway (--keep-burned-in)"
                                 if profile.keep_burned_in else "images flagged as carrying it were refused"),
        "key_fingerprint": key.fingerprint,
        "patients": n_patients,
        "files": {"dicom_written": n_dicom, "case_files": n_cases, "csv": n_csv, "reports_found": n_reports,
                  "refused": len(result.refused), "skipped": len(result.skipped)},
        "refused_by_reason": dict(Counter(reason for _, reason in result.refused)),
        "skipped_by_reason": dict(Counter(reason for _, reason in result.skipped)),
        "dicom_attributes_by_class": attributes,
        "case_files": dict(sorted(case_deid.counts.items())),
        "free_text_replacements_by_kind": dict(Counter(r.kind for r in result.review)),
        "notes": sorted(set(result.notes)),
    }
