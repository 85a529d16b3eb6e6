"""`spinecase bilsky-agreement CASES... [--json]`: agreement between the Bilsky grades the contour assistant
suggested and the readers' final grades, over case files.

`spinecase bilsky-agreement --sr PATH... | --pacs NAME --study UID... [--studies FILE] [--json]`: agreement
between readers over their DICOM SRs (multi-reader studies: each reader's SR goes to the PACS). For each
study, each reader's most severe final grade from that reader's latest SR of the study
(:func:`imaging.pacs.annotations.grades_by_study`); two readers: percent agreement, Cohen's kappa and the
confusion table; more: Fleiss' kappa too and every pair (:func:`imaging.spine.agreement.reader_agreement`).
With ``--pacs`` the SRs of each study are pulled into the local cache first.

Every finding that holds both a suggested grade (``BilskyAssessment.suggested_grade``) and a final grade
(``BilskyAssessment.grade``) is one pair (suggested, final). Printed: the files read, the pairs counted and
the findings left out, then n, the percent agreement, Cohen's kappa (unweighted), the linearly weighted kappa
and the confusion table (rows: suggested; columns: final) from :mod:`imaging.spine.agreement`. A folder is
searched for ``*.spinecase.json`` files. A file that cannot be read is reported on stderr (named, with the
reason) and the others are still counted. Exit status: 0; 1 when a file could not be read or there was no
pair at all.

Research software, not a diagnostic device.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Case

NAME = "bilsky-agreement"
HELP = ("Bilsky grade agreement: suggested vs final over case files, or reader vs reader over DICOM SRs (files or "
        "a PACS): percent, Cohen's/Fleiss' kappa and the confusion table")
CASE_SUFFIX = ".spinecase.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cases", nargs="*", type=Path, metavar="CASE",
                        help="case files (*.spinecase.json) or folders to search for them: suggested vs final grade")
    parser.add_argument("--sr", action="append", type=Path, default=[], metavar="PATH",
                        help="readers' DICOM SR files, or folders searched for them (repeatable): reader vs reader")
    parser.add_argument("--pacs", metavar="NAME", help="read the SRs of --study/--studies from this PACS")
    parser.add_argument("--study", action="append", default=[], metavar="UID", help="a study on the PACS (repeatable)")
    parser.add_argument("--studies", type=Path, metavar="FILE", help="a file of StudyInstanceUIDs, one per line")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def case_files(paths: list[Path]) -> list[Path]:
    """The case files named, folders expanded to the ``*.spinecase.json`` files under them (sorted)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob(f"*{CASE_SUFFIX}") if q.is_file()))
        else:
            out.append(p)
    return out


def grade_pairs(case: Case) -> tuple[list[tuple[str, str]], int]:
    """``(suggested, final)`` of every finding that has both, and the number of findings left out."""
    pairs: list[tuple[str, str]] = []
    left_out = 0
    for f in case.findings:
        b = f.bilsky
        if b.suggested_grade is not None and b.grade is not None:
            pairs.append((b.suggested_grade, b.grade))
        else:
            left_out += 1
    return pairs, left_out


def run(args: argparse.Namespace) -> int:
    from imaging.case.store import load_case
    from imaging.errors import LoadError
    from imaging.spine.agreement import bilsky_agreement, format_bilsky_agreement

    if args.sr or args.pacs or args.study or args.studies:
        if args.cases:
            print("spinecase bilsky-agreement: give case files, or SRs (--sr / --pacs), not both", file=sys.stderr)
            return 2
        return run_readers(args)
    if not args.cases:
        print("spinecase bilsky-agreement: give case files, --sr PATH or --pacs NAME --study UID", file=sys.stderr)
        return 2
    files = case_files(list(args.cases))
    pairs: list[tuple[str, str]] = []
    left_out = 0
    read, failed = 0, 0
    per_file: list[dict[str, object]] = []
    for path in files:
        try:
            case = load_case(path)
        except LoadError as exc:
            print(f"spinecase bilsky-agreement: {exc}", file=sys.stderr)
            failed += 1
            per_file.append({"file": str(path), "error": str(exc)})
            continue
        read += 1
        found, skipped = grade_pairs(case)
        pairs += found
        left_out += skipped
        per_file.append({"file": str(path), "pairs": len(found), "left_out": skipped})
    if not files:
        print("spinecase bilsky-agreement: no case files found", file=sys.stderr)
        return 1
    head = (f"{read} case file(s) read" + (f", {failed} could not be read" if failed else "")
            + f"; {len(pairs)} finding(s) with both a suggested and a final grade"
            + (f", {left_out} without both left out" if left_out else ""))
    if not pairs:
        if args.json:
            json.dump({"files": per_file, "n": 0}, sys.stdout, indent=2)
            print()
        else:
            print(head)
        print("spinecase bilsky-agreement: no finding has both a suggested and a final Bilsky grade",
              file=sys.stderr)
        return 1
    result = bilsky_agreement(pairs)
    if args.json:
        json.dump({"files": per_file, "n": result.n, "percent_agreement": result.percent_agreement,
                   "kappa": result.kappa, "weighted_kappa_linear": result.weighted_kappa_linear,
                   "grades": list(result.grades), "rows": "suggested", "columns": "final",
                   "confusion": [list(r) for r in result.confusion]}, sys.stdout, indent=2)
        print()
    else:
        print(head)
        print()
        print(format_bilsky_agreement(result, "suggested", "final"))
    return 1 if failed else 0


def sr_files(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Files named, and every file under the folders named (sorted): (files, of which from folders)."""
    named: list[Path] = []
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.is_file() and not q.name.startswith(".")))
        else:
            named.append(p)
    return named + found, found


def _study_uids(args: argparse.Namespace) -> list[str]:
    from imaging.pacs.records import check_uid

    uids = list(args.study)
    if args.studies:
        try:
            text = args.studies.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"{args.studies}: {exc.strerror or exc}") from None
        uids += [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]
    return [check_uid(u, "StudyInstanceUID") for u in dict.fromkeys(uids)]


def run_readers(args: argparse.Namespace) -> int:
    """Reader-vs-reader agreement over SRs (see the module docstring)."""
    from imaging.errors import LoadError
    from imaging.pacs.annotations import SrSummary, grades_by_study, summarize_sr_file
    from imaging.spine.agreement import format_reader_agreement, reader_agreement

    summaries: list[SrSummary] = []
    problems: list[str] = []
    try:
        studies = _study_uids(args)
    except ValueError as exc:
        print(f"spinecase bilsky-agreement: {exc}", file=sys.stderr)
        return 2
    if studies and not args.pacs:
        print("spinecase bilsky-agreement: --study/--studies need --pacs NAME", file=sys.stderr)
        return 2
    if args.pacs:
        if not studies:
            print("spinecase bilsky-agreement: --pacs needs --study UID or --studies FILE", file=sys.stderr)
            return 2
        from imaging.pacs import PacsError, ServerStore, StudyCache, open_client
        from imaging.pacs.annotations import fetch_study_annotations

        try:
            client = open_client(ServerStore().get(args.pacs))
            cache = StudyCache()
            for uid in studies:
                found, trouble = fetch_study_annotations(client, cache, uid)
                summaries += found
                problems += trouble
        except PacsError as exc:
            print(f"spinecase bilsky-agreement: {exc}", file=sys.stderr)
            return 1
    files, from_folders = sr_files(list(args.sr))
    quiet = set(from_folders)
    for f in files:
        try:
            summaries.append(summarize_sr_file(f))
        except LoadError as exc:
            if f not in quiet:  # images and notes beside the SRs in a folder are expected
                problems.append(str(exc))
    for p in problems:
        print(f"spinecase bilsky-agreement: {p}", file=sys.stderr)
    grades = grades_by_study(summaries)
    try:
        result = reader_agreement(grades)
    except ValueError as exc:
        head = f"{len(summaries)} SR(s) read, {len(grades)} stud{'y' if len(grades) == 1 else 'ies'} with a final grade"
        print(head)
        print(f"spinecase bilsky-agreement: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump({
            "srs": len(summaries), "readers": list(result.readers), "studies": result.subjects,
            "studies_graded_by_all": result.subjects_all, "percent_all_agree": result.percent_all_agree,
            "fleiss_kappa": result.fleiss, "missing": result.missing, "grades": grades,
            "pairs": [{"readers": [a, b], "n": r.n, "percent_agreement": r.percent_agreement, "kappa": r.kappa,
                       "weighted_kappa_linear": r.weighted_kappa_linear, "grades": list(r.grades),
                       "confusion": [list(row) for row in r.confusion]} for (a, b), r in result.pairs.items()],
            "problems": problems}, sys.stdout, indent=2)
        print()
    else:
        print(f"{len(summaries)} SR(s) read")
        print(format_reader_agreement(result))
    return 1 if problems else 0
