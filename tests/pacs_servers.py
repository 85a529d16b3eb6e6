"""Real servers for the PACS tests: Orthanc (Debian's, with its DICOMweb and PostgreSQL plugins) and
PostgreSQL, each started in a temporary folder on 127.0.0.1 with a configuration written there, and stopped
by the fixture that started it.

Orthanc's HTTP server answers only 127.0.0.1 ("RemoteAccessAllowed": false); its DICOM port cannot be
bound to one address in 1.10, so it accepts associations only from the AE titles configured here, at
127.0.0.1, calling it by its own AE title ("DicomAlwaysAllowEcho/Store": false, "DicomCheckCalledAet":
true); the clients under test connect only to 127.0.0.1. The packages come from ``.ci/system-packages test``
(``make test`` runs it); when they cannot be had the tests skip and say which package is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import requests

ORTHANC_PLUGINS = Path("/usr/share/orthanc/plugins")
DICOMWEB_PLUGIN = ORTHANC_PLUGINS / "libOrthancDicomWeb.so"
POSTGRESQL_INDEX_PLUGIN = ORTHANC_PLUGINS / "libOrthancPostgreSQLIndex.so"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_dicoms"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def orthanc_missing() -> str | None:
    """Why Orthanc cannot run here (the missing package), or None."""
    if shutil.which("Orthanc") is None:
        return "Debian package orthanc is not installed (run .ci/system-packages test as root)"
    if not DICOMWEB_PLUGIN.exists():
        return "Debian package orthanc-dicomweb is not installed (run .ci/system-packages test as root)"
    return None


def postgres_bin() -> Path | None:
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / "postgres").exists() and (base / "initdb").exists():
            return base
    return None


def postgres_missing() -> str | None:
    if postgres_bin() is None:
        return "Debian package postgresql is not installed (run .ci/system-packages test as root)"
    if not POSTGRESQL_INDEX_PLUGIN.exists():
        return "Debian package orthanc-postgresql is not installed (run .ci/system-packages test as root)"
    return None


class OrthancServer:
    """One Orthanc in ``folder`` (config, storage, log). ``users``: RegisteredUsers (turns HTTP basic
    authentication on); ``modalities``: DICOM peers by name -> (AET, port on 127.0.0.1); ``postgres``: use
    a PostgreSQL index (several instances may share it and one ``storage`` folder); ``dicom_tls``: DICOM TLS
    on the DIMSE port with that (certificate, key); ``lua``: a Lua script (e.g. an IncomingHttpRequestFilter).

    No HTTPS here: Debian's Orthanc 1.10 (civetweb on OpenSSL 3) crashes on the first HTTPS connection, so
    HTTPS is terminated in front of it (:class:`TcpRelay`), as sites do with nginx."""

    def __init__(self, folder: Path, name: str = "test", *, aet: str = "ORTHANC",
                 users: dict[str, str] | None = None, modalities: dict[str, tuple[str, int]] | None = None,
                 postgres: PostgresServer | None = None, storage: Path | None = None,
                 dicom_tls: tuple[Path, Path] | None = None, lua: str | None = None) -> None:
        self.folder = folder
        self.name = name
        self.aet = aet
        self.http_port = free_port()
        self.dicom_port = free_port()
        self.users = users or {}
        self.storage = storage or folder / "storage"
        self.log = folder / "orthanc.log"
        folder.mkdir(parents=True, exist_ok=True)
        self.storage.mkdir(parents=True, exist_ok=True)
        plugins = [str(DICOMWEB_PLUGIN)]
        config: dict[str, object] = {
            "Name": name, "StorageDirectory": str(self.storage), "IndexDirectory": str(folder / "index"),
            "Plugins": plugins, "HttpPort": self.http_port, "DicomPort": self.dicom_port, "DicomAet": aet,
            "RemoteAccessAllowed": False, "AuthenticationEnabled": bool(self.users), "RegisteredUsers": self.users,
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
            "DicomModalities": {k: {"AET": a, "Host": "127.0.0.1", "Port": p, "AllowEcho": True, "AllowFind": True,
                                    "AllowMove": True, "AllowGet": True, "AllowStore": True}
                                for k, (a, p) in (modalities or {}).items()},
            "DicomAlwaysAllowEcho": False, "DicomAlwaysAllowStore": False, "DicomCheckCalledAet": True,
            "SaveJobs": False, "StableAge": 1, "HttpCompressionEnabled": False, "StorageCompression": False,
            "ConcurrentJobs": 2, "DicomScpTimeout": 10, "HttpsVerifyPeers": False,
        }
        (folder / "index").mkdir(exist_ok=True)
        if dicom_tls is not None:
            config.update({"DicomTlsEnabled": True, "DicomTlsCertificate": str(dicom_tls[0]),
                           "DicomTlsPrivateKey": str(dicom_tls[1]), "DicomTlsTrustedCertificates": str(dicom_tls[0]),
                           "DicomTlsRemoteCertificateRequired": False})
        if lua is not None:
            script = folder / "filter.lua"
            script.write_text(lua, encoding="utf-8")
            config["LuaScripts"] = [str(script)]
        if postgres is not None:
            plugins.append(str(POSTGRESQL_INDEX_PLUGIN))
            config["PostgreSQL"] = {"EnableIndex": True, "EnableStorage": False, "Host": "127.0.0.1",
                                    "Port": postgres.port, "Database": postgres.database, "Username": "postgres",
                                    "Password": "", "EnableSsl": False, "Lock": False}
        self.config_path = folder / "orthanc.json"
        self.config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return self.url + "/dicom-web"

    def session(self) -> requests.Session:
        s = requests.Session()
        if self.users:
            s.auth = next(iter(self.users.items()))
        return s

    def start(self, timeout_s: float = 30.0) -> OrthancServer:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([shutil.which("Orthanc") or "Orthanc", str(self.config_path)],
                                            stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)
        deadline = time.monotonic() + timeout_s
        s = self.session()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc {self.name} exited at start:\n{self.log_tail()}")
            try:
                # any answer means it is up (a filter or authentication may refuse this anonymous call)
                if s.get(self.url + "/system", timeout=1).status_code in (200, 401, 403):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Orthanc {self.name} did not answer in {timeout_s:g} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Kill it: its data is thrown away, and a polite stop waits seconds for idle keep-alive
        connections. (The index and storage are in the temporary folder; PostgreSQL stops politely.)"""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(10)
        self.process = None

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    # -- REST helpers (the test's own administration of the server, not the product's client) -------------
    def upload(self, files: Iterable[Path]) -> int:
        s = self.session()
        n = 0
        with _quiet_tls():
            for f in files:
                r = s.post(self.url + "/instances", data=Path(f).read_bytes(), timeout=30)
                r.raise_for_status()
                n += 1
        return n

    def orthanc_id(self, uid: str, level: str) -> str:
        with _quiet_tls():
            r = self.session().post(self.url + "/tools/lookup", data=uid, timeout=10)
        r.raise_for_status()
        for hit in r.json():
            if hit["Type"].lower() == level.lower():
                return str(hit["ID"])
        raise KeyError(f"{level} {uid} not on Orthanc {self.name}")

    def delete(self, uid: str, level: str = "series") -> None:
        oid = self.orthanc_id(uid, level)
        with _quiet_tls():
            self.session().delete(f"{self.url}/{level.lower()}/{oid}", timeout=10).raise_for_status()

    def statistics(self) -> dict[str, object]:
        with _quiet_tls():
            return dict(self.session().get(self.url + "/statistics", timeout=10).json())


class TcpRelay:
    """A relay on 127.0.0.1 in front of a server on 127.0.0.1: with ``cert``/``key`` it terminates TLS (what
    nginx does at a site); with ``bytes_per_second`` it paces the server's answers like a slow network link.
    Relays the bytes unchanged otherwise."""

    def __init__(self, backend_port: int, cert: Path | None = None, key: Path | None = None,
                 bytes_per_second: float | None = None) -> None:
        import ssl

        self.backend_port = backend_port
        self.port = free_port()
        self.rate = bytes_per_second
        self._ctx: ssl.SSLContext | None = None
        if cert is not None:
            self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ctx.load_cert_chain(str(cert), str(key))
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._stop = False
        self._threads: list[threading.Thread] = []

    def start(self) -> TcpRelay:
        t = threading.Thread(target=self._accept, name="tcp-relay", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def _accept(self) -> None:
        import ssl

        while not self._stop:
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn: socket.socket = raw
            if self._ctx is not None:
                try:
                    raw.settimeout(10)
                    conn = self._ctx.wrap_socket(raw, server_side=True)
                    conn.settimeout(None)
                except (ssl.SSLError, OSError):  # the client did not trust us: that is its business
                    raw.close()
                    continue
            backend = socket.create_connection(("127.0.0.1", self.backend_port))
            for src, dst, rate in ((conn, backend, None), (backend, conn, self.rate)):
                t = threading.Thread(target=self._pump, args=(src, dst, rate), daemon=True)
                t.start()

    def _pump(self, src: socket.socket, dst: socket.socket, rate: float | None) -> None:
        try:
            while not self._stop and (data := src.recv(16384)):
                dst.sendall(data)
                if rate:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._stop = True
        self._listener.close()
        for t in self._threads:
            t.join(2)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files); the certificate is its own CA."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@contextlib.contextmanager
def _quiet_tls():
    """The harness's own REST calls skip certificate checks on the test server; silence urllib3's warning
    about it (the product's client always verifies)."""
    import warnings

    import urllib3

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
        yield


def sample_files(folder: str | None = None) -> list[Path]:
    base = SAMPLES / folder if folder else SAMPLES
    return sorted(base.rglob("*.dcm"))


class PostgresServer:
    """A throw-away PostgreSQL cluster in a temporary folder on 127.0.0.1 (fsync off: test data). As root,
    the server runs as the ``postgres`` user (PostgreSQL refuses to run as root)."""

    def __init__(self, database: str = "orthanc") -> None:
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed")
        self.database = database
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="spinecase-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.process: subprocess.Popen | None = None
        self._user: dict[str, object] = {}
        if os.geteuid() == 0:
            import pwd

            pw = pwd.getpwnam("postgres")
            os.chown(self.folder, pw.pw_uid, pw.pw_gid)
            self._user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def _run(self, *args: str) -> None:
        subprocess.run([str(self.bin / args[0]), *args[1:]], check=True, capture_output=True, cwd=self.folder,
                       env={**os.environ, "LC_ALL": "C.UTF-8"}, **self._user)  # type: ignore[arg-type]

    def start(self, timeout_s: float = 30.0) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                  "--no-sync")
        with open(self.log, "wb") as log:
            if self._user:
                os.chown(self.log, int(self._user["user"]), int(self._user["group"]))  # type: ignore[call-overload]
            self.process = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.data), "-h", "127.0.0.1", "-p", str(self.port),
                 "-k", str(self.folder), "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off"],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, **self._user)  # type: ignore[arg-type]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited at start:\n{self.log.read_text(errors='replace')}")
            ready = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)
            if ready.returncode == 0:
                self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.database)
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("PostgreSQL did not start in time")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: "smart" shutdown
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)
