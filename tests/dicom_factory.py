"""Write small synthetic DICOM series with exactly known geometry, for loader and viewer tests.

Every voxel value encodes its own index (``value = 100*slice + 10*row + column`` modulo int16 range, or a
caller-supplied array) so a test can check that the loaded array is in the right order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid


def write_series(out: Path, *, shape: tuple[int, int, int] = (6, 8, 10), spacing: tuple[float, float] = (0.7, 0.5),
                 row_dir: tuple[float, float, float] = (1, 0, 0), col_dir: tuple[float, float, float] = (0, 1, 0),
                 step: tuple[float, float, float] | None = None, slice_gap: float = 2.0,
                 origin: tuple[float, float, float] = (-20.0, -30.0, 40.0), modality: str = "CT",
                 values: np.ndarray | None = None, file_names: list[str] | None = None,
                 instance_numbers: list[int] | None = None, drop: tuple[int, ...] = (),
                 pixel_spacing: bool = True, series_uid: str | None = None, description: str = "synthetic",
                 rescale: tuple[float, float] = (1.0, -1024.0), unsigned: bool = True,
                 patient: tuple[str, str] = ("PHANTOM^GEOMETRY", "GEOM-1")) -> dict:
    """Write ``shape = (slices, rows, columns)`` images and return the truth.

    ``spacing`` is (row spacing, column spacing) as in DICOM PixelSpacing. ``step`` is the LPS vector between
    consecutive slices (default: the normal times ``slice_gap``). ``drop`` lists slice indices not written
    (missing slices). ``patient`` is (PatientName, PatientID). Returns ``{"affine", "values", "series_uid",
    "files"}`` where ``values`` holds the
    modality values (after rescale) of the slices written, in slice order.
    """
    out.mkdir(parents=True, exist_ok=True)
    n, rows, cols = shape
    row_v, col_v = np.asarray(row_dir, float), np.asarray(col_dir, float)
    row_v /= np.linalg.norm(row_v)
    col_v /= np.linalg.norm(col_v)
    normal = np.cross(row_v, col_v)
    step_v = np.asarray(step, float) if step is not None else normal * slice_gap
    if values is None:
        k, r, c = np.meshgrid(np.arange(n), np.arange(rows), np.arange(cols), indexing="ij")
        values = (100 * k + 10 * r + c).astype(np.int16)
    slope, intercept = rescale
    stored = np.rint((values.astype(np.float64) - intercept) / slope)
    stored = stored.astype(np.uint16 if unsigned else np.int16)
    study_uid, frame_uid = generate_uid(), generate_uid()
    series_uid = series_uid or generate_uid()
    files = []
    for i in range(n):
        if i in drop:
            continue
        meta = FileMetaDataset()
        sop_class = CTImageStorage if modality == "CT" else MRImageStorage
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        name = file_names[i] if file_names else f"img{i:04d}.dcm"
        ds = FileDataset(str(out / name), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = modality
        ds.PatientName, ds.PatientID = patient
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.FrameOfReferenceUID = frame_uid
        ds.SeriesDescription = description
        ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240101", "120000", "1", ""
        ds.PatientBirthDate, ds.PatientSex, ds.ReferringPhysicianName = "", "O", ""
        ds.SeriesNumber = 1
        ds.InstanceNumber = instance_numbers[i] if instance_numbers else i + 1
        ds.ImageOrientationPatient = [float(v) for v in (*row_v, *col_v)]
        ds.ImagePositionPatient = [float(v) for v in np.asarray(origin) + i * step_v]
        if pixel_spacing:
            ds.PixelSpacing = [spacing[0], spacing[1]]
        ds.SliceThickness = float(np.linalg.norm(step_v))
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
        ds.PixelRepresentation = 0 if unsigned else 1
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.PixelData = np.ascontiguousarray(stored[i]).tobytes()
        ds.save_as(out / name, enforce_file_format=True)
        files.append(out / name)
    affine = np.eye(4)
    affine[:3, 0] = row_v * spacing[1]
    affine[:3, 1] = col_v * spacing[0]
    affine[:3, 2] = step_v
    affine[:3, 3] = origin
    return {"affine": affine, "values": values, "series_uid": series_uid, "files": files}
