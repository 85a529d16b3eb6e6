"""The study cache on its own: complete series only, checks on every instance, a damaged copy no longer
counted as complete, interrupted writes cleaned, and names that are UIDs or nothing (a PACS answer never
becomes a path outside the cache). The hostile PACS here is a small in-test client: no real server sends
such answers on purpose."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from imaging.pacs import PacsIncomplete, ServerConfig, StudyCache, pull_study
from imaging.pacs.cache import MANIFEST, PARTIAL
from imaging.pacs.client import StoreResult
from imaging.pacs.records import InstanceRecord, SeriesRecord

STUDY, SERIES = "1.2.826.0.1.3680043.10.1", "1.2.826.0.1.3680043.10.2"


def instance(study: str = STUDY, series: str = SERIES, sop: str | None = None) -> bytes:
    ds = Dataset()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.SOPInstanceUID = sop or generate_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.34"
    ds.Modality = "SR"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    buf = BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def sop_of(data: bytes) -> str:
    return str(dcmread(BytesIO(data)).SOPInstanceUID)


def test_commit_checks_the_set_and_moves_the_series_into_place(tmp_path: Path) -> None:
    cache = StudyCache(tmp_path)
    files = [instance() for _ in range(3)]
    transfer = cache.begin(STUDY, SERIES)
    for f in files[:2]:
        transfer.add(f)
    with pytest.raises(PacsIncomplete, match="1 of 3 instance"):
        transfer.commit([sop_of(f) for f in files])
    assert cache.complete_series(STUDY, SERIES) is None and not (tmp_path / STUDY).exists()
    (transfer.folder / ".tmp-cut-short").write_bytes(b"half")  # a write killed before its rename
    resumed = cache.begin(STUDY, SERIES)
    assert resumed.have() == {sop_of(f) for f in files[:2]}
    assert not (resumed.folder / ".tmp-cut-short").exists()
    resumed.add(files[2])
    stray = instance()
    resumed.add(stray)  # listed earlier, deleted on the PACS since: dropped at commit
    manifest = resumed.commit([sop_of(f) for f in files], modality="SR")
    assert manifest.folder == tmp_path / STUDY / SERIES and manifest.count == 3
    assert sorted(p.name for p in manifest.folder.iterdir()) == sorted([f"{sop_of(f)}.dcm" for f in files] + [MANIFEST])
    assert not (tmp_path / PARTIAL / STUDY).exists()
    assert cache.complete_series(STUDY, SERIES) == manifest
    # a file damaged since (another size): the series no longer counts as complete, so it is fetched again
    (manifest.folder / f"{sop_of(files[0])}.dcm").write_bytes(b"truncated")
    assert cache.complete_series(STUDY, SERIES) is None
    assert cache.cached_series(STUDY) == []


def test_strangers_and_non_dicom_are_refused(tmp_path: Path) -> None:
    transfer = StudyCache(tmp_path).begin(STUDY, SERIES)
    with pytest.raises(PacsIncomplete, match="while series .* was asked for"):
        transfer.add(instance(series="1.2.3.4"))
    with pytest.raises(PacsIncomplete, match="not valid DICOM"):
        transfer.add(b"GIF89a not dicom at all")
    with pytest.warns(UserWarning, match="Invalid value for VR UI"):  # pydicom says so as the test writes it
        evil = instance(sop="1.2.3/../../evil")
    with pytest.raises(PacsIncomplete, match="not a DICOM UID"), pytest.warns(UserWarning):
        transfer.add(evil)
    assert transfer.have() == set()


@pytest.mark.parametrize("bad", ["../../etc", "1.2.3/4", "", "1." * 40, "1.2.3\\4"])
def test_names_are_uids_or_nothing(tmp_path: Path, bad: str) -> None:
    cache = StudyCache(tmp_path)
    with pytest.raises(ValueError, match="not a DICOM UID"):
        cache.series_dir(STUDY, bad)
    with pytest.raises(ValueError, match="not a DICOM UID"):
        cache.study_dir(bad)


class HostilePacs:
    """Lists one good series and one whose UID is a path; sends what it lists."""

    protocol = "dicomweb"

    def __init__(self) -> None:
        self.server = ServerConfig(name="hostile", url="http://127.0.0.1:9/dicom-web")
        self.good = [instance() for _ in range(2)]

    def find_series(self, study_uid: str) -> list[SeriesRecord]:
        return [SeriesRecord(study_uid, "../../../outside", "CT"), SeriesRecord(study_uid, SERIES, "SR")]

    def find_instances(self, study_uid: str, series_uid: str) -> list[InstanceRecord]:
        return [InstanceRecord(sop_of(f)) for f in self.good] if series_uid == SERIES else [InstanceRecord("1.2")]

    def retrieve(self, study_uid: str, series_uid: str, sop_uids: Sequence[str] | None, sink, cancel) -> None:  # noqa: ANN001
        for f in self.good:
            sink(f)

    def store(self, files: Sequence[bytes]) -> StoreResult:
        return StoreResult()

    def close(self) -> None:
        pass


def test_a_series_uid_that_is_a_path_fails_alone_and_writes_nothing_outside(tmp_path: Path) -> None:
    cache_root = tmp_path / "cache"
    result = pull_study(HostilePacs(), StudyCache(cache_root), STUDY)
    [bad, good] = result.series
    assert bad.status == "failed" and "not a DICOM UID" in (bad.error or "")
    assert good.status == "retrieved" and good.manifest is not None and good.manifest.count == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]
    assert sorted(p.name for p in cache_root.iterdir()) in ([STUDY], [".partial", STUDY])
