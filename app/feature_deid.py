"""File > Export de-identified...: de-identify the open case's folder (or any folder) for research, in a worker
thread with progress and Cancel, then show what was replaced for review (:mod:`imaging.deid`,
:mod:`widgets.deid_dialog`).

The case file on disk is what gets exported: with unsaved edits the reader is told to save first. PDF reports
are printed on the GUI thread (Qt's PDF writer), called from the worker through a blocking queued signal.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction

from app.loading import Job
from widgets.deid_dialog import DeidentifyDialog, DeidRequest

if TYPE_CHECKING:  # pragma: no cover
    from app.main_window import MainWindow

__all__ = ["DeidFeature", "install"]


class _PdfBridge(QObject):
    """Prints a PDF on the GUI thread for the worker (the worker blocks until it is written)."""

    request = Signal(str, str)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.request.connect(self._write, Qt.BlockingQueuedConnection)

    @Slot(str, str)
    def _write(self, html: str, path: str) -> None:
        from app.report_pdf import html_to_pdf

        html_to_pdf(html, path)

    def __call__(self, html: str, path: Path) -> None:
        self.request.emit(html, str(path))


class DeidFeature(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: DeidentifyDialog | None = None
        self.job: Job | None = None
        self.pdf = _PdfBridge(self)
        self.action = QAction("Export &De-identified\u2026", window)
        self.action.setObjectName("deid_export")
        self.action.setStatusTip("De-identify the case's folder (images, case file, exports) for research")
        self.action.triggered.connect(self.open_dialog)
        window.file_menu.insertAction(window.act_quit, self.action)
        window.file_menu.insertSeparator(window.act_quit)

    def _case_folder(self) -> str:
        cf = getattr(self.window, "case_feature", None)
        path = getattr(cf, "path", None)
        if path is not None:
            return str(Path(path).parent)
        return str(self.window.settings.last_directory() or "")

    def open_dialog(self) -> DeidentifyDialog:
        from imaging.deid.keys import default_key_path

        cf = getattr(self.window, "case_feature", None)
        if cf is not None and cf.path is not None and cf.is_modified():
            self.window.message_bar.show_message(
                "The case has unsaved changes: save it first (the de-identified export reads the case file on disk).",
                "warning")
        self.dialog = DeidentifyDialog(self.window, source=self._case_folder(), default_key=str(default_key_path()))
        self.dialog.startRequested.connect(self.start)
        self.dialog.cancelRequested.connect(self.cancel)
        self.dialog.show()
        return self.dialog

    def start(self, req: DeidRequest) -> Job | None:
        from imaging.deid.folder import deidentify_folder
        from imaging.deid.keys import KeyFileError, load_or_create_key
        from imaging.deid.table import Profile

        dialog = self.dialog
        assert dialog is not None
        try:
            key = load_or_create_key(req.key_file)
        except KeyFileError as exc:
            dialog.show_error(str(exc))
            return None
        profile = Profile.named(req.profile, req.keep_burned_in)

        def run(progress, cancelled):  # noqa: ANN001, ANN202 - the Job's worker signature
            return deidentify_folder(req.source, req.output, key=key, profile=profile,
                                     progress=lambda d, t, _what: progress(d, t), cancelled=cancelled,
                                     pdf_writer=self.pdf)

        job = Job(run, "De-identifying")
        job.progress.connect(dialog.set_progress)
        job.finished.connect(dialog.show_result)
        job.failed.connect(dialog.show_error)
        job.cancelled.connect(dialog.show_cancelled)
        job.finished.connect(lambda r: self.window.message_bar.show_message(
            f"De-identified export written to {r.out} ({len(r.review)} replacement(s) to review).", "info"))
        self.job = job
        self.window.start_job(job)
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()


def install(window: MainWindow) -> DeidFeature:
    feature = DeidFeature(window)
    window.deid_feature = feature  # type: ignore[attr-defined]
    return feature
