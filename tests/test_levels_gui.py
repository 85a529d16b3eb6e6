"""Vertebral level labelling in the main window, driven by real mouse and key events (pytest-qt): the Levels
tool, move/rename/delete with undo, the axial corner level while scrolling, the spine map's navigation, and
"Detect vertebrae" (with a stand-in detector, and end to end on the thoracic sample CT)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from tests.dicom_factory import write_series
from tests.test_viewer import drag, wheel

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("SPINECASE_SAMPLES", ROOT / "sample_dicoms"))

# A synthetic axial CT of a straight column: head first, 2.5 mm slices from S = +100 down to -97.5 mm,
# 1 mm pixels centred on L = 0, P = 0; vertebral bodies (600 HU cylinders, radius 10 mm, 20 mm high) centred
# at L = 0, P = +10 and every 25 mm in S, with 5 mm discs between them.
BODY_S = (75.0, 50.0, 25.0, 0.0, -25.0, -50.0, -75.0)
BODY_P = 10.0
SHAPE = (80, 64, 64)


def spine_values(modality: str = "CT") -> np.ndarray:
    k, r, c = np.meshgrid(*(np.arange(n) for n in SHAPE), indexing="ij")
    s, p, l_ = 100.0 - 2.5 * k, -31.5 + r, -31.5 + c
    soft, bone, air = (40, 600, -1000) if modality == "CT" else (300, 900, 0)
    values = np.full(SHAPE, air, np.int16)
    values[(l_ / 30.0) ** 2 + (p / 28.0) ** 2 <= 1] = soft
    in_body = np.zeros(SHAPE, bool)
    for centre in BODY_S:
        in_body |= np.abs(s - centre) <= 10.0
    values[in_body & (l_ ** 2 + (p - BODY_P) ** 2 <= 100.0)] = bone
    return values


def write_spine(folder: Path, modality: str = "CT") -> str:
    truth = write_series(folder, shape=SHAPE, spacing=(1.0, 1.0), step=(0.0, 0.0, -2.5),
                         origin=(-31.5, -31.5, 100.0), modality=modality, values=spine_values(modality),
                         description=f"{modality} spine", rescale=(1.0, -1024.0) if modality == "CT" else (1.0, 0.0))
    return truth["series_uid"]


@pytest.fixture(scope="module")
def ct_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spine_ct")
    write_spine(folder)
    return folder


@pytest.fixture
def window(qtbot, tmp_path):
    import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
    from app import feature_levels
    from app.main_window import MainWindow
    from app.settings import Settings

    w = MainWindow(settings=Settings(tmp_path / "settings.ini"), restore_state=False, install_features=False)
    feature_levels.install(w)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.set_layout("spine")
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    yield w
    w.cancel_loading()
    w.jobs.wait_all(10_000)


def open_series(window, qtbot, folder):
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000) as sig:
        window.open_paths([folder])
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=30_000)
    return sig.args[0]


def widget_point(view, lps) -> QPoint:
    p = view.lps_to_widget(np.asarray(lps, float))
    return QPoint(round(p.x()), round(p.y()))


def lps_under(view, pos: QPoint) -> np.ndarray:
    """The LPS point (mm) under a widget position, from the view's plane geometry."""
    return view.plane_geometry().to_lps(view.widget_to_display(QPointF(pos)))


def click(view, pos: QPoint, qtbot) -> None:
    view.repaint()  # the overlay records where it drew the tags
    QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, pos)


def type_name(editor, text: str) -> None:
    QTest.keyClick(editor, Qt.Key_A, Qt.ControlModifier)  # select the guess
    QTest.keyClicks(editor, text)
    QTest.keyClick(editor, Qt.Key_Return)


def labels(window) -> list[tuple[str, tuple[float, float, float]]]:
    return [(lab.label, lab.centre) for lab in window.case.case.vertebral_labels]


def undo_texts(window) -> list[str]:
    st = window.undo_stack
    return [st.text(i) for i in range(st.count())]


def sagittal(window):
    view = window.views()[0]
    assert view.orientation() == "sagittal"
    return view


# ---------------------------------------------------------------------------------------------------------
def test_naming_one_body_then_four_clicks_label_them_in_order(window, qtbot, ct_folder):
    vol = open_series(window, qtbot, ct_folder)
    view = sagittal(window)
    view.setFocus()
    QTest.keyClick(view, Qt.Key_L, Qt.ShiftModifier)  # Shift+L: the Levels tool
    assert window.active_tool().name == "levels"
    tool = window.levels_feature.tool

    first = widget_point(view, (0.0, BODY_P, 50.0))
    click(view, first, qtbot)
    assert tool.editor is not None and tool.editor.isVisible() and labels(window) == []
    assert tool.editor.selectedText() == tool.editor.text() != ""  # the guess, selected: typing replaces it
    QTest.keyClicks(tool.editor, "t5")  # any case
    QTest.keyClick(tool.editor, Qt.Key_Return)
    assert tool.editor is None
    # then two bodies below, one further below and one above: T6, T7, T8, then T4
    clicks = [first] + [widget_point(view, (0.0, BODY_P, s)) for s in (25.0, 0.0, -25.0, 75.0)]
    for pos in clicks[1:]:
        click(view, pos, qtbot)
    got = labels(window)
    assert [name for name, _ in got] == ["T5", "T6", "T7", "T8", "T4"]
    for (name, centre), pos, s in zip(got, clicks, (50.0, 25.0, 0.0, -25.0, 75.0), strict=True):
        np.testing.assert_allclose(centre, lps_under(view, pos), atol=1e-9)  # full precision, from geometry
        assert abs(centre[2] - s) < 1.0 and abs(centre[1] - BODY_P) < 1.0, name  # on the body clicked
    lab = window.case.case.vertebral_labels[0]
    assert lab.series_instance_uid == vol.metadata.series_instance_uid and lab.source == "manual"
    assert undo_texts(window) == [f"Add level label {n}" for n in ("T5", "T6", "T7", "T8", "T4")]
    # a click on the axial view places nothing and says where to label
    axial = window.views()[1]
    click(axial, QPoint(axial.width() // 2, axial.height() // 2), qtbot)
    assert len(labels(window)) == 5
    assert "sagittal or coronal" in window.message_bar.messages()[-1][1]


def test_first_name_is_validated_and_a_taken_level_is_refused(window, qtbot, ct_folder):
    open_series(window, qtbot, ct_folder)
    view = sagittal(window)
    window.set_tool("levels")
    tool = window.levels_feature.tool
    click(view, widget_point(view, (0.0, BODY_P, 0.0)), qtbot)
    type_name(tool.editor, "T14")
    assert tool.editor is not None and labels(window) == []  # stays open, nothing changed
    assert "unknown vertebral level 'T14'" in window.message_bar.messages()[-1][1]
    QTest.keyClick(tool.editor, Qt.Key_Escape)
    assert tool.editor is None and labels(window) == [] and window.undo_stack.count() == 0
    # a read-only case refuses with a message and changes nothing
    window.case.set_read_only(True)
    click(view, widget_point(view, (0.0, BODY_P, 0.0)), qtbot)
    # typing in the box is not taken by the view's one-key shortcuts (Shift+L: Levels, C: Crosshair, R, I...)
    QTest.keyClick(tool.editor, Qt.Key_A, Qt.ControlModifier)
    QTest.keyClick(tool.editor, Qt.Key_L, Qt.ShiftModifier)
    QTest.keyClicks(tool.editor, "1")
    assert tool.editor.text().upper() == "L1" and window.active_tool() is tool  # (QTest types "l")
    QTest.keyClick(tool.editor, Qt.Key_Return)
    assert labels(window) == [] and window.undo_stack.count() == 0
    assert "read-only" in window.message_bar.messages()[-1][1]


def test_move_rename_delete_and_undo(window, qtbot, ct_folder):
    open_series(window, qtbot, ct_folder)
    view = sagittal(window)
    view.setFocus()
    window.set_tool("levels")
    tool = window.levels_feature.tool
    click(view, widget_point(view, (0.0, BODY_P, 50.0)), qtbot)
    type_name(tool.editor, "T5")
    click(view, widget_point(view, (0.0, BODY_P, 25.0)), qtbot)
    t5, t6 = window.case.case.vertebral_labels
    original = np.asarray(t6.centre)
    # click the T6 marker: selects it; drag it 12 px down and 5 px right
    start = widget_point(view, original)
    end = start + QPoint(5, 12)
    view.repaint()
    drag(view, Qt.LeftButton, start, end)
    moved = window.case.case.vertebral_labels[1]
    assert window.case.selected_id == t6.id
    np.testing.assert_allclose(moved.centre, original + lps_under(view, end) - lps_under(view, start), atol=1e-9)
    assert undo_texts(window)[-1] == "Move level label T6"
    # F2 renames; a level already labelled is refused
    view.setFocus()
    QTest.keyClick(view, Qt.Key_F2)
    assert tool.editor is not None and tool.editor.text() == "T6"
    type_name(tool.editor, "T5")
    assert tool.editor is not None and window.case.case.vertebral_labels[1].label == "T6"
    assert "T5 is already labelled" in window.message_bar.messages()[-1][1]
    type_name(tool.editor, "T7")
    assert window.case.case.vertebral_labels[1].label == "T7"
    assert undo_texts(window)[-1] == "Rename level label T6 to T7"
    # Delete removes the selected label
    view.setFocus()
    QTest.keyClick(view, Qt.Key_Delete)
    assert [lab.label for lab in window.case.case.vertebral_labels] == ["T5"]
    assert undo_texts(window)[-1] == "Delete level label T7"
    # Ctrl+Z three times: back to T6 at its first place
    for _ in range(3):
        QTest.keyClick(view, Qt.Key_Z, Qt.ControlModifier)
    back = window.case.case.vertebral_labels[1]
    assert back.label == "T6" and back.id == t6.id
    np.testing.assert_allclose(back.centre, original)
    QTest.keyClick(view, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)  # redo the move
    np.testing.assert_allclose(window.case.case.vertebral_labels[1].centre, moved.centre)
    # a double click on a label opens the rename box too
    view.repaint()
    QTest.mouseDClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, t5.centre))
    assert tool.editor is not None and tool.editor.text() == "T5"
    QTest.keyClick(tool.editor, Qt.Key_Escape)
    assert tool.editor is None


def expected_level(s: float) -> str | None:
    """The level of an axial plane at height ``s`` with T4..T8 labelled at S = 75, 50, 25, 0, -25: nearest
    body; the disc within 10 % of the interval around each midpoint; the field half an interval past the ends."""
    centres = dict(zip(("T4", "T5", "T6", "T7", "T8"), (75.0, 50.0, 25.0, 0.0, -25.0), strict=True))
    if s > 75.0 + 12.5 + 1e-9 or s < -25.0 - 12.5 - 1e-9:
        return None
    names = list(centres)
    for a, b in zip(names, names[1:], strict=False):
        if centres[b] <= s <= centres[a]:
            t = (centres[a] - s) / 25.0
            if abs(t - 0.5) <= 0.1 + 1e-9:
                return f"{a}/{b} disc"
            return a if t < 0.5 else b
    return names[0] if s > 75.0 else names[-1]


def test_axial_corner_shows_the_level_while_scrolling(window, qtbot, ct_folder):
    from imaging.case.model import VertebralLabel

    vol = open_series(window, qtbot, ct_folder)
    uid = vol.metadata.series_instance_uid
    for name, s in zip(("T4", "T5", "T6", "T7", "T8"), (75.0, 50.0, 25.0, 0.0, -25.0), strict=True):
        window.case.add(VertebralLabel(label=name, centre=(0.0, BODY_P, s), series_instance_uid=uid))
    axial = window.views()[1]
    assert axial.orientation() == "axial"

    def corner_text() -> list[str]:
        ctx = axial.overlay_context()
        return [t for corner, fn in axial.corner_providers if corner == "bottom_left" and (t := fn(ctx))]

    axial.setFocus()
    QTest.keyClick(axial, Qt.Key_Home)  # the first image of the series (head first: the most cranial)
    seen = set()
    for _ in range(axial.slice_count() - 1):
        s = float(axial.plane_geometry().origin[2])
        want = expected_level(s)
        assert corner_text() == ([f"Level {want}"] if want else []), s
        seen.add(want)
        wheel(axial, -1)  # towards the user: next image (caudal)
    assert {"T4", "T4/T5 disc", "T6", "T8", None} <= seen
    # the corner text is drawn: the info overlay asks the providers
    assert axial.grab().width() > 0


def test_spine_map_click_brings_every_view_to_the_vertebra(window, qtbot, ct_folder):
    from imaging.case.model import VertebralLabel

    vol = open_series(window, qtbot, ct_folder)
    uid = vol.metadata.series_instance_uid
    for name, s in zip(("T4", "T5", "T6", "T7"), (75.0, 50.0, 25.0, 0.0), strict=True):
        window.case.add(VertebralLabel(label=name, centre=(2.0, BODY_P, s), series_instance_uid=uid))
    spine_map = window.levels_feature.map
    assert window.levels_feature.map_dock.isVisible()
    assert spine_map.model.field == ("T4", "T7")
    rect = spine_map.level_rect("T6")
    QTest.mouseClick(spine_map, Qt.LeftButton, Qt.NoModifier, rect.center().toPoint())
    target = np.array([2.0, BODY_P, 25.0])
    np.testing.assert_allclose(window.grid.mpr.cursor, target)
    for v in window.views():
        assert v.plane_geometry().contains(target), v.orientation()
    assert window.case.selected_id == window.case.case.vertebral_labels[2].id
    # an unlabelled level says so and moves nothing
    QTest.mouseClick(spine_map, Qt.LeftButton, Qt.NoModifier, spine_map.level_rect("L2").center().toPoint())
    np.testing.assert_allclose(window.grid.mpr.cursor, target)
    assert "L2 is not labelled on this series" in window.message_bar.messages()[-1][1]
    assert "T6 (thoracic)" in spine_map.tooltip_at(rect.center())


def candidates_at(s_values, kind="body"):
    from imaging.spine.detect import VertebraCandidate

    return [VertebraCandidate(center_lps=(0.3, BODY_P, s), superior_lps=(0.3, BODY_P, s + 10),
                              inferior_lps=(0.3, BODY_P, s - 10), height_mm=20.0, confidence=1.0, kind=kind)
            for s in s_values]


def test_detect_vertebrae_then_name_one_labels_all_in_one_undo_step(window, qtbot, ct_folder, tmp_path,
                                                                      monkeypatch):
    import app.feature_levels as fl

    calls = []

    def fake_detect(volume, spacing_mm=1.5):
        calls.append(volume)
        return candidates_at(BODY_S)

    monkeypatch.setattr(fl, "detect_vertebrae", fake_detect)
    feature = window.levels_feature
    vol = open_series(window, qtbot, ct_folder)
    view = sagittal(window)
    view.setFocus()
    QTest.keyClick(view, Qt.Key_D, Qt.ControlModifier | Qt.ShiftModifier)  # Spine > Detect Vertebrae
    qtbot.waitUntil(lambda: feature.detect_job is None, timeout=10_000)
    assert calls == [vol]
    assert len(feature.state.candidates_for(vol)) == 7 and labels(window) == []
    assert window.active_tool().name == "levels"
    tool = feature.tool
    assert tool.editor is not None and feature.state.naming_candidate == 3  # the middle body is asked first
    # click another body instead (the top one) and name it
    click(view, widget_point(view, (0.3, BODY_P, 75.0)), qtbot)
    assert feature.state.naming_candidate == 0
    type_name(tool.editor, "T3")
    got = labels(window)
    assert [n for n, _ in got] == ["T3", "T4", "T5", "T6", "T7", "T8", "T9"]
    assert [c for _, c in got] == [(0.3, BODY_P, s) for s in BODY_S]
    assert {lab.source for lab in window.case.case.vertebral_labels} == {"detected"}
    assert feature.state.candidates_for(vol) == []
    assert undo_texts(window) == ["Detect and label vertebrae"]
    QTest.keyClick(view, Qt.Key_Z, Qt.ControlModifier)
    assert labels(window) == []
    QTest.keyClick(view, Qt.Key_Y, Qt.ControlModifier)
    assert len(labels(window)) == 7
    assert feature.map.model.field == ("T3", "T9")


def test_detected_naming_is_refused_when_it_cannot_be_right(window, qtbot, ct_folder, monkeypatch):
    import app.feature_levels as fl

    monkeypatch.setattr(fl, "detect_vertebrae", lambda volume, spacing_mm=1.5: candidates_at(BODY_S))
    feature = window.levels_feature
    open_series(window, qtbot, ct_folder)
    feature.detect()
    qtbot.waitUntil(lambda: feature.detect_job is None, timeout=10_000)
    type_name(feature.tool.editor, "C2")  # the middle body as C2 leaves three bodies above C1
    assert labels(window) == [] and feature.tool.editor is not None
    assert "above C1" in window.message_bar.messages()[-1][1]
    view = sagittal(window)
    QTest.keyClick(feature.tool.editor, Qt.Key_Escape)
    view.setFocus()
    QTest.keyClick(view, Qt.Key_Escape)  # Esc again dismisses the detected bodies
    assert feature.state.candidates_for(view.volume()) == []


def test_detect_vertebrae_refuses_mr(window, qtbot, tmp_path, monkeypatch):
    import app.feature_levels as fl

    monkeypatch.setattr(fl, "detect_vertebrae", lambda *a, **k: pytest.fail("must not run on MR"))
    write_spine(tmp_path / "mr", modality="MR")
    open_series(window, qtbot, tmp_path / "mr")
    assert window.levels_feature.detect() is None
    level, text = window.message_bar.messages()[-1]
    assert level == "warning" and "CT only" in text and "is MR" in text and "Levels tool" in text
    assert not window.is_busy() and labels(window) == []


# Detection accuracy on every sample CT is tests/test_spine_detect.py's; here the GUI path end to end on the
# thoracic CT (the reader clicks the T5 body and types T5) and the cervical CT (the atlas is recognised, so
# the naming box comes prefilled right and Enter accepts it).
SAMPLE_CTS = [("thoracic_ddlps", "ct_axial", "T5"), ("cervical_alt_metastases", "ct_axial", None)]


@pytest.mark.parametrize("case, series, named", SAMPLE_CTS)
def test_detect_and_label_on_the_sample_cts(window, qtbot, case, series, named):
    folder = SAMPLES / case / series
    if not folder.is_dir():
        pytest.skip(f"sample_dicoms/{case} not generated")
    truth = json.loads((SAMPLES / case / "truth.json").read_text())
    in_ct = {v["label"]: np.asarray(v["centroid_lps"]) for v in truth["vertebrae"] if series in v["series"]}
    feature = window.levels_feature
    vol = open_series(window, qtbot, folder)
    view = sagittal(window)
    view.setFocus()
    QTest.keyClick(view, Qt.Key_D, Qt.ControlModifier | Qt.ShiftModifier)
    qtbot.waitUntil(lambda: feature.detect_job is None, timeout=60_000)
    found = [np.asarray(c.center_lps) for c in feature.state.candidates_for(vol)]
    assert len(found) == len(in_ct)
    for name, centre in in_ct.items():  # every body in the field, within 5 mm
        assert min(np.linalg.norm(f - centre) for f in found) <= 5.0, name

    def truth_name(centre):
        return min(in_ct, key=lambda n: np.linalg.norm(in_ct[n] - centre))

    if named is None:  # accept the prefilled name of the body asked first
        k = feature.state.naming_candidate
        assert feature.tool.editor.text() == truth_name(found[k])
        QTest.keyClick(feature.tool.editor, Qt.Key_Return)
    else:  # name another body: click it on the sagittal view and type its level
        k = int(np.argmin([np.linalg.norm(f - in_ct[named]) for f in found]))
        view.show_lps(found[k])
        click(view, widget_point(view, found[k]), qtbot)
        assert feature.state.naming_candidate == k
        type_name(feature.tool.editor, named)
    got = window.case.case.vertebral_labels
    assert sorted(lab.label for lab in got) == sorted(in_ct)
    for lab in got:
        assert np.linalg.norm(np.asarray(lab.centre) - in_ct[lab.label]) <= 5.0, lab.label
    assert undo_texts(window) == ["Detect and label vertebrae"]
