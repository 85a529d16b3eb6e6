"""Defensive reads of the plain header values a scan keeps (``SeriesInfo.header``) for the series classifier.

A header comes from files we did not write: a value may be missing, empty, a list where one value is
expected (or the reverse), a number written as text, NaN, absurdly large, bytes, or a nested sequence. Every
read here returns a value of one declared type or "absent" (``""``, ``()`` or ``None``), never raises and
never returns anything it could not check. Text is bounded (a 10 MB SeriesDescription must not slow a
regular expression down) and numbers must be finite and inside a plausible range given by the caller.

These are the only header reads the classifier makes, so switching to the project-wide typed accessors of
``imaging.dicom`` later changes this one module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["MAX_TEXT", "number", "text", "tokens", "values"]

MAX_TEXT = 256
"""Longest text kept from one value (LO is 64 characters, LT 10240): enough for any description."""

_MAX_VALUES = 32  # values kept from a multi-valued attribute


def values(header: Mapping[str, object], keyword: str) -> tuple[object, ...]:
    """The values of ``keyword`` as a flat tuple of plain scalars (str, int, float); empty when absent."""
    try:
        raw = header.get(keyword)
    except Exception:  # noqa: BLE001 - a hostile mapping is treated as holding nothing
        return ()
    return tuple(_flatten(raw, depth=0))[:_MAX_VALUES]


def _flatten(raw: object, depth: int) -> list[object]:
    if raw is None or depth > 2:
        return []
    if isinstance(raw, bool):
        return []
    if isinstance(raw, int | float | str):
        return [raw]
    if isinstance(raw, bytes | bytearray):
        try:
            return [bytes(raw[:MAX_TEXT]).decode("ascii", errors="replace")]
        except Exception:  # noqa: BLE001
            return []
    if isinstance(raw, list | tuple):
        out: list[object] = []
        for item in raw[:_MAX_VALUES]:
            out.extend(_flatten(item, depth + 1))
        return out
    # pydicom value types (DSfloat, IS, PersonName, MultiValue) are str/int/float/list subclasses or
    # convertible to text; anything else (a Dataset, a Sequence) carries no classification value.
    if type(raw).__name__ in ("Dataset", "Sequence", "FileDataset"):
        return []
    try:
        return [str(raw)[:MAX_TEXT]]
    except Exception:  # noqa: BLE001
        return []


def text(header: Mapping[str, object], keyword: str) -> str:
    """All values of ``keyword`` joined by a backslash (as DICOM writes them), stripped and bounded; ``""``
    when absent. Control characters become spaces."""
    parts = []
    for v in values(header, keyword):
        s = str(v)[:MAX_TEXT]
        s = "".join(ch if ch.isprintable() else " " for ch in s).strip()
        if s:
            parts.append(s)
    return "\\".join(parts)[:MAX_TEXT]


def tokens(header: Mapping[str, object], keyword: str) -> tuple[str, ...]:
    """The values of a code-string attribute (ImageType, ScanningSequence, SequenceVariant...) upper-cased,
    each stripped; empty values dropped."""
    out = []
    for v in values(header, keyword):
        s = str(v)[:MAX_TEXT].strip().upper()
        if s:
            out.append(s)
    return tuple(out)


def number(header: Mapping[str, object], keyword: str, low: float, high: float) -> float | None:
    """The first value of ``keyword`` as a finite float within ``[low, high]``; None when absent,
    not a number, not finite or out of that range (a value out of range is not trusted at all)."""
    vals = values(header, keyword)
    if not vals:
        return None
    v = vals[0]
    try:
        if isinstance(v, str):
            x = float(v.strip())
        elif isinstance(v, int | float):
            x = float(v)
        else:
            return None
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(x) or x < low or x > high:
        return None
    return x
