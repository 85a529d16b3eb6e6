"""The Qt-free geometry and text behind the viewer's measurement tools (imaging/measure_edit.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imaging import measure
from imaging.case.model import Measurement, MeasurementPlane, RoiStatsCache
from imaging.geometry import PlaneGeometry
from imaging.measure_edit import (
    KIND_NAMES,
    MIN_SEMI_AXIS_MM,
    drawing_problem,
    edit_bidirectional,
    edit_ellipse,
    edit_handle,
    ellipse_from_corners,
    ellipse_handles,
    handle_points,
    kind_name,
    kind_title,
    label_lines,
    project_to_plane,
    short_axis_for,
    shown_on_plane,
    translate,
    value_lines,
    value_text,
)
from imaging.measurement_kinds import kind_keys

AXIAL = PlaneGeometry((0, 0, 10.0), (1, 0, 0), (0, 1, 0), 0.5, 0.8, thickness=2.0)
coord = st.floats(-80, 80, allow_nan=False)


def unit_normal(theta: float, phi: float) -> np.ndarray:
    return np.array([math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi), math.cos(theta)])


def plane_points(normal: np.ndarray, coords: list[tuple[float, float]]) -> list[np.ndarray]:
    """Points with the given in-plane coordinates on the plane through the origin with ``normal``."""
    helper = np.array([1.0, 0, 0]) if abs(normal[0]) < 0.9 else np.array([0, 1.0, 0])
    e1 = np.cross(normal, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(normal, e1)
    return [u * e1 + v * e2 for u, v in coords]


def make(kind: str, points, spacing_known: bool = True, normal=(0.0, 0.0, 1.0), series="1.2.3", **kw) -> Measurement:
    return Measurement(kind=kind, points=[tuple(map(float, p)) for p in points],
                       plane=MeasurementPlane(orientation="axial", normal=normal), series_instance_uid=series,
                       pixel_spacing_known=spacing_known, **kw)


def test_names():
    assert kind_name("ellipse_roi") == "ellipse ROI" and kind_title("ellipse_roi") == "Ellipse ROI"
    assert kind_name("cobb") == "Cobb angle" and kind_title("cc_extent") == "CC extent"
    assert set(KIND_NAMES) == set(kind_keys()) and all(KIND_NAMES[k] for k in kind_keys())


def test_shown_on_plane_needs_series_parallel_plane_and_half_a_slice():
    m = make("length", [(0, 0, 10.4), (10, 5, 10.4)])
    assert shown_on_plane(m, AXIAL, "1.2.3")
    assert not shown_on_plane(m, AXIAL, "9.9.9")  # another series
    assert shown_on_plane(m, PlaneGeometry((0, 0, 11.3), (1, 0, 0), (0, 1, 0), 0.5, 0.8, 2.0), "1.2.3")  # 0.9 mm
    assert not shown_on_plane(m, PlaneGeometry((0, 0, 11.5), (1, 0, 0), (0, 1, 0), 0.5, 0.8, 2.0), "1.2.3")
    # an antero-posterior axial length lies in a sagittal plane, but it is not drawn there
    ap = make("length", [(3, 0, 10), (3, 40, 10)])
    sagittal = PlaneGeometry((3, 0, 0), (0, 1, 0), (0, 0, -1), 0.5, 0.5, 1.0)
    assert sagittal.contains(np.array(ap.points)).all() and not shown_on_plane(ap, sagittal, "1.2.3")
    assert shown_on_plane(make("length", [(0, 0, 0), (1, 1, 0)], series=None), AXIAL, "", tolerance=10.0)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.1, 3.0), st.floats(0, 6.28), st.lists(st.tuples(coord, coord), min_size=2, max_size=2),
       st.tuples(coord, coord), st.sampled_from([0, 1, 2, 3]))
def test_bidirectional_edits_keep_the_short_axis_perpendicular(theta, phi, long_axis, target, handle):
    n = unit_normal(theta, phi)
    la, lb = plane_points(n, long_axis)
    if np.linalg.norm(lb - la) < 1.0:
        return
    sa, sb = short_axis_for(la, lb, n)
    assert np.dot(sb - sa, lb - la) == pytest.approx(0, abs=1e-6 * np.linalg.norm(lb - la) ** 2)
    np.testing.assert_allclose((sa + sb) / 2, (la + lb) / 2, atol=1e-9)
    assert np.linalg.norm(sb - sa) == pytest.approx(2 / 3 * np.linalg.norm(lb - la))
    (p,) = plane_points(n, [target])
    if handle in (0, 1) and np.linalg.norm(p - (lb if handle == 0 else la)) < 1.0:
        return
    new = edit_bidirectional([la, lb, sa, sb], handle, p, n)
    la2, lb2, sa2, sb2 = new
    long_dir, short_dir = lb2 - la2, sb2 - sa2
    scale = np.linalg.norm(long_dir) * max(np.linalg.norm(short_dir), 1.0)
    assert abs(np.dot(long_dir, short_dir)) <= 1e-6 * scale
    for q in new:  # stays in the plane
        assert abs(np.dot(q, n)) < 1e-6
    if handle in (0, 1):
        np.testing.assert_allclose(new[handle], p, atol=1e-9)
        # the short axis keeps its length and its place along the long axis
        assert np.linalg.norm(short_dir) == pytest.approx(np.linalg.norm(sb - sa), rel=1e-9, abs=1e-9)
    else:
        other = 3 if handle == 2 else 2
        d_other = np.linalg.norm(np.cross(new[other] - la2, long_dir)) / np.linalg.norm(long_dir)
        assert d_other == pytest.approx(np.linalg.norm(sb - sa) / 2, rel=1e-6)
        # the two ends never cross to the same side of the long axis
        s1 = np.dot(np.cross(long_dir, sa2 - la2), n)
        s2 = np.dot(np.cross(long_dir, sb2 - la2), n)
        assert s1 * s2 < 0 or min(abs(s1), abs(s2)) <= 1e-6 * scale


def test_short_axis_end_drag_slides_along_the_long_axis():
    n = np.array([0, 0, 1.0])
    pts = [np.array([0, 0, 0.0]), np.array([30, 0, 0.0])]
    sa, sb = short_axis_for(*pts, n)
    new = edit_bidirectional([*pts, sa, sb], 3, (20.0, 14.0, 0.0), n)
    np.testing.assert_allclose(new[3], (20, 14, 0))
    np.testing.assert_allclose(new[2], (20, -10, 0))  # 10 mm (a third of 30) on the other side, kept
    clamped = edit_bidirectional([*pts, sa, sb], 3, (50.0, -3.0, 0.0), n)  # past the end, across the axis
    np.testing.assert_allclose(clamped[3], (30, 0, 0), atol=1e-12)


def test_ellipse_from_corners_and_handles():
    pts = ellipse_from_corners(AXIAL, (10, 20), (30, 40))
    np.testing.assert_allclose(pts[0], (10.0, 24.0, 10.0))  # centre (20, 30) px
    assert measure.ellipse_area(*pts) == pytest.approx(math.pi * 5.0 * 8.0)
    with pytest.raises(ValueError):
        ellipse_from_corners(AXIAL, (10, 20), (10, 40))
    h = ellipse_handles(pts)
    np.testing.assert_allclose(h, [(15, 24, 10), (5, 24, 10), (10, 32, 10), (10, 16, 10)])
    assert handle_points("ellipse_roi", pts)[0].tolist() == h[0].tolist()


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([0, 1, 2, 3]), st.tuples(coord, coord))
def test_ellipse_handle_drag_keeps_the_opposite_handle(handle, target):
    pts = ellipse_from_corners(AXIAL, (10, 20), (30, 40))
    before = ellipse_handles(pts)
    new = edit_ellipse(pts, handle, (target[0], target[1], 10.0))
    after = ellipse_handles(new)
    opposite = {0: 1, 1: 0, 2: 3, 3: 2}[handle]
    reach = abs(float(np.dot(np.asarray((target[0], target[1], 10.0)) - before[opposite],
                             before[handle] - before[opposite]))) / np.linalg.norm(before[handle] - before[opposite])
    if np.dot(np.asarray((target[0], target[1], 10.0)) - before[opposite], before[handle] - before[opposite]) > 0 \
            and reach / 2 > MIN_SEMI_AXIS_MM:
        np.testing.assert_allclose(after[opposite], before[opposite], atol=1e-9)
        assert np.linalg.norm(after[handle] - after[opposite]) == pytest.approx(reach)
    # the other axis keeps its length, and the ellipse never degenerates
    other = (2, 3) if handle in (0, 1) else (0, 1)
    assert np.linalg.norm(after[other[0]] - after[other[1]]) == pytest.approx(
        np.linalg.norm(before[other[0]] - before[other[1]]))
    assert measure.ellipse_area(*new) > 0


def test_edit_handle_translate_and_project():
    pts = [(0, 0, 0), (10, 0, 0), (10, 10, 0)]
    moved = edit_handle("angle", pts, 2, (0, 10, 0), (0, 0, 1))
    assert measure.angle(*moved) == pytest.approx(45.0)
    with pytest.raises(ValueError):
        edit_handle("freehand_roi", pts, 0, (0, 0, 0), (0, 0, 1))
    assert handle_points("freehand_roi", pts) == []
    np.testing.assert_allclose(translate(pts, (1, 2, 3))[2], (11, 12, 3))
    np.testing.assert_allclose(project_to_plane((3, 4, 7.5), (0, 0, 2), (0, 0, 2)), (3, 4, 2))


def test_drawing_problems():
    assert drawing_problem("length", [(0, 0, 0), (0, 0, 0)]) is not None
    assert drawing_problem("length", [(0, 0, 0), (1, 0, 0)]) is None
    assert "craniocaudal" in drawing_problem("cc_extent", [(0, 0, 0), (5, 0, 0)])
    assert drawing_problem("angle", [(0, 0, 0), (0, 0, 0), (1, 0, 0)]) is not None
    assert drawing_problem("cobb", [(0, 0, 0), (1, 0, 0), (2, 0, 0), (2, 0, 0)]) is not None
    assert drawing_problem("polygon_roi", [(0, 0, 0), (1, 0, 0), (2, 0, 0)]) is not None  # collinear
    assert drawing_problem("polygon_roi", [(0, 0, 0), (1, 0, 0)]) is not None
    assert drawing_problem("polygon_roi", [(0, 0, 0), (1, 0, 0), (0, 1, 0)]) is None


def test_value_text_of_each_kind():
    z = 0.0
    assert value_lines(make("length", [(0, 0, z), (3, 4, z)])) == ["5.0 mm"]
    assert value_lines(make("length", [(0, 0, z), (3, 4, z)], spacing_known=False)) == ["5.0 px"]
    assert value_lines(make("cc_extent", [(0, 0, 0), (0, 3, 45.3)])) == ["CC 45.3 mm"]
    bi = make("bidirectional", [(0, 0, z), (34.2, 0, z), (10, -10.5, z), (10, 10.5, z)])
    assert value_lines(bi) == ["L 34.2 mm  S 21.0 mm"]
    assert value_lines(make("angle", [(1, 0, z), (0, 0, z), (0, 1, z)])) == ["90.0\u00b0"]
    cobb = make("cobb", [(0, 0, z), (10, 0, z), (0, 5, z), (10, 5 + 10 * math.tan(math.radians(12.3)), z)])
    assert value_lines(cobb) == ["Cobb 12.3\u00b0"]
    probe = make("probe", [(0, 0, z)], stats=RoiStatsCache(mean=42.0, sd=0.0, min=42.0, max=42.0, count=1,
                                                            unit="HU"))
    assert value_lines(probe) == ["42.0 HU"]
    mr_probe = make("probe", [(0, 0, z)], stats=RoiStatsCache(mean=430.0, sd=0, min=430, max=430, count=1))
    assert value_lines(mr_probe) == ["Value 430.0"]
    outside = make("probe", [(0, 0, z)], stats=RoiStatsCache(count=0, unit="HU"))
    assert value_lines(outside) == ["outside the image"]
    stats = RoiStatsCache(mean=42.06, sd=3.21, min=-12.0, max=88.0, count=120, unit="HU")
    roi = make("ellipse_roi", [(0, 0, z), (10, 0, z), (0, 5, z)], stats=stats, label="T6 lesion")
    assert value_lines(roi) == ["Area 157.1 mm\u00b2", "Mean 42.1 HU  SD 3.2 HU"]
    assert label_lines(roi) == ["T6 lesion", "Area 157.1 mm\u00b2", "Mean 42.1 HU  SD 3.2 HU"]
    assert value_text(roi) == "Area 157.1 mm\u00b2;  Mean 42.1 HU  SD 3.2 HU;  Min -12.0 HU  Max 88.0 HU"
    px_roi = make("polygon_roi", [(0, 0, z), (10, 0, z), (0, 10, z)], spacing_known=False)
    assert value_lines(px_roi) == ["Area 50.0 px\u00b2"]
    empty = make("polygon_roi", [(0, 0, z), (0.1, 0, z), (0, 0.1, z)], stats=RoiStatsCache(count=0, unit="HU"))
    assert value_lines(empty)[1] == "no pixel centre inside"
