"""`spinecase export CASE [--csv F] [--findings-csv F] [--followup F] [--sr F] [--report F.html|F.pdf]`.

Writes the exports of a case file. Qt-free except for a PDF report, which is printed through Qt's PDF writer
(:mod:`app.report_pdf`, imported only then, with an offscreen application). The case's series are found
through their path hints relative to the case file, or in ``--search`` folders.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "export"
HELP = ("export a case file as CSV (per measurement value, per finding), DICOM SR (TID 1500) and an HTML or PDF "
        "report")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("case", type=Path, metavar="CASE", help="the case file (*.spinecase.json)")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="one row per measurement value")
    parser.add_argument("--findings-csv", type=Path, metavar="FILE", help="one row per finding")
    parser.add_argument("--followup", type=Path, metavar="FILE",
                        help="follow-up CSV: one row per lesion and timepoint (change, growth rate, RECIST 1.1)")
    parser.add_argument("--sr", type=Path, metavar="FILE", help="DICOM Comprehensive 3D SR measurement report")
    parser.add_argument("--report", type=Path, metavar="FILE.html|FILE.pdf",
                        help="report with key images: HTML (one file) or PDF (A4), by the file's extension")
    parser.add_argument("--search", type=Path, action="append", default=[], metavar="FOLDER",
                        help="also look for the case's DICOM series here (repeatable)")


def run(args: argparse.Namespace) -> int:
    from imaging.case.store import load_case
    from imaging.errors import LoadError

    if not (args.csv or args.findings_csv or args.followup or args.sr or args.report):
        print("spinecase export: nothing to do: give --csv, --findings-csv, --followup, --sr and/or --report",
              file=sys.stderr)
        return 2
    try:
        case = load_case(args.case)
    except LoadError as exc:
        print(f"spinecase export: {exc}", file=sys.stderr)
        return 1
    status = 0
    try:
        if args.csv:
            from imaging.case.export_csv import write_measurements_csv

            print(f"wrote {write_measurements_csv(case, args.csv)}")
        if args.findings_csv:
            from imaging.case.export_csv import write_findings_csv

            print(f"wrote {write_findings_csv(case, args.findings_csv)}")
        if args.followup:
            from imaging.followup.export_csv import write_followup_csv

            print(f"wrote {write_followup_csv(case, args.followup)}")
        if args.sr:
            from imaging.case.export_sr import write_sr

            try:
                export = write_sr(case, args.case, args.sr, search_folders=args.search)
            except (LoadError, ValueError) as exc:
                print(f"spinecase export: DICOM SR not written: {exc}", file=sys.stderr)
                status = 1
            else:
                print(f"wrote {args.sr}")
                for mid, why in export.skipped.items():
                    print(f"  measurement {mid} left out of the SR: {why}", file=sys.stderr)
        if args.report:
            from imaging.case.export_report import build_html_report, load_case_volumes
            from imaging.case.store import atomic_write

            uids = sorted({m.series_instance_uid for m in case.measurements if m.series_instance_uid}
                          | {c.series_instance_uid for f in case.findings for c in f.contours
                             if c.series_instance_uid})
            volumes, problems = load_case_volumes(case, args.case, uids, args.search)
            html = build_html_report(case, volumes, problems)
            if args.report.suffix.lower() == ".pdf":
                from app.application import create_application

                create_application(headless=True)
                from app.report_pdf import html_to_pdf

                html_to_pdf(html, args.report)
            else:
                atomic_write(args.report, html.encode("utf-8"))
            print(f"wrote {args.report}")
            for uid, why in problems.items():
                print(f"  series {uid} has no key images: {why}", file=sys.stderr)
    except OSError as exc:
        print(f"spinecase export: {getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return status
