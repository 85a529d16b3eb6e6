"""Coded concepts shared by the registries and the DICOM exports (Qt-free, highdicom-free).

Standard codes come from pydicom's code dictionary (``codes.SCT.Length``, ``codes.UCUM.Millimeter``...).
Concepts without a standard code known to us use the local coding scheme :data:`LOCAL_SCHEME`, which the SR
declares in its Coding Scheme Identification Sequence; we never invent codes in a standard scheme. Every
local code is made with :func:`local_code`, which remembers it (and the module that defined it), so
:func:`local_codes` lists them for the documentation (``docs/dicom-interop.md``) and its test.
"""

from __future__ import annotations

import sys
import threading

from pydicom.sr.coding import Code

__all__ = ["LOCAL_SCHEME", "Code", "local_code", "local_codes"]

LOCAL_SCHEME = "99SPINECASE"
"""The local coding scheme designator of SpineCase's own concepts (99 = private, PS3.16 8.2)."""

_LOCAL: dict[str, tuple[Code, str]] = {}  # code value -> (code, module that defined it)
_lock = threading.Lock()


def local_code(value: str, meaning: str) -> Code:
    """A concept of the local scheme. Code values are SH (at most 16 characters), code meanings LO (at most
    64). ValueError for a value that does not fit or that another concept already uses with another meaning."""
    if len(meaning) > 64:
        raise ValueError(f"a code meaning is at most 64 characters, got {len(meaning)}: {meaning!r}")
    if not value or len(value) > 16:
        raise ValueError(f"a code value is 1 to 16 characters, got {value!r}")
    code = Code(value, LOCAL_SCHEME, meaning)
    module = str(sys._getframe(1).f_globals.get("__name__", ""))
    with _lock:
        known = _LOCAL.setdefault(value, (code, module))[0]
    if known.meaning != meaning:
        raise ValueError(f"local code {value!r} already means {known.meaning!r}, not {meaning!r}")
    return code


def local_codes(package: str | None = None) -> list[Code]:
    """The local codes defined so far, in definition order; with ``package`` (``"imaging"``) only those
    defined by its modules (not the ones a test or a plug-in made)."""
    with _lock:
        entries = list(_LOCAL.values())
    return [c for c, module in entries if package is None or module == package or module.startswith(package + ".")]
