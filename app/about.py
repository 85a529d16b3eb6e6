"""Help > About and Help > Keyboard Shortcuts."""

from __future__ import annotations

from html import escape

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

DISCLAIMER = ("SpineCase is research software. It is NOT a medical device and must not be used for diagnosis "
              "or treatment decisions.")

# Mouse and keys handled by the slice views themselves (not menu actions, which are listed from the window).
SHORTCUTS = [
    ("Wheel down / up, Down / Up", "next / previous image in the series' order (as PACS numbers them)"),
    ("Page Up / Page Down", "10 images"),
    ("Home / End", "first / last image of the series"),
    ("Left drag (Navigate)", "window (horizontal) and level (vertical)"),
    ("Middle drag", "pan"),
    ("Right drag, Ctrl + wheel", "zoom"),
    ("Right click", "view menu"),
    ("Shift + click", "move the cursor: every view shows that point"),
    ("1 .. 5", "window presets"),
    ("R", "reset view and window"),
    ("I", "invert grey scale"),
    ("H", "hide / show patient and study text"),
    ("Esc", "cancel the drawing in progress, then back to Navigate"),
    ("Delete, F2 / double-click", "delete / rename the selected annotation"),
]


def about_text(version: str) -> str:
    return (f"<h3>SpineCase {version}</h3>"
            "<p>Spine oncology imaging: vertebral levels, lesion measurement, Bilsky epidural spinal cord "
            "compression grading and SINS.</p>"
            f"<p><b>{DISCLAIMER}</b></p>"
            "<p>Built with Qt for Python (PySide6), NumPy, pydicom and SimpleITK.</p>")


def show_about(parent: QWidget, version: str) -> None:
    QMessageBox.about(parent, "About SpineCase", about_text(version))


def action_shortcuts(window: QWidget) -> list[tuple[str, str]]:
    """(keys, command) for every action of the window that has a shortcut: tools, menus, undo/redo.

    Read from the live actions, so the list always matches what the keys really do."""
    seen: dict[str, str] = {}
    for action in window.findChildren(QAction):
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
        text = action.text().replace("&", "").split("  (")[0].strip()
        if keys and text and keys not in seen:
            seen[keys] = text
    return sorted(seen.items(), key=lambda kv: kv[1].lower())


def shortcuts_html(window: QWidget | None = None) -> str:
    def table(rows: list[tuple[str, str]]) -> str:
        body = "".join(f"<tr><td style='padding-right:16px'><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>"
                       for k, v in rows)
        return f"<table>{body}</table>"

    html = ("<h4>In the views</h4><p>Image keys act on the image under the pointer, even when a panel control "
            "has the focus; typing in a text field stays in the field.</p>" + table(SHORTCUTS))
    if window is not None:
        html += "<h4>Commands and tools</h4>" + table(action_shortcuts(window))
    return html


def show_shortcuts(parent: QWidget) -> None:
    box = QMessageBox(parent)
    box.setWindowTitle("Keyboard and mouse")
    box.setText(shortcuts_html(parent))
    box.setModal(False)
    box.show()
