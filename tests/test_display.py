"""imaging.display: windows, uint8 mapping, and plane extraction/orientation for any acquisition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imaging import display as d
from imaging.volume import Volume, VolumeMetadata, WindowPreset


def rot_x(deg: float) -> np.ndarray:
    t = np.radians(deg)
    return np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])


def make_volume(row_dir, col_dir, slice_vec, spacing=(0.8, 0.8), shape=(7, 6, 5), origin=(-10.0, 20.0, 30.0),
                modality="CT", dtype=np.int16) -> Volume:
    """A volume whose voxel values encode their own index: value = slice*100 + row*10 + column."""
    s, r, c = shape
    aff = np.eye(4)
    aff[:3, 0] = np.asarray(row_dir, float) / np.linalg.norm(row_dir) * spacing[0]
    aff[:3, 1] = np.asarray(col_dir, float) / np.linalg.norm(col_dir) * spacing[1]
    aff[:3, 2] = slice_vec
    aff[:3, 3] = origin
    kk, rr, cc = np.meshgrid(np.arange(s), np.arange(r), np.arange(c), indexing="ij")
    arr = (kk * 100 + rr * 10 + cc).astype(dtype)
    return Volume(arr, aff, modality=modality)


AXIAL = dict(row_dir=(1, 0, 0), col_dir=(0, 1, 0), slice_vec=(0, 0, 2.5))
AXIAL_DOWN = dict(row_dir=(1, 0, 0), col_dir=(0, 1, 0), slice_vec=(0, 0, -2.5))  # slices head -> feet
SAGITTAL = dict(row_dir=(0, 1, 0), col_dir=(0, 0, -1), slice_vec=(4.0, 0, 0), spacing=(0.5, 0.5))
SAGITTAL_RL = dict(row_dir=(0, 1, 0), col_dir=(0, 0, -1), slice_vec=(-4.0, 0, 0), spacing=(0.5, 0.5))
CORONAL = dict(row_dir=(1, 0, 0), col_dir=(0, 0, -1), slice_vec=(0, 3.0, 0))
R20 = rot_x(20)
OBLIQUE = dict(row_dir=R20 @ [1, 0, 0], col_dir=R20 @ [0, 1, 0], slice_vec=R20 @ [0, 0, 2.0])
# Feet-first prone-ish: rows run right-to-left, columns posterior-to-anterior.
FLIPPED = dict(row_dir=(-1, 0, 0), col_dir=(0, -1, 0), slice_vec=(0, 0, 1.5))

EXPECTED_LETTERS = {
    "axial": {"left": "R", "right": "L", "top": "A", "bottom": "P"},
    "sagittal": {"left": "A", "right": "P", "top": "S", "bottom": "I"},
    "coronal": {"left": "R", "right": "L", "top": "S", "bottom": "I"},
}


def assert_consistent(vol: Volume, spec: d.PlaneSpec, k: int) -> None:
    """Every displayed pixel shows the voxel its PlaneGeometry position maps to."""
    img = spec.extract(vol.array, k)
    assert img.shape == (spec.height, spec.width)
    g = spec.geometry(k)
    ys, xs = np.mgrid[0:spec.height, 0:spec.width]
    xy = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(float)
    idx = np.rint(vol.lps_to_index(g.to_lps(xy))).astype(int)  # (column, row, slice)
    expected = vol.array[idx[:, 2], idx[:, 1], idx[:, 0]]
    np.testing.assert_array_equal(img.ravel(), expected)
    # and the inverse map lands on the plane
    back = g.from_lps(g.to_lps(xy))
    np.testing.assert_allclose(back[:, :2], xy, atol=1e-9)
    np.testing.assert_allclose(back[:, 2], 0, atol=1e-9)


@pytest.mark.parametrize("acq", [AXIAL, AXIAL_DOWN, SAGITTAL, SAGITTAL_RL, CORONAL, FLIPPED],
                         ids=["axial", "axial_down", "sagittal", "sagittal_rl", "coronal", "flipped"])
@pytest.mark.parametrize("orientation", d.ORIENTATIONS)
def test_plane_orientation_and_consistency(acq, orientation):
    vol = make_volume(**acq)
    spec = d.plane_spec(vol, orientation)
    for k in (0, spec.count - 1):
        assert_consistent(vol, spec, k)
    letters = d.edge_letters(spec.geometry(0))
    assert letters == EXPECTED_LETTERS[orientation]


def test_acquired_plane_is_the_original_slice():
    vol = make_volume(**AXIAL)
    spec = d.plane_spec(vol, "axial")
    assert spec.is_acquired and spec.count == 7
    np.testing.assert_array_equal(spec.extract(vol.array, 3), vol.array[3])
    assert d.acquired_orientation(make_volume(**SAGITTAL)) == "sagittal"
    assert d.acquired_orientation(make_volume(**CORONAL)) == "coronal"


def test_sagittal_reformat_of_axial_ct_head_up_anterior_left():
    vol = make_volume(**AXIAL_DOWN)  # slice 0 is the most superior
    spec = d.plane_spec(vol, "sagittal")
    g = spec.geometry(2)
    np.testing.assert_allclose(g.x_dir, [0, 1, 0])  # right = posterior
    np.testing.assert_allclose(g.y_dir, [0, 0, -1])  # down = inferior
    assert (g.x_spacing, g.y_spacing) == pytest.approx((0.8, 2.5))
    assert g.thickness == pytest.approx(0.8)
    top = g.to_lps((0, 0))
    bottom = g.to_lps((0, spec.height - 1))
    assert top[2] > bottom[2]
    # the sagittal plane number k is column k: L coordinate = origin + k * 0.8
    assert g.origin[0] == pytest.approx(-10 + 2 * 0.8)


def test_thick_slice_sagittal_reformats_keep_physical_pixel_size():
    vol = make_volume(**SAGITTAL)  # 0.5 mm pixels, 4 mm slices
    ax = d.plane_spec(vol, "axial")
    assert ax.pixel_size == pytest.approx((4.0, 0.5))  # x = L (slice axis), y = P
    cor = d.plane_spec(vol, "coronal")
    assert cor.pixel_size == pytest.approx((4.0, 0.5))
    m = d.screen_matrix(ax.geometry(0))
    np.testing.assert_allclose(m, [[4.0, 0], [0, 0.5]])
    # fitted to a square widget, a 5 x 6 image of 4 x 0.5 mm pixels is 20 mm wide, 3 mm high
    t = d.view_transform(m, (ax.width, ax.height), (200, 200))
    assert t[0, 0] / t[1, 1] == pytest.approx(8.0)


def test_oblique_acquisition_gets_oblique_letters_and_exact_geometry():
    vol = make_volume(**OBLIQUE)
    for o in d.ORIENTATIONS:
        spec = d.plane_spec(vol, o)
        assert_consistent(vol, spec, 1)
    ax = d.plane_spec(vol, "axial")
    assert ax.is_acquired
    letters = d.edge_letters(ax.geometry(0))
    # tilted 20 degrees about L: screen down (column direction) leans superior
    assert letters["right"] == "L" and letters["left"] == "R"
    assert letters["bottom"] == "PS" and letters["top"] == "AI"
    sag = d.edge_letters(d.plane_spec(vol, "sagittal").geometry(0))
    assert sag["top"] == "SA" and sag["left"] == "AI"


def test_gantry_tilt_reformat_is_sheared_but_exact():
    # slices step along S but shifted posteriorly (gantry tilt): the sagittal reformat is a parallelogram
    vol = make_volume(row_dir=(1, 0, 0), col_dir=(0, 1, 0), slice_vec=(0, 0.9, 2.5))
    spec = d.plane_spec(vol, "sagittal")
    assert_consistent(vol, spec, 2)
    m = d.screen_matrix(spec.geometry(2))
    assert abs(m[0, 1]) > 0.1  # shear shown, not hidden
    ax = d.plane_spec(vol, "axial").geometry(0)
    assert ax.thickness == pytest.approx(2.5)


def test_uneven_stack_uses_exact_slice_positions():
    vol = make_volume(**AXIAL)
    z = np.array([0, 2.5, 5, 7.5, 12.0, 14.5, 17.0]) + 30.0
    vol.slice_positions = np.stack([np.full(7, -10.0), np.full(7, 20.0), z], axis=1)
    spec = d.plane_spec(vol, "axial")
    assert spec.geometry(4).origin[2] == pytest.approx(42.0)
    assert spec.nearest_slice((0, 0, 41.5)) == 4
    assert spec.nearest_slice((0, 0, 39.0)) == 3
    assert spec.nearest_slice((0, 0, 1000.0)) == 6


def test_nearest_slice_round_trip():
    vol = make_volume(**SAGITTAL)
    for o in d.ORIENTATIONS:
        spec = d.plane_spec(vol, o)
        for k in range(spec.count):
            p = spec.geometry(k).to_lps((1.3, 2.2))
            assert spec.nearest_slice(p) == k


@settings(max_examples=60, deadline=None)
@given(st.floats(-180, 180), st.floats(-180, 180), st.floats(-180, 180),
       st.permutations([0, 1, 2]), st.tuples(st.booleans(), st.booleans(), st.booleans()),
       st.tuples(st.floats(0.3, 5), st.floats(0.3, 5), st.floats(0.3, 6)))
def test_any_orientation_is_consistent_and_nearest(a, b, c, perm, flips, spacing):
    rot = rot_x(a) @ np.array([[np.cos(np.radians(b)), 0, np.sin(np.radians(b))], [0, 1, 0],
                               [-np.sin(np.radians(b)), 0, np.cos(np.radians(b))]]) @ np.array(
        [[np.cos(np.radians(c)), -np.sin(np.radians(c)), 0], [np.sin(np.radians(c)), np.cos(np.radians(c)), 0],
         [0, 0, 1]])
    dirs = [rot[:, p] * (-1 if f else 1) for p, f in zip(perm, flips, strict=True)]
    if np.linalg.det(np.stack(dirs, axis=1)) < 0:  # keep a right-handed row x column = normal frame
        dirs[2] = -dirs[2]
    vol = make_volume(dirs[0], dirs[1], dirs[2] * spacing[2], spacing=spacing[:2], shape=(4, 5, 3))
    for o in d.ORIENTATIONS:
        spec = d.plane_spec(vol, o)
        assert_consistent(vol, spec, spec.count // 2)
        g = spec.geometry(0)
        normal_p, (xp, xs), (yp, ys) = d._LAYOUT[o]
        assert g.x_dir[xp] * xs > 0 and g.y_dir[yp] * ys > 0  # never mirrored
    axes = d.nearest_voxel_axes(vol.affine)
    assert sorted(axes) == [0, 1, 2]


# -- windows -----------------------------------------------------------------------------------------
def test_ct_presets_have_sources_and_spine_windows():
    names = [p.name for p in d.CT_PRESETS]
    assert names[:3] == ["Soft tissue", "Bone", "Spine soft tissue"]
    assert len(d.CT_PRESETS) == 5
    assert all(p.source for p in d.CT_PRESETS)
    assert (d.CT_PRESETS[1].center, d.CT_PRESETS[1].width) == (400, 1800)


def test_dicom_linear_voi_edges():
    # c=40, w=400: x <= -160 -> 0; x > 239 -> 255
    y = d.voi_linear(np.array([-161, -160, 40, 239, 239.5, 240]), 40, 400)
    assert y[0] == 0 and y[1] == 0 and y[-1] == 255 and y[-2] == 255
    assert 127 < y[2] < 128.5


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.int8, np.float32, np.int32])
@pytest.mark.parametrize("invert", [False, True])
def test_windower_matches_formula(dtype, invert):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    lo, hi = (max(info.min, -3000), min(info.max, 3000)) if info else (-3000, 3000)
    plane = rng.integers(lo, hi, size=(40, 30)).astype(dtype)
    w = d.Windower(dtype)
    w.set_window(40 if lo < 0 else 100, 400, invert)
    strided = plane[::-1, ::2]  # non-contiguous, negative strides
    got = w.apply(strided)
    want = np.rint(d.voi_linear(strided, w.center, w.width)).astype(np.uint8)
    if invert:
        want = 255 - want
    np.testing.assert_array_equal(got, want)
    assert got.flags.c_contiguous and got.dtype == np.uint8
    assert w.uses_lut == (np.dtype(dtype).kind in "iu" and np.dtype(dtype).itemsize <= 2)


def test_windower_reuses_buffer_and_handles_nan():
    w = d.Windower(np.float32)
    w.set_window(0, 10)
    a = w.apply(np.array([[np.nan, 100.0]], dtype=np.float32))
    b = w.apply(np.array([[-100.0, 0.0]], dtype=np.float32))
    assert a is b
    np.testing.assert_array_equal(b, [[0, 142]])  # ((0 + 0.5) / 9 + 0.5) * 255


def test_mr_windows_from_percentiles_and_file():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 1000, size=(10, 32, 32)).astype(np.int16)
    arr[0, 0, 0] = 30000  # a hot voxel must not set the window
    vol = Volume(arr, np.eye(4), modality="MR")
    auto = d.default_window(vol)
    assert auto.name == "Auto" and 900 < auto.center + auto.width / 2 < 1100
    presets = d.window_presets(vol)
    assert presets[0].name == "Auto" and presets[-1].name == "Full range"
    vol.metadata = VolumeMetadata(window_presets=[WindowPreset("T2", 300, 600, "file")])
    assert d.default_window(vol).center == 300
    assert [p.name for p in d.window_presets(vol)] == ["Auto", "T2", "Full range"]
    ct = Volume(arr, np.eye(4), modality="CT")
    assert d.default_window(ct) == d.CT_PRESETS[0]
    assert d.window_presets(ct) == list(d.CT_PRESETS)


def test_monochrome1_defaults_to_inverted():
    vol = Volume(np.zeros((1, 2, 2), np.int16), np.eye(4),
                 metadata=VolumeMetadata(photometric_interpretation="MONOCHROME1"))
    assert d.default_invert(vol)


# -- reference lines, transforms, sampling ------------------------------------------------------------
def test_reference_line_of_sagittal_on_axial():
    vol = make_volume(**AXIAL, shape=(10, 20, 30))
    ax = d.plane_spec(vol, "axial").geometry(4)
    sag = d.plane_spec(vol, "sagittal").geometry(12)
    line = d.plane_line(ax, sag)
    seg = d.clip_line(line, 30, 20)
    (x0, y0), (x1, y1) = seg
    assert x0 == pytest.approx(12) and x1 == pytest.approx(12)
    assert {round(y0, 6), round(y1, 6)} == {-0.5, 19.5}
    assert d.plane_line(ax, d.plane_spec(vol, "axial").geometry(5)) is None


def test_view_transform_zoom_and_pan():
    m = np.diag([1.0, 2.0])
    t = d.view_transform(m, (100, 50), (400, 400))
    # 100 mm x 100 mm image fits 400 px: 4 px/mm, centred
    centre = t @ [49.5, 24.5, 1]
    np.testing.assert_allclose(centre[:2], [200, 200])
    assert t[0, 0] == pytest.approx(4) and t[1, 1] == pytest.approx(8)
    t2 = d.view_transform(m, (100, 50), (400, 400), zoom=2, pan=(10, -5))
    np.testing.assert_allclose((t2 @ [49.5, 24.5, 1])[:2], [210, 195])


def test_nice_length():
    assert d.nice_length(73) == 50 and d.nice_length(19.9) == 10 and d.nice_length(2.1) == 2


def test_sample_and_thumbnail():
    vol = make_volume(**AXIAL)
    spec = d.plane_spec(vol, "sagittal")
    s = d.sample(vol, spec, 2, 1.2, 0.6)
    c, r, k = s.voxel
    assert s.value == vol.array[k, r, c]
    assert d.sample(vol, spec, 2, -3, 0).value is None
    th = d.volume_thumbnail(vol, 32)
    assert th.shape == (32, 32) and th.dtype == np.uint8


def test_rgb32_matches_uint8():
    rng = np.random.default_rng(3)
    for dtype in (np.int16, np.float32):
        plane = rng.integers(-500, 500, size=(9, 7)).astype(dtype)[:, ::-1]
        w = d.Windower(dtype)
        w.set_window(10, 300, True)
        grey = w.apply(plane).copy()
        rgb = w.apply_rgb32(plane)
        np.testing.assert_array_equal(rgb & 0xFF, grey)
        np.testing.assert_array_equal(rgb >> 24, 255)
