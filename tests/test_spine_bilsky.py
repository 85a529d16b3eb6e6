"""Bilsky grades: definitions, normalisation, NOMS groups and the schematic geometry."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.spine import (
    BILSKY_GRADE_INFO,
    BILSKY_GRADES,
    bilsky_ordinal,
    bilsky_schematic,
    escc_group,
    normalize_bilsky_grade,
)
from imaging.spine.ellipse import Ellipse


def test_grades_and_definitions() -> None:
    assert BILSKY_GRADES == ("0", "1a", "1b", "1c", "2", "3")
    assert list(BILSKY_GRADE_INFO) == list(BILSKY_GRADES)
    # Exactly the wording of the project's definition of the scale (issue 6, after Bilsky et al. 2010).
    assert BILSKY_GRADE_INFO["0"].definition == "Bone-only disease"
    assert BILSKY_GRADE_INFO["1a"].definition == "Epidural impingement without deformation of the thecal sac"
    assert BILSKY_GRADE_INFO["1b"].definition == "Deformation of the thecal sac without spinal cord abutment"
    assert BILSKY_GRADE_INFO["1c"].definition == ("Deformation of the thecal sac with spinal cord abutment, "
                                                  "without cord compression")
    assert BILSKY_GRADE_INFO["2"].definition == "Spinal cord compression with CSF visible around the cord"
    assert BILSKY_GRADE_INFO["3"].definition == "Spinal cord compression without CSF visible around the cord"
    assert all(info.short_name for info in BILSKY_GRADE_INFO.values())


def test_normalize_and_order() -> None:
    assert normalize_bilsky_grade(" 1A ") == "1a"
    assert [bilsky_ordinal(g) for g in BILSKY_GRADES] == [0, 1, 2, 3, 4, 5]
    with pytest.raises(TypeError, match="never integers|strings"):
        normalize_bilsky_grade(2)
    with pytest.raises(ValueError, match="1d"):
        normalize_bilsky_grade("1d")


@pytest.mark.parametrize(("grade", "high_1c", "low_1c"), [
    ("0", "low", "low"), ("1a", "low", "low"), ("1b", "low", "low"), ("1c", "high", "low"),
    ("2", "high", "high"), ("3", "high", "high"),
])
def test_escc_group(grade: str, high_1c: str, low_1c: str) -> None:
    assert escc_group(grade) == high_1c
    assert escc_group(grade, grade_1c_as="high") == high_1c
    assert escc_group(grade, grade_1c_as="low") == low_1c


def test_escc_group_rejects_bad_parameter() -> None:
    with pytest.raises(ValueError, match="grade_1c_as"):
        escc_group("1c", grade_1c_as="medium")  # type: ignore[arg-type]


def _polygon_area(p: np.ndarray) -> float:
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _inside(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd point in polygon test."""
    x, y = points[:, 0], points[:, 1]
    result = np.zeros(len(points), dtype=bool)
    for (x0, y0), (x1, y1) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        if y0 == y1:
            continue
        result ^= ((y0 > y) != (y1 > y)) & (x < (x1 - x0) * (y - y0) / (y1 - y0) + x0)
    return result


def _schematic(grade: str) -> dict[str, np.ndarray]:
    return {s.role: s.points for s in bilsky_schematic(grade)}


def test_schematic_shapes_in_unit_box_and_anatomically_placed() -> None:
    for grade in BILSKY_GRADES:
        shapes = bilsky_schematic(grade)
        assert [s.role for s in shapes] == ["posterior_arch", "vertebral_body", "canal", "thecal_sac",
                                            "spinal_cord", "tumor"]
        for s in shapes:
            assert s.points.ndim == 2 and s.points.shape[1] == 2 and len(s.points) >= 3
            assert s.points.min() >= 0.0 and s.points.max() <= 1.0
        sh = {s.role: s.points for s in shapes}
        assert sh["vertebral_body"][:, 1].mean() < sh["canal"][:, 1].mean()  # body anterior (up)
        assert _inside(sh["spinal_cord"], sh["canal"]).all()


def _sample_grid(n: int = 150) -> np.ndarray:
    g = (np.arange(n) + 0.5) / n
    xx, yy = np.meshgrid(g, g)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def test_schematic_follows_the_grade_definitions() -> None:
    grid = _sample_grid()
    facts: dict[str, dict[str, float]] = {}
    for grade in BILSKY_GRADES:
        sh = _schematic(grade)
        inside = {role: _inside(grid, sh[role]) for role in ("tumor", "canal", "thecal_sac", "spinal_cord")}
        facts[grade] = {f"tumor_in_{role}": int((inside["tumor"] & inside[role]).sum())
                        for role in ("canal", "thecal_sac", "spinal_cord")}
        facts[grade]["sac_samples"] = int(inside["thecal_sac"].sum())
        facts[grade]["sac_area"] = _polygon_area(sh["thecal_sac"])
        facts[grade]["cord_area"] = _polygon_area(sh["spinal_cord"])
    assert facts["0"]["tumor_in_canal"] == 0
    assert facts["1a"]["tumor_in_canal"] > 0 and facts["1a"]["tumor_in_thecal_sac"] == 0
    for grade in ("1b", "1c", "2", "3"):
        # the tumour displaces the sac and cord: no overlap (but polygon chords), their outlines are indented
        assert facts[grade]["tumor_in_thecal_sac"] <= 0.01 * facts[grade]["sac_samples"]
        assert facts[grade]["tumor_in_spinal_cord"] <= 0.01 * facts[grade]["sac_samples"]
    assert facts["1b"]["sac_area"] < facts["1a"]["sac_area"] - 1e-4      # sac indented in 1b
    assert facts["1c"]["cord_area"] == pytest.approx(facts["1a"]["cord_area"])  # cord keeps its shape in 1c
    assert facts["2"]["cord_area"] < facts["1c"]["cord_area"] - 1e-4     # and is indented in 2
    assert facts["2"]["sac_area"] - facts["2"]["cord_area"] > 0.005      # CSF left in 2
    assert facts["3"]["sac_area"] == pytest.approx(facts["3"]["cord_area"], abs=1e-9)  # none in 3


def test_star_difference_matches_the_ellipse_geometry() -> None:
    from imaging.spine.bilsky import _star_difference

    sac = Ellipse(0, 0, 5, 4)
    tumor = Ellipse(0, -6, 3, 3)  # reaches 1 mm into the sac from y = -4
    out = _star_difference(sac.boundary(720), tumor)
    front = out[(np.abs(out[:, 0]) < 0.05) & (out[:, 1] < 0)]
    assert front[:, 1] == pytest.approx(-3.0, abs=0.01)  # pushed in along the tumour's outline
    assert not tumor.contains(out * 0.999).any()
