"""Loading benchmark: scan + load of a 512x512x400 CT series with shuffled file names.

Compares, each in a fresh process and on a warm page cache, SpineCase's `scan_series` + `load_series`
against SimpleITK's ImageSeriesReader (GDCM series file names, then Execute) and a naive pydicom loop
(dcmread every file, sort by position, stack pixel_array * slope + intercept). Prints the median time of
each, the ratios to SimpleITK, and each one's peak memory growth as a multiple of the volume's bytes.

Targets (issue 2): SpineCase at most 0.6x SimpleITK's time, memory growth at most 1.3x the volume.

    .venv/bin/python benchmarks/bench_load.py [--slices 400] [--repeat 3] [--data DIR]
"""

from __future__ import annotations

import argparse
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

# Each runner prints JSON {"seconds", "growth_bytes", "shape"} from a fresh interpreter. Memory growth is
# the process's peak resident size (ru_maxrss) minus its resident size just before loading.
_RUNNER = r'''
import json, resource, sys, time
sys.path.insert(0, {root!r})
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()
folder = {folder!r}
kind = {kind!r}
import numpy as np
if kind == "spinecase":
    import imaging
elif kind == "simpleitk":
    import SimpleITK as sitk
else:
    import os, pydicom
before = rss()
t0 = time.perf_counter()
if kind == "spinecase":
    series = imaging.scan_series(folder)
    vol = imaging.load_series(series[0])
    shape = vol.shape
elif kind == "simpleitk":
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(folder))
    img = reader.Execute()
    shape = img.GetSize()[::-1]
else:
    slices = []
    for name in os.listdir(folder):
        ds = pydicom.dcmread(os.path.join(folder, name))
        slices.append((float(ds.ImagePositionPatient[2]),
                       ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)))
    slices.sort(key=lambda s: s[0])
    arr = np.stack([s[1] for s in slices])
    shape = arr.shape
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"seconds": seconds, "growth_bytes": peak - before, "shape": list(shape)}}))
'''


def make_series(folder: Path, slices: int, size: int = 512) -> None:
    """Write a CT series (int16 noise over a body-like disc) with shuffled file names, once."""
    stamp = folder.parent / f"{folder.name}.complete-{slices}x{size}"
    if stamp.exists():
        return
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    body = (xx - size / 2) ** 2 + ((yy - size / 2) * 1.4) ** 2 < (size * 0.42) ** 2
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    names = [f"{random.Random(i).getrandbits(64):016x}" for i in range(slices)]  # shuffled names
    for k in range(slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(names[k], {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.PatientName, ds.PatientID = "CT", "PHANTOM^BENCHMARK", "BENCH-1"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.StudyDate, ds.SeriesDescription, ds.SeriesNumber = "20240101", "bench 512x512x400", 1
        ds.InstanceNumber = slices - k  # reversed, so instance order is wrong too
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-200.0, -200.0, -300.0 + 0.8 * k]
        ds.PixelSpacing, ds.SliceThickness = [0.78125, 0.78125], 0.8
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.WindowCenter, ds.WindowWidth, ds.KVP = 40, 400, 120
        pixels = np.where(body, 1064, 24) + rng.integers(0, 40, (size, size))
        ds.PixelData = pixels.astype(np.uint16).tobytes()
        pydicom.dcmwrite(folder / names[k], ds, enforce_file_format=True)
    stamp.touch()


def run_once(kind: str, folder: Path) -> dict:
    code = _RUNNER.format(root=str(ROOT), folder=str(folder), kind=kind)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slices", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT / ".bench_data" / "ct_512x512")
    args = parser.parse_args()

    t = time.perf_counter()
    make_series(args.data, args.slices)
    print(f"series: {args.slices} files of 512x512 in {args.data} (ready in {time.perf_counter() - t:.1f} s)")
    for f in args.data.iterdir():  # warm the page cache so every reader sees the same I/O
        f.read_bytes()
    volume_bytes = args.slices * 512 * 512 * 2  # int16

    results: dict[str, dict] = {}
    for kind in ("spinecase", "simpleitk", "pydicom"):
        runs = [run_once(kind, args.data) for _ in range(args.repeat)]
        results[kind] = {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "growth": max(r["growth_bytes"] for r in runs) / volume_bytes,
            "shape": runs[0]["shape"],
        }
    ref = results["simpleitk"]["seconds"]
    print(f"{'reader':12} {'median s':>9} {'x SimpleITK':>12} {'peak growth / volume':>21}")
    for kind, r in results.items():
        print(f"{kind:12} {r['seconds']:9.3f} {r['seconds'] / ref:12.2f} {r['growth']:21.2f}")
    ours = results["spinecase"]
    ok_time = ours["seconds"] / ref <= 0.6
    ok_mem = ours["growth"] <= 1.3
    print(f"target time <= 0.6x SimpleITK: {'met' if ok_time else 'NOT met'} ({ours['seconds'] / ref:.2f}x); "
          f"memory growth <= 1.3x volume: {'met' if ok_mem else 'NOT met'} ({ours['growth']:.2f}x)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
