"""The case file in the app: New / Open / Save / Save As, autosave and recovery, the lock, report data, exports.

``install(window)`` adds to the File menu::

    New Case (Ctrl+N)   Open Case...   Save (Ctrl+S)   Save As... (Ctrl+Shift+S)
    Report Data...   Export > (Measurements CSV, Findings CSV, DICOM SR, HTML Report, PDF Report)
    Locate Case Data...

and keeps a :class:`CaseFeature` in ``window.case_feature``. The case itself lives in ``window.case``
(:class:`~widgets.case_controller.CaseController`); this module only moves it to and from disk
(:mod:`imaging.case.store`) and out of the app (:mod:`imaging.case.export_csv`, ``export_sr``,
``export_report``, :mod:`app.report_pdf`).

Never losing work
    * Saves are atomic with a ``.bak`` of the previous version (``CaseDocument.save``).
    * Autosave: every case edit tells an :class:`~imaging.case.store.AutosavePolicy`; a one-second timer
      writes the recovery file when an edit burst has ended (2 s quiet) or unsaved edits are 30 s old. A
      case never saved autosaves into the app's data folder (``recovery/untitled-PID-CASEID...``).
    * Recovery: opening a case whose recovery file is newer offers it; at start-up, a case that was open
      when SpineCase stopped without closing, or an unsaved new case's recovery file, is offered.
    * Lock: a case another SpineCase has open opens read-only, with a message naming the holder; edits
      and Save are refused (Save As makes a writable copy).
    * A damaged or unreadable file gives a message naming the problem and offers the ``.bak``; a file
      from a newer SpineCase is refused with its version named. Nothing on disk changes.
    * Closing (or New / Open) with unsaved changes asks Save / Discard / Cancel. Without a person to ask
      (offscreen: tests, screenshots) the changes go to the recovery file instead.

Series: opening a case loads its series from their path hints (relative to the case file's folder). Series
not found are named in a message and File > Locate Case Data... searches a folder for their
SeriesInstanceUIDs; the new locations are an undoable edit ("Locate case data"), saved with the case. On
save, every loaded series gets a reference with a relative path hint.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox, QWidget

from app.exports import export_specs
from imaging.case.analysis import patient_conflict, patient_from_images
from imaging.case.exports import ExportJob, ExportSpec
from imaging.case.model import Case, Patient, Reader, ReportData, SeriesRef, Study
from imaging.case.sources import find_series
from imaging.case.store import (
    CASE_SUFFIX,
    AutosavePolicy,
    CaseDocument,
    CaseFileError,
    CaseLock,
    CaseLocked,
    find_recovery,
    load_case,
    pid_alive,
    read_lock,
    recovery_path,
    save_case,
    write_recovery,
)
from imaging.dicom.series import ScanResult
from imaging.errors import LoadError
from imaging.volume import Volume
from widgets.case_controller import ReadOnlyCaseError
from widgets.report_form import ReportDataDialog

if TYPE_CHECKING:  # pragma: no cover
    from app.main_window import MainWindow

_log = logging.getLogger(__name__)

__all__ = ["BUNDLED_SAMPLES", "EXPORTS", "CaseFeature", "CasePrompts", "bundled_sample", "case_display_name",
           "install", "is_case_path", "user_data_dir"]

CASE_FILTER = "SpineCase case (*.spinecase.json)"
OPEN_CASE_KEY = "case/open"  # the case open right now; left set when SpineCase stops without closing
LOCK_REFRESH_S = 120.0
UNTITLED_PREFIX = "untitled-"


# The File > Export entries come from the export registry (imaging.case.exports, with the PDF report of
# app.exports): one menu item per export, in registry order.
EXPORTS: tuple[ExportSpec, ...] = export_specs()


def is_case_path(path: str) -> bool:
    return path.lower().endswith(CASE_SUFFIX)


def case_display_name(path: Path | None) -> str:
    """``thoracic.spinecase.json`` -> ``thoracic``; a generic ``case.spinecase.json`` keeps its folder's name
    (``thoracic_ddlps/case``); no file -> ``Untitled case``."""
    if path is None:
        return "Untitled case"
    stem = path.name[: -len(CASE_SUFFIX)] if path.name.lower().endswith(CASE_SUFFIX) else path.stem
    if stem.lower() in ("case", "") and path.parent.name:
        return f"{path.parent.name}/{stem}"
    return stem


def user_data_dir(settings: object) -> Path | None:
    """The user's SpineCase data folder: ``$SPINECASE_DATA_DIR``; beside an INI settings file (tests,
    kiosks); else the platform's application data folder (``~/.local/share/SpineCase/SpineCase`` on Linux).
    None for in-memory settings (``--screenshot`` writes nothing)."""
    env = os.environ.get("SPINECASE_DATA_DIR")
    if env:
        return Path(env)
    if not getattr(settings, "persistent", True):
        return None
    ini = settings.file_path() if hasattr(settings, "file_path") else None
    if ini is not None:
        return ini.parent
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)
    return Path(base) if base else None


def default_recovery_dir(settings: object) -> Path | None:
    """Where a never-saved case autosaves: ``$SPINECASE_RECOVERY_DIR``, else ``recovery/`` in the user's data
    folder (:func:`user_data_dir`). None for in-memory settings (``--screenshot`` writes nothing)."""
    env = os.environ.get("SPINECASE_RECOVERY_DIR")
    if env:
        return Path(env)
    data = user_data_dir(settings)
    return data / "recovery" if data is not None else None


BUNDLED_SAMPLES = Path(__file__).resolve().parents[1] / "sample_dicoms"
"""The sample cases shipped with the source tree: read-only references (see :func:`bundled_sample`)."""


def bundled_sample(path: Path, samples_root: Path = BUNDLED_SAMPLES) -> Path | None:
    """The sample folder (``sample_dicoms/<case>``) a case file belongs to, or None when it is not one of
    the bundled samples. A bundled sample is never written: it opens as a working copy."""
    try:
        rel = path.resolve().relative_to(samples_root.resolve())
    except (ValueError, OSError):
        return None
    return samples_root / rel.parts[0] if len(rel.parts) > 1 else None


class CasePrompts:
    """The questions the case feature asks, as modal dialogs (tests replace this object)."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def _ask(self, icon: QMessageBox.Icon, title: str, text: str, buttons: list[tuple[str, QMessageBox.ButtonRole,
                                                                                        str]], default: str) -> str:
        box = QMessageBox(icon, title, text, QMessageBox.NoButton, self.parent)
        made = {}
        for label, role, answer in buttons:
            made[box.addButton(label, role)] = answer
        for b, answer in made.items():
            if answer == default:
                box.setDefaultButton(b)
        box.exec()
        return made.get(box.clickedButton(), default)

    def save_changes(self, name: str) -> str:
        """"save", "discard" or "cancel"."""
        return self._ask(QMessageBox.Warning, "Unsaved changes", f"Save the changes to {name}?",
                         [("Save", QMessageBox.AcceptRole, "save"), ("Discard", QMessageBox.DestructiveRole, "discard"),
                          ("Cancel", QMessageBox.RejectRole, "cancel")], "save")

    def recover(self, text: str) -> str:
        """"recover", "discard" or "later"."""
        return self._ask(QMessageBox.Question, "Recover unsaved changes", text,
                         [("Recover", QMessageBox.AcceptRole, "recover"),
                          ("Discard", QMessageBox.DestructiveRole, "discard"),
                          ("Not Now", QMessageBox.RejectRole, "later")], "recover")

    def open_backup(self, text: str) -> bool:
        return self._ask(QMessageBox.Critical, "Cannot open the case", text,
                         [("Open Backup", QMessageBox.AcceptRole, "yes"), ("Cancel", QMessageBox.RejectRole, "no")],
                         "yes") == "yes"

    def locate_data(self, text: str) -> bool:
        return self._ask(QMessageBox.Warning, "Series not found", text,
                         [("Locate Data\u2026", QMessageBox.AcceptRole, "yes"),
                          ("Not Now", QMessageBox.RejectRole, "no")], "yes") == "yes"

    def other_patient(self, text: str) -> str:
        """"close" (close the case, then open the images), "view" (open them to look at only) or "cancel"."""
        return self._ask(QMessageBox.Warning, "Another patient", text,
                         [("Close Case and Open", QMessageBox.AcceptRole, "close"),
                          ("View Only", QMessageBox.NoRole, "view"),
                          ("Cancel", QMessageBox.RejectRole, "cancel")], "cancel")

    def open_path(self, start: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open Case", start, f"{CASE_FILTER};;All files (*)")
        return path or None

    def save_path(self, title: str, suggested: str, file_filter: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, file_filter)
        return path or None

    def folder(self, title: str, start: str) -> str | None:
        return QFileDialog.getExistingDirectory(self.parent, title, start) or None


class CaseFeature(QObject):
    """The case's life on disk for one main window (see the module docstring)."""

    caseOpened = Signal(str)
    caseSaved = Signal(str)
    exported = Signal(str, str)  # kind, path

    def __init__(self, window: MainWindow, *, clock: Callable[[], float] = time.monotonic,
                 recovery_dir: Path | None | str = "default") -> None:
        super().__init__(window)
        self.window = window
        self.clock = clock
        self.prompts = CasePrompts(window)
        self.interactive = QGuiApplication.platformName() not in ("offscreen", "minimal")
        self.recovery_dir: Path | None = (default_recovery_dir(window.settings) if recovery_dir == "default"
                                          else (Path(recovery_dir) if recovery_dir is not None else None))
        self.document: CaseDocument | None = None
        self.policy = AutosavePolicy()
        self.missing_series: list[SeriesRef] = []
        self.report_dialog: ReportDataDialog | None = None
        self.last_recovery_file: Path | None = None
        self._pending_focus: Callable[[Volume], None] | None = None
        self._last_lock_refresh = clock()
        self._build_actions()
        window.case.changed.connect(self._on_edited)
        window.case.readOnlyChanged.connect(lambda _on: self._refresh_title())
        window.undo_stack.cleanChanged.connect(self._on_clean_changed)
        window.title_parts.append(self.title_text)
        window.close_guards.append(self._close_guard)
        window.aboutToClose.connect(self._on_window_closing)
        window.register_path_handler(is_case_path, self.open_case)
        window.scan_guards.append(self._guard_other_patient)
        window.case.patient_of_series = self.patient_of_series
        self.timer = QTimer(self)
        self.timer.setObjectName("CaseAutosaveTimer")
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.autosave_tick)
        self.timer.start()
        self._refresh_title()

    # =====================================================================================================
    # Menus
    # =====================================================================================================
    def _build_actions(self) -> None:
        w = self.window

        def act(text: str, slot: Callable[[], object], name: str, shortcut: QKeySequence | str | None = None,
                tip: str = "") -> QAction:
            a = QAction(text, w)
            a.setObjectName(name)
            a.triggered.connect(lambda _=False: slot())
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            if tip:
                a.setStatusTip(tip)
            return a

        self.act_new_case = act("&New Case", self.new_case, "case_new", "Ctrl+N", "Start an empty case")
        self.act_open_case = act("Open &Case\u2026", self.open_case_dialog, "case_open", tip="Open a case file")
        self.act_save = act("&Save", self.save, "case_save", QKeySequence.Save, "Save the case")
        self.act_save_as = act("Save &As\u2026", self.save_as, "case_save_as", QKeySequence.SaveAs,
                               "Save the case to a new file")
        self.act_report_data = act("Report &Data\u2026", self.edit_report_data, "case_report_data",
                                   tip="Patient and the source's report data")
        self.act_locate_data = act("&Locate Case Data\u2026", self.locate_data, "case_locate_data",
                                   tip="Search a folder for the case's series that were not found")
        self.export_menu = QMenu("&Export", w)
        self.export_menu.setObjectName("case_export_menu")
        self.export_actions: dict[str, QAction] = {}
        for kind in export_specs():
            a = act(kind.menu_label, lambda k=kind.key: self.export(k), f"case_export_{kind.key}",
                    tip=f"Export the case as {kind.what}")
            self.export_menu.addAction(a)
            self.export_actions[kind.key] = a
        menu = w.file_menu
        before = w.act_quit
        for a in (self.act_new_case, self.act_open_case, self.act_save, self.act_save_as):
            menu.insertAction(before, a)
        menu.insertSeparator(before)
        menu.insertAction(before, self.act_report_data)
        menu.insertMenu(before, self.export_menu)
        menu.insertAction(before, self.act_locate_data)
        menu.insertSeparator(before)
        self._update_actions()

    def _update_actions(self) -> None:
        # Save stays enabled on a read-only case: pressing it says why nothing was saved.
        self.act_locate_data.setEnabled(bool(self.missing_series))

    # =====================================================================================================
    # State
    # =====================================================================================================
    @property
    def path(self) -> Path | None:
        """The case file (None for a case never saved)."""
        return self.document.path if self.document is not None else None

    @property
    def reader(self) -> str:
        return self.window.case.reader

    def is_modified(self) -> bool:
        return not self.window.undo_stack.isClean()

    def title_text(self) -> str:
        name = case_display_name(self.path)
        if self.window.case.read_only:
            name += " (read-only)"
        return name + "[*]"

    def _refresh_title(self) -> None:
        self.window.refresh_title()
        self.window.setWindowModified(self.is_modified())
        self._update_actions()

    def _on_clean_changed(self, clean: bool) -> None:
        with contextlib.suppress(RuntimeError):  # the window is being destroyed
            self.window.setWindowModified(not clean)

    def _on_edited(self, _collection: str = "", _obj_id: str = "") -> None:
        self.policy.edited(self.clock())

    def _message(self, text: str, level: str = "info", details: str = "", scope: str = "case") -> None:
        """A message about the open case (it leaves when another case is opened)."""
        self.window.show_message(text, level, details, scope)

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 6000)

    def _settings_set(self, key: str, value: str) -> None:
        self.window.settings.set_value(key, value)
        self.window.settings.sync()

    # =====================================================================================================
    # New / Open
    # =====================================================================================================
    def new_case(self) -> bool:
        """Start an empty case (asks to save the current one first)."""
        if not self.maybe_save_changes():
            return False
        self._close_document()
        self.window.case.set_case(Case())
        self._after_case_replaced()
        self._settings_set(OPEN_CASE_KEY, "")
        self._status("New case")
        return True

    def open_case_dialog(self) -> bool:
        start = str(self.path.parent) if self.path else self.window.settings.last_directory()
        path = self.prompts.open_path(start)
        if not path:
            return False
        self.window.settings.set_last_directory(str(Path(path).parent))
        return self.open_case(path)

    def open_case(self, path: str | os.PathLike[str], *, recover: bool | None = None) -> bool:
        """Open a case file and load its series. ``recover`` answers the recovery question in advance
        (True: take the recovery file; False: keep the saved case)."""
        p = Path(path).absolute()
        if self.path is not None and self.document is not None and p == self.path.absolute():
            self._message(f"{p.name} is already open.", "info")
            return True
        read_only = not getattr(self.window.settings, "persistent", True)  # --screenshot: touch nothing
        sample = bundled_sample(p) if not read_only else None
        if sample is not None:
            return self._open_sample_copy(p, sample, recover)
        if not self.maybe_save_changes():
            return False
        try:
            doc = CaseDocument.open(p, read_only=read_only)
        except CaseFileError as exc:
            return self._open_failed(p, exc)
        if read_only:
            doc.read_only_reason = ""
        elif doc.read_only:
            holder = read_lock(p)
            who = holder.describe() if holder is not None else "another SpineCase"
            doc.read_only_reason = f"{who} has it open for editing"
        self._adopt(doc, recover)
        return True

    def sample_copy_path(self, case_path: Path, sample: Path) -> Path | None:
        """Where the working copy of a bundled sample case lives: ``samples/<case>/`` in the user's data
        folder (None without one)."""
        data = user_data_dir(self.window.settings)
        return data / "samples" / sample.name / case_path.name if data is not None else None

    def _open_sample_copy(self, case_path: Path, sample: Path, recover: bool | None) -> bool:
        """A bundled sample is a read-only reference: the reader works on a copy in their data folder (made
        on first open, its series pointing at the sample's images), and the sample is never written."""
        copy = self.sample_copy_path(case_path, sample)
        if copy is None:
            self._message("The sample case cannot be copied: there is no user data folder.", "error")
            return False
        if self.path is not None and self.document is not None and copy.absolute() == self.path.absolute():
            self._message(f"Your copy of the sample is already open: {copy}.", "info")
            return True
        if not self.maybe_save_changes():
            return False
        made = not copy.exists()
        if made:
            try:
                case = load_case(case_path)
            except CaseFileError as exc:
                return self._open_failed(case_path, exc)
            for ref in case.series:  # the images stay in the sample folder: absolute path hints
                if ref.path_hint and not Path(ref.path_hint).is_absolute():
                    ref.path_hint = (case_path.parent / ref.path_hint).resolve().as_posix()
            case.log(self.reader, "create", f"working copy of the bundled sample {sample.name}", object_type="case")
            try:
                copy.parent.mkdir(parents=True, exist_ok=True)
                save_case(case, copy, backup=False)
            except (CaseFileError, OSError) as exc:
                self._message(f"The sample case could not be copied to {copy}: {exc}", "error")
                return False
        opened = self.open_case(copy, recover=recover)
        if opened:
            what = "a copy" if made else "your copy"
            self._message(f"{sample.name} is a bundled sample and stays as it is: you are working on {what} in "
                          f"{copy.parent}. Save writes there.", "info")
        return opened

    def _open_failed(self, path: Path, exc: CaseFileError) -> bool:
        problem = str(exc)
        self._message(f"Cannot open the case: {problem}", "error")
        backup = exc.backup
        if backup is None or not self.interactive:
            return False
        if self.prompts.open_backup(f"{problem}.\n\nOpen the previous version ({backup.name}) instead?"):
            return self.open_backup(path, backup)
        return False

    def open_backup(self, case_path: str | os.PathLike[str], backup: str | os.PathLike[str]) -> bool:
        """Open the ``.bak`` of a case whose file cannot be read. The case keeps its file name: saving
        writes the case file again (and the unreadable file is then kept as the new ``.bak``)."""
        cp, bp = Path(case_path).absolute(), Path(backup)
        try:
            case = load_case(bp)
        except CaseFileError as exc:
            self._message(f"The backup cannot be opened either: {exc}", "error")
            return False
        read_only, reason, lock = False, "", None
        try:
            lock = CaseLock.acquire(cp)
        except CaseLocked as exc:
            read_only, reason = True, f"{exc.holder.describe()} has it open for editing"
        doc = CaseDocument(case, cp, lock, read_only, reason)
        self._adopt(doc, recover=False, note=f"opened from the backup {bp.name}")
        if not read_only:
            self.window.undo_stack.resetClean()  # unsaved: saving repairs the case file
        self._message(f"Opened the backup {bp.name}: {cp.name} could not be read. Save to write the case file "
                      f"again; the unreadable file is then kept as {bp.name}.", "warning")
        return True

    def _adopt(self, doc: CaseDocument, recover: bool | None, note: str = "") -> None:
        """Make ``doc`` the open case: recovery question, set the case, messages, series."""
        self._close_document()
        self.document = doc
        case = doc.case
        recovered = False
        if doc.recovery is not None:
            info = doc.recovery
            answer = ("recover" if recover else "discard") if recover is not None else (
                self.prompts.recover(f"{doc.path.name if doc.path else 'The case'} has unsaved changes from "
                                     f"{_local_time(info.modified_utc)} that were never saved (SpineCase did not "
                                     "close normally). Recover them?") if self.interactive else "later")
            if answer == "recover":
                try:
                    case = doc.recover()
                    recovered = True
                except CaseFileError as exc:
                    self._message(f"The recovery file cannot be read: {exc}", "error")
            elif answer == "discard":
                doc.discard_recovery()
        path = doc.path
        summary = f"opened {path.name}" if path else "opened"
        if note:
            summary += f" ({note})"
        if recovered:
            summary += " with unsaved changes recovered from the recovery file"
        case.log(self.reader, "open", summary, object_type="case")
        self.window.case.set_case(case, read_only=doc.read_only)
        self._after_case_replaced()
        if recovered:
            self.window.undo_stack.resetClean()
            self._message(f"Recovered unsaved changes to {path.name if path else 'the case'}. Save to keep them.",
                          "info")
        if doc.read_only and doc.read_only_reason:
            self._message(f"{path.name if path else 'The case'} is open read-only: {doc.read_only_reason}. "
                          "Changes are refused and cannot be saved to it; Save As keeps a copy you can edit.",
                          "warning")
        if path is not None and getattr(self.window.settings, "persistent", True):
            self.window.settings.add_recent(str(path))
            if not doc.read_only:
                self._settings_set(OPEN_CASE_KEY, str(path))
        self._refresh_title()
        self.load_case_series()
        self.caseOpened.emit(str(path) if path else "")

    def _after_case_replaced(self) -> None:
        self.window.message_bar.clear_scope("case")  # the messages of the case that was open
        self._drop_pending_focus()
        self.policy = AutosavePolicy()
        self.missing_series = []
        self._refresh_title()

    def _close_document(self) -> None:
        if self.document is not None:
            self.document.close()
        self.document = None

    # =====================================================================================================
    # Series of the case
    # =====================================================================================================
    def _series_location(self, ref: SeriesRef) -> Path | None:
        if not ref.path_hint:
            return None
        hint = Path(ref.path_hint)
        if hint.is_absolute():
            loc = hint
        elif self.path is not None:
            loc = self.path.parent / hint
        else:
            return None
        return loc if loc.exists() else None

    def load_case_series(self) -> list[Path]:
        """Open the folders of the case's series (path hints relative to the case file); name the ones not
        found. Returns the folders opened."""
        case = self.window.case.case
        folders: list[Path] = []
        missing: list[SeriesRef] = []
        found: list[SeriesRef] = []
        for ref in case.series:
            loc = self._series_location(ref)
            if loc is None:
                missing.append(ref)
                continue
            found.append(ref)
            folder = loc.parent if loc.is_file() else loc
            if folder not in folders:
                folders.append(folder)
        self.missing_series = missing
        self._update_actions()
        if folders:
            preferred = self._preferred_series(found)
            self._focus_when_shown(preferred)
            self.window.open_paths([str(f) for f in folders], series=preferred)
        if missing:
            names = "; ".join(f"{r.description or r.modality or 'series'} ({r.series_instance_uid}, path hint "
                              f"{r.path_hint!r})" for r in missing)
            where = self.path.parent if self.path else "the case file's folder"
            n, total = len(missing), len(case.series)
            head = ("The case's series was not found" if total == 1 else
                    f"None of the case's {total} series was found" if n == total else
                    f"{n} of the case's {total} series {'was' if n == 1 else 'were'} not found")
            text = (f"{head} (path hints are relative to {where}). Use File > Locate Case Data\u2026 to search a "
                    f"folder for {'it' if n == 1 else 'them'}.")
            self._message(text, "warning", names)
            if self.interactive and self.prompts.locate_data(text + "\n\n" + names.replace("; ", "\n")):
                self.locate_data()
        return folders

    def _focus_when_shown(self, uid: str | None) -> None:
        """When ``uid`` is shown, put the cursor on its first measurement (so the views show it)."""
        self._drop_pending_focus()
        m = next((m for m in self.window.case.case.measurements if m.series_instance_uid == uid), None)
        if uid is None or m is None:
            return
        target = np.mean(np.asarray(m.points, dtype=np.float64), axis=0)

        def on_shown(volume: Volume) -> None:
            if volume.metadata.series_instance_uid == uid:
                self._drop_pending_focus()
                self.window.grid.mpr.set_cursor(target)

        self._pending_focus = on_shown
        self.window.seriesShown.connect(on_shown)

    def _drop_pending_focus(self) -> None:
        if self._pending_focus is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self.window.seriesShown.disconnect(self._pending_focus)
            self._pending_focus = None

    def _preferred_series(self, refs: list[SeriesRef]) -> str | None:
        """The series to show first: the one with the most measurements, else the first."""
        if not refs:
            return None
        counts = {r.series_instance_uid: 0 for r in refs}
        for m in self.window.case.case.measurements:
            if m.series_instance_uid in counts:
                counts[m.series_instance_uid] += 1
        return max(refs, key=lambda r: counts[r.series_instance_uid]).series_instance_uid

    def locate_data(self, folder: str | os.PathLike[str] | None = None) -> bool:
        """Search a folder (asked when not given) for the series not found; returns True when a search
        started. The found locations become the series' path hints ("Locate case data", undoable)."""
        if not self.missing_series:
            self._message("Every series of the case was found; there is nothing to locate.", "info")
            return False
        if folder is None:
            start = str(self.path.parent) if self.path else self.window.settings.last_directory()
            chosen = self.prompts.folder("Locate the Case's DICOM Data", start)
            if not chosen:
                return False
            folder = chosen
        root = Path(folder)
        uids = [r.series_instance_uid for r in self.missing_series]
        from app.loading import Job

        job = Job(lambda _progress, _cancel: find_series(root, uids),
                  f"Searching {root.name or root} for {len(uids)} series")
        job.finished.connect(lambda found: self._on_located(root, found))
        job.failed.connect(lambda msg: self._message(f"Searching {root} failed: {msg}", "error"))
        start = getattr(self.window, "start_job", None) or self.window.jobs.start
        start(job)
        return True

    def _on_located(self, root: Path, found: dict[str, Path]) -> None:
        wanted = {r.series_instance_uid: r for r in self.missing_series}
        hits = {uid: loc for uid, loc in found.items() if uid in wanted}
        if not hits:
            self._message(f"None of the {len(wanted)} missing series is in {root}.", "warning")
            return
        ctl = self.window.case
        if not ctl.read_only:
            with ctl.macro("Locate case data"):
                for uid, loc in hits.items():
                    ref = ctl.case.series_ref(uid)
                    if ref is not None:
                        ctl.update(ref.id, text="Relink series", path_hint=self._hint_for(loc))
        self.missing_series = [r for r in self.missing_series if r.series_instance_uid not in hits]
        self._update_actions()
        self.window.open_paths([str(p) for p in dict.fromkeys(hits.values())],
                               series=self._preferred_series([wanted[u] for u in hits]))
        text = f"Found {len(hits)} of {len(wanted)} missing series in {root}."
        if ctl.read_only:
            text += " The case is read-only: the new locations are used now but not saved."
        if self.missing_series:
            text += f" Still missing: {', '.join(r.description or r.series_instance_uid for r in self.missing_series)}."
        self._message(text, "info" if not self.missing_series else "warning")

    def _hint_for(self, location: Path, base: Path | None = None) -> str:
        """A path hint for ``location``: POSIX, relative to the case file's folder (absolute while the case
        has no file; made relative at its first save)."""
        base = base if base is not None else (self.path.parent if self.path else None)
        if base is None:
            return Path(location).absolute().as_posix()
        return Path(os.path.relpath(Path(location).absolute(), Path(base).absolute())).as_posix()

    # =====================================================================================================
    # One case, one patient
    # =====================================================================================================
    def patient_of_series(self, series_uid: str) -> Patient | None:
        """Who a series' images show (from the loaded volume, else the scanned headers); None when unknown."""
        for vol in self.window.volumes().values():
            md = vol.metadata
            if md.series_instance_uid == series_uid:
                return patient_from_images(md.patient_id, md.patient_name, md.patient_sex, md.patient_age)
        for info in self.window.series_infos():
            if info.series_uid == series_uid:
                return patient_from_images(info.patient_id, info.patient_name)
        return None

    def _guard_other_patient(self, result: ScanResult) -> bool:
        """Before scanned series are shown: images of another patient than the case's offer to close the case
        first (Close Case and Open / View Only / Cancel). False drops them."""
        case = self.window.case.case
        if not (case.patient.id or case.patient.name):
            return True
        others = sorted({(i.patient_name or "no name").replace("^", ", ", 1).replace("^", " ")
                         + (f" (ID {i.patient_id})" if i.patient_id else "")
                         for i in result if patient_conflict(case.patient, patient_from_images(i.patient_id,
                                                                                                i.patient_name))})
        if not others:
            return True
        mine = (case.patient.name or "").replace("^", ", ", 1).replace("^", " ") or case.patient.id
        text = (f"The images being opened show {', '.join(others)}, but the open case "
                f"({case_display_name(self.path)}) is {mine}. A case holds one patient.\n\n"
                "Close the case first (you are asked to save it), or open the images only to look at them "
                "(nothing can be recorded on them in this case)?")
        answer = self.prompts.other_patient(text) if self.interactive else "view"
        if answer == "cancel":
            return False
        if answer == "close":
            if not self.new_case():
                return False
            self._message(f"Closed {case_display_name(self.path) if self.path else 'the case'}: the images of "
                          f"{', '.join(others)} open in a new case.", "info")
            return True
        self._message(f"Opened images of {', '.join(others)} to view only: the case is {mine}; measurements, "
                      "levels and grades on them are refused.", "warning")
        return True

    def _volumes_by_uid(self) -> dict[str, Volume]:
        out: dict[str, Volume] = {}
        for vol in self.window.volumes().values():
            uid = vol.metadata.series_instance_uid
            if uid and uid not in out:
                out[uid] = vol
        return out

    def _add_series_refs(self, case: Case, base: Path, old_base: Path | None) -> list[str]:
        """Bookkeeping before a save or an export (audited, not undoable): the reader who edited, a reference for every
        loaded series (and its study), and every path hint relative to ``base`` (the folder the case file
        goes to; ``old_base`` the folder it was in). Returns the ids of the objects added or changed."""
        changed: list[str] = []
        who = self.reader
        edited = any(a.who == who and a.action in ("add", "update", "remove") for a in case.audit)
        if who and edited and all(r.name != who for r in case.readers):  # who annotated is a reader
            reader = Reader(name=who)
            case.add(reader, who=who)
            changed.append(reader.id)
        volumes = self._volumes_by_uid()
        if not (case.patient.id or case.patient.name):
            # the case does not say who it is yet: the patient of its annotated series, else of the images shown
            annotated = [u for u in volumes if any(m.series_instance_uid == u for m in case.measurements)]
            shown = self.window.current_volume()
            source = volumes[annotated[0]] if annotated else shown
            if source is not None and (source.metadata.patient_id or source.metadata.patient_name):
                md = source.metadata
                case.set_patient(patient_from_images(md.patient_id, md.patient_name, md.patient_sex,
                                                     md.patient_age), who=who)
        for uid, vol in volumes.items():
            md = vol.metadata
            if patient_conflict(case.patient, patient_from_images(md.patient_id, md.patient_name)):
                continue  # images of another patient, open to view only: never part of this case
            files = [Path(f) for f in md.files if f]
            folder = Path(os.path.commonpath([str(f.parent) for f in files])) if files else None
            ref = case.series_ref(uid)
            if ref is None:
                if md.study_instance_uid and case.study_ref(md.study_instance_uid) is None:
                    study = Study(study_instance_uid=md.study_instance_uid, study_date=_dicom_date(md.study_date),
                                  description=md.study_description)
                    case.add(study, who=who)
                    changed.append(study.id)
                ref = SeriesRef(series_instance_uid=uid, study_instance_uid=md.study_instance_uid or None,
                                modality=vol.modality, description=md.series_description,
                                series_number=md.series_number,
                                frame_of_reference_uid=md.frame_of_reference_uid or None,
                                path_hint=self._hint_for(folder, base) if folder is not None else None,
                                slice_thickness_mm=md.slice_thickness if (md.slice_thickness or 0) > 0 else None)
                case.add(ref, who=who)
                changed.append(ref.id)
            elif folder is not None and self._series_location(ref) is None:
                # the hint does not lead to the data (moved, or never resolvable): point it at what is loaded
                case.update(ref.id, path_hint=self._hint_for(folder, base), who=who)
                changed.append(ref.id)
        for ref in list(case.series):
            if not ref.path_hint or ref.id in changed:
                continue
            hint = Path(ref.path_hint)
            if hint.is_absolute():
                target = hint
            elif old_base is not None and old_base.absolute() != base.absolute():
                target = old_base / hint  # the same place, seen from the new folder
            else:
                continue
            new_hint = self._hint_for(target, base)
            if new_hint != ref.path_hint:
                case.update(ref.id, path_hint=new_hint, who=who)
                changed.append(ref.id)
        return changed

    # =====================================================================================================
    # Save
    # =====================================================================================================
    def save(self) -> bool:
        """Save to the case file (Save As when the case has none). False when refused or failed."""
        doc = self.document
        if doc is None or doc.path is None:
            return self.save_as()
        if doc.read_only:
            self._message(f"{doc.path.name} is open read-only ({doc.read_only_reason or 'opened read-only'}); it was "
                          "not saved. Use Save As to save a copy.", "error")
            return False
        case = self.window.case.case
        for obj_id in self._add_series_refs(case, doc.path.parent, None):
            self.window.case.changed.emit("series", obj_id)
        doc.case = case
        try:
            doc.save()
        except CaseFileError as exc:
            self._message(f"Not saved: {exc}", "error")
            return False
        except OSError as exc:
            self._message(f"Not saved: {doc.path}: {exc.strerror or exc}", "error")
            return False
        self._saved(doc.path)
        return True

    def save_as(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Save to a new file (asked when not given); the case then belongs to that file."""
        if path is None:
            suggested = str(self.path) if self.path else str(Path(self.window.settings.last_directory() or ".")
                                                             / f"case{CASE_SUFFIX}")
            chosen = self.prompts.save_path("Save Case As", suggested, CASE_FILTER)
            if not chosen:
                return False
            path = chosen
        p = Path(path).absolute()
        if not p.name.lower().endswith(CASE_SUFFIX):
            p = p.with_name((p.name[:-5] if p.name.lower().endswith(".json") else p.name) + CASE_SUFFIX)
        case = self.window.case.case
        old_base = self.path.parent if self.path else None
        untitled = self._untitled_path() if self.document is None else None
        for obj_id in self._add_series_refs(case, p.parent, old_base):
            self.window.case.changed.emit("series", obj_id)
        doc = self.document or CaseDocument.new(case)
        doc.case = case
        try:
            doc.save_as(p)
        except CaseFileError as exc:
            self._message(f"Not saved: {exc}", "error")
            return False
        except OSError as exc:  # e.g. no such folder, no permission (the lock could not be made)
            self._message(f"Not saved: {p}: {exc.strerror or exc}", "error")
            return False
        self.document = doc
        if untitled is not None:
            with contextlib.suppress(OSError):
                recovery_path(untitled).unlink()
        if self.window.case.read_only:
            self.window.case.set_read_only(False)
        self.window.settings.set_last_directory(str(p.parent))
        self._saved(p)
        return True

    def _saved(self, path: Path) -> None:
        self.window.undo_stack.setClean()
        self.policy.saved(self.clock())
        if getattr(self.window.settings, "persistent", True):
            self.window.settings.add_recent(str(path))
            self._settings_set(OPEN_CASE_KEY, str(path))
        self._refresh_title()
        self._status(f"Saved {path}")
        self.caseSaved.emit(str(path))

    def maybe_save_changes(self) -> bool:
        """Before the case is replaced or the window closes: ask Save / Discard / Cancel when there are
        unsaved changes. False means stop. Without a person to ask the changes go to the recovery file."""
        if not self.is_modified():
            return True
        if not self.interactive:
            self.write_recovery_now()
            return True
        answer = self.prompts.save_changes(case_display_name(self.path))
        if answer == "cancel":
            return False
        if answer == "save":
            return self.save()
        self.discard_recovery()
        return True

    def discard_recovery(self) -> None:
        """Forget the unsaved changes' recovery file (the user chose Discard)."""
        if self.document is not None and self.document.path is not None:
            self.document.discard_recovery()
        else:
            untitled = self._untitled_path()
            if untitled is not None:
                with contextlib.suppress(OSError):
                    recovery_path(untitled).unlink()
        self.policy.saved(self.clock())

    def _close_guard(self) -> bool:
        """Before the window closes: Save / Discard / Cancel (False keeps the window open)."""
        return self.maybe_save_changes()

    def _on_window_closing(self) -> None:
        """The window closes: release the lock; forget the open case unless its changes wait in the
        recovery file (closed without anyone to ask), so the next start offers them."""
        modified = self.is_modified()
        if self.report_dialog is not None:
            self.report_dialog.close()
        self._close_document()
        self.timer.stop()
        if not modified or self.interactive:
            self._settings_set(OPEN_CASE_KEY, "")

    # =====================================================================================================
    # Autosave and recovery
    # =====================================================================================================
    def _untitled_path(self) -> Path | None:
        """The would-be case file of a never-saved case, in the recovery folder (its recovery file is this
        path + '.recovery')."""
        if self.recovery_dir is None:
            return None
        return self.recovery_dir / f"{UNTITLED_PREFIX}{os.getpid()}-{self.window.case.case.case_id}{CASE_SUFFIX}"

    def autosave_tick(self) -> Path | None:
        """The timer's tick: write the recovery file when the policy says so; keep the lock fresh."""
        now = self.clock()
        if self.policy.due(now):
            return self.write_recovery_now()
        if now - self._last_lock_refresh >= LOCK_REFRESH_S and self.document is not None \
                and self.document.lock is not None:
            self.document.lock.refresh()
            self._last_lock_refresh = now
        return None

    def write_recovery_now(self) -> Path | None:
        """Write the unsaved changes to the recovery file now (nothing for a read-only case)."""
        now = self.clock()
        case = self.window.case.case
        written: Path | None = None
        try:
            if self.window.case.read_only:
                written = None
            elif self.document is not None and self.document.path is not None:
                self.document.case = case
                written = self.document.write_recovery()
                self._last_lock_refresh = now
            else:
                untitled = self._untitled_path()
                if untitled is not None:
                    untitled.parent.mkdir(parents=True, exist_ok=True)
                    written = write_recovery(case, untitled)
        except (CaseFileError, OSError) as exc:
            self._message(f"Autosave failed: {exc}", "warning")
        self.policy.written(now)
        if written is not None:
            self.last_recovery_file = written
        return written

    def pending_recoveries(self) -> list[tuple[str, Path, Path | None]]:
        """Unsaved work left by a SpineCase that did not close: ``("case", recovery file, case file)`` for the
        case that was open, ``("untitled", recovery file, None)`` for never-saved cases; newest first."""
        out: list[tuple[str, Path, Path | None, float]] = []
        last = str(self.window.settings.value(OPEN_CASE_KEY, "") or "")
        if last:
            info = find_recovery(last)
            if info is not None:
                out.append(("case", info.path, Path(last), info.path.stat().st_mtime))
        if self.recovery_dir is not None and self.recovery_dir.is_dir():
            for f in self.recovery_dir.glob(f"{UNTITLED_PREFIX}*{CASE_SUFFIX}.recovery"):
                pid_text = f.name[len(UNTITLED_PREFIX):].split("-", 1)[0]
                pid = int(pid_text) if pid_text.isdigit() else 0
                if pid == os.getpid() or pid_alive(pid):
                    continue  # this session's, or another running SpineCase's
                with contextlib.suppress(OSError):
                    out.append(("untitled", f, None, f.stat().st_mtime))
        out.sort(key=lambda t: -t[3])
        return [(k, r, c) for k, r, c, _ in out]

    def offer_startup_recovery(self) -> bool:
        """At start-up: offer the newest unsaved work left by a SpineCase that did not close. True when
        something was recovered."""
        # A case already open in this session asked its own recovery question when it was opened (e.g. the
        # case named on the command line): never ask twice.
        here = self.path.absolute() if self.path is not None else None
        pending = [(k, r, c) for k, r, c in self.pending_recoveries()
                   if not (k == "case" and c is not None and here is not None and c.absolute() == here)]
        if not pending:
            return False
        kind, rec, case_path = pending[0]
        when = _local_time(datetime.fromtimestamp(rec.stat().st_mtime, UTC))
        if kind == "case":
            text = (f"SpineCase did not close normally while {case_path.name if case_path else 'a case'} was open. "
                    f"Unsaved changes from {when} were found. Open the case and recover them?")
        else:
            text = f"SpineCase did not close normally. A new case that was never saved has changes from {when}. " \
                   "Recover it?"
        answer = self.prompts.recover(text)
        if answer == "later":
            return False
        if kind == "case" and case_path is not None:
            if answer == "discard":
                with contextlib.suppress(OSError):
                    rec.unlink()
                self._settings_set(OPEN_CASE_KEY, "")
                return False
            return self.open_case(case_path, recover=True)
        if answer == "discard":
            with contextlib.suppress(OSError):
                rec.unlink()
            return False
        return self.open_untitled_recovery(rec)

    def open_untitled_recovery(self, recovery_file: str | os.PathLike[str]) -> bool:
        """Continue a never-saved case from its recovery file (which then becomes this session's)."""
        rf = Path(recovery_file)
        try:
            case = load_case(rf)
        except CaseFileError as exc:
            self._message(f"The recovery file cannot be read: {exc}", "error")
            return False
        self._close_document()
        case.log(self.reader, "open", f"recovered an unsaved new case from {rf.name}", object_type="case")
        self.window.case.set_case(case)
        self._after_case_replaced()
        self.window.undo_stack.resetClean()
        written = self.write_recovery_now()  # under this session's name, before the old file goes
        if written is not None and written.absolute() != rf.absolute():
            with contextlib.suppress(OSError):
                rf.unlink()
        self._message("Recovered a new case that was never saved. Use Save As to keep it.", "info")
        self.load_case_series()
        return True

    # =====================================================================================================
    # Report data
    # =====================================================================================================
    def edit_report_data(self) -> ReportDataDialog:
        """Show the report data form (non-modal); OK applies it as one undoable "Edit report data"."""
        if self.report_dialog is not None:
            self.report_dialog.close()
        dlg = ReportDataDialog(self.window)
        dlg.setAttribute(Qt.WA_DeleteOnClose, False)
        case = self.window.case.case
        dlg.set_values(case.patient, case.report)
        ctl = self.window.case
        reason = (self.document.read_only_reason if self.document is not None else "") or "opened read-only"
        dlg.set_read_only(ctl.read_only, reason if ctl.read_only else "")
        dlg.valuesAccepted.connect(self.apply_report_data)
        self.report_dialog = dlg
        dlg.show()
        dlg.raise_()
        return dlg

    def apply_report_data(self, patient: Patient, report: ReportData) -> bool:
        """Apply the form's values as one undo step; False when nothing changed or the edit was refused."""
        ctl = self.window.case
        case = ctl.case
        patient_changed, report_changed = patient != case.patient, report != case.report
        if not (patient_changed or report_changed):
            return False
        if ctl.read_only:
            self._message("This case is open read-only: the report data was not changed.", "error")
            return False
        try:
            with ctl.macro("Edit report data"):
                if patient_changed:
                    ctl.set_patient(patient, text="Edit patient")
                if report_changed:
                    ctl.set_report(report)
        except (ReadOnlyCaseError, ValueError) as exc:
            self._message(f"The report data was not changed: {exc}", "error")
            return False
        return True

    # =====================================================================================================
    # Exports
    # =====================================================================================================
    def export(self, kind: str, path: str | os.PathLike[str] | None = None) -> Path | None:
        """Write an export (``kind`` a key of the export registry); the file name is asked when not given.
        Returns the file written, None when cancelled or failed (with a message)."""
        specs = export_specs()
        spec = next((e for e in specs if e.key == kind), None)
        if spec is None:
            raise ValueError(f"unknown export {kind!r}; expected one of {', '.join(e.key for e in specs)}")
        if path is None:
            base = self.path.parent if self.path else Path(self.window.settings.last_directory() or ".")
            stem = case_display_name(self.path).replace("/", "-") if self.path else "case"
            chosen = self.prompts.save_path(f"Export {spec.what}", str(base / f"{stem}{spec.suffix}"),
                                            spec.file_filter)
            if not chosen:
                return None
            path = chosen
        out = Path(path).absolute()
        # Export a copy that names every loaded series (hints relative to the case file, or to the export's
        # folder for a case never saved) so nothing is lost because it was not saved yet.
        case = Case.model_validate(self.window.case.case.model_dump())
        base = self.path.parent if self.path else out.parent
        self._add_series_refs(case, base, None)
        case_path = self.path or (out.parent / f"unsaved{CASE_SUFFIX}")
        search = list(dict.fromkeys(Path(f).parent for v in self.window.volumes().values()
                                    for f in v.metadata.files[:1]))
        job = ExportJob(case, case_path, out, tuple(search), self._volumes_by_uid())
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            notes = spec.writer(job)
        except (LoadError, OSError, ValueError) as exc:
            self._message(f"{spec.what} not written: {exc}", "error", scope="")
            return None
        finally:
            QApplication.restoreOverrideCursor()
        self.window.case.case.log(self.reader, "export", f"{spec.what} written to {out.name}", object_type="case")
        self._message(f"Exported the {spec.what} to {out}." + (f" {len(notes)} note(s) in Details." if notes else ""),
                      "info", "\n".join(notes), scope="")
        self.window.settings.set_last_directory(str(out.parent))
        self.exported.emit(kind, str(out))
        return out


def _dicom_date(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) >= 8 else None
    except ValueError:
        return None


def _local_time(t: datetime) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M")


def install(window: MainWindow) -> CaseFeature:
    """Install the case feature (see the module docstring); offers start-up recovery when there is someone
    to ask."""
    feature = CaseFeature(window)
    window.case_feature = feature  # type: ignore[attr-defined]
    if feature.interactive:
        QTimer.singleShot(0, feature.offer_startup_recovery)
    return feature
