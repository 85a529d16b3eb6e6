"""Turn label maps into CT Hounsfield units and MR signal, with partial volume and noise.

CT: mean HU per structure (air -1000, fat -100, CSF 8, cord 35, muscle 50, disc 75-90, cancellous bone
230, cortex 800-1100), a trabecular texture in cancellous bone, a slight blur (the scanner's point spread)
and spatially correlated Gaussian noise (SD about 12 HU in soft tissue).

MR: spin-echo T1- and T2-weighted signal in arbitrary units (0-4095): CSF dark on T1 and bright on T2,
fat bright on both, fatty marrow intermediate-bright, cortex and flowing blood dark, marrow-replacing
lesions dark on T1 and bright on T2. A posterior (spine) receive coil makes anterior tissue darker.
Noise is Rician: the magnitude of the signal plus complex Gaussian noise.
"""

from __future__ import annotations

import numpy as np

from tools.phantom.labels import Label
from tools.phantom.scene import Lesion

L = Label

# label: (CT HU, texture SD HU, T1, T2)
TISSUE: dict[int, tuple[float, float, float, float]] = {
    L.AIR: (-1000, 0, 0, 0),
    L.SKIN: (40, 5, 500, 300),
    L.FAT: (-100, 6, 1000, 850),
    L.MUSCLE: (50, 4, 400, 180),
    L.PARASPINAL: (52, 4, 400, 180),
    L.PSOAS: (48, 4, 400, 180),
    L.LUNG: (-860, 25, 30, 25),
    L.VISCERAL_FAT: (-95, 6, 950, 800),
    L.LIVER: (58, 3, 520, 220),
    L.SPLEEN: (48, 3, 420, 420),
    L.KIDNEY: (32, 3, 450, 500),
    L.BLOOD: (42, 2, 80, 60),
    L.BOWEL: (20, 6, 300, 700),
    L.GAS: (-990, 5, 0, 0),
    L.ESOPHAGUS: (40, 4, 400, 250),
    L.BRAIN: (35, 3, 450, 500),
    L.BODY_CORTEX: (900, 60, 60, 50),
    L.BODY_CANCELLOUS: (230, 40, 650, 500),
    L.POSTERIOR_CORTEX: (850, 60, 60, 50),
    L.POSTERIOR_CANCELLOUS: (300, 40, 650, 500),
    L.RIB_CORTEX: (800, 50, 60, 50),
    L.RIB_MARROW: (260, 30, 650, 500),
    L.SKULL_CORTEX: (1100, 60, 50, 40),
    L.SKULL_CANCELLOUS: (420, 40, 600, 450),
    L.DISC_ANNULUS: (90, 5, 350, 180),
    L.DISC_NUCLEUS: (75, 5, 400, 1100),
    L.EPIDURAL_FAT: (-90, 6, 950, 800),
    L.CSF: (8, 2, 180, 1500),
    L.CORD: (35, 2, 520, 430),
    L.NERVE_ROOT: (30, 2, 500, 400),
    L.LIGAMENT: (70, 4, 300, 150),
    L.TUMOUR: (45, 6, 420, 850),
    L.CEMENT: (2600, 80, 20, 20),
    L.METAL: (3071, 0, 0, 0),
    L.SCAR: (45, 5, 350, 450),
}

# Lesion kinds: (CT HU, T1, T2)
KIND_VALUES: dict[str, tuple[float, float, float]] = {
    "lytic_soft_tissue": (45.0, 420.0, 850.0),
    "lipomatous": (-75.0, 930.0, 780.0),
    "blastic": (900.0, 80.0, 60.0),
    "marrow_replacing": (205.0, 250.0, 1150.0),
    "cement": (2600.0, 20.0, 20.0),
}


def lesion_values(lesion: Lesion, kind: str | None = None) -> tuple[float, float, float]:
    """(CT HU, T1, T2) a lesion (or one part's ``kind``) is built with."""
    k = kind or lesion.kind
    hu, t1, t2 = KIND_VALUES[k]
    if kind is None or kind == lesion.kind:
        hu = lesion.ct_hu if lesion.ct_hu is not None else hu
        t1 = lesion.t1 if lesion.t1 is not None else t1
        t2 = lesion.t2 if lesion.t2 is not None else t2
    return hu, t1, t2


def _smooth121(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    out = a
    for ax in axes:
        if out.shape[ax] < 3:
            continue
        p = np.swapaxes(out, 0, ax)
        q = p.copy()
        q[1:-1] = 0.25 * p[:-2] + 0.5 * p[1:-1] + 0.25 * p[2:]
        out = np.swapaxes(q, 0, ax)
    return out


def correlated_noise(rng: np.random.Generator, shape: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    """Unit-SD Gaussian noise smoothed along ``axes`` (float32)."""
    n = rng.standard_normal(shape, dtype=np.float32)
    n = _smooth121(n, axes)
    sd = float(n.std())
    return n / sd if sd > 0 else n


def _part_kind_map(labels: np.ndarray, lesion_ids: np.ndarray, lesions: tuple[Lesion, ...], column: int,
                   base: np.ndarray) -> None:
    """Write lesion values (column 0 CT, 1 T1, 2 T2) into ``base`` where lesions are."""
    for k, lesion in enumerate(lesions, start=1):
        m = (lesion_ids == k) & ((labels == L.TUMOUR) | (labels == L.CEMENT))
        if not m.any():
            continue
        base[m] = lesion_values(lesion)[column]


def ct_values(labels: np.ndarray, lesion_ids: np.ndarray, lesions: tuple[Lesion, ...], rng: np.random.Generator,
              mixed_parts: list[tuple[np.ndarray, float]] | None = None, noise_sd: float = 12.0,
              slice_axis: int = 0) -> np.ndarray:
    """CT image (float32 HU) for a label map ``[slice, row, column]``.

    ``mixed_parts``: (mask, HU) pairs painted last (lesion parts of another kind than their lesion)."""
    lut = np.zeros(256, dtype=np.float32)
    tex = np.zeros(256, dtype=np.float32)
    for k, (hu, sd, _, _) in TISSUE.items():
        lut[k] = hu
        tex[k] = sd
    img = lut[labels]
    _part_kind_map(labels, lesion_ids, lesions, 0, img)
    for mask, hu in mixed_parts or []:
        img[mask] = hu
    # Tissue texture (trabecular pattern in bone, lung parenchyma), smooth on a ~1.5 mm scale.
    t = correlated_noise(rng, labels.shape, (0, 1, 2))
    t = _smooth121(t, (1, 2))
    t /= max(float(t.std()), 1e-6)
    img += t * tex[labels]
    inplane = tuple(a for a in (0, 1, 2) if a != slice_axis)
    img = _smooth121(img, inplane)
    img += correlated_noise(rng, labels.shape, inplane) * noise_sd
    return img


def mr_values(labels: np.ndarray, lesion_ids: np.ndarray, lesions: tuple[Lesion, ...], weighting: str,
              mixed_parts: list[tuple[np.ndarray, float]] | None = None) -> np.ndarray:
    """Noise-free MR signal (float32) for ``weighting`` "T1" or "T2"; see `add_rician_noise`."""
    col = {"T1": 2, "T2": 3}[weighting]
    lut = np.zeros(256, dtype=np.float32)
    for k, vals in TISSUE.items():
        lut[k] = vals[col]
    img = lut[labels]
    _part_kind_map(labels, lesion_ids, lesions, col - 1, img)
    for mask, v in mixed_parts or []:
        img[mask] = v
    # Metal: signal void with blooming.
    metal = labels == L.METAL
    if metal.any():
        grown = metal.copy()
        for ax in range(labels.ndim):
            if labels.shape[ax] < 3:
                continue
            g = np.swapaxes(grown, 0, ax)
            h = g.copy()
            h[1:] |= g[:-1]
            h[:-1] |= g[1:]
            grown = np.swapaxes(h, 0, ax)
        img[grown] = 0.0
    return img


def add_rician_noise(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Magnitude of (img + n1, n2) with n1, n2 Gaussian of SD ``sigma``: Rician noise."""
    n1 = rng.standard_normal(img.shape, dtype=np.float32) * sigma
    n2 = rng.standard_normal(img.shape, dtype=np.float32) * sigma
    return np.sqrt((img + n1) ** 2 + n2 ** 2)
