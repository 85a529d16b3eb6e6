"""Vertebral level labelling in the slice views: the Levels tool, its inline naming box, and the state it
shares with the level overlay, the axial corner text and the spine map.

`LevelLabelState` (one per window) knows which labels belong on a volume (its series, or another series in
the same frame of reference -- :func:`imaging.spine.labelling.labels_for_series`), holds the bodies found by
"Detect vertebrae" until the reader names one, and what the mouse hovers or drags. Every edit goes through
the window's `CaseController` (undoable, named: "Add level label T5", "Move level label T5", "Rename level
label T5 to T6", "Delete level label T5", "Detect and label vertebrae").

`LevelTool` (Shift+L), on a sagittal or coronal view:

* the first click on a body opens a small naming box beside it, prefilled with a guess (type e.g. ``T5``,
  Enter; Esc cancels);
* each further click labels the next free level up or down -- up when the click is cranial (higher
  patient S) of the previous label, down when caudal; T13 / L6 only once the reader has named them;
* a click on a label (its marker or tag) selects it: drag moves it, F2 or a double click renames it,
  Delete removes it, Esc deselects;
* after "Detect vertebrae" the detected bodies show as unnamed markers: click one and name it, and every
  detected body is named from it in one undo step.

Research software, not a diagnostic device.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPainter, QPen
from PySide6.QtWidgets import QLineEdit, QMenu, QWidget

from imaging.case.model import VertebralLabel
from imaging.spine.detect import VertebraCandidate, label_vertebrae
from imaging.spine.labelling import (
    guess_level,
    label_centres,
    labels_for_series,
    next_level,
    plan_detected_labels,
    variants_in_use,
)
from imaging.spine.levels import VARIANT_LEVELS, normalize_level
from widgets.case_controller import CaseController
from widgets.tools import Tool, ViewEvent

if TYPE_CHECKING:  # pragma: no cover
    from imaging.volume import Volume
    from widgets.overlays import OverlayContext
    from widgets.slice_view import SliceView

_log = logging.getLogger(__name__)

LABELLING_ORIENTATIONS = ("sagittal", "coronal")
HIT_PX = 9.0  # widget pixels around a marker that count as a click on it
TAG_RANGE_MM = 40.0  # labels within this distance of a sagittal/coronal plane are drawn (and clickable) on it
ON_BODY_MM = 12.0  # ... and drawn as a solid marker within this distance (the plane cuts the body)
DRAG_START_PX = 3.0
Notify = Callable[[str, str], None]


def series_uid_of(volume: Volume | None) -> str | None:
    """The volume's SeriesInstanceUID, or None (no volume, or a series without one)."""
    if volume is None:
        return None
    return volume.metadata.series_instance_uid or None


class LevelLabelState(QObject):
    """What the Levels tool, the level overlay, the axial corner text and the spine map share."""

    changed = Signal()  # hover, drag preview, candidates, pending point: views repaint

    def __init__(self, controller: CaseController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        #: SeriesInstanceUID -> FrameOfReferenceUID of another series (labels of series in the same frame
        #: of reference share LPS coordinates). The feature module sets it; default: the case's series refs.
        self.frame_of: Callable[[str], str | None] = self._frame_from_case
        self.hover_id = ""
        self.hover_candidate: int | None = None
        self.naming_candidate: int | None = None  # the detected body whose name is being typed
        self.preview: dict[str, np.ndarray] = {}  # label id -> centre while dragging
        self.pending: tuple[np.ndarray, str | None] | None = None  # a point being named, its series
        self.hit_rects: dict[int, list[tuple[QRectF, str, object]]] = {}  # id(view) -> (rect, kind, key)
        self._candidates: dict[str, list[VertebraCandidate]] = {}

    def _frame_from_case(self, series_uid: str) -> str | None:
        ref = self.controller.case.series_ref(series_uid)
        return ref.frame_of_reference_uid if ref is not None else None

    # -- labels ---------------------------------------------------------------------------------------
    def labels_for(self, volume: Volume | None) -> list[VertebralLabel]:
        """The case's vertebral labels that belong on ``volume``'s images (all of them without a volume)."""
        labels = self.controller.case.vertebral_labels
        if volume is None:
            return list(labels)
        return labels_for_series(labels, series_uid_of(volume), volume.metadata.frame_of_reference_uid or None,
                                 self.frame_of)

    def label(self, label_id: str) -> VertebralLabel | None:
        return next((lab for lab in self.controller.case.vertebral_labels if lab.id == label_id), None)

    def selected_label(self) -> VertebralLabel | None:
        return self.label(self.controller.selected_id) if self.controller.selected_id else None

    # -- detected candidates --------------------------------------------------------------------------
    def candidates_for(self, volume: Volume | None) -> list[VertebraCandidate]:
        uid = series_uid_of(volume)
        return list(self._candidates.get(uid or "", [])) if volume is not None else []

    def set_candidates(self, volume: Volume, candidates: list[VertebraCandidate]) -> None:
        self._candidates[series_uid_of(volume) or ""] = list(candidates)
        self.hover_candidate = None
        self.changed.emit()

    def clear_candidates(self, volume: Volume | None = None) -> None:
        if volume is None:
            self._candidates.clear()
        else:
            self._candidates.pop(series_uid_of(volume) or "", None)
        self.hover_candidate = None
        self.changed.emit()

    def name_candidates(self, volume: Volume, index: int, label: str) -> list[str]:
        """Name every detected body of ``volume`` from ``candidates[index]`` being ``label`` and store them
        as one undo step "Detect and label vertebrae" (source "detected"). Returns the sentences about the
        reader's manual labels that were kept (conflicts). Raises ValueError (nothing changed) when the
        name cannot be right (the walk passes C1 or the coccyx) or the case is read-only."""
        candidates = self.candidates_for(volume)
        if not candidates:
            raise ValueError("no detected vertebrae to name on this series: run Spine > Detect Vertebrae first")
        name = normalize_level(label)
        existing = [lab for lab in self.labels_for(volume) if lab.series_instance_uid == series_uid_of(volume)]
        variants = variants_in_use(existing) | ({name} & set(VARIANT_LEVELS))
        names = label_vertebrae(candidates, index, name, variants)
        plan = plan_detected_labels(names, [c.center_lps for c in candidates], existing)
        ctl = self.controller
        if ctl.read_only:
            raise ValueError("this case is open read-only; no changes can be made")
        new = [VertebralLabel(label=level, centre=centre, series_instance_uid=series_uid_of(volume),
                              source="detected", reader=ctl.reader) for level, centre in plan.add]
        with ctl.macro("Detect and label vertebrae"):  # validated above: the step is complete or not made
            for label_id in plan.remove:
                ctl.remove(label_id, text="Delete detected level label")
            for lab in new:
                ctl.add(lab)
        self.clear_candidates(volume)
        return plan.conflicts

    # -- painting helpers -----------------------------------------------------------------------------
    def centre_of(self, lab: VertebralLabel) -> np.ndarray:
        """A label's centre as drawn (its drag preview while it is being moved)."""
        return self.preview.get(lab.id, np.asarray(lab.centre, dtype=np.float64))

    def hit(self, view: SliceView, pos: QPointF) -> tuple[str, object] | None:
        """What the overlay drew under ``pos`` on ``view``: ("label", id) or ("candidate", index)."""
        best: tuple[float, str, object] | None = None
        for rect, kind, key in self.hit_rects.get(id(view), []):
            if rect.contains(pos):
                d = (rect.center().x() - pos.x()) ** 2 + (rect.center().y() - pos.y()) ** 2
                if best is None or d < best[0]:
                    best = (d, kind, key)
        return None if best is None else (best[1], best[2])


class LevelNameEditor(QLineEdit):
    """The small naming box shown beside a body: Enter accepts (``accepted(text)``), Esc cancels."""

    accepted = Signal(str)
    cancelled = Signal()

    STYLE = ("QLineEdit { background: #15191e; color: #f2f5f8; border: 1px solid %s; border-radius: 3px;"
             " padding: 1px 4px; font-weight: bold; }")

    def __init__(self, parent: QWidget, text: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("LevelNameEditor")
        self.setText(text)
        self.selectAll()
        self.setPlaceholderText("e.g. T5")
        self.setToolTip("Vertebral level (C1-C7, T1-T12, L1-L5, S1-S5, Co, or the variants T13, L6): "
                        "Enter to accept, Esc to cancel")
        self.setFixedWidth(86)
        self.set_error("")

    def set_error(self, message: str) -> None:
        self.setStyleSheet(self.STYLE % ("#e05a5a" if message else "#78d6ff"))
        if message:
            self.setToolTip(message)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            self.accepted.emit(self.text())
            event.accept()
        elif event.key() == Qt.Key_Escape:
            self.cancelled.emit()
            event.accept()
        else:
            super().keyPressEvent(event)


class LevelTool(Tool):
    """Label vertebral bodies by clicking them (see the module docstring)."""

    name = "levels"
    label = "Levels"
    shortcut = "Shift+L"
    tooltip = ("Levels: click vertebral bodies on a sagittal or coronal view; name the first, the next "
               "clicks label the levels above or below. Click a label to select, drag to move, F2 to "
               "rename, Delete to remove (Shift+L)")
    cursor = Qt.CrossCursor

    def __init__(self, state: LevelLabelState, notify: Notify | None = None) -> None:
        self.state = state
        self.notify: Notify = notify or (lambda text, level: _log.info("%s: %s", level, text))
        self.editor: LevelNameEditor | None = None
        self._edit: dict[str, object] = {}
        self._drag: dict[str, object] | None = None
        self._last_id = ""

    @property
    def controller(self) -> CaseController:
        return self.state.controller

    # -- tool life --------------------------------------------------------------------------------------
    def deactivate(self) -> None:
        self.close_editor()
        self._cancel_drag()
        self.state.hover_id, self.state.hover_candidate = "", None

    # -- mouse -----------------------------------------------------------------------------------------
    def mouse_press(self, e: ViewEvent) -> bool:
        if e.button != Qt.LeftButton or e.volume is None:
            return False
        hit = self.hit(e.view, e.pos)
        if self.editor is not None:  # a click elsewhere abandons the name being typed
            self.close_editor()
            if hit is not None and hit[0] == "candidate":  # ... or asks for another detected body's name
                self._ask_candidate(e.view, int(hit[1]))  # type: ignore[arg-type]
            return True
        if hit is not None and hit[0] == "label":
            lab = self.state.label(str(hit[1]))
            if lab is not None:
                self.controller.select(lab.id)
                self._drag = {"id": lab.id, "press": e.lps.copy(), "centre": np.asarray(lab.centre, float),
                              "pos": QPointF(e.pos), "moved": False}
                return True
        if hit is not None and hit[0] == "candidate":
            self._ask_candidate(e.view, int(hit[1]))  # type: ignore[arg-type]
            return True
        if e.view.orientation() not in LABELLING_ORIENTATIONS:
            self.notify("Place level labels on a sagittal or coronal view; the axial view shows the level of "
                        "its slice in the corner.", "info")
            return True
        self.controller.select("")
        self._place(e)
        return True

    def mouse_move(self, e: ViewEvent) -> bool:
        d = self._drag
        if d is None:
            return False
        press_pos: QPointF = d["pos"]  # type: ignore[assignment]
        if not d["moved"] and (e.pos - press_pos).manhattanLength() < DRAG_START_PX:
            return True
        d["moved"] = True
        self.state.preview[str(d["id"])] = d["centre"] + (e.lps - d["press"])  # type: ignore[operator]
        self.state.changed.emit()
        return True

    def mouse_release(self, e: ViewEvent) -> bool:
        d, self._drag = self._drag, None
        if d is None:
            return e.button == Qt.LeftButton
        label_id = str(d["id"])
        new = self.state.preview.pop(label_id, None)
        if d["moved"] and new is not None:
            lab = self.state.label(label_id)
            if lab is not None:
                self._edit_case(lambda: self.controller.update(
                    label_id, text=f"Move level label {lab.label}", centre=tuple(float(v) for v in new)))
        self.state.changed.emit()
        return True

    def mouse_double_click(self, e: ViewEvent) -> bool:
        hit = self.hit(e.view, e.pos)
        if hit is not None and hit[0] == "label":
            self._ask_rename(e.view, str(hit[1]))
            return True
        return False

    def hover(self, e: ViewEvent) -> bool:
        hit = self.hit(e.view, e.pos)
        hover_id = str(hit[1]) if hit is not None and hit[0] == "label" else ""
        hover_candidate = int(hit[1]) if hit is not None and hit[0] == "candidate" else None  # type: ignore[arg-type]
        e.view.setCursor(Qt.PointingHandCursor if hit is not None else self.cursor)
        if (hover_id, hover_candidate) != (self.state.hover_id, self.state.hover_candidate):
            self.state.hover_id, self.state.hover_candidate = hover_id, hover_candidate
            self.state.changed.emit()
        return False

    # -- keys ------------------------------------------------------------------------------------------
    def key_press(self, view: SliceView, event: QKeyEvent) -> bool:
        key = event.key()
        mods = event.modifiers() & ~Qt.KeypadModifier
        if mods not in (Qt.NoModifier, Qt.ShiftModifier):
            return False
        selected = self.state.selected_label()
        if key == Qt.Key_Escape:
            if self.editor is not None:
                self.close_editor()
            elif self._drag is not None:
                self._cancel_drag()
            elif selected is not None:
                self.controller.select("")
            elif self.state.candidates_for(view.volume()):
                self.state.clear_candidates(view.volume())
                self.notify("Detected vertebrae dismissed.", "info")
            else:
                return False
            return True
        if key in (Qt.Key_Delete, Qt.Key_Backspace) and selected is not None:
            self._edit_case(lambda: self.controller.remove(selected.id, text=f"Delete level label {selected.label}"))
            return True
        if key == Qt.Key_F2 and selected is not None:
            self._ask_rename(view, selected.id)
            return True
        return False

    def context_menu(self, e: ViewEvent, menu: QMenu) -> None:
        hit = self.hit(e.view, e.pos)
        if hit is None or hit[0] != "label":
            return
        lab = self.state.label(str(hit[1]))
        if lab is None:
            return
        view = e.view
        menu.addAction(f"Rename Level Label {lab.label}\u2026  (F2)", lambda: self._ask_rename(view, lab.id))
        menu.addAction(f"Delete Level Label {lab.label}  (Delete)", lambda: self._edit_case(
            lambda: self.controller.remove(lab.id, text=f"Delete level label {lab.label}")))
        menu.addSeparator()

    # -- painting --------------------------------------------------------------------------------------
    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        pending = self.state.pending
        if pending is None or ctx.volume is None or pending[1] != series_uid_of(ctx.volume):
            return
        p, dist = ctx.lps_to_widget(pending[0])
        if abs(dist) > ctx.geometry.thickness:
            return
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setBrush(Qt.NoBrush)
        for pen in (QPen(Qt.black, 4), QPen(Qt.white, 1.6, Qt.DashLine)):
            painter.setPen(pen)
            painter.drawEllipse(p, 6.0, 6.0)

    # -- hit testing -----------------------------------------------------------------------------------
    def hit(self, view: SliceView, pos: QPointF) -> tuple[str, object] | None:
        """What is under ``pos`` on ``view``: ("label", id) or ("candidate", index) -- a marker within
        :data:`HIT_PX`, else a tag the overlay drew there -- or None."""
        volume, g = view.volume(), view.plane_geometry()
        if volume is None or g is None:
            return None
        best: tuple[float, str, object] | None = None
        if view.orientation() in LABELLING_ORIENTATIONS:
            points: list[tuple[str, object, np.ndarray]] = [
                ("label", lab.id, self.state.centre_of(lab)) for lab in self.state.labels_for(volume)]
            points += [("candidate", i, np.asarray(c.center_lps, float))
                       for i, c in enumerate(self.state.candidates_for(volume))]
            for kind, key, lps in points:
                x, y, dist = g.from_lps(lps)
                if abs(dist) > TAG_RANGE_MM:
                    continue
                w = view.display_to_widget((x, y))
                d = float(np.hypot(w.x() - pos.x(), w.y() - pos.y()))
                if d <= HIT_PX and (best is None or d < best[0]):
                    best = (d, kind, key)
        if best is not None:
            return best[1], best[2]
        return self.state.hit(view, pos)

    # -- labelling -------------------------------------------------------------------------------------
    def _place(self, e: ViewEvent) -> None:
        """A click on an unlabelled spot: the next level after the previous label, or ask for the first."""
        volume = e.volume
        labels = self.state.labels_for(volume)
        if not labels:
            md = volume.metadata
            guess = guess_level(e.lps, (), (md.series_description, md.study_description, md.body_part_examined,
                                            md.protocol_name))
            self._ask_new(e.view, e.lps, guess)
            return
        previous = self.state.label(self._last_id)
        if previous is None or previous not in labels:
            previous = min(labels, key=lambda lab: abs(lab.centre[2] - float(e.lps[2])))
        names, _ = label_centres(labels)
        level = next_level(previous.label, previous.centre, e.lps, taken=names, variants=variants_in_use(labels))
        if level is None:
            where = "above C1" if float(e.lps[2]) > previous.centre[2] else "below the coccyx"
            self.notify(f"No level is left {where}: check the labels (rename one with F2).", "warning")
            return
        self._add_label(volume, level, e.lps)

    def _add_label(self, volume: Volume, level: str, lps: np.ndarray) -> bool:
        lab = VertebralLabel(label=level, centre=tuple(float(v) for v in lps),
                             series_instance_uid=series_uid_of(volume), source="manual", reader=self.controller.reader)
        if not self._edit_case(lambda: self.controller.add(lab)):
            return False
        self._last_id = lab.id
        self.controller.select(lab.id)
        return True

    def _edit_case(self, edit: Callable[[], object]) -> bool:
        """Run a case edit; a refused edit (read-only case, invalid value) is a message and changes nothing."""
        try:
            edit()
        except (ValueError, KeyError) as exc:
            self.notify(f"Level label not changed: {exc}", "warning")
            return False
        return True

    # -- the naming box ----------------------------------------------------------------------------------
    def _open_editor(self, view: SliceView, at: QPointF, text: str, purpose: dict[str, object]) -> None:
        self.close_editor()
        ed = LevelNameEditor(view, text)
        x = min(max(at.x() + 12, 2), view.width() - ed.width() - 2)
        y = min(max(at.y() - ed.sizeHint().height() / 2, 2), view.height() - ed.sizeHint().height() - 2)
        ed.move(int(x), int(y))
        ed.accepted.connect(self._on_name)
        ed.cancelled.connect(self.close_editor)
        ed.show()
        ed.setFocus(Qt.OtherFocusReason)
        ed.selectAll()  # typing replaces the guess
        self.editor = ed
        self._edit = {"view": view, **purpose}

    def close_editor(self) -> None:
        ed, self.editor = self.editor, None
        view = self._edit.get("view")
        self._edit = {}
        if self.state.pending is not None or self.state.naming_candidate is not None:
            self.state.pending = None
            self.state.naming_candidate = None
            self.state.changed.emit()
        if ed is not None:
            ed.hide()
            ed.deleteLater()
            if view is not None:
                view.setFocus(Qt.OtherFocusReason)  # type: ignore[attr-defined]

    def _ask_new(self, view: SliceView, lps: np.ndarray, guess: str) -> None:
        self._open_editor(view, view.lps_to_widget(lps) or QPointF(), guess, {"purpose": "new", "lps": lps.copy()})
        self.state.pending = (np.asarray(lps, float).copy(), series_uid_of(view.volume()))
        self.state.changed.emit()

    def _ask_rename(self, view: SliceView, label_id: str) -> None:
        lab = self.state.label(label_id)
        if lab is None:
            return
        self.controller.select(label_id)
        at = view.lps_to_widget(np.asarray(lab.centre, float)) or QPointF()
        self._open_editor(view, at, lab.label, {"purpose": "rename", "id": label_id})

    def _ask_candidate(self, view: SliceView, index: int) -> None:
        """Open the naming box on detected body ``index`` (after "Detect vertebrae")."""
        volume = view.volume()
        candidates = self.state.candidates_for(volume)
        if not 0 <= index < len(candidates):
            return
        centre = np.asarray(candidates[index].center_lps, float)
        md = volume.metadata
        labels = self.state.labels_for(volume)
        guess = _candidate_guess(candidates, index) or guess_level(
            centre, labels, (md.series_description, md.study_description, md.body_part_examined))
        at = view.lps_to_widget(centre) or QPointF()
        self._open_editor(view, at, guess, {"purpose": "candidate", "index": index})
        self.state.naming_candidate = index
        self.state.changed.emit()

    def ask_candidate(self, view: SliceView, index: int) -> None:
        """Public: prompt for the name of detected body ``index`` on ``view`` (the feature calls it after
        detection)."""
        self._ask_candidate(view, index)

    def _on_name(self, text: str) -> None:
        ed = self.editor
        purpose = self._edit.get("purpose")
        view: SliceView | None = self._edit.get("view")  # type: ignore[assignment]
        if ed is None or view is None:
            return
        try:
            name = normalize_level(text)
        except ValueError as exc:
            ed.set_error(str(exc))
            self.notify(str(exc), "warning")
            return
        volume = view.volume()
        labels = self.state.labels_for(volume)
        if purpose == "new":
            if any(lab.label == name for lab in labels):
                self._refuse(ed, f"{name} is already labelled on this series: click it to select it, F2 renames it.")
                return
            lps = self._edit["lps"]
            self.close_editor()
            self._add_label(volume, name, lps)  # type: ignore[arg-type]
        elif purpose == "rename":
            label_id = str(self._edit["id"])
            lab = self.state.label(label_id)
            if lab is None or lab.label == name:
                self.close_editor()
                return
            if any(other.label == name and other.id != label_id for other in labels):
                self._refuse(ed, f"{name} is already labelled on this series: rename or delete that label first.")
                return
            old = lab.label
            self.close_editor()
            self._edit_case(lambda: self.controller.update(label_id, text=f"Rename level label {old} to {name}",
                                                           label=name))
            self._last_id = label_id
        elif purpose == "candidate":
            index = int(self._edit["index"])  # type: ignore[arg-type]
            try:
                conflicts = self.state.name_candidates(volume, index, name)
            except ValueError as exc:
                self._refuse(ed, f"Cannot name the detected vertebrae so: {exc}")
                return
            self.close_editor()
            labels = self.state.labels_for(volume)
            names, _ = label_centres(labels)
            span = f"{names[0]}\u2013{names[-1]}" if names else ""
            text = f"Labelled {span} from the detected vertebral bodies; check each label."
            if conflicts:
                text += " Kept your own labels: " + "; ".join(conflicts) + "."
            self.notify(text, "warning" if conflicts else "info")

    def _refuse(self, ed: LevelNameEditor, message: str) -> None:
        ed.set_error(message)
        self.notify(message, "warning")

    def _cancel_drag(self) -> None:
        if self._drag is not None:
            self.state.preview.pop(str(self._drag["id"]), None)
            self._drag = None
            self.state.changed.emit()


def _candidate_guess(candidates: list[VertebraCandidate], index: int) -> str | None:
    """A certain name when the detector recognised the atlas or the axis: walk from it."""
    from imaging.spine.levels import level_below

    for i, c in enumerate(candidates):
        if c.kind in ("atlas", "axis"):
            level: str | None = "C1" if c.kind == "atlas" else "C2"
            for _ in range(index - i if index >= i else 0):
                level = level_below(level) if level else None
            if index >= i and level is not None:
                return level
    return None
