"""CaseController: every edit is undoable, undo/redo restore the model exactly, refused edits change nothing."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QUndoStack

from imaging.case.model import Case, Finding, Measurement, ReportData, VertebralLabel
from widgets.case_controller import CaseController, ReadOnlyCaseError


def _length(label: str = "") -> Measurement:
    return Measurement(kind="length", points=[(0.0, 0.0, 0.0), (3.0, 4.0, 0.0)], plane={"orientation": "axial",
                       "normal": (0.0, 0.0, 1.0)}, series_instance_uid="1.2.3", label=label, reader="r")


@pytest.fixture
def ctl(qtbot) -> CaseController:  # noqa: ARG001 - qtbot provides the QApplication
    return CaseController(QUndoStack(), Case(), reader="tester")


def _dump(case: Case) -> dict:
    d = case.model_dump(mode="json")
    d.pop("audit")
    d.pop("updated_utc")
    return d


def test_add_undo_redo_restore_exactly(ctl: CaseController) -> None:
    events: list[tuple[str, str]] = []
    ctl.changed.connect(lambda c, i: events.append((c, i)))
    before = _dump(ctl.case)
    m = ctl.add(_length("a"), "Add length")
    after = _dump(ctl.case)
    assert ctl.undo_stack.undoText() == "Add length"
    ctl.undo_stack.undo()
    assert _dump(ctl.case) == before
    ctl.undo_stack.redo()
    assert _dump(ctl.case) == after
    assert events == [("measurements", m.id)] * 3


def test_update_and_undo_move(ctl: CaseController) -> None:
    m = ctl.add(_length())
    original = ctl.case.measurement(m.id).model_dump()
    ctl.update(m.id, "Move length", points=[(0.0, 0.0, 0.0), (6.0, 8.0, 0.0)])
    assert ctl.case.measurement(m.id).values()[0].value == pytest.approx(10.0)
    ctl.undo_stack.undo()
    assert ctl.case.measurement(m.id).model_dump() == original
    ctl.undo_stack.redo()
    assert ctl.case.measurement(m.id).values()[0].value == pytest.approx(10.0)


def test_refused_edit_changes_nothing_and_pushes_nothing(ctl: CaseController) -> None:
    m = ctl.add(_length())
    before = _dump(ctl.case)
    with pytest.raises(ValueError):
        ctl.update(m.id, points=[(0.0, 0.0, 0.0)])  # a length needs two points
    assert _dump(ctl.case) == before
    assert ctl.undo_stack.count() == 1


def test_deleting_a_finding_detaches_its_measurements_in_one_step(ctl: CaseController) -> None:
    f = ctl.add(Finding(label="T6 lesion"))
    m = ctl.add(_length())
    ctl.update(m.id, finding_id=f.id)
    before = _dump(ctl.case)
    ctl.remove(f.id, "Delete finding")
    assert ctl.case.findings == [] and ctl.case.measurement(m.id).finding_id is None
    assert ctl.undo_stack.undoText() == "Delete finding"
    ctl.undo_stack.undo()
    assert _dump(ctl.case) == before


def test_macro_is_one_undo_step(ctl: CaseController) -> None:
    with ctl.macro("Label levels"):
        for i, label in enumerate(("T4", "T5", "T6")):
            ctl.add(VertebralLabel(label=label, centre=(0.0, 0.0, -20.0 * i), series_instance_uid="1.2.3"))
    assert len(ctl.case.vertebral_labels) == 3
    ctl.undo_stack.undo()
    assert ctl.case.vertebral_labels == []


def test_report_edit_is_undoable(ctl: CaseController) -> None:
    ctl.set_report(ReportData(histology="dedifferentiated liposarcoma"))
    assert ctl.case.report.histology == "dedifferentiated liposarcoma"
    ctl.undo_stack.undo()
    assert ctl.case.report.histology == ""


def test_read_only_refuses_edits(ctl: CaseController) -> None:
    ctl.set_case(Case(), read_only=True)
    with pytest.raises(ReadOnlyCaseError):
        ctl.add(_length())
    assert ctl.case.measurements == []


def test_selection_clears_when_the_object_goes(ctl: CaseController) -> None:
    m = ctl.add(_length())
    ctl.select(m.id)
    ctl.remove(m.id)
    assert ctl.selected_id == ""
