"""Finding the DICOM files of the series a case references (by relative path hint, or by searching). Qt-free."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from imaging.case.model import SeriesRef
from imaging.errors import LoadError

__all__ = ["MissingSeries", "find_series", "series_headers", "series_location"]

_SCAN_TAGS = ["SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID"]


class MissingSeries(LoadError):
    """The files of a referenced series were not found (the message says where it looked)."""

    def __init__(self, reason: str, path: str | Path | None = None, series_instance_uid: str = "") -> None:
        self.series_instance_uid = series_instance_uid
        super().__init__(reason, path)


def series_location(case_path: str | Path, ref: SeriesRef) -> Path | None:
    """Where the series' files should be: ``ref.path_hint`` relative to the case file's folder (None when
    there is no hint or nothing is there)."""
    if not ref.path_hint:
        return None
    p = (Path(case_path).parent / Path(ref.path_hint)).resolve()
    return p if p.exists() else None


def _files(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            yield p


def _read_header(p: Path, tags: list[str] | None = None) -> Dataset | None:
    try:
        return pydicom.dcmread(p, stop_before_pixels=True, specific_tags=tags)
    except (InvalidDicomError, OSError, ValueError, TypeError, AttributeError, KeyError, EOFError):
        return None


def series_headers(case_path: str | Path, ref: SeriesRef, search_folders: Iterable[str | Path] = ()) -> list[Dataset]:
    """The headers (no pixel data) of every instance of ``ref``'s series, sorted by InstanceNumber.

    Looks at the path hint first (a file hint means its folder), then in ``search_folders``. Raises
    :class:`MissingSeries` naming the places searched when no instance is found.
    """
    places: list[Path] = []
    loc = series_location(case_path, ref)
    if loc is not None:
        places.append(loc.parent if loc.is_file() else loc)
    places.extend(Path(f) for f in search_folders)
    for place in places:
        found = []
        for f in _files(place):
            ds = _read_header(f)
            if ds is not None and str(getattr(ds, "SeriesInstanceUID", "")) == ref.series_instance_uid:
                found.append(ds)
        if found:
            return sorted(found, key=lambda d: int(getattr(d, "InstanceNumber", 0) or 0))
    hint = f"path hint {ref.path_hint!r} relative to {Path(case_path).parent}" if ref.path_hint else "no path hint"
    searched = ", ".join(str(p) for p in places) or "nowhere"
    raise MissingSeries(f"cannot find the DICOM files of series {ref.series_instance_uid} "
                        f"({ref.description or ref.modality or 'no description'}; {hint}; searched: {searched})",
                        case_path, ref.series_instance_uid)


def find_series(folder: str | Path, series_uids: Iterable[str]) -> dict[str, Path]:
    """Search ``folder`` (recursively) for the series whose SeriesInstanceUIDs are given; returns each
    found UID's folder (the folder of its first file). For re-linking a case whose data has moved."""
    wanted = set(series_uids)
    out: dict[str, Path] = {}
    for f in _files(Path(folder)):
        if not wanted - set(out):
            break
        ds = _read_header(f, _SCAN_TAGS)
        uid = str(getattr(ds, "SeriesInstanceUID", "")) if ds is not None else ""
        if uid in wanted and uid not in out:
            out[uid] = f.parent
    return out
