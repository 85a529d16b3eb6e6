"""Qt views and editors (slice view, MPR grid, tools, overlays, series browser). May import imaging/, never app/."""
