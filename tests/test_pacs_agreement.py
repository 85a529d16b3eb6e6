"""Multi-reader Bilsky agreement over readers' SRs: Fleiss' kappa by hand, the SR summary (reader, date,
grades), `spinecase bilsky-agreement --sr FOLDER` and `--pacs NAME --study UID` against the sample Orthanc.

Three readers A, B, C and four studies (worked out by hand, grades 0 < 1a < 1b < 1c < 2 < 3):

    study  A   B   C
    S1     3   3   3
    S2     2   3   2
    S3     0   0   1a
    S4     1b  1b  -        (C did not read S4)

Fleiss over S1-S3 (3 readers): P_i = 1, 1/3, 1/3 -> mean 5/9; shares 3: 4/9, 2: 2/9, 0: 2/9, 1a: 1/9 ->
chance 25/81; kappa = (45/81 - 25/81) / (56/81) = 5/14. All agree on S1 only: 33.3 %.
Cohen A-B (S1-S4): p_o 3/4, p_e 4/16 -> 2/3. A-C (S1-S3): p_o 2/3, p_e 2/9 -> 4/7. B-C: p_o 1/3, p_e 2/9 -> 1/7.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from app.cli import main
from imaging.pacs.annotations import grades_by_study, summarize_sr, summarize_sr_file
from imaging.spine.agreement import fleiss_kappa, reader_agreement
from tests.pacs_fixtures import SamplePacs
from tests.pacs_servers import SAMPLES

TABLE = {"S1": {"A": "3", "B": "3", "C": "3"}, "S2": {"A": "2", "B": "3", "C": "2"},
         "S3": {"A": "0", "B": "0", "C": "1a"}, "S4": {"A": "1b", "B": "1b"}}
# The sample studies stand in for S1-S4 on the PACS.
STUDIES = {"S1": "2.25.241667685825153770813877347509863580712", "S2": "2.25.57323334630524401917095615502582761207",
           "S3": "2.25.66897347174197591477752649426495943628", "S4": "2.25.134655499216156862206587357012821304121"}
STUDY_KEYWORDS = ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
                  "StudyTime", "AccessionNumber", "StudyID", "StudyDescription", "ReferringPhysicianName")


@functools.cache
def study_header(study_uid: str) -> Dataset:
    """The patient and study attributes of a sample study (read from one of its files)."""
    for series_folder in sorted(p for p in SAMPLES.glob("*/*") if p.is_dir()):
        first = next(iter(sorted(series_folder.glob("*.dcm"))), None)
        if first is not None:
            ds = dcmread(first, stop_before_pixels=True, specific_tags=list(STUDY_KEYWORDS))
            if ds.StudyInstanceUID == study_uid:
                return ds
    raise KeyError(study_uid)


def test_fleiss_by_hand() -> None:
    assert fleiss_kappa([["3", "3", "3"], ["2", "3", "2"], ["0", "0", "1a"]]) == pytest.approx(5 / 14)
    assert fleiss_kappa([["1c", "1c"], ["1c", "1c"]]) is None
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([["0", "0"], ["0", "0", "1a"]])


def test_reader_agreement_by_hand() -> None:
    r = reader_agreement(TABLE)
    assert r.readers == ("A", "B", "C") and (r.subjects, r.subjects_all) == (4, 3)
    assert r.fleiss == pytest.approx(5 / 14) and r.percent_all_agree == pytest.approx(100 / 3)
    assert r.pairs[("A", "B")].kappa == pytest.approx(2 / 3) and r.pairs[("A", "B")].n == 4
    assert r.pairs[("A", "C")].kappa == pytest.approx(4 / 7)
    assert r.pairs[("B", "C")].kappa == pytest.approx(1 / 7)
    assert r.missing == {"A": 0, "B": 0, "C": 1}
    with pytest.raises(ValueError, match="at least two readers"):
        reader_agreement({"S1": {"A": "3"}})


@pytest.fixture(scope="module")
def exported_sr(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    from imaging.case.export_sr import write_sr
    from imaging.case.store import load_case

    case = SAMPLES / "thoracic_ddlps" / "case.spinecase.json"
    out = tmp_path_factory.mktemp("sr") / "sr.dcm"
    write_sr(load_case(case), case, out)
    return dcmread(out)


def _walk(items):  # noqa: ANN001,ANN202
    for item in items:
        yield item
        yield from _walk(item.get("ContentSequence", []))


def reader_sr(base: Dataset, reader: str, grade: str, study_uid: str, date: str) -> Dataset:
    """SpineCase's exported SR re-signed by another reader with every final Bilsky grade set to ``grade``, for
    another of the sample studies (the finding groups, codes and structure stay SpineCase's own)."""
    ds = copy.deepcopy(base)
    for item in _walk(ds.ContentSequence):
        name = item.ConceptNameCodeSequence[0] if "ConceptNameCodeSequence" in item else None
        if name is not None and name.CodeValue == "121008":
            item.PersonName = f"{reader}^Reader"
        if name is not None and name.CodeValue == "BILSKY":
            item.ConceptCodeSequence[0].CodeValue = grade
            item.ConceptCodeSequence[0].CodeMeaning = f"Bilsky grade {grade}"
    header = study_header(study_uid)  # the study's own patient and study attributes: one study, one patient
    for keyword in STUDY_KEYWORDS:
        if keyword in header:
            setattr(ds, keyword, header.get(keyword))
        elif keyword in ds:
            delattr(ds, keyword)
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.ContentDate = date
    return ds


def reader_srs(base: Dataset) -> list[Dataset]:
    out = []
    for study, per in TABLE.items():
        for reader, grade in per.items():
            out.append(reader_sr(base, reader, grade, STUDIES[study], "20240601"))
    # an older read of S1 by C, replaced by the later one above
    out.append(reader_sr(base, "C", "0", STUDIES["S1"], "20240101"))
    return out


def test_sr_summary_of_the_exported_sr(exported_sr: Dataset) -> None:
    s = summarize_sr(exported_sr)
    assert s.reader == "reference" and s.manufacturer == "SpineCase" and len(s.date) == 8
    # the thoracic lesion's own (pre-operative) grade; its later grades are its follow-up timepoints (not in the SR yet)
    assert [(f.grade, f.levels) for f in s.grades] == [("3", ("T5", "T6"))]
    assert s.worst_grade() == "3"
    other = summarize_sr(reader_sr(exported_sr, "B", "1c", STUDIES["S2"], "20240601"))
    assert other.reader == "Reader B" and other.worst_grade() == "1c" and other.study_uid == STUDIES["S2"]


def test_grades_by_study_takes_each_readers_latest_sr(exported_sr: Dataset) -> None:
    grades = grades_by_study(summarize_sr(ds) for ds in reader_srs(exported_sr))
    expected = {STUDIES[s]: {f"Reader {r}": g for r, g in per.items()} for s, per in TABLE.items()}
    assert grades == expected


def test_cli_over_a_folder_of_srs(exported_sr: Dataset, tmp_path: Path, capsys) -> None:
    for i, ds in enumerate(reader_srs(exported_sr)):
        ds.save_as(tmp_path / f"sr{i}.dcm", enforce_file_format=True)
    (tmp_path / "notes.txt").write_text("not DICOM", encoding="utf-8")  # beside the SRs: skipped quietly
    assert main(["bilsky-agreement", "--sr", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["readers"] == ["Reader A", "Reader B", "Reader C"] and doc["studies"] == 4
    assert doc["fleiss_kappa"] == pytest.approx(5 / 14)
    assert doc["pairs"][0]["kappa"] == pytest.approx(2 / 3) and doc["pairs"][0]["n"] == 4
    assert main(["bilsky-agreement", "--sr", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Fleiss' kappa: 0.357" in out and "All readers agree: 33.3%" in out
    assert "Reader C did not grade 1 study" in out
    assert "Confusion table (rows: Reader A; columns: Reader B)" in out


def test_cli_usage_errors(tmp_path: Path, capsys) -> None:
    assert main(["bilsky-agreement"]) == 2
    assert main(["bilsky-agreement", "--study", "1.2.3"]) == 2
    assert "need --pacs" in capsys.readouterr().err
    assert main(["bilsky-agreement", "--sr", str(tmp_path)]) == 1
    assert "at least two readers" in capsys.readouterr().err


def test_cli_over_the_srs_of_studies_on_the_pacs(exported_sr: Dataset, sample_pacs: SamplePacs,
                                                  sample_server_name: str, tmp_path: Path, capsys) -> None:
    srs = reader_srs(exported_sr)
    paths = []
    for i, ds in enumerate(srs):
        paths.append(tmp_path / f"sr{i}.dcm")
        ds.save_as(paths[-1], enforce_file_format=True)
    assert main(["pacs", "push", sample_server_name, *map(str, paths)]) == 0
    try:
        listing = tmp_path / "studies.txt"
        listing.write_text("# the four studies\n" + "\n".join(STUDIES.values()) + "\n", encoding="utf-8")
        capsys.readouterr()
        assert main(["bilsky-agreement", "--pacs", sample_server_name, "--studies", str(listing), "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["srs"] == len(srs) and doc["fleiss_kappa"] == pytest.approx(5 / 14)
        assert {tuple(p["readers"]): p["kappa"] for p in doc["pairs"]} == pytest.approx(
            {("Reader A", "Reader B"): 2 / 3, ("Reader A", "Reader C"): 4 / 7, ("Reader B", "Reader C"): 1 / 7})
        # the SRs are in the cache now, one folder per study, and summarised from there
        cached = list((tmp_path / "cache").glob("*/*/*.dcm"))
        assert len(cached) == len(srs) and summarize_sr_file(cached[0]).manufacturer == "SpineCase"
    finally:
        for ds in srs:
            sample_pacs.orthanc.delete(ds.SeriesInstanceUID)
