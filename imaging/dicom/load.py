"""`load_series`: one `SeriesInfo` -> one `Volume`, with exact patient geometry.

Speed: the scan already parsed every header and noted where native pixel data starts, so loading reads
each frame's bytes straight into a preallocated array (one read per frame, no per-file parse). Compressed
frames (JPEG baseline/lossless, JPEG-LS, JPEG 2000, RLE) decode through pydicom's pixel handlers, which
use pylibjpeg and its plugins.

Geometry: frames are ordered by their position along the slice normal (never by InstanceNumber or file
name). The affine's third column is the mean vector between consecutive slice positions; gantry tilt,
uneven spacing and missing slices are reported in ``Volume.warnings``. A missing slice whose gap is a
whole number of slice steps is filled with a blank slice so that every voxel stays where it really is.
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pydicom

from imaging.dicom.scan import NATIVE_LITTLE_ENDIAN
from imaging.dicom.series import FrameRef, SeriesInfo
from imaging.errors import LoadCancelled, LoadError
from imaging.volume import Volume, VolumeMetadata, WindowPreset

ProgressCallback = Callable[[int, int], None]
CancelCallback = Callable[[], bool]
FocusCallback = Callable[[], "int | None"]  # the slice index the reader looks at (None: not known yet)
FirstCallback = Callable[[Volume], None]

# Relative tolerance for calling a stack evenly spaced (1%, like dcm2niix's default slice tolerance).
_SPACING_TOLERANCE = 0.01


def load_series(info: SeriesInfo, progress: ProgressCallback | None = None,
                cancel: CancelCallback | None = None, *, focus: FocusCallback | None = None,
                on_first: FirstCallback | None = None) -> Volume:
    """Load a scanned series into a `Volume`.

    ``progress(done, total)`` is called as frames are read; ``cancel()`` is polled between frames and,
    when it returns True, the load stops with `LoadCancelled`. Bad input raises `LoadError` naming the
    file and the reason; nothing else escapes for bad input.

    Compressed frames are decoded in worker processes, one per core (`imaging.dicom.decode_pool`), the
    slices nearest ``focus()`` (a slice index, polled as the load goes; default the middle slice) first.
    Progressive display: ``on_first(volume)`` is called (on the loading thread) as soon as the slices
    around the focus hold their pixels, with the `Volume` that the rest of the load keeps filling:
    ``volume.loaded_slices`` marks the slices loaded so far (None once all are) and
    ``volume.pixel_generation`` counts changes to the pixels (frame caches key on it); slices not loaded
    yet hold the lowest value of the array's type (black in any window). ``volume.array`` may still be
    replaced by a float32 copy when a later frame holds a value outside int16.
    """
    layout = describe_series(info)
    geometry, ordered, slot_of = layout.geometry, layout.ordered, layout.slot_of
    warnings = layout.warnings
    n_slots = geometry.n_slots
    rows, cols = info.rows, info.columns

    header = info.header
    bits = int(header.get("BitsAllocated", 16) or 16)
    signed = int(header.get("PixelRepresentation", 0) or 0) == 1
    raw_dtype = np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")
    bits_stored = int(header.get("BitsStored", bits) or bits)
    out_dtype = _output_dtype(ordered, raw_dtype, bits_stored, signed)

    array = np.empty((n_slots, rows, cols), dtype=out_dtype)
    volume = Volume(array=array, affine=geometry.affine, modality=info.modality,
                    metadata=_metadata(info, geometry, ordered, slot_of, n_slots), warnings=warnings,
                    pixel_spacing_known=geometry.spacing_known, orientation_known=geometry.orientation_known,
                    slice_positions=geometry.slot_positions)
    # Fast path: 16-bit stored values whose rescaled range surely fits int16 are read straight into the
    # output slice and shifted in place (no intermediate copy).
    direct = out_dtype == np.int16 and raw_dtype.itemsize == 2 and _fits_int16(ordered, bits_stored, signed)
    filled = np.zeros(n_slots, dtype=bool)
    settled = np.zeros(n_slots, dtype=bool)  # filled, or no frame left to try (missing or unreadable)
    settled[layout.missing] = True
    native = info.transfer_syntax_uid in NATIVE_LITTLE_ENDIAN
    raw = np.empty((rows, cols), dtype=raw_dtype)
    total = len(ordered)
    bad_frames: list[LoadError] = []
    first = _FirstImage(on_first, volume, filled, settled, focus) if on_first is not None else None

    def place(k: int, fr: FrameRef, pixels: np.ndarray | None) -> None:
        """Slot ``k`` holds ``pixels`` (None: read straight into it)."""
        if pixels is not None and not _rescale_into(volume.array[k], pixels, fr.rescale_slope,
                                                    fr.rescale_intercept):
            # A value outside int16 after all: widen what is loaded so far and redo this frame. (A view
            # already showing the volume notices the new array: its pixel generation changes.)
            volume.array = volume.array.astype(np.float32)
            _rescale_into(volume.array[k], pixels, fr.rescale_slope, fr.rescale_intercept)
        filled[k] = settled[k] = True
        volume.pixel_generation += 1
        if progress is not None:
            progress(volume.pixel_generation, total)
        if first is not None:
            first.check()

    def failed(k: int, exc: LoadError) -> None:
        bad_frames.append(exc)
        if not candidates[k]:
            settled[k] = True
            if first is not None:
                first.check()

    def read_here(k: int, fr: FrameRef, cache: dict[Path, np.ndarray]) -> np.ndarray | None:
        """The frame's pixels, read or decoded in this thread (None: read straight into slot ``k``)."""
        if native and fr.pixel_offset is not None and direct:
            _read_native(fr, volume.array[k].view(raw_dtype), rows * cols * 2)
            if fr.rescale_intercept:
                volume.array[k] += np.int16(fr.rescale_intercept)
            return None
        if native and fr.pixel_offset is not None:
            _read_native(fr, raw, rows * cols * raw_dtype.itemsize)
            return raw
        return _decode_frame(fr, rows, cols, cache)

    # Each slot's candidates: its frame, then frames repeating its position (tried if it cannot be read).
    candidates = {slot_of[id(fr)]: [fr, *geometry.alternates.get(id(fr), [])] for fr in ordered}
    cache: dict[Path, np.ndarray] = {}
    while True:
        todo = sorted((k, c[0]) for k, c in candidates.items() if c and not filled[k])
        if not todo:
            break
        pooled = [(k, fr) for k, fr in todo if _worth_a_worker(fr, native)]
        here = [(k, fr) for k, fr in todo if not _worth_a_worker(fr, native)]
        if len(pooled) < _MIN_POOLED:
            here, pooled = todo, []
        for k, fr in here:
            if cancel is not None and cancel():
                raise LoadCancelled("loading cancelled", info.files[0] if info.files else None)
            candidates[k].pop(0)
            try:
                pixels = read_here(k, fr, cache)
            except LoadError as exc:
                failed(k, exc)
                continue
            place(k, fr, pixels)
        for k, fr, result in _decode_in_workers(pooled, rows, cols, cancel, focus, n_slots, info):
            candidates[k].pop(0)
            if isinstance(result, LoadError):
                failed(k, result)
            else:
                place(k, fr, result)

    if not filled.any():
        raise bad_frames[0] if bad_frames else LoadError(f"series {info.series_uid} has no readable images")
    for exc in bad_frames[:5]:
        warnings.append(f"skipped an unreadable image: {exc}")
    if len(bad_frames) > 5:
        warnings.append(f"... and {len(bad_frames) - 5} more unreadable images")
    if not filled.all():
        fill = _background_value(volume.array[filled], info.modality)
        volume.array[~filled] = fill
        warnings.append(_missing_text(np.flatnonzero(~filled), fill))
    volume.loaded_slices = None
    volume.pixel_generation += 1
    if first is not None:
        first.check(final=True)
    return volume


class SeriesLayout(NamedTuple):
    """Where every frame of a series goes, from its headers alone (no pixel is read)."""

    shape: tuple[int, int, int]  # (slices, rows, columns) of the volume, missing slices included
    affine: np.ndarray  # (column, row, slice, 1) -> LPS mm, as `Volume.affine`
    spacing_known: bool
    warnings: list[str]  # geometry and header warnings (`load_series` adds those about the pixels)
    missing: np.ndarray  # slice indices no frame fills (blank slices keep distances true)
    geometry: _Geometry
    ordered: list[FrameRef]  # one frame per slot, in slice order
    slot_of: dict[int, int]  # id(frame) -> slice index


def describe_series(info: SeriesInfo) -> SeriesLayout:
    """The volume a series loads into -- shape, geometry, missing slices and warnings -- from the headers the
    scan read, without reading any pixel (`spinecase info`). Raises `LoadError` for an unusable geometry."""
    frames = list(info.frames) or _frames_from_files(info)
    if not frames:
        raise LoadError(f"series {info.series_uid} has no images")
    warnings: list[str] = []
    geometry = _Geometry.from_frames(frames, info, warnings)
    ordered, slot_of = geometry.order(frames, warnings)
    if info.header.get("_warning"):
        warnings.append(str(info.header["_warning"]))
    projection = info.modality.upper() in {"CR", "DX", "RF", "XA", "MG"}
    if "PixelSpacing" not in info.header and geometry.spacing_known and projection:
        warnings.append("pixel size from ImagerPixelSpacing (at the detector): lengths are not corrected for "
                        "geometric magnification")
    if not geometry.spacing_known:
        warnings.append("no pixel spacing in the files: lengths are in pixels, not mm")
    used = np.zeros(geometry.n_slots, dtype=bool)
    used[list(slot_of.values())] = True
    return SeriesLayout((geometry.n_slots, info.rows, info.columns), geometry.affine, geometry.spacing_known,
                        warnings, np.flatnonzero(~used), geometry, ordered, slot_of)


def _missing_text(missing: np.ndarray, fill: float | None = None) -> str:
    blank = "blank slices" if fill is None else f"blank slices ({fill:g})"
    return (f"{len(missing)} missing slice(s) (at slice index {_ranges(missing)}): filled with {blank} so "
            "distances across the gap stay true")


def missing_slices_warning(layout: SeriesLayout) -> str | None:
    """The warning `load_series` gives for the layout's missing slices (None when there are none)."""
    return _missing_text(layout.missing) if len(layout.missing) else None


# -- progressive display and parallel decoding ----------------------------------------------------------

# Fewer compressed frames than this decode in the loading thread (starting workers costs more).
_MIN_POOLED = 4
# The first image is shown once the slices within this many of the focus slice hold their pixels.
_FIRST_IMAGE_REACH = 2


def _worth_a_worker(fr: FrameRef, native: bool) -> bool:
    """Frames decoded in a worker process: compressed single-frame files. (A multi-frame file decodes as a
    whole in the loading thread: its frames share one compressed stream per file read.)"""
    return not (native and fr.pixel_offset is not None) and fr.frame is None


class _FirstImage:
    """Calls ``on_first(volume)`` once the slices around the focus are loaded (see `load_series`)."""

    def __init__(self, on_first: FirstCallback, volume: Volume, filled: np.ndarray, settled: np.ndarray,
                 focus: FocusCallback | None) -> None:
        self.on_first = on_first
        self.volume = volume
        self.filled = filled
        self.settled = settled
        n = len(filled)
        k = focus() if focus is not None else None
        k = n // 2 if k is None else min(max(int(k), 0), n - 1)
        self.near = slice(max(0, k - _FIRST_IMAGE_REACH), min(n, k + _FIRST_IMAGE_REACH + 1))
        self.sent = False

    def check(self, final: bool = False) -> None:
        if self.sent or not (final or self.settled[self.near].all()):
            return
        self.sent = True
        if not final:
            array = self.volume.array
            array[~self.filled] = np.iinfo(array.dtype).min if array.dtype.kind in "iu" else -1e9
            self.volume.loaded_slices = self.filled
        self.on_first(self.volume)


def _decode_in_workers(todo: list[tuple[int, FrameRef]], rows: int, cols: int, cancel: CancelCallback | None,
                       focus: FocusCallback | None, n_slots: int,
                       info: SeriesInfo) -> Iterator[tuple[int, FrameRef, np.ndarray | LoadError]]:
    """Decode ``(slot, frame)`` pairs in worker processes, nearest the focus slice first; yields
    ``(slot, frame, pixels or LoadError)`` as frames arrive. Falls back to this thread when no worker
    process can start."""
    if not todo:
        return
    from imaging.dicom import decode_pool

    slots = [k for k, _ in todo]  # ascending
    remaining = list(range(len(todo)))  # indices into todo not sent yet, in slot order

    def nearest_to_focus(_pending: set[int]) -> int:
        k = focus() if focus is not None else None
        k = n_slots // 2 if k is None else int(k)
        at = bisect.bisect_left(remaining, k, key=lambda i: slots[i])
        if at == len(remaining) or (at > 0 and k - slots[remaining[at - 1]] <= slots[remaining[at]] - k):
            at -= 1
        return remaining.pop(at)

    frames = [fr for _, fr in todo]
    try:
        for i, result in decode_pool.run_in_workers(_decode_for_worker, frames, (rows, cols),
                                                    next_index=nearest_to_focus, cancel=cancel,
                                                    path_of=lambda fr: fr.path):
            yield todo[i][0], todo[i][1], result
    except LoadCancelled:
        raise LoadCancelled("loading cancelled", info.files[0] if info.files else None) from None
    except OSError:
        # No worker process could start (a locked-down system): decode here, in slot order. (Frames that
        # were in flight are not lost: the caller tries every slot not filled again.)
        cache: dict[Path, np.ndarray] = {}
        for i in remaining:
            if cancel is not None and cancel():
                raise LoadCancelled("loading cancelled", info.files[0] if info.files else None) from None
            k, fr = todo[i]
            try:
                yield k, fr, _decode_frame(fr, rows, cols, cache)
            except LoadError as exc:
                yield k, fr, exc


def _decode_for_worker(fr: FrameRef, rows: int, cols: int) -> np.ndarray:
    """`_decode_frame` in a worker process (`decode_pool`): one single-frame file, no cache."""
    return _decode_frame(fr, rows, cols, {})


# -- geometry -------------------------------------------------------------------------------------------

class _Geometry:
    """Slice ordering and the affine for one stack."""

    def __init__(self) -> None:
        self.affine = np.eye(4)
        self.n_slots = 0
        self.spacing_known = True
        self.orientation_known = True
        self.slot_positions = np.zeros((0, 3))
        self._normal = np.array([0.0, 0.0, 1.0])
        self._step = np.array([0.0, 0.0, 1.0])
        self._origin = np.zeros(3)
        # Other frames at the same position as a kept frame (repeats), tried if the kept one fails to decode.
        self.alternates: dict[int, list[FrameRef]] = {}

    @classmethod
    def from_frames(cls, frames: list[FrameRef], info: SeriesInfo, warnings: list[str]) -> _Geometry:
        g = cls()
        iop = frames[0].orientation
        if iop is None:
            warnings.append("no ImageOrientationPatient: shown as an axial stack; orientation letters "
                            "and 3D positions are not reliable")
            iop = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
            g.orientation_known = False
        row_dir = np.asarray(iop[:3], dtype=float)
        col_dir = np.asarray(iop[3:6], dtype=float)
        if not (np.isclose(np.linalg.norm(row_dir), 1, atol=1e-2) and np.isclose(np.linalg.norm(col_dir), 1, atol=1e-2)
                and abs(np.dot(row_dir, col_dir)) < 1e-2):
            raise LoadError(f"ImageOrientationPatient (0020,0037) is not two orthonormal vectors: {iop}",
                            frames[0].path)
        row_dir /= np.linalg.norm(row_dir)
        col_dir /= np.linalg.norm(col_dir)
        spacing = frames[0].pixel_spacing
        if spacing is None or spacing[0] <= 0 or spacing[1] <= 0:
            g.spacing_known = False
            spacing = (1.0, 1.0)
        # PixelSpacing is (row spacing = between rows, column spacing = between columns).
        g.affine[:3, 0] = row_dir * spacing[1]
        g.affine[:3, 1] = col_dir * spacing[0]
        g._normal = np.cross(row_dir, col_dir)
        g._slice_thickness = float(info.header.get("SpacingBetweenSlices")
                                   or info.header.get("SliceThickness") or 1.0)
        return g

    def order(self, frames: list[FrameRef], warnings: list[str]) -> tuple[list[FrameRef], dict[int, int]]:
        """Sort frames along the normal, drop repeated positions, and assign each a slot (slice index)."""
        if any(fr.position is None for fr in frames):
            if len(frames) > 1:
                warnings.append("no ImagePositionPatient: slices ordered by instance number, "
                                "slice positions unknown")
            ordered = sorted(frames, key=lambda fr: (fr.instance_number or 0, fr.frame or 0))
            step = self._normal * self._slice_thickness
            self._origin = np.zeros(3)
            self._finish(ordered, {id(fr): i for i, fr in enumerate(ordered)}, len(ordered), step)
            return ordered, {id(fr): i for i, fr in enumerate(ordered)}

        dist = {id(fr): float(np.dot(np.asarray(fr.position), self._normal)) for fr in frames}
        ordered = sorted(frames, key=lambda fr: (dist[id(fr)], fr.instance_number or 0))
        unique: list[FrameRef] = []
        self.alternates = {}
        for fr in ordered:
            if unique and abs(dist[id(fr)] - dist[id(unique[-1])]) < 1e-3:
                self.alternates.setdefault(id(unique[-1]), []).append(fr)
                continue
            unique.append(fr)
        if len(unique) < len(ordered):
            warnings.append(f"{len(ordered) - len(unique)} image(s) repeat a slice position already "
                            "present (kept the first of each)")
        ordered = unique
        positions = np.array([fr.position for fr in ordered], dtype=float)
        self._origin = positions[0]

        if len(ordered) == 1:
            step = self._normal * self._slice_thickness
            self._finish(ordered, {id(ordered[0]): 0}, 1, step)
            return ordered, {id(ordered[0]): 0}

        gaps = np.diff(np.array([dist[id(fr)] for fr in ordered]))
        unit_gap = float(np.median(gaps))
        ratios = gaps / unit_gap
        whole = np.rint(ratios)
        slots = np.concatenate([[0], np.cumsum(whole).astype(int)])
        # Gaps that are whole multiples of the usual step are missing slices (filled below), unless so many
        # are missing that the stack is really a sparse, uneven set of slices.
        regular_with_holes = bool(np.all(np.abs(ratios - whole) < _SPACING_TOLERANCE * max(1, whole.max()))
                                  and whole.min() >= 1 and slots[-1] + 1 <= 2 * len(ordered))
        if regular_with_holes:
            n_slots = int(slots[-1]) + 1
            # Mean step vector through all slice positions (a least-squares fit of position vs slot):
            # includes any in-plane shift per slice, i.e. gantry tilt.
            a = np.vstack([slots, np.ones_like(slots)]).T
            coef, *_ = np.linalg.lstsq(a, positions, rcond=None)
            step = coef[0]
            self._origin = coef[1]
        else:
            n_slots = len(ordered)
            slots = np.arange(n_slots)
            step = (positions[-1] - positions[0]) / (n_slots - 1)
            warnings.append(f"uneven slice spacing: {gaps.min():.3g} to {gaps.max():.3g} mm between slices "
                            f"(mean {np.mean(gaps):.3g} mm used for reformats; through-plane distances in "
                            "reformats are approximate)")
        slot_of = {id(fr): int(s) for fr, s in zip(ordered, slots, strict=True)}
        self._finish(ordered, slot_of, n_slots, step)

        tilt = np.degrees(np.arccos(np.clip(abs(np.dot(step, self._normal)) / np.linalg.norm(step), -1, 1)))
        if tilt > 0.1:
            warnings.append(f"gantry/detector tilt: slices are offset in-plane by {tilt:.1f} degrees from the "
                            "normal; the volume keeps the true (sheared) geometry")
        return ordered, slot_of

    def _finish(self, ordered: list[FrameRef], slot_of: dict[int, int], n_slots: int, step: np.ndarray) -> None:
        self.n_slots = n_slots
        self._step = np.asarray(step, dtype=float)
        self.affine[:3, 2] = self._step
        self.affine[:3, 3] = self._origin
        slot_positions = self._origin[None, :] + np.arange(n_slots)[:, None] * self._step[None, :]
        for fr in ordered:
            if fr.position is not None:
                slot_positions[slot_of[id(fr)]] = fr.position
        self.slot_positions = slot_positions


# -- pixels -------------------------------------------------------------------------------------------

def _output_dtype(frames: list[FrameRef], raw: np.dtype, bits_stored: int, signed: bool) -> np.dtype:
    """int16 when the rescaled values can be exact integers in int16; float32 otherwise.

    With integer slope and intercept the answer is int16 even when the stored range could overflow
    (e.g. signed 16-bit CT with intercept -1024): `_rescale_into` checks each frame's real values and
    the loader widens to float32 if one does not fit.
    """
    slopes = {fr.rescale_slope for fr in frames}
    intercepts = {fr.rescale_intercept for fr in frames}
    if any(s != int(s) for s in slopes) or any(i != int(i) for i in intercepts) or raw.itemsize > 2:
        return np.dtype(np.float32)
    return np.dtype(np.int16)


def _fits_int16(frames: list[FrameRef], bits_stored: int, signed: bool) -> bool:
    """Whether every possible stored value, with slope 1 and each frame's integer intercept, fits int16."""
    if any(fr.rescale_slope != 1 or fr.rescale_intercept != int(fr.rescale_intercept) for fr in frames):
        return False
    bits_stored = min(bits_stored, 16)
    lo = -(1 << (bits_stored - 1)) if signed else 0
    hi = (1 << (bits_stored - 1)) - 1 if signed else (1 << bits_stored) - 1
    if not signed and hi > 32767:
        return False  # an unsigned value >= 32768 would be misread through an int16 view
    intercepts = {fr.rescale_intercept for fr in frames}
    return all(lo + i >= -32768 and hi + i <= 32767 for i in intercepts)


def _read_native(fr: FrameRef, out: np.ndarray, nbytes: int) -> None:
    try:
        with open(fr.path, "rb", buffering=0) as f:
            f.seek(fr.pixel_offset)  # type: ignore[arg-type]
            got = f.readinto(memoryview(out).cast("B"))
    except OSError as exc:
        raise LoadError(f"cannot read pixel data ({exc.strerror})", fr.path) from exc
    if got != nbytes:
        raise LoadError(f"truncated: pixel data ends after {got} of {nbytes} bytes", fr.path)


def _decode_frame(fr: FrameRef, rows: int, cols: int, cache: dict[Path, np.ndarray]) -> np.ndarray:
    """Decode one frame through pydicom (compressed or otherwise non-native data)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # malformed-file chatter; failures raise and are reported
        return _decode_frame_quiet(fr, rows, cols, cache)


def _decode_frame_quiet(fr: FrameRef, rows: int, cols: int, cache: dict[Path, np.ndarray]) -> np.ndarray:
    try:
        if fr.frame is None:
            ds = pydicom.dcmread(fr.path)
            pixels = ds.pixel_array
        else:
            if fr.path not in cache:
                cache.clear()  # one multi-frame file at a time
                cache[fr.path] = pydicom.dcmread(fr.path).pixel_array
            pixels = cache[fr.path][fr.frame]
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - decoders raise many kinds for bad data
        raise LoadError(f"cannot decode pixel data ({type(exc).__name__}: {exc})", fr.path) from exc
    if pixels.shape != (rows, cols):
        raise LoadError(f"decoded frame is {pixels.shape}, expected {(rows, cols)}", fr.path)
    return pixels


def _rescale_into(out: np.ndarray, pixels: np.ndarray, slope: float, intercept: float) -> bool:
    """Write ``pixels * slope + intercept`` into ``out``. Returns False, writing nothing, when ``out`` is
    int16 and a value would not fit."""
    if out.dtype != np.int16:
        np.multiply(pixels, np.float32(slope), out=out, casting="unsafe", dtype=np.float32)
        out += np.float32(intercept)
        return True
    if pixels.dtype == np.int16 and slope == 1 and intercept == 0:
        out[...] = pixels
        return True
    # Integer rescale in int32 so an unsigned pixel plus a negative intercept cannot wrap.
    values = pixels.astype(np.int32)
    if slope != 1:
        values *= int(slope)
    if intercept != 0:
        values += int(intercept)
    if values.size and (values.min() < -32768 or values.max() > 32767):
        return False
    out[...] = values
    return True


def _background_value(array: np.ndarray, modality: str) -> float:
    if array.size == 0:
        return 0.0
    return float(array.min())


# -- metadata -----------------------------------------------------------------------------------------

def _metadata(info: SeriesInfo, geometry: _Geometry, ordered: list[FrameRef], slot_of: dict[int, int],
              n_slots: int) -> VolumeMetadata:
    h = info.header
    sops = [""] * n_slots
    frame_numbers: list[int | None] = [None] * n_slots
    instance_numbers: list[int | None] = [None] * n_slots
    files = [""] * n_slots
    for fr in ordered:
        k = slot_of[id(fr)]
        sops[k] = fr.sop_instance_uid
        frame_numbers[k] = None if fr.frame is None else fr.frame + 1
        instance_numbers[k] = fr.instance_number
        files[k] = str(fr.path)
    return VolumeMetadata(
        patient_id=str(h.get("PatientID", "")),
        patient_name=str(h.get("PatientName", "")),
        patient_sex=str(h.get("PatientSex", "")),
        patient_age=str(h.get("PatientAge", "")),
        patient_birth_date=str(h.get("PatientBirthDate", "")),
        study_instance_uid=info.study_uid,
        study_date=str(h.get("StudyDate", "")),
        study_time=str(h.get("StudyTime", "")),
        study_description=str(h.get("StudyDescription", "")),
        accession_number=str(h.get("AccessionNumber", "")),
        series_instance_uid=info.series_uid,
        series_number=info.series_number,
        series_description=info.description,
        series_date=str(h.get("SeriesDate", "")),
        frame_of_reference_uid=info.frame_of_reference_uid,
        sop_class_uid=str(h.get("SOPClassUID", "")),
        manufacturer=str(h.get("Manufacturer", "")),
        body_part_examined=str(h.get("BodyPartExamined", "")),
        protocol_name=str(h.get("ProtocolName", "")),
        slice_thickness=_float_or_none(h.get("SliceThickness")),
        sop_instance_uids=sops,
        frame_numbers=frame_numbers,
        instance_numbers=instance_numbers,
        files=files,
        window_presets=_file_windows(h),
        photometric_interpretation=str(h.get("PhotometricInterpretation", "MONOCHROME2")),
        rescale_units="HU" if info.modality.upper() == "CT" else str(h.get("RescaleType", "") or ""),
        echo_time=_float_or_none(h.get("EchoTime")),
        repetition_time=_float_or_none(h.get("RepetitionTime")),
        inversion_time=_float_or_none(h.get("InversionTime")),
    )


def _file_windows(h: dict) -> list[WindowPreset]:
    centers = _as_list(h.get("WindowCenter"))
    widths = _as_list(h.get("WindowWidth"))
    names = _as_list(h.get("WindowCenterWidthExplanation"))
    presets = []
    for i, (c, w) in enumerate(zip(centers, widths, strict=False)):
        try:
            c, w = float(c), float(w)
        except (TypeError, ValueError):
            continue
        if w <= 0:
            continue
        name = str(names[i]) if i < len(names) and names[i] else f"File window {i + 1}"
        presets.append(WindowPreset(name, c, w, "DICOM file (0028,1050/1051)"))
    return presets


def _frames_from_files(info: SeriesInfo) -> list[FrameRef]:
    """Frames for a `SeriesInfo` built by hand (files only): scan those files."""
    from imaging.dicom.scan import scan_series

    result = scan_series(info.files)
    if result.skipped and not result:
        raise LoadError(result.skipped[0].reason, result.skipped[0].path)
    for s in result:
        if s.series_uid == info.series_uid or not info.series_uid:
            info.frames, info.rows, info.columns = s.frames, s.rows, s.columns
            info.header, info.transfer_syntax_uid = s.header, s.transfer_syntax_uid
            return s.frames
    return []


def _as_list(v) -> list:
    if v is None:
        return []
    return list(v) if isinstance(v, list | tuple) else [v]


def _float_or_none(v) -> float | None:
    try:
        return float(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _ranges(idx: np.ndarray) -> str:
    parts, start = [], None
    prev = None
    for i in list(idx) + [None]:
        if start is None:
            start = prev = i
        elif i is not None and i == prev + 1:
            prev = i
        else:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = i
    return ", ".join(parts)
