"""SpineCase's Qt-free core: DICOM loading, volumes, geometry, measurement, spine scales, case files.

Never imports Qt (a test checks it). Public entry points::

    from imaging import scan_series, load_series, LoadError, Volume, SeriesInfo
"""

from imaging.dicom.load import load_series
from imaging.dicom.scan import scan_series
from imaging.dicom.series import FrameRef, ScanResult, SeriesInfo, SkippedFile
from imaging.errors import LoadCancelled, LoadError
from imaging.volume import Volume, VolumeMetadata, WindowPreset

__all__ = [
    "FrameRef",
    "LoadCancelled",
    "LoadError",
    "ScanResult",
    "SeriesInfo",
    "SkippedFile",
    "Volume",
    "VolumeMetadata",
    "WindowPreset",
    "load_series",
    "scan_series",
]
