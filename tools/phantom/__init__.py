"""Synthetic spine CT/MR phantoms with known truth (Qt-free).

Run ``python -m tools.phantom OUT [--case NAME]`` (or ``make samples``) to write the sample cases.

Public API::

    build_case(name) -> PhantomCase          # the five sample cases in memory: series + truth dict
    write_case(name, out_root) -> Path       # DICOM + report.json + truth.json under out_root/name
    make_spine_phantom(level="T6", grade="3", ...) -> SpinePhantom   # small fast CT/MR for tests

Every built series (`PhantomSeries`) carries a `imaging.Volume` plus per-voxel truth in the same
``[slice, row, column]`` order: ``labels`` (`Label` structure ids), ``lesions`` (1-based lesion number)
and ``levels`` (``LEVEL_ORDER.index(level) + 1`` on the bone of each vertebra).

``truth.json`` keys: ``case``, ``seed``, ``generator_version``, ``series`` (series_uid, study_uid,
modality, description, folder, orientation, slice_thickness, ...), ``vertebrae`` (label, centroid_lps of
the vertebral body, series it lies in), ``lesions`` (id, levels, site, kind, dimensions_mm {lr, ap, cc}
as patient-axis extents, centre_lps, ct_hu, mr_t1, mr_t2, parts, epidural), ``bilsky`` (grade, level,
series_uid, sop_instance_uid, slice_index of the axial slice of worst compression,
compression_contours_lps {bony_canal, thecal_sac, cord, epidural_tumour, tumour} as lists of LPS
polygons, per_series). All coordinates are DICOM LPS millimetres.
"""

from __future__ import annotations

from tools.phantom.anatomy import LEVEL_ORDER, SpineModel
from tools.phantom.cases import (
    CASE_NAMES,
    PhantomCase,
    build_case,
    case_definition,
    write_built_case,
    write_case,
)
from tools.phantom.labels import Label
from tools.phantom.quick import SpinePhantom, make_spine_phantom
from tools.phantom.scene import (
    BILSKY_GRADES,
    LESION_KINDS,
    SITES,
    EpiduralExtension,
    Lesion,
    LesionPart,
    Scene,
)
from tools.phantom.series import PhantomSeries, SeriesSpec

__all__ = [
    "BILSKY_GRADES",
    "CASE_NAMES",
    "LESION_KINDS",
    "LEVEL_ORDER",
    "SITES",
    "EpiduralExtension",
    "Label",
    "Lesion",
    "LesionPart",
    "PhantomCase",
    "PhantomSeries",
    "Scene",
    "SeriesSpec",
    "SpineModel",
    "SpinePhantom",
    "build_case",
    "case_definition",
    "make_spine_phantom",
    "write_built_case",
    "write_case",
]
