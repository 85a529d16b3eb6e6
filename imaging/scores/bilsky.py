"""The Bilsky ESCC grade as a registered finding score: the answers are ``Finding.bilsky``
(:class:`BilskyAssessment`: the reader's grade, the assistant's suggestion, where it was graded); the grades,
their definitions and the NOMS groups are :mod:`imaging.spine.bilsky`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from imaging.case.model import BilskyAssessment
from imaging.coding import Code, local_code
from imaging.scores import CsvColumn, ScoreResult, ScoreSpec, Source, SrCoded, SrItem, SrText, register_score
from imaging.spine.bilsky import BILSKY_GRADE_INFO, escc_group

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Case, Finding

#: SR concepts (no standard code known to us): the final grade, the assistant's suggestion, the level graded,
#: and each grade coded "BILSKY-<grade>" with its short name (a code meaning is at most 64 characters, so
#: not the full definition; docs/dicom-interop.md lists them).
BILSKY_CONCEPT = local_code("BILSKY", "Bilsky epidural spinal cord compression grade")
BILSKY_SUGGESTED_CONCEPT = local_code("BILSKYSUG", "Bilsky grade suggested from contours")
BILSKY_LEVEL_CONCEPT = local_code("BILSKYLEVEL", "Vertebral level graded for Bilsky")
GRADE_CODES: dict[str, Code] = {g: local_code(f"BILSKY-{g}", f"Bilsky grade {g}: {info.short_name}")
                                for g, info in BILSKY_GRADE_INFO.items()}


def grade_text(grade: str | None) -> str:
    """A grade as CSV text: ``"Bilsky 3"``, ``"Bilsky 1b"`` -- text in every file (a bare ``3`` reads as a
    number in one file and ``1b`` as text in another); ``""`` for none."""
    return f"Bilsky {grade}" if grade else ""


def _escc(grade: str | None) -> str:
    return str(escc_group(grade)) if grade else ""


def _grade_of(code: Code) -> str | None:
    return next((g for g, c in GRADE_CODES.items() if c == code), None)


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
    csv_columns = (CsvColumn("bilsky_grade", lambda a, r: grade_text(a.grade)),
                   CsvColumn("bilsky_level", lambda a, r: a.level or ""),
                   CsvColumn("bilsky_sop_instance_uid", lambda a, r: a.sop_instance_uid or ""),
                   CsvColumn("bilsky_suggested", lambda a, r: grade_text(a.suggested_grade)),
                   CsvColumn("escc_group", lambda a, r: _escc(a.grade)))

    def result(self, answers: Any, owner: Finding | Case, case: Case | None) -> ScoreResult | None:
        grade = answers.grade
        if grade is None:
            return None
        return ScoreResult(grade, grade, f"{_escc(grade)}-grade ESCC")

    def missing(self, answers: Any, owner: Finding | Case) -> list[str]:
        return [] if answers.grade is not None else ["Grade"]

    def sr_items(self, answers: Any, result: ScoreResult | None) -> list[SrItem]:
        items: list[SrItem] = []
        if answers.grade is not None:
            items.append(SrCoded(BILSKY_CONCEPT, GRADE_CODES[answers.grade]))
            if answers.level:
                items.append(SrText(BILSKY_LEVEL_CONCEPT, answers.level))
        if answers.suggested_grade is not None:
            items.append(SrCoded(BILSKY_SUGGESTED_CONCEPT, GRADE_CODES[answers.suggested_grade]))
        return items

    def answers_from_sr(self, items: Sequence[SrItem]) -> BilskyAssessment | None:
        coded = {i.concept: i.value for i in items if isinstance(i, SrCoded)}
        grade = _grade_of(coded[BILSKY_CONCEPT]) if BILSKY_CONCEPT in coded else None
        suggested = _grade_of(coded[BILSKY_SUGGESTED_CONCEPT]) if BILSKY_SUGGESTED_CONCEPT in coded else None
        if grade is None and suggested is None:
            return None
        level = next((i.value for i in items if isinstance(i, SrText) and i.concept == BILSKY_LEVEL_CONCEPT), None)
        try:
            return BilskyAssessment.model_validate({"grade": grade, "suggested_grade": suggested,
                                                    "level": level if grade is not None else None})
        except ValueError:  # a level text that is no vertebral level: the grade without it
            return BilskyAssessment.model_validate({"grade": grade, "suggested_grade": suggested})


BILSKY = register_score(BilskyScoreSpec())

__all__ = ["BILSKY", "BILSKY_CONCEPT", "BILSKY_LEVEL_CONCEPT", "BILSKY_SUGGESTED_CONCEPT", "GRADE_CODES",
           "BilskyScoreSpec", "grade_text"]
