"""`spinecase pacs` against the sample Orthanc: add/list/remove/echo, find (text and --json, every filter
flag), pull into DEST (then cached), push of an exported SR found again with find --study; secrets never in
the settings file (a keyring backend in memory stands in for the desktop's keyring, which needs a session
bus this machine does not run)."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from app.cli import main
from imaging.pacs import Credentials, ServerStore
from imaging.pacs.credentials import KEYRING_SERVICE, keyring_available
from tests.pacs_fixtures import THORACIC_CT_SERIES, THORACIC_CT_STUDY, SamplePacs
from tests.pacs_servers import SAMPLES


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["pacs", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_add_list_echo_remove(sample_pacs: SamplePacs, user_dirs, capsys) -> None:
    o = sample_pacs.orthanc
    status, out, _ = run(capsys, "add", "main", "--url", o.dicomweb_url, "--dimse", f"127.0.0.1:{o.dicom_port}",
                         "--aet", o.aet, "--auth", "basic", "--user", "alice", "--secret-env", "MAIN_PACS_PW")
    assert status == 0 and "added main: DICOMweb" in out and "secret from $MAIN_PACS_PW" in out
    status, _, err = run(capsys, "add", "main", "--url", o.dicomweb_url)
    assert status == 1 and "exists already" in err
    status, _, err = run(capsys, "add", "bad", "--dimse", "127.0.0.1:99999", "--aet", "X")
    assert status == 2 and "out of range" in err
    status, _, err = run(capsys, "add", "bad", "--dimse", "127.0.0.1:104")
    assert status == 2 and "AE title" in err
    run(capsys, "add", "plain", "--url", o.dicomweb_url, "--dimse", f"127.0.0.1:{o.dicom_port}", "--aet", o.aet)
    status, out, _ = run(capsys, "list", "--json")
    assert [s["name"] for s in json.loads(out)] == ["main", "plain"]
    status, out, _ = run(capsys, "echo", "plain")
    assert status == 0 and "plain: QIDO-RS answered in" in out
    status, out, _ = run(capsys, "echo", "plain", "--via", "dimse")
    assert status == 0 and "plain: C-ECHO answered in" in out
    assert run(capsys, "remove", "plain")[0] == 0
    status, _, err = run(capsys, "echo", "plain")
    assert status == 1 and "no PACS server named 'plain'; known: main" in err


def test_find_text_and_json(sample_server_name: str, capsys) -> None:
    status, out, _ = run(capsys, "find", sample_server_name, "--json")
    doc = json.loads(out)
    assert status == 0 and len(doc["studies"]) == 11
    status, out, _ = run(capsys, "find", sample_server_name, "--patient-id", "SPC-PH-000", "--modality", "MR",
                         "--date", "20240101-20240131", "--patient-name", "*THORACIC*", "--json")
    [study] = json.loads(out)["studies"]
    assert study["accession"] == "PH0002" and study["modalities"] == ["MR"] and study["instance_count"] == 40
    status, out, _ = run(capsys, "find", sample_server_name, "--accession", "PH0001", "--via", "dimse")
    assert "CT THORACIC SPINE" in out and THORACIC_CT_STUDY in out
    status, out, _ = run(capsys, "find", sample_server_name, "--study", THORACIC_CT_STUDY)
    assert "Ax 1.25mm Spine" in out and THORACIC_CT_SERIES in out and "146" in out
    status, _, err = run(capsys, "find", sample_server_name, "--study", "1.2.3/../etc")
    assert status == 2 and "is not a DICOM UID" in err


def test_pull_into_dest_then_cached(sample_server_name: str, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "dest"
    status, out, _ = run(capsys, "pull", sample_server_name, "--study", THORACIC_CT_STUDY, str(dest))
    assert status == 0 and "CT Ax 1.25mm Spine: 146 images retrieved and verified" in out
    assert len(list((dest / THORACIC_CT_STUDY / THORACIC_CT_SERIES).glob("*.dcm"))) == 146
    status, out, _ = run(capsys, "pull", sample_server_name, "--study", THORACIC_CT_STUDY, str(dest), "--via",
                         "dimse", "--json")
    assert json.loads(out)["series"][0]["status"] == "cached"
    status, _, err = run(capsys, "pull", sample_server_name, "--study", THORACIC_CT_STUDY, "--series", "1.2.3")
    assert status == 1 and "series 1.2.3 of study" in err and "not on orthanc" in err


def test_push_an_exported_sr_and_find_it(sample_server_name: str, sample_pacs: SamplePacs, tmp_path: Path,
                                         capsys) -> None:
    case = SAMPLES / "thoracic_ddlps" / "case.spinecase.json"
    sr = tmp_path / "sr.dcm"
    assert main(["export", str(case), "--sr", str(sr)]) == 0
    capsys.readouterr()
    status, _, err = run(capsys, "push", sample_server_name, str(sr), str(SAMPLES / "thoracic_ddlps" / "report.json"))
    assert status == 1 and "report.json: not a DICOM file" in err  # every file is checked before any is sent
    from pydicom import dcmread

    series_uid = dcmread(sr).SeriesInstanceUID
    try:
        status, out, _ = run(capsys, "push", sample_server_name, str(sr), "--via", "dimse")
        assert status == 0 and "stored sr.dcm (SR)" in out
        status, out, _ = run(capsys, "find", sample_server_name, "--study", THORACIC_CT_STUDY, "--json")
        by_uid = {s["series_uid"]: s for s in json.loads(out)["series"]}
        assert by_uid[series_uid]["modality"] == "SR"
    finally:
        sample_pacs.orthanc.delete(series_uid)


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring backend (the keyring package's own plug-in interface). Not ``viable``: keyring
    must never pick it by itself for other tests (it auto-detects every subclass)."""

    priority = 1  # type: ignore[assignment]  # keyring declares it a class property
    viable = False  # type: ignore[assignment]  # likewise

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


def test_secrets_go_to_the_keyring_never_into_the_settings(sample_pacs: SamplePacs, user_dirs, capsys) -> None:
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        assert keyring_available()
        server = sample_pacs.server("kr", auth="basic", username="alice")
        ServerStore().add(server)
        creds = Credentials()
        assert creds.remember(server, "Tr0ub4dor&3") == "keyring"
        assert ring.items == {(KEYRING_SERVICE, "kr:alice"): "Tr0ub4dor&3"}
        assert Credentials().secret(server) == "Tr0ub4dor&3" and Credentials().source(server) == "keyring"
        for f in user_dirs["config"].rglob("*"):
            assert b"Tr0ub4dor" not in f.read_bytes()
        assert run(capsys, "remove", "kr")[0] == 0
        assert ring.items == {}
        from keyring.backends import fail

        keyring.set_keyring(fail.Keyring())  # no system keyring (this machine): secrets stay in the session
        assert not keyring_available()
        assert Credentials().remember(server, "x") == "session"
    finally:
        keyring.set_keyring(previous)


def test_a_broken_settings_file_is_named_and_kept(user_dirs, capsys) -> None:
    user_dirs["config"].mkdir(parents=True)
    bad = user_dirs["config"] / "pacs-servers.json"
    bad.write_text('{"servers": [{"name": "x", "password": "oops"}]}', encoding="utf-8")
    status, _, err = run(capsys, "list")
    assert status == 1 and "pacs-servers.json: the PACS settings file is not valid" in err
    assert bad.read_text(encoding="utf-8").startswith('{"servers"')


@pytest.mark.parametrize("argv", [["pacs"], ["pacs", "find"]])
def test_usage(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) if len(argv) > 1 else _nothing():
        assert main(argv) == 2


class _nothing:  # noqa: N801 - a do-nothing context manager
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
