"""The spine map: a schematic column from C1 to the coccyx for the surgeon (a thin view over
:mod:`imaging.spine.spine_map`).

Each level is a rounded body with a disc below it, tinted by region (cervical, thoracic, lumbar, sacral);
levels labelled on the series shown are bright with their name in bold, and a bracket on the left marks
the labelled field. Beside each body a row of sector cells -- vertebral body, left pedicle, right pedicle,
posterior elements, epidural space, paraspinal -- is shaded in a finding's colour where the finding involves
that sector; the finding's levels are banded in its colour, and a bracket on the right carries its name and
levels, Bilsky grade and SINS total and category. Hovering a level shows its details; clicking a level
emits ``levelClicked(label)`` (the feature brings every view to that vertebra); clicking a finding's text
selects the finding. The map reads the case through the `CaseController` and repaints on ``changed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QMouseEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from imaging.case.model import VertebralLabel
from imaging.spine.spine_map import (
    MAP_SECTORS,
    SECTOR_NAMES,
    SECTOR_SHORT,
    MapFinding,
    SpineMapModel,
    build_spine_map,
    stack_labels,
)
from widgets.case_controller import CaseController

BACKGROUND = QColor(18, 20, 23)
TEXT = QColor(214, 218, 224)
DIM_TEXT = QColor(112, 118, 128)
FIELD_COLOR = QColor(120, 214, 255)
DISC_COLOR = QColor(70, 84, 100)
#: body fill per region: (unlabelled, labelled)
REGION_COLORS = {
    "occiput": (QColor(58, 58, 66), QColor(96, 96, 112)),
    "cervical": (QColor(46, 56, 70), QColor(78, 100, 128)),
    "thoracic": (QColor(44, 58, 52), QColor(76, 108, 92)),
    "lumbar": (QColor(62, 56, 44), QColor(116, 102, 74)),
    "sacral": (QColor(56, 48, 64), QColor(100, 84, 118)),
    "coccygeal": (QColor(56, 48, 64), QColor(100, 84, 118)),
}
#: finding colours, readable on the dark theme and distinct from the label cyan
FINDING_COLORS = [QColor("#f07f3c"), QColor("#e060b8"), QColor("#e8cc50"), QColor("#6cc48a"),
                  QColor("#a58cf0"), QColor("#ef5d5d")]
#: relative body width per level (a schematic: cervical small, lumbar large, the sacrum tapering)
_WIDTH = {"C0": 1.0, **{f"C{i}": 0.72 for i in range(1, 8)}, **{f"T{i}": 0.78 + 0.016 * i for i in range(1, 14)},
          **{f"L{i}": 1.0 for i in range(1, 7)}, "S1": 0.98, "S2": 0.8, "S3": 0.64, "S4": 0.5, "S5": 0.4, "Co": 0.3}

HEADER_H = 22.0
ROW_MIN, ROW_MAX = 11.0, 26.0


def finding_color(number: int) -> QColor:
    """The colour of finding ``number`` (1-based, case order)."""
    return QColor(FINDING_COLORS[(number - 1) % len(FINDING_COLORS)])


@dataclass
class _Layout:
    row_h: float
    top: float
    label_right: float
    body_x: float
    body_w: float
    cells_x: float
    cell_w: float
    brackets_x: float
    lane_w: float
    text_x: float
    footer_y: float


class SpineMapWidget(QWidget):
    """The spine map (see the module docstring). ``labels_provider()`` returns the labels of the series
    shown (None: all the case's labels)."""

    levelClicked = Signal(str)
    findingClicked = Signal(str)

    def __init__(self, controller: CaseController, labels_provider: Callable[[], list[VertebralLabel] | None]
                 | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SpineMap")
        self.controller = controller
        self.labels_provider = labels_provider or (lambda: None)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self._model = build_spine_map(controller.case, None)
        self._hover = ""
        self._finding_rects: list[tuple[QRectF, str]] = []
        self._hidden_labels: list[str] = []
        self.setMinimumSize(QSize(230, int(HEADER_H + ROW_MIN * len(self._model.levels) + 40)))
        controller.changed.connect(self._on_case_changed)
        controller.caseReplaced.connect(self.refresh)
        controller.selectionChanged.connect(lambda _id: self.update())
        self.refresh()

    # -- model --------------------------------------------------------------------------------------------
    @property
    def model(self) -> SpineMapModel:
        return self._model

    def refresh(self) -> None:
        """Rebuild the map from the case (and the series shown)."""
        self._model = build_spine_map(self.controller.case, self.labels_provider())
        self.setMinimumHeight(int(HEADER_H + ROW_MIN * len(self._model.levels) + 40))
        self.update()

    def _on_case_changed(self, collection: str, _object_id: str) -> None:
        if collection in ("vertebral_labels", "findings", "series"):
            self.refresh()

    # -- geometry -----------------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(290, int(HEADER_H + 20 * len(self._model.levels) + 44))

    def _layout(self) -> _Layout:
        n = max(len(self._model.levels), 1)
        footer = 34.0
        row_h = min(max((self.height() - HEADER_H - footer - 4) / n, ROW_MIN), ROW_MAX)
        body_w = min(max(self.width() * 0.12, 30.0), 44.0)
        label_right = 36.0
        body_x = label_right + 5
        cells_x = body_x + body_w + 6
        cell_w = 13.0 if self.width() < 270 else 16.0
        brackets_x = cells_x + cell_w * len(MAP_SECTORS) + 8
        lanes = max((f.lane for f in self._model.findings), default=-1) + 1
        lane_w = 7.0
        return _Layout(row_h=row_h, top=HEADER_H, label_right=label_right, body_x=body_x, body_w=body_w,
                       cells_x=cells_x, cell_w=cell_w, brackets_x=brackets_x, lane_w=lane_w,
                       text_x=brackets_x + lanes * lane_w + 6, footer_y=HEADER_H + n * row_h + 6)

    def level_rect(self, label: str) -> QRectF:
        """The row of a level in widget coordinates (empty when not drawn)."""
        row = self._model.row(label)
        if row is None:
            return QRectF()
        lay = self._layout()
        return QRectF(0, lay.top + row * lay.row_h, lay.brackets_x, lay.row_h)

    def level_at(self, pos: QPointF) -> str:
        """The level whose row is under ``pos`` (left of the finding text), or ""."""
        lay = self._layout()
        if pos.x() > lay.brackets_x or pos.y() < lay.top:
            return ""
        row = int((pos.y() - lay.top) // lay.row_h)
        return self._model.levels[row].label if 0 <= row < len(self._model.levels) else ""

    # -- painting ------------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: ANN001
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        p.setRenderHint(QPainter.Antialiasing, True)
        lay = self._layout()
        small = QFont(self.font())
        small.setPointSizeF(7.0)
        label_font = QFont(self.font())
        label_font.setPointSizeF(8.0 if lay.row_h < 15 else 9.0)
        self._paint_header(p, lay, small)
        by_level = {lv.label: self._model.findings_at(lv.label) for lv in self._model.levels}
        for row, lv in enumerate(self._model.levels):
            y = lay.top + row * lay.row_h
            here = by_level[lv.label]
            if lv.label == self._hover:
                p.fillRect(QRectF(0, y, lay.brackets_x, lay.row_h), QColor(255, 255, 255, 18))
            if here:  # the finding's levels: a band in its colour
                band = finding_color(here[0].number)
                band.setAlpha(46)
                p.fillRect(QRectF(10, y + 1, lay.brackets_x - 12, lay.row_h - 2), band)
            self._paint_body(p, lay, row, lv.label, lv.region, lv.labelled, here)
            self._paint_cells(p, lay, y, lv.label, here)
            f = QFont(label_font)
            f.setBold(lv.labelled)
            p.setFont(f)
            p.setPen(TEXT if lv.labelled else DIM_TEXT)
            p.drawText(QRectF(10, y, lay.label_right - 10, lay.row_h), Qt.AlignRight | Qt.AlignVCenter, lv.label)
        self._paint_field(p, lay)
        finding_font = QFont(self.font())
        finding_font.setPointSizeF(8.0)
        self._paint_findings(p, lay, finding_font)
        self._paint_footer(p, lay, small)
        p.end()

    def _paint_header(self, p: QPainter, lay: _Layout, font: QFont) -> None:
        p.setFont(font)
        p.setPen(DIM_TEXT)
        for i, s in enumerate(MAP_SECTORS):
            p.drawText(QRectF(lay.cells_x + i * lay.cell_w - 3, 3, lay.cell_w + 6, HEADER_H - 6),
                       Qt.AlignCenter, SECTOR_SHORT[s])
        p.drawText(QRectF(lay.body_x, 3, lay.body_w, HEADER_H - 6), Qt.AlignCenter, "Level")

    def _paint_body(self, p: QPainter, lay: _Layout, row: int, label: str, region: str, labelled: bool,
                    here: list[MapFinding]) -> None:
        y = lay.top + row * lay.row_h
        w = lay.body_w * _WIDTH.get(label, 0.9)
        cx = lay.body_x + lay.body_w / 2
        body_h = lay.row_h * 0.72
        rect = QRectF(cx - w / 2, y + (lay.row_h - body_h) / 2 - lay.row_h * 0.08, w, body_h)
        fill = QColor(REGION_COLORS[region][1 if labelled else 0])
        involved_body = [f for f in here if not f.sectors.get(label) or "body" in f.sectors[label]]
        if involved_body:
            fill = finding_color(involved_body[0].number)
            if not labelled:
                fill = fill.darker(135)
        path = QPainterPath()
        radius = min(4.0, body_h / 3)
        if label == "C0":  # the occiput and clivus: the skull base, a wedge above the atlas
            path.moveTo(rect.left(), rect.bottom())
            path.lineTo(rect.right(), rect.bottom())
            path.lineTo(cx + w * 0.2, rect.top())
            path.lineTo(cx - w * 0.2, rect.top())
            path.closeSubpath()
            p.fillPath(path, fill)
            p.setPen(QPen(QColor(255, 255, 255, 150) if labelled else QColor(255, 255, 255, 40), 1.0))
            p.drawPath(path)
            return
        if label == "C1":  # the atlas: a ring, no body
            p.setBrush(Qt.NoBrush)
            p.setPen(QPen(fill.lighter(130) if not involved_body else fill, 2.0))
            p.drawRoundedRect(rect.adjusted(2, 1, -2, -1), radius, radius)
        else:
            path.addRoundedRect(rect, radius, radius)
            p.fillPath(path, fill)
            p.setPen(QPen(QColor(255, 255, 255, 150) if labelled else QColor(255, 255, 255, 40), 1.0))
            p.drawPath(path)
        # the disc below (none below the sacral segments, which are fused, nor below the coccyx)
        if not label.startswith("S") and label != "Co":
            disc = QRectF(cx - w * 0.42, rect.bottom() + lay.row_h * 0.05, w * 0.84, lay.row_h * 0.14)
            p.setPen(Qt.NoPen)
            p.setBrush(DISC_COLOR)
            p.drawRoundedRect(disc, 2, 2)
            p.setBrush(Qt.NoBrush)

    def _paint_cells(self, p: QPainter, lay: _Layout, y: float, label: str, here: list[MapFinding]) -> None:
        pad = 1.5
        for i, s in enumerate(MAP_SECTORS):
            cell = QRectF(lay.cells_x + i * lay.cell_w + pad, y + pad, lay.cell_w - 2 * pad, lay.row_h - 2 * pad)
            owners = [f for f in here if s in f.sectors.get(label, ())]
            if owners:
                part = cell.width() / len(owners)
                for k, f in enumerate(owners):
                    p.fillRect(QRectF(cell.left() + k * part, cell.top(), part, cell.height()), finding_color(f.number))
            p.setPen(QPen(QColor(255, 255, 255, 34), 1.0))
            p.setBrush(Qt.NoBrush)
            p.drawRect(cell)

    def _paint_field(self, p: QPainter, lay: _Layout) -> None:
        rows = [i for i, lv in enumerate(self._model.levels) if lv.in_field]
        if not rows:
            return
        y0 = lay.top + rows[0] * lay.row_h + 2
        y1 = lay.top + (rows[-1] + 1) * lay.row_h - 2
        x = 6.0
        p.setPen(QPen(FIELD_COLOR, 2.0))
        p.drawLine(QPointF(x, y0), QPointF(x, y1))
        p.drawLine(QPointF(x, y0), QPointF(x + 5, y0))
        p.drawLine(QPointF(x, y1), QPointF(x + 5, y1))

    def _label_blocks(self, f: MapFinding, detail: int, width: float, font: QFont, bold: QFont
                      ) -> list[tuple[str, float, QFont, int]]:
        """The text of a finding's label at a level of ``detail`` (0: name and levels, Bilsky and SINS, each
        wrapped; 1: without SINS; 2: name and levels only; 3: name and levels on one elided line), as
        ``(text, height, font, flags)`` blocks."""
        lines = f.summary_lines()
        if detail >= 1:
            lines = lines[:max(1, len(lines) - detail)]
        blocks = []
        for i, text in enumerate(lines):
            fnt = bold if i == 0 else font
            fm = QFontMetricsF(fnt)
            if detail >= 3:
                blocks.append((fm.elidedText(text, Qt.ElideRight, width), fm.height(), fnt, Qt.AlignLeft | Qt.AlignTop))
            else:
                r = fm.boundingRect(QRectF(0, 0, width, 1000), Qt.TextWordWrap, text)
                blocks.append((text, r.height(), fnt, Qt.TextWordWrap | Qt.AlignLeft | Qt.AlignTop))
        return blocks

    def label_layout(self, lay: _Layout | None = None, font: QFont | None = None
                     ) -> list[tuple[MapFinding, QRectF, list[tuple[str, float, QFont, int]]]]:
        """Where each finding's text goes: beside its bracket, never over another finding's text or the
        footer, at any height of the map. Labels that do not fit with all their lines lose the SINS line,
        then the Bilsky line, then wrap to one elided line; labels that still do not fit are left out
        (named in the footer). Returns ``(finding, rectangle, blocks)`` for the labels drawn."""
        lay = lay or self._layout()
        if font is None:
            font = QFont(self.font())
            font.setPointSizeF(8.0)
        bold = QFont(font)
        bold.setBold(True)
        width = max(self.width() - lay.text_x - 4, 40.0)
        items = [f for f in sorted(self._model.findings, key=lambda f: self._model.row(f.levels[0]) or 0)
                 if self._model.row(f.levels[0]) is not None and self._model.row(f.levels[-1]) is not None]
        wanted = [lay.top + (self._model.row(f.levels[0]) + (self._model.row(f.levels[-1]) + 1)) * lay.row_h / 2
                  for f in items]
        detail = [0] * len(items)
        bottom = lay.footer_y - 2
        self._hidden_labels = []
        while True:
            blocks = [self._label_blocks(f, d, width, font, bold) for f, d in zip(items, detail, strict=True)]
            heights = [sum(b[1] for b in bl) for bl in blocks]
            tops = stack_labels(wanted, heights, lay.top, bottom)
            if tops is not None:
                break
            reducible = [i for i, d in enumerate(detail) if d < 3]
            if reducible:  # the tallest label gives up a line first
                i = max(reducible, key=lambda k: (heights[k], -k))
                detail[i] += 1
                continue
            # every label is one line and they still do not fit: leave out the last ones (named in the footer)
            self._hidden_labels.append(items[-1].name)
            items, wanted, detail = items[:-1], wanted[:-1], detail[:-1]
            if not items:
                return []
        return [(f, QRectF(lay.text_x - 2, t - 1, width + 4, h + 2), bl)
                for f, t, h, bl in zip(items, tops, heights, blocks, strict=True)]

    def _paint_findings(self, p: QPainter, lay: _Layout, font: QFont) -> None:
        self._finding_rects = []
        selected = self.controller.selected_id
        for f in self._model.findings:  # the brackets
            first, last = self._model.row(f.levels[0]), self._model.row(f.levels[-1])
            if first is None or last is None:
                continue
            color = finding_color(f.number)
            y0 = lay.top + first * lay.row_h + 2
            y1 = lay.top + (last + 1) * lay.row_h - 2
            x = lay.brackets_x + f.lane * lay.lane_w
            p.setPen(QPen(color, 3.0 if f.finding_id == selected else 2.0))
            p.drawLine(QPointF(x, y0), QPointF(x, y1))
            p.drawLine(QPointF(x, y0), QPointF(x - 4, y0))
            p.drawLine(QPointF(x, y1), QPointF(x - 4, y1))
        for f, area, blocks in self.label_layout(lay, font):  # the texts, laid out without overlap
            color = finding_color(f.number)
            first, last = self._model.row(f.levels[0]), self._model.row(f.levels[-1])
            y0 = lay.top + first * lay.row_h + 2
            y1 = lay.top + (last + 1) * lay.row_h - 2
            if not (y0 <= area.center().y() <= y1):  # moved away from its rows: a leader joins them
                x = lay.brackets_x + f.lane * lay.lane_w
                anchor_y = min(max(area.center().y(), y0), y1)
                p.setPen(QPen(color, 1.0, Qt.DotLine))
                p.drawLine(QPointF(x, anchor_y), QPointF(area.left(), area.center().y()))
            if f.finding_id == selected:
                p.fillRect(area, QColor(255, 255, 255, 20))
            yy = area.top() + 1
            for i, (text, h, fnt, flags) in enumerate(blocks):
                p.setFont(fnt)
                p.setPen(color if i == 0 else TEXT)
                p.drawText(QRectF(lay.text_x, yy, area.width() - 4, h), flags, text)
                yy += h
            self._finding_rects.append((area, f.finding_id))

    def _paint_footer(self, p: QPainter, lay: _Layout, font: QFont) -> None:
        p.setFont(font)
        lines = [self._model.field_text]
        if self._model.unplaced_findings:
            lines.append("No levels yet: " + ", ".join(self._model.unplaced_findings))
        if self._hidden_labels:
            lines.append("No room for: " + ", ".join(self._hidden_labels) + " (make the map taller)")
        p.setPen(DIM_TEXT)
        p.drawText(QRectF(6, lay.footer_y, self.width() - 12, self.height() - lay.footer_y),
                   Qt.TextWordWrap | Qt.AlignLeft | Qt.AlignTop, "\n".join(lines))

    # -- interaction ---------------------------------------------------------------------------------------
    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        level = self.level_at(event.position())
        if level != self._hover:
            self._hover = level
            self.setCursor(Qt.PointingHandCursor if level and self._model.level(level).labelled else Qt.ArrowCursor)
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: ANN001
        self._hover = ""
        self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.LeftButton:
            return super().mousePressEvent(event)
        pos = event.position()
        for rect, finding_id in self._finding_rects:
            if rect.contains(pos):
                self.controller.select(finding_id)
                self.findingClicked.emit(finding_id)
                return None
        level = self.level_at(pos)
        if level:
            self.levelClicked.emit(level)
        return None

    def tooltip_at(self, pos: QPointF) -> str:
        """The tooltip text at ``pos``: a level's details, a sector column's name or the field's extent."""
        lay = self._layout()
        if pos.y() < lay.top and lay.cells_x <= pos.x() < lay.cells_x + lay.cell_w * len(MAP_SECTORS):
            return SECTOR_NAMES[MAP_SECTORS[int((pos.x() - lay.cells_x) // lay.cell_w)]]
        if pos.x() < 14 and pos.y() >= lay.top:
            return self._model.field_text
        for rect, finding_id in self._finding_rects:
            if rect.contains(pos):
                f = next(f for f in self._model.findings if f.finding_id == finding_id)
                return "\n".join(f.summary_lines()) + "\nClick to select the finding"
        level = self.level_at(pos)
        return self._model.tooltip(level) if level else ""

    def event(self, event) -> bool:  # noqa: ANN001
        if event.type() == event.Type.ToolTip:
            text = self.tooltip_at(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
