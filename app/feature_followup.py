"""Follow-up (issue 18): the Follow-up panel, linking a measurement to a lesion at a new date, recording a
timepoint's Bilsky grade, and bringing a timepoint's study into view at the lesion.

Installs the panel (right dock, "Follow-up"), "Findings > Follow Up Lesion with Selected Measurement" and the
same entry in the slice views' context menu. Every edit is one explicit, undoable step through the case
controller:

* **link** — :func:`imaging.followup.link.plan_link` says what happens: the measurement joins the lesion (a
  bidirectional or CC extent as its dimensions at that date), a timepoint of its study's date is added when
  the date is new (nothing graded), and the case's references to the measurement's study and series are added
  when missing (from the loaded images);
* **grade** — the chosen Bilsky grade is recorded for the selected timepoint, read on the active view's image,
  which must be an image of that timepoint's date.

Navigation is a seam: ``window.followup.navigator`` is a callable taking a
:class:`~imaging.followup.timeline.TimepointTarget` and returning whether it showed it. The default
(:meth:`FollowUpFeature.navigate`) first hangs the reading workflow's comparison protocol (``compare-ct`` or
``compare-mr``: the later study beside its prior, linked by vertebral level) on the timepoint's study and puts
the cursor on the lesion, so the prior shows the same level (:meth:`FollowUpFeature.show_in_comparison`);
when no comparison fits (no prior study of that modality, or the reading feature is not installed) it shows
the timepoint's series alone at the lesion (:meth:`FollowUpFeature.show_in_views`: the measurement feature's
``show_measurement``, loading the series from the browser first when needed). Another layout can replace it
without touching the panel::

    window.followup.navigator = lambda target: my_layout.show(target.series_instance_uid, target.point_lps)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from imaging.case.findings import assignment_changes, dimension_marks, graded_assessment, grading_place
from imaging.case.model import SeriesRef, Study
from imaging.followup.link import LinkPlan, plan_link
from imaging.followup.timeline import TimepointTarget, navigation_target, series_date
from imaging.volume import Volume
from widgets.findings_panel import FindingFocus
from widgets.followup_panel import FollowUpPanel, measurement_size_text

if TYPE_CHECKING:  # pragma: no cover
    from app.main_window import MainWindow


def _dicom_date(text: str) -> date | None:
    """A DICOM DA value (``YYYYMMDD``) as a date; None when empty or invalid."""
    try:
        return datetime.strptime((text or "")[:8], "%Y%m%d").date()
    except ValueError:
        return None


class FollowUpFeature:
    """The follow-up feature of one main window (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        ctl = window.case
        focus: FindingFocus | None = getattr(window, "finding_focus", None)
        if focus is None:  # the findings feature is not installed: keep our own current finding
            focus = FindingFocus(ctl, parent=window)
            window.finding_focus = focus  # type: ignore[attr-defined] # features hang their services on the window
        self.focus = focus
        self.panel = FollowUpPanel(ctl, focus)
        self.dock = window.add_panel(self.panel, "Follow-up", "FollowUpPanelDock")
        self.navigator: Callable[[TimepointTarget], bool] = self.navigate
        self._pending: Callable[[Volume], None] | None = None
        self._pending_hanging: Callable[[object], None] | None = None
        self.panel.messageRequested.connect(window.show_message)
        self.panel.timepointActivated.connect(self.show_timepoint)
        self.panel.linkRequested.connect(self.link)
        self.panel.gradeRequested.connect(self.grade)
        findings_panel = getattr(window, "findings_panel", None)
        if findings_panel is not None:
            self.panel.newFindingRequested.connect(lambda: findings_panel.new_finding())

        menu = window.menu("F&indings")
        self.link_action = QAction("&Follow Up Lesion with Selected Measurement", window)
        self.link_action.setStatusTip("Link the selected measurement to the current finding at its study's date")
        self.link_action.triggered.connect(self.link_selected)
        menu.addAction(self.link_action)
        show = QAction("Show Follow-up Panel", window)
        show.triggered.connect(self.show_panel)
        menu.addAction(show)
        menu.aboutToShow.connect(self._update_action)
        for view in window.grid.views:
            view.contextMenuRequested.connect(lambda _ev, m: self._fill_view_menu(m))

    def show_panel(self) -> None:
        self.dock.show()
        self.dock.raise_()

    # -- linking ------------------------------------------------------------------------------------------
    def _update_action(self) -> None:
        self.link_action.setEnabled(self.panel._linkable() is not None and not self.window.case.read_only)

    def _fill_view_menu(self, menu: QMenu) -> None:
        f = self.focus.current()
        mid = self.panel._linkable()
        if f is None or mid is None or self.window.case.read_only:
            return
        act = menu.addAction(f"Follow up {f.label or 'finding'} with this measurement")
        act.triggered.connect(lambda: self.link(mid, f.id))

    def link_selected(self) -> bool:
        f, mid = self.focus.current(), self.panel._linkable()
        if f is None or mid is None:
            self.window.show_message("Select a finding and a measurement of a follow-up study first.", "info")
            return False
        return self.link(mid, f.id)

    def _volume_of(self, series_uid: str | None) -> Volume | None:
        return next((v for v in self.window.volumes().values()
                     if series_uid and v.metadata.series_instance_uid == series_uid), None)

    def _refs_for(self, series_uid: str | None) -> tuple[Study | None, SeriesRef | None, date | None]:
        """The study and series references of a loaded series (to add when the case lacks them) and its
        study date."""
        vol = self._volume_of(series_uid)
        if vol is None:
            return None, None, None
        md = vol.metadata
        day = _dicom_date(md.study_date)
        study = Study(study_instance_uid=md.study_instance_uid, study_date=day,
                      description=md.study_description) if md.study_instance_uid else None
        series = SeriesRef(series_instance_uid=md.series_instance_uid, study_instance_uid=md.study_instance_uid
                           or None, modality=vol.modality, description=md.series_description,
                           series_number=md.series_number, frame_of_reference_uid=md.frame_of_reference_uid or None,
                           slice_thickness_mm=md.slice_thickness if (md.slice_thickness or 0) > 0 else None)
        return study, series, day

    def plan(self, measurement_id: str, finding_id: str) -> LinkPlan:
        """What linking would do (raises ValueError with the reason when it cannot)."""
        ctl = self.window.case
        m = ctl.case.measurement(measurement_id)
        study, series, day = self._refs_for(m.series_instance_uid)
        return plan_link(ctl.case, measurement_id, finding_id, study_date=day, study=study, series=series,
                         reader=ctl.reader)

    def link(self, measurement_id: str, finding_id: str) -> bool:
        """Link a measurement to a lesion at its study's date: one undo step (see the module docstring)."""
        ctl = self.window.case
        try:
            plan = self.plan(measurement_id, finding_id)
        except (ValueError, KeyError) as exc:
            self.window.show_message(f"Not linked: {exc}", "warning")
            return False
        before = ctl.undo_stack.index()
        try:
            with ctl.macro(plan.text):
                if plan.study is not None:
                    ctl.add(plan.study, text="Add study reference")
                if plan.series is not None:
                    ctl.add(plan.series, text="Add series reference")
                if plan.timepoint is not None:
                    ctl.add(plan.timepoint, text=f"Add timepoint {plan.study_date.isoformat()}",
                            parent_id=finding_id)
                ctl.update(measurement_id, text="Link measurement to lesion",
                           **assignment_changes(ctl.case.measurement(measurement_id), finding_id))
                if plan.mark:  # the lesion's size at this date (its other marks at this date give way)
                    for mid, changes in dimension_marks(ctl.case, measurement_id, True):
                        ctl.update(mid, text="Mark as the lesion's dimensions", **changes)
        except (ValueError, KeyError) as exc:
            if ctl.undo_stack.index() > before:
                ctl.undo_stack.undo()  # nothing half done
            self.window.show_message(f"Not linked: {exc}", "error")
            return False
        self.focus.set_current(finding_id)
        case = ctl.case
        f = case.finding(finding_id)
        text = f"{plan.text}: {measurement_size_text(case, measurement_id)}"
        if plan.prior is not None and plan.prior.measurements:
            text += f"; prior {measurement_size_text(case, plan.prior.measurements[0].id)}"
        if plan.moved_from and plan.moved_from != finding_id:
            with contextlib.suppress(KeyError):
                text += f" (moved from {case.finding(plan.moved_from).label or 'another finding'})"
        self.window.show_message(text + f". {f.label or 'The lesion'}'s Bilsky grade and SINS at this date are "
                                 "yours to record.", "info")
        self.panel.select_timepoint(plan.timepoint.id if plan.timepoint is not None else "")
        return True

    # -- grading a timepoint ------------------------------------------------------------------------------
    def grade(self, finding_id: str, key: str, grade: str) -> bool:
        """Record (or clear, ``grade`` "") the Bilsky grade of timepoint ``key`` read on the active view's
        image, which must be of that timepoint's date. One undo step."""
        w, ctl = self.window, self.window.case
        case = ctl.case
        f = case.finding(finding_id)
        target = navigation_target(case, f, key)
        if target is None:
            return False
        tp = next((t for t in f.timepoints if t.id == key), None)
        current = tp.bilsky if tp is not None else f.bilsky
        view = w.active_view()
        vol = view.volume() if view is not None else None
        if grade and vol is None:
            w.show_message("Show an image of this timepoint (axial T2 at the level of worst compression) first.",
                           "warning")
            return False
        place = grading_place(case, vol, view.plane_spec() if view is not None else None,
                              view.slice_index() if view is not None else 0,
                              view.cursor_lps if view is not None else None)
        study, series, day = self._refs_for(place.series_instance_uid)
        day = series_date(case, place.series_instance_uid) or day
        if grade and target.study_date is not None and day != target.study_date:
            shown = day.isoformat() if day is not None else "an undated study"
            w.show_message(f"Not recorded: the active view shows an image of {shown}; this timepoint is "
                           f"{target.study_date.isoformat()}. Show its study first (Show timepoint).", "warning")
            return False
        new = graded_assessment(current, grade or None, level=place.level,
                                series_instance_uid=place.series_instance_uid, sop_instance_uid=place.sop_instance_uid,
                                slice_index=place.slice_index if place.orientation else None, reader=ctl.reader)
        when = target.study_date.isoformat() if target.study_date else "undated"
        name = f"Set Bilsky grade {grade} at {when}" if grade else f"Clear Bilsky grade at {when}"
        before = ctl.undo_stack.index()
        try:
            with ctl.macro(name):
                if grade and study is not None and case.study_ref(study.study_instance_uid) is None:
                    ctl.add(study, text="Add study reference")
                if grade and series is not None and case.series_ref(series.series_instance_uid) is None:
                    ctl.add(series, text="Add series reference")
                ctl.update(tp.id if tp is not None else f.id, text=name, bilsky=new)
        except (ValueError, KeyError) as exc:
            if ctl.undo_stack.index() > before:
                ctl.undo_stack.undo()
            w.show_message(f"Bilsky grade not recorded: {exc}", "error")
            return False
        if grade and place.reminder:
            w.show_message(place.reminder, "info")
        return True

    # -- navigation ---------------------------------------------------------------------------------------
    def show_timepoint(self, finding_id: str, key: str) -> bool:
        target = navigation_target(self.window.case.case, finding_id, key)
        if target is None:
            return False
        return self.navigator(target)

    def navigate(self, target: TimepointTarget) -> bool:
        """The default navigator: the comparison layout when one fits, else the series alone."""
        return self.show_in_comparison(target) or self.show_in_views(target)

    def show_in_comparison(self, target: TimepointTarget) -> bool:
        """Hang the comparison protocol of the timepoint's modality on its study (the later study beside its
        prior, linked by vertebral level) and, once shown, put the cursor on the lesion in the pane of the
        timepoint's series and select its measurement. False when no comparison fits."""
        from imaging.protocols.hanging import best_study_for

        reading = getattr(self.window, "reading", None)
        if reading is None or target.series_instance_uid is None:
            return False
        infos = reading.all_series()
        info = next((i for i in infos if i.series_uid == target.series_instance_uid), None)
        protocol = reading.protocol("compare-ct" if info is not None and info.modality == "CT" else "compare-mr")
        if info is None or protocol is None:
            return False
        hanging = best_study_for(protocol, infos, reading.classes(), info.study_uid)
        if not hanging.fits or info.study_uid not in (hanging.study_uid, hanging.prior_study_uid):
            return False
        self._drop_pending_hanging()

        def on_applied(applied: object) -> None:
            if applied is hanging:
                self._drop_pending_hanging()
                self._point_at(target)

        self._pending_hanging = on_applied
        reading.protocolApplied.connect(on_applied)
        reading.apply_hanging(hanging, remember=False, focus_key=info.key)
        return True

    def _point_at(self, target: TimepointTarget) -> None:
        """Cursor on the lesion from the view showing the timepoint's series (linked views follow by level);
        its measurement selected."""
        w = self.window
        uid = target.series_instance_uid
        view = next((v for v in w.views()
                     if (vol := v.volume()) is not None and vol.metadata.series_instance_uid == uid), None)
        if view is not None and target.point_lps is not None:
            w.set_active_view(view)
            w.grid.mpr.set_cursor(np.asarray(target.point_lps, dtype=np.float64), view)
        if target.measurement_id is not None:
            w.case.select(target.measurement_id)

    def _drop_pending_hanging(self) -> None:
        reading = getattr(self.window, "reading", None)
        if self._pending_hanging is not None and reading is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                reading.protocolApplied.disconnect(self._pending_hanging)
        self._pending_hanging = None

    def show_in_views(self, target: TimepointTarget) -> bool:
        """Bring the timepoint's series into view at the lesion (the default navigator)."""
        w = self.window
        uid = target.series_instance_uid
        if uid is None:
            w.show_message("This timepoint has no measurement or graded image to show.", "info")
            return False
        if self._volume_of(uid) is not None:
            self._show_loaded(target)
            return True
        key = next((k for k in w.browser.series_keys()
                    if (info := w.browser.series_info(k)) is not None and info.series_uid == uid), None)
        if key is None:
            ref = w.case.case.series_ref(uid)
            name = (ref.description if ref is not None else "") or uid
            w.show_message(f"The series of {target.study_date or 'this timepoint'} ({name}) is not open: open its "
                           "folder or use File > Locate Case Data.", "warning")
            return False
        self._drop_pending()

        def on_shown(volume: Volume) -> None:
            if volume.metadata.series_instance_uid == uid:
                self._drop_pending()
                self._show_loaded(target)

        self._pending = on_shown
        w.seriesShown.connect(on_shown)
        w.load_series_key(key)
        return True

    def _show_loaded(self, target: TimepointTarget) -> None:
        w = self.window
        measure = getattr(w, "measure", None)
        if target.measurement_id is not None and measure is not None and hasattr(measure, "show_measurement"):
            measure.show_measurement(target.measurement_id)
            return
        vol = self._volume_of(target.series_instance_uid)
        if vol is not None and target.point_lps is not None:
            w.grid.mpr.set_cursor(np.asarray(target.point_lps, dtype=np.float64))

    def _drop_pending(self) -> None:
        if self._pending is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self.window.seriesShown.disconnect(self._pending)
            self._pending = None


def install(window: MainWindow) -> FollowUpFeature:
    feature = FollowUpFeature(window)
    window.followup = feature  # type: ignore[attr-defined] # the feature's handle for other features and tests
    return feature
