"""The report data form: what the source (a published case report or the clinical record) says about a case.

``ReportDataForm`` edits a :class:`~imaging.case.model.Patient` and a :class:`~imaging.case.model.ReportData`:
patient id, name, sex and age; the citation, DOI and URL; clinical presentation, histology, tumour grade and
primary site; the levels, Bilsky grade and lesion dimensions as reported; treatments; outcome and
follow-up; free text. It never edits the case itself: ``set_values(patient, report)`` fills it and
``values()`` returns new, validated models (``ValueError`` with a plain message when a field is invalid).

``ReportDataDialog`` shows the form with OK / Cancel and emits ``valuesAccepted(patient, report)`` when OK is
pressed and the values are valid (the app turns that into one undoable "Edit report data"). In read-only
mode every field is read-only, OK is disabled and the dialog says why.
"""

from __future__ import annotations

import re

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imaging.case.model import BILSKY_GRADES, Patient, ReportData, ReportedDimension, Treatment
from imaging.spine.bilsky import BILSKY_GRADE_INFO
from widgets.deliberate_input import ChoiceComboBox, ChoiceDoubleSpinBox

__all__ = ["ReportDataDialog", "ReportDataForm", "format_dimensions", "parse_dimension_list"]

SEX_CHOICES: tuple[tuple[str | None, str], ...] = ((None, "not given"), ("F", "female (F)"), ("M", "male (M)"),
                                                   ("O", "other (O)"))
AGE_NOT_GIVEN = -1.0


def format_dimensions(values: list[float]) -> str:
    """``[17.0, 9.0]`` -> ``"17 x 9"`` (mm, shortest form)."""
    return " x ".join(f"{v:g}" for v in values)


def parse_dimension_list(text: str) -> list[float]:
    """``"17 x 9"``, ``"17 × 9 × 4.5"``, ``"17, 9"`` or ``""`` -> up to three non-negative numbers in mm.
    A decimal comma is accepted when the numbers are separated by x or ×. Raises ValueError otherwise."""
    t = text.strip().lower().removesuffix("mm").strip()
    if not t:
        return []
    if re.search(r"[x×*]", t):
        parts = [p.strip().replace(",", ".") for p in re.split(r"[x×*]", t)]
    else:
        parts = [p.strip() for p in re.split(r"[,;\s]+", t)]
    try:
        values = [float(p) for p in parts if p]
    except ValueError:
        raise ValueError(f"'{text}' is not a list of numbers in mm (write e.g. 17 x 9)") from None
    if not values or len(values) > 3:
        raise ValueError(f"'{text}': give one to three diameters in mm (e.g. 17 x 9)")
    if any(v < 0 or v != v or v in (float("inf"),) for v in values):
        raise ValueError(f"'{text}': diameters must be non-negative numbers")
    return values


def _plain(parent: QWidget, name: str, lines: int = 3) -> QPlainTextEdit:
    w = QPlainTextEdit(parent)
    w.setObjectName(name)
    w.setTabChangesFocus(True)
    w.setFixedHeight(w.fontMetrics().lineSpacing() * lines + 14)
    return w


def _line(parent: QWidget, name: str, placeholder: str = "") -> QLineEdit:
    w = QLineEdit(parent)
    w.setObjectName(name)
    w.setPlaceholderText(placeholder)
    return w


class _RowTable(QWidget):
    """A small editable table with Add / Remove buttons (reported dimensions, treatments)."""

    def __init__(self, name: str, headers: list[str], stretch: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(headers), self)
        self.table.setObjectName(name)
        self.table.setHorizontalHeaderLabels(headers)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.AllEditTriggers)
        self.table.setWordWrap(True)
        self.table.setMinimumHeight(96)
        self.table.setMaximumHeight(190)
        hh = self.table.horizontalHeader()
        for i in range(len(headers)):
            hh.setSectionResizeMode(i, QHeaderView.Stretch if i == stretch else QHeaderView.ResizeToContents)
        # rows as tall as their wrapped text, once the columns have their widths
        hh.sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        self.add_button = QPushButton("Add", self)
        self.add_button.setObjectName(f"{name}_add")
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setObjectName(f"{name}_remove")
        self.add_button.clicked.connect(lambda: self.add_row([""] * len(headers), edit=True))
        self.remove_button.clicked.connect(self.remove_selected)
        box = QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.table, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        box.addLayout(buttons)

    def rows(self) -> list[list[str]]:
        out = []
        for r in range(self.table.rowCount()):
            cells = [(self.table.item(r, c).text() if self.table.item(r, c) else "").strip()
                     for c in range(self.table.columnCount())]
            if any(cells):
                out.append(cells)
        return out

    def set_rows(self, rows: list[list[str]]) -> None:
        self.table.setRowCount(0)
        for row in rows:
            self.add_row(row)

    def add_row(self, cells: list[str], edit: bool = False) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, text in enumerate(cells):
            self.table.setItem(r, c, QTableWidgetItem(text))
        if edit:
            self.table.setCurrentCell(r, 0)
            self.table.editItem(self.table.item(r, 0))

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()} or
                      ({self.table.currentRow()} if self.table.currentRow() >= 0 else set()), reverse=True)
        for r in rows:
            self.table.removeRow(r)

    def set_read_only(self, on: bool) -> None:
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers if on else QAbstractItemView.AllEditTriggers)
        self.add_button.setEnabled(not on)
        self.remove_button.setEnabled(not on)


class ReportDataForm(QWidget):
    """The fields of the patient and the report data (see the module docstring)."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReportDataForm")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)

        patient = QGroupBox("Patient", self)
        pf = QFormLayout(patient)
        self.patient_id = _line(patient, "patient_id", "pseudonymous id")
        self.patient_name = _line(patient, "patient_name")
        self.patient_sex = ChoiceComboBox(patient)
        self.patient_sex.setObjectName("patient_sex")
        for code, text in SEX_CHOICES:
            self.patient_sex.addItem(text, code)
        self.patient_age = ChoiceDoubleSpinBox(patient)
        self.patient_age.setObjectName("patient_age")
        self.patient_age.setRange(AGE_NOT_GIVEN, 150.0)
        self.patient_age.setDecimals(1)
        self.patient_age.setSpecialValueText("not given")
        self.patient_age.setSuffix(" years")
        self.patient_age.setValue(AGE_NOT_GIVEN)
        pf.addRow("Patient ID", self.patient_id)
        pf.addRow("Name", self.patient_name)
        pf.addRow("Sex", self.patient_sex)
        pf.addRow("Age", self.patient_age)
        outer.addWidget(patient)

        source = QGroupBox("Source", self)
        sf = QFormLayout(source)
        self.citation = _plain(source, "citation", 3)
        self.doi = _line(source, "doi", "e.g. 10.1155/2018/1708572")
        self.url = _line(source, "url", "https://")
        sf.addRow("Citation", self.citation)
        sf.addRow("DOI", self.doi)
        sf.addRow("URL", self.url)
        outer.addWidget(source)

        clinical = QGroupBox("Clinical and pathology", self)
        cf = QFormLayout(clinical)
        self.clinical_presentation = _plain(clinical, "clinical_presentation", 3)
        self.histology = _line(clinical, "histology")
        self.tumour_grade = _line(clinical, "tumour_grade", "histological grade as reported")
        self.primary_site = _line(clinical, "primary_site")
        cf.addRow("Presentation", self.clinical_presentation)
        cf.addRow("Histology", self.histology)
        cf.addRow("Tumour grade", self.tumour_grade)
        cf.addRow("Primary site", self.primary_site)
        outer.addWidget(clinical)

        spine = QGroupBox("Spine, as reported", self)
        spf = QFormLayout(spine)
        self.levels_reported = _line(spine, "levels_reported", "e.g. T5-T6")
        self.bilsky_reported = ChoiceComboBox(spine)
        self.bilsky_reported.setObjectName("bilsky_reported")
        self.bilsky_reported.addItem("not reported", None)
        for g in BILSKY_GRADES:
            self.bilsky_reported.addItem(f"{g} \u2014 {BILSKY_GRADE_INFO[g].short_name}", g)
        self.dimensions = _RowTable("reported_dimensions", ["Lesion", "Diameters (mm)", "As written"], 0, spine)
        spf.addRow("Levels", self.levels_reported)
        spf.addRow("Bilsky grade", self.bilsky_reported)
        spf.addRow("Dimensions", self.dimensions)
        outer.addWidget(spine)

        course = QGroupBox("Treatment and outcome", self)
        tf = QFormLayout(course)
        self.treatments = _RowTable("treatments", ["Kind", "Description", "Timing"], 1, course)
        self.outcome = _plain(course, "outcome", 2)
        self.follow_up = _plain(course, "follow_up", 2)
        tf.addRow("Treatments", self.treatments)
        tf.addRow("Outcome", self.outcome)
        tf.addRow("Follow-up", self.follow_up)
        outer.addWidget(course)

        text = QGroupBox("Report / impression (free text)", self)
        xf = QVBoxLayout(text)
        self.report_text = _plain(text, "report_text", 5)
        xf.addWidget(self.report_text)
        outer.addWidget(text)
        outer.addStretch(1)
        self._align_labels([pf, sf, cf, spf, tf])

        for w in self._line_edits():
            w.textEdited.connect(self.edited)
        for w in self._plain_edits():
            w.textChanged.connect(self.edited)
        self.patient_sex.currentIndexChanged.connect(self.edited)
        self.bilsky_reported.currentIndexChanged.connect(self.edited)
        self.patient_age.valueChanged.connect(self.edited)
        self.dimensions.table.itemChanged.connect(self.edited)
        self.treatments.table.itemChanged.connect(self.edited)

    @staticmethod
    def _align_labels(forms: list[QFormLayout]) -> None:
        """One label column width for every group, so the fields line up."""
        labels = [f.itemAt(i, QFormLayout.LabelRole).widget() for f in forms for i in range(f.rowCount())
                  if f.itemAt(i, QFormLayout.LabelRole) is not None]
        width = max((w.sizeHint().width() for w in labels if w is not None), default=0)
        for w in labels:
            if w is not None:
                w.setMinimumWidth(width)

    def _line_edits(self) -> list[QLineEdit]:
        return [self.patient_id, self.patient_name, self.doi, self.url, self.histology, self.tumour_grade,
                self.primary_site, self.levels_reported]

    def _plain_edits(self) -> list[QPlainTextEdit]:
        return [self.citation, self.clinical_presentation, self.outcome, self.follow_up, self.report_text]

    # -- values -----------------------------------------------------------------------------------------
    def set_values(self, patient: Patient, report: ReportData) -> None:
        self.blockSignals(True)
        try:
            self.patient_id.setText(patient.id)
            self.patient_name.setText(patient.name or "")
            self.patient_sex.setCurrentIndex(max(0, self.patient_sex.findData(patient.sex)))
            self.patient_age.setValue(patient.age_years if patient.age_years is not None else AGE_NOT_GIVEN)
            self.citation.setPlainText(report.citation)
            self.doi.setText(report.doi or "")
            self.url.setText(report.url or "")
            self.clinical_presentation.setPlainText(report.clinical_presentation)
            self.histology.setText(report.histology)
            self.tumour_grade.setText(report.tumour_grade)
            self.primary_site.setText(report.primary_site)
            self.levels_reported.setText(report.levels_reported)
            self.bilsky_reported.setCurrentIndex(max(0, self.bilsky_reported.findData(report.bilsky_reported)))
            self.dimensions.set_rows([[d.label, format_dimensions(d.dimensions_mm), d.text]
                                      for d in report.reported_dimensions])
            self.treatments.set_rows([[t.kind, t.description, t.timing] for t in report.treatments])
            self.outcome.setPlainText(report.outcome)
            self.follow_up.setPlainText(report.follow_up)
            self.report_text.setPlainText(report.report_text)
        finally:
            self.blockSignals(False)

    def values(self) -> tuple[Patient, ReportData]:
        """New validated models from the fields; ValueError with a plain message when a field is invalid."""
        dims = []
        for i, (label, numbers, text) in enumerate(self.dimensions.rows(), start=1):
            try:
                mm = parse_dimension_list(numbers)
            except ValueError as exc:
                raise ValueError(f"Reported dimensions, row {i}: {exc}") from None
            dims.append({"label": label, "dimensions_mm": mm, "text": text})
        treatments = [{"kind": k, "description": d, "timing": t} for k, d, t in self.treatments.rows()]
        age = self.patient_age.value()
        try:
            patient = Patient(id=self.patient_id.text().strip(), name=self.patient_name.text().strip() or None,
                              sex=self.patient_sex.currentData(), age_years=None if age <= AGE_NOT_GIVEN else age)
            report = ReportData(
                citation=self.citation.toPlainText().strip(), doi=self.doi.text().strip() or None,
                url=self.url.text().strip() or None,
                clinical_presentation=self.clinical_presentation.toPlainText().strip(),
                histology=self.histology.text().strip(), tumour_grade=self.tumour_grade.text().strip(),
                primary_site=self.primary_site.text().strip(), levels_reported=self.levels_reported.text().strip(),
                bilsky_reported=self.bilsky_reported.currentData(),
                reported_dimensions=[ReportedDimension(**d) for d in dims],
                treatments=[Treatment(**t) for t in treatments],
                outcome=self.outcome.toPlainText().strip(), follow_up=self.follow_up.toPlainText().strip(),
                report_text=self.report_text.toPlainText().strip())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"{where}: {first['msg']}") from None
        return patient, report

    def set_read_only(self, on: bool) -> None:
        for w in self._line_edits():
            w.setReadOnly(on)
        for w in self._plain_edits():
            w.setReadOnly(on)
        for w in (self.patient_sex, self.bilsky_reported, self.patient_age):
            w.setEnabled(not on)
        self.dimensions.set_read_only(on)
        self.treatments.set_read_only(on)


class ReportDataDialog(QDialog):
    """The form with OK / Cancel (see the module docstring)."""

    valuesAccepted = Signal(object, object)  # Patient, ReportData

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReportDataDialog")
        self.setWindowTitle("Report Data")
        self.form = ReportDataForm()
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(self.form)
        self.notice = QLabel("", self)
        self.notice.setObjectName("ReportDataNotice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        self.ok_button = self.buttons.button(QDialogButtonBox.Ok)
        self.ok_button.setObjectName("ReportDataOk")
        self.buttons.accepted.connect(self._try_accept)
        self.buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(scroll, 1)
        box.addWidget(self.notice)
        box.addWidget(self.buttons)
        self.resize(720, 860)

    def set_values(self, patient: Patient, report: ReportData) -> None:
        self.form.set_values(patient, report)

    def set_read_only(self, on: bool, reason: str = "") -> None:
        self.form.set_read_only(on)
        self.ok_button.setEnabled(not on)
        if on:
            self._notice("This case is open read-only" + (f" ({reason})" if reason else "")
                         + ": the report data cannot be changed.", "#f0c75e")
        else:
            self.notice.setVisible(False)

    def _notice(self, text: str, colour: str) -> None:
        self.notice.setText(text)
        self.notice.setStyleSheet(f"color: {colour};")
        self.notice.setVisible(True)

    def _try_accept(self) -> None:
        try:
            patient, report = self.form.values()
        except ValueError as exc:
            self._notice(f"Not saved: {exc}", "#f08a84")
            return
        self.valuesAccepted.emit(patient, report)
        self.accept()

    def keyPressEvent(self, event) -> None:  # noqa: ANN001 - Enter in a line edit must not close the dialog
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and not (event.modifiers() & Qt.ControlModifier):
            event.accept()
            return
        super().keyPressEvent(event)
