"""The viewer's state, Qt-free: links between views (`links`), flip/rotate on screen (`screen`) and the
reading state of the view grid (`state`). widgets/ renders it; tests drive it without a display."""
