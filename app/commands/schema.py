"""`spinecase schema [-o FILE]`: print the JSON Schema of ``*.spinecase.json`` (docs/spinecase.schema.json)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "schema"
HELP = "print the JSON Schema of the case file (*.spinecase.json)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of printing")


def run(args: argparse.Namespace) -> int:
    from imaging.case.schema import case_json_schema_text

    text = case_json_schema_text()
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"spinecase schema: {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
