"""The progressive first image in the window: a compressed series shows while its images still arrive, what
reads voxels waits until every image is in, and a load cancelled half-way leaves no half-loaded series."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from tests.dicom_factory import write_series


@pytest.fixture
def window(qtbot, tmp_path):
    import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
    from app.main_window import MainWindow
    from app.settings import Settings

    w = MainWindow(settings=Settings(tmp_path / "settings.ini"), restore_state=False)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.set_layout("spine")
    w.explicit_layout = True  # as `spinecase open --layout spine`: no hanging protocol takes over
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.cancel_loading()
    w.jobs.wait_all(5000)


@pytest.fixture(scope="module")
def j2k_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("j2k")
    truth = write_series(folder, shape=(12, 64, 64), spacing=(0.8, 0.8), description="J2K CT")
    for f in truth["files"]:
        ds = pydicom.dcmread(f)
        ds.compress(pydicom.uid.JPEG2000Lossless)
        ds.save_as(f)
    return folder


def gate_after_first_image(monkeypatch) -> threading.Event:  # noqa: ANN001
    """Hold the load (on its thread) just after it published its first image, until the event is set."""
    import app.main_window as mw
    from imaging.dicom.load import load_series

    gate = threading.Event()

    def gated(info, **kwargs):  # noqa: ANN001, ANN003
        publish = kwargs.pop("on_first")

        def on_first(volume) -> None:  # noqa: ANN001
            publish(volume)
            gate.wait(30)

        return load_series(info, on_first=on_first, **kwargs)

    monkeypatch.setattr(mw, "load_series", gated)
    return gate


def test_the_series_shows_before_every_image_is_in(window, qtbot, j2k_folder, monkeypatch):
    gate = gate_after_first_image(monkeypatch)
    shown: list[bool] = []
    window.seriesShown.connect(lambda vol: shown.append(vol.is_loading))
    window.open_paths([j2k_folder])
    qtbot.waitUntil(lambda: bool(shown), timeout=30_000)
    vol = window.current_volume()
    assert shown and all(shown) and vol is not None and vol.is_loading
    assert window.volumes() == {}, "a series still loading is not listed as loaded"
    assert window.cancel_button.isVisible()
    axial = next(v for v in window.views() if v.orientation() == "axial")
    assert axial.volume() is vol and vol.loaded_slices[axial.slice_index()]

    # An ROI needs every voxel: refused with a message while loading, nothing added.
    window.set_tool("ellipse_roi")
    centre = QPoint(axial.width() // 2, axial.height() // 2)
    QTest.mousePress(axial, Qt.LeftButton, Qt.NoModifier, centre)
    QTest.mouseMove(axial, centre + QPoint(20, 15))
    QTest.mouseRelease(axial, Qt.LeftButton, Qt.NoModifier, centre + QPoint(20, 15))
    assert not window.case.case.measurements
    assert "still loading" in window.statusBar().currentMessage()

    loaded = []
    window.volumeLoaded.connect(loaded.append)
    gate.set()
    qtbot.waitUntil(lambda: bool(loaded), timeout=30_000)
    assert loaded == [vol] and not vol.is_loading and list(window.volumes().values()) == [vol]
    assert axial.volume() is vol, "the views were not reset when the load completed"
    assert (vol.array != np.iinfo(np.int16).min).all()
    qtbot.waitUntil(lambda: not window.cancel_button.isVisible(), timeout=5000)


def test_a_load_cancelled_after_its_first_image_leaves_nothing_half_loaded(window, qtbot, j2k_folder,
                                                                           monkeypatch):
    gate = gate_after_first_image(monkeypatch)
    window.open_paths([j2k_folder])
    qtbot.waitUntil(lambda: window.current_volume() is not None, timeout=30_000)
    job = window._load_job
    assert job is not None
    window.cancel_loading()
    gate.set()
    qtbot.waitUntil(lambda: job.state != "running", timeout=30_000)
    qtbot.waitUntil(lambda: all(v.volume() is None for v in window.grid.views), timeout=5000)
    assert window._volumes == {} and window.volumes() == {}
