"""Loading benchmark: scan + load of a 512x512x400 CT series with shuffled file names, and of JPEG 2000
series (a generated 512x512x200 CT and the thoracic sample CT, 256x256x146).

Compares, each in a fresh process and on a warm page cache, SpineCase's `scan_series` + `load_series`
against SimpleITK's ImageSeriesReader (GDCM series file names, then Execute) and a naive pydicom loop
(dcmread every file, sort by position, stack pixel_array * slope + intercept). Prints the median time of
each, the ratios to SimpleITK, and each one's peak memory growth as a multiple of the volume's bytes.
SpineCase decodes JPEG 2000 in worker processes (one per core): its figure includes starting them (a
fresh process), and "spinecase-warm" is a second load in the same process (workers already running).

Targets (issue 14): uncompressed at most 0.45x SimpleITK's time, memory growth at most 1.1x the volume;
JPEG 2000 at least 1.7x faster than SimpleITK (on 2 cores).

    .venv/bin/python benchmarks/bench_load.py [--slices 400] [--repeat 3] [--data DIR] [--skip-j2k]
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
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()
folder = {folder!r}
kind = {kind!r}
import numpy as np
if kind.startswith("spinecase"):
    import imaging
elif kind == "simpleitk":
    import SimpleITK as sitk
else:
    import os, pydicom
if kind == "spinecase-warm":
    imaging.load_series(imaging.scan_series(folder)[0])  # starts the decoder workers
def worker_cpu():
    """CPU seconds of each decoder worker process (SpineCase decodes compressed frames in them)."""
    if not kind.startswith("spinecase"):
        return {{}}
    from imaging.dicom import decode_pool
    out = {{}}
    for w in decode_pool._POOL.workers:
        with open(f"/proc/{{w.process.pid}}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out[w.process.pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out
worker_cpu0 = worker_cpu()
before = rss()
c0 = time.process_time()
t0 = time.perf_counter()
if kind.startswith("spinecase"):
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
cpu = time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
workers = [w - worker_cpu0.get(pid, 0.0) for pid, w in worker_cpu().items()]
print(json.dumps({{"seconds": seconds, "growth_bytes": peak - before, "shape": list(shape), "cpu": cpu,
                  "workers": workers}}), flush=True)
import os
os._exit(0)
'''


def make_series(folder: Path, slices: int, size: int = 512, jpeg2000: bool = False) -> None:
    """Write a CT series (int16 noise over a body-like disc) with shuffled file names, once; ``jpeg2000``:
    JPEG 2000 lossless compressed."""
    stamp = folder.parent / f"{folder.name}.complete-{slices}x{size}{'-j2k' if jpeg2000 else ''}"
    if stamp.exists():
        return
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, JPEG2000Lossless, generate_uid

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
        if jpeg2000:
            ds.compress(JPEG2000Lossless, pixels.astype(np.uint16), encoding_plugin="pylibjpeg")
        pydicom.dcmwrite(folder / names[k], ds, enforce_file_format=True)
    stamp.touch()


def run_once(kind: str, folder: Path) -> dict:
    code = _RUNNER.format(root=str(ROOT), folder=str(folder), kind=kind)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{kind} on {folder} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(folder: Path, kinds: tuple[str, ...], repeat: int, volume_bytes: int) -> dict[str, dict]:
    """Median seconds and peak memory growth (x the volume) of each reader, fresh processes."""
    for f in folder.iterdir():  # warm the page cache so every reader sees the same I/O
        f.read_bytes()
    results: dict[str, dict] = {}
    for _ in range(repeat):  # interleaved, so a busy spell of the machine hits every reader alike
        for kind in kinds:
            r = run_once(kind, folder)
            results.setdefault(kind, []).append(r)
    out = {}
    for kind, runs in results.items():
        out[kind] = {"seconds": statistics.median(r["seconds"] for r in runs),
                     "cpu": statistics.median(r["cpu"] for r in runs),
                     "workers": [statistics.median(ws) for ws in zip(*(r["workers"] for r in runs), strict=False)],
                     "growth": max(r["growth_bytes"] for r in runs) / volume_bytes, "shape": runs[0]["shape"]}
    return out


def print_table(results: dict[str, dict]) -> None:
    ref = results["simpleitk"]["seconds"]
    print(f"  {'reader':14} {'median s':>9} {'x SimpleITK':>12} {'peak growth / volume':>21}   CPU s: process"
          " (+ decoder workers)")
    for kind, r in results.items():
        workers = " + ".join(f"{w:.2f}" for w in r["workers"])
        print(f"  {kind:14} {r['seconds']:9.3f} {r['seconds'] / ref:12.2f} {r['growth']:21.2f}   {r['cpu']:.2f}"
              + (f" (+ {workers})" if workers else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slices", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT / ".bench_data" / "ct_512x512")
    parser.add_argument("--skip-j2k", action="store_true", help="only the uncompressed series")
    args = parser.parse_args()
    print(f"bench_load: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the start")

    t = time.perf_counter()
    make_series(args.data, args.slices)
    print(f"uncompressed: {args.slices} files of 512x512 in {args.data} (ready in {time.perf_counter() - t:.1f} s)")
    results = compare(args.data, ("spinecase", "simpleitk", "pydicom"), args.repeat, args.slices * 512 * 512 * 2)
    print_table(results)
    ours, ref = results["spinecase"], results["simpleitk"]["seconds"]
    print(f"  target time <= 0.45x SimpleITK: {'met' if ours['seconds'] / ref <= 0.45 else 'NOT met'} "
          f"({ours['seconds'] / ref:.2f}x); memory growth <= 1.1x volume: "
          f"{'met' if ours['growth'] <= 1.1 else 'NOT met'} ({ours['growth']:.2f}x)")
    if args.skip_j2k:
        return 0

    j2k = args.data.parent / "j2k_512x512"
    t = time.perf_counter()
    make_series(j2k, 200, jpeg2000=True)
    print(f"\nJPEG 2000 lossless: 200 files of 512x512 in {j2k} (ready in {time.perf_counter() - t:.1f} s)")
    sample = ROOT / "sample_dicoms" / "thoracic_ddlps" / "ct_axial"
    for name, folder, nbytes in (("generated 512x512x200", j2k, 200 * 512 * 512 * 2),
                                 ("thoracic sample CT 256x256x146", sample, 146 * 256 * 256 * 2)):
        results = compare(folder, ("spinecase", "spinecase-warm", "simpleitk"), args.repeat, nbytes)
        print(f" {name}:")
        print_table(results)
        ref = results["simpleitk"]["seconds"]
        speedup, warm = ref / results["spinecase"]["seconds"], ref / results["spinecase-warm"]["seconds"]
        print(f"  target >= 1.7x faster than SimpleITK: {'met' if speedup >= 1.7 else 'NOT met'} ({speedup:.2f}x; "
              f"workers already running: {warm:.2f}x)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end (other work inflates these figures)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
