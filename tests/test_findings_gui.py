"""Findings, Bilsky grading and SINS panels driven by real mouse clicks and keys (pytest-qt).

A synthetic axial T2 MR series (10 slices 5 mm apart, S = -20 ... +25 mm) is opened in the main window with
only the findings feature installed; vertebral labels T5, T6, T7 sit at S = +20, 0, -20 mm on the spine axis,
so the level boundaries are at S = +10 and -10 mm (half-way between centres).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
from imaging.case.model import Measurement, VertebralLabel
from tests.dicom_factory import write_series

LABELS = {"T5": 20.0, "T6": 0.0, "T7": -20.0}  # S of the labelled body centres (mm)
SLICE_S = [-20.0 + 5.0 * i for i in range(10)]
# SINS points as published (Fisher et al., Spine 2010), written out here to compute expected totals
SINS_POINTS = {
    "location": {"JUNCTIONAL": 3, "MOBILE": 2, "SEMIRIGID": 1, "RIGID": 0},
    "pain": {"MECHANICAL": 3, "OCCASIONAL_NON_MECHANICAL": 1, "PAIN_FREE": 0},
    "bone_lesion": {"LYTIC": 2, "MIXED": 1, "BLASTIC": 0},
    "alignment": {"SUBLUXATION_TRANSLATION": 4, "DE_NOVO_DEFORMITY": 2, "NORMAL": 0},
    "collapse": {"OVER_50_PERCENT": 3, "UNDER_50_PERCENT": 2, "NO_COLLAPSE_OVER_50_PERCENT_INVOLVED": 1,
                 "NONE": 0},
    "posterolateral": {"BILATERAL": 3, "UNILATERAL": 1, "NONE": 0},
}


def expected_level(s: float) -> str:
    """Level of a point on the spine axis at height S: the nearest labelled centre along the spine."""
    return min(LABELS, key=lambda lv: abs(LABELS[lv] - s))


def _write_mr(folder: Path, description: str, te: float, tr: float) -> dict[float, str]:
    """An axial MR series; returns {S position of the slice: its SOPInstanceUID} read back from the files."""
    k, r, c = np.meshgrid(np.arange(10), np.arange(32), np.arange(32), indexing="ij")
    values = (200 + 10 * k + ((r - 16) ** 2 + (c - 16) ** 2 < 40) * 300).astype(np.int16)
    truth = write_series(folder, shape=(10, 32, 32), spacing=(1.0, 1.0), origin=(-16.0, -16.0, -20.0),
                         slice_gap=5.0, modality="MR", description=description, values=values,
                         rescale=(1.0, 0.0))
    sops = {}
    for path in truth["files"]:
        ds = pydicom.dcmread(path)
        ds.EchoTime, ds.RepetitionTime = te, tr
        ds.save_as(path, enforce_file_format=True)
        sops[round(float(ds.ImagePositionPatient[2]), 3)] = str(ds.SOPInstanceUID)
    return sops


@pytest.fixture(scope="module")
def t2_series(tmp_path_factory) -> tuple[Path, dict[float, str]]:
    folder = tmp_path_factory.mktemp("ax_t2")
    return folder, _write_mr(folder, "Ax T2 TSE", te=100.0, tr=4000.0)


@pytest.fixture
def window(qtbot, tmp_path, t2_series):
    from app.features import install_features
    from app.main_window import MainWindow
    from app.settings import Settings

    settings = Settings(tmp_path / "settings.ini")
    settings.set_reader_name("reader1")
    w = MainWindow(settings=settings, restore_state=False, install_features=False)
    assert install_features(w, ["app.feature_findings"]) == ["app.feature_findings"]
    qtbot.addWidget(w)
    w.set_layout("1x1")
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitSignal(w.volumeLoaded, timeout=30_000):
        w.open_paths([t2_series[0]])
    for label, s in LABELS.items():
        w.case.add(VertebralLabel(label=label, centre=(0.0, 0.0, s), reader="reader1"))
    w.undo_stack.clear()
    yield w
    w.cancel_loading()
    w.jobs.wait_all(5000)


def show_panel(window, panel) -> None:
    dock = panel.parentWidget()
    dock.show()
    dock.raise_()
    QTest.qWait(1)


def go_to_slice_at(view, s: float) -> None:
    """Home, then Down until the plane shown lies at height S (real key presses on the view)."""
    view.setFocus()
    QTest.keyClick(view, Qt.Key_Home)
    for _ in range(view.slice_count()):
        if abs(view.plane_geometry().origin[2] - s) < 1e-3:
            return
        QTest.keyClick(view, Qt.Key_Down)
    assert abs(view.plane_geometry().origin[2] - s) < 1e-3, f"no slice at S={s}"


def click_card(panel, grade: str) -> None:
    card = panel.grade_card(grade)
    card.parentWidget().parentWidget().parentWidget().ensureWidgetVisible(card)  # the scroll area
    QTest.mouseClick(card, Qt.LeftButton, Qt.NoModifier, QPoint(card.width() // 2, card.height() // 2))


def click_radio(button) -> None:
    QTest.mouseClick(button, Qt.LeftButton, Qt.NoModifier, QPoint(8, button.height() // 2))


def choose_in_combo(combo, data) -> None:
    """Open the combo's list (Space, as a keyboard user would) and click the item holding ``data``."""
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key_Space)
    view = combo.view()
    QTest.qWaitForWindowExposed(view.window())
    index = combo.model().index(combo.findData(data), 0)
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, view.visualRect(index).center())


def undo(window) -> None:
    window.activateWindow()
    QTest.keyClick(window.active_view(), Qt.Key_Z, Qt.ControlModifier)


def redo(window) -> None:
    QTest.keyClick(window.active_view(), Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)


def new_finding(window):
    panel = window.findings_panel
    show_panel(window, panel)
    QTest.mouseClick(panel.new_button, Qt.LeftButton)
    return window.case.case.finding(window.finding_focus.current_id())


# -- Bilsky ---------------------------------------------------------------------------------------------------
def test_grade_is_stored_with_level_image_and_reader_and_undo_restores(window, t2_series):
    _, sops = t2_series
    finding = new_finding(window)
    view = window.active_view()
    bilsky = window.bilsky_panel
    show_panel(window, bilsky)

    go_to_slice_at(view, 15.0)  # in T5
    click_card(bilsky, "1b")
    first = window.case.case.finding(finding.id).bilsky
    assert (first.grade, first.level, first.sop_instance_uid) == ("1b", expected_level(15.0), sops[15.0])

    go_to_slice_at(view, 5.0)  # in T6, the level of worst compression
    assert bilsky.level_edit.text() == expected_level(5.0) == "T6"
    click_card(bilsky, "3")
    b = window.case.case.finding(finding.id).bilsky
    assert b.grade == "3"
    assert b.level == "T6"
    assert b.sop_instance_uid == sops[5.0]
    assert b.series_instance_uid == pydicom.dcmread(next(t2_series[0].glob("*.dcm"))).SeriesInstanceUID
    assert b.slice_index == view.slice_index() and view.volume().sop_instance_uid(b.slice_index) == sops[5.0]
    assert b.reader == "reader1" and b.assessed_utc is not None
    assert window.undo_stack.undoText() == "Set Bilsky grade 3"
    assert bilsky.grade_card("3").isChecked() and not bilsky.grade_card("1b").isChecked()
    assert "High-grade ESCC" in bilsky.noms_label.text()

    undo(window)
    b = window.case.case.finding(finding.id).bilsky
    assert (b.grade, b.level, b.sop_instance_uid) == ("1b", "T5", sops[15.0])
    assert bilsky.grade_card("1b").isChecked() and not bilsky.grade_card("3").isChecked()
    redo(window)
    assert window.case.case.finding(finding.id).bilsky.grade == "3"


def test_typed_level_is_used_and_a_bad_one_is_refused(window):
    finding = new_finding(window)
    bilsky = window.bilsky_panel
    show_panel(window, bilsky)
    go_to_slice_at(window.active_view(), 0.0)
    bilsky.level_edit.setFocus()
    bilsky.level_edit.selectAll()
    QTest.keyClicks(bilsky.level_edit, "T5-T6")
    count = window.undo_stack.count()
    click_card(bilsky, "2")
    assert window.case.case.finding(finding.id).bilsky.grade is None
    assert window.undo_stack.count() == count
    assert "not one vertebral level" in window.message_bar.messages()[-1][1]
    bilsky.level_edit.selectAll()
    QTest.keyClicks(bilsky.level_edit, "t7")
    go_to_slice_at(window.active_view(), 15.0)  # a typed level stays while the view moves
    click_card(bilsky, "2")
    assert window.case.case.finding(finding.id).bilsky.level == "T7"
    QTest.mouseClick(bilsky.level_from_view, Qt.LeftButton)
    assert bilsky.level_edit.text() == "T5"


def test_reminder_reformat_has_no_sop_and_t1_is_flagged(window, tmp_path):
    finding = new_finding(window)
    bilsky = window.bilsky_panel
    show_panel(window, bilsky)
    assert bilsky.reminder.isHidden()  # acquired axial T2: no reminder
    view = window.active_view()
    view.set_orientation("sagittal")
    assert not bilsky.reminder.isHidden()
    assert "axial T2-weighted MR" in bilsky.reminder.text() and "sagittal" in bilsky.reminder.text()
    click_card(bilsky, "1a")
    b = window.case.case.finding(finding.id).bilsky
    assert b.grade == "1a" and b.sop_instance_uid is None and b.slice_index == view.slice_index()

    from imaging import scan_series
    from imaging.dicom.load import load_series

    t1 = tmp_path / "t1"
    _write_mr(t1, "Ax T1 TSE", te=10.0, tr=550.0)
    view.set_volume(load_series(list(scan_series(t1))[0]), "axial")
    assert not bilsky.reminder.isHidden()
    assert "T1-weighted MR (TE 10 ms, TR 550 ms)" in bilsky.reminder.text()


def test_noms_group_follows_the_1c_setting(window, qtbot):
    new_finding(window)
    bilsky = window.bilsky_panel
    show_panel(window, bilsky)
    click_card(bilsky, "1c")
    assert bilsky.noms_label.text() == "Bilsky 1c \u00b7 NOMS: High-grade ESCC"  # default: high grade
    assert bilsky.grade_card("1c").group == "high"
    combo = bilsky.group_1c_combo
    choose_in_combo(combo, "low")
    assert combo.currentData() == "low"
    assert bilsky.noms_label.text() == "Bilsky 1c \u00b7 NOMS: Low-grade ESCC"
    assert bilsky.grade_card("1c").group == "low" and bilsky.grade_card("2").group == "high"
    assert window.settings.value("bilsky/grade_1c_group") == "low"
    click_card(bilsky, "1b")
    assert "Low-grade" in bilsky.noms_label.text()
    click_card(bilsky, "2")
    assert "High-grade" in bilsky.noms_label.text()
    # a new window reads the setting
    from app.features import install_features
    from app.main_window import MainWindow

    other = MainWindow(settings=window.settings, restore_state=False, install_features=False)
    qtbot.addWidget(other)
    install_features(other, ["app.feature_findings"])
    assert other.bilsky_panel.grade_1c_as() == "low"


def test_no_finding_or_read_only_refuses_clearly(window):
    bilsky = window.bilsky_panel
    show_panel(window, bilsky)
    assert not bilsky.grade_card("3").isEnabled() and bilsky.no_finding.isVisibleTo(bilsky)
    assert bilsky.choose_grade("3") is False
    assert "Select or create a finding" in window.message_bar.messages()[-1][1]
    finding = new_finding(window)
    window.case.set_read_only(True)
    assert not bilsky.grade_card("3").isEnabled()
    assert bilsky.choose_grade("3") is False
    assert "read-only" in window.message_bar.messages()[-1][1]
    assert window.case.case.finding(finding.id).bilsky.grade is None


def test_suggestion_slot(window):
    from PySide6.QtWidgets import QLabel

    bilsky = window.bilsky_panel
    assert bilsky.suggestion_area.isHidden()
    label = QLabel("Suggested: 2")
    bilsky.set_suggestion_widget(label)
    assert bilsky.suggestion_widget() is label and not bilsky.suggestion_area.isHidden()
    assert label.parentWidget() is bilsky.suggestion_area
    bilsky.set_suggestion_widget(None)
    assert bilsky.suggestion_widget() is None and bilsky.suggestion_area.isHidden()


# -- SINS ------------------------------------------------------------------------------------------------------
def test_sins_clicks_give_total_and_category(window):
    finding = new_finding(window)
    fp = window.findings_panel
    fp.levels_edit.setFocus()
    QTest.keyClicks(fp.levels_edit, "T5-6")
    QTest.keyClick(fp.levels_edit, Qt.Key_Return)
    sins = window.sins_panel
    show_panel(window, sins)
    answers = {"pain": "MECHANICAL", "bone_lesion": "LYTIC", "alignment": "NORMAL",
               "collapse": "NO_COLLAPSE_OVER_50_PERCENT_INVOLVED", "posterolateral": "UNILATERAL"}
    for i, (field, name) in enumerate(answers.items()):
        assert sins.total_label.text().startswith("SINS") and "/ 18" not in sins.total_label.text()
        click_radio(sins.choice_button(field, name))
        assert getattr(window.case.case.finding(finding.id).sins, field) == name
        assert window.undo_stack.undoText().startswith("Set SINS")
        assert i < 4 or "/ 18" in sins.total_label.text()
    # T5 and T6 are both semirigid (T3-T10): location 1
    expected = SINS_POINTS["location"]["SEMIRIGID"] + sum(SINS_POINTS[f][n] for f, n in answers.items())
    assert expected == 8
    assert sins.total_label.text() == f"SINS {expected} / 18"
    assert sins.category_label.text().startswith("Potentially unstable")
    assert sins.choice_button("location", "FROM_LEVELS").isChecked()
    assert window.case.case.finding(finding.id).sins_score().total == expected

    click_radio(sins.choice_button("location", "JUNCTIONAL"))  # override
    assert window.undo_stack.undoText() == "Set SINS location"
    assert sins.total_label.text() == f"SINS {expected - 1 + 3} / 18"
    click_radio(sins.choice_button("alignment", "SUBLUXATION_TRANSLATION"))
    click_radio(sins.choice_button("posterolateral", "BILATERAL"))
    total = expected - 1 + 3 + 4 + (3 - 1)
    assert total == 16 and sins.total_label.text() == "SINS 16 / 18"
    assert sins.category_label.text().startswith("Unstable")
    undo(window)  # posterolateral back to unilateral
    undo(window)  # alignment back to normal
    assert sins.total_label.text() == "SINS 10 / 18"
    click_radio(sins.choice_button("location", "FROM_LEVELS"))
    assert window.undo_stack.undoText() == "Use SINS location from levels"
    assert window.case.case.finding(finding.id).sins.location_override is None
    assert sins.total_label.text() == "SINS 8 / 18"
    click_radio(sins.choice_button("pain", "PAIN_FREE"))
    click_radio(sins.choice_button("bone_lesion", "BLASTIC"))
    assert sins.total_label.text() == "SINS 3 / 18" and sins.category_label.text().startswith("Stable")


# -- findings --------------------------------------------------------------------------------------------------
def test_level_range_editing_good_and_bad_text(window):
    finding = new_finding(window)
    fp = window.findings_panel
    edit = fp.levels_edit
    edit.setFocus()
    edit.selectAll()
    QTest.keyClicks(edit, "t6 - t5")
    QTest.keyClick(edit, Qt.Key_Return)
    f = window.case.case.finding(finding.id)
    assert (f.level_from, f.level_to, f.levels_auto) == ("T5", "T6", False)
    assert window.undo_stack.undoText() == "Set levels T5-T6"
    assert edit.text() == "T5-T6"
    count = window.undo_stack.count()
    for bad, reason in (("T5-X9", "cannot read vertebral level range"), ("T14", "unknown vertebral level")):
        edit.selectAll()
        QTest.keyClicks(edit, bad)
        QTest.keyClick(edit, Qt.Key_Return)
        assert fp.levels_error.isVisibleTo(fp) and reason in fp.levels_error.text()
        assert window.undo_stack.count() == count
        assert window.case.case.finding(finding.id).levels_text == "T5-T6"
    edit.selectAll()
    QTest.keyClicks(edit, "L4")
    QTest.keyClick(edit, Qt.Key_Return)
    assert not fp.levels_error.isVisibleTo(fp)
    assert window.case.case.finding(finding.id).levels_text == "L4"
    edit.selectAll()
    QTest.keyClick(edit, Qt.Key_Delete)
    QTest.keyClick(edit, Qt.Key_Return)
    assert window.case.case.finding(finding.id).level_from is None
    assert window.undo_stack.undoText() == "Clear levels"
    undo(window)
    assert window.case.case.finding(finding.id).levels_text == "L4"


def _measurement_at(s: float, finding_id: str | None = None) -> Measurement:
    return Measurement(kind="length", points=[(-3.0, 0.0, s), (3.0, 0.0, s)],
                       plane={"orientation": "axial", "normal": (0.0, 0.0, 1.0)}, finding_id=finding_id)


def test_levels_follow_measurements_until_typed(window):
    finding = new_finding(window)
    ctl = window.case
    fp = window.findings_panel
    ctl.add(_measurement_at(2.0, finding.id), "Add length")
    assert ctl.case.finding(finding.id).levels_text == expected_level(2.0) == "T6"
    ctl.add(_measurement_at(17.0, finding.id), "Add length")
    assert ctl.case.finding(finding.id).levels_text == "T5-T6"
    assert fp.levels_edit.text() == "T5-T6" and fp.levels_auto_box.isChecked()
    undo(window)
    assert ctl.case.finding(finding.id).levels_text == "T6"
    redo(window)
    assert ctl.case.finding(finding.id).levels_text == "T5-T6"
    # typed by hand: measurements no longer move it
    fp.levels_edit.setFocus()
    fp.levels_edit.selectAll()
    QTest.keyClicks(fp.levels_edit, "T4-T7")
    QTest.keyClick(fp.levels_edit, Qt.Key_Return)
    ctl.add(_measurement_at(-18.0, finding.id), "Add length")
    assert ctl.case.finding(finding.id).levels_text == "T4-T7"
    assert not fp.levels_auto_box.isChecked()
    QTest.mouseClick(fp.levels_auto_box, Qt.LeftButton, Qt.NoModifier, QPoint(8, fp.levels_auto_box.height() // 2))
    f = ctl.case.finding(finding.id)
    assert (f.levels_text, f.levels_auto) == ("T5-T7", True)


def test_involvement_grid(window):
    finding = new_finding(window)
    ctl = window.case
    ctl.update(finding.id, "Set levels T5-T6", level_from="T5", level_to="T6", levels_auto=False)
    grid = window.findings_panel.involvement
    QTest.qWait(5)  # the new check boxes are shown by the event loop
    assert grid.levels() == ["T5", "T6"] and grid.checkbox("T6", "right_pedicle").isVisible()
    box = grid.checkbox("T6", "right_pedicle")
    QTest.mouseClick(box, Qt.LeftButton)
    f = ctl.case.finding(finding.id)
    assert [(i.level, i.sectors) for i in f.involvement] == [("T6", ["right_pedicle"])]
    assert window.undo_stack.undoText() == "Set involvement T6 right pedicle"
    QTest.mouseClick(grid.checkbox("T5", "lamina"), Qt.LeftButton)
    QTest.mouseClick(grid.checkbox("T6", "vertebral_body"), Qt.LeftButton)
    f = ctl.case.finding(finding.id)
    assert [(i.level, i.sectors) for i in f.involvement] == [("T5", ["lamina"]),
                                                              ("T6", ["vertebral_body", "right_pedicle"])]
    QTest.mouseClick(grid.checkbox("T5", "lamina"), Qt.LeftButton)  # untick
    assert [i.level for i in ctl.case.finding(finding.id).involvement] == ["T6"]
    assert window.undo_stack.undoText() == "Clear involvement T5 lamina"
    undo(window)
    assert grid.checkbox("T5", "lamina").isChecked()
    assert [i.level for i in ctl.case.finding(finding.id).involvement] == ["T5", "T6"]


def test_new_from_selected_measurement_rename_type_notes_delete(window):
    ctl = window.case
    m = ctl.add(_measurement_at(1.0), "Add length")
    ctl.select(m.id)
    fp = window.findings_panel
    show_panel(window, fp)
    count = window.undo_stack.count()
    QTest.mouseClick(fp.new_button, Qt.LeftButton)
    fid = window.finding_focus.current_id()
    assert ctl.case.measurement(m.id).finding_id == fid
    assert window.undo_stack.count() == count + 1 and window.undo_stack.undoText() == "New finding"
    assert ctl.case.finding(fid).label == "Lesion 1" and ctl.case.finding(fid).levels_text == "T6"
    assert window.finding_focus.active_finding_id() == fid
    # the name field does not take the focus by itself (a tool key would rename the finding): click into it
    assert not fp.label_edit.hasFocus()
    QTest.mouseClick(fp.label_edit, Qt.LeftButton)
    QTest.keyClick(fp.label_edit, Qt.Key_A, Qt.ControlModifier)
    QTest.keyClicks(fp.label_edit, "T6 metastasis")
    QTest.keyClick(fp.label_edit, Qt.Key_Return)
    assert ctl.case.finding(fid).label == "T6 metastasis"
    assert window.undo_stack.undoText() == "Rename finding"
    choose_in_combo(fp.type_combo, "lytic")
    assert ctl.case.finding(fid).lesion_type == "lytic"
    assert window.undo_stack.undoText() == "Set lesion type lytic"
    fp.notes_edit.setFocus()
    QTest.keyClicks(fp.notes_edit, "expansile")
    fp.label_edit.setFocus()  # leaving the notes commits them
    assert ctl.case.finding(fid).notes == "expansile"
    assert window.undo_stack.undoText() == "Edit finding notes"
    # attach: un-ticking stops new measurements from joining
    QTest.mouseClick(fp.attach_box, Qt.LeftButton, Qt.NoModifier, QPoint(8, fp.attach_box.height() // 2))
    assert window.finding_focus.active_finding_id() is None
    from app.feature_findings import active_finding_id

    assert active_finding_id(window) is None
    # delete with the Delete key in the list: the measurement stays, detached; undo brings both back
    fp.tree.setFocus()
    QTest.keyClick(fp.tree, Qt.Key_Delete)
    assert ctl.case.findings == [] and ctl.case.measurement(m.id).finding_id is None
    undo(window)
    assert ctl.case.finding(fid).label == "T6 metastasis" and ctl.case.measurement(m.id).finding_id == fid


def test_assign_selected_measurement_and_selector(window):
    ctl = window.case
    first = new_finding(window)
    second = new_finding(window)
    assert [f.label for f in ctl.case.findings] == ["Lesion 1", "Lesion 2"]
    m = ctl.add(_measurement_at(-15.0), "Add length")
    fp = window.findings_panel
    assert not fp.assign_button.isEnabled()
    ctl.select(m.id)
    assert fp.assign_button.isEnabled() and "Lesion 2" in fp.assign_button.text()
    QTest.mouseClick(fp.assign_button, Qt.LeftButton)
    assert ctl.case.measurement(m.id).finding_id == second.id
    assert window.undo_stack.undoText() == "Assign measurement to Lesion 2"
    assert ctl.case.finding(second.id).levels_text == "T7"
    # the Bilsky panel's selector switches the current finding
    selector = window.bilsky_panel.selector.combo
    show_panel(window, window.bilsky_panel)
    choose_in_combo(selector, first.id)
    assert window.finding_focus.current_id() == first.id
    assert window.findings_panel.tree.currentItem().data(0, Qt.UserRole) == first.id
    # selecting a measurement shows its finding
    ctl.select("")
    ctl.select(m.id)
    assert window.finding_focus.current_id() == second.id


def _right_click_menu(view):
    from PySide6.QtWidgets import QMenu

    before = set(view.findChildren(QMenu))
    centre = QPoint(view.width() // 2, view.height() // 2)
    QTest.mousePress(view, Qt.RightButton, Qt.NoModifier, centre)
    QTest.mouseRelease(view, Qt.RightButton, Qt.NoModifier, centre)
    menus = [m for m in view.findChildren(QMenu) if m not in before and m.parent() is view]
    assert len(menus) == 1
    return menus[0]


def test_view_context_menu_offers_a_new_finding_from_the_selected_measurement(window):
    ctl = window.case
    m = ctl.add(_measurement_at(18.0), "Add length")
    ctl.select(m.id)
    view = window.active_view()
    menu = _right_click_menu(view)
    action = next(a for a in menu.actions() if a.text().startswith("New Finding from length"))
    action.trigger()
    menu.close()
    fid = window.finding_focus.current_id()
    assert ctl.case.measurement(m.id).finding_id == fid and ctl.case.finding(fid).levels_text == "T5"
    menu = _right_click_menu(view)  # now it belongs to a finding: a plain "New Finding"
    assert [a.text() for a in menu.actions() if a.text().startswith("New Finding")] == ["New Finding"]
    menu.close()
