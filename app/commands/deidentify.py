"""`spinecase deidentify IN OUT [--profile basic|retain-dates|retain-longitudinal] [--key FILE]`.

De-identifies a folder (DICOM, case files, CSV exports, reports) into a new folder, by DICOM PS3.15's Basic
Application Level Confidentiality Profile with the chosen date option (:mod:`imaging.deid`). Prints what was
written, refused and skipped, and the free-text replacements for review (the text found only with
``--show-found``: it is identifying). PDF reports are printed through Qt offscreen, only when there is one.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

NAME = "deidentify"
HELP = ("de-identify a folder (DICOM, case files, CSVs, reports) into a new folder for research: DICOM PS3.15 "
        "Basic Profile, pseudonyms from a keyed hash, one date shift per patient")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, metavar="IN", help="the folder (or case file) to de-identify")
    parser.add_argument("output", type=Path, metavar="OUT", help="the new folder to write (must not exist or be empty)")
    parser.add_argument("--profile", choices=("basic", "retain-dates", "retain-longitudinal"),
                        default="retain-longitudinal",
                        help="basic: dates removed; retain-dates: dates kept; retain-longitudinal (default): "
                             "dates shifted by one whole-day shift per patient, so intervals survive")
    parser.add_argument("--key", type=Path, metavar="FILE",
                        help="the key file (created with mode 0600 when missing; default: deidentification.key in "
                             "the SpineCase settings folder). The same key gives the same pseudonyms and UIDs")
    parser.add_argument("--keep-burned-in", action="store_true",
                        help="also write images flagged as carrying burned-in annotation (refused by default)")
    parser.add_argument("--show-found", action="store_true",
                        help="print the identifying text each replacement found (for review on this machine)")


def _pdf_writer(html: str, path: Path) -> object:
    from app.application import create_application

    create_application(headless=True)
    from app.report_pdf import html_to_pdf

    return html_to_pdf(html, path)


def run(args: argparse.Namespace) -> int:
    from imaging.deid.folder import DeidError, deidentify_folder
    from imaging.deid.keys import KeyFileError, load_or_create_key
    from imaging.deid.table import Profile

    try:
        key = load_or_create_key(args.key)
    except KeyFileError as exc:
        print(f"spinecase deidentify: {exc}", file=sys.stderr)
        return 1
    try:
        result = deidentify_folder(args.input, args.output, key=key,
                                   profile=Profile.named(args.profile, args.keep_burned_in), pdf_writer=_pdf_writer)
    except DeidError as exc:
        print(f"spinecase deidentify: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"spinecase deidentify: {getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(result.written)} files to {result.out} (profile {args.profile}, key {key.fingerprint})")
    print(f"log: {result.log_path}")
    for rel, why in result.refused:
        print(f"  refused {rel}: {why}", file=sys.stderr)
    for rel, why in result.skipped:
        print(f"  skipped {rel}: {why}", file=sys.stderr)
    for note in sorted(set(result.notes)):
        print(f"  note: {note}", file=sys.stderr)
    if result.review:
        print(f"{len(result.review)} free-text replacement(s) to review:")
        groups = Counter((r.kind, r.found if args.show_found else "", r.replacement) for r in result.review)
        for (kind, found, repl), n in groups.most_common():
            what = f"{found!r} -> " if args.show_found else ""
            print(f"  {n:5d} x {kind}: {what}{repl!r}")
    return 0
