"""Compressed frames decoded in parallel worker processes, with priority, cancel and crash isolation.

JPEG 2000 (and JPEG, JPEG-LS, RLE) decoders are native code that holds Python's GIL, so threads do not help:
SpineCase decodes in worker processes, one per core (as dcm2niix and GDCM's readers leave the cores idle,
a 2-core laptop halves a JPEG 2000 series' load time). The workers are forked from a server process
(``multiprocessing``'s "forkserver" start method: never a fork of the multi-threaded GUI process) that
imported the decoders once, so a worker starts in milliseconds; they stay alive between loads. A worker
never imports the application's main script (multiprocessing would: see `_NoMainPopen`).

* **Priority.** The caller chooses which frame goes out next (``next_index``): the loader sends the
  frames nearest the slice the reader looks at first, so the first image appears long before the series
  is complete.
* **Cancel.** ``cancel()`` is polled every few milliseconds; a cancelled load stops at once (the workers
  busy with its frames are stopped and replaced later).
* **Crash isolation.** A decoder fed hostile bytes may raise anything, panic (pylibjpeg's Rust RLE decoder
  raises ``PanicException``, a ``BaseException``), run out of memory, crash the worker process with a
  signal, or never return. Each of these becomes a `LoadError` for that one frame, naming the file; the
  other frames still load and the application never goes down with a worker. A worker that crashed is
  never retried in the application's own process.

`run_in_workers` is generic: it calls a module-level function ``fn(item, *args)`` on each item in a
worker (``imaging.dicom.load`` passes its guarded frame decoder) and yields ``(index, result)`` as results
arrive, ``result`` being the function's return value or a `LoadError`.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing import context, forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from imaging.errors import LoadCancelled, LoadError

__all__ = ["FRAME_TIMEOUT_S", "prestart", "run_in_workers", "shutdown", "worker_count"]

# A frame a decoder has not finished after this long is given up (a decoder looping on hostile data).
FRAME_TIMEOUT_S = 120.0
# Modules the server process imports once, so that every worker starts with the decoders loaded.
_PRELOAD = ["imaging.dicom.load", "pydicom.pixels", "openjpeg", "libjpeg", "rle"]
_POLL_S = 0.02  # how often cancel() is polled while waiting for results


def worker_count() -> int:
    """How many worker processes decode at once: one per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class _Worker:
    """One worker process and the parent's end of its pipe; at most one item in flight."""

    def __init__(self, ctx: BaseContext) -> None:
        parent_end, child_end = ctx.Pipe(duplex=True)
        self.conn: Connection = parent_end
        self.process: BaseProcess = _WorkerProcess(target=_worker_main, args=(child_end,), daemon=True,
                                                   name="spinecase-decoder")
        self.process.start()
        child_end.close()
        self.index: int | None = None  # the item in flight
        self.started = 0.0

    def send(self, index: int, message: tuple[Any, ...]) -> None:
        self.index, self.started = index, time.monotonic()
        self.conn.send(message)

    def stop(self) -> None:
        """End the process now (it may be busy with a stale item or stuck in a decoder)."""
        try:
            self.process.kill()
            self.process.join(1.0)
        except (OSError, ValueError, AssertionError):
            pass
        self.conn.close()

    def alive(self) -> bool:
        return self.process.is_alive()

    def exit_text(self) -> str:
        self.process.join(0.5)
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                return f"the decoder crashed (signal {signal.Signals(-code).name})"
            except ValueError:
                return f"the decoder crashed (signal {-code})"
        return f"the decoder process ended unexpectedly (exit code {code})"


class _Pool:
    """The worker processes of this application (made on first use, shared by the loads in turn)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # one load uses the workers at a time
        self._start_lock = threading.Lock()
        self._ctx: BaseContext | None = None
        self.workers: list[_Worker] = []

    def context(self) -> BaseContext:
        if self._ctx is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)
            self._ctx = ctx
        return self._ctx

    def ensure(self, n: int) -> list[_Worker]:
        """At least ``n`` live workers (replacing dead ones)."""
        with self._start_lock:
            for w in [w for w in self.workers if not w.alive()]:
                w.stop()
                self.workers.remove(w)
            while len(self.workers) < n:
                self.workers.append(_Worker(self.context()))
            return list(self.workers[:n])

    def drop(self, worker: _Worker) -> None:
        worker.stop()
        with self._start_lock:
            if worker in self.workers:
                self.workers.remove(worker)

    def shutdown(self) -> None:
        with self._start_lock:
            for w in self.workers:
                with contextlib.suppress(OSError, ValueError):
                    w.conn.send(None)
            for w in self.workers:
                w.process.join(0.5)
                if w.process.is_alive():
                    w.stop()
            self.workers = []


_POOL = _Pool()


def prestart(n: int | None = None) -> None:
    """Start the workers in the background (a load that follows finds them ready). Never raises."""
    def start() -> None:
        with contextlib.suppress(Exception):  # the load then starts them, or decodes in its own thread
            _POOL.ensure(n or worker_count())

    threading.Thread(target=start, name="spinecase-decoder-start", daemon=True).start()


def shutdown() -> None:
    """Stop the workers (they also end with the application)."""
    _POOL.shutdown()


def run_in_workers(fn: Callable[..., Any], items: Sequence[Any], args: tuple[Any, ...] = (), *,
                   next_index: Callable[[set[int]], int] | None = None,
                   cancel: Callable[[], bool] | None = None,
                   path_of: Callable[[Any], str | Path | None] | None = None,
                   workers: int | None = None,
                   timeout_s: float = FRAME_TIMEOUT_S) -> Iterator[tuple[int, Any]]:
    """Call ``fn(item, *args)`` for every item in worker processes; yield ``(index, result)`` as results
    arrive (any order), ``result`` being the return value or a `LoadError` for that item.

    ``fn`` must be a module-level function (it is sent to the workers by name) that signals bad input with
    `LoadError`; any other exception, a crash of the worker or a call running longer than ``timeout_s``
    becomes a `LoadError` naming ``path_of(item)``. ``next_index(pending)`` picks the next item to send
    from the set of indices not yet sent (default: the lowest). ``cancel()`` is polled while waiting; when
    it returns True the workers busy with this call are stopped and `LoadCancelled` is raised.

    Raises `OSError` when no worker process can be started (the caller then decodes in its own thread).
    """
    n_workers = max(1, min(workers or worker_count(), len(items)))
    pending = set(range(len(items)))
    pick = next_index or min
    where = path_of or (lambda item: None)
    while not _POOL.lock.acquire(timeout=_POLL_S):
        if cancel is not None and cancel():
            raise LoadCancelled("loading cancelled")
    busy: dict[_Worker, int] = {}
    try:
        pool = _POOL.ensure(n_workers)
        idle = list(pool)
        while pending or busy:
            if cancel is not None and cancel():
                raise LoadCancelled("loading cancelled")
            while idle and pending:
                w = idle.pop()
                i = pick(pending)
                pending.discard(i)
                try:
                    w.send(i, (i, fn, items[i], args))
                except (OSError, ValueError):  # the worker died while idle: replace it, resend the item
                    pending.add(i)
                    _POOL.drop(w)
                    idle.extend(_replacement(n_workers))
                    continue
                busy[w] = i
            if not busy:
                continue
            ready = multiprocessing.connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                                                    timeout=_POLL_S)
            now = time.monotonic()
            for w in list(busy):
                i = busy[w]
                result: Any
                if w.conn in ready or w.conn.poll():
                    try:
                        index, ok, payload = w.conn.recv()
                    except (EOFError, OSError):  # died while sending
                        result = LoadError(w.exit_text(), where(items[i]))
                        _POOL.drop(w)
                        idle.extend(_replacement(n_workers))
                    else:
                        if index != i:  # cannot happen: one item in flight per worker
                            result = LoadError("the decoder answered for another frame", where(items[i]))
                            _POOL.drop(w)
                            idle.extend(_replacement(n_workers))
                        else:
                            result = payload if ok else LoadError(payload[0], payload[1] or where(items[i]))
                            w.index = None
                            idle.append(w)
                elif w.process.sentinel in ready or not w.alive():
                    result = LoadError(w.exit_text(), where(items[i]))
                    _POOL.drop(w)
                    idle.extend(_replacement(n_workers))
                elif now - w.started > timeout_s:
                    result = LoadError(f"the decoder did not finish within {timeout_s:.0f} s", where(items[i]))
                    _POOL.drop(w)
                    idle.extend(_replacement(n_workers))
                else:
                    continue
                del busy[w]
                yield i, result
    finally:
        for w in busy:  # cancelled, or the caller stopped early: their answers would be stale
            _POOL.drop(w)
        _POOL.lock.release()


def _replacement(n_workers: int) -> list[_Worker]:
    """Workers started to take the place of one that was dropped (none when the pool is full)."""
    with _POOL._start_lock:
        live = len(_POOL.workers)
    if live >= n_workers:
        return []
    fresh = _POOL.ensure(n_workers)
    return fresh[live:]


# -- the worker process ---------------------------------------------------------------------------------

class _NoMainPopen(popen_forkserver.Popen):
    """multiprocessing's forkserver launch, minus the main module: multiprocessing would have the worker
    import the application's ``__main__`` script again (only harmless under ``if __name__ == "__main__"``;
    an unguarded script -- a profiler run, a notebook, a tool -- would open windows or start loads in every
    worker). A decoder needs nothing from it: the function it runs is importable by name."""

    def _launch(self, process_obj: BaseProcess) -> None:  # as popen_forkserver.Popen._launch (Python 3.11)
        prep_data = spawn.get_preparation_data(process_obj._name)  # type: ignore[attr-defined]  # private
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]  # set by Popen.__init__, not in the stubs
        parent_w = os.dup(w)  # the child watches this to notice the parent is gone
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))  # type: ignore[attr-defined]  # not in the stubs
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _WorkerProcess(multiprocessing.context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: BaseProcess) -> _NoMainPopen:  # noqa: N802 - multiprocessing's name
        return _NoMainPopen(process_obj)


def _worker_main(conn: Connection) -> None:
    """Answer ``(index, fn, item, args)`` with ``(index, True, fn(item, *args))`` or ``(index, False,
    (reason, path))``; ``None`` or a closed pipe ends the process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is the application's to handle
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, fn, item, args = message
        try:
            answer: tuple[Any, ...] = (index, True, fn(item, *args))
        except LoadError as exc:
            answer = (index, False, (exc.reason, str(exc.path) if exc.path is not None else None))
        except BaseException as exc:  # noqa: BLE001 - a decoder's panic, MemoryError...: this item's error
            answer = (index, False, (f"cannot decode pixel data ({type(exc).__name__})", None))
        try:
            conn.send(answer)
        except (OSError, ValueError):
            return
        except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled
            conn.send((index, False, (f"cannot return the decoded frame ({type(exc).__name__})", None)))
