"""The Bilsky contour assistant (issue 7), wired into the window.

``install(window)`` adds:

* five tools (toolbar, Tools menu and a "Bilsky" menu): canal Alt+1, sac Alt+2, cord Alt+3, tumour Alt+4
  and the contour brush Alt+B (widgets/contour_tools.py), with "Accept Suggested Bilsky Grade" in the menu;
* the contour overlay and its legend on every slice view (widgets/contour_overlay.py);
* the assistant panel (widgets/bilsky_assistant_panel.py) in the Bilsky grading panel's suggestion slot
  (``BilskyPanel.set_suggestion_widget``), or in its own right-dock tab when the findings feature is not
  installed. Accepting uses the level typed in the Bilsky panel when there is one.

Contours belong to the current finding of the findings feature (``window.finding_focus``); without it the
assistant keeps its own. Refusals go to the status bar, errors also to the message bar.

For other features and tests: ``window.bilsky_assistant`` (a :class:`BilskyAssistantFeature`: ``session``,
``overlay``, ``tools``, ``panel``, ``show_contour(contour_id)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QAction, QKeySequence

from widgets.bilsky_assistant_panel import BilskyAssistantPanel
from widgets.contour_overlay import ContourOverlay
from widgets.contour_tools import ContourSession, ask_new_finding, contour_tools
from widgets.findings_panel import FindingFocus
from widgets.slice_view import SliceView

if TYPE_CHECKING:  # pragma: no cover
    from app.main_window import MainWindow

STATUS_MS = 8000


class BilskyAssistantFeature:
    """The installed assistant: its session, overlay, tools and panel."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        ctl = window.case
        focus = getattr(window, "finding_focus", None)
        if focus is None:
            focus = FindingFocus(ctl, parent=window)
            window.finding_focus = focus
        self.overlay = ContourOverlay(ctl, focus.current_id)
        self.session = ContourSession(ctl, focus, self.overlay, notify=self.notify, set_tool=window.set_tool,
                                      parent=window)
        self.session.confirm_new_finding = lambda label: ask_new_finding(window, label)
        window.add_overlay(self.overlay)
        window.add_overlay(self.overlay.legend)

        window.tools_menu.addSeparator()
        window.tool_toolbar.addSeparator()
        self.tools = contour_tools(self.session)
        self.tool_actions: dict[str, QAction] = {}
        menu = window.menu("Bils&ky")
        for tool in self.tools:
            action = window.add_tool(tool)
            self.tool_actions[tool.name] = action
            menu.addAction(action)

        bilsky_panel = getattr(window, "bilsky_panel", None)
        level_provider = None
        if bilsky_panel is not None and hasattr(bilsky_panel, "level_edit"):
            level_provider = bilsky_panel.level_edit.text
        self.panel = BilskyAssistantPanel(self.session, views=window.views, level_provider=level_provider)
        if bilsky_panel is not None and hasattr(bilsky_panel, "set_suggestion_widget"):
            bilsky_panel.set_suggestion_widget(self.panel)
            self.dock = bilsky_panel.parentWidget()
        else:
            self.dock = window.add_panel(self.panel, "Bilsky assistant", "BilskyAssistantDock")
        for view in window.grid.views:
            self.panel.watch(view)
        self.panel.set_active_view(window.active_view())
        window.activeViewChanged.connect(self.panel.set_active_view)
        window.seriesShown.connect(lambda _vol: self.panel.refresh())
        window.layoutChanged.connect(lambda _name: self.panel.refresh())
        self.panel.toolRequested.connect(window.set_tool)
        self.panel.messageRequested.connect(self.notify)
        self.panel.showContoursRequested.connect(self.show_contour)

        menu.addSeparator()
        self.act_accept = QAction("&Accept Suggested Bilsky Grade", window)
        self.act_accept.setObjectName("bilsky_accept_suggestion")
        self.act_accept.setStatusTip("Set the current finding's final Bilsky grade to the assistant's suggestion")
        self.act_accept.setShortcut(QKeySequence("Ctrl+Alt+B"))
        self.act_accept.triggered.connect(self.accept_suggestion)
        menu.addAction(self.act_accept)
        show = QAction("Show Bilsky Assistant", window)
        show.triggered.connect(self.show_panel)
        menu.addAction(show)
        menu.aboutToShow.connect(lambda: self.act_accept.setEnabled(self.panel.accept_button.isEnabled()))

        ctl.changed.connect(self._on_changed)
        ctl.caseReplaced.connect(self._repaint)
        focus.currentChanged.connect(lambda _fid: self._repaint())

    # -- messages ----------------------------------------------------------------------------------------
    def notify(self, text: str, level: str = "info") -> None:
        """Refusals and hints in the status bar; errors also in the message bar."""
        self.window.statusBar().showMessage(text, STATUS_MS)
        if level == "error":
            self.window.show_message(text, "error")

    def accept_suggestion(self) -> bool:
        """Edit > Accept Suggested Bilsky Grade (Ctrl+Alt+B): the grade is set where the reader sees it -- the
        Bilsky panel comes forward -- and the status bar names the finding (Ctrl+Z undoes it)."""
        self.show_panel()
        focus = getattr(self.window, "finding_focus", None)
        finding = focus.current() if focus is not None else None
        if not self.panel.accept_suggestion():
            return False
        if finding is not None:
            grade = self.window.case.case.finding(finding.id).bilsky.grade
            self.window.statusBar().showMessage(
                f"Bilsky grade {grade} accepted for {finding.label or 'the finding'} (Ctrl+Z undoes it).", STATUS_MS)
        return True

    def show_panel(self) -> None:
        if self.dock is not None:
            self.dock.show()
            self.dock.raise_()

    # -- navigation ----------------------------------------------------------------------------------------
    def show_contour(self, contour_id: str) -> SliceView | None:
        """Bring an axial view of the contour's series to its slice (the series must be loaded)."""
        try:
            contour = self.window.case.case.get(contour_id)
        except KeyError:
            return None
        uid = contour.series_instance_uid or ""
        w = self.window

        def shows(v: SliceView) -> bool:
            vol = v.volume()
            return vol is not None and (vol.metadata.series_instance_uid or "") == uid

        target = next((v for v in w.views() if shows(v) and v.orientation() == "axial"), None)
        if target is None:
            key = next((k for k, vol in w.volumes().items() if (vol.metadata.series_instance_uid or "") == uid), None)
            if key is not None:
                w.show_series(key)
                target = next((v for v in w.views() if shows(v) and v.orientation() == "axial"), None)
        if target is None:
            target = next((v for v in w.views() if shows(v)), None)
            if target is not None:
                target.set_orientation("axial")
        if target is None:
            loaded = any(v.metadata.series_instance_uid == uid for v in w.volumes().values())
            if not loaded and w.bring_series(uid, lambda: self.show_contour(contour_id)):
                return None  # loading it: the views go to the contours once it is shown
            self.notify("The series these contours were drawn on is not open: open its folder (or File > Locate "
                        "Case Data\u2026) to see them.", "warning")
            return None
        centre = np.asarray(contour.points, dtype=np.float64).mean(axis=0)
        w.grid.mpr.set_cursor(centre)
        target.show_lps(centre)
        w.set_active_view(target)
        self.panel.refresh()
        return target

    # -- repaint ---------------------------------------------------------------------------------------------
    def _repaint(self, *_args: object) -> None:
        for v in self.window.grid.views:
            v.update()

    def _on_changed(self, collection: str, _obj_id: str) -> None:
        if collection == "findings":
            self._repaint()


def install(window: MainWindow) -> BilskyAssistantFeature:
    """Install the Bilsky contour assistant (see the module docstring)."""
    feature = BilskyAssistantFeature(window)
    window.bilsky_assistant = feature  # type: ignore[attr-defined]
    return feature
