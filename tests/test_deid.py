"""De-identified research export (issue 19): acceptance on the sample cases and the rules behind it.

The thoracic case runs end to end in every `make test` (identifiers planted in its DICOM headers and free
text, CSV / SR / KOS / HTML report exported first, `spinecase deidentify`, then every check); the other
sample cases run a lean path (DICOM + case + CSV). ``SPINECASE_DEID_ALL=1`` runs the full path on all five.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import UID_dictionary, generate_uid

from app.cli import main as cli_main
from imaging.case.model import Case
from imaging.case.sources import series_headers
from imaging.case.store import load_case, save_case
from imaging.deid.keys import DeidKey, KeyFileError, load_or_create_key
from imaging.deid.table import DateOption, Profile, basic_profile_action, method_codes, resolve_action, table_rows
from imaging.deid.text import Identifiers, TextScrubber

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_dicoms"
SAMPLE_CASES = sorted(p.name for p in SAMPLES.iterdir() if (p / "case.spinecase.json").exists())
FULL_ALL = os.environ.get("SPINECASE_DEID_ALL") == "1"
needs_dciodvfy = pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not installed")

BIRTH_DATE = "19870312"
OTHER_ID = "MRN99887766"
ACCESSION = "ACC20240108"


# -- helpers --------------------------------------------------------------------------------------------
def dicom_files(folder: Path) -> Iterator[tuple[Path, Dataset]]:
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.name.endswith((".json", ".csv", ".html", ".pdf", ".key")):
            try:
                yield p, pydicom.dcmread(p)
            except pydicom.errors.InvalidDicomError:
                continue


def plant_identifiers(case_dir: Path) -> dict[str, str]:
    """Give the copied sample what real data has: a birth date, other IDs, an accession number, a private
    block naming the patient, a safe private attribute, and identifiers in the case's free text."""
    name = ""
    pid = ""
    for p, ds in dicom_files(case_dir):
        name, pid = str(ds.PatientName), str(ds.PatientID)
        ds.PatientBirthDate = BIRTH_DATE
        ds.OtherPatientIDs = OTHER_ID
        ds.AccessionNumber = ACCESSION
        block = ds.private_block(0x0011, "ACME PACS 1.0", create=True)
        block.add_new(0x01, "LO", name)
        safe = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
        safe.add_new(0x0C, "IS", "800")
        ds.save_as(p, enforce_file_format=True)
    case_path = case_dir / "case.spinecase.json"
    case = load_case(case_path)
    f = case.findings[0]
    text = (f"Seen {name.replace('^', ' ').title()} (ID {pid}, born 12.03.1987, {OTHER_ID}) on 2024-01-08; "
            f"series {case.series[0].series_instance_uid}")
    case.update(f.id, notes=text)
    m = case.measurements[0]
    case.update(m.id, label=f"{pid} lesion")
    case.set_report(case.report.model_copy(update={"report_text": case.report.report_text + f"\nPatient {name}"}))
    save_case(case, case_path, backup=False)
    return {"name": name, "id": pid, "case_id": case.case_id}


def export_all(case_dir: Path, *, report: bool, kos: bool) -> None:
    """The existing exporters first: measurements and findings CSV, DICOM SR, KOS and the HTML report."""
    from imaging.case.export_csv import write_findings_csv, write_measurements_csv
    from imaging.case.export_sr import write_sr

    case_path = case_dir / "case.spinecase.json"
    case = load_case(case_path)
    write_measurements_csv(case, case_dir / "measurements.csv")
    write_findings_csv(case, case_dir / "findings.csv")
    (case_dir / "exports").mkdir()
    if any(m.series_instance_uid for m in case.measurements):
        write_sr(case, case_path, case_dir / "exports" / "sr.dcm")
    if kos:
        ref = case.series[0]
        images = series_headers(case_path, ref)[:3]
        doc = hd.ko.KeyObjectSelectionDocument(
            evidence=images, content=hd.ko.KeyObjectSelection(codes.DCM.OfInterest, images),
            series_instance_uid=generate_uid(), series_number=991, sop_instance_uid=generate_uid(),
            instance_number=1, manufacturer="SpineCase")
        doc.save_as(case_dir / "exports" / "kos.dcm", enforce_file_format=True)
    if report:
        from imaging.case.export_report import write_html_report

        write_html_report(case, case_dir / "report.html", case_path)


def uids_in(ds: Dataset) -> set[str]:
    out: set[str] = set()
    for elem in ds.iterall():
        if elem.VR == "UI" and not elem.is_empty and elem.keyword != "ImplementationClassUID":
            values = elem.value if isinstance(elem.value, list | pydicom.multival.MultiValue) else [elem.value]
            out |= {str(v) for v in values if str(v) not in UID_dictionary}
    return out


def walk_pairs(a: Dataset, b: Dataset | None, path: str = "") -> Iterator[tuple[str, pydicom.DataElement,
                                                                                 pydicom.DataElement | None]]:
    for elem in a:
        if elem.tag.group == 0x0002:
            continue
        other = b.get(elem.tag) if b is not None and elem.tag in b else None
        yield f"{path}{elem.keyword or elem.tag}", elem, other
        if elem.VR == "SQ":
            items = list(other.value) if other is not None and other.VR == "SQ" else []
            for i, item in enumerate(elem.value):
                yield from walk_pairs(item, items[i] if i < len(items) else None, f"{path}{elem.keyword}[{i}].")


def check_table_walk(ds_in: Dataset, ds_out: Dataset, key: DeidKey, shift: int, identifiers: list[str]) -> int:
    """Every attribute of Table E.1-1 present in the input got its action in the output; returns how many
    were checked."""
    checked = 0
    for where, a, b in walk_pairs(ds_in, ds_out):
        if a.tag.is_private:
            continue
        code = basic_profile_action(a.tag)
        if code is None or a.is_empty:
            continue
        action = resolve_action(a.tag, a.VR, Profile(), has_value=True)
        checked += 1
        if a.VR == "SQ":
            continue  # its items' attributes are checked one by one
        if a.keyword in ("PatientName", "PatientID"):
            assert b is not None and str(b.value).rstrip("^").startswith("ANON-"), where
            continue
        if action == "X":
            assert b is None, f"{where} ({code}) should be removed"
        elif action == "Z":
            assert b is not None and b.is_empty, f"{where} ({code}) should be empty"
        elif action == "U":
            values = a.value if isinstance(a.value, pydicom.multival.MultiValue) else [a.value]
            out = b.value if isinstance(b.value, pydicom.multival.MultiValue) else [b.value]
            assert [str(v) for v in out] != [str(v) for v in values], where
        elif action == "D":
            assert b is not None and not b.is_empty and str(b.value) != str(a.value), f"{where} ({code}) dummy"
        elif action == "C" and a.VR == "DA":
            want = (date(int(a.value[:4]), int(a.value[4:6]), int(a.value[6:8])).toordinal() + shift)
            got = date(int(b.value[:4]), int(b.value[4:6]), int(b.value[6:8])).toordinal()
            assert got == want, f"{where}: date not shifted by the patient's shift"
        elif action == "C":
            assert b is not None, where
            text = str(b.value).casefold()
            assert not any(i.casefold() in text for i in identifiers), f"{where} still identifies"
        if b is not None and action != "C" and not b.is_empty and a.VR != "SQ":
            assert str(b.value) != str(a.value), f"{where} ({code}) survived with its original value"
    for elem in ds_out.iterall():
        if elem.tag.is_private and elem.tag.element > 0xFF:
            assert elem.tag.group == 0x0019 and (elem.tag.element & 0xFF) == 0x0C, f"private {elem.tag} kept"
    return checked


def dciodvfy_errors(path: Path) -> list[str]:
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, timeout=60)
    out = (result.stdout + result.stderr).decode("utf-8", "replace")
    return [line for line in out.splitlines() if line.startswith("Error")]


def run_case(tmp_path: Path, name: str, *, full: bool) -> dict:
    src = tmp_path / "in"
    shutil.copytree(SAMPLES / name, src)
    planted = plant_identifiers(src)
    export_all(src, report=full, kos=full)
    original = load_case(src / "case.spinecase.json")
    key_file = tmp_path / "keys" / "deid.key"
    out = tmp_path / "out"
    assert cli_main(["deidentify", str(src), str(out), "--key", str(key_file)]) == 0
    return {"src": src, "out": out, "key": load_or_create_key(key_file), "planted": planted, "original": original}


def check_run(run: dict, *, full: bool) -> None:
    src, out, key, planted, original = run["src"], run["out"], run["key"], run["planted"], run["original"]
    pkey = planted["id"]
    shift = key.date_shift(pkey).days
    identifiers = [planted["name"], planted["name"].replace("^", " "), planted["id"], OTHER_ID, ACCESSION,
                   BIRTH_DATE, "1987-03-12", "12.03.1987"]

    # Table E.1-1, file by file (paired by the replaced SOP Instance UID).
    outputs = {str(ds.SOPInstanceUID): (p, ds) for p, ds in dicom_files(out)}
    original_uids: set[str] = set()
    checked = 0
    for _p, ds_in in dicom_files(src):
        original_uids |= uids_in(ds_in)
        p_out, ds_out = outputs[key.uid(str(ds_in.SOPInstanceUID))]
        checked += check_table_walk(ds_in, ds_out, key, shift, identifiers)
        assert ds_out.PatientIdentityRemoved == "YES"
        assert [c.CodeValue for c in ds_out.DeidentificationMethodCodeSequence] == \
            [c.value for c in method_codes(Profile())]
    assert checked > 1000

    # References inside SR / KOS / SEG resolve to written instances and frames of reference.
    sops = set(outputs)
    frames = {str(ds.FrameOfReferenceUID) for _, ds in outputs.values() if "FrameOfReferenceUID" in ds}
    for p_out, ds in outputs.values():
        if ds.Modality in ("SR", "KO", "SEG"):
            refs = [str(e.value) for e in ds.iterall() if e.keyword == "ReferencedSOPInstanceUID"]
            assert refs and set(refs) <= sops, f"{p_out.name}: unresolved references"
            forefs = {str(e.value) for e in ds.iterall() if e.keyword == "ReferencedFrameOfReferenceUID"}
            assert forefs <= frames
            tracking = {str(e.value) for e in ds.iterall() if e.keyword == "UID"}
            case_uids = {f"2.25.{uuid.UUID(hex=o.id).int}" for _, o in load_case(out / "case.spinecase.json")
                         ._all_objects()}
            assert tracking <= case_uids, "SR tracking UIDs no longer name the case's objects"

    # The case opens on the de-identified images with every measurement in place.
    case = load_case(out / "case.spinecase.json")
    assert case.patient.id.startswith("ANON-") and case.patient.name == case.patient.id
    for ref in case.series:
        headers = series_headers(out / "case.spinecase.json", ref)
        assert headers and all(str(h.SeriesInstanceUID) == ref.series_instance_uid for h in headers)
        assert str(headers[0].FrameOfReferenceUID) == ref.frame_of_reference_uid
    by_id = {m.id: m for m in case.measurements}
    sop_uids = {uid for uid in sops}
    for m in original.measurements:
        d = by_id[key.object_id(m.id)]
        assert np.allclose(np.asarray(d.points), np.asarray(m.points), rtol=0, atol=1e-6)
        for v0, v1 in zip(m.values(), d.values(), strict=True):
            assert abs(v0.value - v1.value) <= 1e-6 and v0.unit == v1.unit
        if m.sop_instance_uid:
            assert d.sop_instance_uid in sop_uids
        assert d.series_instance_uid == key.uid(m.series_instance_uid or "")

    # Intervals between studies are preserved to the day, in the case and in the DICOM.
    dates0 = [s.study_date for s in original.studies]
    dates1 = [s.study_date for s in case.studies]
    assert all((b - a).days == shift for a, b in zip(dates0, dates1, strict=True) if a)
    study_dates = {str(ds.StudyInstanceUID): str(ds.StudyDate) for _, ds in outputs.values()}
    for s in case.studies:
        if s.study_date:
            assert study_dates[s.study_instance_uid] == s.study_date.strftime("%Y%m%d")

    # Free text: planted identifiers replaced and listed; no identifier, birth date or UID anywhere in OUT.
    finding = case.findings[0]
    assert planted["id"] not in finding.notes and "[NAME]" in finding.notes and "[DATE]" in finding.notes
    assert case.measurements[0].label.startswith("ANON-")
    needles = [s for s in identifiers if len(s) >= 6] + sorted(original_uids) + [planted["case_id"]]
    needles += [s.study_instance_uid for s in original.studies] + [s.series_instance_uid for s in original.series]
    for p in out.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for needle in needles:
                assert needle.encode() not in data, f"{p.relative_to(out)} holds an original identifier"
    log = json.loads((out / "deidentification-log.json").read_text())
    assert log["patient_identity_removed"] == "YES" and log["profile"] == "retain-longitudinal"
    assert {c["CodeValue"] for c in log["deidentification_method_code_sequence"]} >= {"113100", "113107", "113105"}

    # CSVs name the de-identified case, UIDs and dates.
    text = (out / "measurements.csv").read_text()
    assert case.case_id in text and case.patient.id in text
    assert all(m.series_instance_uid in text for m in case.measurements if m.series_instance_uid)

    if full and shutil.which("dciodvfy"):
        firsts: dict[str, Path] = {}
        for p_out, ds in outputs.values():
            firsts.setdefault(str(ds.SeriesInstanceUID), p_out)
        for p_out in firsts.values():
            assert dciodvfy_errors(p_out) == [], p_out.name
    if full:
        html = (out / "report.html").read_text()
        assert case.patient.id in html and planted["name"] not in html


# -- acceptance -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def thoracic(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_case(tmp_path_factory.mktemp("deid_thoracic"), "thoracic_ddlps", full=True)


@needs_dciodvfy
def test_thoracic_case_end_to_end(thoracic: dict) -> None:
    check_run(thoracic, full=True)
    review = json.dumps(thoracic["out"].joinpath("deidentification-log.json").read_text())
    assert "free_text_replacements_by_kind" in review


@pytest.mark.parametrize("name", [n for n in SAMPLE_CASES if n != "thoracic_ddlps" or FULL_ALL])
def test_other_sample_cases(name: str, tmp_path: Path) -> None:
    run = run_case(tmp_path, name, full=FULL_ALL)
    check_run(run, full=FULL_ALL)


def test_same_key_same_pseudonyms_and_uids_across_runs(tmp_path: Path) -> None:
    from tests.dicom_factory import write_series

    write_series(tmp_path / "in" / "ct", shape=(2, 4, 4))
    key_file = tmp_path / "k.key"

    def run(name: str, key: Path) -> list[tuple[str, str, str]]:
        assert cli_main(["deidentify", str(tmp_path / "in"), str(tmp_path / name), "--key", str(key)]) == 0
        return sorted((str(ds.PatientID), str(ds.SOPInstanceUID), str(ds.get("StudyDate", "")))
                      for _, ds in dicom_files(tmp_path / name))

    first = run("a", key_file)
    assert run("b", key_file) == first
    other = run("c", tmp_path / "other.key")
    assert all(x[0] != y[0] and x[1] != y[1] for x, y in zip(first, other, strict=True))


def test_output_must_be_new_and_input_untouched(thoracic: dict, capsys: pytest.CaptureFixture[str]) -> None:
    before = {p: p.stat().st_mtime_ns for p in thoracic["src"].rglob("*")}
    assert cli_main(["deidentify", str(thoracic["src"]), str(thoracic["out"]), "--key",
                     str(thoracic["out"].parent / "keys" / "deid.key")]) == 1
    assert "must be new or empty" in capsys.readouterr().err
    assert before == {p: p.stat().st_mtime_ns for p in thoracic["src"].rglob("*")}


# -- the rules ------------------------------------------------------------------------------------------
def test_table_rows_match_ps3_15() -> None:
    """Rows of Table E.1-1 as the standard prints them (Basic Prof. column)."""
    rows = table_rows()
    expected = {
        0x00100010: "Z", 0x00100030: "Z", 0x00080020: "Z", 0x00080050: "Z", 0x00200010: "Z",
        0x00081030: "X", 0x0008103E: "X", 0x00101010: "X", 0x00104000: "X", 0x00204000: "X",
        0x0020000D: "U", 0x0020000E: "U", 0x00080018: "U", 0x00200052: "U", 0x00081155: "U", 0x00620021: "U",
        0x0040A730: "D", 0x0040A123: "D", 0x00080023: "Z/D", 0x00080022: "X/Z", 0x00181030: "X/D",
        0x00080080: "X/Z/D", 0x00081010: "X/Z/D", 0x00081140: "X/Z/U*", 0x00082112: "X/Z/U*",
    }
    for tag, code in expected.items():
        assert rows.get(tag) == code, f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    assert basic_profile_action(0x60004000) == "X" and basic_profile_action(0x60223000) == "X"
    assert basic_profile_action(0x50001234) == "X"
    assert len(rows) > 600


def test_resolve_action_options() -> None:
    p = Profile()
    assert resolve_action(0x00080020, "DA", p, has_value=True) == "C"            # Study Date: shifted
    assert resolve_action(0x00080030, "TM", p, has_value=True) == "Z"            # Study Time: not retained
    assert resolve_action(0x00100030, "DA", p, has_value=True) == "Z"            # birth date never kept
    assert resolve_action(0x0008103E, "LO", p, has_value=True) == "C"            # Clean Descriptors
    assert resolve_action(0x0040A730, "SQ", p, has_value=True) == "C"            # Clean Structured Content
    assert resolve_action(0x00081140, "SQ", p, has_value=True) == "U*"
    assert resolve_action(0x00080080, "LO", p, has_value=True) == "D"
    assert resolve_action(0x00080080, "LO", p, has_value=False) == "Z"
    assert resolve_action(0x00080020, "DA", Profile(DateOption.KEEP), has_value=True) == "K"
    assert resolve_action(0x00080020, "DA", Profile(DateOption.REMOVE), has_value=True) == "Z"
    assert resolve_action(0x00280010, "US", p, has_value=True) is None           # Rows: not in the table


def test_key_file_is_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "k.key"
    a = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create_key(path).patient_pseudonym("X1") == a.patient_pseudonym("X1")
    assert a.secret.hex() not in repr(a)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_key(path)
    bad = tmp_path / "bad.key"
    bad.write_text("hello\n")
    bad.chmod(0o600)
    with pytest.raises(KeyFileError, match="not a SpineCase"):
        load_or_create_key(bad)


def test_default_key_lives_beside_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from imaging.deid.keys import default_key_path

    monkeypatch.setenv("SPINECASE_SETTINGS", str(tmp_path / "s" / "spinecase.ini"))
    assert default_key_path() == tmp_path / "s" / "deidentification.key"


def test_pseudonyms_shifts_and_uids() -> None:
    k = DeidKey(b"\x01" * 32)
    assert k.patient_pseudonym("A") == k.patient_pseudonym("A") != k.patient_pseudonym("B")
    assert len(k.patient_pseudonym("A")) <= 16
    assert -11 * 366 <= k.date_shift("A").days <= -365
    u = k.uid("1.2.3.4")
    assert u.startswith("2.25.") and len(u) <= 64 and u == k.uid("1.2.3.4") and u != k.uid("1.2.3.5")
    assert uuid.UUID(hex=k.object_id("a" * 32)).version == 4


@pytest.mark.parametrize(("text", "expected"), [
    ("T5-T6 lesion 17 x 9 mm, 50,4 Gy at 1.25 mm", "T5-T6 lesion 17 x 9 mm, 50,4 Gy at 1.25 mm"),
    ("points [28.190000000000001, -57.223577]", "points [28.190000000000001, -57.223577]"),
    ("scan on 2024-01-08 and 20240110", "scan on 2023-01-08 and 2023-01-10"),
    ("scan on 8 January 2024 or Jan 8, 2024", "scan on 2023-01-08 or 2023-01-08"),
    ("on 01/02/2024 (ambiguous) or 13/01/2024", "on [DATE] (ambiguous) or 2023-01-13"),
    ("born 12.03.1987", "born [DATE]"),
    ("MRN 12345678, ID SPC-9, Smith", "MRN [ID], ID PSEUDO, [NAME]"),
    ("John Smith and SMITH^JOHN", "[NAME] and [NAME]"),
])
def test_scrubber(text: str, expected: str) -> None:
    k = DeidKey(b"\x02" * 32)
    s = TextScrubber(k.uid, Identifiers(ids={"SPC-9"}, names={"SMITH^JOHN"}, birth_dates={date(1987, 3, 12)}),
                     {"SPC-9": "PSEUDO"}, DateOption.SHIFT)
    s.shift = date(2023, 1, 8) - date(2024, 1, 8)
    assert s.scrub(text, "here") == expected
    assert all(r.location == "here" for r in s.replacements)


def test_scrubber_replaces_uids_as_the_dicom_does() -> None:
    k = DeidKey(b"\x03" * 32)
    s = TextScrubber(k.uid, Identifiers(), {}, DateOption.SHIFT)
    uid = "2.25.241667685825153770813877347509863580712"
    assert s.scrub(f"see {uid}.", "x") == f"see {k.uid(uid)}."


def test_burned_in_images_are_refused_with_a_reason(tmp_path: Path) -> None:
    from imaging.deid.folder import deidentify_folder
    from tests.dicom_factory import write_series

    src = tmp_path / "in"
    truth = write_series(src / "ct", shape=(2, 4, 4))
    flagged = pydicom.dcmread(truth["files"][0])
    flagged.BurnedInAnnotation = "YES"
    flagged.save_as(truth["files"][0], enforce_file_format=True)
    sc = pydicom.dcmread(truth["files"][1])
    sc.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    sc.file_meta.MediaStorageSOPClassUID = sc.SOPClassUID
    sc.save_as(src / "sc.dcm", enforce_file_format=True)
    key = DeidKey(b"\x04" * 32)
    result = deidentify_folder(src, tmp_path / "out", key=key)
    reasons = dict(result.refused)
    assert "BurnedInAnnotation is YES" in reasons[Path(truth["files"][0]).relative_to(src).as_posix()]
    assert "Secondary Capture" in reasons["sc.dcm"]
    assert not (tmp_path / "out" / "sc.dcm").exists()
    log = json.loads((tmp_path / "out" / "deidentification-log.json").read_text())
    assert log["files"]["refused"] == 2
    kept = deidentify_folder(src, tmp_path / "out2", key=key, profile=Profile(keep_burned_in=True))
    assert not kept.refused and (tmp_path / "out2" / "sc.dcm").exists()


def test_cancel_leaves_nothing(tmp_path: Path) -> None:
    from imaging.deid.folder import DeidCancelled, deidentify_folder
    from tests.dicom_factory import write_series

    write_series(tmp_path / "in" / "ct", shape=(3, 4, 4))
    with pytest.raises(DeidCancelled):
        deidentify_folder(tmp_path / "in", tmp_path / "out", key=DeidKey(b"\x05" * 32), cancelled=lambda: True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_other_csv_cleaned_cell_by_cell(tmp_path: Path) -> None:
    from imaging.deid.folder import deidentify_folder
    from tests.dicom_factory import write_series

    truth = write_series(tmp_path / "in" / "ct", shape=(2, 4, 4))
    ds = pydicom.dcmread(truth["files"][0])
    (tmp_path / "in" / "notes.csv").write_text(
        "uid,date,note,value\r\n"
        f"{truth['series_uid']},2024-01-08T10:00:00Z,patient {ds.PatientID} seen,-12.5\r\n", encoding="utf-8")
    key = DeidKey(b"\x06" * 32)
    deidentify_folder(tmp_path / "in", tmp_path / "out", key=key)
    rows = (tmp_path / "out" / "notes.csv").read_text().splitlines()
    cells = rows[1].split(",")
    assert cells[0] == key.uid(truth["series_uid"]) and cells[3] == "-12.5"
    assert str(ds.PatientID) not in rows[1] and cells[1].startswith(("20", "19")) and cells[1] != "2024-01-08T10:00:00Z"


def test_case_without_images_gets_the_pseudonym_of_its_patient_id(tmp_path: Path) -> None:
    from imaging.case.model import Patient
    from imaging.deid.folder import deidentify_folder

    (tmp_path / "in").mkdir()
    case = Case(case_id="MRN-4455667", patient=Patient(id="X123", name="DOE^JANE", sex="F", age_years=51))
    case.report = case.report.model_copy(update={"report_text": "Jane Doe (X123), seen 2021-03-04"})
    save_case(case, tmp_path / "in" / "x.spinecase.json", backup=False)
    key = DeidKey(b"\x07" * 32)
    result = deidentify_folder(tmp_path / "in", tmp_path / "out", key=key)
    deid = load_case(tmp_path / "out" / "x.spinecase.json")
    assert deid.patient.id == key.patient_pseudonym("X123") and deid.patient.sex is None
    assert deid.case_id == key.case_id("MRN-4455667")
    assert deid.report.report_text == f"[NAME] ({deid.patient.id}), seen " + \
        (date(2021, 3, 4) + key.date_shift("X123")).isoformat()
    assert {r.kind for r in result.review} == {"name", "patient ID", "date"}
