"""Study/series browser: patient -> study (date, description) -> series (modality, description, image
count, thumbnail). A single click asks for the series in the active view (``seriesClicked(key)``);
double-click or Enter shows it as the main series of the layout (``seriesActivated(key)``); a series can be
dragged onto a slice view (mime type ``SERIES_MIME`` holding the series key)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from imaging.dicom.series import SeriesInfo
from widgets.overlays import format_date, format_person_name

SERIES_MIME = "application/x-spinecase-series"
KEY_ROLE = Qt.UserRole + 1
THUMB_SIZE = 64


def gray_pixmap(image: np.ndarray) -> QPixmap:
    """A QPixmap (deep copy) of a 2D uint8 array."""
    a = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = a.shape
    return QPixmap.fromImage(QImage(a.data, w, h, w, QImage.Format_Grayscale8).copy())


def _placeholder_icon(size: int = THUMB_SIZE) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(24, 26, 30))
    return QIcon(pm)


class SeriesBrowser(QTreeWidget):
    """The study/series tree (see the module docstring)."""

    seriesActivated = Signal(str)
    seriesClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SeriesBrowser")
        self.setHeaderHidden(True)
        self.setColumnCount(1)
        self.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.setIndentation(12)
        self.setUniformRowHeights(False)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragOnly)
        self.setAnimated(False)
        self._series: dict[str, QTreeWidgetItem] = {}
        self._infos: dict[str, SeriesInfo] = {}
        self._placeholder = _placeholder_icon()
        self.itemActivated.connect(self._on_activated)
        self.itemClicked.connect(self._on_clicked)

    # -- content ----------------------------------------------------------------------------------------
    def add_series(self, infos: Iterable[SeriesInfo]) -> None:
        """Add series (grouped under their patient and study); series already listed are kept."""
        for info in infos:
            if info.key in self._series:
                continue
            patient = self._child(self.invisibleRootItem(), f"patient:{info.patient_id}|{info.patient_name}",
                                  self._patient_text(info), bold=True)
            study = self._child(patient, f"study:{info.study_uid}", self._study_text(info))
            item = QTreeWidgetItem([self._series_text(info)])
            item.setData(0, KEY_ROLE, info.key)
            item.setIcon(0, self._placeholder)
            item.setToolTip(0, self._series_tooltip(info))
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
            study.addChild(item)
            self._series[info.key] = item
            self._infos[info.key] = info
            patient.setExpanded(True)
            study.setExpanded(True)
        self._sort_series()

    def clear_series(self) -> None:
        self.clear()
        self._series.clear()
        self._infos.clear()

    def series_keys(self) -> list[str]:
        return list(self._series)

    def ordered_keys(self) -> list[str]:
        """The series keys in the order the tree shows them (patient, study, series number)."""
        out: list[str] = []
        for p in range(self.topLevelItemCount()):
            patient = self.topLevelItem(p)
            for s in range(patient.childCount()):
                study = patient.child(s)
                for i in range(study.childCount()):
                    key = study.child(i).data(0, KEY_ROLE)
                    if key:
                        out.append(str(key))
        return out

    def series_info(self, key: str) -> SeriesInfo | None:
        return self._infos.get(key)

    def set_thumbnail(self, key: str, image: np.ndarray | None) -> None:
        item = self._series.get(key)
        if item is not None and image is not None:
            item.setIcon(0, QIcon(gray_pixmap(image)))

    def set_loaded(self, key: str, loaded: bool = True) -> None:
        """Mark a series as loaded (bold)."""
        item = self._series.get(key)
        if item is not None:
            f = item.font(0)
            f.setBold(loaded)
            item.setFont(0, f)

    def select_series(self, key: str) -> None:
        item = self._series.get(key)
        if item is not None:
            self.setCurrentItem(item)
            self.scrollToItem(item)

    # -- helpers ----------------------------------------------------------------------------------------
    def _child(self, parent: QTreeWidgetItem, key: str, text: str, bold: bool = False) -> QTreeWidgetItem:
        for i in range(parent.childCount()):
            c = parent.child(i)
            if c.data(0, KEY_ROLE + 1) == key:
                return c
        c = QTreeWidgetItem([text])
        c.setData(0, KEY_ROLE + 1, key)
        c.setFlags(Qt.ItemIsEnabled)
        if bold:
            f = QFont(c.font(0))
            f.setBold(True)
            c.setFont(0, f)
        parent.addChild(c)
        return c

    def _sort_series(self) -> None:
        for p in range(self.topLevelItemCount()):
            patient = self.topLevelItem(p)
            for s in range(patient.childCount()):
                study = patient.child(s)
                items = [study.takeChild(0) for _ in range(study.childCount())]

                def order(item: QTreeWidgetItem) -> tuple:
                    info = self._infos.get(item.data(0, KEY_ROLE))
                    n = info.series_number if info and info.series_number is not None else 1 << 30
                    return (n, info.part if info else 0, item.text(0))

                for item in sorted(items, key=order):
                    study.addChild(item)

    @staticmethod
    def _patient_text(info: SeriesInfo) -> str:
        name = format_person_name(info.patient_name) or "(no name)"
        return f"{name}  ({info.patient_id})" if info.patient_id else name

    @staticmethod
    def _study_text(info: SeriesInfo) -> str:
        parts = [format_date(info.study_date) or "(no date)", info.study_description or "(no description)"]
        return "  ".join(parts)

    @staticmethod
    def _series_text(info: SeriesInfo) -> str:
        number = f"#{info.series_number} " if info.series_number is not None else ""
        part = f" (part {info.part + 1})" if info.part else ""
        plane = info.orientation_label
        return (f"{info.modality} {number}{info.description or '(no description)'}{part}\n"
                f"{info.image_count} images" + (f", {plane}" if plane != "unknown" else ""))

    @staticmethod
    def _series_tooltip(info: SeriesInfo) -> str:
        rows = [f"Series UID: {info.series_uid}", f"Modality: {info.modality}",
                f"Images: {info.image_count}", f"Matrix: {info.columns} x {info.rows}"]
        if info.pixel_spacing:
            rows.append(f"Pixel spacing: {info.pixel_spacing[0]:.3g} x {info.pixel_spacing[1]:.3g} mm")
        return "\n".join(rows)

    # -- events -----------------------------------------------------------------------------------------
    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        key = item.data(0, KEY_ROLE)
        if key:
            self.seriesActivated.emit(str(key))

    def _on_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        key = item.data(0, KEY_ROLE)
        if key:
            self.seriesClicked.emit(str(key))

    def mimeTypes(self) -> list[str]:
        return [SERIES_MIME]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:
        md = QMimeData()
        keys = [str(i.data(0, KEY_ROLE)) for i in items if i.data(0, KEY_ROLE)]
        if keys:
            md.setData(SERIES_MIME, keys[0].encode())
        return md
