"""The Bilsky assistant's contours on the slice views: bony canal, thecal sac, spinal cord and tumour.

Each kind has its own colour from the Okabe-Ito palette (told apart with the common colour-vision
deficiencies) and its own line width, filled translucent; a thin dark outline under every line keeps it
readable on any grey. A contour is drawn only on the slice it was drawn on (every point within half the
plane's thickness, same series). Contours of the current finding are drawn at full strength, those of other
findings faded. Painting order is canal, tumour, sac, cord (the inner structures on top); the sac's line is
the widest, so a cord outline lying on the sac's (no CSF left: grade 3) still shows both.

A legend (kinds present on the plane) sits at the top left, under the corner text; it is a second overlay,
``ContourOverlay.legend``, painted after the corner text so it can step below it (install both)::

    overlay = ContourOverlay(controller, current_finding_id=focus.current_id)
    window.add_overlay(overlay); window.add_overlay(overlay.legend)

Research software, not a diagnostic device.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen, QPolygonF

from imaging.case.model import Contour, Finding
from imaging.spine.contour_masks import CONTOUR_KINDS, CONTOUR_NAMES, contour_on_plane
from widgets.case_controller import CaseController
from widgets.overlays import Overlay, OverlayContext, draw_text, overlay_font

__all__ = ["KIND_COLORS", "KIND_TITLES", "ContourLegendOverlay", "ContourOverlay", "kind_color",
           "paint_outline"]

#: Okabe-Ito colours: yellow, sky blue, bluish green, vermillion.
KIND_COLORS: dict[str, QColor] = {"canal": QColor("#F0E442"), "sac": QColor("#56B4E9"),
                                  "cord": QColor("#009E73"), "tumour": QColor("#D55E00")}
KIND_TITLES: dict[str, str] = {k: CONTOUR_NAMES[k].capitalize() for k in CONTOUR_KINDS}
LINE_WIDTHS: dict[str, float] = {"canal": 2.0, "sac": 4.0, "cord": 1.6, "tumour": 2.0}
PAINT_ORDER: tuple[str, ...] = ("canal", "tumour", "sac", "cord")
FILL_ALPHA = 56
FADED = 0.45
HALO = QColor(0, 0, 0, 150)


def kind_color(kind: str) -> QColor:
    return QColor(KIND_COLORS.get(kind, QColor(230, 230, 230)))


def paint_outline(painter: QPainter, polygon: QPolygonF, kind: str, closed: bool = True,
                  opacity: float = 1.0, fill: bool = True, halo: bool = True, line: bool = True) -> None:
    """One outline in its kind's colour: dark halo, translucent fill (when ``closed``), line — each part
    can be left out (to paint several outlines' halos and fills before their lines)."""
    color = kind_color(kind)
    width = LINE_WIDTHS.get(kind, 2.0)
    painter.setRenderHint(QPainter.Antialiasing, True)

    def draw() -> None:
        if closed:
            painter.drawPolygon(polygon)
        else:
            painter.drawPolyline(polygon)

    if halo:
        dark = QColor(HALO)
        dark.setAlphaF(dark.alphaF() * opacity)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(dark, width + 2.0, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        draw()
    if closed and fill:
        f = QColor(color)
        f.setAlpha(round(FILL_ALPHA * opacity))
        painter.setPen(Qt.NoPen)
        painter.setBrush(QBrush(f))
        draw()
    if line:
        c = QColor(color)
        c.setAlphaF(opacity)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(c, width, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        draw()
    painter.setBrush(Qt.NoBrush)


class ContourOverlay(Overlay):
    """Draws every finding's contours on the slice they belong to (see the module docstring)."""

    z = 45  # over the image and reference lines, under measurements and text

    def __init__(self, controller: CaseController,
                 current_finding_id: Callable[[], str] | None = None) -> None:
        self.controller = controller
        self.current_finding_id = current_finding_id or (lambda: "")
        self.visible = True
        #: contour id -> LPS points drawn instead of the stored ones (the brush's live preview)
        self.previews: dict[str, np.ndarray] = {}
        self.legend = ContourLegendOverlay(self)

    def contours_on(self, ctx: OverlayContext) -> list[tuple[Finding, Contour]]:
        """(finding, contour) pairs lying on the view's plane, in painting order."""
        vol = ctx.volume
        if vol is None:
            return []
        uid = vol.metadata.series_instance_uid or None
        found = []
        for f in self.controller.case.findings:
            for c in f.contours:
                try:
                    if contour_on_plane(c, ctx.geometry, uid):
                        found.append((f, c))
                except (ValueError, np.linalg.LinAlgError):
                    continue
        found.sort(key=lambda fc: PAINT_ORDER.index(fc[1].kind))
        return found

    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        current = self.current_finding_id()
        shapes = []
        for f, c in self.contours_on(ctx):
            points = self.previews.get(c.id)
            faded = bool(current) and f.id != current
            shapes.append((ctx.polygon(c.points if points is None else points), c.kind, FADED if faded else 1.0))
        # halos and fills first, then every line: an inner line never hides the wider one under it
        for polygon, kind, opacity in shapes:
            paint_outline(painter, polygon, kind, opacity=opacity, line=False)
        for polygon, kind, opacity in shapes:
            paint_outline(painter, polygon, kind, opacity=opacity, halo=False, fill=False)


class ContourLegendOverlay(Overlay):
    """The colour legend of the kinds drawn on the plane: top left, under the corner text."""

    z = 92.5  # after the corner text (steps below it), before measurement labels (which avoid it)

    def __init__(self, contours: ContourOverlay) -> None:
        self.contours = contours
        self.visible = True

    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        if not self.contours.visible:
            return
        kinds = {c.kind for _, c in self.contours.contours_on(ctx)}
        if not kinds:
            return
        font = overlay_font(9.0)
        painter.setFont(font)
        fm = QFontMetricsF(font)
        lh = fm.height() + 2
        swatch = 10.0
        titles = [k for k in CONTOUR_KINDS if k in kinds]
        width = swatch + 6 + max(fm.horizontalAdvance(KIND_TITLES[k]) for k in titles) + 4
        height = lh * len(titles)
        r = ctx.rect.adjusted(6, 6, -6, -6)
        rect = QRectF(r.left(), r.top(), width, height)
        for _ in range(20):  # step below the top-left corner text (and anything else reserved)
            hits = [q for q in ctx.reserved if q.intersects(rect)]
            if not hits:
                break
            rect.moveTop(max(q.bottom() for q in hits) + 4)
        if rect.bottom() > r.bottom():
            return  # no room in a tiny view
        painter.setRenderHint(QPainter.Antialiasing, True)
        for i, kind in enumerate(titles):
            y = rect.top() + i * lh
            box = QRectF(rect.left(), y + (lh - swatch) / 2, swatch, swatch)
            fill = kind_color(kind)
            painter.setPen(QPen(QColor(0, 0, 0, 200), 1))
            painter.setBrush(fill)
            painter.drawRect(box)
            draw_text(painter, QRectF(box.right() + 6, y, width, lh), Qt.AlignLeft | Qt.AlignVCenter,
                      KIND_TITLES[kind])
        painter.setBrush(Qt.NoBrush)
        ctx.reserved.append(rect)
