"""Scaling beyond one server, as docs/pacs.md sets it up: PostgreSQL in a temporary folder and two Orthanc
instances sharing its index (Debian's orthanc-postgresql) and one storage folder. An SR stored through one
instance is found and retrieved through the other, over DICOMweb and over DIMSE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from imaging.pacs import ServerConfig, StudyCache, StudyQuery, open_client, pull_study
from imaging.pacs.push import push_files, read_push_file
from tests.pacs_fixtures import CALLING_AET, THORACIC_CT_STUDY, require_orthanc
from tests.pacs_servers import SAMPLES, OrthancServer, PostgresServer, free_port, postgres_missing


@pytest.fixture(scope="module")
def two_orthancs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OrthancServer, OrthancServer]]:
    require_orthanc()
    why = postgres_missing()
    if why:
        pytest.skip(why)
    postgres = PostgresServer().start()
    folder = tmp_path_factory.mktemp("orthanc-pg")
    shared = folder / "shared-storage"  # at a site: a network share or object storage all instances mount
    peers = {"me": (CALLING_AET, free_port())}
    first = OrthancServer(folder / "a", "orthanc-a", aet="ORTHANC_A", postgres=postgres, storage=shared,
                          modalities=peers)
    second = OrthancServer(folder / "b", "orthanc-b", aet="ORTHANC_B", postgres=postgres, storage=shared,
                           modalities=peers)
    try:
        first.start()  # creates the schema
        second.start()
        yield first, second
    finally:
        second.stop()
        first.stop()
        postgres.stop()


def server_for(orthanc: OrthancServer, **kw: object) -> ServerConfig:
    return ServerConfig(name=orthanc.name, url=orthanc.dicomweb_url, host="127.0.0.1", port=orthanc.dicom_port,
                        called_aet=orthanc.aet, calling_aet=CALLING_AET, **kw)


def test_an_sr_stored_through_one_instance_is_found_and_retrieved_through_the_other(two_orthancs, tmp_path: Path
                                                                                    ) -> None:
    from imaging.case.export_sr import write_sr
    from imaging.case.store import load_case

    first, second = two_orthancs
    for o in (first, second):  # both on the PostgreSQL index, both empty
        system = o.session().get(o.url + "/system", timeout=10).json()
        assert "PostgreSQL" in str(system["DatabaseBackendPlugin"]) and o.statistics()["CountInstances"] == 0
    case = SAMPLES / "thoracic_ddlps" / "case.spinecase.json"
    write_sr(load_case(case), case, tmp_path / "sr.dcm")
    item = read_push_file(tmp_path / "sr.dcm")
    assert push_files(open_client(server_for(first, prefer="dicomweb")), [item]).ok

    for protocol in ("dicomweb", "dimse"):
        other = open_client(server_for(second, prefer=protocol))
        [study] = other.find_studies(StudyQuery(study_uid=THORACIC_CT_STUDY))
        assert study.modalities == ("SR",) and study.patient_id == "SPC-PH-000"
        result = pull_study(other, StudyCache(tmp_path / protocol), THORACIC_CT_STUDY)
        [outcome] = result.series
        assert outcome.status == "retrieved" and outcome.series.series_uid == item.series_uid
        assert outcome.manifest is not None and outcome.manifest.sop_uids == {item.sop_uid}
        assert (outcome.folder / f"{item.sop_uid}.dcm").read_bytes()[128:132] == b"DICM"
    assert second.statistics()["CountInstances"] == 1  # one index: both instances see the same content
