"""PACS access, Qt-free: find, retrieve and store over DICOMweb and DIMSE, and the local study cache.

    from imaging.pacs import ServerStore, StudyCache, StudyQuery, open_client, pull_study

* :mod:`~imaging.pacs.config` -- server settings (no secrets), the user's configuration and cache folders;
* :mod:`~imaging.pacs.credentials` -- passwords and tokens: environment, system keyring, asked once a session;
* :mod:`~imaging.pacs.client` -- the one interface (:class:`PacsClient`) and :func:`open_client`;
  :mod:`~imaging.pacs.dicomweb` (dicomweb-client) and :mod:`~imaging.pacs.dimse` (pynetdicom) implement it;
* :mod:`~imaging.pacs.cache` -- the study cache (a folder per study, complete series only);
* :mod:`~imaging.pacs.pull` -- resumable, verified retrieval into the cache;
* :mod:`~imaging.pacs.push` -- storing SR, SEG and key-object selections;
* :mod:`~imaging.pacs.annotations` -- who read an SR, when, and its Bilsky grades.
"""

from imaging.pacs.cache import SeriesManifest, StudyCache
from imaging.pacs.client import PacsClient, StoreResult, open_client
from imaging.pacs.config import ServerConfig, ServerStore, user_cache_dir, user_config_dir
from imaging.pacs.credentials import Credentials, session_credentials
from imaging.pacs.errors import (
    PacsAuthError,
    PacsCancelled,
    PacsError,
    PacsIncomplete,
    PacsNotFound,
    PacsTlsError,
    PacsUnavailable,
)
from imaging.pacs.pull import PullResult, SeriesPull, pull_study
from imaging.pacs.records import InstanceRecord, SeriesRecord, StudyQuery, StudyRecord

__all__ = [
    "Credentials",
    "InstanceRecord",
    "PacsAuthError",
    "PacsCancelled",
    "PacsClient",
    "PacsError",
    "PacsIncomplete",
    "PacsNotFound",
    "PacsTlsError",
    "PacsUnavailable",
    "PullResult",
    "SeriesManifest",
    "SeriesPull",
    "SeriesRecord",
    "ServerConfig",
    "ServerStore",
    "StoreResult",
    "StudyCache",
    "StudyQuery",
    "StudyRecord",
    "open_client",
    "pull_study",
    "session_credentials",
    "user_cache_dir",
    "user_config_dir",
]
