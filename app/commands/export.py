"""`spinecase export CASE [--csv F] [--findings-csv F] [--followup F] [--sr F] [--report F.html|F.pdf]`.

Writes the exports of a case file; the flags come from the export registry (:mod:`imaging.case.exports`, with
the PDF report of :mod:`app.exports`), one per export (exports sharing a flag are chosen by the file's
extension). Qt-free except for a PDF report, which is printed through Qt's PDF writer with an offscreen
application. The case's series are found through their path hints relative to the case file, or in
``--search`` folders.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "export"
HELP = ("export a case file as CSV (per measurement value, per finding, per lesion and timepoint), DICOM SR "
        "(TID 1500) and an HTML or PDF report")


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from app.exports import export_specs
    from imaging.case.exports import cli_groups

    parser.add_argument("case", type=Path, metavar="CASE", help="the case file (*.spinecase.json)")
    for flag, group in cli_groups(export_specs()).items():
        metavar = "|".join(f"FILE{s.extension}" for s in group) if len(group) > 1 else "FILE"
        parser.add_argument(flag, type=Path, metavar=metavar, dest=_dest(flag), help=group[0].cli_help)
    parser.add_argument("--search", type=Path, action="append", default=[], metavar="FOLDER",
                        help="also look for the case's DICOM series here (repeatable)")


def run(args: argparse.Namespace) -> int:
    from app.exports import export_specs
    from imaging.case.exports import ExportJob, cli_groups, spec_for_flag
    from imaging.case.store import load_case
    from imaging.errors import LoadError

    groups = cli_groups(export_specs())
    wanted = [(spec_for_flag(group, out), out) for flag, group in groups.items()
              if (out := getattr(args, _dest(flag), None))]
    if not wanted:
        flags = list(groups)
        print(f"spinecase export: nothing to do: give {', '.join(flags[:-1])} and/or {flags[-1]}", file=sys.stderr)
        return 2
    try:
        case = load_case(args.case)
    except LoadError as exc:
        print(f"spinecase export: {exc}", file=sys.stderr)
        return 1
    status = 0
    for spec, out in wanted:
        job = ExportJob(case, Path(args.case), Path(out), tuple(args.search))
        try:
            notes = spec.writer(job)
        except OSError as exc:
            print(f"spinecase export: {getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        except (LoadError, ValueError) as exc:
            print(f"spinecase export: {spec.what} not written: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"wrote {out}")
        for note in notes:
            print(f"  {note}", file=sys.stderr)
    return status
