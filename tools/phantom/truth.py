"""Ground truth of a phantom: lesion extents, worst-compression slice and its outlines, as LPS mm."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from tools.phantom.anatomy import SpineModel
from tools.phantom.labels import Label
from tools.phantom.raster import CanalModel, Grid, canal_contents, canal_geometry, part_frame, rasterize
from tools.phantom.scene import Lesion, Scene


def mask_to_polygons(mask: np.ndarray, xs: np.ndarray, ys: np.ndarray, z: float,
                     min_step: float = 0.4) -> list[list[list[float]]]:
    """Outlines of a 2D mask ``[y, x]`` (pixel centres at ``xs``, ``ys``, mm) as closed LPS polygons.

    The boundary follows pixel edges (counter-clockwise in (x, y)), then keeps a vertex every
    ``min_step`` mm at least. Returns a list of polygons, each a list of ``[L, P, S]``; largest first."""
    m = np.pad(mask.astype(bool), 1)
    dx = float(xs[1] - xs[0]) if len(xs) > 1 else 1.0
    dy = float(ys[1] - ys[0]) if len(ys) > 1 else 1.0
    edges: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    ii, jj = np.nonzero(m)
    for i, j in zip(ii.tolist(), jj.tolist(), strict=False):
        # corners (row, col) of pixel (i, j): (i, j) top-left ... (i+1, j+1)
        if not m[i - 1, j]:
            edges[(i, j + 1)].append((i, j))
        if not m[i + 1, j]:
            edges[(i + 1, j)].append((i + 1, j + 1))
        if not m[i, j - 1]:
            edges[(i, j)].append((i + 1, j))
        if not m[i, j + 1]:
            edges[(i + 1, j + 1)].append((i, j + 1))
    loops = []
    while edges:
        start = next(iter(edges))
        loop = [start]
        cur = start
        while True:
            nxt_list = edges.get(cur)
            if not nxt_list:
                break
            nxt = nxt_list.pop()
            if not nxt_list:
                del edges[cur]
            if nxt == start:
                break
            loop.append(nxt)
            cur = nxt
        if len(loop) >= 4:
            loops.append(loop)
    polys = []
    for loop in loops:
        pts = np.array(loop, dtype=float)       # (row, col) in padded corner indices
        x = xs[0] + (pts[:, 1] - 1 - 0.5) * dx
        y = ys[0] + (pts[:, 0] - 1 - 0.5) * dy
        keep = [0]
        for k in range(1, len(x)):
            if np.hypot(x[k] - x[keep[-1]], y[k] - y[keep[-1]]) >= min_step:
                keep.append(k)
        if len(keep) < 3:
            continue
        area = 0.5 * abs(np.dot(x[keep], np.roll(y[keep], 1)) - np.dot(y[keep], np.roll(x[keep], 1)))
        polys.append((area, [[float(x[k]), float(y[k]), float(z)] for k in keep]))  # full precision
    polys.sort(key=lambda p: -p[0])
    return [p[1] for p in polys]


def lesion_bbox(spine: SpineModel, lesion: Lesion) -> tuple[np.ndarray, np.ndarray]:
    """A generous LPS bounding box (mm) of everything a lesion can paint."""
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    for part in lesion.parts:
        c, _ = part_frame(spine, part)
        r = max(part.size) / 2 + 1.0
        lo = np.minimum(lo, c - r)
        hi = np.maximum(hi, c + r)
    if lesion.epidural is not None and lesion.epidural.grade != "0":
        m = CanalModel(spine, lesion.epidural)
        for s in np.linspace(*m.s_range(), 9):
            g = canal_geometry(spine, np.array([s]))
            c = spine.local_to_lps(0.0, float(g.v_canal[0]), s)
            r = float(max(g.a_canal[0], g.b_canal[0])) + 1.0
            lo = np.minimum(lo, c - r)
            hi = np.maximum(hi, c + r)
    return lo, hi


def lesion_extent(spine: SpineModel, scene: Scene, index: int, step: float = 0.3
                  ) -> tuple[dict[str, float], list[float]]:
    """Extents of lesion ``index`` (0-based) along the patient axes, measured on a fine grid.

    Returns ``({"lr": mm, "ap": mm, "cc": mm}, centre_lps)`` where the centre is the middle of the
    bounding box. Extents are measured between the outer faces of the fine voxels."""
    lesion = scene.lesions[index]
    lo, hi = lesion_bbox(spine, lesion)
    xs = np.arange(lo[0], hi[0] + step, step)
    ys = np.arange(lo[1], hi[1] + step, step)
    zs = np.arange(lo[2], hi[2] + step, step)
    r = rasterize(spine, Grid(xs, ys, zs), scene, soft_tissue=False)
    m = r.lesions == index + 1
    if not m.any():
        return {"lr": 0.0, "ap": 0.0, "cc": 0.0}, [0.0, 0.0, 0.0]
    zi = np.nonzero(m.any(axis=(1, 2)))[0]
    yi = np.nonzero(m.any(axis=(0, 2)))[0]
    xi = np.nonzero(m.any(axis=(0, 1)))[0]
    ext = {"lr": (xi[-1] - xi[0] + 1) * step, "ap": (yi[-1] - yi[0] + 1) * step, "cc": (zi[-1] - zi[0] + 1) * step}
    centre = [float((xs[xi[0]] + xs[xi[-1]]) / 2), float((ys[yi[0]] + ys[yi[-1]]) / 2),
              float((zs[zi[0]] + zs[zi[-1]]) / 2)]
    return {k: float(v) for k, v in ext.items()}, centre  # full precision: data files are never rounded


def compression_contours(spine: SpineModel, scene: Scene, z: float, level: str, step: float = 0.1
                         ) -> dict[str, list[list[list[float]]]]:
    """Outlines on the axial plane at height ``z`` (LPS mm) around the canal of ``level``.

    Keys: ``bony_canal``, ``thecal_sac`` (CSF + cord + roots), ``cord``, ``epidural_tumour`` (tumour inside
    the canal) and ``tumour`` (every tumour voxel of the plane in a 70 mm square around the canal).
    Below the conus ``cord`` is an empty list."""
    del level  # the plane is given by z; the level names it in the truth
    s_here = float(spine.z_to_s(z))
    g = canal_geometry(spine, np.array([s_here]))
    c = spine.local_to_lps(0.0, float(g.v_canal[0]), s_here)
    half = float(max(g.a_canal[0], g.b_canal[0])) + 3.0
    xs = np.arange(c[0] - half, c[0] + half + step / 2, step)
    ys = np.arange(c[1] - half, c[1] + half + step / 2, step)
    V, S = spine.project(ys, np.full_like(ys, z))
    U = xs[None, :]
    models = [(k, CanalModel(spine, les.epidural)) for k, les in enumerate(scene.lesions, start=1)
              if les.epidural is not None and les.epidural.grade != "0"]
    canal, labs, _ = canal_contents(spine, U, V[:, None], S[:, None], models)
    L_ = Label
    out = {
        "bony_canal": mask_to_polygons(canal, xs, ys, z),
        "thecal_sac": mask_to_polygons(canal & np.isin(labs, (L_.CSF, L_.CORD, L_.NERVE_ROOT)), xs, ys, z),
        "cord": mask_to_polygons(canal & (labs == L_.CORD), xs, ys, z),
        "epidural_tumour": mask_to_polygons(canal & (labs == L_.TUMOUR), xs, ys, z),
    }
    # Whole tumour section on this plane (coarser grid, wider field)
    st = 0.25
    xs2 = np.arange(c[0] - 35, c[0] + 35 + st / 2, st)
    ys2 = np.arange(c[1] - 45, c[1] + 25 + st / 2, st)
    r = rasterize(spine, Grid(xs2, ys2, np.array([z])), scene, soft_tissue=False)
    out["tumour"] = mask_to_polygons(r.labels[0] == L_.TUMOUR, xs2, ys2, z)
    return out
