"""The fast header reader (imaging/dicom/fast_header.py): what it reads is exactly what pydicom reads, and
anything it does not read exactly -- or cannot read at all -- goes back to pydicom (None), never an error."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    generate_uid,
)

from imaging.dicom.fast_header import read_header, read_header_file
from tests.dicom_factory import write_series

ROOT = Path(__file__).resolve().parents[1]


def _same_as_pydicom(path: Path) -> None:
    got = read_header_file(path)
    assert got is not None, f"{path.name} went back to pydicom"
    ds, offset, pixel = got
    ref = pydicom.dcmread(path, stop_before_pixels=True)
    public = {t for t in ref._dict if not t.is_private}
    assert set(ds._dict) == public
    for tag in public:
        assert ds[tag].value == ref[tag].value, (path.name, tag)
    assert str(ds.file_meta.TransferSyntaxUID) == str(ref.file_meta.TransferSyntaxUID)
    with open(path, "rb") as f:
        f.seek(offset)
        head = f.read(12)
    if pixel is None:
        assert "PixelData" not in pydicom.dcmread(path)
    else:
        assert head[:4] == b"\xe0\x7f\x10\x00"
        full = pydicom.dcmread(path)
        kind, header, length = pixel
        assert kind == ("encapsulated" if full.file_meta.TransferSyntaxUID.is_compressed else "native")
        if kind == "native":
            assert length == len(full.PixelData) and header in (8, 12)


def _file(tmp_path: Path, syntax: str = ExplicitVRLittleEndian, name: str = "x.dcm", **extra) -> Path:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = FileDataset(str(tmp_path / name), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID, ds.PatientName = "CT", generate_uid(), "M\u00fcller^J\u00fcrgen"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [1.5, -2, 3], [1, 0, 0, 0, 1, 0]
    ds.Rows = ds.Columns = 4
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    item = Dataset()
    item.ReferencedSOPInstanceUID = generate_uid()
    item.ReferencedSOPClassUID = CTImageStorage
    ds.ReferencedImageSequence = Sequence([item, item])
    ds.add_new(0x00091010, "LO", "GEMS_IDEN_01")  # private elements are skipped
    ds.add_new(0x00091001, "LO", "private value")
    for k, v in extra.items():
        setattr(ds, k, v)
    ds.PixelData = np.arange(16, dtype=np.uint16).tobytes()
    ds["PixelData"].VR = "OW"
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return path


def test_reads_the_sample_cases_and_real_files_exactly() -> None:
    samples = sorted((ROOT / "sample_dicoms").glob("*/*/*.dcm"))[::25]
    assert samples
    for path in samples:
        _same_as_pydicom(path)


def test_explicit_implicit_sequences_and_character_sets(tmp_path: Path) -> None:
    _same_as_pydicom(_file(tmp_path, ExplicitVRLittleEndian, "explicit.dcm"))
    _same_as_pydicom(_file(tmp_path, ImplicitVRLittleEndian, "implicit.dcm"))
    # undefined-length sequences (as many scanners write them), nested one level
    path = _file(tmp_path, ExplicitVRLittleEndian, "undefined.dcm")
    ds = pydicom.dcmread(path)
    inner = Dataset()
    inner.CodeValue, inner.CodingSchemeDesignator, inner.CodeMeaning = "113691", "DCM", "IEC Body Dosimetry Phantom"
    outer = Dataset()
    outer.ConceptNameCodeSequence = Sequence([inner])
    ds.ContentSequence = Sequence([outer])
    for elem in ds.iterall():
        if elem.VR == "SQ":
            elem.is_undefined_length = True
            for it in elem.value:
                it.is_undefined_length_sequence_item = True
    ds.save_as(path)
    _same_as_pydicom(path)
    ds = read_header_file(path)[0]
    assert ds.ContentSequence[0].ConceptNameCodeSequence[0].CodeMeaning == "IEC Body Dosimetry Phantom"
    assert ds.PatientName == "M\u00fcller^J\u00fcrgen"


def test_compressed_files_report_encapsulated_pixel_data(tmp_path: Path) -> None:
    truth = write_series(tmp_path, shape=(1, 64, 64))
    ds = pydicom.dcmread(truth["files"][0])
    ds.compress(JPEG2000Lossless)
    ds.save_as(truth["files"][0])
    _same_as_pydicom(Path(truth["files"][0]))
    assert read_header_file(truth["files"][0])[2][0] == "encapsulated"


def test_what_it_does_not_read_exactly_goes_back_to_pydicom(tmp_path: Path) -> None:
    big_endian = tmp_path / "be.dcm"  # the same bytes, declared big endian: the reader never guesses
    big_endian.write_bytes(_file(tmp_path).read_bytes().replace(ExplicitVRLittleEndian.encode(),
                                                                ExplicitVRBigEndian.encode(), 1))
    assert read_header_file(big_endian) is None
    assert read_header_file(_file(tmp_path, DeflatedExplicitVRLittleEndian, "deflated.dcm")) is None
    no_preamble = tmp_path / "raw.dcm"
    no_preamble.write_bytes(_file(tmp_path).read_bytes()[132:])
    assert read_header_file(no_preamble) is None
    enhanced = Dataset()
    enhanced.PlanePositionSequence = Sequence([Dataset()])
    assert read_header_file(_file(tmp_path, name="enhanced.dcm",
                                  PerFrameFunctionalGroupsSequence=Sequence([enhanced]))) is None
    data = _file(tmp_path).read_bytes()
    pixel_at = data.index(b"\xe0\x7f\x10\x00")
    for cut in (140, 200, pixel_at - 3):  # truncated inside the header
        assert read_header(io.BytesIO(data[:cut]), cut) is None


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom's comments on the damaged values
def test_damaged_bytes_never_raise_and_never_give_a_different_reading(tmp_path: Path) -> None:
    data = bytearray(_file(tmp_path, ExplicitVRLittleEndian, "fuzz.dcm").read_bytes())
    rng = random.Random(14)
    read = 0
    for _ in range(300):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(132, len(damaged))] = rng.randrange(256)
        got = read_header(io.BytesIO(bytes(damaged)), len(damaged))  # must not raise
        if got is None:
            continue
        try:
            ref = pydicom.dcmread(io.BytesIO(bytes(damaged)), stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - pydicom refusing the file is fine: the scan refuses it too
            continue
        read += 1
        ds = got[0]
        assert set(ds._dict) == {t for t in ref._dict if not t.is_private}
        for tag in list(ds._dict):
            mine, theirs = ds._dict[tag], ref._dict[tag]
            if isinstance(mine, RawDataElement) and isinstance(theirs, RawDataElement):
                assert (mine.value or b"") == (theirs.value or b""), tag  # the same bytes
                continue
            try:
                expected = ref[tag].value
            except Exception:  # noqa: BLE001, S112 - a damaged value pydicom cannot convert either
                continue
            assert ds[tag].value == expected, tag
    assert read > 50  # most damage lands in values, which are read as they are
