"""Follow-up rules (imaging.followup), Qt-free: every threshold just below, at and just above; growth rates
across month lengths and leap years; nadir logic; new-lesion progression."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from imaging.followup import criteria
from imaging.followup.change import LesionObservation, compare_sizes, lesion_changes
from imaging.followup.growth import (
    exceeds_growth_flag,
    growth_rate_mm_per_month,
    months_between,
    park_growth_rate_mm_per_month,
)
from imaging.followup.recist import Response, measurability, minimum_measurable_mm, target_response, target_responses

EPS = 0.01  # mm: "just below / just above" a threshold


# -- the month and growth rates ---------------------------------------------------------------------------
def test_a_month_is_30_4375_days() -> None:
    assert criteria.DAYS_PER_MONTH == 30.4375 == 365.25 / 12
    # Four years (one leap day) are exactly 48 months.
    assert months_between(date(2021, 3, 1), date(2025, 3, 1)) == 48.0
    assert months_between(date(2024, 5, 1), date(2024, 1, 1)) == pytest.approx(-121 / 30.4375)


def test_month_lengths_and_leap_years() -> None:
    # February: 29 days in 2024, 28 in 2023; the same growth over "one calendar month" is a different rate.
    feb_leap = months_between(date(2024, 2, 1), date(2024, 3, 1))
    feb = months_between(date(2023, 2, 1), date(2023, 3, 1))
    assert feb_leap == 29 / 30.4375 and feb == 28 / 30.4375
    rate_leap = growth_rate_mm_per_month(date(2024, 2, 1), 10.0, date(2024, 3, 1), 20.0)
    rate = growth_rate_mm_per_month(date(2023, 2, 1), 10.0, date(2023, 3, 1), 20.0)
    assert rate_leap == pytest.approx(10 / (29 / 30.4375)) and rate == pytest.approx(10 / (28 / 30.4375))
    # 31-day and 30-day months.
    assert months_between(date(2024, 1, 1), date(2024, 2, 1)) == 31 / 30.4375
    assert months_between(date(2024, 4, 1), date(2024, 5, 1)) == 30 / 30.4375
    # A leap year across 29 February: 366 days; the year before: 365.
    assert months_between(date(2024, 1, 1), date(2025, 1, 1)) == 366 / 30.4375
    assert months_between(date(2023, 1, 1), date(2024, 1, 1)) == 365 / 30.4375
    # Jan 31 -> Mar 1: 30 days in a leap year, 29 otherwise.
    assert (date(2024, 3, 1) - date(2024, 1, 31)).days == 30
    assert months_between(date(2023, 1, 31), date(2023, 3, 1)) == 29 / 30.4375


def test_growth_rate_same_day_and_shrinking() -> None:
    assert growth_rate_mm_per_month(date(2024, 1, 8), 10.0, date(2024, 1, 8), 12.0) is None
    assert growth_rate_mm_per_month(date(2024, 1, 1), 20.0, date(2024, 1, 1) + timedelta(days=1461),
                                    8.0) == pytest.approx(-12 / 48)


@pytest.mark.parametrize(("growth_mm", "flagged"), [(9 * 48 - EPS, False), (9 * 48, False), (9 * 48 + EPS, True)])
def test_growth_flag_at_0_9_cm_per_month(growth_mm: float, flagged: bool) -> None:
    # 1461 days are exactly 48 months: 432 mm in them is exactly 9.0 mm/month.
    start, end = date(2021, 3, 1), date(2025, 3, 1)
    rate = growth_rate_mm_per_month(start, 10.0, end, 10.0 + growth_mm)
    assert exceeds_growth_flag(rate) is flagged
    assert criteria.GROWTH_RATE_FLAG_MM_PER_MONTH == 9.0
    assert not exceeds_growth_flag(None)


def test_park_growth_rate() -> None:
    # Liao et al.: a 25 mm recurrence found at the 6-month follow-up (here 182 days after the resection).
    rate = park_growth_rate_mm_per_month(25.0, date(2023, 8, 7), date(2024, 2, 5))
    assert rate == pytest.approx(25 / (182 / 30.4375))
    assert not exceeds_growth_flag(rate)
    assert park_growth_rate_mm_per_month(25.0, date(2024, 2, 5), date(2024, 2, 5)) is None
    # 9 mm/month over exactly 48 months is not above the flag; a hair more is.
    assert not exceeds_growth_flag(park_growth_rate_mm_per_month(432.0, date(2021, 3, 1), date(2025, 3, 1)))
    assert exceeds_growth_flag(park_growth_rate_mm_per_month(432.0 + EPS, date(2021, 3, 1), date(2025, 3, 1)))


# -- RECIST 1.1 measurability -----------------------------------------------------------------------------
@pytest.mark.parametrize(("diameter", "ok"), [(10 - EPS, False), (10.0, True), (10 + EPS, True)])
def test_measurable_at_10_mm(diameter: float, ok: bool) -> None:
    for modality in ("CT", "MR"):
        assert measurability(diameter, modality=modality, slice_thickness_mm=5.0).measurable is ok


@pytest.mark.parametrize(("thickness", "minimum"), [(5 - EPS, 10.0), (5.0, 10.0), (5 + EPS, 10.02), (6.0, 12.0),
                                                   (1.25, 10.0)])
def test_minimum_size_follows_slice_thickness(thickness: float, minimum: float) -> None:
    assert minimum_measurable_mm(thickness) == pytest.approx(minimum)
    assert measurability(minimum - EPS, modality="CT", slice_thickness_mm=thickness).measurable is False
    assert measurability(minimum, modality="CT", slice_thickness_mm=thickness).measurable is True
    assert measurability(minimum + EPS, modality="CT", slice_thickness_mm=thickness).measurable is True


def test_measurability_cannot_be_decided_without_thickness_or_for_other_modalities() -> None:
    assert measurability(30.0, modality="CT", slice_thickness_mm=None).measurable is None
    assert measurability(30.0, modality="CR", slice_thickness_mm=1.0).measurable is None
    assert measurability(None, modality="CT", slice_thickness_mm=1.0).measurable is False


@pytest.mark.parametrize(("diameter", "ok"), [(10 - EPS, False), (10.0, True), (10 + EPS, True)])
def test_bone_lesion_needs_a_soft_tissue_component_of_10_mm(diameter: float, ok: bool) -> None:
    for kind in ("lytic", "mixed"):
        m = measurability(diameter, modality="MR", slice_thickness_mm=3.0, bone=True, lesion_type=kind,
                          soft_tissue_component=True)
        assert m.measurable is ok, (kind, m)
    blastic = measurability(40.0, modality="CT", slice_thickness_mm=1.0, bone=True, lesion_type="blastic",
                            soft_tissue_component=True)
    assert blastic.measurable is False and "lytic" in blastic.reason
    no_soft = measurability(40.0, modality="CT", slice_thickness_mm=1.0, bone=True, lesion_type="lytic",
                            soft_tissue_component=False)
    assert no_soft.measurable is False and "soft-tissue" in no_soft.reason


# -- RECIST 1.1 response ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("total", "response"), [(70 + EPS, Response.SD), (70.0, Response.PR), (70 - EPS, Response.PR)])
def test_partial_response_at_30_percent(total: float, response: Response) -> None:
    r = target_response(100.0, 100.0, [total / 2, total / 2])
    assert r.response is response
    assert r.change_from_baseline_pct == pytest.approx(total - 100.0)


def test_partial_response_survives_float_rounding() -> None:
    # 21.0 mm as 0.1 + 16.1 + 4.8 is 21.000000000000004 in floats: still exactly 30 % below 30 mm.
    assert 0.1 + 16.1 + 4.8 > 21.0
    assert target_response(30.0, 30.0, [0.1, 16.1, 4.8]).response is Response.PR


@pytest.mark.parametrize(("total", "response"), [(60 - EPS, Response.SD), (60.0, Response.PD), (60 + EPS, Response.PD)])
def test_progression_at_20_percent_over_the_nadir(total: float, response: Response) -> None:
    # Nadir 50 mm: 20 % is 10 mm, above the 5 mm minimum, so the 20 % decides.
    assert target_response(80.0, 50.0, [total]).response is response


@pytest.mark.parametrize(("total", "response"), [(25 - EPS, Response.SD), (25.0, Response.PD), (25 + EPS, Response.PD)])
def test_progression_needs_5_mm_absolute(total: float, response: Response) -> None:
    # Nadir 20 mm: 20 % is 4 mm, so the 5 mm absolute increase decides (24 mm is +20 % but only +4 mm).
    assert target_response(20.0, 20.0, [total]).response is response
    assert target_response(20.0, 20.0, [24.0]).response is Response.SD


def test_progression_exactly_at_both_thresholds() -> None:
    # Nadir 25 mm: +5 mm is exactly +20 % and exactly 5 mm.
    assert target_response(40.0, 25.0, [30.0]).response is Response.PD
    assert target_response(40.0, 25.0, [30.0 - EPS]).response is Response.SD


def test_new_lesion_is_progression_even_when_targets_shrink() -> None:
    r = target_response(100.0, 100.0, [20.0], new_lesion=True)
    assert r.response is Response.PD and "new lesion" in r.reasons
    assert target_response(100.0, 100.0, [20.0]).response is Response.PR


def test_complete_response_not_evaluable_and_reappearance() -> None:
    assert target_response(40.0, 40.0, [0.0, 0.0]).response is Response.CR
    assert target_response(40.0, 40.0, [0.0, None]).response is Response.NE
    # A target not evaluated cannot hide progression already shown by the others.
    assert target_response(40.0, 30.0, [40.0, None]).response is Response.PD
    # After a complete response (nadir 0) any target back is progression, even 2 mm.
    assert target_response(40.0, 0.0, [2.0, 0.0]).response is Response.PD
    with pytest.raises(ValueError):
        target_response(40.0, 40.0, [])


def test_nadir_tracking_over_a_series() -> None:
    # 100 -> 50 (PR) -> 58 (+8 over the nadir 50: 16 %; still 42 % below baseline: PR) -> 60 (+10: 20 %, PD).
    rs = target_responses([([50.0, 50.0], False), ([25.0, 25.0], False), ([29.0, 29.0], False),
                           ([30.0, 30.0], False)])
    assert rs[0] is None
    assert [r.response for r in rs[1:] if r] == [Response.PR, Response.PR, Response.PD]
    assert [r.nadir_sum_mm for r in rs[1:] if r] == [100.0, 50.0, 50.0]
    # The baseline is the nadir while nothing is smaller; a timepoint with a target not evaluated sets no nadir.
    rs = target_responses([([50.0], False), ([55.0], False), ([None], False), ([60.0], False)])
    assert [r.response for r in rs[1:] if r] == [Response.SD, Response.NE, Response.PD]
    assert [r.nadir_sum_mm for r in rs[1:] if r] == [50.0, 50.0, 50.0]
    with pytest.raises(ValueError):
        target_responses([([None], False)])
    with pytest.raises(ValueError):
        target_responses([([10.0], False), ([10.0, 5.0], False)])


def test_thresholds_table_names_its_sources() -> None:
    for t in criteria.THRESHOLDS:
        assert t.source.doi.startswith("10.") and t.source.year == 2009
    assert criteria.PARK_2009.short == "Park et al., Ann Surg 2009"
    assert "doi:10.1016/j.ejca.2008.10.026" in criteria.RECIST_1_1.citation


# -- one lesion over time ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("current", "words"), [
    (12.0 - EPS, "no significant change"), (12.0, "no significant change"), (30.0, "increase"),
])
def test_size_change_needs_both_20_percent_and_5_mm(current: float, words: str) -> None:
    # From 10 mm: +2 mm is 20 % but not 5 mm.
    assert compare_sizes(10.0, current) == words
    assert compare_sizes(25.0, 30.0 - EPS) == "no significant change"
    assert compare_sizes(25.0, 30.0) == "increase"
    assert compare_sizes(25.0, 30.0 + EPS) == "increase"


@pytest.mark.parametrize(("current", "words"), [(17.5 + EPS, "no significant change"), (17.5, "decrease"),
                                                (17.5 - EPS, "decrease")])
def test_size_change_decrease_at_30_percent(current: float, words: str) -> None:
    assert compare_sizes(25.0, current) == words
    assert compare_sizes(25.0, 0.0) == "disappeared"
    assert compare_sizes(0.0, 4.0) == "reappeared"


def test_lesion_changes_baseline_nadir_previous_and_scores() -> None:
    d0 = date(2024, 1, 8)
    obs = [
        LesionObservation(d0 + timedelta(days=120), 20.0, 20.0, 10.0, 12.0, 1.2, bilsky="0", sins_total=7, key="c"),
        LesionObservation(d0, 30.0, 30.0, 20.0, 25.0, 7.9, bilsky="3", sins_total=9, key="a"),
        LesionObservation(d0 + timedelta(days=35), 17.0, 17.0, 9.0, 14.0, 1.1, bilsky="0", key="b"),
        LesionObservation(d0 + timedelta(days=200), None, key="d"),
    ]
    rows = lesion_changes(obs)
    assert [r.observation.key for r in rows] == ["a", "b", "c", "d"]
    a, b, c, d = rows
    assert a.is_baseline and a.size_change == "baseline" and a.longest_diameter.vs_baseline is None
    assert a.longest_diameter.nadir is None and a.growth_rate_mm_per_month is None
    assert b.longest_diameter.vs_baseline == -13.0
    assert b.longest_diameter.vs_baseline_pct == pytest.approx(-100 * 13 / 30)
    assert b.size_change == "decrease" and b.bilsky.text == "3 -> 0" and b.bilsky.direction == "better"
    assert b.growth_rate_mm_per_month == pytest.approx(-13 / (35 / 30.4375))
    # c: nadir is b (17), not the baseline (30); versus the previous timepoint +3 mm is no significant change.
    assert c.longest_diameter.nadir == 17.0 and c.longest_diameter.vs_nadir == 3.0
    assert c.longest_diameter.vs_nadir_pct == pytest.approx(100 * 3 / 17)
    assert c.volume.nadir == 1.1 and c.volume.vs_baseline == pytest.approx(1.2 - 7.9)
    assert c.size_change == "no significant change" and c.previous_date == d0 + timedelta(days=35)
    assert c.bilsky.text == "0 -> 0" and c.bilsky.direction == "unchanged"
    assert c.sins.text == "9 -> 7" and c.sins.direction == "better"
    assert c.growth_rate_since_baseline_mm_per_month == pytest.approx(-10 / (120 / 30.4375))
    # d: not measured; compared with nothing.
    assert d.size_change == "not measured" and d.vs_previous_mm is None and d.growth_rate_mm_per_month is None
    assert d.months_from_baseline == pytest.approx(200 / 30.4375)


def test_lesion_changes_disappeared_counts_zero_and_flags_fast_growth() -> None:
    d0 = date(2024, 1, 1)
    rows = lesion_changes([LesionObservation(d0, 20.0), LesionObservation(d0 + timedelta(days=61), 0.0,
                                                                          status="absent"),
                           LesionObservation(d0 + timedelta(days=92), 40.0)])
    assert rows[1].size_change == "disappeared" and rows[1].longest_diameter.value == 0.0
    assert rows[2].size_change == "reappeared" and rows[2].longest_diameter.nadir == 0.0
    assert rows[2].longest_diameter.vs_nadir_pct is None  # no per cent of 0
    assert rows[2].growth_rate_mm_per_month == pytest.approx(40 / (31 / 30.4375)) and rows[2].growth_flag
    with pytest.raises(ValueError):
        lesion_changes([LesionObservation(d0, 1.0), LesionObservation(d0, 2.0)])
    assert lesion_changes([]) == []
