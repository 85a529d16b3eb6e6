"""Spine anatomy for the phantom: level sizes and the sagittal curve of the spine.

Coordinates are DICOM patient LPS in millimetres (+x patient left, +y posterior, +z superior). The spine
lies in the mid-sagittal plane x = 0. Its curve passes through the centres of the vertebral bodies and
is described by ``phi(s)``, the angle between the curve's upward tangent and +z (positive when the curve
runs posteriorly as it ascends), as a function of the arc length ``s`` (mm, increasing upwards).

Local spine coordinates (used to shape bone, canal, sac and cord):

* ``u`` = x (mm, + patient left),
* ``v`` = signed distance from the curve along its posterior normal (mm, + posterior),
* ``s`` = arc length of the nearest curve point (mm, + superior).

Sizes are rounded means of adult measurements, good enough for a phantom, not normative data:

* vertebral body width/depth/height, canal width/depth and pedicle size: Panjabi MM et al., "Cervical human
  vertebrae: quantitative three-dimensional anatomy of the middle and lower regions", Spine
  1991;16(8):861-869; "Thoracic human vertebrae: quantitative three-dimensional anatomy", Spine
  1991;16(8):888-901; "Human lumbar vertebrae: quantitative three-dimensional anatomy", Spine
  1992;17(3):299-306.
* disc heights: Gilad I, Nissan M, "A study of vertebra and disc geometric relations of the human cervical
  and lumbar spine", Spine 1986;11(2):154-157 (thoracic discs interpolated, thinner than lumbar).
* spinal cord transverse and sagittal diameters: Ko HY, Park JH, Shin YB, Baek SY, "Gross quantitative
  measurements of spinal cord segments in human", Spinal Cord 2004;42(1):35-40 (conus medullaris ending at
  L1, its usual adult level).
* sagittal curves (thoracic kyphosis about 35 degrees T3-T12, lumbar lordosis about 50 degrees T12-S1,
  thoracolumbar junction nearly straight): Bernhardt M, Bridwell KH, "Segmental analysis of the sagittal
  plane alignment of the normal thoracic and lumbar spines and thoracolumbar junction", Spine
  1989;14(7):717-721; cervical lordosis about 25 degrees C2-C7.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

LEVEL_ORDER: tuple[str, ...] = (
    "C1", "C2", "C3", "C4", "C5", "C6", "C7",
    "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12",
    "L1", "L2", "L3", "L4", "L5", "S1",
)


@dataclass(frozen=True)
class LevelDims:
    """Sizes of one vertebral level in mm.

    Body: ``width`` (left-right), ``depth`` (antero-posterior) and ``height`` (cranio-caudal, mid-body) of
    the vertebral body; ``disc_below``: height of the disc under it. Canal: ``canal_lr`` (interpedicular
    width) and ``canal_ap`` (sagittal depth). ``sac_lr``/``sac_ap``: thecal sac; ``cord_lr``/``cord_ap``:
    spinal cord (0 below the conus). ``pedicle_w``/``pedicle_h``: pedicle width and height.
    ``spinous_len`` and ``spinous_angle`` (degrees below the horizontal, in the local frame),
    ``spinous_h`` (cranio-caudal thickness). ``transverse_len``: lateral reach of a transverse process from
    the pedicle. ``tp_back``: how far (degrees) the transverse process is swept posteriorly.
    """

    width: float
    depth: float
    height: float
    disc_below: float
    canal_lr: float
    canal_ap: float
    sac_lr: float
    sac_ap: float
    cord_lr: float
    cord_ap: float
    pedicle_w: float
    pedicle_h: float
    spinous_len: float
    spinous_angle: float
    spinous_h: float
    transverse_len: float
    tp_back: float


def _d(*v: float) -> LevelDims:
    return LevelDims(*v)


# Columns: width depth height disc_below | canal_lr canal_ap sac_lr sac_ap cord_lr cord_ap |
#          pedicle_w pedicle_h spinous_len spinous_angle spinous_h transverse_len tp_back
LEVEL_DIMS: dict[str, LevelDims] = {
    "C1": _d(0.0, 10.0, 10.0, 0.0, 27.0, 17.0, 21.0, 14.0, 12.0, 8.5, 8.0, 8.0, 10.0, 0.0, 8.0, 24.0, 5.0),
    "C2": _d(17.0, 15.5, 17.0, 4.5, 24.0, 15.5, 19.0, 13.0, 12.5, 8.3, 8.0, 9.0, 28.0, 20.0, 11.0, 16.0, 10.0),
    "C3": _d(15.5, 15.5, 14.0, 5.0, 24.0, 14.5, 19.0, 12.0, 13.0, 8.0, 5.5, 7.0, 20.0, 25.0, 8.0, 16.0, 15.0),
    "C4": _d(16.0, 15.5, 14.0, 5.0, 24.5, 14.5, 19.5, 12.0, 13.3, 8.0, 5.5, 7.0, 21.0, 25.0, 8.0, 16.0, 15.0),
    "C5": _d(17.5, 16.0, 13.5, 5.5, 25.0, 14.5, 19.5, 12.0, 13.0, 7.8, 5.5, 7.0, 23.0, 25.0, 8.0, 17.0, 15.0),
    "C6": _d(19.5, 16.5, 13.5, 5.5, 25.0, 14.5, 19.5, 12.0, 12.0, 7.5, 5.5, 7.0, 26.0, 28.0, 8.0, 18.0, 15.0),
    "C7": _d(21.5, 16.5, 15.0, 5.0, 24.0, 14.5, 19.0, 12.0, 11.0, 7.3, 6.5, 8.0, 34.0, 30.0, 9.0, 20.0, 15.0),
    "T1": _d(24.5, 16.5, 17.0, 4.5, 21.0, 15.0, 16.5, 12.0, 9.8, 7.0, 8.0, 10.0, 36.0, 32.0, 9.5, 22.0, 25.0),
    "T2": _d(25.0, 18.0, 18.5, 4.5, 17.5, 15.0, 14.5, 11.5, 9.0, 6.8, 7.0, 11.0, 36.0, 40.0, 9.5, 22.0, 28.0),
    "T3": _d(25.0, 19.5, 19.0, 4.5, 16.0, 14.5, 13.5, 11.0, 8.5, 6.6, 6.0, 11.5, 36.0, 45.0, 10.0, 21.0, 30.0),
    "T4": _d(25.5, 21.0, 19.5, 4.5, 15.5, 14.5, 13.5, 11.0, 8.2, 6.5, 5.0, 11.5, 37.0, 50.0, 10.0, 21.0, 30.0),
    "T5": _d(26.5, 23.0, 20.0, 5.0, 15.5, 14.5, 13.5, 11.0, 8.0, 6.5, 5.0, 12.0, 37.0, 52.0, 10.0, 20.0, 30.0),
    "T6": _d(27.5, 24.0, 21.0, 5.0, 15.5, 14.5, 13.5, 11.0, 8.0, 6.5, 5.5, 12.5, 37.0, 55.0, 10.0, 20.0, 30.0),
    "T7": _d(28.5, 25.5, 21.5, 5.5, 15.5, 14.5, 13.5, 11.0, 8.0, 6.5, 5.5, 13.0, 36.0, 55.0, 10.0, 20.0, 30.0),
    "T8": _d(30.0, 27.0, 22.0, 5.5, 16.0, 14.5, 13.8, 11.0, 8.2, 6.6, 6.0, 13.5, 35.0, 52.0, 10.5, 19.0, 30.0),
    "T9": _d(32.0, 28.0, 22.5, 6.0, 16.5, 15.0, 14.0, 11.5, 8.5, 6.8, 6.5, 14.0, 34.0, 46.0, 11.0, 19.0, 28.0),
    "T10": _d(34.0, 29.0, 23.5, 6.5, 17.0, 15.5, 14.5, 12.0, 8.8, 7.0, 7.0, 15.0, 35.0, 40.0, 10.0, 17.0, 25.0),
    "T11": _d(37.0, 30.5, 24.0, 7.0, 18.5, 16.0, 15.5, 12.5, 9.3, 7.5, 7.5, 16.0, 32.0, 30.0, 12.0, 12.0, 20.0),
    "T12": _d(40.0, 32.0, 25.0, 8.5, 20.0, 16.5, 16.5, 13.0, 9.5, 7.8, 8.0, 16.0, 30.0, 20.0, 15.0, 12.0, 10.0),
    "L1": _d(42.0, 34.0, 25.0, 9.5, 22.0, 17.5, 17.5, 13.5, 8.0, 7.0, 8.5, 15.5, 30.0, 8.0, 18.0, 18.0, 0.0),
    "L2": _d(44.0, 35.0, 26.0, 10.5, 23.0, 17.5, 18.0, 14.0, 0.0, 0.0, 9.0, 15.0, 31.0, 5.0, 20.0, 22.0, 0.0),
    "L3": _d(46.0, 35.5, 26.0, 11.0, 23.5, 17.0, 18.0, 14.0, 0.0, 0.0, 10.0, 14.5, 31.0, 5.0, 21.0, 26.0, 0.0),
    "L4": _d(48.0, 35.5, 26.0, 11.5, 24.0, 17.5, 18.0, 14.0, 0.0, 0.0, 12.0, 14.0, 29.0, 5.0, 20.0, 22.0, 0.0),
    "L5": _d(50.0, 35.0, 25.0, 11.0, 26.0, 18.0, 17.5, 13.5, 0.0, 0.0, 15.0, 14.0, 25.0, 5.0, 17.0, 20.0, 0.0),
    "S1": _d(48.0, 33.0, 28.0, 0.0, 28.0, 16.0, 14.0, 10.0, 0.0, 0.0, 16.0, 16.0, 15.0, 10.0, 14.0, 0.0, 0.0),
}

# Angle phi (degrees) of the curve's upward tangent from +z, positive = ascending posteriorly, at level
# centres; linear in between. Apex of lumbar lordosis at L3 (phi = 0), of thoracic kyphosis at T7, of
# cervical lordosis at C5. Sums: lordosis T12->S1 about 50 deg, kyphosis T3->T12 about 35 deg.
_PHI_KNOTS: dict[str, float] = {
    "S1": -38.0, "L5": -24.0, "L4": -12.0, "L3": 0.0, "L2": 8.0, "L1": 12.0, "T12": 13.0, "T11": 13.0,
    "T10": 11.0, "T9": 8.0, "T8": 4.0, "T7": 0.0, "T6": -4.0, "T5": -8.0, "T4": -11.0, "T3": -14.0,
    "T2": -16.0, "T1": -17.0, "C7": -15.0, "C6": -9.0, "C5": 0.0, "C4": 7.0, "C3": 12.0, "C2": 15.0,
    "C1": 17.0,
}


def level_index(label: str) -> int:
    """Position of a level label in `LEVEL_ORDER` (C1 = 0); raises ValueError for an unknown label."""
    return LEVEL_ORDER.index(label)


def region_of(label: str) -> str:
    """"cervical", "thoracic", "lumbar" or "sacral" for a level label."""
    return {"C": "cervical", "T": "thoracic", "L": "lumbar", "S": "sacral"}[label[0]]


@dataclass(frozen=True)
class Vertebra:
    """One placed vertebra: its label, sizes and the arc length ``s`` (mm) of its body centre."""

    label: str
    dims: LevelDims
    s: float
    top: float      # arc length of the upper end plate (mm)
    bottom: float   # arc length of the lower end plate (mm)


class SpineModel:
    """The spine's sagittal curve and the positions of all vertebrae along it.

    ``anchor_label`` is the level whose body centre is placed at ``anchor_lps`` (LPS mm, x must be 0).
    ``scale`` multiplies every size (a small person: 0.95; a tall one 1.05).
    """

    def __init__(self, anchor_label: str = "T6", anchor_lps: tuple[float, float, float] = (0.0, 40.0, 0.0),
                 scale: float = 1.0, step: float = 0.25) -> None:
        self.scale = float(scale)
        self.dims = {k: _scaled(v, scale) for k, v in LEVEL_DIMS.items()}
        # Arc positions, building upwards from the sacrum (s = 0 at the S1 centre).
        vertebrae: dict[str, Vertebra] = {}
        s = 0.0
        order_up = list(reversed(LEVEL_ORDER))
        for i, lab in enumerate(order_up):
            d = self.dims[lab]
            h = d.height if lab != "C1" else 10.0 * scale
            if i > 0:
                prev = vertebrae[order_up[i - 1]]
                # The disc below level `lab` is stored on `lab`; C1 sits on C2's dens (no disc).
                gap = d.disc_below if lab != "C1" else 2.0 * scale
                s = prev.top + gap + h / 2.0
            vertebrae[lab] = Vertebra(lab, d, s, s + h / 2.0, s - h / 2.0)
        # Shift so the anchor level is at s = 0.
        s0 = vertebrae[anchor_label].s
        self.vertebrae = {k: replace(v, s=v.s - s0, top=v.top - s0, bottom=v.bottom - s0)
                          for k, v in vertebrae.items()}
        self.s_min = self.vertebrae["S1"].bottom - 60.0
        self.s_max = self.vertebrae["C1"].top + 80.0
        # Integrate the curve.
        knots_s = np.array([self.vertebrae[k].s for k in reversed(LEVEL_ORDER)])
        knots_phi = np.radians([_PHI_KNOTS[k] for k in reversed(LEVEL_ORDER)])
        self.step = step
        ss = np.arange(self.s_min, self.s_max + step, step)
        phi = np.interp(ss, knots_s, knots_phi)
        dy = np.sin(phi) * step
        dz = np.cos(phi) * step
        y = np.concatenate([[0.0], np.cumsum((dy[1:] + dy[:-1]) / 2)])
        z = np.concatenate([[0.0], np.cumsum((dz[1:] + dz[:-1]) / 2)])
        i0 = int(np.argmin(np.abs(ss)))
        y = y - y[i0] + anchor_lps[1]
        z = z - z[i0] + anchor_lps[2]
        self.ss, self.phi, self.cy, self.cz = ss, phi, y, z
        self.ty, self.tz = np.sin(phi), np.cos(phi)       # upward tangent
        self.ny, self.nz = np.cos(phi), -np.sin(phi)      # posterior normal

    # -- curve queries ------------------------------------------------------------------------------
    def point(self, s: float) -> np.ndarray:
        """LPS point (mm) of the curve at arc length ``s``."""
        return np.array([0.0, np.interp(s, self.ss, self.cy), np.interp(s, self.ss, self.cz)])

    def frame(self, s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit LPS vectors at arc length ``s``: (left, posterior normal, upward tangent)."""
        phi = float(np.interp(s, self.ss, self.phi))
        return (np.array([1.0, 0.0, 0.0]), np.array([0.0, np.cos(phi), -np.sin(phi)]),
                np.array([0.0, np.sin(phi), np.cos(phi)]))

    def local_to_lps(self, u: float, v: float, s: float) -> np.ndarray:
        """Local spine coordinates (u, v, s) in mm -> LPS mm."""
        _, n, _ = self.frame(s)
        return self.point(s) + np.array([u, 0.0, 0.0]) + v * n

    def project(self, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local (v, s) for sagittal-plane points ``(y, z)`` (any broadcastable shapes, LPS mm).

        ``s`` is the arc length of the nearest curve point, ``v`` the signed distance along the posterior
        normal. Exact within the curve's radius of curvature (over 190 mm here)."""
        y = np.asarray(y, dtype=np.float64)
        z = np.asarray(z, dtype=np.float64)
        yb, zb = np.broadcast_arrays(y, z)
        shape = yb.shape
        yq = yb.ravel()
        zq = zb.ravel()
        v = np.empty_like(yq)
        s = np.empty_like(yq)
        # Coarse candidate: the curve sample with the nearest z, then refine among neighbours.
        coarse = 8  # samples (2 mm)
        cy, cz = self.cy[::coarse], self.cz[::coarse]
        for start in range(0, yq.size, 20000):
            sl = slice(start, start + 20000)
            dy = yq[sl, None] - cy[None, :]
            dz = zq[sl, None] - cz[None, :]
            k = np.argmin(dy * dy + dz * dz, axis=1) * coarse
            # refine within +-2 coarse samples
            offs = np.arange(-2 * coarse, 2 * coarse + 1)
            idx = np.clip(k[:, None] + offs[None, :], 0, self.ss.size - 1)
            ddy = yq[sl, None] - self.cy[idx]
            ddz = zq[sl, None] - self.cz[idx]
            j = np.argmin(ddy * ddy + ddz * ddz, axis=1)
            kk = idx[np.arange(idx.shape[0]), j]
            ry = yq[sl] - self.cy[kk]
            rz = zq[sl] - self.cz[kk]
            s[sl] = self.ss[kk] + ry * self.ty[kk] + rz * self.tz[kk]
            v[sl] = ry * self.ny[kk] + rz * self.nz[kk]
        return v.reshape(shape), s.reshape(shape)

    def z_to_y(self, z: np.ndarray | float) -> np.ndarray:
        """The curve's y (mm) at height z (mm): the antero-posterior position of the body centres."""
        order = np.argsort(self.cz)
        return np.interp(z, self.cz[order], self.cy[order])

    def z_to_s(self, z: np.ndarray | float) -> np.ndarray:
        """Arc length of the curve point at height z (mm)."""
        order = np.argsort(self.cz)
        return np.interp(z, self.cz[order], self.ss[order])

    # -- levels -------------------------------------------------------------------------------------
    def vertebra(self, label: str) -> Vertebra:
        return self.vertebrae[label]

    def body_centroid_lps(self, label: str) -> np.ndarray:
        """LPS (mm) of the centre of a vertebral body (for C1, the centre of the anterior arch)."""
        vt = self.vertebrae[label]
        if label == "C1":
            # Midline centre of the anterior arch as raster.py draws it: a ring centred at V = +4 mm with
            # antero-posterior radii 11.5 (inner) to 15.5 mm (outer), so the arch spans V = -11.5..-7.5.
            return self.local_to_lps(0.0, 4.0 - (11.5 + 15.5) / 2, vt.s)
        return self.point(vt.s)

    def dims_at(self, s: np.ndarray) -> dict[str, np.ndarray]:
        """Level sizes interpolated at arc lengths ``s`` (between body centres; constant beyond)."""
        labels = [k for k in reversed(LEVEL_ORDER)]
        ks = np.array([self.vertebrae[k].s for k in labels])
        out: dict[str, np.ndarray] = {}
        for f in ("width", "depth", "canal_lr", "canal_ap", "sac_lr", "sac_ap", "cord_lr", "cord_ap"):
            vals = np.array([getattr(self.dims[k], f) for k in labels])
            if f == "width":
                vals[-1] = vals[-2]  # C1 has no body: keep C2's
            out[f] = np.interp(s, ks, vals)
        return out

    def level_at(self, s: float) -> str:
        """The label of the vertebra whose body centre is nearest to arc length ``s``."""
        return min(self.vertebrae.values(), key=lambda v: abs(v.s - s)).label


def _scaled(d: LevelDims, k: float) -> LevelDims:
    if k == 1.0:
        return d
    vals = {f: getattr(d, f) * k for f in d.__dataclass_fields__ if f not in ("spinous_angle", "tp_back")}
    return replace(d, **vals)
