"""Series geometry and rendering: a `SeriesSpec` -> voxel grid -> label maps -> CT/MR `Volume`.

Orientation conventions (DICOM, patient head first supine):

* axial: rows run anterior -> posterior (+y), columns right -> left (+x), slices from superior to
  inferior (slice 0 is the most cranial); ImageOrientationPatient 1\\0\\0\\0\\1\\0.
* sagittal: rows run superior -> inferior (-z), columns anterior -> posterior (+y), slices right -> left
  (+x); ImageOrientationPatient 0\\1\\0\\0\\0\\-1. Shown as stored: head up, anterior on the viewer's left.

MR slices are thick: each is the mean of three planes spread over the slice thickness (partial volume).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imaging.volume import Volume, VolumeMetadata, WindowPreset
from tools.phantom import appearance
from tools.phantom.anatomy import SpineModel
from tools.phantom.labels import Label
from tools.phantom.raster import Grid, Raster, _body_params, part_frame, rasterize
from tools.phantom.scene import Scene


@dataclass(frozen=True)
class SeriesSpec:
    """One series to build.

    Axial: covers the vertebral bodies from ``top`` to ``bottom`` (level labels) plus ``margin`` mm, or
    ``n_slices`` centred on ``centre_level`` (+ ``centre_w`` mm). Sagittal: ``n_slices`` across the
    midline, rows over ``fov_cc`` mm centred on ``centre_level``. ``fov``: in-plane field of view (mm) of
    the columns (axial: left-right; sagittal: antero-posterior); ``rows``/``cols`` the matrix.
    ``weighting``: "T1"/"T2" for MR. ``scene``: key of the case's scene (pre-/post-operative).
    """

    key: str
    study: str
    modality: str
    orientation: str
    description: str
    rows: int
    cols: int
    fov: float
    thickness: float
    spacing: float
    top: str = ""
    bottom: str = ""
    margin: float = 4.0
    n_slices: int = 0
    centre_level: str = ""
    centre_w: float = 0.0
    fov_cc: float = 0.0
    centre_offset: tuple[float, float] = (0.0, 0.0)
    weighting: str = ""
    scene: str = "default"
    number: int = 1
    protocol: str = ""
    body_part: str = "SPINE"
    kernel: str = "STANDARD"
    acq: dict[str, object] = field(default_factory=dict)


@dataclass
class PhantomSeries:
    """A built series: the `Volume` (modality values) plus per-voxel truth in the same ``[slice, row, column]``.

    ``labels``: `Label` ids; ``lesions``: 0 or the 1-based lesion number of the case's scene; ``levels``: 0
    or ``LEVEL_ORDER.index(level) + 1`` for the bone of each vertebra. ``stored``: the uint16 values
    written to DICOM (``modality = stored * slope + intercept``)."""

    spec: SeriesSpec
    volume: Volume
    labels: np.ndarray
    lesions: np.ndarray
    levels: np.ndarray
    stored: np.ndarray
    rescale: tuple[float, float]
    windows: list[tuple[float, float, str]]


def _axes_for(spine: SpineModel, spec: SeriesSpec, sub: int) -> tuple[Grid, np.ndarray, int]:
    """Canonical grid (ascending LPS axes), the series affine, and which grid axis is the slice axis."""
    col_px = spec.fov / spec.cols
    if spec.orientation == "axial":
        row_px = col_px
        if spec.n_slices:
            vt = spine.vertebra(spec.centre_level)
            zc = float(spine.point(vt.s + spec.centre_w)[2])
            z_lo = zc - spec.spacing * (spec.n_slices - 1) / 2
            nz = spec.n_slices
        else:
            z_hi = float(spine.point(spine.vertebra(spec.top).top)[2]) + spec.margin
            z_lo = float(spine.point(spine.vertebra(spec.bottom).bottom)[2]) - spec.margin
            nz = int(np.floor((z_hi - z_lo) / spec.spacing)) + 1
        zmid = z_lo + spec.spacing * (nz - 1) / 2
        yc = float(spine.z_to_y(zmid)) + 12.0 + spec.centre_offset[1]
        xc = spec.centre_offset[0]
        xs = xc - spec.fov / 2 + col_px / 2 + col_px * np.arange(spec.cols)
        ys = yc - row_px * spec.rows / 2 + row_px / 2 + row_px * np.arange(spec.rows)
        zc_ = z_lo + spec.spacing * np.arange(nz)
        if sub > 1:
            offs = (np.arange(sub) - (sub - 1) / 2) * spec.thickness / sub
            zs = (zc_[:, None] + offs[None, :]).ravel()
        else:
            zs = zc_
        aff = np.eye(4)
        aff[:3, 0] = [col_px, 0, 0]
        aff[:3, 1] = [0, row_px, 0]
        aff[:3, 2] = [0, 0, -spec.spacing]
        aff[:3, 3] = [xs[0], ys[0], zc_[-1]]
        return Grid(xs, ys, zs), aff, 0
    # sagittal
    row_px = spec.fov_cc / spec.rows
    vt = spine.vertebra(spec.centre_level)
    c = spine.point(vt.s + spec.centre_w)
    zc = float(c[2])
    yc = float(c[1]) + 20.0 + spec.centre_offset[1]
    ys = yc - spec.fov / 2 + col_px / 2 + col_px * np.arange(spec.cols)
    zs = zc - spec.fov_cc / 2 + row_px / 2 + row_px * np.arange(spec.rows)
    xc_ = (np.arange(spec.n_slices) - (spec.n_slices - 1) / 2) * spec.spacing + spec.centre_offset[0]
    offs = (np.arange(sub) - (sub - 1) / 2) * spec.thickness / sub if sub > 1 else np.zeros(1)
    xs = (xc_[:, None] + offs[None, :]).ravel()
    aff = np.eye(4)
    aff[:3, 0] = [0, col_px, 0]
    aff[:3, 1] = [0, 0, -row_px]
    aff[:3, 2] = [spec.spacing, 0, 0]
    aff[:3, 3] = [xc_[0], ys[0], zs[-1]]
    return Grid(xs, ys, zs), aff, 2


def _to_series(a: np.ndarray, orientation: str) -> np.ndarray:
    """Canonical ``[z, y, x]`` -> series ``[slice, row, column]``."""
    if orientation == "axial":
        return np.ascontiguousarray(a[::-1])
    return np.ascontiguousarray(a.transpose(2, 0, 1)[:, ::-1, :])


def _centre_sub(a: np.ndarray, axis: int, sub: int) -> np.ndarray:
    if sub == 1:
        return a
    idx = np.arange(sub // 2, a.shape[axis], sub)
    return np.take(a, idx, axis=axis)


def _mean_sub(a: np.ndarray, axis: int, sub: int) -> np.ndarray:
    if sub == 1:
        return a
    shp = list(a.shape)
    shp[axis] = shp[axis] // sub
    shp.insert(axis + 1, sub)
    return a.reshape(shp).mean(axis=axis + 1)


def _mixed_masks(r: Raster, scene: Scene, spine: SpineModel, column: int) -> list[tuple[np.ndarray, float]]:
    """Lesion parts whose kind differs from their lesion's: (mask, value) pairs."""
    out = []
    for k, lesion in enumerate(scene.lesions, start=1):
        for part in lesion.parts:
            if part.kind is None or part.kind == lesion.kind:
                continue
            centre, axes = part_frame(spine, part)
            rr = np.array(part.size) / 2
            X = r.grid.xs[None, None, :]
            Y = r.grid.ys[None, :, None]
            Z = r.grid.zs[:, None, None]
            q = [(X - centre[0]) * ax[0] + (Y - centre[1]) * ax[1] + (Z - centre[2]) * ax[2] for ax in axes]
            m = ((q[0] / rr[0]) ** 2 + (q[1] / rr[1]) ** 2 + (q[2] / rr[2]) ** 2 <= 1.0) & (r.lesions == k)
            out.append((m, appearance.lesion_values(lesion, part.kind)[column]))
    return out


def render_series(spine: SpineModel, scene: Scene, spec: SeriesSpec, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[float, float],
                             list[tuple[float, float, str]], np.ndarray]:
    """Build one series. Returns ``(stored uint16, modality values, labels, lesions, levels, rescale, windows,
    affine)``, arrays in series order ``[slice, row, column]``."""
    sub = 1 if spec.modality == "CT" else 3
    grid, aff, thick_axis = _axes_for(spine, spec, sub)
    r = rasterize(spine, grid, scene)
    labels = _centre_sub(r.labels, thick_axis, sub)
    lesions = _centre_sub(r.lesions, thick_axis, sub)
    levels = _centre_sub(r.levels, thick_axis, sub)
    if spec.modality == "CT":
        hu = appearance.ct_values(r.labels, r.lesions, scene.lesions, rng, _mixed_masks(r, scene, spine, 0),
                                  slice_axis=thick_axis)
        stored = np.clip(np.rint(hu + 1024.0), 0, 4095).astype(np.uint16)
        stored = _to_series(stored, spec.orientation)
        values = stored.astype(np.int16) - np.int16(1024)
        windows = [(40.0, 400.0, "SOFT TISSUE"), (450.0, 1500.0, "BONE")]
        if spec.body_part in ("TSPINE", "CHEST"):
            windows.append((-600.0, 1500.0, "LUNG"))
        return (stored, values, _to_series(labels, spec.orientation), _to_series(lesions, spec.orientation),
                _to_series(levels, spec.orientation), (1.0, -1024.0), windows, aff)
    col = 1 if spec.weighting == "T1" else 2
    sig = appearance.mr_values(r.labels, r.lesions, scene.lesions, spec.weighting,
                               _mixed_masks(r, scene, spine, col))
    sig = _mean_sub(sig, thick_axis, sub)
    inplane = tuple(a for a in (0, 1, 2) if a != thick_axis)
    sig = appearance._smooth121(sig, inplane)
    # Posterior receive coil: signal falls off with distance from the back.
    zs_c = _centre_sub(grid.zs, 0, sub) if thick_axis == 0 else grid.zs
    s_z = spine.z_to_s(zs_c)
    back = spine.z_to_y(zs_c) + _body_params(spine, s_z)["back"]
    depth = np.clip(back[:, None] - grid.ys[None, :], 0, None)           # [z, y]
    gain = 0.35 + 0.65 * np.exp(-depth / 110.0)
    sig = sig * gain[:, :, None].astype(np.float32)
    sigma = 14.0 if spec.weighting == "T2" else 12.0
    sig = appearance.add_rician_noise(sig.astype(np.float32), rng, sigma)
    stored = np.clip(np.rint(sig), 0, 4095).astype(np.uint16)
    stored = _to_series(stored, spec.orientation)
    hi = float(np.percentile(stored, 99.8))
    windows = [(round(hi * 0.5), round(hi), spec.weighting or "MR")]
    return (stored, stored.copy(), _to_series(labels, spec.orientation), _to_series(lesions, spec.orientation),
            _to_series(levels, spec.orientation), (1.0, 0.0), windows, aff)


def make_volume(values: np.ndarray, affine: np.ndarray, modality: str, windows: list[tuple[float, float, str]],
                meta: VolumeMetadata | None = None) -> Volume:
    """A `Volume` holding modality values (int16 HU for CT, uint16 signal for MR)."""
    meta = meta or VolumeMetadata()
    meta.window_presets = [WindowPreset(w[2].title(), w[0], w[1], "DICOM") for w in windows]
    meta.rescale_units = "HU" if modality == "CT" else ""
    arr = values.astype(np.int16) if modality == "CT" else values
    return Volume(arr, affine, modality=modality, metadata=meta)


def slice_plane_labels(spine: SpineModel, scene: Scene, z: float, x_range: tuple[float, float],
                       y_range: tuple[float, float], step: float = 0.2) -> Raster:
    """Fine label maps of one axial plane at height ``z`` (LPS mm) over the given x/y ranges."""
    xs = np.arange(x_range[0], x_range[1] + step / 2, step)
    ys = np.arange(y_range[0], y_range[1] + step / 2, step)
    return rasterize(spine, Grid(xs, ys, np.array([z])), scene)


__all__ = ["Label", "PhantomSeries", "SeriesSpec", "make_volume", "render_series", "slice_plane_labels"]
