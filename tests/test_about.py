"""Help > About says what SpineCase is not; Help > Keyboard lists the keys the window really binds."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence


def test_about_and_shortcuts_follow_the_window(qtbot, tmp_path) -> None:
    from app.about import DISCLAIMER, about_text, shortcuts_html
    from app.main_window import MainWindow
    from app.settings import Settings

    window = MainWindow(settings=Settings(tmp_path / "s.ini"), restore_state=False)
    qtbot.addWidget(window)
    assert "NOT a medical device" in DISCLAIMER and DISCLAIMER in about_text("1.0")
    html = shortcuts_html(window)
    tools = [window.tools.get(name) for name in window.tools.names()]
    assert len(tools) >= 2
    for tool in tools:
        if tool.shortcut:
            native = QKeySequence(tool.shortcut).toString(QKeySequence.SequenceFormat.NativeText)
            assert f"<b>{native}</b>" in html, (tool.name, native)
            assert tool.label in html
    assert "Ctrl+Shift+Z" in html and "Ctrl+Y" in html
