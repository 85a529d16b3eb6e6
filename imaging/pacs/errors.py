"""Errors of the PACS clients. Each message names the server and says what to do; none holds a secret.

They derive from :class:`imaging.errors.LoadError` so that background jobs show them as plain messages,
and :class:`PacsCancelled` from :class:`imaging.errors.LoadCancelled` so that a cancelled retrieval ends
as "cancelled", not as an error.
"""

from __future__ import annotations

from imaging.errors import LoadCancelled, LoadError

__all__ = ["PacsAuthError", "PacsCancelled", "PacsError", "PacsIncomplete", "PacsNotFound", "PacsTlsError",
           "PacsUnavailable"]


class PacsError(LoadError):
    """A PACS request failed; the message says which server, what was asked and why."""


class PacsUnavailable(PacsError):
    """The server could not be reached (refused, no answer in time, association rejected)."""


class PacsAuthError(PacsError):
    """The server refused the credentials (HTTP 401/403) or needs credentials that are not there."""


class PacsTlsError(PacsError):
    """The TLS connection could not be set up (certificate not trusted, wrong host name, no TLS there)."""


class PacsNotFound(PacsError):
    """The study, series or instance asked for is not (or no longer) on the server."""


class PacsIncomplete(PacsError):
    """A series did not arrive whole (instances missing or changed on the server during the transfer).
    What did arrive is kept aside for resuming; the series is not marked complete."""


class PacsCancelled(LoadCancelled):
    """The user cancelled a retrieval; what arrived is kept aside for resuming, not marked complete."""
