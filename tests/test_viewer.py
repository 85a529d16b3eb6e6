"""Slice view and MPR driven by real mouse, wheel and key events (pytest-qt)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
from imaging import display as d
from imaging.volume import Volume, VolumeMetadata
from widgets.mpr import ViewGrid
from widgets.overlays import OrientationOverlay, Overlay
from widgets.slice_view import SliceView
from widgets.tools import CrosshairTool, Tool
from widgets.window_level import WindowLevel


def rot_x(deg: float) -> np.ndarray:
    t = np.radians(deg)
    return np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])


def make_volume(kind: str = "axial", shape=(30, 40, 36), modality: str = "CT") -> Volume:
    """Volumes of each acquisition kind; 0 HU background with bright markers placed by patient position."""
    s, r, c = shape
    if kind == "axial":
        row, col, step, sp = (1, 0, 0), (0, 1, 0), (0, 0, -2.0), (0.7, 0.7)
    elif kind == "sagittal":
        row, col, step, sp = (0, 1, 0), (0, 0, -1), (-4.0, 0, 0), (0.5, 0.5)
    elif kind == "coronal":
        row, col, step, sp = (1, 0, 0), (0, 0, -1), (0, 3.0, 0), (0.6, 0.6)
    elif kind == "oblique":
        r20 = rot_x(20)
        row, col, step, sp = r20 @ [1, 0, 0], r20 @ [0, 1, 0], r20 @ [0, 0, 2.0], (0.7, 0.7)
    else:
        raise ValueError(kind)
    aff = np.eye(4)
    aff[:3, 0] = np.asarray(row, float) * sp[0]
    aff[:3, 1] = np.asarray(col, float) * sp[1]
    aff[:3, 2] = step
    aff[:3, 3] = (-10, -12, 40)
    arr = np.zeros(shape, np.int16)
    md = VolumeMetadata(patient_name="TEST^PATIENT", patient_id="P1", series_description=f"{kind} test",
                        study_date="20240102", study_description="SPINE", frame_of_reference_uid="1.2.3")
    vol = Volume(arr, aff, modality=modality, metadata=md)
    return vol


def mark_extreme(vol: Volume, direction: np.ndarray, value: int = 2000) -> None:
    """Set the voxels furthest along an LPS direction (a corner blob) to ``value``."""
    s, r, c = vol.shape
    kk, rr, cc = np.meshgrid(np.arange(s), np.arange(r), np.arange(c), indexing="ij")
    lps = vol.index_to_lps(np.stack([cc.ravel(), rr.ravel(), kk.ravel()], axis=1))
    score = lps @ np.asarray(direction, float)
    vol.array.ravel()[score >= np.percentile(score, 97)] = value


@pytest.fixture
def view(qtbot):
    v = SliceView()
    qtbot.addWidget(v)
    v.resize(400, 400)
    v.show()
    qtbot.waitExposed(v)
    return v


def wheel(widget, steps: int, pos: QPointF | None = None, modifiers=Qt.NoModifier) -> None:
    pos = pos or QPointF(widget.width() / 2, widget.height() / 2)
    ev = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * steps), Qt.NoButton,
                     modifiers, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def drag(widget, button, start: QPoint, end: QPoint, modifiers=Qt.NoModifier, steps: int = 5) -> None:
    QTest.mousePress(widget, button, modifiers, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * i / steps
        QTest.mouseMove(widget, QPoint(int(p.x()), int(p.y())))
    QTest.mouseRelease(widget, button, modifiers, end)


# -- scrolling and keys -----------------------------------------------------------------------------------
def test_wheel_changes_slice(view, qtbot):
    vol = make_volume("axial")
    view.set_volume(vol, "axial")
    k0 = view.slice_index()
    with qtbot.waitSignal(view.sliceChanged):
        wheel(view, -1)  # towards the user: next image
    assert view.slice_index() == k0 + 1
    wheel(view, 3)
    assert view.slice_index() == k0 - 2
    wheel(view, 100)
    assert view.slice_index() == 0  # clamped


def test_keys_navigate_slices(view):
    view.set_volume(make_volume("axial"), "axial")
    n = view.slice_count()
    view.setFocus()
    QTest.keyClick(view, Qt.Key_Home)
    assert view.slice_index() == 0
    QTest.keyClick(view, Qt.Key_Down)
    assert view.slice_index() == 1
    QTest.keyClick(view, Qt.Key_PageDown)
    assert view.slice_index() == 11
    QTest.keyClick(view, Qt.Key_Up)
    assert view.slice_index() == 10
    QTest.keyClick(view, Qt.Key_PageUp)
    assert view.slice_index() == 0
    QTest.keyClick(view, Qt.Key_End)
    assert view.slice_index() == n - 1


def test_left_drag_changes_window_and_level(view):
    view.set_volume(make_volume("axial"), "axial")
    wl = view.window_level()
    c0, w0 = wl.center, wl.width
    drag(view, Qt.LeftButton, QPoint(200, 200), QPoint(260, 200))  # right: wider
    assert wl.width > w0 and wl.center == pytest.approx(c0)
    w1 = wl.width
    drag(view, Qt.LeftButton, QPoint(200, 200), QPoint(200, 150))  # up: lower level
    assert wl.center < c0 and wl.width == pytest.approx(w1)
    assert wl.name == ""  # a manual window is no longer a preset


def test_preset_keys_reset_and_invert(view):
    view.set_volume(make_volume("axial"), "axial")
    wl = view.window_level()
    view.setFocus()
    QTest.keyClick(view, Qt.Key_2)
    assert (wl.center, wl.width, wl.name) == (400, 1800, "Bone")
    QTest.keyClick(view, Qt.Key_3)
    assert wl.name == "Spine soft tissue"
    QTest.keyClick(view, Qt.Key_I)
    assert wl.invert
    view.zoom_by(2.0)
    QTest.keyClick(view, Qt.Key_R)
    assert (wl.center, wl.width, wl.invert) == (40, 400, False)
    assert view.zoom_factor() == pytest.approx(SliceView.zoom_factor(view))
    assert view._zoom == 1.0 and view._pan == (0.0, 0.0)
    QTest.keyClick(view, Qt.Key_H)
    assert not view.show_patient_info


def test_window_level_is_shared_by_the_views_of_a_series(qtbot):
    vol = make_volume("axial")
    wl = WindowLevel(vol)
    views = [SliceView() for _ in range(2)]
    for v, o in zip(views, ("axial", "sagittal"), strict=True):
        qtbot.addWidget(v)
        v.resize(300, 300)
        v.show()
        v.set_volume(vol, o, wl)
    drag(views[0], Qt.LeftButton, QPoint(150, 150), QPoint(200, 150))
    assert views[1].window_level() is wl and wl.width > 400


def test_pan_and_zoom(view):
    view.set_volume(make_volume("axial"), "axial")
    centre = QPoint(200, 200)
    before = view.widget_to_lps(QPointF(centre))
    drag(view, Qt.MiddleButton, centre, QPoint(230, 180))
    after = view.widget_to_lps(QPointF(230, 180))
    np.testing.assert_allclose(after, before, atol=1e-6)  # the point followed the mouse
    z0 = view.zoom_factor()
    anchor = QPointF(120, 140)
    p = view.widget_to_lps(anchor)
    wheel(view, 2, anchor, Qt.ControlModifier)
    assert view.zoom_factor() > z0
    np.testing.assert_allclose(view.widget_to_lps(anchor), p, atol=1e-6)  # zoom about the mouse
    z1 = view.zoom_factor()
    drag(view, Qt.RightButton, QPoint(200, 200), QPoint(200, 120))  # right-drag up: zoom in
    assert view.zoom_factor() > z1


# -- orientation and aspect -------------------------------------------------------------------------------
EXPECTED = {
    "axial": {"left": "R", "right": "L", "top": "A", "bottom": "P"},
    "sagittal": {"left": "A", "right": "P", "top": "S", "bottom": "I"},
    "coronal": {"left": "R", "right": "L", "top": "S", "bottom": "I"},
}
# A patient direction that must appear in the top-left corner of each plane.
TOP_LEFT = {"axial": (-1, -1, 0), "sagittal": (0, -1, 1), "coronal": (-1, 0, 1)}


@pytest.mark.parametrize("kind", ["axial", "sagittal", "coronal"])
@pytest.mark.parametrize("orientation", ["axial", "sagittal", "coronal"])
def test_orientation_letters_and_rendered_orientation(view, kind, orientation):
    vol = make_volume(kind)
    mark_extreme(vol, TOP_LEFT[orientation])
    view.set_volume(vol, orientation)
    ctx = view.overlay_context()
    assert OrientationOverlay.letters(ctx) == EXPECTED[orientation]
    # The marker (patient e.g. right-anterior on an axial) is drawn in the top-left quadrant of the view.
    img = view.grab().toImage()
    g = view.plane_geometry()
    spec = view.plane_spec()
    # find the brightest displayed pixel of the plane through the marker
    centre_marker = None
    for k in range(spec.count):
        view.set_slice(k)
        plane = spec.extract(vol.array, k)
        if plane.max() > 1000:
            ys, xs = np.nonzero(plane > 1000)
            centre_marker = view.display_to_widget((xs.mean(), ys.mean()))
            break
    assert centre_marker is not None
    img = view.grab().toImage()
    assert centre_marker.x() < view.width() / 2 and centre_marker.y() < view.height() / 2
    px = QColor(img.pixel(int(centre_marker.x()), int(centre_marker.y())))
    assert px.lightness() > 200  # really drawn there
    del g


def test_oblique_series_letters(view):
    vol = make_volume("oblique")
    view.set_volume(vol, "axial")
    letters = OrientationOverlay.letters(view.overlay_context())
    assert letters == {"left": "R", "right": "L", "top": "AI", "bottom": "PS"}
    view.set_volume(vol, "sagittal")
    letters = OrientationOverlay.letters(view.overlay_context())
    assert letters["top"] == "SA" and letters["left"] == "AI" and letters["right"] == "PS"


def test_thick_slice_reformat_drawn_with_true_aspect(view):
    vol = make_volume("sagittal", shape=(12, 60, 50))  # 4 mm slices, 0.5 mm pixels
    view.set_volume(vol, "axial")
    spec = view.plane_spec()
    assert spec.pixel_size == pytest.approx((4.0, 0.5))
    a = view.display_to_widget((-0.5, -0.5))
    b = view.display_to_widget((spec.width - 0.5, spec.height - 0.5))
    drawn_w, drawn_h = b.x() - a.x(), b.y() - a.y()
    # x: 12 slices x 4 mm (L-R); y: 50 columns x 0.5 mm (A-P)
    assert drawn_w / drawn_h == pytest.approx((12 * 4.0) / (50 * 0.5), rel=1e-6)


# -- MPR --------------------------------------------------------------------------------------------------
@pytest.fixture
def grid(qtbot):
    g = ViewGrid()
    qtbot.addWidget(g)
    g.resize(900, 600)
    g.set_layout("spine")
    g.show()
    qtbot.waitExposed(g)
    return g


@pytest.mark.parametrize("kind", ["axial", "sagittal", "oblique"])
def test_shift_click_puts_the_same_point_under_the_cursor_in_all_views(grid, qtbot, kind):
    vol = make_volume(kind, shape=(24, 40, 36))
    wl = WindowLevel(vol)
    for v, o in zip(grid.views, ("sagittal", "axial", "coronal"), strict=False):
        v.set_volume(vol, o, wl)
    qtbot.wait(10)
    for source in grid.views[:3]:
        target = QPoint(int(source.width() * 0.43), int(source.height() * 0.57))
        QTest.mouseClick(source, Qt.LeftButton, Qt.ShiftModifier, target)
        p = source.widget_to_lps(QPointF(target))
        np.testing.assert_allclose(grid.mpr.cursor, p, atol=1e-9)
        half_voxel = 0.5 * np.array(vol.spacing)
        for v in grid.views[:3]:
            g = v.plane_geometry()
            x, y, dist = g.from_lps(p)
            assert abs(dist) <= g.thickness / 2 + 1e-6, (v.orientation(), dist)
            # the point drawn under the cursor mark in this view maps back to the same voxel position
            on_screen = v.lps_to_widget(p)
            back = v.widget_to_lps(on_screen)
            delta_index = np.abs(vol.lps_to_index(back) - vol.lps_to_index(p))
            assert np.all(delta_index <= 0.5 + 1e-6), (v.orientation(), delta_index)
            assert np.linalg.norm(back - p) <= np.linalg.norm(half_voxel) + 1e-6
            np.testing.assert_allclose(v.cursor_lps, p)


def test_crosshair_tool_and_reference_lines(grid):
    vol = make_volume("axial", shape=(24, 40, 36))
    wl = WindowLevel(vol)
    for v, o in zip(grid.views, ("sagittal", "axial", "coronal"), strict=False):
        v.set_volume(vol, o, wl)
    tool = CrosshairTool()
    for v in grid.views:
        v.set_tool(tool)
    axial = grid.views[1]
    QTest.mouseClick(axial, Qt.LeftButton, Qt.NoModifier, QPoint(axial.width() // 3, axial.height() // 3))
    sag = grid.views[0]
    expected = sag.plane_spec().nearest_slice(grid.mpr.cursor)
    assert sag.slice_index() == expected
    # the sagittal view's plane is drawn as a vertical reference line through the cursor on the axial
    line = d.plane_line(axial.plane_geometry(), sag.plane_geometry())
    x_cursor, y_cursor, _ = axial.plane_geometry().from_lps(grid.mpr.cursor)
    a, b, c = line
    assert abs(b) < 1e-9 and abs(a * x_cursor + c) / abs(a) <= 0.5 + 1e-9
    # scrolling the axial view moves the cursor with its plane; the sagittal stays put
    wheel(axial, -2)
    assert sag.slice_index() == expected
    assert axial.plane_geometry().contains(grid.mpr.cursor)


def test_layouts(grid):
    for name, n in (("1x1", 1), ("1x2", 2), ("2x2", 4), ("spine", 3)):
        grid.set_layout(name)
        assert len(grid.visible_views()) == n
        assert all(v.isVisible() for v in grid.visible_views())
        assert not any(v.isVisible() for v in grid.views[n:])
    with pytest.raises(ValueError):
        grid.set_layout("3x3")
    sag, ax = grid.views[0], grid.views[1]
    assert sag.width() > 1.2 * ax.width()  # spine: a large sagittal beside axial/coronal


# -- plug-in API ------------------------------------------------------------------------------------------
def test_custom_tool_gets_lps_and_overlay_paints(view, qtbot):
    vol = make_volume("axial")
    view.set_volume(vol, "axial")
    seen = []

    class Probe(Tool):
        name = "probe"

        def mouse_press(self, e):
            seen.append(("press", e.lps.copy(), e.button))
            return True

        def mouse_release(self, e):
            seen.append(("release", e.lps.copy(), e.button))
            return True

    painted = []

    class Dot(Overlay):
        z = 50

        def paint(self, painter, ctx):
            painted.append((ctx.slice_index, ctx.orientation))
            p, dist = ctx.lps_to_widget(ctx.geometry.to_lps((3, 4)))
            assert abs(dist) < 1e-9
            assert ctx.to_display(p) == pytest.approx([3, 4])

    view.set_tool(Probe())
    view.add_overlay(Dot())
    pos = QPoint(150, 170)
    QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, pos)
    assert [s[0] for s in seen] == ["press", "release"]
    np.testing.assert_allclose(seen[0][1], view.widget_to_lps(QPointF(pos)))
    view.repaint()
    assert painted and painted[-1] == (view.slice_index(), "axial")
    wl = view.window_level()
    c0 = wl.center
    drag(view, Qt.LeftButton, QPoint(100, 100), QPoint(100, 50))  # the tool owns the left button
    assert wl.center == c0


def test_hover_reports_value_lps_and_voxel(view, qtbot):
    vol = make_volume("axial")
    vol.array[:] = 123
    view.set_volume(vol, "axial")
    infos = []
    view.hoverChanged.connect(infos.append)
    # a button-less move (QTest.mouseMove only moves the cursor on the offscreen platform)
    pos = QPointF(200, 200)
    QApplication.sendEvent(view, QMouseEvent(QEvent.MouseMove, pos, view.mapToGlobal(pos), Qt.NoButton,
                                             Qt.NoButton, Qt.NoModifier))
    qtbot.waitUntil(lambda: any(i is not None for i in infos), timeout=2000)
    info = [i for i in infos if i is not None][-1]
    assert info.value == 123 and info.unit == "HU" and info.voxel is not None
    text = info.text()
    assert "HU 123" in text and "LPS (" in text and "voxel" in text


def test_scrolling_draws_fast_then_settles_smoothed(view, qtbot):
    """While the slice changes, frames skip interpolation; SETTLE_MS later the same slice is redrawn
    smoothed (interactive rendering). A still image is always the interpolated one."""
    from widgets.slice_view import SETTLE_MS

    vol = make_volume("axial", shape=(30, 12, 10))  # few, large pixels: interpolation shows
    vol.array[...] = np.random.default_rng(0).integers(-200, 300, vol.array.shape)
    view.set_volume(vol, "axial")
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(view.is_settled, timeout=2000)
    settled_before = view.grab().toImage()
    wheel(view, 1)
    assert not view.is_settled()
    moving = view.grab().toImage()
    qtbot.waitUntil(view.is_settled, timeout=SETTLE_MS * 10)
    view.repaint()
    settled_after = view.grab().toImage()
    wheel(view, -1)  # back to the first slice, then wait: identical to the first settled picture
    qtbot.waitUntil(view.is_settled, timeout=SETTLE_MS * 10)
    view.repaint()
    assert view.grab().toImage() == settled_before
    assert moving != settled_after  # same slice, nearest-neighbour vs bilinear
