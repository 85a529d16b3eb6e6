"""Window benchmark: the real main window with every feature, driven by real events, as a reader uses it.

Each figure comes from fresh processes (``--processes``, default 3), on a warm page cache, in the spine layout
at 1600x1000 on the offscreen platform:

* **scroll steps** -- a wheel event (``QWheelEvent`` sent to the view, as a mouse wheel does) on the axial
  and on the sagittal view, then the event loop runs until the window has painted (all views, panels,
  status bar): ``--steps`` steps per round, ``--rounds`` rounds, the view settling between rounds;
* **W/L drag steps** -- a left-drag on the axial view in Navigate mode (every view of the series repaints);
* **measurement drag steps** -- the Length tool dragged across the axial view (undone afterwards);

on three data sets: the thoracic sample case (``sample_dicoms/thoracic_ddlps``, opened as its case file
with levels, findings and measurements), a generated 512x512x400 CT, and a generated 512x512x1500 CT (tall
sagittal reformats; sagittal scroll only). Each step is timed as main-thread CPU (``time.thread_time``,
what the step costs the GUI thread) and wall time; the table shows medians.

The **floor** is measured in the same process for the same view: extract the plane + map it to grey levels
+ draw it scaled into an image the size of the view (what any viewer must do for a new frame). Ratios to the
floor are what to compare between runs on a busy machine.

**Startup**: ``spinecase open <thoracic case> --layout spine`` (``make run``'s command, on a copy of the
case so no lock file lands in sample_dicoms/) in a fresh process, until the first view paints an image;
the reference is a bare PySide6 process that opens a 1600x1000 window and paints one image.
**spinecase info sample_dicoms** in a fresh process; the reference is a plain pydicom header pass over
the same files (``dcmread(stop_before_pixels=True)``).

Targets (issue 14; main-thread CPU per step, medians, this 2-core machine): scroll <= 5 ms axial and
<= 8 ms sagittal (thoracic case and 512x512x400 CT), W/L drag <= 5 ms, 512x512x1500 sagittal scroll
<= 15 ms, startup to the first painted image <= 2 s, ``spinecase info sample_dicoms`` <= 2 s.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_window.py [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".bench_data"
THORACIC = ROOT / "sample_dicoms" / "thoracic_ddlps"
SAMPLES = ROOT / "sample_dicoms"

TARGETS_MS = {"scroll axial": 5.0, "scroll sagittal": 8.0, "W/L drag": 5.0}
TARGET_TALL_MS = 15.0
TARGET_STARTUP_S = 2.0
TARGET_INFO_S = 2.0


# ---------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------
def ct_folder(slices: int) -> Path:
    """A generated 512x512 CT of ``slices`` uncompressed files (made once, in the gitignored .bench_data/)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_load import make_series

    folder = DATA / ("ct_512x512" if slices == 400 else f"ct_512x512x{slices}")
    make_series(folder, slices)
    return folder


def dataset_path(name: str) -> Path:
    if name == "thoracic":
        # A copy: the case takes a lock (and autosaves) beside itself, never in sample_dicoms/.
        copy = scratch() / "thoracic_ddlps"
        if not (copy / "case.spinecase.json").exists():
            shutil.copytree(THORACIC, copy)
        return copy / "case.spinecase.json"
    if name == "ct400":
        return ct_folder(400)
    if name == "ct1500":
        return ct_folder(1500)
    raise ValueError(name)


def scratch() -> Path:
    """This run's scratch folder (the case copy, the settings): made by the parent, shared by its children."""
    path = os.environ.get("SPINECASE_BENCH_SCRATCH")
    if not path:
        path = tempfile.mkdtemp(prefix="spinecase-bench-")
        os.environ["SPINECASE_BENCH_SCRATCH"] = path
        # Settings, recovery files and the like go here, not into the user's folders.
        os.environ["XDG_CONFIG_HOME"] = str(Path(path) / "config")
        os.environ["XDG_DATA_HOME"] = str(Path(path) / "data")
    return Path(path)


_CHILDREN = 0


def child_env() -> dict[str, str]:
    """The environment of one child process: its own scratch folder (its own copy of the case, settings and
    recovery folder), so no child sees another's lock file, recovery file or window state."""
    global _CHILDREN
    _CHILDREN += 1
    own = scratch() / f"child-{_CHILDREN}"
    own.mkdir()
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", SPINECASE_BENCH_SCRATCH=str(own),
                XDG_CONFIG_HOME=str(own / "config"), XDG_DATA_HOME=str(own / "data"))


def warm(path: Path) -> None:
    """Read every file once so each process sees the same (cached) I/O."""
    root = path if path.is_dir() else path.parent
    for f in root.rglob("*"):
        if f.is_file():
            f.read_bytes()


# ---------------------------------------------------------------------------------------------------------
# Child: the window, driven by events
# ---------------------------------------------------------------------------------------------------------
def child_window(dataset: str, steps: int, rounds: int, parts: list[str]) -> dict:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.application import create_application
    from app.main_window import MainWindow
    from app.settings import Settings

    app = create_application(headless=True)
    # Persistent settings (in the scratch folder): the case opens for editing, as in `make run`.
    window = MainWindow(settings=Settings(), restore_state=False)
    window.resize(1600, 1000)
    window.set_layout("spine")
    window.show()
    QTest.qWaitForWindowExposed(window)
    t0 = time.perf_counter()
    window.open_paths([str(dataset_path(dataset))])
    if not window.wait_until_idle(900):
        raise SystemExit("loading timed out")
    load_s = time.perf_counter() - t0
    settle(app, 0.4)
    if window.current_volume() is None:
        raise SystemExit(f"nothing loaded: {window.last_error}")
    views = {v.orientation(): v for v in window.views()}

    def run(action) -> tuple[float, float]:
        c0, t0 = time.thread_time(), time.perf_counter()
        action()
        app.processEvents()  # the update requests: every widget that changed paints
        app.processEvents()  # anything those posted (zero-timeout timers, queued signals)
        return time.thread_time() - c0, time.perf_counter() - t0

    def wheel(view, direction: int) -> None:
        pos = QPointF(view.width() / 2 + 7, view.height() / 2 + 5)
        ev = QWheelEvent(pos, view.mapToGlobal(pos), QPoint(0, 0), QPoint(0, -120 * direction), Qt.NoButton,
                         Qt.NoModifier, Qt.NoScrollPhase, False)
        QApplication.sendEvent(view, ev)

    out: dict[str, object] = {"load_s": load_s, "shape": list(window.current_volume().shape),
                              "floor 512": floor_512_ms()}
    for orient, view in views.items():
        out[f"floor {orient}"] = floor_ms(view)
        out[f"plane {orient}"] = [view.plane_spec().width, view.plane_spec().height]
    for orient in ("axial", "sagittal"):
        if f"scroll {orient}" not in parts:
            continue
        view = views[orient]
        view.setFocus()
        cpu, wall = [], []
        for r in range(rounds):
            direction = 1 if r % 2 == 0 else -1
            for _ in range(steps):
                c, w = run(lambda view=view, d=direction: wheel(view, d))
                cpu.append(c)
                wall.append(w)
            settle(app, 0.3)
        out[f"scroll {orient}"] = summary(cpu, wall)

    axial = views["axial"]
    centre = QPoint(axial.width() // 2, axial.height() // 2)
    if "W/L drag" in parts:
        window.set_tool("navigate")
        cpu, wall = [], []
        for r in range(rounds):
            QTest.mousePress(axial, Qt.LeftButton, Qt.NoModifier, centre)
            sign = 1 if r % 2 == 0 else -1
            for i in range(1, steps + 1):
                p = centre + QPoint(sign * 2 * i, sign * i)
                c, w = run(lambda p=p: QTest.mouseMove(axial, p))
                cpu.append(c)
                wall.append(w)
            QTest.mouseRelease(axial, Qt.LeftButton, Qt.NoModifier, centre + QPoint(sign * 2 * steps, sign * steps))
            settle(app, 0.3)
        out["W/L drag"] = summary(cpu, wall)
    if "measure drag" in parts and window.tools.get("length") is not None:
        window.set_tool("length")
        cpu, wall = [], []
        for _ in range(rounds):
            start = centre - QPoint(60, 40)
            QTest.mousePress(axial, Qt.LeftButton, Qt.NoModifier, start)
            for i in range(1, steps + 1):
                p = start + QPoint(4 * i, 3 * i)
                c, w = run(lambda p=p: QTest.mouseMove(axial, p))
                cpu.append(c)
                wall.append(w)
            QTest.mouseRelease(axial, Qt.LeftButton, Qt.NoModifier, start + QPoint(4 * steps, 3 * steps))
            settle(app, 0.3)
            window.undo_stack.undo()  # leave the case as it was
            settle(app, 0.1)
        out["measure drag"] = summary(cpu, wall)
        window.set_tool("navigate")
    return out


def settle(app, seconds: float) -> None:  # noqa: ANN001
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def summary(cpu: list[float], wall: list[float]) -> dict[str, float]:
    return {"cpu_ms": 1000 * statistics.median(cpu), "wall_ms": 1000 * statistics.median(wall), "n": len(cpu)}


def floor_512_ms() -> float:
    """The same floor for a fixed 512x512 int16 plane drawn into 800x800: a yardstick of this machine's
    speed right now, comparable between data sets and runs."""
    import numpy as np
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter, QTransform

    from imaging.display import Windower

    rng = np.random.default_rng(0)
    volume = rng.integers(-1000, 1500, size=(8, 512, 512), dtype=np.int16)
    windower = Windower(volume.dtype)
    windower.set_window(40, 400)
    target = QImage(800, 800, QImage.Format_ARGB32_Premultiplied)
    times = []
    for i in range(60):
        c0 = time.thread_time()
        buf = windower.apply_rgb32(volume[i % 8])
        img = QImage(buf.data, 512, 512, 2048, QImage.Format_ARGB32_Premultiplied)
        p = QPainter(target)
        p.setTransform(QTransform.fromScale(800 / 512, 800 / 512))
        p.drawImage(QRectF(-0.5, -0.5, 512, 512), img)
        p.end()
        times.append(time.thread_time() - c0)
    return 1000 * statistics.median(times)


def floor_ms(view) -> float:  # noqa: ANN001
    """Median ms to extract the view's plane, window it and draw it scaled (no smoothing, as while
    scrolling) into an image of the view's size: the least any viewer does for a new frame."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter

    from imaging.display import Windower

    vol, spec = view.volume(), view.plane_spec()
    windower = Windower(vol.array.dtype)
    windower.set_window(40, 400)
    target = QImage(view.width(), view.height(), QImage.Format_ARGB32_Premultiplied)
    transform = view.display_transform()
    times = []
    for i in range(60):
        k = (spec.count // 3 + i) % spec.count
        c0 = time.thread_time()
        buf = windower.apply_rgb32(spec.extract(vol.array, k))
        h, w = buf.shape
        img = QImage(buf.data, w, h, 4 * w, QImage.Format_ARGB32_Premultiplied)
        p = QPainter(target)
        p.setTransform(transform)
        p.drawImage(QRectF(-0.5, -0.5, w, h), img)
        p.end()
        times.append(time.thread_time() - c0)
    return 1000 * statistics.median(times)


# ---------------------------------------------------------------------------------------------------------
# Child: startup to the first painted image
# ---------------------------------------------------------------------------------------------------------
_STARTUP = r'''
import os, sys, time, json
sys.path.insert(0, {root!r})
marks = {{"start": time.monotonic()}}
mode = {mode!r}
if mode == "spinecase":
    import widgets.slice_view as sv
    original = sv.SliceView.paintEvent
    def paint(self, event):
        original(self, event)
        if "first_image" not in marks and self.volume() is not None:
            marks["first_image"] = time.monotonic()
            marks["cpu"] = time.process_time()
            print(json.dumps(marks), flush=True)
            os._exit(0)
    sv.SliceView.paintEvent = paint
    import app.main_window as mw
    init = mw.MainWindow.__init__
    def window_init(self, *a, **k):
        marks.setdefault("window_start", time.monotonic())
        init(self, *a, **k)
        marks["window_ready"] = time.monotonic()
    mw.MainWindow.__init__ = window_init
    from app.cli import main
    main(["open", {case!r}, "--layout", "spine"])
else:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication, QMainWindow, QWidget
    import numpy as np
    app = QApplication([])
    class View(QWidget):
        def paintEvent(self, event):
            buf = np.full((512, 512), 0xFF404040, np.uint32)
            img = QImage(buf.data, 512, 512, 2048, QImage.Format_ARGB32_Premultiplied)
            p = QPainter(self)
            p.drawImage(self.rect(), img)
            p.end()
            marks["first_image"] = time.monotonic()
            marks["cpu"] = time.process_time()
            print(json.dumps(marks), flush=True)
            os._exit(0)
    w = QMainWindow()
    w.setCentralWidget(View())
    w.resize(1600, 1000)
    w.show()
    app.exec()
'''


def startup_once(mode: str) -> dict[str, float]:
    env = child_env()
    case = Path(env["SPINECASE_BENCH_SCRATCH"]) / "thoracic_ddlps"
    shutil.copytree(THORACIC, case)  # the case takes a lock beside itself: never in sample_dicoms/
    code = _STARTUP.format(root=str(ROOT), mode=mode, case=str(case / "case.spinecase.json"))
    spawned = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise SystemExit(f"startup ({mode}) printed nothing:\n{out.stderr[-2000:]}")
    marks = json.loads(lines[-1])
    return {k: (v - spawned if k != "cpu" else v) for k, v in marks.items()}


def bench_startup(processes: int) -> dict[str, dict[str, float]]:
    warm(THORACIC)
    startup_once("spinecase")  # warm caches (.pyc, fonts)
    runs: dict[str, list[dict[str, float]]] = {"spinecase": [], "bare": []}
    for _ in range(processes):
        for mode in runs:
            runs[mode].append(startup_once(mode))
    return {mode: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for mode, rs in runs.items()}


# ---------------------------------------------------------------------------------------------------------
# spinecase info
# ---------------------------------------------------------------------------------------------------------
_HEADER_PASS = r'''
import os, sys, pydicom
n = 0
for dirpath, _, names in os.walk(sys.argv[1]):
    for name in names:
        try:
            pydicom.dcmread(os.path.join(dirpath, name), stop_before_pixels=True)
            n += 1
        except Exception:
            pass
print(n)
'''


def timed_process(cmd: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of the process and its children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def bench_info(processes: int) -> dict[str, dict[str, float]]:
    warm(SAMPLES)
    spinecase = str(Path(sys.executable).parent / "spinecase")
    commands = {"spinecase info": [spinecase, "info", str(SAMPLES)],
                "pydicom header pass": [sys.executable, "-c", _HEADER_PASS, str(SAMPLES)]}
    out = {}
    for name, cmd in commands.items():
        runs = [timed_process(cmd) for _ in range(processes)]
        out[name] = {"wall_s": statistics.median(r[0] for r in runs), "cpu_s": statistics.median(r[1] for r in runs)}
    return out


# ---------------------------------------------------------------------------------------------------------
# Parent
# ---------------------------------------------------------------------------------------------------------
def run_child(dataset: str, steps: int, rounds: int, parts: list[str]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", dataset, "--steps", str(steps),
           "--rounds", str(rounds), "--parts", ",".join(parts)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=child_env())
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"window benchmark ({dataset}) failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1])


def bench_window(dataset: str, processes: int, steps: int, rounds: int, parts: list[str]) -> dict:
    warm(THORACIC if dataset == "thoracic" else dataset_path(dataset))
    runs = [run_child(dataset, steps, rounds, parts) for _ in range(processes)]
    merged: dict[str, object] = {"shape": runs[0]["shape"], "load_s": statistics.median(r["load_s"] for r in runs)}
    for key in runs[0]:
        if key.startswith("floor "):
            merged[key] = statistics.median(r[key] for r in runs)
        elif key.startswith("plane "):
            merged[key] = runs[0][key]
        elif isinstance(runs[0][key], dict):
            merged[key] = {f: statistics.median(r[key][f] for r in runs) for f in ("cpu_ms", "wall_ms")}
    return merged


def print_window(name: str, res: dict) -> None:
    print(f"\n{name}: volume {res['shape']} (slices, rows, columns), loaded in {res['load_s']:.2f} s")
    print(f"  {'step':16} {'CPU ms':>8} {'wall ms':>8} {'floor ms':>9} {'CPU/floor':>10} {'target':>8}")
    for key in ("scroll axial", "scroll sagittal", "W/L drag", "measure drag"):
        if key not in res:
            continue
        orient = "sagittal" if key.endswith("sagittal") else "axial"
        floor = res.get(f"floor {orient}", float("nan"))
        cpu, wall = res[key]["cpu_ms"], res[key]["wall_ms"]
        target = TARGET_TALL_MS if (name.startswith("512x512x1500") and key == "scroll sagittal") \
            else TARGETS_MS.get(key)
        verdict = "" if target is None else f"{target:.0f} {'met' if cpu <= target else 'NOT met'}"
        print(f"  {key:16} {cpu:8.2f} {wall:8.2f} {floor:9.3f} {cpu / floor:10.1f} {verdict:>8}")
    planes = ", ".join(f"{o} {res[f'plane {o}'][0]}x{res[f'plane {o}'][1]}" for o in ("axial", "sagittal", "coronal")
                       if f"plane {o}" in res)
    print(f"  (planes: {planes}; floor = extract + window + scaled draw at the view's size, same process;"
          f" the same for a 512x512 plane into 800x800: {res['floor 512']:.3f} ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 process, 1 round of 10 steps (a smoke run)")
    parser.add_argument("--only", nargs="*", default=None,
                        help="thoracic, ct400, ct1500, startup, info (default: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--parts", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.processes, args.steps, args.rounds = 1, 10, 1

    if args.child:
        print(json.dumps(child_window(args.child, args.steps, args.rounds, args.parts.split(","))), flush=True)
        os._exit(0)  # no close dialogs, no saving: the scratch folder goes away

    scratch()
    try:
        return run_all(args)
    finally:
        shutil.rmtree(scratch(), ignore_errors=True)


def run_all(args: argparse.Namespace) -> int:
    all_parts = ["scroll axial", "scroll sagittal", "W/L drag", "measure drag"]
    wanted = args.only or ["thoracic", "ct400", "ct1500", "startup", "info"]
    print(f"bench_window: {args.processes} process(es) x {args.rounds} round(s) x {args.steps} steps; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the start")
    if "thoracic" in wanted:
        print_window("thoracic sample case", bench_window("thoracic", args.processes, args.steps, args.rounds,
                                                          all_parts))
    if "ct400" in wanted:
        print_window("512x512x400 CT", bench_window("ct400", args.processes, args.steps, args.rounds, all_parts))
    if "ct1500" in wanted:
        print_window("512x512x1500 CT", bench_window("ct1500", args.processes, args.steps, args.rounds,
                                                     ["scroll sagittal"]))
    if "startup" in wanted:
        res = bench_startup(args.processes)
        ours, bare = res["spinecase"], res["bare"]
        print("\nstartup to the first painted image (fresh process, warm cache; seconds from spawn):")
        print(f"  spinecase open <case> --layout spine: window built {ours['window_ready']:.2f}, first image "
              f"{ours['first_image']:.2f} (CPU {ours['cpu']:.2f}; target {TARGET_STARTUP_S:.0f} s: "
              f"{'met' if ours['first_image'] <= TARGET_STARTUP_S else 'NOT met'})")
        print(f"  bare PySide6 window with one image:   first image {bare['first_image']:.2f} (CPU "
              f"{bare['cpu']:.2f})  -> ratio {ours['first_image'] / bare['first_image']:.1f}x wall, "
              f"{ours['cpu'] / bare['cpu']:.1f}x CPU")
    if "info" in wanted:
        res = bench_info(args.processes)
        ours, ref = res["spinecase info"], res["pydicom header pass"]
        print("\nspinecase info sample_dicoms (fresh process, warm cache):")
        print(f"  spinecase info:      wall {ours['wall_s']:.2f} s, CPU {ours['cpu_s']:.2f} s (target "
              f"{TARGET_INFO_S:.0f} s: {'met' if ours['wall_s'] <= TARGET_INFO_S else 'NOT met'})")
        print(f"  pydicom header pass: wall {ref['wall_s']:.2f} s, CPU {ref['cpu_s']:.2f} s  -> CPU ratio "
              f"{ours['cpu_s'] / ref['cpu_s']:.1f}x")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end (other work inflates wall times; compare ratios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
