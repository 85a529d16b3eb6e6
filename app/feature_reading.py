"""Reading workflow (issue 17): hanging protocols, linked navigation, cine, flip/rotate, maximise, next and
previous series, single-click thumbnails.

Installed by app/features.py. It adds:

* **View > Hanging Protocol**: the shipped protocols (`imaging/protocols/defaults.json`) and the reader's own
  (``hanging_protocols.json`` in the settings folder), each with its key (Ctrl+1...); choosing one hangs it
  on the study of the active view (or the patient's study it fits) and is remembered for that study (a hash
  of its StudyInstanceUID in the settings, never the UID itself). *Save Layout as Protocol...* writes the
  views on screen as a new protocol. When a folder opens, the protocol last chosen for one of its studies is
  hung, else the best automatic fit (`imaging.protocols.hanging.choose_hanging`): a spine MR hangs
  sag T2 | sag T1 | ax T2. ``spinecase open --layout`` keeps the layout asked for.
* Plain layouts (the layout buttons, a double-click in the series list) fill their other panes with a real
  series of that plane -- the axial T2 on MR -- instead of a thick reformat (`fill_layout`).
* Linked navigation (`widgets.mpr.MprGroup`, rules in `imaging.viewer.links`): the vertebral levels labelled
  in the case link views of different frames of reference or studies; each view's header shows its link.
* Keys on the active view: Space cine play/pause, Ctrl+] and Ctrl+[ cine speed ([ and ] stay the contour
  brush's size), Shift+H / Shift+V flip, Shift+R and Ctrl+Shift+R rotate 90 degrees right / left (R resets),
  Ctrl+PgDown / Ctrl+PgUp next / previous series, Ctrl+M maximise and back (or double-click), Ctrl+L link or
  unlink; a single click on a series in the browser shows it in the active view.

``install(window)`` returns the `ReadingFeature` (also ``window.reading``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu

from imaging.dicom.series import ScanResult, SeriesInfo
from imaging.protocols.classify import SeriesClass, classify_all
from imaging.protocols.hanging import Hanging, best_study_for, choose_hanging, fill_layout, studies
from imaging.protocols.protocol import (
    HangingProtocol,
    Pane,
    ProtocolError,
    SeriesRule,
    load_protocols,
    unique_id,
    write_protocol_file,
)
from imaging.viewer import screen
from imaging.viewer.links import frame_key
from imaging.viewer.state import ViewerState
from imaging.volume import Volume
from widgets.mpr import LAYOUT_ORIENTATIONS

if TYPE_CHECKING:  # pragma: no cover
    from app.main_window import MainWindow
    from widgets.slice_view import SliceView

_log = logging.getLogger(__name__)

PROTOCOLS_FILE = "hanging_protocols.json"
REMEMBER_KEY = "protocols/chosen"
MAX_REMEMBERED = 200
SAVED_SHORTCUTS = ("Ctrl+6", "Ctrl+7", "Ctrl+8", "Ctrl+9")


def study_token(study_uid: str) -> str:
    """What the settings keep of a study: a hash of its UID (the UID itself identifies the patient's exam)."""
    return hashlib.sha256(study_uid.encode("utf-8")).hexdigest()[:20]


class ReadingFeature(QObject):
    """The reading workflow of one window (see the module docstring)."""

    protocolApplied = Signal(object)  # the Hanging on screen

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.grid = window.grid
        self.mpr = window.grid.mpr
        self.state = ViewerState()
        # one model: the views render it, the state holds it
        self.state.links = self.mpr.links
        self.state.cines = self.grid.cine.states()
        self.grid.maximisedChanged.connect(self._on_maximised)
        self.hanging: Hanging | None = None
        self._classes: dict[str, SeriesClass] = {}
        self._fill_attempts: set[str] = set()
        self.protocols: list[HangingProtocol] = []
        self.protocol_actions: dict[str, QAction] = {}
        self.protocol_group = QActionGroup(self)
        self.protocol_group.setExclusive(True)
        self.protocol_menu = QMenu("Hanging &Protocol", window)
        self.protocol_menu.setObjectName("HangingProtocolMenu")
        window.view_menu.insertMenu(window.view_menu.actions()[1], self.protocol_menu)
        self.reload_protocols()
        self._build_actions()

        window.hang_on_open = self.hang_on_open
        window.layout_planner = self.plan_layout
        window.browser.seriesClicked.connect(self.load_into_active_view)
        window.case.changed.connect(self._on_case_changed)
        window.case.caseReplaced.connect(self.update_levels)
        window.volumeLoaded.connect(lambda _v: self.update_levels())
        window.seriesShown.connect(lambda _v: self.update_levels())
        for v in self.grid.views:
            v.contextMenuRequested.connect(self._fill_view_menu)

    # =====================================================================================================
    # Protocols: menu, files
    # =====================================================================================================
    def _on_maximised(self, view: SliceView | None) -> None:
        self.state.maximised = None if view is None else self.grid.views.index(view)

    def user_file(self) -> Path | None:
        """The reader's protocols file (in the settings folder); None for in-memory settings."""
        folder = self.window.settings.folder()
        return folder / PROTOCOLS_FILE if folder is not None else None

    def reload_protocols(self) -> None:
        """Read the shipped and the reader's protocols and rebuild the menu (problems go to the message bar)."""
        self.protocols, problems = load_protocols(self.user_file())
        for problem in problems:
            self.window.show_message(f"Hanging protocols: {problem}. The shipped protocols are used; the file "
                                     "is left as it is.", "warning")
        self._build_protocol_menu()

    def _build_protocol_menu(self) -> None:
        menu = self.protocol_menu
        for a in list(self.protocol_actions.values()):
            self.protocol_group.removeAction(a)
            a.deleteLater()
        menu.clear()
        self.protocol_actions = {}
        for p in self.protocols:
            a = QAction(p.name, self)
            a.setObjectName(f"protocol_{p.id}")
            a.setCheckable(True)
            if p.shortcut:
                a.setShortcut(QKeySequence(p.shortcut))
            a.setStatusTip(p.description or p.name)
            a.triggered.connect(lambda _=False, pid=p.id: self.choose_protocol(pid))
            self.protocol_group.addAction(a)
            menu.addAction(a)
            self.window.addAction(a)  # the key works wherever the focus is in the window
            self.protocol_actions[p.id] = a
        menu.addSeparator()
        save = menu.addAction("&Save Layout as Protocol\u2026", self.save_layout_dialog)
        save.setObjectName("protocol_save_layout")
        where = self.user_file()
        reload_ = menu.addAction("&Reload Protocols", self.reload_protocols)
        reload_.setStatusTip(f"Read {where} again" if where else "Read the protocols again")
        self._check_current()

    def _check_current(self) -> None:
        pid = self.hanging.protocol.id if self.hanging is not None else None
        for p_id, a in self.protocol_actions.items():
            a.setChecked(p_id == pid)
        if pid is None and self.protocol_group.checkedAction() is not None:
            self.protocol_group.setExclusive(False)
            self.protocol_group.checkedAction().setChecked(False)
            self.protocol_group.setExclusive(True)

    def protocol(self, pid: str) -> HangingProtocol | None:
        return next((p for p in self.protocols if p.id == pid), None)

    # =====================================================================================================
    # Series and their classification
    # =====================================================================================================
    def all_series(self) -> list[SeriesInfo]:
        """Every series open in the window, in the browser's order."""
        out = []
        for key in self.window.browser.ordered_keys():
            info = self.window.series_info(key) or self.window.browser.series_info(key)
            if info is not None:
                out.append(info)
        return out

    def classes(self) -> dict[str, SeriesClass]:
        infos = self.all_series()
        if any(i.key not in self._classes for i in infos):
            self._classes = classify_all(infos)
        return self._classes

    def key_of(self, volume: Volume | None) -> str | None:
        if volume is None:
            return None
        return next((k for k, v in self.window.volumes().items() if v is volume), None)

    def _study_of_view(self, view: SliceView | None) -> str | None:
        key = self.key_of(view.volume()) if view is not None else None
        info = self.window.series_info(key) if key else None
        return info.study_uid if info is not None else None

    # =====================================================================================================
    # Hanging
    # =====================================================================================================
    def hang_on_open(self, result: ScanResult, wanted: str | None) -> bool:
        """Arrange the views for series that just opened (the main window's ``hang_on_open`` hook). False
        leaves it to the window (one series in the current layout)."""
        if self.window.explicit_layout:
            return False
        infos = self.all_series()
        classes = self.classes()
        new_studies = {i.study_uid for i in result}
        focus_key: str | None = None
        if wanted:
            target = self.window.pick_series(list(result), wanted)
            if target is None:
                return False
            h = choose_hanging(self.protocols, infos, classes, self._remembered(), study_uid=target.study_uid)
            if h is None or target.key not in h.series_keys():
                return False
            focus_key = target.key
        else:
            h = choose_hanging(self.protocols, infos, classes, self._remembered(), study_uid=new_studies)
            if h is None:
                return False
        self.apply_hanging(h, remember=False, focus_key=focus_key)
        return True

    def choose_protocol(self, pid: str) -> Hanging | None:
        """Hang protocol ``pid`` on the study of the active view (or the open study it fits best) and
        remember the choice for that study. None (with a message saying what is missing) when it fits none."""
        protocol = self.protocol(pid)
        if protocol is None:
            return None
        infos = self.all_series()
        if not infos:
            self.window.show_message("Open a study first: a hanging protocol arranges its series.", "info")
            self._check_current()
            return None
        preferred = self._study_of_view(self.window.active_view()) or (self.hanging.study_uid if self.hanging
                                                                       else None)
        h = best_study_for(protocol, infos, self.classes(), preferred)
        if not h.fits:
            missing = "; ".join(f"{p.label or p.orientation}: {p.missing}" for p in h.panes
                                if p.required and p.series_key is None) or "no study of this patient fits it"
            self.window.show_message(f"{protocol.name} does not fit the open studies ({missing}).", "warning")
            self._check_current()
            return None
        self.apply_hanging(h, remember=True)
        return h

    def apply_hanging(self, hanging: Hanging, remember: bool = True, focus_key: str | None = None) -> None:
        """Load the series of ``hanging`` (one background job) and show them; ``remember`` keeps the choice
        for the study."""
        self.hanging = hanging
        self._check_current()
        self.state.apply_hanging(hanging)
        self.grid.cine.stop_all()
        if remember:
            self._remember(hanging.study_uid, hanging.protocol.id)
        keys = hanging.series_keys()
        self.window.ensure_volumes(keys, lambda: self._present(hanging, focus_key),
                                   label=f"Loading {hanging.protocol.name}")

    def _main_key(self, hanging: Hanging) -> str | None:
        return next((p.series_key for p in hanging.panes if p.series_key is not None), None)

    def _present(self, hanging: Hanging, focus_key: str | None) -> None:
        if hanging is not self.hanging:
            return  # another hanging was asked for meanwhile
        loaded = self.window.volumes()
        main = self._main_key(hanging)
        if main is None or main not in loaded:
            return
        self.update_levels()
        self.grid.maximise(None)
        self.window.present(main, hanging.protocol.layout, self._initial_cursor(hanging, loaded))
        views = self.grid.views
        # window presets named by the protocol ("Bone" for CT)
        for pane in hanging.panes:
            if pane.window and pane.series_key in loaded:
                wl = self.window.window_level_for(pane.series_key)
                if wl is not None:
                    names = [p.name.lower() for p in wl.presets]
                    if pane.window.lower() in names:
                        wl.apply_preset(names.index(pane.window.lower()))
        for i, view in enumerate(views):
            label = hanging.panes[i].label if i < len(hanging.panes) else ""
            self.grid.frame(view).header.set_pane_label(label)
        self._initial_links(hanging)
        self.grid.refresh_links()
        target = next((v for v in views[:len(hanging.panes)] if focus_key and self.key_of(v.volume()) == focus_key),
                      views[0])
        self.window.set_active_view(target)
        if focus_key is not None and target is not views[0] and target.volume() is not None:
            self.window.seriesShown.emit(target.volume())  # e.g. the case's measurements come into view
        self.protocolApplied.emit(hanging)

    def _initial_links(self, hanging: Hanging) -> None:
        """Every view starts linked when its frame maps to the first view's (same frame of reference or
        shared labelled levels); the others start unlinked, saying so, until the reader links them."""
        views = self.grid.layout_views()
        first = self.mpr.frame_of(views[0]) if views else None
        for v in views:
            frame = self.mpr.frame_of(v)
            linked = first is None or frame is None or self.mpr.links.model.kind(first, frame) != "none"
            self.mpr.links.set_linked(v.objectName(), linked)

    def _initial_cursor(self, hanging: Hanging, loaded: dict[str, Volume]) -> np.ndarray | None:
        """Where the cursor starts: the centre of the pane that shows a real axial series in the main series'
        frame of reference (the grading series sits where the lesion is); None: the main series' centre."""
        main = self._main_key(hanging)
        main_frame = loaded[main].metadata.frame_of_reference_uid if main in loaded else ""
        for pane in hanging.panes:
            vol = loaded.get(pane.series_key or "")
            if pane.orientation == "axial" and not pane.reformat and vol is not None and main_frame \
                    and vol.metadata.frame_of_reference_uid == main_frame:
                s, r, c = vol.shape
                return vol.index_to_lps(((c - 1) / 2, (r - 1) / 2, (s - 1) / 2))
        return None

    # -- the main window's layout planner ----------------------------------------------------------------
    def plan_layout(self, key: str, layout: str) -> list[tuple[str | None, str | None, str]] | None:
        """Which series each view of ``layout`` shows around main series ``key``: the protocol on screen
        when it is that layout around that series, else `fill_layout` (a real series of each plane rather
        than a thick reformat). Series not loaded yet load in the background; the views fill when ready."""
        h = self.hanging
        if h is not None and h.protocol.layout == layout and self._main_key(h) == key:
            return [(p.series_key, p.orientation, self.state.slots[i].placeholder) for i, p in enumerate(h.panes)]
        if h is not None:
            self.hanging = None
            self._check_current()
            for f in self.grid.frames:
                f.header.set_pane_label("")
        info = self.window.series_info(key)
        if info is None:
            return None
        fills = fill_layout(LAYOUT_ORIENTATIONS[layout], info, self.all_series(), self.classes())
        self.state.apply_fills(layout, fills)
        loaded = self.window.volumes()
        plan: list[tuple[str | None, str | None, str]] = []
        need = []
        for fill in fills:
            if fill.orientation == "" or fill.series_key is None:
                plan.append((key, "", ""))
            elif fill.series_key in loaded:
                plan.append((fill.series_key, fill.orientation, ""))
            else:
                plan.append((key, fill.orientation, ""))  # the main series reformatted until the other loads
                if fill.series_key not in self._fill_attempts:
                    need.append(fill.series_key)
        if need:
            self._fill_attempts.update(need)
            self.window.ensure_volumes(need, lambda: self._refill(key, layout))
        return plan

    def _refill(self, key: str, layout: str) -> None:
        if self.window.current_series_key() == key and self.grid.layout_name() == layout \
                and key in self.window.volumes(loading=True):
            cursor = self.mpr.cursor
            self.window.present(key)
            if cursor is not None:
                self.mpr.set_cursor(cursor, next((v for v in self.grid.views if self.key_of(v.volume()) == key),
                                                 None))

    # -- remembered choices ------------------------------------------------------------------------------
    def _remembered_tokens(self) -> list[str]:
        v = self.window.settings.value(REMEMBER_KEY, [])
        items: list[object] = [v] if isinstance(v, str) else list(v) if isinstance(v, list | tuple) else []
        return [x for x in items if isinstance(x, str) and "|" in x]

    def _remember(self, study_uid: str, pid: str) -> None:
        token = study_token(study_uid)
        entries = [f"{token}|{pid}"] + [e for e in self._remembered_tokens() if not e.startswith(token + "|")]
        self.window.settings.set_value(REMEMBER_KEY, entries[:MAX_REMEMBERED])

    def _remembered(self) -> list[tuple[str, str]]:
        """(StudyInstanceUID, protocol id) for the open studies the reader chose a protocol for, most recent
        first."""
        by_token = {study_token(uid): uid for uid in studies(self.all_series())}
        out = []
        for entry in self._remembered_tokens():
            token, _, pid = entry.partition("|")
            if token in by_token:
                out.append((by_token[token], pid))
        return out

    def remembered_protocol(self, study_uid: str) -> str | None:
        token = study_token(study_uid)
        return next((e.partition("|")[2] for e in self._remembered_tokens() if e.startswith(token + "|")), None)

    # -- save the layout as a protocol -------------------------------------------------------------------
    def save_layout_dialog(self) -> None:
        name, ok = QInputDialog.getText(self.window, "Save Layout as Protocol",
                                        "Name of the new hanging protocol:")
        if ok and name.strip():
            self.save_layout_as_protocol(name.strip())

    def save_layout_as_protocol(self, name: str) -> HangingProtocol | None:
        """Write the views on screen as a new protocol in the reader's file (with the next free key among
        Ctrl+6..Ctrl+9) and add it to the menu. None (with a message) when it cannot be saved."""
        path = self.user_file()
        if path is None:
            self.window.show_message("These settings live in memory only: there is no settings folder to keep a "
                                     "protocol in.", "warning")
            return None
        layout = self.grid.layout_name()
        views = self.grid.layout_views()
        if not views or views[0].volume() is None:
            self.window.show_message("Show a series first: the protocol is made from the views on screen.", "info")
            return None
        classes = self.classes()
        first_info = self.window.series_info(self.key_of(views[0].volume()) or "")
        panes = [self._pane_for(v, first_info, classes) for v in views]
        if not any(p.required for p in panes):
            return None
        taken = {p.shortcut for p in self.protocols if p.shortcut}
        shortcut = next((s for s in SAVED_SHORTCUTS if s not in taken), None)
        try:
            protocol = HangingProtocol(id=unique_id(name, [p.id for p in self.protocols]), name=name[:80],
                                       shortcut=shortcut, layout=layout, panes=panes, priority=40, auto=False,
                                       description="Saved from the views on screen.", source="user")
            write_protocol_file(path, [*self.protocols, protocol])
        except (ProtocolError, OSError, ValueError) as exc:
            self.window.show_message(f"The protocol was not saved: {exc}", "error")
            return None
        self.reload_protocols()
        self.window.show_message(f"Saved the hanging protocol \u201c{protocol.name}\u201d in {path}"
                                 + (f" ({shortcut})." if shortcut else "."), "info")
        return self.protocol(protocol.id)

    def _pane_for(self, view: SliceView, first: SeriesInfo | None, classes: dict[str, SeriesClass]) -> Pane:
        key = self.key_of(view.volume())
        info = self.window.series_info(key) if key else None
        c = classes.get(key) if key else None
        orientation = view.orientation() or "axial"
        if info is None or c is None or not c.hangable:
            return Pane(label="empty", orientation=orientation, required=False,
                        series=[SeriesRule(modality="-")])
        role = "current"
        if first is not None and info.study_uid != first.study_uid:
            role = "same-date" if info.study_date and info.study_date == first.study_date else "prior"
        reformat = c.plane != orientation
        strict = SeriesRule(
            modality=c.modality, plane=[c.plane], weighting=[c.weighting] if c.weighting else None,
            dixon=[c.dixon or "none"] if c.modality == "MR" else None, contrast=[c.contrast],
            kernel=[c.kernel or "none"] if c.modality == "CT" else None, reformat=reformat)
        loose = SeriesRule(modality=c.modality, plane=[c.plane],
                           weighting=[c.weighting] if c.weighting else None, reformat=reformat)
        wl = view.window_level()
        window = wl.name if wl is not None and wl.name in {p.name for p in wl.presets} else None
        return Pane(label=c.label(), orientation=orientation, study=role, series=[strict, loose], window=window)

    # =====================================================================================================
    # Levels -> links
    # =====================================================================================================
    def _on_case_changed(self, collection: str, _object_id: str) -> None:
        if collection in ("vertebral_labels", "series"):
            self.update_levels()

    def _frame_of_series(self, series_uid: str | None) -> str | None:
        if not series_uid:
            return None
        for vol in self.window.volumes().values():
            if vol.metadata.series_instance_uid == series_uid:
                return frame_key(vol.metadata.frame_of_reference_uid, series_uid)
        for info in self.all_series():
            if info.series_uid == series_uid:
                return frame_key(info.frame_of_reference_uid, series_uid)
        ref = self.window.case.case.series_ref(series_uid)
        return frame_key(ref.frame_of_reference_uid, series_uid) if ref is not None else None

    def update_levels(self) -> None:
        """Give the link model the vertebral levels labelled in the case, per frame of reference."""
        by_frame: dict[str, list[tuple[str, tuple[float, float, float]]]] = defaultdict(list)
        for lab in self.window.case.case.vertebral_labels:
            frame = self._frame_of_series(lab.series_instance_uid)
            if frame is not None:
                x, y, z = lab.centre
                by_frame[frame].append((lab.label, (float(x), float(y), float(z))))
        frames = set(by_frame) | {f for v in self.grid.views if (f := self.mpr.frame_of(v)) is not None}
        for frame in frames:
            self.mpr.links.model.set_levels(frame, by_frame.get(frame, []))
        self.grid.refresh_links()

    # =====================================================================================================
    # View actions: cine, flip/rotate, next series, maximise, link
    # =====================================================================================================
    def _build_actions(self) -> None:
        w = self.window

        def act(text: str, slot: Callable[[], object], shortcut: str, name: str, tip: str = "") -> QAction:
            a = QAction(text, w)
            a.setObjectName(name)
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # only while the views have focus
            a.triggered.connect(lambda _=False: slot())
            if tip:
                a.setStatusTip(tip)
            self.grid.addAction(a)
            return a

        self.act_cine = act("Play/Pause &Cine", lambda: self._on_active(self.grid.cine.toggle), "Space",
                            "view_cine", "Play the active view's images in a loop")
        self.act_cine_faster = act("Cine Faster", lambda: self._on_active(self.grid.cine.faster), "Ctrl+]",
                                   "view_cine_faster")
        self.act_cine_slower = act("Cine Slower", lambda: self._on_active(self.grid.cine.slower), "Ctrl+[",
                                   "view_cine_slower")
        self.act_flip_h = act("Flip &Horizontal", lambda: self.turn(screen.flip_horizontal), "Shift+H",
                              "view_flip_h")
        self.act_flip_v = act("Flip &Vertical", lambda: self.turn(screen.flip_vertical), "Shift+V", "view_flip_v")
        self.act_rotate_right = act("Rotate 90\u00b0 Right", lambda: self.turn(screen.rotate), "Shift+R",
                                    "view_rotate_right")
        self.act_rotate_left = act("Rotate 90\u00b0 Left", lambda: self.turn(screen.rotate_left),
                                   "Ctrl+Shift+R", "view_rotate_left")
        self.act_next_series = act("&Next Series", lambda: self.step_series(+1), "Ctrl+PgDown", "view_next_series",
                                   "Show the next series of the list in the active view")
        self.act_prev_series = act("&Previous Series", lambda: self.step_series(-1), "Ctrl+PgUp",
                                   "view_previous_series")
        self.act_maximise = act("&Maximise/Restore View", self.toggle_maximise, "Ctrl+M", "view_maximise",
                                "The active view fills the grid (or double-click it); again to restore")
        self.act_link = act("&Link/Unlink View", self.toggle_link, "Ctrl+L", "view_link",
                            "Link the active view's navigation to the other views, or unlink it")
        menu = self.window.view_menu.addMenu("View &Tools")
        menu.setObjectName("ViewToolsMenu")
        for a in (self.act_cine, self.act_cine_faster, self.act_cine_slower, None, self.act_flip_h, self.act_flip_v,
                  self.act_rotate_right, self.act_rotate_left, None, self.act_next_series, self.act_prev_series,
                  None, self.act_maximise, self.act_link):
            if a is None:
                menu.addSeparator()
            else:
                menu.addAction(a)

    def _on_active(self, fn: Callable[[SliceView], object]) -> None:
        v = self.window.active_view()
        if v is not None and v.volume() is not None:
            fn(v)

    def turn(self, op: Callable[[screen.Turn], screen.Turn]) -> None:
        """Flip or rotate the active view on screen."""
        self._on_active(lambda v: self._turn_view(v, op))

    @staticmethod
    def _turn_view(view: SliceView, op: Callable[[screen.Turn], screen.Turn]) -> None:
        view.set_turn(op(view.turn))

    def step_series(self, step: int) -> str | None:
        """Show the next (+1) or previous (-1) series of the browser's list in the active view."""
        view = self.window.active_view() or self.grid.views[0]
        current = self.key_of(view.volume())
        nxt = ViewerState.next_series(self.window.browser.ordered_keys(), current, step)
        if nxt is not None and nxt != current:
            self.window.show_in_view(nxt, view)
            self.window.browser.select_series(nxt)
        return nxt

    def load_into_active_view(self, key: str) -> None:
        """A single click on a series in the browser: show it in the active view."""
        view = self.window.active_view() or self.grid.views[0]
        if view not in self.grid.layout_views():
            view = self.grid.views[0]
        if self.key_of(view.volume()) == key:
            return
        self.window.show_in_view(key, view)

    def toggle_maximise(self) -> None:
        v = self.window.active_view()
        if v is not None:
            self.grid.toggle_maximise(v)

    def toggle_link(self) -> None:
        v = self.window.active_view()
        if v is not None and v.volume() is not None:
            self.mpr.set_linked(v, not self.mpr.is_linked(v))

    def _fill_view_menu(self, ev, menu: QMenu) -> None:  # noqa: ANN001
        view = ev.view
        menu.addSeparator()
        maximised = self.grid.maximised_view() is view
        menu.addAction("Restore Layout" if maximised else "Maximise View", lambda: self.grid.toggle_maximise(view))
        linked = self.mpr.is_linked(view)
        menu.addAction("Unlink View" if linked else "Link View", lambda: self.mpr.set_linked(view, not linked))
        turn = menu.addMenu("Flip / Rotate")
        ops: list[tuple[str, Callable[[screen.Turn], screen.Turn]]] = [
            ("Flip Horizontal", screen.flip_horizontal), ("Flip Vertical", screen.flip_vertical),
            ("Rotate 90\u00b0 Right", screen.rotate), ("Rotate 90\u00b0 Left", screen.rotate_left)]
        for text, op in ops:
            turn.addAction(text, functools.partial(self._turn_view, view, op))
        playing = self.grid.cine.is_playing(view)
        menu.addAction("Pause Cine" if playing else "Play Cine", lambda: self.grid.cine.toggle(view))


def install(window: MainWindow) -> ReadingFeature:
    feature = ReadingFeature(window)
    window.reading = feature  # type: ignore[attr-defined]  # features hang off the window until their registry
    return feature


__all__ = ["ReadingFeature", "install", "study_token"]
