"""PACS in the app: File > Open from PACS (search, retrieve into the local cache and open, the study's stored
annotations, reader agreement) and File > Send to PACS (the case's DICOM exports).

Everything that touches the network runs in background jobs (:class:`app.loading.Job`), so the window stays
responsive; the dialog (:class:`widgets.pacs_dialog.PacsDialog`) only asks and shows. A secret the server
needs is asked in the GUI thread before a job starts (once per session; see
:mod:`imaging.pacs.credentials`). The first image series to arrive opens in the viewer; the study's other
series join the series browser as they arrive, without taking the views away from what is being read.
Opening an SR's annotations into the case goes through :func:`open_sr_in_case` (the SR import).
"""

from __future__ import annotations

import importlib
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

from app.loading import Job
from imaging.pacs import (
    PacsError,
    ServerConfig,
    ServerStore,
    StudyCache,
    open_client,
    pull_study,
    session_credentials,
)
from imaging.pacs.annotations import SrSummary, fetch_study_annotations, grades_by_study
from imaging.pacs.pull import PullResult, SeriesPull
from imaging.pacs.records import SeriesRecord, StudyQuery
from widgets.pacs_dialog import IMAGE_MODALITIES_LAST, PacsDialog, ReaderAgreementDialog

if TYPE_CHECKING:  # pragma: no cover
    from app.main_window import MainWindow

_log = logging.getLogger(__name__)

__all__ = ["DICOM_EXPORT_KINDS", "SR_IMPORT_MISSING", "PacsFeature", "install", "open_sr_in_case"]

# The case's exports that go to the PACS (File > Send to PACS), by their key in the export registry.
DICOM_EXPORT_KINDS = ("sr", "seg", "kos")
SR_IMPORT_MISSING = "SR import is not available yet: the SR is in the local cache at {path}."


def open_sr_in_case(window: MainWindow, summary: SrSummary) -> bool:
    """Open an SR's annotations into the window's case: the one place the PACS dialog hands an SR to the SR
    import. Uses ``imaging.case.sr_import.import_sr_into_case(window.case, path)`` when that exists; until
    then says so (the SR stays in the cache). Returns True when imported."""
    try:
        module = importlib.import_module("imaging.case.sr_import")
        importer: Callable[..., Any] = module.import_sr_into_case
    except (ModuleNotFoundError, AttributeError):
        window.show_message(SR_IMPORT_MISSING.format(path=summary.path), "warning")
        return False
    try:
        importer(window.case, summary.path)
    except Exception as exc:  # noqa: BLE001 - a bad SR is a message, never a crash
        _log.exception("SR import failed")
        window.show_message(f"The SR could not be opened into the case: {exc}", "error")
        return False
    return True


class _Relay(QObject):
    """Carries a finished series from the worker thread to the GUI thread (a queued signal)."""

    seriesDone = Signal(object)


def _series_order(s: SeriesRecord) -> tuple[bool, int, str]:
    """Image series first (they open in the viewer), by series number."""
    return (s.modality.upper() in IMAGE_MODALITIES_LAST, s.series_number or 0, s.description)


class PacsFeature(QObject):
    """See the module docstring."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.credentials = session_credentials()
        if self.credentials.prompt is None:
            self.credentials.prompt = self._ask_secret
        self.dialog: PacsDialog | None = None
        self.agreement_dialog: ReaderAgreementDialog | None = None
        self.job: Job | None = None
        self.last_pull: PullResult | None = None
        self._opened_first = False
        self._relay = _Relay(self)
        self._relay.seriesDone.connect(self._on_series_done)
        self.act_open = QAction("Open from &PACS\u2026", window)
        self.act_open.setObjectName("pacs_open")
        self.act_open.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.act_open.setStatusTip("Search a PACS, retrieve a study into the local cache and open it")
        self.act_open.triggered.connect(lambda _=False: self.open_dialog())
        self.act_send = QAction("Send to PA&CS\u2026", window)
        self.act_send.setObjectName("pacs_send")
        self.act_send.setStatusTip("Store the case's DICOM exports (SR) on a PACS")
        self.act_send.triggered.connect(lambda _=False: self.send_to_pacs())
        menu = window.file_menu
        actions = menu.actions()
        after_open = next((i for i, a in enumerate(actions) if a is window.act_open_files), None)
        before = actions[after_open + 1] if after_open is not None and after_open + 1 < len(actions) else None
        if before is not None:
            menu.insertAction(before, self.act_open)
        else:
            menu.addAction(self.act_open)
        menu.insertAction(window.act_quit, self.act_send)
        menu.insertSeparator(window.act_quit)

    # -- servers and secrets -------------------------------------------------------------------------------
    def servers(self) -> list[ServerConfig]:
        try:
            return ServerStore().load()
        except PacsError as exc:
            self.window.show_message(str(exc), "error")
            return []

    def _server(self, name: str) -> ServerConfig | None:
        try:
            server = ServerStore().get(name)
            self.credentials.secret(server)  # asked here, in the GUI thread, never from a job
            return server
        except PacsError as exc:
            self._say(str(exc), "error")
            return None

    def _ask_secret(self, server: ServerConfig) -> str | None:
        app = QApplication.instance()
        if app is None or QThread.currentThread() is not app.thread():
            return None  # never a dialog from a worker thread
        what = "password" if server.auth == "basic" else "token"
        who = f" for {server.username}" if server.username else ""
        text, ok = QInputDialog.getText(self.dialog or self.window, f"{server.name}: {what}",
                                        f"The {what}{who} on {server.name} (kept for this session only):",
                                        QLineEdit.EchoMode.Password)
        return text if ok and text else None

    def _say(self, text: str, level: str = "info") -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.set_idle(text, level)
        else:
            self.window.show_message(text, level)

    # -- the dialog ----------------------------------------------------------------------------------------
    def open_dialog(self) -> PacsDialog:
        if self.dialog is None:
            d = PacsDialog(self.window)
            d.searchRequested.connect(self.search)
            d.seriesRequested.connect(self.list_series)
            d.retrieveRequested.connect(self.retrieve)
            d.annotationsRequested.connect(self.list_annotations)
            d.agreementRequested.connect(self.compare_readers)
            d.openAnnotationRequested.connect(lambda s: open_sr_in_case(self.window, s))
            d.cancelRequested.connect(self.cancel)
            self.dialog = d
        names = [s.name for s in self.servers()]
        self.dialog.set_servers(names, str(self.window.settings.value("pacs/server", "") or "") or None)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        return self.dialog

    def _start(self, label: str, fn: Callable[[Callable[[int, int], None], Callable[[], bool]], Any],
               on_done: Callable[[Any], None], *, busy: bool = True) -> Job:
        """Run ``fn`` in a background job; errors end in the dialog's status line."""
        job = Job(fn, label)
        job.finished.connect(on_done)
        d = self.dialog
        if busy and d is not None:
            d.set_busy(label + "\u2026")
            job.progress.connect(d.set_progress)
            job.failed.connect(lambda msg: d.set_idle(msg, "error"))
            job.cancelled.connect(lambda: d.set_idle(f"{label}: cancelled.", "warning"))
            self.job = job
            self.window.start_job(job)
        else:
            job.failed.connect(lambda msg: self._say(msg, "error"))
            self.window.jobs.start(job)  # quiet: no progress bar for a short listing
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def search(self, server_name: str, query: StudyQuery) -> Job | None:
        server = self._server(server_name)
        if server is None:
            return None
        self.window.settings.set_value("pacs/server", server_name)
        d = self.dialog
        return self._start(f"Searching {server.name}", lambda _p, _c: open_client(server).find_studies(query),
                           lambda studies: d.show_studies(studies) if d is not None else None)

    def list_series(self, server_name: str, study_uid: str) -> Job | None:
        server = self._server(server_name)
        if server is None:
            return None
        d = self.dialog
        return self._start("Listing series", lambda _p, _c: open_client(server).find_series(study_uid),
                           lambda series: d.show_series(study_uid, series) if d is not None else None, busy=False)

    def list_annotations(self, server_name: str, study_uid: str) -> Job | None:
        server = self._server(server_name)
        if server is None:
            return None
        d = self.dialog

        def fetch(_p: object, cancel: Callable[[], bool]) -> tuple[list[SrSummary], list[str]]:
            return fetch_study_annotations(open_client(server), StudyCache(), study_uid, cancel)

        return self._start("Listing annotations", fetch,
                           lambda r: d.show_annotations(study_uid, r[0], r[1]) if d is not None else None, busy=False)

    def retrieve(self, server_name: str, study_uid: str, series_uids: list[str]) -> Job | None:
        """Pull the study (or the series named) into the cache; the first image series opens as soon as it
        is there, the others join the series browser."""
        server = self._server(server_name)
        if server is None:
            return None
        self._opened_first = False
        self.last_pull = None
        relay = self._relay

        def pull(progress: Callable[[int, int], None], cancel: Callable[[], bool]) -> PullResult:
            return pull_study(open_client(server), StudyCache(), study_uid, series_uids or None, progress=progress,
                              cancel=cancel, on_series=relay.seriesDone.emit, order=_series_order)

        return self._start(f"Retrieving from {server.name}", pull, self._on_pulled)

    def _on_series_done(self, outcome: SeriesPull) -> None:
        if outcome.folder is None or outcome.series.modality.upper() in IMAGE_MODALITIES_LAST:
            return
        self.window.open_paths([str(outcome.folder)], show=not self._opened_first)
        self._opened_first = True

    def _on_pulled(self, result: PullResult) -> None:
        self.last_pull = result
        got = [s for s in result.series if s.status != "failed"]
        text = (f"{len(got)} series in the local cache ({sum(s.manifest.count for s in got if s.manifest)} "
                f"images), study folder {result.study_dir}.")
        if result.failed:
            lines = "; ".join(f"{s.series.modality} {s.series.description}: {s.error}" for s in result.failed)
            self._say(f"{len(result.failed)} series did not arrive whole and are not shown: {lines} {text}", "error")
        else:
            self._say(text)

    def compare_readers(self, server_name: str, study_uids: list[str]) -> Job | None:
        server = self._server(server_name)
        if server is None:
            return None

        def work(progress: Callable[[int, int], None], cancel: Callable[[], bool]) -> tuple[Any, int, list[str]]:
            from imaging.spine.agreement import reader_agreement

            client, cache = open_client(server), StudyCache()
            summaries: list[SrSummary] = []
            problems: list[str] = []
            for i, uid in enumerate(study_uids):
                progress(i, len(study_uids))
                found, trouble = fetch_study_annotations(client, cache, uid, cancel)
                summaries += found
                problems += trouble
            try:
                return reader_agreement(grades_by_study(summaries)), len(summaries), problems
            except ValueError as exc:
                return str(exc), len(summaries), problems

        return self._start("Comparing readers", work, self._show_agreement)

    def _show_agreement(self, answer: tuple[Any, int, list[str]]) -> None:
        result, n_srs, problems = answer
        note = f"{n_srs} SR(s) read" + (f"; {len(problems)} problem(s): {problems[0]}" if problems else "")
        if isinstance(result, str):
            self._say(f"No agreement to compute: {result} ({note}).", "warning")
            return
        self._say(note + ".")
        self.agreement_dialog = ReaderAgreementDialog(result, note, self.dialog or self.window)
        self.agreement_dialog.show()

    # -- Send to PACS --------------------------------------------------------------------------------------
    def send_to_pacs(self, server_name: str | None = None) -> Job | None:
        """Export the case's DICOM results (SR; SEG and key objects where the case exports them) and store
        them on a PACS chosen by the reader."""
        from imaging.pacs.push import push_files, read_push_file

        names = [s.name for s in self.servers()]
        if not names:
            self.window.show_message("No PACS server yet: add one with spinecase pacs add NAME --url URL", "error")
            return None
        if server_name is None:
            current = self.window.settings.value("pacs/server", "") or names[0]
            server_name, ok = QInputDialog.getItem(self.window, "Send to PACS", "Store the case's DICOM exports on:",
                                                   names, names.index(current) if current in names else 0, False)
            if not ok:
                return None
        server = self._server(server_name)
        case_feature = getattr(self.window, "case_feature", None)
        if server is None or case_feature is None:
            if case_feature is None:
                self.window.show_message("Send to PACS needs the case feature.", "error")
            return None
        from app.exports import export_specs

        folder = Path(tempfile.mkdtemp(prefix="spinecase-send-"))
        kinds = [e.key for e in export_specs() if e.key in DICOM_EXPORT_KINDS]
        files = [out for kind in kinds if (out := case_feature.export(kind, folder / f"{kind}.dcm")) is not None]
        if not files:
            shutil.rmtree(folder, ignore_errors=True)
            return None  # the export said why
        try:
            items = [read_push_file(f) for f in files]
        except PacsError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            self.window.show_message(str(exc), "error")
            return None

        def done(result: Any) -> None:
            stored = [i for i in items if i.sop_uid in result.stored]
            if result.ok:
                self.window.show_message(
                    f"Sent to {server.name}: " + ", ".join(f"{i.kind} (study {i.study_uid})" for i in stored), "info")
            else:
                self.window.show_message(f"Not everything reached {server.name}: "
                                         + "; ".join(f"{k}: {v}" for k, v in result.failed.items()), "error")

        job = Job(lambda _p, _c: push_files(open_client(server), items), f"Sending to {server.name}")
        job.finished.connect(done)
        job.failed.connect(lambda msg: self.window.show_message(f"Not sent: {msg}", "error"))
        job.done.connect(lambda: shutil.rmtree(folder, ignore_errors=True))
        return self.window.start_job(job)


def install(window: MainWindow) -> PacsFeature:
    feature = PacsFeature(window)
    window.pacs_feature = feature  # type: ignore[attr-defined]  # the feature handle tests and scripts use
    return feature
