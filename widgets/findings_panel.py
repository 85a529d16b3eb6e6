"""Findings (lesions): the list, the current finding's editors, and the small shared objects the Bilsky and
SINS panels use.

A finding groups measurements (``Measurement.finding_id``) and holds its label, level range, per-level
involvement, lesion type, Bilsky grade, SINS and notes (``imaging.case.model.Finding``). Every edit goes
through the `CaseController` as a named undo entry ("New finding", "Rename finding", "Set levels T5-T6",
"Set involvement T6 right pedicle", "Set lesion type lytic", "Edit finding notes", "Delete finding",
"Assign measurement to Lesion 1"); the panel only reads ``controller.case`` and refreshes on ``changed`` /
``caseReplaced``.

API::

    focus = FindingFocus(controller)          # the current finding, shared by Findings, Bilsky and SINS
    focus.current_id(); focus.current(); focus.set_current(fid); focus.currentChanged(str)
    focus.active_finding_id()                 # where new measurements go: the current finding while
                                              # "Attach new measurements" is ticked, else None
    AutoLevelSync(controller)                 # keeps automatic finding levels equal to where their
                                              # measurements lie (see the class)
    panel = FindingsPanel(controller, focus)
    panel.new_finding(); panel.delete_current(); panel.assign_selected_measurement()
    panel.messageRequested(text, level)       # connect to MainWindow.show_message
    FindingSelector(controller, focus)        # "Finding: [Lesion 1 v] [New]" for other panels

Research software, not a diagnostic device.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QAction, QFocusEvent, QFont, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imaging.case.analysis import finding_levels
from imaging.case.findings import (
    LESION_TYPE_NAMES,
    SECTOR_NAMES,
    assignment_changes,
    involvement_levels,
    next_finding_label,
    parse_levels_text,
    sins_summary,
    sync_auto_levels,
    with_involvement,
)
from imaging.case.model import SECTORS, Finding, Measurement
from widgets.case_controller import CaseController
from widgets.deliberate_input import ActionButton, ChoiceComboBox, ChoiceTreeWidget

__all__ = ["AutoLevelSync", "FindingFocus", "FindingSelector", "FindingsPanel", "InvolvementGrid", "alive"]

ERROR_STYLE = "color: #ff8a80;"
PANEL_STYLE = """
QCheckBox::indicator, QRadioButton::indicator { width: 12px; height: 12px; border: 1px solid #7a828c;
                                                background: #101215; }
QCheckBox::indicator { border-radius: 2px; }
QRadioButton::indicator { border-radius: 7px; }
QCheckBox::indicator:checked, QRadioButton::indicator:checked { background: #4a86c5; border: 1px solid #a9cdf2; }
QCheckBox::indicator:hover, QRadioButton::indicator:hover { border: 1px solid #c3ccd6; }
QCheckBox::indicator:disabled, QRadioButton::indicator:disabled { border: 1px solid #3a3f45; }
QRadioButton:checked { color: #ffffff; }
"""
"""Check boxes and radio buttons that read at a glance on the dark theme: an outlined box when off, a filled
accent box when on (the Fusion defaults are nearly invisible there)."""
HINT_STYLE = "color: #8f96a0;"
NO_VALUE = "\u2014"


def alive(*objects: QObject) -> bool:
    """Whether the Qt objects still exist (a signal can arrive while a window is being torn down)."""
    return all(shiboken6.isValid(o) for o in objects)


def finding_title(finding: Finding) -> str:
    """``"Lesion 1 · T5-T6"`` (label, or "Unnamed finding", and levels when set)."""
    name = finding.label or "Unnamed finding"
    return f"{name} \u00b7 {finding.levels_text}" if finding.levels_text else name


def measurement_name(m: Measurement) -> str:
    """``"length 'T6 canal' 12.3 mm"``: kind, label, first value (for buttons and menus)."""
    text = m.kind.replace("_", " ")
    if m.label:
        text += f" '{m.label}'"
    try:
        values = m.values()
    except ValueError:
        values = []
    if values:
        text += f" {values[0].text()}"
    return text


# ==========================================================================================================
# Shared state
# ==========================================================================================================
class FindingFocus(QObject):
    """The current finding (shown and edited by the Findings, Bilsky and SINS panels) and whether new
    measurements attach to it. Kept out of the case: it is where the reader is, not what they recorded.

    New measurements attach only to a finding the reader *chose* in this session (clicked in the list,
    picked in a selector, created, clicked on the spine map) while "Attach new measurements" is ticked --
    never to the finding shown first after opening a case, nor to one shown because a measurement of it
    was selected."""

    currentChanged = Signal(str)
    attachChanged = Signal(bool)

    def __init__(self, controller: CaseController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctl = controller
        self._current = ""
        self._chosen = False  # the reader chose the current finding in this session
        self._attach = True
        controller.caseReplaced.connect(self._on_case_replaced)
        controller.changed.connect(self._on_changed)

    def current_id(self) -> str:
        """The current finding's id, "" for none."""
        return self._current

    def current(self) -> Finding | None:
        """The current finding as the case holds it now (None when none or deleted)."""
        if not self._current:
            return None
        try:
            return self._ctl.case.finding(self._current)
        except KeyError:
            return None

    def set_current(self, finding_id: str | None, *, chosen: bool = False) -> None:
        """Show ``finding_id`` in the panels. ``chosen``: the reader picked it (new measurements may attach
        to it); otherwise a different finding is shown without being chosen."""
        finding_id = finding_id or ""
        if finding_id and not any(f.id == finding_id for f in self._ctl.case.findings):
            raise KeyError(f"no finding with id {finding_id}")
        changed = finding_id != self._current
        was = self.active_finding_id()
        if changed:
            self._current = finding_id
            self._chosen = False
        if chosen and finding_id:
            self._chosen = True
        if changed:
            self.currentChanged.emit(finding_id)
        if self.active_finding_id() != was:
            self.attachChanged.emit(self._attach)

    def chosen(self) -> bool:
        """Whether the reader chose the current finding in this session."""
        return self._chosen and self.current() is not None

    def attach_new_measurements(self) -> bool:
        return self._attach

    def set_attach_new_measurements(self, on: bool) -> None:
        if on != self._attach:
            self._attach = on
            self.attachChanged.emit(on)

    def active_finding_id(self) -> str | None:
        """The finding new measurements attach to: the current one while attaching is on and the reader
        chose it in this session, else None."""
        return self._current if self._attach and self.chosen() else None

    def _on_case_replaced(self) -> None:
        findings = self._ctl.case.findings
        self._current = findings[0].id if findings else ""
        self._chosen = False  # shown, not chosen: nothing attaches until the reader picks a finding
        self.currentChanged.emit(self._current)
        self.attachChanged.emit(self._attach)

    def _on_changed(self, collection: str, _obj_id: str) -> None:
        if collection == "findings" and self._current and self.current() is None:
            self.set_current("")


class AutoLevelSync(QObject):
    """Keeps every finding whose levels are automatic (``Finding.levels_auto``) equal to the labelled levels
    where its measurements and contours lie (``imaging.case.analysis.finding_levels``).

    Automatic levels are derived data: after every edit, undo and redo (any ``changed`` signal) the stale
    ones are recomputed on the model directly and announced with ``changed("findings", id)``. They are not
    separate undo entries — undoing the edit that moved them (adding a measurement, moving a label) brings
    them back by the same rule. A read-only case is never touched; levels typed by hand are left alone.
    """

    def __init__(self, controller: CaseController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctl = controller
        self._busy = False
        controller.changed.connect(self._on_changed)

    def sync(self) -> list[str]:
        """Recompute stale automatic levels now; returns the ids of the findings changed."""
        if self._busy or self._ctl.read_only:
            return []
        self._busy = True
        try:
            changed = sync_auto_levels(self._ctl.case, who=self._ctl.reader)
        finally:
            self._busy = False
        for fid in changed:
            self._ctl.changed.emit("findings", fid)
        return changed

    def _on_changed(self, collection: str, _obj_id: str) -> None:
        if collection in ("measurements", "findings", "vertebral_labels"):
            self.sync()


# ==========================================================================================================
# Small widgets
# ==========================================================================================================
class FindingSelector(QWidget):
    """"Finding: [Lesion 1 · T5-T6 v] [New]" — picks the current finding from another panel."""

    newFindingRequested = Signal()

    def __init__(self, controller: CaseController, focus: FindingFocus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctl, self._focus = controller, focus
        box = QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(QLabel("Finding:"))
        self.combo = ChoiceComboBox()
        self.combo.setObjectName("FindingSelectorCombo")
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        self.combo.activated.connect(self._on_activated)
        box.addWidget(self.combo, 1)
        self.new_button = ActionButton("New")
        self.new_button.setObjectName("FindingSelectorNew")
        self.new_button.setToolTip("Create a new finding (lesion)")
        self.new_button.clicked.connect(self.newFindingRequested.emit)
        box.addWidget(self.new_button)
        controller.changed.connect(self._on_changed)
        controller.caseReplaced.connect(self.refresh)
        focus.currentChanged.connect(self._on_current_changed)
        self.refresh()

    def _on_changed(self, collection: str, _obj_id: str) -> None:
        if collection == "findings":
            self.refresh()

    def _on_current_changed(self, _fid: str) -> None:
        self.refresh()

    def refresh(self) -> None:
        if not alive(self, self.combo):
            return
        self.combo.blockSignals(True)
        self.combo.clear()
        findings = self._ctl.case.findings
        if not findings:
            self.combo.addItem("(no findings)", "")
        for f in findings:
            self.combo.addItem(finding_title(f), f.id)
        idx = self.combo.findData(self._focus.current_id())
        self.combo.setCurrentIndex(max(idx, 0))
        self.combo.setEnabled(bool(findings))
        self.combo.blockSignals(False)

    def _on_activated(self, index: int) -> None:
        self._focus.set_current(self.combo.itemData(index) or "", chosen=True)


class _CommitOnFocusOutEdit(QPlainTextEdit):
    """A notes editor that reports ``committed`` when it loses focus or on Ctrl+Return."""

    committed = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt API
        super().focusOutEvent(event)
        self.committed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and event.modifiers() & Qt.ControlModifier:
            self.committed.emit()
            return
        super().keyPressEvent(event)


class InvolvementGrid(QWidget):
    """Check boxes: one row per sector (vertebral body ... psoas), one column per level of the finding.
    Emits ``toggled(level, sector, on)`` for the reader's clicks; ``set_finding`` shows a finding."""

    toggled = Signal(str, str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(10)
        self._grid.setVerticalSpacing(2)
        self._levels: list[str] = []
        self._boxes: dict[tuple[str, str], QCheckBox] = {}
        self._hint = QLabel("Set the finding's levels to record involvement.")
        self._hint.setStyleSheet(HINT_STYLE)
        self._hint.setWordWrap(True)

    def levels(self) -> list[str]:
        return list(self._levels)

    def checkbox(self, level: str, sector: str) -> QCheckBox:
        """The check box of one cell (tests and automation)."""
        return self._boxes[(level, sector)]

    def set_finding(self, finding: Finding | None) -> None:
        levels = involvement_levels(finding) if finding is not None else []
        if levels != self._levels or not self._grid.count():
            self._rebuild(levels)
        ticked = {(inv.level, s) for inv in (finding.involvement if finding else []) for s in inv.sectors}
        for key, box in self._boxes.items():
            box.blockSignals(True)
            box.setChecked(key in ticked)
            box.blockSignals(False)

    def _rebuild(self, levels: list[str]) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            w = item.widget()
            if w is not None and w is not self._hint:
                w.deleteLater()
        self._boxes.clear()
        self._levels = list(levels)
        if not levels:
            self._grid.addWidget(self._hint, 0, 0)
            self._hint.show()
            return
        self._hint.hide()
        bold = QFont(self.font())
        bold.setBold(True)
        for j, level in enumerate(levels):
            head = QLabel(level)
            head.setFont(bold)
            head.setAlignment(Qt.AlignCenter)
            self._grid.addWidget(head, 0, j + 1)
        for i, sector in enumerate(SECTORS):
            name = QLabel(SECTOR_NAMES[sector])
            self._grid.addWidget(name, i + 1, 0)
            for j, level in enumerate(levels):
                box = QCheckBox()
                box.setObjectName(f"involvement_{level}_{sector}")
                box.setToolTip(f"{level}: {SECTOR_NAMES[sector].lower()} involved")
                box.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
                box.clicked.connect(lambda on, lv=level, s=sector: self.toggled.emit(lv, s, bool(on)))
                self._grid.addWidget(box, i + 1, j + 1, Qt.AlignCenter)
                self._boxes[(level, sector)] = box
        self._grid.setColumnStretch(len(levels) + 1, 1)


# ==========================================================================================================
# The panel
# ==========================================================================================================
class FindingsPanel(QWidget):
    """The findings list and the current finding's editors (see the module docstring)."""

    messageRequested = Signal(str, str)  # text, level ("info", "warning", "error")

    COLUMNS = ("Finding", "Levels", "Bilsky", "SINS", "Meas.")

    def __init__(self, controller: CaseController, focus: FindingFocus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FindingsPanel")
        self._ctl, self._focus = controller, focus
        self._notes_finding = ""
        self.setStyleSheet(PANEL_STYLE)
        self._build()
        controller.changed.connect(self._on_changed)
        controller.caseReplaced.connect(self.refresh)
        controller.selectionChanged.connect(self._on_selection_changed)
        controller.readOnlyChanged.connect(self._on_read_only)
        focus.currentChanged.connect(self._on_current_changed)
        focus.attachChanged.connect(self._on_attach_changed)
        self.refresh()

    # -- construction -------------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)

        buttons = QHBoxLayout()
        self.new_button = ActionButton("New finding")
        self.new_button.setObjectName("NewFindingButton")
        self.new_button.setToolTip("Create a finding (lesion); a selected measurement joins it")
        self.new_button.clicked.connect(lambda: self.new_finding())
        self.delete_button = ActionButton("Delete")
        self.delete_button.setObjectName("DeleteFindingButton")
        self.delete_button.setToolTip("Delete the selected finding (its measurements stay, detached)  (Delete)")
        self.delete_button.clicked.connect(self.delete_current)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        outer.addLayout(buttons)

        self.tree = ChoiceTreeWidget()
        self.tree.setObjectName("FindingsTree")
        self.tree.setColumnCount(len(self.COLUMNS))
        self.tree.setHeaderLabels(list(self.COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._tree_menu)
        self.tree.itemSelectionChanged.connect(self._on_tree_selection)
        # a click chooses the finding even when it is the one already shown (new measurements may join it)
        self.tree.itemClicked.connect(lambda item, _col: self._focus.set_current(item.data(0, Qt.UserRole),
                                                                                chosen=True))
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        for c in range(1, len(self.COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeToContents)
        self.tree.setMinimumHeight(90)
        self.tree.setMaximumHeight(170)
        self.tree.installEventFilter(self)
        outer.addWidget(self.tree)

        self.attach_box = QCheckBox("Attach new measurements to the finding you choose")
        self.attach_box.setObjectName("AttachMeasurementsBox")
        self.attach_box.setToolTip("New measurements join a finding only after you choose it (click it in the "
                                   "list, pick it in a selector or create it); each one is named in the "
                                   "status bar and on the image when it joins")
        self.attach_box.setChecked(self._focus.attach_new_measurements())
        self.attach_box.toggled.connect(self._focus.set_attach_new_measurements)
        outer.addWidget(self.attach_box)

        self.assign_button = ActionButton("Assign selected measurement")
        self.assign_button.setObjectName("AssignMeasurementButton")
        self.assign_button.clicked.connect(lambda: self.assign_selected_measurement())
        outer.addWidget(self.assign_button)

        # -- the current finding's editors (scrolls in a short dock) --
        self.details = QGroupBox("Selected finding")
        self.details.setObjectName("FindingDetails")
        form = QFormLayout(self.details)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.label_edit = QLineEdit()
        self.label_edit.setObjectName("FindingLabelEdit")
        self.label_edit.setPlaceholderText("e.g. T5-T6 lesion")
        self.label_edit.editingFinished.connect(self._commit_label)
        form.addRow("Name", self.label_edit)

        levels_row = QHBoxLayout()
        self.levels_edit = QLineEdit()
        self.levels_edit.setObjectName("FindingLevelsEdit")
        self.levels_edit.setPlaceholderText("e.g. T5-T6")
        self.levels_edit.setToolTip("Level range as written in reports: T5-T6, T5-6, T6. Empty clears it.")
        self.levels_edit.editingFinished.connect(self._commit_levels)
        self.levels_auto_box = QCheckBox("Auto")
        self.levels_auto_box.setObjectName("FindingLevelsAuto")
        self.levels_auto_box.setToolTip("Fill the levels from the labelled vertebrae where the finding's "
                                        "measurements lie")
        self.levels_auto_box.clicked.connect(self._commit_levels_auto)
        levels_row.addWidget(self.levels_edit, 1)
        levels_row.addWidget(self.levels_auto_box)
        form.addRow("Levels", levels_row)
        self.levels_error = QLabel("")
        self.levels_error.setObjectName("FindingLevelsError")
        self.levels_error.setStyleSheet(ERROR_STYLE)
        self.levels_error.setWordWrap(True)
        self.levels_error.hide()
        form.addRow("", self.levels_error)

        self.type_combo = ChoiceComboBox()
        self.type_combo.setObjectName("FindingTypeCombo")
        self.type_combo.addItem(NO_VALUE, None)
        for key, name in LESION_TYPE_NAMES.items():
            self.type_combo.addItem(name, key)
        self.type_combo.activated.connect(self._commit_type)
        form.addRow("Lesion type", self.type_combo)

        self.involvement = InvolvementGrid()
        self.involvement.setObjectName("InvolvementGrid")
        self.involvement.toggled.connect(self._commit_involvement)
        inv_box = QGroupBox("Involvement")
        inv_layout = QVBoxLayout(inv_box)
        inv_layout.setContentsMargins(6, 4, 6, 4)
        inv_layout.addWidget(self.involvement)
        form.addRow(inv_box)

        self.notes_edit = _CommitOnFocusOutEdit()
        self.notes_edit.setObjectName("FindingNotesEdit")
        self.notes_edit.setPlaceholderText("Notes (saved when you leave the field, or Ctrl+Enter)")
        self.notes_edit.setTabChangesFocus(True)
        self.notes_edit.setFixedHeight(64)
        self.notes_edit.committed.connect(self._commit_notes)
        form.addRow("Notes", self.notes_edit)

        self.measurements_label = QLabel("")
        self.measurements_label.setObjectName("FindingMeasurementsLabel")
        self.measurements_label.setWordWrap(True)
        self.measurements_label.setStyleSheet(HINT_STYLE)
        form.addRow("Measured", self.measurements_label)

        self.empty_hint = QLabel("No finding selected. Click \u201cNew finding\u201d to record a lesion; select a "
                                 "measurement first to start the finding from it.")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setStyleSheet(HINT_STYLE)

        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self.details)
        body_layout.addWidget(self.empty_hint)
        body_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        self.delete_action = QAction("Delete Finding", self)
        self.delete_action.setShortcut(QKeySequence.Delete)
        self.delete_action.setShortcutContext(Qt.WidgetShortcut)
        self.delete_action.triggered.connect(self.delete_current)
        self.tree.addAction(self.delete_action)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(340, 640)

    # -- reading the case ---------------------------------------------------------------------------------
    def _selected_measurement(self) -> Measurement | None:
        sel = self._ctl.selected_id
        if not sel:
            return None
        try:
            return self._ctl.case.measurement(sel)
        except KeyError:
            return None

    def refresh(self) -> None:
        """Re-read the case: the list (keeping the current finding selected) and the editors."""
        if not alive(self, self.tree, self.notes_edit, self.levels_edit, self.label_edit):
            return
        case = self._ctl.case
        current = self._focus.current_id()
        self.tree.blockSignals(True)
        self.tree.clear()
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for f in case.findings:
            n = len(case.finding_measurements(f.id))
            item = QTreeWidgetItem([f.label or "Unnamed finding", f.levels_text or NO_VALUE,
                                    f.bilsky.grade or NO_VALUE, str(score.total) if (score := f.sins_score())
                                    else NO_VALUE, str(n)])
            item.setData(0, Qt.UserRole, f.id)
            item.setToolTip(0, finding_title(f))
            item.setToolTip(3, sins_summary(f) or "SINS incomplete")
            for c in range(1, len(self.COLUMNS)):
                item.setTextAlignment(c, Qt.AlignCenter)
            self.tree.addTopLevelItem(item)
            if f.id == current:
                for c in range(len(self.COLUMNS)):
                    item.setFont(c, bold)
                item.setSelected(True)
                self.tree.setCurrentItem(item)
        self.tree.blockSignals(False)
        self._refresh_details()
        self._refresh_buttons()
        self._refresh_attach_text()

    def _refresh_buttons(self) -> None:
        writable = not self._ctl.read_only
        f = self._focus.current()
        m = self._selected_measurement()
        self.new_button.setEnabled(writable)
        self.delete_button.setEnabled(writable and f is not None)
        if m is None:
            self.assign_button.setText("Assign selected measurement")
            self.assign_button.setToolTip("Select a measurement in a view or in the measurement list first")
        elif f is not None:
            self.assign_button.setText(f"Assign {measurement_name(m)} to {f.label or 'this finding'}")
            self.assign_button.setToolTip("")
        self.assign_button.setEnabled(writable and f is not None and m is not None
                                      and m.finding_id != (f.id if f else None))

    def _refresh_details(self) -> None:
        f = self._focus.current()
        self.details.setVisible(f is not None)
        self.empty_hint.setVisible(f is None)
        if f is None:
            self._notes_finding = ""
            return
        self.details.setTitle(f"Selected finding: {f.label or 'Unnamed finding'}")
        self.details.setEnabled(not self._ctl.read_only)
        # a field the reader is typing in keeps the typed text; otherwise it shows the case
        if not (self.label_edit.hasFocus() and self.label_edit.isModified()):
            self.label_edit.setText(f.label)
        if not (self.levels_edit.hasFocus() and self.levels_edit.isModified()):
            self.levels_edit.setText(f.levels_text)
            self._show_levels_error("")
        self.levels_auto_box.setChecked(f.levels_auto)
        self.type_combo.setCurrentIndex(max(self.type_combo.findData(f.lesion_type), 0))
        self.involvement.set_finding(f)
        if self._notes_finding != f.id or not self.notes_edit.hasFocus():
            self.notes_edit.setPlainText(f.notes)
        self._notes_finding = f.id
        ms = self._ctl.case.finding_measurements(f.id)
        self.measurements_label.setText(", ".join(measurement_name(m) for m in ms) if ms else
                                        "no measurements yet")

    def _show_levels_error(self, text: str) -> None:
        self.levels_error.setText(text)
        self.levels_error.setVisible(bool(text))
        self.levels_edit.setStyleSheet("border: 1px solid #d9534f;" if text else "")

    # -- signals ------------------------------------------------------------------------------------------
    def _on_changed(self, collection: str, _obj_id: str) -> None:
        if collection in ("findings", "measurements", "vertebral_labels"):
            self.refresh()

    def _on_read_only(self, _read_only: bool) -> None:
        self.refresh()

    def _on_current_changed(self, _fid: str) -> None:
        self.refresh()

    def _on_attach_changed(self, on: bool) -> None:
        self.attach_box.setChecked(on)
        self._refresh_attach_text()

    def _refresh_attach_text(self) -> None:
        f = self._focus.current()
        if self._focus.chosen() and f is not None:
            self.attach_box.setText(f"Attach new measurements to {f.label or 'this finding'}")
        else:
            self.attach_box.setText("Attach new measurements to the finding you choose")

    def _on_selection_changed(self, obj_id: str) -> None:
        m = self._selected_measurement() if obj_id else None
        if m is not None and m.finding_id and m.finding_id != self._focus.current_id():
            self._focus.set_current(m.finding_id)  # selecting a measurement shows its finding (not chosen)
        self._refresh_buttons()

    def _on_tree_selection(self) -> None:
        items = self.tree.selectedItems()
        if items:
            self._focus.set_current(items[0].data(0, Qt.UserRole), chosen=True)

    def eventFilter(self, obj: QObject, event) -> bool:  # noqa: ANN001, N802 - Qt API
        if obj is self.tree and event.type() == QEvent.KeyPress and event.key() == Qt.Key_F2:
            self.label_edit.setFocus(Qt.ShortcutFocusReason)
            self.label_edit.selectAll()
            return True
        return super().eventFilter(obj, event)

    def _tree_menu(self, pos) -> None:  # noqa: ANN001
        item = self.tree.itemAt(pos)
        if item is not None:
            self._focus.set_current(item.data(0, Qt.UserRole), chosen=True)
        menu = QMenu(self)
        self.fill_menu(menu)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def fill_menu(self, menu: QMenu) -> None:
        """The finding actions (list context menu, Findings menu)."""
        f = self._focus.current()
        writable = not self._ctl.read_only
        m = self._selected_measurement()
        menu.addAction("New Finding", lambda: self.new_finding()).setEnabled(writable)
        if m is not None and writable:
            menu.addAction(f"New Finding from {measurement_name(m)}", lambda: self.new_finding(True))
        if f is not None:
            rename = menu.addAction("Rename\u2026  (F2)", lambda: (self.label_edit.setFocus(),
                                                                  self.label_edit.selectAll()))
            rename.setEnabled(writable)
            if m is not None and m.finding_id != f.id:
                menu.addAction(f"Assign {measurement_name(m)} to {f.label or 'this finding'}",
                               lambda: self.assign_selected_measurement()).setEnabled(writable)
            menu.addSeparator()
            menu.addAction("Delete Finding", self.delete_current).setEnabled(writable)

    # -- edits --------------------------------------------------------------------------------------------
    def _edit(self, fn, *args, **kwargs):  # noqa: ANN001, ANN202
        """Run a controller edit; a refused edit shows its reason and changes nothing."""
        try:
            return fn(*args, **kwargs)
        except (ValueError, KeyError, TypeError) as exc:
            self.messageRequested.emit(f"Not changed: {exc}", "error")
            return None

    def new_finding(self, from_selected_measurement: bool = True) -> Finding | None:
        """Create a finding named "Lesion N" and make it current; a selected measurement that belongs to no
        finding joins it (one undo step "New finding")."""
        m = self._selected_measurement() if from_selected_measurement else None
        case = self._ctl.case
        finding = Finding(label=next_finding_label(case), reader=self._ctl.reader)

        def make() -> Finding:
            with self._ctl.macro("New finding"):
                self._ctl.add(finding, "New finding")
                if m is not None and m.finding_id is None:
                    self._ctl.update(m.id, text="Assign measurement", **assignment_changes(m, finding.id))
            return finding

        made = self._edit(make)
        if made is not None:
            # The name field does not take the focus: a tool key meant for the image would rename it.
            self._focus.set_current(made.id, chosen=True)
        return made

    def delete_current(self) -> None:
        """Delete the current finding; its measurements stay, detached (one undo step)."""
        f = self._focus.current()
        if f is None:
            return
        self._edit(self._ctl.remove, f.id, f"Delete finding {f.label}".rstrip())

    def assign_selected_measurement(self, finding_id: str | None = None) -> bool:
        """Attach the selected measurement to ``finding_id`` (default: the current finding)."""
        m = self._selected_measurement()
        fid = finding_id or self._focus.current_id()
        if m is None:
            self.messageRequested.emit("Select a measurement first (click it in a view or in the measurement "
                                       "list), then assign it to a finding.", "warning")
            return False
        if not fid:
            self.messageRequested.emit("Select or create a finding first.", "warning")
            return False
        if m.finding_id == fid:
            return False
        f = self._ctl.case.finding(fid)
        done = self._edit(self._ctl.update, m.id, text=f"Assign measurement to {f.label or 'finding'}",
                          **assignment_changes(m, fid))
        return done is not None

    def _commit_label(self) -> None:
        f = self._focus.current()
        if f is None or self.label_edit.text() == f.label:
            return
        self.label_edit.setModified(False)  # committed: the field shows the case again
        self._edit(self._ctl.update, f.id, text="Rename finding", label=self.label_edit.text().strip())

    def _commit_levels(self) -> None:
        f = self._focus.current()
        if f is None:
            return
        text = self.levels_edit.text()
        try:
            level_from, level_to = parse_levels_text(text)
        except ValueError as exc:
            self._show_levels_error(str(exc))
            return
        self._show_levels_error("")
        self.levels_edit.setModified(False)  # committed: the field shows the case again
        if (level_from, level_to) == (f.level_from, f.level_to):
            self.levels_edit.setText(f.levels_text)  # same levels (perhaps written "t5-6"): nothing to change
            return
        name = (f"Set levels {level_from}-{level_to}" if level_to != level_from else f"Set levels {level_from}"
                ) if level_from else "Clear levels"
        self._edit(self._ctl.update, f.id, text=name, level_from=level_from, level_to=level_to,
                   levels_auto=False)

    def _commit_levels_auto(self, on: bool) -> None:
        f = self._focus.current()
        if f is None:
            return
        if on:
            rng = finding_levels(self._ctl.case, f)
            self._edit(self._ctl.update, f.id, text="Set levels from measurements", levels_auto=True,
                       level_from=rng.start if rng else None, level_to=rng.end if rng else None)
        else:
            self._edit(self._ctl.update, f.id, text="Set levels by hand", levels_auto=False)
        self.refresh()

    def _commit_type(self, index: int) -> None:
        f = self._focus.current()
        value = self.type_combo.itemData(index)
        if f is None or value == f.lesion_type:
            return
        name = f"Set lesion type {LESION_TYPE_NAMES[value].lower()}" if value else "Clear lesion type"
        self._edit(self._ctl.update, f.id, text=name, lesion_type=value)

    def _commit_involvement(self, level: str, sector: str, on: bool) -> None:
        f = self._focus.current()
        if f is None:
            return
        new = with_involvement(f.involvement, level, sector, on)
        verb = "Set" if on else "Clear"
        if self._edit(self._ctl.update, f.id, text=f"{verb} involvement {level} {SECTOR_NAMES[sector].lower()}",
                      involvement=new) is None:
            self.involvement.set_finding(self._focus.current())

    def _commit_notes(self) -> None:
        f = self._focus.current()
        if f is None or self._notes_finding != f.id or self.notes_edit.toPlainText() == f.notes:
            return
        self._edit(self._ctl.update, f.id, text="Edit finding notes", notes=self.notes_edit.toPlainText())
