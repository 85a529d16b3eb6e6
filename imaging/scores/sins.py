"""SINS as a registered finding score: the answers are ``Finding.sins`` (:class:`SinsAssessment`), the
location comes from the finding's levels; the computation and the published wording are
:mod:`imaging.spine.sins`."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from imaging.case.model import SinsAssessment
from imaging.coding import Code, local_code
from imaging.scores import CsvColumn, ScoreResult, ScoreSpec, Source, SrCoded, SrItem, SrNumeric, register_score
from imaging.spine.sins import (
    SinsAlignment,
    SinsBoneLesion,
    SinsCollapse,
    SinsLocation,
    SinsPain,
    SinsPosterolateral,
)

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Case, Finding

#: The SR concept of the SINS total (no standard code known to us) and its unit.
SINS_CONCEPT = local_code("SINS", "Spinal instability neoplastic score total")
SCORE_UNIT = Code("{score}", "UCUM", "score")
#: SinsAssessment field -> (SR concept, enum of the answers). An answer's code is "<concept>-<points>" (unique
#: within each component; a Code Value is SH, at most 16 characters), its meaning the published wording.
ANSWER_CONCEPTS: dict[str, tuple[Code, type[Enum]]] = {
    "location_override": (local_code("SINS-LOC", "SINS location"), SinsLocation),
    "pain": (local_code("SINS-PAIN", "SINS pain"), SinsPain),
    "bone_lesion": (local_code("SINS-BONE", "SINS bone lesion"), SinsBoneLesion),
    "alignment": (local_code("SINS-ALIGN", "SINS radiographic spinal alignment"), SinsAlignment),
    "collapse": (local_code("SINS-COLLAPSE", "SINS vertebral body collapse"), SinsCollapse),
    "posterolateral": (local_code("SINS-PL", "SINS posterolateral involvement"), SinsPosterolateral),
}


def answer_code(concept: Code, member: Any) -> Code:
    """The code of one SINS answer (an enum member of :mod:`imaging.spine.sins`)."""
    return local_code(f"{concept.value}-{member.points}", member.wording[:64])


def answer_of(concept: Code, enum: type[Enum], value: Code) -> str | None:
    """The enum member name an answer code stands for (None if it is not one)."""
    prefix = f"{concept.value}-"
    if value.scheme_designator != concept.scheme_designator or not value.value.startswith(prefix):
        return None
    points = value.value[len(prefix):]
    return next((m.name for m in enum if points.isdigit() and getattr(m, "points", None) == int(points)), None)


for _concept, _enum in ANSWER_CONCEPTS.values():  # every answer code exists before an SR is written
    for _member in _enum:
        answer_code(_concept, _member)


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

    def sr_items(self, answers: Any, result: ScoreResult | None) -> list[SrItem]:
        """Each answer given (also of an incomplete score) and the total when complete."""
        items: list[SrItem] = []
        for name, (concept, enum) in ANSWER_CONCEPTS.items():
            answer = getattr(answers, name)
            if answer is not None:
                items.append(SrCoded(concept, answer_code(concept, enum[answer])))
        if result is not None:
            items.append(SrNumeric(SINS_CONCEPT, float(result.value), SCORE_UNIT))
        return items

    def answers_from_sr(self, items: Sequence[SrItem]) -> SinsAssessment | None:
        coded = {i.concept: i.value for i in items if isinstance(i, SrCoded)}
        answers = {name: member for name, (concept, enum) in ANSWER_CONCEPTS.items()
                   if concept in coded and (member := answer_of(concept, enum, coded[concept])) is not None}
        return SinsAssessment.model_validate(answers) if answers else None


SINS = register_score(SinsScoreSpec())


__all__ = ["ANSWER_CONCEPTS", "SCORE_UNIT", "SINS", "SINS_CONCEPT", "SinsScoreSpec", "answer_code", "answer_of"]
