"""Render the screenshots the README shows, from the bundled sample cases (``make screenshots``).

Each image is made by driving the real application (main window, features, sample data) offscreen and
grabbing the window, so the pictures always show what the current code does:

* viewer_spine_layout_ct.png / viewer_spine_layout_sag_t2.png — the thoracic case in the spine layout at T6
  (issue 4);
* spine_annotation_bilsky.png / spine_annotation_sins.png — the thoracic case file: levels, the T5-T6 finding
  graded Bilsky 3, its SINS and the spine map (issue 6). The sample case holds only the SINS answers the
  article supports; here a reader completes the rest from the images, and pain — which the article does not
  report — is answered "pain-free lesion" for the illustration;
* bilsky_assistant_thoracic.png — contours of canal, sac, cord and tumour on the slice of worst compression and
  the suggested grade (issue 7);
* reading_protocol_thoracic.png — the thoracic folder opened: the spine MR hanging protocol puts sag T2 | sag T1 |
  ax T2 of the pre-operative MR side by side, linked, at the level of worst compression (issue 17);
* reading_prior_comparison.png — the case's post-operative MR (left) beside the pre-operative MR (right),
  linked by the labelled vertebral levels, at T6 (issue 17);
* followup_thoracic.png — the Follow-up panel on the thoracic case: the T5-T6 lesion before surgery, after
  decompression and at restaging after chemotherapy (its table, the plot with the 1 cm/month line); its
  restaging point clicked: the restaging CT beside the pre-operative CT, linked by level (issue 18).

The measurement screenshot comes from ``SPINECASE_SCREENSHOTS=full pytest tests/test_measure_gui_screenshot.py``
and the report pages from the export; the phantom previews from ``python -m tools.phantom``.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QDockWidget, QScrollArea  # noqa: E402

THORACIC = ROOT / "sample_dicoms" / "thoracic_ddlps"
SIZE = (1600, 1000)


def _app() -> QApplication:
    from app.theme import apply_dark_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_dark_theme(app)
    return app


def _window(tmp: Path, layout: str = "spine"):  # noqa: ANN202
    from app.main_window import MainWindow
    from app.settings import Settings

    settings = Settings(tmp / f"settings-{len(list(tmp.iterdir()))}.ini")
    settings.set_reader_name("reader1")
    w = MainWindow(settings=settings, restore_state=False)
    w.set_layout(layout)
    w.resize(*SIZE)
    w.show()
    return w


def _settle(app: QApplication, w) -> None:  # noqa: ANN001
    w.wait_until_idle()
    for _ in range(10):
        app.processEvents()


def _raise_panel(w, title: str) -> None:  # noqa: ANN001
    for dock in w.findChildren(QDockWidget):
        if dock.windowTitle() == title:
            dock.show()
            dock.raise_()


def _truth() -> dict:
    return json.loads((THORACIC / "truth.json").read_text())


def viewer_shots(app: QApplication, tmp: Path, out: Path) -> None:
    truth = _truth()
    worst = np.asarray(truth["bilsky"]["worst_point_lps"])
    sag_t2 = next(s for s in truth["series"] if s["folder"] == "mr_sag_t2")["series_uid"]
    for name, series in (("viewer_spine_layout_ct.png", None), ("viewer_spine_layout_sag_t2.png", sag_t2)):
        w = _window(tmp)
        w.explicit_layout = True  # the spine layout as asked (spinecase open --layout spine), not a protocol
        w.open_paths([THORACIC], series=series)
        _settle(app, w)
        w.grid.mpr.set_cursor(worst)
        _settle(app, w)
        w.grab().save(str(out / name))
        w.close()


def annotation_shots(app: QApplication, tmp: Path, out: Path) -> None:
    w = _window(tmp)
    w.case_feature.open_case(THORACIC / "case.spinecase.json", recover=False)
    _settle(app, w)
    finding = next(f for f in w.case.case.findings if f.bilsky and f.bilsky.grade == "3")
    w.finding_focus.set_current(finding.id, chosen=True)
    w.message_bar.clear_scope("case")  # "working on a copy in <a temporary folder>": not for the README
    sins = w.sins_panel
    for field, answer in (("pain", "PAIN_FREE"), ("alignment", "NORMAL"), ("collapse", "NONE"),
                          ("posterolateral", "BILATERAL")):
        sins.choice_button(field, answer).click()
    w.levels_feature.go_to_level("T6")
    _settle(app, w)
    _raise_panel(w, "Bilsky")
    _settle(app, w)
    card = w.bilsky_panel.grade_card("3")  # the chosen grade, scrolled into view
    scroll = w.bilsky_panel.findChild(QScrollArea)
    if scroll is not None:
        scroll.ensureWidgetVisible(card, 0, 40)
    _settle(app, w)
    w.grab().save(str(out / "spine_annotation_bilsky.png"))
    _raise_panel(w, "SINS")
    _settle(app, w)
    w.grab().save(str(out / "spine_annotation_sins.png"))
    w.case.undo_stack.setClean()  # nothing to save: the sample file stays as shipped
    w.close()


def assistant_shot(app: QApplication, tmp: Path, out: Path) -> None:
    from imaging.case.model import Finding

    truth = _truth()["bilsky"]
    entry = next(p for p in truth["per_series"] if p["modality"] == "MR")
    w = _window(tmp, "1x1")
    w.open_paths([THORACIC / entry["series_key"]])
    _settle(app, w)
    view = next(v for v in w.views() if v.orientation() == "axial")
    vol = view.volume()
    k = vol.metadata.sop_instance_uids.index(entry["sop_instance_uid"])
    view.set_slice(k)
    w.set_active_view(view)
    finding = Finding(label="T5-T6 primary DDLPS")
    w.case.add(finding)
    w.finding_focus.set_current(finding.id, chosen=True)  # the reader chose it: contours join it
    session = w.bilsky_assistant.session
    outlines = entry["compression_contours_lps"]
    g = view.plane_geometry()
    for kind, key in (("canal", "bony_canal"), ("sac", "thecal_sac"), ("cord", "cord"), ("tumour", "tumour")):
        for polygon in outlines[key]:
            session.draw_contour(view, kind, [np.asarray(p) for p in polygon], g, k)
    centre = np.mean(np.asarray(outlines["bony_canal"][0]), axis=0)
    pos = view.lps_to_widget(centre)
    view.set_zoom(5.0, pos)
    pos = view.lps_to_widget(centre)
    view.pan_by(view.width() / 2 - pos.x(), view.height() / 2 - pos.y())
    w.bilsky_assistant.show_panel()
    _settle(app, w)
    w.grab().save(str(out / "bilsky_assistant_thoracic.png"))
    w.case.undo_stack.setClean()
    w.close()


def reading_shots(app: QApplication, tmp: Path, out: Path) -> None:
    worst = np.asarray(_truth()["bilsky"]["worst_point_lps"])
    w = _window(tmp)
    w.open_paths([THORACIC])  # the spine MR protocol hangs sag T2 | sag T1 | ax T2
    _settle(app, w)
    for dock in w.findChildren(QDockWidget):  # the annotation panels aside: room for the three views
        if w.dockWidgetArea(dock) == Qt.RightDockWidgetArea:
            dock.hide()
    sag = w.grid.layout_views()[0]
    w.grid.mpr.set_cursor(worst, sag)
    _settle(app, w)
    w.grab().save(str(out / "reading_protocol_thoracic.png"))
    w.close()

    w = _window(tmp)
    w.case_feature.open_case(THORACIC / "case.spinecase.json", recover=False)
    _settle(app, w)
    w.reading.choose_protocol("compare-mr")  # Ctrl+4: current | prior, linked by the labelled levels
    _settle(app, w)
    prior_sag = w.grid.layout_views()[1]
    w.set_active_view(prior_sag)
    w.grid.mpr.set_cursor(worst, prior_sag)
    _settle(app, w)
    w.grab().save(str(out / "reading_prior_comparison.png"))
    w.case.undo_stack.setClean()
    w.close()


def followup_shot(app: QApplication, tmp: Path, out: Path) -> None:
    w = _window(tmp)
    w.case_feature.open_case(THORACIC / "case.spinecase.json", recover=False)
    _settle(app, w)
    finding = w.case.case.findings[0]
    w.finding_focus.set_current(finding.id)
    _raise_panel(w, "Follow-up")
    panel = w.followup.panel
    w.resizeDocks([w.followup.dock], [700], Qt.Horizontal)
    _settle(app, w)
    restaging = finding.timepoints[-1].id
    w.followup.show_timepoint(finding.id, restaging)  # as a click on its point: the CT comparison at the lesion
    panel.select_timepoint(restaging)
    _settle(app, w)
    w.grab().save(str(out / "followup_thoracic.png"))
    w.case.undo_stack.setClean()
    w.close()


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = _app()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        os.environ["SPINECASE_RECOVERY_DIR"] = str(tmp / "recovery")
        viewer_shots(app, tmp, out)
        annotation_shots(app, tmp, out)
        assistant_shot(app, tmp, out)
        reading_shots(app, tmp, out)
        followup_shot(app, tmp, out)
    print(f"screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
