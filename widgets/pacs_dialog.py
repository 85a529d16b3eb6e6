"""File > Open from PACS: search form, studies with their series, retrieve with progress and Cancel, the
annotations (SRs) already stored for a study, and reader agreement over the selected studies.

The dialog does no networking: it asks through signals (``searchRequested``, ``seriesRequested``,
``retrieveRequested``, ``annotationsRequested``, ``agreementRequested``, ``openAnnotationRequested``,
``cancelRequested``) and shows what the application hands back (:meth:`show_studies`, :meth:`show_series`,
:meth:`show_annotations`, :meth:`set_busy`, :meth:`set_progress`, :meth:`set_idle`). The work runs in
background jobs of the application, so the window stays responsive. Non-modal: the study opens in the
main window while its other series still arrive.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imaging.pacs.annotations import SrSummary
from imaging.pacs.records import SeriesRecord, StudyQuery, StudyRecord
from imaging.spine.agreement import ReaderAgreement, format_reader_agreement

__all__ = ["PacsDialog", "ReaderAgreementDialog"]

STUDY_COLUMNS = ["Date", "Patient name", "Patient ID", "Accession", "Modalities", "Description", "Series", "Images"]
ANNOTATION_COLUMNS = ["Reader", "Date", "Time", "Bilsky grades", "Description", "From"]
_UID_ROLE = Qt.ItemDataRole.UserRole
_KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # a second role of our own
IMAGE_MODALITIES_LAST = ("SR", "KO", "SEG", "PR", "DOC")


def _date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) >= 8 and text[:8].isdigit() else text


def _time(text: str) -> str:
    return f"{text[:2]}:{text[2:4]}" if len(text) >= 4 and text[:4].isdigit() else text


def _person(pn: str) -> str:
    """``FAMILY^GIVEN`` as "FAMILY, GIVEN" for the table."""
    parts = [p for p in pn.split("=")[0].split("^") if p]
    return ", ".join(parts[:2]) + (" " + " ".join(parts[2:]) if len(parts) > 2 else "")


def _levels(levels: Sequence[str]) -> str:
    """Levels cranial to caudal as a range: ("T5", "T6") -> "T5-T6"."""
    return levels[0] if len(levels) == 1 else f"{levels[0]}-{levels[-1]}"


def _count(n: int | None) -> str:
    return "" if n is None else str(n)


class PacsDialog(QDialog):
    """See the module docstring."""

    searchRequested = Signal(str, object)          # server name, StudyQuery
    seriesRequested = Signal(str, str)             # server, StudyInstanceUID
    retrieveRequested = Signal(str, str, list)     # server, study, SeriesInstanceUIDs (empty: all)
    annotationsRequested = Signal(str, str)        # server, study
    agreementRequested = Signal(str, list)         # server, StudyInstanceUIDs
    openAnnotationRequested = Signal(object)       # SrSummary
    cancelRequested = Signal()
    progressChanged = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PacsDialog")
        self.setWindowTitle("Open from PACS")
        self.setModal(False)
        self.resize(1100, 720)
        self._studies: dict[str, StudyRecord] = {}
        self._annotations: list[SrSummary] = []
        self._annotations_for: str | None = None
        self._busy = False
        box = QVBoxLayout(self)

        # -- server and search form ------------------------------------------------------------------------
        form_box = QGroupBox("Search")
        grid = QGridLayout(form_box)
        self.server = QComboBox()
        self.server.setObjectName("PacsServer")
        self.server.setMinimumWidth(180)
        self.patient_name = QLineEdit()
        self.patient_name.setObjectName("PacsPatientName")
        self.patient_name.setPlaceholderText("DOE^J* (wildcards * and ?)")
        self.patient_id = QLineEdit()
        self.patient_id.setObjectName("PacsPatientId")
        self.modality = QComboBox()
        self.modality.setObjectName("PacsModality")
        self.modality.setEditable(True)
        self.modality.addItems(["", "CT", "MR", "SR", "PT", "CR", "DX"])
        self.dates = QLineEdit()
        self.dates.setObjectName("PacsDates")
        self.dates.setPlaceholderText("2024-01-01..2024-03-31, 20240108, 2024-01-01..")
        self.accession = QLineEdit()
        self.accession.setObjectName("PacsAccession")
        self.search_button = QPushButton("&Search")
        self.search_button.setObjectName("PacsSearch")
        self.search_button.setDefault(True)
        for row, (label, widget) in enumerate((("Server", self.server), ("Patient name", self.patient_name),
                                               ("Patient ID", self.patient_id))):
            grid.addWidget(QLabel(label), row, 0)
            grid.addWidget(widget, row, 1)
        for row, (label, widget) in enumerate((("Modality", self.modality), ("Study dates", self.dates),
                                               ("Accession", self.accession))):
            grid.addWidget(QLabel(label), row, 2)
            grid.addWidget(widget, row, 3)
        grid.addWidget(self.search_button, 2, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        box.addWidget(form_box)

        # -- studies and series; annotations -----------------------------------------------------------------
        split = QSplitter(Qt.Orientation.Vertical)
        self.results = QTreeWidget()
        self.results.setObjectName("PacsResults")
        self.results.setColumnCount(len(STUDY_COLUMNS))
        self.results.setHeaderLabels(STUDY_COLUMNS)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.results.setAlternatingRowColors(True)
        self.results.setUniformRowHeights(True)
        self.results.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.results.header().setStretchLastSection(True)
        split.addWidget(self.results)
        ann = QWidget()
        ann_box = QVBoxLayout(ann)
        ann_box.setContentsMargins(0, 0, 0, 0)
        self.annotations_label = QLabel("Annotations stored for the study (SRs): select a study")
        ann_box.addWidget(self.annotations_label)
        self.annotations = QTreeWidget()
        self.annotations.setObjectName("PacsAnnotations")
        self.annotations.setColumnCount(len(ANNOTATION_COLUMNS))
        self.annotations.setHeaderLabels(ANNOTATION_COLUMNS)
        self.annotations.setRootIsDecorated(False)
        self.annotations.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        ann_box.addWidget(self.annotations)
        split.addWidget(ann)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        box.addWidget(split, 1)

        # -- actions, progress -------------------------------------------------------------------------------
        bar = QHBoxLayout()
        self.status = QLabel("")
        self.status.setObjectName("PacsStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setObjectName("PacsProgress")
        self.progress.setFixedWidth(220)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("PacsCancel")
        self.cancel_button.setVisible(False)
        self.retrieve_button = QPushButton("&Retrieve and Open")
        self.retrieve_button.setObjectName("PacsRetrieve")
        self.retrieve_button.setToolTip("Retrieve the selected study (or the selected series) into the local cache; "
                                        "the study opens as soon as its first series has arrived")
        self.agreement_button = QPushButton("Compare &Readers\u2026")
        self.agreement_button.setObjectName("PacsAgreement")
        self.agreement_button.setToolTip("Bilsky grade agreement between the readers' SRs of the selected studies")
        self.open_annotation_button = QPushButton("Open into &Case")
        self.open_annotation_button.setObjectName("PacsOpenAnnotation")
        self.open_annotation_button.setToolTip("Open the selected SR's annotations into the case")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.open_annotation_button)
        bar.addWidget(self.agreement_button)
        bar.addWidget(self.retrieve_button)
        bar.addWidget(close)
        box.addLayout(bar)

        self.search_button.clicked.connect(self.search)
        for edit in (self.patient_name, self.patient_id, self.dates, self.accession):
            edit.returnPressed.connect(self.search)
        self.results.itemSelectionChanged.connect(self._on_selection)
        self.results.itemExpanded.connect(self._on_expanded)
        self.results.itemDoubleClicked.connect(lambda *_: self.retrieve())
        self.retrieve_button.clicked.connect(self.retrieve)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.agreement_button.clicked.connect(self._agreement)
        self.open_annotation_button.clicked.connect(self._open_annotation)
        self.annotations.itemSelectionChanged.connect(self._update_buttons)
        QShortcut(QKeySequence("Ctrl+F"), self, lambda: self.patient_name.setFocus())
        self._update_buttons()

    # -- servers -------------------------------------------------------------------------------------------
    def set_servers(self, names: Sequence[str], current: str | None = None, hint: str = "") -> None:
        self.server.clear()
        self.server.addItems(list(names))
        if current and current in names:
            self.server.setCurrentText(current)
        if not names:
            self.set_idle(hint or "No PACS server yet: add one with spinecase pacs add NAME --url URL", "error")
        self._update_buttons()

    def server_name(self) -> str:
        return self.server.currentText()

    # -- requests ------------------------------------------------------------------------------------------
    def query(self) -> StudyQuery:
        """The search form as a query (ValueError naming a bad field)."""

        def text(edit: QLineEdit | QComboBox) -> str | None:
            value = (edit.currentText() if isinstance(edit, QComboBox) else edit.text()).strip()
            return value or None

        return StudyQuery(patient_id=text(self.patient_id), patient_name=text(self.patient_name),
                          modality=text(self.modality), study_date=text(self.dates), accession=text(self.accession))

    def search(self) -> None:
        if not self.server_name() or self._busy:
            return
        try:
            query = self.query()
        except ValueError as exc:
            self.set_idle(f"Search not sent: {exc}", "error")
            return
        self.searchRequested.emit(self.server_name(), query)

    def selected_study_uids(self) -> list[str]:
        uids: list[str] = []
        for item in self.results.selectedItems():
            top = item.parent() or item
            uid = str(top.data(0, _UID_ROLE))
            if uid not in uids:
                uids.append(uid)
        return uids

    def selected_series_uids(self, study_uid: str) -> list[str]:
        return [str(i.data(0, _UID_ROLE)) for i in self.results.selectedItems()
                if (parent := i.parent()) is not None and str(parent.data(0, _UID_ROLE)) == study_uid]

    def retrieve(self) -> None:
        studies = self.selected_study_uids()
        if self._busy or len(studies) != 1:
            if len(studies) > 1:
                self.set_idle("Select one study to retrieve (or some of its series).", "warning")
            return
        self.retrieveRequested.emit(self.server_name(), studies[0], self.selected_series_uids(studies[0]))

    def _agreement(self) -> None:
        studies = self.selected_study_uids()
        if studies and not self._busy:
            self.agreementRequested.emit(self.server_name(), studies)

    def _open_annotation(self) -> None:
        items = self.annotations.selectedItems()
        if items:
            index = int(items[0].data(0, _UID_ROLE))
            self.openAnnotationRequested.emit(self._annotations[index])

    def _on_selection(self) -> None:
        self._update_buttons()
        studies = self.selected_study_uids()
        if len(studies) == 1 and not self._busy:
            item = self._study_item(studies[0])
            if item is not None and item.data(0, _KIND_ROLE) == "study-unloaded":
                item.setData(0, _KIND_ROLE, "study-loading")
                self.seriesRequested.emit(self.server_name(), studies[0])
            if studies[0] != self._annotations_for:
                self._annotations_for = studies[0]
                self.annotations.clear()
                self.annotations_label.setText("Annotations stored for the study (SRs): looking\u2026")
                self.annotationsRequested.emit(self.server_name(), studies[0])

    def _on_expanded(self, item: QTreeWidgetItem) -> None:
        if item.parent() is None and item.data(0, _KIND_ROLE) == "study-unloaded" and not self._busy:
            item.setData(0, _KIND_ROLE, "study-loading")
            self.seriesRequested.emit(self.server_name(), str(item.data(0, _UID_ROLE)))

    def _update_buttons(self) -> None:
        studies = self.selected_study_uids()
        has_server = bool(self.server_name())
        self.search_button.setEnabled(has_server and not self._busy)
        self.retrieve_button.setEnabled(has_server and not self._busy and len(studies) == 1)
        self.agreement_button.setEnabled(has_server and not self._busy and bool(studies))
        self.open_annotation_button.setEnabled(bool(self.annotations.selectedItems()))

    # -- answers -------------------------------------------------------------------------------------------
    def _study_item(self, uid: str) -> QTreeWidgetItem | None:
        for i in range(self.results.topLevelItemCount()):
            item = self.results.topLevelItem(i)
            if item is not None and item.data(0, _UID_ROLE) == uid:
                return item
        return None

    def show_studies(self, studies: Sequence[StudyRecord]) -> None:
        self.results.clear()
        self.annotations.clear()
        self._annotations_for = None
        self._studies = {s.study_uid: s for s in studies}
        for s in sorted(studies, key=lambda s: (s.study_date, s.study_time), reverse=True):
            item = QTreeWidgetItem([_date(s.study_date), _person(s.patient_name), s.patient_id, s.accession,
                                    "/".join(s.modalities), s.description, _count(s.series_count),
                                    _count(s.instance_count)])
            item.setData(0, _UID_ROLE, s.study_uid)
            item.setData(0, _KIND_ROLE, "study-unloaded")
            item.setToolTip(0, f"StudyInstanceUID {s.study_uid}")
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
            self.results.addTopLevelItem(item)
        self.set_idle(f"{len(studies)} stud{'y' if len(studies) == 1 else 'ies'} found." if studies
                      else "No study matches.")

    def show_series(self, study_uid: str, series: Sequence[SeriesRecord]) -> None:
        item = self._study_item(study_uid)
        if item is None:
            return
        item.takeChildren()
        item.setData(0, _KIND_ROLE, "study-loaded")

        def order(s: SeriesRecord) -> tuple[bool, int, str]:
            return (s.modality.upper() in IMAGE_MODALITIES_LAST, s.series_number or 0, s.description)

        for s in sorted(series, key=order):
            child = QTreeWidgetItem(["", f"Series {_count(s.series_number)}".strip(), "", "", s.modality,
                                     s.description, "", _count(s.instance_count)])
            child.setData(0, _UID_ROLE, s.series_uid)
            child.setData(0, _KIND_ROLE, "series")
            child.setToolTip(1, f"SeriesInstanceUID {s.series_uid}")
            item.addChild(child)
        item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicatorWhenChildless)
        item.setExpanded(True)

    def series_rows(self, study_uid: str) -> list[tuple[str, str, str]]:
        """(modality, description, images) of the study's series as shown (tests, screen readers)."""
        item = self._study_item(study_uid)
        if item is None:
            return []
        children = [c for i in range(item.childCount()) if (c := item.child(i)) is not None]
        return [(c.text(4), c.text(5), c.text(7)) for c in children]

    def show_annotations(self, study_uid: str, summaries: Sequence[SrSummary], problems: Sequence[str] = ()) -> None:
        if study_uid != self._annotations_for:
            return  # an answer for a study no longer selected
        self._annotations = list(summaries)
        self.annotations.clear()
        for i, s in enumerate(self._annotations):
            grades = ", ".join(f.grade + (f" at {_levels(f.levels)}" if f.levels else "") for f in s.grades) or "none"
            item = QTreeWidgetItem([s.reader or "(not named)", _date(s.date), _time(s.time), grades,
                                    s.series_description or s.title, s.manufacturer])
            item.setData(0, _UID_ROLE, i)
            item.setToolTip(3, "Final Bilsky grades in this SR (suggestions from the contour assistant not shown)")
            self.annotations.addTopLevelItem(item)
        n = len(self._annotations)
        text = (f"Annotations stored for the study: {n} SR{'s' if n != 1 else ''}" if n
                else "No annotation (SR) stored for this study.")
        if problems:
            text += f" ({len(problems)} could not be read: {problems[0]})"
        self.annotations_label.setText(text)
        self._update_buttons()

    def annotation_rows(self) -> list[list[str]]:
        items = [it for i in range(self.annotations.topLevelItemCount())
                 if (it := self.annotations.topLevelItem(i)) is not None]
        return [[it.text(c) for c in range(len(ANNOTATION_COLUMNS))] for it in items]

    # -- progress ------------------------------------------------------------------------------------------
    def set_busy(self, text: str, cancellable: bool = True) -> None:
        self._busy = True
        self.status.setStyleSheet("")
        self.status.setText(text)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(cancellable)
        self.cancel_button.setEnabled(cancellable)
        self._update_buttons()

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(f"{done}/{total} images")
        self.progressChanged.emit(done, total)

    def set_idle(self, text: str = "", level: str = "info") -> None:
        self._busy = False
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        colours = {"error": "#ff8a80", "warning": "#ffd180"}
        self.status.setStyleSheet(f"color: {colours[level]};" if level in colours else "")
        self.status.setText(text)
        self._update_buttons()

    def is_busy(self) -> bool:
        return self._busy


class ReaderAgreementDialog(QDialog):
    """The agreement report: readers, percent agreement, Cohen's/Fleiss' kappa, and each pair's confusion
    table (rows: the first reader)."""

    def __init__(self, result: ReaderAgreement, sources: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReaderAgreementDialog")
        self.setWindowTitle("Reader Agreement: Bilsky Grades")
        self.resize(760, 620)
        box = QVBoxLayout(self)
        self.report = QPlainTextEdit(format_reader_agreement(result) + (f"\n\n{sources}" if sources else ""))
        self.report.setReadOnly(True)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.report.setFont(mono)
        box.addWidget(self.report, 1)
        form = QFormLayout()
        self.tables: list[QTableWidget] = []
        for (a, b), pair in result.pairs.items():
            table = QTableWidget(len(pair.grades), len(pair.grades))
            table.setHorizontalHeaderLabels([f"{b}: {g}" if i == 0 else g for i, g in enumerate(pair.grades)])
            table.setVerticalHeaderLabels([f"{a}: {g}" if i == 0 else g for i, g in enumerate(pair.grades)])
            for i, row in enumerate(pair.confusion):
                for j, v in enumerate(row):
                    cell = QTableWidgetItem(str(v))
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    if i == j:
                        cell.setFont(QFont(cell.font().family(), -1, QFont.Weight.Bold))
                    table.setItem(i, j, cell)
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            table.setMaximumHeight(230)
            kappa = "undefined" if pair.kappa is None else f"{pair.kappa:.3f}"
            form.addRow(QLabel(f"{a} (rows) vs {b} (columns): n = {pair.n}, {pair.percent_agreement:.1f}% agree, "
                               f"Cohen's kappa {kappa}"))
            form.addRow(table)
            self.tables.append(table)
        box.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        box.addWidget(buttons)
