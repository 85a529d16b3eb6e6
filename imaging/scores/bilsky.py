"""The Bilsky ESCC grade as a registered finding score: the answers are ``Finding.bilsky``
(:class:`BilskyAssessment`: the reader's grade, the assistant's suggestion, where it was graded); the grades,
their definitions and the NOMS groups are :mod:`imaging.spine.bilsky`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imaging.case.model import BilskyAssessment
from imaging.coding import Code, local_code
from imaging.scores import CsvColumn, ScoreResult, ScoreSpec, Source, SrCoded, SrNumeric, register_score
from imaging.spine.bilsky import BILSKY_GRADE_INFO, escc_group

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Case, Finding

#: SR concepts (no standard code known to us): the final grade, the assistant's suggestion, and each grade
#: coded with its short name (a code meaning is at most 64 characters, so not the full definition).
BILSKY_CONCEPT = local_code("BILSKY", "Bilsky epidural spinal cord compression grade")
BILSKY_SUGGESTED_CONCEPT = local_code("BILSKYSUG", "Bilsky grade suggested from contours")
GRADE_CODES: dict[str, Code] = {g: local_code(g, f"Bilsky grade {g}: {info.short_name}")
                                for g, info in BILSKY_GRADE_INFO.items()}


def _escc(grade: str | None) -> str:
    return str(escc_group(grade)) if grade else ""


class BilskyScoreSpec(ScoreSpec):
    key = "bilsky"
    name = "Bilsky grade"
    full_name = "Bilsky epidural spinal cord compression (ESCC) grade"
    scope = "finding"
    answers_model = BilskyAssessment
    stored_in = "bilsky"
    source = Source("Bilsky MH, Laufer I, Fourney DR, et al.",
                    "Reliability analysis of the epidural spinal cord compression scale", "J Neurosurg Spine", 2010,
                    "10.3171/2010.3.SPINE09459", "13(3):324-328")
    csv_columns = (CsvColumn("bilsky_grade", lambda a, r: a.grade or ""),
                   CsvColumn("bilsky_level", lambda a, r: a.level or ""),
                   CsvColumn("bilsky_sop_instance_uid", lambda a, r: a.sop_instance_uid or ""),
                   CsvColumn("bilsky_suggested", lambda a, r: a.suggested_grade or ""),
                   CsvColumn("escc_group", lambda a, r: _escc(a.grade)))

    def result(self, answers: Any, owner: Finding | Case, case: Case | None) -> ScoreResult | None:
        grade = answers.grade
        if grade is None:
            return None
        return ScoreResult(grade, grade, f"{_escc(grade)}-grade ESCC")

    def missing(self, answers: Any, owner: Finding | Case) -> list[str]:
        return [] if answers.grade is not None else ["Grade"]

    def sr_items(self, answers: Any, result: ScoreResult | None) -> list[SrNumeric | SrCoded]:
        items: list[SrNumeric | SrCoded] = []
        if answers.grade is not None:
            items.append(SrCoded(BILSKY_CONCEPT, GRADE_CODES[answers.grade]))
        if answers.suggested_grade is not None:
            items.append(SrCoded(BILSKY_SUGGESTED_CONCEPT, GRADE_CODES[answers.suggested_grade]))
        return items


BILSKY = register_score(BilskyScoreSpec())

__all__ = ["BILSKY", "BILSKY_CONCEPT", "BILSKY_SUGGESTED_CONCEPT", "GRADE_CODES", "BilskyScoreSpec"]
