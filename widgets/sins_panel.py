"""The SINS calculator (Spinal Instability Neoplastic Score) for the current finding.

Fisher CG, DiPaola CP, Ryken TC, et al. A novel classification system for spinal instability in neoplastic
disease: an evidence-based approach and expert consensus from the Spine Oncology Study Group.
Spine 2010;35(22):E1221-E1229.

Six components with their published wording and points: location (from the finding's levels — junctional
3, mobile 2, semirigid 1, rigid 0 — unless the reader overrides it), pain (mechanical 3, occasional
non-mechanical 1, pain-free 0), bone lesion (lytic 2, mixed 1, blastic 0), radiographic spinal alignment
(subluxation/translation 4, de novo deformity 2, normal 0), vertebral body collapse (> 50% 3, < 50% 2, no
collapse with > 50% of the body involved 1, none 0), posterolateral involvement (bilateral 3, unilateral 1,
none 0). The total (0-18) and the category (0-6 stable, 7-12 potentially unstable (indeterminate), 13-18
unstable) update live; they are computed (``Finding.sins_score``), never stored.

Each answer is one undo entry ("Set SINS pain", "Set SINS location", "Use SINS location from levels", ...)
updating ``Finding.sins`` through the controller.

API::

    panel = SinsPanel(controller, focus)
    panel.choice_button("pain", "MECHANICAL")   # the radio button of an answer ("location" for location;
                                                # "FROM_LEVELS" is the location taken from the levels)
    panel.total_label, panel.category_label
    panel.messageRequested(text, level)

Research software, not a diagnostic device.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from imaging.case.findings import SINS_FIELDS, sins_missing
from imaging.case.model import SinsAssessment
from imaging.spine import SinsCategory, SinsLocation, sins_location_points
from widgets.case_controller import CaseController
from widgets.deliberate_input import ActionButton, ChoiceRadioButton
from widgets.findings_panel import ERROR_STYLE, HINT_STYLE, PANEL_STYLE, FindingFocus, FindingSelector, alive

__all__ = ["FROM_LEVELS", "SinsPanel"]

FROM_LEVELS = "FROM_LEVELS"
"""The location answer meaning "from the finding's levels" (no override)."""
CATEGORY_COLORS = {SinsCategory.STABLE: "#7fbf8f", SinsCategory.POTENTIALLY_UNSTABLE: "#e8b04a",
                   SinsCategory.UNSTABLE: "#ef6b62"}


def _choice_text(wording: str, points: int) -> str:
    """Points first (a narrow dock may cut the end of a long wording; the tooltip has it whole)."""
    return f"{points}   {wording}"


class SinsPanel(QWidget):
    """The calculator (see the module docstring)."""

    messageRequested = Signal(str, str)
    newFindingRequested = Signal()

    def __init__(self, controller: CaseController, focus: FindingFocus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SinsPanel")
        self._ctl, self._focus = controller, focus
        self._buttons: dict[str, dict[str, QRadioButton]] = {}
        self._groups: dict[str, QButtonGroup] = {}
        self._boxes: dict[str, QGroupBox] = {}
        self.setStyleSheet(PANEL_STYLE)
        self._build()
        controller.changed.connect(self._on_changed)
        controller.caseReplaced.connect(self.refresh)
        controller.readOnlyChanged.connect(self._on_signal)
        focus.currentChanged.connect(self._on_signal)
        self.refresh()

    # -- construction -------------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)
        self.selector = FindingSelector(self._ctl, self._focus)
        self.selector.newFindingRequested.connect(self.newFindingRequested.emit)
        outer.addWidget(self.selector)

        score = QFrame()
        score.setObjectName("SinsScoreBox")
        score.setStyleSheet("QFrame#SinsScoreBox { background: #1d2025; border: 1px solid #2f353c; "
                            "border-radius: 4px; }")
        sbox = QVBoxLayout(score)  # total over category: each one line
        sbox.setContentsMargins(10, 6, 10, 6)
        self.total_label = QLabel("")
        self.total_label.setObjectName("SinsTotalLabel")
        big = QFont(self.total_label.font())
        big.setPointSizeF(big.pointSizeF() * 1.7)
        big.setBold(True)
        self.total_label.setFont(big)
        sbox.addWidget(self.total_label)
        self.category_label = QLabel("")
        self.category_label.setObjectName("SinsCategoryLabel")
        # One line, never wrapped: the header keeps its height while the form is filled, so no answer moves
        # under the pointer. What is still to answer is marked on the questions themselves.
        self.category_label.setWordWrap(False)
        self.category_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        bold = QFont(self.category_label.font())
        bold.setBold(True)
        self.category_label.setFont(bold)
        sbox.addWidget(self.category_label)
        self.total_label.setText("SINS 18 / 18")  # sized with text in both lines, then filled by refresh()
        self.category_label.setText("Unstable")
        score.setFixedHeight(score.sizeHint().height())
        outer.addWidget(score)

        self.no_finding = QLabel("Select or create a finding (New) to score it.")
        self.no_finding.setWordWrap(True)
        self.no_finding.setStyleSheet(ERROR_STYLE)
        outer.addWidget(self.no_finding)

        body = QWidget()
        box = QVBoxLayout(body)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)

        # location: from the levels, or an override
        loc_box = QGroupBox("Location")
        self._boxes["location"] = loc_box
        loc_layout = QVBoxLayout(loc_box)
        loc_layout.setContentsMargins(8, 4, 8, 4)
        loc_layout.setSpacing(1)
        group = QButtonGroup(self)
        self._groups["location"] = group
        self._buttons["location"] = {}
        b = ChoiceRadioButton("From the finding's levels")
        b.setObjectName("sins_location_FROM_LEVELS")
        group.addButton(b)
        self._buttons["location"][FROM_LEVELS] = b
        loc_layout.addWidget(b)
        for member in SinsLocation:
            b = ChoiceRadioButton(_choice_text(member.wording, member.points))
            b.setObjectName(f"sins_location_{member.name}")
            b.setToolTip(f"{member.wording}: {member.points} (overrides the location given by the levels)")
            group.addButton(b)
            self._buttons["location"][member.name] = b
            loc_layout.addWidget(b)
        group.buttonClicked.connect(self._on_location_clicked)
        box.addWidget(loc_box)

        for spec in SINS_FIELDS:
            gb = QGroupBox(spec.title)
            self._boxes[spec.field] = gb
            layout = QVBoxLayout(gb)
            layout.setContentsMargins(8, 4, 8, 4)
            layout.setSpacing(1)
            group = QButtonGroup(self)
            self._groups[spec.field] = group
            self._buttons[spec.field] = {}
            for member in spec.enum:
                b = ChoiceRadioButton(_choice_text(member.wording, member.points))
                b.setObjectName(f"sins_{spec.field}_{member.name}")
                b.setToolTip(f"{member.wording}: {member.points}")
                group.addButton(b)
                self._buttons[spec.field][member.name] = b
                layout.addWidget(b)
            if spec.field == "pain":
                gb.setToolTip("Mechanical pain: pain relief with recumbency and/or pain with movement/loading "
                              "of the spine")
            if spec.field == "posterolateral":
                gb.setToolTip("Facet, pedicle or costovertebral joint fracture or replacement with tumour")
            group.buttonClicked.connect(lambda button, field=spec.field: self._on_choice_clicked(field, button))
            box.addWidget(gb)

        row = QHBoxLayout()
        self.clear_button = ActionButton("Clear SINS")
        self.clear_button.setObjectName("SinsClearButton")
        self.clear_button.clicked.connect(self.clear)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        box.addLayout(row)
        note = QLabel("Categories: 0\u20136 stable, 7\u201312 potentially unstable (indeterminate), "
                      "13\u201318 unstable.")
        note.setWordWrap(True)
        note.setStyleSheet(HINT_STYLE)
        box.addWidget(note)
        box.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(340, 700)

    # -- public API ---------------------------------------------------------------------------------------
    def choice_button(self, field: str, name: str) -> QRadioButton:
        """The radio button of one answer (``field`` "location", "pain", "bone_lesion", "alignment",
        "collapse", "posterolateral"; ``name`` the enum member's name or :data:`FROM_LEVELS`)."""
        return self._buttons[field][name]

    def clear(self) -> bool:
        """Clear every answer of the current finding (one undo entry)."""
        f = self._focus.current()
        if f is None or f.sins == SinsAssessment():
            return False
        return self._set(f.id, SinsAssessment(), "Clear SINS")

    # -- display ------------------------------------------------------------------------------------------
    def _on_changed(self, collection: str, _obj_id: str) -> None:
        if collection == "findings":
            self.refresh()

    def _on_signal(self, *_args: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        if not alive(self, self.total_label, self.category_label, self.clear_button):
            return
        f = self._focus.current()
        writable = not self._ctl.read_only
        self.no_finding.setVisible(f is None)
        sins = f.sins if f is not None else SinsAssessment()
        levels = f.level_range if f is not None else None
        # the "from levels" choice says what the levels give
        from_levels = self._buttons["location"][FROM_LEVELS]
        if levels is not None:
            loc = SinsLocation.from_points(sins_location_points(levels))
            from_levels.setText(f"{loc.points}   From levels {levels}: {loc.wording}")
            from_levels.setToolTip(f"The finding's levels {levels}: {loc.wording}, {loc.points}")
        else:
            from_levels.setText("From the finding's levels (none set)")
        chosen = {"location": sins.location_override or FROM_LEVELS}
        for spec in SINS_FIELDS:
            chosen[spec.field] = getattr(sins, spec.field)
        for field, buttons in self._buttons.items():
            group = self._groups[field]
            group.setExclusive(False)  # allows showing "no answer yet"
            for name, button in buttons.items():
                button.setChecked(f is not None and chosen[field] == name)
                button.setEnabled(f is not None and writable)
            group.setExclusive(True)
        self.clear_button.setEnabled(f is not None and writable and sins != SinsAssessment())
        missing = set(sins_missing(sins, levels is not None)) if f is not None else set()
        titles = {"location": "Location", **{spec.field: spec.title for spec in SINS_FIELDS}}
        for field, gb in self._boxes.items():
            gb.setTitle(titles[field] + ("  \u2014 to answer" if titles[field] in missing else ""))
        self._show_total()

    def _show_total(self) -> None:
        f = self._focus.current()
        if f is None:
            self.total_label.setText("SINS \u2014")
            self.category_label.setText("")
            return
        score = f.sins_score()
        if score is None:
            missing = sins_missing(f.sins, f.level_range is not None)
            partial = sum(m.points for field, m in self._answered(f.sins))
            self.total_label.setText(f"SINS {partial}+")
            self.category_label.setText(f"Incomplete: {len(missing)} of 6 still to answer")
            self.category_label.setToolTip("Still to answer: " + ", ".join(missing))
            self.category_label.setStyleSheet(HINT_STYLE)
            return
        self.total_label.setText(f"SINS {score.total} / 18")
        cat = score.category
        self.category_label.setText(f"{cat.label[0].upper()}{cat.label[1:]} ({cat.low}\u2013{cat.high})")
        self.category_label.setToolTip(self.category_label.text())
        self.category_label.setStyleSheet(f"color: {CATEGORY_COLORS[cat]};")

    def _answered(self, sins: SinsAssessment) -> list[tuple[str, object]]:
        out = []
        f = self._focus.current()
        if sins.location_override is not None:
            out.append(("location", SinsLocation[sins.location_override]))
        elif f is not None and f.level_range is not None:
            out.append(("location", SinsLocation.from_points(sins_location_points(f.level_range))))
        for spec in SINS_FIELDS:
            value = getattr(sins, spec.field)
            if value is not None:
                out.append((spec.field, spec.enum[value]))
        return out

    # -- edits --------------------------------------------------------------------------------------------
    def _name_of(self, field: str, button: QRadioButton) -> str:
        return next(n for n, b in self._buttons[field].items() if b is button)

    def _set(self, finding_id: str, sins: SinsAssessment, text: str) -> bool:
        try:
            self._ctl.update(finding_id, text=text, sins=sins)
        except (ValueError, KeyError) as exc:
            self.messageRequested.emit(f"SINS not changed: {exc}", "error")
            self.refresh()
            return False
        return True

    def _on_choice_clicked(self, field: str, button: QRadioButton) -> None:
        f = self._focus.current()
        if f is None:
            return
        name = self._name_of(field, button)
        if getattr(f.sins, field) == name:
            return
        spec = next(s for s in SINS_FIELDS if s.field == field)
        self._set(f.id, f.sins.model_copy(update={field: name}), f"Set SINS {spec.undo_name}")

    def _on_location_clicked(self, button: QRadioButton) -> None:
        f = self._focus.current()
        if f is None:
            return
        name = self._name_of("location", button)
        override = None if name == FROM_LEVELS else name
        if f.sins.location_override == override:
            return
        text = "Use SINS location from levels" if override is None else "Set SINS location"
        self._set(f.id, f.sins.model_copy(update={"location_override": override}), text)
