"""The case file on disk: atomic saves with a backup, recovery files, a lock, migration on open. Qt-free.

Files beside ``NAME.spinecase.json``:

* ``NAME.spinecase.json.bak`` — the previous saved version (kept by every save);
* ``NAME.spinecase.json.recovery`` — autosave of unsaved edits (the GUI writes it every 30 s and after
  each edit burst; offered on the next open when newer than the case file);
* ``NAME.spinecase.json.lock`` — who has the case open for writing (pid, host, user, time).

Format: UTF-8 JSON, 2-space indent, keys in the **model's declared order** (``schema_version`` first;
stable, so diffs stay small), a final newline. Floats are written in their shortest round-trip form.

A save never leaves a half-written file: the new content goes to a temporary file in the same folder,
is fsynced, the current file is hard-linked (or copied) to ``.bak``, the temporary file replaces the case
file with ``os.replace`` (atomic on POSIX and Windows) and the folder is fsynced.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from imaging.case.migrations import migrate
from imaging.case.model import SCHEMA_VERSION, Case, case_to_json
from imaging.errors import LoadError

__all__ = [
    "CASE_SUFFIX",
    "AutosavePolicy",
    "CaseDocument",
    "CaseFileCorrupt",
    "CaseFileError",
    "CaseFileInvalid",
    "CaseFileNewerVersion",
    "CaseLock",
    "CaseLocked",
    "CaseReadOnly",
    "LockInfo",
    "RecoveryInfo",
    "backup_path",
    "discard_recovery",
    "dumps_case",
    "find_recovery",
    "load_case",
    "loads_case",
    "lock_path",
    "read_lock",
    "recovery_path",
    "save_case",
    "write_recovery",
]

CASE_SUFFIX = ".spinecase.json"


# -- errors ---------------------------------------------------------------------------------------------
class CaseFileError(LoadError):
    """A case file could not be opened or saved. The message names the file, the problem and, when one
    exists, the backup to open instead (``backup``). Nothing on disk was changed."""

    def __init__(self, reason: str, path: str | Path | None = None, backup: Path | None = None) -> None:
        self.backup = backup
        if backup is not None:
            reason = f"{reason}. The previous version is kept in {backup}; open it to continue from there"
        super().__init__(reason, path)


class CaseFileCorrupt(CaseFileError):
    """Not a readable case file: empty, not UTF-8, not JSON, or not a case document."""


class CaseFileInvalid(CaseFileError):
    """Valid JSON of a known version, but the content breaks the model's rules (listed in ``errors``)."""

    def __init__(self, reason: str, path: str | Path | None = None, backup: Path | None = None,
                 errors: list[str] | None = None) -> None:
        self.errors = errors or []
        super().__init__(reason, path, backup)


class CaseFileNewerVersion(CaseFileError):
    """Written by a newer SpineCase (``version`` > the schema version this code reads)."""

    def __init__(self, version: int, path: str | Path | None = None, backup: Path | None = None) -> None:
        self.version = version
        super().__init__(f"written by a newer SpineCase (schema version {version}; this SpineCase reads up to "
                         f"version {SCHEMA_VERSION}). Open it with a newer SpineCase; the file was not changed",
                         path, backup)


class CaseLocked(CaseFileError):
    """Another SpineCase has the case open for writing (``holder``); open it read-only."""

    def __init__(self, holder: LockInfo, path: str | Path | None = None) -> None:
        self.holder = holder
        super().__init__(f"is open for editing by {holder.describe()}; it can be opened read-only", path)


class CaseReadOnly(CaseFileError):
    """A save was attempted on a case opened read-only."""


# -- paths ----------------------------------------------------------------------------------------------
def _sibling(path: str | Path, suffix: str) -> Path:
    p = Path(path)
    return p.with_name(p.name + suffix)


def backup_path(path: str | Path) -> Path:
    """``NAME.spinecase.json.bak``: the previous saved version."""
    return _sibling(path, ".bak")


def recovery_path(path: str | Path) -> Path:
    """``NAME.spinecase.json.recovery``: unsaved edits autosaved by the GUI."""
    return _sibling(path, ".recovery")


def lock_path(path: str | Path) -> Path:
    """``NAME.spinecase.json.lock``: who has the case open for writing."""
    return _sibling(path, ".lock")


# -- reading --------------------------------------------------------------------------------------------
def dumps_case(case: Case) -> bytes:
    """The case file's bytes (UTF-8 JSON, model key order, final newline)."""
    return case_to_json(case).encode("utf-8")


def _existing_backup(path: Path | None) -> Path | None:
    if path is None:
        return None
    b = backup_path(path)
    return b if b.is_file() and b.stat().st_size > 0 else None


def _format_validation_error(exc: ValidationError, limit: int = 8) -> list[str]:
    out = []
    for err in exc.errors()[:limit]:
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".") or "(case)"
        out.append(f"{loc}: {err['msg']}")
    if len(exc.errors()) > limit:
        out.append(f"... and {len(exc.errors()) - limit} more")
    return out


def loads_case(data: bytes | str, path: str | Path | None = None) -> Case:
    """Parse case-file bytes (migrating older schema versions). Raises a :class:`CaseFileError` subclass
    naming ``path``, the problem and the backup when one exists."""
    p = Path(path) if path is not None else None
    backup = _existing_backup(p)
    if isinstance(data, bytes):
        if not data.strip():
            raise CaseFileCorrupt(f"the case file is empty ({len(data)} bytes)", p, backup)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CaseFileCorrupt(f"not UTF-8 text (byte {exc.start}): not a SpineCase case file", p, backup) from None
    else:
        text = data
        if not text.strip():
            raise CaseFileCorrupt("the case file is empty", p, backup)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseFileCorrupt(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); the file is "
                              "damaged or truncated", p, backup) from None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise CaseFileCorrupt("not a SpineCase case file (a JSON object with 'schema_version' was expected)",
                              p, backup)
    version = doc["schema_version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise CaseFileCorrupt(f"schema_version must be a non-negative integer, got {version!r}", p, backup)
    if version > SCHEMA_VERSION:
        raise CaseFileNewerVersion(version, p, backup)
    try:
        doc, _ = migrate(doc)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CaseFileInvalid(f"cannot convert schema version {version} to {SCHEMA_VERSION}: {exc}", p,
                              backup) from None
    try:
        return Case.model_validate(doc)
    except ValidationError as exc:
        errors = _format_validation_error(exc)
        raise CaseFileInvalid("not a valid case: " + "; ".join(errors), p, backup, errors) from None


def load_case(path: str | Path) -> Case:
    """Open a case file (migrating older versions in memory; the file is not rewritten until saved)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise CaseFileError("no such case file", p, _existing_backup(p)) from None
    except IsADirectoryError:
        raise CaseFileError("is a folder, not a case file", p) from None
    except OSError as exc:
        raise CaseFileError(f"cannot read: {exc.strerror or exc}", p, _existing_backup(p)) from None
    return loads_case(data, p)


# -- writing --------------------------------------------------------------------------------------------
def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def _write_temp(folder: Path, stem: str, data: bytes, mode: int, sync: bool) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            with contextlib.suppress(OSError, AttributeError):
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            if sync:
                os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def _keep_backup(path: Path, backup: Path, sync: bool) -> None:
    """Make ``backup`` the current content of ``path`` atomically (hard link, else a synced copy)."""
    tmp = backup.with_name(f".{backup.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        os.link(path, tmp)
    except OSError:
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
            dst.flush()
            if sync:
                os.fsync(dst.fileno())
    try:
        os.replace(tmp, backup)
    finally:
        # rename() between two links of one file does nothing and leaves ``tmp`` (POSIX): the case after a
        # save killed between its two renames. Remove it; after a normal rename it is already gone.
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def atomic_write(path: str | Path, data: bytes, *, backup: bool = False, sync: bool = True) -> Path:
    """Write ``data`` to ``path`` so that the file is always either its old or its new content.

    With ``backup``, the old content (when there is one) becomes ``path + '.bak'`` first. ``sync``
    (default) fsyncs the file and the folder so the save survives a power cut.
    """
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    try:
        mode = p.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    tmp = _write_temp(folder, p.name, data, mode, sync)
    try:
        if backup and p.is_file():
            _keep_backup(p, backup_path(p), sync)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync:
        _fsync_dir(folder)
    return p


def save_case(case: Case, path: str | Path, *, backup: bool = True, sync: bool = True,
              discard_recovery_file: bool = True) -> Path:
    """Save a case atomically (see the module docstring), keeping the previous version as ``.bak``.

    The model is serialised before anything touches the disk, so a case that cannot be written raises
    with the file untouched. A recovery file made obsolete by this save is removed (unless
    ``discard_recovery_file`` is False). Raises :class:`CaseFileError` naming the file on an OS error.
    """
    p = Path(path)
    data = dumps_case(case)
    try:
        atomic_write(p, data, backup=backup, sync=sync)
    except OSError as exc:
        raise CaseFileError(f"could not save: {exc.strerror or exc}; the file on disk was not changed", p) from None
    if discard_recovery_file:
        discard_recovery(p)
    return p


# -- recovery -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecoveryInfo:
    """A recovery file newer than its case file: offer it to the user on open."""

    path: Path
    case_path: Path
    modified_utc: datetime

    def load(self) -> Case:
        """The recovered case (raises :class:`CaseFileError` when the recovery file is damaged)."""
        return load_case(self.path)


def write_recovery(case: Case, case_path: str | Path, *, sync: bool = True) -> Path:
    """Autosave unsaved edits to ``case_path + '.recovery'`` (atomic; the case file is not touched).

    For a case never saved, pass the path it will have (e.g. a file in the app's recovery folder).
    """
    rp = recovery_path(case_path)
    try:
        return atomic_write(rp, dumps_case(case), backup=False, sync=sync)
    except OSError as exc:
        raise CaseFileError(f"could not write the recovery file: {exc.strerror or exc}", rp) from None


def find_recovery(case_path: str | Path) -> RecoveryInfo | None:
    """The recovery file of a case when it is newer than the case file (or the case file is missing), and
    its content differs from the case file; else None."""
    cp = Path(case_path)
    rp = recovery_path(cp)
    try:
        rstat = rp.stat()
    except FileNotFoundError:
        return None
    try:
        cstat = cp.stat()
        if rstat.st_mtime_ns <= cstat.st_mtime_ns:
            return None
        if rp.read_bytes() == cp.read_bytes():
            return None
    except FileNotFoundError:
        pass
    return RecoveryInfo(rp, cp, datetime.fromtimestamp(rstat.st_mtime, UTC))


def discard_recovery(case_path: str | Path) -> None:
    """Delete the case's recovery file (after a save, or when the user declines recovery)."""
    with contextlib.suppress(FileNotFoundError):
        recovery_path(case_path).unlink()


class AutosavePolicy:
    """When to write the recovery file: after an edit burst ends (no edit for ``quiet_s`` seconds) or when
    unsaved edits are ``interval_s`` old, whichever comes first. Qt-free: the GUI calls :meth:`edited` on
    each model change and polls :meth:`due` from a timer (about once a second), then calls
    :meth:`written` after ``write_recovery`` (and :meth:`saved` after a real save). Times are
    ``time.monotonic()`` seconds."""

    def __init__(self, interval_s: float = 30.0, quiet_s: float = 2.0) -> None:
        self.interval_s = interval_s
        self.quiet_s = quiet_s
        self._first_unwritten: float | None = None
        self._last_edit: float | None = None

    @property
    def pending(self) -> bool:
        """Whether there are edits not yet in the recovery file."""
        return self._first_unwritten is not None

    def edited(self, now: float) -> None:
        if self._first_unwritten is None:
            self._first_unwritten = now
        self._last_edit = now

    def due(self, now: float) -> bool:
        if self._first_unwritten is None or self._last_edit is None:
            return False
        return now - self._last_edit >= self.quiet_s or now - self._first_unwritten >= self.interval_s

    def written(self, now: float) -> None:  # noqa: ARG002 - kept for symmetry and logging
        self._first_unwritten = None
        self._last_edit = None

    saved = written


# -- lock -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LockInfo:
    """The content of a lock file."""

    pid: int
    host: str
    user: str
    created_utc: str
    app: str = "SpineCase"

    def describe(self) -> str:
        return f"{self.user or 'someone'} on {self.host or 'an unknown computer'} (process {self.pid}, since " \
               f"{self.created_utc})"

    def to_json(self) -> bytes:
        return (json.dumps({"app": self.app, "pid": self.pid, "host": self.host, "user": self.user,
                            "created_utc": self.created_utc}, indent=2) + "\n").encode("utf-8")

    @classmethod
    def mine(cls) -> LockInfo:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = ""
        return cls(os.getpid(), socket.gethostname(), user,
                   datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"))


def read_lock(case_path: str | Path) -> LockInfo | None:
    """The lock's holder, or None when there is no lock. An unreadable lock file gives a LockInfo with
    pid 0 (treated as stale once older than a minute)."""
    lp = lock_path(case_path)
    try:
        raw = lp.read_bytes()
    except FileNotFoundError:
        return None
    try:
        d: dict[str, Any] = json.loads(raw.decode("utf-8"))
        return LockInfo(int(d["pid"]), str(d.get("host", "")), str(d.get("user", "")),
                        str(d.get("created_utc", "")), str(d.get("app", "SpineCase")))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return LockInfo(0, "", "", "")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (used for stale locks and recovery files)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


class CaseLock:
    """An exclusive lock on a case file, held by this process (see :meth:`acquire`).

    A lock is *stale* — and is taken over — when its process is gone (same host), when it is unreadable
    and older than a minute, or (other host, where the process cannot be checked) when it has not been
    refreshed for ``stale_after_s``. The holder should call :meth:`refresh` every few minutes (the GUI's
    autosave timer does it) so a live lock on a shared folder never looks stale.
    """

    def __init__(self, case_path: Path, info: LockInfo) -> None:
        self.case_path = case_path
        self.path = lock_path(case_path)
        self.info = info
        self.released = False

    @classmethod
    def acquire(cls, case_path: str | Path, *, stale_after_s: float = 600.0) -> CaseLock:
        """Take the lock or raise :class:`CaseLocked` naming its holder. The lock file appears atomically
        with its full content (written to a temporary file, then hard-linked into place)."""
        cp = Path(case_path)
        me = LockInfo.mine()
        for _ in range(3):
            if cls._create(cp, me):
                return cls(cp, me)
            holder = read_lock(cp)
            if holder is None:
                continue  # released meanwhile: try again
            if not cls._is_stale(cp, holder, stale_after_s):
                raise CaseLocked(holder, cp)
            # Take over a stale lock only if it is still the one we judged stale.
            if read_lock(cp) == holder:
                with contextlib.suppress(FileNotFoundError):
                    lock_path(cp).unlink()
        holder = read_lock(cp)
        raise CaseLocked(holder or LockInfo(0, "", "", ""), cp)

    @staticmethod
    def _create(cp: Path, me: LockInfo) -> bool:
        lp = lock_path(cp)
        tmp = _write_temp(lp.parent if str(lp.parent) else Path("."), lp.name, me.to_json(), 0o644, True)
        try:
            os.link(tmp, lp)  # atomic; fails if the lock exists
            return True
        except FileExistsError:
            return False
        except OSError:  # no hard links here: fall back to O_EXCL (content written right after)
            try:
                fd = os.open(lp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as f:
                f.write(me.to_json())
            return True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    @staticmethod
    def _is_stale(cp: Path, holder: LockInfo, stale_after_s: float) -> bool:
        try:
            age = datetime.now(UTC).timestamp() - lock_path(cp).stat().st_mtime
        except FileNotFoundError:
            return True
        if holder.pid == 0:  # unreadable lock
            return age > 60
        if holder.host == socket.gethostname():
            return not pid_alive(holder.pid)
        return age > stale_after_s

    def refresh(self) -> None:
        """Touch the lock so other hosts see it is alive."""
        if not self.released:
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def release(self) -> None:
        """Remove the lock if it is still ours."""
        if self.released:
            return
        self.released = True
        if read_lock(self.case_path) == self.info:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def __enter__(self) -> CaseLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# -- a document: what the GUI holds ---------------------------------------------------------------------
class CaseDocument:
    """An open case: the model, its file, the lock and the recovery file, for the GUI to drive.

    ``doc = CaseDocument.open(path)`` loads the case and takes the lock; when another instance holds it,
    the document is read-only (``read_only`` True, ``read_only_reason`` the message to show) and
    :meth:`save` raises :class:`CaseReadOnly`. ``doc.recovery`` is a :class:`RecoveryInfo` when unsaved
    edits from a crash were found: offer ``doc.recover()`` or ``doc.discard_recovery()``.
    """

    def __init__(self, case: Case, path: Path | None = None, lock: CaseLock | None = None,
                 read_only: bool = False, read_only_reason: str = "", recovery: RecoveryInfo | None = None
                 ) -> None:
        self.case = case
        self.path = path
        self.lock = lock
        self.read_only = read_only
        self.read_only_reason = read_only_reason
        self.recovery = recovery

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False, stale_after_s: float = 600.0) -> CaseDocument:
        """Open a case file. Raises :class:`CaseFileError` subclasses for unreadable files (nothing is
        changed on disk); a locked case opens read-only instead of raising."""
        p = Path(path)
        case = load_case(p)
        lock: CaseLock | None = None
        reason = ""
        if not read_only:
            try:
                lock = CaseLock.acquire(p, stale_after_s=stale_after_s)
            except CaseLocked as exc:
                read_only, reason = True, str(exc)
        else:
            reason = "opened read-only"
        recovery = find_recovery(p) if not read_only else None
        return cls(case, p, lock, read_only, reason, recovery)

    @classmethod
    def new(cls, case: Case, path: str | Path | None = None) -> CaseDocument:
        """A document for a new case (not on disk yet; :meth:`save_as` gives it a file and the lock)."""
        return cls(case, Path(path) if path is not None else None)

    def save(self) -> Path:
        """Save to :attr:`path` (atomic, with backup) and drop the recovery file."""
        if self.read_only:
            raise CaseReadOnly(f"is open read-only ({self.read_only_reason}); use Save As", self.path)
        if self.path is None:
            raise CaseFileError("the case has no file yet; use Save As")
        if self.lock is None:
            self.lock = CaseLock.acquire(self.path)
        self.lock.refresh()
        self._remove_temp_files()
        return save_case(self.case, self.path)

    def save_as(self, path: str | Path) -> Path:
        """Save to a new file (taking its lock; the old file's lock is released)."""
        p = Path(path)
        new_lock = CaseLock.acquire(p)
        try:
            save_case(self.case, p)
        except BaseException:
            new_lock.release()
            raise
        if self.lock is not None:
            self.lock.release()
        if self.path is not None and self.path != p and not self.read_only:
            discard_recovery(self.path)
        self.path, self.lock, self.read_only, self.read_only_reason = p, new_lock, False, ""
        return p

    def write_recovery(self) -> Path | None:
        """Autosave to the recovery file (nothing for a read-only or file-less document); refreshes the lock."""
        if self.read_only or self.path is None:
            return None
        if self.lock is not None:
            self.lock.refresh()
        return write_recovery(self.case, self.path)

    def recover(self) -> Case:
        """Replace the model with the recovery file's case (the user accepted recovery); the recovery file is
        kept until the next save."""
        if self.recovery is None:
            raise CaseFileError("there is no recovery file to restore", self.path)
        self.case = self.recovery.load()
        return self.case

    def discard_recovery(self) -> None:
        if self.path is not None and not self.read_only:
            discard_recovery(self.path)
        self.recovery = None

    def close(self) -> None:
        """Release the lock. The recovery file is left for the next open when there were unsaved edits —
        call :meth:`discard_recovery` first when the user chose not to keep them."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def _remove_temp_files(self) -> None:
        """Temporary files left by a save that was killed (we hold the lock, so none is in use)."""
        if self.path is None:
            return
        for tmp in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    def __enter__(self) -> CaseDocument:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
