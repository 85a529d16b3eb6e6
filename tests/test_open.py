"""Opening data: the worker-thread loader (progress, Cancel, errors), the main window's open flow, and
``spinecase open --screenshot``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from imaging.errors import LoadCancelled, LoadError
from tests import dicom_factory

ROOT = Path(__file__).resolve().parents[1]


def phantom(n: int, rows: int, cols: int) -> np.ndarray:
    """A small body-and-spine phantom in HU: body ellipse, vertebral bodies with discs, a canal."""
    z, y, x = np.mgrid[0:n, 0:rows, 0:cols].astype(np.float32)
    yc, xc = rows / 2, cols / 2
    vol = np.full((n, rows, cols), -1000, np.int16)
    body = ((x - xc) / (0.42 * cols)) ** 2 + ((y - yc) / (0.3 * rows)) ** 2 < 1
    vol[body] = 40
    vb = ((x - xc) ** 2 + (y - (yc + 0.12 * rows)) ** 2 < (0.08 * cols) ** 2) & ((z % 12) < 10)
    vol[vb] = 500
    canal = (x - xc) ** 2 + (y - (yc + 0.22 * rows)) ** 2 < (0.03 * cols) ** 2
    vol[canal] = 10
    return vol


def write_series(folder: str | Path, n: int = 24, rows: int = 48, cols: int = 40,
                 spacing: tuple[float, float] = (0.8, 0.8), thickness: float = 2.5) -> list[Path]:
    """An axial head-first CT of the small phantom above (one file per slice); returns the file paths."""
    truth = dicom_factory.write_series(
        Path(folder), shape=(n, rows, cols), spacing=spacing, step=(0.0, 0.0, -thickness),
        origin=(-cols * spacing[1] / 2, -rows * spacing[0] / 2, 100.0), values=phantom(n, rows, cols),
        rescale=(1.0, 0.0), unsigned=False, description="Axial bone 2.5mm")
    return truth["files"]


# ---------------------------------------------------------------------------------------------------------
# The main window
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def window(qtbot, tmp_path):
    import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
    from app.main_window import MainWindow
    from app.settings import Settings

    w = MainWindow(settings=Settings(tmp_path / "settings.ini"), restore_state=False)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.cancel_loading()
    w.jobs.wait_all(5000)


@pytest.fixture(scope="module")
def ct_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ct")
    write_series(folder, n=24, rows=48, cols=40)
    return folder


def test_open_folder_loads_and_shows_spine_layout(window, qtbot, ct_folder, tmp_path):
    window.set_layout("spine")
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000) as sig:
        window.open_paths([ct_folder])
    vol = sig.args[0]
    assert vol.shape == (24, 48, 40)
    views = window.views()
    assert [v.orientation() for v in views] == ["sagittal", "axial", "coronal"]
    assert all(v.volume() is vol for v in views)
    # the three views meet at one point (the volume centre)
    for v in views:
        assert v.plane_geometry().contains(window.grid.mpr.cursor)
    keys = window.browser.series_keys()
    assert len(keys) == 1 and "24 images" in window.browser._series[keys[0]].text(0)
    assert window.settings.recent_paths() == [str(ct_folder)]
    # Thumbnail jobs may still be finishing after the volume arrives; the button goes once all are done.
    qtbot.waitUntil(lambda: not window.cancel_button.isVisible(), timeout=10_000)
    assert not [m for m in window.message_bar.messages() if m[0] == "error"]
    window.set_layout("1x1")
    assert window.views()[0].orientation() == "axial" and window.views()[0].volume() is vol


def test_switching_series_evicts_hidden_volumes_without_error(window, qtbot, tmp_path, monkeypatch):
    """Loading a second series past the memory cap drops the hidden one (and never errors)."""
    import app.main_window as mw

    monkeypatch.setattr(mw, "CACHE_BYTES", 1)
    write_series(tmp_path / "a", n=6, rows=16, cols=16)
    write_series(tmp_path / "b", n=5, rows=16, cols=16)
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000):
        window.open_paths([tmp_path])
    keys = window.browser.series_keys()
    assert len(keys) == 2
    second = next(k for k in keys if k != window.current_series_key())
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000) as sig:
        window.load_series_key(second)
    assert window.current_series_key() == second or sig.args[0] is window.current_volume()
    assert not [m for m in window.message_bar.messages() if m[0] == "error"], window.message_bar.messages()
    assert list(window.volumes()) == [second]


def test_cancel_stops_a_load_and_ui_stays_responsive(window, qtbot, ct_folder, monkeypatch):
    import app.main_window as mw

    progress_seen, stopped = [], threading.Event()

    def slow_load(info, progress=None, cancel=None, **_progressive):
        total = 400
        for i in range(total):
            if cancel is not None and cancel():
                stopped.set()
                raise LoadCancelled("cancelled by the user")
            time.sleep(0.01)
            if progress:
                progress(i + 1, total)
            progress_seen.append(i)
        raise AssertionError("the load was not cancelled")

    monkeypatch.setattr(mw, "load_series", slow_load)
    ticks = []
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    window.open_paths([ct_folder])
    qtbot.waitUntil(lambda: window.cancel_button.isVisible() and len(progress_seen) > 5, timeout=10_000)
    assert window.progress_bar.maximum() == 400
    n_ticks = len(ticks)
    qtbot.wait(200)
    assert len(ticks) - n_ticks >= 4  # the event loop kept running while loading
    cancelled = []
    window._load_job.cancelled.connect(lambda: cancelled.append(True))
    qtbot.mouseClick(window.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(cancelled), timeout=5000)
    assert stopped.is_set() and len(progress_seen) < 400
    qtbot.waitUntil(lambda: not window.cancel_button.isVisible(), timeout=5000)
    assert window.current_volume() is None
    assert not [m for m in window.message_bar.messages() if m[0] == "error"]
    timer.stop()


def test_load_failure_and_warnings_are_messages_not_tracebacks(window, qtbot, ct_folder, monkeypatch):
    import app.main_window as mw

    monkeypatch.setattr(mw, "load_series", lambda info, progress=None, cancel=None, **_: (_ for _ in ()).throw(
        LoadError("pixel data truncated", "/data/IM0003.dcm")))
    window.open_paths([ct_folder])
    qtbot.waitUntil(lambda: any(lvl == "error" for lvl, _ in window.message_bar.messages()), timeout=10_000)
    text = [t for lvl, t in window.message_bar.messages() if lvl == "error"][0]
    assert "IM0003.dcm" in text and "pixel data truncated" in text and "Traceback" not in text

    window.message_bar.clear()
    real = __import__("imaging.dicom.load", fromlist=["load_series"]).load_series

    def with_warning(info, progress=None, cancel=None, **progressive):
        vol = real(info, progress=progress, cancel=cancel, **progressive)
        vol.warnings.append("Slice spacing is uneven (2.5 to 5.0 mm).")
        return vol

    monkeypatch.setattr(mw, "load_series", with_warning)
    window._volumes.clear()
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000):
        window.open_paths([ct_folder])
    assert ("warning", next(t for lvl, t in window.message_bar.messages() if lvl == "warning")) \
        in window.message_bar.messages()
    assert "uneven" in window.message_bar.messages()[-1][1]
    assert window.message_bar.isVisible()  # non-modal: the views work underneath
    assert window.current_volume() is not None


def test_unexpected_exception_is_one_line(window, qtbot, ct_folder, monkeypatch):
    import app.main_window as mw

    def boom(info, progress=None, cancel=None, **_progressive):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(mw, "load_series", boom)
    window.open_paths([ct_folder])
    qtbot.waitUntil(lambda: any(lvl == "error" for lvl, _ in window.message_bar.messages()), timeout=10_000)
    text = [t for lvl, t in window.message_bar.messages() if lvl == "error"][0]
    assert "decoder exploded" in text and "\n" not in text


def test_missing_path_and_case_file_hook(window, tmp_path):
    window.open_paths([tmp_path / "nope"])
    assert any("Not found" in t for _, t in window.message_bar.messages())
    opened = []
    window.register_path_handler(lambda p: p.endswith(".spinecase.json"), opened.append)
    window.open_paths([tmp_path / "a.spinecase.json"])
    assert opened == [str(tmp_path / "a.spinecase.json")]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # QDragEnterEvent(QPoint...) is all Qt offers
def test_drop_folder_on_a_view_opens_it(window, qtbot, ct_folder):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(ct_folder))])
    view = window.views()[0]
    enter = QDragEnterEvent(QPoint(50, 50), Qt.CopyAction, md, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view, enter)  # as in a real drag: enter, then drop
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.CopyAction, md, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000):
        QApplication.sendEvent(view, drop)


def test_pick_series_by_uid_number_or_description(tmp_path):
    from app.main_window import MainWindow
    from imaging.dicom.series import SeriesInfo

    a = SeriesInfo("1.2.1", "9", "MR", "T2 SAG", [], series_number=5)
    b = SeriesInfo("1.2.2", "9", "CT", "Axial bone", [Path("x")] * 3, series_number=3)
    assert MainWindow.pick_series([a, b], None) is b  # CT first
    assert MainWindow.pick_series([a, b], "1.2.1") is a
    assert MainWindow.pick_series([a, b], "5") is a
    assert MainWindow.pick_series([a, b], "t2 sag") is a
    assert MainWindow.pick_series([a, b], "nothing") is None


def test_undo_actions_and_feature_hooks(window):
    from PySide6.QtGui import QUndoCommand

    from widgets.tools import Tool

    class Named(QUndoCommand):
        def __init__(self):
            super().__init__("Add length 12.3 mm")

    window.undo_stack.push(Named())
    assert window.act_undo.text() == "&Undo Add length 12.3 mm"
    keys = {s.toString() for s in window.act_redo.shortcuts()}
    assert keys == {"Ctrl+Shift+Z", "Ctrl+Y"}

    class Ruler(Tool):  # a tool of the test's own (the real features own the usual names and keys)
        name, label, shortcut = "test_ruler", "Test ruler", "Ctrl+Alt+Shift+R"

    action = window.add_tool(Ruler())
    action.trigger()
    assert window.active_tool().name == "test_ruler"
    assert all(v.tool().name == "test_ruler" for v in window.grid.views)
    from PySide6.QtWidgets import QLabel

    dock = window.add_panel(QLabel("list"), "Test panel")
    assert dock.widget().text() == "list"
    assert window.menu("Measure") is window.menu("&Measure")


# ---------------------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------------------
def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SPINECASE_SETTINGS=str(tmp_path / "s.ini"))
    return subprocess.run([sys.executable, "-m", "app.cli", "open", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_screenshot_writes_a_png(tmp_path, ct_folder):
    from PySide6.QtGui import QImage

    out = tmp_path / "shot.png"
    r = _cli(str(ct_folder), "--layout", "spine", "--size", "1000x700", "--screenshot", str(out),
             tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 10_000
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1000, 700)
    # the views are not empty: many distinct grey levels
    greys = {QColor(img.pixel(x, y)).lightness() for x in range(0, 1000, 7) for y in range(0, 700, 7)}
    assert len(greys) > 20
    assert not (tmp_path / "s.ini").exists()  # --screenshot never touches the user's settings


def test_cli_screenshot_fails_cleanly(tmp_path):
    out = tmp_path / "none.png"
    r = _cli(str(tmp_path / "missing"), "--screenshot", str(out), tmp_path=tmp_path)
    assert r.returncode == 1
    assert "Not found" in r.stderr and "Traceback" not in r.stderr


def test_view_keys_work_inside_the_main_window(window, qtbot, ct_folder):
    with qtbot.waitSignal(window.volumeLoaded, timeout=30_000):
        window.open_paths([ct_folder])
    view = window.active_view()
    view.setFocus()  # (the offscreen platform may not activate the window)
    wl = view.window_level()
    QTest.keyClick(view, Qt.Key_2)
    assert wl.name == "Bone"
    QTest.keyClick(view, Qt.Key_I)  # a window shortcut scoped to the view area: toggles once
    assert wl.invert
    QTest.keyClick(view, Qt.Key_R)
    assert not wl.invert and wl.name != "Bone"
    QTest.keyClick(view, Qt.Key_H)
    assert not any(v.show_patient_info for v in window.grid.views)
    QTest.keyClick(view, Qt.Key_C)
    assert window.active_tool().name == "crosshair"
    QTest.keyClick(view, Qt.Key_N)
    assert window.active_tool().name == "navigate"
    k = view.slice_index()
    QTest.keyClick(view, Qt.Key_Down)
    assert view.slice_index() == k + 1


def test_window_state_and_recent_files_persist(qtbot, tmp_path, ct_folder):
    from app.main_window import MainWindow
    from app.settings import Settings

    ini = tmp_path / "persist.ini"
    w = MainWindow(settings=Settings(ini))
    qtbot.addWidget(w)
    w.show()
    w.resize(1000, 700)
    w.set_layout("2x2")
    w.settings.add_recent(str(ct_folder))
    w.close()
    w2 = MainWindow(settings=Settings(ini))
    qtbot.addWidget(w2)
    assert w2.grid.layout_name() == "2x2"
    assert w2.settings.recent_paths() == [str(ct_folder)]
    assert w2.settings.window_geometry() is not None
    w2._fill_recent_menu()
    assert str(ct_folder) in [a.text() for a in w2.recent_menu.actions()]


def test_first_annotation_panel_is_the_one_shown(window, qtbot):
    """Each feature adds a tabbed panel; the first one stays in front, not whichever came last."""
    docks = window._panel_docks
    if len(docks) < 2:
        pytest.skip("needs at least two annotation panels installed")
    window.show()
    qtbot.waitExposed(window)
    shown = [d.windowTitle() for d in docks if not d.visibleRegion().isEmpty()]
    assert shown == [docks[0].windowTitle()], shown
