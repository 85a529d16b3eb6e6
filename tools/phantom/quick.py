"""A small, fast CT or MR phantom around one level with a chosen Bilsky grade, for tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imaging.volume import Volume, VolumeMetadata
from tools.phantom.anatomy import LEVEL_ORDER, SpineModel
from tools.phantom.cases import _mr_acq
from tools.phantom.raster import CanalModel, canal_geometry
from tools.phantom.scene import EpiduralExtension, Lesion, LesionPart, Scene
from tools.phantom.series import SeriesSpec, make_volume, render_series
from tools.phantom.truth import compression_contours


@dataclass
class SpinePhantom:
    """A test phantom: `Volume` plus per-voxel truth (``[slice, row, column]``) and a truth dict.

    ``truth`` keys: ``level``, ``grade``, ``worst_slice`` (index into the volume), ``worst_point_lps``,
    ``vertebrae`` ({label: body centroid LPS mm}), ``compression_contours_lps`` (as in truth.json) and
    ``lesion`` (kind, site, size_mm)."""

    volume: Volume
    labels: np.ndarray
    lesions: np.ndarray
    levels: np.ndarray
    scene: Scene
    spine: SpineModel
    truth: dict[str, object]


def make_spine_phantom(level: str = "T6", grade: str = "3", modality: str = "CT", levels_above: int = 1,
                       levels_below: int = 1, pixel_mm: float = 0.8, slice_mm: float = 1.0, fov_mm: float = 128.0,
                       direction_deg: float = 180.0, kind: str = "lytic_soft_tissue", weighting: str = "T2",
                       seed: int = 0, contours: bool = True) -> SpinePhantom:
    """An axial CT (HU) or MR (T1/T2) phantom from ``levels_above`` above to ``levels_below`` below ``level``.

    A lesion of ``kind`` sits in the body of ``level``; unless ``grade`` is "0" its epidural extension grows
    in from ``direction_deg`` (180 = ventral, 0 = dorsal, -90 = patient right) and produces Bilsky
    ``grade`` on the slice ``truth["worst_slice"]``. In-plane pixel ``pixel_mm`` over ``fov_mm``; slices
    ``slice_mm`` apart (MR: 4 mm thick slices are typical; pass ``slice_mm=4``)."""
    spine = SpineModel()
    i = LEVEL_ORDER.index(level)
    top = LEVEL_ORDER[max(i - levels_above, 1)]
    bottom = LEVEL_ORDER[min(i + levels_below, len(LEVEL_ORDER) - 1)]
    epi = EpiduralExtension(grade, level, direction_deg=direction_deg, w=2.0, cc_length=26.0) if grade != "0" else None
    off = (0.0, 4.0 if direction_deg > 90 or direction_deg < -90 else 2.0, 1.0)
    lesion = Lesion(id=f"{level} {kind}", levels=(level,), site="vertebral_body", kind=kind,
                    parts=(LesionPart(level, "vertebral_body", (14.0, 12.0, 14.0), off,
                                      clip_to_body=kind in ("marrow_replacing", "cement")),),
                    epidural=epi)
    scene = Scene(lesions=(lesion,), seed=seed)
    n = max(int(round(fov_mm / pixel_mm)), 16)
    if modality == "CT":
        spec = SeriesSpec(key="quick_ct", study="quick", modality="CT", orientation="axial",
                          description="Phantom CT", rows=n, cols=n, fov=n * pixel_mm, thickness=slice_mm,
                          spacing=slice_mm, top=top, bottom=bottom, margin=2.0, body_part="SPINE")
    else:
        spec = SeriesSpec(key="quick_mr", study="quick", modality="MR", orientation="axial",
                          description=f"Phantom {weighting}", rows=n, cols=n, fov=n * pixel_mm,
                          thickness=slice_mm, spacing=slice_mm, top=top, bottom=bottom, margin=2.0,
                          weighting=weighting, body_part="SPINE", acq=_mr_acq(weighting, "axial", n, n))
    rng = np.random.default_rng(seed)
    stored, values, labels, lesions, levels, _, windows, aff = render_series(spine, scene, spec, rng)
    vol = make_volume(values, aff, modality, windows, VolumeMetadata(series_description=spec.description,
                                                                     slice_thickness=slice_mm))
    if epi is not None:
        m = CanalModel(spine, epi)
        s_w = m.s_centre
    else:
        s_w = spine.vertebra(level).s
    g = canal_geometry(spine, np.array([s_w]))
    p_w = spine.local_to_lps(0.0, float(g.v_canal[0]), s_w)
    k = int(np.clip(np.rint(vol.lps_to_index(p_w)[2]), 0, vol.shape[0] - 1))
    z = float(vol.index_to_lps((0.0, 0.0, float(k)))[2])
    verts = {lab: [round(float(v), 3) for v in spine.body_centroid_lps(lab)]
             for lab in LEVEL_ORDER[LEVEL_ORDER.index(top):LEVEL_ORDER.index(bottom) + 1]}
    truth: dict[str, object] = {
        "level": level, "grade": grade, "worst_slice": k, "worst_point_lps": [float(v) for v in p_w],
        "vertebrae": verts, "lesion": {"kind": kind, "site": "vertebral_body", "size_mm": [14.0, 12.0, 14.0]},
    }
    if contours:
        truth["compression_contours_lps"] = compression_contours(spine, scene, z, level)
    return SpinePhantom(vol, labels, lesions, levels, scene, spine, truth)
