"""The Follow-up panel: one lesion over time — its timepoints in a table, its longest diameter plotted over
the study dates with the one-centimetre-per-month line, the change figures, Park et al.'s growth rate and the
RECIST 1.1 response (all from :mod:`imaging.followup`, Qt-free; this widget only shows them).

The lesion is the current finding (:class:`~widgets.findings_panel.FindingFocus`, shared with the Findings,
Bilsky and SINS panels). Clicking a point of the plot, or double-clicking a row, asks to bring that
timepoint's study into view at the lesion (``timepointActivated(finding_id, key)``: the feature navigates).
"Follow up with selected measurement" asks to link the selected measurement to this lesion at its study's
date (``linkRequested(measurement_id, finding_id)``: the feature performs it as one undoable step); the
lesion's prior measurement is shown beside the selected one. For the selected timepoint the reader can record
that the lesion is gone, record its Bilsky grade on the image shown (``gradeRequested``), and mark the lesion
as a RECIST target: each is one explicit, undoable edit.

API::

    panel = FollowUpPanel(controller, focus)
    panel.table, panel.plot, panel.link_button, panel.target_check, panel.gone_check, panel.grade_combo
    panel.beside_label            # the selected measurement beside the lesion's prior one
    panel.plot.point_position(key) -> QPointF

Research software, not a diagnostic device.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imaging.case.model import Case
from imaging.followup.evaluate import FollowUp, LesionFollowUp, evaluate_follow_up
from imaging.followup.plot import PlotLayout, SizePlot
from imaging.followup.present import (
    TABLE_COLUMNS,
    lesion_plot,
    lesion_summary,
    lesion_table,
    recist_summary,
    sources_note,
)
from imaging.followup.timeline import lesion_timepoints, measurement_date
from imaging.spine.bilsky import BILSKY_GRADES
from widgets.case_controller import CaseController
from widgets.findings_panel import ERROR_STYLE, HINT_STYLE, PANEL_STYLE, FindingFocus, FindingSelector, alive

__all__ = ["FollowUpPanel", "SizePlotWidget", "measurement_size_text"]

_FG, _GRID, _LINE, _REF, _FLAG, _BG = "#c9d1d9", "#2f353c", "#6cb4ff", "#ef6b62", "#ef6b62", "#15181c"
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class _NoWheel(QObject):
    """Swallows wheel events: a scroll over a combo box never changes a grade."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        return event.type() == QEvent.Type.Wheel


_NO_WHEEL = _NoWheel()


class SizePlotWidget(QWidget):
    """Paints a :class:`~imaging.followup.plot.SizePlot` (the same geometry as the report's SVG) and tells
    which point was clicked."""

    timepointClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FollowUpPlot")
        self.setMinimumHeight(190)
        self._plot: SizePlot | None = None
        self._highlight = ""

    def sizeHint(self) -> QSize:
        return QSize(380, 230)

    def set_plot(self, plot: SizePlot | None, highlight: str = "") -> None:
        self._plot, self._highlight = plot, highlight
        self.update()

    def plot(self) -> SizePlot | None:
        return self._plot

    def layout_box(self) -> PlotLayout:
        return PlotLayout(float(self.width()), float(self.height()))

    def point_position(self, key: str) -> QPointF | None:
        """Where the point of timepoint ``key`` is drawn (widget pixels), or None."""
        if self._plot is None:
            return None
        lay = self.layout_box()
        for p in self._plot.points:
            if p.key == key:
                return QPointF(*lay.point_pixel(self._plot, p))
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._plot is not None and event.button() == Qt.MouseButton.LeftButton:
            hit = self.layout_box().hit(self._plot, event.position().x(), event.position().y(), radius=10.0)
            if hit is not None:
                self.timepointClicked.emit(hit.key)
                event.accept()
                return
        super().mousePressEvent(event)

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(_BG))
        plot = self._plot
        if plot is None:
            p.setPen(QColor(HINT_STYLE.split(":")[1].strip(" ;")))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No dated timepoint")
            p.end()
            return
        lay = self.layout_box()
        x0, y0, x1, y1 = lay.area
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        p.setFont(small)
        for v in plot.y_ticks:
            _, y = lay.to_pixel(plot, plot.x_min, v)
            p.setPen(QPen(QColor(_GRID), 1))
            p.drawLine(QPointF(x0, y), QPointF(x1, y))
            p.setPen(QColor(_FG))
            p.drawText(QRectF(0, y - 8, x0 - 6, 16), _RIGHT, f"{v:g}")
        for d, text in plot.x_ticks:
            x, _ = lay.to_pixel(plot, d, 0.0)
            p.setPen(QPen(QColor(_GRID), 1))
            p.drawLine(QPointF(x, y0), QPointF(x, y1))
            p.setPen(QColor(_FG))
            p.drawText(QRectF(x - 40, y1 + 4, 80, 16), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)
        p.setPen(QPen(QColor(_FG), 1))
        p.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        p.save()
        p.translate(12, (y0 + y1) / 2)
        p.rotate(-90)
        p.drawText(QRectF(-80, -8, 160, 16), Qt.AlignmentFlag.AlignCenter, "Longest diameter (mm)")
        p.restore()
        if plot.reference is not None:
            (da, va), (db, vb) = plot.reference
            pen = QPen(QColor(_REF), 1.5, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLine(QPointF(*lay.to_pixel(plot, da, va)), QPointF(*lay.to_pixel(plot, db, vb)))
            p.drawLine(QPointF(x1 - 92, 12), QPointF(x1 - 70, 12))
            p.setPen(QColor(_REF))
            p.drawText(QRectF(x1 - 66, 4, 66, 16), _LEFT, plot.reference_label)
        measured = [q for q in plot.points if q.value_mm is not None]
        p.setPen(QPen(QColor(_LINE), 2))
        for a, b in zip(measured, measured[1:], strict=False):
            p.drawLine(QPointF(*lay.point_pixel(plot, a)), QPointF(*lay.point_pixel(plot, b)))
        for q in plot.points:
            x, y = lay.point_pixel(plot, q)
            colour = QColor(_FLAG if q.flagged else _LINE)
            if q.key == self._highlight:
                p.setPen(QPen(QColor("#ffffff"), 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(QPointF(x, y), 8, 8)
            p.setPen(QPen(colour, 2))
            p.setBrush(colour if q.value_mm is not None else Qt.BrushStyle.NoBrush)
            p.drawEllipse(QPointF(x, y), 4.5, 4.5)
            if q.value_mm is not None:
                p.setPen(QColor(_FG))
                p.drawText(QRectF(x - 30, y - 24, 60, 16), Qt.AlignmentFlag.AlignCenter, f"{q.value_mm:.1f}")
        p.setPen(QColor(_FG))
        bold = QFont(small)
        bold.setBold(True)
        p.setFont(bold)
        p.drawText(QRectF(x0, 2, max(10.0, x1 - x0 - 100), 18), _LEFT, plot.title)
        p.end()


def measurement_size_text(case: Case, measurement_id: str) -> str:
    """``"2024-05-13 bidirectional 16.8 x 9.0 mm"``: a measurement's date, kind and values (0.1 mm)."""
    m = case.measurement(measurement_id)
    day = measurement_date(case, m)
    values = [v for v in m.values() if v.unit in ("mm", "px")]
    text = " x ".join(f"{v.value:.1f}" for v in values[:2]) + (f" {values[0].unit}" if values else "")
    kind = m.kind.replace("_", " ")
    return f"{day.isoformat() if day else 'undated'} {kind} {text}".strip()


class FollowUpPanel(QWidget):
    """See the module docstring."""

    messageRequested = Signal(str, str)
    newFindingRequested = Signal()
    timepointActivated = Signal(str, str)
    linkRequested = Signal(str, str)
    gradeRequested = Signal(str, str, str)  # finding id, timepoint key, grade ("" clears)

    def __init__(self, controller: CaseController, focus: FindingFocus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FollowUpPanel")
        self._ctl, self._focus = controller, focus
        self._follow: FollowUp | None = None
        self._keys: list[str] = []
        self.setStyleSheet(PANEL_STYLE)
        self._build()
        controller.changed.connect(lambda *_: self.refresh())
        controller.caseReplaced.connect(self.refresh)
        controller.selectionChanged.connect(lambda _id: self._show_beside())
        controller.readOnlyChanged.connect(lambda _on: self.refresh())
        focus.currentChanged.connect(lambda _id: self.refresh())
        self.refresh()

    # -- construction -------------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)
        self.selector = FindingSelector(self._ctl, self._focus)
        self.selector.newFindingRequested.connect(self.newFindingRequested.emit)
        outer.addWidget(self.selector)
        self.summary_label = QLabel("")
        self.summary_label.setObjectName("FollowUpSummary")
        self.summary_label.setWordWrap(True)
        outer.addWidget(self.summary_label)
        self.plot = SizePlotWidget()
        self.plot.timepointClicked.connect(self._on_plot_clicked)
        outer.addWidget(self.plot, 1)
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setObjectName("FollowUpTable")
        self.table.setHorizontalHeaderLabels(list(TABLE_COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._on_row_selected)
        self.table.cellDoubleClicked.connect(lambda row, _col: self._activate_row(row))
        outer.addWidget(self.table)

        self.beside_label = QLabel("")
        self.beside_label.setObjectName("FollowUpBeside")
        self.beside_label.setWordWrap(True)
        outer.addWidget(self.beside_label)
        actions = QHBoxLayout()
        self.link_button = QPushButton("Follow up with selected measurement")
        self.link_button.setObjectName("FollowUpLink")
        self.link_button.setToolTip("Link the selected measurement to this lesion at its study's date (a new "
                                    "timepoint when the date is new); one undoable step")
        self.link_button.clicked.connect(self._request_link)
        actions.addWidget(self.link_button)
        self.go_button = QPushButton("Show timepoint")
        self.go_button.setToolTip("Bring the selected timepoint's study into view at this lesion")
        self.go_button.clicked.connect(lambda: self._activate_row(self.table.currentRow()))
        actions.addWidget(self.go_button)
        actions.addStretch(1)
        outer.addLayout(actions)

        edit = QHBoxLayout()
        self.target_check = QCheckBox("RECIST target lesion")
        self.target_check.setObjectName("FollowUpTarget")
        self.target_check.setToolTip("Mark this lesion as a RECIST 1.1 target lesion (measurable at baseline)")
        self.target_check.clicked.connect(self._set_target)
        edit.addWidget(self.target_check)
        self.gone_check = QCheckBox("Gone at this timepoint")
        self.gone_check.setObjectName("FollowUpGone")
        self.gone_check.setToolTip("The lesion is no longer seen at the selected (follow-up) timepoint: it "
                                   "counts 0 mm")
        self.gone_check.clicked.connect(self._set_gone)
        edit.addWidget(self.gone_check)
        edit.addStretch(1)
        outer.addLayout(edit)
        grade = QHBoxLayout()
        grade.addWidget(QLabel("Bilsky at this timepoint:"))
        self.grade_combo = QComboBox()
        self.grade_combo.setObjectName("FollowUpGradeCombo")
        self.grade_combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.grade_combo.installEventFilter(_NO_WHEEL)  # a grade changes only by a deliberate choice
        self.grade_combo.addItem("\u2014", "")
        for g in BILSKY_GRADES:
            self.grade_combo.addItem(g, g)
        grade.addWidget(self.grade_combo)
        self.grade_button = QPushButton("Record on the image shown")
        self.grade_button.setObjectName("FollowUpGradeButton")
        self.grade_button.setToolTip("Record the chosen grade for the selected timepoint, read on the active "
                                     "view's image (an image of that timepoint's date)")
        self.grade_button.clicked.connect(self._request_grade)
        grade.addWidget(self.grade_button)
        grade.addStretch(1)
        outer.addLayout(grade)
        self.recist_label = QLabel("")
        self.recist_label.setObjectName("FollowUpRecist")
        self.recist_label.setWordWrap(True)
        outer.addWidget(self.recist_label)
        self.sources_label = QLabel(sources_note())
        self.sources_label.setWordWrap(True)
        self.sources_label.setStyleSheet(HINT_STYLE)
        outer.addWidget(self.sources_label)

    # -- data ---------------------------------------------------------------------------------------------
    def follow_up(self) -> FollowUp:
        if self._follow is None:
            self._follow = evaluate_follow_up(self._ctl.case)
        return self._follow

    def lesion(self) -> LesionFollowUp | None:
        f = self._focus.current()
        if f is None:
            return None
        return next((x for x in self.follow_up().lesions if x.finding.id == f.id), None)

    def selected_key(self) -> str:
        row = self.table.currentRow()
        return self._keys[row] if 0 <= row < len(self._keys) else ""

    def select_timepoint(self, key: str) -> None:
        if key in self._keys:
            self.table.selectRow(self._keys.index(key))

    # -- refresh ------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if not alive(self, self.table, self.plot):
            return
        try:
            self._follow = evaluate_follow_up(self._ctl.case)
        except ValueError as exc:  # a case the rules cannot read (e.g. two timepoints on one date)
            self._follow = FollowUp(())
            self.summary_label.setText(f"Follow-up not available: {exc}")
            self.summary_label.setStyleSheet(ERROR_STYLE)
        keep = self.selected_key()
        lesion = self.lesion()
        f = self._focus.current()
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self._keys = []
        if lesion is not None:
            rows = lesion_table(lesion)
            self.table.setRowCount(len(rows))
            for i, r in enumerate(rows):
                self._keys.append(r.key)
                for j, text in enumerate(r.cells):
                    item = QTableWidgetItem(text)
                    item.setToolTip(r.detail)
                    if r.flagged and TABLE_COLUMNS[j].startswith("Growth"):
                        item.setForeground(QColor(_FLAG))
                    self.table.setItem(i, j, item)
            self.summary_label.setText("\n".join(lesion_summary(self.follow_up(), lesion)))
            self.summary_label.setStyleSheet("")
            self.plot.set_plot(lesion_plot(lesion), keep)
        else:
            self.plot.set_plot(None)
            self.summary_label.setText("Select a finding: its timepoints appear here." if f is None else
                                       "This finding has no dated timepoint yet (its measurements' studies "
                                       "have no date in the case).")
            self.summary_label.setStyleSheet(HINT_STYLE)
        self.table.blockSignals(False)
        self._fit_table()
        if keep in self._keys:
            self.select_timepoint(keep)
        self.recist_label.setText("\n".join(recist_summary(self.follow_up())))
        self._update_controls()
        self._show_beside()

    def _fit_table(self) -> None:
        """As tall as its rows (at least two), so the plot gets the rest of the panel."""
        rows = max(2, self.table.rowCount())
        height = self.table.horizontalHeader().height() + sum(
            self.table.rowHeight(i) for i in range(self.table.rowCount())) + (rows - self.table.rowCount()) * 24
        scroll = self.table.horizontalScrollBar().sizeHint().height()
        self.table.setFixedHeight(min(height + scroll + 2 * self.table.frameWidth() + 2, 260))

    def _update_controls(self) -> None:
        f = self._focus.current()
        writable = not self._ctl.read_only
        key = self.selected_key()
        is_follow_up = bool(key) and not key.startswith("index:")
        self.target_check.setEnabled(f is not None and writable)
        self.target_check.setChecked(bool(f is not None and f.recist_target))
        tp = next((t for t in f.timepoints if t.id == key), None) if f is not None else None
        self.gone_check.setEnabled(is_follow_up and writable)
        self.gone_check.setChecked(tp is not None and tp.status == "absent")
        self.grade_combo.setEnabled(bool(key) and writable)
        self.grade_button.setEnabled(bool(key) and writable)
        self.go_button.setEnabled(bool(key))
        current = (tp.bilsky.grade if tp is not None else f.bilsky.grade if f is not None and key else None) or ""
        self.grade_combo.setCurrentIndex(max(0, self.grade_combo.findData(current)))
        self.link_button.setEnabled(writable and f is not None and self._linkable() is not None)

    def _linkable(self) -> str | None:
        """The selected measurement when it can join the current lesion (not already its own)."""
        f = self._focus.current()
        sel = self._ctl.selected_id
        if f is None or not sel:
            return None
        try:
            m = self._ctl.case.measurement(sel)
        except KeyError:
            return None
        return m.id if m.finding_id != f.id else None

    def _show_beside(self) -> None:
        """The selected measurement beside the lesion's prior measurement (the timepoint before its date)."""
        if not alive(self, self.beside_label):
            return
        case, f, sel = self._ctl.case, self._focus.current(), self._ctl.selected_id
        self.link_button.setEnabled(not self._ctl.read_only and f is not None and self._linkable() is not None)
        try:
            m = case.measurement(sel) if sel else None
        except KeyError:
            m = None
        if f is None or m is None:
            self.beside_label.setText("")
            return
        day = measurement_date(case, m)
        earlier = [(d, t) for t in lesion_timepoints(case, f) if (d := t.study_date) is not None
                   and day is not None and d < day and any(x.id != m.id for x in t.measurements)]
        prior = max(earlier, key=lambda dt: dt[0])[1] if earlier else None
        text = f"Selected: {measurement_size_text(case, m.id)}"
        if prior is not None:
            same_kind = [x for x in prior.measurements if x.kind == m.kind] or list(prior.measurements)
            text += f"\nPrior of {f.label or 'this lesion'}: {measurement_size_text(case, same_kind[0].id)}"
        elif day is not None:
            text += f"\n{f.label or 'This lesion'} has no timepoint before {day.isoformat()}."
        self.beside_label.setText(text)

    # -- actions ------------------------------------------------------------------------------------------
    def _on_row_selected(self) -> None:
        key = self.selected_key()
        lesion = self.lesion()
        self.plot.set_plot(lesion_plot(lesion) if lesion is not None else None, key)
        self._update_controls()

    def _on_plot_clicked(self, key: str) -> None:
        self.select_timepoint(key)
        f = self._focus.current()
        if f is not None:
            self.timepointActivated.emit(f.id, key)

    def _activate_row(self, row: int) -> None:
        f = self._focus.current()
        if f is not None and 0 <= row < len(self._keys):
            self.timepointActivated.emit(f.id, self._keys[row])

    def _request_link(self) -> None:
        f, mid = self._focus.current(), self._linkable()
        if f is None or mid is None:
            self.messageRequested.emit("Select a measurement of a follow-up study (in a view or the measurement "
                                       "list) to link it to this lesion.", "info")
            return
        self.linkRequested.emit(mid, f.id)

    def _request_grade(self) -> None:
        f, key = self._focus.current(), self.selected_key()
        if f is not None and key:
            self.gradeRequested.emit(f.id, key, str(self.grade_combo.currentData() or ""))

    def _set_target(self, on: bool) -> None:
        f = self._focus.current()
        if f is None:
            return
        try:
            self._ctl.update(f.id, text="Mark RECIST target lesion" if on else "Unmark RECIST target lesion",
                             recist_target=bool(on))
        except ValueError as exc:
            self.messageRequested.emit(f"Not changed: {exc}", "error")
            self.refresh()

    def _set_gone(self, on: bool) -> None:
        key = self.selected_key()
        if not key or key.startswith("index:"):
            return
        try:
            self._ctl.update(key, text="Lesion gone at timepoint" if on else "Lesion present at timepoint",
                             status="absent" if on else "present")
        except ValueError as exc:
            self.messageRequested.emit(f"Not changed: {exc}", "error")
            self.refresh()
