"""Measurement tools in the viewer (issue 5), driven by real mouse and key events (pytest-qt).

Series are written with tests/dicom_factory.write_series, whose returned affine is the truth: every drawn
point is checked against the LPS position of the display pixel aimed at (through that affine, not through
the viewer), within half a pixel; values against lengths, areas and angles computed from those truth
points. Volumes: anisotropic axial pixels (0.4 x 0.9 mm), a thick-slice (3.5 mm) sagittal acquisition shown
as axial/coronal reformats, an oblique acquisition, and a series without pixel spacing.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
from imaging import measure
from imaging.case.analysis import lesion_dimensions
from imaging.case.model import Finding
from imaging.measure_edit import value_lines
from tests.dicom_factory import write_series
from widgets.measure_tools import LabelEditor, MeasurementTool
from widgets.measurement_panel import NO_FINDING

BLOCK_HU = 500
PROBE_HU = 1234


def rot_x(deg: float) -> np.ndarray:
    t = math.radians(deg)
    return np.array([[1, 0, 0], [0, math.cos(t), -math.sin(t)], [0, math.sin(t), math.cos(t)]])


def rot_z(deg: float) -> np.ndarray:
    t = math.radians(deg)
    return np.array([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0], [0, 0, 1]])


# ---------------------------------------------------------------------------------------------------------
# Series (written once per module) and the window
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def series(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    root = tmp_path_factory.mktemp("measure_gui")
    out = {}
    values = np.zeros((12, 60, 50), np.int16)
    values[:, 20:45, 10:41] = BLOCK_HU
    values[:, 5, 5] = PROBE_HU
    out["aniso"] = (root / "aniso", write_series(root / "aniso", shape=(12, 60, 50), spacing=(0.9, 0.4),
                                                 slice_gap=2.5, values=values, description="Ax aniso"))
    out["sag"] = (root / "sag", write_series(root / "sag", shape=(14, 50, 60), spacing=(0.5, 0.5),
                                             row_dir=(0, 1, 0), col_dir=(0, 0, -1), slice_gap=3.5,
                                             origin=(30.0, -40.0, 60.0), description="Sag thick"))
    r = rot_x(20) @ rot_z(15)
    ob_values = np.zeros((10, 48, 48), np.int16)
    ob_values[:, 14:34, 14:34] = 300
    out["oblique"] = (root / "oblique", write_series(root / "oblique", shape=(10, 48, 48), spacing=(0.7, 0.6),
                                                     row_dir=tuple(r @ [1, 0, 0]), col_dir=tuple(r @ [0, 1, 0]),
                                                     slice_gap=1.5, values=ob_values, description="Oblique"))
    out["nospacing"] = (root / "nospacing", write_series(root / "nospacing", shape=(6, 40, 40),
                                                         pixel_spacing=False, description="No spacing"))
    out["other"] = (root / "other", write_series(root / "other", shape=(6, 30, 30), description="Other"))
    return out


@pytest.fixture
def window(qtbot, tmp_path):
    from app import feature_measure
    from app.main_window import MainWindow
    from app.settings import Settings

    w = MainWindow(settings=Settings(tmp_path / "settings.ini"), restore_state=False, install_features=False)
    feature_measure.install(w)
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.cancel_loading()
    w.jobs.wait_all(5000)


def open_series(window, qtbot, folder: Path, layout: str = "1x1"):
    window.set_layout(layout)
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000) as sig:
        window.open_paths([folder])
    window.wait_until_idle()
    qtbot.wait(5)
    return sig.args[0]


def view_of(window, orientation: str):
    return next(v for v in window.views() if v.orientation() == orientation)


# ---------------------------------------------------------------------------------------------------------
# Mouse helpers and truth
# ---------------------------------------------------------------------------------------------------------
def wpos(view, xy) -> QPoint:
    """The widget pixel over display position ``xy`` (rounded: the mouse only lands on whole pixels)."""
    p = view.display_to_widget(xy)
    return QPoint(round(p.x()), round(p.y()))


def drag(view, a, b, steps: int = 6, button=Qt.LeftButton) -> None:
    pa, pb = wpos(view, a), wpos(view, b)
    QTest.mousePress(view, button, Qt.NoModifier, pa)
    for i in range(1, steps + 1):
        p = pa + (pb - pa) * (i / steps)
        QTest.mouseMove(view, QPoint(round(p.x()), round(p.y())))
    QTest.mouseRelease(view, button, Qt.NoModifier, pb)


def click(view, xy, button=Qt.LeftButton) -> None:
    QTest.mouseClick(view, button, Qt.NoModifier, wpos(view, xy))


def hover(view, xy) -> None:
    p = QPointF(wpos(view, xy))
    QApplication.sendEvent(view, QMouseEvent(QEvent.MouseMove, p, view.mapToGlobal(p), Qt.NoButton, Qt.NoButton,
                                             Qt.NoModifier))


def truth_lps(truth: dict, view, xy) -> np.ndarray:
    """LPS of display position ``xy`` on the view's current plane, from the DICOM truth affine."""
    cri = view.plane_spec().voxel_of_display(xy[0], xy[1], view.slice_index())
    return (truth["affine"] @ np.r_[cri, 1.0])[:3]


def assert_within_half_pixel(truth: dict, view, stored, xy) -> None:
    """The stored LPS point is the aimed display pixel within half a pixel in the plane, and on the plane."""
    idx = np.linalg.solve(truth["affine"][:3, :3], np.asarray(stored, float) - truth["affine"][:3, 3])
    want = view.plane_spec().voxel_of_display(xy[0], xy[1], view.slice_index())
    spec = view.plane_spec()
    for axis in (spec.x_axis, spec.y_axis):
        assert abs(idx[axis] - want[axis]) <= 0.5 + 1e-9, (idx, want)
    assert abs(idx[spec.normal_axis] - want[spec.normal_axis]) < 1e-6


def half_pixel_mm(view) -> float:
    g = view.plane_geometry()
    return 0.5 * math.hypot(g.x_spacing, g.y_spacing)


def only_measurement(window):
    ms = window.case.case.measurements
    assert len(ms) >= 1
    return ms[-1]


def label_of(window, view, mid) -> list[str]:
    """The value lines drawn beside a measurement (after its name line, e.g. "Length 1")."""
    view.repaint()
    shape = window.measure.overlay.shape_of(view, mid)
    assert shape is not None, "the measurement is not drawn on this view"
    name = window.case.case.measurement(mid).label
    return shape.label[1:] if name and shape.label and shape.label[0].startswith(name) else shape.label


def number(text: str) -> float:
    return float(re.search(r"-?\d+\.\d", text).group(0))


def dump(case) -> dict:
    d = case.model_dump(mode="json")
    d.pop("audit")
    d.pop("updated_utc")
    return d


# ---------------------------------------------------------------------------------------------------------
# Drawing each tool
# ---------------------------------------------------------------------------------------------------------
def test_length_on_anisotropic_pixels_matches_truth_and_undoes_exactly(window, qtbot, series):
    folder, truth = series["aniso"]
    vol = open_series(window, qtbot, folder)
    view = window.views()[0]
    assert view.orientation() == "axial" and view.plane_spec().is_acquired
    before = dump(window.case.case)
    a, b = (8.0, 12.0), (41.0, 50.0)
    QTest.keyClick(view, Qt.Key_L)
    assert window.active_tool().name == "length"
    drag(view, a, b)
    m = only_measurement(window)
    assert window.undo_stack.undoText() == "Add length"
    ta, tb = truth_lps(truth, view, a), truth_lps(truth, view, b)
    assert_within_half_pixel(truth, view, m.points[0], a)
    assert_within_half_pixel(truth, view, m.points[1], b)
    expected = float(np.linalg.norm(tb - ta))
    assert m.values()[0].value == pytest.approx(expected, abs=2 * half_pixel_mm(view))
    assert m.series_instance_uid == truth["series_uid"]
    k = view.slice_index()
    assert m.slice_index == k and m.sop_instance_uid == vol.sop_instance_uid(k) and m.sop_instance_uid
    assert m.plane.orientation == "axial" and m.pixel_spacing_known
    assert m.reader == window.case.reader
    (text,) = label_of(window, view, m.id)
    assert text.endswith(" mm") and number(text) == pytest.approx(expected, abs=2 * half_pixel_mm(view) + 0.05)
    assert text == measure.format_value(m.values()[0].value, "mm")  # full precision stored, 0.1 shown
    after = dump(window.case.case)
    window.undo_stack.undo()
    assert dump(window.case.case) == before
    window.undo_stack.redo()
    assert dump(window.case.case) == after


def test_every_tool_draws_with_real_mouse_events(window, qtbot, series):
    folder, truth = series["aniso"]
    open_series(window, qtbot, folder)
    view = window.views()[0]
    ctl = window.case
    tol = 2 * half_pixel_mm(view)

    # Each tool on its own slice (a press on an existing measurement would edit it instead).
    # Bidirectional: the long axis is dragged; the short axis appears perpendicular at its middle.
    view.set_slice(1)
    window.set_tool("bidirectional")
    a, b = (12.0, 22.0), (36.0, 40.0)
    drag(view, a, b)
    m = only_measurement(window)
    assert window.undo_stack.undoText() == "Add bidirectional"
    la, lb, sa, sb = (np.asarray(p) for p in m.points)
    assert_within_half_pixel(truth, view, la, a)
    assert_within_half_pixel(truth, view, lb, b)
    assert np.dot(lb - la, sb - sa) == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose((sa + sb) / 2, (la + lb) / 2, atol=1e-9)
    long_truth = np.linalg.norm(truth_lps(truth, view, b) - truth_lps(truth, view, a))
    (text,) = label_of(window, view, m.id)
    assert re.fullmatch(r"L \d+\.\d mm  S \d+\.\d mm", text)
    assert number(text) == pytest.approx(long_truth, abs=tol + 0.05)
    assert m.value("short_axis").value == pytest.approx(m.value("long_axis").value * 2 / 3)

    # Ellipse ROI inside the uniform 500 HU block: area pi*a*b of the dragged box; mean exactly 500 HU.
    view.set_slice(2)
    window.set_tool("ellipse_roi")
    c0, c1 = (15.0, 24.0), (35.0, 40.0)
    drag(view, c0, c1)
    m = only_measurement(window)
    assert window.undo_stack.undoText() == "Add ellipse ROI"
    g = view.plane_geometry()
    semi_a = abs(c1[0] - c0[0]) / 2 * g.x_spacing
    semi_b = abs(c1[1] - c0[1]) / 2 * g.y_spacing
    area = m.value("area").value
    assert area == pytest.approx(math.pi * semi_a * semi_b, rel=0.08)
    assert m.stats is not None and m.stats.mean == pytest.approx(BLOCK_HU) and m.stats.sd == pytest.approx(0.0)
    assert m.stats.unit == "HU" and m.stats.count > 0
    lines = label_of(window, view, m.id)
    assert lines[0].startswith("Area ") and lines[0].endswith(" mm\u00b2")
    assert lines[1] == "Mean 500.0 HU  SD 0.0 HU"

    # Polygon ROI: clicks, then a double-click closes it. Area = shoelace of the truth vertices.
    view.set_slice(3)
    window.set_tool("polygon_roi")
    verts = [(12.0, 22.0), (38.0, 23.0), (30.0, 43.0), (14.0, 40.0)]
    for xy in verts:
        click(view, xy)
    QTest.mouseDClick(view, Qt.LeftButton, Qt.NoModifier, wpos(view, verts[-1]))
    m = only_measurement(window)
    assert m.kind == "polygon_roi" and len(m.points) == 4
    assert window.undo_stack.undoText() == "Add polygon ROI"
    for p, xy in zip(m.points, verts, strict=True):
        assert_within_half_pixel(truth, view, p, xy)
    tv = [truth_lps(truth, view, xy) for xy in verts]
    assert m.value("area").value == pytest.approx(measure.polygon_area(np.array(tv)), rel=0.05)
    assert m.stats.mean == pytest.approx(BLOCK_HU)

    # Freehand ROI: one drag around a circle, released to close.
    view.set_slice(4)
    window.set_tool("freehand_roi")
    centre, radius = np.array([25.0, 32.0]), 7.0
    ring = [centre + radius * np.array([math.cos(t), math.sin(t) * 0.5]) for t in np.linspace(0, 2 * math.pi, 40)]
    QTest.mousePress(view, Qt.LeftButton, Qt.NoModifier, wpos(view, ring[0]))
    for xy in ring[1:]:
        QTest.mouseMove(view, wpos(view, xy))
    QTest.mouseRelease(view, Qt.LeftButton, Qt.NoModifier, wpos(view, ring[-1]))
    m = only_measurement(window)
    assert m.kind == "freehand_roi" and len(m.points) > 10
    assert window.undo_stack.undoText() == "Add freehand ROI"
    true_area = math.pi * radius * g.x_spacing * radius * 0.5 * g.y_spacing
    assert m.value("area").value == pytest.approx(true_area, rel=0.06)

    # Angle: drag the first arm to the vertex, click the end of the second arm.
    view.set_slice(5)
    window.set_tool("angle")
    p0, vx, p2 = (10.0, 10.0), (25.0, 30.0), (42.0, 14.0)
    drag(view, p0, vx)
    click(view, p2)
    m = only_measurement(window)
    assert window.undo_stack.undoText() == "Add angle"
    for p, xy in zip(m.points, (p0, vx, p2), strict=True):
        assert_within_half_pixel(truth, view, p, xy)
    u = truth_lps(truth, view, p0) - truth_lps(truth, view, vx)
    w = truth_lps(truth, view, p2) - truth_lps(truth, view, vx)
    expected = math.degrees(math.acos(np.dot(u, w) / np.linalg.norm(u) / np.linalg.norm(w)))
    (text,) = label_of(window, view, m.id)
    assert text.endswith("\u00b0") and number(text) == pytest.approx(expected, abs=1.5)
    assert m.values()[0].value == pytest.approx(expected, abs=1.5)

    # Probe: one click on the marked voxel.
    view.set_slice(6)
    window.set_tool("probe")
    click(view, (5.0, 5.0))
    m = only_measurement(window)
    assert m.kind == "probe" and m.stats.mean == PROBE_HU and m.stats.count == 1
    assert label_of(window, view, m.id) == ["1234.0 HU"]
    assert window.undo_stack.undoText() == "Add probe"

    # CC extent is refused on an axial view, with a status message, and nothing is added.
    n = len(ctl.case.measurements)
    QTest.keyClick(view, Qt.Key_X)
    assert window.active_tool().name == "cc_extent"
    drag(view, (10.0, 10.0), (10.0, 40.0))
    assert len(ctl.case.measurements) == n
    assert "sagittal or coronal" in window.statusBar().currentMessage()

    kinds = [mm.kind for mm in ctl.case.measurements]
    assert kinds == ["bidirectional", "ellipse_roi", "polygon_roi", "freehand_roi", "angle", "probe"]
    assert window.undo_stack.count() == 6
    # the panel lists them all with the values drawn on the view
    panel = window.measure.panel
    panel.refresh()
    rows = panel.items()
    assert [r.text(0) for r in rows] == ["Bidirectional", "Ellipse ROI", "Polygon ROI", "Freehand ROI", "Angle",
                                         "Probe"]
    assert rows[0].text(2) == value_lines(ctl.case.measurements[0])[0]
    assert rows[0].text(3) == "Ax aniso (Se 1)" and rows[0].text(4) == "Ax Im 2"  # InstanceNumber


def test_click_click_length_and_keys_pick_tools(window, qtbot, series):
    folder, truth = series["aniso"]
    open_series(window, qtbot, folder)
    view = window.views()[0]
    view.setFocus()
    for key, mods, name in ((Qt.Key_B, Qt.NoModifier, "bidirectional"), (Qt.Key_E, Qt.NoModifier, "ellipse_roi"),
                            (Qt.Key_P, Qt.NoModifier, "polygon_roi"), (Qt.Key_F, Qt.NoModifier, "freehand_roi"),
                            (Qt.Key_A, Qt.NoModifier, "angle"), (Qt.Key_A, Qt.ShiftModifier, "cobb"),
                            (Qt.Key_V, Qt.NoModifier, "probe"), (Qt.Key_X, Qt.NoModifier, "cc_extent"),
                            (Qt.Key_L, Qt.NoModifier, "length")):
        QTest.keyClick(view, key, mods)
        assert window.active_tool().name == name, name
    a, b = (10.0, 10.0), (30.0, 10.0)
    click(view, a)
    hover(view, (20.0, 10.0))
    assert window.active_tool().drawing and not window.case.case.measurements
    click(view, b)
    m = only_measurement(window)
    expected = np.linalg.norm(truth_lps(truth, view, b) - truth_lps(truth, view, a))  # 20 px x 0.4 mm
    assert expected == pytest.approx(8.0)
    assert m.values()[0].value == pytest.approx(expected, abs=2 * half_pixel_mm(view))


def test_cobb_and_cc_extent_on_thick_slice_sagittal_and_its_reformats(window, qtbot, series):
    folder, truth = series["sag"]
    open_series(window, qtbot, folder, "spine")
    sag, axial, coronal = view_of(window, "sagittal"), view_of(window, "axial"), view_of(window, "coronal")
    assert sag.plane_spec().is_acquired and not axial.plane_spec().is_acquired
    assert axial.plane_geometry().x_spacing == pytest.approx(3.5)  # 3.5 mm reformat pixels (L-R)

    # CC extent on the acquired sagittal: the value is |dS| of the truth end points.
    window.set_tool("cc_extent")
    top, bottom = (20.0, 8.0), (24.0, 44.0)
    drag(sag, top, bottom)
    m = only_measurement(window)
    assert window.undo_stack.undoText() == "Add CC extent"
    assert_within_half_pixel(truth, sag, m.points[0], top)
    assert_within_half_pixel(truth, sag, m.points[1], bottom)
    cc_truth = abs(truth_lps(truth, sag, top)[2] - truth_lps(truth, sag, bottom)[2])
    assert cc_truth == pytest.approx(18.0)
    assert m.value("cc_extent").value == pytest.approx(cc_truth, abs=0.5 + 1e-9)
    (text,) = label_of(window, sag, m.id)
    assert text.startswith("CC ") and number(text) == pytest.approx(cc_truth, abs=0.55)
    assert m.sop_instance_uid is not None and m.plane.orientation == "sagittal"
    cc_id = m.id

    # Length on the axial reformat: 3.5 mm x 0.5 mm pixels; no SOPInstanceUID on a reformat.
    window.set_tool("length")
    a, b = (3.0, 10.0), (10.0, 40.0)
    drag(axial, a, b)
    m = only_measurement(window)
    assert_within_half_pixel(truth, axial, m.points[0], a)
    assert_within_half_pixel(truth, axial, m.points[1], b)
    assert m.sop_instance_uid is None and m.slice_index == axial.slice_index()
    assert m.plane.orientation == "axial"
    expected = np.linalg.norm(truth_lps(truth, axial, b) - truth_lps(truth, axial, a))
    assert m.values()[0].value == pytest.approx(expected, abs=2 * half_pixel_mm(axial))
    length_id = m.id

    # Cobb angle on the coronal reformat: two lines at +10 and -15 degrees to the horizontal (in mm).
    window.set_tool("cobb")
    g = coronal.plane_geometry()

    def line(centre, deg, half_mm=12.0):
        dx = half_mm * math.cos(math.radians(deg)) / g.x_spacing
        dy = -half_mm * math.sin(math.radians(deg)) / g.y_spacing
        return (centre[0] - dx, centre[1] - dy), (centre[0] + dx, centre[1] + dy)

    l1, l2 = line((7.0, 12.0), 10.0), line((7.0, 38.0), -15.0)
    drag(coronal, *l1)
    drag(coronal, *l2)
    m = only_measurement(window)
    assert m.kind == "cobb" and window.undo_stack.undoText() == "Add Cobb angle"
    t = [truth_lps(truth, coronal, xy) for xy in (*l1, *l2)]
    d1, d2 = t[1] - t[0], t[3] - t[2]
    truth_deg = math.degrees(math.acos(abs(np.dot(d1, d2)) / np.linalg.norm(d1) / np.linalg.norm(d2)))
    assert truth_deg == pytest.approx(25.0, abs=3.0)
    (text,) = label_of(window, coronal, m.id)
    assert text.startswith("Cobb ") and number(text) == pytest.approx(truth_deg, abs=1.5)

    # Each measurement is drawn only on the view of its own plane.
    ov = window.measure.overlay
    assert cc_id in ov.shown_ids(sag) and cc_id not in ov.shown_ids(axial) + ov.shown_ids(coronal)
    assert length_id in ov.shown_ids(axial) and length_id not in ov.shown_ids(sag) + ov.shown_ids(coronal)
    assert m.id in ov.shown_ids(coronal) and m.id not in ov.shown_ids(sag) + ov.shown_ids(axial)
    # ... and on its own slice only (half a slice either side)
    axial.step_slice(1)
    assert length_id not in ov.shown_ids(axial)
    axial.step_slice(-1)
    assert length_id in ov.shown_ids(axial)
    # another layout's axial reformat of the same slice draws it too (and nothing else does)
    window.set_layout("2x2")
    other_axial = window.views()[0]
    assert other_axial.orientation() == "axial"
    other_axial.show_lps(np.asarray(ov.controller.case.measurement(length_id).points[0]))
    assert length_id in ov.shown_ids(other_axial)
    assert all(length_id not in ov.shown_ids(v) for v in window.views() if v.orientation() != "axial")


def test_oblique_acquisition(window, qtbot, series):
    folder, truth = series["oblique"]
    open_series(window, qtbot, folder)
    view = window.views()[0]
    assert view.plane_spec().is_acquired
    window.set_tool("length")
    a, b = (6.0, 9.0), (40.0, 31.0)
    drag(view, a, b)
    m = only_measurement(window)
    assert_within_half_pixel(truth, view, m.points[0], a)
    assert_within_half_pixel(truth, view, m.points[1], b)
    expected = np.linalg.norm(truth_lps(truth, view, b) - truth_lps(truth, view, a))
    assert m.values()[0].value == pytest.approx(expected, abs=2 * half_pixel_mm(view))
    np.testing.assert_allclose(m.plane.normal, view.plane_geometry().normal, atol=1e-9)
    window.set_tool("ellipse_roi")
    drag(view, (18.0, 18.0), (30.0, 30.0))
    m = only_measurement(window)
    g = view.plane_geometry()
    # semi-axes of 6 pixels, each end within half a pixel: 5.5..6.5 pixels
    lo, hi = (math.pi * s * g.x_spacing * s * g.y_spacing for s in (5.5, 6.5))
    assert lo <= m.value("area").value <= hi
    assert m.stats.mean == pytest.approx(300.0) and m.stats.sd == pytest.approx(0.0)


def test_series_without_pixel_spacing_shows_pixels(window, qtbot, series):
    folder, _truth = series["nospacing"]
    vol = open_series(window, qtbot, folder)
    assert not vol.pixel_spacing_known
    view = window.views()[0]
    window.set_tool("length")
    drag(view, (5.0, 5.0), (25.0, 5.0))
    m = only_measurement(window)
    assert not m.pixel_spacing_known
    (text,) = label_of(window, view, m.id)
    assert text == "20.0 px"
    window.set_tool("ellipse_roi")
    drag(view, (10.0, 10.0), (30.0, 20.0))
    lines = label_of(window, view, only_measurement(window).id)
    assert lines[0].endswith(" px\u00b2") and "mm" not in " ".join(lines)
    window.measure.panel.refresh()
    assert all("mm" not in r.text(2) for r in window.measure.panel.items())


# ---------------------------------------------------------------------------------------------------------
# Editing: handles, moving, renaming, deleting, Esc, context menu
# ---------------------------------------------------------------------------------------------------------
def test_drag_handles_and_move_each_one_undo_step(window, qtbot, series):
    folder, truth = series["aniso"]
    open_series(window, qtbot, folder)
    view = window.views()[0]
    ctl = window.case
    window.set_tool("length")
    a, b = (10.0, 10.0), (30.0, 40.0)
    drag(view, a, b)
    m = only_measurement(window)
    created = dump(ctl.case)
    # hover highlights the handle
    hover(view, b)
    assert window.measure.overlay.hover is not None and window.measure.overlay.hover[1:] == (m.id, 1)
    # drag the end handle: live preview, ONE undoable update on release
    c = (40.0, 50.0)
    pa, pc = wpos(view, b), wpos(view, c)
    QTest.mousePress(view, Qt.LeftButton, Qt.NoModifier, pa)
    QTest.mouseMove(view, (pa + pc) / 2)
    assert window.measure.overlay.preview(m.id) is not None
    assert ctl.case.measurement(m.id).points == m.points  # not stored while dragging
    QTest.mouseMove(view, pc)
    QTest.mouseRelease(view, Qt.LeftButton, Qt.NoModifier, pc)
    assert window.undo_stack.count() == 2 and window.undo_stack.undoText() == "Move length handle"
    moved = ctl.case.measurement(m.id)
    assert_within_half_pixel(truth, view, moved.points[1], c)
    np.testing.assert_allclose(moved.points[0], m.points[0])
    assert len(window.case.case.measurements) == 1  # editing, not drawing a new one
    # drag the line itself: the whole measurement moves by the drag
    mid_xy = ((a[0] + c[0]) / 2, (a[1] + c[1]) / 2)
    drag(view, mid_xy, (mid_xy[0] - 5, mid_xy[1] + 4))
    assert window.undo_stack.undoText() == "Move length" and window.undo_stack.count() == 3
    shifted = ctl.case.measurement(m.id)
    delta = np.asarray(shifted.points[0]) - np.asarray(moved.points[0])
    np.testing.assert_allclose(np.asarray(shifted.points[1]) - np.asarray(moved.points[1]), delta, atol=1e-9)
    assert shifted.values()[0].value == pytest.approx(moved.values()[0].value)
    # Esc during a drag puts the measurement back and records nothing
    before_esc = dump(ctl.case)
    pa = wpos(view, view.plane_geometry().from_lps(np.asarray(shifted.points[0]))[:2])
    QTest.mousePress(view, Qt.LeftButton, Qt.NoModifier, pa)
    QTest.mouseMove(view, pa + QPoint(30, 20))
    assert window.measure.overlay.preview(m.id) is not None
    QTest.keyClick(view, Qt.Key_Escape)
    QTest.mouseRelease(view, Qt.LeftButton, Qt.NoModifier, pa + QPoint(30, 20))
    assert window.measure.overlay.preview(m.id) is None
    assert dump(ctl.case) == before_esc and window.undo_stack.count() == 3
    assert window.active_tool().name == "length"  # Esc cancelled the drag only
    # undo twice restores the drawn measurement exactly; redo re-applies
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert dump(ctl.case) == created
    window.undo_stack.redo()
    assert ctl.case.measurement(m.id).points == moved.points


def test_bidirectional_short_axis_stays_perpendicular(window, qtbot, series):
    folder, _truth = series["aniso"]
    open_series(window, qtbot, folder)
    view = window.views()[0]
    ctl = window.case
    window.set_tool("bidirectional")
    drag(view, (12.0, 30.0), (38.0, 30.0))
    m = only_measurement(window)
    g = view.plane_geometry()
    sb_xy = g.from_lps(np.asarray(m.points[3]))[:2]
    # pull one short-axis end outwards and along the long axis
    drag(view, sb_xy, (sb_xy[0] + 6, sb_xy[1] + 5))
    assert window.undo_stack.undoText() == "Move bidirectional handle"
    la, lb, sa, sb = (np.asarray(p) for p in ctl.case.measurement(m.id).points)
    assert abs(np.dot(lb - la, sb - sa)) < 1e-6 * np.linalg.norm(lb - la) * np.linalg.norm(sb - sa)
    # move a long-axis end: the short axis turns with it
    drag(view, (38.0, 30.0), (36.0, 44.0))
    la, lb, sa, sb = (np.asarray(p) for p in ctl.case.measurement(m.id).points)
    assert abs(np.dot(lb - la, sb - sa)) < 1e-6 * np.linalg.norm(lb - la) * np.linalg.norm(sb - sa)
    assert window.undo_stack.count() == 3


def test_rename_with_f2_and_double_click_delete_and_undo(window, qtbot, series):
    folder, _truth = series["aniso"]
    open_series(window, qtbot, folder)
    view = window.views()[0]
    ctl = window.case
    window.set_tool("ellipse_roi")
    drag(view, (15.0, 25.0), (35.0, 40.0))
    m = only_measurement(window)
    assert ctl.selected_id == m.id  # a new measurement is selected
    view.setFocus()
    QTest.keyClick(view, Qt.Key_F2)
    editor = view.findChild(LabelEditor)
    assert editor is not None and editor.isVisible()
    QTest.keyClicks(editor, "T6 lesion")  # typing letters (E, L...) must not switch tools
    assert window.active_tool().name == "ellipse_roi"
    QTest.keyClick(editor, Qt.Key_Return)
    assert ctl.case.measurement(m.id).label == "T6 lesion"
    assert window.undo_stack.undoText() == "Rename measurement"
    assert window.measure.overlay.shape_of(view, m.id).label[0] == "T6 lesion"
    # double-click the label: edit in place; Esc cancels
    shape = window.measure.overlay.shape_of(view, m.id)
    QTest.mouseDClick(view, Qt.LeftButton, Qt.NoModifier, shape.label_rect.center().toPoint())
    editor = window.measure.editor.label_editor
    assert editor is not None and editor.isVisible() and editor.text() == "T6 lesion"
    QTest.keyClicks(editor, "xx")
    QTest.keyClick(editor, Qt.Key_Escape)
    assert ctl.case.measurement(m.id).label == "T6 lesion" and window.undo_stack.count() == 2
    assert window.active_tool().name == "ellipse_roi"  # Esc in the editor does not leave the tool
    # select by clicking its outline (Navigate mode), then Delete
    window.set_tool("navigate")
    ctl.select("")
    outline_xy = view.plane_geometry().from_lps(np.asarray(m.points[1]))[:2]
    click(view, outline_xy)
    assert ctl.selected_id == m.id
    before_delete = dump(ctl.case)
    QTest.keyClick(view, Qt.Key_Delete)
    assert not ctl.case.measurements and window.undo_stack.undoText() == "Delete ellipse ROI"
    assert ctl.selected_id == ""
    QTest.keyClick(view, Qt.Key_Z, Qt.ControlModifier)
    assert dump(ctl.case) == before_delete
    QTest.keyClick(view, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert not ctl.case.measurements
    QTest.keyClick(view, Qt.Key_Y, Qt.ControlModifier)  # nothing left to redo: harmless
    assert not ctl.case.measurements
    window.undo_stack.undo()
    assert len(ctl.case.measurements) == 1
    names = [window.undo_stack.text(i) for i in range(window.undo_stack.count())]
    assert names == ["Add ellipse ROI", "Rename measurement", "Delete ellipse ROI"]
    # Edit > Undo / Redo name the entries
    assert "Rename measurement" in window.act_undo.text() and "Delete ellipse ROI" in window.act_redo.text()


def test_esc_cancels_the_drawing_then_returns_to_navigate(window, qtbot, series):
    folder, _truth = series["aniso"]
    open_series(window, qtbot, folder)
    view = window.views()[0]
    window.set_tool("polygon_roi")
    click(view, (10.0, 10.0))
    click(view, (30.0, 12.0))
    tool = window.active_tool()
    assert isinstance(tool, MeasurementTool) and tool.drawing
    QTest.keyClick(view, Qt.Key_Escape)
    assert not tool.drawing and window.active_tool().name == "polygon_roi"
    assert not window.case.case.measurements and window.undo_stack.count() == 0
    QTest.keyClick(view, Qt.Key_Escape)
    assert window.active_tool().name == "navigate"
    # a polygon also closes with a click on its first vertex; Backspace takes back the last vertex
    QTest.keyClick(view, Qt.Key_P)
    for xy in ((10.0, 10.0), (30.0, 12.0), (44.0, 50.0), (25.0, 30.0)):
        click(view, xy)
    QTest.keyClick(view, Qt.Key_Backspace)
    click(view, (12.0, 40.0))
    assert not window.case.case.measurements
    click(view, (10.5, 10.5))  # within a few screen pixels of the first vertex
    m = only_measurement(window)
    assert m.kind == "polygon_roi" and len(m.points) == 4
    g = view.plane_geometry()
    np.testing.assert_allclose(g.from_lps(np.asarray(m.points[3]))[:2], (12.0, 40.0), atol=0.5)
    window.undo_stack.undo()
    QTest.keyClick(view, Qt.Key_Escape)
    assert window.active_tool().name == "navigate"
    # Navigate mode: left-drag is window/level again, not a drawing
    wl = view.window_level()
    c0 = wl.center
    drag(view, (25.0, 30.0), (25.0, 20.0))
    assert wl.center != c0 and not window.case.case.measurements


def test_context_menu_and_assign_to_finding(window, qtbot, series):
    folder, _truth = series["aniso"]
    open_series(window, qtbot, folder)
    view = window.views()[0]
    ctl = window.case
    finding = ctl.add(Finding(label="T6 lesion"), "Add finding")
    window.set_tool("length")
    drag(view, (10.0, 20.0), (30.0, 20.0))
    m = only_measurement(window)
    window.set_tool("navigate")
    ctl.select("")
    click(view, (20.0, 20.0), Qt.RightButton)
    menus = [mn for mn in view.findChildren(QMenu) if mn.isVisible()]
    assert menus
    menu = menus[-1]
    assert ctl.selected_id == m.id
    texts = [a.text() for a in menu.actions()]
    assert texts[0].startswith("Length: ") and "Rename\u2026" in texts and "Delete" in texts
    assign = menu.findChild(QMenu, "measurement_assign")
    target = next(a for a in assign.actions() if a.text() == "T6 lesion")
    target.trigger()
    menu.close()
    assert ctl.case.measurement(m.id).finding_id == finding.id
    assert window.undo_stack.undoText() == "Assign measurement to finding"
    click(view, (20.0, 20.0), Qt.RightButton)
    menu = [mn for mn in view.findChildren(QMenu) if mn.isVisible()][-1]
    next(a for a in menu.actions() if a.objectName() == "measurement_delete").trigger()
    menu.close()
    assert not ctl.case.measurements and window.undo_stack.undoText() == "Delete length"


def test_read_only_case_refuses_drawing_with_a_message(window, qtbot, series):
    folder, _truth = series["aniso"]
    open_series(window, qtbot, folder)
    view = window.views()[0]
    window.case.set_read_only(True)
    window.set_tool("length")
    drag(view, (10.0, 10.0), (30.0, 30.0))
    assert not window.case.case.measurements
    assert "read-only" in window.statusBar().currentMessage()


# ---------------------------------------------------------------------------------------------------------
# Layouts, series, panel
# ---------------------------------------------------------------------------------------------------------
def test_measurement_survives_layouts_and_series_switches(window, qtbot, series):
    folder, truth = series["aniso"]
    open_series(window, qtbot, folder, "spine")
    axial = view_of(window, "axial")
    sagittal = view_of(window, "sagittal")
    window.set_tool("length")
    # an antero-posterior axial length: both ends lie in one sagittal plane, yet it is not drawn there
    drag(axial, (25.0, 10.0), (25.0, 50.0))
    m = only_measurement(window)
    stored = dump(window.case.case)
    ov = window.measure.overlay
    sagittal.show_lps(np.asarray(m.points[0]))
    assert sagittal.plane_geometry().contains(np.asarray(m.points, float)).all()
    assert m.id in ov.shown_ids(axial) and m.id not in ov.shown_ids(sagittal)
    for layout in ("1x1", "2x2", "1x2", "spine"):
        window.set_layout(layout)
        qtbot.wait(5)
        ax = view_of(window, "axial")
        ax.show_lps(np.asarray(m.points[0]))
        assert m.id in ov.shown_ids(ax), layout
        assert all(m.id not in ov.shown_ids(v) for v in window.views() if v.orientation() != "axial")
    other_folder, _ = series["other"]
    open_series(window, qtbot, other_folder, "spine")
    assert all(m.id not in ov.shown_ids(v) for v in window.views())  # another series: not drawn
    key = next(k for k, v in window.volumes().items() if v.metadata.series_instance_uid == truth["series_uid"])
    window.show_series(key)
    ax = view_of(window, "axial")
    ax.show_lps(np.asarray(m.points[0]))
    assert m.id in ov.shown_ids(ax)
    assert dump(window.case.case) == stored


def test_panel_row_click_navigates_and_selection_syncs(window, qtbot, series):
    folder, _truth = series["aniso"]
    open_series(window, qtbot, folder, "spine")
    axial = view_of(window, "axial")
    ctl = window.case
    window.set_tool("length")
    axial.set_slice(3)
    drag(axial, (10.0, 20.0), (30.0, 20.0))
    first = only_measurement(window)
    axial.set_slice(8)
    drag(axial, (10.0, 30.0), (30.0, 40.0))
    second = only_measurement(window)
    assert (first.slice_index, second.slice_index) == (3, 8)
    panel = window.measure.panel
    qtbot.waitUntil(lambda: len(panel.items()) == 2, timeout=2000)
    assert ctl.selected_id == second.id and panel.selected_id() == second.id  # selection follows
    row = panel.item_for(first.id)
    rect = panel.tree.visualItemRect(row)
    QTest.mouseClick(panel.tree.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    assert ctl.selected_id == first.id
    assert axial.slice_index() == 3 and first.id in window.measure.overlay.shown_ids(axial)
    # selecting on the view selects the row
    window.set_tool("navigate")
    axial.set_slice(8)
    click(axial, (20.0, 35.0))
    assert ctl.selected_id == second.id and panel.selected_id() == second.id
    # Delete in the panel removes the selected row's measurement
    panel.tree.setFocus()
    QTest.keyClick(panel.tree, Qt.Key_Delete)
    assert [mm.id for mm in ctl.case.measurements] == [first.id]
    assert window.undo_stack.undoText() == "Delete length"
    # Edit > Delete Measurement acts on the selection; Backspace in a view too
    ctl.select(first.id)
    assert window.measure.act_delete.isEnabled() and window.measure.act_rename.isEnabled()
    window.measure.act_delete.trigger()
    assert not ctl.case.measurements and not window.measure.act_delete.isEnabled()
    window.undo_stack.undo()
    axial.set_slice(3)
    window.set_tool("navigate")
    click(axial, (20.0, 20.0))
    assert ctl.selected_id == first.id
    QTest.keyClick(axial, Qt.Key_Backspace)
    assert not ctl.case.measurements
    window.undo_stack.undo()
    # F2 in the panel edits the label cell
    qtbot.waitUntil(lambda: len(panel.items()) == 1, timeout=2000)
    panel.tree.setCurrentItem(panel.item_for(first.id))
    QTest.keyClick(panel.tree, Qt.Key_F2)
    editor = panel.tree.focusWidget()
    assert editor is not panel.tree
    QTest.keyClicks(editor, "disc")
    QTest.keyClick(editor, Qt.Key_Return)
    qtbot.waitUntil(lambda: ctl.case.measurement(first.id).label == "disc", timeout=2000)
    assert window.undo_stack.undoText() == "Rename measurement"


def test_panel_groups_by_finding_with_lesion_dimensions(window, qtbot, series):
    folder, truth = series["sag"]
    open_series(window, qtbot, folder, "spine")
    sag, axial = view_of(window, "sagittal"), view_of(window, "axial")
    ctl = window.case
    lesion = ctl.add(Finding(label="T6 lesion"), "Add finding")
    panel = window.measure.panel
    window.measure.session.finding_for_new = lambda: lesion.id
    window.set_tool("bidirectional")
    drag(axial, (3.0, 10.0), (3.0, 40.0))  # along A-P (0.5 mm pixels): 15 mm
    bi = only_measurement(window)
    window.set_tool("cc_extent")
    drag(sag, (20.0, 8.0), (20.0, 44.0))  # 36 rows x 0.5 mm = 18 mm
    cc = only_measurement(window)
    window.measure.session.finding_for_new = None
    window.set_tool("length")
    drag(axial, (6.0, 10.0), (9.0, 20.0))
    loose = only_measurement(window)
    assert bi.finding_id == cc.finding_id == lesion.id and loose.finding_id is None
    panel.refresh()
    assert "right-click its bidirectional" in panel.group_items()[0].child(0).text(0)  # not marked yet
    assert window.measure.editor.set_dimension(bi.id, True) and window.measure.editor.set_dimension(cc.id, True)
    panel.refresh()
    groups = panel.group_items()
    assert [g.text(0) for g in groups] == ["T6 lesion", NO_FINDING]
    dims = lesion_dimensions(ctl.case, lesion.id)
    ap_truth = np.linalg.norm(truth_lps(truth, axial, (3.0, 40.0)) - truth_lps(truth, axial, (3.0, 10.0)))
    assert dims.ap == pytest.approx(ap_truth, abs=0.5) and ap_truth == pytest.approx(15.0)
    assert dims.cc == pytest.approx(18.0, abs=0.5)
    line = groups[0].child(0).text(0)
    assert line.startswith(f"AP x LR x CC: {dims.ap:.1f} x {dims.lr:.1f} x {dims.cc:.1f} mm")
    volume = math.pi / 6 * dims.ap * dims.lr * dims.cc / 1000
    assert f"Ellipsoid volume: {volume:.1f} mL" in line
    assert [groups[0].child(i).data(0, Qt.UserRole) for i in (1, 2)] == [bi.id, cc.id]
    assert groups[1].child(0).data(0, Qt.UserRole) == loose.id
