"""Tests of the case file: atomic save, backup, SIGKILL safety, recovery, lock, migration, clear errors."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from imaging.case.model import SCHEMA_VERSION, Case
from imaging.case.store import (
    AutosavePolicy,
    CaseDocument,
    CaseFileCorrupt,
    CaseFileError,
    CaseFileInvalid,
    CaseFileNewerVersion,
    CaseLock,
    CaseLocked,
    CaseReadOnly,
    LockInfo,
    backup_path,
    discard_recovery,
    dumps_case,
    find_recovery,
    load_case,
    lock_path,
    read_lock,
    recovery_path,
    save_case,
    write_recovery,
)
from tests.test_case_factory import make_case

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL are POSIX")


def test_save_close_open_gives_an_equal_case(tmp_path: Path) -> None:
    case = make_case()
    path = tmp_path / "demo.spinecase.json"
    save_case(case, path)
    assert load_case(path) == case
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and raw.decode("utf-8")
    # Saving the same case again writes the same bytes (stable order) and keeps the old as .bak.
    save_case(case, path)
    assert path.read_bytes() == raw
    assert backup_path(path).read_bytes() == raw
    assert not list(tmp_path.glob(".*.tmp"))


def test_backup_holds_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "b.spinecase.json"
    v1 = make_case()
    save_case(v1, path)
    v2 = v1.model_copy(deep=True)
    v2.update(v2.measurements[0].id, label="second")
    save_case(v2, path)
    assert load_case(path) == v2
    assert load_case(backup_path(path)) == v1


def test_document_round_trip_and_lock(tmp_path: Path) -> None:
    path = tmp_path / "d.spinecase.json"
    save_case(make_case(), path)
    doc = CaseDocument.open(path)
    try:
        assert not doc.read_only and lock_path(path).exists()
        holder = read_lock(path)
        assert holder is not None and holder.pid == os.getpid() and holder.host == socket.gethostname()
        # A second instance opens it read-only with a clear message and cannot save.
        second = CaseDocument.open(path)
        assert second.read_only
        assert "is open for editing by" in second.read_only_reason and str(path) in second.read_only_reason
        with pytest.raises(CaseReadOnly, match="read-only"):
            second.save()
        with pytest.raises(CaseLocked) as info:
            CaseLock.acquire(path)
        assert info.value.holder.pid == os.getpid()
        doc.case.update(doc.case.measurements[0].id, label="edited", who="jdoe")
        doc.save()
    finally:
        doc.close()
    assert not lock_path(path).exists()
    reopened = CaseDocument.open(path)
    assert reopened.case == doc.case
    reopened.close()


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


@posix_only
def test_stale_lock_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "s.spinecase.json"
    save_case(make_case(), path)
    stale = LockInfo(_dead_pid(), socket.gethostname(), "ghost", "2024-01-01T00:00:00Z")
    lock_path(path).write_bytes(stale.to_json())
    with CaseLock.acquire(path) as lock:
        assert read_lock(path) == lock.info
    assert not lock_path(path).exists()
    # A lock from another host is respected until it has not been refreshed for stale_after_s.
    other = LockInfo(1, "some-other-host", "colleague", "2024-01-01T00:00:00Z")
    lock_path(path).write_bytes(other.to_json())
    with pytest.raises(CaseLocked, match="colleague on some-other-host"):
        CaseLock.acquire(path)
    old = time.time() - 3600
    os.utime(lock_path(path), (old, old))
    CaseLock.acquire(path, stale_after_s=600).release()
    # An unreadable (half-written by a crash) lock older than a minute is stale too.
    lock_path(path).write_bytes(b"")
    os.utime(lock_path(path), (old, old))
    CaseLock.acquire(path).release()


def test_corrupt_files_give_clear_errors_and_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.spinecase.json"
    good = make_case()
    save_case(good, path)
    save_case(good, path)  # now a .bak exists
    cases = {
        b"": (CaseFileCorrupt, "empty"),
        dumps_case(good)[:500]: (CaseFileCorrupt, r"not valid JSON \(line \d+, column \d+"),
        b"\xff\xfe\x00garbage": (CaseFileCorrupt, "not UTF-8"),
        b"[1, 2, 3]": (CaseFileCorrupt, "not a SpineCase case file"),
        b'{"schema_version": "one"}': (CaseFileCorrupt, "schema_version must be a non-negative integer"),
        json.dumps({"schema_version": SCHEMA_VERSION + 1, "future": True}).encode():
            (CaseFileNewerVersion, "newer SpineCase"),
        json.dumps({**json.loads(dumps_case(good)), "findings": [{"bilsky": {"grade": "4"}}]}).encode():
            (CaseFileInvalid, r"findings\[0\]\.bilsky\.grade"),
    }
    for data, (cls, pattern) in cases.items():
        path.write_bytes(data)
        with pytest.raises(cls, match=pattern) as info:
            load_case(path)
        msg = str(info.value)
        assert str(path) in msg, msg
        assert str(backup_path(path)) in msg and info.value.backup == backup_path(path)
        assert path.read_bytes() == data  # nothing was changed
        with pytest.raises(CaseFileError):
            CaseDocument.open(path)
        assert not lock_path(path).exists()
    assert load_case(backup_path(path)) == good
    with pytest.raises(CaseFileError, match="no such case file"):
        load_case(tmp_path / "missing.spinecase.json")


def test_recovery_files(tmp_path: Path) -> None:
    path = tmp_path / "r.spinecase.json"
    case = make_case()
    save_case(case, path)
    assert find_recovery(path) is None
    edited = case.model_copy(deep=True)
    edited.update(edited.measurements[0].id, label="unsaved edit", who="jdoe")
    rp = write_recovery(edited, path)
    assert rp == recovery_path(path)
    past = time.time() - 10
    os.utime(path, (past, past))  # the case file is older than the recovery
    info = find_recovery(path)
    assert info is not None and info.load() == edited
    doc = CaseDocument.open(path)
    try:
        assert doc.recovery is not None
        assert doc.recover() == edited
        doc.save()  # a save makes the recovery obsolete and removes it
        assert not rp.exists() and load_case(path) == edited
    finally:
        doc.close()
    # A recovery equal to the case or older than it is not offered; discard removes it.
    write_recovery(edited, path)
    assert find_recovery(path) is None
    discard_recovery(path)
    assert not rp.exists()


def test_autosave_policy() -> None:
    p = AutosavePolicy(interval_s=30, quiet_s=2)
    assert not p.due(0)
    p.edited(0.0)
    assert not p.due(1.0)
    assert p.due(2.0)  # burst ended
    p.written(2.0)
    assert not p.pending and not p.due(100)
    for t in range(0, 31):  # continuous editing: written at least every 30 s
        p.edited(100.0 + t)
    assert p.due(130.0)


def test_migration_from_version_0(tmp_path: Path) -> None:
    v0 = {
        "schema_version": 0,
        "case_id": "proto-1",
        "created": "2024-05-01T10:00:00Z",
        "modified": "2024-05-02T11:00:00Z",
        "patient_id": "P1", "patient_sex": "F", "patient_age": "036Y",
        "citation": "Somebody et al.", "doi": "10.1/xyz",
        "series": [{"uid": "1.2.3.4", "study_uid": "1.2.3", "modality": "CT", "description": "bone",
                    "path": "ct"}],
        "levels": {"T5": [0, 0, 104.0], "T6": [0, 0, 78.0]},
        "lesions": [{"id": "les1", "name": "mass", "levels": "T6-T5", "bilsky": 3, "notes": "n"}],
        "measurements": [
            {"id": "m1", "type": "distance", "points": [[0, 0, 78], [10, 0, 78]], "plane": "axial",
             "series_uid": "1.2.3.4", "sop_uid": "1.2.3.4.5", "slice": 3, "label": "d", "reader": "amy",
             "created": "2024-05-01T10:05:00Z", "lesion": "les1"},
            {"id": "m2", "type": "cc", "points": [[0, 0, 70], [0, 0, 110]], "plane": "sagittal"},
        ],
    }
    path = tmp_path / "old.spinecase.json"
    path.write_text(json.dumps(v0), encoding="utf-8")
    case = load_case(path)
    assert case.schema_version == SCHEMA_VERSION
    assert case.patient.id == "P1" and case.patient.age_years == 36 and case.patient.sex == "F"
    assert case.series[0].path_hint == "ct" and case.studies[0].study_instance_uid == "1.2.3"
    assert [lab.label for lab in case.vertebral_labels] == ["T5", "T6"]
    f = case.findings[0]
    assert (f.levels_text, f.bilsky.grade, f.levels_auto) == ("T5-T6", "3", False)
    m1, m2 = case.measurements
    assert m1.kind == "length" and m1.finding_id == f.id and m1.values()[0].value == 10
    assert m2.kind == "cc_extent" and m2.plane.orientation == "sagittal" and m2.values()[0].value == 40
    assert case.readers[0].name == "amy"
    assert case.audit[-1].action == "migrate"
    assert json.loads(path.read_text())["schema_version"] == 0  # not rewritten until saved
    # Saving writes the current version and keeps the version-0 file as the backup.
    save_case(case, path)
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION
    assert json.loads(backup_path(path).read_text())["schema_version"] == 0
    assert load_case(path) == case
    # Migrating the same file twice gives the same ids (derived from the old ones).
    assert load_case(backup_path(path)).findings[0].id == f.id
    bad = dict(v0, measurements=[{"id": "m", "type": "spline", "points": []}])
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(CaseFileInvalid, match="cannot convert schema version 0.*unknown type 'spline'"):
        load_case(path)


@posix_only
def test_sigkill_while_saving_never_leaves_a_broken_file(tmp_path: Path) -> None:
    """Kill a process that saves in a loop at random moments: the file is always the old or the new case."""
    path = tmp_path / "kill.spinecase.json"
    a = make_case(n_extra=150)
    b = a.model_copy(deep=True)
    for m in b.measurements[:50]:
        b.update(m.id, label=m.label + " (edited)")
    versions = {dumps_case(a): "a", dumps_case(b): "b"}
    save_case(a, path)
    rng = random.Random(20240301)
    seen: set[str] = set()
    kills = 40
    for _ in range(kills):
        # Start with the version not on disk, so that every completed save changes the file.
        order = (b, a) if versions[path.read_bytes()] == "a" else (a, b)
        pid = os.fork()
        if pid == 0:  # child: save the two versions alternately until killed
            try:
                k = 0
                while True:
                    save_case(order[k % 2], path)
                    k += 1
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.002, 0.08))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        data = path.read_bytes()
        assert data in versions, f"case file is neither version ({len(data)} bytes)"
        seen.add(versions[data])
        assert load_case(path) in (a, b)
        if backup_path(path).exists():
            assert backup_path(path).read_bytes() in versions
    assert seen == {"a", "b"}, "the saving loop never got to write (test too fast to mean anything)"
    # Temporary files left by killed saves are cleaned by the next save of the lock holder.
    doc = CaseDocument.open(path)
    doc.save()
    doc.close()
    assert not list(tmp_path.glob(".kill.spinecase.json.*.tmp"))


def test_new_document_save_as(tmp_path: Path) -> None:
    doc = CaseDocument.new(Case(case_id="new"))
    with pytest.raises(CaseFileError, match="Save As"):
        doc.save()
    assert doc.write_recovery() is None
    p = doc.save_as(tmp_path / "n.spinecase.json")
    assert doc.lock is not None and lock_path(p).exists()
    assert doc.write_recovery() == recovery_path(p)
    p2 = doc.save_as(tmp_path / "n2.spinecase.json")
    assert not lock_path(p).exists() and lock_path(p2).exists()
    assert not recovery_path(p).exists()
    doc.close()
    assert load_case(p2) == doc.case
