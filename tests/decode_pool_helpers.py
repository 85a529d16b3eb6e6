"""Module-level functions the decode-pool tests run in worker processes (sent by name, so importable)."""

from __future__ import annotations

import os
import signal
import time

from imaging.errors import LoadError


def double_or_crash(item: int, crash_on: int) -> int:
    """``2 * item``; the worker process dies of a segmentation fault on ``crash_on``."""
    if item == crash_on:
        os.kill(os.getpid(), signal.SIGSEGV)
    return 2 * item


def misbehave(item: str) -> str:
    """What hostile data makes decoders do: a LoadError, a panic-like BaseException, a plain exception."""
    if item == "load-error":
        raise LoadError("cannot decode pixel data (bad marker)", "/data/x.dcm")
    if item == "panic":
        raise BaseException("a Rust panic is a BaseException")  # noqa: TRY002 - exactly what a panic looks like
    if item == "error":
        raise ValueError("broken stream")
    return item.upper()


def slow(item: int, seconds: float) -> int:
    time.sleep(seconds)
    return item
