"""Patient-space geometry helpers (LPS, mm): plane names and orientation letters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Patient direction letters for +x, +y, +z in DICOM LPS: +x is patient Left, +y Posterior, +z Superior.
_POSITIVE = ("L", "P", "S")
_NEGATIVE = ("R", "A", "I")


def plane_name_from_orientation(iop: Sequence[float]) -> str:
    """Name the plane of an ImageOrientationPatient: "axial", "sagittal", "coronal" or "oblique".

    The plane is named by its normal's dominant axis; it is "oblique" when that axis holds less than
    cos(30 degrees) of the normal (a tilt of more than 30 degrees away from every standard plane).
    """
    row = np.asarray(iop[:3], dtype=float)
    col = np.asarray(iop[3:6], dtype=float)
    normal = np.cross(row, col)
    normal /= np.linalg.norm(normal)
    axis = int(np.argmax(np.abs(normal)))
    if abs(normal[axis]) < np.cos(np.radians(30)):
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def orientation_letters(direction: Sequence[float] | np.ndarray, max_letters: int = 3, tolerance: float = 0.25) -> str:
    """Patient direction letters for an LPS direction, most significant first (e.g. "L", "AR", "SPL").

    A component is named when its magnitude is at least ``tolerance`` (fraction of the unit vector) —
    so an oblique direction gets two or three letters, as in DICOM PatientOrientation and OHIF/Slicer.
    """
    v = np.asarray(direction, dtype=float)
    n = np.linalg.norm(v)
    if n == 0:
        return ""
    v = v / n
    order = np.argsort(-np.abs(v))
    letters = []
    for axis in order[:max_letters]:
        if abs(v[axis]) < tolerance:
            break
        letters.append(_POSITIVE[axis] if v[axis] > 0 else _NEGATIVE[axis])
    return "".join(letters)


def axis_position(lps: Sequence[float] | np.ndarray, normal: Sequence[float] | np.ndarray) -> tuple[str, float]:
    """Where a plane lies, as PACS viewers write it: the patient axis nearest the plane's normal and the
    point's distance along it, with its direction letter -- ``("S", 12.5)`` for an axial plane 12.5 mm
    above the origin, ``("R", 3.0)`` for a sagittal plane 3 mm to the right. Distance in mm, >= 0."""
    p = np.asarray(lps, dtype=np.float64)
    axis = int(np.argmax(np.abs(np.asarray(normal, dtype=np.float64))))
    value = float(p[axis])
    return (_POSITIVE[axis] if value >= 0 else _NEGATIVE[axis]), abs(value)


def unit(v: Sequence[float] | np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 (raises ValueError for a zero vector)."""
    a = np.asarray(v, dtype=float)
    n = np.linalg.norm(a)
    if n == 0:
        raise ValueError("zero-length direction vector")
    out: np.ndarray = a / n
    return out


class PlaneGeometry:
    """Where a displayed 2D image lies in patient space.

    Display pixel ``(x, y)`` (x to the right, y down, pixel centres at integers) maps to
    ``origin + x * x_spacing * x_dir + y * y_spacing * y_dir`` in LPS mm. ``x_dir`` and ``y_dir`` are unit
    LPS vectors; ``x_spacing`` / ``y_spacing`` are the physical pixel sizes in mm (pixels when the source
    has no pixel spacing). ``normal`` is ``x_dir x y_dir`` normalised; ``thickness`` is the slab depth in mm
    along the normal that counts as "on this plane" (one slice spacing).
    """

    __slots__ = ("origin", "x_dir", "y_dir", "x_spacing", "y_spacing", "thickness", "normal")

    def __init__(self, origin: Sequence[float] | np.ndarray, x_dir: Sequence[float] | np.ndarray,
                 y_dir: Sequence[float] | np.ndarray,
                 x_spacing: float, y_spacing: float, thickness: float = 1.0) -> None:
        self.origin = np.asarray(origin, dtype=float)
        self.x_dir = unit(x_dir)
        self.y_dir = unit(y_dir)
        self.x_spacing = float(x_spacing)
        self.y_spacing = float(y_spacing)
        self.thickness = float(thickness)
        self.normal = unit(np.cross(self.x_dir, self.y_dir))

    def to_lps(self, xy: Sequence[float] | np.ndarray) -> np.ndarray:
        """Display pixel coordinates ``(x, y)`` (shape (2,) or (N, 2)) -> LPS mm (shape (3,) or (N, 3))."""
        p = np.asarray(xy, dtype=float)
        single = p.ndim == 1
        p = np.atleast_2d(p)
        out: np.ndarray = (self.origin[None, :]
                           + p[:, :1] * self.x_spacing * self.x_dir[None, :]
                           + p[:, 1:2] * self.y_spacing * self.y_dir[None, :])
        return out[0] if single else out

    def from_lps(self, lps: Sequence[float] | np.ndarray) -> np.ndarray:
        """LPS mm (shape (3,) or (N, 3)) -> ``(x, y, d)``: display pixel coordinates and the signed distance
        in mm from the plane along ``normal``. Exact for orthogonal ``x_dir``/``y_dir``; for sheared
        planes (gantry tilt) x and y are solved in the plane and d along the normal."""
        p = np.atleast_2d(np.asarray(lps, dtype=float)) - self.origin[None, :]
        basis = np.stack([self.x_dir * self.x_spacing, self.y_dir * self.y_spacing, self.normal], axis=1)
        xyd = np.linalg.solve(basis, p.T).T
        return xyd[0] if np.asarray(lps).ndim == 1 else xyd

    def contains(self, lps: Sequence[float] | np.ndarray, tolerance: float | None = None) -> np.ndarray | bool:
        """Whether points lie on this plane: within half the thickness (or ``tolerance`` mm) of it."""
        tol = self.thickness / 2 if tolerance is None else tolerance
        d = np.abs(self.from_lps(lps)[..., 2])
        inside: np.ndarray | bool = d <= tol + 1e-9
        return inside

    def __repr__(self) -> str:
        return (f"PlaneGeometry(origin={self.origin.round(3).tolist()}, x_dir={self.x_dir.round(4).tolist()}, "
                f"y_dir={self.y_dir.round(4).tolist()}, spacing=({self.x_spacing:.4g}, {self.y_spacing:.4g}), "
                f"thickness={self.thickness:.4g})")
