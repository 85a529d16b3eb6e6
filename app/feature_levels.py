"""Vertebral levels: the Levels labelling tool, level tags on the views, the level of the axial slice in its
corner, "Detect vertebrae" on CT, and the spine map for the surgeon (issue 6 §2 and §6).

Installed by app/features.py. It adds:

* the **Levels** tool (Shift+L; toolbar, Tools and Spine menus) -- widgets/level_tool.py;
* the level overlay on every view and the axial corner text "Level T6" / "Level T5/T6 disc" --
  widgets/level_overlay.py;
* **Spine > Detect Vertebrae** (Ctrl+Shift+D): :func:`imaging.spine.detect.detect_vertebrae` runs in a
  worker thread with the status-bar progress; the bodies found show as unnamed markers and a naming box
  opens beside one on the sagittal view -- type its level and every body is named
  (:func:`imaging.spine.detect.label_vertebrae`), stored as one undo step "Detect and label vertebrae".
  MR (and CT without pixel spacing) is refused with a message;
* the **Spine map** dock (left, under the series list) -- widgets/spine_map.py; clicking a labelled level
  brings every view to that vertebra.

``install(window)`` returns the :class:`LevelsFeature` (also ``window.levels_feature``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QScrollArea

from app.loading import Job
from imaging.case.model import VertebralLabel
from imaging.spine.detect import VertebraCandidate, detect_vertebrae
from imaging.spine.spine_map import level_centre
from imaging.volume import Volume
from widgets.level_overlay import LevelOverlay, axial_level_text
from widgets.level_tool import LABELLING_ORIENTATIONS, LevelLabelState, LevelTool, series_uid_of
from widgets.spine_map import SpineMapWidget

if TYPE_CHECKING:  # pragma: no cover
    from app.main_window import MainWindow
    from widgets.slice_view import SliceView


def _describe(volume: Volume) -> str:
    md = volume.metadata
    return md.series_description or (f"series {md.series_number}" if md.series_number is not None else "this series")


class LevelsFeature(QObject):
    """The levels feature of one window (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.state = LevelLabelState(window.case, self)
        self.state.frame_of = self._frame_of
        self.tool = LevelTool(self.state, notify=window.show_message)
        self.tool_action = window.add_tool(self.tool)
        self.overlay = LevelOverlay(self.state)
        window.add_overlay(self.overlay)
        window.add_corner_text("bottom_left", axial_level_text(self.state))
        self.detect_job: Job | None = None

        self.act_detect = QAction("&Detect Vertebrae", window)
        self.act_detect.setObjectName("action_detect_vertebrae")
        self.act_detect.setShortcut(QKeySequence("Ctrl+Shift+D"))
        self.act_detect.setStatusTip("Find the vertebral bodies of the CT series shown; name one and every body "
                                     "is labelled (Ctrl+Shift+D)")
        self.act_detect.triggered.connect(self.detect)
        self.act_dismiss = QAction("Dismiss Detected Vertebrae", window)
        self.act_dismiss.triggered.connect(lambda: self.state.clear_candidates(window.current_volume()))
        menu = window.menu("&Spine")
        menu.addAction(self.tool_action)
        menu.addAction(self.act_detect)
        menu.addAction(self.act_dismiss)

        self.map = SpineMapWidget(window.case, self._labels_for_map)
        self.map.levelClicked.connect(self.go_to_level)
        scroll = QScrollArea()
        scroll.setObjectName("SpineMapScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(self.map)
        self.map_dock = QDockWidget("Spine map", window)
        self.map_dock.setObjectName("SpineMapDock")
        self.map_dock.setWidget(scroll)
        window.addDockWidget(Qt.LeftDockWidgetArea, self.map_dock)
        window.splitDockWidget(window.browser_dock, self.map_dock, Qt.Vertical)
        window.resizeDocks([window.browser_dock, self.map_dock], [35, 65], Qt.Vertical)
        window.view_menu.addAction(self.map_dock.toggleViewAction())

        self.state.changed.connect(self.repaint_views)
        window.case.changed.connect(self._on_case_changed)
        window.case.caseReplaced.connect(self._on_case_replaced)
        window.case.selectionChanged.connect(lambda _id: self.repaint_views())
        window.seriesShown.connect(self._on_series_shown)
        window.activeViewChanged.connect(lambda _v: self.map.refresh())

    # -- helpers ------------------------------------------------------------------------------------------
    def _frame_of(self, series_uid: str) -> str | None:
        for vol in self.window.volumes().values():
            if vol.metadata.series_instance_uid == series_uid:
                return vol.metadata.frame_of_reference_uid or None
        ref = self.window.case.case.series_ref(series_uid)
        return ref.frame_of_reference_uid if ref is not None else None

    def _labels_for_map(self) -> list[VertebralLabel] | None:
        volume = self.window.current_volume()
        return self.state.labels_for(volume) if volume is not None else None

    def repaint_views(self) -> None:
        for v in self.window.grid.views:
            v.update()
        self.map.update()

    def _on_case_changed(self, collection: str, _object_id: str) -> None:
        if collection in ("vertebral_labels", "findings", "series"):
            self.repaint_views()

    def _on_case_replaced(self) -> None:
        self.tool.close_editor()
        self.map.refresh()
        self.repaint_views()

    def _on_series_shown(self, _volume: Volume) -> None:
        self.tool.close_editor()  # a name being typed belongs to the series that was shown
        self.map.refresh()

    def labelling_view(self, volume: Volume) -> SliceView | None:
        """A visible sagittal (else coronal) view of ``volume``, for the naming prompt."""
        views = [v for v in self.window.views() if v.volume() is volume and v.orientation() in LABELLING_ORIENTATIONS]
        views.sort(key=lambda v: LABELLING_ORIENTATIONS.index(v.orientation()))
        return views[0] if views else None

    # -- detection ----------------------------------------------------------------------------------------
    def detect(self) -> Job | None:
        """Spine > Detect Vertebrae on the series shown (CT only). Returns the running job (None if refused)."""
        window = self.window
        volume = window.current_volume()
        if volume is None:
            window.show_message("Open a CT series first: Detect Vertebrae works on CT.", "info")
            return None
        if not volume.is_ct:
            modality = volume.modality or "not CT"
            window.show_message(f"Detect Vertebrae works on CT only; {_describe(volume)} is {modality}. Label the "
                                "vertebrae by clicking them with the Levels tool (Shift+L).", "warning")
            return None
        if not volume.pixel_spacing_known:
            window.show_message(f"Detect Vertebrae needs the pixel spacing, which {_describe(volume)} does not give. "
                                "Label the vertebrae with the Levels tool (Shift+L).", "warning")
            return None
        if self.detect_job is not None:
            window.show_message("Vertebra detection is already running.", "info")
            return None
        if volume.is_loading:
            window.show_message("The series is still loading: detect the vertebrae once every image is in.", "info")
            return None
        job = Job(lambda _progress, _cancel: detect_vertebrae(volume), f"Detecting vertebrae in {_describe(volume)}")
        job.finished.connect(lambda candidates: self._on_detected(volume, candidates))
        job.failed.connect(lambda msg: window.show_message(f"Vertebra detection failed: {msg}", "error"))
        job.done.connect(self._on_detect_done)
        self.detect_job = job
        window.start_job(job)
        return job

    def _on_detect_done(self) -> None:
        self.detect_job = None

    def _on_detected(self, volume: Volume, candidates: list[VertebraCandidate]) -> None:
        window = self.window
        if not candidates:
            window.show_message(f"No vertebral bodies were found in {_describe(volume)}. Label them with the "
                                "Levels tool (Shift+L).", "warning")
            return
        self.state.set_candidates(volume, candidates)
        window.set_tool(self.tool.name)
        index = len(candidates) // 2
        window.grid.mpr.set_cursor(candidates[index].center_lps)
        n = len(candidates)
        window.show_message(
            f"Found {n} vertebral bod{'y' if n == 1 else 'ies'} in {_describe(volume)} (violet markers). Type the "
            "level of the marked body and press Enter, or click another body first: every body is then named "
            "from it. Esc dismisses them. Check every label: detection can miss or split a body.", "info")
        view = self.labelling_view(volume)
        if view is not None:
            self.tool.ask_candidate(view, index)

    # -- navigation ---------------------------------------------------------------------------------------
    def go_to_level(self, label: str) -> bool:
        """Bring every view to the centre of vertebra ``label`` (labelled on the series shown) and select
        its label. False (with a message) when it is not labelled there."""
        centre = level_centre(self.map.model, label)
        if centre is None:
            self.window.show_message(f"{label} is not labelled on this series: label it with the Levels tool "
                                     "(Shift+L) or Spine > Detect Vertebrae.", "info")
            return False
        self.window.grid.mpr.set_cursor(centre)
        volume = self.window.current_volume()
        uid = series_uid_of(volume)
        labels = [lab for lab in self.state.labels_for(volume) if lab.label == label]
        labels.sort(key=lambda lab: lab.series_instance_uid != uid)
        if labels:
            self.window.case.select(labels[0].id)
        return True


def install(window: MainWindow) -> LevelsFeature:
    feature = LevelsFeature(window)
    window.levels_feature = feature  # type: ignore[attr-defined]
    return feature
