"""`spinecase info PATH [--json]`: the series found (modality, description, size, spacing, warnings) and
the files skipped, with reasons. Reads headers only: size, spacing and geometry warnings come from the
headers the scan read (`imaging.dicom.load.describe_series`); ``--decode`` also decodes every image, to
report the ones that cannot be read."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

NAME = "info"
HELP = "list the DICOM series under a folder or file, with size, spacing, warnings and skipped files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="folder, file(s) or DICOMDIR")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--headers-only", action="store_true",
                        help="list the series only (no size, spacing or geometry warnings)")
    parser.add_argument("--decode", action="store_true",
                        help="also decode every image, to report the unreadable ones (slower)")


def run(args: argparse.Namespace) -> int:
    from imaging import LoadError, load_series, scan_series
    from imaging.dicom.load import describe_series, missing_slices_warning
    from imaging.protocols import classify_all

    try:
        result = scan_series(args.paths)
    except LoadError as exc:
        print(f"spinecase info: {exc}", file=sys.stderr)
        return 1
    classes = classify_all(result)
    series = []
    for info in result:
        kind = classes[info.key]
        entry = {
            "series_uid": info.series_uid,
            "part": info.part,
            "study_uid": info.study_uid,
            "patient_id": info.patient_id,
            "study_date": info.study_date,
            "modality": info.modality,
            "description": info.description,
            "orientation": info.orientation_label,
            "images": info.image_count,
            "rows": info.rows,
            "columns": info.columns,
            "pixel_spacing_mm": list(info.pixel_spacing) if info.pixel_spacing else None,
            "transfer_syntax_uid": info.transfer_syntax_uid,
            "folder": str(Path(info.files[0]).parent) if info.files else "",
            # what the hanging protocols see (imaging/protocols/classify.py)
            "plane": kind.plane,
            "weighting": kind.weighting,
            "contrast": kind.contrast,
            "role": kind.role,
            "classification": kind.as_json(),
        }
        if args.decode:
            try:
                vol = load_series(info)
                entry["size"] = list(reversed(vol.shape))  # columns, rows, slices
                entry["spacing_mm" if vol.pixel_spacing_known else "spacing_px"] = [round(v, 6) for v in vol.spacing]
                entry["warnings"] = vol.warnings
            except LoadError as exc:
                entry["error"] = str(exc)
        elif not args.headers_only:
            try:
                layout = describe_series(info)  # no pixel is read
                spacing = np.linalg.norm(layout.affine[:3, :3], axis=0)
                entry["size"] = list(reversed(layout.shape))  # columns, rows, slices
                entry["spacing_mm" if layout.spacing_known else "spacing_px"] = [round(float(v), 6) for v in spacing]
                missing = missing_slices_warning(layout)
                entry["warnings"] = layout.warnings + ([missing] if missing else [])
            except LoadError as exc:
                entry["error"] = str(exc)
        series.append(entry)
    skipped = [{"path": str(s.path), "reason": s.reason} for s in result.skipped]

    if args.json:
        json.dump({"series": series, "skipped": skipped}, sys.stdout, indent=2)
        print()
        return 0
    print(f"{len(series)} series, {len(skipped)} skipped file(s)")
    for info, e in zip(result, series, strict=True):
        size = "x".join(str(v) for v in e.get("size", [e["columns"], e["rows"], e["images"]]))
        spacing = e.get("spacing_mm") or e.get("spacing_px")
        unit = "mm" if "spacing_mm" in e else "px"
        spacing_text = " x ".join(f"{v:.3g}" for v in spacing) + f" {unit}" if spacing else "spacing not loaded"
        print(f"  {e['modality']:3} {e['orientation']:8} {size:>13}  {spacing_text:24} {e['description']}"
              f"  [{classes[info.key].label()}]")
        part = f" (part {e['part'] + 1})" if e["part"] else ""
        print(f"      {e['series_uid']}{part}  {e['folder']}")
        for w in e.get("warnings", []):
            print(f"      warning: {w}")
        if "error" in e:
            print(f"      error: {e['error']}")
    for s in skipped:
        print(f"  skipped {s['path']}: {s['reason']}")
    return 0
