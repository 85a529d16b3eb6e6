"""docs/screenshots/measurements_thoracic.png: one of each measurement tool on the thoracic sample case,
drawn with real mouse events at positions taken from the case's truth.json (issue 5 acceptance).

Rendering the whole CT takes a few seconds, so it runs only when asked::

    SPINECASE_SCREENSHOTS=full .venv/bin/pytest tests/test_measure_gui_screenshot.py   # the whole app
    SPINECASE_SCREENSHOTS=1 .venv/bin/pytest tests/test_measure_gui_screenshot.py      # measurements only
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "sample_dicoms" / "thoracic_ddlps"
OUT = ROOT / "docs" / "screenshots" / "measurements_thoracic.png"

pytestmark = pytest.mark.skipif(not os.environ.get("SPINECASE_SCREENSHOTS") or not (CASE / "truth.json").exists(),
                                reason="set SPINECASE_SCREENSHOTS=1 (and generate sample_dicoms/) to render")


def test_measurements_on_the_thoracic_sample_case(qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    from app import feature_measure
    from app.main_window import MainWindow
    from app.settings import Settings
    from app.theme import apply_dark_theme

    apply_dark_theme(QApplication.instance())
    full = os.environ.get("SPINECASE_SCREENSHOTS") == "full"  # with every feature installed
    settings = Settings(tmp_path / "s.ini")
    settings.set_reader_name("reader1")
    w = MainWindow(settings=settings, restore_state=False, install_features=full)
    if not full:
        feature_measure.install(w)
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.set_layout("spine")
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitSignal(w.volumeLoaded, timeout=60_000):
        w.open_paths([CASE])
    w.wait_until_idle()
    truth = json.loads((CASE / "truth.json").read_text())
    lesion = truth["lesions"][0]
    c = np.asarray(lesion["centre_lps"], float)
    vert = {v["label"]: np.asarray(v["centroid_lps"], float) for v in truth["vertebrae"]}
    w.grid.mpr.set_cursor(c)
    views = {v.orientation(): v for v in w.views()}
    sag, ax, cor = views["sagittal"], views["axial"], views["coronal"]
    for view, centre, zoom in ((sag, np.array([c[0], 45.0, 0.0]), 1.6), (ax, c, 2.2), (cor, c, 2.2)):
        view.set_zoom(zoom)
        p = view.lps_to_widget(centre)
        view.pan_by(view.width() / 2 - p.x(), view.height() / 2 - p.y())

    def wp(view, lps) -> QPoint:
        p = view.lps_to_widget(np.asarray(lps, float))
        return QPoint(round(p.x()), round(p.y()))

    def drag(view, a, b, steps: int = 8) -> None:
        pa, pb = wp(view, a), wp(view, b)
        QTest.mousePress(view, Qt.LeftButton, Qt.NoModifier, pa)
        for i in range(1, steps + 1):
            p = pa + (pb - pa) * (i / steps)
            QTest.mouseMove(view, QPoint(round(p.x()), round(p.y())))
        QTest.mouseRelease(view, Qt.LeftButton, Qt.NoModifier, pb)

    def click(view, a) -> None:
        QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, wp(view, a))

    x0, z = c[0], c[2]
    half_cc = lesion["dimensions_mm"]["cc"] / 2
    half_ap = lesion["dimensions_mm"]["ap"] / 2
    # sagittal: the lesion's CC extent (labelled), the T4-T8 Cobb angle, a body height, a marrow ROI
    w.set_tool("cc_extent")
    drag(sag, (x0, c[1] + 4, c[2] + half_cc), (x0, c[1] + 4, c[2] - half_cc))
    cc = w.case.case.measurements[-1]
    w.case.update(cc.id, "Rename measurement", label="T5-T6 lesion")

    def axis(upper: str, lower: str) -> np.ndarray:
        d = vert[upper] - vert[lower]
        return d / np.linalg.norm(d)

    def endplate(level: str, up: bool, neighbours: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
        d = axis(*neighbours)
        across = np.cross([1.0, 0.0, 0.0], d)
        centre = vert[level] + (9.5 if up else -9.5) * d
        centre[0] = x0
        return centre - 13 * across, centre + 13 * across

    w.set_tool("cobb")
    drag(sag, *endplate("T4", True, ("T3", "T5")))
    drag(sag, *endplate("T8", False, ("T7", "T9")))
    w.set_tool("length")
    d7 = axis("T6", "T8")
    a7 = vert["T7"].copy()
    a7[0], a7[1] = x0, a7[1] - 9
    drag(sag, a7 - 9.5 * d7, a7 + 9.5 * d7)
    w.set_tool("ellipse_roi")
    drag(sag, (x0, 30.0, 6.0), (x0, 46.0, -6.0))
    # axial: a probe in the lesion's vertebral body part (before the bidirectional, whose label may cover it),
    # then the bidirectional across the lesion
    w.set_tool("probe")
    body = lesion["parts"][1]["centre_lps"]
    click(ax, (body[0], body[1], z))
    w.set_tool("bidirectional")
    drag(ax, (c[0], c[1] - half_ap, z), (c[0], c[1] + half_ap, z))
    bi_id = w.case.case.measurements[-1].id
    half_lr = lesion["dimensions_mm"]["lr"] / 2
    for i in (2, 3):  # fit the short axis to the lesion's LR extent by its handles
        end = np.asarray(w.case.case.measurement(bi_id).points[i])
        drag(ax, end, (c[0] + np.sign(end[0] - c[0]) * half_lr, c[1], z))
    # coronal: an angle, a polygon around the right pedicle part, a freehand paraspinal ROI (the angle first:
    # the ROIs' labels would take its clicks)
    y = cor.plane_geometry().origin[1]
    w.set_tool("angle")
    drag(cor, (14.0, y, 30.0), (14.0, y, 5.0))
    click(cor, (38.0, y, 18.0))
    ped = lesion["parts"][2]["centre_lps"]
    w.set_tool("polygon_roi")
    for t in np.linspace(0, 2 * np.pi, 7)[:-1]:
        click(cor, (ped[0] + 6 * np.cos(t), y, ped[2] + 8 * np.sin(t)))
    QTest.keyClick(cor, Qt.Key_Return)
    w.set_tool("freehand_roi")
    ring = [(-32 + 7 * np.cos(t), y, -30 + 10 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 50)]
    QTest.mousePress(cor, Qt.LeftButton, Qt.NoModifier, wp(cor, ring[0]))
    for p in ring[1:]:
        QTest.mouseMove(cor, wp(cor, p))
    QTest.mouseRelease(cor, Qt.LeftButton, Qt.NoModifier, wp(cor, ring[-1]))
    w.set_tool("navigate")

    ms = w.case.case.measurements
    assert sorted(m.kind for m in ms) == sorted(["cc_extent", "cobb", "length", "ellipse_roi", "bidirectional",
                                                 "probe", "polygon_roi", "freehand_roi", "angle"])
    # the drawn lesion extents equal the truth within half a pixel
    dims = lesion["dimensions_mm"]
    assert cc.value("cc_extent").value == pytest.approx(dims["cc"], abs=sag.plane_geometry().y_spacing)
    bi = next(m for m in ms if m.kind == "bidirectional")
    assert bi.value("long_axis").value == pytest.approx(dims["ap"], abs=ax.plane_geometry().y_spacing)
    assert bi.value("short_axis").value == pytest.approx(dims["lr"], abs=ax.plane_geometry().x_spacing)
    # the lesion as a finding: its bidirectional and CC extent give AP x LR x CC and the ellipsoid volume
    from imaging.case.model import Finding

    finding = w.case.add(Finding(label="T5-T6 lesion"), "Add finding")
    for m in (cc, bi):
        w.measure.editor.assign_finding(m.id, finding.id)
        w.measure.editor.set_dimension(m.id, True)  # the reader marks them as the finding's dimensions
    w.measure.panel.refresh()
    line = w.measure.panel.group_items()[0].child(0).text(0)
    assert line.startswith("AP x LR x CC: ") and "Ellipsoid volume: " in line
    w.measure.show_measurement(bi.id)  # selected: drawn amber, its row highlighted
    w.measure.dock.raise_()
    qtbot.wait(50)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    assert w.grab().save(str(OUT), "PNG")
