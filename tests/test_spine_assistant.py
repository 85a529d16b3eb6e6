"""The Bilsky contour assistant on constructed configurations, monotonicity, geometry and bad input."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imaging.spine import BILSKY_GRADES, bilsky_ordinal, suggest_bilsky_grade
from imaging.spine.canal_model import CanalGeometry, TumorShape, tumor_depth
from imaging.spine.ellipse import Ellipse
from tools.phantom.bilsky_configurations import (
    _solve_offset,
    make_bilsky_configuration,
    random_canal_geometry,
    rasterize_configuration,
)

PER_GRADE = 50
DIRECTIONS = ("anterior", "anterolateral", "posterior")


def _suggest(config):  # type: ignore[no-untyped-def]
    return suggest_bilsky_grade(config.canal_mask, config.sac_mask, config.cord_mask, config.tumor_mask,
                                config.spacing)


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Counter[str]]:
    """Grade suggested for PER_GRADE random configurations of each constructed grade (random canal, sac,
    cord and tumour sizes; spacings 0.3-0.7 mm; anterior, anterolateral and posterior tumours)."""
    rng = np.random.default_rng(20240611)
    result: dict[str, Counter[str]] = {}
    for grade in BILSKY_GRADES:
        counts: Counter[str] = Counter()
        for i in range(PER_GRADE):
            config = make_bilsky_configuration(grade, rng, direction=DIRECTIONS[i % 3])
            counts[_suggest(config).grade] += 1
        result[grade] = counts
    return result


@pytest.mark.parametrize("grade", BILSKY_GRADES)
def test_at_least_95_percent_of_constructed_configurations_get_their_grade(
        grade: str, outcomes: dict[str, Counter[str]]) -> None:
    counts = outcomes[grade]
    accuracy = counts[grade] / sum(counts.values())
    assert accuracy >= 0.95, f"grade {grade}: {dict(counts)}"


def test_the_generator_builds_what_it_claims() -> None:
    rng = np.random.default_rng(5)
    for grade in BILSKY_GRADES:
        c = make_bilsky_configuration(grade, rng)
        f = c.facts
        assert c.spacing[0] >= 0.3 and c.spacing[1] <= 0.7
        assert (c.cord_mask <= c.sac_mask).all() and not (c.sac_mask & c.tumor_mask).any()
        if grade == "0":
            assert f["canal_depth_mm"] <= 0
        elif grade == "1a":
            assert f["canal_depth_mm"] >= 1.0 and f["sac_depth_mm"] <= 0
        elif grade == "1b":
            assert f["sac_depth_mm"] >= 1.0 and f["cord_depth_mm"] < -1.0
        elif grade == "1c":
            assert f["sac_depth_mm"] >= 1.0 and -1.0 < f["cord_depth_mm"] <= 0
        else:
            assert f["cord_depth_mm"] >= 1.0
            assert (c.geometry.cord == c.geometry.sac) == (grade == "3")
            csf = c.sac_mask & ~c.cord_mask
            assert csf.any() == (grade == "2")


# -- monotonicity: pushing the tumour deeper never lowers the grade ----------------------------------------

@st.composite
def push_pairs(draw: st.DrawFn) -> tuple[CanalGeometry, TumorShape, float, float, tuple[float, float],
                                          tuple[float, float]]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    geometry = random_canal_geometry(rng, cord_fills_sac=draw(st.booleans()))
    angle = draw(st.sampled_from([0.0, -45.0, 45.0, 180.0])) + draw(st.floats(-10, 10))
    shape = TumorShape(angle, draw(st.floats(3.0, 9.0)), draw(st.floats(3.0, 10.0)))
    spacing = (draw(st.floats(0.3, 0.7)), draw(st.floats(0.3, 0.7)))
    phase = (draw(st.floats(0, 1)), draw(st.floats(0, 1)))
    # from 2 mm outside the canal to 30% of the cord's diameter inside it
    near, far = shape.radial, geometry.canal.radius_towards(shape.direction) + shape.radial + 6.0
    outside = _solve_offset(lambda o: tumor_depth(shape.at(o), geometry.canal), -2.0, near, far)
    deepest = _solve_offset(lambda o: tumor_depth(shape.at(o), geometry.cord),
                            0.6 * geometry.cord.radius_towards(shape.direction), near, far)
    a, b = sorted((draw(st.floats(0, 1)), draw(st.floats(0, 1))))
    shallow_offset = outside + a * (deepest - outside)
    deep_offset = outside + b * (deepest - outside)
    return geometry, shape, shallow_offset, deep_offset, spacing, phase


@given(push_pairs())
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
def test_pushing_the_tumour_deeper_never_lowers_the_grade(case) -> None:  # type: ignore[no-untyped-def]
    geometry, shape, shallow_offset, deep_offset, spacing, phase = case
    margin = 2 * max(shape.radial, shape.tangential) + 2
    grades = []
    for offset in (shallow_offset, deep_offset):
        masks = rasterize_configuration(geometry, shape.at(offset), spacing, phase, margin_mm=margin)
        grades.append(suggest_bilsky_grade(*masks, spacing).grade)
    assert bilsky_ordinal(grades[1]) >= bilsky_ordinal(grades[0]), grades


def test_grade_rises_step_by_step_as_one_tumour_advances() -> None:
    geometry = CanalGeometry(Ellipse(0, 0, 10, 8), Ellipse(0, 0, 7.5, 5.5), Ellipse(0, 0, 4.5, 3.0))
    shape = TumorShape(0.0, 6.0, 7.0)
    seen = []
    for offset in np.linspace(shape.radial + 8 + 2, shape.radial + 0.5, 40):  # front from 2 mm outside inwards
        masks = rasterize_configuration(geometry, shape.at(float(offset)), (0.5, 0.4), margin_mm=16)
        seen.append(suggest_bilsky_grade(*masks, (0.5, 0.4)).grade)
    ordinals = [bilsky_ordinal(g) for g in seen]
    assert ordinals == sorted(ordinals)
    assert {"0", "1a", "1b", "1c", "2"} <= set(seen)  # CSF stays around this cord: no grade 3


# -- geometry: physical distances, flat cuts, small structures -------------------------------------------

def _grid(shape_mm: tuple[float, float], spacing: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    rows = (np.arange(int(shape_mm[0] / spacing[0])) * spacing[0]) - shape_mm[0] / 2
    cols = (np.arange(int(shape_mm[1] / spacing[1])) * spacing[1]) - shape_mm[1] / 2
    xx, yy = np.meshgrid(cols, rows)
    return xx, yy


def _inside(e: Ellipse, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    return e.contains(np.stack([xx.ravel(), yy.ravel()], axis=1)).reshape(xx.shape)


def test_flat_cut_that_leaves_the_sac_convex_is_still_an_indentation() -> None:
    spacing = (0.5, 0.5)
    xx, yy = _grid((40, 40), spacing)
    canal = _inside(Ellipse(0, 0, 10, 8), xx, yy)
    tumor = yy < -4.0  # a flat-fronted mass from the vertebral body, 2 mm into a sac reaching y = -6
    sac = _inside(Ellipse(0, 0, 8, 6), xx, yy) & ~tumor
    cord = _inside(Ellipse(0, 1.5, 4, 2.5), xx, yy) & ~tumor  # cord front at y = -1: 3 mm behind the tumour
    s = suggest_bilsky_grade(canal, sac, cord, tumor, spacing)
    assert s.grade == "1b"
    assert s.value("sac_indentation") == pytest.approx(2.0, abs=0.35)
    assert s.value("tumor_cord_gap") == pytest.approx(3.0, abs=0.35)


def test_a_small_sac_untouched_by_the_tumour_is_not_indented() -> None:
    spacing = (0.4, 0.6)
    xx, yy = _grid((40, 40), spacing)
    canal = _inside(Ellipse(0, 0, 10, 8), xx, yy)
    tumor = _inside(Ellipse(0, -11, 6, 5), xx, yy)      # 2 mm into the canal (front at y = -6)
    sac = _inside(Ellipse(0, 1, 4.5, 3.5), xx, yy)      # small, far from the tumour
    cord = _inside(Ellipse(0, 1, 2.5, 2.0), xx, yy)
    s = suggest_bilsky_grade(canal, sac, cord, tumor, spacing)
    assert s.grade == "1a"
    assert s.value("sac_indentation") == 0.0
    assert s.value("tumor_area_in_canal") > 1.0


def test_an_elliptical_cord_abutted_but_not_indented_is_1c() -> None:
    spacing = (0.3, 0.7)
    xx, yy = _grid((40, 40), spacing)
    canal = _inside(Ellipse(0, 0, 11, 8), xx, yy)
    cord_shape = Ellipse(0, 0, 6, 2.5)                 # flat and wide, front at y = -2.5
    tumor = _inside(Ellipse(0, -8.8, 6, 6), xx, yy)    # front at y = -2.8: 0.3 mm from the cord
    sac = _inside(Ellipse(0, 0, 8.5, 6), xx, yy) & ~tumor
    cord = _inside(cord_shape, xx, yy) & ~tumor
    s = suggest_bilsky_grade(canal, sac, cord, tumor, spacing)
    assert s.grade == "1c"
    assert s.value("cord_indentation") < 0.5
    assert s.value("tumor_cord_gap") <= 1.0


def test_distances_use_the_physical_spacing() -> None:
    # one configuration rasterised at (0.3, 0.7) and, transposed, at (0.7, 0.3): same mm measurements
    rng = np.random.default_rng(11)
    config = make_bilsky_configuration("1b", rng, spacing=(0.3, 0.7), direction="anterior")
    a = _suggest(config)
    t = suggest_bilsky_grade(config.canal_mask.T, config.sac_mask.T, config.cord_mask.T, config.tumor_mask.T,
                             (0.7, 0.3))
    assert a.grade == t.grade == "1b"
    for name in ("tumor_area_in_canal", "sac_indentation", "tumor_cord_gap", "csf_area"):
        assert a.value(name) == pytest.approx(t.value(name), rel=0.02, abs=0.02)
    assert a.value("tumor_cord_gap") == pytest.approx(-config.facts["cord_depth_mm"], abs=0.4)
    assert a.value("sac_indentation") == pytest.approx(config.facts["sac_depth_mm"], abs=0.4)


def test_no_tumour_is_grade_0_and_reasons_are_structured() -> None:
    rng = np.random.default_rng(3)
    c = make_bilsky_configuration("1a", rng)
    s = suggest_bilsky_grade(c.canal_mask, c.sac_mask, c.cord_mask, np.zeros_like(c.tumor_mask), c.spacing)
    assert s.grade == "0"
    # no tumour: no tumour-cord gap to report
    assert [r.name for r in s.reasons] == ["tumor_area_in_canal", "sac_indentation", "cord_indentation", "csf_area"]
    assert [r.unit for r in s.reasons] == ["mm2", "mm", "mm", "mm2"]
    assert s.value("tumor_area_in_canal") == 0.0
    assert s.value("csf_area") > 0
    assert all(r.sentence.endswith(".") and np.isfinite(r.value) for r in s.reasons)
    d = s.as_dict()
    assert d["grade"] == "0" and d["reasons"][3]["unit"] == "mm2"
    with_tumour = _suggest(c)
    assert [r.name for r in with_tumour.reasons] == ["tumor_area_in_canal", "sac_indentation", "tumor_cord_gap",
                                                     "cord_indentation", "csf_area"]
    assert [r.unit for r in with_tumour.reasons] == ["mm2", "mm", "mm", "mm", "mm2"]
    assert all(np.isfinite(r.value) for r in with_tumour.reasons)
    assert "Bone-only disease".lower() in s.summary.lower()


def test_summary_keeps_the_definition_wording() -> None:
    """The summary quotes the grade's definition: only its first letter is lowered (CSF stays CSF)."""
    c = make_bilsky_configuration("3", np.random.default_rng(5))
    s = _suggest(c)
    assert s.grade == "3"
    assert "(spinal cord compression without CSF visible around the cord)" in s.summary


def test_csf_area_in_mm2() -> None:
    spacing = (0.5, 0.25)
    xx, yy = _grid((20, 20), spacing)
    canal = np.abs(xx) < 8
    sac = (np.abs(xx) < 4) & (np.abs(yy) < 4)    # 8 x 8 mm
    cord = (np.abs(xx) < 2) & (np.abs(yy) < 2)   # 4 x 4 mm
    s = suggest_bilsky_grade(canal, sac, cord, np.zeros_like(canal), spacing)
    assert s.value("csf_area") == pytest.approx(64 - 16, rel=0.08)


# -- garbage input ----------------------------------------------------------------------------------------

@pytest.fixture
def masks() -> dict[str, np.ndarray]:
    c = make_bilsky_configuration("1b", np.random.default_rng(1), spacing=(0.5, 0.5))
    return {"canal": c.canal_mask, "sac": c.sac_mask, "cord": c.cord_mask, "tumor": c.tumor_mask}


def test_shape_mismatch_names_the_shapes(masks: dict[str, np.ndarray]) -> None:
    masks["cord"] = masks["cord"][:-1]
    with pytest.raises(ValueError, match="same shape.*cord"):
        suggest_bilsky_grade(**masks, spacing=(0.5, 0.5))


@pytest.mark.parametrize("name", ["canal", "sac", "cord"])
def test_empty_structure_names_the_mask(masks: dict[str, np.ndarray], name: str) -> None:
    masks[name] = np.zeros_like(masks[name])
    with pytest.raises(ValueError, match=f"the {name} mask is empty"):
        suggest_bilsky_grade(**masks, spacing=(0.5, 0.5))


def test_bad_masks_and_spacing(masks: dict[str, np.ndarray]) -> None:
    with pytest.raises(ValueError, match="tumor mask must be 2D"):
        suggest_bilsky_grade(**{**masks, "tumor": masks["tumor"][None]}, spacing=(0.5, 0.5))
    with pytest.raises(ValueError, match="canal mask must hold only 0/1"):
        suggest_bilsky_grade(**{**masks, "canal": masks["canal"] * 2}, spacing=(0.5, 0.5))
    with pytest.raises(ValueError, match="spacing"):
        suggest_bilsky_grade(**masks, spacing=(0.5, 0.0))
    with pytest.raises(ValueError, match="spacing"):
        suggest_bilsky_grade(**masks, spacing=(0.5,))
    far_canal = np.zeros_like(masks["canal"])
    far_canal[0, 0] = True
    with pytest.raises(ValueError, match="does not overlap"):
        suggest_bilsky_grade(**{**masks, "canal": far_canal}, spacing=(0.5, 0.5))
    # 0/1 integer masks are accepted
    assert suggest_bilsky_grade(**{k: v.astype(np.uint8) for k, v in masks.items()}, spacing=(0.5, 0.5)).grade
