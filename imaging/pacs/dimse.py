"""DIMSE client (C-ECHO, C-FIND, C-GET or C-MOVE, C-STORE) on ``pynetdicom``. Qt-free.

Retrieval receives each instance in the transfer syntax the PACS stores: for C-GET we propose, for every
storage SOP class of the series, one presentation context per transfer syntax (the acceptor picks one
syntax per context, so one context holding them all would make it transcode, which Debian's Orthanc cannot
do for JPEG 2000); for C-MOVE our storage SCP accepts every syntax. C-MOVE needs the PACS to know our AE
title with the host and port it connects back to; the SCP accepts only that AE title and only instances of
the series asked for.

Sockets: pynetdicom writes a PDU in several small sends and reads the peer's in 4 KB pieces; with Nagle's
algorithm and delayed acknowledgements each instance then waits about 40 ms (146 CT images took 7 s on
loopback). We set TCP_NODELAY and, on Linux, TCP_QUICKACK before each read: the same transfer takes 0.5 s.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from io import BytesIO
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, build_role, evt
from pynetdicom.transport import AssociationSocket

from imaging.pacs.client import CancelFn, InstanceSink, StoreResult
from imaging.pacs.config import ServerConfig
from imaging.pacs.credentials import Credentials
from imaging.pacs.errors import (
    PacsCancelled,
    PacsError,
    PacsIncomplete,
    PacsNotFound,
    PacsTlsError,
    PacsUnavailable,
)
from imaging.pacs.records import (
    INSTANCE_FIELDS,
    SERIES_FIELDS,
    STUDY_FIELDS,
    InstanceRecord,
    SeriesRecord,
    StudyQuery,
    StudyRecord,
    check_uid,
    study_filters,
)

__all__ = ["RECEIVE_SYNTAXES", "DimseClient"]

# pynetdicom's INFO/DEBUG logs print query identifiers (patient names, IDs): keep PHI out of logs.
logging.getLogger("pynetdicom").setLevel(logging.WARNING)

# Transfer syntaxes we can decode (pydicom + pylibjpeg), each proposed in a context of its own for C-GET.
RECEIVE_SYNTAXES = (JPEG2000Lossless, JPEG2000, JPEGLosslessSV1, JPEGLSLossless, JPEGLSNearLossless,
                    JPEGBaseline8Bit, JPEGExtended12Bit, RLELossless, DeflatedExplicitVRLittleEndian,
                    ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian)
# SOP classes (PS3.4; pynetdicom generates its sop_class names at run time, unseen by type checkers)
Verification = UID("1.2.840.10008.1.1")
StudyRootQueryRetrieveInformationModelFind = UID("1.2.840.10008.5.1.4.1.2.2.1")
StudyRootQueryRetrieveInformationModelMove = UID("1.2.840.10008.5.1.4.1.2.2.2")
StudyRootQueryRetrieveInformationModelGet = UID("1.2.840.10008.5.1.4.1.2.2.3")
_MAX_CONTEXTS = 128  # PS3.8: presentation context IDs are odd numbers 1-255
_STATUS_PENDING = (0xFF00, 0xFF01)


class _LowLatencySocket(AssociationSocket):
    """An association socket that acknowledges at once (Linux TCP_QUICKACK) before every read; see the
    module docstring. Installed by :func:`_tune_socket` on every association we open or accept."""

    def recv(self, nr_bytes: int) -> bytearray:
        sock = self.socket
        if sock is not None and hasattr(socket, "TCP_QUICKACK"):
            with suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return super().recv(nr_bytes)


def _tune_socket(event: evt.Event) -> None:
    """EVT_CONN_OPEN handler: TCP_NODELAY on, and quick acknowledgements (see the module docstring)."""
    wrapper = event.assoc.dul.socket
    raw = getattr(wrapper, "socket", None)
    if raw is None:
        return
    try:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        return
    if type(wrapper) is AssociationSocket:
        wrapper.__class__ = _LowLatencySocket


_STATUS_MEANINGS = {
    0xA700: "out of resources", 0xA701: "out of resources: unable to calculate the number of matches",
    0xA702: "out of resources: unable to perform sub-operations", 0xA801: "move destination unknown",
    0xA900: "identifier does not match the SOP class", 0xB000: "sub-operations complete, with failures",
    0xC000: "unable to process", 0xFE00: "cancelled",
}


def _status_text(code: int) -> str:
    meaning = _STATUS_MEANINGS.get(code)
    return f"0x{code:04X}" + (f" ({meaning})" if meaning else "")


class DimseClient:
    """A PACS over DIMSE (see the module docstring)."""

    protocol = "dimse"

    def __init__(self, server: ServerConfig, credentials: Credentials | None = None) -> None:
        if server.host is None or server.port is None or server.called_aet is None:
            raise PacsError(f"server {server.name} has no DIMSE host:port and AE title")
        self.server = server
        self.credentials = credentials

    # -- associations ---------------------------------------------------------------------------------------
    def _ae(self) -> AE:
        ae = AE(ae_title=self.server.calling_aet)
        t = self.server.timeout_s
        ae.acse_timeout = t
        ae.dimse_timeout = t
        ae.network_timeout = t
        ae.connection_timeout = min(10.0, t)
        ae.maximum_pdu_size = 0  # no limit: fewer, larger PDUs
        return ae

    def _tls_args(self) -> tuple[ssl.SSLContext, str] | None:
        if not self.server.dimse_tls:
            return None
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.server.ca_file)
        if not self.server.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx, str(self.server.host)

    def _diagnose_tls(self) -> str | None:
        """After a failed association over TLS: the TLS handshake's own error (pynetdicom only logs it)."""
        args = self._tls_args()
        if args is None:
            return None
        ctx, hostname = args
        try:
            with socket.create_connection((str(self.server.host), int(self.server.port or 0)),
                                          timeout=min(10.0, self.server.timeout_s)) as raw, \
                    ctx.wrap_socket(raw, server_hostname=hostname):
                return None
        except ssl.SSLError as exc:
            return str(exc)
        except OSError:
            return None

    @contextmanager
    def _associate(self, what: str, ae: AE, ext_neg: list[Any] | None = None,
                   handlers: list[Any] | None = None) -> Iterator[Any]:
        s = self.server
        try:
            assoc = ae.associate(str(s.host), int(s.port or 0), ae_title=str(s.called_aet), ext_neg=ext_neg,
                                 evt_handlers=[(evt.EVT_CONN_OPEN, _tune_socket), *(handlers or [])],
                                 tls_args=self._tls_args())
        except ssl.SSLError as exc:
            raise PacsTlsError(f"{what} on {s.name}: DICOM TLS to {s.host}:{s.port} failed: {exc}") from None
        except OSError as exc:
            raise PacsUnavailable(f"{what} on {s.name}: cannot connect to {s.host}:{s.port}: {exc}") from None
        if not assoc.is_established:
            if assoc.is_rejected:
                rsp = assoc.acceptor.primitive
                why = getattr(rsp, "reason_str", "") if rsp is not None else ""
                raise PacsUnavailable(f"{what} on {s.name}: {s.called_aet} at {s.host}:{s.port} rejected the "
                                      f"association from {s.calling_aet} ({why or 'no reason given'}); is our AE "
                                      "title registered on the PACS and its AE title right?")
            tls_problem = self._diagnose_tls()
            if tls_problem:
                raise PacsTlsError(f"{what} on {s.name}: DICOM TLS to {s.host}:{s.port} failed (certificate not "
                                   f"trusted, wrong host name or no TLS there): {tls_problem}")
            raise PacsUnavailable(f"{what} on {s.name}: cannot connect to {s.called_aet} at {s.host}:{s.port} "
                                  "(connection refused, timed out or aborted); is the server running and the "
                                  "address right?")
        try:
            yield assoc
        finally:
            if assoc.is_established:
                assoc.release()

    # -- echo and find --------------------------------------------------------------------------------------
    def echo(self) -> float:
        ae = self._ae()
        ae.add_requested_context(Verification)
        start = time.perf_counter()
        with self._associate("C-ECHO", ae) as assoc:
            status = assoc.send_c_echo()
            if status is None or "Status" not in status:
                raise PacsUnavailable(f"C-ECHO on {self.server.name}: no answer (timed out or aborted)")
            if status.Status != 0:
                raise PacsError(f"C-ECHO on {self.server.name}: status {_status_text(status.Status)}")
        return time.perf_counter() - start

    def _find(self, level: str, keys: dict[str, str], fields: Sequence[str]) -> list[Dataset]:
        identifier = Dataset()
        identifier.QueryRetrieveLevel = level
        for kw in fields:
            setattr(identifier, kw, keys.get(kw, ""))
        for kw, value in keys.items():
            setattr(identifier, kw, value)
        ae = self._ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
        what = f"C-FIND ({level.lower()})"
        found: list[Dataset] = []
        with self._associate(what, ae) as assoc:
            for status, answer in assoc.send_c_find(identifier, StudyRootQueryRetrieveInformationModelFind):
                if status is None or "Status" not in status:
                    raise PacsUnavailable(f"{what} on {self.server.name}: no answer (timed out or aborted)")
                if status.Status in _STATUS_PENDING:
                    if answer is not None:
                        found.append(answer)
                elif status.Status == 0:
                    break
                else:
                    raise PacsError(f"{what} on {self.server.name}: the PACS answered status "
                                    f"{_status_text(status.Status)}")
        return found

    def find_studies(self, query: StudyQuery) -> list[StudyRecord]:
        found = self._find("STUDY", study_filters(query), STUDY_FIELDS)
        return [StudyRecord.from_dataset(ds) for ds in found]

    def find_series(self, study_uid: str) -> list[SeriesRecord]:
        check_uid(study_uid, "StudyInstanceUID")
        found = self._find("SERIES", {"StudyInstanceUID": study_uid}, SERIES_FIELDS)
        return [SeriesRecord.from_dataset(ds, study_uid) for ds in found]

    def find_instances(self, study_uid: str, series_uid: str) -> list[InstanceRecord]:
        check_uid(study_uid, "StudyInstanceUID")
        check_uid(series_uid, "SeriesInstanceUID")
        found = self._find("IMAGE", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series_uid},
                           ("StudyInstanceUID", "SeriesInstanceUID", *INSTANCE_FIELDS))
        return [InstanceRecord.from_dataset(ds) for ds in found]

    # -- retrieve -------------------------------------------------------------------------------------------
    def retrieve(self, study_uid: str, series_uid: str, sop_uids: Sequence[str] | None, sink: InstanceSink,
                 cancel: CancelFn) -> None:
        check_uid(study_uid, "StudyInstanceUID")
        check_uid(series_uid, "SeriesInstanceUID")
        identifier = Dataset()
        identifier.StudyInstanceUID = study_uid
        identifier.SeriesInstanceUID = series_uid
        if sop_uids is None:
            identifier.QueryRetrieveLevel = "SERIES"
        else:
            if not sop_uids:
                return
            identifier.QueryRetrieveLevel = "IMAGE"
            identifier.SOPInstanceUID = [check_uid(u, "SOPInstanceUID") for u in sop_uids]
        receiver = _Receiver(self.server, study_uid, series_uid, sink)
        if self.server.retrieve == "c-move":
            self._move(identifier, receiver, cancel)
        else:
            classes = sorted({i.sop_class_uid for i in self.find_instances(study_uid, series_uid) if i.sop_class_uid})
            if not classes:
                raise PacsNotFound(f"C-GET on {self.server.name}: series {series_uid} has no instances")
            self._get(identifier, classes, receiver, cancel)
        receiver.raise_error()

    def _get(self, identifier: Dataset, sop_classes: list[str], receiver: _Receiver, cancel: CancelFn) -> None:
        ae = self._ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
        per_class = max(1, min(len(RECEIVE_SYNTAXES), (_MAX_CONTEXTS - 1) // len(sop_classes)))
        for uid in sop_classes:
            for syntax in RECEIVE_SYNTAXES[:per_class]:
                ae.add_requested_context(uid, [syntax])
        roles = [build_role(uid, scp_role=True) for uid in sop_classes]
        with self._associate("C-GET", ae, ext_neg=roles,
                             handlers=[(evt.EVT_C_STORE, receiver.handle_store)]) as assoc:
            self._follow(assoc, assoc.send_c_get(identifier, StudyRootQueryRetrieveInformationModelGet),
                         "C-GET", receiver, cancel)

    def _move(self, identifier: Dataset, receiver: _Receiver, cancel: CancelFn) -> None:
        s = self.server
        scp_ae = self._ae()
        for cx in AllStoragePresentationContexts:
            if cx.abstract_syntax is not None:
                scp_ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        scp_ae.require_calling_aet = [str(s.called_aet)]
        try:
            scp = scp_ae.start_server((s.move_bind, int(s.move_port or 0)), block=False, evt_handlers=[
                (evt.EVT_CONN_OPEN, _tune_socket), (evt.EVT_C_STORE, receiver.handle_store)])
        except OSError as exc:
            raise PacsError(f"C-MOVE on {s.name}: cannot listen on port {s.move_port} for the images: {exc}") \
                from None
        assert scp is not None  # block=False returns the running server
        try:
            ae = self._ae()
            ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
            with self._associate("C-MOVE", ae) as assoc:
                self._follow(assoc, assoc.send_c_move(identifier, s.calling_aet,
                                                      StudyRootQueryRetrieveInformationModelMove),
                             "C-MOVE", receiver, cancel)
        finally:
            scp.shutdown()

    def _follow(self, assoc: Any, responses: Iterator[tuple[Dataset, Dataset | None]], what: str,
                receiver: _Receiver, cancel: CancelFn) -> None:
        """Walk the C-GET/C-MOVE responses; abort on cancel; turn failures into errors."""
        final: Dataset | None = None
        for status, _identifier in responses:
            if cancel():
                assoc.abort()
                raise PacsCancelled(f"{what} cancelled after {receiver.count} instance(s)")
            receiver.raise_error(assoc)
            if status is None or "Status" not in status:
                raise PacsUnavailable(f"{what} on {self.server.name}: the PACS stopped answering (timed out or "
                                      f"aborted) after {receiver.count} instance(s)")
            if status.Status in _STATUS_PENDING:
                continue
            final = status
            break
        if final is None:
            raise PacsIncomplete(f"{what} on {self.server.name}: no final status")
        code = int(final.Status)
        failed = int(final.get("NumberOfFailedSubOperations", 0) or 0)
        if code == 0xFE00:
            raise PacsCancelled(f"{what} on {self.server.name}: cancelled by the PACS")
        if code == 0xA801:
            raise PacsError(f"{what} on {self.server.name}: the PACS does not know the destination "
                            f"{self.server.calling_aet} (register it with port {self.server.move_port})")
        if code in (0xC000, 0xA900, 0xAA00) and receiver.count == 0 and not failed:
            raise PacsNotFound(f"{what} on {self.server.name}: nothing to retrieve (status {_status_text(code)})")
        if code != 0 or failed:
            raise PacsIncomplete(f"{what} on {self.server.name}: status {_status_text(code)}, {failed} sub-"
                                 f"operation(s) failed, {receiver.count} instance(s) arrived")

    # -- store ----------------------------------------------------------------------------------------------
    def store(self, files: Sequence[bytes]) -> StoreResult:
        datasets = [dcmread(BytesIO(b)) for b in files]
        result = StoreResult()
        if not datasets:
            return result
        ae = self._ae()
        pairs = sorted({(str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)) for ds in datasets})
        for sop_class, syntax in pairs:
            syntaxes = [syntax] if not _uncompressed(syntax) else [syntax] + [
                t for t in (ExplicitVRLittleEndian, ImplicitVRLittleEndian) if t != syntax]
            ae.add_requested_context(sop_class, syntaxes)
        if len(ae.requested_contexts) > _MAX_CONTEXTS:
            raise PacsError(f"C-STORE on {self.server.name}: too many kinds of object in one push")
        with self._associate("C-STORE", ae) as assoc:
            for ds in datasets:
                uid = str(ds.SOPInstanceUID)
                try:
                    status = assoc.send_c_store(ds)
                except (ValueError, RuntimeError) as exc:
                    result.failed[uid] = str(exc)
                    continue
                if status is None or "Status" not in status:
                    result.failed[uid] = "no answer (timed out or aborted)"
                elif status.Status == 0 or 0xB000 <= status.Status <= 0xB0FF:
                    result.stored.append(uid)
                else:
                    result.failed[uid] = f"status {_status_text(status.Status)}"
        return result

    def close(self) -> None:
        pass


def _uncompressed(syntax: str) -> bool:
    return syntax in (ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian)


class _Receiver:
    """C-STORE handler of a retrieval: checks that each instance belongs to the series asked for and
    hands it to the sink as a Part 10 file; remembers the first error (the sink's or a stranger)."""

    def __init__(self, server: ServerConfig, study_uid: str, series_uid: str, sink: InstanceSink) -> None:
        self.server = server
        self.study_uid = study_uid
        self.series_uid = series_uid
        self.sink = sink
        self.count = 0
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def handle_store(self, event: evt.Event) -> int:
        try:
            data = event.encoded_dataset(include_meta=True)
            self.sink(data)
        except BaseException as exc:  # noqa: BLE001 - reported on the caller's thread by raise_error
            with self._lock:
                if self.error is None:
                    self.error = exc
            return 0xA700  # Out of resources: the PACS counts the sub-operation as failed
        with self._lock:
            self.count += 1
        return 0x0000

    def raise_error(self, assoc: Any | None = None) -> None:
        with self._lock:
            error = self.error
        if error is None:
            return
        if assoc is not None and assoc.is_established:
            assoc.abort()
        if isinstance(error, PacsError | PacsCancelled):
            raise error
        raise PacsIncomplete(f"retrieving series {self.series_uid} from {self.server.name}: an instance could "
                             f"not be kept: {error}") from error
