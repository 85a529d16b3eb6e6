"""The de-identification key and everything derived from it with HMAC-SHA256 (RFC 2104). Qt-free.

The key is 32 random bytes kept in a file only its owner can read (0600, in a 0700 folder). The default key
lives in the user's SpineCase settings folder (:func:`default_key_path`); it is never written into an
export, a log or a case. With the same key, the same patient gets the same pseudonym and the same date
shift, and the same UID the same replacement, in every run: a cohort can be de-identified in several
batches and still link up. Without the key nothing can be traced back (HMAC is one-way).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

__all__ = ["KEY_FILE_NAME", "DeidKey", "KeyFileError", "UidMap", "default_key_path", "load_or_create_key"]

KEY_FILE_NAME = "deidentification.key"
_HEADER = "spinecase-deidentification-key-v1"
# Date shifts reach from one to eleven years into the past (whole days): far enough that a shifted date never
# looks like the real one, near enough that ages and eras stay plausible.
_SHIFT_MIN_DAYS = 365
_SHIFT_SPAN_DAYS = 3653


class KeyFileError(OSError):
    """The key file cannot be used (unreadable, wrong format, or readable by others)."""


def default_key_path() -> Path:
    """Where the default key lives: beside the settings file named by ``SPINECASE_SETTINGS`` when set
    (tests, kiosks), else in the user's SpineCase settings folder (as Qt's QSettings places it:
    ``$XDG_CONFIG_HOME/SpineCase`` or ``~/.config/SpineCase`` on Linux, ``%APPDATA%\\SpineCase`` on
    Windows, ``~/Library/Preferences/SpineCase`` on macOS)."""
    env = os.environ.get("SPINECASE_SETTINGS")
    if env:
        return Path(env).expanduser().absolute().parent / KEY_FILE_NAME
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Preferences"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "SpineCase" / KEY_FILE_NAME


@dataclass(frozen=True)
class DeidKey:
    """A secret key and the pseudonyms, shifts and UIDs derived from it."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("a de-identification key needs at least 16 bytes")

    def __repr__(self) -> str:  # never show the secret
        return f"DeidKey(fingerprint={self.fingerprint})"

    def _mac(self, purpose: str, value: str) -> bytes:
        return hmac.new(self.secret, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()

    @property
    def fingerprint(self) -> str:
        """8 hex digits that tell keys apart (for the log) without revealing anything of the key."""
        return self._mac("fingerprint", "")[:4].hex()

    def patient_pseudonym(self, patient_key: str) -> str:
        """The pseudonymous Patient ID of a patient, e.g. ``ANON-7QK2M4ZC3R1D`` (16 characters, fits SH)."""
        code = base64.b32encode(self._mac("patient", patient_key)).decode("ascii")[:11]
        return f"ANON-{code}"

    def reader_pseudonym(self, reader: str) -> str:
        """A reader's pseudonymous handle, e.g. ``READER-2F7Q9K``: the same reader gets the same handle in every
        case (inter-reader agreement still works)."""
        code = base64.b32encode(self._mac("reader", reader.strip().casefold())).decode("ascii")[:6]
        return f"READER-{code}"

    def date_shift(self, patient_key: str) -> timedelta:
        """The patient's date shift: a whole number of days between -1 and -11 years (negative: earlier)."""
        n = int.from_bytes(self._mac("date-shift", patient_key)[:8], "big")
        return timedelta(days=-(_SHIFT_MIN_DAYS + n % _SHIFT_SPAN_DAYS))

    def uid(self, original: str) -> str:
        """The replacement of a UID: ``2.25.`` and the integer of a UUID made from the HMAC (at most 44
        characters; PS3.5 B.2)."""
        digest = self._mac("uid", original.strip().rstrip("\x00"))[:16]
        return f"2.25.{uuid.UUID(bytes=digest, version=4).int}"

    def object_id(self, original: str) -> str:
        """The replacement of a case object id (32 lower-case hex digits)."""
        return uuid.UUID(bytes=self._mac("object-id", original)[:16], version=4).hex

    def case_id(self, original: str) -> str:
        """The replacement of a case id."""
        return "case-" + self._mac("case-id", original)[:8].hex()

    def token(self, purpose: str, value: str, length: int = 8) -> str:
        """A short base32 token for other replacements (file names and the like)."""
        return base64.b32encode(self._mac(purpose, value)).decode("ascii")[:length]


class UidMap:
    """UID replacement for one run: the key's :meth:`DeidKey.uid`, except where ``overrides`` says otherwise
    (an SR's tracking UIDs are made from case object ids, so they follow the ids' replacement)."""

    def __init__(self, key: DeidKey, overrides: dict[str, str] | None = None) -> None:
        self.key = key
        self.overrides = dict(overrides or {})

    def __call__(self, original: str) -> str:
        original = original.strip().rstrip("\x00")
        return self.overrides.get(original) or self.key.uid(original)


def _check_private(path: Path) -> None:
    if os.name != "posix":
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path}: the de-identification key is readable by other users (mode "
                           f"{stat.S_IMODE(mode):04o}); make it private with: chmod 600 '{path}'")


def load_or_create_key(path: str | Path | None = None) -> DeidKey:
    """Read the key at ``path`` (default :func:`default_key_path`); create it (0600, folder 0700) when it
    does not exist yet. Raises :class:`KeyFileError` for a key others can read or a file of another kind."""
    p = Path(path) if path is not None else default_key_path()
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret = secrets.token_bytes(32)
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created meanwhile by another run: use that one
            return load_or_create_key(p)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(f"{_HEADER}\n{secret.hex()}\n")
        return DeidKey(secret)
    _check_private(p)
    try:
        lines = p.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{p}: cannot read the de-identification key: {exc}") from None
    if len(lines) != 2 or lines[0] != _HEADER:
        raise KeyFileError(f"{p}: not a SpineCase de-identification key (expected the line '{_HEADER}' and "
                           "64 hex digits)")
    try:
        secret = bytes.fromhex(lines[1])
    except ValueError:
        raise KeyFileError(f"{p}: the key is not hexadecimal") from None
    if len(secret) < 16:
        raise KeyFileError(f"{p}: the key is too short")
    return DeidKey(secret)
