"""PACS failures against real servers: a cancel halfway (then resuming fetches only the rest), a series
deleted on the server mid-transfer, a server that is down, a wrong password (Orthanc with RegisteredUsers),
a bearer token (Orthanc with an HTTP filter), HTTPS with a certificate that is or is not trusted. Each gives
a clear message and never a half series in the cache presented as complete."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from imaging.pacs import (
    Credentials,
    PacsAuthError,
    PacsCancelled,
    PacsTlsError,
    PacsUnavailable,
    ServerConfig,
    StudyCache,
    StudyQuery,
    open_client,
    pull_study,
)
from imaging.pacs.cache import PARTIAL
from tests.pacs_fixtures import CALLING_AET, THORACIC_CT_SERIES, THORACIC_CT_STUDY, require_orthanc
from tests.pacs_servers import SAMPLES, OrthancServer, TcpRelay, free_port, make_certificate

CT_FILES = sorted((SAMPLES / "thoracic_ddlps" / "ct_axial").glob("*.dcm"))


@pytest.fixture(scope="module")
def ct_pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OrthancServer, int]]:
    """An Orthanc holding only the thoracic CT (tests here delete and re-upload it)."""
    require_orthanc()
    move_port = free_port()
    orthanc = OrthancServer(tmp_path_factory.mktemp("orthanc-ct"), "ct", modalities={"me": (CALLING_AET, move_port)})
    orthanc.start()
    orthanc.upload(CT_FILES)
    yield orthanc, move_port
    orthanc.stop()


def server_of(pacs: tuple[OrthancServer, int], protocol: str) -> ServerConfig:
    orthanc, move_port = pacs
    return ServerConfig(name="ct", url=orthanc.dicomweb_url, host="127.0.0.1", port=orthanc.dicom_port,
                        called_aet=orthanc.aet, calling_aet=CALLING_AET, move_port=move_port, move_bind="127.0.0.1",
                        prefer="dicomweb" if protocol == "dicomweb" else "dimse",
                        retrieve="c-move" if protocol == "c-move" else "c-get", timeout_s=20)


def assert_not_presented(cache: StudyCache) -> None:
    """The study folder holds no series: whatever arrived is under .partial only."""
    study = cache.study_dir(THORACIC_CT_STUDY)
    assert not study.exists() or not any(study.iterdir())
    assert cache.complete_series(THORACIC_CT_STUDY, THORACIC_CT_SERIES) is None


@pytest.mark.parametrize("protocol", ["dicomweb", "c-get"])
def test_cancel_halfway_keeps_the_arrivals_aside_and_resuming_fetches_only_the_rest(ct_pacs, protocol: str,
                                                                                   tmp_path: Path) -> None:
    client = open_client(server_of(ct_pacs, protocol))
    cache = StudyCache(tmp_path)
    seen: list[int] = []
    with pytest.raises(PacsCancelled, match="cancelled"):
        pull_study(client, cache, THORACIC_CT_STUDY, progress=lambda d, t: seen.append(d),
                   cancel=lambda: bool(seen) and seen[-1] >= 73)
    assert_not_presented(cache)
    kept = sorted((tmp_path / PARTIAL / THORACIC_CT_STUDY / THORACIC_CT_SERIES).glob("*.dcm"))
    assert 73 <= len(kept) < 146
    arrived: list[int] = []
    result = pull_study(client, cache, THORACIC_CT_STUDY, progress=lambda d, t: arrived.append(d))
    assert [s.status for s in result.series] == ["retrieved"]
    manifest = cache.complete_series(THORACIC_CT_STUDY, THORACIC_CT_SERIES)
    assert manifest is not None and manifest.count == 146
    # progress starts from what was kept and counts each new arrival once: only the missing ones travelled
    assert arrived[0] == 0 and sorted(set(arrived[1:])) == list(range(len(kept), 147))
    assert not (tmp_path / PARTIAL / THORACIC_CT_STUDY).exists()


@pytest.mark.parametrize("protocol", ["dicomweb", "c-get"])
def test_a_series_deleted_mid_transfer_is_not_marked_complete(ct_pacs, protocol: str, tmp_path: Path) -> None:
    orthanc, _ = ct_pacs
    client = open_client(server_of(ct_pacs, protocol))
    cache = StudyCache(tmp_path)
    deleted: list[bool] = []

    def progress(done: int, total: int) -> None:
        if done >= 20 and not deleted:
            orthanc.delete(THORACIC_CT_SERIES)
            deleted.append(True)

    try:
        result = pull_study(client, cache, THORACIC_CT_STUDY, progress=progress)
        assert deleted
        [outcome] = result.series
        assert outcome.status == "failed" and outcome.folder is None
        assert "not marked complete" in (outcome.error or "") or "failed" in (outcome.error or "")
        assert THORACIC_CT_SERIES in (outcome.error or "")
        assert_not_presented(cache)
    finally:
        orthanc.upload(CT_FILES)


@pytest.mark.parametrize("protocol", ["dicomweb", "dimse"])
def test_server_down_says_so(protocol: str) -> None:
    port = free_port()  # nothing listens there
    server = ServerConfig(name="down", url=f"http://127.0.0.1:{port}/dicom-web", host="127.0.0.1", port=port,
                          called_aet="NOBODY", prefer=protocol, timeout_s=5)
    client = open_client(server)
    with pytest.raises(PacsUnavailable, match=f"down.*cannot connect.*127.0.0.1:{port}"):
        client.find_studies(StudyQuery())
    with pytest.raises(PacsUnavailable):
        client.echo()


def test_unknown_calling_aet_is_rejected_with_a_hint(ct_pacs) -> None:
    server = server_of(ct_pacs, "c-get").model_copy(update={"calling_aet": "STRANGER"})
    with pytest.raises(PacsUnavailable, match="rejected the association from STRANGER.*registered"):
        open_client(server).find_studies(StudyQuery())


# -- authentication and TLS ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def secure_pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OrthancServer, Path, str]]:
    """HTTP basic authentication (RegisteredUsers alice) behind HTTPS with a self-signed certificate, and
    DICOM TLS on the DIMSE port. Yields Orthanc, the CA file and the HTTPS DICOMweb URL."""
    require_orthanc()
    folder = tmp_path_factory.mktemp("orthanc-secure")
    cert, key = make_certificate(folder)
    orthanc = OrthancServer(folder / "orthanc", "secure", users={"alice": "s3cret-Pw"}, dicom_tls=(cert, key),
                            modalities={"me": (CALLING_AET, free_port())})
    orthanc.start()
    orthanc.upload(CT_FILES[:3])
    tls = TcpRelay(orthanc.http_port, cert, key).start()
    yield orthanc, cert, f"https://127.0.0.1:{tls.port}/dicom-web"
    tls.stop()
    orthanc.stop()


def secure_server(secure_pacs, **kw: object) -> ServerConfig:
    orthanc, ca, url = secure_pacs
    fields: dict[str, object] = dict(name="secure", url=url, auth="basic", username="alice",
                                     secret_env="TEST_PACS_PASSWORD", ca_file=str(ca), timeout_s=10,
                                     host="127.0.0.1", port=orthanc.dicom_port, called_aet=orthanc.aet,
                                     calling_aet=CALLING_AET, dimse_tls=True, prefer="dicomweb")
    fields.update(kw)
    return ServerConfig(**fields)


def test_right_password_from_the_environment_over_verified_https(secure_pacs, monkeypatch) -> None:
    monkeypatch.setenv("TEST_PACS_PASSWORD", "s3cret-Pw")
    client = open_client(secure_server(secure_pacs), credentials=Credentials())
    [study] = client.find_studies(StudyQuery())
    assert study.study_uid == THORACIC_CT_STUDY


def test_wrong_password_is_a_clear_message_without_the_password(secure_pacs, monkeypatch) -> None:
    monkeypatch.setenv("TEST_PACS_PASSWORD", "wrong-guess")
    client = open_client(secure_server(secure_pacs), credentials=Credentials())
    with pytest.raises(PacsAuthError) as err:
        client.find_studies(StudyQuery())
    text = str(err.value)
    assert "secure" in text and "refused the credentials for user alice (HTTP 401)" in text
    assert "wrong-guess" not in text


def test_wrong_password_typed_is_asked_again_and_a_right_one_once_per_session(secure_pacs, monkeypatch) -> None:
    monkeypatch.delenv("TEST_PACS_PASSWORD", raising=False)
    answers = iter(["typo", "s3cret-Pw"])
    asked: list[str] = []

    def prompt(server: ServerConfig) -> str:
        asked.append(server.name)
        return next(answers)

    creds = Credentials(prompt=prompt)
    with pytest.raises(PacsAuthError):
        open_client(secure_server(secure_pacs), credentials=creds).find_studies(StudyQuery())
    for _ in range(2):  # asked again after the refusal, then remembered for the session
        assert len(open_client(secure_server(secure_pacs), credentials=creds).find_studies(StudyQuery())) == 1
    assert asked == ["secure", "secure"]


def test_no_secret_at_all_says_where_one_can_come_from(secure_pacs, monkeypatch) -> None:
    monkeypatch.delenv("TEST_PACS_PASSWORD", raising=False)
    with pytest.raises(PacsAuthError, match=r"needs a password: set \$TEST_PACS_PASSWORD"):
        open_client(secure_server(secure_pacs), credentials=Credentials())


def test_untrusted_certificate_is_refused(secure_pacs, monkeypatch) -> None:
    monkeypatch.setenv("TEST_PACS_PASSWORD", "s3cret-Pw")
    client = open_client(secure_server(secure_pacs, ca_file=None), credentials=Credentials())
    with pytest.raises(PacsTlsError, match="TLS connection .* failed"):
        client.echo()
    with pytest.raises(PacsTlsError, match="DICOM TLS .* failed"):
        open_client(secure_server(secure_pacs, ca_file=None), "dimse").echo()


def test_dicom_tls(secure_pacs) -> None:
    client = open_client(secure_server(secure_pacs), "dimse")
    assert client.echo() > 0
    [study] = client.find_studies(StudyQuery())
    assert study.study_uid == THORACIC_CT_STUDY


BEARER_FILTER = """
function IncomingHttpRequestFilter(method, uri, ip, username, httpHeaders)
  return httpHeaders['authorization'] == 'Bearer tok-123'
end
"""


def test_bearer_token(tmp_path: Path, monkeypatch) -> None:
    require_orthanc()
    orthanc = OrthancServer(tmp_path / "orthanc", "bearer", lua=BEARER_FILTER).start()
    try:
        server = ServerConfig(name="bearer", url=orthanc.dicomweb_url, auth="bearer", secret_env="TEST_PACS_TOKEN")
        monkeypatch.setenv("TEST_PACS_TOKEN", "tok-123")
        assert open_client(server, credentials=Credentials()).find_studies(StudyQuery()) == []
        monkeypatch.setenv("TEST_PACS_TOKEN", "tok-999")
        with pytest.raises(PacsAuthError, match=r"refused the credentials \(HTTP 403\)"):
            open_client(server, credentials=Credentials()).find_studies(StudyQuery())
    finally:
        orthanc.stop()
