"""Measurement tools, the measurement overlay and the measurement list (issue 5), wired into the window.

``install(window)`` adds:

* the nine tools (toolbar, Tools menu and keys L, B, E, P, F, A, Shift+A, V, X; widgets/measure_tools.py);
* the overlay drawing the case's measurements on every view that shows their plane
  (widgets/measurement_overlay.py) and the editor that moves, renames and deletes them on the views;
* the "Measurements" panel (widgets/measurement_panel.py): clicking a row brings a view of the
  measurement's series to its slice and selects it;
* Edit > Delete Measurement (Delete/Backspace) and Edit > Rename Measurement... (F2); the keys act on the
  selected measurement in the views (and in the panel); undo/redo names come from the CaseController
  ("Add length", "Move bidirectional handle", "Rename measurement", "Delete ellipse ROI").

It returns a :class:`MeasureFeature` (also ``window.measure``) for other features and tests::

    window.measure.show_measurement(measurement_id)   # navigate + select
    window.measure.session.finding_for_new = lambda: finding_id   # new measurements join a finding
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from imaging.display import plane_spec
from imaging.measure_edit import kind_name
from imaging.volume import Volume
from widgets.measure_tools import MeasurementEditor, MeasurementTool, MeasureSession, measurement_tools
from widgets.measurement_overlay import MeasurementOverlay
from widgets.measurement_panel import MeasurementPanel
from widgets.slice_view import SliceView

if TYPE_CHECKING:  # pragma: no cover
    from app.main_window import MainWindow

STATUS_MS = 8000
PANEL_WIDTH = 500


class MeasureFeature:
    """The installed measurement feature: its tools, overlay, editor and panel."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        ctl = window.case
        self.controller = ctl
        self.overlay = MeasurementOverlay(ctl)
        self.session = MeasureSession(ctl, self.overlay, notify=self.notify, set_tool=window.set_tool)
        self.editor = MeasurementEditor(self.session, parent=window)
        for view in window.grid.views:
            self.editor.attach(view)
        window.add_overlay(self.overlay)

        window.tools_menu.addSeparator()
        window.tool_toolbar.addSeparator()
        self.tools: list[MeasurementTool] = measurement_tools(self.session)
        for tool in self.tools:
            window.add_tool(tool)

        self.panel = MeasurementPanel(ctl, self.editor, series_label=self.series_label,
                                      plane_count=self.plane_count, instance_number=self.instance_number,
                                      parent=window)
        self.panel.measurementActivated.connect(self.show_measurement)
        self.dock = window.add_panel(self.panel, "Measurements", "MeasurementsPanel")
        window.resizeDocks([self.dock], [PANEL_WIDTH], Qt.Horizontal)  # room for the five columns

        self.act_delete = QAction("Delete Measurement", window)
        self.act_delete.setObjectName("measurement_delete")
        self.act_rename = QAction("Rename Measurement\u2026", window)
        self.act_rename.setObjectName("measurement_rename")
        # The keys are handled where the focus is (views: widgets/measure_tools.py; panel: its tree), so they
        # never clash with other features' Delete/F2; the menu shows them.
        for action, keys in ((self.act_delete, [QKeySequence(QKeySequence.Delete), QKeySequence(Qt.Key_Backspace)]),
                             (self.act_rename, [QKeySequence(Qt.Key_F2)])):
            action.setShortcuts(keys)
            action.setShortcutContext(Qt.WidgetShortcut)
            action.setEnabled(False)
        self.act_delete.triggered.connect(self.delete_selected)
        self.act_rename.triggered.connect(self.rename_selected)
        window.edit_menu.addSeparator()
        window.edit_menu.addAction(self.act_delete)
        window.edit_menu.addAction(self.act_rename)

        ctl.changed.connect(self._on_changed)
        ctl.caseReplaced.connect(self._repaint)
        ctl.selectionChanged.connect(self._on_selection)
        ctl.readOnlyChanged.connect(lambda _ro: self._on_selection(ctl.selected_id))

    # -- messages ----------------------------------------------------------------------------------------
    def notify(self, text: str, level: str = "info") -> None:
        """Refusals and hints in the status bar; errors also in the message bar."""
        self.window.statusBar().showMessage(text, STATUS_MS)
        if level == "error":
            self.window.show_message(text, "error")

    # -- resolvers for the panel ---------------------------------------------------------------------------
    def _volume_of(self, series_uid: str | None) -> tuple[str, Volume] | None:
        for key, vol in self.window.volumes().items():
            if (vol.metadata.series_instance_uid or "") == (series_uid or ""):
                return key, vol
        return None

    def series_label(self, series_uid: str | None) -> str:
        hit = self._volume_of(series_uid)
        if hit is not None:
            md = hit[1].metadata
            desc = md.series_description or hit[1].modality or "series"
            return f"{desc} (Se {md.series_number})" if md.series_number is not None else desc
        ref = self.controller.case.series_ref(series_uid)
        if ref is not None:
            return ref.description or ref.series_instance_uid
        return series_uid or "\u2014"

    def instance_number(self, series_uid: str | None, sop_instance_uid: str | None) -> int | None:
        """The InstanceNumber of an image of a loaded series (for measurements recorded without it)."""
        hit = self._volume_of(series_uid)
        if hit is None or not sop_instance_uid:
            return None
        uids = hit[1].metadata.sop_instance_uids
        return hit[1].instance_number(uids.index(sop_instance_uid)) if sop_instance_uid in uids else None

    def plane_count(self, series_uid: str | None, orientation: str) -> int | None:
        hit = self._volume_of(series_uid)
        if hit is None or orientation not in ("axial", "sagittal", "coronal"):
            return None
        return plane_spec(hit[1], orientation).count

    # -- navigation ----------------------------------------------------------------------------------------
    def _shows_series(self, view: SliceView, series_uid: str | None) -> bool:
        vol = view.volume()
        return vol is not None and (vol.metadata.series_instance_uid or "") == (series_uid or "")

    def show_measurement(self, measurement_id: str) -> SliceView | None:
        """Select a measurement and bring a view of its series to its slice: a view already showing that
        series in the measurement's plane, else the series is shown (when loaded), else the active view of
        that series turns to the plane. Returns the view, or None (with a message) when its series is not
        loaded."""
        try:
            m = self.controller.case.measurement(measurement_id)
        except KeyError:
            return None
        self.controller.select(measurement_id)
        uid, orientation = m.series_instance_uid, m.plane.orientation
        w = self.window

        def in_plane() -> SliceView | None:
            return next((v for v in w.views() if self._shows_series(v, uid) and v.orientation() == orientation),
                        None)

        target = in_plane()
        if target is None and not any(self._shows_series(v, uid) for v in w.views()):
            hit = self._volume_of(uid)
            if hit is not None:
                w.show_series(hit[0])
                target = in_plane()
        if target is None:
            active = w.active_view()
            showing = [v for v in w.views() if self._shows_series(v, uid)]
            candidate = active if active in showing else (showing[0] if showing else None)
            if candidate is not None and orientation in ("axial", "sagittal", "coronal"):
                candidate.set_orientation(orientation)
                target = candidate
        if target is None:
            again = lambda: self.show_measurement(measurement_id)  # noqa: E731
            if uid and self._volume_of(uid) is None and w.bring_series(uid, again):
                return None  # loading it: the views go to the measurement once it is shown
            self.notify(f"The series of this {kind_name(m.kind)} is not open: open {self.series_label(uid)} (or "
                        "File > Locate Case Data\u2026) to see it.", "warning")
            return None
        centre = np.asarray(m.points, dtype=np.float64).mean(axis=0)
        w.grid.mpr.set_cursor(centre)  # every view of the series to the measurement (as Shift+click)
        target.show_lps(centre)
        w.set_active_view(target)
        self._repaint()
        return target

    # -- Edit menu -----------------------------------------------------------------------------------------
    def delete_selected(self) -> bool:
        m = self.editor.selected_measurement()
        return self.editor.delete(m.id) if m is not None else False

    def rename_selected(self) -> bool:
        m = self.editor.selected_measurement()
        if m is None:
            return False
        if self.editor.rename(m.id, self.window.active_view()) is not None:
            return True
        if self.show_measurement(m.id) is not None and self.editor.rename(m.id, self.window.active_view()):
            return True
        item = self.panel.item_for(m.id)
        return item is not None and self.panel.edit_label(item)

    # -- repaint ---------------------------------------------------------------------------------------------
    def _repaint(self, *_args: object) -> None:
        self.editor.update_views()

    def _on_changed(self, collection: str, _obj_id: str) -> None:
        if collection in ("measurements", "findings", "series"):
            self._repaint()
        self._on_selection(self.controller.selected_id)

    def _on_selection(self, _obj_id: str) -> None:
        has = self.editor.selected_measurement() is not None and not self.controller.read_only
        self.act_delete.setEnabled(has)
        self.act_rename.setEnabled(has)
        self._repaint()


def install(window: MainWindow) -> MeasureFeature:
    """Install the measurement tools, overlay, editor, panel and Edit actions (see the module docstring)."""
    feature = MeasureFeature(window)
    window.measure = feature  # type: ignore[attr-defined]
    return feature
