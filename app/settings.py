"""Persistent settings (QSettings): window geometry/state, recent files and folders, last layout.

``Settings()`` uses the user's SpineCase settings (organisation "SpineCase", application "SpineCase"),
or the INI file named by the environment variable ``SPINECASE_SETTINGS`` when set (tests, kiosks);
``Settings.ephemeral()`` keeps everything in memory (``spinecase open --screenshot`` must not touch the
user's recent files).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10


class Settings:
    def __init__(self, path: str | os.PathLike | None = None, persistent: bool = True) -> None:
        self.persistent = persistent
        path = path or os.environ.get("SPINECASE_SETTINGS")
        if not persistent:
            self._qs = None
            self._mem: dict[str, object] = {}
        elif path:
            self._qs = QSettings(str(path), QSettings.IniFormat)
        else:
            self._qs = QSettings("SpineCase", "SpineCase")

    @classmethod
    def ephemeral(cls) -> Settings:
        return cls(persistent=False)

    # -- raw values ---------------------------------------------------------------------------------------
    def value(self, key: str, default: object = None) -> object:
        if self._qs is None:
            return self._mem.get(key, default)
        v = self._qs.value(key, default)
        return default if v is None else v

    def set_value(self, key: str, value: object) -> None:
        if self._qs is None:
            self._mem[key] = value
        else:
            self._qs.setValue(key, value)

    def sync(self) -> None:
        if self._qs is not None:
            self._qs.sync()

    # -- recent files -------------------------------------------------------------------------------------
    def recent_paths(self) -> list[str]:
        v = self.value("recent/paths", [])
        if isinstance(v, str):
            v = [v]
        return [str(p) for p in (v or []) if p]

    def add_recent(self, paths: list[str] | str) -> list[str]:
        """Put an opened path (a folder, one file, or several files joined as one entry) first."""
        entry = paths if isinstance(paths, str) else os.pathsep.join(str(Path(p)) for p in paths)
        items = [entry] + [p for p in self.recent_paths() if p != entry]
        items = items[:MAX_RECENT]
        self.set_value("recent/paths", items)
        return items

    def clear_recent(self) -> None:
        self.set_value("recent/paths", [])

    # -- window -------------------------------------------------------------------------------------------
    def window_geometry(self) -> QByteArray | None:
        v = self.value("window/geometry")
        return v if isinstance(v, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        v = self.value("window/state")
        return v if isinstance(v, QByteArray) else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.set_value("window/geometry", geometry)
        self.set_value("window/state", state)

    def last_layout(self, default: str = "spine") -> str:
        return str(self.value("view/layout", default) or default)

    def set_last_layout(self, name: str) -> None:
        self.set_value("view/layout", name)

    def last_directory(self) -> str:
        return str(self.value("recent/directory", "") or "")

    def set_last_directory(self, path: str) -> None:
        self.set_value("recent/directory", path)

    # -- the reader ------------------------------------------------------------------------------------------
    def reader_name(self) -> str:
        """The reader's name recorded with every annotation; "" until the reader has given it (the window
        asks once and keeps it here). Never the login name: "root" says nothing about who read."""
        return str(self.value("reader/name", "") or "").strip()

    def set_reader_name(self, name: str) -> None:
        self.set_value("reader/name", name.strip())

    # -- where the settings live ---------------------------------------------------------------------------
    def folder(self) -> Path | None:
        """The settings folder (where the reader's own files, e.g. hanging protocols, live): beside the INI
        file, else the platform's configuration folder for SpineCase; None for in-memory settings."""
        if self._qs is None:
            return None
        if self._qs.format() == QSettings.IniFormat:
            return Path(self._qs.fileName()).parent
        from PySide6.QtCore import QStandardPaths

        base = QStandardPaths.writableLocation(QStandardPaths.GenericConfigLocation)
        return Path(base) / "SpineCase" if base else None

    def file_path(self) -> Path | None:
        """The INI file these settings are kept in (tests, kiosks, ``SPINECASE_SETTINGS``); None when they
        live in the platform's native store or only in memory."""
        if self._qs is not None and self._qs.format() == QSettings.IniFormat:
            return Path(self._qs.fileName())
        return None
