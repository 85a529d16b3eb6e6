"""PACS server settings and where SpineCase keeps them. Qt-free.

A server is reached over DICOMweb (``url``: the DICOMweb root, e.g. ``http://pacs:8042/dicom-web``), over
DIMSE (``host``, ``port``, ``called_aet``; we call as ``calling_aet``), or both. The settings live in
``pacs-servers.json`` in the user's SpineCase configuration folder (:func:`user_config_dir`) and never hold
a secret: a password or bearer token is kept in the system keyring, read from the environment variable
named in ``secret_env``, or asked once per session (:mod:`imaging.pacs.credentials`).

Folders (overridable for tests, kiosks and portable installs):

* configuration: ``$SPINECASE_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/SpineCase`` (``~/.config/SpineCase``)
  on Linux, ``~/Library/Application Support/SpineCase`` on macOS, ``%APPDATA%\\SpineCase`` on Windows;
* study cache: ``$SPINECASE_CACHE_DIR``, else ``$XDG_CACHE_HOME/SpineCase/pacs`` (``~/.cache/...``) on
  Linux, ``~/Library/Caches/SpineCase/pacs`` on macOS, ``%LOCALAPPDATA%\\SpineCase\\Cache\\pacs`` on Windows.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from imaging.pacs.errors import PacsError

__all__ = ["DEFAULT_CALLING_AET", "SERVERS_FILE", "ServerConfig", "ServerStore", "parse_host_port",
           "user_cache_dir", "user_config_dir"]

SERVERS_FILE = "pacs-servers.json"
DEFAULT_CALLING_AET = "SPINECASE"
_AET = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # AE titles: up to 16 printable characters, no backslash
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def user_config_dir() -> Path:
    """The folder of SpineCase's own settings files (see the module docstring)."""
    if env := os.environ.get("SPINECASE_CONFIG_DIR"):
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "SpineCase"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "SpineCase"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "SpineCase"


def user_cache_dir() -> Path:
    """The default root of the local study cache: one folder per study under it."""
    if env := os.environ.get("SPINECASE_CACHE_DIR"):
        return Path(env)
    if sys.platform == "win32":
        local = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return local / "SpineCase" / "Cache" / "pacs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "SpineCase" / "pacs"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "SpineCase" / "pacs"


def parse_host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6addr]:PORT`` for IPv6) -> (host, port); ValueError with the reason otherwise."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\s\[\]]+):(\d{1,5})", text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not HOST:PORT")
    host, port = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    if not 0 < int(port) < 65536:
        raise ValueError(f"port {port} is out of range (1-65535)")
    return host, int(port)


class ServerConfig(BaseModel):
    """One PACS as SpineCase reaches it. Holds no secret (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    url: str | None = Field(None, description="DICOMweb root (QIDO-RS, WADO-RS, STOW-RS), http:// or https://")
    host: str | None = Field(None, description="DIMSE host")
    port: int | None = Field(None, ge=1, le=65535, description="DIMSE port")
    called_aet: str | None = Field(None, description="the PACS's AE title")
    calling_aet: str = Field(DEFAULT_CALLING_AET, description="SpineCase's AE title")
    dimse_tls: bool = Field(False, description="DICOM TLS on the DIMSE port")
    retrieve: Literal["c-get", "c-move"] = Field(
        "c-get", description="DIMSE retrieval: C-GET (one association) or C-MOVE (the PACS connects back to "
                             "move_port, where it must know calling_aet)")
    move_port: int | None = Field(None, ge=1, le=65535, description="local port of the C-MOVE storage SCP")
    move_bind: str = Field("0.0.0.0", description="local address the C-MOVE storage SCP listens on while a "
                                                   "retrieval runs (it accepts only the PACS's AE title)")
    prefer: Literal["dicomweb", "dimse"] | None = Field(None, description="protocol used when both are set")
    auth: Literal["none", "basic", "bearer"] = "none"
    username: str | None = None
    secret_env: str | None = Field(None, description="environment variable holding the password or token")
    ca_file: str | None = Field(None, description="CA certificates (PEM) that sign the server's certificate")
    verify_tls: bool = Field(True, description="check the server's TLS certificate (never off in production)")
    timeout_s: float = Field(30.0, gt=0, le=3600)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("a server name is 1-64 letters, digits, '.', '_' or '-', starting with a letter "
                             "or digit")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError(f"{v!r} is not an http:// or https:// URL")
        return v

    @field_validator("called_aet", "calling_aet")
    @classmethod
    def _aet(cls, v: str | None) -> str | None:
        if v is not None and (not _AET.match(v) or not v.strip()):
            raise ValueError(f"{v!r} is not an AE title (1-16 printable characters, no backslash)")
        return v

    @field_validator("secret_env")
    @classmethod
    def _env(cls, v: str | None) -> str | None:
        if v is not None and not _ENV.match(v):
            raise ValueError(f"{v!r} is not an environment variable name")
        return v

    @model_validator(mode="after")
    def _complete(self) -> ServerConfig:
        dimse = (self.host, self.port, self.called_aet)
        if any(x is not None for x in dimse) and not all(x is not None for x in dimse):
            raise ValueError("DIMSE needs a host, a port and the PACS's AE title")
        if self.url is None and self.host is None:
            raise ValueError("give a DICOMweb URL and/or a DIMSE host:port with its AE title")
        if self.auth == "basic" and not self.username:
            raise ValueError("basic authentication needs a user name")
        if self.retrieve == "c-move" and self.move_port is None and self.host is not None:
            raise ValueError("C-MOVE needs the local port (move_port) where SpineCase receives the images")
        if self.prefer == "dicomweb" and self.url is None or self.prefer == "dimse" and self.host is None:
            raise ValueError(f"cannot prefer {self.prefer}: it is not configured")
        return self

    @property
    def has_dicomweb(self) -> bool:
        return self.url is not None

    @property
    def has_dimse(self) -> bool:
        return self.host is not None

    def protocol(self, choice: str | None = None) -> str:
        """The protocol to use: ``choice`` when given (and configured), else ``prefer``, else DICOMweb when
        a URL is set, else DIMSE."""
        want = choice or self.prefer or ("dicomweb" if self.has_dicomweb else "dimse")
        if want == "dicomweb" and not self.has_dicomweb:
            raise PacsError(f"server {self.name} has no DICOMweb URL")
        if want == "dimse" and not self.has_dimse:
            raise PacsError(f"server {self.name} has no DIMSE host:port and AE title")
        if want not in ("dicomweb", "dimse"):
            raise PacsError(f"unknown protocol {want!r} (dicomweb or dimse)")
        return want

    def describe(self) -> str:
        """One line for lists: the endpoints, TLS and authentication (never a secret)."""
        parts = []
        if self.url:
            parts.append(f"DICOMweb {self.url}")
        if self.host:
            tls = " TLS" if self.dimse_tls else ""
            back = f" to port {self.move_port}" if self.retrieve == "c-move" else ""
            parts.append(f"DIMSE {self.called_aet}@{self.host}:{self.port}{tls} as {self.calling_aet} "
                         f"({self.retrieve.upper()}{back})")
        if self.auth != "none":
            who = f" user {self.username}" if self.username else ""
            src = f", secret from ${self.secret_env}" if self.secret_env else ""
            parts.append(f"{self.auth} auth{who}{src}")
        if self.ca_file:
            parts.append(f"CA {self.ca_file}")
        if not self.verify_tls:
            parts.append("TLS certificate NOT verified")
        return "; ".join(parts)


class ServerStore:
    """The saved servers (``pacs-servers.json`` in ``folder``, default :func:`user_config_dir`).

    The file is rewritten atomically; it holds no secret (the model has no field for one)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else user_config_dir()
        self.path = self.folder / SERVERS_FILE

    def load(self) -> list[ServerConfig]:
        """The servers, in the order they were added. A missing file is no server; a broken one raises
        :class:`PacsError` naming the file (it is never overwritten silently)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise PacsError(f"cannot read the PACS settings: {exc.strerror or exc}", self.path) from None
        try:
            doc = json.loads(raw.decode("utf-8"))
            return [ServerConfig.model_validate(s) for s in doc.get("servers", [])]
        except (ValueError, AttributeError, ValidationError) as exc:
            raise PacsError(f"the PACS settings file is not valid: {str(exc).splitlines()[0]}", self.path) \
                from None

    def get(self, name: str) -> ServerConfig:
        for s in self.load():
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.load()) or "none yet (spinecase pacs add)"
        raise PacsError(f"no PACS server named {name!r}; known: {known}")

    def save(self, servers: list[ServerConfig]) -> None:
        from imaging.case.store import atomic_write

        self.folder.mkdir(parents=True, exist_ok=True)
        doc = {"servers": [s.model_dump(exclude_defaults=False) for s in servers]}
        atomic_write(self.path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))

    def add(self, server: ServerConfig, replace: bool = False) -> None:
        servers = self.load()
        if any(s.name == server.name for s in servers):
            if not replace:
                raise PacsError(f"a PACS server named {server.name!r} exists already (remove it first, or "
                                "replace it)")
            servers = [server if s.name == server.name else s for s in servers]
        else:
            servers.append(server)
        self.save(servers)

    def remove(self, name: str) -> ServerConfig:
        servers = self.load()
        keep = [s for s in servers if s.name != name]
        if len(keep) == len(servers):
            raise PacsError(f"no PACS server named {name!r}")
        self.save(keep)
        return next(s for s in servers if s.name == name)
