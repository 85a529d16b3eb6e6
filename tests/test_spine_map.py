"""The spine map's content (Qt-free): levels drawn, labelled field, findings' levels, sectors, Bilsky and
SINS, lanes and tooltips."""

from __future__ import annotations

from imaging.case.model import (
    BilskyAssessment,
    Case,
    Finding,
    LevelInvolvement,
    SinsAssessment,
    VertebralLabel,
)
from imaging.spine.bilsky import BILSKY_GRADE_INFO
from imaging.spine.levels import STANDARD_LEVELS
from imaging.spine.spine_map import MAP_SECTORS, assign_lanes, build_spine_map, level_centre, map_sector


def label(level: str, s: float, source: str = "manual", series: str = "1.2.3") -> VertebralLabel:
    return VertebralLabel(label=level, centre=(1.0, 40.0, s), series_instance_uid=series, source=source)


def full_sins() -> SinsAssessment:
    # mechanical 3 + lytic 2 + normal 0 + no collapse, >50 % involved 1 + unilateral 1 = 7, + location
    return SinsAssessment(pain="MECHANICAL", bone_lesion="LYTIC", alignment="NORMAL",
                          collapse="NO_COLLAPSE_OVER_50_PERCENT_INVOLVED", posterolateral="UNILATERAL")


def thoracic_case() -> Case:
    case = Case()
    for i, lv in enumerate(["T3", "T4", "T5", "T6", "T7", "T8", "T9"]):
        case.add(label(lv, 72.0 - 25.0 * i, source="detected" if i else "manual"))
    case.add(Finding(label="DDLPS", level_from="T5", level_to="T6", levels_auto=False,
                     involvement=[LevelInvolvement(level="T5", sectors=["lamina", "spinous_process", "epidural"]),
                                  LevelInvolvement(level="T6", sectors=["vertebral_body", "right_pedicle", "psoas"])],
                     bilsky=BilskyAssessment(grade="3"), sins=full_sins()))
    return case


def test_levels_drawn_c1_to_coccyx_and_variants_only_when_named():
    m = build_spine_map(Case())
    assert [lv.label for lv in m.levels] == list(STANDARD_LEVELS)
    assert m.levels[0].label == "C1" and m.levels[-1].label == "Co" and len(m.levels) == 30
    assert m.field is None and not any(lv.labelled for lv in m.levels)
    assert m.field_text == "No levels labelled on this series"
    case = Case()
    case.add(label("T13", -10.0))
    names = [lv.label for lv in build_spine_map(case).levels]
    assert names.index("T13") == names.index("T12") + 1 and "L6" not in names
    case.add(Finding(level_from="L6"))
    names = [lv.label for lv in build_spine_map(case).levels]
    assert names.index("L6") == names.index("L5") + 1 and len(names) == 32


def test_labelled_field_centres_and_sources():
    case = thoracic_case()
    m = build_spine_map(case)
    assert m.field == ("T3", "T9")
    assert [lv.label for lv in m.levels if lv.in_field] == [f"T{i}" for i in range(3, 10)]
    assert [lv.label for lv in m.levels if lv.labelled] == [f"T{i}" for i in range(3, 10)]
    t6 = m.level("T6")
    assert t6.centre == (1.0, 40.0, 72.0 - 75.0) and t6.sources == ("detected",) and t6.region == "thoracic"
    assert m.level("T3").sources == ("manual",)
    assert level_centre(m, "T6").tolist() == [1.0, 40.0, -3.0]
    assert level_centre(m, "L1") is None
    assert m.field_text == "Labelled field T3\u2013T9 (7 levels labelled)"
    # duplicates of one level are averaged; the series shown decides what is labelled
    case.add(label("T6", -1.0))
    assert build_spine_map(case).level("T6").centre == (1.0, 40.0, -2.0)
    only_other = build_spine_map(case, labels=[label("L2", -300.0, series="1.2.4")])
    assert only_other.field == ("L2", "L2") and not only_other.level("T6").labelled


def test_finding_levels_sectors_bilsky_and_sins():
    m = build_spine_map(thoracic_case())
    (f,) = m.findings
    assert f.levels == ("T5", "T6") and f.levels_text == "T5\u2013T6" and f.number == 1 and f.name == "DDLPS"
    assert f.sectors == {"T5": ("posterior", "epidural"), "T6": ("body", "right_pedicle", "paraspinal")}
    assert f.bilsky_text == "Bilsky 3"
    # 7 + location T5-T6 semirigid (1) = 8: potentially unstable (indeterminate), 7-12
    assert (f.sins_total, f.sins_category) == (8, "potentially unstable (indeterminate)")
    assert f.sins_text == "SINS 8, potentially unstable (indeterminate)"
    assert f.summary_lines() == ["DDLPS  T5\u2013T6", "Bilsky 3", "SINS 8, potentially unstable (indeterminate)"]
    assert m.findings_at("T5") == [f] and m.findings_at("T7") == []
    tip = m.tooltip("T6")
    assert "T6 (thoracic)" in tip and "Labelled (detected) at LPS (1.0, 40.0, -3.0) mm" in tip
    assert "DDLPS (T5\u2013T6): vertebral body, right pedicle, paraspinal soft tissue and psoas" in tip
    assert f"Bilsky 3 \u2014 {BILSKY_GRADE_INFO['3'].definition}" in tip
    assert "Not labelled on this series" in m.tooltip("L1")


def test_findings_without_grade_sins_or_levels():
    case = Case()
    case.add(Finding(level_from="L1", bilsky=BilskyAssessment(suggested_grade="1b"),
                     sins=SinsAssessment(pain="MECHANICAL")))
    case.add(Finding(label="no levels yet"))
    case.add(Finding(involvement=[LevelInvolvement(level="S1", sectors=["vertebral_body"]),
                                  LevelInvolvement(level="L4", sectors=[])]))
    m = build_spine_map(case)
    first, third = m.findings
    assert first.name == "Finding 1" and first.levels == ("L1",) and first.sectors == {}
    assert first.bilsky_text == "Bilsky 1b (suggested)" and first.sins_text == "SINS incomplete"
    assert third.number == 3 and third.levels == ("L4", "S1") and third.levels_text == "L4\u2013S1"
    assert third.sectors["S1"] == ("body",) and third.sectors["L4"] == () and third.sins_text == ""
    assert m.unplaced_findings == ["no levels yet"]


def test_lanes_keep_overlapping_brackets_apart():
    assert assign_lanes([(0, 3), (2, 5), (4, 6), (7, 8), (1, 8)]) == [0, 1, 0, 0, 2]
    case = Case()
    case.add(Finding(level_from="T5", level_to="T7"))
    case.add(Finding(level_from="T7", level_to="T9"))
    case.add(Finding(level_from="L2"))
    assert [f.lane for f in build_spine_map(case).findings] == [0, 1, 0]


def test_every_case_sector_has_a_map_column():
    from imaging.case.model import SECTORS

    assert {map_sector(s) for s in SECTORS} == set(MAP_SECTORS)
