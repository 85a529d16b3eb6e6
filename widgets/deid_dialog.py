"""The Export de-identified dialog: input and output folders, profile, key file; progress and Cancel while
it runs; then what was written, refused and skipped, and the free-text replacements to review.

A thin view: it emits :attr:`DeidentifyDialog.startRequested` with the chosen :class:`DeidRequest` and
:attr:`cancelRequested`; whoever runs the job (``app/feature_deid.py``) calls :meth:`set_progress`,
:meth:`show_result`, :meth:`show_error` or :meth:`show_cancelled`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imaging.deid.folder import DeidResult

PROFILES: tuple[tuple[str, str], ...] = (
    ("retain-longitudinal", "Shift dates (one shift per patient; intervals kept)"),
    ("retain-dates", "Keep dates"),
    ("basic", "Remove dates (Basic Profile)"),
)


@dataclass(frozen=True)
class DeidRequest:
    """What the reader asked for."""

    source: Path
    output: Path
    profile: str
    key_file: Path | None
    keep_burned_in: bool


class DeidentifyDialog(QDialog):
    startRequested = Signal(object)  # DeidRequest
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None, *, source: str = "", default_key: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("deid_dialog")
        self.setWindowTitle("Export de-identified")
        self.running = False
        form = QFormLayout()
        self.source_edit = QLineEdit(source)
        self.source_edit.setObjectName("deid_source")
        self.output_edit = QLineEdit(str(Path(source).parent / (Path(source).name + "-deidentified"))
                                     if source else "")
        self.output_edit.setObjectName("deid_output")
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("deid_key")
        self.key_edit.setPlaceholderText(default_key or "the default key")
        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName("deid_profile")
        for value, text in PROFILES:
            self.profile_combo.addItem(text, value)
        self.burned_in_box = QCheckBox("Also write images flagged as carrying burned-in annotation")
        self.burned_in_box.setObjectName("deid_keep_burned_in")
        form.addRow("Folder to de-identify", self._with_browse(self.source_edit, "folder"))
        form.addRow("New output folder", self._with_browse(self.output_edit, "folder"))
        form.addRow("Dates", self.profile_combo)
        form.addRow("Key file", self._with_browse(self.key_edit, "file"))
        form.addRow("", self.burned_in_box)
        note = QLabel("DICOM PS3.15 Basic Application Level Confidentiality Profile with Clean Descriptors: names, "
                      "IDs and UIDs are replaced by pseudonyms from the key (the same patient gets the same "
                      "pseudonym with the same key); the key never leaves this computer.")
        note.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("deid_progress")
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setObjectName("deid_status")
        self.status.setWordWrap(True)
        self.review = QTableWidget(0, 5)
        self.review.setObjectName("deid_review")
        self.review.setHorizontalHeaderLabels(["Count", "Kind", "Found", "Replaced by", "First place"])
        self.review.horizontalHeader().setSectionResizeMode(4, QHeaderView.Stretch)
        self.review.setEditTriggers(QTableWidget.NoEditTriggers)
        self.review.verticalHeader().setVisible(False)
        self.review.setMinimumHeight(160)
        self.review.setVisible(False)
        self.details = QPlainTextEdit()
        self.details.setObjectName("deid_details")
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        self.details.setMaximumHeight(110)
        self.start_button = QPushButton("De-identify")
        self.start_button.setObjectName("deid_start")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("deid_cancel")
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("deid_close")
        self.start_button.clicked.connect(self._start)
        self.cancel_button.clicked.connect(self._cancel)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.review, 1)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        self._update_buttons()
        self.resize(860, 620)

    def _with_browse(self, edit: QLineEdit, kind: str) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        button = QPushButton("Browse\u2026")
        button.setObjectName(f"{edit.objectName()}_browse")

        def browse() -> None:
            if kind == "folder":
                chosen = QFileDialog.getExistingDirectory(self, "Choose a folder", edit.text())
            else:
                chosen = QFileDialog.getSaveFileName(self, "Key file", edit.text(),
                                                     options=QFileDialog.DontConfirmOverwrite)[0]
            if chosen:
                edit.setText(chosen)

        button.clicked.connect(browse)
        row.addWidget(button)
        return box

    # -- state --------------------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        self.start_button.setEnabled(not self.running)
        self.cancel_button.setEnabled(self.running)
        self.close_button.setEnabled(not self.running)
        for w in (self.source_edit, self.output_edit, self.key_edit, self.profile_combo, self.burned_in_box):
            w.setEnabled(not self.running)

    def request(self) -> DeidRequest | None:
        src, out = self.source_edit.text().strip(), self.output_edit.text().strip()
        if not src or not out:
            self.status.setText("Choose the folder to de-identify and a new output folder.")
            return None
        key = self.key_edit.text().strip()
        return DeidRequest(Path(src), Path(out), str(self.profile_combo.currentData()),
                           Path(key) if key else None, self.burned_in_box.isChecked())

    def _start(self) -> None:
        req = self.request()
        if req is None:
            return
        self.running = True
        self.review.setVisible(False)
        self.details.setVisible(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status.setText("De-identifying\u2026")
        self._update_buttons()
        self.startRequested.emit(req)

    def _cancel(self) -> None:
        if self.running:
            self.status.setText("Cancelling\u2026")
            self.cancelRequested.emit()

    def reject(self) -> None:  # Esc and the title bar's close cancel a run first
        if self.running:
            self._cancel()
            return
        super().reject()

    # -- fed by the runner --------------------------------------------------------------------------------
    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _finish(self, text: str) -> None:
        self.running = False
        self.progress.setVisible(False)
        self.status.setText(text)
        self._update_buttons()

    def show_error(self, message: str) -> None:
        self._finish(f"Not written: {message}")

    def show_cancelled(self) -> None:
        self._finish("Cancelled: nothing was written.")

    def show_result(self, result: DeidResult) -> None:
        n_review = len(result.review)
        self._finish(f"Wrote {len(result.written)} files to {result.out}; the log is {result.log_path.name}. "
                     f"{len(result.refused)} refused, {len(result.skipped)} skipped. "
                     + (f"{n_review} free-text replacement(s) to review below." if n_review else
                        "No free text needed replacing."))
        groups: Counter[tuple[str, str, str]] = Counter()
        first: dict[tuple[str, str, str], str] = {}
        for r in result.review:
            k = (r.kind, r.found, r.replacement)
            groups[k] += 1
            first.setdefault(k, r.location)
        self.review.setRowCount(len(groups))
        for row, (k, n) in enumerate(groups.most_common()):
            for col, text in enumerate((str(n), k[0], k[1], k[2], first[k])):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.review.setItem(row, col, item)
        self.review.resizeColumnsToContents()
        self.review.setVisible(bool(groups))
        lines = [f"refused {rel}: {why}" for rel, why in result.refused]
        lines += [f"skipped {rel}: {why}" for rel, why in result.skipped]
        lines += [f"note: {n}" for n in sorted(set(result.notes))]
        self.details.setPlainText("\n".join(lines))
        self.details.setVisible(bool(lines))
