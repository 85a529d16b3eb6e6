"""Follow-up in the case (Qt-free): timepoints in the model, the schema 2 -> 3 migration (the version-1 sample
case files as input), which measurement belongs to which date, the follow-up figures of a case, the follow-up
CSV and `spinecase export --followup` on the thoracic and retroperitoneal sample cases (the articles' sizes)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from imaging.case.model import (
    SCHEMA_VERSION,
    BilskyAssessment,
    Case,
    Finding,
    FindingTimepoint,
    Measurement,
    MeasurementPlane,
    SeriesRef,
    Study,
    TimepointInfo,
    case_from_json,
    case_to_json,
)
from imaging.case.store import load_case
from imaging.followup.evaluate import evaluate_follow_up
from imaging.followup.export_csv import FOLLOWUP_COLUMNS, followup_rows
from imaging.followup.present import recist_summary
from imaging.followup.recist import Response
from imaging.followup.timeline import index_date, lesion_timepoints, timepoint_measurements

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "tests" / "data" / "schema_v1"
SAMPLES = ROOT / "sample_dicoms"


# -- a small case built in code: one lesion on three dates ----------------------------------------------------
def _bidirectional(series: str, long_mm: float, short_mm: float, z: float = 0.0) -> Measurement:
    return Measurement(kind="bidirectional", series_instance_uid=series,
                       points=[(-long_mm / 2, 0.0, z), (long_mm / 2, 0.0, z), (0.0, -short_mm / 2, z),
                               (0.0, short_mm / 2, z)],
                       plane=MeasurementPlane(orientation="axial", normal=(0.0, 0.0, 1.0)))


def _case(sizes: dict[date, tuple[float, float]], *, target: bool = True, thickness: float | None = 1.0) -> Case:
    """One finding measured on each date (its own series and study), the first date being the index."""
    case = Case()
    days = sorted(sizes)
    for i, day in enumerate(days):
        case.add(Study(study_instance_uid=f"1.2.{i}", study_date=day))
        case.add(SeriesRef(series_instance_uid=f"1.2.{i}.1", study_instance_uid=f"1.2.{i}", modality="CT",
                           slice_thickness_mm=thickness))
    f = Finding(label="L1 metastasis", recist_target=target)
    case.add(f)
    for i, day in enumerate(days):
        if i:
            case.add(FindingTimepoint(study_date=day), parent_id=f.id)
        case.add(_bidirectional(f"1.2.{i}.1", *sizes[day]).model_copy(update={"finding_id": f.id,
                                                                             "finding_dimension": True}))
    return case


def test_timepoints_in_the_model_add_remove_validate_and_round_trip() -> None:
    case = _case({date(2024, 1, 8): (30.0, 20.0), date(2024, 4, 8): (20.0, 15.0)})
    f = case.findings[0]
    assert [t.study_date for t in f.timepoints] == [date(2024, 4, 8)]
    tp = f.timepoints[0]
    assert case.get(tp.id) == tp and case.timepoint_parent(tp.id).id == f.id
    # Remove and put back (the controller's undo), replace (a grade at that date).
    removed, index, parent = case.remove(tp.id, who="jdoe")
    assert case.findings[0].timepoints == [] and parent == f.id
    case.add(removed, index=index, parent_id=parent, who="jdoe")
    old = case.update(tp.id, bilsky=BilskyAssessment(grade="0"), who="jdoe")
    assert old.bilsky.grade is None and case.findings[0].timepoints[0].bilsky.grade == "0"
    assert [a.object_type for a in case.audit[-3:]] == ["finding_timepoint"] * 3
    # One timepoint per date, never on the index date.
    with pytest.raises(ValueError, match="same study date"):
        case.add(FindingTimepoint(study_date=date(2024, 4, 8)), parent_id=f.id)
    case.update(f.id, index_timepoint=TimepointInfo(study_date=date(2024, 1, 8), label="baseline",
                                                    time_point_type="baseline"))
    with pytest.raises(ValueError, match="index date"):
        case.add(FindingTimepoint(study_date=date(2024, 1, 8)), parent_id=f.id)
    with pytest.raises(ValueError):
        FindingTimepoint(study_date=date(2024, 1, 8), time_point_type="whenever")
    assert len(case.findings[0].timepoints) == 1
    again = case_from_json(case_to_json(case))
    assert again == case and again.schema_version == SCHEMA_VERSION == 3


def test_measurements_belong_to_the_timepoint_of_their_study_date() -> None:
    case = _case({date(2024, 1, 8): (30.0, 20.0), date(2024, 4, 8): (20.0, 15.0), date(2024, 7, 8): (21.0, 15.0)})
    f = case.findings[0]
    tps = lesion_timepoints(case, f)
    assert [t.study_date for t in tps] == [date(2024, 1, 8), date(2024, 4, 8), date(2024, 7, 8)]
    assert tps[0].is_index and tps[0].key == f"index:{f.id}"  # dated from its measurement (nothing stored)
    assert f.index_timepoint.study_date is None and index_date(case, f) == date(2024, 1, 8)
    assert [len(t.measurements) for t in tps] == [1, 1, 1]
    assert timepoint_measurements(case, f, f.timepoints[0].id)[0].series_instance_uid == "1.2.1.1"
    # A measurement whose series the case does not know (undated) belongs to the index timepoint.
    case.add(_bidirectional("9.9.9", 5.0, 4.0).model_copy(update={"finding_id": f.id}))
    assert len(lesion_timepoints(case, f)[0].measurements) == 2


def test_follow_up_figures_of_a_case_and_recist() -> None:
    sizes = {date(2024, 1, 8): (30.0, 20.0), date(2024, 4, 8): (20.0, 15.0), date(2024, 7, 8): (25.0, 15.0)}
    follow = evaluate_follow_up(_case(sizes))
    (lesion,) = follow.lesions
    assert [s.longest_diameter_mm for s in lesion.sizes] == [30.0, 20.0, 25.0]
    assert [c.size_change for c in lesion.changes] == ["baseline", "decrease", "increase"]
    assert lesion.changes[2].longest_diameter.nadir == 20.0
    assert follow.targets == (follow.lesions[0].finding.id,) and lesion.measurability.measurable
    responses = [r.response.response if r.response else None for r in follow.recist]
    assert responses == [None, Response.PR, Response.PD]  # 30 -> 20 (-33 %) -> 25 (+25 % and +5 mm over 20)
    # A lesion first seen after the baseline is a new lesion: progression at its date.
    case = _case({date(2024, 1, 8): (30.0, 20.0), date(2024, 4, 8): (29.0, 20.0)})
    case.add(Study(study_instance_uid="1.3", study_date=date(2024, 4, 8)))
    case.add(SeriesRef(series_instance_uid="1.3.1", study_instance_uid="1.3", modality="CT"))
    new = Finding(label="new T9 lesion")
    case.add(new)
    case.add(_bidirectional("1.3.1", 8.0, 6.0).model_copy(update={"finding_id": new.id, "finding_dimension": True}))
    follow = evaluate_follow_up(case)
    assert follow.recist[1].new_lesions == (new.id,) and follow.recist[1].response.response is Response.PD
    assert recist_summary(follow)[-1].endswith("PD (progressive disease), sum 29.0 mm, -1.0 mm (-3.3 %) from baseline, "
                                               "-1.0 mm (-3.3 %) from the nadir (30.0 mm); new lesion (first recorded "
                                               "at this date): new T9 lesion")


def test_recist_refuses_targets_that_are_not_measurable_or_not_at_baseline() -> None:
    small = _case({date(2024, 1, 8): (9.5, 8.0), date(2024, 4, 8): (9.0, 8.0)})
    follow = evaluate_follow_up(small)
    assert follow.targets == () and "not measurable" in next(iter(follow.excluded.values()))
    thick = _case({date(2024, 1, 8): (12.0, 8.0), date(2024, 4, 8): (12.0, 8.0)}, thickness=7.0)  # needs 14 mm
    assert evaluate_follow_up(thick).targets == ()
    unknown = _case({date(2024, 1, 8): (12.0, 8.0), date(2024, 4, 8): (12.0, 8.0)}, thickness=None)
    follow = evaluate_follow_up(unknown)
    assert len(follow.targets) == 1 and "measurability not checked" in follow.warnings[0]
    # A bone lesion: lytic with an epidural soft-tissue component is measurable; blastic is not.
    bone = _case({date(2024, 1, 8): (15.0, 10.0), date(2024, 4, 8): (15.0, 10.0)})
    f = bone.findings[0]
    bone.update(f.id, lesion_type="blastic", involvement=[{"level": "L1", "sectors": ["vertebral_body", "epidural"]}])
    assert evaluate_follow_up(bone).targets == ()
    bone.update(f.id, lesion_type="lytic")
    assert len(evaluate_follow_up(bone).targets) == 1


# -- the migration to version 3, with the version-1 sample case files as input (1 -> 2 -> 3) ----------------------
@pytest.mark.parametrize("name", ["thoracic_ddlps", "retroperitoneal_ddlps"])
def test_version_1_sample_case_files_open_and_are_dated(name: str, tmp_path: Path) -> None:
    src = V1 / f"{name}.spinecase.json"
    old = json.loads(src.read_text(encoding="utf-8"))
    assert old["schema_version"] == 1
    path = tmp_path / src.name
    path.write_bytes(src.read_bytes())
    case = load_case(path)
    assert case.schema_version == 3
    assert [m.id for m in case.measurements] == [m["id"] for m in old["measurements"]]
    assert [m.points for m in case.measurements] == [[tuple(p) for p in m["points"]] for m in old["measurements"]]
    studies = {s["study_instance_uid"]: s["study_date"] for s in old["studies"]}
    series = {s["series_instance_uid"]: studies[s["study_instance_uid"]] for s in old["series"]}
    for f, of in zip(case.findings, old["findings"], strict=True):
        dates = {series[m["series_instance_uid"]] for m in old["measurements"] if m["finding_id"] == f.id}
        assert len(dates) == 1 and f.index_timepoint.study_date.isoformat() == dates.pop()
        assert f.timepoints == [] and f.bilsky.grade == (of["bilsky"] or {}).get("grade")
        assert all(r.slice_thickness_mm is None for r in case.series)
    assert [a.summary.split(" (")[0] for a in case.audit if a.action == "migrate"][-2:] == ["schema 1 -> 2",
                                                                                           "schema 2 -> 3"]
    assert "findings dated" in case.audit[-1].summary


def test_migration_gives_other_dates_their_own_timepoint(tmp_path: Path) -> None:
    """A version-1 finding whose measurements lie on two dates: its index is the date its Bilsky grade was
    read on, the other date becomes a timepoint with nothing graded."""
    doc = json.loads((V1 / "thoracic_ddlps.spinecase.json").read_text(encoding="utf-8"))
    primary, residual = doc["findings"]
    for m in doc["measurements"]:
        if m["finding_id"] == residual["id"]:
            m["finding_id"] = primary["id"]
    doc["findings"] = [primary]
    path = tmp_path / "merged.spinecase.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    case = load_case(path)
    (f,) = case.findings
    assert f.index_timepoint.study_date == date(2024, 1, 8) and f.bilsky.grade == "3"
    (tp,) = f.timepoints
    assert tp.study_date == date(2024, 2, 12) and tp.bilsky.grade is None and tp.level_from is None
    follow = evaluate_follow_up(case)
    assert [t.study_date for t in follow.lesions[0].timepoints] == [date(2024, 1, 8), date(2024, 2, 12)]
    # Graded on the later date: that date is the index, the earlier one a timepoint.
    primary["bilsky"]["series_instance_uid"] = residual["bilsky"]["series_instance_uid"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    f = load_case(path).findings[0]
    assert f.index_timepoint.study_date == date(2024, 2, 12) and f.timepoints[0].study_date == date(2024, 1, 8)


# -- the sample cases: the articles' timepoints -----------------------------------------------------------------
def _export(name: str, tmp_path: Path) -> list[dict[str, str]]:
    out = tmp_path / f"{name}.csv"
    res = subprocess.run([sys.executable, "-m", "app.cli", "export", str(SAMPLES / name / "case.spinecase.json"),
                          "--followup", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    with out.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == FOLLOWUP_COLUMNS
        return list(reader)


def test_thoracic_residual_unchanged_at_restaging(tmp_path: Path) -> None:
    """Kögler et al.: Bilsky 3 before, 0 after decompression; the residual 17 x 9 mm, "constant in size"
    through chemotherapy."""
    rows = _export("thoracic_ddlps", tmp_path)
    assert [r["study_date"] for r in rows] == ["2024-01-08", "2024-02-12", "2024-05-13"]
    assert [r["time_point_type"] for r in rows] == ["preoperative", "postoperative", "post_chemotherapy"]
    pre, post, restaging = rows
    assert pre["bilsky_grade"] == "Bilsky 3"
    assert post["bilsky_change"] == "3 -> 0" and post["bilsky_direction"] == "better"
    for r in (post, restaging):
        assert abs(float(r["longest_diameter_mm"]) - 17) <= 1 and abs(float(r["ap_mm"]) - 9) <= 1
        assert r["levels"] == "T6"
    assert restaging["size_change"] == "no significant change" and restaging["bilsky_change"] == "0 -> 0"
    assert float(restaging["growth_rate_mm_per_month"]) == 0.0 and restaging["growth_above_0_9_cm_per_month"] == "0"
    assert restaging["timepoint_label"] == "restaging after chemotherapy"


def test_retroperitoneal_recurrences_unchanged_on_anlotinib(tmp_path: Path) -> None:
    """Liao et al.: recurrences of 2.5 x 2.1 cm and 1.5 x 1.3 cm, "no significant change" after three months of
    anlotinib; RECIST stable disease; Park et al.'s growth rate below 0.9 cm/month."""
    rows = _export("retroperitoneal_ddlps", tmp_path)
    by = {(r["finding_label"], r["study_date"]): r for r in rows}
    adrenal, psoas = "left adrenal region recurrence", "left psoas recurrence"
    assert sorted(by) == [(adrenal, "2024-02-05"), (adrenal, "2024-05-13"), (psoas, "2024-02-05"),
                          (psoas, "2024-05-13")]
    for label, (long_mm, short_mm) in ((adrenal, (25, 21)), (psoas, (15, 13))):
        for day in ("2024-02-05", "2024-05-13"):
            r = by[(label, day)]
            sizes = sorted((float(r["ap_mm"]), float(r["lr_mm"])), reverse=True)
            assert abs(sizes[0] - long_mm) <= 1 and abs(sizes[1] - short_mm) <= 1, (label, day, sizes)
            assert r["recist_target"] == "1" and r["recist_measurable"] == "yes"
            assert float(r["park_growth_rate_mm_per_month"]) < 9 and r["park_above_0_9_cm_per_month"] == "0"
        after = by[(label, "2024-05-13")]
        assert after["size_change"] == "no significant change" and after["recist_response"] == "SD"
        assert after["timepoint_label"] == "after 3 months of anlotinib"
        assert after["recist_change_from_baseline_pct"] == "0.0"


def test_followup_rows_without_targets_leave_recist_empty() -> None:
    case = _case({date(2024, 1, 8): (30.0, 20.0), date(2024, 4, 8): (30.0, 20.0)}, target=False)
    rows = followup_rows(case)
    assert [r["size_change"] for r in rows] == ["baseline", "no significant change"]
    assert all(r["recist_target"] == 0 and "recist_response" not in r for r in rows)


def test_dimension_marks_are_per_timepoint() -> None:
    """Marking a bidirectional as the lesion's dimensions unmarks only the other one of its own date: the
    baseline's size stays."""
    from imaging.case.findings import dimension_marks

    case = _case({date(2024, 1, 8): (30.0, 20.0), date(2024, 4, 8): (20.0, 15.0)})
    f = case.findings[0]
    baseline, later = case.finding_measurements(f.id)
    second = _bidirectional("1.2.1.1", 21.0, 15.0).model_copy(update={"finding_id": f.id})
    case.add(second)
    assert dimension_marks(case, second.id, True) == [(later.id, {"finding_dimension": False}),
                                                      (second.id, {"finding_dimension": True})]
    for mid, changes in dimension_marks(case, second.id, True):
        case.update(mid, **changes)
    sizes = [s.longest_diameter_mm for s in evaluate_follow_up(case).lesions[0].sizes]
    assert sizes == [30.0, 21.0] and case.measurement(baseline.id).finding_dimension
