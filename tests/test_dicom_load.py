"""scan_series / load_series: geometry, ordering, splitting, warnings, junk and real-world files."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

import imaging
from imaging import LoadCancelled, LoadError, load_series, scan_series
from tests.dicom_factory import write_series


def load_only(folder: Path) -> imaging.Volume:
    series = scan_series(folder)
    assert len(series) == 1, [s.description for s in series]
    return load_series(series[0])


def assert_geometry(vol: imaging.Volume, truth: dict) -> None:
    """The loaded affine maps every voxel index to the position the files give it."""
    np.testing.assert_allclose(vol.affine, truth["affine"], atol=1e-4)


# -- geometry ----------------------------------------------------------------------------------------

def test_axial_head_first(tmp_path: Path) -> None:
    truth = write_series(tmp_path, shape=(5, 6, 7), spacing=(0.8, 0.6), slice_gap=1.25)
    vol = load_only(tmp_path)
    assert vol.shape == (5, 6, 7)
    assert vol.array.dtype == np.int16
    np.testing.assert_array_equal(vol.array, truth["values"])
    assert_geometry(vol, truth)
    assert vol.spacing == pytest.approx((0.6, 0.8, 1.25))
    assert vol.warnings == []
    assert vol.modality == "CT" and vol.metadata.rescale_units == "HU"
    # Every slice keeps its SOPInstanceUID, in slice order.
    uids = [pydicom.dcmread(f).SOPInstanceUID for f in truth["files"]]
    assert vol.metadata.sop_instance_uids == uids


def test_axial_feet_first_is_ordered_along_the_normal(tmp_path: Path) -> None:
    """Feet-first: each next instance is lower; the volume still runs along +normal (inferior to superior)."""
    truth = write_series(tmp_path, shape=(6, 4, 4), step=(0, 0, -2.0))
    vol = load_only(tmp_path)
    # Instance 1 is the most superior; along the normal (+S) it is last.
    np.testing.assert_array_equal(vol.array, truth["values"][::-1])
    assert vol.affine[2, 2] == pytest.approx(2.0)
    lowest = truth["affine"][:3, 3] + 5 * np.array([0, 0, -2.0])
    np.testing.assert_allclose(vol.index_to_lps((0, 0, 0)), lowest)


def test_sagittal(tmp_path: Path) -> None:
    # Rows run to posterior, columns to inferior: the usual sagittal acquisition.
    truth = write_series(tmp_path, shape=(5, 6, 7), row_dir=(0, 1, 0), col_dir=(0, 0, -1), slice_gap=3.5)
    vol = load_only(tmp_path)
    normal = np.cross([0, 1, 0], [0, 0, -1])
    np.testing.assert_allclose(vol.normal, normal)
    assert_geometry(vol, truth)
    assert scan_series(tmp_path)[0].orientation_label == "sagittal"


def test_coronal(tmp_path: Path) -> None:
    truth = write_series(tmp_path, shape=(4, 5, 6), row_dir=(1, 0, 0), col_dir=(0, 0, -1))
    vol = load_only(tmp_path)
    assert_geometry(vol, truth)
    assert scan_series(tmp_path)[0].orientation_label == "coronal"


def test_oblique_positions_are_exact(tmp_path: Path) -> None:
    a = np.radians(25)
    row = (np.cos(a), np.sin(a), 0.0)
    col = (0.0, 0.0, -1.0)  # sagittal-ish, rotated 25 degrees about S
    truth = write_series(tmp_path, shape=(4, 5, 6), row_dir=row, col_dir=col, slice_gap=3.0)
    vol = load_only(tmp_path)
    assert_geometry(vol, truth)
    # A voxel's LPS is origin + c*row*colspacing + r*col*rowspacing + k*step.
    c, r, k = 5, 4, 3
    expected = truth["affine"] @ np.array([c, r, k, 1.0])
    np.testing.assert_allclose(vol.index_to_lps((c, r, k)), expected[:3], atol=1e-6)
    np.testing.assert_allclose(vol.lps_to_index(expected[:3]), (c, r, k), atol=1e-6)


def test_shuffled_names_and_reversed_instance_numbers(tmp_path: Path) -> None:
    n = 8
    names = [f"{random.Random(i).random():.8f}.dcm" for i in range(n)]
    truth = write_series(tmp_path, shape=(n, 3, 3), file_names=names, instance_numbers=list(range(n, 0, -1)))
    vol = load_only(tmp_path)
    np.testing.assert_array_equal(vol.array, truth["values"])


def test_gantry_tilt_keeps_sheared_geometry_and_warns(tmp_path: Path) -> None:
    tilt = np.radians(15)
    step = (0.0, 2.0 * np.tan(tilt), 2.0)  # each slice shifts posteriorly as it moves up
    truth = write_series(tmp_path, shape=(6, 4, 4), step=step)
    vol = load_only(tmp_path)
    assert_geometry(vol, truth)
    assert any("tilt" in w and "15.0" in w for w in vol.warnings), vol.warnings


def test_missing_slice_is_filled_and_reported(tmp_path: Path) -> None:
    truth = write_series(tmp_path, shape=(7, 3, 3), drop=(3,))
    vol = load_only(tmp_path)
    assert vol.shape[0] == 7  # the gap keeps its place
    for k in (0, 1, 2, 4, 5, 6):
        np.testing.assert_array_equal(vol.array[k], truth["values"][k])
    assert_geometry(vol, truth)
    assert any("missing slice" in w and "3" in w for w in vol.warnings), vol.warnings
    assert vol.metadata.sop_instance_uids[3] == ""


def test_uneven_spacing_warns(tmp_path: Path) -> None:
    write_series(tmp_path / "a", shape=(3, 3, 3), origin=(0, 0, 0), series_uid="1.2.3.4")
    write_series(tmp_path / "b", shape=(2, 3, 3), origin=(0, 0, 7.3), series_uid="1.2.3.4")
    vol = load_only(tmp_path)
    assert vol.shape[0] == 5
    assert any("uneven slice spacing" in w for w in vol.warnings)
    # Exact per-slice positions are kept even though the affine is approximate.
    assert vol.slice_positions[3][2] == pytest.approx(7.3)


def test_no_pixel_spacing_means_pixels(tmp_path: Path) -> None:
    write_series(tmp_path, shape=(2, 3, 3), pixel_spacing=False)
    vol = load_only(tmp_path)
    assert not vol.pixel_spacing_known
    assert vol.spacing[:2] == (1.0, 1.0)
    assert any("pixels" in w for w in vol.warnings)


def test_float_rescale_gives_float32_and_exact_values(tmp_path: Path) -> None:
    values = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4) * 0.5
    write_series(tmp_path, shape=(2, 3, 4), values=values, rescale=(0.5, 0.0), modality="MR")
    vol = load_only(tmp_path)
    assert vol.array.dtype == np.float32
    np.testing.assert_allclose(vol.array, values)


def test_signed_storage_with_intercept_stays_int16(tmp_path: Path) -> None:
    truth = write_series(tmp_path, shape=(2, 3, 3), unsigned=False, rescale=(1.0, -1024.0))
    vol = load_only(tmp_path)
    assert vol.array.dtype == np.int16
    np.testing.assert_array_equal(vol.array, truth["values"])


def test_values_outside_int16_widen_to_float32(tmp_path: Path) -> None:
    values = np.full((2, 2, 2), 40000.0)
    write_series(tmp_path, shape=(2, 2, 2), values=values, rescale=(1.0, 0.0), modality="MR")
    vol = load_only(tmp_path)
    assert vol.array.dtype == np.float32
    assert vol.array.max() == 40000.0


# -- grouping ----------------------------------------------------------------------------------------

def test_uid_with_two_orientations_is_split(tmp_path: Path) -> None:
    write_series(tmp_path / "ax", shape=(3, 4, 4), series_uid="1.2.826.0.1.1")
    write_series(tmp_path / "sag", shape=(2, 4, 4), series_uid="1.2.826.0.1.1", row_dir=(0, 1, 0), col_dir=(0, 0, -1))
    series = scan_series(tmp_path)
    assert len(series) == 2
    assert {s.series_uid for s in series} == {"1.2.826.0.1.1"}
    assert {s.orientation_label for s in series} == {"axial", "sagittal"}
    assert len({s.key for s in series}) == 2
    assert sorted(load_series(s).shape[0] for s in series) == [2, 3]


def test_uid_with_two_matrix_sizes_is_split(tmp_path: Path) -> None:
    write_series(tmp_path / "a", shape=(2, 4, 4), series_uid="1.2.826.0.1.2")
    write_series(tmp_path / "b", shape=(2, 5, 6), series_uid="1.2.826.0.1.2", origin=(0, 0, 100))
    series = scan_series(tmp_path)
    assert sorted((s.rows, s.columns) for s in series) == [(4, 4), (5, 6)]


def test_several_series_and_metadata(tmp_path: Path) -> None:
    write_series(tmp_path / "ct", shape=(3, 4, 4), description="CT spine")
    write_series(tmp_path / "mr", shape=(2, 4, 4), modality="MR", description="SAG T2", rescale=(1, 0))
    series = scan_series(tmp_path)
    assert {(s.modality, s.description) for s in series} == {("CT", "CT spine"), ("MR", "SAG T2")}
    for s in series:
        assert s.study_uid and s.series_uid and s.files
        assert all(isinstance(f, Path) for f in s.files)
    vol = load_series(next(s for s in series if s.modality == "CT"))
    assert vol.metadata.window_presets[0].center == 40 and vol.metadata.window_presets[0].width == 400


# -- bad input ---------------------------------------------------------------------------------------

def test_junk_is_skipped_with_reasons_and_good_series_still_load(tmp_path: Path) -> None:
    truth = write_series(tmp_path / "good", shape=(3, 4, 4))
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not an image")
    (junk / "empty.dcm").write_bytes(b"")
    (junk / "random.bin").write_bytes(np.random.default_rng(1).bytes(4096))
    good = truth["files"][0].read_bytes()
    (junk / "truncated.dcm").write_bytes(good[: len(good) - 10])
    (junk / "header_cut.dcm").write_bytes(good[:300])
    _write_sr(junk / "report.dcm")

    result = scan_series(tmp_path)
    assert len(result) == 1
    np.testing.assert_array_equal(load_series(result[0]).array, truth["values"])
    reasons = {s.path.name: s.reason for s in result.skipped}
    assert reasons["notes.txt"].startswith("not a DICOM file")
    assert reasons["empty.dcm"] == "zero-byte file"
    assert reasons["random.bin"].startswith("not a DICOM file")
    assert reasons["truncated.dcm"].startswith("truncated")
    assert "truncated" in reasons["header_cut.dcm"] or "not a DICOM" in reasons["header_cut.dcm"]
    assert "structured report" in reasons["report.dcm"]


def test_missing_path_raises_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such file"):
        scan_series(tmp_path / "nope")


def test_file_removed_after_scan_gives_load_error_naming_it(tmp_path: Path) -> None:
    truth = write_series(tmp_path, shape=(1, 3, 3))
    info = scan_series(tmp_path)[0]
    truth["files"][0].unlink()
    with pytest.raises(LoadError) as err:
        load_series(info)
    assert truth["files"][0].name in str(err.value)


def test_cancel_stops_the_load(tmp_path: Path) -> None:
    write_series(tmp_path, shape=(10, 3, 3))
    info = scan_series(tmp_path)[0]
    seen: list[int] = []
    with pytest.raises(LoadCancelled):
        load_series(info, progress=lambda done, total: seen.append(done), cancel=lambda: len(seen) >= 3)
    assert len(seen) == 3


def test_progress_reports_every_frame(tmp_path: Path) -> None:
    write_series(tmp_path, shape=(4, 3, 3))
    calls: list[tuple[int, int]] = []
    load_series(scan_series(tmp_path)[0], progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


# -- encodings and containers ------------------------------------------------------------------------

@pytest.mark.parametrize("syntax", ["RLELossless", "JPEG2000Lossless", "JPEGLSLossless"])
def test_compressed_transfer_syntaxes_round_trip(tmp_path: Path, syntax: str) -> None:
    truth = write_series(tmp_path, shape=(3, 64, 64))
    uid = getattr(pydicom.uid, syntax)
    for f in truth["files"]:
        ds = pydicom.dcmread(f)
        try:
            ds.compress(uid)
        except (RuntimeError, NotImplementedError) as exc:
            pytest.skip(f"no encoder for {syntax} here: {exc}")
        ds.save_as(f)
    info = scan_series(tmp_path)[0]
    assert info.transfer_syntax_uid == uid
    np.testing.assert_array_equal(load_series(info).array, truth["values"])


def test_enhanced_multiframe_uses_functional_groups(tmp_path: Path) -> None:
    n, rows, cols = 4, 5, 6
    positions = [(10.0, 20.0, 30.0 + 2.5 * k) for k in (2, 0, 3, 1)]  # frames stored out of order
    values = np.stack([np.full((rows, cols), 100 * k, np.uint16) for k in (2, 0, 3, 1)])
    path = tmp_path / "enhanced.dcm"
    _write_enhanced(path, values, positions, spacing=(0.9, 0.4))
    vol = load_only(tmp_path)
    assert vol.shape == (n, rows, cols)
    assert [int(vol.array[k, 0, 0]) for k in range(n)] == [0, 100, 200, 300]
    assert vol.spacing == pytest.approx((0.4, 0.9, 2.5))
    np.testing.assert_allclose(vol.index_to_lps((0, 0, 0)), (10, 20, 30))
    assert vol.metadata.frame_numbers == [2, 4, 1, 3]


def test_dicomdir_lists_its_images(tmp_path: Path) -> None:
    from pydicom.fileset import FileSet

    truth = write_series(tmp_path / "src", shape=(3, 4, 4))
    fs = FileSet()
    for f in truth["files"]:
        fs.add(pydicom.dcmread(f))
    fs.write(tmp_path / "media")
    series = scan_series(tmp_path / "media" / "DICOMDIR")
    assert len(series) == 1 and series[0].image_count == 3
    np.testing.assert_array_equal(load_series(series[0]).array, truth["values"])


# -- real files written by other software ------------------------------------------------------------

def _real_dicom_roots() -> list[Path]:
    roots = [Path(pydicom.__file__).parent / "data" / "test_files"]
    try:
        import data_store  # the pydicom-data package

        roots.append(Path(data_store.__file__).parent / "data")
    except ImportError:
        pass
    return roots


def test_every_real_ct_and_mr_file_loads_or_is_refused_cleanly() -> None:
    """pydicom's bundled files and pydicom-data: never a crash, only Volumes or LoadErrors."""
    loaded, refused = 0, 0
    for root in _real_dicom_roots():
        result = scan_series(root)
        for info in result:
            if info.modality not in ("CT", "MR"):
                continue
            try:
                vol = load_series(info)
            except LoadError as exc:
                assert str(exc.path) in str(exc)
                refused += 1
                continue
            assert vol.array.ndim == 3 and vol.array.dtype in (np.int16, np.float32)
            assert np.isfinite(vol.affine).all()
            loaded += 1
        for skipped in result.skipped:
            assert skipped.reason
    assert loaded >= 20
    assert refused <= 2


def test_real_ct_matches_pydicom_values() -> None:
    path = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"
    ds = pydicom.dcmread(path)
    vol = load_series(scan_series(path)[0])
    expected = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    np.testing.assert_array_equal(vol.array[0], expected)
    np.testing.assert_allclose(vol.index_to_lps((0, 0, 0)), [float(v) for v in ds.ImagePositionPatient])


def test_importing_imaging_loads_no_qt() -> None:
    code = ("import sys, pkgutil, importlib, imaging\n"
            "for m in pkgutil.walk_packages(imaging.__path__, 'imaging.'):\n"
            "    if m.name.endswith('__main__'): continue\n"
            "    importlib.import_module(m.name)\n"
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'widgets', 'app'))]\n"
            "print(bad); sys.exit(1 if bad else 0)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, env={**os.environ, "PYTHONPATH": "."})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_widgets_never_import_app() -> None:
    root = Path(__file__).resolve().parent.parent / "widgets"
    offenders = [p.name for p in root.rglob("*.py")
                 if any(line.strip().startswith(("import app", "from app")) for line in p.read_text().splitlines())]
    assert offenders == []


# -- helpers -----------------------------------------------------------------------------------------

def _write_sr(path: Path) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "SR"
    ds.SeriesInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.save_as(path, enforce_file_format=True)


def _write_enhanced(path: Path, values: np.ndarray, positions: list, spacing: tuple[float, float]) -> None:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"  # Enhanced MR
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "MR"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = generate_uid(), generate_uid(), generate_uid()
    ds.NumberOfFrames = len(positions)
    ds.Rows, ds.Columns = values.shape[1:]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    shared = Dataset()
    orient, measures, transform = Dataset(), Dataset(), Dataset()
    orient.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    measures.PixelSpacing = list(spacing)
    measures.SliceThickness = 2.5
    transform.RescaleSlope, transform.RescaleIntercept, transform.RescaleType = 1, 0, "US"
    shared.PlaneOrientationSequence = Sequence([orient])
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PixelValueTransformationSequence = Sequence([transform])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for pos in positions:
        frame, plane = Dataset(), Dataset()
        plane.ImagePositionPatient = list(pos)
        frame.PlanePositionSequence = Sequence([plane])
        per_frame.append(frame)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    ds.PixelData = values.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
