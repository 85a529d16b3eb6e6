"""`MeasurementPanel`: the list of the case's measurements (right dock), grouped by finding.

Columns: Type, Label, Value, Series, Slice. A thin view over the `Case` model: it rebuilds from
``controller.case`` on ``changed`` / ``caseReplaced`` and never keeps a copy of a measurement.

* Clicking a row selects the measurement (``controller.select``) and emits ``measurementActivated(id)``:
  the application brings a view of its series to its slice. Selecting a measurement elsewhere (on a view)
  selects its row.
* Once the case has findings, rows are grouped under each finding (``Finding.label``; measurements without
  one under "No finding"). A finding whose bidirectional (and CC extent) the reader marked as its dimensions
  shows "AP x LR x CC" and the ellipsoid volume (:func:`imaging.case.analysis.lesion_dimensions`) on the
  line under its name; the context menu's "Use as ... Dimensions" marks them.
* F2 or a double-click edits the label ("Rename measurement"); Delete/Backspace removes the selected
  measurement; the context menu has Show, Rename, Delete and Assign to Finding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imaging.case.analysis import image_reference, lesion_dimensions
from imaging.case.model import Finding, Measurement
from imaging.geometry import axis_position
from imaging.measure_edit import kind_name, kind_title, value_lines, value_text
from widgets.case_controller import CaseController
from widgets.measure_tools import MeasurementEditor

COLUMNS = ("Type", "Label", "Value", "Series", "Slice")
TYPE, LABEL, VALUE, SERIES, SLICE = range(5)
ID_ROLE = Qt.UserRole
KIND_ROLE = Qt.UserRole + 1  # "measurement", "finding", "no_finding", "dimensions"
NO_FINDING = "No finding"
PLANE_ABBREVIATIONS = {"axial": "Ax", "sagittal": "Sag", "coronal": "Cor", "oblique": "Obl"}
GROUP_COLOR = QColor(214, 218, 224)
DIMENSIONS_COLOR = QColor(255, 190, 110)
EMPTY_HINT = ("No measurements yet. Pick a tool \u2014 Length (L), Bidirectional (B), Ellipse (E), Polygon (P), "
              "Freehand (F), Angle (A), Cobb (Shift+A), Probe (V), CC extent (X) \u2014 and draw on a view.")


class _Tree(QTreeWidget):
    """The tree, with F2 and Delete/Backspace for the panel."""

    def __init__(self, panel: MeasurementPanel) -> None:
        super().__init__(panel)
        self._panel = panel

    def keyboardSearch(self, search: str) -> None:  # noqa: N802 - Qt API
        return  # a letter never jumps to another row (it may be a tool key meant for the image)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers() & ~Qt.KeypadModifier
        if self.state() != QAbstractItemView.EditingState and not mods:
            if event.key() == Qt.Key_F2 and self._panel.edit_label():
                event.accept()
                return
            if event.key() in (Qt.Key_Delete, Qt.Key_Backspace) and self._panel.delete_selected():
                event.accept()
                return
        super().keyPressEvent(event)


class MeasurementPanel(QWidget):
    """The measurement list (see the module docstring)."""

    measurementActivated = Signal(str)

    def __init__(self, controller: CaseController, editor: MeasurementEditor | None = None,
                 series_label: Callable[[str | None], str] | None = None,
                 plane_count: Callable[[str | None, str], int | None] | None = None,
                 instance_number: Callable[[str | None, str | None], int | None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MeasurementPanel")
        self.controller = controller
        self.editor = editor
        self._series_label = series_label
        self._plane_count = plane_count
        self._instance_number = instance_number
        self._syncing = False
        self._refresh_pending = False
        self._collapsed: set[str] = set()
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        self.tree = _Tree(self)
        self.tree.setObjectName("MeasurementTree")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.tree.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.setTextElideMode(Qt.ElideRight)
        header = self.tree.header()
        header.setStretchLastSection(False)
        for col, mode in ((TYPE, QHeaderView.ResizeToContents), (LABEL, QHeaderView.Interactive),
                          (VALUE, QHeaderView.Stretch), (SERIES, QHeaderView.Interactive),
                          (SLICE, QHeaderView.ResizeToContents)):
            header.setSectionResizeMode(col, mode)
        header.resizeSection(LABEL, 70)
        header.resizeSection(SERIES, 90)
        box.addWidget(self.tree, 1)
        self.hint = QLabel(EMPTY_HINT, self)
        self.hint.setObjectName("MeasurementPanelHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #8a9099; padding: 8px;")
        box.addWidget(self.hint)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.itemDoubleClicked.connect(lambda item, _col: self.edit_label(item))
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.itemExpanded.connect(lambda item: self._collapsed.discard(item.data(0, ID_ROLE) or ""))
        self.tree.itemCollapsed.connect(lambda item: self._collapsed.add(item.data(0, ID_ROLE) or ""))
        self.tree.customContextMenuRequested.connect(self._context_menu)
        controller.changed.connect(self._on_changed)
        controller.caseReplaced.connect(self.refresh)
        controller.selectionChanged.connect(self._on_controller_selection)
        self.refresh()

    # -- building ----------------------------------------------------------------------------------------
    def series_text(self, uid: str | None) -> str:
        if self._series_label is not None:
            text = self._series_label(uid)
            if text:
                return text
        ref = self.controller.case.series_ref(uid)
        if ref is not None and ref.description:
            return ref.description
        return uid or "\u2014"

    def slice_text(self, m: Measurement) -> str:
        """``"Ax Im 60"``: the plane (Ax, Sag, Cor, Obl) and the image's DICOM InstanceNumber, as every PACS
        shows it; on a reformat the plane's position, ``"Sag L 3.2"`` (mm)."""
        plane = PLANE_ABBREVIATIONS.get(m.plane.orientation, m.plane.orientation)
        number = m.instance_number
        if number is None and m.sop_instance_uid and self._instance_number is not None:
            number = self._instance_number(m.series_instance_uid, m.sop_instance_uid)
        if number is not None:
            return f"{plane} Im {number}"
        letter, mm = axis_position(np.mean(np.asarray(m.points, dtype=np.float64), axis=0), m.plane.normal)
        return f"{plane} {letter} {mm:.1f}"

    def _measurement_item(self, m: Measurement) -> QTreeWidgetItem:
        item = QTreeWidgetItem([kind_title(m.kind), m.label, "\n".join(value_lines(m)),
                                self.series_text(m.series_instance_uid), self.slice_text(m)])
        item.setData(0, ID_ROLE, m.id)
        item.setData(0, KIND_ROLE, "measurement")
        item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsEditable)
        when = m.created_utc.strftime("%Y-%m-%d %H:%M UTC")
        where = image_reference(m.plane.orientation, m.points, m.plane.normal, m.instance_number)
        tip = f"{kind_title(m.kind)}: {value_text(m)}\n{self.series_text(m.series_instance_uid)}, " \
              f"{where}\nby {m.reader or 'unknown reader'}, {when}"
        if not m.pixel_spacing_known:
            tip += "\nThe series has no pixel spacing: lengths are in pixels."
        for col in range(len(COLUMNS)):
            item.setToolTip(col, tip)
        return item

    def _group_item(self, key: str, text: str, role: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([text])
        item.setData(0, ID_ROLE, key)
        item.setData(0, KIND_ROLE, role)
        item.setFlags(Qt.ItemIsEnabled)
        f = QFont(self.tree.font())
        f.setBold(True)
        item.setFont(0, f)
        item.setForeground(0, QBrush(GROUP_COLOR))
        return item

    @staticmethod
    def finding_title(f: Finding, index: int) -> str:
        name = f.label or f"Finding {index + 1}"
        return f"{name}  ({f.levels_text})" if f.levels_text else name

    def dimensions_text(self, finding_id: str) -> str | None:
        """``"AP x LR x CC: 34.2 x 24.0 x 46.2 mm   Ellipsoid volume: 19.9 mL"`` for a finding whose
        dimensions the reader marked (a bidirectional, and a CC extent); a hint when it has a bidirectional
        not marked yet; else None."""
        case = self.controller.case
        dims = lesion_dimensions(case, finding_id)
        if dims is None:
            if any(m.kind == "bidirectional" for m in case.finding_measurements(finding_id)):
                return "Dimensions: right-click its bidirectional > Use as AP x LR Dimensions"
            return None
        text = f"AP x LR x CC: {dims.text()}"
        if dims.volume is not None:
            return f"{text}   Ellipsoid volume: {dims.volume_text()}"
        return f"{text}   (add a CC extent for the volume)"

    def refresh(self) -> None:
        """Rebuild the rows from the case (keeps collapsed groups and the selection)."""
        self._refresh_pending = False
        case = self.controller.case
        self._syncing = True
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            findings = case.findings
            if not findings:
                self.tree.setRootIsDecorated(False)
                for m in case.measurements:
                    self.tree.addTopLevelItem(self._measurement_item(m))
            else:
                self.tree.setRootIsDecorated(True)
                known = {f.id for f in findings}
                groups: list[tuple[QTreeWidgetItem, list[Measurement], str | None]] = []
                for i, f in enumerate(findings):
                    groups.append((self._group_item(f.id, self.finding_title(f, i), "finding"),
                                   case.finding_measurements(f.id), f.id))
                loose = [m for m in case.measurements if m.finding_id not in known]
                if loose:
                    groups.append((self._group_item("", NO_FINDING, "no_finding"), loose, None))
                for group, ms, fid in groups:
                    self.tree.addTopLevelItem(group)
                    group.setFirstColumnSpanned(True)
                    dims = self.dimensions_text(fid) if fid is not None else None
                    if dims:
                        line = QTreeWidgetItem([dims])
                        line.setData(0, KIND_ROLE, "dimensions")
                        line.setData(0, ID_ROLE, fid)
                        line.setFlags(Qt.ItemIsEnabled)
                        line.setForeground(0, QBrush(DIMENSIONS_COLOR))
                        line.setToolTip(0, "Lesion dimensions from the bidirectional and CC extent you marked as "
                                           "the finding's dimensions (right-click a measurement); volume of the "
                                           "ellipsoid pi/6 x AP x LR x CC")
                        group.addChild(line)
                        line.setFirstColumnSpanned(True)
                    for m in ms:
                        group.addChild(self._measurement_item(m))
                    group.setExpanded((fid or "") not in self._collapsed)
            self.hint.setVisible(not case.measurements)
            self._select_row(self.controller.selected_id)
        finally:
            self.tree.blockSignals(False)
            self._syncing = False

    # -- look-ups ----------------------------------------------------------------------------------------
    def items(self) -> list[QTreeWidgetItem]:
        """Every measurement row, in display order."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.data(0, KIND_ROLE) == "measurement":
                out.append(top)
            for j in range(top.childCount()):
                child = top.child(j)
                if child.data(0, KIND_ROLE) == "measurement":
                    out.append(child)
        return out

    def item_for(self, measurement_id: str) -> QTreeWidgetItem | None:
        return next((it for it in self.items() if it.data(0, ID_ROLE) == measurement_id), None)

    def group_items(self) -> list[QTreeWidgetItem]:
        return [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())
                if self.tree.topLevelItem(i).data(0, KIND_ROLE) in ("finding", "no_finding")]

    def selected_id(self) -> str | None:
        items = self.tree.selectedItems()
        if items and items[0].data(0, KIND_ROLE) == "measurement":
            return items[0].data(0, ID_ROLE)
        return None

    # -- selection -----------------------------------------------------------------------------------------
    def _select_row(self, measurement_id: str) -> None:
        item = self.item_for(measurement_id) if measurement_id else None
        if item is None:
            self.tree.clearSelection()
            return
        self.tree.setCurrentItem(item)
        self.tree.scrollToItem(item)

    def _on_controller_selection(self, obj_id: str) -> None:
        if self._syncing:
            return
        self._syncing = True
        self.tree.blockSignals(True)
        try:
            self._select_row(obj_id)
        finally:
            self.tree.blockSignals(False)
            self._syncing = False
        self.tree.viewport().update()

    def _on_selection(self) -> None:
        if self._syncing:
            return
        mid = self.selected_id()
        if mid is None:
            return
        self._syncing = True
        try:
            self.controller.select(mid)
        finally:
            self._syncing = False
        self.measurementActivated.emit(mid)

    def _on_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(0, KIND_ROLE) == "measurement":
            mid = item.data(0, ID_ROLE)
            if self.controller.selected_id != mid:
                self._syncing = True
                try:
                    self.controller.select(mid)
                finally:
                    self._syncing = False
            self.measurementActivated.emit(mid)

    def _on_changed(self, collection: str, _obj_id: str) -> None:
        if collection in ("measurements", "findings", "series", "vertebral_labels"):
            self.schedule_refresh()

    def schedule_refresh(self) -> None:
        """Rebuild once control returns to the event loop (several edits -- an undo macro, or a rename
        committed from inside the tree's own editor -- make one rebuild)."""
        if not self._refresh_pending:
            self._refresh_pending = True
            QTimer.singleShot(0, self._deferred_refresh)

    def _deferred_refresh(self) -> None:
        if self._refresh_pending:
            self.refresh()

    # -- editing -----------------------------------------------------------------------------------------
    def edit_label(self, item: QTreeWidgetItem | None = None) -> bool:
        """Open the Label cell of a row (default: the selected one) for editing."""
        if item is None:
            items = self.tree.selectedItems()
            item = items[0] if items else None
        if item is None or item.data(0, KIND_ROLE) != "measurement" or self.controller.read_only:
            return False
        self.tree.editItem(item, LABEL)
        return True

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._syncing or column != LABEL or item.data(0, KIND_ROLE) != "measurement":
            return
        mid = item.data(0, ID_ROLE)
        text = item.text(LABEL)
        if self.editor is not None:
            changed = self.editor.set_label(mid, text)
        else:
            try:
                m = self.controller.case.measurement(mid)
                changed = text.strip() != m.label
                if changed:
                    self.controller.update(mid, "Rename measurement", label=text.strip())
            except (KeyError, ValueError):
                changed = False
        if not changed:
            self.schedule_refresh()  # put the stored label back

    def delete_selected(self) -> bool:
        mid = self.selected_id()
        if mid is None:
            return False
        if self.editor is not None:
            return self.editor.delete(mid)
        m = self.controller.case.measurement(mid)
        try:
            self.controller.remove(mid, f"Delete {kind_name(m.kind)}")
        except ValueError:
            return False
        return True

    def _context_menu(self, pos) -> None:  # noqa: ANN001 - QPoint
        item = self.tree.itemAt(pos)
        if item is None or item.data(0, KIND_ROLE) != "measurement":
            return
        mid = item.data(0, ID_ROLE)
        self.tree.setCurrentItem(item)
        menu = QMenu(self)
        menu.setObjectName("MeasurementPanelMenu")
        menu.addAction("Show", lambda: self.measurementActivated.emit(mid))
        rename = menu.addAction("Rename\u2026", lambda: self.edit_label(item))
        rename.setEnabled(not self.controller.read_only)
        if self.editor is not None:
            delete = menu.addAction("Delete", lambda: self.editor.delete(mid))
            delete.setEnabled(not self.controller.read_only)
            findings = self.controller.case.findings
            m = self.controller.case.measurement(mid)
            sub = menu.addMenu("Assign to Finding")
            none = sub.addAction("No finding", lambda: self.editor.assign_finding(mid, None))
            none.setCheckable(True)
            none.setChecked(m.finding_id is None)
            for i, f in enumerate(findings):
                a = sub.addAction(self.finding_title(f, i), lambda fid=f.id: self.editor.assign_finding(mid, fid))
                a.setCheckable(True)
                a.setChecked(m.finding_id == f.id)
            sub.setEnabled(bool(findings) and not self.controller.read_only)
            dims = self.editor.dimension_action(mid, menu)
            if dims is not None:
                menu.addAction(dims)
        menu.popup(self.tree.viewport().mapToGlobal(pos))


__all__ = ["COLUMNS", "NO_FINDING", "MeasurementPanel"]
