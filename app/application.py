"""Creating the QApplication the SpineCase way: HiDPI policy first, names for QSettings, dark theme."""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtWidgets import QApplication

import widgets  # noqa: F401 - applies the PySide6/Python 3.11 None refcount workaround
from app.theme import apply_dark_theme, configure_high_dpi

_log = logging.getLogger(__name__)


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal", "vnc"):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def create_application(argv: list[str] | None = None, headless: bool = False) -> QApplication:
    """The QApplication (reused when one exists). ``headless`` selects the offscreen platform when no
    display is available (``spinecase open --screenshot`` on a server)."""
    app = QApplication.instance()
    if app is not None:
        return app  # type: ignore[return-value]  # instance() is typed QCoreApplication; ours is a QApplication
    if headless and not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    configure_high_dpi()
    app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setOrganizationName("SpineCase")
    app.setApplicationName("SpineCase")
    app.setApplicationDisplayName("SpineCase")
    apply_dark_theme(app)
    install_excepthook()
    return app


def install_excepthook() -> None:
    """Unexpected errors in event handlers are logged with their traceback and shown to the reader as one
    line in the main window's message bar -- never as a traceback dialog, and the app keeps running."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb) -> None:  # noqa: ANN001
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        _log.error("unexpected error", exc_info=(exc_type, exc, tb))
        for w in QApplication.topLevelWidgets():
            show = getattr(w, "show_message", None)
            if callable(show):
                show(f"Unexpected error: {exc_type.__name__}: {exc}", "error")
                break

    sys.excepthook = hook
