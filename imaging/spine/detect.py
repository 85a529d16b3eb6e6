"""Vertebral body detection on CT and labelling from one named vertebra (classical image processing).

:func:`detect_vertebrae` finds the vertebral bodies of a CT volume (Hounsfield units):

1. resample the volume onto an LPS-aligned working grid (``spacing_mm``, 1.5 mm by default), whatever
   its orientation and slice order;
2. bone = HU >= ``BONE_HU``, with the holes enclosed in 3D filled (marrow lesions inside a cortex);
3. on every axial plane, each bone voxel's distance to the nearest non-bone voxel (SimpleITK's Maurer
   distance, in-plane) is largest inside the vertebral bodies, the thickest bone of the column. Column
   evidence (that squared depth summed over +-12 mm, which bridges the discs, times a prior for the
   patient's midline) is followed plane by plane from several seeds; the path with the most body bone
   along its whole length wins (the skull base or the articular pillars may be as thick somewhere, not all
   the way). On each plane the body centre is the mean-shifted centroid of its thickest part; planes whose
   body is much thinner than the column nearby (a dens, a body replaced by tumour) are left out, and the
   centres are smoothed into the spine's curve (robust local linear regression, linear across gaps);
4. the *body profile* along that curve is the bone fraction of a disc of tissue perpendicular to it, as
   wide as the body: it vanishes in the intervertebral discs, so the stretches between empty
   cross-sections are the vertebrae — a lytic or fatty lesion inside a body leaves its cortical shell and
   does not split it. Each body's end plates are where that fraction first and last reaches one half, and
   its centre is the curve point half-way between them;
5. at the top of the cervical spine, a dens rising from the axis body without a disc makes the axis end
   where the dens begins, and the atlas (which has no body) is placed at its anterior arch.

:func:`label_vertebrae` names every candidate from one named vertebra, walking cranio-caudally.

Research software, not a diagnostic device: candidates are suggestions for the reader to check.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from imaging.spine.levels import level_above, level_below, normalize_level
from imaging.volume import Volume

__all__ = ["BONE_HU", "VertebraCandidate", "detect_vertebrae", "label_vertebrae"]

BONE_HU = 150.0
"""Hounsfield units from which a voxel counts as bone (cancellous bone is about 150-300 HU)."""


@dataclass(frozen=True)
class VertebraCandidate:
    """A detected vertebral body.

    ``center_lps``: centre of the body in LPS mm. ``superior_lps`` / ``inferior_lps``: centres of its upper
    and lower end plates on the spine's curve (LPS mm). ``height_mm``: their distance along the curve.
    ``confidence`` 0-1. ``notes``: why the confidence is lower (partly outside the field of view...).
    ``kind``: "body", or "axis" / "atlas" when the top of the cervical spine was recognised (the dens rising
    from the axis body; the atlas, which has no body, is then placed at its anterior arch).
    """

    center_lps: tuple[float, float, float]
    superior_lps: tuple[float, float, float]
    inferior_lps: tuple[float, float, float]
    height_mm: float
    confidence: float
    notes: tuple[str, ...] = ()
    kind: str = "body"


# -- working grid ----------------------------------------------------------------------------------------

@dataclass
class _Grid:
    """An LPS-aligned volume: ``array[z, y, x]`` HU, voxel (i, j, k) = (x, y, z) index at
    ``origin + (i, j, k) * spacing`` LPS mm."""

    array: np.ndarray
    origin: np.ndarray
    spacing: float

    def to_lps(self, zyx: np.ndarray) -> np.ndarray:
        p = np.asarray(zyx, dtype=float)
        return self.origin + p[..., ::-1] * self.spacing

    def to_index(self, lps: np.ndarray) -> np.ndarray:
        """Fractional ``(z, y, x)`` indices of LPS points."""
        p = (np.asarray(lps, dtype=float) - self.origin) / self.spacing
        return p[..., ::-1]

    def sample(self, lps: np.ndarray) -> np.ndarray:
        """Trilinear interpolation at LPS points (shape (..., 3)); points beyond the grid take the nearest
        edge value."""
        idx = self.to_index(lps)
        shape = np.array(self.array.shape)
        flat = np.clip(idx.reshape(-1, 3), 0, shape - 1.000001)
        lo_v = np.floor(flat).astype(int)
        f_v = flat - lo_v
        acc = np.zeros(len(lo_v))
        for dz in (0, 1):
            wz = f_v[:, 0] if dz else 1 - f_v[:, 0]
            for dy in (0, 1):
                wy = f_v[:, 1] if dy else 1 - f_v[:, 1]
                for dx in (0, 1):
                    wx = f_v[:, 2] if dx else 1 - f_v[:, 2]
                    acc += wz * wy * wx * self.array[lo_v[:, 0] + dz, lo_v[:, 1] + dy, lo_v[:, 2] + dx]
        return acc.reshape(idx.shape[:-1])


def _working_grid(volume: Volume, spacing_mm: float) -> _Grid:
    """Resample ``volume`` (linear interpolation, -1024 HU outside) onto an LPS-aligned grid."""
    import SimpleITK as sitk  # noqa: N813 - imported when first used: 0.1-0.3 s at startup
    arr = np.ascontiguousarray(volume.array)
    image = sitk.GetImageFromArray(arr.astype(np.float32, copy=False))
    axes = volume.affine[:3, :3]
    spacing = np.linalg.norm(axes, axis=0)
    direction = axes / spacing
    image.SetSpacing(tuple(float(s) for s in spacing))
    image.SetOrigin(tuple(float(v) for v in volume.affine[:3, 3]))
    image.SetDirection(tuple(float(v) for v in direction.ravel()))
    s, r, c = arr.shape
    corners = np.array([[i, j, k] for i in (0, c - 1) for j in (0, r - 1) for k in (0, s - 1)], dtype=float)
    lps = volume.index_to_lps(corners)
    lo, hi = lps.min(axis=0), lps.max(axis=0)
    size = [int(math.floor((hi[i] - lo[i]) / spacing_mm)) + 1 for i in range(3)]
    out = sitk.Resample(image, size, sitk.Transform(), sitk.sitkLinear, tuple(float(v) for v in lo),
                        (spacing_mm,) * 3, (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0), -1024.0, sitk.sitkFloat32)
    return _Grid(sitk.GetArrayFromImage(out), lo, spacing_mm)


# -- column tracking ---------------------------------------------------------------------------------------

def _inplane_bone_depth(grid: _Grid) -> tuple[np.ndarray, np.ndarray]:
    """Bone mask (3D holes filled) and, per axial plane, each bone voxel's distance (mm) to non-bone."""
    import SimpleITK as sitk  # noqa: N813 - imported when first used: 0.1-0.3 s at startup
    bone = sitk.GetImageFromArray((grid.array >= BONE_HU).astype(np.uint8))
    filled = sitk.BinaryFillhole(bone, fullyConnected=False, foregroundValue=1)
    filled.SetSpacing((grid.spacing, grid.spacing, 1.0e4))  # huge z spacing: distances stay in-plane
    dist = sitk.SignedMaurerDistanceMap(filled, insideIsPositive=True, squaredDistance=False,
                                        useImageSpacing=True, backgroundValue=0)
    depth = np.maximum(sitk.GetArrayFromImage(dist), 0.0).astype(np.float32)
    return sitk.GetArrayFromImage(filled).astype(bool), depth


def _disk_offsets(radius_mm: float, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    r = int(math.ceil(radius_mm / spacing))
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    keep = (dy * dy + dx * dx) * spacing * spacing <= radius_mm * radius_mm
    return dy[keep], dx[keep]


def _argmax_near(plane: np.ndarray, centre: tuple[int, int], offsets: tuple[np.ndarray, np.ndarray]
                 ) -> tuple[int, int, float]:
    ys = np.clip(centre[0] + offsets[0], 0, plane.shape[0] - 1)
    xs = np.clip(centre[1] + offsets[1], 0, plane.shape[1] - 1)
    values = plane[ys, xs]
    k = int(np.argmax(values))
    return int(ys[k]), int(xs[k]), float(values[k])


def _local_maxima(plane: np.ndarray, count: int, separation: int) -> list[tuple[int, int]]:
    """Up to ``count`` positive maxima of a 2D array, at least ``separation`` voxels apart, strongest first."""
    work = plane.copy()
    out: list[tuple[int, int]] = []
    for _ in range(count):
        k = int(np.argmax(work))
        y, x = divmod(k, work.shape[1])
        if work[y, x] <= 0:
            break
        out.append((y, x))
        work[max(0, y - separation):y + separation + 1, max(0, x - separation):x + separation + 1] = 0
    return out


def _track_column(grid: _Grid, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Follow the vertebral bodies plane by plane.

    Returns, per axial plane, the body centre ``(y, x)`` in voxel indices (NaN where the plane holds no
    body: a disc or nothing) and the body's in-plane depth (mm, the radius of the largest inscribed circle).
    """
    nz, ny, nx = depth.shape
    sp = grid.spacing
    xs = grid.origin[0] + np.arange(nx) * sp
    body = grid.array > -500.0
    counts = body.sum(axis=(0, 1)).astype(float)
    x_mid = float((counts * xs).sum() / counts.sum()) if counts.sum() else float(xs.mean())
    prior = np.exp(-(((xs - x_mid) / 15.0) ** 2)).astype(np.float32)
    # column evidence: the squared bone depth (favours the thick bodies over the thinner posterior
    # elements) summed over +-12 mm along z (bridges the discs), with a prior for the patient's midline
    half = max(1, int(round(12.0 / sp)))
    csum = np.concatenate([np.zeros((1, ny, nx), np.float32), np.cumsum(depth ** 2, axis=0, dtype=np.float32)])
    lo = np.clip(np.arange(nz) - half, 0, nz)
    hi = np.clip(np.arange(nz) + half + 1, 0, nz)
    column = (csum[hi] - csum[lo]) * prior[None, None, :]
    # several seeds (the strongest evidence on planes spread over the field), each followed up and down;
    # the path with the most body bone along its whole length is the column (the skull base, the mandible
    # or the articular pillars may be as thick somewhere, but not all the way along)
    step = _disk_offsets(4.0, sp)
    close = _disk_offsets(4.5, sp)
    squared = depth ** 2
    best_path, best_score = None, -1.0
    for z0 in sorted({int(round(f * (nz - 1))) for f in (0.2, 0.35, 0.5, 0.65, 0.8)}):
        for y0, x0 in _local_maxima(column[z0], count=3, separation=int(round(10.0 / sp))):
            path = np.zeros((nz, 2), dtype=int)
            path[z0] = (y0, x0)
            for direction in (1, -1):
                z, pos = z0 + direction, (y0, x0)
                while 0 <= z < nz:
                    y, x, _ = _argmax_near(column[z], pos, step)
                    pos = (y, x)
                    path[z] = pos
                    z += direction
            score = sum(_argmax_near(squared[z], (int(path[z, 0]), int(path[z, 1])), close)[2]
                        * float(prior[path[z, 1]]) for z in range(nz))
            if score > best_score:
                best_path, best_score = path, score
    if best_path is None:
        raise ValueError("no vertebral column found: no thick bone in the volume")
    path = best_path
    # per plane: the body centre near the path, where there is body bone
    near = _disk_offsets(9.0, sp)
    centres = np.full((nz, 2), np.nan)
    radius = np.zeros(nz)
    for z in range(nz):
        y, x, dmax = _argmax_near(depth[z], (int(path[z, 0]), int(path[z, 1])), near)
        if dmax < 2.5:
            continue
        # the centre of the body's thickest part: centroid of the voxels at least 0.7 of the deepest,
        # recentred (mean shift) so that a window off to one side does not bias it
        cy, cx = float(y), float(x)
        for _ in range(4):
            ys = np.clip(int(round(cy)) + near[0], 0, ny - 1)
            xs_i = np.clip(int(round(cx)) + near[1], 0, nx - 1)
            d = depth[z][ys, xs_i]
            core = d >= 0.7 * dmax
            w = d[core]
            cy, cx = float((ys[core] * w).sum() / w.sum()), float((xs_i[core] * w).sum() / w.sum())
        centres[z] = (cy, cx)
        radius[z] = dmax
    # planes whose body is much thinner than the column nearby hold something else (a dens, a body
    # replaced by tumour, posterior elements): not used for the curve
    ok = radius > 0
    typical = np.zeros(nz)
    half_w = int(round(40.0 / sp))
    for z in range(nz):
        window = radius[max(0, z - half_w):z + half_w + 1]
        window = window[window > 0]
        typical[z] = np.median(window) if window.size else 0.0
    thin = ok & (radius < 0.55 * typical)
    centres[thin] = np.nan
    radius[thin] = 0.0
    return centres, radius


def _smooth_curve(centres: np.ndarray, radius: np.ndarray, spacing: float, half_window_mm: float = 20.0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Smooth the per-plane body centres into a curve on every plane, and the local body radius.

    At the planes holding body bone: local linear regression with tricube weights over +-``half_window_mm``,
    done twice, the second time without the samples more than 3 mm (or three median deviations) from the
    first fit. Between them (discs, bodies replaced by tumour) the curve is interpolated linearly; beyond
    the first and last it is held. Returns ``(yx, radius)`` per plane (voxel indices, mm).
    """
    nz = len(centres)
    ok = ~np.isnan(centres[:, 0])
    if ok.sum() < 3:
        raise ValueError("no vertebral column found: fewer than three planes hold vertebral body bone")
    zk = np.nonzero(ok)[0].astype(float)
    values = np.stack([centres[ok, 0], centres[ok, 1]], axis=1)
    h = half_window_mm / spacing
    u = np.abs(zk[:, None] - zk[None, :]) / h
    weights = np.where(u < 1, (1 - u ** 3) ** 3, 0.0)
    keep = np.ones(len(zk), dtype=bool)
    fitted = values.copy()
    for _ in range(2):
        for i, z in enumerate(zk):
            w = weights[i] * keep
            a = np.stack([np.ones_like(zk), zk - z], axis=1) * np.sqrt(w)[:, None]
            if (w > 0).sum() >= 3:
                coef, *_ = np.linalg.lstsq(a, values * np.sqrt(w)[:, None], rcond=None)
                fitted[i] = coef[0]
        residual = np.linalg.norm(values - fitted, axis=1) * spacing
        mad = float(np.median(residual))
        keep = residual <= max(3.0, 3.0 * 1.4826 * mad)
    zs = np.arange(nz, dtype=float)
    curve = np.stack([np.interp(zs, zk[keep], fitted[keep, j]) for j in range(2)], axis=1)
    body_r = np.interp(zs, zk[keep], radius[ok][keep])
    return curve, body_r


def _body_profile(grid: _Grid, points: np.ndarray, tangents: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Bone fraction (area weighted) of a disc of tissue of ``radii`` mm perpendicular to the curve at each
    point (LPS mm)."""
    lateral = np.array([1.0, 0.0, 0.0])
    e1 = lateral[None, :] - (tangents @ lateral)[:, None] * tangents
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(tangents, e1)
    fr = (np.arange(5) + 0.5) / 5
    ang = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    cr = (fr[:, None] * np.cos(ang)[None, :]).ravel()
    sr = (fr[:, None] * np.sin(ang)[None, :]).ravel()
    weights = np.repeat(fr, len(ang))
    pts = (points[:, None, :] + radii[:, None, None] * (cr[None, :, None] * e1[:, None, :]
                                                         + sr[None, :, None] * e2[:, None, :]))
    bone = grid.sample(pts) >= BONE_HU
    return (bone * weights[None, :]).sum(axis=1) / weights.sum()


# -- splitting the column into bodies --------------------------------------------------------------------

_PROFILE_STEP_MM = 0.75
_BONE_RUN = 0.5        # core bone fraction above which the curve is inside a body's bone
_DISC_EMPTY = 0.05     # a disc: the cross-section over the whole body's width is (nearly) free of bone
_MIN_BODY_MM = 3.0     # shorter bony stretches between empty ones are partial volume, not bodies
_MIN_BODY_BONE = 0.2   # a body's cross-section holds at least this bone fraction somewhere


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges [start, stop) where ``mask`` is True."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _crossing(profile: np.ndarray, i: int, j: int, level: float) -> float:
    """Fractional index between samples i and j where the profile crosses ``level``."""
    a, b = profile[i], profile[j]
    t = 0.5 if a == b else float(np.clip((level - a) / (b - a), 0.0, 1.0))
    return i + t * (j - i)


def _segments(core: np.ndarray, whole: np.ndarray) -> list[tuple[float, float, bool, bool]]:
    """Split the profile into bodies: ``(start, stop, open_start, open_stop)`` in sample indices.

    The discs are the stretches where the whole cross-section is free of bone (``whole`` below
    ``_DISC_EMPTY``); everything between two discs is one vertebra, even where a lytic or fatty lesion has
    replaced the bone in its middle (the cortical shell keeps ``whole`` up). A body's end plates are where
    the whole cross-section's bone fraction first and last reaches one half (or half its peak, when only
    the shell is left). ``open_*`` says the body runs into the end
    of the field of view on that side (no disc seen there).
    """
    n = len(core)
    step = _PROFILE_STEP_MM
    regions = [r for r in _runs(whole >= _DISC_EMPTY) if (r[1] - r[0]) * step >= _MIN_BODY_MM]
    out = []
    for start, stop in regions:
        peak = float(whole[start:stop].max())
        if peak < _MIN_BODY_BONE:
            continue  # a few bone specks, not a vertebral body
        level = min(_BONE_RUN, 0.5 * peak)  # a body whose shell is all that is left: half its peak
        solid = np.flatnonzero(whole[start:stop] >= level)
        first, last = start + int(solid[0]), start + int(solid[-1])
        lo = _crossing(whole, first - 1, first, level) if first > start else float(start)
        hi = _crossing(whole, last, last + 1, level) if last + 1 < stop else float(stop - 1)
        out.append((lo, hi, start == 0, stop == n))
    return out


def _sample_volume(volume: Volume, lps: np.ndarray) -> np.ndarray:
    """Trilinear interpolation of the volume's own voxels at LPS points (nearest edge value beyond it)."""
    idx = volume.lps_to_index(np.atleast_2d(lps))  # (column, row, slice)
    arr = volume.array
    shape = np.array([arr.shape[2], arr.shape[1], arr.shape[0]])
    p = np.clip(idx, 0, shape - 1.000001)
    lo = np.floor(p).astype(int)
    f = p - lo
    acc = np.zeros(len(p))
    for dc in (0, 1):
        wc = f[:, 0] if dc else 1 - f[:, 0]
        for dr in (0, 1):
            wr = f[:, 1] if dr else 1 - f[:, 1]
            for ds in (0, 1):
                ws = f[:, 2] if ds else 1 - f[:, 2]
                acc += wc * wr * ws * arr[lo[:, 2] + ds, lo[:, 1] + dr, lo[:, 0] + dc]
    return acc


@dataclass
class _Column:
    """The spine's curve resampled every ``_PROFILE_STEP_MM`` along its length."""

    points: np.ndarray    # (n, 3) LPS mm, from inferior to superior
    tangents: np.ndarray  # (n, 3) unit, pointing superiorly
    body_radius: np.ndarray  # (n,) mm
    inscribed: np.ndarray    # (n,) mm: radius of the largest bone disc near the curve on its axial plane

    def at(self, s_index: float) -> np.ndarray:
        i = np.arange(len(self.points))
        return np.array([np.interp(s_index, i, self.points[:, k]) for k in range(3)])


def _column(grid: _Grid, depth: np.ndarray, curve: np.ndarray, body_r: np.ndarray) -> _Column:
    """Resample the per-plane curve by arc length, with its tangents, body radius and inscribed radius."""
    nz = len(curve)
    plane_pts = grid.to_lps(np.concatenate([np.arange(nz)[:, None], curve], axis=1))
    s_plane = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(plane_pts, axis=0), axis=1))])
    ss = np.arange(0.0, s_plane[-1] + 1e-9, _PROFILE_STEP_MM)
    pts = np.stack([np.interp(ss, s_plane, plane_pts[:, k]) for k in range(3)], axis=1)
    tan = np.gradient(pts, axis=0)
    tan /= np.linalg.norm(tan, axis=1, keepdims=True)
    near = _disk_offsets(5.0, grid.spacing)
    z_of_s = np.interp(ss, s_plane, np.arange(nz))
    inscribed = np.zeros(len(ss))
    for i, z in enumerate(z_of_s):
        zi = int(round(z))
        y = int(round(float(np.interp(z, np.arange(nz), curve[:, 0]))))
        x = int(round(float(np.interp(z, np.arange(nz), curve[:, 1]))))
        inscribed[i] = _argmax_near(depth[zi], (y, x), near)[2]
    return _Column(pts, tan, np.interp(ss, s_plane, body_r), inscribed)


def _anterior(tangent: np.ndarray) -> np.ndarray:
    """The unit vector perpendicular to the curve's tangent pointing anteriorly (LPS -y)."""
    a = np.array([0.0, -1.0, 0.0]) + tangent * tangent[1]
    return a / np.linalg.norm(a)


def _anterior_arch(volume: Volume, column: _Column, lo: int, hi: int) -> np.ndarray | None:
    """Centre (LPS mm) of the atlas's anterior arch in front of the dens between profile samples lo..hi:
    along each sample's ray running anteriorly from the dens centre, the most anterior run of bone that
    is separated from the dens, 3-16 mm in front of its centre. None when no such bone is found."""
    steps = np.arange(0.0, 16.0, 0.2)
    found_s, found_d = [], []
    for i in range(lo, hi + 1):
        ray = column.points[i][None, :] + steps[:, None] * _anterior(column.tangents[i])[None, :]
        bone = _sample_volume(volume, ray) >= BONE_HU
        runs = [r for r in _runs(bone) if r[0] > 0 and steps[r[0]] >= 3.0]
        if runs and bone[0]:
            start, stop = runs[-1]
            found_s.append(i)
            found_d.append(0.5 * (steps[start] + steps[stop - 1]))
    if len(found_s) < 3:
        return None
    i_mid = 0.5 * (found_s[0] + found_s[-1])
    return column.at(i_mid) + float(np.median(found_d)) * _anterior(column.tangents[int(round(i_mid))])


def detect_vertebrae(volume: Volume, spacing_mm: float = 1.5) -> list[VertebraCandidate]:
    """Find the vertebral bodies of a CT volume, cranial to caudal.

    ``volume`` must be CT in Hounsfield units with known pixel spacing; it is analysed on an LPS-aligned grid
    of ``spacing_mm`` (see the module docstring for the method). Every body whose centre lies in the field of
    view is returned, with its centre in LPS mm; a body cut by the edge of the field gets its centre from the
    typical body height and a lower confidence. At the top of the cervical spine, where the dens rises from
    the axis without a disc, the axis body ends where the dens begins and the atlas (which has no body) is
    placed at its anterior arch.

    Raises ValueError for a volume that is not CT, has no pixel spacing, or shows no vertebral column.
    """
    if not volume.is_ct:
        raise ValueError(f"vertebra detection needs a CT volume in Hounsfield units, got modality "
                         f"{volume.modality!r}")
    if not volume.pixel_spacing_known:
        raise ValueError("vertebra detection needs the pixel spacing, which this volume does not give")
    grid = _working_grid(volume, spacing_mm)
    _, depth = _inplane_bone_depth(grid)
    centres, radius = _track_column(grid, depth)
    curve, body_r = _smooth_curve(centres, radius, grid.spacing)
    column = _column(grid, depth, curve, body_r)
    core = _body_profile(grid, column.points, column.tangents, np.clip(0.75 * column.body_radius, 4.0, 15.0))
    whole = _body_profile(grid, column.points, column.tangents, np.clip(1.1 * column.body_radius, 5.0, 25.0))
    segments = _segments(core, whole)
    if not segments:
        return []
    step = _PROFILE_STEP_MM
    n = len(core)
    closed = [(hi - lo) * step for lo, hi, open_lo, open_hi in segments if not (open_lo or open_hi)]
    typical_height = float(np.median(closed)) if closed else float(np.median([(hi - lo) * step
                                                                            for lo, hi, *_ in segments]))
    found: list[tuple[float, VertebraCandidate]] = []

    def add(lo: float, hi: float, centre_index: float, confidence: float, notes: tuple[str, ...],
            centre: np.ndarray | None = None, kind: str = "body") -> None:
        p = column.at(centre_index) if centre is None else centre
        found.append((centre_index, VertebraCandidate(
            center_lps=tuple(float(v) for v in p),  # type: ignore[arg-type]
            superior_lps=tuple(float(v) for v in column.at(hi)),  # type: ignore[arg-type]
            inferior_lps=tuple(float(v) for v in column.at(lo)),  # type: ignore[arg-type]
            height_mm=float((hi - lo) * step), confidence=confidence, notes=notes, kind=kind)))

    for k, (lo, hi, open_lo, open_hi) in enumerate(segments):
        if k == len(segments) - 1:
            # the top of the column: a dens rising from the axis body without a disc (and above it, maybe,
            # the skull base, which is not a vertebra)
            below = np.zeros(n, dtype=bool)
            for lo2, hi2, *_ in segments[:-1]:
                below[int(math.ceil(lo2)):int(hi2) + 1] = True
            reference = column.inscribed[below] if below.any() else column.inscribed[int(lo):int((lo + hi) / 2)]
            first = int(math.ceil(lo))
            thin = column.inscribed[first:int(hi) + 1] < 0.7 * float(np.median(reference))
            dens = next(((a, b) for a, b in _runs(thin) if (b - a) * step >= 6.0
                         and a * step >= 0.5 * typical_height), None)
            if dens is not None:
                dens_start, dens_stop = first + dens[0], first + dens[1] - 1
                arch = _anterior_arch(volume, column, dens_start, dens_stop)
                if arch is not None:
                    add(lo, dens_start, 0.5 * (lo + dens_start), 0.8,
                        ("axis (C2): body below the dens",), kind="axis")
                    add(dens_start, dens_stop, 0.5 * (dens_start + dens_stop), 0.7,
                        ("atlas (C1): no body; centre of the anterior arch",), centre=arch, kind="atlas")
                    continue
        length = (hi - lo) * step
        if (open_lo or open_hi) and length < 0.8 * typical_height:
            centre_index = hi - 0.5 * typical_height / step if open_lo else lo + 0.5 * typical_height / step
            if not 0.0 <= centre_index <= n - 1:
                continue  # the body's centre lies outside the field of view
            add(lo, hi, centre_index, 0.5, ("partly outside the field of view: centre estimated from the "
                                            "height of the other bodies",))
        else:
            add(lo, hi, 0.5 * (lo + hi), 1.0, ())
    found.sort(key=lambda item: -item[0])  # cranial first
    return [c for _, c in found]


_KIND_LABEL = {"atlas": "C1", "axis": "C2"}


def label_vertebrae(candidates: Sequence[VertebraCandidate], index: int, label: str,
                    variants: Collection[str] = ()) -> list[str]:
    """Name every candidate from one named vertebra.

    ``candidates`` are in cranio-caudal order (as :func:`detect_vertebrae` returns them); ``candidates[index]``
    is ``label``. The others are named by walking up and down the column, one level per candidate,
    skipping none; the variant levels T13 and L6 are used only when named in ``variants`` (see
    :mod:`imaging.spine.levels`). The sacral levels S1-S5 and the coccyx follow L5 (or L6).

    Raises ValueError when the index is not a candidate's, when the walk runs past C1 or the coccyx (the
    named level cannot be right), or when it would give a recognised atlas or axis candidate another name
    than C1 or C2.
    """
    n = len(candidates)
    if not 0 <= index < n:
        raise ValueError(f"index {index} is not one of the {n} candidates")
    labels: list[str | None] = [None] * n
    labels[index] = normalize_level(label)
    for i in range(index - 1, -1, -1):
        above = level_above(labels[i + 1], variants)  # type: ignore[arg-type]
        if above is None:
            raise ValueError(f"naming candidate {index} {labels[index]} leaves {i + 1} candidate(s) above C1")
        labels[i] = above
    for i in range(index + 1, n):
        below = level_below(labels[i - 1], variants)  # type: ignore[arg-type]
        if below is None:
            raise ValueError(f"naming candidate {index} {labels[index]} leaves {n - i} candidate(s) below the "
                             "coccyx")
        labels[i] = below
    for i, (candidate, name) in enumerate(zip(candidates, labels, strict=True)):
        expected = _KIND_LABEL.get(candidate.kind)
        if expected is not None and name != expected:
            raise ValueError(f"candidate {i} was recognised as the {candidate.kind} ({expected}) but would be "
                             f"named {name}: check the named level")
    return [str(name) for name in labels]
