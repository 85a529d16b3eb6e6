"""Display helpers (Qt-free): window presets, fast mapping to uint8, and axial/sagittal/coronal planes.

Window/level
------------
* ``CT_PRESETS``: the five CT windows on keys 1..5, each with its source.
* ``window_presets(volume)``: the 1..5 list for a volume (CT: ``CT_PRESETS``; MR and others: an automatic
  percentile window, the file's own VOI windows, the full range). ``default_window(volume)`` is what a
  series opens with: the file's first window when it has one, else soft tissue (CT) or the percentile window.
* ``Windower``: maps a plane to uint8 with the DICOM linear VOI function (PS3.3 C.11.2.1.2.1). For integer
  data it builds one lookup table per window (65536 entries for int16/uint16) and maps a plane with a single
  ``np.take`` into a reused output buffer: no per-frame allocation.

Planes
------
``plane_spec(volume, orientation)`` returns a ``PlaneSpec`` for "axial", "sagittal" or "coronal" of ANY
volume (acquired axially, sagittally, coronally or obliquely). The voxel axis nearest each patient axis is
chosen (best permutation of ``|cos|`` between the voxel axes and L, P, S); the plane steps along the voxel
axis nearest the plane's normal, and its two in-plane voxel axes are transposed and flipped (numpy views,
no copies) so the plane appears as radiologists expect:

==========  ============================  ==========================
plane       screen right (+x) is nearest  screen down (+y) is nearest
==========  ============================  ==========================
axial       patient Left  (viewer's left = patient right)   Posterior (anterior up)
sagittal    Posterior (anterior on the viewer's left)        Inferior (head up)
coronal     patient Left  (viewer's left = patient right)   Inferior (head up)
==========  ============================  ==========================

``PlaneSpec.geometry(k)`` is the exact ``PlaneGeometry`` of plane ``k`` (display pixel -> LPS mm): its
``x_dir``/``y_dir`` are the chosen voxel axes' true LPS directions (so an oblique acquisition shows oblique
letters, and a gantry-tilted stack gives a sheared -- non-orthogonal -- reformat, measured exactly);
``x_spacing``/``y_spacing`` are the physical pixel sizes (a thick-slice reformat has e.g. 4 mm x 0.5 mm
pixels). For the acquired plane (stepping through slices) the origin uses ``Volume.slice_positions``, exact
for uneven stacks; reformats use the affine's mean slice step.

To draw a plane with its true physical shape, ``screen_matrix(geometry)`` gives the 2x2 map from display
pixels to millimetres in the screen frame (``screen_axes``: unit LPS vectors of screen right and down), and
``view_transform`` fits that into a widget with zoom and pan. ``plane_line`` gives another plane's
intersection line (reference lines, MPR cursor) in this plane's display pixels.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from imaging.geometry import PlaneGeometry, orientation_letters
from imaging.volume import Volume, WindowPreset

if TYPE_CHECKING:  # pragma: no cover
    from imaging.dicom.series import SeriesInfo

# ------------------------------------------------------------------------------------------------------
# Window presets
# ------------------------------------------------------------------------------------------------------
_OHIF = "OHIF Viewer default CT window presets (extensions/cornerstone defaultWindowLevelPresets.ts)"
_RADIOPAEDIA = "Radiopaedia, 'Windowing (CT)' (radiopaedia.org/articles/windowing-ct)"

#: CT windows on keys 1..5 (center/level, width in HU).
CT_PRESETS: tuple[WindowPreset, ...] = (
    WindowPreset("Soft tissue", 40.0, 400.0, f"{_OHIF}: Soft tissue W 400 L 40"),
    WindowPreset("Bone", 400.0, 1800.0, f"{_RADIOPAEDIA}: spine, bone W 1800 L 400"),
    WindowPreset("Spine soft tissue", 50.0, 250.0, f"{_RADIOPAEDIA}: spine, soft tissues W 250 L 50"),
    WindowPreset("Lung", -600.0, 1500.0, f"{_RADIOPAEDIA}: chest, lungs W 1500 L -600 (also {_OHIF})"),
    WindowPreset("Mediastinum", 50.0, 350.0, f"{_RADIOPAEDIA}: chest, mediastinum W 350 L 50"),
)

AUTO_LOW_PERCENTILE = 0.5
AUTO_HIGH_PERCENTILE = 99.5
_AUTO_SAMPLE = 2_000_000  # voxels sampled (strided) for percentile windows


def percentile_window(array: np.ndarray, low: float = AUTO_LOW_PERCENTILE, high: float = AUTO_HIGH_PERCENTILE,
                      name: str = "Auto") -> WindowPreset:
    """A window spanning the ``low``..``high`` percentiles of ``array`` (a strided sample of at most ~2M
    voxels, so it is fast on any volume). The MR default when the file has no window of its own."""
    flat = array.reshape(-1)
    step = max(1, flat.size // _AUTO_SAMPLE)
    sample = flat[::step]
    if sample.size == 0:
        return WindowPreset(name, 0.0, 1.0, "empty image")
    lo, hi = (float(v) for v in np.percentile(sample, [low, high]))
    if not math.isfinite(lo) or not math.isfinite(hi):
        finite = sample[np.isfinite(sample)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    width = max(hi - lo, 1.0 if np.issubdtype(array.dtype, np.integer) else 1e-6)
    return WindowPreset(name, (lo + hi) / 2.0, width, f"percentiles {low:g}-{high:g} of the voxel values")


def full_range_window(array: np.ndarray) -> WindowPreset:
    """The window from the minimum to the maximum voxel value."""
    lo, hi = float(np.nanmin(array)), float(np.nanmax(array))
    return WindowPreset("Full range", (lo + hi) / 2.0, max(hi - lo, 1.0), "minimum to maximum voxel value")


def file_window(volume: Volume, p: WindowPreset) -> WindowPreset:
    """A window from the file, named as the viewer names its presets: a CT window equal to one of
    ``CT_PRESETS`` takes that preset's name (the file's "SOFT TISSUE" is the viewer's "Soft tissue", so one
    window never appears under two spellings); other names in capitals are shown in sentence case."""
    if volume.is_ct:
        same = next((c for c in CT_PRESETS if (c.center, c.width) == (p.center, p.width)), None)
        if same is not None:
            return same
    name = p.name or "File window"
    if name.isupper():
        name = name[:1] + name[1:].lower()
    return WindowPreset(name, p.center, p.width, p.source or "from the file")


def window_presets(volume: Volume) -> list[WindowPreset]:
    """The windows on keys 1..5 for ``volume`` (at most five).

    CT: ``CT_PRESETS``. Other modalities: the automatic percentile window, the file's windows
    (WindowCenter/WindowWidth with their explanations), then the full range.
    """
    if volume.is_ct:
        return list(CT_PRESETS)
    pixels = loaded_pixels(volume)
    presets = [percentile_window(pixels)]
    for p in volume.metadata.window_presets:
        presets.append(file_window(volume, p))
    presets.append(full_range_window(pixels))
    return presets[:5]


def default_window(volume: Volume) -> WindowPreset:
    """The window a series opens with: the file's first window when it has one; otherwise soft tissue for CT
    and the automatic percentile window for everything else."""
    if volume.metadata.window_presets:
        return file_window(volume, volume.metadata.window_presets[0])
    if volume.is_ct:
        return CT_PRESETS[0]
    return percentile_window(loaded_pixels(volume))


def loaded_pixels(volume: Volume) -> np.ndarray:
    """The voxels that hold pixels: all of them, or while a load is still filling the volume (progressive
    display) the slices loaded so far -- so automatic windows never count the blank slices."""
    loaded = volume.loaded_slices
    if loaded is not None and loaded.any():
        out: np.ndarray = volume.array[loaded]
        return out
    return volume.array


def default_invert(volume: Volume) -> bool:
    """MONOCHROME1 images display high values dark: the viewer starts inverted for them."""
    return volume.metadata.photometric_interpretation.upper() == "MONOCHROME1"


# ------------------------------------------------------------------------------------------------------
# Fast mapping to uint8
# ------------------------------------------------------------------------------------------------------
def voi_linear(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """DICOM linear VOI LUT function (PS3.3 C.11.2.1.2.1) to grey levels 0..255 (float64, not rounded).

    ``y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255`` clipped to 0..255 (``w`` is at least 1)."""
    w1 = max(float(width) - 1.0, 1e-6)
    y = ((np.asarray(values, dtype=np.float64) - (float(center) - 0.5)) / w1 + 0.5) * 255.0
    return np.clip(y, 0.0, 255.0)


class Windower:
    """Maps 2D planes of one dtype to uint8 for a window (center, width) and invert flag.

    Integer data of at most 16 bits uses a lookup table indexed by the raw bits (rebuilt only when the
    window changes, ~0.3 ms for 65536 entries); other data is mapped arithmetically with reused buffers.
    ``apply(plane)`` returns a C-contiguous uint8 array that is REUSED by the next call with the same shape
    (copy it if you keep it); ``apply_rgb32(plane)`` the same as opaque 32-bit grey pixels (what the slice
    view hands to QImage without a copy).
    """

    def __init__(self, dtype: np.dtype | type) -> None:
        self.dtype = np.dtype(dtype)
        self.center = 0.0
        self.width = 1.0
        self.invert = False
        self._lut: np.ndarray | None = None
        self._codes: np.ndarray | None = None
        self._index_dtype: np.dtype | None = None
        if self.dtype.kind in "iu" and self.dtype.itemsize <= 2:
            n = 1 << (8 * self.dtype.itemsize)
            unsigned = np.dtype(f"u{self.dtype.itemsize}")
            self._index_dtype = unsigned
            self._codes = np.arange(n, dtype=np.uint32).astype(unsigned).view(self.dtype).astype(np.float64)
        self._out: np.ndarray | None = None
        self._out32: np.ndarray | None = None
        self._lut32: np.ndarray | None = None
        self._lut32_source: np.ndarray | None = None
        self._scratch: np.ndarray | None = None
        self._dirty = True

    @property
    def uses_lut(self) -> bool:
        return self._codes is not None

    def set_window(self, center: float, width: float, invert: bool = False) -> None:
        if (center, width, invert) != (self.center, self.width, self.invert):
            self.center, self.width, self.invert = float(center), float(width), bool(invert)
            self._dirty = True

    def lut(self) -> np.ndarray | None:
        """The current lookup table (indexed by the raw unsigned bits), or None for non-LUT dtypes."""
        if self._codes is None:
            return None
        if self._dirty or self._lut is None:
            y = np.rint(voi_linear(self._codes, self.center, self.width))
            lut = y.astype(np.uint8)
            if self.invert:
                np.subtract(255, lut, out=lut)
            self._lut = lut
            self._dirty = False
        return self._lut

    def lut_rgb32(self) -> np.ndarray | None:
        """The lookup table as opaque 32-bit grey pixels (for QImage.Format_RGB32), or None."""
        lut = self.lut()
        if lut is None:
            return None
        if self._lut32 is None or self._lut32_source is not lut:
            self._lut32 = np.take(GREY_TO_RGB32, lut)
            self._lut32_source = lut
        return self._lut32

    def apply_rgb32(self, plane: np.ndarray) -> np.ndarray:
        """Like ``apply`` but to opaque 32-bit grey pixels (uint32, reused buffer): what Qt's raster engine
        draws fastest (scaled Grayscale8 images are converted on every paint)."""
        if plane.dtype != self.dtype:
            raise TypeError(f"Windower for {self.dtype} given {plane.dtype}")
        if self._out32 is None or self._out32.shape != plane.shape:
            self._out32 = np.empty(plane.shape, dtype=np.uint32)
        lut32 = self.lut_rgb32()
        if lut32 is not None:
            # "wrap" never wraps here (the table has one entry per value of the unsigned index type) and
            # skips numpy's bounds handling: the fastest mode.
            np.take(lut32, plane.view(self._index_type()), out=self._out32, mode="wrap")
        else:
            np.take(GREY_TO_RGB32, self.apply(plane), out=self._out32, mode="clip")
        return self._out32

    def _index_type(self) -> np.dtype:
        """The unsigned type the pixels are read as to index the table (set whenever the table is)."""
        if self._index_dtype is None:
            raise RuntimeError("no lookup table for this data type")
        return self._index_dtype

    def _out_for(self, shape: tuple[int, ...]) -> np.ndarray:
        if self._out is None or self._out.shape != shape:
            self._out = np.empty(shape, dtype=np.uint8)
        return self._out

    def apply(self, plane: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if plane.dtype != self.dtype:
            raise TypeError(f"Windower for {self.dtype} given {plane.dtype}")
        if out is None:
            out = self._out_for(plane.shape)
        lut = self.lut()
        if lut is not None:
            np.take(lut, plane.view(self._index_type()), out=out, mode="wrap")  # see apply_rgb32
            return out
        # Arithmetic path (float, int32...): y = (x - lo) * k, clipped; NaN -> 0.
        if self._scratch is None or self._scratch.shape != plane.shape:
            self._scratch = np.empty(plane.shape, dtype=np.float32)
        s = self._scratch
        w1 = max(self.width - 1.0, 1e-6)
        k = 255.0 / w1
        lo = self.center - 0.5 - w1 / 2.0
        np.subtract(plane, lo, out=s, casting="unsafe")
        np.multiply(s, k, out=s)
        np.nan_to_num(s, copy=False, nan=0.0)
        np.clip(s, 0.0, 255.0, out=s)
        if self.invert:
            np.subtract(255.0, s, out=s)
        np.rint(s, out=s)
        out[...] = s
        return out


#: grey level -> opaque 0xFFgggggg pixel (QImage.Format_RGB32 / ARGB32 byte order on little-endian hosts)
GREY_TO_RGB32 = (np.arange(256, dtype=np.uint32) * 0x010101) | np.uint32(0xFF000000)


def window_to_uint8(plane: np.ndarray, center: float, width: float, invert: bool = False) -> np.ndarray:
    """One-off convenience: ``plane`` mapped to a new uint8 array (use a ``Windower`` in loops)."""
    w = Windower(plane.dtype)
    w.set_window(center, width, invert)
    return w.apply(np.asarray(plane)).copy()


# ------------------------------------------------------------------------------------------------------
# Planes
# ------------------------------------------------------------------------------------------------------
ORIENTATIONS = ("axial", "sagittal", "coronal")

# plane -> (normal patient axis, (x patient axis, x sign), (y patient axis, y sign)); LPS axes 0=L 1=P 2=S
_LAYOUT = {
    "axial": (2, (0, +1), (1, +1)),  # right = patient Left, down = Posterior
    "sagittal": (0, (1, +1), (2, -1)),  # right = Posterior, down = Inferior
    "coronal": (1, (0, +1), (2, -1)),  # right = patient Left, down = Inferior
}


def nearest_voxel_axes(affine: np.ndarray) -> tuple[int, int, int]:
    """For patient axes (L, P, S): the voxel axis (0 column, 1 row, 2 slice) nearest each, as a permutation
    maximising the summed ``|cos|`` (ties resolved in a fixed order)."""
    m = np.asarray(affine, dtype=float)[:3, :3]
    norms = np.linalg.norm(m, axis=0)
    norms[norms == 0] = 1.0
    cos = np.abs(m / norms[None, :])  # cos[p, v]
    best = max(itertools.permutations(range(3)), key=lambda perm: sum(cos[p, perm[p]] for p in range(3)))
    return best[0], best[1], best[2]


@dataclass(eq=False)
class PlaneSpec:
    """How to cut one plane orientation out of a volume. Voxel axes: 0 column, 1 row, 2 slice."""

    orientation: str
    normal_axis: int
    x_axis: int
    y_axis: int
    x_flip: bool
    y_flip: bool
    shape_cri: tuple[int, int, int]  # (columns, rows, slices)
    affine: np.ndarray
    slice_positions: np.ndarray | None = None

    # -- sizes ---------------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        """Number of planes (slices along the normal axis)."""
        return self.shape_cri[self.normal_axis]

    @property
    def width(self) -> int:
        return self.shape_cri[self.x_axis]

    @property
    def height(self) -> int:
        return self.shape_cri[self.y_axis]

    @property
    def pixel_size(self) -> tuple[float, float]:
        """Physical ``(x, y)`` pixel size in mm (display pixels are generally not square)."""
        return (float(np.linalg.norm(self.affine[:3, self.x_axis])),
                float(np.linalg.norm(self.affine[:3, self.y_axis])))

    @property
    def is_acquired(self) -> bool:
        """True when the plane steps through the acquired slices (its pixels are the original images)."""
        return self.normal_axis == 2

    # -- pixels --------------------------------------------------------------------------------------
    def extract(self, array: np.ndarray, k: int) -> np.ndarray:
        """Plane ``k`` of ``array`` ([slice, row, column]) as a 2D view ``[y, x]`` (no copy)."""
        index: list[slice | int] = [slice(None)] * 3
        index[2 - self.normal_axis] = int(k)
        plane = array[tuple(index)]
        remaining = sorted((a for a in range(3) if a != self.normal_axis), reverse=True)  # array-axis order
        if remaining[0] != self.y_axis:
            plane = plane.T
        if self.y_flip:
            plane = plane[::-1, :]
        if self.x_flip:
            plane = plane[:, ::-1]
        return plane

    def voxel_of_display(self, x: float, y: float, k: float) -> np.ndarray:
        """Display pixel ``(x, y)`` on plane ``k`` -> fractional voxel index ``(column, row, slice)``."""
        v = np.zeros(3)
        v[self.x_axis] = (self.width - 1 - x) if self.x_flip else x
        v[self.y_axis] = (self.height - 1 - y) if self.y_flip else y
        v[self.normal_axis] = k
        return v

    def display_of_voxel(self, cri: Sequence[float]) -> tuple[float, float, float]:
        """Voxel index ``(column, row, slice)`` -> ``(x, y, k)`` on this plane family."""
        c = np.asarray(cri, dtype=float)
        x = c[self.x_axis]
        y = c[self.y_axis]
        x = (self.width - 1 - x) if self.x_flip else x
        y = (self.height - 1 - y) if self.y_flip else y
        return float(x), float(y), float(c[self.normal_axis])

    # -- geometry ------------------------------------------------------------------------------------
    def _axis_vector(self, axis: int, flip: bool) -> np.ndarray:
        v = self.affine[:3, axis]
        return -v if flip else v

    def geometry(self, k: int) -> PlaneGeometry:
        """The exact ``PlaneGeometry`` of plane ``k`` (display pixels <-> LPS mm)."""
        v0 = self.voxel_of_display(0.0, 0.0, k)
        if self.normal_axis == 2 and self.slice_positions is not None and 0 <= k < len(self.slice_positions):
            origin = (np.asarray(self.slice_positions[int(k)], dtype=float)
                      + self.affine[:3, 0] * v0[0] + self.affine[:3, 1] * v0[1])
        else:
            origin = self.affine[:3, :3] @ v0 + self.affine[:3, 3]
        xv = self._axis_vector(self.x_axis, self.x_flip)
        yv = self._axis_vector(self.y_axis, self.y_flip)
        xs, ys = float(np.linalg.norm(xv)), float(np.linalg.norm(yv))
        normal = np.cross(xv, yv)
        normal /= np.linalg.norm(normal)
        step = self.affine[:3, self.normal_axis]
        thickness = abs(float(step @ normal)) if self.count > 1 else float(np.linalg.norm(step))
        return PlaneGeometry(origin, xv, yv, xs, ys, thickness=thickness or 1.0)

    def slice_of_lps(self, lps: Sequence[float]) -> float:
        """Fractional plane number through an LPS point (nearest acquired slice position for uneven stacks)."""
        p = np.asarray(lps, dtype=float)
        if self.normal_axis == 2 and self.slice_positions is not None and len(self.slice_positions) > 1:
            g = self.geometry(0)
            pos = np.asarray(self.slice_positions, dtype=float)
            d = (p[None, :] - pos) @ g.normal
            k0 = int(np.argmin(np.abs(d)))
            # fraction of the local gap towards the neighbour on the point's side (exact for uneven stacks)
            k1 = k0 + 1 if k0 + 1 < len(pos) else k0 - 1
            if k0 > 0 and k0 + 1 < len(pos):
                step_next = float((pos[k0 + 1] - pos[k0]) @ g.normal)
                k1 = k0 + 1 if d[k0] * step_next > 0 else k0 - 1
            step = float((pos[k1] - pos[k0]) @ g.normal) * (1 if k1 > k0 else -1)
            return k0 + (float(d[k0]) / step if step else 0.0)
        idx = (p - self.affine[:3, 3]) @ np.linalg.inv(self.affine[:3, :3]).T
        return float(idx[self.normal_axis])

    def nearest_slice(self, lps: Sequence[float]) -> int:
        """The plane number through (nearest to) an LPS point, clamped to the volume."""
        return int(min(max(round(self.slice_of_lps(lps)), 0), self.count - 1))


def plane_spec(volume: Volume, orientation: str) -> PlaneSpec:
    """The ``PlaneSpec`` of ``orientation`` ("axial", "sagittal", "coronal") for any volume."""
    if orientation not in _LAYOUT:
        raise ValueError(f"unknown plane orientation {orientation!r}; expected one of {ORIENTATIONS}")
    normal_p, (xp, xsign), (yp, ysign) = _LAYOUT[orientation]
    axes = nearest_voxel_axes(volume.affine)
    xa, ya, na = axes[xp], axes[yp], axes[normal_p]
    a = volume.affine
    s, r, c = volume.shape
    return PlaneSpec(
        orientation=orientation,
        normal_axis=na,
        x_axis=xa,
        y_axis=ya,
        x_flip=bool(a[xp, xa] * xsign < 0),
        y_flip=bool(a[yp, ya] * ysign < 0),
        shape_cri=(c, r, s),
        affine=a,
        slice_positions=volume.slice_positions,
    )


def acquired_orientation(volume: Volume) -> str:
    """Which of axial/sagittal/coronal steps through the acquired slices."""
    for o in ORIENTATIONS:
        if plane_spec(volume, o).is_acquired:
            return o
    return "axial"  # pragma: no cover - one of the three always does


# ------------------------------------------------------------------------------------------------------
# Screen geometry (true physical aspect, orientation letters, reference lines)
# ------------------------------------------------------------------------------------------------------
def screen_axes(geometry: PlaneGeometry, turn: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Unit LPS vectors of screen right and screen down for a plane drawn with its true shape: right is
    ``x_dir``; down is ``y_dir`` made orthogonal to it (they differ only for sheared, gantry-tilt planes).
    ``turn`` is the view's flip/rotation (imaging/viewer/screen.py), applied on top."""
    e1 = geometry.x_dir
    e2 = geometry.y_dir - (geometry.y_dir @ e1) * e1
    e2 = e2 / np.linalg.norm(e2)
    if turn is not None and tuple(turn) != (1, 0, 0, 1):
        from imaging.viewer.screen import as_turn, turned_axes

        return turned_axes(e1, e2, as_turn(turn))
    return e1, e2


def screen_matrix(geometry: PlaneGeometry, turn: Sequence[int] | None = None) -> np.ndarray:
    """2x2 matrix: display pixel ``(x, y)`` -> millimetres along (screen right, screen down), after the
    view's flip/rotation ``turn`` when given."""
    e1, e2 = screen_axes(geometry)
    xv = geometry.x_dir * geometry.x_spacing
    yv = geometry.y_dir * geometry.y_spacing
    m = np.array([[xv @ e1, yv @ e1], [xv @ e2, yv @ e2]])
    if turn is not None and tuple(turn) != (1, 0, 0, 1):
        m = np.asarray(turn, dtype=float).reshape(2, 2) @ m
    return m


def edge_letters(geometry: PlaneGeometry, turn: Sequence[int] | None = None) -> dict[str, str]:
    """Orientation letters for the ``left``, ``right``, ``top`` and ``bottom`` edges of the drawn plane
    (flipped or rotated by ``turn``: the letters follow the image)."""
    e1, e2 = screen_axes(geometry, turn)
    # Cached on the (rounded) screen axes: they change when the plane turns, not when the slice moves.
    return dict(_edge_letters(tuple(np.round(e1, 5).tolist()), tuple(np.round(e2, 5).tolist())))


@functools.lru_cache(maxsize=256)
def _edge_letters(e1: tuple[float, ...], e2: tuple[float, ...]) -> tuple[tuple[str, str], ...]:
    a, b = np.asarray(e1), np.asarray(e2)
    return (("left", orientation_letters(-a)), ("right", orientation_letters(a)),
            ("top", orientation_letters(-b)), ("bottom", orientation_letters(b)))


def view_transform(matrix: np.ndarray, image_size: tuple[int, int], widget_size: tuple[float, float],
                   zoom: float = 1.0, pan: tuple[float, float] = (0.0, 0.0), margin: float = 0.0) -> np.ndarray:
    """3x3 affine: display pixel -> widget pixel. At ``zoom`` 1 the image (its pixels are ``matrix``-shaped
    in mm) fits the widget less ``margin`` on each side; ``pan`` shifts the image centre in widget pixels."""
    w, h = image_size
    corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [-0.5, h - 0.5], [w - 0.5, h - 0.5]]) @ matrix.T
    extent = corners.max(axis=0) - corners.min(axis=0)
    avail = np.maximum(np.array(widget_size, dtype=float) - 2 * margin, 1.0)
    fit = float(np.min(avail / np.maximum(extent, 1e-9)))
    a = matrix * fit * zoom
    centre_disp = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    b = np.array(widget_size, dtype=float) / 2.0 + np.asarray(pan, dtype=float) - a @ centre_disp
    t = np.eye(3)
    t[:2, :2] = a
    t[:2, 2] = b
    return t


def plane_line(geometry: PlaneGeometry, other: PlaneGeometry) -> tuple[float, float, float] | None:
    """Where ``other`` cuts ``geometry``: coefficients ``(a, b, c)`` of ``a x + b y + c = 0`` in
    ``geometry``'s display pixels, or None when the planes are parallel."""
    n = other.normal
    a = geometry.x_spacing * float(n @ geometry.x_dir)
    b = geometry.y_spacing * float(n @ geometry.y_dir)
    if math.hypot(a, b) < 1e-9 * max(geometry.x_spacing, geometry.y_spacing):
        return None
    c = float(n @ (geometry.origin - other.origin))
    return a, b, c


def clip_line(line: tuple[float, float, float], width: int, height: int
              ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The segment of ``a x + b y + c = 0`` inside the image rectangle ``[-0.5, w-0.5] x [-0.5, h-0.5]``."""
    a, b, c = line
    x0, x1, y0, y1 = -0.5, width - 0.5, -0.5, height - 0.5
    pts: list[tuple[float, float]] = []
    if abs(b) > 1e-12:
        for x in (x0, x1):
            y = -(a * x + c) / b
            if y0 - 1e-9 <= y <= y1 + 1e-9:
                pts.append((x, y))
    if abs(a) > 1e-12:
        for y in (y0, y1):
            x = -(b * y + c) / a
            if x0 - 1e-9 <= x <= x1 + 1e-9:
                pts.append((x, y))
    if len(pts) < 2:
        return None
    # The two points farthest apart (corners can appear twice).
    best = max(itertools.combinations(pts, 2), key=lambda pq: math.dist(pq[0], pq[1]))
    return best


def nice_length(max_mm: float) -> float:
    """The largest 1-2-5 x 10^n length not above ``max_mm`` (scale bars)."""
    if max_mm <= 0:
        return 0.0
    e = math.floor(math.log10(max_mm))
    for m in (5, 2, 1):
        v = m * 10.0 ** e
        if v <= max_mm:
            return v
    return 10.0 ** e  # pragma: no cover


# ------------------------------------------------------------------------------------------------------
# Sampling under the cursor and thumbnails
# ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PixelSample:
    """What is under a display position: LPS mm, nearest voxel ``(column, row, slice)`` and its value."""

    lps: np.ndarray
    voxel: tuple[int, int, int] | None
    value: float | None


def sample(volume: Volume, spec: PlaneSpec, k: int, x: float, y: float) -> PixelSample:
    """Sample ``volume`` at display position ``(x, y)`` of plane ``k`` (nearest voxel)."""
    lps = spec.geometry(k).to_lps((x, y))
    xi, yi = math.floor(x + 0.5), math.floor(y + 0.5)
    if not (0 <= xi < spec.width and 0 <= yi < spec.height and 0 <= k < spec.count):
        return PixelSample(lps, None, None)
    c, r, s = (int(round(v)) for v in spec.voxel_of_display(xi, yi, k))
    return PixelSample(lps, (c, r, s), volume.value_at_index(c, r, s))


def thumbnail(image: np.ndarray, center: float, width: float, size: int = 96, aspect: float = 1.0,
              invert: bool = False) -> np.ndarray:
    """A ``size`` x ``size`` uint8 thumbnail of a 2D image, letterboxed on black; ``aspect`` is the pixel
    height/width ratio in mm (nearest-neighbour sampling, physical shape kept)."""
    h, w = image.shape
    ph, pw = h * aspect, float(w)
    scale = size / max(ph, pw)
    th, tw = max(1, int(round(ph * scale))), max(1, int(round(pw * scale)))
    rows = np.minimum((np.arange(th) + 0.5) / th * h, h - 1).astype(int)
    cols = np.minimum((np.arange(tw) + 0.5) / tw * w, w - 1).astype(int)
    small = np.ascontiguousarray(image[rows][:, cols])
    grey = window_to_uint8(small, center, width, invert)
    out = np.zeros((size, size), dtype=np.uint8)
    oy, ox = (size - th) // 2, (size - tw) // 2
    out[oy:oy + th, ox:ox + tw] = grey
    return out


def volume_thumbnail(volume: Volume, size: int = 96) -> np.ndarray:
    """Thumbnail of the middle acquired slice of a loaded volume, in its default window."""
    spec = plane_spec(volume, acquired_orientation(volume))
    k = spec.count // 2
    img = spec.extract(volume.array, k)
    xs, ys = spec.pixel_size
    win = default_window(volume)
    return thumbnail(img, win.center, win.width, size, ys / xs, default_invert(volume))


def series_thumbnail(info: SeriesInfo, size: int = 96) -> np.ndarray | None:
    """Thumbnail of a series' middle image read straight from its file (header scan only so far), or None
    when that image cannot be decoded. Windows: the file's own, else CT soft tissue, else percentiles."""
    try:
        import pydicom

        frames = info.frames
        if frames:
            ref = frames[len(frames) // 2]
            path, frame = Path(ref.path), ref.frame
        elif info.files:
            path, frame = Path(info.files[len(info.files) // 2]), None
        else:
            return None
        ds = pydicom.dcmread(path)
        pixels = ds.pixel_array
        if frame is not None and pixels.ndim == 3:
            pixels = pixels[frame]
        elif pixels.ndim == 3 and int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
            pixels = pixels[pixels.shape[0] // 2]
        if pixels.ndim != 2:
            return None
        img = pixels.astype(np.float32) * float(getattr(ds, "RescaleSlope", 1) or 1) + float(
            getattr(ds, "RescaleIntercept", 0) or 0)
        wc, ww = getattr(ds, "WindowCenter", None), getattr(ds, "WindowWidth", None)
        if wc is not None and ww is not None:
            wc = float(wc[0] if isinstance(wc, pydicom.multival.MultiValue) else wc)
            ww = float(ww[0] if isinstance(ww, pydicom.multival.MultiValue) else ww)
        elif str(getattr(ds, "Modality", "")).upper() == "CT":
            wc, ww = CT_PRESETS[0].center, CT_PRESETS[0].width
        else:
            p = percentile_window(img)
            wc, ww = p.center, p.width
        spacing = getattr(ds, "PixelSpacing", None)
        aspect = float(spacing[0]) / float(spacing[1]) if spacing else 1.0
        invert = str(getattr(ds, "PhotometricInterpretation", "")).upper() == "MONOCHROME1"
        return thumbnail(img, wc, ww, size, aspect, invert)
    except Exception:  # noqa: BLE001 - a thumbnail is decoration; never let it break the browser
        return None
