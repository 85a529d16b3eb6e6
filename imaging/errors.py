"""Errors raised by the Qt-free core for bad input."""

from __future__ import annotations

from pathlib import Path


class LoadError(Exception):
    """A file or series could not be read. The message names the file and the reason.

    ``path`` is the offending file (or folder) when one is known; ``reason`` is the short reason
    without the path, suitable for a table of skipped files.
    """

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path is not None else reason)


class LoadCancelled(LoadError):
    """The caller's cancel callback asked the load to stop."""
