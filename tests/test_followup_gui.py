"""The Follow-up panel in the app (app/feature_followup.py, widgets/followup_panel.py) on a copy of the
retroperitoneal sample case: the table and plot of a lesion's timepoints, a click on a point bringing that
study into view at the lesion, linking a measurement of a new date as one undoable step with the prior
measurement beside it, and a timepoint's Bilsky grade read on an image of its date -- real mouse and key
events, offscreen."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
from imaging.case.findings import assignment_changes
from imaging.followup.timeline import measurement_date

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_dicoms" / "retroperitoneal_ddlps"
FOLLOW_UP_DAY = date(2024, 5, 13)


@pytest.fixture
def win(qtbot, tmp_path):
    from app.features import install_features
    from app.main_window import MainWindow
    from app.settings import Settings

    folder = tmp_path / "retroperitoneal_ddlps"
    shutil.copytree(SAMPLE, folder)  # opening a case writes its lock beside it: never in sample_dicoms/
    settings = Settings(tmp_path / "settings.ini")
    settings.set_reader_name("reader1")
    w = MainWindow(settings=settings, restore_state=False, install_features=False)
    modules = ["app.feature_case", "app.feature_measure", "app.feature_findings", "app.feature_followup"]
    assert install_features(w, modules) == modules
    w.case_feature.interactive = False
    qtbot.addWidget(w)
    w.set_layout("1x1")
    w.resize(1500, 950)
    w.show()
    qtbot.waitExposed(w)
    assert w.case_feature.open_case(folder / "case.spinecase.json", recover=False)
    assert w.wait_until_idle()
    yield w
    w.case.undo_stack.setClean()
    w.cancel_loading()
    w.jobs.wait_all(5000)


def _finding(w, label: str):  # noqa: ANN202
    return next(f for f in w.case.case.findings if f.label == label)


def _messages(w) -> list[str]:
    return [t for _lv, t in w.message_bar.messages()]


def test_table_plot_and_a_click_brings_the_timepoint_into_view(win, qtbot) -> None:
    w = win
    f = _finding(w, "left adrenal region recurrence")
    w.finding_focus.set_current(f.id)
    panel = w.followup.panel
    assert panel.table.rowCount() == 2
    cells = [[panel.table.item(r, c).text() for c in range(panel.table.columnCount())] for r in range(2)]
    assert [row[0] for row in cells] == ["2024-02-05", "2024-05-13"]
    assert cells[1][1] == "after 3 months of anlotinib" and cells[1][2] == "24.9"
    assert cells[1][3] == "no significant change"
    assert "SD (stable disease)" in panel.recist_label.text()
    assert "0.41 cm/month, not above 0.9 cm/month" in panel.summary_label.text()
    # A click on the follow-up point loads the follow-up CT and shows the lesion there.
    key = f.timepoints[0].id
    pos = panel.plot.point_position(key)
    assert pos is not None
    with qtbot.waitSignal(w.seriesShown, timeout=60_000):
        QTest.mouseClick(panel.plot, Qt.LeftButton, Qt.NoModifier, pos.toPoint())
    assert w.wait_until_idle()
    qtbot.waitUntil(lambda: w.case.selected_id != "", timeout=10_000)
    selected = w.case.case.measurement(w.case.selected_id)
    assert selected.finding_id == f.id and measurement_date(w.case.case, selected) == FOLLOW_UP_DAY
    shown = w.active_view().volume()
    assert shown.metadata.series_instance_uid == selected.series_instance_uid
    assert panel.selected_key() == key
    assert "Prior of left adrenal region recurrence: 2024-02-05 bidirectional 24.9 x 21.0 mm" in \
        panel.beside_label.text()


def test_link_a_new_date_in_one_undo_step_and_grade_it_on_its_image(win, qtbot) -> None:
    w = win
    ctl = w.case
    f = _finding(w, "left psoas recurrence")
    tp = f.timepoints[0]
    later = [m for m in ctl.case.finding_measurements(f.id) if measurement_date(ctl.case, m) == FOLLOW_UP_DAY]
    # The reader has drawn the follow-up measurements but not linked them yet.
    for m in later:
        ctl.update(m.id, **assignment_changes(m, None))
    ctl.remove(tp.id)
    ctl.undo_stack.clear()
    w.finding_focus.set_current(f.id)
    panel = w.followup.panel
    assert panel.table.rowCount() == 1
    bi = next(m for m in later if m.kind == "bidirectional")
    ctl.select(bi.id)
    assert panel.link_button.isEnabled()
    assert panel.beside_label.text().splitlines() == [
        "Selected: 2024-05-13 bidirectional 15.0 x 12.9 mm",
        "Prior of left psoas recurrence: 2024-02-05 bidirectional 15.0 x 12.9 mm"]
    QTest.mouseClick(panel.link_button, Qt.LeftButton)
    f = ctl.case.finding(f.id)
    assert [t.study_date for t in f.timepoints] == [FOLLOW_UP_DAY]
    new = f.timepoints[0]
    assert new.bilsky.grade is None and new.level_from == "L3"  # nothing graded for the reader
    assert ctl.case.measurement(bi.id).finding_id == f.id and ctl.case.measurement(bi.id).finding_dimension
    baseline = [m for m in ctl.case.finding_measurements(f.id) if m.kind == "bidirectional" and m.id != bi.id]
    assert baseline and all(m.finding_dimension for m in baseline)  # the baseline's size stays marked
    assert ctl.undo_stack.count() == 1 and ctl.undo_stack.undoText().startswith("Follow up left psoas recurrence")
    assert panel.table.rowCount() == 2 and panel.table.item(1, 3).text() == "no significant change"
    # Ctrl+Z takes the whole link back; Ctrl+Shift+Z puts it back.
    w.active_view().setFocus()
    QTest.keyClick(w.active_view(), Qt.Key_Z, Qt.ControlModifier)
    assert ctl.case.finding(f.id).timepoints == [] and ctl.case.measurement(bi.id).finding_id is None
    QTest.keyClick(w.active_view(), Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert ctl.case.finding(f.id).timepoints[0].id == new.id
    # A grade for the follow-up timepoint is refused while the view shows the earlier study...
    panel.select_timepoint(new.id)
    panel.grade_combo.setCurrentIndex(panel.grade_combo.findData("0"))
    QTest.mouseClick(panel.grade_button, Qt.LeftButton)
    assert ctl.case.finding(f.id).timepoints[0].bilsky.grade is None
    assert any("this timepoint is 2024-05-13" in t for t in _messages(w))
    # ... and recorded on an image of its date once "Show timepoint" has brought it into view.
    with qtbot.waitSignal(w.seriesShown, timeout=60_000):
        QTest.mouseClick(panel.go_button, Qt.LeftButton)
    assert w.wait_until_idle()
    QTest.mouseClick(panel.grade_button, Qt.LeftButton)
    graded = ctl.case.finding(f.id).timepoints[0].bilsky
    assert graded.grade == "0" and graded.series_instance_uid == bi.series_instance_uid
    assert ctl.case.finding(f.id).bilsky.grade is None  # the finding's first reading is untouched


def test_a_click_hangs_the_comparison_at_the_lesion_when_the_reading_feature_is_there(qtbot, tmp_path) -> None:
    """With the reading workflow installed, a timepoint comes up in the comparison protocol: the follow-up
    CT beside the CT before it, linked by level, the cursor on the lesion in both."""
    from app.features import install_features
    from app.main_window import MainWindow
    from app.settings import Settings

    folder = tmp_path / "retroperitoneal_ddlps"
    shutil.copytree(SAMPLE, folder)
    w = MainWindow(settings=Settings(tmp_path / "settings.ini"), restore_state=False, install_features=False)
    modules = ["app.feature_case", "app.feature_measure", "app.feature_findings", "app.feature_followup",
               "app.feature_reading"]
    assert install_features(w, modules) == modules
    w.case_feature.interactive = False
    qtbot.addWidget(w)
    w.resize(1500, 950)
    w.show()
    qtbot.waitExposed(w)
    try:
        assert w.case_feature.open_case(folder / "case.spinecase.json", recover=False)
        assert w.wait_until_idle()
        f = _finding(w, "left adrenal region recurrence")
        w.finding_focus.set_current(f.id)
        panel = w.followup.panel
        key = f.timepoints[0].id
        with qtbot.waitSignal(w.reading.protocolApplied, timeout=60_000):
            QTest.mouseClick(panel.plot, Qt.LeftButton, Qt.NoModifier, panel.plot.point_position(key).toPoint())
        assert w.wait_until_idle()
        qtbot.waitUntil(lambda: w.case.selected_id != "", timeout=10_000)
        selected = w.case.case.measurement(w.case.selected_id)
        assert measurement_date(w.case.case, selected) == FOLLOW_UP_DAY and selected.finding_id == f.id
        assert w.reading.hanging.protocol.id == "compare-ct"
        views = w.grid.layout_views()
        days = [v.volume().metadata.study_date for v in views]
        assert days == ["20240513", "20240205"]  # the follow-up CT beside the CT before it
        assert w.active_view() is views[0]
        centre_z = sum(p[2] for p in selected.points) / len(selected.points)
        for v in views:  # both at the lesion's level (the prior by the linked vertebral levels)
            assert v.cursor_lps is not None and abs(float(v.cursor_lps[2]) - centre_z) < 5.0, v.cursor_lps
    finally:
        w.case.undo_stack.setClean()
        w.cancel_loading()
        w.jobs.wait_all(5000)
