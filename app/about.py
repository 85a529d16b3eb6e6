"""Help > About and Help > Keyboard Shortcuts."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

DISCLAIMER = ("SpineCase is research software. It is NOT a medical device and must not be used for diagnosis "
              "or treatment decisions.")

SHORTCUTS = [
    ("Wheel, Up / Down", "next / previous slice"),
    ("Page Up / Page Down", "10 slices"),
    ("Home / End", "first / last slice"),
    ("Left drag (Navigate)", "window (horizontal) and level (vertical)"),
    ("Middle drag", "pan"),
    ("Right drag, Ctrl + wheel", "zoom"),
    ("Right click", "view menu"),
    ("Shift + click", "move the cursor: every view shows that point"),
    ("1 .. 5", "window presets"),
    ("R", "reset view and window"),
    ("I", "invert grey scale"),
    ("H", "hide / show patient and study text"),
    ("N / C", "navigate / crosshair tool"),
    ("Esc / Delete", "cancel / delete the selection (measurement tools)"),
    ("Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y", "undo / redo"),
    ("Ctrl+O / Ctrl+Shift+O", "open folder / open files"),
]


def about_text(version: str) -> str:
    return (f"<h3>SpineCase {version}</h3>"
            "<p>Spine oncology imaging: vertebral levels, lesion measurement, Bilsky epidural spinal cord "
            "compression grading and SINS.</p>"
            f"<p><b>{DISCLAIMER}</b></p>"
            "<p>Built with Qt for Python (PySide6), NumPy, pydicom and SimpleITK.</p>")


def show_about(parent: QWidget, version: str) -> None:
    QMessageBox.about(parent, "About SpineCase", about_text(version))


def shortcuts_html() -> str:
    rows = "".join(f"<tr><td style='padding-right:16px'><b>{k}</b></td><td>{v}</td></tr>" for k, v in SHORTCUTS)
    return f"<table>{rows}</table>"


def show_shortcuts(parent: QWidget) -> None:
    box = QMessageBox(parent)
    box.setWindowTitle("Keyboard and mouse")
    box.setText(shortcuts_html())
    box.setModal(False)
    box.show()
