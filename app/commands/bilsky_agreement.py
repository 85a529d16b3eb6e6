"""`spinecase bilsky-agreement CASES... [--json]`: agreement between the Bilsky grades the contour assistant
suggested and the readers' final grades, over case files.

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
HELP = ("agreement between suggested and final Bilsky grades over case files: percent, Cohen's kappa and the "
        "confusion table")
CASE_SUFFIX = ".spinecase.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cases", nargs="+", type=Path, metavar="CASE",
                        help="case files (*.spinecase.json) or folders to search for them")
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
