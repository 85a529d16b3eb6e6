"""DICOM interoperability in the app: open SRs and SEGs into the case.

``install(window)`` (after :mod:`app.feature_case`) adds

* File > Open DICOM SR or SEG... (and File > Open / drag and drop of such a file): a TID 1500 SR's
  measurements, findings, levels and grades (:func:`imaging.case.sr_import.import_sr`) or a SEG's outlines
  (:func:`imaging.case.export_seg.read_seg_outlines`) are added to the case as ONE undoable step ("Import
  ..."), each measurement on its image among the loaded series; what cannot be placed is listed with its
  reason in the message's details. A read-only case refuses.

The SEG and key-image (KOS) exports are entries of the export registry (:mod:`imaging.case.exports`), so
File > Export and ``spinecase export`` list them with the others.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QWidget

from imaging.case.model import Case
from imaging.errors import LoadError

if TYPE_CHECKING:  # pragma: no cover
    from app.feature_case import CaseFeature
    from app.main_window import MainWindow

__all__ = ["InteropFeature", "dicom_object_kind", "install"]

_SR_CLASSES = {"1.2.840.10008.5.1.4.1.1.88.11", "1.2.840.10008.5.1.4.1.1.88.22", "1.2.840.10008.5.1.4.1.1.88.33",
               "1.2.840.10008.5.1.4.1.1.88.34"}
_SEG_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def dicom_object_kind(path: str) -> str | None:
    """"sr" for a DICOM SR file, "seg" for a DICOM SEG file, else None (a folder, an image, not DICOM)."""
    if not os.path.isfile(path):
        return None
    try:
        import pydicom

        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID", "Modality"])
    except Exception:  # noqa: BLE001 - anything unreadable is simply not ours to open here
        return None
    sop = str(getattr(ds, "SOPClassUID", ""))
    if sop in _SR_CLASSES:
        return "sr"
    return "seg" if sop == _SEG_CLASS else None


class InteropPrompts:
    """The file dialogs (tests replace this object)."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def open_paths(self, start: str) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self.parent, "Open DICOM SR or SEG", start,
                                                "DICOM (*.dcm *.DCM);;All files (*)")
        return list(paths)


class InteropFeature(QObject):
    imported = Signal(str)  # summary

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.prompts = InteropPrompts(window)
        self.act_open = QAction("Open DICOM S&R or SEG\u2026", window)
        self.act_open.setObjectName("interop_open_sr")
        self.act_open.setStatusTip("Bring a DICOM SR's measurements and findings, or a SEG's outlines, into the case")
        self.act_open.triggered.connect(lambda _=False: self.open_dialog())
        case_feature: CaseFeature = window.case_feature  # type: ignore[attr-defined]  # set by feature_case (issue 13 phase 2: services)
        window.file_menu.insertAction(case_feature.act_report_data, self.act_open)
        window.register_path_handler(lambda p: dicom_object_kind(p) is not None, self._open_path)

    def _open_path(self, path: str) -> None:
        self.open_files([path])

    # -- open --------------------------------------------------------------------------------------------
    def open_dialog(self) -> bool:
        paths = self.prompts.open_paths(self.window.settings.last_directory() or "")
        return self.open_files(paths) if paths else False

    def open_files(self, paths: list[str]) -> bool:
        """Import SR and SEG files into the case (one undo step each). False when nothing was added."""
        ctl = self.window.case
        if ctl.read_only:
            self.window.show_message("This case is open read-only: nothing was imported.", "error")
            return False
        srs = [p for p in paths if dicom_object_kind(p) == "sr"]
        segs = [p for p in paths if dicom_object_kind(p) == "seg"]
        added = False
        if srs:
            added |= self._import_srs(srs)
        for p in segs:
            added |= self._import_seg(p)
        return added

    def _import_srs(self, paths: list[str]) -> bool:
        from imaging.case.analysis import compute_stats
        from imaging.case.sr_import import SeriesLookup, import_sr

        ctl = self.window.case
        volumes = self.window.volumes()
        try:
            result = import_sr(paths, ctl.case, SeriesLookup.from_volumes(volumes.values()))
        except LoadError as exc:
            self.window.show_message(f"The SR was not imported: {exc}", "error")
            return False
        by_uid = {v.metadata.series_instance_uid: v for v in volumes.values()}
        details = [f"{n.source}: {n.what}: {n.reason}" for n in result.not_placed]
        if result.measurements or result.findings:
            name = Path(paths[0]).name + (f" (+{len(paths) - 1})" if len(paths) > 1 else "")
            with ctl.macro(f"Import SR {name}"):
                for obj in [*result.studies, *result.series, *result.findings]:
                    ctl.add(obj)
                for m in result.measurements:
                    vol = by_uid.get(m.series_instance_uid or "")
                    if m.stats is None and vol is not None and m.spec.voxel_stats != "none":
                        with contextlib.suppress(ValueError):  # the values at the image, from the loaded voxels
                            m = m.model_copy(update={"stats": compute_stats(m, vol)})
                    ctl.add(m)
        level = "info" if not result.not_placed else "warning"
        self.window.show_message(result.summary() + (" Details list what could not be placed." if details else ""),
                                 level, "\n".join(details))
        self.imported.emit(result.summary())
        return bool(result.measurements or result.findings)

    def _import_seg(self, path: str) -> bool:
        import pydicom

        from imaging.case.export_seg import read_seg_outlines
        from imaging.case.model import Finding
        from imaging.case.sr_import import SeriesLookup

        ctl = self.window.case
        try:
            seg = pydicom.dcmread(path, stop_before_pixels=True)
            series_uid = str(seg.ReferencedSeriesSequence[0].SeriesInstanceUID)
        except Exception as exc:  # noqa: BLE001 - a broken SEG gets a message, never a traceback
            self.window.show_message(f"{Path(path).name}: not a readable DICOM SEG ({exc})", "error")
            return False
        vol = next((v for v in self.window.volumes().values() if v.metadata.series_instance_uid == series_uid), None)
        if vol is None:
            self.window.show_message(f"{Path(path).name}: its series ({series_uid}) is not open: open the series "
                                     "first, then the SEG.", "warning")
            return False
        headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in dict.fromkeys(vol.metadata.files) if f]
        try:
            outlines = read_seg_outlines(path, headers)
        except Exception as exc:  # noqa: BLE001
            self.window.show_message(f"{Path(path).name}: the SEG could not be read ({exc})", "error")
            return False
        if not outlines:
            self.window.show_message(f"{Path(path).name}: no segment lies on the images of its series.", "warning")
            return False
        lookup = SeriesLookup.from_volumes([vol])
        case: Case = ctl.case
        with ctl.macro(f"Import SEG {Path(path).name}"):
            by_label = {f.label: f for f in case.findings}
            target = None
            for o in outlines:
                label = o.label.split(" (", 1)[1].rstrip(")") if " (" in o.label else ""
                f = by_label.get(label) or target
                if f is None:
                    f = ctl.add(Finding(label=f"Outlines from {Path(path).stem}", reader=ctl.reader))
                    target = f
                img = lookup.image(o.sop_instance_uid)
                ctl.add(o.contour(img.slice_index if img else None, ctl.reader), parent_id=f.id)
        self.window.show_message(f"Imported {len(outlines)} outline(s) from {Path(path).name}.", "info")
        return True


def install(window: MainWindow) -> InteropFeature:
    feature = InteropFeature(window)
    window.interop_feature = feature  # type: ignore[attr-defined]  # features reach each other this way until issue 13 phase 2
    return feature
