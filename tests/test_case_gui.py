"""The case file in the app (app/feature_case.py): save / close / open round trip, the lock, damaged and newer
files, missing series, autosave and recovery, closing with unsaved changes, the report data form and the
Export menu -- driven through the main window with real key and mouse events where a person would use them."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
from imaging.case.model import Case, Finding, ReportData
from imaging.case.store import LockInfo, backup_path, load_case, lock_path, recovery_path, save_case
from tests.test_case_factory import make_case_with_series
from widgets.case_controller import ReadOnlyCaseError


class FakePrompts:
    """Answers the feature's questions like a person would, and records them."""

    def __init__(self) -> None:
        self.answers: dict[str, object] = {}
        self.asked: list[tuple[str, str]] = []

    def _answer(self, name: str, text: str, default: object) -> object:
        self.asked.append((name, text))
        value = self.answers.get(name, default)
        return value.pop(0) if isinstance(value, list) else value

    def save_changes(self, name: str) -> str:
        return self._answer("save_changes", name, "cancel")  # type: ignore[return-value]

    def recover(self, text: str) -> str:
        return self._answer("recover", text, "later")  # type: ignore[return-value]

    def open_backup(self, text: str) -> bool:
        return bool(self._answer("open_backup", text, False))

    def locate_data(self, text: str) -> bool:
        return bool(self._answer("locate_data", text, False))

    def other_patient(self, text: str) -> str:
        return self._answer("other_patient", text, "view")  # type: ignore[return-value]

    def open_path(self, start: str) -> str | None:
        return self._answer("open_path", start, None)  # type: ignore[return-value]

    def save_path(self, title: str, suggested: str, file_filter: str) -> str | None:
        return self._answer("save_path", f"{title}|{suggested}", None)  # type: ignore[return-value]

    def folder(self, title: str, start: str) -> str | None:
        return self._answer("folder", title, None)  # type: ignore[return-value]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_window(qtbot, tmp_path: Path, name: str = "settings.ini"):
    from app import feature_case
    from app.main_window import MainWindow
    from app.settings import Settings

    w = MainWindow(settings=Settings(tmp_path / name), restore_state=False, install_features=False)
    feature = feature_case.install(w)
    feature.prompts = FakePrompts()
    feature.interactive = True  # a person answers (FakePrompts)
    feature.clock = Clock()
    feature.timer.stop()  # the tests drive autosave_tick with the fake clock
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    return w, feature


def close_quietly(window) -> None:
    """Teardown: no question is left pending."""
    window.case_feature.interactive = False
    window.cancel_loading()
    window.jobs.wait_all(5000)


@pytest.fixture
def win(qtbot, tmp_path):
    w, _ = make_window(qtbot, tmp_path)
    yield w
    close_quietly(w)


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def messages(window, level: str | None = None) -> list[str]:
    return [t for lv, t in window.message_bar.messages() if level is None or lv == level]


def saved_case(tmp_path: Path) -> tuple[Case, Path]:
    """The factory's case with its CT on disk, saved (its MR reference, which has no files, left out)."""
    case, path = make_case_with_series(tmp_path / "data")
    case = Case.model_validate({**case.model_dump(), "series": [s.model_dump() for s in case.series
                                                                if s.modality == "CT"]})
    save_case(case, path)
    return case, path


def open_and_wait(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000):
        window.open_paths([str(path)])  # as File > Open Files, drag and drop and `spinecase open CASE` do
    window.wait_until_idle(30)


def without_audit(case: Case) -> dict:
    d = case.model_dump(mode="json")
    d.pop("audit")
    return d


# -- save / close / open -----------------------------------------------------------------------------------
def test_save_close_open_round_trip(qtbot, tmp_path):
    original, path = make_case_with_series(tmp_path / "data")
    w1, f1 = make_window(qtbot, tmp_path)
    w1.case.set_case(Case.model_validate(original.model_dump()))
    w1.open_paths([str(path.parent / "ct")])
    qtbot.waitUntil(lambda: w1.current_volume() is not None, timeout=30_000)
    f1.prompts.answers["save_path"] = str(path)
    w1.activateWindow()
    QTest.keyClick(w1, Qt.Key_S, Qt.ControlModifier)  # Save: a case never saved asks for a file name
    qtbot.waitUntil(lambda: path.is_file())
    assert w1.undo_stack.isClean() and lock_path(path).is_file()
    assert "data/case[*]" in w1.windowTitle()
    saved = load_case(path)
    assert without_audit(saved) == without_audit(w1.case.case)
    assert w1.close()
    assert not lock_path(path).exists()  # the lock went with the window

    w2, f2 = make_window(qtbot, tmp_path, "second.ini")
    try:
        open_and_wait(qtbot, w2, path)
        opened = w2.case.case
        # Everything is restored: labels, findings, measurements, grades, report data; the open only adds audit.
        assert without_audit(opened) == without_audit(saved)
        assert opened.audit[:len(saved.audit)] == saved.audit
        assert [a.action for a in opened.audit[len(saved.audit):]] == ["open"]
        ct = next(s for s in original.series if s.modality == "CT")
        assert w2.current_volume().metadata.series_instance_uid == ct.series_instance_uid
        assert f2.path == path.absolute() and not w2.case.read_only and w2.undo_stack.isClean()
        # the factory's MR series has no files: named, not fatal
        assert not messages(w2, "error") and messages(w2, "warning") == [
            f"1 of the case's 2 series was not found (path hints are relative to {path.parent.absolute()}). "
            "Use File > Locate Case Data\u2026 to search a folder for it."]
        # the cursor is on the first measurement of the series shown
        m = next(m for m in opened.measurements if m.series_instance_uid == ct.series_instance_uid)
        view = next(v for v in w2.views() if v.orientation() == m.plane.orientation)
        assert view.plane_geometry().contains(w2.grid.mpr.cursor)
        assert str(path.absolute()) in w2.settings.recent_paths()
    finally:
        close_quietly(w2)


def test_title_shows_the_case_and_a_modified_marker(win, tmp_path):
    f = win.case_feature
    assert "Untitled case" in win.windowTitle() and not win.isWindowModified()
    finding = Finding(label="L1 lesion")
    win.case.add(finding, text="Add finding")
    assert win.isWindowModified()
    win.undo_stack.undo()
    assert not win.isWindowModified()  # back at the clean state
    win.undo_stack.redo()
    assert f.save_as(tmp_path / "no such folder" / "x.json") is False
    assert any("Not saved" in t for t in messages(win, "error"))  # no such folder: refused, said so


# -- the lock ------------------------------------------------------------------------------------------------
def test_locked_case_opens_read_only_and_refuses_edits(qtbot, win, tmp_path):
    case, path = saved_case(tmp_path)
    colleague = LockInfo(os.getppid(), socket.gethostname(), "colleague", "2024-03-01T09:00:00Z")
    lock_path(path).write_bytes(colleague.to_json())
    before = path.read_bytes()
    open_and_wait(qtbot, win, path)
    assert win.case.read_only
    text = " ".join(messages(win, "warning"))
    assert "open read-only" in text and "colleague" in text and "Save As" in text
    assert "(read-only)" in win.windowTitle()
    with pytest.raises(ReadOnlyCaseError):
        win.case.update(case.findings[0].id, label="changed")
    win.activateWindow()
    QTest.keyClick(win, Qt.Key_S, Qt.ControlModifier)
    assert any("read-only" in t and "not saved" in t for t in messages(win, "error"))
    assert path.read_bytes() == before and not backup_path(path).exists()
    assert not win.case_feature.save()
    # the report form shows why and cannot be applied
    dlg = win.case_feature.edit_report_data()
    assert not dlg.ok_button.isEnabled() and "read-only" in dlg.notice.text()
    assert dlg.form.citation.isReadOnly()
    dlg.close()
    assert lock_path(path).read_bytes() == colleague.to_json()  # the colleague's lock is untouched
    # Save As makes a writable copy
    copy = tmp_path / "data" / "copy.spinecase.json"
    assert win.case_feature.save_as(copy)
    assert not win.case.read_only and load_case(copy).findings[0].label == case.findings[0].label


# -- damaged and newer files ----------------------------------------------------------------------------------
def test_corrupt_file_names_the_problem_and_offers_the_backup(qtbot, win, tmp_path):
    case, path = saved_case(tmp_path)
    good = path.read_bytes()
    save_case(case, path)  # now the .bak holds the good version too
    damaged = good[: len(good) // 2]
    path.write_bytes(damaged)
    f = win.case_feature
    f.prompts.answers["open_backup"] = False
    win.open_paths([str(path)])
    assert any("not valid JSON" in t and path.name in t for t in messages(win, "error"))
    assert f.prompts.asked[-1][0] == "open_backup" and ".bak" in f.prompts.asked[-1][1]
    assert f.path is None and path.read_bytes() == damaged  # nothing opened, nothing changed
    f.prompts.answers["open_backup"] = True
    with qtbot.waitSignal(win.volumeLoaded, timeout=30_000):
        win.open_paths([str(path)])
    assert without_audit(win.case.case) == without_audit(case)
    assert f.path == path.absolute() and win.isWindowModified()
    assert any("Opened the backup" in t for t in messages(win, "warning"))
    assert path.read_bytes() == damaged  # still nothing written
    assert f.save()
    assert without_audit(load_case(path)) == without_audit(case)
    assert backup_path(path).read_bytes() == damaged  # the damaged file is kept, not lost


def test_newer_schema_version_is_refused_clearly(win, tmp_path):
    _, path = saved_case(tmp_path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["schema_version"] = 99
    path.write_text(json.dumps(doc), encoding="utf-8")
    before = path.read_bytes()
    current = win.case.case
    win.case_feature.open_case(path)
    err = " ".join(messages(win, "error"))
    assert "newer SpineCase" in err and "schema version 99" in err and path.name in err
    assert win.case.case is current and path.read_bytes() == before and not lock_path(path).exists()


# -- missing series -----------------------------------------------------------------------------------------------
def test_missing_series_message_and_locate_data(qtbot, win, tmp_path):
    case, path = saved_case(tmp_path)
    moved = tmp_path / "archive" / "2024" / "ct-moved"
    moved.parent.mkdir(parents=True)
    shutil.move(str(path.parent / "ct"), str(moved))
    f = win.case_feature
    win.open_paths([str(path)])
    warn = " ".join(messages(win, "warning"))
    assert "The case's series was not found" in warn and "Locate Case Data" in warn
    assert f.prompts.asked[-1][0] == "locate_data"
    assert f.act_locate_data.isEnabled() and win.current_volume() is None
    f.prompts.answers["folder"] = str(tmp_path / "archive")
    with qtbot.waitSignal(win.volumeLoaded, timeout=30_000):
        f.act_locate_data.trigger()
    ref = win.case.case.series[0]
    assert ref.path_hint == "../archive/2024/ct-moved"
    assert (path.parent / ref.path_hint).resolve() == moved.resolve()
    assert win.undo_stack.undoText() == "Locate case data" and win.isWindowModified()
    assert not f.act_locate_data.isEnabled()
    assert any("Found 1 of 1 missing series" in t for t in messages(win, "info"))
    assert f.save()
    assert load_case(path).series[0].path_hint == "../archive/2024/ct-moved"
    assert without_audit(load_case(path))["measurements"] == without_audit(case)["measurements"]


# -- autosave and recovery --------------------------------------------------------------------------------------------
def test_autosave_writes_the_recovery_file_after_an_edit_burst(qtbot, win, tmp_path):
    case, path = saved_case(tmp_path)
    open_and_wait(qtbot, win, path)
    f = win.case_feature
    clock = f.clock
    rec = recovery_path(path)
    fid = case.findings[0].id
    for i in range(3):  # a burst: three edits a second apart
        win.case.update(fid, text="Rename finding", label=f"burst {i}")
        clock.t += 1.0
        assert f.autosave_tick() is None and not rec.exists()
    clock.t += 2.0  # quiet for 2 s: the burst is over
    assert f.autosave_tick() == rec
    assert load_case(rec).finding(fid).label == "burst 2"
    assert load_case(path).finding(fid).label == case.findings[0].label  # the case file is untouched
    assert f.autosave_tick() is None  # nothing new
    # Edits that never pause are still autosaved once they are 30 s old.
    for i in range(40):
        win.case.update(fid, text="Rename finding", label=f"steady {i}")
        clock.t += 1.0
        if f.autosave_tick() is not None:
            break
    assert i == 29 and load_case(rec).finding(fid).label == "steady 29"
    assert f.save() and not rec.exists()  # a save makes the recovery file obsolete


def test_recovery_is_offered_on_the_next_start(qtbot, tmp_path):
    case, path = saved_case(tmp_path)
    w1, f1 = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, w1, path)
    fid = case.findings[0].id
    w1.case.update(fid, text="Rename finding", label="edited before the crash")
    f1.clock.t += 5
    assert f1.autosave_tick() == recovery_path(path)
    # The crash: the process dies holding the lock; its pid is gone.
    f1.document.lock.released = True
    lock_path(path).write_bytes(LockInfo(dead_pid(), socket.gethostname(), "me", "x").to_json())
    f1.document = None
    w1.close_guards.clear()  # a dead process runs no close handlers
    w1.aboutToClose.disconnect()
    close_quietly(w1)
    w1.close()

    w2, f2 = make_window(qtbot, tmp_path)  # the next start, same settings
    try:
        pending = f2.pending_recoveries()
        assert [(k, r) for k, r, _ in pending] == [("case", recovery_path(path))]
        f2.prompts.answers["recover"] = "recover"
        with qtbot.waitSignal(w2.volumeLoaded, timeout=30_000):
            assert f2.offer_startup_recovery()
        assert "did not close normally" in f2.prompts.asked[0][1]
        assert len(f2.prompts.asked) == 1  # not asked twice
        assert w2.case.case.finding(fid).label == "edited before the crash"
        assert w2.isWindowModified() and not w2.case.read_only  # the stale lock was taken over
        assert load_case(path).finding(fid).label != "edited before the crash"  # until saved
        assert f2.save() and load_case(path).finding(fid).label == "edited before the crash"
        assert f2.pending_recoveries() == []
    finally:
        close_quietly(w2)


def test_unsaved_new_case_is_recovered_after_a_crash(qtbot, tmp_path):
    w1, f1 = make_window(qtbot, tmp_path)
    w1.case.add(Finding(label="never saved"), text="Add finding")
    f1.clock.t += 3
    rec = f1.autosave_tick()
    assert rec is not None and rec.parent == tmp_path / "recovery" and rec.name.startswith(f"untitled-{os.getpid()}-")
    crashed = rec.with_name(rec.name.replace(f"untitled-{os.getpid()}-", f"untitled-{dead_pid()}-"))
    rec.rename(crashed)  # as if written by a process that died
    w1.close_guards.clear()
    w1.aboutToClose.disconnect()
    close_quietly(w1)
    w1.close()
    w2, f2 = make_window(qtbot, tmp_path)
    try:
        f2.prompts.answers["recover"] = "recover"
        assert f2.offer_startup_recovery()
        assert [x.label for x in w2.case.case.findings] == ["never saved"] and f2.path is None
        assert w2.isWindowModified() and not crashed.exists()
        assert f2.last_recovery_file is not None and f2.last_recovery_file.is_file()  # now this session's
    finally:
        close_quietly(w2)


# -- closing with unsaved changes -----------------------------------------------------------------------------------
def test_close_asks_save_discard_cancel(qtbot, tmp_path):
    case, path = saved_case(tmp_path)
    w, f = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, w, path)
    fid = case.findings[0].id
    w.case.update(fid, text="Rename finding", label="unsaved")
    f.clock.t += 3
    f.autosave_tick()
    f.prompts.answers["save_changes"] = ["cancel", "save"]
    assert not w.close() and w.isVisible()  # Cancel: nothing happens
    assert load_case(path).finding(fid).label != "unsaved"
    assert w.close()  # Save
    assert load_case(path).finding(fid).label == "unsaved"
    assert not lock_path(path).exists() and not recovery_path(path).exists()

    w2, f2 = make_window(qtbot, tmp_path, "b.ini")
    open_and_wait(qtbot, w2, path)
    w2.case.update(fid, text="Rename finding", label="thrown away")
    f2.clock.t += 3
    assert f2.autosave_tick() == recovery_path(path)
    f2.prompts.answers["save_changes"] = "discard"
    assert w2.close()
    assert load_case(path).finding(fid).label == "unsaved" and not recovery_path(path).exists()
    assert f2.prompts.asked[-1] == ("save_changes", "data/case")


def test_new_case_with_unsaved_changes_asks_first(win):
    f = win.case_feature
    win.case.add(Finding(label="x"), text="Add finding")
    f.prompts.answers["save_changes"] = "cancel"
    QTest.keyClick(win, Qt.Key_N, Qt.ControlModifier)
    assert [x.label for x in win.case.case.findings] == ["x"]
    f.prompts.answers["save_changes"] = "discard"
    f.act_new_case.trigger()
    assert win.case.case.findings == [] and not win.isWindowModified()


# -- report data -----------------------------------------------------------------------------------------------------
def test_report_data_form_is_one_undoable_edit(qtbot, win):
    win.case.set_case(Case(report=ReportData(citation="Old citation")))
    f = win.case_feature
    f.act_report_data.trigger()
    dlg = f.report_dialog
    qtbot.waitExposed(dlg)
    form = dlg.form
    assert form.citation.toPlainText() == "Old citation"
    form.patient_id.setFocus()
    QTest.keyClicks(form.patient_id, "SPC-9")
    form.citation.setFocus()
    form.citation.selectAll()
    form.citation.insertPlainText("K\u00f6gler")  # QTest types ASCII only; the rest is typed
    QTest.keyClicks(form.citation, " C, et al. Primary DDLPS of the thoracic spine")
    QTest.keyClicks(form.doi, "10.1000/xyz123")
    QTest.keyClicks(form.levels_reported, "T5-T6")
    form.bilsky_reported.setFocus()
    form.bilsky_reported.setCurrentIndex(form.bilsky_reported.findData("1c"))
    form.patient_sex.setCurrentIndex(form.patient_sex.findData("F"))
    form.patient_age.setValue(36)
    QTest.mouseClick(form.dimensions.add_button, Qt.LeftButton)
    table = form.dimensions.table
    for col, text in enumerate(["residual tumour", "17 × 9", "17 × 9mm"]):
        table.item(0, col).setText(text)
    QTest.keyClicks(form.follow_up, "no recurrence at 53 months")
    QTest.mouseClick(dlg.ok_button, Qt.LeftButton)
    assert not dlg.isVisible()
    case = win.case.case
    assert case.patient.id == "SPC-9" and case.patient.sex == "F" and case.patient.age_years == 36
    r = case.report
    assert (r.citation, r.doi, r.levels_reported, r.bilsky_reported) == (
        "Kögler C, et al. Primary DDLPS of the thoracic spine", "10.1000/xyz123", "T5-T6", "1c")
    assert [(d.label, d.dimensions_mm, d.text) for d in r.reported_dimensions] == [
        ("residual tumour", [17.0, 9.0], "17 × 9mm")]
    assert r.follow_up == "no recurrence at 53 months"
    assert win.undo_stack.count() == 1 and win.undo_stack.undoText() == "Edit report data"
    QTest.keyClick(win, Qt.Key_Z, Qt.ControlModifier)
    assert win.case.case.report.citation == "Old citation" and win.case.case.patient.id == ""


def test_report_form_refuses_bad_values_and_changes_nothing(qtbot, win):
    f = win.case_feature
    dlg = f.edit_report_data()
    qtbot.waitExposed(dlg)
    QTest.mouseClick(dlg.form.dimensions.add_button, Qt.LeftButton)
    dlg.form.dimensions.table.item(0, 1).setText("17 x nine")
    QTest.mouseClick(dlg.ok_button, Qt.LeftButton)
    assert dlg.isVisible() and "Reported dimensions, row 1" in dlg.notice.text()
    assert win.undo_stack.count() == 0
    QTest.mouseClick(dlg.buttons.button(dlg.buttons.StandardButton.Cancel), Qt.LeftButton)
    assert not dlg.isVisible() and win.undo_stack.count() == 0


def test_parse_dimension_list():
    from widgets.report_form import format_dimensions, parse_dimension_list

    assert parse_dimension_list("17 × 9") == [17.0, 9.0]
    assert parse_dimension_list("2,5 x 2,1 x 3 mm") == [2.5, 2.1, 3.0]
    assert parse_dimension_list("12, 8") == [12.0, 8.0] and parse_dimension_list(" ") == []
    for bad in ("a x b", "1 x 2 x 3 x 4", "-3"):
        with pytest.raises(ValueError):
            parse_dimension_list(bad)
    assert format_dimensions([17.0, 9.5]) == "17 x 9.5"


# -- exports ---------------------------------------------------------------------------------------------------------
def test_export_menu_actions_write_the_files(qtbot, win, tmp_path):
    case, path = saved_case(tmp_path)
    open_and_wait(qtbot, win, path)
    f = win.case_feature
    out = tmp_path / "exports"
    out.mkdir()
    assert [a.text().replace("&", "") for a in f.export_menu.actions()] == [
        "Measurements CSV\u2026", "Findings CSV\u2026", "Follow-up CSV\u2026", "DICOM SR\u2026", "HTML Report\u2026",
        "PDF Report\u2026"]
    names = {"csv": "m.csv", "findings_csv": "f.csv", "followup_csv": "fu.csv", "sr": "sr.dcm", "html": "r.html",
             "pdf": "r.pdf"}
    for key, name in names.items():
        f.prompts.answers["save_path"] = str(out / name)
        with qtbot.waitSignal(f.exported, timeout=60_000):
            f.export_actions[key].trigger()
    assert not messages(win, "error"), messages(win, "error")
    with open(out / "m.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == sum(len(m.values()) for m in case.measurements)
    assert {r["measurement_id"] for r in rows} == {m.id for m in case.measurements}
    with open(out / "f.csv", encoding="utf-8", newline="") as fh:
        assert [r["finding_id"] for r in csv.DictReader(fh)] == [x.id for x in case.findings]
    with open(out / "fu.csv", encoding="utf-8", newline="") as fh:  # one row per lesion and (dated) timepoint
        assert {r["finding_id"] for r in csv.DictReader(fh)} <= {x.id for x in case.findings}
    assert (out / "sr.dcm").read_bytes()[128:132] == b"DICM"
    assert "data:image/png;base64," in (out / "r.html").read_text(encoding="utf-8")
    pdf = (out / "r.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000 and pdf.count(b"/Type /Page\n") + pdf.count(
        b"/Type /Page ") + pdf.count(b"/Type/Page") >= 1
    # the exports are in the audit trail (not an unsaved edit)
    assert [a.summary for a in win.case.case.audit if a.action == "export"][-1].endswith("r.pdf")
    assert not win.isWindowModified()
    # a cancelled file dialog writes nothing
    f.prompts.answers["save_path"] = None
    assert f.export("csv") is None


def test_export_of_a_never_saved_case_names_its_series(qtbot, win, tmp_path):
    case, path = make_case_with_series(tmp_path / "data")
    win.case.set_case(case)
    with qtbot.waitSignal(win.volumeLoaded, timeout=30_000):
        win.open_paths([str(path.parent / "ct")])
    out = win.case_feature.export("sr", tmp_path / "sr.dcm")
    assert out is not None and out.stat().st_size > 0
    assert win.case.case.series == case.series  # the export worked on a copy


def test_pdf_report_pages(qapp, tmp_path):
    from app.report_pdf import html_to_pdf, printable_html, render_pages
    from imaging.case.export_report import build_html_report
    from tests.test_case_factory import make_case

    html = build_html_report(make_case(), None, {"1.2.3": "series not found"})
    text, images = printable_html(html)
    assert "<pre>" not in text and "display: flex" not in text and images == {}
    pages = render_pages(html, dpi=60)
    assert len(pages) >= 1 and pages[0].width() == round(210 / 25.4 * 60)
    # something is drawn on the first page (not a blank page)
    img = pages[0]
    dark = sum(1 for y in range(0, img.height(), 4) for x in range(0, img.width(), 4)
               if img.pixelColor(x, y).lightness() < 128)
    assert dark > 100
    out = html_to_pdf(html, tmp_path / "r.pdf")
    assert out.read_bytes().startswith(b"%PDF") and out.stat().st_size > 2000
    assert not list(tmp_path.glob(".*.tmp"))
    # With key images: every one becomes a document image, at its true aspect
    from imaging.case.export_report import load_case_volumes

    case, path = make_case_with_series(tmp_path / "data")
    volumes, _ = load_case_volumes(case, path)
    html = build_html_report(case, volumes)
    n_figures = html.count("<figure>")
    text, images = printable_html(html)
    assert n_figures >= 2 and len(images) == n_figures and "data:image" not in text
    for i, (name, img) in enumerate(images.items(), start=1):
        assert name == f"spinecase-key-image-{i}.png" and not img.isNull() and f"src='{name}'" in text


def test_export_command_writes_a_pdf(qapp, tmp_path, capsys):
    from app.cli import main as cli_main

    _, path = saved_case(tmp_path)
    assert cli_main(["export", str(path), "--report", str(tmp_path / "r.pdf")]) == 0
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert "wrote" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # QDragEnterEvent(QPoint...) is all Qt offers
def test_drop_a_case_file_on_a_view_opens_it(qtbot, win, tmp_path):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    case, path = saved_case(tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    view = win.views()[0]
    enter = QDragEnterEvent(QPoint(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(win.volumeLoaded, timeout=30_000):
        QApplication.sendEvent(view, drop)
    assert win.case_feature.path == path.absolute()
    assert [x.label for x in win.case.case.findings] == [x.label for x in case.findings]


def test_the_real_questions_are_message_boxes(qtbot, win):
    """CasePrompts asks with QMessageBox: the buttons a person clicks map to the answers."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    from app.feature_case import CasePrompts

    prompts = CasePrompts(win)
    seen: list[list[str]] = []

    def click(label: str) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append([b.text() for b in box.buttons()])
        QTest.mouseClick(next(b for b in box.buttons() if b.text() == label), Qt.LeftButton)

    QTimer.singleShot(50, lambda: click("Discard"))
    assert prompts.save_changes("thoracic") == "discard"
    assert sorted(seen[-1]) == ["Cancel", "Discard", "Save"]
    QTimer.singleShot(50, lambda: click("Not Now"))
    assert prompts.recover("Recover them?") == "later"
    QTimer.singleShot(50, lambda: click("Open Backup"))
    assert prompts.open_backup("not valid JSON") is True
    QTimer.singleShot(50, lambda: click("Not Now"))
    assert prompts.locate_data("not found") is False
