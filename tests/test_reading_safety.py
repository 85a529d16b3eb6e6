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
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget

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
    w.explicit_layout = True  # one view, as `spinecase open --layout 1x1`: no hanging protocol rearranges it
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


# -- 3: measurements never silently join a finding; dimensions come from marked measurements -------------
def drag(view, a, b, steps: int = 6) -> None:
    """A left-button drag between two display positions (pixels of the plane shown)."""
    pa, pb = view.display_to_widget(a), view.display_to_widget(b)
    pa, pb = QPoint(round(pa.x()), round(pa.y())), QPoint(round(pb.x()), round(pb.y()))
    QTest.mousePress(view, Qt.LeftButton, Qt.NoModifier, pa)
    for i in range(1, steps + 1):
        p = pa + (pb - pa) * (i / steps)
        QTest.mouseMove(view, QPoint(round(p.x()), round(p.y())))
    QTest.mouseRelease(view, Qt.LeftButton, Qt.NoModifier, pb)


def context_menu_at(view, xy):
    """Right-click a display position; the view's context menu that opens."""
    from PySide6.QtWidgets import QMenu

    p = view.display_to_widget(xy)
    QTest.mouseClick(view, Qt.RightButton, Qt.NoModifier, QPoint(round(p.x()), round(p.y())))
    menus = [m for m in view.findChildren(QMenu) if m.isVisible()]
    assert menus, "no context menu opened"
    return menus[-1]


def open_case_with_a_measured_finding(window):
    """As after File > Open Case: a case whose finding has a bidirectional and a CC extent marked as its
    dimensions (the first finding is shown, nobody chose it)."""
    from imaging.case.analysis import measurement_from_drawing
    from imaging.case.model import Case, Finding

    view = window.active_view()
    vol, g = view.volume(), view.plane_geometry()
    case = Case()
    f = Finding(label="T5-T6 primary DDLPS")
    case.add(f)
    pts = [g.to_lps(p) for p in ((10.0, 24.0), (38.0, 24.0), (24.0, 14.0), (24.0, 34.0))]
    bi = measurement_from_drawing("bidirectional", pts, vol, g, slice_index=view.slice_index(), acquired=True,
                                  label="reference", finding_id=f.id).model_copy(update={"finding_dimension": True})
    case.add(bi)
    cc_pts = [g.to_lps((24.0, 24.0)) + [0, 0, 10.0], g.to_lps((24.0, 24.0)) - [0, 0, 10.0]]
    cc = measurement_from_drawing("cc_extent", cc_pts, vol, g, orientation="sagittal",
                                  finding_id=f.id).model_copy(update={"finding_dimension": True})
    case.add(cc)
    window.case.set_case(case)
    return f, bi


def test_a_new_measurement_never_joins_the_finding_shown_after_opening(window):
    from imaging.case.analysis import lesion_dimensions

    finding, reference = open_case_with_a_measured_finding(window)
    assert window.finding_focus.current_id() == finding.id  # shown...
    before = lesion_dimensions(window.case.case, finding.id)
    view = window.active_view()
    pointer_over(view)
    press(Qt.Key_B)
    drag(view, (6.0, 6.0), (40.0, 40.0))  # a much larger bidirectional anywhere
    new = window.case.case.measurements[-1]
    assert new.kind == "bidirectional" and new.finding_id is None  # ...not chosen: nothing joins
    assert new.label == "Bidirectional 2"  # new measurements get a name (the case has one bidirectional)
    assert lesion_dimensions(window.case.case, finding.id) == before
    assert window.undo_stack.undoText() == "Add bidirectional"


def test_joining_a_chosen_finding_is_visible_and_dimensions_change_only_when_marked(window):
    from imaging.case.analysis import lesion_dimensions

    finding, reference = open_case_with_a_measured_finding(window)
    fp = window.findings_panel
    show_panel(fp)
    item = fp.tree.topLevelItem(0)
    QTest.mouseClick(fp.tree.viewport(), Qt.LeftButton, Qt.NoModifier, fp.tree.visualItemRect(item).center())
    assert window.finding_focus.active_finding_id() == finding.id  # chosen: attaching is on
    assert "T5-T6 primary DDLPS" in fp.attach_box.text()
    before = lesion_dimensions(window.case.case, finding.id)
    view = window.active_view()
    pointer_over(view)
    press(Qt.Key_B)
    drag(view, (6.0, 6.0), (40.0, 40.0))
    new = window.case.case.measurements[-1]
    assert new.finding_id == finding.id and not new.finding_dimension
    assert window.undo_stack.undoText() == "Add bidirectional to T5-T6 primary DDLPS"
    assert "T5-T6 primary DDLPS" in window.statusBar().currentMessage()
    shape = window.measure.overlay.shape_of(view, new.id)
    assert shape is not None and shape.label[0] == "Bidirectional 2 \u00b7 T5-T6 primary DDLPS"
    assert lesion_dimensions(window.case.case, finding.id) == before  # joined, not its dimensions
    # the reader marks it as the finding's dimensions: one undo step, the old one unmarked
    press(Qt.Key_Escape)  # back to Navigate
    menu = context_menu_at(view, (23.0, 23.0))
    action = next(a for a in menu.actions() if a.objectName() == "measurement_dimension")
    assert action.text() == "Use as AP x LR Dimensions of T5-T6 primary DDLPS" and not action.isChecked()
    action.trigger()
    menu.close()
    case = window.case.case
    assert case.measurement(new.id).finding_dimension and not case.measurement(reference.id).finding_dimension
    after = lesion_dimensions(case, finding.id)
    assert after is not None and after.bidirectional_id == new.id and after.long_axis > before.long_axis
    assert window.undo_stack.undoText() == "Use bidirectional as dimensions of T5-T6 primary DDLPS"
    window.undo_stack.undo()
    assert lesion_dimensions(window.case.case, finding.id) == before


# -- 5: a bidirectional stores and exports its long axis first -----------------------------------------
def test_bidirectional_long_axis_comes_first_after_the_short_axis_is_dragged_past_it(window, tmp_path):
    import csv
    import json as _json

    view = window.active_view()
    pointer_over(view)
    press(Qt.Key_B)
    drag(view, (14.0, 24.0), (34.0, 24.0))  # long axis 20 px along x; short axis 10 px across
    m = window.case.case.measurements[-1]
    press(Qt.Key_Escape)
    g = view.plane_geometry()
    short_end = g.from_lps(np.asarray(m.points[3]))[:2]
    direction = np.sign(short_end[1] - 24.0) or 1.0
    drag(view, tuple(short_end), (short_end[0], 24.0 + direction * 20.0))  # the short axis grows past the long
    m = window.case.case.measurement(m.id)
    p = np.asarray(m.points)
    first, second = np.linalg.norm(p[1] - p[0]), np.linalg.norm(p[3] - p[2])
    assert first > second  # stored long axis first
    assert m.value("long_axis").value == pytest.approx(first)
    out = tmp_path / "m.csv"
    assert window.case_feature.export("csv", out) == out.absolute()
    rows = [r for r in csv.DictReader(out.open(encoding="utf-8")) if r["measurement_id"] == m.id]
    long_row = next(r for r in rows if r["measurement_type"] == "bidirectional.long_axis")
    pts = np.asarray(_json.loads(long_row["points_lps"]))
    assert float(long_row["value"]) == pytest.approx(np.linalg.norm(pts[1] - pts[0]))


# -- 16: spine map labels never overlap ---------------------------------------------------------------------
def test_spine_map_finding_labels_never_overlap_at_any_height(qtbot):
    from PySide6.QtGui import QUndoStack

    from imaging.case.model import Case, Finding, LevelInvolvement
    from widgets.case_controller import CaseController
    from widgets.spine_map import SpineMapWidget

    case = Case()
    for name, a, b in (("L2 marrow lesion", "L2", "L2"), ("L3 marrow lesion", "L3", "L3"),
                       ("L4 marrow lesion", "L4", "L4"), ("L5 marrow lesion", "L5", "L5"),
                       ("T12-L1 lesion with a long name that wraps", "T12", "L1"), ("S1 lesion", "S1", "S1")):
        case.add(Finding(label=name, level_from=a, level_to=b, levels_auto=False, bilsky={"grade": "1b"},
                         involvement=[LevelInvolvement(level=a, sectors=["vertebral_body"])],
                         sins={"pain": "MECHANICAL", "bone_lesion": "LYTIC", "alignment": "NORMAL",
                               "collapse": "NONE", "posterolateral": "NONE"}))
    ctl = CaseController(QUndoStack(), case)
    w = SpineMapWidget(ctl)
    qtbot.addWidget(w)
    w.show()
    for height in range(w.minimumHeight(), 1400, 37):
        for width in (240, 300, 420):
            w.resize(width, height)
            w.grab()  # paints: lays the labels out
            rects = [r for r, _fid in w._finding_rects]
            hidden = getattr(w, "_hidden_labels", [])  # named in the footer when there is no room at all
            assert len(rects) + len(hidden) == len(case.findings)
            for i, a in enumerate(rects):
                assert a.top() >= 0 and a.bottom() <= w._layout().footer_y + 1, (width, height)
                for b in rects[i + 1:]:
                    assert not a.intersects(b), (width, height, a, b)
            if height >= 500:
                assert not hidden


# -- 17: the occiput/clivus (C0) is a site above C1 ---------------------------------------------------------
def test_occiput_is_accepted_as_a_site_above_c1_and_shown_on_the_spine_map(window):
    from imaging.spine.levels import level_above, sins_location_points

    finding = new_finding(window)
    fp = window.findings_panel
    QTest.mouseClick(fp.levels_edit, Qt.LeftButton)
    QTest.keyClicks(fp.levels_edit, "occiput-C2")
    QTest.keyClick(fp.levels_edit, Qt.Key_Return)
    f = window.case.case.finding(finding.id)
    assert (f.level_from, f.level_to) == ("C0", "C2") and not fp.levels_error.isVisible()
    assert sins_location_points(f.level_range) == 3  # junctional occiput-C2 (Fisher et al., Spine 2010)
    assert level_above("C1") is None  # a walk from vertebra to vertebra never reaches the occiput
    spine_map = window.levels_feature.map
    assert spine_map.model.levels[0].label == "C0"
    assert spine_map.model.findings_at("C0")[0].finding_id == finding.id
    assert spine_map.model.tooltip("C0").startswith("Occiput (C0)")
    assert "Occiput (C0)" in spine_map.model.findings[0].levels_text


# -- 6: crash recovery asks once ---------------------------------------------------------------------------
def test_recovery_after_a_crash_is_asked_once_when_the_case_is_opened_from_the_command_line(qtbot, tmp_path):
    import socket

    from PySide6.QtCore import QTimer

    from imaging.case.store import LockInfo, lock_path, recovery_path
    from tests.test_case_gui import close_quietly, dead_pid, make_window, open_and_wait, saved_case

    case, path = saved_case(tmp_path)
    w1, f1 = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, w1, path)
    w1.case.update(case.findings[0].id, text="Rename finding", label="edited before the crash")
    f1.clock.t += 5
    assert f1.autosave_tick() == recovery_path(path)
    f1.document.lock.released = True  # kill -9: the lock stays, its process is gone
    lock_path(path).write_bytes(LockInfo(dead_pid(), socket.gethostname(), "me", "x").to_json())
    f1.document = None
    w1.close_guards.clear()
    w1.aboutToClose.disconnect()
    close_quietly(w1)
    w1.close()

    w2, f2 = make_window(qtbot, tmp_path)  # `spinecase open CASE` again: start-up offer + the named case
    try:
        f2.prompts.answers["recover"] = "recover"
        QTimer.singleShot(0, f2.offer_startup_recovery)  # as install() schedules it
        with qtbot.waitSignal(w2.volumeLoaded, timeout=30_000):
            w2.open_paths([str(path)])
        qtbot.wait(20)  # the start-up offer runs
        assert [name for name, _ in f2.prompts.asked] == ["recover"]
        assert not any("already open" in text for _level, text in w2.message_bar.messages())
        assert w2.case.case.finding(case.findings[0].id).label == "edited before the crash"
    finally:
        close_quietly(w2)


# -- 7: a bundled sample is a read-only reference ------------------------------------------------------
def test_opening_a_bundled_sample_works_on_a_copy_and_ctrl_s_never_touches_sample_dicoms(qtbot, tmp_path):
    import hashlib

    from app.feature_case import BUNDLED_SAMPLES
    from imaging.case.store import load_case
    from tests.test_case_gui import close_quietly, make_window

    sample_case = BUNDLED_SAMPLES / "retroperitoneal_ddlps" / "case.spinecase.json"
    if not sample_case.is_file():
        pytest.skip("the sample cases are not generated")

    def snapshot() -> dict[str, tuple[int, int, str]]:
        return {str(f.relative_to(BUNDLED_SAMPLES)): (f.stat().st_size, f.stat().st_mtime_ns,
                                                      hashlib.sha256(f.read_bytes()).hexdigest()
                                                      if f.suffix == ".json" else "")
                for f in BUNDLED_SAMPLES.rglob("*") if f.is_file()}

    before = snapshot()
    w, f = make_window(qtbot, tmp_path)
    try:
        w.show()
        qtbot.waitExposed(w)
        with qtbot.waitSignal(w.volumeLoaded, timeout=60_000):
            w.open_paths([str(sample_case)])
        w.wait_until_idle()
        copy = tmp_path / "samples" / "retroperitoneal_ddlps" / "case.spinecase.json"
        assert f.path == copy.absolute()
        assert any(str(copy.parent) in text for _level, text in w.message_bar.messages())  # says where
        fid = w.case.case.findings[0].id
        w.case.update(fid, text="Rename finding", label="edited by the reader")
        w.activateWindow()
        QTest.keyClick(w.active_view(), Qt.Key_S, Qt.ControlModifier)  # Save
        assert load_case(copy).finding(fid).label == "edited by the reader"
        assert not w.isWindowModified()
        assert snapshot() == before  # no lock, recovery file, backup or edit in sample_dicoms/
    finally:
        close_quietly(w)
    assert snapshot() == before


# -- 4: one case is one patient ------------------------------------------------------------------------
def ask_like_a_person(window, **answers):
    from tests.test_case_gui import FakePrompts

    feature = window.case_feature
    feature.prompts = FakePrompts()
    feature.prompts.answers.update(answers)
    feature.interactive = True
    return feature.prompts


def test_a_case_holds_one_patient_and_another_patients_series_is_refused_with_a_clear_message(window, series,
                                                                                               tmp_path):
    import csv

    from imaging.case.store import load_case

    view = window.active_view()
    pointer_over(view)
    press(Qt.Key_L)
    drag(view, (10.0, 10.0), (30.0, 30.0))
    assert window.case.case.patient.id == "SAFE-1"  # the first annotation says who the case is
    assert window.undo_stack.undoText() == "Add length"  # one step: undo takes the patient back too
    prompts = ask_like_a_person(window, other_patient="view")
    window.open_paths([series["other"]])
    window.wait_until_idle()
    assert [name for name, _ in prompts.asked] == ["other_patient"]
    assert "OTHER, TWO (ID OTHER-2)" in prompts.asked[0][1] and "one patient" in prompts.asked[0][1]
    window.load_series_key(next(i.key for i in window.series_infos() if i.patient_id == "OTHER-2"))
    window.wait_until_idle()
    view = window.active_view()
    assert view.volume().metadata.patient_id == "OTHER-2"
    before = case_json(window)
    pointer_over(view)
    press(Qt.Key_L)
    drag(view, (5.0, 5.0), (20.0, 20.0))
    assert case_json(window) == before  # refused...
    assert "another patient" in window.statusBar().currentMessage() + " ".join(
        t for _lv, t in window.message_bar.messages())  # ...saying why
    out = tmp_path / "case.spinecase.json"
    assert window.case_feature.save_as(out)
    saved = load_case(out)
    assert saved.patient.id == "SAFE-1" and len(saved.studies) == 1 and len(saved.series) == 1
    assert window.case_feature.export("csv", tmp_path / "m.csv") is not None
    rows = list(csv.DictReader((tmp_path / "m.csv").open(encoding="utf-8")))
    assert rows and {r["patient_id"] for r in rows} == {"SAFE-1"}


def test_opening_another_patient_offers_to_close_the_case_first(window, series):
    view = window.active_view()
    pointer_over(view)
    press(Qt.Key_L)
    drag(view, (10.0, 10.0), (30.0, 30.0))
    prompts = ask_like_a_person(window, other_patient="close", save_changes="discard")
    window.open_paths([series["other"]])
    window.wait_until_idle()
    assert [name for name, _ in prompts.asked] == ["other_patient", "save_changes"]
    assert window.case.case.measurements == [] and not window.case.case.patient.id  # a new, empty case


# -- 20: the reader is asked once, shown, changeable and recorded on every edit ---------------------------
def test_the_reader_is_asked_for_kept_shown_and_recorded_with_every_edit(qtbot, tmp_path, series):
    from app.main_window import MainWindow
    from app.settings import Settings

    settings = Settings(tmp_path / "settings.ini")
    assert settings.reader_name() == ""  # never the login name
    w = MainWindow(settings=settings, restore_state=False)
    qtbot.addWidget(w)
    w.set_layout("1x1")
    w.show()
    qtbot.waitExposed(w)
    assert w.case.reader == "" and "not set" in w.reader_button.text()
    asked: list[str] = []
    w.reader_prompt = lambda title, text, current: (asked.append(title) or ("  Dr  Jane Roe ", True))
    QTest.mouseClick(w.reader_button, Qt.LeftButton)  # the status bar's reader: click to set
    assert asked == ["Who is reading?"]
    assert w.reader_button.text() == "Reader: Dr Jane Roe" and Settings(tmp_path / "settings.ini").reader_name() == \
        "Dr Jane Roe"
    with qtbot.waitSignal(w.volumeLoaded, timeout=30_000):
        w.open_paths([series["ct"]])
    w.wait_until_idle()
    view = w.active_view()
    pointer_over(view)
    press(Qt.Key_L)
    drag(view, (10.0, 10.0), (30.0, 30.0))
    m = w.case.case.measurements[-1]
    assert m.reader == "Dr Jane Roe"
    assert w.case.case.audit[-1].who == "Dr Jane Roe"

    other = MainWindow(settings=Settings(tmp_path / "settings.ini"), restore_state=False, install_features=False)
    qtbot.addWidget(other)
    other.reader_prompt = lambda *_a: pytest.fail("asked again although the name is kept")
    other.ensure_reader()
    assert other.reader_button.text() == "Reader: Dr Jane Roe"


# -- 10: image numbers are the DICOM InstanceNumber; wheel down is the next image in the series' order ------
def test_image_numbers_are_instance_numbers_and_wheel_down_goes_on_in_the_series_order(window, tmp_path):
    import csv

    view = window.active_view()
    assert view.orientation() == "axial" and view.plane_spec().is_acquired
    pointer_over(view)
    press(Qt.Key_Home)  # the first image of the series: InstanceNumber 1, at the head (S +25)
    assert view.image_number_text() == f"Im 1/{N_SLICES}"
    assert view.plane_geometry().origin[2] == pytest.approx(25.0)
    wheel(view, -1)  # wheel down (towards the reader): the next image, towards the feet (OHIF, Weasis)
    assert view.image_number_text() == f"Im 2/{N_SLICES}"
    assert view.plane_geometry().origin[2] == pytest.approx(22.5)
    press(Qt.Key_Down)
    press(Qt.Key_Down)
    assert view.image_number_text() == f"Im 4/{N_SLICES}" and view.plane_geometry().origin[2] == pytest.approx(17.5)
    press(Qt.Key_L)
    drag(view, (10.0, 10.0), (30.0, 30.0))
    m = window.case.case.measurements[-1]
    assert m.instance_number == 4
    panel = window.measure.panel
    panel.refresh()
    assert panel.item_for(m.id).text(4) == "Ax Im 4"  # the measurement list cites it
    out = tmp_path / "m.csv"
    assert window.case_feature.export("csv", out) is not None
    row = next(csv.DictReader(out.open(encoding="utf-8")))
    assert row["instance_number"] == "4" and float(row["slice_position_mm"]) == pytest.approx(17.5)
    html = window.case_feature.export("html", tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Im 4, S 17.5 mm" in html  # the report too


# -- 11: no orientation letters where the orientation is unknown ------------------------------------------
def test_no_orientation_letters_without_image_orientation_and_the_status_says_why(window, qtbot, tmp_path):
    import shutil

    pydicom_data = pytest.importorskip("pydicom.data")
    folder = tmp_path / "emri"
    folder.mkdir()
    shutil.copy(pydicom_data.get_testdata_file("emri_small.dcm"), folder / "emri_small.dcm")
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000):
        window.open_paths([folder])
    window.wait_until_idle()
    view = window.active_view()
    assert not view.volume().orientation_known
    painted: list[dict] = []
    from widgets.overlays import OrientationOverlay

    original = OrientationOverlay.letters
    OrientationOverlay.letters = staticmethod(lambda ctx: painted.append(original(ctx)) or original(ctx))
    try:
        view.grab()
    finally:
        OrientationOverlay.letters = staticmethod(original)
    assert painted == []  # no letters drawn
    assert "Orientation unknown" in window.hover_label.text()
    QTest.mouseMove(view, view.rect().center())
    assert "orientation unknown" in window.hover_label.text() and "LPS" not in window.hover_label.text()


# -- 12: a message belongs to what it is about and leaves with it; one line, never a stack --------------
def test_a_series_warning_leaves_with_its_series_and_messages_never_stack(window, qtbot, tmp_path):
    holes = tmp_path / "holes"
    write_series(holes, shape=(8, 24, 24), drop=(3,), description="CT with a missing slice", patient=PATIENT)
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000):
        window.open_paths([holes])
    window.wait_until_idle()
    bar = window.message_bar
    warning = next(t for lv, t in bar.messages() if "CT with a missing slice" in t)
    assert bar.shown()[1] == warning
    for i in range(3):  # more messages: still one line above the views
        window.show_message(f"note {i}", "info")
    assert len([w for w in bar.findChildren(QWidget, "MessageBarItem") if w.isVisible()]) == 1
    assert bar.height() < 60
    ct_key = next(i.key for i in window.series_infos() if i.description == "Ax CT")
    window.load_series_key(ct_key)  # another series on screen: its warning steps back
    window.wait_until_idle()
    assert all("CT with a missing slice" not in t for _lv, t in bar.messages())
    holes_key = next(i.key for i in window.series_infos() if i.description == "CT with a missing slice")
    window.load_series_key(holes_key)  # ...and comes back with it
    window.wait_until_idle()
    assert any("CT with a missing slice" in t for _lv, t in bar.messages())
    bar.clear_scope("action:levels")  # an action clears its own messages
    window.show_message("Type the level of this vertebra, then press Enter", "info", scope="action:levels")
    bar.clear_scope("action:levels")
    assert all("Type the level" not in t for _lv, t in bar.messages())


# -- 15: the PDF report's footer is small, whole and apart from the page number on every page ------------
def test_pdf_report_footer_on_every_page_rendered_by_pdftoppm(tmp_path):
    import shutil
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    from imaging.case.store import save_case
    from tests.test_case_factory import make_case_with_series

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: .ci/system-packages test installs it")
    case, path = make_case_with_series(tmp_path, n_extra=40)  # enough measurements for several pages
    save_case(case, path)
    pdf = tmp_path / "report.pdf"
    run = subprocess.run([sys.executable, "-m", "app.cli", "export", str(path), "--report", str(pdf)],
                         capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert run.returncode == 0, run.stderr
    dpi = 100
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    mm = dpi / 25.4
    for page in pages:
        img = QImage(str(page)).convertToFormat(QImage.Format.Format_Grayscale8)
        w, h = img.width(), img.height()
        arr = np.frombuffer(img.constBits(), np.uint8, img.bytesPerLine() * h).reshape(h, -1)[:, :w]
        band = arr[h - round(18 * mm):, :]  # the bottom margin and the footer
        ink_rows = np.nonzero((band < 200).any(axis=1))[0]
        assert ink_rows.size, f"{page.name}: no footer"
        assert ink_rows[-1] < band.shape[0] - round(5 * mm), f"{page.name}: the footer runs into the page edge"
        text_rows = ink_rows[ink_rows > ink_rows[0] + 2]  # below the rule
        assert (text_rows[-1] - text_rows[0]) < 4.5 * mm, f"{page.name}: the footer text is too large"
        cols = np.nonzero((band[text_rows[0]:text_rows[-1] + 1] < 200).any(axis=0))[0]
        gaps = np.diff(cols)
        assert gaps.max() > 20 * mm, f"{page.name}: the footer text runs into the page number"
        assert cols[-1] < w - round(10 * mm), f"{page.name}: the page number is cut off"


# -- friction: preset names, series loaded on demand, the cursor ring ----------------------------------
def test_preset_name_is_the_same_at_load_and_on_its_key(window):
    view = window.active_view()
    assert view.window_level().label().endswith("(Soft tissue)")  # the file's 40/400 is the viewer's preset
    pointer_over(view)
    press(Qt.Key_2)
    press(Qt.Key_1)
    assert view.window_level().label().endswith("(Soft tissue)")


def test_showing_a_measurement_of_a_series_not_loaded_loads_it(window, qtbot, tmp_path):
    from imaging.case.analysis import measurement_from_drawing
    from imaging.dicom.load import load_series
    from imaging.dicom.scan import scan_series
    from imaging.display import plane_spec

    root = tmp_path / "study"
    write_series(root / "a", shape=(10, 24, 24), description="Series A", patient=PATIENT)
    write_series(root / "b", shape=(6, 24, 24), description="Series B", patient=PATIENT)
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000):
        window.open_paths([root], series="Series A")
    window.wait_until_idle()
    other = next(i for i in scan_series(root / "b"))
    vol_b = load_series(other)  # a measurement recorded on series B (e.g. in a case opened earlier)
    pts = [vol_b.index_to_lps((4.0, 4.0, 2.0)), vol_b.index_to_lps((12.0, 9.0, 2.0))]
    spec = plane_spec(vol_b, "axial")
    k = spec.nearest_slice(pts[0])
    m = measurement_from_drawing("length", pts, vol_b, spec.geometry(k), acquired=True, slice_index=k, label="on B")
    window.case.add(m)
    assert all(v.metadata.series_description != "Series B" for v in window.volumes().values())
    panel = window.measure.panel
    show_panel(panel)
    panel.refresh()
    row = panel.item_for(m.id)
    with qtbot.waitSignal(window.seriesShown, timeout=30_000):
        QTest.mouseClick(panel.tree.viewport(), Qt.LeftButton, Qt.NoModifier,
                         panel.tree.visualItemRect(row).center())
    qtbot.waitUntil(lambda: window.active_view().volume() is not None
                    and window.active_view().volume().metadata.series_description == "Series B", timeout=5000)
    assert m.id in window.measure.overlay.shown_ids(window.active_view())


def test_the_mpr_cursor_ring_can_be_hidden_and_stays_hidden(window, tmp_path):
    from app.main_window import MainWindow

    action = window.findChild(type(window.act_cursor), "action_show_cursor")
    assert action.isChecked() and all(v.show_cursor for v in window.grid.views)
    action.trigger()
    assert not any(v.show_cursor for v in window.grid.views)
    again = MainWindow(settings=window.settings, restore_state=False, install_features=False)
    assert not again.act_cursor.isChecked() and not again.grid.views[0].show_cursor
    again.deleteLater()


# -- the rule, checked everywhere: no key changes the case, whatever panel control has the focus --------
# Keys that ARE an explicit, named, undoable edit or command where they are pressed, left out of the sweep:
# Delete/Backspace (delete the selection), F2 (rename), Space/Enter (press the focused control), Ctrl+Z/Y
# (undo/redo), Ctrl+Alt+B (accept the suggested grade), Ctrl+S/N/O... (file commands), Alt+letters (menus).
EXPLICIT = {"Del", "Backspace", "F2", "Space", "Return", "Enter", "Tab", "Backtab", "Ctrl+Z", "Ctrl+Y",
            "Ctrl+Shift+Z", "Ctrl+Alt+B", "Ctrl+S", "Ctrl+Shift+S", "Ctrl+N", "Ctrl+O", "Ctrl+Shift+O", "Ctrl+Q",
            "Ctrl+Shift+D"}


def sweep_keys(window) -> list[tuple[int, Qt.KeyboardModifier]]:
    from PySide6.QtGui import QAction, QKeySequence

    keys = [(k, Qt.NoModifier) for k in range(Qt.Key_A, Qt.Key_Z + 1)]
    keys += [(k, Qt.NoModifier) for k in range(Qt.Key_0, Qt.Key_9 + 1)]
    keys += [(k, Qt.NoModifier) for k in (Qt.Key_Up, Qt.Key_Down, Qt.Key_Left, Qt.Key_Right, Qt.Key_PageUp,
                                          Qt.Key_PageDown, Qt.Key_Home, Qt.Key_End, Qt.Key_BracketLeft,
                                          Qt.Key_BracketRight, Qt.Key_Minus, Qt.Key_Plus)]
    for action in window.findChildren(QAction):
        for seq in action.shortcuts():
            text = seq.toString(QKeySequence.PortableText)
            if text and text not in EXPLICIT and seq.count() == 1:
                combo = seq[0]
                keys.append((combo.key(), combo.keyboardModifiers()))
    keys.append((Qt.Key_Escape, Qt.NoModifier))
    return list(dict.fromkeys(keys))


def full_case(window):
    """A case with a finding holding every kind of clinical data, a measurement and labels."""
    from imaging.case.model import BilskyAssessment, Finding, LevelInvolvement, SinsAssessment, VertebralLabel

    ctl = window.case
    for label, s in (("T5", 20.0), ("T6", 0.0), ("T7", -20.0)):
        ctl.add(VertebralLabel(label=label, centre=(0.0, 0.0, s)))
    f = ctl.add(Finding(label="Lesion 1", level_from="T5", level_to="T6", levels_auto=False, lesion_type="lytic",
                        involvement=[LevelInvolvement(level="T5", sectors=["vertebral_body", "left_pedicle"])],
                        bilsky=BilskyAssessment(grade="2", level="T6"),
                        sins=SinsAssessment(pain="MECHANICAL", bone_lesion="LYTIC", collapse="NONE")))
    view = window.active_view()
    pointer_over(view)
    press(Qt.Key_B)
    drag(view, (10.0, 20.0), (36.0, 24.0))
    ctl.select("")
    press(Qt.Key_Escape)
    return f


def test_no_key_changes_the_case_whatever_panel_control_has_the_focus(window):
    from PySide6.QtWidgets import QDockWidget

    from widgets.deliberate_input import is_text_entry

    full_case(window)
    before = case_json(window)
    keys = sweep_keys(window)
    assert (Qt.Key_L, Qt.NoModifier) in keys and (Qt.Key_A, Qt.ShiftModifier) in keys
    view = window.active_view()
    checked = 0
    for dock in window.findChildren(QDockWidget):
        dock.show()
        dock.raise_()
        QTest.qWait(1)
        controls = [w for w in dock.widget().findChildren(QWidget)
                    if w.isVisible() and w.isEnabled() and w.focusPolicy() != Qt.NoFocus and not is_text_entry(w)
                    and not isinstance(w.parentWidget(), QScrollArea)]
        for control in controls:
            for pointer in (control, view):  # the pointer resting on the panel, then on the image
                QTest.mouseMove(pointer, pointer.rect().center())
                control.setFocus(Qt.MouseFocusReason)
                for key, mods in keys:
                    target = QApplication.focusWidget() or control
                    QTest.keyClick(target, key, mods)
                where = "pointer on the image" if pointer is view else "pointer on the panel"
                assert case_json(window) == before, (dock.windowTitle(), control.objectName(), type(control), where)
                window.set_tool("navigate")
                checked += 1
    assert checked >= 20
