"""Scan benchmark: `scan_series` on a study of 1,067 files in 8 series (issue 14: <= 0.4 ms per file).

The study is generated once into the gitignored .bench_data/ folder, every file a real scanner header (the
GE CT header of pydicom's test file CT_small.dcm: 258 elements, 179 of them private) with its own UIDs,
positions and matrix (512x512 CT, 256x256 MR, axial and sagittal), in one folder with shuffled names.

Each reader runs in a fresh process on a warm page cache: SpineCase's `scan_series` (headers, grouping,
geometry), pydicom reading every header (``dcmread(stop_before_pixels=True)``, the floor of a pydicom
scan) and GDCM's series listing through SimpleITK (``GetGDCMSeriesIDs`` + ``GetGDCMSeriesFileNames``,
a C++ header pass), and the fast header reader (imaging/dicom/fast_header.py) alone and hooked in front of
the scan's parse. Prints the median ms per file and the ratios.

    .venv/bin/python benchmarks/bench_scan.py [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / ".bench_data" / "study_1067"
# (modality, rows = columns, files, orientation) of the 8 series: 1,067 files.
SERIES = [("CT", 512, 300, "axial"), ("CT", 512, 250, "axial"), ("CT", 512, 150, "sagittal"),
          ("MR", 256, 120, "sagittal"), ("MR", 256, 80, "sagittal"), ("MR", 256, 60, "axial"),
          ("MR", 256, 60, "axial"), ("MR", 256, 47, "axial")]
TARGET_MS = 0.4

_RUNNER = r'''
import json, os, sys, time
sys.path.insert(0, {root!r})
folder, kind = {folder!r}, {kind!r}
if kind.startswith("spinecase"):
    from imaging import scan_series
if kind == "spinecase-fast":
    # Prototype hook until the scan's guard layer lands (issue 14): the fast reader first, pydicom otherwise.
    import inspect
    from imaging.dicom import fast_header, scan
    full_parse = scan._parse_header
    takes_size = len(inspect.signature(full_parse).parameters) == 3
    def _parse_header(fp, path, size=None):
        size = size if size is not None else os.fstat(fp.fileno()).st_size
        got = fast_header.read_header(fp, size)
        if got is not None:
            return got
        fp.seek(0)
        return full_parse(fp, path, size) if takes_size else full_parse(fp, path)
    scan._parse_header = _parse_header
elif kind == "fast-header":
    from imaging.dicom.fast_header import read_header_file
elif kind == "pydicom":
    import pydicom
else:
    import SimpleITK as sitk
t0 = time.perf_counter()
c0 = time.process_time()
if kind.startswith("spinecase"):
    n = len(scan_series(folder))
elif kind == "fast-header":
    n = sum(read_header_file(os.path.join(folder, name)) is not None for name in os.listdir(folder))
elif kind == "pydicom":
    for name in os.listdir(folder):
        pydicom.dcmread(os.path.join(folder, name), stop_before_pixels=True)
    n = 0
else:
    ids = sitk.ImageSeriesReader.GetGDCMSeriesIDs(folder)
    n = sum(len(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder, i)) > 0 for i in ids)
print(json.dumps({{"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "series": n}}))
'''


def make_study(folder: Path = STUDY) -> int:
    """Write the study once; returns the number of files."""
    total = sum(n for _, _, n, _ in SERIES)
    stamp = folder.parent / f"{folder.name}.complete-{total}"
    if stamp.exists():
        return total
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import MRImageStorage, generate_uid

    template = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    del template.PixelData
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()
    rng = random.Random(0)
    study, frame = generate_uid(), generate_uid()
    for number, (modality, size, count, orientation) in enumerate(SERIES, start=1):
        series = generate_uid()
        iop = [1, 0, 0, 0, 1, 0] if orientation == "axial" else [0, 1, 0, 0, 0, -1]
        pixels = np.zeros((size, size), np.int16).tobytes()
        for k in range(count):
            ds = copy.deepcopy(template)
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            if modality == "MR":
                ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
            ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, number, k + 1
            ds.SeriesDescription = f"{modality} {orientation} {number}"
            ds.ImageOrientationPatient = iop
            ds.ImagePositionPatient = ([-200.0, -200.0, -300.0 + 1.25 * k] if orientation == "axial"
                                       else [-40.0 + 3.3 * k, -200.0, 200.0])
            ds.Rows = ds.Columns = size
            ds.PixelSpacing = [400 / size, 400 / size]
            ds.PixelData = pixels
            ds["PixelData"].VR = "OW"
            ds.save_as(folder / f"{rng.getrandbits(64):016x}", enforce_file_format=True)
    stamp.touch()
    return total


def run_once(kind: str, folder: Path) -> dict:
    code = _RUNNER.format(root=str(ROOT), folder=str(folder), kind=kind)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def profile(folder: Path) -> None:
    """Where `scan_series` spends its time (cProfile, CPU clock), top 30 by own time."""
    import cProfile
    import pstats

    sys.path.insert(0, str(ROOT))
    from imaging import scan_series

    prof = cProfile.Profile(time.process_time)
    prof.enable()
    scan_series(folder)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also profile scan_series in this process")
    args = parser.parse_args()
    t = time.perf_counter()
    n_files = make_study()
    print(f"bench_scan: {n_files} files in {len(SERIES)} series in {STUDY} (ready in {time.perf_counter() - t:.1f} s); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for f in STUDY.iterdir():
        f.read_bytes()
    runs: dict[str, list[dict]] = {}
    for _ in range(args.repeat):
        for kind in ("spinecase", "spinecase-fast", "fast-header", "pydicom", "gdcm"):
            runs.setdefault(kind, []).append(run_once(kind, STUDY))
    ref = statistics.median(r["cpu"] for r in runs["pydicom"])
    print(f"  {'reader':28} {'ms/file wall':>12} {'ms/file CPU':>12} {'CPU x pydicom':>14}")
    names = {"spinecase": "spinecase scan_series", "spinecase-fast": "scan_series + fast reader",
             "fast-header": "fast header reader alone", "pydicom": "pydicom headers only",
             "gdcm": "GDCM series listing"}
    for kind, rs in runs.items():
        wall = 1000 * statistics.median(r["seconds"] for r in rs) / n_files
        cpu = 1000 * statistics.median(r["cpu"] for r in rs) / n_files
        print(f"  {names[kind]:28} {wall:12.3f} {cpu:12.3f} {cpu / (1000 * ref / n_files):14.2f}")
    for kind in ("spinecase", "spinecase-fast"):
        ours = 1000 * statistics.median(r["cpu"] for r in runs[kind]) / n_files
        print(f"  {names[kind]}: target <= {TARGET_MS} ms per file (CPU): "
              f"{'met' if ours <= TARGET_MS else 'NOT met'} ({ours:.3f})")
    print("  (scan_series + fast reader: the benchmark hooks imaging/dicom/fast_header.py in front of the scan's "
          "pydicom parse, as the scan will once its guard layer has landed)")
    if args.profile:
        profile(STUDY)
    return 0


if __name__ == "__main__":
    sys.exit(main())
