"""`ViewKeyRouter`: the image keys go to the image under the pointer, never into a form that kept the focus.

A reader who picked a lesion type, pressed Esc and moved back to the image expects ``L`` to pick the
length tool -- Qt sends it to the focused combo box instead, which jumps to "Lipomatous". The router is an
application-wide event filter with one rule:

    A key the views understand (a tool shortcut, R/I/H, the slice keys, 1-5, Esc, Delete, F2, [ ]) goes
    to the slice view under the pointer when the focus is in a panel control that does not take typed
    text (combo box, list, button, check box). Typing in a text field stays in the text field.

It moves the keyboard focus to that view first, so the window's tool shortcuts (bound to the view area)
match, and delivers the key press to the view. Keys with Ctrl or Alt that are not view keys (menus:
Ctrl+S, Ctrl+Z...) are never touched. Nothing here edits data: it only decides which widget gets a key.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

from widgets.deliberate_input import is_text_entry
from widgets.slice_view import SliceView

__all__ = ["VIEW_KEYS", "ViewKeyRouter"]

#: keys a slice view (or the tool in it) handles without modifiers
VIEW_KEYS = frozenset({
    Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End,
    Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5, Qt.Key.Key_Escape, Qt.Key.Key_Delete,
    Qt.Key.Key_Backspace, Qt.Key.Key_F2, Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight,
})
_MODIFIERS = (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
              | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier)


class ViewKeyRouter(QObject):
    """See the module docstring. ``window`` is the top-level widget whose panels are watched; ``views()``
    the slice views shown; ``view_area`` the widget the tool shortcuts are bound to."""

    def __init__(self, window: QWidget, views: Callable[[], list[SliceView]], view_area: QWidget,
                 parent: QObject | None = None) -> None:
        super().__init__(parent or window)
        self._window = window
        self._views = views
        self._area = view_area
        self._routing = False
        self._moved: tuple[QWidget, int, SliceView] | None = None

    def install(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def uninstall(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    # -- the rule -----------------------------------------------------------------------------------------
    def _is_view_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        mods = event.modifiers() & _MODIFIERS
        if key in VIEW_KEYS and not mods:
            return True
        pressed = QKeySequence(event.keyCombination())
        for action in self._area.actions():
            if action.isEnabled() and any(s.matches(pressed) == QKeySequence.SequenceMatch.ExactMatch
                                          for s in action.shortcuts()):
                return True
        return False

    def view_under_pointer(self) -> SliceView | None:
        """The shown slice view with an image under the mouse pointer, or None."""
        for v in self._views():
            if v.isVisible() and v.underMouse() and v.volume() is not None:
                return v
        return None

    def target_for(self, focus: QWidget | None, event: QKeyEvent) -> SliceView | None:
        """The view that should get ``event`` instead of ``focus`` (None: leave it where it is)."""
        if focus is None or self._routing:
            return None
        if focus.window() is not self._window or QApplication.activeModalWidget() is not None:
            return None
        if focus is self._area or self._area.isAncestorOf(focus):
            return None  # already in the view area
        if is_text_entry(focus) or not self._is_view_key(event):
            return None
        return self.view_under_pointer()

    def _redirected(self, watched: QWidget, event: QKeyEvent) -> SliceView | None:
        """The key press that follows a routed shortcut check but was addressed to the control that had the
        focus (a synthetic event sent straight to it): the view gets it."""
        if event.type() != QEvent.Type.KeyPress or self._moved is None:
            return None
        moved, self._moved = self._moved, None
        source, key, view = moved
        return view if watched is source and event.key() == key else None

    # -- event filter -------------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        t = event.type()
        if t not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) or not isinstance(watched, QWidget) \
                or not isinstance(event, QKeyEvent):
            return False
        focus = QApplication.focusWidget()
        if watched is focus and t == QEvent.Type.KeyPress:
            self._moved = None  # the key press reached the widget with the focus: nothing to redirect
        view = self.target_for(focus, event) if watched is focus else self._redirected(watched, event)
        if view is None:
            return False
        # The focus moves to the view: the window's tool shortcuts (bound to the view area) now match.
        view.setFocus(Qt.FocusReason.OtherFocusReason)
        if t == QEvent.Type.ShortcutOverride:
            self._moved = (watched, event.key(), view)
            return False
        copy = QKeyEvent(QEvent.Type.KeyPress, event.key(), event.modifiers(), event.text(), event.isAutoRepeat(),
                         event.count())
        self._routing = True
        try:
            QApplication.sendEvent(view, copy)
        finally:
            self._routing = False
        return True
