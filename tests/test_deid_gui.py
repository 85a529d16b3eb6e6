"""File > Export de-identified in the app: the dialog runs the export in the background with progress, then lists
the free-text replacements for review -- driven with real key and mouse events."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
from imaging.case.store import load_case, save_case

ROOT = Path(__file__).resolve().parents[1]


def make_window(qtbot, tmp_path: Path):  # noqa: ANN001, ANN201
    from app import feature_case, feature_deid
    from app.main_window import MainWindow
    from app.settings import Settings

    w = MainWindow(settings=Settings(tmp_path / "settings" / "spinecase.ini"), restore_state=False,
                   install_features=False)
    feature_case.install(w).timer.stop()
    feature_deid.install(w)
    qtbot.addWidget(w)
    return w


def test_export_deidentified_from_the_file_menu(qtbot, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("SPINECASE_SETTINGS", str(tmp_path / "settings" / "spinecase.ini"))
    src = tmp_path / "case"
    shutil.copytree(ROOT / "sample_dicoms" / "l1_lipomatous_metastasis", src)
    case = load_case(src / "case.spinecase.json")
    case.update(case.findings[0].id, notes=f"patient {case.patient.id} seen 2024-01-08")
    save_case(case, src / "case.spinecase.json", backup=False)
    w = make_window(qtbot, tmp_path)
    w.case_feature.open_case(src / "case.spinecase.json")
    action = w.findChild(type(w.deid_feature.action), "deid_export")
    assert action in w.file_menu.actions()
    action.trigger()
    dialog = w.deid_feature.dialog
    assert dialog.source_edit.text() == str(src)
    out = tmp_path / "research"
    dialog.output_edit.clear()
    qtbot.keyClicks(dialog.output_edit, str(out))
    start = dialog.findChild(QPushButton, "deid_start")
    qtbot.mouseClick(start, Qt.LeftButton)
    assert dialog.running and not dialog.close_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    assert "Wrote" in dialog.status.text(), dialog.status.text()
    assert dialog.review.isVisible() and dialog.review.rowCount() >= 2
    kinds = {dialog.review.item(r, 1).text() for r in range(dialog.review.rowCount())}
    assert {"patient ID", "date"} <= kinds
    found = {dialog.review.item(r, 2).text() for r in range(dialog.review.rowCount())}
    assert case.patient.id in found  # shown for review on screen ...
    log = (out / "deidentification-log.json").read_text()
    assert case.patient.id not in log and json.loads(log)["patient_identity_removed"] == "YES"  # ... never on disk
    assert (tmp_path / "settings" / "deidentification.key").exists()  # the default key, beside the settings
    deid = load_case(out / "case.spinecase.json")
    assert deid.patient.id.startswith("ANON-") and deid.findings[0].notes.startswith(f"patient {deid.patient.id}")
    if shot := __import__("os").environ.get("SPINECASE_DEID_SCREENSHOT"):
        dialog.grab().save(shot)
    qtbot.mouseClick(dialog.close_button, Qt.LeftButton)
    assert not dialog.isVisible()


def test_output_folder_not_empty_is_refused_in_the_dialog(qtbot, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("SPINECASE_SETTINGS", str(tmp_path / "settings" / "spinecase.ini"))
    src = tmp_path / "in"
    src.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "something.txt").write_text("x")
    w = make_window(qtbot, tmp_path)
    dialog = w.deid_feature.open_dialog()
    dialog.source_edit.setText(str(src))
    dialog.output_edit.setText(str(out))
    qtbot.mouseClick(dialog.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert "must be new or empty" in dialog.status.text()
    assert (out / "something.txt").read_text() == "x"
