"""The reading workflow driven through the real window with real mouse, wheel and key events (pytest-qt):
hanging protocols on the thoracic sample case, linked navigation by patient position, by vertebral level and
by a reader's offset, the link toggle, cine, maximise, flip/rotate, next series, single-click thumbnails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround

THORACIC = Path(__file__).resolve().parents[1] / "sample_dicoms" / "thoracic_ddlps"
TRUTH = json.loads((THORACIC / "truth.json").read_text())
CENTRES = {v["label"]: np.asarray(v["centroid_lps"]) for v in TRUTH["vertebrae"]}
# The post-operative study as if the patient lay elsewhere on the table: 37 mm lower, 6 mm more anterior.
POSTOP_SHIFT = np.array([0.0, -6.0, -37.0])


@pytest.fixture
def window(qtbot, tmp_path):
    from app.main_window import MainWindow
    from app.settings import Settings

    w = MainWindow(settings=Settings(tmp_path / "settings.ini"), restore_state=False)
    qtbot.addWidget(w)
    w.resize(1500, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.cancel_loading()
    w.jobs.wait_all(5000)
    w.case.undo_stack.setClean()


def open_and_wait(window, paths) -> None:  # noqa: ANN001
    window.open_paths([str(p) for p in paths])
    assert window.wait_until_idle(120)
    QApplication.processEvents()


def shown(window) -> list[tuple[str | None, str | None, str]]:  # noqa: ANN001
    out = []
    for v in window.grid.layout_views():
        md = v.volume().metadata if v.volume() is not None else None
        out.append((md.series_description if md else None, md.study_date if md else None, v.orientation()))
    return out


def wheel(widget, steps: int) -> None:  # noqa: ANN001
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    ev = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * steps), Qt.NoButton,
                     Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def shift_click(view, lps) -> None:  # noqa: ANN001
    p = view.lps_to_widget(np.asarray(lps, dtype=float))
    QTest.mouseClick(view, Qt.LeftButton, Qt.ShiftModifier, QPoint(round(p.x()), round(p.y())))


def plane_distance(view, lps) -> float:  # noqa: ANN001
    """Distance (mm) of an LPS point from the plane ``view`` shows."""
    g = view.plane_geometry()
    return abs(float((np.asarray(lps, dtype=float) - g.origin) @ g.normal))


def view_of(window, description: str, date: str):  # noqa: ANN001, ANN201
    return next(v for v in window.grid.layout_views()
                if v.volume() is not None and v.volume().metadata.series_description == description
                and v.volume().metadata.study_date == date)


# ---------------------------------------------------------------------------------------------------------
def test_thoracic_folder_hangs_sag_t2_sag_t1_ax_t2_and_the_views_follow_the_sagittal(window, qtbot) -> None:
    open_and_wait(window, [THORACIC])
    assert window.grid.layout_name() == "1x3"
    assert shown(window) == [("Sag T2 TSE", "20240108", "sagittal"), ("Sag T1 TSE", "20240108", "sagittal"),
                             ("Ax T2 TSE", "20240108", "axial")]
    assert window.reading.protocol_actions["spine-mr"].isChecked()
    sag_t2, sag_t1, ax_t2 = window.grid.layout_views()
    assert [window.grid.frame(v).header.link_button.text() for v in (sag_t2, sag_t1, ax_t2)] == ["Linked"] * 3
    assert ax_t2.plane_spec().is_acquired  # the real axial series, never a reformat of a sagittal one

    # the reader puts the cursor on T5 in the sagittal T2: the axial T2 goes to that level
    shift_click(sag_t2, CENTRES["T5"])
    cursor = window.grid.mpr.cursor
    assert abs(cursor[2] - CENTRES["T5"][2]) < 1.0
    assert plane_distance(ax_t2, cursor) <= ax_t2.plane_geometry().thickness / 2 + 1e-6
    # a wheel step on the sagittal T2: the sagittal T1 comes to the same patient position, the axial T2 keeps
    # the level of the sagittal's cursor (which moved with the sagittal plane)
    k = sag_t2.slice_index()
    sag_t2.setFocus()
    wheel(sag_t2, -1)
    assert abs(sag_t2.slice_index() - k) == 1  # one image on (its direction is the series' own order)
    k = sag_t2.slice_index()
    cursor = window.grid.mpr.cursor
    assert sag_t2.plane_geometry().contains(cursor)
    x_t2 = sag_t2.plane_geometry().origin[0]
    assert abs(sag_t1.plane_geometry().origin[0] - x_t2) <= sag_t1.plane_geometry().thickness / 2 + 1e-6
    assert sag_t1.slice_index() == k  # the two sagittals share their slice positions here
    assert plane_distance(ax_t2, cursor) <= ax_t2.plane_geometry().thickness / 2 + 1e-6
    # the axial T2 scrolled: the sagittals stay on their slice, the cursor's level follows the axial
    ax_t2.setFocus()
    wheel(ax_t2, -2)
    assert sag_t2.slice_index() == k and sag_t1.slice_index() == k
    assert plane_distance(ax_t2, window.grid.mpr.cursor) < 1e-6

    # its link off: the axial T2 stays where it is while the cursor moves on the sagittal
    qtbot.mouseClick(window.grid.frame(ax_t2).header.link_button, Qt.LeftButton)
    assert window.grid.frame(ax_t2).header.link_button.text() == "Unlinked"
    k_ax = ax_t2.slice_index()
    shift_click(sag_t2, CENTRES["T6"])
    assert ax_t2.slice_index() == k_ax and plane_distance(ax_t2, window.grid.mpr.cursor) > 10
    qtbot.mouseClick(window.grid.frame(ax_t2).header.link_button, Qt.LeftButton)  # linked again: it follows
    assert plane_distance(ax_t2, window.grid.mpr.cursor) <= ax_t2.plane_geometry().thickness / 2 + 1e-6


@pytest.fixture(scope="module")
def moved_postop_case(tmp_path_factory) -> Path:
    """The thoracic case with its post-operative MR acquired 37 mm lower and 6 mm more anterior in patient
    coordinates (another table position), levels labelled on both MRs: patient position alone would put the
    post-operative views more than a vertebral body off."""
    root = tmp_path_factory.mktemp("moved") / "thoracic"
    for folder in ("ct_axial", "mr_sag_t2", "mr_sag_t1", "mr_ax_t2", "postop_mr_sag_t2", "postop_mr_ax_t2"):
        shutil.copytree(THORACIC / folder, root / folder)
    for folder in ("postop_mr_sag_t2", "postop_mr_ax_t2"):
        for f in sorted((root / folder).glob("*.dcm")):
            ds = pydicom.dcmread(f)
            ds.ImagePositionPatient = [float(v) for v in np.asarray(ds.ImagePositionPatient, float) + POSTOP_SHIFT]
            ds.save_as(f)
    case = json.loads((THORACIC / "case.spinecase.json").read_text())
    postop = {s["series_instance_uid"] for s in case["series"] if s["path_hint"].startswith("postop_")}
    for lab in case["vertebral_labels"]:
        if lab["series_instance_uid"] in postop:
            lab["centre"] = [float(v) for v in np.asarray(lab["centre"]) + POSTOP_SHIFT]
    (root / "case.spinecase.json").write_text(json.dumps(case), encoding="utf-8")
    return root / "case.spinecase.json"


def test_post_operative_mr_follows_the_pre_operative_by_level(window, qtbot, moved_postop_case) -> None:
    window.case_feature.open_case(moved_postop_case, recover=False)
    assert window.wait_until_idle(120)
    # the comparison protocol from its key: current (post-operative) left, prior right, linked by level
    window.grid.views[0].setFocus()
    QTest.keyClick(window.grid.views[0], Qt.Key_4, Qt.ControlModifier)
    assert window.wait_until_idle(120)
    QApplication.processEvents()
    assert window.grid.layout_name() == "2x2"
    assert shown(window) == [("Sag T2 TSE", "20240212", "sagittal"), ("Sag T2 TSE", "20240108", "sagittal"),
                             ("Ax T2 TSE", "20240212", "axial"), ("Ax T2 TSE", "20240108", "axial")]
    post_sag, pre_sag = view_of(window, "Sag T2 TSE", "20240212"), view_of(window, "Sag T2 TSE", "20240108")
    post_ax = view_of(window, "Ax T2 TSE", "20240212")
    headers = [window.grid.frame(v).header.link_button.text() for v in window.grid.layout_views()]
    assert headers == ["Linked: level"] * 4
    half_body = {lvl: 0.5 * np.linalg.norm(CENTRES[lvl] - CENTRES[nxt])
                 for lvl, nxt in (("T6", "T7"), ("T7", "T8"), ("T8", "T9"))}

    for level in ("T6", "T7", "T8"):  # the reader puts the cursor on a pre-operative body
        shift_click(pre_sag, CENTRES[level])
        target = CENTRES[level] + POSTOP_SHIFT  # the same body on the post-operative images
        g = post_sag.plane_geometry()
        mapped = post_sag.cursor_lps
        assert np.linalg.norm(mapped - target) < half_body[level], level
        assert g.contains(mapped)
        # the post-operative sagittal shows the cursor at that body: its level (cranio-caudal) is right
        assert abs(mapped[2] - target[2]) < half_body[level]
    # between labelled bodies: 40 % of the way from T6 to T7 maps to 40 % of the way on the post-operative spine
    point = CENTRES["T6"] + 0.4 * (CENTRES["T7"] - CENTRES["T6"])
    shift_click(pre_sag, point)
    expected = point + POSTOP_SHIFT
    assert np.linalg.norm(post_sag.cursor_lps - expected) < half_body["T6"]
    # the post-operative axial T2 (8 images around T6) follows to T6 by level, 37 mm from T6's patient position
    shift_click(pre_sag, CENTRES["T6"])
    assert plane_distance(post_ax, CENTRES["T6"] + POSTOP_SHIFT) < half_body["T6"]
    assert plane_distance(post_ax, CENTRES["T6"]) > 2 * half_body["T6"]  # position linking would be wrong
    # a wheel step on the pre-operative sagittal: the post-operative sagittal moves by the same distance
    x_post, x_pre = post_sag.plane_geometry().origin[0], pre_sag.plane_geometry().origin[0]
    pre_sag.setFocus()
    wheel(pre_sag, -1)
    step = pre_sag.plane_geometry().origin[0] - x_pre
    assert abs(step) > 1.0
    assert abs(post_sag.plane_geometry().origin[0] - x_post - step) <= post_sag.plane_geometry().thickness / 2


def test_without_shared_levels_a_view_links_by_the_offset_the_reader_sets(window, qtbot) -> None:
    open_and_wait(window, [THORACIC])  # no case: no levels labelled
    QTest.keyClick(window.grid.views[0], Qt.Key_3, Qt.ControlModifier)  # MR sag T2 | CT sag (same date)
    assert window.wait_until_idle(120)
    QApplication.processEvents()
    assert window.grid.layout_name() == "1x2"
    mr, ct = window.grid.layout_views()
    assert [mr.volume().modality, ct.volume().modality] == ["MR", "CT"]
    assert window.grid.frame(ct).header.link_button.text() == "Unlinked"  # different frame, nothing maps
    assert ct.window_level().name == "Bone"
    # unlinked: scrolling the MR leaves the CT alone
    k_ct = ct.slice_index()
    mr.setFocus()
    wheel(mr, -1)
    assert ct.slice_index() == k_ct
    # the reader scrolls the CT 8 images to the right, then links it: that offset is kept
    ct.setFocus()
    wheel(ct, -8)
    k_ct = ct.slice_index()
    qtbot.mouseClick(window.grid.frame(ct).header.link_button, Qt.LeftButton)
    assert window.grid.frame(ct).header.link_button.text() == "Linked: offset"
    assert ct.slice_index() == k_ct  # linking does not move it
    x_mr, x_ct = mr.plane_geometry().origin[0], ct.plane_geometry().origin[0]
    mr.setFocus()
    wheel(mr, -1)
    moved = mr.plane_geometry().origin[0] - x_mr
    assert abs((ct.plane_geometry().origin[0] - x_ct) - moved) <= ct.plane_geometry().thickness / 2 + 1e-6


def test_protocol_keys_window_and_remembered_choice(qtbot, tmp_path) -> None:
    from app.main_window import MainWindow
    from app.settings import Settings

    ini = tmp_path / "settings.ini"
    w = MainWindow(settings=Settings(ini), restore_state=False)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    open_and_wait(w, [THORACIC])
    QTest.keyClick(w.grid.views[0], Qt.Key_2, Qt.ControlModifier)  # Spine CT: sag | ax | cor, bone window
    assert w.wait_until_idle(120)
    assert w.grid.layout_name() == "spine"
    assert [o for *_, o in shown(w)] == ["sagittal", "axial", "coronal"]
    assert {d for d, *_ in shown(w)} == {"Ax 2.5mm Spine"}  # the latest CT: the restaging CT
    assert w.grid.views[0].window_level().name == "Bone"
    ct_study = w.grid.views[0].volume().metadata.study_instance_uid
    assert w.reading.remembered_protocol(ct_study) == "spine-ct"
    assert ct_study not in ini.read_text()  # the settings keep a hash, not the StudyInstanceUID
    w.close()

    w2 = MainWindow(settings=Settings(ini), restore_state=False)  # the next time: the choice comes back
    qtbot.addWidget(w2)
    w2.show()
    open_and_wait(w2, [THORACIC])
    assert w2.grid.layout_name() == "spine" and w2.reading.protocol_actions["spine-ct"].isChecked()
    w2.cancel_loading()
    w2.jobs.wait_all(5000)


def test_save_layout_as_protocol_then_hang_it(window, qtbot, tmp_path) -> None:
    open_and_wait(window, [THORACIC])
    window.set_layout("1x2")  # a plain layout around the sag T2: its axial pane shows the real axial T2
    assert window.wait_until_idle(60)
    QApplication.processEvents()
    assert shown(window) == [("Sag T2 TSE", "20240108", "sagittal"), ("Ax T2 TSE", "20240108", "axial")]
    assert window.grid.views[1].plane_spec().is_acquired
    protocol = window.reading.save_layout_as_protocol("My sag and axial")
    assert protocol is not None and protocol.shortcut == "Ctrl+6" and protocol.layout == "1x2"
    saved = json.loads((tmp_path / "hanging_protocols.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in saved["protocols"]] == ["my-sag-and-axial"]
    assert "protocol_my-sag-and-axial" in {a.objectName() for a in window.reading.protocol_menu.actions()}
    window.reading.choose_protocol("spine-mr")
    assert window.wait_until_idle(60)
    assert window.grid.layout_name() == "1x3"
    QTest.keyClick(window.grid.views[0], Qt.Key_6, Qt.ControlModifier)
    assert window.wait_until_idle(60)
    QApplication.processEvents()
    assert window.grid.layout_name() == "1x2"
    assert shown(window) == [("Sag T2 TSE", "20240108", "sagittal"), ("Ax T2 TSE", "20240108", "axial")]


def test_spine_layout_puts_the_grading_series_in_the_axial_pane(window, qtbot) -> None:
    window.explicit_layout = True  # as `spinecase open --layout spine --series "Sag T2"`
    window.set_layout("spine")
    window.open_paths([str(THORACIC)], series="Sag T2")
    assert window.wait_until_idle(120)
    QApplication.processEvents()
    assert shown(window) == [("Sag T2 TSE", "20240108", "sagittal"), ("Ax T2 TSE", "20240108", "axial"),
                             ("Sag T2 TSE", "20240108", "coronal")]
    assert window.grid.views[1].plane_spec().is_acquired


def test_cine_maximise_flip_rotate_next_series_and_thumbnail_click(window, qtbot) -> None:
    from widgets.overlays import OrientationOverlay

    open_and_wait(window, [THORACIC])
    sag_t2, sag_t1, ax_t2 = window.grid.layout_views()
    header = window.grid.frame(sag_t1).header
    # cine: Space plays the active view in a loop, ] speeds it up, Space pauses
    sag_t1.setFocus()
    window.set_active_view(sag_t1)
    k = sag_t1.slice_index()
    QTest.keyClick(sag_t1, Qt.Key_Space)
    assert window.grid.cine.is_playing(sag_t1) and header.cine_button.isChecked()
    assert window.reading.state.cine(1).playing  # the Qt-free state is what the views play
    QTest.keyClick(sag_t1, Qt.Key_BracketRight, Qt.ControlModifier)
    assert "15/s" in header.cine_button.text()
    qtbot.waitUntil(lambda: sag_t1.slice_index() != k, timeout=5000)
    QTest.keyClick(sag_t1, Qt.Key_Space)
    assert not window.grid.cine.is_playing(sag_t1)
    # double-click maximises the view and back
    centre = QPoint(ax_t2.width() // 2, ax_t2.height() // 2)
    QTest.mouseDClick(ax_t2, Qt.LeftButton, Qt.NoModifier, centre)
    assert window.grid.visible_views() == [ax_t2] and not sag_t2.isVisible()
    assert window.reading.state.maximised == 2
    QTest.mouseDClick(ax_t2, Qt.LeftButton, Qt.NoModifier, centre)
    assert window.grid.visible_views() == [sag_t2, sag_t1, ax_t2] and sag_t2.isVisible()
    # flip and rotate: the orientation letters follow the image; R undoes it
    ax_t2.setFocus()
    window.set_active_view(ax_t2)

    def letters() -> dict[str, str]:
        return OrientationOverlay.letters(ax_t2.overlay_context())

    assert letters() == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    QTest.keyClick(ax_t2, Qt.Key_H, Qt.ShiftModifier)
    assert letters() == {"left": "L", "right": "R", "top": "A", "bottom": "P"}
    assert window.grid.frame(ax_t2).header.turn_label.text() == "flipped horizontally"
    QTest.keyClick(ax_t2, Qt.Key_H, Qt.ShiftModifier)
    QTest.keyClick(ax_t2, Qt.Key_R, Qt.ShiftModifier)
    assert letters() == {"left": "P", "right": "A", "top": "R", "bottom": "L"}
    QTest.keyClick(ax_t2, Qt.Key_V, Qt.ShiftModifier)
    assert letters() == {"left": "P", "right": "A", "top": "L", "bottom": "R"}
    QTest.keyClick(ax_t2, Qt.Key_R)
    assert letters() == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    # next / previous series in the active view, in the browser's order
    order = window.browser.ordered_keys()
    current = window.reading.key_of(ax_t2.volume())
    QTest.keyClick(ax_t2, Qt.Key_PageDown, Qt.ControlModifier)
    assert window.wait_until_idle(60)
    nxt = order[order.index(current) + 1]
    assert window.reading.key_of(ax_t2.volume()) == nxt
    QTest.keyClick(ax_t2, Qt.Key_PageUp, Qt.ControlModifier)
    assert window.wait_until_idle(60)
    assert window.reading.key_of(ax_t2.volume()) == current
    # a single click on a thumbnail shows that series in the active view
    post_ax = next(k for k in order if window.series_info(k).study_date == "20240212"
                   and window.series_info(k).orientation_label == "axial")
    item = window.browser._series[post_ax]
    window.browser.scrollToItem(item)
    rect = window.browser.visualItemRect(item)
    window.set_active_view(sag_t1)
    QTest.mouseClick(window.browser.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    assert window.wait_until_idle(60)
    assert window.reading.key_of(sag_t1.volume()) == post_ax
    assert window.reading.key_of(sag_t2.volume()) != post_ax  # the other views stay


def test_window_shortcuts_are_unique_and_the_brush_keeps_its_bracket_keys(window, qtbot) -> None:
    from PySide6.QtGui import QAction

    seen: dict[str, str] = {}
    for a in window.findChildren(QAction):
        if a.shortcutContext() == Qt.WidgetShortcut:
            continue  # scoped to one panel or list (Delete in the measurement list and the findings list)
        for seq in a.shortcuts():
            key = seq.toString()
            if key:
                assert key not in seen or seen[key] == a.text(), (key, seen.get(key), a.text())
                seen[key] = a.text()
    open_and_wait(window, [THORACIC / "mr_ax_t2"])  # one axial series: shown alone
    view = window.active_view()
    view.setFocus()
    window.set_tool(next(n for n in window.tools.names() if n.endswith("brush")))
    session = window.bilsky_assistant.session
    r = session.brush_radius
    fps = window.grid.cine.state(view).fps
    QTest.keyClick(view, Qt.Key_BracketRight)
    assert session.brush_radius > r and window.grid.cine.state(view).fps == fps
