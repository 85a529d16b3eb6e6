"""`Volume`: a voxel array with its exact patient geometry.

Conventions (see ARCHITECTURE.md):

* ``array`` is indexed ``[slice, row, column]`` and holds modality values (rescale applied:
  Hounsfield units for CT), int16 when that is exact, float32 otherwise.
* ``affine`` (4x4) maps ``(column, row, slice, 1)`` to patient ``(L, P, S, 1)`` in millimetres (DICOM LPS).
  Its first two columns are ImageOrientationPatient's row and column direction cosines times the
  pixel spacing; its third column is the real vector between consecutive slice positions, so a tilted
  (gantry tilt) or sheared stack keeps its true geometry.
* When the files carry no pixel spacing, ``pixel_spacing_known`` is False, the affine uses 1 mm per pixel
  and every length derived from it must be shown in pixels.
* When they carry no ImageOrientationPatient, ``orientation_known`` is False: the stack is shown as axial but
  no patient direction (orientation letters, R/L, A/P, S/I positions) may be claimed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np


class WindowPreset(NamedTuple):
    """A window (center/width, in modality units) with the name shown to the reader and where it came from."""

    name: str
    center: float
    width: float
    source: str = ""


@dataclass
class VolumeMetadata:
    """The identifiers and descriptive values display and export need. Empty string when absent."""

    patient_id: str = ""
    patient_name: str = ""
    patient_sex: str = ""
    patient_age: str = ""
    patient_birth_date: str = ""
    study_instance_uid: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    accession_number: str = ""
    series_instance_uid: str = ""
    series_number: int | None = None
    series_description: str = ""
    series_date: str = ""
    frame_of_reference_uid: str = ""
    sop_class_uid: str = ""
    manufacturer: str = ""
    body_part_examined: str = ""
    protocol_name: str = ""
    slice_thickness: float | None = None
    # One per slice, in slice order (index 0 = slice 0). Enhanced multi-frame files repeat the same
    # SOPInstanceUID for every frame and give the 1-based frame number.
    sop_instance_uids: list[str] = field(default_factory=list)
    frame_numbers: list[int | None] = field(default_factory=list)
    # The DICOM InstanceNumber of each slice (the image number every PACS shows), None for a filled gap.
    instance_numbers: list[int | None] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    window_presets: list[WindowPreset] = field(default_factory=list)
    # MONOCHROME1 means high values display dark; the viewer inverts by default.
    photometric_interpretation: str = "MONOCHROME2"
    rescale_units: str = ""  # "HU" for CT, "" (arbitrary units) otherwise
    # MR sequence facts for labels ("T1", "T2", "STIR"...) when known.
    echo_time: float | None = None
    repetition_time: float | None = None
    inversion_time: float | None = None


@dataclass
class Volume:
    """A 3D image in patient space. See the module docstring for the conventions."""

    array: np.ndarray
    affine: np.ndarray
    modality: str = ""
    metadata: VolumeMetadata = field(default_factory=VolumeMetadata)
    warnings: list[str] = field(default_factory=list)
    pixel_spacing_known: bool = True
    orientation_known: bool = True
    # Exact LPS position (mm) of each slice's first voxel, in slice order; the affine's third column is
    # their mean step. Kept so uneven stacks can be reported and measured exactly.
    slice_positions: np.ndarray | None = None
    # Progressive display (`imaging.dicom.load.load_series`'s ``on_first``): while a load still fills the
    # array, which slices hold their pixels (None once every slice does); and a count of changes to the
    # pixels, which frame caches key on.
    loaded_slices: np.ndarray | None = field(default=None, repr=False, compare=False)
    pixel_generation: int = field(default=0, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.affine = np.asarray(self.affine, dtype=np.float64)
        if self.affine.shape != (4, 4):
            raise ValueError(f"affine must be 4x4, got {self.affine.shape}")
        if self.array.ndim != 3:
            raise ValueError(f"array must be 3D [slice, row, column], got shape {self.array.shape}")
        if self.slice_positions is None:
            ks = np.arange(self.array.shape[0], dtype=np.float64)
            self.slice_positions = self.affine[:3, 3][None, :] + ks[:, None] * self.affine[:3, 2][None, :]

    # -- shape and spacing -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """``(slices, rows, columns)``."""
        s = self.array.shape
        return int(s[0]), int(s[1]), int(s[2])

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel spacing ``(column, row, slice)`` in mm (pixels when ``pixel_spacing_known`` is False)."""
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return float(norms[0]), float(norms[1]), float(norms[2])

    @property
    def row_direction(self) -> np.ndarray:
        """Unit LPS vector along increasing column index (DICOM IOP's first triplet)."""
        v = self.affine[:3, 0]
        out: np.ndarray = v / np.linalg.norm(v)
        return out

    @property
    def column_direction(self) -> np.ndarray:
        """Unit LPS vector along increasing row index (DICOM IOP's second triplet)."""
        v = self.affine[:3, 1]
        out: np.ndarray = v / np.linalg.norm(v)
        return out

    @property
    def slice_direction(self) -> np.ndarray:
        """Unit LPS vector from one slice to the next (not necessarily the plane normal: gantry tilt)."""
        v = self.affine[:3, 2]
        n = np.linalg.norm(v)
        return v / n if n > 0 else np.cross(self.row_direction, self.column_direction)

    @property
    def normal(self) -> np.ndarray:
        """Unit normal of the acquired planes (row x column direction)."""
        n = np.cross(self.row_direction, self.column_direction)
        out: np.ndarray = n / np.linalg.norm(n)
        return out

    @property
    def is_loading(self) -> bool:
        """True while a progressive load still fills the array: what reads voxels (ROI statistics,
        detection, exports of pixels) must wait until it is False."""
        return self.loaded_slices is not None

    @property
    def is_ct(self) -> bool:
        return self.modality.upper() == "CT"

    # -- coordinates ---------------------------------------------------------------------------------
    def index_to_lps(self, cri: np.ndarray | tuple[float, float, float]) -> np.ndarray:
        """Map voxel indices ``(column, row, slice)`` (float, shape (3,) or (N, 3)) to LPS mm."""
        p = np.asarray(cri, dtype=np.float64)
        single = p.ndim == 1
        p = np.atleast_2d(p)
        out: np.ndarray = p @ self.affine[:3, :3].T + self.affine[:3, 3]
        return out[0] if single else out

    def lps_to_index(self, lps: np.ndarray | tuple[float, float, float]) -> np.ndarray:
        """Map LPS mm (shape (3,) or (N, 3)) to fractional voxel indices ``(column, row, slice)``."""
        p = np.asarray(lps, dtype=np.float64)
        single = p.ndim == 1
        p = np.atleast_2d(p)
        out: np.ndarray = (p - self.affine[:3, 3]) @ np.linalg.inv(self.affine[:3, :3]).T
        return out[0] if single else out

    def value_at_index(self, column: int, row: int, slice_: int) -> float | None:
        """The modality value at a voxel, or None outside the volume."""
        s, r, c = self.shape
        if 0 <= slice_ < s and 0 <= row < r and 0 <= column < c:
            return float(self.array[slice_, row, column])
        return None

    def instance_number(self, slice_index: int) -> int | None:
        """The DICOM InstanceNumber of an acquired slice (the image number PACS viewers show), or None."""
        numbers = self.metadata.instance_numbers
        return numbers[slice_index] if 0 <= slice_index < len(numbers) else None

    def sop_instance_uid(self, slice_index: int) -> str | None:
        """SOPInstanceUID of an acquired slice, or None when unknown."""
        uids = self.metadata.sop_instance_uids
        return uids[slice_index] if 0 <= slice_index < len(uids) else None

    @property
    def nbytes(self) -> int:
        return int(self.array.nbytes)

    def describe(self) -> str:
        s, r, c = self.shape
        sx, sy, sz = self.spacing
        unit = "mm" if self.pixel_spacing_known else "px"
        return (f"{self.modality} {self.metadata.series_description!r}: {c}x{r}x{s}, "
                f"spacing {sx:.3g} x {sy:.3g} x {sz:.3g} {unit}")
