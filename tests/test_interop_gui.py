"""File > Open of a DICOM SR or SEG brings its content into the case as one undoable step, each measurement on
its image; File > Export > DICOM SEG and Key Images write valid files (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
from imaging.case.export_sr import write_sr
from tests.interop_helpers import dciodvfy_errors
from tests.test_case_gui import close_quietly, make_window, messages, open_and_wait, saved_case


class Answers:
    def __init__(self) -> None:
        self.open: list[str] = []

    def open_paths(self, start: str) -> list[str]:
        return self.open


@pytest.fixture
def win(qtbot, tmp_path):
    from app import feature_interop

    w, _ = make_window(qtbot, tmp_path)
    feature = feature_interop.install(w)
    feature.prompts = Answers()
    yield w
    close_quietly(w)


def test_open_sr_adds_its_measurements_and_findings_in_one_undo_step(qtbot, win, tmp_path: Path) -> None:
    case, path = saved_case(tmp_path)
    (tmp_path / "exported").mkdir()
    export = write_sr(case, path, tmp_path / "exported" / "sr.dcm")
    open_and_wait(qtbot, win, path)  # the case and its CT
    f = win.interop_feature
    # the same SR into its own case: everything is already there
    f.prompts.open = [str(export.paths[0])]
    f.act_open.trigger()
    assert len(win.case.case.measurements) == len(case.measurements)
    assert any("already in the case" in t for t in messages(win)), messages(win)
    # into a new case with the CT loaded: every measurement comes back on its image, the finding with its grade
    win.case_feature.new_case()
    assert win.case.case.measurements == []
    undo_before = win.undo_stack.count()
    win.open_paths([str(export.paths[0])])  # File > Open of the SR file itself
    new = win.case.case
    exported = [m for m in case.measurements if m.id not in export.skipped]
    assert len(new.measurements) == len(exported)
    for m in exported:
        got = next(n for n in new.measurements if n.kind == m.kind and n.label == m.label.replace("\t", " "))
        assert got.sop_instance_uid == m.sop_instance_uid and got.slice_index == m.slice_index
        if m.kind != "ellipse_roi":
            assert np.max(np.abs(np.asarray(got.points) - np.asarray(m.points))) <= 1e-3
    graded = next(g for g in new.findings if g.bilsky.grade)
    assert (graded.bilsky.grade, graded.levels_text) == ("3", "T5-T6")
    assert win.undo_stack.count() == undo_before + 1 and win.undo_stack.undoText().startswith("Import SR")
    win.undo_stack.undo()
    assert win.case.case.measurements == [] and win.case.case.findings == []


def test_export_seg_and_key_images_then_open_the_seg_as_outlines(qtbot, win, tmp_path: Path) -> None:
    case, path = saved_case(tmp_path)
    open_and_wait(qtbot, win, path)
    f = win.case_feature  # the SEG and key images are entries of the export registry: File > Export lists them
    out = tmp_path / "out"
    out.mkdir()
    names = [a.text().replace("&", "") for a in f.export_menu.actions()]
    assert {"DICOM SEG\u2026", "Key Images (KOS)\u2026"} <= set(names)
    f.prompts.answers["save_path"] = str(out / "seg.dcm")
    with qtbot.waitSignal(f.exported, timeout=60_000):
        f.export_actions["seg"].trigger()
    f.prompts.answers["save_path"] = str(out / "kos.dcm")
    with qtbot.waitSignal(f.exported, timeout=60_000):
        f.export_actions["key_images"].trigger()
    assert not messages(win, "error"), messages(win, "error")
    assert "wrote kos-sc-1.dcm" in win.message_bar._items[-1].details.text()  # the files beside the KOS are named
    assert dciodvfy_errors(out / "seg.dcm") == [] and dciodvfy_errors(out / "kos.dcm") == []
    assert sorted(p.name for p in out.glob("kos-sc-*.dcm"))  # secondary captures beside the KOS
    # Opening the SEG adds its outlines (as contours of the finding its segments name, or a new one)
    before = sum(len(x.contours) for x in win.case.case.findings)
    win.open_paths([str(out / "seg.dcm")])
    after = sum(len(x.contours) for x in win.case.case.findings)
    assert after > before and win.undo_stack.undoText().startswith("Import SEG")
    QTest.keyClick(win, Qt.Key_Z, Qt.ControlModifier)
    assert sum(len(x.contours) for x in win.case.case.findings) == before


def test_read_only_case_refuses_an_import(qtbot, win, tmp_path: Path) -> None:
    case, path = saved_case(tmp_path)
    (tmp_path / "e").mkdir()
    export = write_sr(case, path, tmp_path / "e" / "sr.dcm")
    open_and_wait(qtbot, win, path)
    win.case.set_read_only(True)
    assert win.interop_feature.open_files([str(export.paths[0])]) is False
    assert any("read-only" in t for t in messages(win, "error"))


def test_an_sr_opened_from_the_pacs_dialog_goes_through_the_sr_import(qtbot, win, tmp_path: Path) -> None:
    """The PACS dialog's "open into case" (app.feature_pacs.open_sr_in_case) is File > Open of the SR."""
    from app.feature_pacs import open_sr_in_case
    from imaging.pacs.annotations import summarize_sr_file

    case, path = saved_case(tmp_path)
    (tmp_path / "cache").mkdir()
    export = write_sr(case, path, tmp_path / "cache" / "sr.dcm")
    open_and_wait(qtbot, win, path)
    win.case_feature.new_case()
    assert open_sr_in_case(win, summarize_sr_file(export.paths[0]))
    assert len(win.case.case.measurements) == len([m for m in case.measurements if m.id not in export.skipped])
    assert win.undo_stack.undoText().startswith("Import SR")
