"""Bilsky assistant contours (Qt-free): which lie on a plane, their masks on the slice grid, the suggestion
from them, and the brush. Expected values come from the geometry (areas of squares and discs, pixel
counts of known rectangles), never from the code's output."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from imaging.case.model import Contour
from imaging.geometry import PlaneGeometry
from imaging.spine.contour_masks import (
    brush_outline,
    brush_stroke,
    contour_on_plane,
    contours_on_plane,
    outline_area_mm2,
    plane_mm,
    plane_mm_to_lps,
    point_in_outline,
    slice_masks,
    suggest_from_contours,
)

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "sample_dicoms" / "thoracic_ddlps" / "truth.json"

# An axial plane at S = 10 mm: x = patient left (0.5 mm columns), y = posterior (0.8 mm rows).
GEOMETRY = PlaneGeometry((-50.0, -40.0, 10.0), (1, 0, 0), (0, 1, 0), 0.5, 0.8, thickness=3.0)
SHAPE = (120, 200)  # rows, columns


def lps(x_mm: float, y_mm: float, z: float = 10.0) -> tuple[float, float, float]:
    """A point given in plane millimetres from the plane's origin."""
    return (-50.0 + x_mm, -40.0 + y_mm, z)


def circle(cx: float, cy: float, r: float, n: int = 180) -> list[tuple[float, float, float]]:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return [lps(cx + r * math.cos(a), cy + r * math.sin(a)) for a in t]


def contour(kind: str, points, series: str | None = "1.2.3") -> Contour:
    return Contour(kind=kind, points=points, series_instance_uid=series)


def test_contour_on_plane_uses_half_the_thickness_and_the_series():
    on = contour("canal", [lps(10, 10), lps(20, 10), lps(20, 20, 11.4)])
    off = contour("canal", [lps(10, 10), lps(20, 10), lps(20, 20, 11.6)])  # 1.6 mm > 3 mm / 2
    other_series = contour("canal", [lps(10, 10), lps(20, 10), lps(20, 20)], series="1.2.4")
    assert contour_on_plane(on, GEOMETRY, "1.2.3")
    assert not contour_on_plane(off, GEOMETRY, "1.2.3")
    assert not contour_on_plane(other_series, GEOMETRY, "1.2.3")
    assert contour_on_plane(other_series, GEOMETRY, None)  # series unknown: geometry decides
    assert contours_on_plane([off, on, other_series], GEOMETRY, "1.2.3") == [on]


def test_masks_count_the_pixel_centres_inside_and_keep_row_column_spacing():
    # A rectangle from x = 10.1 to 20.1 mm (columns 20.2..40.2: centres 21..40 = 20 columns) and
    # y = 8.1 to 16.1 mm (rows 10.125..20.125: centres 11..20 = 10 rows).
    rect = contour("canal", [lps(10.1, 8.1), lps(20.1, 8.1), lps(20.1, 16.1), lps(10.1, 16.1)])
    m = slice_masks([rect], GEOMETRY, SHAPE)
    assert m.spacing == (0.8, 0.5)
    assert m.masks["canal"].sum() == 200
    assert m.area_mm2("canal") == pytest.approx(200 * 0.4)
    rows, cols = np.nonzero(m.masks["canal"])
    assert (rows + m.offset[0]).min() == 11 and (rows + m.offset[0]).max() == 20
    assert (cols + m.offset[1]).min() == 21 and (cols + m.offset[1]).max() == 40
    assert m.missing() == ["sac", "cord"]
    assert m.counts["canal"] == 1 and m.counts["tumour"] == 0


def test_tumour_outlines_are_united():
    a = contour("tumour", [lps(0.1, 0.1), lps(5.1, 0.1), lps(5.1, 4.1), lps(0.1, 4.1)])  # 10 x 5 pixels
    b = contour("tumour", [lps(3.1, 0.1), lps(8.1, 0.1), lps(8.1, 4.1), lps(3.1, 4.1)])  # overlaps 4 columns
    m = slice_masks([a, b], GEOMETRY, SHAPE)
    assert m.masks["tumour"].sum() == (16 * 5)  # columns 1..16, rows 1..5
    assert m.counts["tumour"] == 2


def test_missing_structures_are_named():
    result = suggest_from_contours([contour("canal", circle(50, 40, 8))], GEOMETRY, SHAPE)
    assert result.suggestion is None
    assert result.problem == "Outline the thecal sac and spinal cord to get a suggestion."


def test_no_tumour_suggests_grade_0_and_cropping_changes_nothing():
    parts = [contour("canal", circle(50, 40, 8)), contour("sac", circle(50, 40, 6)),
             contour("cord", circle(50, 40, 3))]
    result = suggest_from_contours(parts, GEOMETRY, SHAPE)
    assert result.suggestion is not None and result.suggestion.grade == "0"
    # CSF = sac disc minus cord disc, within the pixel discretisation
    assert result.suggestion.value("csf_area") == pytest.approx(math.pi * (36 - 9), rel=0.06)
    wide = slice_masks(parts, GEOMETRY, SHAPE, margin=500)
    assert wide.offset == (0, 0) and wide.masks["canal"].shape == SHAPE
    from imaging.spine import suggest_bilsky_grade

    full = suggest_bilsky_grade(wide.masks["canal"], wide.masks["sac"], wide.masks["cord"], wide.masks["tumour"],
                                wide.spacing)
    assert full.as_dict() == result.suggestion.as_dict()


def test_cord_indented_with_no_csf_left_suggests_grade_3():
    # Canal: disc of 8 mm at (50, 40). Tumour: the canal's anterior half (y <= 40; y grows posteriorly) and a
    # lobe, a 3 mm disc at (50, 39.5), biting into the cord, a 3.5 mm disc at (50, 44): the cord's remaining
    # outline is the cord circle's posterior arc closed by the lobe's arc. The sac is the cord: no CSF.
    canal = circle(50, 40, 8)
    front = [lps(50 + 8 * math.cos(a), 40 + 8 * math.sin(a)) for a in np.linspace(math.pi, 2 * math.pi, 90)]
    lobe = circle(50, 39.5, 3.0)
    y = (3.5**2 - 3.0**2 - 44**2 + 39.5**2) / (2 * (39.5 - 44))  # where the two circles cross
    dx = math.sqrt(3.0**2 - (y - 39.5) ** 2)
    a0, a1 = math.atan2(y - 44, dx), math.atan2(y - 44, -dx) + 2 * math.pi
    b0, b1 = math.atan2(y - 39.5, -dx), math.atan2(y - 39.5, dx)
    cord = [lps(50 + 3.5 * math.cos(a), 44 + 3.5 * math.sin(a)) for a in np.linspace(a0, a1, 80)]
    cord += [lps(50 + 3.0 * math.cos(a), 39.5 + 3.0 * math.sin(a)) for a in np.linspace(b0, b1, 40)[1:-1]]
    parts = [contour("canal", canal), contour("sac", cord), contour("cord", cord), contour("tumour", front),
             contour("tumour", lobe)]
    result = suggest_from_contours(parts, GEOMETRY, SHAPE)
    assert result.problem is None
    assert result.suggestion.grade == "3"
    assert result.suggestion.value("csf_area") == 0.0
    # the lobe reaches 2 mm into the cord's circle (cord front at y = 40.5, lobe back at y = 42.5)
    assert result.suggestion.value("cord_indentation") == pytest.approx(2.0, abs=0.6)


@pytest.mark.skipif(not TRUTH.exists(), reason="sample_dicoms/thoracic_ddlps not generated")
def test_thoracic_sample_outlines_give_grade_3():
    truth = json.loads(TRUTH.read_text())["bilsky"]
    assert truth["grade"] == "3"
    entry = truth["per_series"][0]
    cc = entry["compression_contours_lps"]
    z = cc["cord"][0][0][2]
    # a 0.5 mm grid on the slice (the suggestion does not depend on the image pixels)
    g = PlaneGeometry((-40.0, 20.0, z), (1, 0, 0), (0, 1, 0), 0.5, 0.5, thickness=4.0)
    parts = [contour(kind, cc[src][0], series=None)
             for kind, src in (("canal", "bony_canal"), ("sac", "thecal_sac"), ("cord", "cord"),
                               ("tumour", "tumour"))]
    result = suggest_from_contours(parts, g, (140, 160))
    assert result.suggestion is not None and result.suggestion.grade == truth["grade"]


def test_plane_mm_round_trip():
    pts = np.array([lps(1.0, 2.0), lps(-3.5, 7.25)])
    mm = plane_mm(GEOMETRY, pts)
    assert mm == pytest.approx(np.array([[1.0, 2.0], [-3.5, 7.25]]))
    assert plane_mm_to_lps(GEOMETRY, mm) == pytest.approx(pts)


def _disc_union_area(r_outline: float, centre: tuple[float, float], r_brush: float, inside: bool) -> float:
    """Area of outline disc (at the origin) united with (``inside``) or minus the brush disc, on a fine grid."""
    step = 0.02
    xs = np.arange(-r_outline - r_brush - 1, r_outline + r_brush + 1, step)
    x, y = np.meshgrid(xs, xs)
    a = x * x + y * y <= r_outline**2
    b = (x - centre[0]) ** 2 + (y - centre[1]) ** 2 <= r_brush**2
    return float(((a | b) if inside else (a & ~b)).sum()) * step * step


def test_brush_inside_pushes_the_edge_out_and_outside_pushes_it_in():
    t = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    outline = np.stack([5 * np.cos(t), 5 * np.sin(t)], axis=1)
    area = outline_area_mm2(outline)
    assert area == pytest.approx(math.pi * 25, rel=0.01)

    pushed_out = brush_outline(outline, (4.0, 0.0), 2.0)  # centre inside: the edge moves out
    assert outline_area_mm2(pushed_out) == pytest.approx(_disc_union_area(5, (4.0, 0.0), 2.0, True), rel=0.01)
    for a in np.linspace(0, 2 * np.pi, 24, endpoint=False):  # the whole disc is inside the new outline
        assert point_in_outline((4.0 + 1.95 * math.cos(a), 1.95 * math.sin(a)), pushed_out)

    pushed_in = brush_outline(outline, (6.0, 0.0), 2.0)  # centre outside: the edge moves in
    assert outline_area_mm2(pushed_in) == pytest.approx(_disc_union_area(5, (6.0, 0.0), 2.0, False), rel=0.01)
    assert not point_in_outline((4.5, 0.0), pushed_in)

    untouched = brush_outline(outline, (0.0, 0.0), 2.0)  # the disc does not reach the edge
    assert np.array_equal(untouched, outline)


def test_brush_stroke_follows_a_fast_drag_without_jumping_the_edge():
    t = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    outline = np.stack([5 * np.cos(t), 5 * np.sin(t)], axis=1)
    # one big step from inside to well outside: dabs every half millimetre carry the edge out to x = 9 + 1.5
    stroked = brush_stroke(outline, [(3.0, 0.0), (9.0, 0.0)], 1.5)
    assert point_in_outline((10.0, 0.0), stroked)
    assert not point_in_outline((10.8, 0.0), stroked)
    assert outline_area_mm2(stroked) > outline_area_mm2(outline) + 2 * 1.5 * 4.5  # a 3-mm-wide ridge, 5.5 long
    assert len(stroked) < 400  # the subdivision is thinned out


def test_brush_rejects_bad_input():
    with pytest.raises(ValueError, match="radius"):
        brush_outline([(0, 0), (1, 0), (0, 1)], (0, 0), 0.0)
    with pytest.raises(ValueError, match="3"):
        brush_outline([(0, 0), (1, 0)], (0, 0), 1.0)
