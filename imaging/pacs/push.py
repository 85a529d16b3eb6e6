"""Push SpineCase's results to a PACS: DICOM SR, segmentations and key-object selections. Qt-free.

Only those kinds are sent (a results channel, not a way to copy images around); each file is read and
checked first, so a wrong file is named before anything leaves. The store itself is STOW-RS or C-STORE
(:meth:`imaging.pacs.client.PacsClient.store`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pydicom import dcmread
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from imaging.pacs.client import PacsClient, StoreResult
from imaging.pacs.errors import PacsError

__all__ = ["PushFile", "push_files", "read_push_file", "result_kind"]

_SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."  # every SR storage class; 88.59 is Key Object Selection
_SEG = ("1.2.840.10008.5.1.4.1.1.66.4",)
_KOS = "1.2.840.10008.5.1.4.1.1.88.59"


def result_kind(sop_class_uid: str) -> str | None:
    """"SR", "KOS" or "SEG" for the objects SpineCase pushes; None for anything else."""
    if sop_class_uid == _KOS:
        return "KOS"
    if sop_class_uid.startswith(_SR_PREFIX):
        return "SR"
    if sop_class_uid in _SEG:
        return "SEG"
    return None


@dataclass(frozen=True)
class PushFile:
    path: Path
    data: bytes
    kind: str
    sop_uid: str
    study_uid: str
    series_uid: str


def read_push_file(path: str | Path) -> PushFile:
    """Read and check one file to push; :class:`PacsError` naming the file when it is not DICOM or not an
    SR, SEG or key-object selection."""
    p = Path(path)
    try:
        data = p.read_bytes()
        ds = dcmread(BytesIO(data), stop_before_pixels=True)
    except OSError as exc:
        raise PacsError(f"cannot read it: {exc.strerror or exc}", p) from None
    except (InvalidDicomError, ValueError, EOFError) as exc:
        raise PacsError(f"not a DICOM file ({exc})", p) from None
    sop_class = str(ds.get("SOPClassUID", ""))
    kind = result_kind(sop_class)
    if kind is None:
        name = UID(sop_class).name if sop_class else "no SOP class"
        raise PacsError(f"{name} is not sent: push sends results (DICOM SR, segmentations, key-object "
                        "selections)", p)
    for key in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
        if not ds.get(key):
            raise PacsError(f"{key} missing", p)
    if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
        raise PacsError("no file meta information (not a DICOM Part 10 file)", p)
    return PushFile(p, data, kind, str(ds.SOPInstanceUID), str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID))


def push_files(client: PacsClient, files: Sequence[PushFile]) -> StoreResult:
    """Store the checked files on the server; the result names what was stored and what failed."""
    if not files:
        return StoreResult()
    return client.store([f.data for f in files])
