"""The Bilsky grading panel: the six ESCC grades with their definitions and schematics; choosing one records
the grade of the current finding with where it was read.

Bilsky MH, Laufer I, Fourney DR, et al. Reliability analysis of the epidural spinal cord compression scale.
J Neurosurg Spine 2010;13(3):324-328.

What choosing a grade records (one undo entry "Set Bilsky grade 3", an update of the current finding's
``BilskyAssessment``): the grade; the level (the labelled level at the active view's current point — the
shared cursor on the plane shown, else the plane's centre — shown in an editable field that follows the
view until the reader types in it); the series UID, the SOPInstanceUID (only for an acquired axial slice;
None on a reformat) and the slice index of the active view; the reader and the time. The assistant's
suggestion in the assessment is kept.

The panel reminds the reader that grading is done on axial T2-weighted MR at the level of worst compression
whenever the active view shows something else (the weighting is decided from TE/TR/TI and the series
description: :mod:`imaging.spine.grading_image`). It shows the NOMS ESCC group: low grade (0, 1a, 1b) or
high grade (2, 3), with grade 1c's group a setting (``set_grade_1c_as``; default high grade; the app
stores it — ``grade1cGroupChanged``).

API::

    panel = BilskyPanel(controller, focus, grade_1c_as="high")
    panel.set_active_view(view)           # follow a SliceView (MainWindow.activeViewChanged)
    panel.refresh_view_context()          # re-read the view (e.g. the shared cursor moved)
    panel.choose_grade("3"); panel.clear_grade()
    panel.grade_card("1c")                # the clickable card of a grade
    panel.set_suggestion_widget(widget)   # slot for the Bilsky assistant's suggestion (above the grades);
                                          # None removes it. The widget is owned by the panel afterwards.
    signals: messageRequested(text, level), newFindingRequested(), grade1cGroupChanged(str)

Research software, not a diagnostic device: the grade is the reader's.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from imaging.case.findings import (
    GradingPlace,
    escc_group_text,
    graded_assessment,
    grading_place,
)
from imaging.spine import BILSKY_GRADES, escc_group, normalize_level
from imaging.spine.bilsky import BILSKY_GRADE_INFO
from widgets.case_controller import CaseController
from widgets.deliberate_input import ActionButton, ChoiceComboBox
from widgets.findings_panel import ERROR_STYLE, HINT_STYLE, PANEL_STYLE, FindingFocus, FindingSelector, alive
from widgets.schematics import SchematicLegend, paint_bilsky_schematic, schematic_aspect
from widgets.slice_view import SliceView

__all__ = ["BilskyPanel", "GradeCard"]

ACCENT = QColor(74, 134, 197)
CARD_BG = QColor(29, 32, 37)
CARD_HOVER = QColor(36, 41, 48)
CARD_CHECKED = QColor(31, 53, 80)
TEXT = QColor(214, 218, 224)
MUTED = QColor(150, 157, 166)
GROUP_COLORS = {"low": QColor(86, 160, 110), "high": QColor(214, 120, 60)}
REMINDER_STYLE = ("QLabel { background: #3a2f12; border: 1px solid #8a6d1f; border-radius: 3px; padding: 5px;"
                  " color: #f0d58a; }")
OK_STYLE = "color: #7fbf8f;"
UID_KEEP = 24


def short_uid(uid: str, keep: int = UID_KEEP) -> str:
    """A long DICOM UID shortened in the middle for a narrow panel (the tooltip shows it whole)."""
    if len(uid) <= keep:
        return uid
    half = (keep - 1) // 2
    return f"{uid[:half]}\u2026{uid[-half:]}"


class GradeCard(QAbstractButton):
    """One grade: its schematic, the grade, its NOMS group and its definition. Checkable; click or Space
    chooses it."""

    PAD = 5
    SCHEMATIC_H = 66

    def __init__(self, grade: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grade = grade
        self.definition = BILSKY_GRADE_INFO[grade].definition
        self.group = escc_group(grade)
        self.setObjectName(f"BilskyGrade_{grade}")
        self.setCheckable(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setCursor(Qt.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip(f"Bilsky {grade}: {self.definition}")
        self.setAccessibleName(f"Bilsky grade {grade}: {self.definition}")
        self._hover = False

    def set_group(self, group: str) -> None:
        self.group = group
        self.update()

    # -- size ---------------------------------------------------------------------------------------------
    def _schematic_w(self) -> int:
        return round(self.SCHEMATIC_H * schematic_aspect())

    def _text_width(self, width: int) -> int:
        return max(60, width - self._schematic_w() - 3 * self.PAD)

    def _fonts(self) -> tuple[QFont, QFont, QFont]:
        base = QFont(self.font())
        title = QFont(base)
        title.setBold(True)
        title.setPointSizeF(base.pointSizeF() * 1.35)
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.85)
        return title, base, small

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        title, base, _ = self._fonts()
        tw = self._text_width(width)
        text_h = QFontMetrics(title).height() + 2 + QFontMetrics(base).boundingRect(
            0, 0, tw, 10_000, Qt.TextWordWrap, self.definition).height()
        return max(self.SCHEMATIC_H, text_h) + 2 * self.PAD

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(300, self.heightForWidth(300))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(self._schematic_w() + 120, self.SCHEMATIC_H + 2 * self.PAD)

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        super().resizeEvent(event)
        h = self.heightForWidth(self.width())
        if self.height() != h:
            self.setFixedHeight(h)

    # -- painting -----------------------------------------------------------------------------------------
    def enterEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        self._hover = True
        self.update()
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        self._hover = False
        self.update()
        super().leaveEvent(event)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing, True)
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        path = QPainterPath()
        path.addRoundedRect(r, 5, 5)
        bg = CARD_CHECKED if self.isChecked() else (CARD_HOVER if self._hover else CARD_BG)
        if not self.isEnabled():
            bg = CARD_BG
        p.fillPath(path, bg)
        if self.isChecked():
            p.setPen(QPen(ACCENT, 2))
        elif self.hasFocus():
            p.setPen(QPen(ACCENT.darker(130), 1, Qt.DashLine))
        else:
            p.setPen(QPen(QColor(47, 53, 60), 1))
        p.drawPath(path)
        if not self.isEnabled():
            p.setOpacity(0.45)
        sw, pad = self._schematic_w(), self.PAD
        paint_bilsky_schematic(p, QRectF(pad, (self.height() - self.SCHEMATIC_H) / 2, sw, self.SCHEMATIC_H),
                               self.grade)
        title, base, small = self._fonts()
        x = sw + 2 * pad
        tw = self._text_width(self.width())
        fm_title = QFontMetrics(title)
        # grade and NOMS chip on the first line
        p.setFont(title)
        p.setPen(QColor(255, 255, 255) if self.isChecked() else TEXT)
        grade_text = f"Grade {self.grade}"
        p.drawText(QRectF(x, pad, tw, fm_title.height()), Qt.AlignLeft | Qt.AlignVCenter, grade_text)
        chip = "high grade" if self.group == "high" else "low grade"
        p.setFont(small)
        fm_small = QFontMetrics(small)
        cw, ch = fm_small.horizontalAdvance(chip) + 10, fm_small.height() + 2
        cx = min(x + fm_title.horizontalAdvance(grade_text) + 10, self.width() - pad - cw)
        chip_rect = QRectF(cx, pad + (fm_title.height() - ch) / 2, cw, ch)
        color = GROUP_COLORS[self.group]
        p.setPen(QPen(color, 1))
        p.setBrush(QColor(color.red(), color.green(), color.blue(), 40))
        p.drawRoundedRect(chip_rect, ch / 2, ch / 2)
        p.setPen(color.lighter(125))
        p.drawText(chip_rect, Qt.AlignCenter, chip)
        # the definition, wrapped
        p.setFont(base)
        p.setPen(TEXT if self.isChecked() else MUTED.lighter(115))
        top = pad + fm_title.height() + 2
        p.drawText(QRectF(x, top, tw, self.height() - top - pad), Qt.TextWordWrap | Qt.AlignLeft | Qt.AlignTop,
                   self.definition)
        p.end()


class BilskyPanel(QWidget):
    """The grading panel (see the module docstring)."""

    messageRequested = Signal(str, str)
    newFindingRequested = Signal()
    grade1cGroupChanged = Signal(str)

    def __init__(self, controller: CaseController, focus: FindingFocus, grade_1c_as: str = "high",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("BilskyPanel")
        self._ctl, self._focus = controller, focus
        self._grade_1c_as = grade_1c_as if grade_1c_as in ("low", "high") else "high"
        self._view: SliceView | None = None
        self._place = GradingPlace()
        self._level_follows_view = True
        self._suggestion: QWidget | None = None
        self._series_names: dict[str, str] = {}  # series UID -> "MR Ax T2 TSE" (series seen in the views)
        self.setStyleSheet(PANEL_STYLE)
        self._build()
        controller.changed.connect(self._on_changed)
        controller.caseReplaced.connect(self._on_case_replaced)
        controller.readOnlyChanged.connect(self._on_read_only)
        focus.currentChanged.connect(self._on_finding_changed)
        self.refresh_view_context()

    # -- construction -------------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)
        self.selector = FindingSelector(self._ctl, self._focus)
        self.selector.newFindingRequested.connect(self.newFindingRequested.emit)
        outer.addWidget(self.selector)

        body = QWidget()
        box = QVBoxLayout(body)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)

        self.reminder = QLabel("")
        self.reminder.setObjectName("BilskyReminder")
        self.reminder.setWordWrap(True)
        self.reminder.setStyleSheet(REMINDER_STYLE)
        box.addWidget(self.reminder)

        place = QGroupBox("Read at")
        grid = QGridLayout(place)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setHorizontalSpacing(6)
        grid.addWidget(QLabel("Level"), 0, 0)
        self.level_edit = QLineEdit()
        self.level_edit.setObjectName("BilskyLevelEdit")
        self.level_edit.setPlaceholderText("no labelled level here")
        self.level_edit.setToolTip("The level of worst compression: from the labelled vertebrae at the "
                                   "active view's point; type to change it")
        self.level_edit.setMaximumWidth(90)
        self.level_edit.textEdited.connect(self._on_level_edited)
        grid.addWidget(self.level_edit, 0, 1)
        self.level_from_view = QPushButton("From view")
        self.level_from_view.setObjectName("BilskyLevelFromView")
        self.level_from_view.setToolTip("Use the labelled level at the active view's point again")
        self.level_from_view.clicked.connect(self._level_back_to_view)
        grid.addWidget(self.level_from_view, 0, 2)
        grid.setColumnStretch(3, 1)
        self.level_note = QLabel("")
        self.level_note.setWordWrap(True)
        self.level_note.setStyleSheet(HINT_STYLE)
        grid.addWidget(self.level_note, 1, 0, 1, 4)
        grid.addWidget(QLabel("Image"), 2, 0, Qt.AlignTop)
        self.image_label = QLabel("")
        self.image_label.setObjectName("BilskyImageLabel")
        self.image_label.setWordWrap(True)
        self.image_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        grid.addWidget(self.image_label, 2, 1, 1, 3)
        box.addWidget(place)

        # slot for the Bilsky assistant's suggestion (set_suggestion_widget)
        self.suggestion_area = QWidget()
        self.suggestion_area.setObjectName("BilskySuggestionSlot")
        self._suggestion_layout = QVBoxLayout(self.suggestion_area)
        self._suggestion_layout.setContentsMargins(0, 0, 0, 0)
        self.suggestion_area.hide()
        box.addWidget(self.suggestion_area)

        self.cards: dict[str, GradeCard] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(False)  # the model decides what is checked (undo may clear it)
        for g in BILSKY_GRADES:
            card = GradeCard(g)
            card.clicked.connect(lambda _on=False, grade=g: self.choose_grade(grade))
            self._group.addButton(card)
            self.cards[g] = card
            box.addWidget(card)
        box.addWidget(SchematicLegend())

        noms = QHBoxLayout()
        self.noms_label = QLabel("")
        self.noms_label.setObjectName("BilskyNomsLabel")
        bold = QFont(self.noms_label.font())
        bold.setBold(True)
        self.noms_label.setFont(bold)
        noms.addWidget(self.noms_label, 1)
        box.addLayout(noms)
        setting = QHBoxLayout()
        setting.addWidget(QLabel("NOMS group of grade 1c:"))
        self.group_1c_combo = ChoiceComboBox()
        self.group_1c_combo.setObjectName("Bilsky1cGroupCombo")
        self.group_1c_combo.addItem("High grade", "high")
        self.group_1c_combo.addItem("Low grade", "low")
        self.group_1c_combo.setToolTip("Published work places grade 1c in either group; the default is high "
                                       "grade")
        self.group_1c_combo.activated.connect(
            lambda i: self.set_grade_1c_as(self.group_1c_combo.itemData(i), emit=True))
        setting.addWidget(self.group_1c_combo)
        setting.addStretch(1)
        box.addLayout(setting)

        self.record_label = QLabel("")
        self.record_label.setObjectName("BilskyRecordLabel")
        self.record_label.setWordWrap(True)
        self.record_label.setStyleSheet(HINT_STYLE)
        self.record_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        box.addWidget(self.record_label)
        clear_row = QHBoxLayout()
        self.clear_button = ActionButton("Clear grade")
        self.clear_button.setObjectName("BilskyClearButton")
        self.clear_button.clicked.connect(self.clear_grade)
        clear_row.addWidget(self.clear_button)
        clear_row.addStretch(1)
        box.addLayout(clear_row)
        self.no_finding = QLabel("Select or create a finding (New) to grade it.")
        self.no_finding.setWordWrap(True)
        self.no_finding.setStyleSheet(ERROR_STYLE)
        box.insertWidget(0, self.no_finding)
        box.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        self._apply_1c_group()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(340, 760)

    # -- public API ---------------------------------------------------------------------------------------
    def grade_card(self, grade: str) -> GradeCard:
        return self.cards[grade]

    def place(self) -> GradingPlace:
        """Where a grade chosen now would be recorded (from the active view)."""
        return self._place

    def grade_1c_as(self) -> str:
        return self._grade_1c_as

    def set_grade_1c_as(self, group: str, emit: bool = False) -> None:
        """Put grade 1c in the "low" or "high" NOMS group (display only; the grade itself is unchanged)."""
        if group not in ("low", "high"):
            raise ValueError(f"grade 1c's NOMS group is 'low' or 'high', not {group!r}")
        changed = group != self._grade_1c_as
        self._grade_1c_as = group
        self._apply_1c_group()
        if changed and emit:
            self.grade1cGroupChanged.emit(group)

    def set_suggestion_widget(self, widget: QWidget | None) -> None:
        """Show ``widget`` (the Bilsky assistant's suggestion) above the grade cards; None removes it."""
        if self._suggestion is not None:
            self._suggestion_layout.removeWidget(self._suggestion)
            self._suggestion.setParent(None)
            self._suggestion = None
        if widget is not None:
            self._suggestion = widget
            self._suggestion_layout.addWidget(widget)
        self.suggestion_area.setVisible(widget is not None)

    def suggestion_widget(self) -> QWidget | None:
        return self._suggestion

    def set_active_view(self, view: SliceView | None) -> None:
        """Follow ``view`` (the main window's active view): its series, plane and slice."""
        if view is self._view:
            self.refresh_view_context()
            return
        if self._view is not None:
            try:
                self._view.sliceChanged.disconnect(self._on_view_moved)
                self._view.planeChanged.disconnect(self._on_view_changed_plane)
            except (RuntimeError, TypeError):  # pragma: no cover - already gone
                pass
        self._view = view
        if view is not None:
            view.sliceChanged.connect(self._on_view_moved)
            view.planeChanged.connect(self._on_view_changed_plane)
        self.refresh_view_context()

    def refresh_view_context(self) -> None:
        """Re-read the active view: level at its point, image, reminder."""
        if not alive(self, self.level_edit, self.image_label, self.noms_label):
            return
        v = self._view if self._view is not None and alive(self._view) else None
        vol = v.volume() if v is not None else None
        spec = v.plane_spec() if v is not None else None
        self._place = grading_place(self._ctl.case, vol, spec, v.slice_index() if v is not None else 0,
                                    v.cursor_lps if v is not None else None)
        if self._place.series_instance_uid:
            name = " ".join(x for x in (self._place.modality, self._place.series_description) if x)
            self._series_names[self._place.series_instance_uid] = name
        self._show_place()

    def choose_grade(self, grade: str) -> bool:
        """Record ``grade`` for the current finding at the active view's place (one undo entry). Returns
        True when the case changed; a refused choice shows why and changes nothing."""
        f = self._focus.current()
        if f is None:
            self.messageRequested.emit("Select or create a finding before choosing a Bilsky grade.", "warning")
            self._show_finding()
            return False
        level_text = self.level_edit.text().strip()
        try:
            level = normalize_level(level_text) if level_text else None
        except ValueError:
            msg = (f"Bilsky grade not recorded: {level_text!r} is not one vertebral level. Type the level of "
                   "worst compression, e.g. T6.")
            self.messageRequested.emit(msg, "error")
            self.level_note.setText(msg)
            self.level_note.setStyleSheet(ERROR_STYLE)
            self._show_finding()
            return False
        p = self._place
        new = graded_assessment(f.bilsky, grade, level=level, series_instance_uid=p.series_instance_uid,
                                sop_instance_uid=p.sop_instance_uid, instance_number=p.instance_number,
                                slice_index=p.slice_index if p.orientation else None, reader=self._ctl.reader)
        old = f.bilsky
        if new.model_copy(update={"assessed_utc": old.assessed_utc}) == old:
            self._show_finding()
            return False  # same grade at the same place: nothing to record
        try:
            self._ctl.update(f.id, text=f"Set Bilsky grade {new.grade}", bilsky=new)
        except (ValueError, KeyError) as exc:
            self.messageRequested.emit(f"Bilsky grade not recorded: {exc}", "error")
            self._show_finding()
            return False
        if level is None:
            self.messageRequested.emit(f"Bilsky grade {new.grade} recorded without a level: label the vertebrae "
                                       "or type the level of worst compression.", "warning")
        return True

    def clear_grade(self) -> bool:
        f = self._focus.current()
        if f is None or f.bilsky.grade is None:
            return False
        try:
            self._ctl.update(f.id, text="Clear Bilsky grade",
                             bilsky=graded_assessment(f.bilsky, None, level=None, series_instance_uid=None,
                                                      sop_instance_uid=None, slice_index=None, reader=""))
        except ValueError as exc:
            self.messageRequested.emit(f"Bilsky grade not cleared: {exc}", "error")
            return False
        return True

    # -- display ------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if not alive(self, self.level_edit, self.noms_label):
            return
        self._show_place()
        self._show_finding()

    def _show_place(self) -> None:
        p = self._place
        self.reminder.setText(p.reminder or "")
        self.reminder.setVisible(bool(p.reminder))
        if self._level_follows_view:
            self.level_edit.setText(p.level or "")
        note = ""
        if self._level_follows_view and p.labels_other_frame:
            note = "Level from vertebral labels placed on a series of another frame of reference: check it."
        elif self._level_follows_view and p.orientation and p.level is None:
            note = ("No labelled level here: label the vertebrae, or type the level."
                    if not self._ctl.case.vertebral_labels else "This point is outside the labelled levels.")
        elif not self._level_follows_view:
            note = "Typed level (the view's level is not used)."
        self.level_note.setText(note)
        self.level_note.setStyleSheet(HINT_STYLE)
        self.level_note.setVisible(bool(note))
        img = p.image_text()
        tip = [f"Series {p.series_instance_uid}"] if p.series_instance_uid else []
        if p.orientation:
            img += f"\nSOP {short_uid(p.sop_instance_uid)}" if p.sop_instance_uid else \
                "\nno SOPInstanceUID (not an acquired axial slice)"
            if p.sop_instance_uid:
                tip.append(f"SOPInstanceUID {p.sop_instance_uid}")
        if not p.reminder and p.orientation:
            img += "\n\u2713 axial T2-weighted MR"
        self.image_label.setText(img)
        self.image_label.setToolTip("\n".join(tip))
        self._show_finding()

    def _show_finding(self) -> None:
        f = self._focus.current()
        writable = not self._ctl.read_only
        self.no_finding.setVisible(f is None)
        grade = f.bilsky.grade if f is not None else None
        for g, card in self.cards.items():
            card.setChecked(g == grade)
            card.setEnabled(f is not None and writable)
        self.clear_button.setEnabled(f is not None and writable and grade is not None)
        if f is None or grade is None:
            self.noms_label.setText("NOMS: \u2014 (no grade)")
            self.noms_label.setStyleSheet("")
            self.record_label.setText("")
            self.record_label.setVisible(False)
            return
        group = escc_group(grade, self._grade_1c_as)  # type: ignore[arg-type]
        self.noms_label.setText(f"Bilsky {grade} \u00b7 NOMS: {escc_group_text(grade, self._grade_1c_as)}")
        self.noms_label.setStyleSheet(f"color: {GROUP_COLORS[group].lighter(120).name()};")
        b = f.bilsky
        where = []
        if b.level:
            where.append(f"at {b.level}")
        if b.instance_number is not None:
            where.append(f"Im {b.instance_number}")  # the image number, as PACS shows it
        elif b.slice_index is not None:
            where.append(f"slice {b.slice_index + 1}")
        series = self._ctl.case.series_ref(b.series_instance_uid)
        name = (series.description if series is not None and series.description else
                self._series_names.get(b.series_instance_uid or ""))
        if name:
            where.append(f"of {name}")
        elif b.series_instance_uid:
            where.append(f"of series {short_uid(b.series_instance_uid)}")
        who = f" by {b.reader}" if b.reader else ""
        when = f", {b.assessed_utc:%Y-%m-%d %H:%M} UTC" if b.assessed_utc else ""
        sop = f"\nSOP {short_uid(b.sop_instance_uid)}" if b.sop_instance_uid else ""
        self.record_label.setText(f"Graded {grade} {' '.join(where)}{who}{when}{sop}")
        tip = [f"Series {b.series_instance_uid}"] if b.series_instance_uid else []
        if b.sop_instance_uid:
            tip.append(f"SOPInstanceUID {b.sop_instance_uid}")
        self.record_label.setToolTip("\n".join(tip))
        self.record_label.setVisible(True)

    def _apply_1c_group(self) -> None:
        self.group_1c_combo.setCurrentIndex(max(self.group_1c_combo.findData(self._grade_1c_as), 0))
        for g, card in self.cards.items():
            card.set_group(escc_group(g, self._grade_1c_as))  # type: ignore[arg-type]
        self._show_finding()

    # -- signals ------------------------------------------------------------------------------------------
    def _on_level_edited(self, _text: str) -> None:
        self._level_follows_view = False
        self._show_place()

    def _level_back_to_view(self) -> None:
        self._level_follows_view = True
        self._show_place()

    def _on_view_moved(self, _k: int) -> None:
        self.refresh_view_context()

    def _on_view_changed_plane(self) -> None:
        self.refresh_view_context()

    def _on_finding_changed(self, _fid: str = "") -> None:
        self._level_follows_view = True
        self.refresh_view_context()

    def _on_read_only(self, _read_only: bool) -> None:
        self.refresh()

    def _on_case_replaced(self) -> None:
        self._level_follows_view = True
        self.refresh_view_context()

    def _on_changed(self, collection: str, _obj_id: str) -> None:
        if collection in ("vertebral_labels", "series"):
            self.refresh_view_context()
        elif collection == "findings" and alive(self, self.noms_label, self.record_label):
            self._show_finding()
