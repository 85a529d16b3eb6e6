"""SINS calculator (Fisher et al., Spine 2010): components, points, total, category, invalid input."""

from __future__ import annotations

import itertools

import pytest

from imaging.spine import (
    SinsAlignment,
    SinsBoneLesion,
    SinsCategory,
    SinsCollapse,
    SinsLocation,
    SinsPain,
    SinsPosterolateral,
    compute_sins,
    sins_category,
)


def test_published_points() -> None:
    assert {m.name: m.points for m in SinsLocation} == {"JUNCTIONAL": 3, "MOBILE": 2, "SEMIRIGID": 1, "RIGID": 0}
    assert [m.points for m in SinsPain] == [3, 1, 0]
    assert [m.points for m in SinsBoneLesion] == [2, 1, 0]
    assert [m.points for m in SinsAlignment] == [4, 2, 0]
    assert [m.points for m in SinsCollapse] == [3, 2, 1, 0]
    assert [m.points for m in SinsPosterolateral] == [3, 1, 0]
    assert SinsPain.PAIN_FREE.wording == "Pain-free lesion"
    assert SinsAlignment.DE_NOVO_DEFORMITY.wording == "De novo deformity (kyphosis/scoliosis)"
    assert SinsCollapse.NO_COLLAPSE_OVER_50_PERCENT_INVOLVED.wording == "No collapse with > 50% body involved"


@pytest.mark.parametrize(("total", "category"), [
    (0, SinsCategory.STABLE), (6, SinsCategory.STABLE), (7, SinsCategory.POTENTIALLY_UNSTABLE),
    (12, SinsCategory.POTENTIALLY_UNSTABLE), (13, SinsCategory.UNSTABLE), (18, SinsCategory.UNSTABLE),
])
def test_category_boundaries(total: int, category: SinsCategory) -> None:
    assert sins_category(total) is category


@pytest.mark.parametrize("bad", [-1, 19, 6.5, True, "7"])
def test_category_rejects_impossible_totals(bad: object) -> None:
    with pytest.raises(ValueError):
        sins_category(bad)  # type: ignore[arg-type]


def test_worked_example_lytic_t12_lesion() -> None:
    # T12 (junctional 3) + mechanical pain 3 + lytic 2 + normal alignment 0 + <50% collapse 2 + unilateral 1
    score = compute_sins(levels="T12", pain=SinsPain.MECHANICAL, bone_lesion=SinsBoneLesion.LYTIC,
                         alignment=SinsAlignment.NORMAL, collapse=SinsCollapse.UNDER_50_PERCENT,
                         posterolateral=SinsPosterolateral.UNILATERAL)
    assert score.location is SinsLocation.JUNCTIONAL and score.location_from_levels
    assert score.total == 11
    assert score.category is SinsCategory.POTENTIALLY_UNSTABLE
    assert [c.points for c in score.components] == [3, 3, 2, 0, 2, 1]
    assert score.as_dict()["levels"] == "T12" and score.as_dict()["total"] == 11


def test_extremes() -> None:
    worst = compute_sins(levels="C7-T1", pain="MECHANICAL", bone_lesion="lytic",
                         alignment="Subluxation/translation present", collapse="OVER_50_PERCENT",
                         posterolateral="BILATERAL")
    assert worst.total == 18 and worst.category is SinsCategory.UNSTABLE
    best = compute_sins(levels="S3", pain="PAIN_FREE", bone_lesion="BLASTIC", alignment="NORMAL",
                        collapse="NONE", posterolateral="NONE")
    assert best.total == 0 and best.category is SinsCategory.STABLE


def test_location_from_a_range_takes_the_highest_and_can_be_overridden() -> None:
    kwargs = dict(pain="PAIN_FREE", bone_lesion="BLASTIC", alignment="NORMAL", collapse="NONE", posterolateral="NONE")
    assert compute_sins(levels="T9-T10", **kwargs).location is SinsLocation.SEMIRIGID
    assert compute_sins(levels="T10-T11", **kwargs).location is SinsLocation.JUNCTIONAL
    overridden = compute_sins(levels="T10-T11", location=SinsLocation.SEMIRIGID, **kwargs)
    assert overridden.total == 1 and not overridden.location_from_levels
    assert compute_sins(location="MOBILE", **kwargs).total == 2


def test_every_combination_totals_its_points() -> None:
    seen = set()
    for loc, pain, bone, align, coll, post in itertools.product(SinsLocation, SinsPain, SinsBoneLesion,
                                                                SinsAlignment, SinsCollapse, SinsPosterolateral):
        s = compute_sins(location=loc, pain=pain, bone_lesion=bone, alignment=align, collapse=coll,
                         posterolateral=post)
        expected = loc.points + pain.points + bone.points + align.points + coll.points + post.points
        assert s.total == expected
        seen.add(s.total)
    assert seen == set(range(19))


def test_invalid_input_names_the_component() -> None:
    kwargs = dict(levels="L3", pain="PAIN_FREE", bone_lesion="BLASTIC", alignment="NORMAL", collapse="NONE",
                  posterolateral="NONE")
    with pytest.raises(ValueError, match="bone lesion"):
        compute_sins(**{**kwargs, "bone_lesion": "sclerotic"})
    with pytest.raises(ValueError, match="pain"):
        compute_sins(**{**kwargs, "pain": 3})
    with pytest.raises(ValueError, match="pain"):
        compute_sins(**{**kwargs, "pain": SinsBoneLesion.LYTIC})  # a member of another component
    with pytest.raises(ValueError, match="levels or an explicit location"):
        compute_sins(**{**kwargs, "levels": None})
    with pytest.raises(ValueError, match="T14"):
        compute_sins(**{**kwargs, "levels": "T14"})
