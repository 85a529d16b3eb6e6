"""Passwords and bearer tokens of PACS servers: never written in plain text. Qt-free.

Where a secret comes from, in this order:

1. the environment variable named in the server's settings (``secret_env``), for kiosks, scripts and CI;
2. the system keyring (macOS Keychain, Windows Credential Locker, the Secret Service on Linux desktops),
   through the ``keyring`` package, when a real keyring backend is there;
3. this session's memory (a secret typed once is kept until the program ends, never on disk);
4. the ``prompt`` callback (the CLI asks on the terminal, the GUI in a password dialog) -- then kept in
   this session's memory.

After the server refused a secret (HTTP 401), :meth:`Credentials.forget` drops the session's copy so the
next request asks again; a wrong secret in the keyring or the environment is reported, not retried.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable

from imaging.pacs.config import ServerConfig
from imaging.pacs.errors import PacsAuthError

__all__ = ["KEYRING_SERVICE", "Credentials", "keyring_available", "session_credentials"]

_log = logging.getLogger(__name__)
KEYRING_SERVICE = "SpineCase PACS"

Prompt = Callable[[ServerConfig], "str | None"]


def _keyring_user(server: ServerConfig) -> str:
    return f"{server.name}:{server.username or 'token'}"


def keyring_available() -> bool:
    """True when the ``keyring`` package finds a real system keyring (not its fail/null backends)."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
        return not isinstance(backend, fail.Keyring | null.Keyring) and backend.priority > 0
    except Exception:  # noqa: BLE001 - a broken keyring set-up is no keyring
        return False


class Credentials:
    """Finds a server's secret (see the module docstring). Thread-safe: retrievals run in workers."""

    def __init__(self, prompt: Prompt | None = None) -> None:
        self.prompt = prompt
        self._session: dict[str, str] = {}
        self._lock = threading.Lock()

    def needs_secret(self, server: ServerConfig) -> bool:
        return server.auth != "none"

    def secret(self, server: ServerConfig) -> str | None:
        """The secret for ``server`` (None when it uses no authentication). Raises :class:`PacsAuthError`
        when one is needed and none can be had."""
        if not self.needs_secret(server):
            return None
        if server.secret_env:
            value = os.environ.get(server.secret_env)
            if value:
                return value
        value = self._from_keyring(server)
        if value:
            return value
        with self._lock:
            value = self._session.get(server.name)
        if value:
            return value
        if self.prompt is not None:
            value = self.prompt(server)
            if value:
                with self._lock:
                    self._session[server.name] = value
                return value
        where = f"set ${server.secret_env}, " if server.secret_env else ""
        what = "password" if server.auth == "basic" else "token"
        raise PacsAuthError(f"server {server.name} needs a {what}: {where}store it in the system keyring "
                            f"(spinecase pacs login {server.name}) or enter it when asked")

    def source(self, server: ServerConfig) -> str:
        """Where the secret would come from now ("environment", "keyring", "session", "prompt", "none")."""
        if not self.needs_secret(server):
            return "none"
        if server.secret_env and os.environ.get(server.secret_env):
            return "environment"
        if self._from_keyring(server):
            return "keyring"
        with self._lock:
            if server.name in self._session:
                return "session"
        return "prompt"

    def remember(self, server: ServerConfig, secret: str, persist: bool = True) -> str:
        """Keep ``secret``: in the system keyring when ``persist`` and one is there, else in this session's
        memory only. Returns where it went ("keyring" or "session")."""
        if persist and keyring_available():
            import keyring

            try:
                keyring.set_password(KEYRING_SERVICE, _keyring_user(server), secret)
                return "keyring"
            except Exception as exc:  # noqa: BLE001 - fall back to the session; say why in the log
                _log.warning("system keyring refused the secret of %s: %s", server.name, type(exc).__name__)
        with self._lock:
            self._session[server.name] = secret
        return "session"

    def forget(self, server: ServerConfig, keyring_too: bool = False) -> None:
        """Drop the session's copy (after the server refused it); with ``keyring_too`` also the keyring's."""
        with self._lock:
            self._session.pop(server.name, None)
        if keyring_too and keyring_available():
            import keyring

            with contextlib.suppress(Exception):  # nothing stored is fine
                keyring.delete_password(KEYRING_SERVICE, _keyring_user(server))

    @staticmethod
    def _from_keyring(server: ServerConfig) -> str | None:
        if not keyring_available():
            return None
        import keyring

        try:
            return keyring.get_password(KEYRING_SERVICE, _keyring_user(server))
        except Exception:  # noqa: BLE001 - a locked or broken keyring: ask instead
            return None


_SESSION = Credentials()


def session_credentials() -> Credentials:
    """The process-wide credentials (one "session": a secret typed once is asked no more until exit)."""
    return _SESSION
