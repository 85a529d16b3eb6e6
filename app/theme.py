"""Dark reading-room theme (Fusion style, near-black surfaces, low-glare greys, one muted accent) and the
HiDPI set-up that must happen before the QApplication exists."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#4a86c5"

STYLESHEET = f"""
QMainWindow, QDockWidget, QWidget {{ color: #d6dae0; }}
QMainWindow::separator {{ background: #15171a; width: 3px; height: 3px; }}
QDockWidget::title {{ background: #1b1e22; padding: 4px 8px; border-bottom: 1px solid #0d0f11; }}
QTreeWidget, QTreeView, QListView, QTableView {{
    background: #121417; alternate-background-color: #16191c; border: none;
    selection-background-color: #263a52; selection-color: #ffffff; outline: 0;
}}
QTreeView::item {{ padding: 3px 2px; }}
QTreeView::item:hover {{ background: #1c2229; }}
QSplitter::handle {{ background: #23272c; }}
QSplitter::handle:hover {{ background: {ACCENT}; }}
QToolBar {{ background: #181a1e; border: none; border-bottom: 1px solid #0d0f11; spacing: 2px; padding: 2px; }}
QToolButton {{ padding: 3px 7px; border-radius: 3px; color: #cfd4da; }}
QToolButton:hover {{ background: #262b31; }}
QToolButton:checked {{ background: #263a52; color: #ffffff; }}
QStatusBar {{ background: #181a1e; border-top: 1px solid #0d0f11; color: #b9bfc7; }}
QStatusBar QLabel {{ color: #b9bfc7; }}
QMenuBar {{ background: #181a1e; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: #263a52; }}
QMenu {{ background: #1b1e22; border: 1px solid #2a2f35; }}
QProgressBar {{ border: 1px solid #2a2f35; border-radius: 3px; background: #111315; text-align: center;
                max-height: 14px; color: #d6dae0; }}
QProgressBar::chunk {{ background: {ACCENT}; }}
QPushButton {{ background: #23272c; border: 1px solid #2f353c; border-radius: 3px; padding: 3px 10px; }}
QPushButton:hover {{ background: #2b3036; }}
QToolTip {{ background: #1b1e22; color: #e6e9ed; border: 1px solid #2f353c; }}
"""


def configure_high_dpi() -> None:
    """Call before creating the QApplication: exact (fractional) scale factors on HiDPI screens, so text
    and overlays are crisp at 125 % / 150 % instead of rounded to 1x or 2x."""
    if QGuiApplication.instance() is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(18, 20, 23), QColor(24, 26, 30), QColor(214, 218, 224)
    disabled = QColor(110, 116, 124)
    p.setColor(QPalette.Window, window)
    p.setColor(QPalette.WindowText, text)
    p.setColor(QPalette.Base, base)
    p.setColor(QPalette.AlternateBase, QColor(22, 25, 28))
    p.setColor(QPalette.ToolTipBase, QColor(27, 30, 34))
    p.setColor(QPalette.ToolTipText, text)
    p.setColor(QPalette.Text, text)
    p.setColor(QPalette.Button, QColor(35, 39, 44))
    p.setColor(QPalette.ButtonText, text)
    p.setColor(QPalette.BrightText, QColor(255, 90, 90))
    p.setColor(QPalette.Highlight, QColor(38, 58, 82))
    p.setColor(QPalette.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.Link, QColor(ACCENT))
    p.setColor(QPalette.PlaceholderText, disabled)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, disabled)
    return p


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLESHEET)
