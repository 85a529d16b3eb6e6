"""The score registry (imaging.scores): Bilsky and SINS as registered finding scores, and a case-level score --
this test's own revised Tokuhashi score -- added in one module: stored in the case, undoable, saved, read back,
refused clearly by a build that does not know it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field
from PySide6.QtGui import QUndoStack

from imaging.case.export_csv import finding_rows
from imaging.case.model import SCHEMA_VERSION, Assessment, Case, Finding, SinsAssessment
from imaging.case.store import CaseFileInvalid, dumps_case, load_case, loads_case, save_case
from imaging.scores import (
    CsvColumn,
    ScoreResult,
    ScoreSpec,
    Source,
    SrNumeric,
    answers_of,
    register_score,
    registered_scores,
    result_of,
    score_keys,
    score_spec,
    unregister_score,
    with_answers,
)
from imaging.scores.sins import SCORE_UNIT
from tests.test_case_factory import make_case
from widgets.case_controller import CaseController


# -- the built-in scores ---------------------------------------------------------------------------------------------
def test_bilsky_and_sins_are_registered_finding_scores_with_their_sources() -> None:
    assert score_keys("finding")[:2] == ("bilsky", "sins") and "bilsky" not in score_keys("case")
    bilsky, sins = score_spec("bilsky"), score_spec("sins")
    assert bilsky.source.doi == "10.3171/2010.3.SPINE09459" and "J Neurosurg Spine 2010;13(3):324-328" in \
        bilsky.source.citation
    assert sins.source.doi == "10.1097/BRS.0b013e3181e16ae2" and sins.source.year == 2010


def test_builtin_scores_read_the_findings_fields_and_agree_with_the_exports() -> None:
    case = make_case()
    rows = {r["finding_id"]: r for r in finding_rows(case)}
    for f in case.findings:
        assert answers_of("bilsky", f) is f.bilsky and answers_of("sins", f) is f.sins
        score = f.sins_score()
        res = result_of("sins", f, case)
        assert (res.value if res else None) == (score.total if score else None)
        for spec in registered_scores("finding"):  # the registry's CSV columns give the export's cells
            res = result_of(spec, f, case)
            for col in spec.csv_columns:
                want = rows[f.id][col.name]
                assert (col.value(answers_of(spec, f), res) or None) == (want if want != "" else None), col.name
    from imaging.case.export_sr import _BILSKY_MEANINGS, BILSKY_CONCEPT, SINS_CONCEPT
    from imaging.scores.bilsky import BILSKY_CONCEPT as SPEC_BILSKY
    from imaging.scores.bilsky import GRADE_CODES
    from imaging.scores.sins import SINS_CONCEPT as SPEC_SINS

    assert (SPEC_BILSKY.value, SPEC_BILSKY.meaning) == (BILSKY_CONCEPT.value, BILSKY_CONCEPT.meaning)
    assert (SPEC_SINS.value, SPEC_SINS.meaning) == (SINS_CONCEPT.value, SINS_CONCEPT.meaning)
    assert {g: c.meaning for g, c in GRADE_CODES.items()} == _BILSKY_MEANINGS


def test_a_finding_score_edit_is_a_new_finding() -> None:
    f = Finding(label="L1")
    new = with_answers(f, "sins", SinsAssessment(pain="MECHANICAL"))
    assert new.sins.pain == "MECHANICAL" and f.sins.pain is None and new.id == f.id


# -- a case-level score in one module: the revised Tokuhashi score ----------------------------------------------------
class TokuhashiAnswers(BaseModel):
    """Points of the six items of the revised Tokuhashi score (each None until answered)."""

    general_condition: int | None = Field(None, ge=0, le=2, title="General condition (performance status)")
    extraspinal_bone_metastases: int | None = Field(None, ge=0, le=2, title="Extraspinal bone metastases")
    vertebral_body_metastases: int | None = Field(None, ge=0, le=2, title="Metastases in the vertebral body")
    major_organ_metastases: int | None = Field(None, ge=0, le=2, title="Metastases to major internal organs")
    primary_site: int | None = Field(None, ge=0, le=5, title="Primary site of the cancer")
    palsy: int | None = Field(None, ge=0, le=2, title="Palsy")


class Tokuhashi(ScoreSpec):
    key = "tokuhashi"
    name = "Tokuhashi score"
    full_name = "Revised Tokuhashi score (preoperative prognosis of spinal metastases)"
    scope = "case"
    answers_model = TokuhashiAnswers
    source = Source("Tokuhashi Y, Matsuzaki H, Oda H, et al.",
                    "A revised scoring system for preoperative evaluation of metastatic spine tumor prognosis",
                    "Spine", 2005, "10.1097/01.brs.0000180401.06919.a5", "30(19):2186-2191")
    csv_columns = (CsvColumn("tokuhashi_total", lambda a, r: r.value if r else None, numeric=True),)

    def result(self, answers: Any, owner: Any, case: Any) -> ScoreResult | None:
        points = list(answers.model_dump().values())
        if any(p is None for p in points):
            return None
        total = sum(points)
        category = ("predicted survival < 6 months" if total <= 8 else
                    "predicted survival >= 6 months" if total <= 11 else "predicted survival >= 1 year")
        return ScoreResult(total, f"{total} ({category})", category, "score")

    def sr_items(self, answers: Any, result: ScoreResult | None) -> list:
        from imaging.coding import local_code

        return [SrNumeric(local_code("TOKUHASHI", "Revised Tokuhashi score total"), float(result.value),
                          SCORE_UNIT)] if result else []


@pytest.fixture
def tokuhashi() -> Iterator[ScoreSpec]:
    spec = register_score(Tokuhashi())
    yield spec
    unregister_score(spec.key)


ANSWERS = {"general_condition": 2, "extraspinal_bone_metastases": 1, "vertebral_body_metastases": 2,
           "major_organ_metastases": 2, "primary_site": 5, "palsy": 2}


def test_a_case_level_score_is_one_registered_spec(tokuhashi: ScoreSpec, tmp_path: Path, qapp: object) -> None:
    assert score_keys("case") == ("tokuhashi",) and registered_scores()[-1] is tokuhashi
    case = Case()
    assert result_of(tokuhashi, case) is None  # nothing answered yet: the empty answers
    assert tokuhashi.missing(answers_of(tokuhashi, case), case)[0] == "General condition (performance status)"
    # answered through the controller: one undoable step per change, the audit says what changed
    ctl = CaseController(QUndoStack(), case, reader="jdoe")
    changes: list[tuple[str, str]] = []
    ctl.changed.connect(lambda coll, oid: changes.append((coll, oid)))
    ctl.set_assessment("tokuhashi", Assessment(score="tokuhashi", answers=ANSWERS, reader="jdoe"))
    res = result_of("tokuhashi", case)
    assert res == ScoreResult(14, "14 (predicted survival >= 1 year)", "predicted survival >= 1 year", "score")
    assert case.audit[-1].object_type == "assessment" and case.audit[-1].summary.startswith("Tokuhashi score: ")
    ctl.set_assessment("tokuhashi", Assessment(score="tokuhashi", answers={**ANSWERS, "primary_site": 0}))
    assert result_of("tokuhashi", case).value == 9 and changes == [("assessments", "tokuhashi")] * 2
    ctl.undo_stack.undo()
    assert result_of("tokuhashi", case).value == 14
    ctl.undo_stack.undo()
    assert case.assessments == [] and result_of("tokuhashi", case) is None
    ctl.undo_stack.redo()
    assert result_of("tokuhashi", case).value == 14
    # validated by the score's own model; one per case; never on a finding
    with pytest.raises(ValueError, match="less than or equal to 5"):
        Assessment(score="tokuhashi", answers={"primary_site": 9})
    with pytest.raises(ValueError, match="case-level score; it cannot be recorded on a finding"):
        Finding(assessments=[Assessment(score="tokuhashi")])
    with pytest.raises(ValueError, match="kept in the 'sins' field"):
        Assessment(score="sins")
    # the case file keeps it; a build that does not know the score says so
    path = save_case(case, tmp_path / "c.spinecase.json")
    assert load_case(path).assessments == case.assessments
    assert json.loads(path.read_text())["assessments"][0]["answers"]["primary_site"] == 5
    text = dumps_case(case)
    unregister_score("tokuhashi")
    with pytest.raises(CaseFileInvalid, match="unknown score 'tokuhashi'"):
        loads_case(text)
    register_score(tokuhashi)
    # export hooks
    assert tokuhashi.csv_columns[0].value(answers_of(tokuhashi, case), result_of(tokuhashi, case)) == 14
    (item,) = tokuhashi.sr_items(answers_of(tokuhashi, case), result_of(tokuhashi, case))
    assert item.value == 14.0 and item.concept.scheme_designator == "99SPINECASE"


def test_version_1_case_files_open_as_version_2(tmp_path: Path) -> None:
    doc = json.loads(dumps_case(make_case()))
    doc["schema_version"] = 1
    for f in doc["findings"]:
        del f["assessments"]
    del doc["assessments"]
    path = tmp_path / "v1.spinecase.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    case = load_case(path)
    assert case.schema_version == SCHEMA_VERSION and case.assessments == [] and all(f.assessments == [] for f in
                                                                                   case.findings)
    migrations = [a.summary[:16] for a in case.audit if a.action == "migrate"]
    assert migrations[-2:] == ["schema 1 -> 2 (m", "schema 2 -> 3 (f"]  # then follow-up's
    assert [m.id for m in case.measurements] == [m["id"] for m in doc["measurements"]]
