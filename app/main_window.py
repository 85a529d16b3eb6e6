"""The SpineCase main window: series browser (left dock), view grid (centre), annotation panels (right dock).

Hooks for feature modules (installed from app/features.py, each in its own file)::

    window.add_tool(tool) -> QAction             # toolbar button + Tools menu + shortcut (tool.shortcut)
    window.set_tool("navigate")                  # activate a tool by name on every view
    window.add_panel(widget, "Findings") -> QDockWidget   # right dock, tabbed with the other panels
    window.menu("Tools") -> QMenu; window.add_action("Tools", action)
    window.add_overlay(overlay)                  # painted on every slice view (widgets/overlays.py)
    window.add_corner_text("bottom_left", fn)    # fn(OverlayContext) -> str | None
    window.register_path_handler(predicate, handler)  # e.g. *.spinecase.json -> open a case
    window.undo_stack                            # app-wide QUndoStack; Edit > Undo/Redo show entry names
    window.start_job(Job(fn, "Detecting vertebrae"))  # worker thread + status-bar progress and Cancel
    window.views(); window.active_view(); window.current_volume(); window.volumes(); window.grid.mpr
    window.show_message(text, "warning", scope="action:levels")   # one-line message bar above the views;
                                                 # a scoped message leaves with its series/action
                                                 # (window.message_bar.clear_scope("action:levels"))
    window.title_parts.append(fn)                # fn() -> str shown in the window title (the case name)
    window.hang_on_open = fn                     # fn(scan, wanted) -> bool: arranges the views itself (protocols)
    window.layout_planner = fn                   # fn(key, layout) -> [(key|None, plane|None, placeholder)] | None
    window.ensure_volumes(keys, fn)              # load several series (one job), then fn()
    window.present(key, layout)                  # show a series as the main one, in a layout
    window.show_in_view(key, view)               # one series in one view (its acquired plane)
    window.close_guards.append(fn)               # fn() -> bool before closing; False keeps the window open
                                                 # (then aboutToClose() is emitted: release files, locks)
    window.scan_guards.append(fn)                # fn(ScanResult) -> bool before scanned series are shown;
                                                 # False drops them (e.g. another patient than the case's)
    signals: volumeLoaded(Volume), seriesShown(Volume), activeViewChanged(SliceView), layoutChanged(str)

Loading runs in worker threads (app/loading.py): scan -> pick a series -> load with a progress bar and a
Cancel button in the status bar. The series is shown as soon as the slices near the cursor are in (the
progressive first image: ``load_series``' ``on_first``); the rest arrive while the reader looks, and
``volumeLoaded`` follows when every image is in. Loaded volumes are kept (up to ``CACHE_BYTES``) so switching series is
instant. Window/level is shared by all views of one series (widgets/window_level.py).
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QGuiApplication, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.about import show_about, show_shortcuts
from app.loading import Job, JobRunner
from app.settings import Settings
from imaging import LoadCancelled, LoadError, scan_series
from imaging.dicom import decode_pool
from imaging.dicom.load import load_series
from imaging.dicom.series import ScanResult, SeriesInfo
from imaging.display import acquired_orientation, series_thumbnail, volume_thumbnail, window_presets
from imaging.volume import Volume
from widgets.case_controller import CaseController
from widgets.key_router import ViewKeyRouter
from widgets.message_bar import MessageBar
from widgets.mpr import LAYOUT_ORIENTATIONS, LAYOUTS, ViewGrid
from widgets.overlays import Overlay, OverlayContext, format_person_name
from widgets.series_browser import SeriesBrowser
from widgets.slice_view import HoverInfo, SliceView
from widgets.tools import CrosshairTool, NavigateTool, Tool, ToolRegistry
from widgets.window_level import WindowLevel

_log = logging.getLogger(__name__)

CASE_SUFFIX = ".spinecase.json"
CACHE_BYTES = 2 * 1024**3  # loaded volumes kept in memory
PROGRESS_INTERVAL_S = 0.04  # progress bar (and views of a series still loading) refresh at most this often
# files expected beside images (reports, notes): not worth a "skipped files" message
NOT_IMAGES = {".json", ".txt", ".md", ".csv", ".xml", ".html", ".htm", ".pdf", ".png", ".jpg", ".jpeg", ".log"}
LAYOUT_LABELS = {"1x1": "1\u00d71", "1x2": "1\u00d72", "1x3": "1\u00d73", "2x2": "2\u00d72", "spine": "Spine"}


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("spinecase")
    except Exception:  # noqa: BLE001
        return "dev"


class MainWindow(QMainWindow):
    volumeLoaded = Signal(object)
    seriesShown = Signal(object)
    activeViewChanged = Signal(object)
    layoutChanged = Signal(str)
    busyChanged = Signal(bool)
    aboutToClose = Signal()  # every close guard agreed: the window closes now

    def __init__(self, settings: Settings | None = None, restore_state: bool = True,
                 install_features: bool = True) -> None:
        super().__init__()
        self.setObjectName("SpineCaseMainWindow")
        self.setWindowTitle("SpineCase")
        self.settings = settings or Settings()
        self.undo_stack = QUndoStack(self)
        # The case being annotated: every feature edits it through this controller (undoable commands).
        self.case = CaseController(self.undo_stack, reader=self.settings.reader_name(), parent=self)
        self.tools = ToolRegistry()
        self.jobs = JobRunner(self)
        self.jobs.jobEnded.connect(self._refresh_progress)
        self._tool_actions: dict[str, QAction] = {}
        self._tool_group = QActionGroup(self)
        self._tool_group.setExclusive(True)
        self._volumes: OrderedDict[str, Volume] = OrderedDict()
        self._window_levels: dict[str, WindowLevel] = {}
        self._infos: dict[str, SeriesInfo] = {}
        self._current_key: str | None = None
        self._other_key: str | None = None
        self._active_view: SliceView | None = None
        self._path_handlers: list[tuple[Callable[[str], bool], Callable[[str], None]]] = [
            (lambda p: p.lower().endswith(CASE_SUFFIX), self._case_file_not_supported)]
        self._load_job: Job | None = None
        self._progressive_job: Job | None = None  # the load whose first image is shown while the rest arrives
        self._progress_shown_at = 0.0  # monotonic time of the last progress-bar update (throttled)
        self._pending_thumbnails: list[SeriesInfo] = []
        self._panel_docks: list[QDockWidget] = []
        self.last_error: str | None = None
        # Feature hooks: extra window-title parts (after "SpineCase"; may hold Qt's "[*]" modified marker)
        # and checks run before the window closes (e.g. "save changes?"; False cancels the close).
        self.title_parts: list[Callable[[], str]] = []
        self.close_guards: list[Callable[[], bool]] = []
        self.scan_guards: list[Callable[[ScanResult], bool]] = []
        # Reading workflow hooks (app/feature_reading.py): arrange the views when series open, and choose
        # the series of each view of a layout. None: the main series in every view (reformatted).
        self.hang_on_open: Callable[[ScanResult, str | None], bool] | None = None
        self.layout_planner: Callable[[str, str], list[tuple[str | None, str | None, str]] | None] | None = None
        self.explicit_layout = False  # the layout was asked for (spinecase open --layout): protocols keep it
        self._next_cursor: np.ndarray | None = None

        #: asks the reader's name (title, text, current) -> (name, ok); tests replace it
        self.reader_prompt: Callable[[str, str, str], tuple[str, bool]] = self._reader_dialog
        self._build_central()
        self._build_docks()
        self._build_status_bar()
        self._show_reader()
        self._build_actions()
        self._build_menus_and_toolbars()
        self.add_tool(NavigateTool())
        self.add_tool(CrosshairTool())
        self.set_tool("navigate")
        self._toggle_cursor(self.act_cursor.isChecked())
        self.set_layout(self.settings.last_layout("spine"))
        self.set_active_view(self.grid.views[0])
        self.setAcceptDrops(True)
        # Image keys go to the image under the pointer, never into a panel control that kept the focus.
        self.key_router = ViewKeyRouter(self, self.views, self.grid, self)
        self.key_router.install()
        self.resize(1600, 1000)
        if restore_state:
            geo, state = self.settings.window_geometry(), self.settings.window_state()
            if geo is not None:
                self.restoreGeometry(geo)
            if state is not None:
                self.restoreState(state)
        if install_features:
            from app.features import install_features as _install

            _install(self)

    # =====================================================================================================
    # Construction
    # =====================================================================================================
    def _build_central(self) -> None:
        central = QWidget(self)
        box = QVBoxLayout(central)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        self.message_bar = MessageBar(central)
        box.addWidget(self.message_bar)
        self.grid = ViewGrid(central)
        box.addWidget(self.grid, 1)
        self.setCentralWidget(central)
        self.grid.mpr.source_hint = lambda: self._active_view
        for v in self.grid.views:
            v.activated.connect(self.set_active_view)
            v.hoverChanged.connect(self._on_hover)
            v.seriesDropped.connect(lambda key, view=v: self.load_series_key(key, view))
            v.pathsDropped.connect(lambda paths: self.open_paths(paths))
            v.contextMenuRequested.connect(self._fill_view_menu)
        self.grid.views[3].placeholder = "Drag a series here from the browser"
        for v in self.grid.views:  # a series' messages show while the series is on screen
            v.planeChanged.connect(self._update_message_context)

    def _build_docks(self) -> None:
        self.browser = SeriesBrowser(self)
        self.browser.seriesActivated.connect(self.load_series_key)
        self.browser_dock = QDockWidget("Series", self)
        self.browser_dock.setObjectName("SeriesDock")
        self.browser_dock.setWidget(self.browser)
        self.browser_dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetClosable
                                      | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.browser_dock)
        self.resizeDocks([self.browser_dock], [300], Qt.Horizontal)
        # The right dock is reserved for annotation panels; a placeholder holds the space until one arrives.
        placeholder = QLabel("Annotation panels\n(measurements, levels, Bilsky, SINS)\nappear here.")
        placeholder.setAlignment(Qt.AlignCenter)
        placeholder.setStyleSheet("color: #6e747c;")
        self._panel_placeholder = QDockWidget("Panels", self)
        self._panel_placeholder.setObjectName("PanelsPlaceholderDock")
        self._panel_placeholder.setWidget(placeholder)
        self.addDockWidget(Qt.RightDockWidgetArea, self._panel_placeholder)
        self.resizeDocks([self._panel_placeholder], [220], Qt.Horizontal)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.hover_label = QLabel("")
        self.hover_label.setObjectName("HoverLabel")
        self.hover_label.setMinimumWidth(520)
        self.reader_button = QPushButton("")
        self.reader_button.setObjectName("ReaderButton")
        self.reader_button.setFlat(True)
        self.reader_button.setToolTip("The reader recorded with every edit; click to change")
        self.reader_button.clicked.connect(lambda: self.ask_reader_name())
        self.progress_label = QLabel("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setFixedWidth(220)
        self.progress_bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("CancelLoadButton")
        self.cancel_button.clicked.connect(self.cancel_loading)
        sb.addWidget(self.hover_label, 1)
        sb.addPermanentWidget(self.reader_button)
        sb.addPermanentWidget(self.progress_label)
        sb.addPermanentWidget(self.progress_bar)
        sb.addPermanentWidget(self.cancel_button)
        self._set_progress_visible(False)
        self.hover_label.setText(self._hint())

    def _build_actions(self) -> None:
        def act(text: str, slot: Callable, shortcut: str | QKeySequence | None = None, tip: str = "") -> QAction:
            a = QAction(text, self)
            a.triggered.connect(slot)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            if tip:
                a.setStatusTip(tip)
            return a

        self.act_open_folder = act("Open &Folder\u2026", self.open_folder_dialog, "Ctrl+O",
                                   "Open every DICOM series in a folder")
        self.act_open_files = act("Open &Files\u2026", self.open_files_dialog, "Ctrl+Shift+O",
                                  "Open DICOM files (or a case file)")
        self.act_quit = act("&Quit", self.close, QKeySequence.Quit)
        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts([QKeySequence.Undo])
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        # View keys act on the active view; scoped to the view area so they never steal typing in panels.
        self.act_reset = act("&Reset View", lambda: self._on_active(lambda v: v.reset_view()), "R")
        self.act_invert = act("&Invert", lambda: self._on_active(
            lambda v: v.window_level() and v.window_level().toggle_invert()), "I")
        self.act_patient = act("Hide/Show &Patient Info", self._toggle_patient_info, "H")
        for a in (self.act_reset, self.act_invert, self.act_patient):
            a.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            self.grid.addAction(a)
        self.act_reference = act("Reference &Lines", self._toggle_reference_lines)
        self.act_reference.setCheckable(True)
        self.act_reference.setChecked(True)
        self.act_cursor = act("MPR &Cursor", self._toggle_cursor, tip="Show the shared cursor's ring on the views")
        self.act_cursor.setObjectName("action_show_cursor")
        self.act_cursor.setCheckable(True)
        self.act_cursor.setChecked(str(self.settings.value("view/show_cursor", "true")).lower() != "false")
        self.act_smooth = act("&Smooth Interpolation", self._toggle_smooth)
        self.act_smooth.setCheckable(True)
        self.act_smooth.setChecked(True)
        self.act_overlays = act("&Overlays", self._toggle_overlays)
        self.act_overlays.setCheckable(True)
        self.act_overlays.setChecked(True)
        self.layout_group = QActionGroup(self)
        self.layout_actions: dict[str, QAction] = {}
        for name in LAYOUTS:
            a = act(LAYOUT_LABELS[name], lambda _=False, n=name: self.set_layout(n),
                    tip=f"{LAYOUT_LABELS[name]} layout")
            a.setCheckable(True)
            a.setObjectName(f"layout_{name}")
            self.layout_group.addAction(a)
            self.layout_actions[name] = a

    def _build_menus_and_toolbars(self) -> None:
        mb = self.menuBar()
        self.file_menu = mb.addMenu("&File")
        self.file_menu.addAction(self.act_open_folder)
        self.file_menu.addAction(self.act_open_files)
        self.recent_menu = self.file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.file_menu.addSeparator()
        self.act_reader = QAction("Reader &Name\u2026", self)
        self.act_reader.setObjectName("action_reader_name")
        self.act_reader.setStatusTip("Who is reading: recorded with every edit")
        self.act_reader.triggered.connect(lambda: self.ask_reader_name())
        self.file_menu.addAction(self.act_reader)
        self.file_menu.addAction(self.act_quit)
        self.edit_menu = mb.addMenu("&Edit")
        self.edit_menu.addAction(self.act_undo)
        self.edit_menu.addAction(self.act_redo)
        self.view_menu = mb.addMenu("&View")
        layout_menu = self.view_menu.addMenu("&Layout")
        for a in self.layout_actions.values():
            layout_menu.addAction(a)
        self.preset_menu = self.view_menu.addMenu("&Window Presets")
        self.preset_menu.aboutToShow.connect(lambda: self._fill_preset_menu(self.preset_menu))
        self.view_menu.addAction(self.act_reset)
        self.view_menu.addAction(self.act_invert)
        self.view_menu.addAction(self.act_patient)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.act_reference)
        self.view_menu.addAction(self.act_cursor)
        self.view_menu.addAction(self.act_smooth)
        self.view_menu.addAction(self.act_overlays)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.browser_dock.toggleViewAction())
        self.tools_menu = mb.addMenu("&Tools")
        self.help_menu = mb.addMenu("&Help")
        self.help_menu.addAction("&Keyboard and Mouse", lambda: show_shortcuts(self))
        self.help_menu.addAction("&About SpineCase", lambda: show_about(self, _version()))

        self.main_toolbar = QToolBar("Main", self)
        self.main_toolbar.setObjectName("MainToolbar")
        self.main_toolbar.setMovable(False)
        self.main_toolbar.addAction(self.act_open_folder)
        self.main_toolbar.addSeparator()
        for a in self.layout_actions.values():
            self.main_toolbar.addAction(a)
        self.main_toolbar.addSeparator()
        self.addToolBar(Qt.TopToolBarArea, self.main_toolbar)
        self.tool_toolbar = QToolBar("Tools", self)
        self.tool_toolbar.setObjectName("ToolsToolbar")
        self.tool_toolbar.setMovable(False)
        self.addToolBar(Qt.TopToolBarArea, self.tool_toolbar)

    # =====================================================================================================
    # Hooks for features
    # =====================================================================================================
    def add_tool(self, tool: Tool) -> QAction:
        """Register a tool: checkable toolbar button and Tools menu entry, with ``tool.shortcut`` active
        while the view area has focus."""
        self.tools.add(tool)
        text = tool.label + (f"  ({tool.shortcut})" if tool.shortcut else "")
        a = QAction(tool.icon, tool.label, self) if tool.icon is not None else QAction(tool.label, self)
        a.setObjectName(f"tool_{tool.name}")
        a.setCheckable(True)
        a.setToolTip(tool.tooltip or text)
        a.setStatusTip(tool.tooltip or text)
        if tool.shortcut:
            a.setShortcut(QKeySequence(tool.shortcut))
            a.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            self.grid.addAction(a)
        a.triggered.connect(lambda _=False, n=tool.name: self.set_tool(n))
        self._tool_group.addAction(a)
        self._tool_actions[tool.name] = a
        self.tools_menu.addAction(a)
        self.tool_toolbar.addAction(a)
        return a

    def set_tool(self, name: str) -> None:
        tool = self.tools.get(name)
        if tool is None:
            raise KeyError(f"no tool named {name!r}")
        if self.tools.active is not None and self.tools.active is not tool:
            self.tools.active.deactivate()
        self.tools.active = tool
        tool.activate()
        for v in self.grid.views:
            v.set_tool(tool)
        self._tool_actions[name].setChecked(True)

    def active_tool(self) -> Tool | None:
        return self.tools.active

    def add_panel(self, widget: QWidget, title: str, object_name: str | None = None,
                  area: Qt.DockWidgetArea = Qt.RightDockWidgetArea) -> QDockWidget:
        """Add an annotation panel to the right dock (tabbed with the others); returns its dock."""
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name or f"Panel_{title.replace(' ', '_')}")
        dock.setWidget(widget)
        if self._panel_placeholder is not None:
            self.removeDockWidget(self._panel_placeholder)
            self._panel_placeholder.deleteLater()
            self._panel_placeholder = None
        self.addDockWidget(area, dock)
        if self._panel_docks and area == Qt.RightDockWidgetArea:
            self.tabifyDockWidget(self._panel_docks[0], dock)
            self._panel_docks[0].raise_()  # tabifying brings the newcomer forward; keep the first panel shown
        self._panel_docks.append(dock)
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def menu(self, title: str) -> QMenu:
        """The top-level menu called ``title`` (ignoring '&'), created before Help when missing."""
        plain = title.replace("&", "")
        for a in self.menuBar().actions():
            if a.menu() is not None and a.text().replace("&", "") == plain:
                return a.menu()
        m = QMenu(title, self)
        self.menuBar().insertMenu(self.help_menu.menuAction(), m)
        return m

    def add_action(self, menu_title: str, action: QAction) -> QAction:
        self.menu(menu_title).addAction(action)
        return action

    def add_overlay(self, overlay: Overlay) -> None:
        """Paint ``overlay`` on every slice view (one instance serves all views: ``ctx.view``)."""
        for v in self.grid.views:
            v.add_overlay(overlay)

    def add_corner_text(self, corner: str, fn: Callable[[OverlayContext], str | None]) -> None:
        """Extra text in a view corner ("top_left", "top_right", "bottom_left", "bottom_right")."""
        for v in self.grid.views:
            v.corner_providers.append((corner, fn))

    def register_path_handler(self, predicate: Callable[[str], bool], handler: Callable[[str], None]) -> None:
        """Open paths matching ``predicate`` with ``handler`` (checked before DICOM; latest first)."""
        self._path_handlers.insert(0, (predicate, handler))

    def show_message(self, text: str, level: str = "info", details: str = "", scope: str = "") -> None:
        """A message on the bar above the views, about ``scope`` (widgets/message_bar.py: "series:<key>",
        "case", "action:<name>" or "" for anything else)."""
        self.message_bar.show_message(text, level, details, scope)
        if level == "error":
            self.last_error = text

    # -- the reader ---------------------------------------------------------------------------------------
    def _reader_dialog(self, title: str, text: str, current: str) -> tuple[str, bool]:
        from PySide6.QtWidgets import QInputDialog

        name, ok = QInputDialog.getText(self, title, text, text=current)
        return name, ok

    def ask_reader_name(self) -> bool:
        """Ask who is reading (File > Reader Name..., or the status bar's reader). True when a name was given."""
        name, ok = self.reader_prompt(
            "Who is reading?", "Your name, as it should appear with every measurement, level and grade you "
            "record (kept for the next start; change it any time in File > Reader Name\u2026):",
            self.case.reader)
        name = " ".join(name.split())
        if not ok or not name:
            return False
        self.settings.set_reader_name(name)
        self.settings.sync()
        self.case.reader = name
        self._show_reader()
        return True

    def ensure_reader(self) -> None:
        """At start-up: ask the reader's name once, when none is kept and there is someone to ask."""
        if not self.case.reader and QGuiApplication.platformName() not in ("offscreen", "minimal"):
            self.ask_reader_name()
        self._show_reader()

    def _show_reader(self) -> None:
        name = self.case.reader
        self.reader_button.setText(f"Reader: {name}" if name else "Reader: not set \u2014 click to set")
        self.reader_button.setStyleSheet("" if name else "color: #f0c75e;")

    # -- access -------------------------------------------------------------------------------------------
    def views(self) -> list[SliceView]:
        """The slice views of the current layout."""
        return self.grid.visible_views()

    def active_view(self) -> SliceView | None:
        return self._active_view

    def current_volume(self) -> Volume | None:
        """The volume of the active view (else of the main series)."""
        if self._active_view is not None and self._active_view.volume() is not None:
            return self._active_view.volume()
        return self._volumes.get(self._current_key) if self._current_key else None

    def volumes(self, loading: bool = False) -> dict[str, Volume]:
        """Loaded volumes by series key. A series shown while its images still arrive (progressive first
        image) is listed once every image is in, or with ``loading`` (to arrange views, never to read voxels)."""
        return {k: v for k, v in self._volumes.items() if loading or not v.is_loading}

    def current_series_key(self) -> str | None:
        return self._current_key

    def series_info(self, key: str) -> SeriesInfo | None:
        return self._infos.get(key)

    def bring_series(self, series_uid: str, then: Callable[[], object] | None = None) -> bool:
        """Show the series with this SeriesInstanceUID -- at once when it is loaded, else after loading it (it
        was scanned in this window) -- then call ``then``. False when this window has not seen the series."""
        key = next((k for k, v in self._volumes.items() if v.metadata.series_instance_uid == series_uid), None)
        if key is not None:
            self.show_series(key)
            if then is not None:
                then()
            return True
        info = next((i for i in self._infos.values() if i.series_uid == series_uid), None)
        if info is None:
            return False

        def shown(volume: Volume) -> None:
            if volume.metadata.series_instance_uid == series_uid:
                self.seriesShown.disconnect(shown)
                if then is not None:
                    then()

        self.seriesShown.connect(shown)
        self.statusBar().showMessage(f"Loading {info.description or info.modality or 'the series'}\u2026", 4000)
        self.load_series_key(info.key)
        return True

    def series_infos(self) -> list[SeriesInfo]:
        """Every series scanned in this window (loaded or not)."""
        return list(self._infos.values())

    def window_level_for(self, key: str) -> WindowLevel | None:
        return self._window_levels.get(key)

    def is_busy(self) -> bool:
        return self.jobs.busy()

    def start_job(self, job: Job) -> Job:
        """Run a background `Job` (app/loading.py) with the status-bar progress and Cancel button."""
        self._start_job(job)
        return job

    # =====================================================================================================
    # Views and layout
    # =====================================================================================================
    def set_layout(self, name: str) -> None:
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r}; expected one of {', '.join(LAYOUTS)}")
        cursor = self.grid.mpr.cursor
        self._arrange(name)
        if self._current_key in self._volumes:
            self._show_in_layout(self._current_key, cursor)
        self.layoutChanged.emit(name)

    def _arrange(self, name: str) -> None:
        self.grid.set_layout(name)
        self.layout_actions[name].setChecked(True)
        self.settings.set_last_layout(name)
        if self._active_view not in self.grid.visible_views():
            self.set_active_view(self.grid.views[0])
        self._update_message_context()

    def present(self, key: str, layout: str | None = None, cursor: np.ndarray | None = None) -> None:
        """Show loaded series ``key`` as the main series, in ``layout`` (default: the current one), with the
        shared cursor at ``cursor`` (LPS in ``key``'s frame; default its centre); the layout planner fills
        the other views."""
        if layout is not None and layout != self.grid.layout_name():
            self._arrange(layout)
            self.layoutChanged.emit(layout)
        self._next_cursor = cursor
        try:
            self.show_series(key)
        finally:
            self._next_cursor = None

    def set_active_view(self, view: SliceView) -> None:
        if view is self._active_view:
            return
        for v in self.grid.views:
            v.active = v is view
            v.update()
        self._active_view = view
        self.activeViewChanged.emit(view)
        vol = view.volume()
        if vol is not None:
            self._update_title(vol)

    def _on_active(self, fn: Callable[[SliceView], object]) -> None:
        v = self._active_view
        if v is not None and v.volume() is not None:
            fn(v)

    def _toggle_patient_info(self) -> None:
        show = not self.grid.views[0].show_patient_info
        for v in self.grid.views:
            v.show_patient_info = show
            v.update()

    def _toggle_reference_lines(self, on: bool) -> None:
        for v in self.grid.views:
            v.show_reference_lines = on
            v.update()

    def _toggle_cursor(self, on: bool) -> None:
        self.settings.set_value("view/show_cursor", "true" if on else "false")
        for v in self.grid.views:
            v.show_cursor = on
            v.update()

    def _toggle_smooth(self, on: bool) -> None:
        for v in self.grid.views:
            v.smooth = on
            v.update()

    def _toggle_overlays(self, on: bool) -> None:
        for v in self.grid.views:
            v.show_overlays = on
            v.update()

    def _update_message_context(self) -> None:
        shown = {id(v.volume()) for v in self.grid.visible_views() if v.volume() is not None}
        self.message_bar.set_shown_series({k for k, vol in self._volumes.items() if id(vol) in shown})

    def _wl(self, key: str) -> WindowLevel:
        wl = self._window_levels.get(key)
        if wl is None:
            wl = WindowLevel(self._volumes[key], self)
            self._window_levels[key] = wl
        return wl

    def show_series(self, key: str, view: SliceView | None = None) -> None:
        """Show a loaded series: in ``view`` only (its acquired plane), or as the layout's MPR views."""
        if key not in self._volumes:
            raise KeyError(key)
        vol = self._volumes[key]
        if view is not None and view in self.grid.views and self._current_key in self._volumes:
            # Dropped on (or clicked into) one view: that view shows the series in its acquired plane; the
            # others stay. It goes to the shared cursor when it follows it (same frame, levels, offset).
            view.set_volume(vol, acquired_orientation(vol), self._wl(key))
            self.grid.mpr.sync_view(view)
            if key != self._current_key:
                self._other_key = key
            self.set_active_view(view)
            self.seriesShown.emit(vol)
            return
        if self._current_key is not None and self._current_key != key:
            self._other_key = self._current_key
        self._current_key = key
        self._show_in_layout(key, None)
        self.browser.select_series(key)
        if self._active_view is not None and self._active_view.volume() is not None:
            self._active_view.setFocus(Qt.OtherFocusReason)  # keys work at once
        self.hover_label.setText(self._hint())
        self.seriesShown.emit(vol)

    def _show_in_layout(self, key: str, cursor: np.ndarray | None) -> None:
        vol = self._volumes[key]
        wl = self._wl(key)
        orients = LAYOUT_ORIENTATIONS[self.grid.layout_name()]
        plan = self.layout_planner(key, self.grid.layout_name()) if self.layout_planner is not None else None
        for i, (view, o) in enumerate(zip(self.grid.views, orients, strict=False)):
            if plan is not None and i < len(plan) and plan[i][0] != key:
                other_key, plane, placeholder = plan[i]
                if other_key is not None and other_key in self._volumes:
                    ov = self._volumes[other_key]
                    view.set_volume(ov, plane or acquired_orientation(ov), self._wl(other_key))
                else:
                    view.set_volume(None)
                    view.placeholder = placeholder or "Drag a series here from the browser"
                continue
            if plan is not None and i < len(plan):
                o = plan[i][1] or o
            if o == "":
                other = self._other_key if self._other_key in self._volumes and self._other_key != key else None
                if other is not None:
                    ov = self._volumes[other]
                    view.set_volume(ov, acquired_orientation(ov), self._wl(other))
                else:
                    view.set_volume(None)
            else:
                view.set_volume(vol, o or acquired_orientation(vol), wl)
        if cursor is None and self._next_cursor is not None:
            cursor = self._next_cursor
        if cursor is None or not self._inside(vol, cursor):
            s, r, c = vol.shape
            cursor = vol.index_to_lps(((c - 1) / 2, (r - 1) / 2, (s - 1) / 2))
        main_view = next((v for v in self.grid.views if v.volume() is vol), None)
        self.grid.mpr.set_cursor(cursor, main_view)
        self._update_title(vol)

    @staticmethod
    def _inside(vol: Volume, lps: np.ndarray) -> bool:
        idx = vol.lps_to_index(lps)
        s, r, c = vol.shape
        return bool(np.all(idx >= -0.5) and np.all(idx <= np.array([c, r, s]) - 0.5))

    def _update_title(self, vol: Volume | None) -> None:
        extra = [t for fn in self.title_parts if (t := fn())]
        md = vol.metadata if vol is not None else None
        who = (format_person_name(md.patient_name) or md.patient_id) if md is not None else ""
        parts = [*extra] + [p for p in (who, md.series_description if md else "") if p]
        # Qt appends the application display name ("SpineCase") itself; an empty title shows just that.
        self.setWindowTitle(" \u2014 ".join(parts))

    def refresh_title(self) -> None:
        """Rebuild the window title (after a title part changed)."""
        self._update_title(self.current_volume())

    def _on_hover(self, info: HoverInfo | None) -> None:
        self.hover_label.setText(info.text() if info is not None else self._hint())

    def _hint(self) -> str:
        vol = self.current_volume()
        if vol is None:
            return "Open a folder (Ctrl+O), or drop DICOM files or folders on the window."
        if not vol.orientation_known:
            return ("Orientation unknown: the images carry no ImageOrientationPatient, so no orientation letters "
                    "(A/P, R/L, S/I) are shown and left/right cannot be told from the image.")
        return ("Wheel: slices   Left drag: window/level   Middle: pan   Right/Ctrl+wheel: zoom   "
                "Shift+click: cursor   1-5: presets   R: reset   I: invert   H: patient info")

    def _fill_view_menu(self, ev, menu: QMenu) -> None:  # noqa: ANN001
        view = ev.view
        orient = menu.addMenu("Orientation")
        for o in ("axial", "sagittal", "coronal"):
            a = orient.addAction(o.capitalize(), lambda o=o: view.set_orientation(o))
            a.setCheckable(True)
            a.setChecked(view.orientation() == o)
        self._fill_preset_menu(menu.addMenu("Window Presets"), view)
        menu.addAction("Reset View  (R)", view.reset_view)
        menu.addAction("Invert  (I)", lambda: view.window_level() and view.window_level().toggle_invert())

    def _fill_preset_menu(self, menu: QMenu, view: SliceView | None = None) -> None:
        menu.clear()
        view = view or self._active_view
        wl = view.window_level() if view is not None else None
        if wl is None:
            menu.addAction("(no series)").setEnabled(False)
            return
        for i, p in enumerate(wl.presets):
            menu.addAction(f"{i + 1}   {p.name}  (W {p.width:g} L {p.center:g})",
                           lambda i=i: wl.apply_preset(i)).setToolTip(p.source)

    # =====================================================================================================
    # Opening
    # =====================================================================================================
    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open DICOM Folder", self.settings.last_directory())
        if path:
            self.settings.set_last_directory(path)
            self.open_paths([path])

    def open_files_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open DICOM Files or a Case", self.settings.last_directory(),
            "DICOM and case files (*.dcm *.DCM *.ima *.IMA *.spinecase.json DICOMDIR *);;All files (*)")
        if paths:
            self.settings.set_last_directory(str(Path(paths[0]).parent))
            self.open_paths(paths)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_paths()
        for entry in recent:
            paths = entry.split(os.pathsep)
            label = paths[0] if len(paths) == 1 else f"{paths[0]} (+{len(paths) - 1} files)"
            self.recent_menu.addAction(label, lambda p=paths: self.open_paths(p))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Recent", self.settings.clear_recent)

    def open_paths(self, paths: Sequence[str | os.PathLike], series: str | None = None, show: bool = True) -> None:
        """Open folders, DICOM files and (via registered handlers) case files. ``series`` picks the series
        to show: a SeriesInstanceUID, a series number or part of a description; else the first CT, else the
        series with the most images. With ``show`` False the series only join the browser (a PACS retrieval
        adds each series as it arrives without taking the views away from the one being read)."""
        dicom: list[str] = []
        for p in (str(x) for x in paths):
            for predicate, handler in self._path_handlers:
                if predicate(p):
                    handler(p)
                    break
            else:
                dicom.append(p)
        if not dicom:
            return
        missing = [p for p in dicom if not os.path.exists(p)]
        if missing:
            self.show_message(f"Not found: {', '.join(missing)}", "error")
            dicom = [p for p in dicom if p not in missing]
            if not dicom:
                return
        decode_pool.prestart()  # compressed series decode in worker processes: start them during the scan
        target = dicom if len(dicom) > 1 else dicom[0]
        name = Path(dicom[0]).name + (f" (+{len(dicom) - 1})" if len(dicom) > 1 else "")
        job = Job(lambda progress, _cancel: scan_series(target, progress=progress), f"Scanning {name}")
        job.finished.connect(lambda result: self._on_scanned(result, dicom, series, show))
        job.failed.connect(lambda msg: self.show_message(msg, "error"))
        self._start_job(job)

    def _case_file_not_supported(self, path: str) -> None:
        self.show_message(f"{Path(path).name}: case files open once the case feature is installed.", "warning")

    def _on_scanned(self, result: ScanResult, paths: list[str], wanted: str | None, show: bool = True) -> None:
        # Reports, notes and pictures beside the images are expected: only other skipped files are news.
        skipped = [s for s in result.skipped if Path(s.path).suffix.lower() not in NOT_IMAGES]
        self.message_bar.clear_scope("scan")  # about the previous scan
        if skipped:
            lines = [f"{s.path}: {s.reason}" for s in skipped[:50]]
            more = len(skipped) - len(lines)
            self.show_message(f"{len(skipped)} file(s) were not used (not images or unreadable).",
                              "info", "\n".join(lines) + (f"\n\u2026 and {more} more" if more > 0 else ""),
                              scope="scan")
        if not result:
            self.show_message(f"No DICOM image series found in {', '.join(paths)}.", "error")
            return
        if not all(guard(result) for guard in self.scan_guards):
            return
        self.settings.add_recent(paths if len(paths) > 1 else paths[0])
        for info in result:
            self._infos[info.key] = info
        self.browser.add_series(result)
        if not show or (self.hang_on_open is not None and self.hang_on_open(result, wanted)):
            self._start_thumbnails([i for i in result if i.key not in self._volumes])
            return
        pick = self.pick_series(list(result), wanted)
        if pick is None:
            self.show_message(f"No series matches {wanted!r}; showing the default series.", "warning")
            pick = self.pick_series(list(result), None)
        # Thumbnails wait until the chosen series shows: they would compete with its first image.
        self._pending_thumbnails = [i for i in result if i.key not in self._volumes and i.key != pick.key]
        self.load_series_key(pick.key)
        if self._load_job is None:
            self._start_pending_thumbnails()

    @staticmethod
    def pick_series(series: list[SeriesInfo], wanted: str | None) -> SeriesInfo | None:
        if not series:
            return None
        if wanted:
            w = wanted.strip()
            for test in (lambda i: i.key == w or i.series_uid == w,
                         lambda i: str(i.series_number) == w,
                         lambda i: w.lower() in (i.description or "").lower()):
                hits = [i for i in series if test(i)]
                if hits:
                    return hits[0]
            return None
        cts = [i for i in series if i.modality.upper() == "CT"]
        if cts:
            return max(cts, key=lambda i: i.image_count)
        return max(series, key=lambda i: i.image_count)

    def _start_pending_thumbnails(self) -> None:
        infos, self._pending_thumbnails = self._pending_thumbnails, []
        self._start_thumbnails(infos)

    def _start_thumbnails(self, infos: list[SeriesInfo]) -> None:
        if not infos:
            return
        job = Job(lambda _p, cancel: {i.key: series_thumbnail(i) for i in infos if not cancel()}, "Thumbnails")
        job.finished.connect(lambda thumbs: [self.browser.set_thumbnail(k, t) for k, t in thumbs.items()])
        self.jobs.start(job)  # quiet: no progress bar

    def load_series_key(self, key: str, view: SliceView | None = None) -> None:
        """Show a series; loads it in the background first when needed."""
        if key in self._volumes:
            self._volumes.move_to_end(key)
            self.show_series(key, view)
            return
        info = self._infos.get(key) or self.browser.series_info(key)
        if info is None:
            self.show_message(f"Unknown series {key}", "error")
            return
        for running in (self._load_job, self._progressive_job):
            if running is not None:
                running.cancel()
        label = f"Loading {info.modality} {info.description or info.series_uid}".strip()
        shown: list[Volume] = []  # the volume once its first image is shown

        def focus() -> int | None:
            # Called on the loading thread: the slice under the shared cursor is decoded first.
            cursor = self.grid.mpr.cursor
            if not shown or cursor is None:
                return None
            return int(round(float(shown[0].lps_to_index(cursor)[2])))

        job = Job(lambda progress, cancel: load_series(info, progress=progress, cancel=cancel, focus=focus,
                                                       on_first=job.publish), label)
        job.partial.connect(lambda vol: (shown.append(vol), self._on_first_image(job, key, vol, view)))
        job.finished.connect(lambda vol: self._on_loaded(key, vol, view))
        job.failed.connect(lambda msg: self.show_message(f"Could not load the series: {msg}", "error"))
        job.cancelled.connect(lambda: self.statusBar().showMessage("Loading cancelled", 4000))
        job.done.connect(lambda: self._drop_unfinished(job, key, shown))
        self._load_job = job
        self._start_job(job)

    def _on_first_image(self, job: Job, key: str, volume: Volume, view: SliceView | None) -> None:
        """The slices near the cursor are in: show the series while the rest of it loads. (Loads the layout
        starts for its other views meanwhile run beside it: they do not cancel it.)"""
        self._progressive_job = job
        self._volumes[key] = volume
        self.show_series(key, view)
        self._start_pending_thumbnails()

    def _drop_unfinished(self, job: Job, key: str, shown: list[Volume]) -> None:
        """A load that showed its first image and then failed or was cancelled: its volume goes (a series
        is never left half loaded; selecting it again loads it again)."""
        if job is self._progressive_job:
            self._progressive_job = None
        if not shown or not shown[0].is_loading:
            return
        if self._volumes.get(key) is shown[0]:
            del self._volumes[key]
        for v in self.grid.views:
            if v.volume() is shown[0]:
                v.set_volume(None)
        self._start_pending_thumbnails()

    def show_in_view(self, key: str, view: SliceView) -> None:
        """Show series ``key`` in one view (its acquired plane); loads it first when needed."""
        if self._current_key not in self._volumes:
            self.load_series_key(key)  # nothing shown yet: it becomes the main series
            return
        self.load_series_key(key, view)

    def ensure_volumes(self, keys: Sequence[str], on_ready: Callable[[], None], label: str = "") -> Job | None:
        """Load the series ``keys`` not loaded yet (one background job with progress and Cancel), then call
        ``on_ready`` (at once when all are loaded). A series that fails to load is named in the message bar
        and left out; a new load cancels this one."""
        missing = [k for k in dict.fromkeys(keys) if k not in self._volumes]
        infos = [(k, self._infos.get(k) or self.browser.series_info(k)) for k in missing]
        unknown = [k for k, i in infos if i is None]
        if unknown:
            self.show_message(f"Unknown series {', '.join(unknown)}", "error")
        infos = [(k, i) for k, i in infos if i is not None]
        if not infos:
            on_ready()
            return None
        if self._load_job is not None and self._load_job is not self._progressive_job:
            self._load_job.cancel()

        sizes = [max(info.image_count, 1) for _k, info in infos]
        total = sum(sizes)

        def work(progress, cancel):  # noqa: ANN001, ANN202 - runs in the worker thread
            done: dict[str, Volume] = {}
            failed: dict[str, str] = {}
            offset = 0
            for n, (k, info) in enumerate(infos):
                if cancel():
                    break
                try:
                    # one series reports as the loader does; several report images over all of them
                    report = progress if len(infos) == 1 else (lambda i, t, o=offset, n=n: progress(
                        o + min(i * sizes[n] // max(t, 1), sizes[n]), total))
                    done[k] = load_series(info, progress=report, cancel=cancel)
                except LoadCancelled:
                    raise
                except LoadError as exc:
                    failed[k] = str(exc)
                offset += sizes[n]
            return done, failed

        text = label or f"Loading {len(infos)} series"
        job = Job(work, text)
        job.finished.connect(lambda result: self._on_many_loaded(result, on_ready))
        job.failed.connect(lambda msg: self.show_message(f"Could not load the series: {msg}", "error"))
        job.cancelled.connect(lambda: self.statusBar().showMessage("Loading cancelled", 4000))
        self._load_job = job
        self._start_job(job)
        return job

    def _on_many_loaded(self, result: tuple[dict[str, Volume], dict[str, str]], on_ready: Callable[[], None]) -> None:
        done, failed = result
        for key, volume in done.items():
            self._store_volume(key, volume)
        for key, reason in failed.items():
            info = self._infos.get(key)
            self.show_message(f"Could not load {info.description if info else key}: {reason}", "error")
        on_ready()
        if done:
            self._evict(keep=next(iter(done)))
        for volume in done.values():
            self.volumeLoaded.emit(volume)

    def _store_volume(self, key: str, volume: Volume) -> None:
        self._volumes[key] = volume
        self.browser.set_loaded(key)
        self.browser.set_thumbnail(key, volume_thumbnail(volume, 64))
        if volume.warnings:
            desc = volume.metadata.series_description or key
            self.show_message(f"{desc}: " + " ".join(volume.warnings[:3])
                              + (f" (+{len(volume.warnings) - 3} more)" if len(volume.warnings) > 3 else ""),
                              "warning", "\n".join(volume.warnings), scope=f"series:{key}")

    def _on_loaded(self, key: str, volume: Volume, view: SliceView | None) -> None:
        shown_already = self._volumes.get(key) is volume  # its first image is on screen (progressive)
        self._store_volume(key, volume)
        if shown_already:
            wl = self._window_levels.get(key)
            if wl is not None:
                wl.presets = window_presets(volume)  # automatic windows over every image, not the first few
            for v in self.grid.views:
                if v.volume() is volume:
                    v.update()
        else:
            self.show_series(key, view)
        self._start_pending_thumbnails()
        self._evict(keep=key)  # after showing, so the volume it replaced on screen can go
        self.volumeLoaded.emit(volume)

    def _evict(self, keep: str) -> None:
        shown = {id(v.volume()) for v in self.grid.views if v.volume() is not None}  # Volumes are unhashable
        while sum(v.nbytes for v in self._volumes.values()) > CACHE_BYTES and len(self._volumes) > 1:
            for k, v in self._volumes.items():
                if k != keep and id(v) not in shown:
                    del self._volumes[k]
                    self._window_levels.pop(k, None)
                    self.browser.set_loaded(k, False)
                    break
            else:
                break

    # -- progress -----------------------------------------------------------------------------------------
    def _start_job(self, job: Job) -> None:
        job.progress.connect(lambda done, total, j=job: self._on_progress(j, done, total))
        job.done.connect(lambda j=job: self._on_job_done(j))
        self.progress_label.setText(job.label + "\u2026")
        self.progress_bar.setRange(0, 0)
        self._set_progress_visible(True)
        self.busyChanged.emit(True)
        self.jobs.start(job)

    def _on_progress(self, job: Job, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._progress_shown_at < PROGRESS_INTERVAL_S:
            return  # a frame every millisecond: the bar and the views refresh at most 25 times a second
        self._progress_shown_at = now
        for v in self.grid.views:
            if v.volume() is not None and v.volume().is_loading:
                v.update()  # slices arriving in a series already shown
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
            self.progress_bar.setFormat(f"{done}/{total}")
        self.progress_label.setText(job.label + "\u2026")

    def _on_job_done(self, job: Job) -> None:
        if job is self._load_job:
            self._load_job = None
        self._refresh_progress()

    def _refresh_progress(self, *_args: object) -> None:
        """Show the progress bar and Cancel exactly while a job the user waits for is running. A job that
        has ended but whose thread has not yet been reaped (still in ``jobs``) no longer counts."""
        waiting = [j for j in self.jobs.jobs() if j.state == "running" and j.label != "Thumbnails"]
        if not waiting:
            self._set_progress_visible(False)
            QTimer.singleShot(0, lambda: self.busyChanged.emit(self.is_busy()))

    def _set_progress_visible(self, on: bool) -> None:
        for w in (self.progress_label, self.progress_bar, self.cancel_button):
            w.setVisible(on)

    def cancel_loading(self) -> None:
        """The Cancel button: stop the running scan/load."""
        for j in self.jobs.jobs():
            j.cancel()

    def wait_until_idle(self, timeout_s: float = 300.0) -> bool:
        """Process events until no job runs (CLI --screenshot, tests). True when idle in time."""
        from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QEventLoop

        deadline = QDeadlineTimer(int(timeout_s * 1000))
        while self.jobs.busy() and not deadline.hasExpired():
            QCoreApplication.processEvents(QEventLoop.AllEvents, 50)
            QCoreApplication.sendPostedEvents()
            if self.jobs.busy():
                for j in self.jobs.jobs():
                    if j.thread is not None:
                        j.thread.wait(20)
        QCoreApplication.processEvents()
        return not self.jobs.busy()

    # =====================================================================================================
    # Drag and drop, close
    # =====================================================================================================
    def dragEnterEvent(self, event) -> None:  # noqa: ANN001
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: ANN001
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        for guard in self.close_guards:
            if not guard():
                event.ignore()
                return
        self.aboutToClose.emit()
        self.jobs.cancel_all()
        self.jobs.wait_all(5000)
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        super().closeEvent(event)


__all__ = ["CASE_SUFFIX", "LoadError", "MainWindow"]
