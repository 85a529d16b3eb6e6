"""``python -m tools.phantom OUT [--case NAME ...]``: write the sample cases (DICOM, report, truth)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tools.phantom.cases import CASE_NAMES, write_case


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.phantom",
                                description="Write SpineCase's synthetic sample spine studies (no patient data).")
    p.add_argument("out", type=Path, help="output folder (one sub-folder per case)")
    p.add_argument("--case", action="append", choices=CASE_NAMES, help="case to write (repeatable; default: all)")
    args = p.parse_args(argv)
    for name in args.case or CASE_NAMES:
        t0 = time.perf_counter()
        out = write_case(name, args.out)
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        print(f"{name}: {out} ({size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
