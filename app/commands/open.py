"""`spinecase open PATH... [--series S] [--layout NAME] [--screenshot FILE]`: the viewer.

PATH is a folder (searched recursively), one or more DICOM files, a DICOMDIR, or a case file
``*.spinecase.json``: the case feature (app/feature_case.py, a path handler, see
``MainWindow.register_path_handler``) opens the case -- labels, findings, measurements, grades, report data --
and loads its series from their path hints relative to the case file. With ``--screenshot`` the case is opened
read-only (no lock, no recovery file). ``--series`` picks the series shown first: a SeriesInstanceUID, a
series number, or part of a series description. With ``--screenshot FILE`` the window loads the data,
renders itself to a PNG and exits (0 when the series loaded; 1 otherwise); it runs offscreen when there is
no display and never touches the user's settings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "open"
HELP = "open DICOM folders/files (or a case file) in the viewer"
LAYOUTS = ("1x1", "1x2", "1x3", "2x2", "spine")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="DICOM folder(s) or file(s), a DICOMDIR, or a *.spinecase.json case file")
    parser.add_argument("--series", metavar="UID|NUMBER|TEXT",
                        help="series to show first: SeriesInstanceUID, series number or part of its description")
    parser.add_argument("--layout", choices=LAYOUTS, help="view layout (default: the last one used, else spine)")
    parser.add_argument("--screenshot", metavar="FILE", type=Path,
                        help="load, render the window to this PNG and exit")
    parser.add_argument("--size", default="1600x1000", metavar="WxH",
                        help="window size for --screenshot (default 1600x1000)")
    parser.add_argument("--timeout", type=float, default=300.0, help=argparse.SUPPRESS)


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        return max(w, 400), max(h, 300)
    except ValueError as exc:
        raise SystemExit(f"spinecase open: --size must look like 1600x1000, not {text!r}") from exc


def run(args: argparse.Namespace) -> int:
    if args.paths:
        from imaging.dicom import decode_pool

        decode_pool.prestart()  # decoder processes start while the window is built (compressed series)
    from app.application import create_application

    screenshot: Path | None = args.screenshot
    app = create_application(headless=screenshot is not None)

    from app.main_window import MainWindow
    from app.settings import Settings

    settings = Settings.ephemeral() if screenshot else Settings()
    window = MainWindow(settings=settings, restore_state=screenshot is None)
    if screenshot:
        window.resize(*_parse_size(args.size))
    if args.layout:
        window.set_layout(args.layout)
        window.explicit_layout = True  # hanging protocols keep the layout asked for
    window.show()
    window.raise_()
    window.activateWindow()  # without a window manager (Xvfb) keys reach the window only once it is active
    if args.paths:
        window.open_paths(args.paths, series=args.series)
    if screenshot is None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, window.ensure_reader)  # once: the name is kept in the settings
        return int(app.exec())

    idle = window.wait_until_idle(args.timeout)
    for _ in range(3):
        app.processEvents()
    ok = idle and window.current_volume() is not None
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    saved = window.grab().save(str(screenshot), "PNG")
    if not saved:
        print(f"spinecase open: could not write {screenshot}", file=sys.stderr)
        ok = False
    if not ok:
        reason = window.last_error or ("timed out" if not idle else "no series was loaded")
        print(f"spinecase open: {reason}", file=sys.stderr)
    window.close()
    return 0 if ok else 1
