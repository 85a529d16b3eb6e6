"""`CaseController`: the Qt face of the `Case` model (the single source of truth for annotations).

Views never keep their own copy of a measurement, label or finding: they read ``controller.case`` and
repaint when ``changed`` fires. Every edit goes through the controller, which performs it on the model
(validated by pydantic; a refused edit raises ``ValueError`` and changes nothing) and pushes an undoable
command with a readable name onto the application's QUndoStack, so Edit > Undo/Redo and Ctrl+Z /
Ctrl+Shift+Z / Ctrl+Y work for every annotation feature alike::

    ctl.add(measurement, text="Add length")            # inverse: remove
    ctl.update(m.id, text="Move length", points=[...])   # inverse: replace with the old object
    ctl.remove(m.id, text="Delete length")              # inverse: add back at the same index
    with ctl.macro("Delete finding"):                   # several edits, one undo step
        ...

Signals:
    ``changed(collection, object_id)`` after every edit, undo and redo: collection is "measurements",
    "findings" (findings and their contours), "vertebral_labels", "series", "studies", "readers",
    "assessments" (case-level scores; object_id is the score's key), "patient" or "report"; object_id is ""
    for patient/report.
    ``caseReplaced()`` when a different case is set (open, new): views reload everything.
    ``selectionChanged(object_id)`` when the selected object changes ("" = none).
    ``readOnlyChanged(bool)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from imaging.case.analysis import patient_conflict
from imaging.case.findings import assignment_changes
from imaging.case.model import (
    Assessment,
    Case,
    Contour,
    Finding,
    FindingTimepoint,
    Measurement,
    Patient,
    Reader,
    ReportData,
    SeriesRef,
    Study,
    VertebralLabel,
)
from imaging.scores import score_spec

_SERIES_FIELDS = frozenset({"series_instance_uid", "bilsky", "contours"})
_COLLECTION = {Measurement: "measurements", Finding: "findings", Contour: "findings", FindingTimepoint: "findings",
               VertebralLabel: "vertebral_labels", SeriesRef: "series", Study: "studies", Reader: "readers"}


class ReadOnlyCaseError(ValueError):
    """An edit was attempted on a case opened read-only (e.g. locked by another instance)."""


class OtherPatientError(ValueError):
    """An annotation was attempted on a series of another patient than the case's (one case, one patient)."""


def series_uids_of(obj: Any) -> set[str]:
    """The series an object annotates: a measurement's, label's or contour's series, a finding's Bilsky
    image and contours."""
    uids = {getattr(obj, "series_instance_uid", None)}
    if isinstance(obj, Finding):
        uids.add(obj.bilsky.series_instance_uid)
        uids.update(c.series_instance_uid for c in obj.contours)
    return {u for u in uids if u}


def collection_of(obj: Any) -> str:
    """The ``changed`` collection name for a model object."""
    return _COLLECTION.get(type(obj), "case")


class _CaseCommand(QUndoCommand):
    """An edit already performed once; redo() performs it again after an undo."""

    def __init__(self, ctl: CaseController, text: str, do, undo) -> None:  # noqa: ANN001
        super().__init__(text)
        self._ctl, self._do, self._undo = ctl, do, undo
        self._done_once = True

    def redo(self) -> None:
        if self._done_once:  # QUndoStack.push calls redo(); the edit was already made (and validated)
            self._done_once = False
            return
        self._ctl._notify(*self._do())

    def undo(self) -> None:
        self._ctl._notify(*self._undo())


class CaseController(QObject):
    """Owns the current `Case`, performs edits as undoable commands, and tells views what changed."""

    changed = Signal(str, str)
    caseReplaced = Signal()
    selectionChanged = Signal(str)
    readOnlyChanged = Signal(bool)

    def __init__(self, undo_stack: QUndoStack, case: Case | None = None, reader: str = "",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = undo_stack
        self._case = case if case is not None else Case()
        self.reader = reader
        self._selected = ""
        self._read_only = False
        #: who a series' images show (set by the case feature from the loaded volumes); None: unknown
        self.patient_of_series: Callable[[str], Patient | None] = lambda _uid: None

    # -- the case ------------------------------------------------------------------------------------------
    @property
    def case(self) -> Case:
        return self._case

    def set_case(self, case: Case, read_only: bool = False) -> None:
        """Show another case (open/new). Clears undo history and selection."""
        self.undo_stack.clear()
        self._case = case
        self._selected = ""
        self.set_read_only(read_only)
        self.caseReplaced.emit()
        self.selectionChanged.emit("")

    @property
    def read_only(self) -> bool:
        return self._read_only

    def set_read_only(self, on: bool) -> None:
        if on != self._read_only:
            self._read_only = on
            self.readOnlyChanged.emit(on)

    # -- selection -----------------------------------------------------------------------------------------
    @property
    def selected_id(self) -> str:
        return self._selected

    def select(self, obj_id: str | None) -> None:
        obj_id = obj_id or ""
        if obj_id != self._selected:
            self._selected = obj_id
            self.selectionChanged.emit(obj_id)

    # -- edits ---------------------------------------------------------------------------------------------
    def add(self, obj: Any, text: str | None = None, *, parent_id: str | None = None,
            index: int | None = None) -> Any:
        """Add a measurement, finding, label, series/study reference or reader (a contour needs
        ``parent_id``, its finding). Undo removes it."""
        self._check_writable()
        adopt = self._check_patient(obj)
        if adopt is not None:
            with self.macro(text or f"Add {_name(obj)}"):
                self.set_patient(adopt, text="Patient from the images")
                return self.add(obj, text, parent_id=parent_id, index=index)
        case, who = self._case, self.reader
        case.add(obj, index=index, parent_id=parent_id, who=who)
        coll = collection_of(obj)

        def do() -> tuple[str, str]:
            case.add(obj, index=index, parent_id=parent_id, who=who)
            return coll, obj.id

        def undo() -> tuple[str, str]:
            case.remove(obj.id, who=who)
            self._deselect(obj.id)
            return coll, obj.id

        self._push(text or f"Add {_name(obj)}", do, undo, coll, obj.id)
        return obj

    def remove(self, obj_id: str, text: str | None = None) -> Any:
        """Remove an object; a finding's measurements are detached from it in the same undo step."""
        self._check_writable()
        case, who = self._case, self.reader
        obj = case.get(obj_id)
        if isinstance(obj, Finding) and case.finding_measurements(obj_id):
            with self.macro(text or f"Delete {_name(obj)}"):
                for m in case.finding_measurements(obj_id):
                    self.update(m.id, text="Detach measurement", **assignment_changes(m, None))
                return self.remove(obj_id, text)
        removed, index, parent_id = case.remove(obj_id, who=who)
        coll = collection_of(removed)
        self._deselect(obj_id)

        def do() -> tuple[str, str]:
            case.remove(obj_id, who=who)
            self._deselect(obj_id)
            return coll, obj_id

        def undo() -> tuple[str, str]:
            case.add(removed, index=index, parent_id=parent_id, who=who)
            return coll, obj_id

        self._push(text or f"Delete {_name(removed)}", do, undo, coll, obj_id)
        return removed

    def update(self, obj_id: str, text: str | None = None, **changes: Any) -> Any:
        """Set fields of an object (validated). Undo puts the old object back exactly."""
        self._check_writable()
        case, who = self._case, self.reader
        current = case.get(obj_id)
        adopt = self._check_patient(current.model_copy(update=changes)) if changes.keys() & _SERIES_FIELDS else None
        if adopt is not None:
            with self.macro(text or f"Edit {_name(current)}"):
                self.set_patient(adopt, text="Patient from the images")
                return self.update(obj_id, text, **changes)
        old = case.update(obj_id, who=who, **changes)
        new = case.get(obj_id)
        return self._push_replace(old, new, text or f"Edit {_name(old)}")

    def replace(self, new: Any, text: str | None = None) -> Any:
        """Put ``new`` in place of the object with the same id."""
        self._check_writable()
        adopt = self._check_patient(new)
        if adopt is not None:
            with self.macro(text or f"Edit {_name(new)}"):
                self.set_patient(adopt, text="Patient from the images")
                return self.replace(new, text)
        old = self._case.replace(new, who=self.reader)
        return self._push_replace(old, self._case.get(new.id), text or f"Edit {_name(old)}")

    def set_report(self, report: ReportData, text: str = "Edit report data") -> None:
        self._check_writable()
        case, who = self._case, self.reader
        old = case.set_report(report, who=who)
        new = case.report

        def do() -> tuple[str, str]:
            case.set_report(new, who=who)
            return "report", ""

        def undo() -> tuple[str, str]:
            case.set_report(old, who=who)
            return "report", ""

        self._push(text, do, undo, "report", "")

    def set_patient(self, patient: Patient, text: str = "Edit patient") -> None:
        self._check_writable()
        case, who = self._case, self.reader
        old = case.set_patient(patient, who=who)
        new = case.patient

        def do() -> tuple[str, str]:
            case.set_patient(new, who=who)
            return "patient", ""

        def undo() -> tuple[str, str]:
            case.set_patient(old, who=who)
            return "patient", ""

        self._push(text, do, undo, "patient", "")

    def set_assessment(self, score: str, new: Assessment | None, text: str | None = None) -> None:
        """Set (or with None clear) the answers of a case-level score of the registry (imaging.scores), as
        one undoable step; ``changed("assessments", score)``."""
        self._check_writable()
        case, who = self._case, self.reader
        old = case.set_assessment(score, new, who=who)
        current = case.assessment(score)

        def do() -> tuple[str, str]:
            case.set_assessment(score, current, who=who)
            return "assessments", score

        def undo() -> tuple[str, str]:
            case.set_assessment(score, old, who=who)
            return "assessments", score

        self._push(text or f"Set {score_spec(score).name}", do, undo, "assessments", score)

    @contextmanager
    def macro(self, text: str) -> Iterator[None]:
        """Group the edits made inside the ``with`` block into one undo step named ``text``."""
        self.undo_stack.beginMacro(text)
        try:
            yield
        finally:
            self.undo_stack.endMacro()

    # -- internals -----------------------------------------------------------------------------------------
    def _push_replace(self, old: Any, new: Any, text: str) -> Any:
        case, who = self._case, self.reader
        coll = collection_of(new)

        def do() -> tuple[str, str]:
            case.replace(new, who=who)
            return coll, new.id

        def undo() -> tuple[str, str]:
            case.replace(old, who=who)
            return coll, new.id

        self._push(text, do, undo, coll, new.id)
        return new

    def _push(self, text: str, do, undo, coll: str, obj_id: str) -> None:  # noqa: ANN001
        self.undo_stack.push(_CaseCommand(self, text, do, undo))
        self._notify(coll, obj_id)

    def _notify(self, coll: str, obj_id: str) -> None:
        self.changed.emit(coll, obj_id)

    def _deselect(self, obj_id: str) -> None:
        if self._selected == obj_id:
            self.select("")

    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyCaseError("this case is open read-only; no changes can be made")

    def _check_patient(self, obj: Any) -> Patient | None:
        """One case, one patient: raise :class:`OtherPatientError` when ``obj`` annotates a series of another
        patient than the case's. Returns the images' patient when the case does not say who it is yet (the
        edit then records it, in the same undo step), else None."""
        adopt: Patient | None = None
        for uid in sorted(series_uids_of(obj)):
            images = self.patient_of_series(uid)
            if images is None or not (images.id or images.name):
                continue
            known = self._case.patient if (self._case.patient.id or self._case.patient.name) else adopt
            if known is None:
                adopt = images
                continue
            problem = patient_conflict(known, images)
            if problem:
                raise OtherPatientError(problem)
        return adopt


def _name(obj: Any) -> str:
    kind = getattr(obj, "kind", None)
    label = getattr(obj, "label", None)
    base = {Measurement: str(kind).replace("_", " ") if kind else "measurement", Finding: "finding",
            Contour: f"{kind} contour" if kind else "contour", VertebralLabel: "level label"}.get(type(obj),
                                                                                              type(obj).__name__)
    return f"{base} {label}" if label and not isinstance(obj, Finding | Measurement) else (
        f"{base} '{label}'" if label else base)
