"""`spinecase pacs ...`: PACS servers, find, pull into the local cache, push results. Qt-free.

    spinecase pacs add NAME [--url URL] [--dimse HOST:PORT --aet AET] [--calling-aet AET] [--tls] ...
    spinecase pacs list [--json]                 spinecase pacs remove NAME
    spinecase pacs echo NAME [--via dicomweb|dimse]
    spinecase pacs login NAME                    keep the password or token in the system keyring
    spinecase pacs find NAME [--patient-id ID] [--patient-name PATTERN] [--modality MOD] [--date RANGE]
                             [--accession N] [--study UID] [--json]
    spinecase pacs pull NAME --study UID [--series UID ...] [DEST]
    spinecase pacs push NAME FILES...

Secrets are never written in plain text (see :mod:`imaging.pacs.credentials`); at a terminal a missing one
is asked once. Exit status: 0 done, 1 failed (the reason on stderr), 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAME = "pacs"
HELP = "PACS servers (DICOMweb, DIMSE): add/list/remove/echo/login, find studies, pull into the cache, push results"

def _add_via(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--via", choices=["dicomweb", "dimse"],
                        help="protocol to use when the server has both (default: its own)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="pacs_command", metavar="ACTION")
    p = sub.add_parser("add", help="save a PACS server (no secret is saved in the file)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--url", help="DICOMweb root, e.g. https://pacs.example.org/dicom-web")
    p.add_argument("--dimse", metavar="HOST:PORT", help="DIMSE address")
    p.add_argument("--aet", help="the PACS's AE title (DIMSE)")
    p.add_argument("--calling-aet", default=None, help="SpineCase's AE title (default SPINECASE)")
    p.add_argument("--tls", action="store_true", help="DICOM TLS on the DIMSE port (DICOMweb: use an https URL)")
    p.add_argument("--ca-file", type=Path, help="CA certificates (PEM) that sign the server's certificate")
    p.add_argument("--no-verify", action="store_true",
                   help="do not check the server's TLS certificate (testing only: anyone could pose as the PACS)")
    p.add_argument("--auth", choices=["none", "basic", "bearer"], default="none", help="HTTP authentication")
    p.add_argument("--user", help="user name for basic authentication")
    p.add_argument("--secret-env", metavar="VAR", help="environment variable holding the password or token")
    p.add_argument("--retrieve", choices=["c-get", "c-move"], default="c-get", help="DIMSE retrieval")
    p.add_argument("--move-port", type=int, help="local port the PACS sends C-MOVE images to")
    p.add_argument("--move-bind", help="local address to listen on for C-MOVE (default all)")
    p.add_argument("--prefer", choices=["dicomweb", "dimse"], help="protocol used when both are given")
    p.add_argument("--timeout", type=float, help="seconds to wait for an answer (default 30)")
    p.add_argument("--replace", action="store_true", help="replace a server of that name")
    sub.add_parser("list", help="the saved servers").add_argument("--json", action="store_true")
    sub.add_parser("remove", help="forget a server (and its secret in the keyring)").add_argument("name")
    p = sub.add_parser("echo", help="check the connection (C-ECHO or a QIDO-RS request) and time it")
    p.add_argument("name")
    _add_via(p)
    sub.add_parser("login", help="keep the server's password or token in the system keyring").add_argument("name")
    p = sub.add_parser("find", help="find studies (with --study: its series too)")
    p.add_argument("name")
    p.add_argument("--patient-id")
    p.add_argument("--patient-name", metavar="PATTERN", help="wildcards * and ?, e.g. 'DOE^J*'")
    p.add_argument("--modality", metavar="MOD", help="e.g. CT, MR, SR")
    p.add_argument("--date", metavar="RANGE", help="YYYYMMDD, YYYYMMDD-YYYYMMDD, YYYY-MM-DD..YYYY-MM-DD, open ends")
    p.add_argument("--accession", metavar="N")
    p.add_argument("--study", metavar="UID", help="one study, listed with its series")
    p.add_argument("--json", action="store_true")
    _add_via(p)
    p = sub.add_parser("pull", help="retrieve a study (or some series) into the local cache, resumable")
    p.add_argument("name")
    p.add_argument("--study", required=True, metavar="UID")
    p.add_argument("--series", nargs="+", metavar="UID", help="only these series")
    p.add_argument("dest", nargs="?", metavar="DEST",
                   help="cache folder (default: the user's cache folder); a folder per study under it")
    p.set_defaults(_trailing_positional="dest")
    p.add_argument("--json", action="store_true")
    _add_via(p)
    p = sub.add_parser("push", help="store DICOM SR, segmentations or key-object selections on the server")
    p.add_argument("name")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _add_via(p)
    parser.set_defaults(_parser=parser)


def _err(text: str) -> None:
    print(f"spinecase pacs: {text}", file=sys.stderr)


def _terminal_prompt(server: Any) -> str | None:
    """Ask for a secret at a terminal (never echoed); None when there is no terminal to ask at."""
    if not sys.stdin.isatty():
        return None
    import getpass

    what = "password" if server.auth == "basic" else "token"
    who = f" for {server.username}" if server.username else ""
    return getpass.getpass(f"{server.name} {what}{who}: ") or None


def run(args: argparse.Namespace) -> int:
    from imaging.pacs import PacsError, session_credentials

    action = getattr(args, "pacs_command", None)
    if not action:
        args._parser.print_help()
        return 2
    creds = session_credentials()
    if creds.prompt is None:
        creds.prompt = _terminal_prompt
    handler: Callable[[argparse.Namespace], int] = globals()[f"_{action}"]
    try:
        return handler(args)
    except PacsError as exc:
        _err(str(exc))
        return 1
    except ValueError as exc:  # a bad filter, UID or setting
        _err(str(exc).splitlines()[0] if "validation error" not in str(exc) else _validation_text(exc))
        return 2
    except KeyboardInterrupt:
        _err("interrupted; what arrived is kept aside for resuming (pull again)")
        return 130


def _validation_text(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
    return str(exc)


# -- servers ------------------------------------------------------------------------------------------------
def _add(args: argparse.Namespace) -> int:
    from imaging.pacs import ServerConfig, ServerStore
    from imaging.pacs.config import parse_host_port

    fields: dict[str, object] = {"name": args.name, "url": args.url, "auth": args.auth, "username": args.user,
                                 "secret_env": args.secret_env, "retrieve": args.retrieve,
                                 "move_port": args.move_port, "prefer": args.prefer, "dimse_tls": args.tls,
                                 "verify_tls": not args.no_verify}
    if args.dimse:
        fields["host"], fields["port"] = parse_host_port(args.dimse)
        fields["called_aet"] = args.aet
    elif args.aet:
        raise ValueError("--aet goes with --dimse HOST:PORT")
    for key, value in (("calling_aet", args.calling_aet), ("move_bind", args.move_bind),
                       ("timeout_s", args.timeout)):
        if value is not None:
            fields[key] = value
    if args.ca_file:
        if not args.ca_file.is_file():
            raise ValueError(f"--ca-file {args.ca_file}: no such file")
        fields["ca_file"] = str(args.ca_file.resolve())
    server = ServerConfig(**fields)
    store = ServerStore()
    store.add(server, replace=args.replace)
    print(f"added {server.name}: {server.describe()}")
    if server.auth != "none" and not server.secret_env:
        print(f"  its {'password' if server.auth == 'basic' else 'token'} will be asked once per session; "
              f"keep it in the system keyring with: spinecase pacs login {server.name}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from imaging.pacs import ServerStore

    servers = ServerStore().load()
    if args.json:
        json.dump([s.model_dump() for s in servers], sys.stdout, indent=2)
        print()
    elif not servers:
        print("no PACS server yet: spinecase pacs add NAME --url URL | --dimse HOST:PORT --aet AET")
    else:
        for s in servers:
            print(f"{s.name}: {s.describe()}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from imaging.pacs import ServerStore, session_credentials

    server = ServerStore().remove(args.name)
    session_credentials().forget(server, keyring_too=True)
    print(f"removed {server.name}")
    return 0


def _login(args: argparse.Namespace) -> int:
    import getpass

    from imaging.pacs import ServerStore, session_credentials
    from imaging.pacs.credentials import keyring_available

    server = ServerStore().get(args.name)
    if server.auth == "none":
        print(f"{server.name} uses no authentication")
        return 0
    if not keyring_available():
        _err("no system keyring here: set the environment variable named with --secret-env, or enter the "
             "secret when asked (once per session)")
        return 1
    what = "password" if server.auth == "basic" else "token"
    secret = getpass.getpass(f"{server.name} {what}: ")
    if not secret:
        return 2
    where = session_credentials().remember(server, secret, persist=True)
    print(f"{server.name}: {what} kept in the {'system keyring' if where == 'keyring' else 'session only'}")
    return 0 if where == "keyring" else 1


def _client(args: argparse.Namespace) -> Any:
    from imaging.pacs import ServerStore, open_client

    return open_client(ServerStore().get(args.name), getattr(args, "via", None))


def _echo(args: argparse.Namespace) -> int:
    client = _client(args)
    seconds = client.echo()
    what = "C-ECHO" if client.protocol == "dimse" else "QIDO-RS"
    print(f"{client.server.name}: {what} answered in {seconds * 1000:.1f} ms")
    return 0


# -- find ---------------------------------------------------------------------------------------------------
def _table(rows: list[list[str]], head: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _count(n: int | None) -> str:
    return "" if n is None else str(n)


def _find(args: argparse.Namespace) -> int:
    from imaging.pacs import StudyQuery

    query = StudyQuery(patient_id=args.patient_id, patient_name=args.patient_name, modality=args.modality,
                       study_date=args.date, accession=args.accession, study_uid=args.study)
    client = _client(args)
    studies = sorted(client.find_studies(query), key=lambda s: (s.study_date, s.study_time), reverse=True)
    series = client.find_series(args.study) if args.study and studies else []
    if args.json:
        doc: dict[str, object] = {"server": client.server.name, "protocol": client.protocol,
                                  "studies": [s.to_json() for s in studies]}
        if args.study:
            doc["series"] = [s.to_json() for s in series]
        json.dump(doc, sys.stdout, indent=2)
        print()
        return 0
    if not studies:
        print("no study found")
        return 0
    print(_table([[s.study_date, s.patient_id, s.patient_name, s.accession, "/".join(s.modalities), s.description,
                   _count(s.series_count), _count(s.instance_count), s.study_uid] for s in studies],
                 ["Date", "Patient ID", "Patient name", "Accession", "Modalities", "Description", "Series", "Images",
                  "StudyInstanceUID"]))
    if series:
        print()
        ordered = sorted(series, key=lambda s: (s.series_number is None, s.series_number or 0))
        print(_table([[_count(s.series_number), s.modality, s.description, _count(s.instance_count), s.series_uid]
                      for s in ordered], ["Series", "Modality", "Description", "Images", "SeriesInstanceUID"]))
    return 0


# -- pull and push ------------------------------------------------------------------------------------------
def _pull(args: argparse.Namespace) -> int:
    from imaging.pacs import StudyCache, pull_study

    client = _client(args)
    cache = StudyCache(Path(args.dest) if args.dest else None)
    live = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if live:
            print(f"\r{done}/{total} images", end="", file=sys.stderr, flush=True)

    def on_series(outcome: Any) -> None:
        if live:
            print("\r", end="", file=sys.stderr)
        s = outcome.series
        label = f"{s.modality} {s.description}".strip() or s.series_uid
        if outcome.status == "failed":
            _err(f"{label}: {outcome.error}")
        elif not args.json:
            note = "already in the cache" if outcome.status == "cached" else "retrieved and verified"
            print(f"{label}: {outcome.manifest.count} images {note}")

    result = pull_study(client, cache, args.study, args.series, progress=progress, on_series=on_series)
    if args.json:
        json.dump({"study_uid": result.study_uid, "study_dir": str(result.study_dir),
                   "series": [{"series_uid": s.series.series_uid, "modality": s.series.modality,
                               "status": s.status, "folder": str(s.folder) if s.folder else None,
                               "images": s.manifest.count if s.manifest else 0, "error": s.error}
                              for s in result.series]}, sys.stdout, indent=2)
        print()
    else:
        print(f"study folder: {result.study_dir}")
    return 0 if result.ok else 1


def _push(args: argparse.Namespace) -> int:
    from imaging.pacs.push import push_files, read_push_file

    items = [read_push_file(f) for f in args.files]  # every file checked before anything is sent
    client = _client(args)
    result = push_files(client, items)
    for item in items:
        if item.sop_uid in result.stored:
            print(f"stored {item.path.name} ({item.kind}) in study {item.study_uid}")
        else:
            _err(f"{item.path}: not stored: {result.failed.get(item.sop_uid, 'no answer')}")
    return 0 if result.ok else 1
