"""The Qt binding itself must be sound: PySide6 6.12.0 on Python 3.11 returned None from void C++ methods
without a reference, so a few thousand paint calls later the interpreter aborted ("deallocating None").
pyproject.toml excludes that release; this test fails if a future one brings the bug back."""

from __future__ import annotations

import sys

import pytest


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 (PEP 683)")
def test_void_qt_calls_keep_none_references(qtbot) -> None:
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    qtbot.addWidget(widget)
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    before = sys.getrefcount(None)
    painter = QPainter(image)
    for _ in range(2000):
        widget.update()
        painter.setPen(QColor(1, 2, 3))
    painter.end()
    assert sys.getrefcount(None) - before > -100
