"""Plane ellipses in millimetres: containment, exact signed distance, boundary samples and fitting.

Used by the Bilsky assistant (reference outline of an indented thecal sac or cord) and by the synthetic
canal model. Coordinates are ``(x, y)`` in mm in an image plane: ``x`` along increasing column, ``y``
along increasing row (for an axial slice shown in the usual way, ``y`` grows posteriorly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Ellipse", "fit_ellipse", "mask_edge_points"]


@dataclass(frozen=True)
class Ellipse:
    """An ellipse: centre ``(x, y)`` mm, semi-axes ``a`` (along the rotated x axis) and ``b`` mm, and
    ``angle`` (radians, from the x axis towards the y axis)."""

    cx: float
    cy: float
    a: float
    b: float
    angle: float = 0.0

    def __post_init__(self) -> None:
        if not (self.a > 0 and self.b > 0 and math.isfinite(self.a) and math.isfinite(self.b)):
            raise ValueError(f"ellipse semi-axes must be positive and finite, got a={self.a}, b={self.b}")

    @property
    def center(self) -> np.ndarray:
        return np.array([self.cx, self.cy])

    @property
    def area(self) -> float:
        """Area in mm2."""
        return math.pi * self.a * self.b

    def _local(self, points: np.ndarray) -> np.ndarray:
        p = np.atleast_2d(np.asarray(points, dtype=np.float64)) - self.center
        c, s = math.cos(self.angle), math.sin(self.angle)
        return np.stack([p[:, 0] * c + p[:, 1] * s, -p[:, 0] * s + p[:, 1] * c], axis=1)

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Whether each ``(x, y)`` point (shape (N, 2)) lies inside or on the ellipse."""
        q = self._local(points)
        return (q[:, 0] / self.a) ** 2 + (q[:, 1] / self.b) ** 2 <= 1.0

    def signed_distance(self, points: np.ndarray) -> np.ndarray:
        """Exact Euclidean distance (mm) from each point to the ellipse's outline: positive outside,
        negative inside (Eberly's robust bisection, vectorised)."""
        q = self._local(points)
        a, b = self.a, self.b
        if a < b:
            q = q[:, ::-1]
            a, b = b, a
        y0 = np.abs(q[:, 0])
        y1 = np.maximum(np.abs(q[:, 1]), 1e-9 * b)
        z0, z1 = y0 / a, y1 / b
        g = z0 * z0 + z1 * z1 - 1.0
        r0 = (a / b) ** 2
        n0 = r0 * z0
        s_lo = z1 - 1.0
        s_hi = np.where(g < 0, 0.0, np.hypot(n0, z1) - 1.0)
        for _ in range(48):
            s = 0.5 * (s_lo + s_hi)
            gs = (n0 / (s + r0)) ** 2 + (z1 / (s + 1.0)) ** 2 - 1.0
            s_lo = np.where(gs > 0, s, s_lo)
            s_hi = np.where(gs > 0, s_hi, s)
        s = 0.5 * (s_lo + s_hi)
        x0 = r0 * y0 / (s + r0)
        x1 = y1 / (s + 1.0)
        d = np.hypot(x0 - y0, x1 - y1)
        signed: np.ndarray = np.where(g < 0, -d, d)
        return signed

    def boundary(self, n: int = 360) -> np.ndarray:
        """``n`` points (shape (n, 2)) along the outline, counter-clockwise in (x, y)."""
        t = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
        c, s = math.cos(self.angle), math.sin(self.angle)
        x, y = self.a * np.cos(t), self.b * np.sin(t)
        return np.stack([self.cx + x * c - y * s, self.cy + x * s + y * c], axis=1)

    def radius_towards(self, direction: np.ndarray) -> float:
        """Distance (mm) from the centre to the outline along the unit vector ``direction``."""
        d = self._local(np.asarray(direction, dtype=float)[None, :] + self.center)[0]
        return float(1.0 / math.sqrt((d[0] / self.a) ** 2 + (d[1] / self.b) ** 2))

    def moved(self, dx: float, dy: float) -> Ellipse:
        return Ellipse(self.cx + dx, self.cy + dy, self.a, self.b, self.angle)


def fit_ellipse(points: np.ndarray) -> Ellipse | None:
    """Least-squares ellipse through ``(x, y)`` points (Fitzgibbon's direct fit in the numerically stable
    form of Halir and Flusser, 1998). Works on a partial arc. Returns None when the points do not
    determine an ellipse (fewer than 6, collinear, or degenerate)."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 6:
        return None
    mean = p.mean(axis=0)
    scale = float(np.sqrt(((p - mean) ** 2).sum(axis=1).mean()))
    if not scale > 0:
        return None
    x, y = ((p - mean) / scale).T
    d1 = np.stack([x * x, x * y, y * y], axis=1)
    d2 = np.stack([x, y, np.ones_like(x)], axis=1)
    s1, s2, s3 = d1.T @ d1, d1.T @ d2, d2.T @ d2
    try:
        t = -np.linalg.solve(s3, s2.T)
        m = s1 + s2 @ t
        m = np.array([m[2] / 2.0, -m[1], m[0] / 2.0])
        eigval, eigvec = np.linalg.eig(m)
    except np.linalg.LinAlgError:
        return None
    eigvec = np.real(eigvec)
    cond = 4 * eigvec[0] * eigvec[2] - eigvec[1] ** 2
    ok = np.nonzero(cond > 0)[0]
    if ok.size == 0:
        return None
    a1 = eigvec[:, ok[0]]
    coef = np.concatenate([a1, t @ a1])
    return _conic_to_ellipse(coef, mean, scale)


def _conic_to_ellipse(coef: np.ndarray, mean: np.ndarray, scale: float) -> Ellipse | None:
    a, b, c, d, e, f = coef
    den = 4 * a * c - b * b
    if den <= 0:
        return None
    x0 = (b * e - 2 * c * d) / den
    y0 = (b * d - 2 * a * e) / den
    f0 = a * x0 * x0 + b * x0 * y0 + c * y0 * y0 + d * x0 + e * y0 + f
    mat = np.array([[a, b / 2], [b / 2, c]])
    lam, vec = np.linalg.eigh(mat)
    if f0 == 0 or np.any(-f0 / lam <= 0):
        return None
    semi = np.sqrt(-f0 / lam)
    angle = math.atan2(vec[1, 0], vec[0, 0])
    cx, cy = mean + scale * np.array([x0, y0])
    try:
        return Ellipse(float(cx), float(cy), float(semi[0] * scale), float(semi[1] * scale), angle)
    except ValueError:
        return None


def mask_edge_points(mask: np.ndarray, spacing: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The outline of a 2D mask as the midpoints of the pixel edges between the mask and its outside.

    ``mask`` is indexed ``[row, column]``; ``spacing`` is ``(row mm, column mm)``. Returns ``(points,
    outside)``: points ``(x, y)`` in mm (x = column * column spacing, y = row * row spacing; the first pixel's
    centre is the origin), and for each point the ``(row, column)`` index of the pixel just outside it
    (may be -1 or the shape, outside the grid). The midpoints lie within half a pixel of the true outline,
    unbiased, unlike pixel centres.
    """
    m = np.asarray(mask, dtype=bool)
    padded = np.pad(m, 1)
    sr, sc = spacing
    pts: list[np.ndarray] = []
    outs: list[np.ndarray] = []
    for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        neighbour = padded[1 + dr:padded.shape[0] - 1 + dr, 1 + dc:padded.shape[1] - 1 + dc]
        rr, cc = np.nonzero(m & ~neighbour)
        pts.append(np.stack([(cc + dc / 2.0) * sc, (rr + dr / 2.0) * sr], axis=1))
        outs.append(np.stack([rr, cc], axis=1))
    return np.concatenate(pts), np.concatenate(outs)
