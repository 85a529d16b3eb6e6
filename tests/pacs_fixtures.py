"""Fixtures of the PACS tests (imported by conftest.py): one Orthanc holding the sample studies for the
whole session, the user's folders redirected into the test's temporary folder, server settings for both
protocols."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pacs_servers import OrthancServer, free_port, orthanc_missing, sample_files

CALLING_AET = "SPINECASE"
THORACIC_CT_STUDY = "2.25.241667685825153770813877347509863580712"
THORACIC_CT_SERIES = "2.25.23927522552340452180342655550458367438"


@dataclass
class SamplePacs:
    orthanc: OrthancServer
    move_port: int

    def server(self, name: str = "test", **overrides: object):  # noqa: ANN201 - ServerConfig
        from imaging.pacs.config import ServerConfig

        fields: dict[str, object] = dict(
            name=name, url=self.orthanc.dicomweb_url, host="127.0.0.1", port=self.orthanc.dicom_port,
            called_aet=self.orthanc.aet, calling_aet=CALLING_AET, move_port=self.move_port, move_bind="127.0.0.1",
            timeout_s=20)
        fields.update(overrides)
        return ServerConfig(**fields)


def require_orthanc() -> None:
    why = orthanc_missing()
    if why:
        pytest.skip(why)


@pytest.fixture(scope="session")
def sample_pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamplePacs]:
    """Orthanc with every sample study (681 instances), DICOMweb on, our AE title known for C-GET/C-MOVE."""
    require_orthanc()
    move_port = free_port()
    orthanc = OrthancServer(tmp_path_factory.mktemp("orthanc-samples"), "samples",
                            modalities={"spinecase": (CALLING_AET, move_port)})
    orthanc.start()
    try:
        orthanc.upload(sample_files())
        yield SamplePacs(orthanc, move_port)
    finally:
        orthanc.stop()


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """SpineCase's configuration and cache folders inside the test's temporary folder."""
    config, cache = tmp_path / "config", tmp_path / "cache"
    monkeypatch.setenv("SPINECASE_CONFIG_DIR", str(config))
    monkeypatch.setenv("SPINECASE_CACHE_DIR", str(cache))
    return {"config": config, "cache": cache}


@pytest.fixture
def sample_server_name(sample_pacs: SamplePacs, user_dirs: dict[str, Path]) -> str:
    """The sample Orthanc saved in the (temporary) settings as "orthanc"."""
    from imaging.pacs.config import ServerStore

    ServerStore().add(sample_pacs.server("orthanc"))
    return "orthanc"
