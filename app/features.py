"""Feature modules install themselves into the main window.

Each feature lives in its own module (e.g. ``app/measure_feature.py``) with a function
``install(window: MainWindow) -> None`` that uses the window's hooks -- nothing else in main_window.py needs
to change::

    def install(window):
        window.add_tool(LengthTool(window.undo_stack, window.case))        # toolbar + Tools menu + shortcut
        window.add_overlay(MeasurementOverlay(...))                        # painted on every slice view
        window.add_panel(MeasurementList(...), "Measurements")             # right dock, tabbed
        window.add_action("Tools", some_action)                            # any menu, created on demand
        window.add_corner_text("bottom_left", lambda ctx: level_of(ctx))   # text in a view corner
        window.register_path_handler(lambda p: p.endswith(".spinecase.json"), open_case)
        window.volumeLoaded.connect(...); window.activeViewChanged.connect(...)

Add the module's dotted name to ``FEATURE_MODULES`` (one line per feature; order = toolbar/panel order).
A module that is not written yet is skipped; one that fails to install is reported in the message bar and
the log, and the others still install.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from app.main_window import MainWindow

_log = logging.getLogger(__name__)

FEATURE_MODULES: list[str] = [
    "app.feature_case",             # case file: open/save/autosave/recovery/lock, report data form, exports
    "app.feature_measure",          # measurement tools, measurement overlay and list panel
    "app.feature_levels",           # vertebral level labelling, detection, level tags, spine map
    "app.feature_findings",         # findings, Bilsky grading panel, SINS calculator
    "app.feature_bilsky_assistant", # Bilsky contour tools and the grade suggestion panel
    "app.feature_followup",         # follow-up: lesion timepoints, growth, RECIST, linking a new date
    "app.feature_pacs",             # File > Open from PACS, Send to PACS, reader agreement over SRs
    "app.feature_deid",             # File > Export de-identified (research export, PS3.15 profile)
    "app.feature_reading",          # hanging protocols, linked navigation, cine, flip/rotate, next series
]


def install_features(window: MainWindow, modules: list[str] | None = None) -> list[str]:
    """Import each feature module and call its ``install(window)``. Returns the names installed."""
    installed = []
    for name in FEATURE_MODULES if modules is None else modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # not written yet
                continue
            _log.exception("feature %s could not be imported", name)
            window.message_bar.show_message(f"Feature {name} could not be loaded: {exc}", "error")
            continue
        try:
            module.install(window)
        except Exception as exc:  # noqa: BLE001 - one broken feature must not stop the viewer
            _log.exception("feature %s failed to install", name)
            window.message_bar.show_message(f"Feature {name} failed to start: {exc}", "error")
            continue
        installed.append(name)
    return installed
