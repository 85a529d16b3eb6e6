"""DICOMweb client (QIDO-RS, WADO-RS, STOW-RS). Qt-free.

STOW-RS goes through ``dicomweb-client``; QIDO-RS and WADO-RS requests are built here on the same
``requests`` session, for two reasons given where they are made (:meth:`DicomWebClient._qido`: wildcards
that survive Debian's Orthanc; :meth:`DicomWebClient._wado`: the instances byte for byte as stored, without
parsing and re-encoding each one). Retrieval asks for the transfer syntax the server stores
(``transfer-syntax=*``): Debian's Orthanc cannot transcode JPEG 2000 (it answers HTTP 500 for another
syntax), and SpineCase decodes JPEG 2000 itself.
HTTP errors become :mod:`imaging.pacs.errors` with the server's name and what to do; requests are not
retried (a server that is down is reported at once, not after half a minute of back-off).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from email.message import Message
from io import BytesIO
from typing import Any, TypeVar

import requests
from dicomweb_client.api import DICOMwebClient as _Client
from pydicom import dcmread
from pydicom.datadict import tag_for_keyword
from pydicom.errors import InvalidDicomError

from imaging.pacs.client import CancelFn, InstanceSink, StoreResult
from imaging.pacs.config import ServerConfig
from imaging.pacs.credentials import Credentials
from imaging.pacs.errors import (
    PacsAuthError,
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

__all__ = ["DicomWebClient", "JsonAttributes", "iter_multipart"]

T = TypeVar("T")


class _Session(requests.Session):
    """A session whose own CA file (or "no verification") wins over ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``:
    requests lets those environment variables override a session's ``verify`` (psf/requests#3829)."""

    def merge_environment_settings(self, url: str, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> dict[str, Any]:
        settings: dict[str, Any] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.verify is not True and verify is None:
            settings["verify"] = self.verify
        return settings


class DicomWebClient:
    """A PACS over DICOMweb (see the module docstring)."""

    protocol = "dicomweb"

    def __init__(self, server: ServerConfig, credentials: Credentials) -> None:
        if server.url is None:
            raise PacsError(f"server {server.name} has no DICOMweb URL")
        self.server = server
        self.credentials = credentials
        session = _Session()
        session.verify = server.ca_file if (server.ca_file and server.verify_tls) else server.verify_tls
        secret = credentials.secret(server)
        if server.auth == "basic":
            session.auth = (server.username or "", secret or "")
        elif server.auth == "bearer":
            session.headers["Authorization"] = f"Bearer {secret}"
        self._session = session
        self._client = _Client(server.url, session=session, timeout=(min(10.0, server.timeout_s), server.timeout_s))
        self._client.set_http_retry_params(retry=False)

    # -- errors ---------------------------------------------------------------------------------------------
    def _fail(self, what: str, exc: BaseException) -> PacsError:
        name, url = self.server.name, self.server.url
        if isinstance(exc, PacsError):
            return exc
        if isinstance(exc, requests.exceptions.SSLError):
            return PacsTlsError(f"{what} on {name}: the TLS connection to {url} failed (certificate not "
                                f"trusted, wrong host name or no TLS there): {_short(exc)}")
        if isinstance(exc, requests.exceptions.Timeout):
            return PacsUnavailable(f"{what} on {name}: {url} did not answer within {self.server.timeout_s:g} s")
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return PacsIncomplete(f"{what} on {name}: the server broke off the transfer ({_short(exc)})")
        if isinstance(exc, requests.exceptions.ConnectionError):
            return PacsUnavailable(f"{what} on {name}: cannot connect to {url} ({_short(exc)}); is the server "
                                   "running and the address right?")
        if isinstance(exc, requests.exceptions.HTTPError):
            code = exc.response.status_code if exc.response is not None else 0
            if code in (401, 403):
                self.credentials.forget(self.server)
                who = f" for user {self.server.username}" if self.server.username else ""
                return PacsAuthError(f"{what} on {name}: the server refused the credentials{who} (HTTP {code}); "
                                     "check the user name and password or token")
            if code == 404:
                return PacsNotFound(f"{what} on {name}: not found on the server (HTTP 404)")
            return PacsError(f"{what} on {name}: the server answered HTTP {code} "
                             f"{exc.response.reason if exc.response is not None else ''}".rstrip())
        if isinstance(exc, InvalidDicomError | ValueError):
            return PacsError(f"{what} on {name}: the server's answer is not valid DICOM ({_short(exc)})")
        return PacsError(f"{what} on {name}: {type(exc).__name__}: {_short(exc)}")

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (PacsError, PacsCancelled):
            raise
        except Exception as exc:  # noqa: BLE001 - translated into a message with the server's name
            raise self._fail(what, exc) from None

    # -- queries --------------------------------------------------------------------------------------------
    def echo(self) -> float:
        start = time.perf_counter()
        self._qido("QIDO-RS ping", "studies?limit=1", {}, ())
        return time.perf_counter() - start

    def _qido(self, what: str, path: str, filters: dict[str, str], fields: Sequence[str]) -> list[JsonAttributes]:
        """A QIDO-RS search. The query string is built here, not by dicomweb-client: its encoder turns the
        wildcards ``*`` and ``?`` into ``%2A``/``%3F``, and Debian's Orthanc (1.10) does not percent-decode
        query arguments at all, so no wildcard and no ``^`` or space would ever match. Values keep ``*`` and
        ``?`` as they are, and any other character that would need percent-encoding is sent as the one-
        character wildcard ``?``; the answers are then matched against the exact filter here, so a server
        that does decode gives the same result."""
        loose = {k: _loosen(v) for k, v in filters.items()}
        parts = [f"{k}={v}" for k, v in loose.items()]
        parts += [f"includefield={f}" for f in fields]
        url = f"{self.server.url}/{path}" + ("?" + "&".join(parts) if parts else "")

        def get() -> list[dict[str, Any]]:
            r = self._session.get(url, headers={"Accept": "application/dicom+json"},
                                  timeout=self._client._timeout)  # noqa: SLF001 - the timeout given above
            r.raise_for_status()
            if not r.content:
                return []
            doc = r.json()
            return [doc] if isinstance(doc, dict) else list(doc)

        found = [JsonAttributes(d) for d in self._call(what, get)]
        changed = {k: v for k, v in filters.items() if loose[k] != v}
        return [ds for ds in found if all(_matches(ds, k, v) for k, v in changed.items())]

    def find_studies(self, query: StudyQuery) -> list[StudyRecord]:
        found = self._qido("study search", "studies", study_filters(query), STUDY_FIELDS)
        return [StudyRecord.from_dataset(ds) for ds in found]

    def find_series(self, study_uid: str) -> list[SeriesRecord]:
        check_uid(study_uid, "StudyInstanceUID")
        found = self._qido("series search", f"studies/{study_uid}/series", {}, SERIES_FIELDS)
        return [SeriesRecord.from_dataset(ds, study_uid) for ds in found]

    def find_instances(self, study_uid: str, series_uid: str) -> list[InstanceRecord]:
        check_uid(study_uid, "StudyInstanceUID")
        check_uid(series_uid, "SeriesInstanceUID")
        found = self._qido("instance search", f"studies/{study_uid}/series/{series_uid}/instances", {},
                           INSTANCE_FIELDS)
        return [InstanceRecord.from_dataset(ds) for ds in found]

    # -- retrieve -------------------------------------------------------------------------------------------
    def _wado(self, what: str, path: str, sink: InstanceSink, cancel: CancelFn, series_uid: str) -> int:
        """GET a WADO-RS resource as stored (``transfer-syntax=*``) and hand each part, a DICOM Part 10 file
        exactly as the server keeps it, to ``sink``. Returns the number of parts.

        The multipart answer is read here rather than through dicomweb-client, whose retrieve methods parse
        every instance into a pydicom data set: writing that back re-encodes the file (not byte for byte
        the server's) and took most of the time of a pull."""
        url = f"{self.server.url}/{path}"
        headers = {"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'}

        def get() -> requests.Response:
            r = self._session.get(url, headers=headers, stream=True,
                                  timeout=self._client._timeout)  # noqa: SLF001 - the timeout given above
            r.raise_for_status()
            return r

        response = self._call(what, get)
        count = 0
        with response:
            parts = iter_multipart(response)
            while True:
                if cancel():
                    raise PacsCancelled(f"retrieval of series {series_uid} cancelled")
                part = self._call(what, lambda: next(parts, None))
                if part is None:
                    return count
                sink(part)
                count += 1

    def retrieve(self, study_uid: str, series_uid: str, sop_uids: Sequence[str] | None, sink: InstanceSink,
                 cancel: CancelFn) -> None:
        check_uid(study_uid, "StudyInstanceUID")
        check_uid(series_uid, "SeriesInstanceUID")
        what = f"retrieving series {series_uid}"
        base = f"studies/{study_uid}/series/{series_uid}"
        if sop_uids is None:
            self._wado(what, base, sink, cancel, series_uid)
            return
        for uid in sop_uids:
            self._wado(what, f"{base}/instances/{check_uid(uid, 'SOPInstanceUID')}", sink, cancel, series_uid)

    # -- store ----------------------------------------------------------------------------------------------
    def store(self, files: Sequence[bytes]) -> StoreResult:
        datasets = [dcmread(BytesIO(b)) for b in files]
        if not datasets:
            return StoreResult()
        answer = self._call("STOW-RS store", lambda: self._client.store_instances(datasets))
        result = StoreResult()
        for item in answer.get("ReferencedSOPSequence", []) or []:
            result.stored.append(str(item.ReferencedSOPInstanceUID))
        for item in answer.get("FailedSOPSequence", []) or []:
            reason = item.get("FailureReason")
            result.failed[str(item.get("ReferencedSOPInstanceUID", "?"))] = (
                f"failure reason {int(reason):#06x}" if reason is not None else "refused by the server")
        sent = {str(ds.SOPInstanceUID) for ds in datasets}
        for uid in sent - set(result.stored) - set(result.failed):
            result.failed[uid] = "not acknowledged by the server"
        return result

    def close(self) -> None:
        self._session.close()


class JsonAttributes:
    """A QIDO-RS answer (one DICOM JSON object) read by keyword, like a data set's ``get``: the records
    need a handful of values, and ``Dataset.from_json`` of every answer cost more than the transfer."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def get(self, keyword: str, default: Any = None) -> Any:
        tag = tag_for_keyword(keyword)
        element = self.doc.get(f"{tag:08X}") if tag is not None else None
        values = element.get("Value") if isinstance(element, dict) else None
        if not values:
            return default
        out = [v.get("Alphabetic", "") if isinstance(v, dict) else v for v in values]
        return out[0] if len(out) == 1 else out


def iter_multipart(response: requests.Response, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The bodies of a ``multipart/related`` answer as they stream in (RFC 2046 section 5.1.1). A single
    ``application/dicom`` body (some servers answer one instance so) is yielded as it is. Raises
    :class:`PacsIncomplete` when the stream ends before the closing delimiter (the transfer broke off)."""
    message = Message()
    message["content-type"] = response.headers.get("Content-Type", "")
    if message.get_content_type() == "application/dicom":
        yield response.content
        return
    boundary = message.get_param("boundary")
    if message.get_content_type() != "multipart/related" or not isinstance(boundary, str) or not boundary:
        raise PacsError(f"unexpected answer {response.headers.get('Content-Type', '(no type)')!r}; "
                        "expected multipart/related DICOM")
    delimiter = b"\r\n--" + boundary.encode("ascii")
    buf = bytearray(b"\r\n")  # so the first boundary, at the very start, matches the delimiter too
    search = 0
    in_part = False
    for chunk in response.iter_content(chunk_size):
        buf += chunk
        while (i := buf.find(delimiter, search)) >= 0:
            if in_part:
                raw = bytes(buf[:i])
                head = raw.find(b"\r\n\r\n")
                if head < 0:
                    raise PacsIncomplete("a part of the answer has no header end")
                yield raw[head + 4:]
            del buf[: i + len(delimiter)]
            in_part = True
            search = 0
        search = max(0, len(buf) - len(delimiter) + 1)
    if not in_part or not buf.startswith(b"--"):
        raise PacsIncomplete("the answer ended before its closing boundary (the transfer broke off)")


_URL_SAFE = re.compile(r"[A-Za-z0-9._~*?-]")


def _loosen(value: str) -> str:
    """A QIDO value with every character that would need percent-encoding replaced by ``?``."""
    return "".join(c if _URL_SAFE.fullmatch(c) else "?" for c in value)


def _matches(ds: JsonAttributes, keyword: str, pattern: str) -> bool:
    """DICOM matching of one answer against the exact filter: ``*`` and ``?`` wildcards (single value
    matching), person names regardless of case (as most servers, Orthanc included, match them), ranges
    for dates; multi-valued attributes (ModalitiesInStudy) match when one value does."""
    value = ds.get(keyword)
    values = [str(v) for v in value] if isinstance(value, list | tuple) or (
        value is not None and not isinstance(value, str) and getattr(value, "VM", 1) > 1) else [str(value or "")]
    if keyword.endswith("Date") and "-" in pattern:
        start, _, end = pattern.partition("-")
        return any((not start or v >= start) and (not end or v <= end) for v in values if v)
    flags = re.IGNORECASE if keyword == "PatientName" else 0
    rx = re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z",
                    flags | re.DOTALL)
    return any(rx.match(v) for v in values)


def _short(exc: BaseException) -> str:
    """The gist of a requests/urllib3 error (the last "Caused by" part), one line, no URL query."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "Caused by" in text:
        text = text.split("Caused by", 1)[1].strip(" ()")
    if "Errno 111" in text or "Connection refused" in text:
        return "connection refused"
    return text[:200]
