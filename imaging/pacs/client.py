"""One interface for both protocols: :class:`PacsClient`, and :func:`open_client` to get one. Qt-free.

A client finds studies, series and instances, retrieves a series (all of it, or only the instances named)
into a *sink* that receives each instance as a DICOM Part 10 file, and stores files on the server. The
protocol classes are :class:`imaging.pacs.dicomweb.DicomWebClient` (QIDO-RS, WADO-RS, STOW-RS through
``dicomweb-client``) and :class:`imaging.pacs.dimse.DimseClient` (C-ECHO, C-FIND, C-GET or C-MOVE,
C-STORE through ``pynetdicom``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from imaging.pacs.config import ServerConfig
from imaging.pacs.credentials import Credentials, session_credentials
from imaging.pacs.records import InstanceRecord, SeriesRecord, StudyQuery, StudyRecord

__all__ = ["CancelFn", "InstanceSink", "PacsClient", "StoreResult", "open_client"]

InstanceSink = Callable[[bytes], None]  # receives one DICOM Part 10 file (preamble, meta, data set)
CancelFn = Callable[[], bool]


@dataclass
class StoreResult:
    """What a store (STOW-RS or C-STORE) did: SOPInstanceUIDs stored, and failed ones with the reason."""

    stored: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


class PacsClient(Protocol):
    """What SpineCase asks of a PACS, whichever protocol carries it."""

    server: ServerConfig
    protocol: str  # "dicomweb" or "dimse"

    def echo(self) -> float:
        """Check the connection (C-ECHO, or a QIDO-RS request); the round trip in seconds."""
        ...

    def find_studies(self, query: StudyQuery) -> list[StudyRecord]:
        ...

    def find_series(self, study_uid: str) -> list[SeriesRecord]:
        ...

    def find_instances(self, study_uid: str, series_uid: str) -> list[InstanceRecord]:
        ...

    def retrieve(self, study_uid: str, series_uid: str, sop_uids: Sequence[str] | None, sink: InstanceSink,
                 cancel: CancelFn) -> None:
        """Send every instance of the series (or only ``sop_uids``) to ``sink``, in the transfer syntax
        the server stores (Debian's Orthanc cannot transcode JPEG 2000: we decode locally). Raises
        :class:`~imaging.pacs.errors.PacsCancelled` when ``cancel()`` turns true. ``sink`` may be called
        from another thread (DIMSE); it may raise to stop the transfer."""
        ...

    def store(self, files: Sequence[bytes]) -> StoreResult:
        """Store DICOM Part 10 files on the server."""
        ...

    def close(self) -> None:
        ...


def open_client(server: ServerConfig, protocol: str | None = None,
                credentials: Credentials | None = None) -> PacsClient:
    """A client for ``server`` over ``protocol`` ("dicomweb" or "dimse"; default: the server's choice,
    see :meth:`ServerConfig.protocol`). Secrets come from ``credentials`` (default: this session's)."""
    creds = credentials or session_credentials()
    if server.protocol(protocol) == "dicomweb":
        from imaging.pacs.dicomweb import DicomWebClient

        return DicomWebClient(server, creds)
    from imaging.pacs.dimse import DimseClient

    return DimseClient(server, creds)
