"""Vertebral level tags on the slice views, and the level of the current axial slice in its corner.

`LevelOverlay` (z 40) paints, on sagittal and coronal views, each label of the view's series (or of a series
in the same frame of reference) whose body centre lies within ``TAG_RANGE_MM`` of the plane: a marker at
the centre (solid when the plane cuts the body, hollow when it passes beside it) and a tag beside the body
-- on the anterior side on a sagittal view, on the patient's right on a coronal view -- with a leader line.
Tags never overlap (they step apart along the column) and flip to the other side at the view's edge. The
selected label is amber, a hovered one brighter; the bodies found by "Detect vertebrae" and not yet named
are violet dashed markers with "?". The rectangles drawn are recorded for the Levels tool's hit test.

:func:`axial_level_text` is a corner-text provider: ``"Level T6"`` or ``"Level T5/T6 disc"`` on an axial
view whose plane cuts the labelled spine (:func:`imaging.spine.labelling.plane_level`), nothing outside the
labelled field or on other planes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen

from imaging.display import screen_axes
from imaging.spine.labelling import plane_level
from widgets.level_tool import LABELLING_ORIENTATIONS, ON_BODY_MM, TAG_RANGE_MM, LevelLabelState
from widgets.overlays import Overlay, OverlayContext, overlay_font, text_image

LABEL_COLOR = QColor(120, 214, 255)
HOVER_COLOR = QColor(190, 238, 255)
SELECTED_COLOR = QColor(255, 184, 77)
CANDIDATE_COLOR = QColor(214, 150, 255)
OUTLINE = QColor(0, 0, 0, 210)
BODY_HALF_MM = 17.0  # tags sit this far beside the body centre (half a mid-thoracic body's depth / width)


@dataclass
class _Tag:
    kind: str  # "label" or "candidate"
    key: object
    text: str
    anchor: QPointF  # marker, widget px
    on_body: bool
    color: QColor
    selected: bool = False
    hovered: bool = False


class LevelOverlay(Overlay):
    """Level tags and markers on sagittal and coronal views (see the module docstring)."""

    z = 40

    def __init__(self, state: LevelLabelState) -> None:
        self.state = state

    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        rects: list[tuple[QRectF, str, object]] = []
        self.state.hit_rects[id(ctx.view)] = rects
        if ctx.volume is None or ctx.orientation not in LABELLING_ORIENTATIONS:
            return
        tags = self._tags(ctx)
        if not tags:
            return
        painter.setRenderHint(QPainter.Antialiasing, True)
        font = overlay_font(9.5, bold=True)
        painter.setFont(font)
        fm = QFontMetricsF(font)
        dev = painter.device()
        dpr = dev.devicePixelRatioF() if dev is not None else 1.0
        side = self._tag_side(ctx)
        gap = max(BODY_HALF_MM * ctx.widget_px_per_mm, 12.0) + 4.0
        h = fm.height() + 2
        # lay the tags out along the column: sorted top to bottom, each at least one tag height below the last
        tags.sort(key=lambda t: t.anchor.y())
        ys: list[float] = []
        for t in tags:
            y = t.anchor.y() - h / 2
            if ys and y < ys[-1] + h:
                y = ys[-1] + h
            ys.append(y)
        # keep the column inside the view (shift the whole run up when it overflows the bottom)
        overflow = (ys[-1] + h) - (ctx.rect.bottom() - 2) if ys else 0.0
        if overflow > 0:
            ys = [y - overflow for y in ys]
            for i in range(1, len(ys)):  # and re-space from the top when that pushed the first out
                ys[i] = max(ys[i], ys[i - 1] + h)
        for t, y in zip(tags, ys, strict=True):
            color = SELECTED_COLOR if t.selected else (HOVER_COLOR if t.hovered else t.color)
            img = text_image(t.text, font, color, dpr)
            w = img.width() / dpr
            x = t.anchor.x() + side * gap - (w if side < 0 else 0)
            if x < ctx.rect.left() + 2 or x + w > ctx.rect.right() - 2:  # flip to the other side at the edge
                x = t.anchor.x() - side * gap - (w if side > 0 else 0)
            rect = QRectF(x, y, w, img.height() / dpr)
            # leader line from the tag's inner edge to the marker
            inner = QPointF(rect.right() - 1 if rect.center().x() < t.anchor.x() else rect.left() + 1,
                            rect.center().y())
            for pen in (QPen(OUTLINE, 3.0), QPen(color, 1.0)):
                painter.setPen(pen)
                painter.drawLine(inner, t.anchor)
            self._marker(painter, t, color)
            painter.drawImage(rect.topLeft(), img)
            rects.append((rect, t.kind, t.key))
            rects.append((QRectF(t.anchor.x() - 7, t.anchor.y() - 7, 14, 14), t.kind, t.key))

    # -- content ---------------------------------------------------------------------------------------
    def _tags(self, ctx: OverlayContext) -> list[_Tag]:
        state = self.state
        tags: list[_Tag] = []
        selected = state.controller.selected_id
        for lab in state.labels_for(ctx.volume):
            p, dist = ctx.lps_to_widget(state.centre_of(lab))
            if abs(dist) > TAG_RANGE_MM:
                continue
            tags.append(_Tag("label", lab.id, lab.label, p, abs(dist) <= ON_BODY_MM, LABEL_COLOR,
                             selected=lab.id == selected, hovered=lab.id == state.hover_id))
        for i, c in enumerate(state.candidates_for(ctx.volume)):
            p, dist = ctx.lps_to_widget(c.center_lps)
            if abs(dist) > TAG_RANGE_MM:
                continue
            tags.append(_Tag("candidate", i, "?", p, abs(dist) <= ON_BODY_MM, CANDIDATE_COLOR,
                             selected=state.naming_candidate == i, hovered=state.hover_candidate == i))
        return tags

    @staticmethod
    def _tag_side(ctx: OverlayContext) -> int:
        """+1 when the tags go to the screen right, -1 to the left: the anterior side of a sagittal view,
        the patient's right on a coronal view."""
        right, _down = screen_axes(ctx.geometry, getattr(ctx.view, "turn", None))
        towards = np.array([0.0, -1.0, 0.0]) if ctx.orientation == "sagittal" else np.array([-1.0, 0.0, 0.0])
        return 1 if float(np.dot(right, towards)) > 0 else -1

    @staticmethod
    def _marker(painter: QPainter, t: _Tag, color: QColor) -> None:
        r = 5.5 if t.selected else 4.0
        if t.kind == "candidate":
            painter.setBrush(Qt.NoBrush)
            for pen in (QPen(OUTLINE, 3.5), QPen(color, 1.6, Qt.DashLine)):
                painter.setPen(pen)
                painter.drawEllipse(t.anchor, r + 2, r + 2)
            return
        painter.setPen(QPen(OUTLINE, 3.0))
        painter.setBrush(Qt.NoBrush)
        painter.drawEllipse(t.anchor, r, r)
        if t.on_body:
            painter.setBrush(color)
            painter.setPen(QPen(color, 1.2))
        else:
            painter.setBrush(Qt.NoBrush)
            painter.setPen(QPen(color, 1.4, Qt.DotLine))
        painter.drawEllipse(t.anchor, r, r)
        painter.setBrush(Qt.NoBrush)


def axial_level_text(state: LevelLabelState) -> Callable[[OverlayContext], str | None]:
    """A corner-text provider: the level the axial view's plane cuts (see the module docstring)."""

    def provider(ctx: OverlayContext) -> str | None:
        if ctx.orientation != "axial" or ctx.volume is None:
            return None
        labels = state.labels_for(ctx.volume)
        if not labels:
            return None
        g = ctx.geometry
        level = plane_level(labels, g.origin, g.normal, near=ctx.view.cursor_lps)
        return f"Level {level}" if level else None

    return provider
