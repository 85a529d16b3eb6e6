"""Coded concepts shared by the registries and the DICOM exports (Qt-free, highdicom-free).

Standard codes come from pydicom's code dictionary (``codes.SCT.Length``, ``codes.UCUM.Millimeter``...).
Concepts without a standard code known to us use the local coding scheme :data:`LOCAL_SCHEME`, which the SR
declares in its Coding Scheme Identification Sequence; we never invent codes in a standard scheme.
"""

from __future__ import annotations

from pydicom.sr.coding import Code

__all__ = ["LOCAL_SCHEME", "Code", "local_code"]

LOCAL_SCHEME = "99SPINECASE"
"""The local coding scheme designator of SpineCase's own concepts (99 = private, PS3.16 8.2)."""


def local_code(value: str, meaning: str) -> Code:
    """A concept of the local scheme. Code meanings are LO values: at most 64 characters."""
    if len(meaning) > 64:
        raise ValueError(f"a code meaning is at most 64 characters, got {len(meaning)}: {meaning!r}")
    return Code(value, LOCAL_SCHEME, meaning)
