"""Registers the built-in measurement kinds (imported once by the registry; the toolbar order is
``BUILTIN_ORDER`` in the registry)."""

import importlib

BUILTIN_MODULES = ("length", "bidirectional", "ellipse_roi", "outline_roi", "angle", "cobb", "probe", "cc_extent")

for _name in BUILTIN_MODULES:
    importlib.import_module(f"imaging.measurement_kinds.{_name}")

__all__ = ["BUILTIN_MODULES"]
