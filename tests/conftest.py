"""Shared test set-up: Qt runs offscreen unless a display is asked for explicitly; hypothesis is deterministic.

Property tests use a fixed example sequence by default, so CI on a clean clone sees the same examples on
every run; ``HYPOTHESIS_PROFILE=explore`` searches afresh (more examples, random seeds) when hunting bugs.
"""

from __future__ import annotations

import os

from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=500, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# PACS tests: a session-wide Orthanc with the sample studies, and the user's folders in tmp_path.
from tests.pacs_fixtures import sample_pacs, sample_server_name, user_dirs  # noqa: E402,F401
