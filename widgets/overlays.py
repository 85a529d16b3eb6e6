"""Overlay layer: pluggable painters drawn on top of a slice view's image.

An overlay is any object with ``z`` (paint order, low first), ``visible`` and
``paint(painter, ctx: OverlayContext)``. The view calls it after drawing the image, with the painter in
WIDGET coordinates (identity transform: text and handles keep a constant on-screen size) and a context that
maps between display pixels, widget pixels and LPS mm for the plane being shown::

    class MeasurementOverlay(Overlay):
        z = 50
        def paint(self, painter, ctx):
            for m in case.measurements_near(ctx.geometry):            # LPS points from the Case model
                if not ctx.on_plane(m.points[0]):                      # within half a slice of this plane
                    continue
                painter.drawPolyline(ctx.polygon(m.points))           # LPS -> widget

Install it on every view with ``window.add_overlay(MeasurementOverlay())`` (one instance serves all views:
``ctx.view`` says which). Built-in overlays: `ReferenceLinesOverlay` (z 10), `InfoTextOverlay` (z 92),
`OrientationOverlay` (z 95), `ScaleBarOverlay` (z 96). The active tool paints last (``Tool.paint``).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QPolygonF, QTextOption, QTransform

from imaging.display import clip_line, edge_letters, nice_length, plane_line, screen_axes
from imaging.geometry import PlaneGeometry, axis_position

if TYPE_CHECKING:  # pragma: no cover
    from imaging.display import PlaneSpec
    from imaging.volume import Volume
    from widgets.slice_view import SliceView

#: Plane colours (as 3D Slicer: axial red, sagittal yellow, coronal green), for titles and reference lines.
PLANE_COLORS = {"axial": QColor(226, 84, 84), "sagittal": QColor(232, 200, 72), "coronal": QColor(96, 192, 96)}
TEXT_COLOR = QColor(226, 230, 236)
SHADOW_COLOR = QColor(0, 0, 0, 220)


class OverlayContext:
    """What an overlay needs to paint on one view for one frame."""

    def __init__(self, view: SliceView, transform: QTransform, geometry: PlaneGeometry, spec: PlaneSpec,
                 slice_index: int) -> None:
        self.view = view
        self.volume: Volume | None = view.volume()
        self.spec = spec
        self.slice_index = slice_index
        self.geometry = geometry
        self.transform = transform  # display pixel -> widget pixel
        self.inverse, _ = transform.inverted()
        self.rect = QRectF(view.rect())
        self.orientation = spec.orientation
        #: widget rectangles already covered by text this frame (later overlays avoid them)
        self.reserved: list[QRectF] = []

    # -- coordinate maps -----------------------------------------------------------------------------
    def to_widget(self, xy: Sequence[float] | np.ndarray) -> QPointF:
        """Display pixel ``(x, y)`` -> widget point."""
        return self.transform.map(QPointF(float(xy[0]), float(xy[1])))

    def to_display(self, pos: QPointF) -> np.ndarray:
        p = self.inverse.map(pos)
        return np.array([p.x(), p.y()])

    def lps_to_widget(self, lps: Sequence[float] | np.ndarray) -> tuple[QPointF, float]:
        """LPS mm -> (widget point of its projection on the plane, signed distance from the plane in mm)."""
        x, y, dist = self.geometry.from_lps(np.asarray(lps, dtype=float))
        return self.to_widget((x, y)), float(dist)

    def widget_to_lps(self, pos: QPointF) -> np.ndarray:
        return self.geometry.to_lps(self.to_display(pos))

    def on_plane(self, lps: Sequence[float] | np.ndarray, tolerance: float | None = None) -> bool:
        """Whether an LPS point lies on the shown plane (within half its thickness, or ``tolerance`` mm)."""
        return bool(self.geometry.contains(np.asarray(lps, dtype=float), tolerance))

    def polygon(self, lps_points: Iterable[Sequence[float]]) -> QPolygonF:
        """LPS points projected onto the plane, in widget coordinates."""
        pts = np.asarray(list(lps_points), dtype=float)
        if pts.size == 0:
            return QPolygonF()
        xyd = np.atleast_2d(self.geometry.from_lps(pts))
        return QPolygonF([self.to_widget(p[:2]) for p in xyd])

    @property
    def widget_px_per_mm(self) -> float:
        """Screen scale: widget pixels per millimetre (the same in every direction: true aspect)."""
        m = self.transform
        return float(np.hypot(m.m11(), m.m12()) / self.geometry.x_spacing)


class Overlay:
    """Base class (optional: any object with ``z``, ``visible`` and ``paint`` works)."""

    z = 0
    visible = True

    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def overlay_font(point_size: float = 9.5, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(point_size)
    f.setBold(bold)
    f.setStyleHint(QFont.SansSerif)
    return f


_TEXT_CACHE: OrderedDict[tuple, QImage] = OrderedDict()
_TEXT_CACHE_SIZE = 512


_OUTLINE_OFFSETS = ((1, 1), (-1, 1), (1, -1), (-1, -1), (0, 1), (1, 0))


def _paint_outlined(img: QImage, font: QFont, items: list[tuple[str, QPointF, QColor]]) -> None:
    """Draw texts with a dark outline into a transparent ``img``: the glyphs are rasterised once in the
    outline colour and that image is stamped at the outline offsets, then once in their colour (two glyph
    passes instead of seven: text changes every slice, e.g. the slice number)."""
    shadow = QImage(img.size(), QImage.Format_ARGB32_Premultiplied)
    shadow.setDevicePixelRatio(img.devicePixelRatio())
    shadow.fill(0)
    p = QPainter(shadow)
    p.setRenderHint(QPainter.TextAntialiasing, True)
    p.setFont(font)
    p.setPen(SHADOW_COLOR)
    for text, base, _color in items:
        p.drawText(base, text)
    p.end()
    p = QPainter(img)
    for dx, dy in _OUTLINE_OFFSETS:
        p.drawImage(QPointF(dx, dy), shadow)
    p.setRenderHint(QPainter.TextAntialiasing, True)
    p.setFont(font)
    for text, base, color in items:
        p.setPen(color)
        p.drawText(base, text)
    p.end()


def text_image(text: str, font: QFont, color: QColor, dpr: float = 1.0) -> QImage:
    """``text`` pre-rendered with a dark outline on a transparent image (cached: overlays redraw the same
    labels every frame, and drawing one cached image is far cheaper than five outlined drawText calls)."""
    key = (text, font.key(), color.rgba(), dpr)
    img = _TEXT_CACHE.get(key)
    if img is not None:
        _TEXT_CACHE.move_to_end(key)
        return img
    fm = QFontMetricsF(font)
    w = math.ceil(fm.horizontalAdvance(text)) + 4
    h = math.ceil(fm.height()) + 2
    img = QImage(max(1, round(w * dpr)), max(1, round(h * dpr)), QImage.Format_ARGB32_Premultiplied)
    img.setDevicePixelRatio(dpr)
    img.fill(0)
    _paint_outlined(img, font, [(text, QPointF(2.0, 1.0 + fm.ascent()), color)])
    _TEXT_CACHE[key] = img
    if len(_TEXT_CACHE) > _TEXT_CACHE_SIZE:
        _TEXT_CACHE.popitem(last=False)
    return img


def draw_text(painter: QPainter, rect: QRectF, flags, text: str,  # noqa: ANN001
              color: QColor = TEXT_COLOR) -> QRectF:
    """Outlined text (readable on any grey level) aligned in ``rect`` by Qt alignment ``flags``.
    Returns the rectangle drawn."""
    if flags & Qt.TextWordWrap or "\n" in text:
        # Multi-line text (placeholders): drawText(QRectF, str, QTextOption) -- the (QRectF, int, str)
        # overload has an out-parameter that PySide6 6.12 mishandles.
        option = QTextOption(Qt.Alignment(flags & 0xFFFF))
        option.setWrapMode(QTextOption.WordWrap)
        painter.setPen(SHADOW_COLOR)
        painter.drawText(rect.translated(1, 1), text, option)
        painter.setPen(color)
        painter.drawText(rect, text, option)
        return rect
    dev = painter.device()
    dpr = dev.devicePixelRatioF() if dev is not None else 1.0
    img = text_image(text, painter.font(), color, dpr)
    w, h = img.width() / dpr, img.height() / dpr
    if flags & Qt.AlignRight:
        x = rect.right() - w + 2
    elif flags & Qt.AlignHCenter:
        x = rect.center().x() - w / 2
    else:
        x = rect.left() - 2
    if flags & Qt.AlignBottom:
        y = rect.bottom() - h + 1
    elif flags & Qt.AlignVCenter:
        y = rect.center().y() - h / 2
    else:
        y = rect.top() - 1
    painter.drawImage(QPointF(x, y), img)
    return QRectF(x, y, w, h)


def format_person_name(pn: str) -> str:
    """DICOM PN "FAMILY^GIVEN^MIDDLE" -> "FAMILY, GIVEN MIDDLE"."""
    parts = [p for p in pn.split("=")[0].split("^")]
    if len(parts) > 1:
        rest = " ".join(p for p in parts[1:] if p)
        return f"{parts[0]}, {rest}" if rest else parts[0]
    return pn


def format_date(da: str) -> str:
    return f"{da[:4]}-{da[4:6]}-{da[6:8]}" if len(da) == 8 and da.isdigit() else da


class InfoTextOverlay(Overlay):
    """Corner annotations: patient/study (top left, hidden by H), series (top right), slice number and
    position (bottom left), window/level and zoom (bottom right). Extra lines come from the view's
    ``corner_providers`` (e.g. the vertebral level of the current axial slice). Painted before the
    orientation letters, which step aside from its text (``ctx.reserved``)."""

    z = 92

    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        view, vol = ctx.view, ctx.volume
        if vol is None:
            return
        md = vol.metadata
        corners: dict[str, list[str]] = {"top_left": [], "top_right": [], "bottom_left": [], "bottom_right": []}
        if view.show_patient_info and ctx.rect.height() >= 220:
            name = format_person_name(md.patient_name) or "(no name)"
            line = name + (f"  ID {md.patient_id}" if md.patient_id else "")
            sex_age = " ".join(x for x in (md.patient_sex, md.patient_age) if x)
            corners["top_left"] += [line] + ([sex_age] if sex_age else [])
            study = "  ".join(x for x in (format_date(md.study_date), md.study_description) if x)
            if study:
                corners["top_left"].append(study)
        plane = ctx.orientation.capitalize() + ("" if ctx.spec.is_acquired else " reformat")
        series = md.series_description or "(no description)"
        corners["top_right"] += [series,
                                 " ".join(x for x in (vol.modality, f"Se {md.series_number}"
                                                      if md.series_number is not None else "") if x),
                                 plane]
        g = ctx.geometry
        centre = g.to_lps(((ctx.spec.width - 1) / 2, (ctx.spec.height - 1) / 2))
        letter, position = axis_position(centre, g.normal)
        unit = "mm" if vol.pixel_spacing_known else "px"
        where = f"{letter} {position:.1f} {unit}" if vol.orientation_known else "Orientation unknown"
        corners["bottom_left"] += [view.image_number_text(), f"{where}   Thk {g.thickness:.3g} {unit}"]
        wl = view.window_level()
        if wl is not None:
            corners["bottom_right"].append(wl.label())
        corners["bottom_right"].append(f"Zoom {view.zoom_factor():.2f}x")
        for corner, fn in view.corner_providers:
            try:
                text = fn(ctx)
            except Exception:  # noqa: BLE001 - a broken provider must not break painting
                text = None
            if text:
                corners.setdefault(corner, []).append(text)

        painter.setFont(overlay_font())
        font = painter.font()
        margin = 6.0
        r = ctx.rect.adjusted(margin, margin, -margin, -margin)
        dev = painter.device()
        dpr = dev.devicePixelRatioF() if dev is not None else 1.0
        max_width = max(r.width() / 2 - 8, 20)  # half the width each: left and right never overlap
        plane_color = PLANE_COLORS.get(ctx.orientation, TEXT_COLOR)
        for corner, lines in corners.items():
            if not lines:
                continue
            right = corner.endswith("right")
            colors = tuple(plane_color.rgba() if (corner == "top_right" and i == 2) else TEXT_COLOR.rgba()
                           for i in range(len(lines)))
            img, widths, lh = text_block(tuple(lines), colors, right, font, dpr, max_width)
            w, h = img.width() / dpr, img.height() / dpr
            x = r.right() - w + 2 if right else r.left() - 2
            y = r.top() - 1 if corner.startswith("top") else r.bottom() - h + 1
            painter.drawImage(QPointF(x, y), img)
            for i, lw in enumerate(widths):  # per line, for the letters and scale bar to avoid
                lx = r.right() - lw if right else r.left()
                ctx.reserved.append(QRectF(lx, y + 1 + i * lh, lw, lh))


_BLOCK_CACHE: OrderedDict[tuple, tuple[QImage, list[float], float]] = OrderedDict()


def text_block(lines: tuple[str, ...], colors: tuple[int, ...], right: bool, font: QFont, dpr: float,
               max_width: float) -> tuple[QImage, list[float], float]:
    """Several outlined lines (elided to ``max_width``) in one cached image: one draw per corner per frame.
    Returns (image, the width of each line, line height)."""
    key = (lines, colors, right, font.key(), dpr, round(max_width))
    hit = _BLOCK_CACHE.get(key)
    if hit is not None:
        _BLOCK_CACHE.move_to_end(key)
        return hit
    fm = QFontMetricsF(font)
    lh = fm.lineSpacing()
    texts = [fm.elidedText(t, Qt.ElideRight, max_width) for t in lines]
    widths = [fm.horizontalAdvance(t) for t in texts]
    w = math.ceil(max(widths, default=1)) + 4
    h = math.ceil(lh * len(texts)) + 2
    img = QImage(max(1, round(w * dpr)), max(1, round(h * dpr)), QImage.Format_ARGB32_Premultiplied)
    img.setDevicePixelRatio(dpr)
    img.fill(0)
    _paint_outlined(img, font, [(t, QPointF((w - 2 - tw) if right else 2.0, 1.0 + i * lh + fm.ascent()),
                                 QColor.fromRgba(c))
                                for i, (t, tw, c) in enumerate(zip(texts, widths, colors, strict=True))])
    result = (img, widths, lh)
    _BLOCK_CACHE[key] = result
    if len(_BLOCK_CACHE) > _TEXT_CACHE_SIZE:
        _BLOCK_CACHE.popitem(last=False)
    return result


class OrientationOverlay(Overlay):
    """Orientation letters at the middle of every edge, from the plane's screen directions (oblique
    planes get two or three letters, e.g. "AI")."""

    z = 95

    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        if ctx.volume is not None and not ctx.volume.orientation_known:
            return  # no trustworthy orientation: no letters (the corner text and status bar say why)
        # The screen direction of display +x / +y after the view transform (a rotation or flip would show).
        letters = self.letters(ctx)
        painter.setFont(overlay_font(12, bold=True))
        fm = QFontMetricsF(painter.font())
        r = ctx.rect
        h = fm.height()
        w = max(fm.horizontalAdvance(t) for t in letters.values()) + 4 if letters else 20
        pad = 4.0
        draw_text(painter, QRectF(r.left() + pad, r.center().y() - h / 2, w, h),
                  Qt.AlignLeft | Qt.AlignVCenter, letters["left"])
        draw_text(painter, QRectF(r.right() - pad - w, r.center().y() - h / 2, w, h),
                  Qt.AlignRight | Qt.AlignVCenter, letters["right"])
        # top/bottom letters step below/above corner text they would cover (narrow views)
        top = QRectF(r.center().x() - w / 2, r.top() + pad, w, h)
        bottom = QRectF(r.center().x() - w / 2, r.bottom() - pad - h, w, h)
        for _ in range(12):
            hits = [q for q in ctx.reserved if q.intersects(top)]
            if not hits:
                break
            top.moveTop(max(q.bottom() for q in hits) + 1)
        for _ in range(12):
            hits = [q for q in ctx.reserved if q.intersects(bottom)]
            if not hits:
                break
            bottom.moveBottom(min(q.top() for q in hits) - 1)
        for rect, key in ((top, "top"), (bottom, "bottom")):
            ctx.reserved.append(draw_text(painter, rect, Qt.AlignHCenter | Qt.AlignVCenter, letters[key]))

    @staticmethod
    def letters(ctx: OverlayContext) -> dict[str, str]:
        return edge_letters(ctx.geometry, getattr(ctx.view, "turn", None))


class ScaleBarOverlay(Overlay):
    """A scale bar in mm (1-2-5 steps, about a fifth of the view width) along the bottom edge."""

    z = 96  # after the corner text and letters: it sits above them

    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        ppm = ctx.widget_px_per_mm
        if ppm <= 0:
            return
        length = nice_length(ctx.rect.width() * 0.22 / ppm)
        if length <= 0:
            return
        px = length * ppm
        unit = "mm" if ctx.volume is None or ctx.volume.pixel_spacing_known else "px"
        painter.setFont(overlay_font(8.5))
        fm = QFontMetricsF(painter.font())
        x0 = ctx.rect.center().x() - px / 2
        x1 = x0 + px
        y = ctx.rect.bottom() - fm.height() - 12
        column = QRectF(x0 - 40, 0, px + 80, ctx.rect.height())
        below = [q.top() for q in ctx.reserved if q.intersects(column) and q.center().y() > ctx.rect.center().y()]
        if below:
            y = min(y, min(below) - fm.height() - 8)
        if y < ctx.rect.center().y():
            return  # no room in a tiny view
        for pen in (QPen(SHADOW_COLOR, 4), QPen(TEXT_COLOR, 1.5)):
            painter.setPen(pen)
            painter.drawLine(QPointF(x0, y), QPointF(x1, y))
            painter.drawLine(QPointF(x0, y - 5), QPointF(x0, y + 5))
            painter.drawLine(QPointF(x1, y - 5), QPointF(x1, y + 5))
            mid = (x0 + x1) / 2
            painter.drawLine(QPointF(mid, y - 3), QPointF(mid, y))
        label = f"{length:g} {unit}"
        draw_text(painter, QRectF(x0 - 40, y + 4, px + 80, fm.height()), Qt.AlignHCenter | Qt.AlignTop, label)


class ReferenceLinesOverlay(Overlay):
    """The other MPR views' planes as coloured lines, and the shared cursor as a small hollow ring (hidden
    with the view's ``show_cursor``: View > MPR Cursor)."""

    z = 10
    gap = 8.0  # widget px left open around the cursor so the point itself stays visible
    ring = 2.5  # radius of the cursor ring, widget px: small and hollow, the anatomy under it stays readable

    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        view = ctx.view
        if not view.show_reference_lines:
            return
        painter.setRenderHint(QPainter.Antialiasing, True)
        cursor = view.cursor_lps if getattr(view, "show_cursor", True) else None
        cursor_w = ctx.lps_to_widget(cursor)[0] if cursor is not None else None
        for peer in view.peers():
            g = peer.plane_geometry()
            if g is None:
                continue
            line = plane_line(ctx.geometry, g)
            if line is None:
                continue
            seg = clip_line(line, ctx.spec.width, ctx.spec.height)
            if seg is None:
                continue
            p0, p1 = ctx.to_widget(seg[0]), ctx.to_widget(seg[1])
            color = QColor(PLANE_COLORS.get(peer.orientation(), TEXT_COLOR))
            color.setAlpha(200)
            painter.setPen(QPen(color, 1.2))
            if cursor_w is not None:
                self._draw_with_gap(painter, p0, p1, cursor_w)
            else:
                painter.drawLine(p0, p1)
        if cursor is not None and cursor_w is not None and ctx.on_plane(cursor, tolerance=ctx.geometry.thickness):
            painter.setPen(QPen(QColor(255, 255, 255, 200), 1.0))
            painter.setBrush(Qt.NoBrush)
            painter.drawEllipse(cursor_w, self.ring, self.ring)
        painter.setRenderHint(QPainter.Antialiasing, False)

    def _draw_with_gap(self, painter: QPainter, p0: QPointF, p1: QPointF, c: QPointF) -> None:
        d = np.array([p1.x() - p0.x(), p1.y() - p0.y()])
        n = float(np.hypot(*d))
        if n < 1e-6:
            return
        u = d / n
        t = float((c.x() - p0.x()) * u[0] + (c.y() - p0.y()) * u[1])
        off = abs(float((c.x() - p0.x()) * u[1] - (c.y() - p0.y()) * u[0]))
        if off > 1.0 or t < 0 or t > n:
            painter.drawLine(p0, p1)
            return
        a = QPointF(p0.x() + u[0] * max(t - self.gap, 0), p0.y() + u[1] * max(t - self.gap, 0))
        b = QPointF(p0.x() + u[0] * min(t + self.gap, n), p0.y() + u[1] * min(t + self.gap, n))
        painter.drawLine(p0, a)
        painter.drawLine(b, p1)


def default_overlays() -> list[Overlay]:
    return [ReferenceLinesOverlay(), ScaleBarOverlay(), OrientationOverlay(), InfoTextOverlay()]


__all__ = [
    "PLANE_COLORS",
    "InfoTextOverlay",
    "OrientationOverlay",
    "Overlay",
    "OverlayContext",
    "ReferenceLinesOverlay",
    "ScaleBarOverlay",
    "default_overlays",
    "draw_text",
    "screen_axes",
]
