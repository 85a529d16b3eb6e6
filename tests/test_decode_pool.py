"""Parallel decoding in worker processes (imaging/dicom/decode_pool.py) and the progressive first image of
`load_series`: results equal the loading thread's, and a worker that fails in any way -- a LoadError, a
panic-like BaseException, a crash with a signal, a decoder that never returns -- costs only its own frame."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pydicom
import pytest

from imaging import LoadCancelled, LoadError, load_series, scan_series
from imaging.dicom import decode_pool
from imaging.dicom import load as load_module
from tests import decode_pool_helpers as helpers
from tests.dicom_factory import write_series


def _jpeg2000_series(folder: Path, shape: tuple[int, int, int]) -> dict:
    truth = write_series(folder, shape=shape)
    for f in truth["files"]:
        ds = pydicom.dcmread(f)
        ds.compress(pydicom.uid.JPEG2000Lossless)
        ds.save_as(f)
    return truth


def test_workers_decode_a_series_nearest_the_focus_first_and_show_it_early(tmp_path: Path) -> None:
    truth = _jpeg2000_series(tmp_path, (9, 64, 64))
    info = scan_series(tmp_path)[0]
    seen: list[tuple[np.ndarray, np.ndarray, int]] = []

    def first(volume) -> None:  # noqa: ANN001
        loaded = None if volume.loaded_slices is None else volume.loaded_slices.copy()
        seen.append((loaded, volume.array.copy(), volume.pixel_generation))

    vol = load_series(info, on_first=first, focus=lambda: 6)
    np.testing.assert_array_equal(vol.array, truth["values"])
    assert vol.loaded_slices is None and not vol.warnings
    assert len(seen) == 1
    loaded, pixels, generation = seen[0]
    assert loaded is not None and loaded[4:9].all(), "the slices around the focus come first"
    assert not loaded.all() and 0 < generation < vol.pixel_generation
    np.testing.assert_array_equal(pixels[loaded], truth["values"][loaded])
    assert (pixels[~loaded] == np.iinfo(np.int16).min).all(), "slices not loaded yet are black, not garbage"
    assert decode_pool._POOL.workers, "the frames went through worker processes"


def test_an_unreadable_frame_is_skipped_and_the_others_load(tmp_path: Path) -> None:
    truth = _jpeg2000_series(tmp_path, (6, 64, 64))
    bad = pydicom.dcmread(truth["files"][2])
    frame = bytearray(pydicom.encaps.generate_frames(bad.PixelData, number_of_frames=1).__next__())
    frame[20:] = b"\xff" * (len(frame) - 20)
    bad.PixelData = pydicom.encaps.encapsulate([bytes(frame)])
    bad.save_as(truth["files"][2])
    vol = load_series(scan_series(tmp_path)[0])
    assert any("unreadable image" in w and Path(truth["files"][2]).name in w for w in vol.warnings), vol.warnings
    for k in (0, 1, 3, 4, 5):
        np.testing.assert_array_equal(vol.array[k], truth["values"][k])


def test_a_worker_that_crashes_costs_only_its_item() -> None:
    items = list(range(6))
    results = dict(decode_pool.run_in_workers(helpers.double_or_crash, items, (3,), path_of=lambda i: f"/f{i}"))
    assert sorted(results) == items
    assert isinstance(results[3], LoadError) and "crashed (signal SIGSEGV)" in str(results[3])
    assert str(results[3].path) == "/f3"
    assert {i: results[i] for i in items if i != 3} == {i: 2 * i for i in items if i != 3}
    # The pool replaced the worker: the next call works.
    assert dict(decode_pool.run_in_workers(helpers.double_or_crash, [1, 2], (-1,))) == {0: 2, 1: 4}


def test_errors_panics_and_exceptions_in_a_worker_become_load_errors() -> None:
    items = ["ok", "load-error", "panic", "error"]
    results = dict(decode_pool.run_in_workers(helpers.misbehave, items, path_of=lambda _i: "/data/y.dcm"))
    assert results[0] == "OK"
    assert isinstance(results[1], LoadError) and results[1].reason == "cannot decode pixel data (bad marker)"
    assert isinstance(results[2], LoadError) and "BaseException" in results[2].reason
    assert isinstance(results[3], LoadError) and "ValueError" in results[3].reason
    assert str(results[3].path) == "/data/y.dcm"


def test_a_decoder_that_never_returns_is_given_up() -> None:
    results = dict(decode_pool.run_in_workers(helpers.slow, [0], (60.0,), timeout_s=0.5))
    assert isinstance(results[0], LoadError) and "did not finish" in str(results[0])


def test_cancel_stops_at_once_and_the_pool_serves_the_next_load() -> None:
    got: list[int] = []
    t0 = time.monotonic()
    with pytest.raises(LoadCancelled):
        for i, _ in decode_pool.run_in_workers(helpers.slow, list(range(40)), (0.2,), cancel=lambda: len(got) >= 2):
            got.append(i)
    assert time.monotonic() - t0 < 3.0  # 40 items would take 4 s on two workers
    assert dict(decode_pool.run_in_workers(helpers.slow, [5], (0.0,))) == {0: 5}


def test_the_caller_picks_the_order() -> None:
    order = [i for i, _ in decode_pool.run_in_workers(helpers.slow, list(range(5)), (0.0,), workers=1,
                                                      next_index=max)]
    assert order == [4, 3, 2, 1, 0]


def test_without_worker_processes_the_loading_thread_decodes(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    truth = _jpeg2000_series(tmp_path, (5, 64, 64))

    def no_processes(*_a, **_k):  # noqa: ANN002, ANN003
        raise OSError("fork refused")
        yield  # pragma: no cover - a generator, as the real one

    monkeypatch.setattr(decode_pool, "run_in_workers", no_processes)
    np.testing.assert_array_equal(load_series(scan_series(tmp_path)[0]).array, truth["values"])
    assert load_module._MIN_POOLED <= 5


def test_workers_never_run_the_applications_main_script_again(tmp_path: Path) -> None:
    """multiprocessing would have each worker import ``__main__`` again: an unguarded script (a profiler
    run, a tool) would then open windows or start loads in every worker."""
    import subprocess
    import sys

    _jpeg2000_series(tmp_path / "j2k", (6, 64, 64))
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        "print('main ran', flush=True)\n"
        "from imaging import load_series, scan_series\n"
        f"vol = load_series(scan_series({str(tmp_path / 'j2k')!r})[0])\n"
        "from imaging.dicom import decode_pool\n"
        "print('loaded', vol.shape, len(decode_pool._POOL.workers), flush=True)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("main ran") == 1, out.stdout
    assert "loaded (6, 64, 64) 2" in out.stdout or "loaded (6, 64, 64) 1" in out.stdout
