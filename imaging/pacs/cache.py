"""The local study cache: a folder per study, a folder per series, never a half series shown as whole.

Layout under the cache root (default :func:`imaging.pacs.config.user_cache_dir`)::

    ROOT/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm   complete series only
    ROOT/<StudyInstanceUID>/<SeriesInstanceUID>/.spinecase-series.json the manifest: UIDs, sizes, when, from where
    ROOT/.partial/<StudyInstanceUID>/<SeriesInstanceUID>/...           a transfer under way or interrupted

A series folder appears under its study only once every instance the PACS listed has arrived and been
checked (study, series and SOP instance UIDs; count), with its manifest written first and the folder
renamed into place in one step. An interrupted transfer (cancel, error, crash) stays under ``.partial``
and the next pull fetches only what is missing. Opening a study folder therefore never shows a half
series. Folder and file names are UIDs (checked to be digits and dots): no patient data in paths.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from pydicom import dcmread
from pydicom.errors import InvalidDicomError

from imaging.pacs.config import user_cache_dir
from imaging.pacs.errors import PacsIncomplete
from imaging.pacs.records import check_uid

__all__ = ["MANIFEST", "SeriesManifest", "SeriesTransfer", "StudyCache"]

MANIFEST = ".spinecase-series.json"
PARTIAL = ".partial"
_FORMAT = 1


@dataclass(frozen=True)
class SeriesManifest:
    """A complete cached series: where it is and what it holds (SOPInstanceUID -> file size in bytes)."""

    study_uid: str
    series_uid: str
    folder: Path
    sizes: dict[str, int]
    modality: str = ""
    description: str = ""
    server: str = ""
    protocol: str = ""
    completed_at: str = ""

    @property
    def sop_uids(self) -> set[str]:
        return set(self.sizes)

    @property
    def count(self) -> int:
        return len(self.sizes)

    def files(self) -> list[Path]:
        return [self.folder / f"{uid}.dcm" for uid in sorted(self.sizes)]

    def to_json(self) -> dict[str, object]:
        return {"format": _FORMAT, "study_uid": self.study_uid, "series_uid": self.series_uid,
                "modality": self.modality, "description": self.description, "server": self.server,
                "protocol": self.protocol, "completed_at": self.completed_at,
                "instances": [{"sop_uid": u, "size": s} for u, s in sorted(self.sizes.items())]}


class StudyCache:
    """The cache under ``root`` (see the module docstring)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else user_cache_dir()

    def study_dir(self, study_uid: str) -> Path:
        return self.root / check_uid(study_uid, "StudyInstanceUID")

    def series_dir(self, study_uid: str, series_uid: str) -> Path:
        return self.study_dir(study_uid) / check_uid(series_uid, "SeriesInstanceUID")

    def partial_dir(self, study_uid: str, series_uid: str) -> Path:
        return (self.root / PARTIAL / check_uid(study_uid, "StudyInstanceUID")
                / check_uid(series_uid, "SeriesInstanceUID"))

    def complete_series(self, study_uid: str, series_uid: str) -> SeriesManifest | None:
        """The manifest of a complete cached series whose files are all there at their recorded size;
        None otherwise (never cached, interrupted, or files lost since)."""
        folder = self.series_dir(study_uid, series_uid)
        try:
            doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if doc.get("format") != _FORMAT or doc.get("series_uid") != series_uid:
                return None
            sizes = {check_uid(i["sop_uid"], "SOPInstanceUID"): int(i["size"]) for i in doc["instances"]}
        except (OSError, ValueError, KeyError, TypeError):
            return None
        for uid, size in sizes.items():
            try:
                if (folder / f"{uid}.dcm").stat().st_size != size:
                    return None
            except OSError:
                return None
        return SeriesManifest(study_uid=study_uid, series_uid=series_uid, folder=folder, sizes=sizes,
                              modality=str(doc.get("modality", "")), description=str(doc.get("description", "")),
                              server=str(doc.get("server", "")), protocol=str(doc.get("protocol", "")),
                              completed_at=str(doc.get("completed_at", "")))

    def cached_series(self, study_uid: str) -> list[SeriesManifest]:
        """The complete series of a study in the cache."""
        folder = self.study_dir(study_uid)
        if not folder.is_dir():
            return []
        found = []
        for sub in sorted(folder.iterdir()):
            if sub.is_dir():
                with contextlib.suppress(ValueError):
                    m = self.complete_series(study_uid, sub.name)
                    if m is not None:
                        found.append(m)
        return found

    def begin(self, study_uid: str, series_uid: str, on_instance: Callable[[str], None] | None = None
              ) -> SeriesTransfer:
        """Start (or resume) receiving a series into its ``.partial`` folder."""
        return SeriesTransfer(self, check_uid(study_uid, "StudyInstanceUID"),
                              check_uid(series_uid, "SeriesInstanceUID"), on_instance)

    def discard(self, study_uid: str, series_uid: str) -> None:
        """Forget a series: its complete folder and any interrupted transfer."""
        for folder in (self.series_dir(study_uid, series_uid), self.partial_dir(study_uid, series_uid)):
            shutil.rmtree(folder, ignore_errors=True)


class SeriesTransfer:
    """One series arriving into the cache. :meth:`add` takes each instance (a Part 10 file, from any
    thread); :meth:`commit` checks the set against what the PACS listed and moves the series into place."""

    def __init__(self, cache: StudyCache, study_uid: str, series_uid: str,
                 on_instance: Callable[[str], None] | None) -> None:
        self.cache = cache
        self.study_uid = study_uid
        self.series_uid = series_uid
        self.folder = cache.partial_dir(study_uid, series_uid)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.on_instance = on_instance
        self._lock = threading.Lock()
        self._sizes: dict[str, int] = {}
        for path in self.folder.iterdir():
            if path.name.startswith(".tmp-"):  # a write cut short: never renamed into place
                with contextlib.suppress(OSError):
                    path.unlink()
            elif path.suffix == ".dcm":
                try:
                    self._sizes[check_uid(path.stem, "SOPInstanceUID")] = path.stat().st_size
                except (ValueError, OSError):
                    with contextlib.suppress(OSError):
                        path.unlink()

    def have(self) -> set[str]:
        """SOPInstanceUIDs already received (this transfer or an interrupted earlier one)."""
        with self._lock:
            return set(self._sizes)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._sizes)

    def add(self, data: bytes) -> str:
        """Keep one instance; returns its SOPInstanceUID. Raises :class:`PacsIncomplete` when it is not
        DICOM or belongs to another study or series (a PACS must not send strangers)."""
        try:
            ds = dcmread(BytesIO(data), stop_before_pixels=True,
                         specific_tags=["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
            study, series, sop = (str(ds.get(k, "")) for k in ("StudyInstanceUID", "SeriesInstanceUID",
                                                                 "SOPInstanceUID"))
        except (InvalidDicomError, ValueError, EOFError, OSError) as exc:
            raise PacsIncomplete(f"an instance of series {self.series_uid} is not valid DICOM: {exc}") from None
        if study != self.study_uid or series != self.series_uid:
            raise PacsIncomplete(f"the PACS sent instance {sop or '?'} of series {series or '?'} (study "
                                 f"{study or '?'}) while series {self.series_uid} was asked for")
        try:
            sop = check_uid(sop, "SOPInstanceUID")
        except ValueError as exc:
            raise PacsIncomplete(str(exc)) from None
        tmp = self.folder / f".tmp-{uuid.uuid4().hex}"
        tmp.write_bytes(data)
        os.replace(tmp, self.folder / f"{sop}.dcm")
        with self._lock:
            self._sizes[sop] = len(data)
        if self.on_instance is not None:
            self.on_instance(sop)
        return sop

    def commit(self, expected: Iterable[str], *, modality: str = "", description: str = "", server: str = "",
               protocol: str = "") -> SeriesManifest:
        """Check that exactly the ``expected`` SOPInstanceUIDs arrived (instances the PACS no longer lists
        are dropped) and move the series into the study folder. Raises :class:`PacsIncomplete` naming how
        many are missing; the received ones stay for resuming."""
        want = set(expected)
        with self._lock:
            have = dict(self._sizes)
        missing = want - set(have)
        if not want:
            raise PacsIncomplete(f"series {self.series_uid}: the PACS lists no instance of it")
        if missing:
            raise PacsIncomplete(f"series {self.series_uid}: {len(missing)} of {len(want)} instance(s) did not "
                                 f"arrive; the {len(want) - len(missing)} received are kept for resuming, and "
                                 "the series is not marked complete")
        for stray in set(have) - want:
            with contextlib.suppress(OSError):
                (self.folder / f"{stray}.dcm").unlink()
            have.pop(stray)
        manifest = SeriesManifest(study_uid=self.study_uid, series_uid=self.series_uid,
                                  folder=self.cache.series_dir(self.study_uid, self.series_uid), sizes=have,
                                  modality=modality, description=description, server=server, protocol=protocol,
                                  completed_at=datetime.now(UTC).isoformat(timespec="seconds"))
        (self.folder / MANIFEST).write_text(json.dumps(manifest.to_json(), indent=1) + "\n", encoding="utf-8")
        final = manifest.folder
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # an older copy (stale or damaged): out of the way in one step, then removed
            old = self.cache.root / PARTIAL / f".old-{uuid.uuid4().hex}"
            os.replace(final, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(self.folder, final)
        with contextlib.suppress(OSError):
            self.folder.parent.rmdir()  # the study's .partial folder, when no other series is pending
        return manifest
