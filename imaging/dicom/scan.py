"""`scan_series`: find the image series in a folder, a file list, or a DICOMDIR, reading headers only.

Every file is opened once; its header is parsed up to (not including) the pixel data, and what the loader
needs later (geometry, rescale, the byte offset of native pixel data) is kept in a `FrameRef`, so the load
never parses a header again. Files that cannot be used are reported in ``ScanResult.skipped`` with a
reason, never raised.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pydicom
import pydicom.sequence
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from imaging.dicom.series import FrameRef, ScanResult, SeriesInfo, SkippedFile
from imaging.errors import LoadError

# Transfer syntaxes whose pixel bytes we read straight from the file (little endian, not encapsulated).
NATIVE_LITTLE_ENDIAN = {
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
}
IMPLICIT_VR = "1.2.840.10008.1.2"

# SOP classes that never carry an image, named for the skip reason.
_NON_IMAGE_KINDS = {
    "1.2.840.10008.5.1.4.1.1.88": "structured report (SR)",
    "1.2.840.10008.5.1.4.1.1.481.3": "RT structure set (RTSTRUCT)",
    "1.2.840.10008.5.1.4.1.1.481.5": "RT plan",
    "1.2.840.10008.5.1.4.1.1.481.2": "RT dose",
    "1.2.840.10008.5.1.4.1.1.11": "presentation state",
    "1.2.840.10008.5.1.4.1.1.66": "raw data / registration / segmentation-free object",
    "1.2.840.10008.5.1.4.1.1.104": "encapsulated document (PDF/CDA)",
    "1.2.840.10008.1.3.10": "DICOMDIR (media directory)",
    "1.2.840.10008.5.1.4.1.1.88.59": "key object selection (KO)",
}
_PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"  # (7FE0,0010) little endian
_PIXEL_DATA_TAG_BE = b"\x7f\xe0\x00\x10"  # (7FE0,0010) big endian
_FLOAT_PIXEL_TAGS = (b"\xe0\x7f\x08\x00", b"\xe0\x7f\x09\x00")  # Float / Double Float Pixel Data
DEFLATED = "1.2.840.10008.1.2.1.99"

_HEADER_FIELDS = (
    "PatientID", "PatientName", "PatientSex", "PatientAge", "PatientBirthDate",
    "StudyInstanceUID", "StudyDate", "StudyTime", "StudyDescription", "AccessionNumber",
    "SeriesInstanceUID", "SeriesNumber", "SeriesDescription", "SeriesDate", "Modality",
    "FrameOfReferenceUID", "SOPClassUID", "Manufacturer", "BodyPartExamined", "ProtocolName",
    "SliceThickness", "SpacingBetweenSlices", "PhotometricInterpretation", "BitsAllocated", "BitsStored",
    "PixelRepresentation", "SamplesPerPixel", "Rows", "Columns", "WindowCenter", "WindowWidth",
    "WindowCenterWidthExplanation", "RescaleType", "EchoTime", "RepetitionTime", "InversionTime",
    "GantryDetectorTilt", "ImageType", "NumberOfFrames", "PixelSpacing", "ImagerPixelSpacing",
    # what the series classifier reads (imaging/protocols/classify.py)
    "SequenceName", "ScanningSequence", "SequenceVariant", "ScanOptions", "MRAcquisitionType", "PulseSequenceName",
    "AcquisitionContrast", "DiffusionBValue", "FlipAngle", "ContrastBolusAgent", "ContrastBolusRoute",
    "ConvolutionKernel",
)


class _FastHeader:
    """Reads attribute values straight from pydicom's raw (unconverted) elements.

    pydicom converts values lazily and that conversion dominates a header-only scan; for the plain text and
    binary VRs a scan needs, decoding the bytes here is exact and several times faster. Anything else (a
    sequence, a non-ASCII string that needs the character set, big endian) goes through pydicom.
    """

    _TEXT = {"UI", "CS", "DS", "IS", "LO", "SH", "DA", "TM", "AS", "LT", "ST", "PN", "DT"}
    _BINARY = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d"}

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.little = ds.is_little_endian is not False

    def get(self, keyword: str, default: object = None) -> object:
        tag = _tag(keyword)
        raw = self.ds._dict.get(tag)
        if raw is None:
            return default
        if not isinstance(raw, RawDataElement) or not self.little:
            return _plain_value(self.ds.get(keyword, default))
        vr = raw.VR or _vr(keyword)
        data = raw.value
        if data is None or len(data) == 0:
            return default
        if vr in self._TEXT:
            if not data.isascii():
                return _plain_value(self.ds.get(keyword, default))
            text = data.decode("ascii").rstrip("\x00 ")
            parts = [p.strip() for p in text.split("\\")] if vr not in ("LT", "ST") else [text]
            try:
                if vr == "DS":
                    vals: list = [float(p) for p in parts]
                elif vr == "IS":
                    vals = [int(float(p)) for p in parts]
                else:
                    vals = parts
            except ValueError:
                return _plain_value(self.ds.get(keyword, default))
            return vals[0] if len(vals) == 1 else vals
        fmt = self._BINARY.get(vr)
        if fmt is not None:
            n = len(data) // struct.calcsize(fmt)
            vals = list(struct.unpack(f"<{n}{fmt}", data[: n * struct.calcsize(fmt)]))
            return vals[0] if n == 1 else vals
        return _plain_value(self.ds.get(keyword, default))

    def __contains__(self, keyword: str) -> bool:
        return _tag(keyword) in self.ds._dict


_TAG_CACHE: dict[str, int] = {}
_VR_CACHE: dict[str, str] = {}


def _tag(keyword: str) -> int:
    tag = _TAG_CACHE.get(keyword)
    if tag is None:
        tag = _TAG_CACHE[keyword] = int(tag_for_keyword(keyword))  # type: ignore[arg-type]
    return tag


def _vr(keyword: str) -> str:
    vr = _VR_CACHE.get(keyword)
    if vr is None:
        vr = _VR_CACHE[keyword] = dictionary_VR(_tag(keyword))
    return vr


def scan_series(path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
                progress: Callable[[int, int], None] | None = None) -> ScanResult:
    """Find the image series under ``path`` (a folder, searched recursively; a file; a DICOMDIR; or a list
    of any of these). Reads headers only.

    Image instances are grouped by SeriesInstanceUID; a UID holding several orientations, matrix sizes or
    repeated positions (echoes, phases) is split into parts. Files that are not usable images are listed
    in ``result.skipped`` with a reason (not DICOM, zero-byte, truncated, no pixel data, unsupported).

    Raises `LoadError` only when ``path`` itself does not exist.
    """
    roots = [path] if isinstance(path, str | os.PathLike) else list(path)
    files: list[Path] = []
    skipped: list[SkippedFile] = []
    for root in roots:
        p = Path(root)
        if not p.exists():
            raise LoadError("no such file or folder", p)
        files.extend(_expand(p, skipped))

    groups: dict[tuple, list[tuple[FrameRef, dict]]] = defaultdict(list)
    seen: set[Path] = set()
    for i, f in enumerate(files):
        if progress:
            progress(i, len(files))
        if f in seen:
            continue
        seen.add(f)
        try:
            frames, header = _read_file(f)
        except LoadError as exc:
            skipped.append(SkippedFile(f, exc.reason))
            continue
        for fr in frames:
            key = (
                header["SeriesInstanceUID"],
                header["Rows"],
                header["Columns"],
                _orientation_key(fr.orientation),
            )
            groups[key].append((fr, header))
    if progress:
        progress(len(files), len(files))

    by_uid: dict[str, list[SeriesInfo]] = defaultdict(list)
    for key, members in groups.items():
        members = _drop_copies(members, skipped)
        for part_members in _split_repeats(members):
            by_uid[key[0]].append(_make_series(part_members))
    series: list[SeriesInfo] = []
    for uid, parts in by_uid.items():
        parts.sort(key=lambda s: -s.image_count)
        for k, s in enumerate(parts):
            s.part = k
            if len(parts) > 1:
                s.description = f"{s.description} [part {k + 1} of {len(parts)}: {s.orientation_label}, " \
                                f"{s.columns}x{s.rows}, {s.image_count} images]"
        series.extend(parts)
        del uid
    series.sort(key=lambda s: (s.patient_id, s.study_date, s.study_uid,
                               s.series_number if s.series_number is not None else 1 << 30, s.series_uid, s.part))
    return ScanResult(series, skipped)


# -- files --------------------------------------------------------------------------------------------

def _expand(p: Path, skipped: list[SkippedFile]) -> Iterator[Path]:
    """The candidate files under ``p``; a DICOMDIR contributes the image files it references."""
    if p.is_dir():
        for dirpath, dirnames, filenames in os.walk(p):
            dirnames.sort()
            for name in sorted(filenames):
                f = Path(dirpath) / name
                if name.upper() == "DICOMDIR":
                    # The folder walk reaches the referenced files itself.
                    skipped.append(SkippedFile(f, "DICOMDIR index (its images are read directly)"))
                    continue
                yield f
    elif p.name.upper() == "DICOMDIR":
        yield from _dicomdir_files(p, skipped)
    else:
        yield p


def _dicomdir_files(path: Path, skipped: list[SkippedFile]) -> Iterator[Path]:
    try:
        ds = pydicom.dcmread(path)
        records = ds.DirectoryRecordSequence
    except Exception as exc:  # noqa: BLE001 - any parse failure is a reason to report
        skipped.append(SkippedFile(path, f"unreadable DICOMDIR ({exc})"))
        return
    for rec in records:
        file_id = rec.get("ReferencedFileID")
        if not file_id:
            continue
        parts = [file_id] if isinstance(file_id, str) else list(file_id)
        yield path.parent.joinpath(*parts)


def _read_file(path: Path) -> tuple[list[FrameRef], dict]:
    """Parse one file's header. Returns its frames and plain header values, or raises `LoadError`."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"cannot read ({exc.strerror})", path) from exc
    if size == 0:
        raise LoadError("zero-byte file", path)
    with warnings.catch_warnings():
        # pydicom warns about malformed values, also lazily while we read them; the skip reason says enough.
        warnings.simplefilter("ignore")
        return _read_file_quiet(path, size)


def _read_file_quiet(path: Path, size: int) -> tuple[list[FrameRef], dict]:
    try:
        with open(path, "rb") as fp:
            ds, pixel_offset, pixel_header = _parse_header(fp, path)
    except LoadError:
        raise
    except OSError as exc:
        raise LoadError(f"cannot read ({exc.strerror})", path) from exc

    fast = _FastHeader(ds)
    sop_class = str(fast.get("SOPClassUID", "") or "")
    for prefix, kind in _NON_IMAGE_KINDS.items():
        if sop_class.startswith(prefix):
            raise LoadError(f"no pixel data: {kind}", path)
    if pixel_header is None:
        name = UID(sop_class).name if sop_class else "unknown SOP class"
        raise LoadError(f"no pixel data ({name})", path)
    if "Rows" not in fast or "Columns" not in fast:
        raise LoadError("missing Rows/Columns (0028,0010/0011)", path)

    samples = int(fast.get("SamplesPerPixel", 1) or 1)
    photometric = str(fast.get("PhotometricInterpretation", "MONOCHROME2")).strip()
    if samples != 1 or not photometric.startswith("MONOCHROME"):
        raise LoadError(f"unsupported: colour image (PhotometricInterpretation {photometric}); "
                        "SpineCase reads greyscale CT and MR", path)
    bits = int(fast.get("BitsAllocated", 16) or 16)
    if bits not in (8, 16, 32):
        raise LoadError(f"unsupported: BitsAllocated {bits} (0028,0100)", path)

    header = _plain_header(fast)
    if not header.get("SeriesInstanceUID"):
        # Without a SeriesInstanceUID (0020,000E) an image cannot be grouped: it becomes its own series.
        header["SeriesInstanceUID"] = f"(no SeriesInstanceUID) {path}"
        header["_warning"] = "the file has no SeriesInstanceUID (0020,000E): shown as its own series"
    tsyntax = _transfer_syntax(ds)
    header["TransferSyntaxUID"] = tsyntax
    n_frames = int(header.get("NumberOfFrames") or 1)
    rows, cols = int(header["Rows"]), int(header["Columns"])
    frame_bytes = rows * cols * (bits // 8)

    native = tsyntax in NATIVE_LITTLE_ENDIAN and pixel_header[0] == "native"
    data_offset: int | None = None
    if native:
        data_offset = pixel_offset + pixel_header[1]
        length = pixel_header[2]
        needed = frame_bytes * n_frames
        if length < needed or size < data_offset + needed:
            raise LoadError(f"truncated: pixel data holds {min(length, size - data_offset)} bytes of "
                            f"the {needed} that {n_frames} frame(s) of {cols}x{rows}x{bits} bit need", path)
    elif pixel_header[0] == "native" and pixel_header[2] != 0xFFFFFFFF and size < pixel_offset + pixel_header[2]:
        raise LoadError("truncated: file ends inside the pixel data", path)
    else:
        if tsyntax not in NATIVE_LITTLE_ENDIAN:
            _check_decoder(tsyntax, path)

    frames = _frames(ds, fast, path, n_frames, data_offset, frame_bytes)
    return frames, header


def _parse_header(fp, path: Path) -> tuple[Dataset, int, tuple[str, int, int] | None]:
    """Read the header up to the pixel data. Returns (dataset, pixel element offset, pixel element info).

    Pixel element info is ("native"|"encapsulated", header length, value length) or None when the file
    has no (7FE0,0010) element.
    """
    try:
        try:
            ds = pydicom.dcmread(fp, stop_before_pixels=True)
        except InvalidDicomError:
            # No preamble/'DICM': accept only if a forced read yields an image header.
            fp.seek(0)
            ds = pydicom.dcmread(fp, stop_before_pixels=True, force=True)
            if "SOPClassUID" not in ds and "Rows" not in ds:
                raise LoadError("not a DICOM file", path) from None
    except LoadError:
        raise
    except (EOFError, struct.error) as exc:
        raise LoadError(f"truncated: file ends inside the header ({exc})", path) from exc
    except Exception as exc:  # noqa: BLE001 - pydicom raises many kinds for garbage
        raise LoadError(f"not a DICOM file ({type(exc).__name__}: {exc})", path) from exc

    # A forced read of random bytes can "succeed" with nonsense; demand the identifying attributes.
    if not any(k in ds for k in ("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "Rows")):
        raise LoadError("not a DICOM file (no DICOM identifiers in the header)", path)

    tsyntax = _transfer_syntax(ds)
    if tsyntax == DEFLATED:
        # The header was read through a decompressor, so file offsets mean nothing: check for pixel data
        # by a full read (deflated images are rare and small); pydicom decodes them at load.
        fp.seek(0)
        try:
            full = pydicom.dcmread(fp)
        except Exception as exc:  # noqa: BLE001
            raise LoadError(f"cannot inflate deflated dataset ({exc})", path) from exc
        return ds, 0, (("other", 0, 0) if "PixelData" in full else None)
    offset = fp.tell()
    head = fp.read(12)
    if len(head) >= 4 and head[:4] == _PIXEL_DATA_TAG_BE:
        return ds, offset, ("other", 0, 0)  # big endian: pydicom swaps bytes at load
    if len(head) >= 4 and head[:4] in _FLOAT_PIXEL_TAGS:
        raise LoadError("unsupported: float pixel data (7FE0,0008/0009)", path)
    if len(head) < 8 or head[:4] != _PIXEL_DATA_TAG:
        return ds, offset, None
    if tsyntax == IMPLICIT_VR:
        (length,) = struct.unpack("<I", head[4:8])
        return ds, offset, ("native", 8, length)
    if len(head) < 12:
        raise LoadError("truncated: file ends inside the pixel data element header", path)
    (length,) = struct.unpack("<I", head[8:12])
    kind = "encapsulated" if length == 0xFFFFFFFF else "native"
    return ds, offset, (kind, 12, length)


def _transfer_syntax(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID"):
        return str(meta.TransferSyntaxUID)
    # No meta header: pydicom guessed the encoding while reading.
    if not ds.is_little_endian:
        return "1.2.840.10008.1.2.2"
    return "1.2.840.10008.1.2.1" if not ds.is_implicit_VR else IMPLICIT_VR


def _check_decoder(tsyntax: str, path: Path) -> None:
    """Refuse at scan time a transfer syntax no installed decoder handles (named in the reason)."""
    from pydicom.pixels.decoders.base import get_decoder

    try:
        decoder = get_decoder(tsyntax)
    except NotImplementedError:
        raise LoadError(f"unsupported transfer syntax {UID(tsyntax).name} ({tsyntax})", path) from None
    if not decoder.is_available:
        missing = ", ".join(decoder.missing_dependencies) or "a decoder plugin"
        raise LoadError(f"unsupported transfer syntax {UID(tsyntax).name}: needs {missing}", path)


def _frames(ds: Dataset, fast: _FastHeader, path: Path, n_frames: int, data_offset: int | None,
            frame_bytes: int) -> list[FrameRef]:
    """One `FrameRef` per 2D frame, with its geometry and rescale."""
    sop = str(fast.get("SOPInstanceUID", "") or "")
    inst = _int_or_none(fast.get("InstanceNumber"))
    shared = _first(ds.get("SharedFunctionalGroupsSequence")) if "SharedFunctionalGroupsSequence" in fast else None
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") if "PerFrameFunctionalGroupsSequence" in fast else None

    if shared is not None or per_frame is not None:  # enhanced multi-frame
        frames = []
        for i in range(n_frames):
            pf = per_frame[i] if per_frame is not None and i < len(per_frame) else None
            pos = _fg_value(pf, shared, "PlanePositionSequence", "ImagePositionPatient")
            iop = _fg_value(pf, shared, "PlaneOrientationSequence", "ImageOrientationPatient")
            spacing = _fg_value(pf, shared, "PixelMeasuresSequence", "PixelSpacing")
            slope = _fg_value(pf, shared, "PixelValueTransformationSequence", "RescaleSlope")
            intercept = _fg_value(pf, shared, "PixelValueTransformationSequence", "RescaleIntercept")
            frames.append(FrameRef(
                path=path, frame=i,
                position=_floats(pos, 3, path, "ImagePositionPatient"),
                orientation=_floats(iop, 6, path, "ImageOrientationPatient"),
                pixel_spacing=_floats(spacing, 2, path, "PixelSpacing"),
                instance_number=i + 1, sop_instance_uid=sop,
                rescale_slope=float(slope) if slope is not None else float(ds.get("RescaleSlope", 1) or 1),
                rescale_intercept=float(intercept) if intercept is not None
                else float(ds.get("RescaleIntercept", 0) or 0),
                pixel_offset=None if data_offset is None else data_offset + i * frame_bytes,
            ))
        return frames

    pos = _floats(fast.get("ImagePositionPatient"), 3, path, "ImagePositionPatient")
    iop = _floats(fast.get("ImageOrientationPatient"), 6, path, "ImageOrientationPatient")
    spacing = _floats(fast.get("PixelSpacing"), 2, path, "PixelSpacing")
    if spacing is None:
        # Projection radiographs: spacing at the detector, not corrected for geometric magnification.
        spacing = _floats(fast.get("ImagerPixelSpacing"), 2, path, "ImagerPixelSpacing")
    slope = float(fast.get("RescaleSlope", 1) or 1)
    intercept = float(fast.get("RescaleIntercept", 0) or 0)
    frames = []
    for i in range(n_frames):
        frames.append(FrameRef(
            path=path, frame=i if n_frames > 1 else None, position=pos, orientation=iop,
            pixel_spacing=spacing, instance_number=inst if n_frames == 1 else i + 1,
            sop_instance_uid=sop, rescale_slope=slope, rescale_intercept=intercept,
            pixel_offset=None if data_offset is None else data_offset + i * frame_bytes,
        ))
    return frames


# -- grouping ---------------------------------------------------------------------------------------

def _orientation_key(iop: tuple[float, ...] | None) -> tuple[float, ...] | None:
    # Orientations equal within ~0.5 degree share a stack (scanners write IOP with rounding noise).
    return None if iop is None else tuple(round(v * 100) / 100 for v in iop)


def _drop_copies(members: list[tuple[FrameRef, dict]], skipped: list[SkippedFile]) -> list[tuple[FrameRef, dict]]:
    """Keep one frame per (SOPInstanceUID, frame): other files holding the same image are copies.

    Prefers a native (uncompressed) copy, which loads fastest.
    """
    best: dict[tuple[str, int | None], tuple[FrameRef, dict]] = {}
    order: list[tuple[str, int | None]] = []
    for fr, hdr in members:
        key = (str(fr.path), fr.frame) if not fr.sop_instance_uid else (fr.sop_instance_uid, fr.frame)
        if key not in best:
            best[key] = (fr, hdr)
            order.append(key)
            continue
        kept = best[key][0]
        if kept.pixel_offset is None and fr.pixel_offset is not None:
            best[key] = (fr, hdr)
            fr, kept = kept, fr
        if fr.frame in (None, 0):
            skipped.append(SkippedFile(fr.path, f"another copy of SOPInstanceUID {fr.sop_instance_uid} "
                                                f"(kept {kept.path.name})"))
    return [best[k] for k in order]


def _split_repeats(members: list[tuple[FrameRef, dict]]) -> list[list[tuple[FrameRef, dict]]]:
    """Split a stack whose frames repeat positions (echoes, phases) into parts without repeats."""
    if len(members) < 2 or members[0][0].position is None:
        return [members]
    positions = [tuple(np.round(np.asarray(fr.position), 3)) for fr, _ in members]
    if len(set(positions)) == len(positions):
        return [members]
    for field_name in ("EchoTime", "InversionTime", "ImageType", "AcquisitionNumber"):
        buckets: dict[object, list] = defaultdict(list)
        for (fr, hdr), pos in zip(members, positions, strict=True):
            buckets[str(hdr.get(field_name))].append(((fr, hdr), pos))
        if len(buckets) > 1 and all(len({p for _, p in b}) == len(b) for b in buckets.values()):
            return [[m for m, _ in b] for _, b in sorted(buckets.items())]
    return [members]  # the loader keeps one frame per position and warns


def _make_series(members: list[tuple[FrameRef, dict]]) -> SeriesInfo:
    first_frame, h = members[0]
    frames = [fr for fr, _ in members]
    files: list[Path] = []
    seen: set[Path] = set()
    for fr in frames:
        if fr.path not in seen:
            seen.add(fr.path)
            files.append(fr.path)
    return SeriesInfo(
        series_uid=str(h.get("SeriesInstanceUID", "")),
        study_uid=str(h.get("StudyInstanceUID", "")),
        modality=str(h.get("Modality", "")),
        description=str(h.get("SeriesDescription", "") or h.get("ProtocolName", "") or ""),
        files=files,
        patient_id=str(h.get("PatientID", "")),
        patient_name=str(h.get("PatientName", "")),
        study_date=str(h.get("StudyDate", "")),
        study_description=str(h.get("StudyDescription", "")),
        series_number=_int_or_none(h.get("SeriesNumber")),
        rows=int(h["Rows"]),
        columns=int(h["Columns"]),
        orientation=first_frame.orientation,
        pixel_spacing=first_frame.pixel_spacing,
        frame_of_reference_uid=str(h.get("FrameOfReferenceUID", "")),
        transfer_syntax_uid=str(h.get("TransferSyntaxUID", "")),
        frames=frames,
        header=dict(h),
    )


# -- small helpers ------------------------------------------------------------------------------------

def _plain_header(fast: _FastHeader) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in _HEADER_FIELDS:
        try:
            value = fast.get(name)
        except Exception:  # noqa: BLE001 - a malformed value is treated as absent
            continue
        if value is not None and value != "":
            out[name] = value
    return out


def _plain_value(v: object) -> object:
    """A pydicom value as plain Python (str, int, float or a list of them)."""
    if isinstance(v, pydicom.multival.MultiValue | list | tuple):
        return [_plain_value(x) for x in v]
    if isinstance(v, pydicom.valuerep.PersonName):
        return str(v)
    if isinstance(v, pydicom.valuerep.DSfloat | pydicom.valuerep.DSdecimal):
        return float(v)
    if isinstance(v, pydicom.valuerep.IS):
        return int(v)
    if v is None or isinstance(v, int | float | str | Dataset | pydicom.sequence.Sequence):
        return v
    return str(v)


def _first(seq) -> Dataset | None:
    return seq[0] if seq else None


def _fg_value(per_frame: Dataset | None, shared: Dataset | None, seq_name: str, attr: str):
    for group in (per_frame, shared):
        if group is None:
            continue
        seq = group.get(seq_name)
        if seq:
            value = seq[0].get(attr)
            if value is not None:
                return value
    return None


def _floats(value, n: int, path: Path, tag: str) -> tuple[float, ...] | None:
    if value is None or value == "":
        return None
    try:
        vals = tuple(float(v) for v in (value if isinstance(value, list | tuple | pydicom.multival.MultiValue)
                                        else [value]))
    except (TypeError, ValueError) as exc:
        raise LoadError(f"malformed {tag}: {value!r}", path) from exc
    if len(vals) != n or not all(np.isfinite(vals)):
        raise LoadError(f"malformed {tag}: expected {n} numbers, got {value!r}", path)
    return vals


def _int_or_none(v) -> int | None:
    try:
        return int(v) if v is not None and v != "" else None
    except (TypeError, ValueError):
        return None
