"""The Bilsky assistant panel: the contours on the slice shown, the grade they suggest with its reasons, and
a button to accept it.

The panel follows an axial view — the active view when it is axial, else the first axial view shown — and
the current finding (``FindingFocus``). Whenever the contours, the finding or the slice change it
rasterises the finding's outlines on that slice's pixel grid (the view's ``PlaneGeometry``, spacing ``(row
mm, column mm)``) and runs :func:`imaging.spine.suggest_bilsky_grade`
(:func:`imaging.spine.contour_masks.suggest_from_contours`): the suggested grade, its summary and its reasons
(name, value with unit, sentence) are shown live.

**It never changes the grade by itself.** "Accept suggested grade" sets the finding's final grade to the
suggestion in one undo step ("Accept suggested Bilsky grade 3"), storing the suggestion with it
(``BilskyAssessment.with_suggestion``) and where it was read (level, series, SOPInstanceUID of the acquired
axial slice, slice index, reader, time); so both the suggested and the final grade are kept for agreement
studies (``spinecase bilsky-agreement``). When the final grade differs from the suggestion the panel says so.

API::

    panel = BilskyAssistantPanel(session, views=window.views, level_provider=None)
    panel.watch(view)                 # refresh when this view's slice or plane changes
    panel.set_active_view(view)       # MainWindow.activeViewChanged
    panel.result()                    # the live SliceSuggestion (None when no axial slice has contours)
    panel.accept_suggestion()         # True when the final grade was set
    signals: toolRequested(tool name), messageRequested(text, level), showContoursRequested(contour id)

Research software, not a diagnostic device: the grade is the reader's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from imaging import measure
from imaging.case.findings import graded_assessment, grading_place
from imaging.case.model import Contour, Finding
from imaging.geometry import axis_position
from imaging.spine import BILSKY_GRADE_INFO, normalize_level
from imaging.spine.contour_masks import CONTOUR_KINDS, CONTOUR_NAMES, SliceSuggestion, suggest_from_contours
from widgets.contour_overlay import kind_color
from widgets.contour_tools import BRUSH_KEY, KIND_KEYS, ContourSession, tool_name
from widgets.deliberate_input import ActionButton, ChoiceComboBox
from widgets.slice_view import SliceView

__all__ = ["REASON_TITLES", "BilskyAssistantPanel", "unit_text"]

REASON_TITLES = {
    "tumor_area_in_canal": "Tumour in canal",
    "sac_indentation": "Sac indentation",
    "tumor_cord_gap": "Tumour\u2013cord gap",
    "cord_indentation": "Cord indentation",
    "csf_area": "CSF around cord",
}
HINT_STYLE = "color: #8f96a0;"
WARN_STYLE = ("QLabel { background: #3a2f12; border: 1px solid #8a6d1f; border-radius: 3px; padding: 4px;"
              " color: #f0d58a; }")
AGREE_STYLE = "color: #7fbf8f;"
FRAME_STYLE = ("#BilskyAssistantBox { background: #15181c; border: 1px solid #2a3038; border-radius: 5px; }"
               " #BilskySuggestionBox { background: #1a2230; border: 1px solid #2f4866; border-radius: 4px; }")
ACCEPT_STYLE = ("QPushButton#BilskyAcceptButton { background: #2d5a86; border: 1px solid #4a86c5; color: white;"
                " font-weight: bold; padding: 5px 10px; }"
                " QPushButton#BilskyAcceptButton:hover { background: #356a9c; }"
                " QPushButton#BilskyAcceptButton:disabled { background: #23272c; border: 1px solid #2f353c;"
                " color: #7d848c; font-weight: normal; }")


def unit_text(unit: str) -> str:
    """"mm2" -> "mm²" for display."""
    return unit.replace("mm2", "mm\u00b2")


def _swatch(kind: str, size: int = 12) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setPen(QColor(0, 0, 0, 200))
    p.setBrush(kind_color(kind))
    p.drawRect(0, 0, size - 1, size - 1)
    p.end()
    return pm


class BilskyAssistantPanel(QWidget):
    """See the module docstring."""

    toolRequested = Signal(str)
    messageRequested = Signal(str, str)
    showContoursRequested = Signal(str)

    def __init__(self, session: ContourSession, views: Callable[[], list[SliceView]] | None = None,
                 level_provider: Callable[[], str | None] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("BilskyAssistantPanel")
        self._session = session
        self._ctl = session.controller
        self._focus = session.focus
        self._views = views or (lambda: [])
        self._level_provider = level_provider
        self._active: SliceView | None = None
        self._watched: list[SliceView] = []
        self._view: SliceView | None = None  # the axial view the suggestion is computed on
        self._result: SliceSuggestion | None = None
        self._cache: tuple[tuple, SliceSuggestion | None] | None = None
        self._build()
        self._ctl.changed.connect(self._on_changed)
        self._ctl.caseReplaced.connect(self.refresh)
        self._ctl.readOnlyChanged.connect(self._on_refresh_signal)
        self._focus.currentChanged.connect(self._on_refresh_signal)
        session.brushChanged.connect(self._show_brush)
        self.refresh()

    # -- construction -------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.setStyleSheet(FRAME_STYLE + ACCEPT_STYLE)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        box = QFrame()
        box.setObjectName("BilskyAssistantBox")
        outer.addWidget(box)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(8, 6, 8, 8)
        lay.setSpacing(5)

        title = QLabel("Bilsky assistant")
        bold = QFont(title.font())
        bold.setBold(True)
        title.setFont(bold)
        lay.addWidget(title)
        intro = QLabel("Outline the bony canal, thecal sac, spinal cord and tumour on the axial slice of worst "
                       "compression; the grade they suggest is shown here.")
        intro.setWordWrap(True)
        intro.setStyleSheet(HINT_STYLE)
        lay.addWidget(intro)

        tools = QHBoxLayout()
        tools.setSpacing(3)
        self.tool_buttons: dict[str, QToolButton] = {}
        for kind in CONTOUR_KINDS:
            b = QToolButton()
            b.setObjectName(f"BilskyAssistTool_{kind}")
            b.setText({"canal": "Canal", "sac": "Sac", "cord": "Cord", "tumour": "Tumour"}[kind])
            b.setIcon(QIcon(_swatch(kind)))
            b.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            b.setToolTip(f"Outline the {CONTOUR_NAMES[kind]} ({KIND_KEYS[kind]})")
            b.clicked.connect(lambda _=False, k=kind: self.toolRequested.emit(tool_name(k)))
            tools.addWidget(b)
            self.tool_buttons[kind] = b
        brush = QToolButton()
        brush.setObjectName("BilskyAssistTool_brush")
        brush.setText("Brush")
        brush.setToolTip(f"Push an outline's edge out (press inside) or in (press outside) ({BRUSH_KEY}); "
                         "[ and ] change the radius")
        brush.clicked.connect(lambda: self.toolRequested.emit(tool_name("brush")))
        tools.addWidget(brush)
        self.tool_buttons["brush"] = brush
        tools.addStretch(1)
        lay.addLayout(tools)

        self.slice_label = QLabel("")
        self.slice_label.setObjectName("BilskyAssistSliceLabel")
        self.slice_label.setWordWrap(True)
        self.slice_label.setStyleSheet(HINT_STYLE)
        lay.addWidget(self.slice_label)

        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(1)
        self.contour_status: dict[str, QLabel] = {}
        self.delete_buttons: dict[str, QToolButton] = {}
        for i, kind in enumerate(CONTOUR_KINDS):
            sw = QLabel()
            sw.setPixmap(_swatch(kind))
            grid.addWidget(sw, i, 0)
            grid.addWidget(QLabel(CONTOUR_NAMES[kind].capitalize()), i, 1)
            status = QLabel("\u2014")
            status.setObjectName(f"BilskyAssistStatus_{kind}")
            grid.addWidget(status, i, 2)
            self.contour_status[kind] = status
            delete = QToolButton()
            delete.setObjectName(f"BilskyAssistDelete_{kind}")
            delete.setText("\u2715")
            delete.setAutoRaise(True)
            delete.setToolTip(f"Delete the {CONTOUR_NAMES[kind]} outline on this slice")
            delete.clicked.connect(lambda _=False, k=kind: self.delete_kind(k))
            grid.addWidget(delete, i, 3)
            self.delete_buttons[kind] = delete
        grid.setColumnStretch(2, 1)
        lay.addLayout(grid)

        brush_row = QHBoxLayout()
        brush_row.addWidget(QLabel("Brush edits:"))
        self.brush_combo = ChoiceComboBox()
        self.brush_combo.setObjectName("BilskyAssistBrushKind")
        for kind in CONTOUR_KINDS:
            self.brush_combo.addItem(QIcon(_swatch(kind)), CONTOUR_NAMES[kind], kind)
        self.brush_combo.activated.connect(
            lambda i: self._session.set_brush_kind(self.brush_combo.itemData(i)))
        brush_row.addWidget(self.brush_combo)
        self.brush_radius_label = QLabel("")
        self.brush_radius_label.setStyleSheet(HINT_STYLE)
        brush_row.addWidget(self.brush_radius_label)
        brush_row.addStretch(1)
        lay.addLayout(brush_row)

        self.goto_row = QWidget()
        goto = QHBoxLayout(self.goto_row)
        goto.setContentsMargins(0, 0, 0, 0)
        self.goto_label = QLabel("")
        self.goto_label.setWordWrap(True)
        self.goto_label.setStyleSheet(HINT_STYLE)
        goto.addWidget(self.goto_label, 1)
        self.goto_button = QPushButton("Go to contours")
        self.goto_button.setObjectName("BilskyAssistGoTo")
        self.goto_button.clicked.connect(self._go_to_contours)
        goto.addWidget(self.goto_button, 0, Qt.AlignTop)
        lay.addWidget(self.goto_row)

        sug = QFrame()
        sug.setObjectName("BilskySuggestionBox")
        sl = QVBoxLayout(sug)
        sl.setContentsMargins(8, 6, 8, 8)
        sl.setSpacing(4)
        self.grade_label = QLabel("")
        self.grade_label.setObjectName("BilskySuggestedGrade")
        big = QFont(self.grade_label.font())
        big.setBold(True)
        big.setPointSizeF(big.pointSizeF() * 1.35)
        self.grade_label.setFont(big)
        self.grade_label.setWordWrap(True)
        sl.addWidget(self.grade_label)
        self.summary_label = QLabel("")
        self.summary_label.setObjectName("BilskySuggestionSummary")
        self.summary_label.setWordWrap(True)
        sl.addWidget(self.summary_label)
        self.reasons_box = QWidget()
        grid = QGridLayout(self.reasons_box)
        grid.setContentsMargins(0, 2, 0, 2)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(0)
        grid.setColumnStretch(0, 1)
        #: one row per reason name: (name label, value label, sentence label)
        self.reason_rows: dict[str, tuple[QLabel, QLabel, QLabel]] = {}
        for i, name in enumerate(REASON_TITLES):
            title = QLabel(REASON_TITLES[name])
            title.setObjectName(f"BilskyReasonName_{name}")
            value = QLabel("")
            value.setObjectName(f"BilskyReasonValue_{name}")
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            sentence = QLabel("")
            sentence.setObjectName(f"BilskyReasonSentence_{name}")
            sentence.setWordWrap(True)
            sentence.setStyleSheet(HINT_STYLE)
            grid.addWidget(title, 2 * i, 0)
            grid.addWidget(value, 2 * i, 1)
            grid.addWidget(sentence, 2 * i + 1, 0, 1, 2)
            self.reason_rows[name] = (title, value, sentence)
        sl.addWidget(self.reasons_box)
        self.accept_button = ActionButton("Accept suggested grade")
        self.accept_button.setObjectName("BilskyAcceptButton")
        self.accept_button.setToolTip("Set the finding's final Bilsky grade to the suggestion (undoable); the "
                                      "suggestion is stored with it")
        self.accept_button.clicked.connect(self.accept_suggestion)
        sl.addWidget(self.accept_button)
        self.agreement_label = QLabel("")
        self.agreement_label.setObjectName("BilskyAgreementLabel")
        self.agreement_label.setWordWrap(True)
        sl.addWidget(self.agreement_label)
        note = QLabel("The suggestion never changes the grade by itself: the final grade is the reader's. "
                      "Research software, not a diagnostic device.")
        note.setWordWrap(True)
        note.setStyleSheet(HINT_STYLE + " font-size: 8pt;")
        sl.addWidget(note)
        self.suggestion_box = sug
        lay.addWidget(sug)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        self._show_brush()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(330, super().sizeHint().height())

    # -- views -------------------------------------------------------------------------------------------
    def watch(self, view: SliceView) -> None:
        """Refresh when ``view``'s slice or plane changes."""
        if view in self._watched:
            return
        self._watched.append(view)
        view.sliceChanged.connect(self._on_refresh_signal)
        view.planeChanged.connect(self.refresh)

    def set_active_view(self, view: SliceView | None) -> None:
        self._active = view
        if view is not None:
            self.watch(view)
        self.refresh()

    def axial_view(self) -> SliceView | None:
        """The view the suggestion is computed on: the active view when it shows an axial plane, else the
        first axial view shown."""
        candidates = ([self._active] if self._active is not None else []) + list(self._views())
        for v in candidates:
            if v is not None and v.volume() is not None and v.orientation() == "axial" and v.isVisible():
                return v
        a = self._active
        if a is not None and a.volume() is not None and a.orientation() == "axial":
            return a
        return None

    # -- state ---------------------------------------------------------------------------------------------
    def result(self) -> SliceSuggestion | None:
        """The live suggestion from the current finding's outlines on the axial slice shown (None when that
        slice has none)."""
        return self._result

    def shown_contours(self) -> list[Contour]:
        """The current finding's outlines on the axial slice the panel follows."""
        v = self._view
        return self._session.finding_contours_on(v) if v is not None else []

    def _compute(self, finding: Finding | None, view: SliceView | None) -> SliceSuggestion | None:
        if finding is None or view is None:
            return None
        contours = self._session.finding_contours_on(view, finding)
        if not contours:
            return None
        spec, g = view.plane_spec(), view.plane_geometry()
        key = (finding.id, tuple(g.origin), tuple(g.x_dir), tuple(g.y_dir), g.x_spacing, g.y_spacing, spec.height,
               spec.width, tuple((c.id, hash(tuple(c.points))) for c in contours))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        result = suggest_from_contours(contours, g, (spec.height, spec.width))
        self._cache = (key, result)
        return result

    # -- actions -------------------------------------------------------------------------------------------
    def accept_suggestion(self) -> bool:
        """Set the current finding's final grade to the live suggestion (one undo step "Accept suggested
        Bilsky grade 3"), storing the suggestion and where it was read. Returns True when the case changed;
        a refusal says why and changes nothing."""
        f = self._focus.current()
        r = self._result
        view = self._view
        if f is None or r is None or r.suggestion is None or view is None:
            self.messageRequested.emit("There is no suggestion to accept: outline the canal, sac and cord (and "
                                       "the tumour) on the axial slice of worst compression.", "warning")
            return False
        if self._ctl.read_only:
            self.messageRequested.emit("This case is open read-only: the grade cannot be changed.", "warning")
            return False
        s = r.suggestion
        place = grading_place(self._ctl.case, view.volume(), view.plane_spec(), view.slice_index(),
                              view.cursor_lps)
        level = place.level
        if self._level_provider is not None:
            typed = (self._level_provider() or "").strip()
            if typed:
                try:
                    level = normalize_level(typed)
                except ValueError:
                    self.messageRequested.emit(f"Grade not accepted: {typed!r} is not one vertebral level. Type "
                                               "the level of worst compression, e.g. T6.", "error")
                    return False
        new = graded_assessment(f.bilsky.with_suggestion(s), s.grade, level=level,
                                series_instance_uid=place.series_instance_uid,
                                sop_instance_uid=place.sop_instance_uid, instance_number=place.instance_number,
                                slice_index=place.slice_index, reader=self._ctl.reader)
        try:
            self._ctl.update(f.id, text=f"Accept suggested Bilsky grade {s.grade}", bilsky=new)
        except ValueError as exc:
            self.messageRequested.emit(f"Grade not accepted: {exc}", "error")
            return False
        if level is None:
            self.messageRequested.emit(f"Bilsky grade {s.grade} recorded without a level: label the vertebrae "
                                       "or type the level of worst compression in the Bilsky panel.", "warning")
        return True

    def delete_kind(self, kind: str) -> bool:
        """Delete the current finding's outline of ``kind`` on the slice followed (the last one drawn)."""
        found = [c for c in self.shown_contours() if c.kind == kind]
        if not found:
            return False
        return self._session.delete_contour(found[-1].id, self._view)

    def _go_to_contours(self) -> None:
        f = self._focus.current()
        if f is not None and f.contours:
            self.showContoursRequested.emit(f.contours[-1].id)

    # -- display ------------------------------------------------------------------------------------------
    def _on_refresh_signal(self, _arg: object = None) -> None:
        self.refresh()

    def _on_changed(self, collection: str, _obj_id: str) -> None:
        if collection in ("findings", "vertebral_labels", "series"):
            self.refresh()

    def _show_brush(self) -> None:
        i = self.brush_combo.findData(self._session.brush_kind)
        self.brush_combo.setCurrentIndex(max(i, 0))
        self.brush_radius_label.setText(f"radius {self._session.brush_radius:.1f} mm  ([ ])")

    def refresh(self) -> None:
        f = self._focus.current()
        view = self.axial_view()
        self._view = view
        self._result = self._compute(f, view)
        writable = not self._ctl.read_only
        for b in self.tool_buttons.values():
            b.setEnabled(writable)
        self._show_contours(f, view)
        self._show_suggestion(f)

    def _show_contours(self, f: Finding | None, view: SliceView | None) -> None:
        shown = self._session.finding_contours_on(view, f) if (f is not None and view is not None) else []
        if view is None:
            where = "No axial view: show an axial slice (the acquired axial T2 MR) to outline."
        else:
            vol, spec = view.volume(), view.plane_spec()
            desc = " ".join(x for x in (vol.modality, vol.metadata.series_description) if x)
            where = f"{desc}, axial {'' if spec.is_acquired else 'reformat '}{view.image_number_text()}"
            if not vol.pixel_spacing_known:
                where += " \u2014 no pixel spacing: contours cannot be drawn on this series"
        if f is None:
            where += "\nNo finding selected: the first outline offers to create one."
        self.slice_label.setText(where)
        for kind in CONTOUR_KINDS:
            of_kind = [c for c in shown if c.kind == kind]
            label = self.contour_status[kind]
            if of_kind:
                area = sum(measure.polygon_area(c.points) for c in of_kind)
                n = f" ({len(of_kind)} outlines)" if len(of_kind) > 1 else ""
                label.setText(f"\u2713 {area:.1f} mm\u00b2{n}")
                label.setStyleSheet("")
            else:
                label.setText("\u2014 not outlined")
                label.setStyleSheet(HINT_STYLE)
            self.delete_buttons[kind].setEnabled(bool(of_kind) and not self._ctl.read_only)
        # contours of this finding elsewhere
        elsewhere = [c for c in (f.contours if f is not None else []) if c not in shown]
        if elsewhere and not shown:
            c = elsewhere[-1]
            letter, mm = axis_position(np.mean(np.asarray(c.points, dtype=np.float64), axis=0), (0.0, 0.0, 1.0))
            slice_text = f"the axial plane at {letter} {mm:.1f} mm"
            self.goto_label.setText(f"{f.label or 'This finding'} has outlines on {slice_text} of another view "
                                    "or series.")
            self.goto_row.setVisible(True)
        else:
            self.goto_row.setVisible(False)

    def _show_suggestion(self, f: Finding | None) -> None:
        r = self._result
        s = r.suggestion if r is not None else None
        stored = f.bilsky.suggested_grade if f is not None else None
        final = f.bilsky.grade if f is not None else None
        if s is not None:
            info = BILSKY_GRADE_INFO[s.grade]
            self.grade_label.setText(f"Suggested grade {s.grade}")
            self.grade_label.setToolTip(f"Bilsky {s.grade}: {info.definition}")
            self.summary_label.setText(s.summary)
            given = {reason.name: reason for reason in s.reasons}
            for name, (title, value, sentence) in self.reason_rows.items():
                reason = given.get(name)
                for w in (title, value, sentence):
                    w.setVisible(reason is not None)
                if reason is not None:
                    value.setText(f"{reason.value:.1f} {unit_text(reason.unit)}")
                    sentence.setText(reason.sentence)
            self.reasons_box.setVisible(True)
        else:
            self.reasons_box.setVisible(False)
            if r is not None:
                self.grade_label.setText("No suggestion yet")
                self.summary_label.setText(r.problem or "")
            elif stored is not None:
                self.grade_label.setText(f"Stored suggestion: grade {stored}")
                self.summary_label.setText("Computed from this finding's outlines when they were last edited. "
                                           "Show their slice to see the reasons.")
            else:
                self.grade_label.setText("No suggestion yet")
                self.summary_label.setText("Outline the bony canal, thecal sac and spinal cord (and the tumour) "
                                           "on this slice." if self._view is not None else "")
        suggested = s.grade if s is not None else stored
        accepted = s is not None and final == s.grade and stored == s.grade
        can_accept = s is not None and f is not None and not self._ctl.read_only and not accepted
        self.accept_button.setEnabled(can_accept)
        if s is None:
            self.accept_button.setText("Accept suggested grade")
        elif accepted:
            self.accept_button.setText(f"Final grade is the suggested grade {s.grade}")
        else:
            self.accept_button.setText(f"Accept suggested grade {s.grade}")
        if f is None:
            self.agreement_label.setText("")
            self.agreement_label.setStyleSheet("")
        elif final is None:
            self.agreement_label.setText("No final grade yet: accept the suggestion or choose a grade.")
            self.agreement_label.setStyleSheet(HINT_STYLE)
        elif suggested is None:
            self.agreement_label.setText(f"Final grade {final}.")
            self.agreement_label.setStyleSheet("")
        elif final == suggested:
            self.agreement_label.setText(f"Final grade {final} agrees with the suggestion.")
            self.agreement_label.setStyleSheet(AGREE_STYLE)
        else:
            self.agreement_label.setText(f"Final grade {final} differs from the suggested grade {suggested}. "
                                         "The final grade is the reader's and is kept.")
            self.agreement_label.setStyleSheet(WARN_STYLE)
        self.agreement_label.setVisible(bool(self.agreement_label.text()))
