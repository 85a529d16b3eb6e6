"""`SeriesInfo` and `SkippedFile`: what a header-only scan found."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SkippedFile:
    """A file the scan did not use, with the reason in plain words."""

    path: Path
    reason: str


@dataclass
class FrameRef:
    """Where one 2D image lives: a file, and for enhanced multi-frame files its 0-based frame index."""

    path: Path
    frame: int | None = None
    # Filled by the scan so the loader does not parse the header again.
    position: tuple[float, float, float] | None = None
    orientation: tuple[float, ...] | None = None
    pixel_spacing: tuple[float, float] | None = None
    instance_number: int | None = None
    sop_instance_uid: str = ""
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    # Byte offset of the pixel values inside the file for native (uncompressed) data, else None.
    pixel_offset: int | None = None


@dataclass
class SeriesInfo:
    """One loadable image series: image instances of one SeriesInstanceUID sharing orientation and matrix.

    A SeriesInstanceUID that holds several orientations or matrix sizes is split into several
    ``SeriesInfo`` objects with the same ``series_uid`` and different ``part`` numbers.
    """

    series_uid: str
    study_uid: str
    modality: str
    description: str
    files: list[Path]
    patient_id: str = ""
    patient_name: str = ""
    study_date: str = ""
    study_description: str = ""
    series_number: int | None = None
    rows: int = 0
    columns: int = 0
    orientation: tuple[float, ...] | None = None
    pixel_spacing: tuple[float, float] | None = None
    frame_of_reference_uid: str = ""
    transfer_syntax_uid: str = ""
    part: int = 0
    frames: list[FrameRef] = field(default_factory=list)
    # Headers of the first instance, kept as plain values for metadata (no pydicom objects).
    header: dict[str, object] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A unique key: the SeriesInstanceUID, suffixed with the part number when the UID was split."""
        return self.series_uid if self.part == 0 else f"{self.series_uid}#{self.part}"

    @property
    def image_count(self) -> int:
        return len(self.frames) if self.frames else len(self.files)

    @property
    def orientation_label(self) -> str:
        """"axial", "sagittal", "coronal" or "oblique" from the plane normal's dominant axis."""
        from imaging.geometry import plane_name_from_orientation

        return plane_name_from_orientation(self.orientation) if self.orientation else "unknown"


class ScanResult(list[SeriesInfo]):
    """The series found (it *is* the list of `SeriesInfo`) plus ``skipped``: the files not used, with reasons."""

    def __init__(self, series: list[SeriesInfo] | None = None, skipped: list[SkippedFile] | None = None) -> None:
        super().__init__(series or [])
        self.skipped: list[SkippedFile] = list(skipped or [])
