"""Tests of imaging.measure: unit tests with known answers and hypothesis properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imaging import measure as m
from imaging.geometry import PlaneGeometry
from imaging.volume import Volume

finite = st.floats(min_value=-500, max_value=500, allow_nan=False, allow_infinity=False)
point = st.tuples(finite, finite, finite).map(np.array)
angles = st.floats(min_value=-math.pi, max_value=math.pi, allow_nan=False)


def rotation(ax: float, ay: float, az: float) -> np.ndarray:
    cx, sx, cy, sy, cz, sz = math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay), math.cos(az), math.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


# -- lengths --------------------------------------------------------------------------------------------
def test_distance_known() -> None:
    assert m.distance((0, 0, 0), (3, 4, 12)) == 13.0
    v = m.segment_length((0, 0, 0), (3, 4, 0))
    assert (v.name, v.value, v.unit, v.text()) == ("length", 5.0, "mm", "5.0 mm")
    assert m.segment_length((0, 0, 0), (3, 4, 0), spacing_known=False).unit == "px"


def test_bad_points_are_rejected() -> None:
    with pytest.raises(ValueError, match="3 coordinates"):
        m.distance((0, 0), (1, 1, 1))
    with pytest.raises(ValueError, match="non-finite"):
        m.distance((0, 0, float("nan")), (1, 1, 1))


@settings(max_examples=60, deadline=None)
@given(point, point, point, angles, angles, angles)
def test_length_invariant_under_rotation_and_translation(p, q, t, ax, ay, az) -> None:
    r = rotation(ax, ay, az)
    d0 = m.distance(p, q)
    d1 = m.distance(r @ p + t, r @ q + t)
    assert d1 == pytest.approx(d0, rel=1e-9, abs=1e-9)


def test_craniocaudal_extent_is_the_s_component() -> None:
    p, q = (10.0, -20.0, 100.0), (14.0, -5.0, 62.5)  # slanted on a sagittal/coronal view
    assert m.craniocaudal_extent(p, q) == 37.5
    assert m.distance(p, q) > 37.5


def test_format_value_precision() -> None:
    assert m.format_value(12.345, "mm") == "12.3 mm"
    assert m.format_value(-0.04, "HU") == "0.0 HU"
    assert m.format_value(-12.36, "HU") == "-12.4 HU"
    assert m.format_value(45.25, "deg") == "45.2\u00b0" or m.format_value(45.25, "deg") == "45.3\u00b0"
    assert m.format_value(123.0, "voxels") == "123 voxels"
    assert m.format_value(None, "mm") == "\u2014"


# -- bidirectional --------------------------------------------------------------------------------------
def test_bidirectional_from_points_orders_axes() -> None:
    b = m.bidirectional((0, 0, 0), (0, 10, 0), (-20, 5, 0), (20, 5, 0))
    assert b.long_length == 40.0 and b.short_length == 10.0
    assert b.angle_deg == pytest.approx(90.0)
    assert [v.name for v in b.values()] == ["long_axis", "short_axis"]


@settings(max_examples=60, deadline=None)
@given(point, point, point, point, st.tuples(finite, finite, finite).filter(lambda n: np.linalg.norm(n) > 1e-3))
def test_perpendicular_short_axis_is_perpendicular(la, lb, sa, sb, normal) -> None:
    n = np.asarray(normal) / np.linalg.norm(normal)
    la = la - np.dot(la, n) * n
    lb = lb - np.dot(lb, n) * n
    if np.linalg.norm(lb - la) < 1e-3:
        return
    a, b = m.perpendicular_short_axis(la, lb, sa, sb, n)
    d = b - a
    if np.linalg.norm(d) < 1e-9:
        return
    # The endpoints are exact to float precision at the scale of the coordinates, so the short axis's
    # component along the long axis is bounded absolutely (a nearly zero-length short axis may point anywhere).
    scale = max(1.0, *(float(np.abs(v).max()) for v in (la, lb, sa, sb)))
    along = abs(np.dot(d, (lb - la) / np.linalg.norm(lb - la)))
    assert along < 1e-9 * scale
    if np.linalg.norm(d) > 1e-6 * scale:
        assert along / np.linalg.norm(d) < 1e-6
    assert abs(np.dot(d, n)) < 1e-9 * scale


def test_bidirectional_from_outline_rectangle_and_ellipse() -> None:
    rect = [(0, 0), (40, 0), (40, 10), (0, 10)]
    b = m.bidirectional_from_outline(rect, 0.5, 0.5)
    assert b.long_length == pytest.approx(math.hypot(20, 5))
    # Longest chord perpendicular to the diagonal inside the rectangle.
    assert 0 < b.short_length <= math.hypot(20, 5)
    th = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    ell = np.stack([100 + 30 * np.cos(th), 50 + 10 * np.sin(th)], axis=1)
    b = m.bidirectional_from_outline(ell, 1.0, 1.0)
    assert b.long_length == pytest.approx(60.0, rel=1e-4)
    assert b.short_length == pytest.approx(20.0, rel=1e-3)
    # Anisotropic pixels: the same physical ellipse drawn on 0.5 x 2 mm pixels.
    ell2 = np.stack([30 * np.cos(th) / 0.5, 10 * np.sin(th) / 2.0], axis=1)
    b2 = m.bidirectional_from_outline(ell2, 0.5, 2.0)
    assert b2.long_length == pytest.approx(60.0, rel=1e-4)
    assert b2.short_length == pytest.approx(20.0, rel=1e-3)


def _inside(xy: np.ndarray, x: float, y: float) -> bool:
    inside = False
    for k in range(len(xy)):
        (x0, y0), (x1, y1) = xy[k], xy[(k + 1) % len(xy)]
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _dist_to_segment(p, a, b) -> float:
    p, a, b = (np.asarray(v, float) for v in (p, a, b))
    t = np.clip(np.dot(p - a, b - a) / np.dot(b - a, b - a), 0, 1)
    return float(np.linalg.norm(p - (a + t * (b - a))))


def test_bidirectional_from_outline_concave_chord_stays_inside() -> None:
    # A "U" lying on its side: perpendicular chords may not jump across the notch.
    u = np.array([(0, 0), (30, 0), (30, 20), (20, 20), (20, 5), (10, 5), (10, 20), (0, 20)], float)
    b = m.bidirectional_from_outline(u)
    assert b.long_length == pytest.approx(math.hypot(30, 20))
    a, c = b.short_axis
    assert b.short_length > 0
    for t in np.linspace(0.01, 0.99, 99):
        x, y = a + t * (c - a)
        on_edge = min(_dist_to_segment((x, y), u[k], u[(k + 1) % len(u)]) for k in range(len(u))) < 1e-9
        assert _inside(u, x, y) or on_edge, (x, y)  # it may touch the notch's corner, never cross it


@settings(max_examples=25, deadline=None)
@given(st.floats(5, 40), st.floats(3, 40), st.floats(0, math.pi), st.floats(0.3, 2.0), st.floats(0.3, 2.0))
def test_bidirectional_axes_perpendicular_outline_and_mask(a, b, rot, sx, sy) -> None:
    th = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    x = a * np.cos(th) * math.cos(rot) - b * np.sin(th) * math.sin(rot)
    y = a * np.cos(th) * math.sin(rot) + b * np.sin(th) * math.cos(rot)
    outline = np.stack([(x + 50) / sx, (y + 50) / sy], axis=1)
    res = m.bidirectional_from_outline(outline, sx, sy)
    la, lb = (np.asarray(p) * (sx, sy) for p in res.long_axis)
    sa, sb = (np.asarray(p) * (sx, sy) for p in res.short_axis)
    cosang = abs(np.dot(lb - la, sb - sa)) / (np.linalg.norm(lb - la) * np.linalg.norm(sb - sa))
    assert cosang < 1e-9
    assert res.long_length == pytest.approx(2 * max(a, b), rel=0.01)
    assert res.short_length <= res.long_length
    mask = m.polygon_mask(outline, (int(120 / sy), int(120 / sx)))
    if mask.sum() < 4:
        return
    mres = m.bidirectional_from_mask(mask, row_spacing=sy, column_spacing=sx)
    la, lb = (np.asarray(p) * (sx, sy) for p in mres.long_axis)
    sa, sb = (np.asarray(p) * (sx, sy) for p in mres.short_axis)
    if mres.short_length > 0:
        cosang = abs(np.dot(lb - la, sb - sa)) / (np.linalg.norm(lb - la) * np.linalg.norm(sb - sa))
        assert cosang < 1e-9
    assert mres.long_length == pytest.approx(res.long_length, abs=2.5 * max(sx, sy))


def test_bidirectional_from_mask_rectangle() -> None:
    mask = np.zeros((50, 80), dtype=bool)
    mask[10:20, 10:70] = True  # 60 x 10 pixels
    b = m.bidirectional_from_mask(mask, row_spacing=1.0, column_spacing=1.0)
    assert b.long_length == pytest.approx(math.hypot(59, 9))
    with pytest.raises(ValueError):
        m.bidirectional_from_mask(np.zeros((4, 4), bool))


# -- ROIs -----------------------------------------------------------------------------------------------
def axial_geometry(sx: float = 0.7, sy: float = 0.7, z: float = 10.0) -> PlaneGeometry:
    return PlaneGeometry((-50.0, -40.0, z), (1, 0, 0), (0, 1, 0), sx, sy, 2.0)


def test_polygon_area_known_and_invariant() -> None:
    sq = np.array([(0, 0, 0), (10, 0, 0), (10, 5, 0), (0, 5, 0)], float)
    assert m.polygon_area(sq) == pytest.approx(50.0)
    r = rotation(0.3, -1.1, 2.0)
    assert m.polygon_area(sq @ r.T + (5, -7, 100)) == pytest.approx(50.0)
    with pytest.raises(ValueError):
        m.polygon_area(sq[:2])


def test_ellipse_area() -> None:
    assert m.ellipse_area((0, 0, 0), (10, 0, 0), (0, 0, 4)) == pytest.approx(math.pi * 40)
    with pytest.raises(ValueError, match="parallel"):
        m.ellipse_area((0, 0, 0), (10, 0, 0), (5, 0, 0))


def test_polygon_mask_rule_matches_independent_numpy() -> None:
    # Axis-aligned rectangle with non-integer corners: centres (x, y) with 2.5 <= x < 7.2, 1.2 <= y < 4.9.
    rect = [(2.5, 1.2), (7.2, 1.2), (7.2, 4.9), (2.5, 4.9)]
    mask = m.polygon_mask(rect, (8, 10))
    yy, xx = np.mgrid[0:8, 0:10]
    expected = (xx > 2.5) & (xx < 7.2) & (yy >= 1.2) & (yy < 4.9)
    assert np.array_equal(mask, expected)
    # Two polygons sharing an edge never both take a pixel.
    left = [(0, 0), (5, 0), (5, 8), (0, 8)]
    right = [(5, 0), (10, 0), (10, 8), (5, 8)]
    both = m.polygon_mask(left, (9, 11)) & m.polygon_mask(right, (9, 11))
    assert not both.any()


@settings(max_examples=40, deadline=None)
@given(st.floats(0.3, 1.5), st.floats(0.3, 1.5), st.floats(3, 25), st.floats(3, 25), st.floats(0, math.pi),
       st.integers(0, 2**31 - 1))
def test_ellipse_roi_statistics_equal_numpy(sx, sy, a, b, rot, seed) -> None:
    g = axial_geometry(sx, sy)
    rng = np.random.default_rng(seed)
    img = rng.integers(-1000, 2000, size=(120, 130)).astype(np.int16)
    c = g.to_lps((65.0 * 0.5, 60.0 * 0.5))
    ua = np.array([math.cos(rot), math.sin(rot), 0.0])
    ub = np.array([-math.sin(rot), math.cos(rot), 0.0])
    pts = np.array([c, c + a * ua, c + b * ub])
    res = m.measure_roi(img, g, "ellipse", pts, value_unit="HU")
    # Independent mask: pixel centres in LPS, ellipse equation.
    yy, xx = np.mgrid[0:120, 0:130]
    lps = g.to_lps(np.stack([xx.ravel(), yy.ravel()], axis=1)) - c
    inside = ((lps @ ua / a) ** 2 + (lps @ ub / b) ** 2 <= 1.0).reshape(120, 130)
    assert np.array_equal(res.mask, inside)
    vals = img[inside].astype(float)
    if vals.size:
        assert res.stats.mean == pytest.approx(vals.mean(), rel=1e-12)
        assert res.stats.sd == pytest.approx(vals.std(), rel=1e-9, abs=1e-9)
        assert (res.stats.min, res.stats.max, res.stats.count) == (vals.min(), vals.max(), vals.size)
    assert res.area == pytest.approx(math.pi * a * b)
    assert res.stats.unit == "HU"
    assert res.mask_area == pytest.approx(inside.sum() * sx * sy)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-2, 36), st.floats(-2, 31)), min_size=3, max_size=10),
       st.integers(0, 2**31 - 1))
def test_polygon_roi_statistics_equal_numpy(verts, seed) -> None:
    g = axial_geometry(0.8, 0.6)
    rng = np.random.default_rng(seed)
    img = rng.normal(40, 30, size=(30, 35))
    pts = g.to_lps(np.array(verts, float))
    res = m.measure_roi(img, g, "polygon", pts)
    # Independent even-odd test with the same half-open rule (pure Python, per pixel), on the outline as
    # projected back onto the plane (the LPS round trip may move a vertex by 1e-15 px).
    xy = g.from_lps(pts)[:, :2]
    expected = np.zeros((30, 35), bool)
    n = len(xy)
    for r in range(30):
        for c in range(35):
            inside = False
            for k in range(n):
                (x0, y0), (x1, y1) = xy[k], xy[(k + 1) % n]
                if y0 != y1 and min(y0, y1) <= r < max(y0, y1):
                    xc = x0 + (r - y0) * (x1 - x0) / (y1 - y0)
                    if c < xc:
                        inside = not inside
            expected[r, c] = inside
    assert np.array_equal(res.mask, expected)
    vals = img[expected]
    if vals.size:
        assert res.stats.mean == pytest.approx(vals.mean(), rel=1e-9)
        assert res.stats.sd == pytest.approx(vals.std(), rel=1e-9, abs=1e-9)
        assert res.stats.count == vals.size
    else:
        assert res.stats.count == 0 and res.stats.mean is None


def test_roi_on_oblique_sheared_plane() -> None:
    # A plane tilted 20 degrees; a square ROI of 10 x 10 mm has area 100 and ~ (10/0.5)^2 pixels.
    t = math.radians(20)
    g = PlaneGeometry((0, 0, 0), (1, 0, 0), (0, math.cos(t), math.sin(t)), 0.5, 0.5, 1.0)
    img = np.ones((60, 60))
    pts = g.to_lps(np.array([(10, 10), (30, 10), (30, 30), (10, 30)], float))
    res = m.measure_roi(img, g, "polygon", pts)
    assert res.area == pytest.approx(100.0)
    assert res.stats.count == 400
    assert res.mask_area == pytest.approx(100.0)


def test_roi_errors() -> None:
    g = axial_geometry()
    with pytest.raises(ValueError, match="unknown ROI kind"):
        m.roi_mask(g, (10, 10), "circle", np.zeros((3, 3)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape"):
        m.roi_statistics(np.zeros((3, 3)), np.zeros((4, 4), bool))


def test_slice_geometry_and_probe() -> None:
    arr = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    aff = np.diag([0.5, 0.8, 2.5, 1.0])
    aff[:3, 3] = (10, 20, 30)
    vol = Volume(arr, aff, modality="CT")
    g = m.slice_geometry(vol, 2)
    assert np.allclose(g.to_lps((3, 4)), vol.index_to_lps((3, 4, 2)))
    assert g.thickness == pytest.approx(2.5)
    assert m.probe(vol, vol.index_to_lps((3.2, 3.9, 2.1))) == float(arr[2, 4, 3])
    assert m.probe(vol, (-100, 0, 0)) is None
    assert m.value_unit(vol) == "HU"


# -- angles ---------------------------------------------------------------------------------------------
def test_angle_known() -> None:
    assert m.angle((1, 0, 0), (0, 0, 0), (0, 1, 0)) == pytest.approx(90.0)
    assert m.angle((1, 0, 0), (0, 0, 0), (-1, 0, 0)) == pytest.approx(180.0)
    assert m.angle((1, 0, 0), (0, 0, 0), (1, 1e-9, 0)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError):
        m.angle((0, 0, 0), (0, 0, 0), (1, 0, 0))


def coronal_line(center_z: float, tilt_deg: float, half: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """An endplate line on a coronal view (x = L, z = S) tilted by ``tilt_deg`` (positive: left side up)."""
    t = math.radians(tilt_deg)
    d = np.array([math.cos(t), 0.0, math.sin(t)]) * half
    c = np.array([0.0, 5.0, center_z])
    return c - d, c + d


@pytest.mark.parametrize(("t1", "t2", "expected"), [
    (0, 0, 0.0), (15, -15, 30.0), (-20, 25, 45.0), (50, -50, 100.0), (60, -65, 125.0), (10, 10, 0.0),
])
def test_cobb_angle_of_known_lines(t1: float, t2: float, expected: float) -> None:
    a1, a2 = coronal_line(100, t1)
    b1, b2 = coronal_line(0, t2)
    coronal_normal = (0, 1, 0)
    assert m.cobb_angle(a1, a2, b1, b2, normal=coronal_normal) == pytest.approx(expected)
    # Drawing direction of either line does not matter.
    assert m.cobb_angle(a2, a1, b1, b2, normal=coronal_normal) == pytest.approx(expected)
    assert m.cobb_angle(a1, a2, b2, b1, normal=coronal_normal) == pytest.approx(expected)


def test_cobb_angle_projects_onto_view_plane_and_sagittal() -> None:
    # Sagittal view (normal = x): lines along A-P tilted in y-z; an x offset of the endpoints is ignored.
    t = math.radians(20)
    a1, a2 = np.array([0, -10 * math.cos(t), 50 - 10 * math.sin(t)]), np.array([3, 10 * math.cos(t),
                                                                                  50 + 10 * math.sin(t)])
    b1, b2 = np.array([0, -10.0, 0]), np.array([-4, 10.0, 0])
    assert m.cobb_angle(a1, a2, b1, b2, normal=(1, 0, 0)) == pytest.approx(20.0)


@settings(max_examples=40, deadline=None)
@given(st.floats(-80, 80), st.floats(-80, 80), angles, point)
def test_cobb_angle_invariant_under_in_plane_translation(t1, t2, _rot, shift) -> None:
    a1, a2 = coronal_line(100, t1)
    b1, b2 = coronal_line(0, t2)
    s = np.array([shift[0], 0.0, shift[2]])
    v = m.cobb_angle(a1 + s, a2 + s, b1, b2, normal=(0, 1, 0))
    assert v == pytest.approx(abs(t1 - t2), abs=1e-7)


# -- volume ---------------------------------------------------------------------------------------------
def test_ellipsoid_volume() -> None:
    assert m.ellipsoid_volume_ml(10, 10, 10) == pytest.approx(math.pi / 6)
    assert m.ellipsoid_volume(2, 3, 4) == pytest.approx(math.pi * 4)
    with pytest.raises(ValueError):
        m.ellipsoid_volume(-1, 1, 1)
    assert m.volume_unit(False) == "px3" and m.area_unit(False) == "px2" and m.length_unit(True) == "mm"
