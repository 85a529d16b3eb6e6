"""PACS retrieval benchmark: pull of the thoracic sample CT (146 JPEG 2000 images, 15 MB) from a local
Orthanc into an empty cache, over DICOMweb (WADO-RS), DIMSE C-GET and DIMSE C-MOVE, on loopback.

Starts its own Orthanc (Debian's, with the DICOMweb plugin) in a temporary folder on 127.0.0.1, uploads the
series, then times ``pull_study`` (series and instance listing, retrieval, checking each instance, writing
the files, verifying the set, committing the series) ``--repeat`` times per protocol into a fresh cache
each time, and prints the median and the range of the wall-clock time and the median CPU time of this
process (the machine may be shared: the CPU time shows what the client itself costs). Also shows what
the socket tuning in :mod:`imaging.pacs.dimse` is worth: C-GET with pynetdicom's stock sockets.

Targets (issue 16): DICOMweb under 1 s, C-GET/C-MOVE under 10 s.

    .venv/bin/python benchmarks/bench_pacs.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imaging.pacs import ServerConfig, StudyCache, open_client, pull_study  # noqa: E402
from tests.pacs_servers import OrthancServer, free_port, orthanc_missing  # noqa: E402

STUDY = "2.25.241667685825153770813877347509863580712"
SERIES_FOLDER = ROOT / "sample_dicoms" / "thoracic_ddlps" / "ct_axial"


def time_pull(server: ServerConfig, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock seconds and this process's CPU seconds (all threads) of each pull."""
    times, cpu = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache_dir:
            client = open_client(server)
            start, start_cpu = time.perf_counter(), time.process_time()
            result = pull_study(client, StudyCache(cache_dir), STUDY)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            assert result.ok and result.series[0].manifest is not None and result.series[0].manifest.count == 146
    return times, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    why = orthanc_missing()
    if why:
        print(f"bench_pacs: skipped: {why}")
        return 0
    move_port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        orthanc = OrthancServer(Path(folder), "bench", modalities={"me": ("SPINECASE", move_port)}).start()
        try:
            orthanc.upload(sorted(SERIES_FOLDER.glob("*.dcm")))
            base = dict(name="bench", url=orthanc.dicomweb_url, host="127.0.0.1", port=orthanc.dicom_port,
                        called_aet=orthanc.aet, calling_aet="SPINECASE", move_port=move_port, move_bind="127.0.0.1")
            runs = {
                "DICOMweb (WADO-RS)": ServerConfig(**base, prefer="dicomweb"),
                "DIMSE C-GET": ServerConfig(**base, prefer="dimse", retrieve="c-get"),
                "DIMSE C-MOVE": ServerConfig(**base, prefer="dimse", retrieve="c-move"),
            }
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
            print(f"Pull of the thoracic CT (146 images, JPEG 2000) from Orthanc on loopback, {args.repeat} runs "
                  f"({os.cpu_count()} cores, load average {load:.1f} at the start)")
            print(f"{'protocol':<30}{'median':>8}{'min':>8}{'max':>8}{'client CPU':>12}   target")
            targets = {"DICOMweb (WADO-RS)": "< 1 s"}
            for label, server in runs.items():
                t, cpu = time_pull(server, args.repeat)
                print(f"{label:<30}{statistics.median(t):>7.2f}s{min(t):>7.2f}s{max(t):>7.2f}s"
                      f"{statistics.median(cpu):>11.2f}s   {targets.get(label, '< 10 s')}")
            from imaging.pacs import dimse

            tuned = dimse._tune_socket  # noqa: SLF001 - measured against pynetdicom's stock sockets
            dimse._tune_socket = lambda event: None  # noqa: SLF001
            try:
                t, cpu = time_pull(runs["DIMSE C-GET"], 1)
                print(f"{'DIMSE C-GET, stock sockets':<30}{t[0]:>7.2f}s{'':>16}{cpu[0]:>11.2f}s   "
                      "(no TCP_NODELAY/QUICKACK)")
            finally:
                dimse._tune_socket = tuned  # noqa: SLF001
        finally:
            orthanc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
