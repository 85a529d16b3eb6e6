"""SINS as a registered finding score: the answers are ``Finding.sins`` (:class:`SinsAssessment`), the
location comes from the finding's levels; the computation and the published wording are
:mod:`imaging.spine.sins`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imaging.case.model import SinsAssessment
from imaging.coding import Code, local_code
from imaging.scores import CsvColumn, ScoreResult, ScoreSpec, Source, SrCoded, SrNumeric, register_score

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Case, Finding

#: The SR concept of the SINS total (no standard code known to us) and its unit.
SINS_CONCEPT = local_code("SINS", "Spinal instability neoplastic score total")
SCORE_UNIT = Code("{score}", "UCUM", "score")


class SinsScoreSpec(ScoreSpec):
    key = "sins"
    name = "SINS"
    full_name = "Spinal Instability Neoplastic Score"
    scope = "finding"
    answers_model = SinsAssessment
    stored_in = "sins"
    source = Source("Fisher CG, DiPaola CP, Ryken TC, et al.",
                    "A novel classification system for spinal instability in neoplastic disease: an evidence-based "
                    "approach and expert consensus from the Spine Oncology Study Group", "Spine", 2010,
                    "10.1097/BRS.0b013e3181e16ae2", "35(22):E1221-E1229")
    csv_columns = (CsvColumn("sins_total", lambda a, r: r.value if r else None, numeric=True),
                   CsvColumn("sins_category", lambda a, r: r.category if r else ""))

    def result(self, answers: Any, owner: Finding | Case, case: Case | None) -> ScoreResult | None:
        score = answers.score(getattr(owner, "level_range", None))
        if score is None:
            return None
        return ScoreResult(score.total, f"{score.total} ({score.category.label})", score.category.label, "score")

    def missing(self, answers: Any, owner: Finding | Case) -> list[str]:
        from imaging.case.findings import sins_missing

        return sins_missing(answers, getattr(owner, "level_range", None) is not None)

    def sr_items(self, answers: Any, result: ScoreResult | None) -> list[SrNumeric | SrCoded]:
        if result is None:
            return []
        return [SrNumeric(SINS_CONCEPT, float(result.value), SCORE_UNIT)]


SINS = register_score(SinsScoreSpec())


__all__ = ["SCORE_UNIT", "SINS", "SINS_CONCEPT", "SinsScoreSpec"]
