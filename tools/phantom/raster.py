"""Rasterise the phantom's anatomy into label maps on axis-aligned LPS grids.

A `Grid` is three ascending coordinate vectors (voxel centres, LPS mm). `rasterize` returns, for every
voxel (array order ``[z, y, x]``): a structure id (`Label`), a lesion number (0 = none, k = k-th lesion
of the scene) and a vertebra number (0 = none, ``LEVEL_ORDER.index(label) + 1`` for the bone of that
vertebra).

Bone, canal, thecal sac and cord are shaped in the local spine frame (u, v, s) of
`tools.phantom.anatomy`; soft tissues follow the patient axes, placed relative to the vertebral body
centre line at each height.

The spinal canal's content (epidural fat, thecal sac, cord, cauda equina and epidural tumour) comes from
`CanalModel`, which also turns a chosen Bilsky grade into a tumour depth:

* 1a: tumour in the epidural fat, the thecal sac is not deformed;
* 1b: the sac is pushed and indented, the cord is not touched;
* 1c: the indentation reaches the cord without deforming it;
* 2: the cord is flattened, CSF is still visible around it;
* 3: the cord fills what is left of the sac, no CSF around it.
"""

# Upper-case names (U, V, S, X, Y, Z) are coordinate arrays, not constants: SIM300 does not apply.
# ruff: noqa: SIM300
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.phantom.anatomy import LEVEL_ORDER, SpineModel, region_of
from tools.phantom.labels import Label
from tools.phantom.scene import EpiduralExtension, Lesion, LesionPart, Scene

L = Label


@dataclass(frozen=True)
class Grid:
    """Voxel centres of an axis-aligned LPS grid: ascending ``xs``, ``ys``, ``zs`` in mm."""

    xs: np.ndarray
    ys: np.ndarray
    zs: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape ``(nz, ny, nx)``."""
        return (len(self.zs), len(self.ys), len(self.xs))

    @staticmethod
    def from_extent(x: tuple[float, float, float], y: tuple[float, float, float],
                    z: tuple[float, float, float]) -> Grid:
        """Each argument is (first centre, spacing, count), mm."""
        def ax(a: tuple[float, float, float]) -> np.ndarray:
            return a[0] + a[1] * np.arange(int(a[2]))
        return Grid(ax(x), ax(y), ax(z))


@dataclass
class Raster:
    """Label maps on a `Grid`, arrays ``[z, y, x]``."""

    grid: Grid
    labels: np.ndarray    # uint8 `Label`
    lesions: np.ndarray   # uint8: 0 none, k = scene.lesions[k - 1]
    levels: np.ndarray    # uint8: 0 none, LEVEL_ORDER index + 1 (bone of that vertebra)


# --------------------------------------------------------------------------------------------------
# The spinal canal: thecal sac, cord and epidural tumour
# --------------------------------------------------------------------------------------------------

def _support(a: float | np.ndarray, b: float | np.ndarray, nu: float, nv: float) -> np.ndarray:
    """Half-extent along unit (nu, nv) of an axis-aligned ellipse with half-axes a (u) and b (v)."""
    return np.sqrt((a * nu) ** 2 + (b * nv) ** 2)


@dataclass
class CanalProfile:
    """Canal, sac and cord ellipses along the spine, at arc lengths ``s`` (arrays, mm, local frame); the axial
    canal of one section is :class:`imaging.spine.canal_model.CanalGeometry`."""

    v_canal: np.ndarray   # canal centre v
    a_canal: np.ndarray   # half-axes
    b_canal: np.ndarray
    v_sac: np.ndarray
    a_sac: np.ndarray
    b_sac: np.ndarray
    v_cord: np.ndarray
    a_cord: np.ndarray
    b_cord: np.ndarray


def canal_geometry(spine: SpineModel, s: np.ndarray) -> CanalProfile:
    """Canal, thecal sac and cord sizes and centres at arc lengths ``s`` (mm)."""
    d = spine.dims_at(s)
    v_canal = d["depth"] / 2 + d["canal_ap"] / 2 - 1.0
    a_c, b_c = d["canal_lr"] / 2, d["canal_ap"] / 2
    # Sac: 1 mm of epidural fat in front, the rest behind; ends at S2.
    s1 = spine.vertebra("S1")
    taper = np.clip((s - (s1.bottom - 12.0)) / 20.0, 0.0, 1.0)
    a_s = d["sac_lr"] / 2 * taper
    b_s = d["sac_ap"] / 2 * taper
    v_sac = v_canal - b_c + 1.0 + b_s
    # Cord: ends as the conus just below the L1 lower end plate.
    l1 = spine.vertebra("L1")
    conus = np.clip((s - (l1.bottom - 3.0)) / (l1.s + 4.0 - (l1.bottom - 3.0)), 0.0, 1.0)
    conus = np.sqrt(conus)
    a_k = np.where(s > l1.bottom - 3.0, np.maximum(d["cord_lr"], 8.0 * (s < l1.s)), 0.0) / 2 * conus
    b_k = np.where(s > l1.bottom - 3.0, np.maximum(d["cord_ap"], 7.0 * (s < l1.s)), 0.0) / 2 * conus
    v_cord = v_sac - 0.5
    return CanalProfile(v_canal, a_c, b_c, v_sac, a_s, b_s, v_cord, a_k, b_k)


FRONT_CURVATURE = 1.0 / 16.0   # tumour front: pn >= F + k * pm^2 (a convex front of radius 8 mm)


class CanalModel:
    """Epidural tumour growing in from one side of the canal, with the sac and cord it displaces.

    Depth ``t`` (mm) is measured from the canal wall inwards along ``n``. The sac slides away by half of
    the push until the far epidural fat is used up; the rest indents it. Once the cord is reached it is
    flattened (grade 2) and, when what is left of the sac is no larger than the cord, the cord fills it
    (grade 3: no CSF).
    """

    def __init__(self, spine: SpineModel, ext: EpiduralExtension) -> None:
        self.ext = ext
        vt = spine.vertebra(ext.level)
        self.s_centre = vt.s + ext.w
        self.half_len = ext.cc_length / 2.0
        th = np.radians(ext.direction_deg)
        self.n = (float(np.sin(th)), float(np.cos(th)))     # (u, v)
        self.m = (float(np.cos(th)), float(-np.sin(th)))
        g = canal_geometry(spine, np.array([self.s_centre]))
        self.g0 = {k: float(getattr(g, k)[0]) for k in g.__dataclass_fields__}
        self.t3 = self._solve_area(1.0)
        self.t_max = self.depth_for_grade(ext.grade)

    # positions along n (relative to the canal centre) at the centre geometry
    def _positions(self) -> dict[str, float]:
        g, (nu, nv) = self.g0, self.n
        pc = float(_support(g["a_canal"], g["b_canal"], nu, nv))
        cs = (g["v_sac"] - g["v_canal"]) * nv
        hs = float(_support(g["a_sac"], g["b_sac"], nu, nv))
        ck = (g["v_cord"] - g["v_canal"]) * nv
        hk = float(_support(g["a_cord"], g["b_cord"], nu, nv))
        return {"Pc": pc, "Ps": cs + hs, "Qs": cs - hs, "Pk": ck + hk, "Qk": ck - hk, "hk": hk}

    def shift(self, t: np.ndarray | float, pos: dict[str, float] | None = None) -> np.ndarray:
        """Sac displacement (mm, away from the tumour) for depth ``t``."""
        p = pos or self._positions()
        g_near = p["Pc"] - p["Ps"]
        g_far = p["Qs"] + p["Pc"]
        return np.clip(0.5 * (np.asarray(t) - g_near), 0.0, max(g_far - 0.3, 0.0))

    def _residual_area(self, t: float) -> float:
        g = self.g0
        h = 0.05
        uu = np.arange(-g["a_canal"], g["a_canal"] + h, h)
        vv = np.arange(-g["b_canal"], g["b_canal"] + h, h)
        U, V = np.meshgrid(uu, vv, indexing="xy")
        nu, nv = self.n
        mu, mv = self.m
        pn = U * nu + V * nv
        pm = U * mu + V * mv
        d = float(self.shift(t))
        F = self._positions()["Pc"] - t
        tum = pn >= F + FRONT_CURVATURE * pm ** 2
        su, sv = -d * nu, (g["v_sac"] - g["v_canal"]) - d * nv
        sac = ((U - su) / g["a_sac"]) ** 2 + ((V - sv) / g["b_sac"]) ** 2 <= 1.0
        return float(np.count_nonzero(sac & ~tum)) * h * h

    def _solve_area(self, frac: float) -> float:
        g = self.g0
        target = frac * np.pi * g["a_cord"] * g["b_cord"]
        lo, hi = 0.0, 2 * self._positions()["Pc"]
        for _ in range(40):
            mid = (lo + hi) / 2
            if self._residual_area(mid) > target:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    def depth_for_grade(self, grade: str) -> float:
        """Tumour depth (mm from the canal wall) that gives ``grade`` at the centre of the extension."""
        p = self._positions()
        g_near = p["Pc"] - p["Ps"]
        gap_cord = p["Ps"] - p["Pk"]          # CSF between sac wall and cord on the tumour side

        def indentation(t: float) -> float:
            return t - g_near - float(self.shift(t, p))

        def solve(target: float) -> float:
            lo, hi = g_near, 2 * p["Pc"]
            for _ in range(50):
                mid = (lo + hi) / 2
                if indentation(mid) < target:
                    lo = mid
                else:
                    hi = mid
            return (lo + hi) / 2

        if grade == "0":
            return 0.0
        if grade == "1a":
            return 0.7 * g_near
        if grade == "1b":
            return solve(0.5 * gap_cord)
        if grade == "1c":
            return solve(gap_cord)
        if grade == "2":
            t = solve(gap_cord + 0.35 * 2 * p["hk"])
            return min(t, 0.85 * self.t3 + 0.15 * solve(gap_cord))
        return self._solve_area(0.7)

    def depth(self, s: np.ndarray) -> np.ndarray:
        """Tumour depth (mm) at arc lengths ``s``: ``t_max`` over the central 40 %, smoothly 0 at the ends."""
        x = np.abs((s - self.s_centre) / self.half_len)
        # plateau over the central 40 %, then a smooth taper to the ends
        y = np.clip((x - 0.4) / 0.6, 0.0, 1.0)
        return np.where(x < 1.0, self.t_max * np.cos(y * np.pi / 2) ** 0.7, 0.0)

    def s_range(self) -> tuple[float, float]:
        return self.s_centre - self.half_len, self.s_centre + self.half_len


def canal_contents(spine: SpineModel, U: np.ndarray, V: np.ndarray, S: np.ndarray,
                   models: list[tuple[int, CanalModel]], roots: bool = True
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels inside the bony canal for local coordinates (broadcast arrays, mm).

    Returns ``(canal_mask, labels, lesion_ids)``; ``labels`` holds EPIDURAL_FAT, CSF, CORD, NERVE_ROOT or
    TUMOUR where ``canal_mask``, and ``lesion_ids`` the 1-based lesion number of epidural tumour."""
    U, V, S = np.broadcast_arrays(U, V, S)
    g = canal_geometry(spine, S)
    pu = U
    pv = V - g.v_canal
    canal = (pu / g.a_canal) ** 2 + (pv / g.b_canal) ** 2 <= 1.0
    shift = np.zeros(U.shape)
    tum = np.zeros(U.shape, dtype=bool)
    tum_id = np.zeros(U.shape, dtype=np.uint8)
    sn = (np.zeros(U.shape), np.zeros(U.shape))   # shift direction components (u, v)
    cord_override = np.zeros(U.shape, dtype=bool)
    squeezed = np.zeros(U.shape, dtype=bool)
    cord_sq = np.zeros(U.shape, dtype=bool)
    for lesion_no, mdl in models:
        t = mdl.depth(S)
        if not np.any(t > 0):
            continue
        nu, nv = mdl.n
        mu, mv = mdl.m
        pc = _support(g.a_canal, g.b_canal, nu, nv)
        ps = (g.v_sac - g.v_canal) * nv + _support(g.a_sac, g.b_sac, nu, nv)
        qs = (g.v_sac - g.v_canal) * nv - _support(g.a_sac, g.b_sac, nu, nv)
        g_near = pc - ps
        g_far = qs + pc
        d = np.clip(0.5 * (t - g_near), 0.0, np.maximum(g_far - 0.3, 0.0)) * (t > 0)
        F = pc - t
        pn = pu * nu + pv * nv
        pm = pu * mu + pv * mv
        this = canal & (t > 0) & (pn >= F + FRONT_CURVATURE * pm ** 2)
        tum |= this
        tum_id[this] = lesion_no
        shift = np.maximum(shift, d)
        sn = (np.where(t > 0, nu, sn[0]), np.where(t > 0, nv, sn[1]))
        # Cord after the sac shift
        ck = (g.v_cord - g.v_canal) * nv - d
        hk = _support(g.a_cord, g.b_cord, nu, nv)
        pk = ck + hk
        qk = ck - hk
        comp = pk - F
        regime3 = (t >= mdl.t3) & (t > 0)
        regime2 = (comp > 0) & ~regime3 & (t > 0)
        cord_override |= regime3
        if np.any(regime2):
            qs_s = qs - d
            q_new = np.maximum(qk - 0.5 * comp, qs_s + 0.8)
            r_new = np.maximum((F - q_new) / 2, 0.3)
            c_new = (F + q_new) / 2
            cm = (g.v_cord - g.v_canal) * mv
            hk_m = _support(g.a_cord, g.b_cord, mu, mv)
            hs_m = _support(g.a_sac, g.b_sac, mu, mv)
            a_new = np.minimum(hk_m * np.sqrt(hk / r_new), hs_m - 1.0)
            ell = ((pn - c_new) / r_new) ** 2 + ((pm - cm) / a_new) ** 2 <= 1.0
            squeezed |= regime2
            cord_sq |= regime2 & ell
    # Sac and cord, displaced
    su = pu + shift * sn[0]
    sv = pv + shift * sn[1]
    sac = ((su / np.maximum(g.a_sac, 1e-6)) ** 2 + ((sv - (g.v_sac - g.v_canal)) / np.maximum(g.b_sac, 1e-6)) ** 2
           <= 1.0) & (g.a_sac > 0) & canal
    cord = ((su / np.maximum(g.a_cord, 1e-6)) ** 2
            + ((sv - (g.v_cord - g.v_canal)) / np.maximum(g.b_cord, 1e-6)) ** 2 <= 1.0) & (g.a_cord > 0.2)
    cord = np.where(squeezed, cord_sq, cord)
    sac &= ~tum
    cord = np.where(cord_override, sac, cord & sac)
    labels = np.full(U.shape, L.EPIDURAL_FAT, dtype=np.uint8)
    labels[sac] = L.CSF
    if roots:
        # Cauda equina: roots lying dorsally (supine patient) below the conus.
        l1 = spine.vertebra("L1")
        below = S < l1.s
        if np.any(below & sac):
            rts = np.zeros(U.shape, dtype=bool)
            for k in range(9):
                th = np.radians(25 + k * 130 / 8)
                ru = np.cos(th) * 0.62 * g.a_sac
                rv = (g.v_sac - g.v_canal) + np.sin(th) * 0.55 * g.b_sac
                rts |= (su - ru) ** 2 + (sv - rv) ** 2 <= 0.85 ** 2
            labels[rts & sac & below] = L.NERVE_ROOT
    labels[cord] = L.CORD
    labels[tum & ~cord] = L.TUMOUR
    tum_id[~(tum & ~cord)] = 0
    return canal, labels, tum_id


# --------------------------------------------------------------------------------------------------
# Rasteriser
# --------------------------------------------------------------------------------------------------

class _Ctx:
    """Local coordinates of a grid and the arrays being painted."""

    def __init__(self, spine: SpineModel, grid: Grid, scene: Scene) -> None:
        self.spine, self.grid, self.scene = spine, grid, scene
        Z, Y = np.meshgrid(grid.zs, grid.ys, indexing="ij")
        self.V2, self.S2 = spine.project(Y, Z)        # (nz, ny)
        self.yb = spine.z_to_y(grid.zs)              # body centre line y at each z
        self.sz = spine.z_to_s(grid.zs)
        shape = grid.shape
        self.lab = np.zeros(shape, dtype=np.uint8)
        self.les = np.zeros(shape, dtype=np.uint8)
        self.lev = np.zeros(shape, dtype=np.uint8)

    def block(self, s_rng: tuple[float, float], v_rng: tuple[float, float], u_rng: tuple[float, float]
              ) -> tuple[tuple[slice, slice, slice], np.ndarray, np.ndarray, np.ndarray] | None:
        """Sub-box of voxels whose local coordinates can fall in the ranges, with U, V, S views."""
        m = (self.S2 >= s_rng[0]) & (self.S2 <= s_rng[1]) & (self.V2 >= v_rng[0]) & (self.V2 <= v_rng[1])
        if not m.any():
            return None
        zi = np.nonzero(m.any(axis=1))[0]
        yi = np.nonzero(m.any(axis=0))[0]
        xi = np.nonzero((self.grid.xs >= u_rng[0]) & (self.grid.xs <= u_rng[1]))[0]
        if xi.size == 0:
            return None
        sl = (slice(zi[0], zi[-1] + 1), slice(yi[0], yi[-1] + 1), slice(xi[0], xi[-1] + 1))
        U = self.grid.xs[sl[2]][None, None, :]
        V = self.V2[sl[0], sl[1]][:, :, None]
        S = self.S2[sl[0], sl[1]][:, :, None]
        return sl, U, V, S

    def wblock(self, lo: np.ndarray, hi: np.ndarray
               ) -> tuple[tuple[slice, slice, slice], np.ndarray, np.ndarray, np.ndarray] | None:
        """Sub-box for an LPS bounding box; returns X, Y, Z views (broadcastable)."""
        g = self.grid
        xi = np.nonzero((g.xs >= lo[0]) & (g.xs <= hi[0]))[0]
        yi = np.nonzero((g.ys >= lo[1]) & (g.ys <= hi[1]))[0]
        zi = np.nonzero((g.zs >= lo[2]) & (g.zs <= hi[2]))[0]
        if xi.size == 0 or yi.size == 0 or zi.size == 0:
            return None
        sl = (slice(zi[0], zi[-1] + 1), slice(yi[0], yi[-1] + 1), slice(xi[0], xi[-1] + 1))
        return sl, g.xs[sl[2]][None, None, :], g.ys[sl[1]][None, :, None], g.zs[sl[0]][:, None, None]

    def paint(self, sl: tuple[slice, slice, slice], mask: np.ndarray, label: int, level: int | None = None
              ) -> None:
        mask = np.broadcast_to(mask, self.lab[sl].shape)
        self.lab[sl][mask] = label
        if level is not None:
            self.lev[sl][mask] = level


def _ellipse(u: np.ndarray, v: np.ndarray, a: float | np.ndarray, b: float | np.ndarray) -> np.ndarray:
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _capsule2(p: tuple[np.ndarray, np.ndarray], a: tuple[float, float], b: tuple[float, float]
              ) -> np.ndarray:
    """Distance from 2D points p to segment a-b."""
    px, py = p
    dx, dy = b[0] - a[0], b[1] - a[1]
    ll = dx * dx + dy * dy
    t = np.clip(((px - a[0]) * dx + (py - a[1]) * dy) / ll, 0.0, 1.0)
    return np.sqrt((px - a[0] - t * dx) ** 2 + (py - a[1] - t * dy) ** 2)


# -- soft tissue --------------------------------------------------------------------------------------

#            s-knot label: back, half_ap, half_lr, fat, muscle_wall, paraspinal half-width
_BODY_KNOTS: list[tuple[str, float, float, float, float, float, float]] = [
    ("S1", 88, 100, 165, 22, 12, 62),
    ("L5", 96, 105, 160, 22, 12, 62),
    ("L3", 98, 110, 158, 22, 12, 60),
    ("L1", 92, 112, 158, 18, 12, 56),
    ("T12", 88, 112, 158, 16, 12, 52),
    ("T8", 80, 108, 160, 13, 11, 48),
    ("T4", 80, 100, 155, 13, 12, 46),
    ("T1", 78, 85, 145, 12, 14, 46),
    ("C7", 72, 62, 72, 7, 0, 42),
    ("C5", 66, 56, 60, 6, 0, 40),
    ("C2", 70, 60, 62, 6, 0, 40),
    ("C1", 78, 72, 68, 5, 0, 40),
]


def _body_params(spine: SpineModel, s: np.ndarray) -> dict[str, np.ndarray]:
    ks = np.array([spine.vertebra(k[0]).s for k in _BODY_KNOTS])
    out = {}
    for i, name in enumerate(("back", "ap", "lr", "fat", "wall", "para")):
        vals = np.array([k[i + 1] for k in _BODY_KNOTS], dtype=float)
        out[name] = np.interp(s, ks, vals)
    # Head above C1: widen gradually.
    top = spine.vertebra("C1").top
    grow = np.clip((s - top - 5.0) / 30.0, 0.0, 1.0)
    out["ap"] = out["ap"] + grow * 18.0
    out["lr"] = out["lr"] + grow * 8.0
    return out


def _cavity(back: np.ndarray, ap: np.ndarray, lr: np.ndarray, fat: np.ndarray, wall: np.ndarray,
            depth: np.ndarray, rear_gap: float = 20.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thoracic/abdominal cavity: centre y (relative to the body centre line), half lr, half ap (mm).

    Its back wall lies about 20 mm behind the vertebral body centre: lungs and kidneys sit beside the
    spine, the erector spinae behind them."""
    front = back - 2 * ap + 2 + fat + wall          # inner surface of the anterior wall
    rear = depth / 2 + rear_gap
    return (front + rear) / 2, lr - 2 - fat - wall, (rear - front) / 2


def _superellipse(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, p: float = 2.4) -> np.ndarray:
    return np.abs(x / a) ** p + np.abs(y / b) ** p <= 1.0


def _paint_soft_tissue(c: _Ctx, chunk: int = 12) -> None:
    for k0 in range(0, c.grid.shape[0], chunk):
        _paint_soft_tissue_chunk(c, slice(k0, min(k0 + chunk, c.grid.shape[0])))


def _paint_soft_tissue_chunk(c: _Ctx, zsl: slice) -> None:
    sp, g, sc = c.spine, c.grid, c.scene
    X = g.xs[None, None, :]
    sz = c.sz[zsl]
    Yp = (g.ys[None, :] - c.yb[zsl, None])[:, :, None]          # y relative to the body centre line
    s = sz[:, None, None]
    s_min, s_max = float(sz.min()), float(sz.max())

    def near(lo: float, hi: float) -> bool:
        return hi >= s_min and lo <= s_max

    P = _body_params(sp, sz)
    back, ap, lr = (P[k][:, None, None] for k in ("back", "ap", "lr"))
    fat, wall, para = (P[k][:, None, None] for k in ("fat", "wall", "para"))
    yc = back - ap                                            # torso centre (relative y)
    ry = Yp - yc
    dims = sp.dims_at(sz)
    W = dims["width"][:, None, None]
    D = dims["depth"][:, None, None]
    cerv_top = sp.vertebra("T1").top + 8.0
    is_neck = s > cerv_top
    lab = c.lab[zsl]
    lab[_superellipse(X, ry, lr, ap)] = L.SKIN
    lab[_superellipse(X, ry, lr - 2, ap - 2)] = L.FAT
    inner = _superellipse(X, ry, lr - 2 - fat, ap - 2 - fat)
    lab[inner] = L.MUSCLE
    cy_c, lr_c, ap_c = _cavity(back, ap, lr, fat, wall, D)
    cavity = _superellipse(X, Yp - cy_c, lr_c, ap_c, 2.3) & ~is_neck
    cy_a, lr_a, ap_a = _cavity(back, ap, lr, fat, wall, D, rear_gap=36.0)
    cavity_abd = _superellipse(X, Yp - cy_a, lr_a, ap_a, 2.3) & ~is_neck
    # Thorax / abdomen split by a domed diaphragm (higher on the right, lower posteriorly).
    s_t12 = sp.vertebra("T12").top
    dia = s_t12 + 12.0 - 0.25 * (Yp - 30.0) - 8.0 * (X < 0)
    thorax = cavity & (s > dia) & (s < sp.vertebra("T1").top + 5.0)
    abdomen = cavity_abd & ~(s > dia) & ~is_neck
    lab[abdomen] = L.VISCERAL_FAT
    lab[thorax] = L.LUNG
    # Mediastinum and paravertebral stripe
    s_t5 = sp.vertebra("T5").s
    med = thorax & ((((X - 4) / (W / 2 + 18)) ** 2 + ((Yp + D / 2 + 12) / 22) ** 2 <= 1.0)
                    | ((np.abs(X) < W / 2 + 3) & (Yp < D / 2 - 2) & (Yp > -D / 2 - 4))
                    | ((s > s_t5) & (((X - 4) / 34) ** 2 + ((Yp + D / 2 + 52) / 36) ** 2 <= 1.0))
                    | (((X - 4) / 26) ** 2 + ((Yp + D / 2 + 70) / 60) ** 2 <= 1.0))
    lab[med] = L.VISCERAL_FAT
    # Paravertebral and foraminal fat: the lungs stop at the costovertebral junctions.
    lab[thorax & (np.abs(X) < W / 2 + 8) & (Yp > -D / 2 - 2) & (Yp < D / 2 + 30)] = L.VISCERAL_FAT
    # Heart (T6-T10), anterior, to the left.
    s_h = sp.vertebra("T8").s
    heart = thorax & (((X - 25) / 70) ** 2 + ((Yp + D / 2 + 75) / 58) ** 2 + ((s - s_h) / 60) ** 2 <= 1.0)
    lab[heart] = L.BLOOD
    # Trachea above the carina (T5), then main bronchi.
    s_car = sp.vertebra("T5").s
    trach_y = -D / 2 - 24
    tr_out = thorax & (s > s_car) & ((X / 10.5) ** 2 + ((Yp - trach_y) / 9.5) ** 2 <= 1.0)
    tr_in = thorax & (s > s_car) & ((X / 8.5) ** 2 + ((Yp - trach_y) / 7.5) ** 2 <= 1.0)
    lab[tr_out] = L.MUSCLE
    lab[tr_in] = L.GAS
    for side in (-1, 1):
        bx = side * (8 + (s_car - s) * 0.8)
        br = thorax & (s <= s_car) & (s > s_car - 35) & (((X - bx) / 6.5) ** 2 + ((Yp - trach_y - 4) / 6.0) ** 2 <= 1)
        lab[br] = L.GAS
    # Neck: airway, prevertebral muscles, vessels.
    neck = inner & is_neck
    c1_top = sp.vertebra("C1").top
    air_y = -D / 2 - 14 - np.clip(s - sp.vertebra("C4").s, 0, 60) * 0.1
    airway = neck & (s < c1_top + 25) & ((X / (8 + 4 * (s > sp.vertebra("C4").s))) ** 2
                                         + ((Yp - air_y) / 6.5) ** 2 <= 1.0)
    lab[airway] = L.GAS
    esoph_n = neck & (s < sp.vertebra("C6").s) & ((X / 7) ** 2 + ((Yp + D / 2 + 5) / 3.5) ** 2 <= 1.0)
    lab[esoph_n] = L.ESOPHAGUS
    for side in (-1, 1):
        car = neck & (((X - side * 24) / 4.5) ** 2 + ((Yp + D / 2 + 8) / 4.5) ** 2 <= 1.0)
        jug = neck & (((X - side * 33) / 6.5) ** 2 + ((Yp + D / 2 + 6) / 5.0) ** 2 <= 1.0)
        fat_pl = neck & (((X - side * 28) / 13) ** 2 + ((Yp + D / 2 + 7) / 9) ** 2 <= 1.0)
        lab[fat_pl] = L.VISCERAL_FAT
        lab[car] = L.BLOOD
        lab[jug] = L.BLOOD
    # Descending and abdominal aorta, IVC, azygos, esophagus.
    s_arch = sp.vertebra("T4").top
    s_bif = sp.vertebra("L4").s
    s_dia_ao = sp.vertebra("T12").s
    r_ao = np.where(s > s_dia_ao, 12.0, 10.0)
    ao_x = np.where(s > s_dia_ao, W / 2 * 0.55 + 8, 12.0)
    ao_y = np.where(s > s_dia_ao, -D / 2 - 3, -D / 2 - 12)
    body = inner & ~is_neck
    aorta = body & (s < s_arch) & (s > s_bif) & (((X - ao_x) / r_ao) ** 2 + ((Yp - ao_y) / r_ao) ** 2 <= 1.0)
    lab[aorta] = L.BLOOD
    for side in (-1, 1):
        iliac = body & (s <= s_bif) & (((X - side * (12 + (s_bif - s) * 0.4)) / 6.5) ** 2
                                       + ((Yp + D / 2 + 12) / 6.5) ** 2 <= 1.0)
        lab[iliac] = L.BLOOD
    ivc = body & (s < sp.vertebra("T10").s) & (s > s_bif) & (((X + 24) / 12) ** 2 + ((Yp + D / 2 + 14) / 8.5) ** 2 <= 1)
    lab[ivc] = L.BLOOD
    azy = thorax & (((X + 8) / 4) ** 2 + ((Yp + D / 2 - 1) / 4) ** 2 <= 1.0)
    lab[azy] = L.BLOOD
    eso = thorax & (((X - 1) / 8) ** 2 + ((Yp + D / 2 + 14 + 12 * (s > s_car)) / 5.5) ** 2 <= 1.0)
    lab[eso] = L.ESOPHAGUS
    # Abdominal organs
    s_t11, s_t12c, s_l1 = sp.vertebra("T11").s, sp.vertebra("T12").s, sp.vertebra("L1").s
    s_l2 = sp.vertebra("L2").s
    liver = abdomen & (((X + 75) / 80) ** 2 + ((Yp + 35) / 85) ** 2 + ((s - s_t12c - 10) / 75) ** 2 <= 1.0)
    lab[liver] = L.LIVER
    spleen = abdomen & (((X - 85) / 32) ** 2 + ((Yp - 15) / 45) ** 2 + ((s - s_t11) / 50) ** 2 <= 1.0)
    lab[spleen] = L.SPLEEN
    for side, present, s_k in ((-1, sc.right_kidney, s_l2 + 8), (1, sc.left_kidney, s_l1 - 10)):
        if not present:
            continue
        kx = side * (W / 2 + 42)
        kid = abdomen & (((X - kx) / 26) ** 2 + ((Yp - 22) / 24) ** 2 + ((s - s_k) / 55) ** 2 <= 1.0)
        lab[kid] = L.KIDNEY
        sinus = kid & (((X - kx + side * 12) / 10) ** 2 + ((Yp - 20) / 10) ** 2 + ((s - s_k) / 25) ** 2 <= 1.0)
        lab[sinus] = L.VISCERAL_FAT
    # Stomach (left upper quadrant, fluid with an air cap) and pancreas body/tail.
    if near(s_l1 - 40, s_t11 + 40):
        sto = abdomen & ~spleen & (((X - 55) / 45) ** 2 + ((Yp + 75) / 38) ** 2 + ((s - s_t12c) / 55) ** 2 <= 1.0)
        lab[sto] = L.BOWEL
        lab[sto & (((X - 55) / 40) ** 2 + ((Yp + 75) / 33) ** 2 + ((s - s_t12c) / 50) ** 2 <= 1.0)
            & (Yp < -95)] = L.GAS
        pan = abdomen & ~liver & (((X - 30) / 55) ** 2 + ((Yp + D / 2 + 30) / 11) ** 2 + ((s - s_l1) / 14) ** 2 <= 1)
        lab[pan] = L.SPLEEN
    # Bowel loops (anterior abdomen), placed deterministically.
    rng = np.random.default_rng(1234)
    s_lo, s_hi = sp.vertebra("S1").bottom - 40, s_t12c
    for _ in range(60):
        bx = rng.uniform(-115, 115)
        by = rng.uniform(-150, -35)
        bs = rng.uniform(s_lo, s_hi)
        r = rng.uniform(9, 16)
        gas = rng.random() < 0.35
        if not near(bs - r * 1.8, bs + r * 1.8):
            continue
        loop = abdomen & ~liver & ~spleen & (
            ((X - bx) / r) ** 2 + ((Yp - by) / r) ** 2 + ((s - bs) / (r * 1.8)) ** 2 <= 1)
        lab[loop] = L.BOWEL
        if gas:
            lab[loop & (((X - bx) / (r - 3)) ** 2 + ((Yp - by) / (r - 3)) ** 2 + ((s - bs) / (r * 1.8 - 3)) ** 2 <= 1)
                & (Yp < by + 2)] = L.GAS
    # Diaphragmatic crura beside the aorta (T12-L2)
    for side in (-1, 1):
        crus = abdomen & (s < s_t12c + 10) & (s > s_l2) & (((X - side * (W / 2 * 0.5 + 4)) / 4.5) ** 2
                                                            + ((Yp + D / 2 + 4) / 11) ** 2 <= 1.0)
        lab[crus] = L.MUSCLE
    # Paraspinal muscles, psoas, quadratus lumborum
    for side in (-1, 1):
        py0 = back - 2 - fat
        pmus = inner & (((X - side * para * 0.55) / (para * 0.55)) ** 2
                        + ((Yp - (py0 + D / 2 + 4) / 2) / ((py0 - D / 2 - 4) / 2 + 6)) ** 2 <= 1.0) & (Yp > D / 2 - 2)
        lab[pmus & (lab != L.KIDNEY)] = L.PARASPINAL
        s_ps0 = sp.vertebra("T12").s
        grow = np.clip((s_ps0 - s) / (s_ps0 - sp.vertebra("L5").s), 0.0, 1.0)
        r_ps = 4 + 20 * grow
        psx = side * (W / 2 + r_ps * 0.75)
        psoas = abdomen & (s < s_ps0) & (((X - psx) / r_ps) ** 2 + ((Yp - 0.1 * D) / (r_ps * 0.85)) ** 2 <= 1.0)
        lab[psoas] = L.PSOAS
        ql = abdomen & (s < sp.vertebra("T12").s) & (s > sp.vertebra("L5").s) & (
            ((X - side * (W / 2 + 50)) / 20) ** 2 + ((Yp - 40) / 9) ** 2 <= 1.0)
        lab[ql] = L.MUSCLE


# -- bone --------------------------------------------------------------------------------------------

def _paint_vertebra(c: _Ctx, label: str) -> None:
    sp = c.spine
    vt = sp.vertebra(label)
    d = vt.dims
    lev = LEVEL_ORDER.index(label) + 1
    reg = region_of(label)
    s_lo = vt.bottom - d.disc_below - 45.0
    s_hi = vt.top + 15.0
    ext = d.canal_ap + d.spinous_len + 45.0
    u_ext = d.canal_lr / 2 + d.pedicle_w + d.transverse_len + 15.0 + (20 if label == "S1" else 0)
    blk = c.block((s_lo, s_hi), (-d.depth / 2 - 20.0, d.depth / 2 + ext), (-u_ext, u_ext))
    if blk is None:
        return
    sl, U, V, S = blk
    w = S - vt.s
    H = d.height
    a_c, b_c = d.canal_lr / 2, d.canal_ap / 2
    v_cc = d.depth / 2 + b_c - 1.0
    conc = {"cervical": 1.0, "thoracic": 1.5, "lumbar": 3.0, "sacral": 2.0}[reg]
    lam_t = {"cervical": 4.0, "thoracic": 5.5, "lumbar": 6.5, "sacral": 5.0}[reg]
    w_p = H * 0.12
    removed = label in c.scene.laminectomy

    def body(shrink: float) -> np.ndarray:
        f = 1.0 - 0.06 * np.clip(1.0 - (2 * w / H) ** 2, 0, 1)
        a = d.width / 2 * f - shrink
        b = d.depth / 2 * f - shrink
        r2 = (U / a) ** 2 + (V / b) ** 2
        ec = 1.0 if reg != "lumbar" else 1.6
        top = H / 2 - shrink - ec * np.clip(1 - r2, 0, 1)
        post = V <= b - conc * np.clip(1 - (U / (a_c + 2)) ** 2, 0, 1)
        return (r2 <= 1.0) & post & (np.abs(w) <= top)

    # Ligamentum flavum band behind the canal (bone paints over it)
    if not removed:
        lig = (_ellipse(U, V - v_cc, a_c + 3, b_c + 3) & (V > v_cc) & (np.abs(w + 4) < H / 2 + d.disc_below))
        c.paint(sl, lig, L.LIGAMENT)

    if label != "C1":
        c.paint(sl, body(0.0), L.BODY_CORTEX, lev)
        c.paint(sl, body(1.1), L.BODY_CANCELLOUS, lev)
        if label == "C2":
            dens = (U ** 2 + (V + 0.5) ** 2 <= 5.0 ** 2) & (w > 0) & (w < H / 2 + 16.0 - 0.5 * U ** 2 / 5)
            c.paint(sl, dens, L.BODY_CORTEX, lev)
            c.paint(sl, (U ** 2 + (V + 0.5) ** 2 <= 3.8 ** 2) & (w > 0) & (w < H / 2 + 15.0 - 0.5 * U ** 2 / 5),
                    L.BODY_CANCELLOUS, lev)
    else:
        # Atlas: anterior arch, lateral masses, posterior arch.
        arch_out = _ellipse(U, V - 4.0, 15.0, 15.5) & ~_ellipse(U, V - 4.0, 12.0, 11.5) & (V < -2.0)
        c.paint(sl, arch_out & (np.abs(w) < 5.0), L.POSTERIOR_CORTEX, lev)
        c.paint(sl, arch_out & (np.abs(w) < 3.5) & _ellipse(U, V - 4.0, 14.2, 14.5)
                & ~_ellipse(U, V - 4.0, 12.8, 12.3), L.POSTERIOR_CANCELLOUS, lev)
        for side in (-1, 1):
            lm = _ellipse(U - side * 17.5, V - 3.0, 7.5, 9.5) & (np.abs(w) < 8.0)
            c.paint(sl, lm, L.POSTERIOR_CORTEX, lev)
            c.paint(sl, _ellipse(U - side * 17.5, V - 3.0, 6.3, 8.3) & (np.abs(w) < 6.8),
                    L.POSTERIOR_CANCELLOUS, lev)
    # Pedicles
    ped_v0 = d.depth / 2 - 4.0
    ped_v1 = v_cc + b_c * 0.15
    for side in (-1, 1):
        up = side * (a_c + d.pedicle_w / 2)
        if label == "C1":
            continue
        for shrink, lab_ in ((0.0, L.POSTERIOR_CORTEX), (1.0, L.POSTERIOR_CANCELLOUS)):
            ped = (_ellipse(U - up, w - w_p, d.pedicle_w / 2 - shrink, d.pedicle_h / 2 - shrink)
                   & (V > ped_v0) & (V < ped_v1))
            c.paint(sl, ped, lab_, lev)
    # Articular pillars (facet joints at mid-disc heights), transverse processes
    for side in (-1, 1):
        pu = side * (a_c + d.pedicle_w * 0.5 + 2.5)
        pv = v_cc + b_c * 0.35
        half_w_up = H / 2 + d.disc_below / 2 - 0.9 if label != "C1" else 8.0
        if label == "C1":
            pu, pv = side * 17.5, 3.0
        else:
            for shrink, lab_ in ((0.0, L.POSTERIOR_CORTEX), (1.0, L.POSTERIOR_CANCELLOUS)):
                pil = _ellipse(U - pu, V - pv, 5.5 - shrink, 6.5 - shrink) & (w < half_w_up - shrink) & (
                    w > -half_w_up + shrink - 2.0)
                c.paint(sl, pil, lab_, lev)
        if d.transverse_len > 0:
            tb = np.radians(d.tp_back)
            a0 = (pu, pv)
            a1 = (pu + side * d.transverse_len * np.cos(tb), pv + d.transverse_len * np.sin(tb))
            r_tp = {"cervical": 3.5, "thoracic": 5.0, "lumbar": 4.0, "sacral": 5.0}[reg]
            h_tp = {"cervical": 4.0, "thoracic": 5.5, "lumbar": 4.5, "sacral": 6.0}[reg]
            if reg == "cervical":
                a0 = (side * (d.width / 2 - 1.0) if label != "C1" else side * 17.5, d.depth / 2 - 4.0
                      if label != "C1" else 0.0)
                a1 = (side * (a_c + d.pedicle_w + 9.0 + (5.0 if label == "C1" else 0.0)), a0[1] + 6.0)
            dist = _capsule2((U, V), a0, a1)
            wc = w - (w_p if label != "C1" else 0.0)
            tp = (dist <= r_tp) & (np.abs(wc) <= h_tp)
            tpi = (dist <= r_tp - 1.0) & (np.abs(wc) <= h_tp - 1.0)
            if reg == "cervical" and label != "C7":
                # foramen transversarium: a hole holding the vertebral artery
                fu, fv = side * (d.width / 2 + 4.5 if label != "C1" else 24.0), a0[1] + 3.0
                hole = (U - fu) ** 2 + (V - fv) ** 2 <= 3.2 ** 2
                tp = (tp | ((U - fu) ** 2 + (V - fv) ** 2 <= 5.5 ** 2) & (np.abs(wc) <= h_tp)) & ~hole
                tpi &= ~hole
            c.paint(sl, tp, L.POSTERIOR_CORTEX, lev)
            c.paint(sl, tpi, L.POSTERIOR_CANCELLOUS, lev)
    # Laminae and spinous process
    if not removed:
        if label == "C1":
            lam = (_ellipse(U, V - v_cc, a_c + 4.0, b_c + 4.0) & ~_ellipse(U, V - v_cc, a_c, b_c)
                   & (V > v_cc) & (np.abs(w) < 4.0))
            c.paint(sl, lam, L.POSTERIOR_CORTEX, lev)
        else:
            lam_lo = -H / 2 - 0.45 * d.disc_below
            lam_hi = H / 2 * 0.75
            for shrink, lab_ in ((0.0, L.POSTERIOR_CORTEX), (1.0, L.POSTERIOR_CANCELLOUS)):
                lam = (_ellipse(U, V - v_cc, a_c + d.pedicle_w * 0.6 + lam_t - shrink, b_c + lam_t - shrink)
                       & ~_ellipse(U, V - v_cc, a_c + shrink, b_c + shrink) & (V > v_cc - b_c * 0.1)
                       & (w > lam_lo + shrink) & (w < lam_hi - shrink))
                c.paint(sl, lam, lab_, lev)
            # spinous process: capsule in the (v, w) plane, slab in u
            alpha = np.radians(d.spinous_angle)
            p0 = (v_cc + b_c + lam_t * 0.6, w_p * 0.3 - 3.0)
            p1 = (p0[0] + d.spinous_len * np.cos(alpha), p0[1] - d.spinous_len * np.sin(alpha))
            half_h = d.spinous_h / 2
            sw = {"cervical": 3.0, "thoracic": 3.5, "lumbar": 4.5, "sacral": 4.0}[reg]
            dist = _capsule2((V, w), p0, p1)
            tpos = np.clip(((V - p0[0]) * (p1[0] - p0[0]) + (w - p0[1]) * (p1[1] - p0[1]))
                           / (d.spinous_len ** 2), 0, 1)
            width = sw * (1.0 + 0.4 * tpos)
            spn = (dist <= half_h) & (np.abs(U) <= width)
            spi = (dist <= half_h - 1.0) & (np.abs(U) <= width - 1.0)
            if reg == "cervical" and label not in ("C7",):
                notch = (tpos > 0.8) & (np.abs(U) < 1.2)
                spn &= ~notch
                spi &= ~notch
            c.paint(sl, spn, L.POSTERIOR_CORTEX, lev)
            c.paint(sl, spi, L.POSTERIOR_CANCELLOUS, lev)
    if label == "S1":
        # Sacral alae and the rest of the sacrum (S2-S5 fused, tapering).
        for shrink, lab_ in ((0.0, L.BODY_CORTEX), (1.2, L.BODY_CANCELLOUS)):
            ala = _ellipse(U, V - 8.0, 55.0 - shrink, 22.0 - shrink) & (np.abs(w) < H / 2 - shrink) & (
                np.abs(U) > d.width / 2 - 6)
            c.paint(sl, ala, lab_, lev)
            f = np.clip(1.0 + (w + H / 2) / 110.0, 0.3, 1.0)
            rest = (_ellipse(U, V - 2.0 * (1 - f), d.width / 2 * f - shrink, d.depth / 2 * f - shrink)
                    & (w < -H / 2 + 1.0) & (w > -H / 2 - 70.0 + shrink))
            c.paint(sl, rest, lab_, lev)
        for k in range(1, 4):
            remnant = _ellipse(U, V, d.width / 2 * 0.6, d.depth / 2 * 0.6) & (np.abs(w + H / 2 + k * 18.0) < 0.8)
            c.paint(sl, remnant, L.DISC_ANNULUS)


def _paint_disc(c: _Ctx, upper: str, lower: str) -> None:
    sp = c.spine
    va, vb = sp.vertebra(upper), sp.vertebra(lower)
    da, db = va.dims, vb.dims
    s0, s1 = vb.top - 2.5, va.bottom + 2.5
    a = (da.width + db.width) / 4 * 1.02
    b = (da.depth + db.depth) / 4 * 1.02
    blk = c.block((s0, s1), (-b - 3, b + 3), (-a - 3, a + 3))
    if blk is None:
        return
    sl, U, V, S = blk
    reg = region_of(lower)
    ec = 1.0 if reg != "lumbar" else 1.6
    r2 = (U / a) ** 2 + (V / b) ** 2
    conc = {"cervical": 1.0, "thoracic": 1.5, "lumbar": 3.0, "sacral": 2.0}[reg]
    a_c = (da.canal_lr + db.canal_lr) / 4
    post = V <= b - conc * np.clip(1 - (U / (a_c + 2)) ** 2, 0, 1)
    bulge = ec * np.clip(1 - r2, 0, 1)
    inside = (r2 <= 1.0) & post & (S >= vb.top - bulge) & (S <= va.bottom + bulge)
    c.paint(sl, inside & (c.lab[sl] != L.BODY_CORTEX) & (c.lab[sl] != L.BODY_CANCELLOUS), L.DISC_ANNULUS)
    mid = (va.bottom + vb.top) / 2
    h = va.bottom - vb.top
    nuc = ((U / (0.5 * a)) ** 2 + ((V - 0.12 * b) / (0.45 * b)) ** 2 + ((S - mid) / (0.42 * h + 0.8)) ** 2 <= 1.0)
    c.paint(sl, nuc & inside, L.DISC_NUCLEUS)


def _rib_path(sp: SpineModel, label: str, side: int) -> np.ndarray:
    """Polyline (N, 3) LPS mm of the rib articulating with vertebra ``label`` (T1..T12)."""
    vt = sp.vertebra(label)
    d = vt.dims
    n = int(label[1:])
    a_c, b_c = d.canal_lr / 2, d.canal_ap / 2
    v_cc = d.depth / 2 + b_c - 1.0
    head = sp.local_to_lps(side * (d.width / 2 + 1.0), d.depth / 2 - 5.0, vt.top - 1.0)
    pu = side * (a_c + d.pedicle_w * 0.5 + 2.5)
    tb = np.radians(d.tp_back)
    tip_u = pu + side * d.transverse_len * np.cos(tb)
    tip_v = v_cc + b_c * 0.35 + d.transverse_len * np.sin(tb)
    tub = sp.local_to_lps(tip_u, tip_v - 6.0, vt.s + d.height * 0.12)
    pts = [head, (head + tub) / 2 + np.array([0, 0, 1.0]), tub]
    # Shaft: around the thoracic wall, dropping as it runs forward. Wall in axial plane, relative to tub.
    yb = sp.z_to_y(tub[2])
    P = _body_params(sp, np.array([sp.z_to_s(tub[2])]))
    cy_c, lr_c, ap_c = _cavity(P["back"], P["ap"], P["lr"], P["fat"], P["wall"], np.array([d.depth]))
    lr = float(lr_c[0]) + 5.0
    ap = float(ap_c[0]) + 5.0
    yc = yb + float(cy_c[0])
    length = {11: 0.45, 12: 0.3}.get(n, 1.0)
    th0 = np.arcsin(np.clip(abs(tub[0]) / lr, 0, 1))
    ths = np.linspace(th0 + 0.12, th0 + (np.pi * 0.85 - th0) * length, 24)
    drop = 0.35 + 0.02 * n
    for th in ths:
        x = side * lr * np.sin(th)
        y = yc + ap * np.cos(th)
        z = tub[2] - drop * lr * (th - th0)
        pts.append(np.array([x, y, z]))
    return np.array(pts)


def _paint_tube(c: _Ctx, pts: np.ndarray, r_out: float, r_in: float, outer: int, inner: int | None,
                level: int | None = None) -> None:
    for radius, lab_ in ((r_out, outer), (r_in, inner)):
        if lab_ is None:
            continue
        for a, b in zip(pts[:-1], pts[1:], strict=False):
            lo = np.minimum(a, b) - radius - 1
            hi = np.maximum(a, b) + radius + 1
            blk = c.wblock(lo, hi)
            if blk is None:
                continue
            sl, X, Y, Z = blk
            dv = b - a
            ll = float(dv @ dv)
            t = np.clip(((X - a[0]) * dv[0] + (Y - a[1]) * dv[1] + (Z - a[2]) * dv[2]) / ll, 0, 1)
            dd = (X - a[0] - t * dv[0]) ** 2 + (Y - a[1] - t * dv[1]) ** 2 + (Z - a[2] - t * dv[2]) ** 2
            m = dd <= radius * radius
            if lab_ == inner:
                m &= c.lab[sl] == outer
            c.paint(sl, m, lab_, level)


def _paint_skull_base(c: _Ctx) -> None:
    """Occipital bone around the posterior fossa, clivus, occipital condyles and nasopharynx."""
    sp = c.spine
    c1 = sp.vertebra("C1")
    c2 = sp.vertebra("C2")
    s_fm = c1.top + 8.0                       # foramen magnum level
    if c.grid.zs[-1] < sp.point(c1.top)[2] - 5:
        return
    d = sp.dims["C1"]
    v_cc = d.canal_ap / 2 + 4.0
    blk = c.block((c2.s, c1.top + 120.0), (-120.0, 140.0), (-90.0, 90.0))
    if blk is None:
        return
    sl, U, V, S = blk
    # Posterior fossa: brain in a bowl of occipital bone above the foramen magnum.
    ctr_v, ctr_s = v_cc + 22.0, s_fm + 42.0
    e_out = (U / 62.0) ** 2 + ((V - ctr_v) / 52.0) ** 2 + ((S - ctr_s) / 46.0) ** 2
    e_in = (U / 56.0) ** 2 + ((V - ctr_v) / 46.0) ** 2 + ((S - ctr_s) / 40.0) ** 2
    bowl = (e_out <= 1.0) & (e_in > 1.0) & (V > v_cc - 18.0)
    hole = _ellipse(U, V - v_cc, 16.0, 18.0) & (S < s_fm + 10.0)
    c.paint(sl, bowl & ~hole, L.SKULL_CORTEX)
    e_mid_o = (U / 60.0) ** 2 + ((V - ctr_v) / 50.0) ** 2 + ((S - ctr_s) / 44.0) ** 2
    e_mid_i = (U / 58.0) ** 2 + ((V - ctr_v) / 48.0) ** 2 + ((S - ctr_s) / 42.0) ** 2
    c.paint(sl, (e_mid_o <= 1.0) & (e_mid_i > 1.0) & (V > v_cc - 16.0) & ~hole, L.SKULL_CANCELLOUS)
    brain = (e_in <= 1.0) & (V > v_cc - 18.0) & (S > s_fm)
    c.paint(sl, brain, L.BRAIN)
    # Clivus: slab rising antero-superiorly from the basion (about 62 degrees to the horizontal).
    ang = np.radians(62.0)
    b0 = (v_cc - d.canal_ap / 2 - 4.0, s_fm + 2.0)
    b1 = (b0[0] - 45.0 * np.cos(ang), b0[1] + 45.0 * np.sin(ang))
    dist = _capsule2((V, S), b0, b1)
    c.paint(sl, (dist <= 5.5) & (np.abs(U) <= 13.0), L.SKULL_CORTEX)
    c.paint(sl, (dist <= 4.2) & (np.abs(U) <= 11.5), L.SKULL_CANCELLOUS)
    # Nasopharynx in front of the clivus
    naso = _capsule2((V, S), (b0[0] - 22.0, b0[1] - 2.0), (b1[0] - 14.0, b1[1] - 22.0))
    c.paint(sl, (naso <= 7.0) & (np.abs(U) <= 13.0), L.GAS)
    # Occipital condyles on the lateral masses of C1
    for side in (-1, 1):
        cond = _ellipse(U - side * 17.0, V - 4.0, 6.5, 9.0) & (S > c1.top + 1.5) & (S < s_fm + 6.0)
        c.paint(sl, cond, L.SKULL_CORTEX)
        c.paint(sl, _ellipse(U - side * 17.0, V - 4.0, 5.0, 7.5) & (S > c1.top + 2.5) & (S < s_fm + 5.0),
                L.SKULL_CANCELLOUS)


def _paint_vertebral_arteries(c: _Ctx) -> None:
    sp = c.spine
    for side in (-1, 1):
        pts = []
        for lab in ("C6", "C5", "C4", "C3", "C2", "C1"):
            vt = sp.vertebra(lab)
            d = vt.dims
            fu = side * (d.width / 2 + 4.5 if lab != "C1" else 24.0)
            fv = (d.depth / 2 - 4.0 + 6.0 * 0.5 + 3.0) if lab != "C1" else 3.0
            pts.append(sp.local_to_lps(fu, fv, vt.s))
        top = sp.vertebra("C1")
        pts.append(sp.local_to_lps(side * 12.0, top.dims.canal_ap / 2 + 12.0, top.s + 4.0))
        pts.append(sp.local_to_lps(side * 4.0, -2.0, top.top + 30.0))
        _paint_tube(c, np.array(pts), 2.3, 0.0, L.BLOOD, None)


def _screw_geometry(sp: SpineModel, label: str, side: int) -> tuple[np.ndarray, np.ndarray]:
    vt = sp.vertebra(label)
    d = vt.dims
    a_c, b_c = d.canal_lr / 2, d.canal_ap / 2
    v_cc = d.depth / 2 + b_c - 1.0
    w_p = vt.s + d.height * 0.12
    entry = sp.local_to_lps(side * (a_c + d.pedicle_w / 2 + 5.0), v_cc + b_c * 0.5 + 8.0, w_p)
    tip = sp.local_to_lps(side * 3.0, -d.depth / 2 + 5.0, w_p)
    return entry, tip


def _paint_lesion_parts(c: _Ctx, lesion_no: int, lesion: Lesion) -> None:
    for part in lesion.parts:
        centre, axes = part_frame(c.spine, part)
        r = np.array(part.size) / 2.0
        reach = float(np.max(r)) + 1.0
        blk = c.wblock(centre - reach, centre + reach)
        if blk is None:
            continue
        sl, X, Y, Z = blk
        q = [(X - centre[0]) * ax[0] + (Y - centre[1]) * ax[1] + (Z - centre[2]) * ax[2] for ax in axes]
        m = (q[0] / r[0]) ** 2 + (q[1] / r[1]) ** 2 + (q[2] / r[2]) ** 2 <= 1.0
        if part.clip_to_body:
            lev = LEVEL_ORDER.index(part.level) + 1
            # marrow of this body, including marrow an earlier lesion already replaced
            m &= (c.lev[sl] == lev) & ((c.lab[sl] == L.BODY_CANCELLOUS) | (c.lab[sl] == L.TUMOUR))
        kind = part.kind or lesion.kind
        lab_ = L.CEMENT if kind == "cement" else L.TUMOUR
        m = np.broadcast_to(m, c.lab[sl].shape)
        c.lab[sl][m] = lab_
        c.les[sl][m] = lesion_no


def part_frame(sp: SpineModel, part: LesionPart) -> tuple[np.ndarray, list[np.ndarray]]:
    """Centre (LPS mm) and the three unit axes (lr, ap, cc) of a lesion part's ellipsoid."""
    if part.site == "clivus":
        c1 = sp.vertebra("C1")
        d = sp.dims["C1"]
        v_cc = d.canal_ap / 2 + 4.0
        ang = np.radians(62.0)
        b0v, b0s = v_cc - d.canal_ap / 2 - 4.0, c1.top + 10.0
        v = b0v - 20.0 * np.cos(ang) + part.offset[1]
        s = b0s + 20.0 * np.sin(ang) + part.offset[2]
        centre = sp.local_to_lps(part.offset[0], v, s)
        lft, pst, sup = sp.frame(s)
        return centre, [lft, pst, sup]
    vt = sp.vertebra(part.level)
    d = vt.dims
    a_c, b_c = d.canal_lr / 2, d.canal_ap / 2
    v_cc = d.depth / 2 + b_c - 1.0
    w_p = d.height * 0.12
    du, dv, dw = part.offset
    bone = {
        "vertebral_body": (0.0, 0.0, 0.0),
        "pedicle_left": (a_c + d.pedicle_w / 2, (d.depth / 2 + v_cc) / 2, w_p),
        "pedicle_right": (-(a_c + d.pedicle_w / 2), (d.depth / 2 + v_cc) / 2, w_p),
        "lamina": (0.0, v_cc + b_c + 3.0, 0.0),
        "posterior_elements": (0.0, v_cc + b_c + 6.0, -2.0),
        "spinous_process": (0.0, v_cc + b_c + d.spinous_len * 0.5, -d.spinous_len * 0.3),
    }
    if part.site in bone:
        u0, v0, w0 = bone[part.site]
        s = vt.s + w0 + dw
        centre = sp.local_to_lps(u0 + du, v0 + dv, s)
        lft, pst, sup = sp.frame(s)
        return centre, [lft, pst, sup]
    # Soft-tissue sites: LPS axes, relative to the body centre of the level.
    c0 = sp.body_centroid_lps(part.level)
    W, D = d.width, d.depth
    soft = {
        "paraspinal_left": (30.0, D / 2 + 35.0, 0.0), "paraspinal_right": (-30.0, D / 2 + 35.0, 0.0),
        "psoas_left": (W / 2 + 14.0, 0.0, 0.0), "psoas_right": (-(W / 2 + 14.0), 0.0, 0.0),
        "adrenal_region_left": (W / 2 + 18.0, -8.0, 10.0), "adrenal_region_right": (-(W / 2 + 22.0), -10.0, 10.0),
        "retroperitoneum_left": (W / 2 + 55.0, -30.0, 0.0), "retroperitoneum_right": (-(W / 2 + 55.0), -30.0, 0.0),
        "perivertebral_left": (W / 2 + 4.0, -5.0, 0.0), "perivertebral_right": (-(W / 2 + 4.0), -5.0, 0.0),
        "prevertebral": (0.0, -D / 2 - 5.0, 0.0), "epidural": (0.0, D / 2 + b_c, 0.0),
    }
    off = np.array(soft[part.site]) + np.array(part.offset)
    eye = np.eye(3)
    return c0 + off, [eye[0], eye[1], eye[2]]


def rasterize(spine: SpineModel, grid: Grid, scene: Scene | None = None, soft_tissue: bool = True) -> Raster:
    """Label maps of the whole phantom on ``grid`` (see the module docstring).

    ``soft_tissue=False`` skips organs, muscles and fat (faster; used to measure lesions finely)."""
    scene = scene or Scene()
    c = _Ctx(spine, grid, scene)
    if soft_tissue:
        _paint_soft_tissue(c)
    in_view = [lab for lab in LEVEL_ORDER
               if c.S2.min() - 60 <= spine.vertebra(lab).s <= c.S2.max() + 60]
    # Discs first, then vertebrae (bone over disc where the end plates curve).
    for up, lo in zip(LEVEL_ORDER[1:-1], LEVEL_ORDER[2:], strict=False):
        if up in in_view or lo in in_view:
            _paint_disc(c, up, lo)
    for lab in in_view:
        _paint_vertebra(c, lab)
    if "C2" in in_view or "C1" in in_view:
        _paint_skull_base(c)
        _paint_vertebral_arteries(c)
    for lab in in_view:
        if lab.startswith("T"):
            lev = LEVEL_ORDER.index(lab) + 1
            for side in (-1, 1):
                _paint_tube(c, _rib_path(spine, lab, side), 4.2, 2.8, L.RIB_CORTEX, L.RIB_MARROW, lev)
    # Bone lesions and soft-tissue masses (not in the canal)
    models: list[tuple[int, CanalModel]] = []
    for k, lesion in enumerate(scene.lesions, start=1):
        _paint_lesion_parts(c, k, lesion)
        if lesion.epidural is not None and lesion.epidural.grade != "0":
            models.append((k, CanalModel(spine, lesion.epidural)))
    # Laminectomy scar
    for lab in scene.laminectomy:
        vt = spine.vertebra(lab)
        d = vt.dims
        blk = c.block((vt.bottom - 6, vt.top + 6), (0, 120), (-30, 30))
        if blk is not None:
            sl, U, V, S = blk
            v_cc = d.depth / 2 + d.canal_ap / 2 - 1.0
            scar = (np.abs(U) < d.canal_lr / 2 + 3) & (V > v_cc) & (np.abs(S - vt.s) < d.height / 2 + 3) & (
                V < v_cc + d.canal_ap / 2 + 22)
            scar &= np.isin(c.lab[sl], (L.PARASPINAL, L.LIGAMENT, L.MUSCLE, L.FAT))
            c.paint(sl, scar, L.SCAR)
    # Spinal canal content (carved through everything)
    s_lo = spine.vertebra("S1").bottom - 25.0
    s_hi = spine.vertebra("C1").top + 8.0
    blk = c.block((s_lo, s_hi), (-5.0, 60.0), (-20.0, 20.0))
    if blk is not None:
        sl, U, V, S = blk
        canal, labs, tid = canal_contents(spine, U, V, S, models)
        canal &= (S >= s_lo) & (S <= s_hi)
        canal = np.broadcast_to(canal, c.lab[sl].shape)
        sub = c.lab[sl]
        sub[canal] = labs[canal]
        c.les[sl][canal] = tid[canal]
        c.lev[sl][canal] = 0
    # Medulla above C1 continues the cord into the posterior fossa.
    if "C1" in in_view:
        c1 = spine.vertebra("C1")
        blk = c.block((c1.top + 8.0, c1.top + 40.0), (-5.0, 60.0), (-20.0, 20.0))
        if blk is not None:
            sl, U, V, S = blk
            g = canal_geometry(spine, np.array([c1.s]))
            vk = float(g.v_cord[0])
            grow = 1.0 + np.clip((S - c1.top - 8.0) / 30.0, 0, 1) * 0.6
            med = _ellipse(U, V - vk - 2.0 * (grow - 1), float(g.a_cord[0]) * grow, float(g.b_cord[0]) * grow * 1.2)
            c.paint(sl, med, L.CORD)
    # Hardware
    if scene.screws:
        heads = {}
        for lab in scene.screws:
            for side in (-1, 1):
                entry, tip = _screw_geometry(spine, lab, side)
                heads[(lab, side)] = entry
                _paint_tube(c, np.array([entry, tip]), 3.0, 0.0, L.METAL, None)
        labs = sorted(scene.screws, key=LEVEL_ORDER.index)
        for side in (-1, 1):
            a = heads[(labs[0], side)] + np.array([0, 4.0, 6.0])
            b = heads[(labs[-1], side)] + np.array([0, 4.0, -6.0])
            _paint_tube(c, np.array([a, b]), 2.8, 0.0, L.METAL, None)
    return Raster(grid, c.lab, c.les, c.lev)
