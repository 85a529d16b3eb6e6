"""Painting the Bilsky grade schematics (axial drawings of vertebral body, canal, thecal sac, cord, tumour).

The shapes come from :func:`imaging.spine.bilsky_schematic` (Qt-free polygons in a unit box, anterior up,
as an axial image is shown); this module only paints them, fitted into a rectangle with their aspect kept::

    paint_bilsky_schematic(painter, QRectF(0, 0, 56, 84), "1c")   # portrait: schematic_aspect()
    BilskySchematic("3")            # a small widget showing one grade
    schematic_image("2", 96)        # a QImage 96 px tall (for reports, icons)
    paint_schematic_legend(painter, rect)   # the colour key

Colours are chosen to read at 60-100 px on the dark theme: bone beige-grey, canal lumen dark, CSF (thecal
sac) blue, cord yellow, tumour red — each with a darker outline.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from imaging.spine import BILSKY_GRADES, bilsky_schematic

__all__ = [
    "LEGEND_ITEMS",
    "SCHEMATIC_BACKGROUND",
    "SCHEMATIC_COLORS",
    "BilskySchematic",
    "paint_bilsky_schematic",
    "paint_schematic_legend",
    "schematic_aspect",
    "schematic_image",
]

SCHEMATIC_BACKGROUND = QColor(14, 16, 19)
SCHEMATIC_COLORS: dict[str, tuple[QColor, QColor]] = {
    # role: (fill, outline)
    "posterior_arch": (QColor(186, 178, 160), QColor(120, 113, 98)),
    "vertebral_body": (QColor(186, 178, 160), QColor(120, 113, 98)),
    "canal": (QColor(40, 44, 51), QColor(96, 90, 78)),
    "thecal_sac": (QColor(84, 164, 228), QColor(40, 96, 150)),
    "spinal_cord": (QColor(246, 212, 96), QColor(150, 120, 30)),
    "tumor": (QColor(222, 74, 70), QColor(120, 26, 24)),
}
LEGEND_ITEMS: tuple[tuple[str, str], ...] = (
    ("vertebral_body", "Bone"), ("thecal_sac", "Thecal sac (CSF)"), ("spinal_cord", "Cord"),
    ("tumor", "Tumour"),
)
"""(role, name) shown in the colour key."""


@lru_cache(maxsize=16)
def _shapes(grade: str) -> tuple[tuple[str, np.ndarray], ...]:
    shapes = bilsky_schematic(grade, n=120)
    return tuple((s.role, np.asarray(s.points, dtype=np.float64)) for s in shapes)


_FOCUS_ROLES = ("canal", "thecal_sac", "spinal_cord", "tumor")
_FOCUS_PAD = 0.06


@lru_cache(maxsize=1)
def _extent() -> tuple[float, float, float, float]:
    """The part of the drawing shown (x0, y0, x1, y1): the canal, sac, cord and tumour of every grade with a
    margin of bone around them, the same for all grades so they share one scale and position. The outer
    parts of the vertebral body and the posterior arch are cropped: at small sizes the canal is what
    tells the grades apart."""
    pts = np.concatenate([p for g in BILSKY_GRADES for role, p in _shapes(g)
                          if role in _FOCUS_ROLES])
    x0, y0 = pts.min(axis=0) - _FOCUS_PAD
    x1, y1 = pts.max(axis=0) + _FOCUS_PAD
    return float(x0), float(y0), float(x1), float(y1)


def schematic_aspect() -> float:
    """Width / height of the drawing (portrait, about 2:3): size widgets to it."""
    x0, y0, x1, y1 = _extent()
    return (x1 - x0) / (y1 - y0)


def paint_bilsky_schematic(painter: QPainter, rect: QRectF, grade: str, *, background: bool = True) -> None:
    """Paint the axial schematic of ``grade`` fitted (aspect kept, centred, clipped) into ``rect``."""
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing, True)
    frame = QPainterPath()
    frame.addRoundedRect(rect, 4, 4)
    if background:
        painter.fillPath(frame, SCHEMATIC_BACKGROUND)
    painter.setClipPath(frame)
    x0, y0, x1, y1 = _extent()
    scale = min(rect.width() / (x1 - x0), rect.height() / (y1 - y0))
    ox = rect.center().x() - scale * (x0 + x1) / 2
    oy = rect.center().y() - scale * (y0 + y1) / 2
    pen_width = max(1.0, scale * 0.008)
    for role, pts in _shapes(grade):
        fill, outline = SCHEMATIC_COLORS[role]
        poly = QPolygonF([QPointF(ox + scale * x, oy + scale * y) for x, y in pts])
        painter.setPen(QPen(outline, pen_width))
        painter.setBrush(QBrush(fill))
        painter.drawPolygon(poly)
    painter.restore()


def schematic_image(grade: str, height: int = 96, device_pixel_ratio: float = 1.0) -> QImage:
    """The schematic of ``grade`` as an ARGB image ``height`` logical pixels tall (width from the aspect)."""
    width = max(1, round(height * schematic_aspect()))
    img = QImage(max(1, round(width * device_pixel_ratio)), max(1, round(height * device_pixel_ratio)),
                 QImage.Format_ARGB32_Premultiplied)
    img.setDevicePixelRatio(device_pixel_ratio)
    img.fill(Qt.transparent)
    p = QPainter(img)
    paint_bilsky_schematic(p, QRectF(0, 0, width, height), grade)
    p.end()
    return img


def paint_schematic_legend(painter: QPainter, rect: QRectF, font: QFont | None = None,
                           text_color: QColor | None = None) -> None:
    """The colour key (bone, thecal sac, cord, tumour) in one row across ``rect``."""
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing, True)
    if font is not None:
        painter.setFont(font)
    fm = painter.fontMetrics()
    sw = fm.height() * 0.8
    x = rect.left()
    cy = rect.center().y()
    for role, name in LEGEND_ITEMS:
        fill, outline = SCHEMATIC_COLORS[role]
        painter.setPen(QPen(outline, 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(QRectF(x, cy - sw / 2, sw, sw), 2, 2)
        x += sw + 4
        painter.setPen(text_color or QColor(200, 205, 212))
        tw = fm.horizontalAdvance(name)
        painter.drawText(QRectF(x, rect.top(), tw + 2, rect.height()), Qt.AlignVCenter | Qt.AlignLeft, name)
        x += tw + 12
    painter.restore()


class BilskySchematic(QWidget):
    """A small widget painting one grade's schematic, ``height`` pixels tall (portrait)."""

    def __init__(self, grade: str, height: int = 84, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grade = grade
        self._height = height
        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
        self.setAttribute(Qt.WA_TransparentForMouseEvents, True)  # clicks go to the card holding it

    def grade(self) -> str:
        return self._grade

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(round(self._height * schematic_aspect()), self._height)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return self.sizeHint()

    def paintEvent(self, _event) -> None:  # noqa: ANN001, N802 - Qt API
        p = QPainter(self)
        paint_bilsky_schematic(p, QRectF(self.rect()), self._grade)
        p.end()


class SchematicLegend(QWidget):
    """The colour key as a widget."""

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        fm = self.fontMetrics()
        width = sum(fm.horizontalAdvance(name) + fm.height() + 16 for _, name in LEGEND_ITEMS)
        return QSize(width, fm.height() + 6)

    def paintEvent(self, _event) -> None:  # noqa: ANN001, N802 - Qt API
        p = QPainter(self)
        paint_schematic_legend(p, QRectF(self.rect()), self.font(), self.palette().windowText().color())
        p.end()
