"""The Bilsky contour assistant driven by real mouse clicks, drags, wheel and keys (pytest-qt).

The acceptance test opens the thoracic sample case's axial T2 MR, goes (with the arrow keys) to the slice of
worst compression named by ``sample_dicoms/thoracic_ddlps/truth.json`` ("bilsky": its SOPInstanceUID), and
clicks the four outlines the generator wrote there (bony canal, thecal sac, spinal cord, tumour) with the
polygon tools; the suggestion must be the truth's grade 3. The other tests use a small synthetic axial series
(tests/dicom_factory.py) whose geometry gives the expected areas.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QScrollArea

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
from imaging import measure
from imaging.case.findings import graded_assessment
from imaging.case.model import Finding
from imaging.spine.contour_masks import suggest_from_contours
from tests.dicom_factory import write_series

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_dicoms" / "thoracic_ddlps"
TRUTH_KINDS = (("canal", "bony_canal"), ("sac", "thecal_sac"), ("cord", "cord"), ("tumour", "tumour"))
ALT_KEYS = {"canal": Qt.Key_1, "sac": Qt.Key_2, "cord": Qt.Key_3, "tumour": Qt.Key_4}


# -- fixtures -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def thoracic(tmp_path_factory) -> Path:
    """The thoracic sample case folder (generated when the repository does not hold it yet)."""
    if (SAMPLE / "truth.json").exists():
        return SAMPLE
    out = tmp_path_factory.mktemp("samples")
    subprocess.run([sys.executable, "-m", "tools.phantom", str(out), "--case", "thoracic_ddlps"], check=True,
                   cwd=ROOT, timeout=600)
    return out / "thoracic_ddlps"


@pytest.fixture(scope="module")
def small_axial(tmp_path_factory) -> Path:
    """Axial MR, 5 slices of 64 x 64 pixels of 0.5 mm (columns) x 0.5 mm (rows), 3 mm apart."""
    folder = tmp_path_factory.mktemp("small_axial")
    write_series(folder, shape=(5, 64, 64), spacing=(0.5, 0.5), origin=(-16.0, -16.0, 0.0), slice_gap=3.0,
                 modality="MR", description="Ax T2 test", values=np.full((5, 64, 64), 300, np.int16),
                 rescale=(1.0, 0.0))
    return folder


def make_window(qtbot, tmp_path, folder: Path):
    from app.features import install_features
    from app.main_window import MainWindow
    from app.settings import Settings

    settings = Settings(tmp_path / "settings.ini")
    settings.set_reader_name("reader1")
    w = MainWindow(settings=settings, restore_state=False, install_features=False)
    installed = install_features(w, ["app.feature_findings", "app.feature_bilsky_assistant"])
    assert installed == ["app.feature_findings", "app.feature_bilsky_assistant"]
    qtbot.addWidget(w)
    w.set_layout("1x1")
    w.resize(1400, 950)
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitSignal(w.volumeLoaded, timeout=30_000):
        w.open_paths([folder])
    w.bilsky_assistant.show_panel()
    return w


@pytest.fixture
def window(qtbot, tmp_path, small_axial):
    w = make_window(qtbot, tmp_path, small_axial)
    yield w
    w.cancel_loading()
    w.jobs.wait_all(5000)


# -- helpers --------------------------------------------------------------------------------------------------
def widget_point(view, lps) -> QPoint:
    p = view.lps_to_widget(np.asarray(lps, dtype=float))
    return QPoint(round(p.x()), round(p.y()))


def wheel(widget, steps: int, pos: QPointF, modifiers=Qt.NoModifier) -> None:
    ev = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * steps), Qt.NoButton,
                     modifiers, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def hover(widget, pos: QPoint) -> None:
    """A button-less move (QTest.mouseMove only moves the cursor on the offscreen platform)."""
    p = QPointF(pos)
    QApplication.sendEvent(widget, QMouseEvent(QEvent.MouseMove, p, widget.mapToGlobal(p), Qt.NoButton,
                                               Qt.NoButton, Qt.NoModifier))


def drag(widget, start: QPoint, end: QPoint, steps: int = 12) -> None:
    QTest.mousePress(widget, Qt.LeftButton, Qt.NoModifier, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(widget, QPoint(round(p.x()), round(p.y())))
    QTest.mouseRelease(widget, Qt.LeftButton, Qt.NoModifier, end)


def key(view, k, mods=Qt.NoModifier) -> None:
    view.setFocus()
    QTest.keyClick(view, k, mods)


def pick_tool(window, kind: str) -> None:
    view = window.active_view()
    key(view, Qt.Key_B if kind == "brush" else ALT_KEYS[kind], Qt.AltModifier)
    assert window.active_tool().name == f"contour_{kind}"


def click_polygon(view, points_lps, min_px: float = 4.0) -> None:
    """Click the outline's vertices (skipping ones a few pixels from the last click, which the tool would
    merge, and ones that would land on the first vertex and close early); double-click the last."""
    first = widget_point(view, points_lps[0])
    QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, first)
    last = first
    for p in points_lps[1:-1]:
        q = widget_point(view, p)
        if math.dist((q.x(), q.y()), (last.x(), last.y())) < min_px or \
                math.dist((q.x(), q.y()), (first.x(), first.y())) < 10:
            continue
        QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, q)
        last = q
    end = widget_point(view, points_lps[-1])
    if math.dist((end.x(), end.y()), (first.x(), first.y())) < 10:
        key(view, Qt.Key_Return)  # the last vertex sits on the first: close with Enter
    else:
        QTest.mouseDClick(view, Qt.LeftButton, Qt.NoModifier, end)


def square(view, centre_xy_mm: tuple[float, float], half_mm: float) -> list[np.ndarray]:
    """LPS corners of a square on the view's plane, given in plane mm from the plane origin."""
    g = view.plane_geometry()
    cx, cy = centre_xy_mm
    corners = [(cx - half_mm, cy - half_mm), (cx + half_mm, cy - half_mm), (cx + half_mm, cy + half_mm),
               (cx - half_mm, cy + half_mm)]
    return [g.to_lps((x / g.x_spacing, y / g.y_spacing)) for x, y in corners]


def ensure_visible(widget) -> None:
    """Scroll the panel's scroll area (the Bilsky panel's) so ``widget`` can be clicked."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    if parent is not None:
        parent.ensureWidgetVisible(widget)
    QTest.qWait(1)


def new_finding(window) -> Finding:
    """Click "New" in the Bilsky panel's finding selector."""
    button = window.bilsky_panel.selector.new_button
    QTest.mouseClick(button, Qt.LeftButton)
    f = window.finding_focus.current()
    assert f is not None
    return f


def contours(window, kind: str | None = None):
    f = window.finding_focus.current()
    return [c for c in (f.contours if f else []) if kind is None or c.kind == kind]


def undo(window) -> None:
    key(window.active_view(), Qt.Key_Z, Qt.ControlModifier)


def redo(window) -> None:
    key(window.active_view(), Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)


# -- acceptance: the thoracic sample case ---------------------------------------------------------------------
def test_thoracic_worst_slice_contours_suggest_grade_3_and_accepting_keeps_both(qtbot, tmp_path, thoracic):
    truth = json.loads((thoracic / "truth.json").read_text())["bilsky"]
    series = next(s for s in truth["per_series"] if s["series_uid"] == truth["series_uid"])
    w = make_window(qtbot, tmp_path, thoracic / series["series_key"])
    try:
        view = w.active_view()
        vol = view.volume()
        assert vol.metadata.series_instance_uid == truth["series_uid"] and view.orientation() == "axial"
        finding = new_finding(w)
        # to the slice of worst compression, by its SOPInstanceUID, with the keys
        key(view, Qt.Key_Home)
        for _ in range(view.slice_count()):
            if vol.sop_instance_uid(view.slice_index()) == truth["sop_instance_uid"]:
                break
            key(view, Qt.Key_Down)
        assert vol.sop_instance_uid(view.slice_index()) == truth["sop_instance_uid"]
        outlines = {kind: series["compression_contours_lps"][src][0] for kind, src in TRUTH_KINDS}
        # zoom in on the canal (Ctrl+wheel at its centre) so clicks are a tenth of a millimetre apart
        centre = np.mean(outlines["canal"], axis=0)
        for _ in range(10):
            wheel(view, 1, QPointF(widget_point(view, centre)), Qt.ControlModifier)
        assert view.zoom_factor() > 8
        geometry = view.plane_geometry()
        px_mm = 1 / (view.zoom_factor() / geometry.x_spacing)  # mm per widget pixel

        for kind, _ in TRUTH_KINDS:
            pick_tool(w, kind)
            click_polygon(view, outlines[kind])
            drawn = contours(w, kind)
            assert len(drawn) == 1, kind
            c = drawn[0]
            assert c.series_instance_uid == truth["series_uid"]
            assert c.sop_instance_uid == truth["sop_instance_uid"]
            assert c.slice_index == view.slice_index()
            # every vertex on the slice, within a widget pixel of the truth outline's vertices
            pts = np.asarray(c.points)
            assert np.all(np.abs(geometry.from_lps(pts)[:, 2]) < 1e-6)
            ref = np.asarray(outlines[kind])[:, :2]
            nearest = np.min(np.linalg.norm(pts[:, None, :2] - ref[None, :, :2], axis=2), axis=1)
            assert nearest.max() < px_mm + 0.06  # the truth's points are rounded to 0.01-0.05 mm
        assert w.undo_stack.undoText() == "Draw tumour contour"

        panel = w.bilsky_assistant.panel
        result = panel.result()
        assert result is not None and result.problem is None
        s = result.suggestion
        assert s.grade == truth["grade"] == "3"
        # sensible reasons: epidural tumour in the canal, the cord indented, no CSF left around it
        assert s.value("tumor_area_in_canal") > 50.0
        assert s.value("cord_indentation") >= 0.5
        assert s.value("csf_area") < 2.0
        assert s.value("tumor_cord_gap") == 0.0
        # the same grade as the truth outlines themselves give on this slice's pixel grid
        spec = view.plane_spec()
        direct = suggest_from_contours([{"kind": k, "points": outlines[k], "series_instance_uid": None}
                                        for k, _ in TRUTH_KINDS], geometry, (spec.height, spec.width))
        assert direct.suggestion.grade == "3"
        assert s.value("cord_indentation") == pytest.approx(direct.suggestion.value("cord_indentation"), abs=0.5)
        # shown in the panel: grade, reasons with units
        assert "3" in panel.grade_label.text()
        assert panel.reason_rows["cord_indentation"][1].text() == f"{s.value('cord_indentation'):.1f} mm"
        assert panel.reason_rows["csf_area"][1].text() == f"{s.value('csf_area'):.1f} mm\u00b2"
        # the suggestion is stored with the contours, the final grade untouched
        f = w.case.case.finding(finding.id)
        assert f.bilsky.suggested_grade == "3" and f.bilsky.grade is None
        assert "No final grade" in panel.agreement_label.text()

        # accept it: one undo step; the finding keeps the suggested and the final grade
        button = panel.accept_button
        assert button.isEnabled() and button.text() == "Accept suggested grade 3"
        ensure_visible(button)
        QTest.mouseClick(button, Qt.LeftButton)
        f = w.case.case.finding(finding.id)
        assert (f.bilsky.suggested_grade, f.bilsky.grade) == ("3", "3")
        assert f.bilsky.sop_instance_uid == truth["sop_instance_uid"]
        assert f.bilsky.series_instance_uid == truth["series_uid"]
        assert [r.name for r in f.bilsky.suggestion_reasons] == [r.name for r in s.reasons]
        assert w.undo_stack.undoText() == "Accept suggested Bilsky grade 3"
        assert "agrees" in panel.agreement_label.text()
        assert not button.isEnabled()
        assert w.bilsky_panel.grade_card("3").isChecked()  # the grading panel shows the final grade

        # the reader changes the final grade (through the model): the panel says they differ
        f = w.case.case.finding(finding.id)
        w.case.update(f.id, text="Set Bilsky grade 2",
                      bilsky=graded_assessment(f.bilsky, "2", level=None, series_instance_uid=None,
                                               sop_instance_uid=None, slice_index=None, reader="reader1"))
        assert w.case.case.finding(f.id).bilsky.suggested_grade == "3"
        text = panel.agreement_label.text()
        assert "Final grade 2 differs from the suggested grade 3" in text
        undo(w)
        undo(w)
        f = w.case.case.finding(finding.id)
        assert (f.bilsky.suggested_grade, f.bilsky.grade) == ("3", None)
    finally:
        w.cancel_loading()
        w.jobs.wait_all(5000)


# -- drawing, undo, redo ----------------------------------------------------------------------------------
def test_polygon_and_freehand_outlines_are_undoable(window):
    view = window.active_view()
    new_finding(window)
    g = view.plane_geometry()
    pick_tool(window, "canal")
    corners = square(view, (16.0, 16.0), 6.0)  # 12 x 12 mm
    for p in corners[:-1]:
        QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, p))
    QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, corners[-1]))
    key(view, Qt.Key_Return)
    [canal] = contours(window, "canal")
    mm_per_px = g.x_spacing / view.zoom_factor()
    assert measure.polygon_area(canal.points) == pytest.approx(144.0, abs=4 * 12 * mm_per_px)
    assert canal.sop_instance_uid == view.volume().sop_instance_uid(view.slice_index())
    assert window.undo_stack.undoText() == "Draw canal contour"

    # freehand: press, drag around a circle, release
    pick_tool(window, "sac")
    centre = g.to_lps((16.0 / g.x_spacing, 16.0 / g.y_spacing))
    ring = [centre + 4.0 * (math.cos(a) * g.x_dir + math.sin(a) * g.y_dir) for a in np.linspace(0, 2 * np.pi, 60)]
    QTest.mousePress(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, ring[0]))
    for p in ring[1:]:
        QTest.mouseMove(view, widget_point(view, p))
    QTest.mouseRelease(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, ring[-1]))
    [sac] = contours(window, "sac")
    assert measure.polygon_area(sac.points) == pytest.approx(math.pi * 16, rel=0.06)
    assert window.undo_stack.undoText() == "Draw sac contour"

    undo(window)
    assert contours(window, "sac") == [] and len(contours(window, "canal")) == 1
    redo(window)
    assert len(contours(window, "sac")) == 1

    # a new canal outline on the same slice replaces the old one, in one undo step
    pick_tool(window, "canal")
    smaller = square(view, (16.0, 16.0), 5.0)
    for p in smaller[:-1]:
        QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, p))
    QTest.mouseDClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, smaller[-1]))
    [canal2] = contours(window, "canal")
    assert canal2.id != canal.id and measure.polygon_area(canal2.points) < 110
    undo(window)
    assert [c.id for c in contours(window, "canal")] == [canal.id]

    # Delete removes the tool's kind on this slice; Esc cancels an outline in progress
    key(view, Qt.Key_Delete)
    assert contours(window, "canal") == []
    assert window.undo_stack.undoText() == "Delete canal contour"
    undo(window)
    assert len(contours(window, "canal")) == 1
    QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, corners[0]))
    QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, corners[1]))
    key(view, Qt.Key_Escape)
    assert not window.active_tool().drawing and len(contours(window, "canal")) == 1


def test_outlines_belong_to_one_slice(window):
    view = window.active_view()
    new_finding(window)
    pick_tool(window, "cord")
    pts = square(view, (16.0, 16.0), 3.0)
    for p in pts[:-1]:
        QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, p))
    QTest.mouseDClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, pts[-1]))
    panel = window.bilsky_assistant.panel
    assert [c.kind for c in panel.shown_contours()] == ["cord"]
    assert panel.contour_status["cord"].text().startswith("\u2713 36.")
    key(view, Qt.Key_Down)
    assert panel.shown_contours() == []
    assert panel.goto_row.isVisibleTo(panel)
    ensure_visible(panel.goto_button)
    QTest.mouseClick(panel.goto_button, Qt.LeftButton)
    assert [c.kind for c in panel.shown_contours()] == ["cord"]


# -- the brush ------------------------------------------------------------------------------------------------
def test_brush_pushes_an_edge_out_and_in(window):
    view = window.active_view()
    new_finding(window)
    g = view.plane_geometry()
    pick_tool(window, "canal")
    corners = square(view, (16.0, 16.0), 5.0)  # x and y from 11 to 21 mm
    for p in corners[:-1]:
        QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, p))
    QTest.mouseDClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, corners[-1]))
    [canal] = contours(window, "canal")
    area0 = measure.polygon_area(canal.points)

    pick_tool(window, "brush")
    session = window.bilsky_assistant.session
    assert session.brush_kind == "canal"
    r0 = session.brush_radius
    key(view, Qt.Key_BracketRight)
    assert session.brush_radius == pytest.approx(r0 * 1.25)
    key(view, Qt.Key_BracketLeft)
    assert session.brush_radius == pytest.approx(r0)

    def at(x_mm: float, y_mm: float) -> QPoint:
        return widget_point(view, g.to_lps((x_mm / g.x_spacing, y_mm / g.y_spacing)))

    # press inside, near the right edge (x = 21), drag out to x = 24: the edge follows the disc
    hover(view, at(19.5, 16.0))
    drag(view, at(19.5, 16.0), at(24.0, 16.0))
    [pushed] = contours(window, "canal")
    area1 = measure.polygon_area(pushed.points)
    r = session.brush_radius
    # at least the strip swept beyond the old edge: from x = 21 to 24 + r, 2r wide (minus the rounded end)
    assert area1 > area0 + 2 * r * (3.0 + r) - (4 - math.pi) * r * r / 2 - 1.0
    assert window.undo_stack.undoText() == "Brush canal contour"
    x_max = max(g.from_lps(np.asarray(pushed.points))[:, 0]) * g.x_spacing
    assert x_max == pytest.approx(24.0 + r, abs=0.3)

    # press outside, above the top edge (y = 11), drag down into it: the edge is pushed in
    drag(view, at(14.0, 8.0), at(14.0, 13.0))
    [dented] = contours(window, "canal")
    area2 = measure.polygon_area(dented.points)
    assert area2 < area1 - 2 * r * 2.0 + 1.0
    y_at_14 = [y * g.y_spacing for x, y, _ in g.from_lps(np.asarray(dented.points)) if abs(x * g.x_spacing - 14.0)
               < 0.2]
    assert min(y_at_14) == pytest.approx(13.0 + r, abs=0.3)

    undo(window)
    assert measure.polygon_area(contours(window, "canal")[0].points) == pytest.approx(area1)
    undo(window)
    assert measure.polygon_area(contours(window, "canal")[0].points) == pytest.approx(area0)


# -- refusals ------------------------------------------------------------------------------------------------
def test_contours_are_refused_on_a_sagittal_view(window):
    view = window.active_view()
    new_finding(window)
    view.set_orientation("sagittal")
    pick_tool(window, "canal")
    c = QPoint(view.width() // 2, view.height() // 2)
    for dx, dy in ((0, 0), (40, 0), (40, 40)):
        QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, c + QPoint(dx, dy))
    key(view, Qt.Key_Return)
    assert contours(window) == []
    assert "axial" in window.statusBar().currentMessage()
    assert window.undo_stack.count() == 1  # only "New finding"
    # back on the axial plane, a read-only case refuses too
    view.set_orientation("axial")
    window.case.set_read_only(True)
    for dx, dy in ((0, 0), (40, 0), (40, 40)):
        QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, c + QPoint(dx, dy))
    key(view, Qt.Key_Return)
    assert contours(window) == [] and "read-only" in window.statusBar().currentMessage()
    assert not window.bilsky_assistant.panel.accept_button.isEnabled()


def test_first_outline_offers_a_finding(window):
    view = window.active_view()
    session = window.bilsky_assistant.session
    asked: list[str] = []
    answers = [False, True]
    session.confirm_new_finding = lambda label: asked.append(label) or answers.pop(0)
    pick_tool(window, "tumour")
    pts = square(view, (16.0, 16.0), 3.0)
    for attempt in range(2):
        for p in pts[:-1]:
            QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, p))
        QTest.mouseDClick(view, Qt.LeftButton, Qt.NoModifier, widget_point(view, pts[-1]))
        if attempt == 0:  # declined: nothing changes
            assert window.case.case.findings == [] and window.undo_stack.count() == 0
    assert asked == ["Finding 1", "Finding 1"]
    [f] = window.case.case.findings
    assert f.label == "Finding 1" and [c.kind for c in f.contours] == ["tumour"]
    assert window.finding_focus.current_id() == f.id
