"""Reading safety (issue 11): nothing changes a case without the reader knowing.

Driven through the whole main window (every feature installed) with real mouse, wheel and key events
(pytest-qt, offscreen). The series: a small axial CT of patient SAFETY^ONE (20 slices 2.5 mm apart, acquired
head first: InstanceNumber 1 is the most cranial slice) and a second patient's CT for the one-patient rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QScrollArea

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
from tests.dicom_factory import write_series

N_SLICES = 20
PATIENT = ("SAFETY^ONE", "SAFE-1")
OTHER_PATIENT = ("OTHER^TWO", "OTHER-2")


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("safety")
    values = np.full((N_SLICES, 48, 48), -1000, np.int16)
    values[:, 12:36, 12:36] = 40
    # head first: slice positions go from head (S = +25) to feet; InstanceNumber 1 at the head
    write_series(root / "ct", shape=(N_SLICES, 48, 48), spacing=(0.8, 0.8), origin=(-19.0, -19.0, 25.0),
                 step=(0.0, 0.0, -2.5), values=values, description="Ax CT", patient=PATIENT)
    write_series(root / "other", shape=(8, 32, 32), description="Other patient CT", patient=OTHER_PATIENT)
    return {"ct": root / "ct", "other": root / "other"}


@pytest.fixture
def window(qtbot, tmp_path, series):
    from app.main_window import MainWindow
    from app.settings import Settings

    settings = Settings(tmp_path / "settings.ini")
    settings.set_reader_name("reader1")
    w = MainWindow(settings=settings, restore_state=False)
    qtbot.addWidget(w)
    w.set_layout("1x1")
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitSignal(w.volumeLoaded, timeout=30_000):
        w.open_paths([series["ct"]])
    w.wait_until_idle()
    yield w
    w.cancel_loading()
    w.jobs.wait_all(5000)


def show_panel(panel) -> None:
    dock = panel.parentWidget()
    dock.show()
    dock.raise_()
    QTest.qWait(1)


def new_finding(window):
    panel = window.findings_panel
    show_panel(panel)
    QTest.mouseClick(panel.new_button, Qt.LeftButton)
    return window.case.case.finding(window.finding_focus.current_id())


def press(key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.NoModifier) -> None:
    """A key press where the keyboard focus is, as a person's key would arrive."""
    target = QApplication.focusWidget()
    assert target is not None
    QTest.keyClick(target, key, modifiers)


def pointer_over(view) -> None:
    QTest.mouseMove(view, view.rect().center())
    QTest.qWait(1)


def wheel(widget, steps: int, pos: QPoint | None = None) -> None:
    pos = pos or widget.rect().center()
    ev = QWheelEvent(QPointF(pos), QPointF(widget.mapToGlobal(pos)), QPoint(), QPoint(0, 120 * steps),
                     Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def click_radio(button) -> None:
    QTest.mouseClick(button, Qt.LeftButton, Qt.NoModifier, QPoint(8, button.height() // 2))


def case_json(window) -> str:
    """The clinical content of the case (the audit trail aside)."""
    return window.case.case.model_copy(update={"audit": [], "updated_utc": window.case.case.created_utc}
                                       ).model_dump_json()


# -- 1: tool keys never type into a form control that kept the focus -----------------------------------
@pytest.mark.parametrize(("key", "tool"), [(Qt.Key_L, "length"), (Qt.Key_B, "bidirectional")])
def test_tool_key_over_the_image_picks_the_tool_not_a_lesion_type(window, key, tool):
    finding = new_finding(window)
    combo = window.findings_panel.type_combo
    QTest.mouseClick(combo, Qt.LeftButton)  # opens the list...
    QTest.qWait(20)
    press(Qt.Key_Escape)  # ...and closes it: the combo keeps the focus
    assert QApplication.focusWidget() is combo
    before = case_json(window)
    pointer_over(window.active_view())
    press(key)
    assert window.active_tool().name == tool
    assert window.case.case.finding(finding.id).lesion_type is None
    assert case_json(window) == before


def test_letters_arrows_and_wheel_never_change_a_closed_combo(window):
    finding = new_finding(window)
    combo = window.findings_panel.type_combo
    combo.setFocus(Qt.TabFocusReason)
    QTest.mouseMove(combo)  # the pointer on the panel, not on an image
    before = case_json(window)
    for key in (Qt.Key_L, Qt.Key_B, Qt.Key_M, Qt.Key_Down, Qt.Key_Up, Qt.Key_End, Qt.Key_PageDown):
        press(key)
    wheel(combo, -1)
    wheel(combo, 2)
    assert window.case.case.finding(finding.id).lesion_type is None
    assert case_json(window) == before
    assert combo.currentIndex() == 0


def test_arrow_keys_never_move_a_sins_answer(window):
    finding = new_finding(window)
    sins = window.sins_panel
    show_panel(sins)
    click_radio(sins.choice_button("pain", "MECHANICAL"))
    assert window.case.case.finding(finding.id).sins.pain == "MECHANICAL"
    before = case_json(window)
    QTest.mouseMove(sins)  # pointer on the panel: the arrow keys stay there
    for key in (Qt.Key_Down, Qt.Key_Down, Qt.Key_Up, Qt.Key_Right, Qt.Key_Left):
        press(key)
    assert case_json(window) == before
    # the arrows moved the focus only (net one answer down); Space on it is a deliberate choice
    focused = QApplication.focusWidget()
    assert focused is sins.choice_button("pain", "OCCASIONAL_NON_MECHANICAL")
    press(Qt.Key_Space)
    assert window.case.case.finding(finding.id).sins.pain == "OCCASIONAL_NON_MECHANICAL"


def test_slice_keys_over_the_image_scroll_it_when_a_sins_answer_has_the_focus(window):
    new_finding(window)
    sins = window.sins_panel
    show_panel(sins)
    click_radio(sins.choice_button("collapse", "NONE"))
    view = window.active_view()
    k = view.slice_index()
    before = case_json(window)
    pointer_over(view)
    press(Qt.Key_Down)
    press(Qt.Key_Down)
    assert view.slice_index() != k
    assert case_json(window) == before


def test_keys_work_at_start_up_without_a_click(window):
    assert QApplication.activeWindow() is window
    assert QApplication.focusWidget() is window.active_view()
    press(Qt.Key_L)
    assert window.active_tool().name == "length"


# -- 8: nothing in the SINS form moves while it is being filled ----------------------------------------
def test_sins_answers_stay_under_the_pointer_while_the_form_is_filled(window):
    finding = new_finding(window)
    sins = window.sins_panel
    show_panel(sins)
    window.findings_panel.parentWidget().hide()  # a short dock: the form scrolls, as on a laptop
    sins.parentWidget().show()
    answers = {"location": "JUNCTIONAL", "pain": "MECHANICAL", "bone_lesion": "LYTIC",
               "alignment": "DE_NOVO_DEFORMITY", "collapse": "UNDER_50_PERCENT", "posterolateral": "BILATERAL"}
    buttons = [b for field in answers for b in sins._buttons[field].values()]

    def positions() -> list[tuple[int, int]]:
        return [(b.mapTo(sins, QPoint(0, 0)).x(), b.mapTo(sins, QPoint(0, 0)).y()) for b in buttons]

    scroll = sins.findChild(QScrollArea)
    for field, name in answers.items():  # down the list, as a reader fills it
        button = sins.choice_button(field, name)
        scroll.ensureWidgetVisible(button)
        before = positions()
        click_radio(button)
        QTest.qWait(1)
        assert positions() == before, f"the form moved when {field} was answered"
    stored = window.case.case.finding(finding.id).sins
    assert stored.location_override == "JUNCTIONAL"
    assert (stored.pain, stored.bone_lesion, stored.alignment, stored.collapse, stored.posterolateral) == (
        "MECHANICAL", "LYTIC", "DE_NOVO_DEFORMITY", "UNDER_50_PERCENT", "BILATERAL")
    assert "to answer" not in sins._boxes["pain"].title()
