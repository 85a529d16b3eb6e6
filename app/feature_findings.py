"""Findings, the Bilsky grading panel and the SINS calculator (issue 6 §3-§5).

Installs three panels in the right dock (Findings, Bilsky, SINS — they share the current finding through a
`FindingFocus`), a Findings menu, "New Finding (from the selected measurement)" in the slice views' context
menu, the automatic level sync, the NOMS group of Bilsky grade 1c as a setting (``bilsky/grade_1c_group``,
"high" by default), and tells the measurement feature (``window.measure.session.finding_for_new``) which
finding new measurements join.

For other features::

    from app.feature_findings import active_finding_id, finding_focus
    active_finding_id(window)   # the finding a new measurement should join (None: none), e.g.
                                # measurement_from_drawing(..., finding_id=active_finding_id(window))
    finding_focus(window)       # the FindingFocus (current finding, currentChanged signal)
    window.bilsky_panel.set_suggestion_widget(widget)   # the Bilsky assistant's suggestion slot
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from widgets.bilsky_panel import BilskyPanel
from widgets.findings_panel import AutoLevelSync, FindingFocus, FindingsPanel, measurement_name
from widgets.sins_panel import SinsPanel

if TYPE_CHECKING:  # pragma: no cover
    from app.main_window import MainWindow

GRADE_1C_SETTING = "bilsky/grade_1c_group"


def finding_focus(window: MainWindow) -> FindingFocus | None:
    """The shared current-finding object (None before this feature is installed)."""
    return getattr(window, "finding_focus", None)


def active_finding_id(window: MainWindow) -> str | None:
    """The finding new measurements join: the finding the reader chose in this session while "Attach new
    measurements" is ticked in the Findings panel; None otherwise."""
    focus = finding_focus(window)
    return focus.active_finding_id() if focus is not None else None


def grade_1c_group(window: MainWindow) -> str:
    value = str(window.settings.value(GRADE_1C_SETTING, "high") or "high")
    return value if value in ("low", "high") else "high"


def install(window: MainWindow) -> None:
    ctl = window.case
    focus = FindingFocus(ctl, parent=window)
    sync = AutoLevelSync(ctl, parent=window)
    findings = FindingsPanel(ctl, focus)
    bilsky = BilskyPanel(ctl, focus, grade_1c_as=grade_1c_group(window))
    sins = SinsPanel(ctl, focus)
    window.finding_focus = focus
    window.auto_level_sync = sync
    window.findings_panel, window.bilsky_panel, window.sins_panel = findings, bilsky, sins

    docks = [window.add_panel(findings, "Findings", "FindingsPanelDock"),
             window.add_panel(bilsky, "Bilsky", "BilskyPanelDock"),
             window.add_panel(sins, "SINS", "SinsPanelDock")]
    for panel in (findings, bilsky, sins):
        panel.messageRequested.connect(window.show_message)
    for panel in (bilsky, sins):
        panel.newFindingRequested.connect(lambda: findings.new_finding())
    bilsky.grade1cGroupChanged.connect(lambda g: window.settings.set_value(GRADE_1C_SETTING, g))

    # the Bilsky panel follows the active view, its slice and the shared cursor
    bilsky.set_active_view(window.active_view())
    window.activeViewChanged.connect(bilsky.set_active_view)
    window.seriesShown.connect(lambda _vol: bilsky.refresh_view_context())
    window.grid.mpr.cursorChanged.connect(lambda _lps: bilsky.refresh_view_context())

    # menu
    menu = window.menu("F&indings")
    new_action = QAction("&New Finding", window)
    new_action.setStatusTip("Create a finding (lesion); a selected measurement joins it")
    new_action.triggered.connect(lambda: findings.new_finding())
    assign_action = QAction("&Assign Selected Measurement to Finding", window)
    assign_action.triggered.connect(lambda: findings.assign_selected_measurement())
    delete_action = QAction("&Delete Finding", window)
    delete_action.triggered.connect(findings.delete_current)
    for a in (new_action, assign_action, delete_action):
        menu.addAction(a)
    menu.addSeparator()
    for dock in docks:
        show = QAction(f"Show {dock.windowTitle()} Panel", window)
        show.triggered.connect(lambda _=False, d=dock: (d.show(), d.raise_()))
        menu.addAction(show)

    def update_menu() -> None:
        has = focus.current() is not None and not ctl.read_only
        delete_action.setEnabled(has)
        assign_action.setEnabled(has and bool(ctl.selected_id))
        new_action.setEnabled(not ctl.read_only)

    menu.aboutToShow.connect(update_menu)

    # new measurements join the finding the reader chose (the measurement feature asks through its session)
    measure = getattr(window, "measure", None)
    session = getattr(measure, "session", None)
    if session is not None and hasattr(session, "finding_for_new"):
        session.finding_for_new = lambda: active_finding_id(window)

    # clicking a finding on the spine map chooses it
    levels = getattr(window, "levels_feature", None)
    spine_map = getattr(levels, "map", None)
    if spine_map is not None and hasattr(spine_map, "findingClicked"):
        spine_map.findingClicked.connect(lambda fid: focus.set_current(fid, chosen=True))

    # slice views: "New Finding" (from the selected measurement when it belongs to none). Assigning the
    # measurement under the mouse to a finding is in the measurement feature's own context menu.
    for view in window.grid.views:
        view.contextMenuRequested.connect(lambda _ev, m, w=window: _fill_view_menu(w, findings, m))


def _fill_view_menu(window: MainWindow, findings: FindingsPanel, menu: QMenu) -> None:
    ctl = window.case
    if ctl.read_only:
        return
    try:
        m = ctl.case.measurement(ctl.selected_id) if ctl.selected_id else None
    except KeyError:
        m = None
    menu.addSeparator()
    if m is not None and m.finding_id is None:
        menu.addAction(f"New Finding from {measurement_name(m)}", lambda: findings.new_finding(True))
    else:
        menu.addAction("New Finding", lambda: findings.new_finding(False))
