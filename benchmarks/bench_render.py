"""Render benchmark: median time per displayed frame of the slice view.

A frame = plane extraction (numpy view) + window mapping (LUT, np.take) + QImage over the buffer (no copy)
+ paint (scaled draw + overlays), measured as ``SliceView.repaint()`` of one view after a slice change, on
a synthetic 512 x 512 x 400 int16 CT (0.7 x 0.7 x 1 mm) in an 800 x 800 view (offscreen platform).

Two figures per plane, because the view renders interactively (as VTK/3D Slicer do):
* scrolling frame -- every frame shown while the slice changes (drawn without interpolation);
* settled frame   -- the one bilinear-smoothed redraw made ``SETTLE_MS`` after scrolling stops.
Targets (issue 4): <= 5 ms per axial frame, <= 15 ms per sagittal reformat frame, on this 2-core machine.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_render.py``
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QRectF  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import widgets  # noqa: E402,F401 - PySide6/Python 3.11 workaround
from imaging.display import Windower, plane_spec  # noqa: E402
from imaging.volume import Volume, VolumeMetadata  # noqa: E402
from widgets.slice_view import SliceView  # noqa: E402
from widgets.window_level import WindowLevel  # noqa: E402

TARGET_MS = {"axial": 5.0, "sagittal": 15.0, "coronal": 15.0}
FRAMES = 200


def synthetic_ct(shape=(400, 512, 512)) -> Volume:
    s, r, c = shape
    rng = np.random.default_rng(0)
    y, x = np.ogrid[:r, :c]
    body = ((x - c / 2) / (0.42 * c)) ** 2 + ((y - r / 2) / (0.3 * r)) ** 2 < 1
    base = np.where(body, 40, -1000).astype(np.int16)
    arr = np.empty(shape, np.int16)
    for k in range(s):
        arr[k] = base
    arr += rng.integers(-20, 20, size=(1, r, c), dtype=np.int16)  # texture
    aff = np.diag([0.7, 0.7, 1.0, 1.0])
    return Volume(arr, aff, modality="CT", metadata=VolumeMetadata(series_description="bench"))


def median_ms(samples: list[float]) -> float:
    return 1000.0 * statistics.median(samples)


def bench_view(view: SliceView, app: QApplication, settled: bool = False) -> tuple[float, float]:
    """(median wall-clock ms, median CPU ms of this thread) per frame. The CPU figure is what the frame
    costs this thread (Qt scales smoothed images on worker threads); wall-clock is what the user waits.
    ``settled``: measure the smoothed redraw made once scrolling stops, instead of the scrolling frames."""
    n = view.slice_count()
    wall, cpu = [], []
    for i in range(FRAMES):
        k = (n // 4 + i * 7) % n
        view.set_slice(k)
        if settled:
            view._settle_timer.stop()
            view._interactive = False  # what the settle timer does SETTLE_MS after the last change
        t0, c0 = time.perf_counter(), time.thread_time()
        if not settled:
            view.set_slice(k + 1 if k + 1 < n else k - 1)
        view.repaint()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    app.processEvents()
    return median_ms(wall), median_ms(cpu)


def bench_parts(vol: Volume, orientation: str, size: tuple[int, int]) -> dict[str, float]:
    spec = plane_spec(vol, orientation)
    w = Windower(vol.array.dtype)
    w.set_window(40, 400)
    extract, window, qimage, paint = [], [], [], []
    target = QImage(size[0], size[1], QImage.Format_RGB32)
    for i in range(FRAMES):
        k = (spec.count // 4 + i * 7) % spec.count
        t0 = time.perf_counter()
        plane = spec.extract(vol.array, k)
        t1 = time.perf_counter()
        buf = w.apply_rgb32(plane)
        t2 = time.perf_counter()
        h, wd = buf.shape
        img = QImage(buf.data, wd, h, 4 * wd, QImage.Format_RGB32)
        t3 = time.perf_counter()
        p = QPainter(target)
        p.setRenderHint(QPainter.SmoothPixmapTransform, True)
        p.drawImage(QRectF(0, 0, size[0], size[1]), img)
        p.end()
        t4 = time.perf_counter()
        extract.append(t1 - t0)
        window.append(t2 - t1)
        qimage.append(t3 - t2)
        paint.append(t4 - t3)
    return {"extract": median_ms(extract), "window": median_ms(window), "qimage": median_ms(qimage),
            "draw": median_ms(paint)}


def main() -> int:
    app = QApplication.instance() or QApplication([])
    print("Building a 512 x 512 x 400 int16 CT ...", flush=True)
    vol = synthetic_ct()
    wl = WindowLevel(vol)
    results = {}
    for orientation in ("axial", "sagittal", "coronal"):
        view = SliceView()
        view.resize(800, 800)
        view.show()
        app.processEvents()
        view.set_volume(vol, orientation, wl)
        app.processEvents()
        view.repaint()
        ms, cpu = bench_view(view, app)
        settled_ms, settled_cpu = bench_view(view, app, settled=True)
        parts = bench_parts(vol, orientation, (800, 800))
        results[orientation] = ms
        ok = "OK" if ms <= TARGET_MS[orientation] else "OVER TARGET"
        detail = ", ".join(f"{k} {v:.2f}" for k, v in parts.items())
        print(f"{orientation:9s} {view.plane_spec().width}x{view.plane_spec().height}: scrolling frame median "
              f"{ms:6.2f} ms wall, {cpu:5.2f} ms CPU (target {TARGET_MS[orientation]:.0f} ms: {ok}); settled "
              f"smoothed frame {settled_ms:5.2f} ms wall, {settled_cpu:5.2f} ms CPU  "
              f"[smoothed image pipeline without overlays, ms: {detail}]", flush=True)
        view.close()
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (other work inflates these figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
