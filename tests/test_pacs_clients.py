"""Both PACS clients against a real Orthanc holding the sample studies: echo, find with every filter, pull
into the cache (verified, identical to the sample files, identical Volume), push of an exported SR found
again as a series of modality SR -- over DICOMweb, DIMSE with C-GET and DIMSE with C-MOVE."""

from __future__ import annotations

from collections import defaultdict
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from imaging.pacs import StudyCache, StudyQuery, open_client, pull_study
from imaging.pacs.records import parse_date_range
from tests.pacs_fixtures import THORACIC_CT_SERIES, THORACIC_CT_STUDY, SamplePacs
from tests.pacs_servers import SAMPLES, sample_files

PROTOCOLS = {
    "dicomweb": {"prefer": "dicomweb"},
    "c-get": {"prefer": "dimse", "retrieve": "c-get"},
    "c-move": {"prefer": "dimse", "retrieve": "c-move"},
}


@pytest.fixture(params=list(PROTOCOLS))
def client(request: pytest.FixtureRequest, sample_pacs: SamplePacs):  # noqa: ANN201
    """A client per retrieval path: DICOMweb, DIMSE C-GET, DIMSE C-MOVE."""
    c = open_client(sample_pacs.server(**PROTOCOLS[request.param]))
    yield c
    c.close()


@pytest.fixture(params=["dicomweb", "dimse"])
def finder(request: pytest.FixtureRequest, sample_pacs: SamplePacs):  # noqa: ANN201
    """A client per query and store path (C-GET and C-MOVE share DIMSE's C-FIND and C-STORE)."""
    c = open_client(sample_pacs.server(prefer=request.param))
    yield c
    c.close()


def sample_studies() -> dict[str, tuple[str, set[str]]]:
    """StudyInstanceUID -> (PatientID, modalities), read from the sample files themselves."""
    studies: dict[str, tuple[str, set[str]]] = {}
    mods: dict[str, set[str]] = defaultdict(set)
    for f in sample_files():
        ds = dcmread(f, stop_before_pixels=True, specific_tags=["StudyInstanceUID", "PatientID", "Modality"])
        mods[ds.StudyInstanceUID].add(ds.Modality)
        studies[ds.StudyInstanceUID] = (ds.PatientID, mods[ds.StudyInstanceUID])
    return studies


def test_echo(finder) -> None:
    assert 0 < finder.echo() < 5


def test_find_lists_the_eleven_sample_studies_with_patient_ids_and_modalities(finder) -> None:
    expected = sample_studies()
    assert len(expected) == 11  # with the follow-up studies: thoracic restaging CT and MR, retroperitoneal CT
    found = finder.find_studies(StudyQuery())
    assert {s.study_uid: (s.patient_id, set(s.modalities)) for s in found} == expected
    thoracic_ct = next(s for s in found if s.study_uid == THORACIC_CT_STUDY)
    assert (thoracic_ct.patient_name, thoracic_ct.accession, thoracic_ct.study_date) == \
        ("PHANTOM^THORACIC T6", "PH0001", "20240108")
    assert (thoracic_ct.series_count, thoracic_ct.instance_count) == (1, 146)


@pytest.mark.parametrize(("query", "n"), [
    (StudyQuery(patient_id="SPC-PH-000"), 5),  # pre-operative CT and MR, post-operative MR, restaging CT and MR
    (StudyQuery(patient_name="PHANTOM^LUMBAR*"), 3),
    (StudyQuery(modality="MR"), 4),
    (StudyQuery(study_date="2024-01-01..2024-01-31"), 3),
    (StudyQuery(study_date="20240301-"), 6),
    (StudyQuery(accession="PH0032"), 1),
    (StudyQuery(study_uid=THORACIC_CT_STUDY), 1),
    (StudyQuery(patient_id="SPC-PH-000", modality="CT"), 2),
    (StudyQuery(patient_id="NOBODY"), 0),
])
def test_find_filters(finder, query: StudyQuery, n: int) -> None:
    found = finder.find_studies(query)
    assert len(found) == n, [(s.patient_id, s.study_date, s.modalities) for s in found]


def test_find_series_and_instances(finder) -> None:
    series = finder.find_series(THORACIC_CT_STUDY)
    assert [(s.series_uid, s.modality, s.instance_count) for s in series] == [(THORACIC_CT_SERIES, "CT", 146)]
    instances = finder.find_instances(THORACIC_CT_STUDY, THORACIC_CT_SERIES)
    assert len({i.sop_uid for i in instances}) == 146
    assert sorted(i.instance_number for i in instances) == list(range(1, 147))


def test_pull_gives_the_sample_files_and_a_second_pull_fetches_nothing(client, tmp_path: Path) -> None:
    cache = StudyCache(tmp_path / "cache")
    progress: list[tuple[int, int]] = []
    result = pull_study(client, cache, THORACIC_CT_STUDY, progress=lambda d, t: progress.append((d, t)))
    assert result.ok and [s.status for s in result.series] == ["retrieved"]
    folder = result.series[0].folder
    assert folder == tmp_path / "cache" / THORACIC_CT_STUDY / THORACIC_CT_SERIES
    assert progress[-1] == (146, 146) and len(progress) > 10
    originals = {dcmread(f, stop_before_pixels=True, specific_tags=["SOPInstanceUID"]).SOPInstanceUID: f
                 for f in (SAMPLES / "thoracic_ddlps" / "ct_axial").glob("*.dcm")}
    pulled = sorted(folder.glob("*.dcm"))
    assert {f.stem for f in pulled} == set(originals)
    for i, f in enumerate(pulled):
        original = originals[f.stem]
        if client.protocol == "dicomweb":  # WADO-RS gives the files as the PACS keeps them, byte for byte
            assert f.read_bytes() == original.read_bytes()
        elif i % 10 == 0:  # DIMSE sends the data set; the file meta is ours: every element of every tenth
            ds, ref = dcmread(f), dcmread(original)
            assert ds.file_meta.TransferSyntaxUID == ref.file_meta.TransferSyntaxUID and ds == ref
    assert not (tmp_path / "cache" / ".partial" / THORACIC_CT_STUDY).exists()
    again = pull_study(client, cache, THORACIC_CT_STUDY)
    assert [s.status for s in again.series] == ["cached"]


def test_pulled_ct_loads_into_the_same_volume_as_the_sample(sample_pacs: SamplePacs, tmp_path: Path) -> None:
    from imaging import load_series, scan_series

    cache = StudyCache(tmp_path / "cache")
    client = open_client(sample_pacs.server(prefer="dicomweb"))
    result = pull_study(client, cache, THORACIC_CT_STUDY, [THORACIC_CT_SERIES])
    [ours] = scan_series(result.series[0].folder)
    [theirs] = scan_series(SAMPLES / "thoracic_ddlps" / "ct_axial")
    a, b = load_series(ours), load_series(theirs)
    assert a.array.dtype == b.array.dtype and np.array_equal(a.array, b.array)
    assert np.array_equal(a.affine, b.affine)
    assert np.array_equal(a.slice_positions, b.slice_positions)
    assert a.warnings == b.warnings
    assert a.metadata.sop_instance_uids == b.metadata.sop_instance_uids  # the same slice order
    assert a.metadata.patient_id == b.metadata.patient_id and a.modality == b.modality == "CT"


def test_push_an_exported_sr_then_find_it_as_a_series_of_modality_sr(finder, sample_pacs: SamplePacs,
                                                                     tmp_path: Path) -> None:
    from imaging.case.export_sr import write_sr
    from imaging.case.store import load_case
    from imaging.pacs.push import push_files, read_push_file

    case_path = SAMPLES / "thoracic_ddlps" / "case.spinecase.json"
    sr_path = tmp_path / "sr.dcm"
    write_sr(load_case(case_path), case_path, sr_path)
    item = read_push_file(sr_path)
    assert item.kind == "SR" and item.study_uid == THORACIC_CT_STUDY
    try:
        result = push_files(finder, [item])
        assert result.ok and result.stored == [item.sop_uid]
        series = {s.series_uid: s for s in finder.find_series(THORACIC_CT_STUDY)}
        assert series[item.series_uid].modality == "SR"
        assert series[item.series_uid].instance_count == 1
        [study] = finder.find_studies(StudyQuery(study_uid=THORACIC_CT_STUDY))
        assert "SR" in study.modalities
    finally:
        sample_pacs.orthanc.delete(item.series_uid)


def test_a_pushed_file_arrives_byte_for_byte(sample_pacs: SamplePacs, tmp_path: Path) -> None:
    """What C-STORE sends is what WADO-RS gives back (every element)."""
    from imaging.case.export_sr import write_sr
    from imaging.case.store import load_case
    from imaging.pacs.push import push_files, read_push_file

    case_path = SAMPLES / "thoracic_ddlps" / "case.spinecase.json"
    write_sr(load_case(case_path), case_path, tmp_path / "sr.dcm")
    item = read_push_file(tmp_path / "sr.dcm")
    try:
        assert push_files(open_client(sample_pacs.server(prefer="dimse")), [item]).ok
        back = open_client(sample_pacs.server(prefer="dicomweb"))
        got: list[bytes] = []
        back.retrieve(item.study_uid, item.series_uid, None, got.append, lambda: False)
        assert len(got) == 1 and dcmread(BytesIO(got[0])) == dcmread(BytesIO(item.data))
    finally:
        sample_pacs.orthanc.delete(item.series_uid)


def test_date_ranges() -> None:
    assert parse_date_range("2024-01-01..2024-01-31") == "20240101-20240131"
    assert parse_date_range("20240101-20240131") == "20240101-20240131"
    assert parse_date_range("2024-03-01..") == "20240301-"
    assert parse_date_range("-20240131") == "-20240131"
    assert parse_date_range("2024-02-29") == "20240229"
    for bad in ("2024-02-30", "2024-13-01", "tomorrow", "20240201-20240101", ".."):
        with pytest.raises(ValueError):
            parse_date_range(bad)
