"""Background jobs: scanning and loading series in a worker thread, with progress and Cancel.

``Job(fn, label)`` runs ``fn(progress, cancel)`` in a ``QThread``; ``progress(done, total)`` may be called
from the worker (forwarded to the GUI thread as a queued signal) and ``cancel()`` returns True once
the user pressed Cancel (``imaging.load_series`` then raises ``LoadCancelled``). ``job.publish(obj)``, called
from the worker, hands a partial result to the GUI thread (``partial(obj)``; the progressive first image).
The job emits exactly one of ``finished(result)``, ``failed(message)`` or ``cancelled()`` -- on the GUI
thread. Errors become plain messages: ``LoadError`` carries its own (file and reason); anything unexpected
is logged with its traceback and reported as one line, never shown as a traceback.

``JobRunner`` keeps the running jobs alive and lets the window cancel or wait for them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from imaging.errors import LoadCancelled, LoadError

_log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


class _Worker(QObject):
    """Runs the job's function on the worker thread; reports through queued signals only."""

    progressed = Signal(int, int)
    published = Signal(object)  # a partial result (Job.publish)
    ended = Signal(str, object)  # state, result or message

    def __init__(self, fn: Callable[[ProgressFn, CancelFn], Any], label: str, cancel: threading.Event) -> None:
        super().__init__()
        self.fn = fn
        self.label = label
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn(self._report, self._cancel.is_set)
        except LoadCancelled:
            self.ended.emit("cancelled", None)
            return
        except LoadError as exc:
            self.ended.emit("failed", str(exc))
            return
        except MemoryError:
            self.ended.emit("failed", f"{self.label or 'Loading'}: not enough memory for this series.")
            return
        except Exception as exc:  # noqa: BLE001 - shown as a message, logged with its traceback
            _log.exception("job %r failed", self.label)
            self.ended.emit("failed", f"{self.label or 'Loading'} failed: {type(exc).__name__}: {exc}")
            return
        self.ended.emit("cancelled" if self._cancel.is_set() else "finished", result)

    def _report(self, done: int, total: int) -> None:
        self.progressed.emit(int(done), int(total))


class Job(QObject):
    """A background job. Lives on the GUI thread: connect to its signals freely (lambdas included); they
    are always emitted on the GUI thread. The function runs on a worker thread (``_Worker``)."""

    progress = Signal(int, int)
    partial = Signal(object)  # a partial result the function published (job.publish), before finished
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()  # after any of the three above

    def __init__(self, fn: Callable[[ProgressFn, CancelFn], Any], label: str = "") -> None:
        super().__init__()
        self.fn = fn
        self.label = label
        self._cancel = threading.Event()
        self.thread: QThread | None = None
        self.worker: _Worker | None = None
        self.result: Any = None
        self.error: str | None = None
        self.state = "pending"  # running, finished, failed, cancelled

    def cancel(self) -> None:
        """Ask the job to stop (it stops at the loader's next cancel check)."""
        self._cancel.set()

    def is_cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def publish(self, obj: object) -> None:
        """Hand a partial result to the GUI thread (``partial(obj)``); call it from the job's function."""
        if self.worker is not None:
            self.worker.published.emit(obj)

    def make_worker(self) -> _Worker:
        w = _Worker(self.fn, self.label, self._cancel)
        w.progressed.connect(self._on_progress)  # bound slots of a GUI-thread object: queued
        w.published.connect(self._on_published)
        w.ended.connect(self._on_ended)
        self.worker = w
        return w

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self.state == "running":
            self.progress.emit(done, total)

    @Slot(object)
    def _on_published(self, obj: object) -> None:
        if self.state == "running" and not self._cancel.is_set():
            self.partial.emit(obj)

    @Slot(str, object)
    def _on_ended(self, state: str, payload: object) -> None:
        self.state = state
        if state == "finished":
            self.result = payload
            self.finished.emit(payload)
        elif state == "failed":
            self.error = str(payload)
            self.failed.emit(self.error)
        else:
            self.cancelled.emit()
        self.done.emit()


class JobRunner(QObject):
    """Starts jobs on their own QThread and keeps them referenced until they end."""

    jobStarted = Signal(object)
    jobEnded = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self._by_thread: dict[QThread, Job] = {}

    def start(self, job: Job) -> Job:
        thread = QThread()
        thread.setObjectName(f"job:{job.label}")
        job.thread = thread
        job.state = "running"
        worker = job.make_worker()
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.ended.connect(thread.quit)
        thread.finished.connect(self._on_thread_finished)  # a bound slot: queued to this (GUI) thread
        self._by_thread[thread] = job
        self._jobs.append(job)
        self.jobStarted.emit(job)
        thread.start()
        return job

    @Slot()
    def _on_thread_finished(self) -> None:
        job = self._by_thread.pop(self.sender(), None)
        if job is not None:
            self._ended(job)

    def _ended(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        if job.thread is not None:
            job.thread.deleteLater()
            job.thread = None
        self.jobEnded.emit(job)

    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def busy(self) -> bool:
        return bool(self._jobs)

    def cancel_all(self) -> None:
        for j in self._jobs:
            j.cancel()

    def wait_all(self, msecs: int = 10_000) -> bool:
        """Block until every job's thread ended (shutdown). True when all ended in time."""
        ok = True
        for j in list(self._jobs):
            if j.thread is not None:
                ok = j.thread.wait(msecs) and ok
        return ok
